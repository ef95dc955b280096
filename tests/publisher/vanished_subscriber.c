/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A subscriber that vanishes mid-stream (killed with SIGKILL) is harmless:
 * the publisher keeps running, another subscriber keeps receiving every
 * batch, and the subscriber count in the stats goes back down.
 */
#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"
#include "tjson.h"

int main(void)
{
	struct pt_env env;
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "pub-vanish");
	pid_t pub = pt_publisher(env.dir, env.err, NULL);
	nng_socket s = pt_sub(env.url, NULL);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(s, 1), NULL);

	/* The victim, a real `nerrf tail`: once it printed its first event it is killed. */
	char out[600], verr[600];
	snprintf(out, sizeof(out), "%s/victim.out", env.dir);
	snprintf(verr, sizeof(verr), "%s/victim.err", env.dir);
	char *vargv[] = {(char *)pt_bin("NERRF_CLI"),
			 (char *)"tail",
			 (char *)"--json",
			 (char *)"--url",
			 env.url,
			 NULL};
	pid_t victim = pt_spawn_io(vargv, verr, out);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(s, 2), NULL);

	uint64_t seq = 0, last = 0;
	size_t n = pt_make_batch(rec, sizeof(rec), ++seq, 4, 1, 100);
	CHECK(pt_put(env.r2, rec, n) == 0);
	uint64_t end = nerrf_mono_ms() + 10000;
	while (!tj_any(pt_slurp(out), "pid", "1") && nerrf_mono_ms() < end)
		usleep(10000);
	CHECK(tj_any(pt_slurp(out), "pid", "1"), "victim printed its batch: %s",
	      pt_slurp(verr));
	for (int i = 0; i < 50; i++) {
		n = pt_make_batch(rec, sizeof(rec), ++seq, 4, 1, 100);
		CHECK(pt_put(env.r2, rec, n) == 0);
	}
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	for (int i = 0; i < 50; i++) {
		n = pt_make_batch(rec, sizeof(rec), ++seq, 4, 1, 100);
		CHECK(pt_put(env.r2, rec, n) == 0);
	}

	/* The survivor has every batch; then stats show one subscriber again. */
	unsigned got = 0;
	bool one_again = false;
	end = nerrf_mono_ms() + 15000;
	while ((got < seq || !one_again) && nerrf_mono_ms() < end) {
		nng_msg *m = pt_recv(s, 1000);
		if (!m)
			continue;
		if (memcmp(nng_msg_body(m), NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0) {
			Nerrf__Trace__EventBatch *eb = pt_decode_batch(m);
			CHECK_EQ_U64(eb->publisher_seq, last + 1);
			last = eb->publisher_seq;
			got++;
			nerrf__trace__event_batch__free_unpacked(eb, NULL);
		} else {
			Nerrf__Trace__Stats *st = pt_decode_stats(m);
			one_again = got == seq && st->subscribers == 1;
			nerrf__trace__stats__free_unpacked(st, NULL);
		}
		nng_msg_free(m);
	}
	CHECK_EQ_U64(got, seq);
	CHECK(one_again, "stats never showed the vanished subscriber gone");
	CHECK(pt_wait_exit(pub, 0) < 0, "publisher exited: %s", pt_slurp(env.err));

	pt_stop(pub);
	nng_close(s);
	pt_env_free(&env);
	return 0;
}
