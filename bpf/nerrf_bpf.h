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
#define NERRF_MAX_PORTS 8
#define NERRF_NET_SOCKS_MAX 65536 /* TCP sockets followed from connect/accept to close */

/* net_families bits */
#define NERRF_NF_INET  (1u << 0)
#define NERRF_NF_INET6 (1u << 1)
#define NERRF_NF_UNIX  (1u << 2)
#define NERRF_WSUM_MAX 16384     /* open files with write access tracked for close summaries */
#define NERRF_SUMMARY_SAMPLE (NERRF_SAMPLE_MAX / 2) /* bytes a close summary samples at most */

/* tgid_filter values */
#define NERRF_TF_INCLUDE (1u << 0) /* trace this process (with --pid) */
#define NERRF_TF_EXCLUDE (1u << 1) /* never trace this process */
#define NERRF_TF_FOLLOW  (1u << 2) /* children inherit the entry at fork */

enum nerrf_comm_mode {
	NERRF_COMM_OFF = 0,
	NERRF_COMM_INCLUDE,
	NERRF_COMM_EXCLUDE,
};

/*
 * The filters the collector may change while the programs run (SIGHUP).
 * Two copies in the programs' .bss, which the collector keeps mapped: it
 * writes the copy not in force, then flips conf_slot, so a program sees one
 * whole configuration or the other, never a mix.
 */
struct nerrf_bconf {
	__u64 wakeup_ns;
	__u64 cgroup_val;
	__u32 sample_bytes;
	__u32 uid_val;
	__u8 all_writes;
	__u8 uid_on;
	__u8 comm_mode;
	__u8 _pad;
	__u32 ncomms;
	__u32 nprefixes;
	__u32 prefix_len[NERRF_MAX_PREFIXES]; /* without the NUL */
	char comms[NERRF_MAX_COMMS][NERRF_COMM_LEN];
	char prefixes[NERRF_MAX_PREFIXES][NERRF_PREFIX_MAX];
	__u32 net_families; /* NERRF_NF_* */
	__u32 nports;
	__u16 ports[NERRF_MAX_PORTS];
	__u8 net_loopback;
	__u8 _pad2[7];
};

/* One per CPU in the counters map; the collector sums them. */
struct nerrf_kcounters {
	__u64 seq;      /* emission attempts on this CPU; the next event's seq */
	__u64 filtered; /* events removed by filters */
	__u64 lost[NERRF_OP_MAX]; /* ringbuf output failures by op */
	__u64 last_wake; /* ts_ns of this CPU's last forced wakeup */
	__u64 last_ts;   /* ts_ns of this CPU's previous event */
	__u64 close_unattributed; /* see struct nerrf_kstats */
	__u64 close_lost;
};

#endif /* NERRF_BPF_H */
