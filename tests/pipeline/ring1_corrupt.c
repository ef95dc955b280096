/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Corruption of ring #1 reaches a subscriber as counts, exactly. The test
 * writes ring #1 in the collector's place: events with per-CPU sequence
 * numbers, one of them with its frame scribbled over (a length no record can
 * have, as a peer writing into the ring could leave it). The real encoder
 * skips from there to the producer's head; a subscriber of the real
 * publisher then sees ring1_corrupt_resets 1, ring1_corrupt_bytes exactly
 * the bytes of the records skipped, and seq_gaps exactly their number. The
 * events before and after arrive, in order.
 */
#include "e2e.h"
#include "nerrf_ops.h"
#include "ring_layout.h"

#define TGID 4713
#define BEFORE 5
#define SKIPPED 4 /* the scribbled record and the ones published with it */
#define AFTER 3

static uint8_t rec[8192];

static void expect(struct e2e *e, uint64_t want, uint64_t resets, uint64_t bytes, uint64_t gaps)
{
	static uint64_t got, next; /* events so far; the seq due next at the least */
	uint64_t end = nerrf_mono_ms() + 15000;
	struct {
		uint64_t ring1_corrupt_resets, ring1_corrupt_bytes, seq_gaps;
	} last = {0, 0, 0};
	const Nerrf__Trace__LossCounters *l;

	while ((e->delivered < want || last.ring1_corrupt_resets != resets ||
		last.ring1_corrupt_bytes != bytes || last.seq_gaps != gaps) &&
	       nerrf_mono_ms() < end) {
		nng_msg *m = pt_recv(e->sub, 200);
		if (!m)
			continue;
		if (memcmp(nng_msg_body(m), NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0) {
			Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
			e2e_account(e, b);
			for (size_t i = 0; i < b->n_events; i++, got++) {
				/* sequence numbers BEFORE .. BEFORE + SKIPPED - 1 were skipped */
				uint64_t seq = got < BEFORE ? got : got + SKIPPED;
				CHECK(b->events[i]->seq >= next, "seq %llu after %llu",
				      (unsigned long long)b->events[i]->seq,
				      (unsigned long long)next);
				CHECK_EQ_U64(b->events[i]->seq, seq);
				next = seq + 1;
			}
			if ((l = b->loss))
				last = (typeof(last)){l->ring1_corrupt_resets, l->ring1_corrupt_bytes,
						      l->seq_gaps};
			nerrf__trace__event_batch__free_unpacked(b, NULL);
		} else {
			Nerrf__Trace__Stats *st = pt_decode_stats(m);
			if ((l = st->loss))
				last = (typeof(last)){l->ring1_corrupt_resets, l->ring1_corrupt_bytes,
						      l->seq_gaps};
			nerrf__trace__stats__free_unpacked(st, NULL);
		}
		nng_msg_free(m);
	}
	fprintf(stderr, "%llu events; ring1_corrupt_resets %llu, ring1_corrupt_bytes %llu, "
		"seq_gaps %llu\n", (unsigned long long)e->delivered,
		(unsigned long long)last.ring1_corrupt_resets,
		(unsigned long long)last.ring1_corrupt_bytes, (unsigned long long)last.seq_gaps);
	CHECK_EQ_U64(e->delivered, want);
	CHECK_EQ_U64(last.ring1_corrupt_resets, resets);
	CHECK_EQ_U64(last.ring1_corrupt_bytes, bytes);
	CHECK_EQ_U64(last.seq_gaps, gaps);
}

int main(void)
{
	struct e2e e = {0};
	struct e2e_stages st;
	char path[64];
	uint64_t seq = 0, skipped = 0;

	e2e_require("the ring #1 corruption test", false);
	e2e_dirs(&e, "e2e-ring1-corrupt");
	e2e_without_collector(&e, &st, 1 << 20, NULL);

	for (; seq < BEFORE; seq++) {
		snprintf(path, sizeof(path), "/before/%llu", (unsigned long long)seq);
		CHECK(pt_put(st.r1, rec, e2e_event(rec, NERRF_OP_OPENAT, 0, seq, TGID, path)) == 0);
	}
	expect(&e, BEFORE, 0, 0, 0);

	/* One publish: the encoder finds the scribble first and skips to the head. */
	for (int i = 0; i < SKIPPED; i++, seq++) {
		snprintf(path, sizeof(path), "/skipped/%llu", (unsigned long long)seq);
		size_t len = e2e_event(rec, NERRF_OP_OPENAT, 0, seq, TGID, path);
		uint8_t *p = nerrf_ring_reserve(st.r1, len);
		CHECK(p != NULL);
		memcpy(p, rec, len);
		nerrf_ring_commit(st.r1);
		if (i == 0) {
			uint32_t bad = 0x3fffffff;
			memcpy(p - REC_HDR, &bad, sizeof(bad));
		}
		skipped += REC_HDR + ((len + 7) & ~(size_t)7);
	}
	nerrf_ring_publish(st.r1);
	/* Nothing more until the encoder skipped: it would skip that too. */
	struct nerrf_ring_stats rs;
	uint64_t end = nerrf_mono_ms() + 10000;
	do {
		usleep(10000);
		nerrf_ring_prod_stats(st.r1, &rs);
	} while (rs.corrupt_resets == 0 && nerrf_mono_ms() < end);
	CHECK(rs.corrupt_resets == 1, "the encoder never skipped the scribble: %s",
	      pt_slurp(st.enc_err));

	for (int i = 0; i < AFTER; i++, seq++) {
		snprintf(path, sizeof(path), "/after/%llu", (unsigned long long)seq);
		CHECK(pt_put(st.r1, rec, e2e_event(rec, NERRF_OP_OPENAT, 0, seq, TGID, path)) == 0);
	}
	expect(&e, BEFORE + AFTER, 1, skipped, SKIPPED);
	CHECK(strstr(pt_slurp(st.enc_err), "ring #1 is corrupt") != NULL, "%s",
	      pt_slurp(st.enc_err));

	e2e_without_collector_finish(&e, &st);
	return 0;
}
