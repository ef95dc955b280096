/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The publisher (with a journal) fed a known workload, nerrf-forward and a
 * real nats-server: the stream it creates holds exactly the batches the
 * publisher sent, once each, on nerrf.testhost.events, each byte for byte
 * the EventBatch the journal holds under that publisher_seq (so: unchanged).
 * The forwarder runs under its seccomp filter; nerrf stats shows its
 * counters from its stats socket, and the publisher's Stats reach
 * nerrf.testhost.stats with them appended. A SIGHUP in the middle (nerrf run
 * and kill -HUP send it to every stage) neither ends it nor costs a batch.
 */
#include "fwdtest.h"

#define TOTAL 3000

static unsigned count[TOTAL + 1];
static uint8_t *journaled[TOTAL + 1];
static size_t jlen[TOTAL + 1];

static void read_journal(const char *dir)
{
	struct nerrf_jseg *v;
	size_t n;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0 && nerrf_journal_list(dfd, &v, &n) == 0);
	for (size_t i = 0; i < n; i++) {
		struct nerrf_jreader rd;
		struct nerrf_jrec r;
		int fd = openat(dfd, v[i].name, O_RDONLY);
		CHECK(fd >= 0);
		nerrf_jreader_init(&rd, fd, 0);
		while (nerrf_jreader_next(&rd, UINT64_MAX, &r) == NERRF_JREAD_RECORD) {
			CHECK(r.h.seq >= 1 && r.h.seq <= TOTAL && r.h.len > NERRF_TOPIC_LEN);
			jlen[r.h.seq] = r.h.len - NERRF_TOPIC_LEN;
			journaled[r.h.seq] = malloc(jlen[r.h.seq]);
			memcpy(journaled[r.h.seq], r.payload + NERRF_TOPIC_LEN, jlen[r.h.seq]);
		}
		nerrf_jreader_free(&rd);
		close(fd);
	}
	free(v);
	close(dfd);
}

int main(void)
{
	struct ft_env t = {0};
	ft_init(&t, "fwd-e2e", true);
	ft_forward(&t, NULL, "--start", "oldest", NULL);
	struct ft_feed f = {.t = &t, .total = TOTAL, .rate = 3000, .events = 4};
	ft_feed_start(&f, 2);
	/* Once it runs (it logs where it forwards just before its loop), not at its start. */
	for (uint64_t end = nerrf_mono_ms() + 30000;
	     !strstr(pt_slurp(t.fwd_err), "forwarding ") && nerrf_mono_ms() < end;)
		usleep(20 * 1000);
	CHECK(kill(t.fwd, SIGHUP) == 0);
	ft_feed_join(&f);

	ft_expect_once(&t, NULL, "nerrf.testhost.events", count, TOTAL, 30000);

	/* It runs confined by its own seccomp filter (every thread: libnats' too). */
	char status[64];
	snprintf(status, sizeof(status), "/proc/%d/status", t.fwd);
	CHECK(strstr(pt_slurp(status), "Seccomp:\t2\n"), "nerrf-forward is not filtered: %s",
	      pt_slurp(status));

	/* Its counters, as nerrf stats shows them from its own stats socket. */
	const char *sout = ft_stats_until(&t, "acked_seq                        3000", 10000);
	CHECK(strstr(sout, "forward    acked                            3000"), "%s", sout);
	CHECK(strstr(sout, "forward    lost                                0"), "%s", sout);

	/* The publisher's Stats reach NATS too, with the forwarder's counters appended. */
	natsConnection *sc = ft_connect(t.nats_url, NULL);
	natsSubscription *sub;
	natsMsg *sm = NULL;
	CHECK(natsConnection_SubscribeSync(&sub, sc, "nerrf.testhost.stats") == NATS_OK);
	CHECK(natsSubscription_NextMsg(&sm, sub, 5000) == NATS_OK, "no stats on nerrf.testhost.stats");
	Nerrf__Trace__Stats *st = nerrf__trace__stats__unpack(
		NULL, (size_t)natsMsg_GetDataLength(sm), (const uint8_t *)natsMsg_GetData(sm));
	CHECK(st && st->forward, "the forwarded Stats does not decode or lacks field 21");
	CHECK_EQ_U64(st->publisher_seq, TOTAL);
	CHECK_EQ_U64(st->forward->acked_seq, TOTAL);
	CHECK_EQ_U64(st->forward->acked, TOTAL);
	nerrf__trace__stats__free_unpacked(st, NULL);
	natsMsg_Destroy(sm);
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(sc);

	CHECK(waitpid(t.fwd, NULL, WNOHANG) == 0, "nerrf-forward ended after SIGHUP: %s",
	      pt_slurp(t.fwd_err));
	CHECK(strstr(pt_slurp(t.fwd_err), "SIGHUP: nothing to reload"), "%s", pt_slurp(t.fwd_err));

	/* Unchanged: what JetStream keeps is what the publisher journaled. */
	pt_stop(t.fwd);
	t.fwd = 0;
	read_journal(t.jdir);
	natsConnection *nc = ft_connect(t.nats_url, NULL);
	jsCtx *js;
	CHECK(natsConnection_JetStream(&js, nc, NULL) == NATS_OK);
	jsErrCode jerr;
	for (uint64_t q = 1; q <= TOTAL; q++) {
		natsMsg *m;
		struct nerrf_batch_scan sc;
		CHECK(js_GetMsg(&m, js, "NERRF", q, NULL, &jerr) == NATS_OK);
		const uint8_t *d = (const uint8_t *)natsMsg_GetData(m);
		size_t len = (size_t)natsMsg_GetDataLength(m);
		CHECK(nerrf_batch_scan(d, len, &sc) == 0);
		CHECK(journaled[sc.publisher_seq], "publisher_seq %llu is not in the journal",
		      (unsigned long long)sc.publisher_seq);
		CHECK(len == jlen[sc.publisher_seq] && memcmp(d, journaled[sc.publisher_seq], len) == 0,
		      "publisher_seq %llu differs from the journal", (unsigned long long)sc.publisher_seq);
		CHECK_EQ_U64(sc.events, 4);
		natsMsg_Destroy(m);
	}
	/* The position it stopped at is in its state file. */
	char p[700];
	snprintf(p, sizeof(p), "%s/state", t.state);
	CHECK(strstr(pt_slurp(p), "acked_seq 3000\n"), "state file: %s", pt_slurp(p));
	CHECK(!strstr(pt_slurp(t.fwd_err), "forward_lost:"), "%s", pt_slurp(t.fwd_err));
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	ft_free(&t);
	return 0;
}
