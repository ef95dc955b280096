/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-encoder: ring #1 (raw records) -> protobuf batches -> ring #2.
 *
 * Unprivileged. A batch is flushed when ring #1 runs dry, when it is full,
 * or when its first event has waited --latency-us. Ring #1's consumer
 * position is published only after the batch holding its records is in ring
 * #2, so a crashed or stopped encoder leaves unencoded records in ring #1 for
 * the next run (a crash between the two can repeat a batch, never lose one).
 * When ring #2 is full the encoder waits and stops draining ring #1: the
 * collector then counts the drop, where the loss is cheapest.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encoder.h"
#include "nerrf_conf.h"
#include "nerrf_ring.h"
#include "nerrf_wire.h"

#define NS_PER_SEC 1000000000ull
#define TICK_NS NS_PER_SEC
/* Room in a ring #2 record for the batch metadata (loss counters and their maps). */
#define META_SLACK (8u << 10)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct run {
	struct encoder e;
	struct nerrf_ring *r1, *r2;
	uint64_t next_tick;
	uint64_t last_tick, last_events, last_batches;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nerrf-encoder [OPTION]...\n"
		"Reads raw event records from ring #1, writes protobuf EventBatch and Stats\n"
		"messages to ring #2. Runs unprivileged; needs read-write access to the rundir.\n"
		"\n"
		"  --rundir DIR            rings live here (default " NERRF_DEFAULT_RUNDIR ")\n"
		"  --ring2-size BYTES      ring #2 data area, a power of two, K/M/G suffix\n"
		"                          (default %uM)\n"
		"  --max-batch N           events per batch at most (default %u)\n"
		"  --max-batch-bytes BYTES packed events per batch at most (default %uK)\n"
		"  --latency-us US         flush a batch whose first event waited this long\n"
		"                          while ring #1 kept the encoder busy (default %u)\n"
		"  --raw-sample            also send the sampled write bytes (Event.sample)\n"
		"  --hostname NAME         host name put in every batch (default: gethostname)\n"
		"  --cgroup-root DIR       cgroup v2 mount to name containers (default /sys/fs/cgroup)\n"
		"  --config FILE           configuration file, section [encoder]\n"
		"                          (default " NERRF_CONF_DEFAULT ")\n"
		"  --verbose               log every malformed record and each ring attach\n"
		"  --help                  this text\n",
		ENC_DEFAULT_RING2_SIZE >> 20, ENC_DEFAULT_MAX_BATCH, ENC_DEFAULT_MAX_BATCH_BYTES >> 10,
		ENC_DEFAULT_LATENCY_US);
}

static int parse_size(const char *s, const char *opt, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (errno || end == s || *end || *s == '-' || v < min || v > max) {
		fprintf(stderr, "nerrf-encoder: --%s %s: want a number from %llu to %llu "
			"(K/M/G suffixes allowed)\n", opt, s, (unsigned long long)min,
			(unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct enc_opts *o)
{
	static const struct option opts[] = {
		{"rundir", required_argument, NULL, 'd'},
		{"ring2-size", required_argument, NULL, 's'},
		{"max-batch", required_argument, NULL, 'n'},
		{"max-batch-bytes", required_argument, NULL, 'b'},
		{"latency-us", required_argument, NULL, 'l'},
		{"raw-sample", no_argument, NULL, 'r'},
		{"hostname", required_argument, NULL, 'H'},
		{"cgroup-root", required_argument, NULL, 'g'},
		{"config", required_argument, NULL, 'c'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct nerrf_conf_argv conf;
	char err[512];
	uint64_t v;
	int c;

	if (nerrf_conf_load(argc, argv, "encoder", opts, false, &conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "nerrf-encoder: %s\n", err);
		return -1;
	}
	*o = (struct enc_opts){
		.rundir = NERRF_DEFAULT_RUNDIR,
		.ring2_size = ENC_DEFAULT_RING2_SIZE,
		.max_batch = ENC_DEFAULT_MAX_BATCH,
		.max_batch_bytes = ENC_DEFAULT_MAX_BATCH_BYTES,
		.latency_us = ENC_DEFAULT_LATENCY_US,
	};
	while ((c = getopt_long(conf.argc, conf.argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o->rundir = optarg; break;
		case 's':
			if (parse_size(optarg, "ring2-size", 64 << 10, 1u << 30, &v) < 0)
				return -1;
			if (v & (v - 1)) {
				fprintf(stderr, "nerrf-encoder: --ring2-size %s is not a power of "
					"two; try 8M\n", optarg);
				return -1;
			}
			o->ring2_size = v;
			break;
		case 'n':
			if (parse_size(optarg, "max-batch", 1, 65536, &v) < 0)
				return -1;
			o->max_batch = (unsigned)v;
			break;
		case 'b':
			if (parse_size(optarg, "max-batch-bytes", 16 << 10, 64u << 20, &v) < 0)
				return -1;
			o->max_batch_bytes = v;
			break;
		case 'l':
			if (parse_size(optarg, "latency-us", 10, 10000000, &v) < 0)
				return -1;
			o->latency_us = (unsigned)v;
			break;
		case 'r': o->raw_sample = true; break;
		case 'H': o->hostname = optarg; break;
		case 'g': o->cgroup_root = optarg; break;
		case 'c': break; /* consumed by nerrf_conf_load */
		case 'v': o->verbose++; break;
		case 'h': usage(stdout); exit(0);
		default:
			fprintf(stderr, "nerrf-encoder: see --help for the options\n");
			return -1;
		}
	}
	if (optind < conf.argc) {
		fprintf(stderr, "nerrf-encoder: unexpected argument '%s'; see --help\n",
			conf.argv[optind]);
		return -1;
	}
	/* A record holds a quarter of the ring at most: a full batch must fit. */
	if (o->ring2_size / 4 < sizeof(struct nerrf_r2_hdr) + o->max_batch_bytes +
				  ENC_EVENT_WIRE_MAX + META_SLACK) {
		fprintf(stderr, "nerrf-encoder: --ring2-size %zu is too small for "
			"--max-batch-bytes %zu: a ring record is at most a quarter of the ring; "
			"raise --ring2-size or lower --max-batch-bytes\n",
			o->ring2_size, o->max_batch_bytes);
		return -1;
	}
	return 0;
}

static int open_ring1(struct run *R, const char *path)
{
	const char *msg = NULL;
	unsigned delay_ms = 10;
	bool told = false;

	/* The collector may start later or be restarting: wait for it. */
	for (;;) {
		int rc = nerrf_ring_open_consumer(path, &R->r1, &msg);
		if (rc == 0)
			return 0;
		if (rc != -EAGAIN) {
			fprintf(stderr, "nerrf-encoder: cannot attach to ring #1 %s: %s (%s)\n",
				path, msg ? msg : strerror(-rc), rc < -1000 ? "ring error" :
				strerror(-rc));
			return rc;
		}
		if (!told) {
			fprintf(stderr, "nerrf-encoder: waiting for the collector to create %s\n",
				path);
			told = true;
		}
		struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000};
		nanosleep(&ts, NULL);
		if (stop)
			return -EINTR;
		if (delay_ms < 1000)
			delay_ms *= 2;
	}
}

/* Loss counters that live in ring #1's header. */
static void ring1_loss(struct run *R)
{
	struct nerrf_ring_stats st;
	Nerrf__Trace__LossCounters *l = &R->e.loss;

	nerrf_ring_get_stats(R->r1, &st);
	/* The header is live; the collector's own count arrives once a second. */
	l->ring1_dropped = st.dropped > R->e.kstats_ring1_dropped ? st.dropped
								 : R->e.kstats_ring1_dropped;
	l->ring1_corrupt_resets = st.corrupt_resets;
	l->ring1_corrupt_bytes = st.corrupt_bytes;
}

static void stats_tick(struct run *R, uint64_t now)
{
	struct encoder *e = &R->e;
	Nerrf__Trace__Stats st = NERRF__TRACE__STATS__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct nerrf_ring_stats r1;
	struct timespec wall;
	double dt = (double)(now - R->last_tick) / 1e9;

	enc_clock_tick(e);
	ring1_loss(R);
	nerrf_ring_get_stats(R->r1, &r1);
	clock_gettime(CLOCK_REALTIME, &wall);
	ts.seconds = wall.tv_sec;
	ts.nanos = (int32_t)wall.tv_nsec;
	st.ts = &ts;
	st.hostname = e->hostname;
	st.boot_id = e->boot_id;
	st.loss = &e->loss;
	st.events_per_sec = (double)(e->loss.encoder_events - R->last_events) / dt;
	st.batches_per_sec = (double)(e->batch_seq - R->last_batches) / dt;
	st.ring1_used = r1.used_bytes;
	st.ring1_capacity = r1.capacity;
	/* Fields 9-12 (ring #2, subscribers) are the publisher's to append. */

	R->last_tick = now;
	R->last_events = e->loss.encoder_events;
	R->last_batches = e->batch_seq;
	R->next_tick = now + TICK_NS;

	size_t len = protobuf_c_message_get_packed_size(&st.base);
	struct nerrf_r2_hdr *h = nerrf_ring_reserve(R->r2, sizeof(*h) + len);
	if (!h)
		return; /* ring #2 full: the counters are cumulative, the next tick says it all */
	*h = (struct nerrf_r2_hdr){.kind = NERRF_R2_STATS, .len = (uint32_t)len};
	protobuf_c_message_pack(&st.base, (uint8_t *)(h + 1));
	nerrf_ring_commit(R->r2);
	nerrf_ring_publish(R->r2);
}

/*
 * Moves the batch into ring #2, waiting for space as long as it takes
 * (wait_ms < 0) or up to wait_ms. Only then frees the batch's records in
 * ring #1. Returns 0, or -ETIMEDOUT/-EINTR with the batch kept.
 */
static int flush(struct run *R, int wait_ms)
{
	struct encoder *e = &R->e;
	struct nerrf_r2_hdr *h;

	if (!e->n) {
		nerrf_ring_consumer_publish(R->r1);
		return 0;
	}
	ring1_loss(R);
	size_t size = enc_batch_size(e), total = sizeof(*h) + size;
	if (total > nerrf_ring_max_record(R->r2)) {
		/* Only metadata out of all proportion gets here; say so and count it. */
		e->loss.ring2_dropped += e->n;
		fprintf(stderr, "nerrf-encoder: batch %llu of %u events is %zu bytes, over ring #2's "
			"record limit %zu: dropped and counted; raise --ring2-size\n",
			(unsigned long long)e->batch_seq + 1, e->n, total,
			nerrf_ring_max_record(R->r2));
		e->batch_seq++;
		e->n = 0;
		e->used = 0;
		nerrf_ring_consumer_publish(R->r1);
		return 0;
	}
	uint64_t nevents = e->n, oldest = e->oldest_mono_ns, seq = e->batch_seq + 1;
	uint64_t deadline = wait_ms < 0 ? UINT64_MAX : enc_mono_ns() + (uint64_t)wait_ms * 1000000;
	while (!(h = nerrf_ring_reserve(R->r2, total))) {
		if (wait_ms < 0 && stop)
			return -EINTR;
		if (enc_mono_ns() >= deadline)
			return -ETIMEDOUT;
		nerrf_ring_wait_space(R->r2, total, 100);
	}
	*h = (struct nerrf_r2_hdr){
		.kind = NERRF_R2_BATCH,
		.len = (uint32_t)size,
		.batch_seq = seq,
		.nevents = (uint32_t)nevents,
		.oldest_mono_ns = oldest,
	};
	enc_batch_pack(e, h + 1, size);
	nerrf_ring_commit(R->r2);
	nerrf_ring_publish(R->r2);
	nerrf_ring_consumer_publish(R->r1);
	return 0;
}

static int run_loop(struct run *R)
{
	struct encoder *e = &R->e;
	uint64_t latency_ns = (uint64_t)e->o.latency_us * 1000;
	unsigned since_clock = 0;
	uint64_t now = enc_mono_ns();

	R->last_tick = now;
	R->next_tick = R->last_tick + TICK_NS;
	while (!stop) {
		size_t len;
		int err = 0;
		const void *rec = nerrf_ring_peek(R->r1, &len, &err);

		if (err) {
			size_t lost = nerrf_ring_resync(R->r1);
			fprintf(stderr, "nerrf-encoder: ring #1 is corrupt (%s); skipped %zu bytes "
				"and resynchronised. Check that only one collector writes it\n",
				err == -NERRF_RING_ECORRUPT ? "broken invariant" : strerror(-err),
				lost);
			continue;
		}
		if (rec) {
			/* the clock is read for a batch's first record, then every 16 */
			if (!e->n)
				now = enc_mono_ns();
			bool full = enc_take(e, rec, len, now);
			nerrf_ring_release(R->r1);
			if (full && flush(R, -1) == -EINTR)
				break;
			if (++since_clock < 16)
				continue;
			since_clock = 0;
			now = enc_mono_ns();
			if (e->n && now - e->batch_t0 >= latency_ns && flush(R, -1) == -EINTR)
				break;
			if (now >= R->next_tick)
				stats_tick(R, now);
			continue;
		}
		/* Ring #1 is dry: send what we have now rather than wait for more. */
		if (flush(R, -1) == -EINTR)
			break;
		now = enc_mono_ns();
		if (now >= R->next_tick)
			stats_tick(R, now);
		int rc = nerrf_ring_wait(R->r1, (int)((R->next_tick - now) / 1000000) + 1);
		if (rc < 0 && rc != -ETIMEDOUT && rc != -EINTR) {
			fprintf(stderr, "nerrf-encoder: waiting on ring #1 failed: %s\n",
				strerror(-rc));
			return rc;
		}
	}
	/* Stopping: a second for the publisher to make room, else leave the records in ring #1. */
	if (e->n && flush(R, 1000) < 0)
		fprintf(stderr, "nerrf-encoder: ring #2 stayed full at exit; %u events stay in "
			"ring #1 for the next encoder run\n", e->n);
	return 0;
}

/* Static so that an r1 left open on purpose at exit is not reported as a leak. */
static struct run run_state;

int main(int argc, char **argv)
{
	struct run *R = &run_state;
	struct enc_opts o;
	char path[4096], err[256];
	const char *msg = NULL;
	int rc = 1;

	if (parse_args(argc, argv, &o) < 0)
		return 2;

	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (enc_init(&R->e, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "nerrf-encoder: %s\n", err);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", o.rundir, NERRF_RING2_NAME);
	int r = nerrf_ring_open_producer(path, o.ring2_size, 0660, &R->r2, &msg);
	if (r < 0) {
		fprintf(stderr, "nerrf-encoder: cannot create ring #2 %s: %s%s%s\n", path,
			strerror(r < -1000 ? EINVAL : -r), msg ? ": " : "", msg ? msg : "");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", o.rundir, NERRF_RING1_NAME);
	if (open_ring1(R, path) < 0) {
		rc = stop ? 0 : 1;
		goto out;
	}
	if (o.verbose)
		fprintf(stderr, "nerrf-encoder: attached to %s/{%s,%s}\n", o.rundir,
			NERRF_RING1_NAME, NERRF_RING2_NAME);
	rc = run_loop(R) < 0;
out:
	/*
	 * Closing publishes ring #1's consumer position; with a batch still
	 * unsent that would give its records up, so leave them for the next run.
	 */
	if (R->r1 && !R->e.n)
		nerrf_ring_close(R->r1);
	if (R->r2)
		nerrf_ring_close(R->r2);
	enc_fini(&R->e);
	return rc;
}
