/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the ring tests: scratch ring paths and a cheap PRNG. */
#ifndef NERRF_RING_TEST_H
#define NERRF_RING_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "nerrf_ring.h"

static char ring_test_dir[256];
static char ring_test_path[300];

static void ring_test_cleanup(void)
{
	unlink(ring_test_path);
	rmdir(ring_test_dir);
}

/* A fresh ring path in a scratch directory, removed at exit. */
static inline const char *ring_test_file(const char *name)
{
	snprintf(ring_test_dir, sizeof(ring_test_dir), "%s", test_tmpdir(name));
	snprintf(ring_test_path, sizeof(ring_test_path), "%s/ring", ring_test_dir);
	atexit(ring_test_cleanup);
	return ring_test_path;
}

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

static inline int scale_sanitize(void)
{
	const char *s = getenv("NERRF_TEST_SCALE");
	return s && strcmp(s, "sanitize") == 0;
}

static inline struct nerrf_ring *open_prod(const char *path, size_t cap)
{
	struct nerrf_ring *r;
	const char *msg = NULL;
	int ret = nerrf_ring_open_producer(path, cap, 0600, &r, &msg);
	if (ret < 0)
		FAIL("open_producer(%s, %zu): %s (%s)", path, cap, strerror(-ret), msg ? msg : "");
	return r;
}

static inline struct nerrf_ring *open_cons(const char *path)
{
	struct nerrf_ring *r;
	const char *msg = NULL;
	int ret = nerrf_ring_open_consumer(path, &r, &msg);
	if (ret < 0)
		FAIL("open_consumer(%s): %d (%s)", path, ret, msg ? msg : "");
	return r;
}

#endif /* NERRF_RING_TEST_H */
