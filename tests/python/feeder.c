/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Python tests' publisher: a real nerrf-publisher fed through a real
 * ring #2 by the tests' stand-in encoder (tests/lib), driven by
 * line commands on stdin so that a Python test says what is published when.
 *
 *   python_feeder [--journal] [publisher options...]
 * prints "ready URL REPLAY_URL DIR", then answers each command with "ok":
 *   wait N                     until the publisher counts N subscribers (this
 *                              program's own stats socket is one of them)
 *   batches FIRST LAST N PID   batch_seq FIRST..LAST of N events of PID each
 *   stats EVENTS_PER_SEC       an encoder Stats
 *   stop                       stops the publisher (SIGTERM) and waits for it
 * and at end of input stops the publisher and removes DIR.
 */
#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"

int main(int argc, char **argv)
{
	struct pt_env env;
	char jdir[700], rurl[700], line[256];
	static uint8_t rec[1 << 16];
	char *extra[24] = {0};
	int n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	pt_env_init(&env, "python");
	snprintf(jdir, sizeof(jdir), "%s/journal", env.dir);
	snprintf(rurl, sizeof(rurl), "ipc://%s/replay.sock", env.dir);
	for (int i = 1; i < argc && n < 20; i++) {
		if (strcmp(argv[i], "--journal") == 0) {
			extra[n++] = "--journal";
			extra[n++] = jdir;
		} else {
			extra[n++] = argv[i];
		}
	}
	extra[n] = NULL;
	CHECK(n <= 6, "at most 6 publisher options");
	pid_t pub = pt_publisher(env.dir, env.err, extra[0], extra[1], extra[2], extra[3],
				 extra[4], extra[5], NULL);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 1), NULL);
	printf("ready %s %s %s\n", env.url, rurl, env.dir);

	while (fgets(line, sizeof(line), stdin)) {
		unsigned long long first, last, events, pid;
		double eps;
		if (sscanf(line, "wait %llu", &first) == 1) {
			nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, (unsigned)first),
							   NULL);
		} else if (sscanf(line, "batches %llu %llu %llu %llu", &first, &last, &events,
				  &pid) == 4) {
			for (unsigned long long s = first; s <= last; s++)
				CHECK(pt_put(env.r2, rec,
					     pt_make_batch(rec, sizeof(rec), s, (unsigned)events,
							   (uint32_t)pid, 12)) == 0,
				      "ring #2 stayed full: %s", pt_slurp(env.err));
		} else if (sscanf(line, "stats %lf", &eps) == 1) {
			CHECK(pt_put(env.r2, rec, pt_make_stats(rec, sizeof(rec), eps)) == 0);
		} else if (strcmp(line, "stop\n") == 0) {
			pt_stop(pub);
			pub = 0;
		} else {
			FAIL("unknown command: %s", line);
		}
		printf("ok\n");
	}
	if (pub)
		pt_stop(pub);
	/* Only now: nng_close() can hang on a live pipe (nng 1.5.2), and the publisher is gone. */
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
