/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Size limits: capacities outside 4 KiB..1 GiB or not a power of two are
 * refused with a message; the largest record is at most a quarter of the
 * capacity and reserve refuses anything larger without touching the ring.
 */
#include "ring_layout.h"
#include "ring_test.h"

int main(void)
{
	static const size_t bad[] = { 0, 2048, 4095, 6144, 3u << 20, (size_t)2 << 30 };
	struct nerrf_ring_prod *p;
	struct nerrf_ring_cons *c;
	const char *msg;
	size_t len;
	int err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg = NULL;
		p = (void *)1;
		if (nerrf_ring_create("test-ring", bad[i], &p, &msg) != -EINVAL)
			FAIL("capacity %zu accepted", bad[i]);
		CHECK(p == NULL && msg && strstr(msg, "power of two"));
	}

	for (size_t cap = 4096; cap <= (1u << 20); cap <<= 2) {
		p = open_prod(cap);
		c = open_cons(p);
		size_t max = nerrf_ring_max_record(p);
		if (max + 8 > cap / 4 || max < cap / 4 - 64)
			FAIL("capacity %zu: max_record %zu", cap, max);
		CHECK_EQ_U64(nerrf_ring__test_cons_area(c).max_rec, max);
		CHECK(nerrf_ring_reserve(p, max + 1) == NULL, "reserve above max_record");
		CHECK(nerrf_ring_reserve(p, SIZE_MAX) == NULL, "reserve of SIZE_MAX");
		CHECK(nerrf_ring_reserve(p, (size_t)1 << 32) == NULL, "reserve of 4 GiB");
		CHECK(nerrf_ring_wait_space(p, max + 1, 0) == -EINVAL);
		/* refusals left nothing behind */
		nerrf_ring_publish(p);
		CHECK(nerrf_ring_peek(c, &len, &err) == NULL && err == 0);

		/* four max-size records fill the ring exactly */
		for (int i = 0; i < 4; i++) {
			void *w = nerrf_ring_reserve(p, max);
			CHECK(w != NULL);
			fill_payload(w, max, (uint64_t)i);
			nerrf_ring_commit(p);
		}
		nerrf_ring_publish(p);
		for (int i = 0; i < 4; i++) {
			const void *rd = nerrf_ring_peek(c, &len, &err);
			CHECK(rd && len == max && check_payload(rd, len, (uint64_t)i));
			nerrf_ring_release(c);
		}
		nerrf_ring_cons_close(c);
		nerrf_ring_prod_close(p);
	}

	/* the largest ring: 1 GiB */
	p = open_prod((size_t)1 << 30);
	c = open_cons(p);
	CHECK_EQ_U64(nerrf_ring__test_cons_area(c).cap, (size_t)1 << 30);
	CHECK_EQ_U64(nerrf_ring_max_record(p), ((size_t)1 << 28) - 8);
	void *w = nerrf_ring_reserve(p, 100);
	CHECK(w != NULL);
	fill_payload(w, 100, 1);
	nerrf_ring_commit(p);
	nerrf_ring_publish(p);
	const void *rd = nerrf_ring_peek(c, &len, &err);
	CHECK(rd && len == 100 && check_payload(rd, len, 1));
	nerrf_ring_cons_close(c);
	nerrf_ring_prod_close(p);
	return 0;
}
