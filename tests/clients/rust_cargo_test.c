/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `cargo test` of the nerrf-client crate: its unit tests and doc tests, and
 * with --include-ignored its tests against a live publisher
 * (clients/rust/tests/live.rs): a real nerrf-publisher with a journal, fed
 * through a real ring #2 all along, batch s with publisher_seq s, two events
 * of pid 7 at 1700000000 + s seconds.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "rusttest.h"

#define MAX_BATCHES 20000 /* 200 s at one batch every 10 ms, far more than the tests need */

static struct pt_env env;
static atomic_bool stop;
static atomic_uint published;

static void *feed(void *arg)
{
	static uint8_t rec[1 << 16];
	(void)arg;
	for (unsigned s = 1; s <= MAX_BATCHES && !atomic_load(&stop); s++) {
		CHECK(pt_put(env.r2, rec, pt_make_batch(rec, sizeof(rec), s, 2, 7, 8)) == 0);
		atomic_store(&published, s);
		usleep(10000);
	}
	return NULL;
}

int main(void)
{
	char log[700], jdir[700], url_env[700], dir_env[700];
	char *build[] = {"test", "--offline", "--locked", "--no-run", NULL};
	char *run[] = {"test", "--offline", "--locked", "--", "--include-ignored", NULL};
	pthread_t th;

	rt_build();
	pt_env_init(&env, "rust-cargo");
	snprintf(log, sizeof(log), "%s/cargo.log", env.dir);
	/* Built before the publisher starts: the tests find the stream running. */
	int st = rt_cargo(log, NULL, build);
	CHECK(st == 0, "cargo test --no-run failed (status %d):\n%s", st, pt_slurp(log));

	snprintf(jdir, sizeof(jdir), "%s/journal", env.dir);
	pid_t pub = pt_publisher(env.dir, env.err, "--journal", jdir, NULL);
	nng_socket stats = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(stats, 1), NULL);
	CHECK(pthread_create(&th, NULL, feed, NULL) == 0);
	while (atomic_load(&published) < 20)
		usleep(10000);

	snprintf(url_env, sizeof(url_env), "NERRF_LIVE_URL=%s", env.url);
	snprintf(dir_env, sizeof(dir_env), "NERRF_LIVE_DIR=%s", env.dir);
	char *vars[] = {url_env, dir_env, NULL};
	st = rt_cargo(log, vars, run);
	atomic_store(&stop, true);
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(st == 0, "cargo test failed (status %d):\n%s", st, pt_slurp(log));
	const char *o = pt_slurp(log);
	CHECK(strstr(o, "test resume_from_seq_catches_up_from_the_journal_then_goes_on_live ... ok"),
	      "the live tests did not run:\n%s", o);
	for (const char *p = o; (p = strstr(p, " ignored;")); p++)
		CHECK(p[-1] == '0' && p[-2] == ' ', "some tests were ignored:\n%s", o);

	pt_stop(pub);
	nng_close(stats);
	pt_env_free(&env);
	return 0;
}
