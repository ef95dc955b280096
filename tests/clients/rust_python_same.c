/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-subscribe and the Python example (clients/python/nerrf_subscribe.py,
 * protobuf's own JSON mapping) print the same messages as the same bytes:
 * every Event field, and a Stats with nested counters and a double.
 */
#include "rusttest.h"

/* out without the publisher's own stats lines, which depend on when each subscriber joined. */
static char *without_silent_stats(const char *out)
{
	char *r = calloc(1, strlen(out) + 1), *w = r;
	CHECK(r != NULL);
	for (const char *l = out, *nl; (nl = strchr(l, '\n')); l = nl + 1) {
		if (memmem(l, (size_t)(nl - l), "encoder=silent", 14))
			continue;
		memcpy(w, l, (size_t)(nl + 1 - l));
		w += nl + 1 - l;
	}
	return r;
}

int main(void)
{
	const char *bin = rt_build();
	const char *py = getenv("NERRF_PYTHON"), *pysub = getenv("NERRF_PYSUB");
	if (!py || access(py, X_OK) != 0 || !pysub)
		test_skip("no Python with python3-protobuf (scripts/install-deps) to compare with");
	struct pt_env env;
	char rout[600], rerr[600], pout[600], perr[600];
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "rust-py");
	snprintf(rout, sizeof(rout), "%s/rust.out", env.dir);
	snprintf(rerr, sizeof(rerr), "%s/rust.err", env.dir);
	snprintf(pout, sizeof(pout), "%s/py.out", env.dir);
	snprintf(perr, sizeof(perr), "%s/py.err", env.dir);
	pid_t pub = pt_publisher(env.dir, env.err, NULL);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 1), NULL);

	pid_t rs = rt_subscriber(bin, rout, rerr, "--url", env.url, "--stats", "--count", "3", NULL);
	char *pargv[] = {(char *)py, (char *)pysub, "--url", env.url, "--stats", "--count", "3", NULL};
	pid_t ps = pt_spawn_io(pargv, perr, pout);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 3), NULL);

	size_t n = pt_make_stats(rec, sizeof(rec), 1234.0625);
	CHECK(pt_put(env.r2, rec, n) == 0);
	n = rt_rich_batch(rec, sizeof(rec), 9);
	CHECK(pt_put(env.r2, rec, n) == 0);

	int rc = pt_wait_exit(rs, 20000), pc = pt_wait_exit(ps, 20000);
	if (rc < 0)
		kill(rs, SIGKILL);
	if (pc < 0)
		kill(ps, SIGKILL);
	CHECK(rc == 0, "nerrf-subscribe exit %d: %s", rc, pt_slurp(rerr));
	CHECK(pc == 0, "python subscriber exit %d: %s", pc, pt_slurp(perr));
	char *r = without_silent_stats(pt_slurp(rout));
	char *p = without_silent_stats(pt_slurp(pout));
	CHECK(strstr(r, "\"events_per_sec\": 1234.0625") != NULL, "%s", r);
	CHECK_EQ_U64(rt_lines(r), 4);
	CHECK_STR(r, p);

	free(r);
	free(p);
	pt_stop(pub);
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
