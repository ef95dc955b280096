/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A publisher without a journal cannot give back what the forwarder missed
 * while the broker was down: the forwarder says the replay endpoint does not
 * answer, counts the gap in forward_lost after a few seconds, and goes on
 * with the live stream. Stream plus forward_lost is what the publisher sent.
 */
#include "fwdtest.h"

#define FIRST 50  /* sent while the broker is down */
#define TOTAL 250 /* then the rest, at 50 a second */

static unsigned count[TOTAL + 1];

int main(void)
{
	struct ft_env t = {0};
	static uint8_t rec[1 << 16];

	ft_setup(&t, "fwd-no-journal");
	t.pub = pt_publisher(t.pt.dir, t.pt.err, NULL); /* --no-journal */
	ft_forward(&t, NULL, "--start", "oldest", NULL);
	nng_socket st = pt_sub(t.pt.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 2), NULL);
	for (unsigned i = 1; i <= FIRST; i++)
		CHECK(pt_put(t.pt.r2, rec, pt_make_batch(rec, sizeof(rec), i, 2, 7, 60)) == 0);
	ft_nats_start(&t);
	for (unsigned i = FIRST + 1; i <= TOTAL; i++) {
		CHECK(pt_put(t.pt.r2, rec, pt_make_batch(rec, sizeof(rec), i, 2, 7, 60)) == 0);
		usleep(20000);
	}
	const char *sout = ft_stats_until(&t, "acked_seq                         250", 30000);
	const char *l = strstr(sout, "forward    lost ");
	CHECK(l, "%s", sout);
	unsigned long long lost = strtoull(l + 16, NULL, 10);
	CHECK(lost >= FIRST && lost < TOTAL, "forward_lost %llu: %s", lost, sout);

	natsConnection *nc = ft_connect(t.nats_url, NULL);
	jsCtx *js;
	CHECK(natsConnection_JetStream(&js, nc, NULL) == NATS_OK);
	uint64_t n = ft_wait_msgs(js, "NERRF", TOTAL - lost, 10000);
	CHECK(n + lost == TOTAL, "stream %llu + lost %llu != %d: %s", (unsigned long long)n, lost,
	      TOTAL, pt_slurp(t.fwd_err));
	CHECK_EQ_U64(ft_read_stream(js, "NERRF", "nerrf.testhost.events", count, TOTAL), n);
	for (unsigned q = 1; q <= TOTAL; q++)
		CHECK(count[q] == (q <= lost ? 0u : 1u), "publisher_seq %u: %u times", q, count[q]);
	const char *log = pt_slurp(t.fwd_err);
	CHECK(strstr(log, "does not answer"), "%s", log);
	char want[160];
	snprintf(want, sizeof(want), "forward_lost: %llu batches (publisher_seq 1 to %llu)", lost,
		 lost);
	CHECK(strstr(log, want), "want '%s' in: %s", want, log);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	ft_free(&t);
	return 0;
}
