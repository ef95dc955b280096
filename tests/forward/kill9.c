/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-forward killed with SIGKILL under load and started again: it
 * resumes from its state file and the journal, with no gap, and what it
 * sends twice (acknowledged after its last saved position) JetStream drops
 * by Nats-Msg-Id: the stream ends with every batch exactly once.
 */
#include "fwdtest.h"

#define RATE 2000
#define TOTAL (RATE * 8)

static unsigned count[TOTAL + 1];

int main(void)
{
	struct ft_env t = {0};
	ft_init(&t, "fwd-kill9", true);
	ft_forward(&t, NULL, "--start", "oldest", NULL);
	struct ft_feed f = {.t = &t, .total = TOTAL, .rate = RATE, .events = 2};
	ft_feed_start(&f, 2);

	char state[700];
	unsigned long long pos = 0;
	snprintf(state, sizeof(state), "%s/state", t.state);
	for (int round = 0; round < 3; round++) {
		/* Killed once it has saved a position further on, with batches in flight. */
		uint64_t end = nerrf_mono_ms() + 30000;
		for (;;) {
			const char *p = strstr(pt_slurp(state), "acked_seq ");
			unsigned long long now = p ? strtoull(p + 10, NULL, 10) : 0;
			if (now > pos) {
				pos = now;
				break;
			}
			CHECK(nerrf_mono_ms() < end, "no position saved past %llu: %s", pos,
			      pt_slurp(t.fwd_err));
			usleep(50000);
		}
		usleep(300000);
		kill(t.fwd, SIGKILL);
		CHECK(pt_wait_exit(t.fwd, 5000) == 128 + SIGKILL);
		usleep(300000);
		ft_forward(&t, NULL, "--start", "oldest", NULL);
	}
	ft_feed_join(&f);

	ft_expect_once(&t, NULL, "nerrf.testhost.events", count, TOTAL, 60000);
	const char *log = pt_slurp(t.fwd_err);
	CHECK(strstr(log, "resuming after publisher_seq"), "no restart resumed: %s", log);
	CHECK(!strstr(log, "forward_lost:"), "%s", log);
	ft_free(&t);
	return 0;
}
