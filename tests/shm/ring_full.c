/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A full ring refuses reserve (never blocks, never overwrites), the caller's
 * drops are counted, and once the consumer publishes its position the space
 * comes back. delivered + dropped == produced at the end.
 */
#include "ring_test.h"

static uint64_t fill(struct nerrf_ring_prod *p, uint64_t *n, size_t len)
{
	uint64_t sent = 0;
	void *w;

	while ((w = nerrf_ring_reserve(p, len))) {
		fill_payload(w, len, (*n)++);
		nerrf_ring_commit(p);
		sent++;
	}
	nerrf_ring_publish(p);
	return sent;
}

int main(void)
{
	struct nerrf_ring_prod *p = open_prod(4096);
	struct nerrf_ring_cons *c = open_cons(p);
	uint64_t n = 0, attempted = 0, delivered = 0, dropped = 0;
	struct nerrf_ring_stats st;
	const uint8_t *rd;
	size_t len;
	int err;

	/* 100-byte records take 8 + 104 bytes: 36 fit in 4096 */
	CHECK_EQ_U64(fill(p, &n, 100), 4096 / 112);
	attempted = n;
	CHECK(nerrf_ring_reserve(p, 0) != NULL, "an 8-byte record should fit the 64 bytes left");
	nerrf_ring_commit(p);
	n++, attempted++;
	for (int i = 0; i < 10; i++) {
		CHECK(nerrf_ring_reserve(p, 100) == NULL, "reserve on a full ring must fail");
		nerrf_ring_count_drop(p, 100);
		attempted++, dropped++;
		n++; /* the dropped record's number is gone */
	}
	nerrf_ring_publish(p);
	nerrf_ring_prod_stats(p, &st);
	CHECK_EQ_U64(st.dropped, 10);
	CHECK_EQ_U64(st.dropped_bytes, 1000);
	CHECK_EQ_U64(st.used_bytes, 4096 - 56);

	/* released but unpublished space stays unusable to the producer */
	rd = nerrf_ring_peek(c, &len, &err);
	CHECK(rd && len == 100 && check_payload(rd, len, 0));
	nerrf_ring_release(c);
	delivered++;
	CHECK(nerrf_ring_reserve(p, 100) == NULL, "space reused before the consumer published it");
	nerrf_ring_consumer_publish(c);
	CHECK(nerrf_ring_reserve(p, 100) != NULL, "space not back after consumer publish");
	fill_payload(nerrf_ring_reserve(p, 100), 100, n);
	nerrf_ring_commit(p);
	nerrf_ring_publish(p);
	n++, attempted++;

	/* drain: every record not dropped arrives, in order, intact */
	uint64_t want = 1;
	while ((rd = nerrf_ring_peek(c, &len, &err))) {
		while (want >= 37 && want < 47)
			want++; /* numbers 37..46 were dropped */
		if (!check_payload(rd, len, want))
			FAIL("record %llu: content differs", (unsigned long long)want);
		want++;
		delivered++;
		nerrf_ring_release(c);
	}
	CHECK(err == 0);
	nerrf_ring_consumer_publish(c);
	nerrf_ring_cons_stats(c, &st);
	CHECK_EQ_U64(delivered + st.dropped, attempted);
	CHECK_EQ_U64(st.produced, delivered);
	CHECK_EQ_U64(st.consumed, delivered);
	CHECK_EQ_U64(st.used_bytes, 0);
	nerrf_ring_cons_close(c);
	nerrf_ring_prod_close(p);
	return 0;
}
