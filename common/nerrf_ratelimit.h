/* SPDX-License-Identifier: Apache-2.0 */
/*
 * At most one log line a second for a condition a peer can repeat at will
 * (a corrupt ring, a refused connection): the first one at once, then one a
 * second saying how many were held back.
 */
#ifndef NERRF_RATELIMIT_H
#define NERRF_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct nerrf_ratelimit {
	uint64_t next_ns;
	uint64_t held;
};

/* True if a line may go out now; *held gets how many were held back before it. */
static inline bool nerrf_ratelimit(struct nerrf_ratelimit *rl, uint64_t now_ns, uint64_t *held)
{
	if (now_ns < rl->next_ns) {
		rl->held++;
		return false;
	}
	*held = rl->held;
	rl->held = 0;
	rl->next_ns = now_ns + 1000000000ull;
	return true;
}

#endif /* NERRF_RATELIMIT_H */
