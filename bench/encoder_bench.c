/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Encoder cost per event: replays synthetic records shaped like a ransomware
 * burst (openat with a path, write with a 64-byte sample, rename to .locked)
 * through the encoder's own take -> convert -> pack -> batch code, single
 * process, no rings. Reports the median ns/event of several runs for each
 * batch size, so the per-batch overhead is visible next to the per-event one.
 *
 *   encoder_bench [--events N] [--runs R] [--max-batch N] [--raw-sample]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "encoder.h"
#include "lib/records.h"
#include "nerrf_time.h"

#define NREC 4096

static uint8_t *recs[NREC];
static size_t lens[NREC];

/* The tests' record builder, then what this workload's process looks like. */
static size_t make(uint8_t *buf, unsigned op, const char *p1, const char *p2, const uint8_t *data,
		   unsigned dlen, uint64_t seq, uint64_t cgid)
{
	struct nerrf_event *ev = (struct nerrf_event *)buf;
	size_t n = build_event(buf, op, p1, p2, NULL, data, dlen);

	ev->cpu = (uint32_t)(seq & 1);
	ev->seq = seq >> 1;
	ev->ts_ns = nerrf_mono_ns();
	ev->tgid = 31337;
	ev->tid = 31338;
	ev->ppid = 1200;
	ev->cgroup_id = cgid;
	memcpy(ev->comm, "python3", 8);
	ev->fd = 5;
	ev->ino = 1000000 + seq;
	ev->dev = (259u << 20) | 2;
	return n;
}

/* openat, write, write, rename: what encrypting one file in place looks like. */
static void build(void)
{
	struct stat st;
	uint64_t cgid = stat("/sys/fs/cgroup", &st) == 0 ? st.st_ino : 0;
	uint8_t sample[64];
	char p1[256], p2[300];
	uint32_t x = 2463534242u;

	for (unsigned i = 0; i < NREC; i++) {
		unsigned kind = i % 4;
		for (unsigned j = 0; j < sizeof(sample); j++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			sample[j] = (uint8_t)x;
		}
		snprintf(p1, sizeof(p1), "/home/alice/Documents/projects/q%u/report-%04u.docx",
			 i % 4 + 1, i / 4);
		snprintf(p2, sizeof(p2), "%s.locked", p1);
		recs[i] = malloc(NERRF_EVENT_MAX);
		if (!recs[i])
			exit(1);
		if (kind == 0)
			lens[i] = make(recs[i], NERRF_OP_OPENAT, p1, NULL, NULL, 0, i, cgid);
		else if (kind == 3)
			lens[i] = make(recs[i], NERRF_OP_RENAMEAT2, p1, p2, NULL, 0, i, cgid);
		else
			lens[i] = make(recs[i], NERRF_OP_WRITE, p1, NULL, sample, 64, i, cgid);
		if (kind == 0)
			((struct nerrf_event *)recs[i])->arg_flags = 01101;
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One run: ns per event, with the batch bytes/events it produced. */
static double run(const struct enc_opts *o, unsigned events, uint8_t *out, double *ev_per_batch,
		  double *bytes_per_batch)
{
	struct encoder e;
	char err[256];
	uint64_t batches = 0, bytes = 0, now = nerrf_mono_ns();

	if (enc_init(&e, o, err, sizeof(err)) < 0) {
		fprintf(stderr, "encoder_bench: %s\n", err);
		exit(1);
	}
	uint64_t packed = 0, last_n = 0, last_size = 0;
	uint64_t t0 = nerrf_mono_ns();
	for (unsigned i = 0; i < events; i++) {
		/* the encoder reads the clock every 16 records, as nerrf-encoder does */
		if ((i & 15) == 0)
			now = nerrf_mono_ns();
		if (enc_take(&e, recs[i % NREC], lens[i % NREC], now) || i + 1 == events) {
			size_t n = enc_batch_size(&e);
			last_n = e.n;
			packed += e.n;
			enc_batch_pack(&e, out, n);
			batches++;
			bytes += n;
			last_size = n;
		}
	}
	uint64_t t1 = nerrf_mono_ns();
	if (e.loss.malformed) {
		fprintf(stderr, "encoder_bench: %llu records malformed: the generator is broken\n",
			(unsigned long long)e.loss.malformed);
		exit(1);
	}
	/* A time per event means nothing for events that did not come out. */
	Nerrf__Trace__EventBatch *b = nerrf__trace__event_batch__unpack(NULL, last_size, out);
	if (packed != events || e.loss.encoder_events != events || !b || b->n_events != last_n) {
		fprintf(stderr, "encoder_bench: %u records in, %llu events batched (encoder_events "
			"%llu), last batch %s with %llu of %llu events: the encoder lost records\n",
			events, (unsigned long long)packed, (unsigned long long)e.loss.encoder_events,
			b ? "decodes" : "does not decode", b ? (unsigned long long)b->n_events : 0ull,
			(unsigned long long)last_n);
		exit(1);
	}
	nerrf__trace__event_batch__free_unpacked(b, NULL);
	enc_fini(&e);
	*ev_per_batch = (double)events / (double)batches;
	*bytes_per_batch = (double)bytes / (double)batches;
	return (double)(t1 - t0) / events;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"events", required_argument, NULL, 'e'},
		{"runs", required_argument, NULL, 'r'},
		{"max-batch", required_argument, NULL, 'b'},
		{"raw-sample", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned events = 1000000, runs = 7, only_batch = 0;
	static const unsigned batch_sizes[] = {1, 16, 64, 256, 1024, 4096};
	struct enc_opts o = {
		.max_batch_bytes = ENC_DEFAULT_MAX_BATCH_BYTES,
		.latency_us = ENC_DEFAULT_LATENCY_US,
		.hostname = "bench-host",
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e': events = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'r': runs = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'b': only_batch = (unsigned)strtoul(optarg, NULL, 0); break;
		case 's': o.raw_sample = true; break;
		default:
			fprintf(stderr, "usage: encoder_bench [--events N] [--runs R] "
				"[--max-batch N] [--raw-sample]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (!events || !runs || runs > 101) {
		fprintf(stderr, "encoder_bench: --events and --runs (1..101) must be positive\n");
		return 2;
	}
	build();
	uint8_t *out = malloc(o.max_batch_bytes + 2 * ENC_EVENT_WIRE_MAX + (64 << 10));
	if (!out)
		return 1;

	printf("encoder_bench: %u events x %u runs, openat/write(64 B sample)x2/rename mix%s\n",
	       events, runs, o.raw_sample ? ", --raw-sample" : "");
	printf("%10s %14s %14s %16s %16s\n", "max-batch", "median ns/ev", "min ns/ev",
	       "events/batch", "bytes/batch");
	for (size_t b = 0; b < sizeof(batch_sizes) / sizeof(batch_sizes[0]); b++) {
		double ns[101], epb = 0, bpb = 0;

		o.max_batch = only_batch ? only_batch : batch_sizes[b];
		for (unsigned r = 0; r < runs; r++)
			ns[r] = run(&o, events, out, &epb, &bpb);
		qsort(ns, runs, sizeof(ns[0]), cmp);
		printf("%10u %14.1f %14.1f %16.1f %16.0f\n", o.max_batch, ns[runs / 2], ns[0], epb,
		       bpb);
		if (only_batch)
			break;
	}
	free(out);
	for (unsigned i = 0; i < NREC; i++)
		free(recs[i]);
	return 0;
}
