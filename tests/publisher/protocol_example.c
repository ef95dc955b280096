/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worked example of docs/PROTOCOL.md works: a generic nng subscriber
 * (nngcat) takes one EVB1 message, `tail -c +5` strips the topic, and stock
 * `protoc --decode` prints the batch, publisher fields included.
 */
#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"

int main(void)
{
	struct pt_env env;
	char out[600], serr[600], cmd[2048];
	static uint8_t rec[1 << 16];

	if (access("/usr/bin/nngcat", X_OK) != 0 || access("/usr/bin/protoc", X_OK) != 0)
		test_skip("nngcat or protoc missing: run scripts/install-deps (nng-utils, "
			  "protobuf-compiler)");
	pt_env_init(&env, "pub-doc");
	snprintf(out, sizeof(out), "%s/decoded.txt", env.dir);
	snprintf(serr, sizeof(serr), "%s/sh.err", env.dir);
	pid_t pub = pt_publisher(env.dir, env.err, NULL);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 1), NULL);

	snprintf(cmd, sizeof(cmd),
		 "nngcat --sub --dial %s --subscribe EVB1 --raw --count 1 | tail -c +5 | "
		 "protoc --decode nerrf.trace.EventBatch --proto_path=%s "
		 "--proto_path=/usr/include trace.proto",
		 env.url, pt_bin("NERRF_PROTO_DIR"));
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	pid_t sh = pt_spawn_io(argv, serr, out);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 2), NULL);

	size_t n = pt_make_batch(rec, sizeof(rec), 1, 1, 4242, 16);
	CHECK(pt_put(env.r2, rec, n) == 0);
	int rc = pt_wait_exit(sh, 10000);
	if (rc < 0)
		kill(sh, SIGKILL);
	CHECK(rc == 0, "the documented pipeline failed (%d): %s", rc, pt_slurp(serr));
	const char *o = pt_slurp(out);
	CHECK(strstr(o, "pid: 4242\n") != NULL, "%s", o);
	CHECK(strstr(o, "syscall: \"openat\"\n") != NULL, "%s", o);
	CHECK(strstr(o, "batch_seq: 1\n") != NULL, "%s", o);
	CHECK(strstr(o, "publisher_seq: 1\n") != NULL, "appended field decodes: %s", o);

	pt_stop(pub);
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
