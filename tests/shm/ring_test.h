/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the ring tests: memfd rings and a cheap PRNG. */
#ifndef NERRF_RING_TEST_H
#define NERRF_RING_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "nerrf_ring.h"

static inline uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Fills p with bytes derived from the record number, so content errors show. */
static inline void fill_payload(uint8_t *p, size_t len, uint64_t n)
{
	uint64_t s = n * 0x9e3779b97f4a7c15ULL + 1;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(xorshift(&s) >> 24);
}

static inline int check_payload(const uint8_t *p, size_t len, uint64_t n)
{
	uint64_t s = n * 0x9e3779b97f4a7c15ULL + 1;
	for (size_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(xorshift(&s) >> 24))
			return 0;
	return 1;
}

/* A fresh ring, made as the stages make theirs: a sealed memfd. */
static inline struct nerrf_ring_prod *open_prod(size_t cap)
{
	struct nerrf_ring_prod *r;
	const char *msg = NULL;
	int ret = nerrf_ring_create("test-ring", cap, &r, &msg);
	if (ret < 0)
		FAIL("create(%zu): %s (%s)", cap, strerror(-ret), msg ? msg : "");
	return r;
}

/* A consumer on the producer's memfd, as the hand-over gives it one. */
static inline struct nerrf_ring_cons *open_cons(const struct nerrf_ring_prod *p)
{
	struct nerrf_ring_cons *r;
	const char *msg = NULL;
	int fd = dup(nerrf_ring_fd(p));
	int ret = fd < 0 ? -errno : nerrf_ring_attach(fd, &r, &msg);
	if (ret < 0)
		FAIL("attach: %s (%s)", nerrf_ring_strerror(ret), msg ? msg : "");
	return r;
}

#endif /* NERRF_RING_TEST_H */
