/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nats-server stopped for 5 s under load, then started again on the same
 * store: the forwarder keeps its position, reads what it missed back from
 * the publisher's journal, and the stream ends with every batch exactly
 * once. The publisher never waits: it keeps publishing throughout.
 */
#include "fwdtest.h"

#define RATE 1000
#define TOTAL (RATE * 12)

static unsigned count[TOTAL + 1];

int main(void)
{
	struct ft_env t = {0};
	ft_init(&t, "fwd-broker-restart", true);
	ft_forward(&t, NULL, "--start", "oldest", NULL);
	struct ft_feed f = {.t = &t, .total = TOTAL, .rate = RATE, .events = 2};
	ft_feed_start(&f, 2);

	sleep(3);
	ft_nats_stop(&t);
	unsigned at_stop = atomic_load(&f.sent);
	sleep(5);
	unsigned at_start = atomic_load(&f.sent);
	CHECK(at_start > at_stop + RATE * 4, "the publisher slowed down without a broker: %u "
	      "batches in 5 s", at_start - at_stop);
	ft_nats_start(&t);
	ft_feed_join(&f);

	ft_expect_once(&t, NULL, "nerrf.testhost.events", count, TOTAL, 60000);
	const char *log = pt_slurp(t.fwd_err);
	CHECK(strstr(log, "lost the connection"), "the outage is not reported: %s", log);
	CHECK(strstr(log, "reconnected to"), "the reconnection is not reported: %s", log);
	CHECK(!strstr(log, "forward_lost:"), "%s", log);
	ft_free(&t);
	return 0;
}
