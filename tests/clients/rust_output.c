/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-subscribe (clients/rust) decodes a live publisher's batches and
 * prints every Event field in proto3 JSON, the values nerrf tail --json and
 * the Python package print; --pid filters, --count ends it, and stats stay
 * out unless asked for.
 */
#include "rusttest.h"

int main(void)
{
	const char *bin = rt_build();
	struct pt_env env;
	char out[600], serr[600], fout[600], ferr[600];
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "rust-out");
	snprintf(out, sizeof(out), "%s/all.out", env.dir);
	snprintf(serr, sizeof(serr), "%s/all.err", env.dir);
	snprintf(fout, sizeof(fout), "%s/pid.out", env.dir);
	snprintf(ferr, sizeof(ferr), "%s/pid.err", env.dir);
	pid_t pub = pt_publisher(env.dir, env.err, NULL);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 1), NULL);

	pid_t all = rt_subscriber(bin, out, serr, "--url", env.url, "--count", "3", NULL);
	pid_t one = rt_subscriber(bin, fout, ferr, "--url", env.url, "--pid", "4242", "--count", "2",
				  NULL);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 3), NULL);
	/* A stats message first: it must not show up without --stats. */
	size_t n = pt_make_stats(rec, sizeof(rec), 2.5);
	CHECK(pt_put(env.r2, rec, n) == 0);
	n = rt_rich_batch(rec, sizeof(rec), 1);
	CHECK(pt_put(env.r2, rec, n) == 0);

	int rc = pt_wait_exit(all, 20000);
	if (rc < 0)
		kill(all, SIGKILL);
	CHECK(rc == 0, "nerrf-subscribe --count 3 exit %d: %s", rc, pt_slurp(serr));
	static const char *const want[] = {RT_LINE0, RT_LINE1, RT_LINE2, NULL};
	CHECK(rt_same(pt_slurp(out), want), "%s", pt_slurp(out));
	CHECK_STR(pt_slurp(serr), "");

	rc = pt_wait_exit(one, 20000);
	if (rc < 0)
		kill(one, SIGKILL);
	CHECK(rc == 0, "nerrf-subscribe --pid exit %d: %s", rc, pt_slurp(ferr));
	static const char *const want_pid[] = {RT_LINE0, RT_LINE2, NULL};
	CHECK(rt_same(pt_slurp(fout), want_pid), "%s", pt_slurp(fout));

	pt_stop(pub);
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
