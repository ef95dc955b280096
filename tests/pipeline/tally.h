/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pipeline's loss counters as a subscriber sees them in Stats, kept as
 * plain numbers so that two moments can be compared and subtracted: what a
 * test's workload did between them is then checked against the growth.
 */
#ifndef NERRF_TALLY_H
#define NERRF_TALLY_H

#include "nerrf_ops.h"
#include "trace.pb-c.h"

#define TALLY_CPUS 1024

struct tally {
	uint64_t kernel_emitted, kernel_lost, ring1_dropped, malformed, encoder_events, seq_gaps,
		ring2_dropped;
	uint64_t by_op[NERRF_OP_MAX];
	uint64_t by_cpu[TALLY_CPUS];
};

static inline void tally_take(struct tally *t, const Nerrf__Trace__LossCounters *l)
{
	memset(t, 0, sizeof(*t));
	t->kernel_emitted = l->kernel_emitted;
	t->kernel_lost = l->kernel_lost;
	t->ring1_dropped = l->ring1_dropped;
	t->malformed = l->malformed;
	t->encoder_events = l->encoder_events;
	t->seq_gaps = l->seq_gaps;
	t->ring2_dropped = l->ring2_dropped;
	for (size_t i = 0; i < l->n_kernel_lost_by_syscall; i++) {
		unsigned op = nerrf_op_by_name(l->kernel_lost_by_syscall[i]->key);
		CHECK(op != NERRF_OP_NONE, "kernel_lost_by_syscall names no syscall: \"%s\"",
		      l->kernel_lost_by_syscall[i]->key);
		t->by_op[op] = l->kernel_lost_by_syscall[i]->value;
	}
	for (size_t i = 0; i < l->n_kernel_lost_by_cpu; i++) {
		uint32_t cpu = l->kernel_lost_by_cpu[i]->key;
		CHECK(cpu < TALLY_CPUS, "kernel_lost_by_cpu for cpu %u", cpu);
		t->by_cpu[cpu] = l->kernel_lost_by_cpu[i]->value;
	}
}

static inline bool tally_same(const struct tally *a, const struct tally *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/*
 * Whether the counters describe a pipeline at rest that has handed over all
 * it holds: every event the programs tried to emit is in a batch or counted
 * lost, and the subscriber has every batch (delivered: the events it got
 * from this encoder run).
 */
static inline bool tally_at_rest(const struct tally *t, uint64_t delivered)
{
	return t->encoder_events == delivered &&
	       t->kernel_emitted ==
		       t->encoder_events + t->kernel_lost + t->ring1_dropped + t->malformed;
}

/* Counters that stopped changing without coming to rest: says what does not add up. */
static inline __attribute__((noreturn)) void tally_unrest(const struct tally *t, uint64_t delivered,
							   const char *phase)
{
	uint64_t counted = t->encoder_events + t->kernel_lost + t->ring1_dropped + t->malformed;

	if (t->encoder_events != delivered)
		FAIL("%s: the encoder batched %llu events, the subscriber received %llu",
		     phase, (unsigned long long)t->encoder_events, (unsigned long long)delivered);
	FAIL("%s: kernel_emitted %llu, but batched %llu + kernel_lost %llu + ring1_dropped %llu "
	     "+ malformed %llu = %llu: %lld events neither delivered nor counted lost",
	     phase, (unsigned long long)t->kernel_emitted, (unsigned long long)t->encoder_events,
	     (unsigned long long)t->kernel_lost, (unsigned long long)t->ring1_dropped,
	     (unsigned long long)t->malformed, (unsigned long long)counted,
	     (long long)(t->kernel_emitted - counted));
}

#endif /* NERRF_TALLY_H */
