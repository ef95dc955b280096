/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel stamps events with CLOCK_MONOTONIC; subscribers want wall time.
 * The offset between the two moves (NTP slew, settimeofday), so the encoder
 * re-samples it every second rather than once at start.
 */
#include <stdint.h>
#include <time.h>

#include "encoder.h"

int64_t enc_clock_offset(void)
{
	int64_t best_off = 0;
	uint64_t best_gap = UINT64_MAX;

	/*
	 * Bracket one monotonic read between two realtime reads; the pair with
	 * the smallest bracket was least disturbed by preemption.
	 */
	for (int i = 0; i < 5; i++) {
		struct timespec r0, m, r1;

		clock_gettime(CLOCK_REALTIME, &r0);
		clock_gettime(CLOCK_MONOTONIC, &m);
		clock_gettime(CLOCK_REALTIME, &r1);
		uint64_t a = nerrf_ts_ns(&r0), b = nerrf_ts_ns(&r1);
		if (b < a) /* the wall clock was stepped back between the reads */
			continue;
		if (b - a < best_gap) {
			best_gap = b - a;
			/* Unsigned: wraps where a signed difference would overflow. */
			best_off = (int64_t)(a + (b - a) / 2 - nerrf_ts_ns(&m));
		}
	}
	return best_off;
}

uint64_t enc_wall_ns(uint64_t mono_ns, int64_t off)
{
	/* -off without overflow, INT64_MIN included. */
	uint64_t back = off < 0 ? 0 - (uint64_t)off : 0;

	if (off >= 0)
		return mono_ns > UINT64_MAX - (uint64_t)off ? UINT64_MAX : mono_ns + (uint64_t)off;
	return mono_ns > back ? mono_ns - back : 0;
}
