/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The two halves of the stress tests. Record n carries its own number, its
 * length (a function of n) and a checksum of its pattern bytes, so the
 * consumer can verify every byte and account for every gap.
 *
 * The producer alternates phases of 2^16 records: in odd phases it drops
 * (and counts) when the ring is full, in even ones it waits for space. The
 * last records are always waited for, so the consumer knows when it is done.
 */
#ifndef NERRF_RING_STRESS_H
#define NERRF_RING_STRESS_H

#include <inttypes.h>

#include "ring_test.h"

#define STRESS_PHASE_SHIFT 16
#define STRESS_TAIL 4096   /* final records sent lossless */
#define STRESS_BATCH 16    /* records per producer publish */
#define STRESS_RELEASE 64  /* records per consumer publish */

struct stress_rec {
	uint64_t n;
	uint32_t len;
	uint32_t csum;
	uint8_t pattern[];
};

static inline uint32_t stress_len(uint64_t n)
{
	uint64_t h = (n + 1) * 0x9e3779b97f4a7c15ULL;
	return (uint32_t)(sizeof(struct stress_rec) + (h >> 56)); /* 16..271 bytes */
}

static inline uint32_t stress_sum(const uint8_t *p, size_t len)
{
	uint32_t a = 1, b = 0;
	for (size_t i = 0; i < len; i++) {
		a += p[i];
		b += a;
	}
	return (b << 16) ^ a;
}

static inline void stress_fill(struct stress_rec *rec, uint64_t n)
{
	uint32_t len = stress_len(n);
	size_t plen = len - sizeof(*rec);
	uint64_t w = n * 0xff51afd7ed558ccdULL;

	rec->n = n;
	rec->len = len;
	for (size_t i = 0; i < plen; i += 8) {
		w ^= w >> 29;
		memcpy(rec->pattern + i, &w, plen - i < 8 ? plen - i : 8);
		w += 0x94d049bb133111ebULL;
	}
	rec->csum = stress_sum(rec->pattern, plen);
}

static inline bool stress_lossless(uint64_t n, uint64_t total)
{
	return ((n >> STRESS_PHASE_SHIFT) & 1) == 0 || n + STRESS_TAIL >= total;
}

/* Sends records first..total-1; returns how many it dropped. */
static inline uint64_t stress_produce(struct nerrf_ring_prod *p, uint64_t first, uint64_t total)
{
	uint64_t dropped = 0;
	unsigned int batch = 0;

	for (uint64_t n = first; n < total; n++) {
		uint32_t len = stress_len(n);
		void *w = nerrf_ring_reserve(p, len);
		if (!w) {
			nerrf_ring_publish(p);
			batch = 0;
			while (!(w = nerrf_ring_reserve(p, len)) && stress_lossless(n, total)) {
				int ret = nerrf_ring_wait_space(p, len, 10000);
				if (ret < 0 && ret != -EINTR)
					FAIL("wait_space for record %" PRIu64 ": %s", n,
					     strerror(-ret));
			}
			if (!w) {
				nerrf_ring_count_drop(p, len);
				dropped++;
				continue;
			}
		}
		stress_fill(w, n);
		nerrf_ring_commit(p);
		if (++batch == STRESS_BATCH) {
			nerrf_ring_publish(p);
			batch = 0;
		}
	}
	nerrf_ring_publish(p);
	return dropped;
}

struct stress_result {
	uint64_t delivered;
	uint64_t gaps;    /* record numbers never seen: must equal the counted drops */
	uint64_t next;    /* number expected next (one past the last seen) */
};

/* Checks one record against everything it claims; returns its number. */
static inline uint64_t stress_check(const void *p, size_t len)
{
	const struct stress_rec *rec = p;

	if (len < sizeof(*rec))
		FAIL("record of %zu bytes is shorter than its header", len);
	if (rec->len != len || len != stress_len(rec->n))
		FAIL("record %" PRIu64 ": length %zu, header says %u, expected %u", rec->n, len,
		     rec->len, stress_len(rec->n));
	if (stress_sum(rec->pattern, len - sizeof(*rec)) != rec->csum)
		FAIL("record %" PRIu64 ": checksum mismatch", rec->n);
	return rec->n;
}

/*
 * Consumes until record total-1 arrives. alive() says whether the producer
 * still runs (so a dead producer fails the test instead of hanging it).
 */
static inline void stress_consume(struct nerrf_ring_cons *c, uint64_t total,
				  struct stress_result *res,
				  bool (*alive)(void))
{
	unsigned int unpublished = 0;

	while (res->next < total) {
		size_t len;
		int err;
		const void *p = nerrf_ring_peek(c, &len, &err);
		if (err)
			FAIL("peek after record %" PRIu64 ": %s", res->next,
			     nerrf_ring_cons_corruption(c));
		if (!p) {
			int ret = nerrf_ring_wait(c, 1000);
			unpublished = 0;
			if (ret == -ETIMEDOUT && !alive())
				FAIL("producer gone after record %" PRIu64 " of %" PRIu64,
				     res->next, total);
			continue;
		}
		uint64_t n = stress_check(p, len);
		if (n < res->next)
			FAIL("sequence error: record %" PRIu64 " after %" PRIu64, n, res->next);
		res->gaps += n - res->next;
		res->next = n + 1;
		res->delivered++;
		nerrf_ring_release(c);
		if (++unpublished == STRESS_RELEASE) {
			nerrf_ring_consumer_publish(c);
			unpublished = 0;
		}
	}
	nerrf_ring_consumer_publish(c);
}

#endif /* NERRF_RING_STRESS_H */
