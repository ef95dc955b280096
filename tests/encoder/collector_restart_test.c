/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector restarts and re-creates ring #1 with another size (a new
 * generation) under a running encoder: the encoder follows it, the new
 * records arrive, and the kernel sequence starting over is not a gap.
 */
#include "enc_run.h"

static _Alignas(8) uint8_t buf[REC_BUF];

static void expect(struct enc_run *t, const char *prefix, unsigned n)
{
	unsigned got = 0;

	while (got < n) {
		Nerrf__Trace__EventBatch *b = next_batch(t, 10000);
		CHECK(b != NULL, "%s: %u of %u events arrived", prefix, got, n);
		for (size_t k = 0; k < b->n_events; k++) {
			char want[64];
			snprintf(want, sizeof(want), "%s/%u", prefix, got++);
			CHECK_STR(b->events[k]->path, want);
		}
		CHECK_EQ_U64(b->loss->seq_gaps, 0);
		CHECK_EQ_U64(b->loss->malformed, 0);
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
}

int main(int argc, char **argv)
{
	struct enc_run t;
	char path[300];
	const char *msg = NULL;

	CHECK(argc == 2, "usage: collector_restart_test NERRF_ENCODER");
	enc_start(&t, "restart", argv[1], 1 << 20, NULL);
	for (unsigned i = 0; i < 5; i++)
		put_rec(&t, buf, numbered_event(buf, "/gen1", i));
	expect(&t, "/gen1", 5);

	nerrf_ring_close(t.r1);
	snprintf(path, sizeof(path), "%s/%s", t.dir, NERRF_RING1_NAME);
	int rc = nerrf_ring_open_producer(path, 2 << 20, 0600, &t.r1, &msg);
	CHECK(rc == 0, "%s", msg ? msg : strerror(-rc));
	for (unsigned i = 0; i < 5; i++)
		put_rec(&t, buf, numbered_event(buf, "/gen2", i));
	expect(&t, "/gen2", 5);

	enc_stop(&t);
	return 0;
}
