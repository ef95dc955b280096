/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ring #2 full and nobody reading it: the encoder stops draining ring #1, so
 * ring #1 fills and the producer's reserve fails (the collector's counted
 * drop, upstream). Once a reader drains ring #2, every batch arrives: no
 * batch_seq missing, every event once, in order, ring2_dropped still 0.
 */
#include "enc_run.h"

static _Alignas(8) uint8_t buf[REC_BUF];

int main(int argc, char **argv)
{
	const char *extra[] = {"--ring2-size", "256K", "--max-batch-bytes", "16K",
			       "--max-batch", "64", NULL};
	struct enc_run t;
	struct nerrf_ring_stats s1, s2;
	unsigned written = 0;

	CHECK(argc == 2, "usage: backpressure_test NERRF_ENCODER");
	enc_start(&t, "backpressure", argv[1], 64 << 10, extra);

	/* Produce until ring #1 has refused every record for half a second. */
	uint64_t refused_since = 0;
	for (;;) {
		size_t n = numbered_event(buf, "/bp/some/longer/directory/name", written);
		void *p = nerrf_ring_reserve(t.r1, n);
		uint64_t now = nerrf_mono_ns();
		if (p) {
			memcpy(p, buf, n);
			nerrf_ring_commit(t.r1);
			nerrf_ring_publish(t.r1);
			written++;
			refused_since = 0;
			CHECK(written < 1000000, "ring #1 never filled: the encoder drops batches");
			continue;
		}
		if (!refused_since)
			refused_since = now;
		else if (now - refused_since > 500000000)
			break;
		sleep_ms(1);
	}

	/* The encoder is blocked on ring #2: ring #1 stays where it is. */
	nerrf_ring_prod_stats(t.r1, &s1);
	sleep_ms(300);
	nerrf_ring_prod_stats(t.r1, &s2);
	CHECK_EQ_U64(s1.consumed, s2.consumed);
	CHECK(nerrf_ring_reserve(t.r1, 256) == NULL, "ring #1 has room again");
	nerrf_ring_cons_stats(t.r2, &s2);
	CHECK(s2.used_bytes > s2.capacity / 2, "ring #2 holds only %llu of %llu bytes",
	      (unsigned long long)s2.used_bytes, (unsigned long long)s2.capacity);

	/* Now drain ring #2: everything written arrives, batch after batch. */
	unsigned got = 0;
	uint64_t seq = 0;
	while (got < written) {
		Nerrf__Trace__EventBatch *b = next_batch(&t, 10000);
		CHECK(b != NULL, "%u of %u events arrived", got, written);
		CHECK_EQ_U64(b->batch_seq, seq + 1);
		seq = b->batch_seq;
		for (size_t i = 0; i < b->n_events; i++)
			CHECK_EQ_U64(b->events[i]->seq, ++got);
		CHECK_EQ_U64(b->loss->ring2_dropped, 0);
		CHECK_EQ_U64(b->loss->seq_gaps, 0);
		CHECK_EQ_U64(b->loss->malformed, 0);
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
	CHECK_EQ_U64(got, written);
	CHECK(seq > 10, "only %llu batches: ring #2 was never the bottleneck",
	      (unsigned long long)seq);
	enc_stop(&t);
	return 0;
}
