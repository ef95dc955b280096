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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encoder.h"
#include "nerrf_conf.h"
#include "nerrf_log.h"
#include "nerrf_signal.h"
#include "nerrf_notify.h"
#include "nerrf_opt.h"
#include "nerrf_parse.h"
#include "nerrf_version.h"
#include "nerrf_ring.h"
#include "nerrf_wire.h"

#define NS_PER_SEC 1000000000ull
#define TICK_NS NS_PER_SEC
/* Room in a ring #2 record for the batch metadata (loss counters and their maps). */
#define META_SLACK (8u << 10)

/* SIGIO: the collector went away; waking up (EINTR) is all this is for. */
static void on_producer_gone(int sig)
{
	(void)sig;
}

struct run {
	struct encoder e;
	struct nerrf_ring_cons *r1;
	struct nerrf_ring_prod *r2;
	char r1_path[4096];
	/* ring #1's counters from the rings of earlier collectors */
	uint64_t r1_dropped, r1_resets, r1_bytes;
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
		"  --check-config          print the configuration in force (file and flags), then exit\n"
		"  --help                  this text\n",
		ENC_DEFAULT_RING2_SIZE >> 20, ENC_DEFAULT_MAX_BATCH, ENC_DEFAULT_MAX_BATCH_BYTES >> 10,
		ENC_DEFAULT_LATENCY_US);
}

#define O struct enc_opts
/* The options; also the [encoder] keys. */
static const struct nerrf_opt table[] = {
	NOPT_STR("rundir", O, rundir),
	NOPT_SIZE("ring2-size", O, ring2_size, 64 << 10, 1u << 30, true),
	NOPT_UINT("max-batch", O, max_batch, 1, 65536),
	NOPT_SIZE("max-batch-bytes", O, max_batch_bytes, 16 << 10, 64u << 20, false),
	NOPT_DURATION("latency-us", O, latency_us, NERRF_US, 10, 10000000),
	NOPT_FLAG("raw-sample", O, raw_sample),
	NOPT_STR("hostname", O, hostname),
	NOPT_STR("cgroup-root", O, cgroup_root),
	NOPT_IGNORE("config"),
	NOPT_COUNT("verbose", O, verbose),
	NOPT_HELP(usage),
	NOPT_VERSION("nerrf-encoder"),
	NOPT_FLAG("check-config", O, check),
	NOPT_END,
};
#undef O

/* What a reload changes at once; the rest takes a restart. */
static const char *const live_keys[] = {
	"max-batch", "max-batch-bytes", "latency-us", "raw-sample", "verbose", NULL,
};

/* A record holds a quarter of the ring at most: a full batch must fit. */
static bool batch_fits(size_t ring2_size, size_t max_batch_bytes)
{
	return ring2_size / 4 >= sizeof(struct nerrf_r2_hdr) + max_batch_bytes +
				 ENC_EVENT_WIRE_MAX + META_SLACK;
}

static int check(void *p)
{
	const struct enc_opts *o = p;

	if (batch_fits(o->ring2_size, o->max_batch_bytes))
		return 0;
	log_warnx("--ring2-size %zu is too small for --max-batch-bytes %zu: a ring record is at "
		  "most a quarter of the ring; raise --ring2-size or lower --max-batch-bytes",
		  o->ring2_size, o->max_batch_bytes);
	return -1;
}

static const struct enc_opts defaults = {
	.rundir = NERRF_DEFAULT_RUNDIR,
	.ring2_size = ENC_DEFAULT_RING2_SIZE,
	.max_batch = ENC_DEFAULT_MAX_BATCH,
	.max_batch_bytes = ENC_DEFAULT_MAX_BATCH_BYTES,
	.latency_us = ENC_DEFAULT_LATENCY_US,
	.cgroup_root = "/sys/fs/cgroup",
};

static struct nerrf_optset set = {
	.section = "encoder", .table = table, .defaults = &defaults, .size = sizeof(defaults),
	.live = live_keys, .check = check,
};

static void stats_tick(struct run *R, uint64_t now);

/* The collector may start later or be restarting: wait for it. */
static int open_ring1(struct run *R)
{
	const char *msg = NULL;
	unsigned delay_ms = 10;
	int told = 0;

	for (;;) {
		int rc = nerrf_ring_connect(R->r1_path, &R->r1, &msg);
		if (rc == 0) {
			if (nerrf_ring_watch_producer(R->r1, SIGIO) < 0)
				log_warnx("cannot watch the collector's "
					"connection (%s): a collector restart is noticed only at "
					"the next stats tick", strerror(errno));
			return 0;
		}
		if (rc != -EAGAIN && rc != -EBUSY) {
			log_warnx("cannot attach to ring #1 at %s: %s (%s)",
				R->r1_path, msg ? msg : strerror(-rc), nerrf_ring_strerror(rc));
			return rc;
		}
		if (told != rc) {
			log_warnx("waiting for ring #1 at %s: %s",
				R->r1_path, msg);
			told = rc;
		}
		struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000};
		nanosleep(&ts, NULL);
		if (nerrf_stop)
			return -EINTR;
		if (delay_ms < 1000)
			delay_ms *= 2;
		/* subscribers keep hearing from us, and that the collector is down */
		uint64_t now = nerrf_mono_ns();
		if (R->next_tick && now >= R->next_tick)
			stats_tick(R, now);
	}
}

/*
 * The collector that handed us ring #1 is gone and we have read all it wrote:
 * keep its ring's counters and take the next collector's ring.
 */
static int switch_ring1(struct run *R)
{
	struct nerrf_ring_stats st;

	nerrf_ring_cons_stats(R->r1, &st);
	R->r1_dropped += st.dropped > R->e.kstats_ring1_dropped ? st.dropped
								: R->e.kstats_ring1_dropped;
	R->r1_resets += st.corrupt_resets;
	R->r1_bytes += st.corrupt_bytes;
	R->e.kstats_ring1_dropped = 0;
	enc_ring1_switched(&R->e, nerrf_mono_ns());
	nerrf_ring_cons_close(R->r1);
	R->r1 = NULL;
	log_warnx("the collector went away; ring #1 drained, waiting for "
		"the next one");
	return open_ring1(R);
}

/* Loss counters that live in ring #1's header. */
static void ring1_loss(struct run *R)
{
	struct nerrf_ring_stats st = {0};
	Nerrf__Trace__LossCounters *l = &R->e.loss;

	if (R->r1) /* none while we wait for a collector */
		nerrf_ring_cons_stats(R->r1, &st);
	/* The header is live; the collector's own count arrives once a second. */
	l->ring1_dropped = R->r1_dropped + (st.dropped > R->e.kstats_ring1_dropped
						    ? st.dropped : R->e.kstats_ring1_dropped);
	l->ring1_corrupt_resets = R->r1_resets + st.corrupt_resets;
	l->ring1_corrupt_bytes = R->r1_bytes + st.corrupt_bytes;
}

static void stats_tick(struct run *R, uint64_t now)
{
	struct encoder *e = &R->e;
	Nerrf__Trace__Stats st = NERRF__TRACE__STATS__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct nerrf_ring_stats r1 = {0};
	struct timespec wall;
	double dt = (double)(now - R->last_tick) / 1e9;

	enc_clock_tick(e);
	ring1_loss(R);
	if (R->r1)
		nerrf_ring_cons_stats(R->r1, &r1);
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
	st.version = (char *)NERRF_VERSION;
	/* the collector is up while the connection it handed ring #1 over is open */
	st.stage_state = (char *)(!R->r1 || nerrf_ring_producer_gone(R->r1)
					  ? "collector=down encoder=up"
					  : "collector=up encoder=up");
	/* Fields 9-12 (ring #2, subscribers) are the publisher's to append. */

	R->last_tick = now;
	R->last_events = e->loss.encoder_events;
	R->last_batches = e->batch_seq;
	R->next_tick = now + TICK_NS;
	/* every tick, also while the collector is away: waiting for it is no wedge */
	if (nerrf_notify_due(now, NULL))
		nerrf_notify_alive("%.0f events/s, %.1f batches/s; %s; ring #1 %llu%% full",
				   st.events_per_sec, st.batches_per_sec, st.stage_state,
				   r1.capacity ? (unsigned long long)(r1.used_bytes * 100 / r1.capacity)
					       : 0ull);

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
		log_warnx("batch %llu of %u events is %zu bytes, over ring #2's "
			"record limit %zu: dropped and counted; raise --ring2-size",
			(unsigned long long)e->batch_seq + 1, e->n, total,
			nerrf_ring_max_record(R->r2));
		e->batch_seq++;
		e->n = 0;
		e->used = 0;
		nerrf_ring_consumer_publish(R->r1);
		return 0;
	}
	uint64_t nevents = e->n, oldest = e->oldest_mono_ns, seq = e->batch_seq + 1;
	uint64_t deadline = wait_ms < 0 ? UINT64_MAX : nerrf_mono_ns() + (uint64_t)wait_ms * 1000000;
	while (!(h = nerrf_ring_reserve(R->r2, total))) {
		if (wait_ms < 0 && nerrf_stop)
			return -EINTR;
		uint64_t now = nerrf_mono_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		/* waiting on the publisher is its wedge, not ours: its own watchdog sees it */
		if (nerrf_notify_due(now, NULL))
			nerrf_notify_alive("waiting for room in ring #2: the publisher is slow "
					   "or stopped");
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

/*
 * SIGHUP: the batch limits, latency bound and --raw-sample of the file
 * change between two batches; an invalid file changes nothing.
 */
static void reload_conf(struct run *R)
{
	struct encoder *e = &R->e;
	struct nerrf_conf_argv next;
	struct enc_opts n;

	if (nerrf_opt_reload(&set, -1, &n, &next) < 0)
		return;
	if (!batch_fits(e->o.ring2_size, n.max_batch_bytes)) {
		log_warnx("reload: --max-batch-bytes %zu does not fit ring #2 "
			"of %zu bytes, whose size changes only at a restart: the configuration in "
			"force stays", n.max_batch_bytes, e->o.ring2_size);
		nerrf_conf_free(&next);
		return;
	}
	if (nerrf_opt_take(&set, &next) > 0) {
		/* the batch being built was sized by the old limits */
		if (flush(R, -1) == 0 && n.max_batch_bytes + ENC_EVENT_WIRE_MAX > e->cap) {
			uint8_t *b = realloc(e->buf, n.max_batch_bytes + ENC_EVENT_WIRE_MAX);
			if (!b) {
				log_warnx("reload: out of memory for %zu-byte "
					"batches: the batch limits in force stay",
					n.max_batch_bytes);
				n.max_batch_bytes = e->o.max_batch_bytes;
				n.max_batch = e->o.max_batch;
			} else {
				e->buf = b;
				e->cap = n.max_batch_bytes + ENC_EVENT_WIRE_MAX;
			}
		}
		if (!e->n) {
			e->o.max_batch = n.max_batch;
			e->o.max_batch_bytes = n.max_batch_bytes;
		}
		e->o.latency_us = n.latency_us;
		e->o.raw_sample = n.raw_sample;
		e->o.verbose = n.verbose;
	}
}

static int run_loop(struct run *R)
{
	struct encoder *e = &R->e;
	uint64_t latency_ns = (uint64_t)e->o.latency_us * 1000;
	unsigned since_clock = 0;
	uint64_t now = nerrf_mono_ns();
	struct nerrf_ratelimit corrupt_log = {0};
	uint64_t corrupt_bytes = 0;

	R->last_tick = now;
	R->next_tick = R->last_tick + TICK_NS;
	while (!nerrf_stop) {
		size_t len;
		if (nerrf_reload) {
			nerrf_reload = 0;
			reload_conf(R);
			latency_ns = (uint64_t)e->o.latency_us * 1000;
		}
		int err = 0;
		const void *rec = nerrf_ring_peek(R->r1, &len, &err);

		if (err == -NERRF_RING_EVERSION) {
			log_warnx("ring #1: %s",
				nerrf_ring_cons_corruption(R->r1));
			return err;
		}
		if (err) {
			size_t lost = nerrf_ring_resync(R->r1);
			corrupt_bytes += lost;
			if (log_warnx_limited(&corrupt_log, "ring #1 is corrupt (%s); skipped %llu "
					      "bytes and resynchronised. Check that only one "
					      "collector writes it", nerrf_ring_cons_corruption(R->r1),
					      (unsigned long long)corrupt_bytes))
				corrupt_bytes = 0;
			continue;
		}
		if (rec) {
			/* the clock is read for a batch's first record, then every 16 */
			if (!e->n)
				now = nerrf_mono_ns();
			bool full = enc_take(e, rec, len, now);
			nerrf_ring_release(R->r1);
			if (full && flush(R, -1) == -EINTR)
				break;
			if (++since_clock < 16)
				continue;
			since_clock = 0;
			now = nerrf_mono_ns();
			if (e->n && now - e->batch_t0 >= latency_ns && flush(R, -1) == -EINTR)
				break;
			if (now >= R->next_tick)
				stats_tick(R, now);
			continue;
		}
		/* Ring #1 is dry: send what we have now rather than wait for more. */
		if (flush(R, -1) == -EINTR)
			break;
		/* A gone collector wrote its last record before it went: re-check, then move on. */
		if (nerrf_ring_producer_gone(R->r1) && !nerrf_ring_peek(R->r1, &len, &err) && !err) {
			int rc = switch_ring1(R);
			if (rc < 0)
				return rc == -EINTR ? 0 : rc;
			continue;
		}
		now = nerrf_mono_ns();
		if (now >= R->next_tick)
			stats_tick(R, now);
		int rc = nerrf_ring_wait(R->r1, (int)((R->next_tick - now) / 1000000) + 1);
		if (rc < 0 && rc != -ETIMEDOUT && rc != -EINTR) {
			log_warnx("waiting on ring #1 failed: %s",
				strerror(-rc));
			return rc;
		}
	}
	/* Stopping: a second for the publisher to make room, else leave the records in ring #1. */
	if (e->n && flush(R, 1000) < 0)
		log_warnx("ring #2 stayed full at exit; %u events stay in "
			"ring #1 for the next encoder run", e->n);
	return 0;
}

/* Static so that an r1 left open on purpose at exit is not reported as a leak. */
static struct run run_state;

int main(int argc, char **argv)
{
	struct run *R = &run_state;
	struct enc_opts o;
	struct nerrf_ring_server *srv = NULL;
	char err[256];
	const char *msg = NULL;
	int rc = 1, r;

	log_init("nerrf-encoder", false);
	nerrf_catch_reload();
	if (nerrf_opt_start(&set, argc, argv, &o) < 0)
		return 2;
	if (o.check) {
		nerrf_opt_show(&set, &o);
		return 0;
	}

	nerrf_catch_stop();
	struct sigaction sa = {.sa_handler = on_producer_gone};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGIO, &sa, NULL);

	if (enc_init(&R->e, &o, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return 1;
	}
	r = nerrf_ring_create("nerrf-ring2", o.ring2_size, &R->r2, &msg);
	if (r < 0) {
		log_warnx("cannot create ring #2: %s%s%s",
			nerrf_ring_strerror(r), msg ? ": " : "", msg ? msg : "");
		goto out;
	}
	r = nerrf_ring_listen(o.rundir, NERRF_RING2_NAME, 0660, R->r2, &srv, &msg);
	if (r == 0)
		r = nerrf_ring_serve_background(srv);
	if (r < 0) {
		log_warnx("cannot serve ring #2 at %s/%s: %s%s%s", o.rundir,
			NERRF_RING2_NAME, nerrf_ring_strerror(r), msg ? ": " : "", msg ? msg : "");
		goto out;
	}
	/* after the serving thread exists: the filter binds every thread */
	if (enc_sandbox(err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		goto out;
	}
	snprintf(R->r1_path, sizeof(R->r1_path), "%s/%s", o.rundir, NERRF_RING1_NAME);
	if (open_ring1(R) < 0) {
		rc = nerrf_stop ? 0 : 1;
		goto out;
	}
	if (o.verbose)
		log_info("attached to %s/%s, serving %s/%s", o.rundir,
			NERRF_RING1_NAME, o.rundir, NERRF_RING2_NAME);
	nerrf_notify_ready("attached to %s/%s, serving %s/%s", o.rundir, NERRF_RING1_NAME,
			   o.rundir, NERRF_RING2_NAME);
	rc = run_loop(R) < 0;
out:
	/*
	 * Closing publishes ring #1's consumer position; with a batch still
	 * unsent that would give its records up, so leave them for the next run.
	 */
	if (R->r1 && !R->e.n)
		nerrf_ring_cons_close(R->r1);
	/* ring #2 stays mapped: the serving thread may be handing it out right now */
	enc_fini(&R->e);
	return rc;
}
