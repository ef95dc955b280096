/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Adaptive batching: a lone event is sent as soon as ring #1 runs dry; a
 * burst gives batches cut at --max-batch and --max-batch-bytes; a backlog
 * that never lets ring #1 run dry is still cut at --latency-us.
 */
#include "enc_run.h"

static _Alignas(8) uint8_t buf[REC_BUF];

/* Writes n events while the encoder is stopped, so they wait in ring #1 together. */
static void burst(struct enc_run *t, unsigned n, unsigned path_pad)
{
	char prefix[1100];

	memset(prefix, 'p', path_pad);
	prefix[0] = '/';
	prefix[path_pad] = '\0';
	CHECK(kill(t->pid, SIGSTOP) == 0);
	for (unsigned i = 0; i < n; i++)
		put_rec(t, buf, numbered_event(buf, prefix, i));
	CHECK(kill(t->pid, SIGCONT) == 0);
}

/* Reads batches until n events came; returns the batch count, sizes in sizes[]. */
static unsigned collect(struct enc_run *t, unsigned n, unsigned *sizes, size_t *max_bytes)
{
	unsigned got = 0, nb = 0;
	uint64_t seq = 0;

	*max_bytes = 0;
	while (got < n) {
		Nerrf__Trace__EventBatch *b = next_batch(t, 20000);
		CHECK(b != NULL, "%u of %u events arrived", got, n);
		CHECK(seq == 0 || b->batch_seq == seq + 1, "batch %llu after %llu",
		      (unsigned long long)b->batch_seq, (unsigned long long)seq);
		seq = b->batch_seq;
		for (size_t i = 0; i < b->n_events; i++)
			CHECK_EQ_U64(b->events[i]->seq, got + i + 1);
		got += (unsigned)b->n_events;
		sizes[nb++] = (unsigned)b->n_events;
		size_t packed = nerrf__trace__event_batch__get_packed_size(b);
		if (packed > *max_bytes)
			*max_bytes = packed;
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
	CHECK_EQ_U64(got, n);
	return nb;
}

static unsigned sizes[4096];

static void lone_events(const char *encoder)
{
	struct enc_run t;

	enc_start(&t, "batch-lone", encoder, 1 << 20, NULL);
	for (unsigned i = 0; i < 10; i++) {
		put_rec(&t, buf, numbered_event(buf, "/lone", i));
		/* nothing else arrives: ring #1 running dry must send it */
		Nerrf__Trace__EventBatch *b = next_batch(&t, 5000);
		CHECK(b != NULL, "a lone event was not sent");
		CHECK_EQ_U64(b->n_events, 1);
		CHECK_EQ_U64(b->batch_seq, i + 1);
		CHECK_EQ_U64(b->events[0]->seq, i + 1);
		nerrf__trace__event_batch__free_unpacked(b, NULL);
		sleep_ms(5);
	}
	enc_stop(&t);
}

static void max_events(const char *encoder)
{
	const char *extra[] = {"--max-batch", "500", "--latency-us", "10000000", NULL};
	struct enc_run t;
	size_t max_bytes;

	enc_start(&t, "batch-count", encoder, 4 << 20, extra);
	burst(&t, 2000, 8);
	unsigned nb = collect(&t, 2000, sizes, &max_bytes);
	CHECK_EQ_U64(nb, 4);
	for (unsigned i = 0; i < nb; i++)
		CHECK_EQ_U64(sizes[i], 500);
	enc_stop(&t);
}

static void max_bytes(const char *encoder)
{
	const char *extra[] = {"--max-batch-bytes", "16K", "--latency-us", "10000000", NULL};
	struct enc_run t;
	size_t biggest;

	/*
	 * 900-byte paths pack to ~992 bytes an event, give or take the varint
	 * width of the timestamps: 16 KiB is 16.5 of them, far from a whole
	 * number, so every batch but the last is cut at the 17th event.
	 */
	enc_start(&t, "batch-bytes", encoder, 4 << 20, extra);
	burst(&t, 300, 900);
	unsigned nb = collect(&t, 300, sizes, &biggest);
	CHECK(nb >= 300 / 17, "%u batches", nb);
	for (unsigned i = 0; i + 1 < nb; i++)
		CHECK_EQ_U64(sizes[i], 17);
	/* cut once the limit is reached: at most one event and the metadata over */
	CHECK(biggest <= (16 << 10) + 1200 + 512, "a batch of %zu bytes", biggest);
	enc_stop(&t);
}

static void latency(const char *encoder, const char *latency_us, unsigned *nb)
{
	const char *extra[] = {"--max-batch", "65536", "--latency-us", latency_us, NULL};
	struct enc_run t;
	size_t biggest;

	enc_start(&t, "batch-latency", encoder, 4 << 20, extra);
	burst(&t, 2000, 8);
	*nb = collect(&t, 2000, sizes, &biggest);
	enc_stop(&t);
}

int main(int argc, char **argv)
{
	unsigned slow, fast;

	CHECK(argc == 2, "usage: batching_test NERRF_ENCODER");
	lone_events(argv[1]);
	max_events(argv[1]);
	max_bytes(argv[1]);
	/* 2000 small events fit one batch by count and bytes: only the bound cuts them */
	latency(argv[1], "10000000", &slow);
	CHECK_EQ_U64(slow, 1);
	latency(argv[1], "10", &fast);
	CHECK(fast >= 2, "a 10 us bound cut 2000 queued events into %u batch(es)", fast);
	return 0;
}
