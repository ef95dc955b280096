/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loss shows in seq_gaps even when the stats record that would have counted
 * it never came (the collector does not count a stats record it could not
 * place in a full ring #1; the kernel's counters then reach nobody until
 * the next one gets through). The test writes ring #1 in the collector's
 * place: one stats record saying nothing was lost, then events on two CPUs
 * with holes in their per-CPU sequence numbers, and no stats record after.
 * A subscriber of the real encoder and publisher sees seq_gaps equal to the
 * holes, exactly, while kernel_lost still says 0; a hole after a CPU's last
 * event shows as soon as that CPU's next event comes. Per CPU, the events
 * delivered plus the gaps make every sequence number up to the last.
 */
#include "e2e.h"
#include "nerrf_ops.h"

#define TGID 4712

static uint8_t rec[8192];

/* cpu 0: 0-9 and 15-19 (5 missing); cpu 1: 0-4 and 6-8 (1 missing). */
static const struct {
	uint32_t cpu;
	uint64_t from, to;
} runs[] = {{0, 0, 9}, {1, 0, 4}, {0, 15, 19}, {1, 6, 8}};

struct seen {
	uint64_t events, seq_gaps, kernel_lost, next[2];
	bool have_loss;
};

static void put_event(struct nerrf_ring_prod *r1, uint32_t cpu, uint64_t seq)
{
	char path[64];
	snprintf(path, sizeof(path), "/seq/%u/%llu", cpu, (unsigned long long)seq);
	CHECK(pt_put(r1, rec, e2e_event(rec, NERRF_OP_OPENAT, cpu, seq, TGID, path)) == 0);
}

/* Reads until want events arrived and the counters say want_gaps. */
static void expect(struct e2e *e, struct seen *s, uint64_t want, uint64_t want_gaps)
{
	uint64_t end = nerrf_mono_ms() + 15000;

	while ((s->events < want || !s->have_loss || s->seq_gaps != want_gaps) &&
	       nerrf_mono_ms() < end) {
		nng_msg *m = pt_recv(e->sub, 200);
		if (!m)
			continue;
		const Nerrf__Trace__LossCounters *l = NULL;
		Nerrf__Trace__EventBatch *b = NULL;
		Nerrf__Trace__Stats *st = NULL;
		if (memcmp(nng_msg_body(m), NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0) {
			b = pt_decode_batch(m);
			l = b->loss;
			for (size_t i = 0; i < b->n_events; i++) {
				const Nerrf__Trace__Event *ev = b->events[i];
				CHECK(ev->pid == TGID && ev->cpu < 2);
				CHECK(ev->seq >= s->next[ev->cpu], "cpu %u seq %llu after %llu",
				      ev->cpu, (unsigned long long)ev->seq,
				      (unsigned long long)s->next[ev->cpu]);
				s->next[ev->cpu] = ev->seq + 1;
				s->events++;
			}
		} else {
			st = pt_decode_stats(m);
			l = st->loss;
		}
		if (l) {
			s->seq_gaps = l->seq_gaps;
			s->kernel_lost = l->kernel_lost;
			s->have_loss = true;
		}
		if (b)
			nerrf__trace__event_batch__free_unpacked(b, NULL);
		if (st)
			nerrf__trace__stats__free_unpacked(st, NULL);
		nng_msg_free(m);
	}
	fprintf(stderr, "%llu events, seq_gaps %llu, kernel_lost %llu\n",
		(unsigned long long)s->events, (unsigned long long)s->seq_gaps,
		(unsigned long long)s->kernel_lost);
	CHECK_EQ_U64(s->events, want);
	CHECK_EQ_U64(s->seq_gaps, want_gaps);
	CHECK_EQ_U64(s->kernel_lost, 0);
	CHECK_EQ_U64(s->next[0] + s->next[1], s->events + s->seq_gaps);
}

int main(void)
{
	struct e2e e = {0};
	struct e2e_stages st;
	struct seen s = {0};

	e2e_require("the seq gap test", false);
	e2e_dirs(&e, "e2e-seq-gaps");
	e2e_without_collector(&e, &st, 1 << 20, NULL);

	/* A collector's stats record that knows of no loss, and the last one to get through. */
	struct nerrf_kstats *ks = (struct nerrf_kstats *)rec;
	size_t len = sizeof(*ks) + 2 * sizeof(ks->lost_by_cpu[0]);
	memset(rec, 0, len);
	ks->hdr.type = NERRF_REC_STATS;
	ks->hdr.size = (uint32_t)len;
	ks->nr_cpus = 2;
	CHECK(pt_put(st.r1, rec, len) == 0);

	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++)
		for (uint64_t seq = runs[r].from; seq <= runs[r].to; seq++)
			put_event(st.r1, runs[r].cpu, seq);
	expect(&e, &s, 23, 6);

	/* cpu 1 lost 9-11 after its last event: the next one shows it. */
	put_event(st.r1, 1, 12);
	expect(&e, &s, 24, 9);

	e2e_without_collector_finish(&e, &st);
	return 0;
}
