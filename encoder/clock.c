/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel stamps events with CLOCK_MONOTONIC; subscribers want wall time.
 * The offset between the two moves (NTP slew, settimeofday), so the encoder
 * re-samples it every second rather than once at start.
 */
#include <stdint.h>
#include <time.h>

#include "encoder.h"

static uint64_t ns_of(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

uint64_t enc_mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return ns_of(&t);
}

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
		uint64_t a = ns_of(&r0), b = ns_of(&r1);
		if (b < a) /* the wall clock was stepped back between the reads */
			continue;
		if (b - a < best_gap) {
			best_gap = b - a;
			best_off = (int64_t)(a + (b - a) / 2) - (int64_t)ns_of(&m);
		}
	}
	return best_off;
}
