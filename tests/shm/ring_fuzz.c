/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Random corruption of the header and the data area, interleaved with valid
 * traffic. Whatever the bytes say, neither side crashes or touches memory
 * outside its mapping (every pointer handed out is checked against the data
 * area here, and ASan watches the rest), every corruption seen is named, and
 * once the corruption stops the ring heals: fresh records arrive intact.
 */
#include <inttypes.h>
#include <sys/mman.h>

#include "ring_layout.h"
#include "ring_test.h"

#define CAP 4096

static struct nerrf_ring_prod *p;
static struct nerrf_ring_cons *c;
static uint8_t *page;  /* the hostile mapping: header page + data */
static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint64_t sent, got, corruptions;

static uint64_t rnd(uint64_t n)
{
	return xorshift(&rng) % n;
}

static void check_inside(struct nerrf_ring__test_area a, const void *ptr, size_t len)
{
	const uint8_t *base = a.data, *q = ptr;

	if (q < base + 8 || q + len > base + CAP)
		FAIL("pointer %p+%zu outside the data area %p+%d", ptr, len, (const void *)base,
		     CAP);
}

static void produce(void)
{
	unsigned int k = 1 + (unsigned int)rnd(8);
	size_t max = nerrf_ring_max_record(p);

	for (unsigned int i = 0; i < k; i++) {
		size_t len = rnd(4) ? rnd(64) : rnd(max + 1);
		void *w = nerrf_ring_reserve(p, len);
		if (!w) {
			nerrf_ring_count_drop(p, len);
			continue;
		}
		check_inside(nerrf_ring__test_prod_area(p), w, len);
		fill_payload(w, len, sent++);
		nerrf_ring_commit(p);
	}
	if (rnd(4))
		nerrf_ring_publish(p);
}

static void consume(unsigned int k)
{
	for (unsigned int i = 0; i < k; i++) {
		size_t len;
		int err;
		const void *rd = nerrf_ring_peek(c, &len, &err);
		if (err) {
			CHECK((err == -NERRF_RING_ECORRUPT || err == -NERRF_RING_EVERSION) && rd == NULL);
			CHECK(nerrf_ring_cons_corruption(c) != NULL, "corruption without a reason");
			corruptions++;
			nerrf_ring_resync(c);
			continue;
		}
		if (!rd)
			break;
		CHECK(len <= nerrf_ring__test_cons_area(c).max_rec);
		check_inside(nerrf_ring__test_cons_area(c), rd, len);
		got++;
		nerrf_ring_release(c);
	}
	if (rnd(2))
		nerrf_ring_consumer_publish(c);
}

static void scribble(void)
{
	struct ring_hdr *h = (struct ring_hdr *)page;
	uint8_t *data = page + 4096;
	uint64_t v;

	switch (rnd(8)) {
	case 0: /* random bytes anywhere in the header lines */
		for (uint64_t n = 1 + rnd(8); n; n--)
			((uint8_t *)h)[rnd(sizeof(*h))] = (uint8_t)rnd(256);
		break;
	case 1: /* random bytes in the data area */
		for (uint64_t n = 1 + rnd(16); n; n--)
			data[rnd(CAP)] = (uint8_t)rnd(256);
		break;
	case 2: /* a plausible-looking but wrong head */
		v = h->head;
		h->head = rnd(2) ? v + (rnd(2 * CAP) & ~7ULL) - CAP : xorshift(&rng);
		break;
	case 3: /* a plausible-looking but wrong tail */
		v = h->tail;
		h->tail = rnd(2) ? v + (rnd(2 * CAP) & ~7ULL) - CAP : xorshift(&rng);
		break;
	case 4: /* the record at the consumer's tail gets a wild length */
		v = h->tail & (CAP - 8);
		memcpy(data + v, &(uint32_t){ (uint32_t)xorshift(&rng) }, 4);
		break;
	case 5: /* a PAD marker somewhere */
		v = rnd(CAP / 8) * 8;
		memcpy(data + v, &(uint32_t){ REC_PAD | (uint32_t)rnd(CAP) }, 4);
		break;
	case 6:
		h->generation = xorshift(&rng);
		break;
	case 7:
		h->produced = rnd(2) ? h->produced + rnd(64) - 32 : xorshift(&rng);
		break;
	}
}

int main(void)
{
	uint64_t rounds = scale_sanitize() ? 50000 : 500000;
	struct nerrf_ring_stats st;
	const char *seed = getenv("NERRF_FUZZ_SEED");

	/* a fixed default keeps the test repeatable; set the seed to explore */
	if (seed)
		rng = strtoull(seed, NULL, 0) | 1;
	fprintf(stderr, "seed %#" PRIx64 "\n", rng);
	p = open_prod(CAP);
	c = open_cons(p);
	page = mmap(NULL, 4096 + CAP, PROT_READ | PROT_WRITE, MAP_SHARED, nerrf_ring_fd(p), 0);
	CHECK(page != MAP_FAILED);

	for (uint64_t i = 0; i < rounds; i++) {
		uint64_t op = rnd(16);
		if (op < 7)
			produce();
		else if (op < 12)
			consume(1 + (unsigned int)rnd(16));
		else if (op == 12)
			nerrf_ring_wait(c, 0);
		else if (op == 13)
			nerrf_ring_wait_space(p, rnd(100), 0);
		else
			scribble();
	}

	/* heal: the producer's publish restores its line, the consumer skips the debris */
	for (int round = 0;; round++) {
		uint64_t before = corruptions;
		if (round == 100)
			FAIL("ring did not heal in 100 rounds (%s)", nerrf_ring_cons_corruption(c));
		produce();
		nerrf_ring_publish(p);
		consume(64);
		nerrf_ring_consumer_publish(c);
		int err;
		if (corruptions == before && !nerrf_ring_peek(c, &(size_t){ 0 }, &err) && !err)
			break;
	}

	/* fresh records arrive intact and in order */
	for (uint64_t n = 0; n < 200; n++) {
		void *w = nerrf_ring_reserve(p, 100);
		if (!w)
			FAIL("ring did not heal: reserve fails after the drain (%s)",
			     nerrf_ring_prod_corruption(p) ? nerrf_ring_prod_corruption(p) : "full");
		fill_payload(w, 100, 1000000000 + n);
		nerrf_ring_commit(p);
		nerrf_ring_publish(p);
		size_t len;
		int err;
		const void *rd = nerrf_ring_peek(c, &len, &err);
		if (!rd)
			FAIL("fresh record %" PRIu64 " missing (err %d: %s)", n, err,
			     nerrf_ring_cons_corruption(c) ? nerrf_ring_cons_corruption(c) : "");
		if (len != 100 || !check_payload(rd, len, 1000000000 + n))
			FAIL("fresh record %" PRIu64 " damaged", n);
		nerrf_ring_release(c);
		nerrf_ring_consumer_publish(c);
	}

	nerrf_ring_cons_stats(c, &st);
	fprintf(stderr, "sent %" PRIu64 " got %" PRIu64 " corruptions %" PRIu64
		" resets %" PRIu64 " bytes %" PRIu64 "\n", sent, got, corruptions,
		st.corrupt_resets, st.corrupt_bytes);
	CHECK(corruptions > rounds / 100, "the scribbles were hardly ever noticed");
	CHECK(got > rounds / 10, "hardly any traffic got through between scribbles");
	munmap(page, 4096 + CAP);
	nerrf_ring_cons_close(c);
	nerrf_ring_prod_close(p);
	return 0;
}
