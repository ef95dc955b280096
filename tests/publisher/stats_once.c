/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `nerrf stats --once` prints the per-hop counters of a live publisher's
 * stats message (the encoder's counters plus the publisher's appended
 * ring #2 capacity and subscriber count), and fails with a clear message
 * when no stats arrive.
 */
#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"

int main(void)
{
	struct pt_env env;
	char out[600], serr[600], none[600];
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "stats-once");
	snprintf(out, sizeof(out), "%s/stats.out", env.dir);
	snprintf(serr, sizeof(serr), "%s/stats.err", env.dir);
	pid_t pub = pt_publisher(env.dir, env.err, NULL);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 1), NULL);

	/* The encoder's stats must be the next ones: keep it talking. */
	char *argv[] = {(char *)pt_bin("NERRF_CLI"), "stats", "--url", env.url, "--once", NULL};
	size_t n = pt_make_stats(rec, sizeof(rec), 321.0);
	CHECK(pt_put(env.r2, rec, n) == 0);
	pid_t p = pt_spawn_io(argv, serr, out);
	uint64_t end = nerrf_mono_ms() + 10000;
	int rc;
	while ((rc = pt_wait_exit(p, 100)) < 0 && nerrf_mono_ms() < end)
		CHECK(pt_put(env.r2, rec, n) == 0);
	CHECK(rc == 0, "nerrf stats --once exit %d: %s", rc, pt_slurp(serr));
	const char *o = pt_slurp(out);
	CHECK(strstr(o, "host testhost") != NULL, "%s", o);
	CHECK(strstr(o, "kernel     emitted                             7") != NULL, "%s", o);
	CHECK(strstr(o, "ring2 fill ") != NULL && strstr(o, "/1048576 bytes") != NULL, "%s", o);
	CHECK(strstr(o, "321.0 events/s") != NULL, "%s", o);
	CHECK(strstr(o, "subscribers 2") != NULL, "%s", o);

	/* Nothing listening: a clear failure, not a hang. */
	snprintf(none, sizeof(none), "ipc://%s/nothing.sock", env.dir);
	char *argv2[] = {(char *)pt_bin("NERRF_CLI"),
			 "stats",
			 "--url",
			 none,
			 "--once",
			 "--timeout",
			 "1",
			 NULL};
	p = pt_spawn_io(argv2, serr, out);
	CHECK(pt_wait_exit(p, 5000) == 3, "exit 3 without a publisher");
	CHECK(strstr(pt_slurp(serr), "no publisher socket at") != NULL, "%s", pt_slurp(serr));

	pt_stop(pub);
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
