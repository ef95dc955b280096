/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-exporter internals: what it keeps of the stats topic, and how that
 * becomes the Prometheus text exposition format.
 */
#ifndef NERRF_EXPORTER_H
#define NERRF_EXPORTER_H

#include <stdint.h>
#include <stdio.h>

#include "trace.pb-c.h"

typedef Nerrf__Trace__Stats Stats;

struct exp_state {
	/*
	 * The encoder's last Stats (the one with loss counters) and the last
	 * of any kind: the publisher relays the encoder's and, while the
	 * encoder is silent, sends its own. Times are CLOCK_MONOTONIC ms.
	 */
	Stats *enc;
	uint64_t enc_ms;
	Stats *last;
	uint64_t last_ms;
	uint64_t stale_ms; /* a stage whose Stats are older than this is down */
	uint64_t received, undecodable;
};

/* Writes every metric in the text exposition format, version 0.0.4. */
void exp_render(FILE *f, const struct exp_state *s, uint64_t now_ms);

#endif /* NERRF_EXPORTER_H */
