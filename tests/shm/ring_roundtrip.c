/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reserve/commit/publish then peek/release returns every record intact and
 * in order, with variable lengths, over many wraps of a small ring (so PAD
 * records are exercised at every possible offset).
 */
#include "ring_test.h"

int main(void)
{
	struct nerrf_ring_prod *p = open_prod(4096);
	struct nerrf_ring_cons *c = open_cons(p);
	size_t max = nerrf_ring_max_record(p);
	uint64_t sent = 0, got = 0, s = 42;
	struct nerrf_ring_stats st;

	nerrf_ring_prod_stats(p, &st);
	CHECK_EQ_U64(st.capacity, 4096);
	nerrf_ring_cons_stats(c, &st);
	CHECK_EQ_U64(st.capacity, 4096);
	if (max < 512 || max > 1024)
		FAIL("max_record %zu", max);

	/* nothing visible before publish */
	uint8_t *w = nerrf_ring_reserve(p, 10);
	CHECK(w != NULL);
	fill_payload(w, 10, sent);
	nerrf_ring_commit(p);
	size_t len;
	int err;
	CHECK(nerrf_ring_peek(c, &len, &err) == NULL && err == 0, "record visible before publish");
	nerrf_ring_publish(p);
	sent++;

	while (got < 200000) {
		/* a burst of 1..8 records of 0..max bytes, then drain */
		unsigned burst = 1 + xorshift(&s) % 8;
		for (unsigned i = 0; i < burst; i++) {
			size_t l = xorshift(&s) % (max + 1);
			w = nerrf_ring_reserve(p, l);
			if (!w)
				break;
			CHECK(((uintptr_t)w & 7) == 0, "reserve not 8-byte aligned");
			fill_payload(w, l, sent);
			nerrf_ring_commit(p);
			sent++;
		}
		nerrf_ring_publish(p);
		const uint8_t *rd;
		while ((rd = nerrf_ring_peek(c, &len, &err))) {
			CHECK(((uintptr_t)rd & 7) == 0);
			CHECK(len <= max);
			if (!check_payload(rd, len, got))
				FAIL("record %llu: content differs", (unsigned long long)got);
			nerrf_ring_release(c);
			got++;
		}
		if (err)
			FAIL("peek error %d at record %llu", err, (unsigned long long)got);
		CHECK_EQ_U64(got, sent);
		nerrf_ring_consumer_publish(c);
	}

	nerrf_ring_cons_stats(c, &st);
	CHECK_EQ_U64(st.produced, sent);
	CHECK_EQ_U64(st.consumed, got);
	CHECK_EQ_U64(st.dropped, 0);
	CHECK_EQ_U64(st.corrupt_resets, 0);
	CHECK_EQ_U64(st.used_bytes, 0);
	CHECK(st.generation != 0);
	nerrf_ring_cons_close(c);
	nerrf_ring_prod_close(p);
	return 0;
}
