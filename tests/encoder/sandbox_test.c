/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The encoder confines itself, whoever starts it: started here directly, it
 * runs under its seccomp allowlist with no_new_privs and still encodes, and
 * its allowlist refuses what it never does (tests/confine.h).
 */
#include "confine.h"
#include "encoder.h"
#include "enc_run.h"

static _Alignas(8) uint8_t buf[REC_BUF];

int main(int argc, char **argv)
{
	struct enc_run t;

	CHECK(argc == 2, "usage: sandbox_test NERRF_ENCODER");
	enc_start(&t, "sandbox", argv[1], 1 << 20, NULL);
	put_rec(&t, buf, numbered_event(buf, "/confined", 0));
	Nerrf__Trace__EventBatch *b = next_batch(&t, 10000);
	CHECK(b != NULL, "no batch from the confined encoder");
	CHECK_STR(b->events[0]->path, "/confined/0");
	nerrf__trace__event_batch__free_unpacked(b, NULL);
	/* A batch means ring #1 is attached, which comes after the install. */
	confine_check_status(t.pid, "nerrf-encoder");
	enc_stop(&t);

	confine_check_denied(enc_sandbox, "encoder", 0);
	return 0;
}
