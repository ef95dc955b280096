/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Malformed records in ring #1 are counted in LossCounters.malformed and
 * skipped; the valid records around them still arrive. Also: the collector's
 * stats record reaches the loss counters, sequence gaps are counted, and
 * without --raw-sample no sample bytes are sent.
 */
#include "enc_run.h"

static _Alignas(8) uint8_t buf[REC_BUF];

static struct nerrf_event *ev(void)
{
	return (struct nerrf_event *)buf;
}

static size_t valid(unsigned seq, const char *path)
{
	size_t n = build_event(buf, NERRF_OP_WRITE, path, NULL, NULL, "abcd", 4);

	ev()->seq = seq;
	ev()->ts_ns = nerrf_mono_ns();
	return n;
}

int main(int argc, char **argv)
{
	struct enc_run t;
	size_t n;
	unsigned bad = 0;

	CHECK(argc == 2, "usage: malformed_test NERRF_ENCODER");
	enc_start(&t, "malformed", argv[1], 1 << 20, NULL);

	put_rec(&t, buf, valid(1, "/ok/1"));

	n = valid(2, "/bad");
	ev()->hdr.type = 99; /* unknown type */
	put_rec(&t, buf, n), bad++;
	n = valid(2, "/bad");
	put_rec(&t, buf, n - 1), bad++; /* header size says one byte more */
	n = valid(2, "/bad");
	ev()->strings[ev()->path_len - 1] = 'x'; /* path not terminated */
	put_rec(&t, buf, n), bad++;
	n = valid(2, "/bad");
	ev()->path_len = 200; /* string runs past the record */
	put_rec(&t, buf, n), bad++;
	n = valid(2, "/bad");
	ev()->op = NERRF_OP_MAX + 3; /* op out of range */
	put_rec(&t, buf, n), bad++;
	n = valid(2, "/bad");
	ev()->hdr.size = 24; /* too small for an event */
	put_rec(&t, buf, 24), bad++;
	put_rec(&t, "\x01\x00", 2), bad++; /* shorter than a header */

	put_rec(&t, buf, valid(2, "/ok/2"));

	/* the collector's counters: 5 writes lost on CPU 1, 3 ring #1 drops */
	struct nerrf_kstats *ks = (struct nerrf_kstats *)buf;
	n = sizeof(*ks) + 2 * sizeof(ks->lost_by_cpu[0]);
	memset(buf, 0, n);
	ks->hdr.type = NERRF_REC_STATS;
	ks->hdr.size = (uint32_t)n;
	ks->kernel_emitted = 1000;
	ks->kernel_filtered = 7;
	ks->ring1_dropped = 3;
	ks->kernel_lost[NERRF_OP_WRITE] = 5;
	ks->nr_cpus = 2;
	ks->lost_by_cpu[1] = 5;
	put_rec(&t, buf, n);

	/* seq 3 and 4 never came: a gap of two */
	put_rec(&t, buf, valid(5, "/ok/3"));

	unsigned have = 0;
	Nerrf__Trace__EventBatch *b = NULL;
	while (have < 3) {
		if (b)
			nerrf__trace__event_batch__free_unpacked(b, NULL);
		b = next_batch(&t, 10000);
		CHECK(b != NULL, "only %u valid events arrived", have);
		for (size_t i = 0; i < b->n_events; i++) {
			char want[16];
			Nerrf__Trace__Event *e = b->events[i];
			snprintf(want, sizeof(want), "/ok/%u", ++have);
			CHECK_STR(e->path, want);
			CHECK_STR(e->syscall, "write");
			CHECK(e->sample_len == 4 && e->sample.len == 0,
			      "sample sent without --raw-sample");
		}
	}
	/* the batch holding /ok/3 was made after every record before it */
	Nerrf__Trace__LossCounters *l = b->loss;
	CHECK_EQ_U64(l->malformed, bad);
	CHECK_EQ_U64(l->encoder_events, 3);
	CHECK_EQ_U64(l->seq_gaps, 2);
	CHECK_EQ_U64(l->kernel_emitted, 1000);
	CHECK_EQ_U64(l->kernel_filtered, 7);
	CHECK_EQ_U64(l->kernel_lost, 5);
	CHECK_EQ_U64(l->ring1_dropped, 3);
	CHECK_EQ_U64(l->n_kernel_lost_by_syscall, 1);
	CHECK_STR(l->kernel_lost_by_syscall[0]->key, "write");
	CHECK_EQ_U64(l->kernel_lost_by_syscall[0]->value, 5);
	CHECK_EQ_U64(l->n_kernel_lost_by_cpu, 1);
	CHECK_EQ_U64(l->kernel_lost_by_cpu[0]->key, 1);
	CHECK_EQ_U64(l->kernel_lost_by_cpu[0]->value, 5);
	nerrf__trace__event_batch__free_unpacked(b, NULL);

	/* still alive and well: exits 0 on SIGTERM */
	enc_stop(&t);
	return 0;
}
