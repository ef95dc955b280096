/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the collector and the BPF programs agree on besides the record ABI:
 * filter map values, limits of the read-only filter data, the counter layout.
 * Included from BPF (after vmlinux.h) and from the collector.
 */
#ifndef NERRF_BPF_H
#define NERRF_BPF_H

#include "nerrf_event.h"

#define NERRF_MAX_COMMS 8
#define NERRF_MAX_PREFIXES 4
#define NERRF_PREFIX_MAX 128     /* bytes of one path prefix, NUL included */
#define NERRF_EXEC_INFLIGHT_MAX 1024
#define NERRF_SAMPLE_MAX NERRF_DATA_MAX

/* tgid_filter values */
#define NERRF_TF_INCLUDE (1u << 0) /* trace this process (with --pid) */
#define NERRF_TF_EXCLUDE (1u << 1) /* never trace this process */
#define NERRF_TF_FOLLOW  (1u << 2) /* children inherit the entry at fork */

enum nerrf_comm_mode {
	NERRF_COMM_OFF = 0,
	NERRF_COMM_INCLUDE,
	NERRF_COMM_EXCLUDE,
};

/* One per CPU in the counters map; the collector sums them. */
struct nerrf_kcounters {
	__u64 seq;      /* emission attempts on this CPU; the next event's seq */
	__u64 filtered; /* events removed by filters */
	__u64 lost[NERRF_OP_MAX]; /* ringbuf output failures by op */
	__u64 last_wake; /* ts_ns of this CPU's last forced wakeup */
	__u64 last_ts;   /* ts_ns of this CPU's previous event */
};

#endif /* NERRF_BPF_H */
