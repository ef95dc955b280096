/* SPDX-License-Identifier: Apache-2.0 */
/* An encoder's Stats as the publisher relays it, every field set, for the exporter tests. */
#ifndef NERRF_FULL_STATS_H
#define NERRF_FULL_STATS_H

#include "trace.pb-c.h"

struct full_stats {
	Nerrf__Trace__Stats st;
	Nerrf__Trace__LossCounters loss;
	Google__Protobuf__Timestamp ts;
	Nerrf__Trace__LossCounters__KernelLostByCpuEntry cpu[3], *cpup[3];
	Nerrf__Trace__LossCounters__KernelLostBySyscallEntry sys[3], *sysp[3];
};

/* Distinct values, so a field exported under another's name shows. */
static inline void full_stats(struct full_stats *s)
{
	static const uint32_t cpus[] = {3, 0, 3}; /* 3 twice: the last one counts */
	static const uint64_t cpu_lost[] = {30, 10, 33};
	static const char *const sys[] = {"write", "openat", "renameat2"};

	nerrf__trace__stats__init(&s->st);
	nerrf__trace__loss_counters__init(&s->loss);
	google__protobuf__timestamp__init(&s->ts);
	for (int i = 0; i < 3; i++) {
		nerrf__trace__loss_counters__kernel_lost_by_cpu_entry__init(&s->cpu[i]);
		s->cpu[i].key = cpus[i];
		s->cpu[i].value = cpu_lost[i];
		s->cpup[i] = &s->cpu[i];
		nerrf__trace__loss_counters__kernel_lost_by_syscall_entry__init(&s->sys[i]);
		s->sys[i].key = (char *)sys[i];
		s->sys[i].value = 11 + (uint64_t)i;
		s->sysp[i] = &s->sys[i];
	}
	s->loss.kernel_emitted = 1001;
	s->loss.kernel_lost = 43;
	s->loss.kernel_filtered = 1003;
	s->loss.ring1_dropped = 1004;
	s->loss.malformed = 1005;
	s->loss.ring1_corrupt_resets = 1006;
	s->loss.ring1_corrupt_bytes = 1007;
	s->loss.encoder_events = 1008;
	s->loss.seq_gaps = 1009;
	s->loss.ring2_dropped = 1010;
	s->loss.publish_errors = 1011;
	s->loss.publisher_batches = 1012;
	s->loss.n_kernel_lost_by_cpu = 3;
	s->loss.kernel_lost_by_cpu = s->cpup;
	s->loss.n_kernel_lost_by_syscall = 3;
	s->loss.kernel_lost_by_syscall = s->sysp;
	s->loss.capture_gaps = 2;
	s->loss.capture_gap_ns = 1500000007;
	s->ts.seconds = 1700000000;
	s->ts.nanos = 250000000;
	s->st.ts = &s->ts;
	s->st.hostname = (char *)"node-1";
	s->st.boot_id = (char *)"b00t";
	s->st.loss = &s->loss;
	s->st.events_per_sec = 1234.5;
	s->st.batches_per_sec = 12.25;
	s->st.ring1_used = 4096;
	s->st.ring1_capacity = 1 << 24;
	s->st.ring2_used = 512;
	s->st.ring2_capacity = 1 << 23;
	s->st.subscribers = 3;
	s->st.publisher_seq = 777;
	s->st.stage_state = (char *)"collector=up encoder=up publisher=up";
	s->st.ring2_malformed = 2001;
	s->st.ring2_corrupt_resets = 2002;
	s->st.ring2_corrupt_bytes = 2003;
}

#endif
