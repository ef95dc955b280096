/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A batch the encoder cannot place in ring #2 (its loss counters alone are
 * larger than a ring #2 record may be: kernel loss on each of 8192 CPUs) is
 * dropped and counted: the next batch a subscriber gets has batch_seq one
 * further on, encoder_events grown by the dropped events, and ring2_dropped
 * exactly their number, so that written == delivered + ring2_dropped. The
 * test writes ring #1 in the collector's place, to the real encoder (with
 * the smallest ring #2 its batch size allows) and the real publisher.
 */
#include "e2e.h"
#include "nerrf_ops.h"

#define TGID 4714
#define NCPUS 8192
#define FIRST 3
#define DROPPED 5
#define LAST 4

static uint8_t rec[sizeof(struct nerrf_kstats) + NCPUS * sizeof(uint64_t)];
static uint64_t seq;

/* A collector's stats record with loss on each of ncpus CPUs (none when lost is 0). */
static size_t kstats(unsigned ncpus, uint64_t lost)
{
	struct nerrf_kstats *ks = (struct nerrf_kstats *)rec;
	size_t len = sizeof(*ks) + ncpus * sizeof(ks->lost_by_cpu[0]);

	memset(rec, 0, len);
	ks->hdr.type = NERRF_REC_STATS;
	ks->hdr.size = (uint32_t)len;
	ks->nr_cpus = ncpus;
	for (unsigned c = 0; c < ncpus; c++)
		ks->lost_by_cpu[c] = lost;
	ks->kernel_lost[NERRF_OP_OPENAT] = lost * ncpus;
	return len;
}

/* Records written in one publish, so the encoder takes them as one batch. */
static void put_all(struct nerrf_ring_prod *r1, size_t stats_len, unsigned nevents)
{
	uint8_t ev[512];
	char path[64];
	void *p = nerrf_ring_reserve(r1, stats_len);

	CHECK(p != NULL);
	memcpy(p, rec, stats_len);
	nerrf_ring_commit(r1);
	for (unsigned i = 0; i < nevents; i++, seq++) {
		snprintf(path, sizeof(path), "/batch/%llu", (unsigned long long)seq);
		size_t len = e2e_event(ev, NERRF_OP_OPENAT, 0, seq, TGID, path);
		CHECK((p = nerrf_ring_reserve(r1, len)) != NULL);
		memcpy(p, ev, len);
		nerrf_ring_commit(r1);
	}
	nerrf_ring_publish(r1);
}

/* The next batch, which must hold want events. */
static Nerrf__Trace__EventBatch *next_batch(struct e2e *e, unsigned want)
{
	uint64_t end = nerrf_mono_ms() + 15000;

	while (nerrf_mono_ms() < end) {
		nng_msg *m = pt_recv(e->sub, 200);
		if (!m)
			continue;
		if (memcmp(nng_msg_body(m), NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0) {
			Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
			nng_msg_free(m);
			e2e_account(e, b);
			CHECK_EQ_U64(b->n_events, want);
			CHECK(b->loss != NULL);
			return b;
		}
		nng_msg_free(m);
	}
	FAIL("no batch of %u events within 15 s", want);
}

int main(void)
{
	struct e2e e = {0};
	struct e2e_stages st;
	char *enc_args[] = {"--ring2-size", "256K", "--max-batch-bytes", "16K", NULL};

	e2e_require("the oversized batch test", false);
	e2e_dirs(&e, "e2e-oversized");
	e2e_without_collector(&e, &st, 1 << 20, enc_args);

	put_all(st.r1, kstats(2, 0), FIRST);
	Nerrf__Trace__EventBatch *b = next_batch(&e, FIRST);
	uint64_t first_seq = b->batch_seq;
	CHECK_EQ_U64(b->loss->ring2_dropped, 0);
	nerrf__trace__event_batch__free_unpacked(b, NULL);

	put_all(st.r1, kstats(NCPUS, 1ull << 40), DROPPED);
	uint64_t end = nerrf_mono_ms() + 15000;
	while (!strstr(pt_slurp(st.enc_err), "dropped and counted") && nerrf_mono_ms() < end)
		usleep(20000);
	const char *msg = pt_slurp(st.enc_err);
	CHECK(strstr(msg, "events is") && strstr(msg, "over ring #2's record limit") &&
		      strstr(msg, "raise --ring2-size"),
	      "the encoder did not say it dropped a batch, and what to do: %s", msg);

	/* Counters of a sane size again: the next batch fits. */
	put_all(st.r1, kstats(2, 0), LAST);
	b = next_batch(&e, LAST);
	fprintf(stderr, "batch_seq %llu after %llu; encoder_events %llu, ring2_dropped %llu, "
		"delivered %llu\n", (unsigned long long)b->batch_seq,
		(unsigned long long)first_seq, (unsigned long long)b->loss->encoder_events,
		(unsigned long long)b->loss->ring2_dropped, (unsigned long long)e.delivered);
	CHECK_EQ_U64(b->batch_seq, first_seq + 2);
	CHECK_EQ_U64(b->loss->encoder_events, FIRST + DROPPED + LAST);
	CHECK_EQ_U64(b->loss->ring2_dropped, DROPPED);
	CHECK_EQ_U64(e.delivered + b->loss->ring2_dropped, seq);
	CHECK_EQ_U64(b->loss->seq_gaps, 0);
	nerrf__trace__event_batch__free_unpacked(b, NULL);

	/* And in the encoder's next Stats. */
	Nerrf__Trace__Stats *s = NULL;
	for (end = nerrf_mono_ms() + 5000; !s && nerrf_mono_ms() < end;) {
		nng_msg *m = pt_recv(e.sub, 200);
		if (m && memcmp(nng_msg_body(m), NERRF_TOPIC_STATS, NERRF_TOPIC_LEN) == 0) {
			s = pt_decode_stats(m);
			if (!s->loss) {
				nerrf__trace__stats__free_unpacked(s, NULL);
				s = NULL;
			}
		}
		if (m)
			nng_msg_free(m);
	}
	CHECK(s != NULL, "no encoder Stats within 5 s");
	CHECK_EQ_U64(s->loss->ring2_dropped, DROPPED);
	nerrf__trace__stats__free_unpacked(s, NULL);

	e2e_without_collector_finish(&e, &st);
	return 0;
}
