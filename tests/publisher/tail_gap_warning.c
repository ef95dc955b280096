/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf tail warns on stderr, with the count, when publisher_seq shows that
 * it missed batches: tail is frozen (SIGSTOP) while more batches arrive than
 * its queues hold, then thawed.
 */
#include "pubtest.h"

int main(void)
{
	struct pt_env env;
	char out[600], terr[600];
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "tail-gap");
	snprintf(out, sizeof(out), "%s/tail.out", env.dir);
	snprintf(terr, sizeof(terr), "%s/tail.err", env.dir);
	pid_t pub = pt_publisher(env.dir, env.err, "--sendbuf", "4", NULL);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	char *argv[] = {(char *)pt_bin("NERRF_CLI"), "tail", "--url", env.url, "--json", NULL};
	pid_t tail = pt_spawn_io(argv, terr, out);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 2), NULL);

	size_t n = pt_make_batch(rec, sizeof(rec), 1, 1, 5, 8);
	CHECK(pt_put(env.r2, rec, n) == 0);
	uint64_t end = pt_now_ms() + 10000;
	while (!strstr(pt_slurp(out), "\"pid\":5") && pt_now_ms() < end)
		usleep(10000);
	CHECK(strstr(pt_slurp(out), "\"pid\":5") != NULL, "tail printed the first batch");

	kill(tail, SIGSTOP);
	/* Far more (48 KiB) batches than 4 queued messages plus socket buffers hold. */
	for (uint64_t s = 2; s <= 400; s++) {
		n = pt_make_batch(rec, sizeof(rec), s, 48, 5, 1000);
		CHECK(pt_put(env.r2, rec, n) == 0);
	}
	usleep(300 * 1000);
	kill(tail, SIGCONT);

	end = pt_now_ms() + 10000;
	while (!strstr(pt_slurp(terr), "missed") && pt_now_ms() < end)
		usleep(20000);
	const char *e = pt_slurp(terr);
	CHECK(strstr(e, "nerrf tail: warning: missed ") != NULL, "no gap warning: %s", e);
	unsigned long missed = strtoul(strstr(e, "missed ") + 7, NULL, 10);
	CHECK(missed > 0 && missed < 400, "missed count %lu", missed);

	kill(tail, SIGTERM);
	int trc = pt_wait_exit(tail, 5000);
	CHECK(trc == 0, "tail exits cleanly on SIGTERM: %d %s", trc, pt_slurp(terr));
	pt_stop(pub);
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
