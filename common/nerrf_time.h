/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one clock reading every stage, test and bench uses. Inline: the ring's
 * hot path calls it while it spins, and clock_gettime is a vDSO call.
 */
#ifndef NERRF_TIME_H
#define NERRF_TIME_H

#include <stdint.h>
#include <time.h>

static inline uint64_t nerrf_ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/* clk is CLOCK_MONOTONIC for intervals, CLOCK_REALTIME for what users read. */
static inline uint64_t nerrf_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return nerrf_ts_ns(&ts);
}

static inline uint64_t nerrf_now_ms(clockid_t clk)
{
	return nerrf_now_ns(clk) / 1000000;
}

static inline uint64_t nerrf_mono_ns(void)
{
	return nerrf_now_ns(CLOCK_MONOTONIC);
}

static inline uint64_t nerrf_mono_ms(void)
{
	return nerrf_now_ms(CLOCK_MONOTONIC);
}

#endif
