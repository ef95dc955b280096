/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A broker down for longer than the journal keeps: the publisher's
 * retention removes batches the forwarder had not sent. When the broker is
 * back they are counted in forward_lost and said once, with their range;
 * everything the journal still has goes into the stream once. Stream plus
 * forward_lost is exactly what the publisher sent.
 */
#include "fwdtest.h"

#define FIRST 20
#define TOTAL 3000

static unsigned count[TOTAL + 1];

int main(void)
{
	struct ft_env t = {0};
	ft_setup(&t, "fwd-retention");
	/* A journal of at most 1 MiB in 64 KiB segments: it keeps the last ~300 batches. */
	t.pub = pt_publisher(t.pt.dir, t.pt.err, "--journal", t.jdir, "--journal-segment-bytes",
			     "64K", "--journal-max-bytes", "1M", NULL);
	ft_nats_start(&t);
	ft_forward(&t, NULL, "--start", "oldest", NULL);

	natsConnection *nc = ft_connect(t.nats_url, NULL);
	jsCtx *js;
	CHECK(natsConnection_JetStream(&js, nc, NULL) == NATS_OK);
	struct ft_feed f = {.t = &t, .total = FIRST, .rate = 1000, .events = 8};
	ft_feed_start(&f, 2);
	ft_feed_join(&f);
	CHECK(ft_wait_msgs(js, "NERRF", FIRST, 30000) == FIRST, "%s", pt_slurp(t.fwd_err));
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);

	ft_nats_stop(&t);
	/* The rest, while the broker is away: about 3.5 KiB a batch, 10 MiB in all. */
	static uint8_t rec[1 << 16];
	for (unsigned i = FIRST + 1; i <= TOTAL; i++) {
		CHECK(pt_put(t.pt.r2, rec, pt_make_batch(rec, sizeof(rec), i, 8, 7, 400)) == 0);
		if (i % 100 == 0)
			usleep(50000);
	}
	sleep(1);
	ft_nats_start(&t);

	nc = ft_connect(t.nats_url, NULL);
	CHECK(natsConnection_JetStream(&js, nc, NULL) == NATS_OK);
	/* Everything up to TOTAL is in the stream or counted lost: the stats socket says when. */
	const char *sout = ft_stats_until(&t, "acked_seq                        3000", 60000);
	const char *l = strstr(sout, "forward    lost ");
	CHECK(l, "%s", sout);
	unsigned long long lost = strtoull(l + 16, NULL, 10);
	uint64_t n = ft_wait_msgs(js, "NERRF", TOTAL - lost, 10000);
	CHECK(lost > 1000 && lost < TOTAL - FIRST, "forward_lost %llu: %s", lost, sout);
	CHECK(n + lost == TOTAL, "stream %llu + lost %llu != %d: %s", (unsigned long long)n, lost,
	      TOTAL, pt_slurp(t.fwd_err));
	/* Said once, with the range: exactly what the stream lacks. */
	const char *log = pt_slurp(t.fwd_err), *g = strstr(log, "forward_lost: ");
	unsigned long long said, lo, hi;
	CHECK(g && sscanf(g, "forward_lost: %llu batches (publisher_seq %llu to %llu)", &said, &lo,
			  &hi) == 3, "%s", log);
	CHECK(said == lost && hi - lo + 1 == lost && lo > FIRST, "%s", log);
	CHECK(strstr(g, "removed from the journal by retention"), "%s", log);
	CHECK(!strstr(g + 1, "forward_lost: "), "said more than once: %s", log);
	CHECK_EQ_U64(ft_read_stream(js, "NERRF", "nerrf.testhost.events", count, TOTAL), n);
	for (unsigned q = 1; q <= TOTAL; q++)
		CHECK(count[q] == (q >= lo && q <= hi ? 0u : 1u), "publisher_seq %u: %u times", q,
		      count[q]);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	ft_free(&t);
	return 0;
}
