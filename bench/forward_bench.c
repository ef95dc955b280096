/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-forward into a local JetStream: a real nats-server (127.0.0.1,
 * random port, temporary store), the real nerrf-publisher with its journal
 * fed through a real ring #2, the real nerrf-forward. Reports
 *
 *  - throughput: batches and events a second forwarded with acks (from the
 *    first batch into ring #2 until JetStream has stored the last), and the
 *    forwarder's CPU time per event (all its threads, libnats' included);
 *  - latency at a steady rate (1k and 10k events/s): from a batch handed to
 *    ring #2 (its events' wall-clock ts) to a NATS subscriber of the
 *    subject, and, in the same run, to a local nng subscriber of the
 *    publisher; p50/p99 of each and the difference is what forwarding adds.
 *
 *   forward_bench PUBLISHER FORWARD [BATCHES]
 */
#include <math.h>

#include "../tests/forward/fwdtest.h"
#include "nerrf_time.h"

#define EVENTS_PER_BATCH 32

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* A ring #2 record of n events stamped now. */
static size_t make_batch(uint8_t *buf, size_t cap, uint64_t seq, unsigned n)
{
	Nerrf__Trace__EventBatch b = NERRF__TRACE__EVENT_BATCH__INIT;
	Nerrf__Trace__Event ev[64], *evp[64];
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	uint64_t now = nerrf_now_ns(CLOCK_REALTIME);

	ts.seconds = (int64_t)(now / 1000000000u);
	ts.nanos = (int32_t)(now % 1000000000u);
	for (unsigned i = 0; i < n; i++) {
		nerrf__trace__event__init(&ev[i]);
		ev[i].ts = &ts;
		ev[i].pid = 1000 + i;
		ev[i].comm = (char *)"worker";
		ev[i].syscall = (char *)"write";
		ev[i].path = (char *)"/home/user/documents/quarterly-report-2026.docx";
		ev[i].ret_val = 4096;
		ev[i].bytes = 4096;
		evp[i] = &ev[i];
	}
	b.n_events = n;
	b.events = evp;
	b.batch_seq = seq;
	b.hostname = (char *)"benchhost";
	b.boot_id = (char *)"bench";
	b.encoder_start_ns = 1;
	return pt_pack_batch(buf, cap, &b);
}

/* Latency of one batch: now minus its first event's ts. */
static uint64_t latency(const uint8_t *pb, size_t len)
{
	Nerrf__Trace__EventBatch *b = nerrf__trace__event_batch__unpack(NULL, len, pb);
	uint64_t l = 0;
	if (b && b->n_events && b->events[0]->ts) {
		uint64_t t = (uint64_t)b->events[0]->ts->seconds * 1000000000ull +
			     (uint64_t)b->events[0]->ts->nanos;
		uint64_t now = nerrf_now_ns(CLOCK_REALTIME);
		l = now > t ? now - t : 0;
	}
	if (b)
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	return l;
}

struct samples {
	pthread_mutex_t mu;
	uint64_t *v;
	size_t n, cap;
	bool on;
};

static void add(struct samples *s, uint64_t l)
{
	pthread_mutex_lock(&s->mu);
	if (s->on && s->n < s->cap)
		s->v[s->n++] = l;
	pthread_mutex_unlock(&s->mu);
}

static struct samples nats_lat = {.mu = PTHREAD_MUTEX_INITIALIZER},
		      nng_lat = {.mu = PTHREAD_MUTEX_INITIALIZER};
static atomic_bool stop_local;
static atomic_ulong nats_received;

static void on_nats(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *arg)
{
	(void)nc;
	(void)sub;
	(void)arg;
	add(&nats_lat, latency((const uint8_t *)natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m)));
	atomic_fetch_add(&nats_received, 1);
	natsMsg_Destroy(m);
}

static void *local_sub(void *arg)
{
	nng_socket s = *(nng_socket *)arg;
	while (!atomic_load(&stop_local)) {
		nng_msg *m = pt_recv(s, 100);
		if (!m)
			continue;
		if (nng_msg_len(m) > NERRF_TOPIC_LEN)
			add(&nng_lat, latency((const uint8_t *)nng_msg_body(m) + NERRF_TOPIC_LEN,
					      nng_msg_len(m) - NERRF_TOPIC_LEN));
		nng_msg_free(m);
	}
	return NULL;
}

/* utime + stime of pid, in ns. */
static uint64_t cpu_ns(pid_t pid)
{
	char p[64], buf[1024];
	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	FILE *f = fopen(p, "r");
	CHECK(f && fgets(buf, sizeof(buf), f));
	fclose(f);
	const char *q = strrchr(buf, ')');
	unsigned long long ut, st;
	CHECK(q && sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			  &st) == 2);
	return (ut + st) * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK));
}

static uint64_t pct(struct samples *s, double p)
{
	if (!s->n)
		return 0;
	qsort(s->v, s->n, sizeof(s->v[0]), cmp_u64);
	size_t i = (size_t)ceil(p * (double)s->n) - 1;
	return s->v[i < s->n ? i : s->n - 1];
}

static uint64_t seq;

static void feed(struct ft_env *t, unsigned batches, unsigned rate, unsigned events)
{
	static uint8_t rec[1 << 16];
	uint64_t start = nerrf_mono_ms();
	for (unsigned i = 1; i <= batches; i++) {
		CHECK(pt_put(t->pt.r2, rec, make_batch(rec, sizeof(rec), ++seq, events)) == 0);
		if (rate)
			while (nerrf_mono_ms() < start + i * 1000ull / rate)
				usleep(200);
	}
}

/* Until JetStream stores n batches, and the NATS subscriber has had them all too. */
static void wait_stored(jsCtx *js, uint64_t n)
{
	uint64_t end = nerrf_mono_ms() + 120000;
	while (ft_stream_msgs(js, "NERRF") < n) {
		CHECK(nerrf_mono_ms() < end, "JetStream never held %llu batches", (unsigned long long)n);
		usleep(2000);
	}
	while (atomic_load(&nats_received) < n && nerrf_mono_ms() < end)
		usleep(2000);
}

int main(int argc, char **argv)
{
	struct ft_env t = {0};
	unsigned batches = argc > 3 ? (unsigned)atoi(argv[3]) : 20000;

	if (argc < 3) {
		fprintf(stderr, "usage: forward_bench PUBLISHER FORWARD [BATCHES]\n");
		return 2;
	}
	setenv("NERRF_PUBLISHER", argv[1], 1);
	setenv("NERRF_FORWARD", argv[2], 1);
	setenv("NERRF_CONFIG", "/dev/null", 1);
	ft_init(&t, "fwd-bench", true);
	ft_forward(&t, NULL, "--start", "oldest", "--hostname", "benchhost", NULL);
	nng_socket local = pt_sub(t.pt.url, NERRF_TOPIC_EVENTS);
	nng_socket st = pt_sub(t.pt.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 3), NULL);
	natsConnection *nc = ft_connect(t.nats_url, NULL);
	jsCtx *js;
	natsSubscription *sub;
	CHECK(natsConnection_JetStream(&js, nc, NULL) == NATS_OK);
	CHECK(natsConnection_Subscribe(&sub, nc, "nerrf.benchhost.events", on_nats, NULL) == NATS_OK);
	pthread_t th;
	CHECK(pthread_create(&th, NULL, local_sub, &local) == 0);
	nats_lat.cap = nng_lat.cap = 1u << 20;
	nats_lat.v = calloc(nats_lat.cap, sizeof(uint64_t));
	nng_lat.v = calloc(nng_lat.cap, sizeof(uint64_t));

	/* Warm-up: the stream exists, connections are up. */
	feed(&t, 100, 0, EVENTS_PER_BATCH);
	wait_stored(js, seq);

	uint64_t c0 = cpu_ns(t.fwd), t0 = nerrf_mono_ms();
	feed(&t, batches, 0, EVENTS_PER_BATCH);
	wait_stored(js, seq);
	uint64_t dt = nerrf_mono_ms() - t0, cpu = cpu_ns(t.fwd) - c0;
	printf("throughput: %u batches of %d events in %.2f s: %.0f batches/s, %.0f events/s "
	       "forwarded with acks; forwarder CPU %.0f ns/event (%.1f us/batch)\n",
	       batches, EVENTS_PER_BATCH, dt / 1e3, batches * 1e3 / (double)dt,
	       (double)batches * EVENTS_PER_BATCH * 1e3 / (double)dt,
	       (double)cpu / ((double)batches * EVENTS_PER_BATCH), (double)cpu / batches / 1e3);

	/* Steady rates: 10 events a batch, 100 and 1000 batches a second, 5 s each. */
	static const unsigned rates[] = {1000, 10000};
	for (size_t r = 0; r < 2; r++) {
		unsigned bps = rates[r] / 10, n = bps * 5;
		nats_lat.n = nng_lat.n = 0;
		nats_lat.on = nng_lat.on = true;
		c0 = cpu_ns(t.fwd);
		feed(&t, n, bps, 10);
		wait_stored(js, seq);
		usleep(200000);
		cpu = cpu_ns(t.fwd) - c0;
		nats_lat.on = nng_lat.on = false;
		uint64_t a50 = pct(&nng_lat, 0.5), a99 = pct(&nng_lat, 0.99);
		uint64_t b50 = pct(&nats_lat, 0.5), b99 = pct(&nats_lat, 0.99);
		printf("%5u events/s (%u batches/s of 10): local nng subscriber p50 %.0f us p99 %.0f "
		       "us (%zu); NATS subscriber p50 %.0f us p99 %.0f us (%zu); forwarding adds p50 "
		       "%.0f us, p99 %.0f us; forwarder CPU %.1f%% of a core\n",
		       rates[r], bps, a50 / 1e3, a99 / 1e3, nng_lat.n, b50 / 1e3, b99 / 1e3,
		       nats_lat.n, ((double)b50 - (double)a50) / 1e3, ((double)b99 - (double)a99) / 1e3,
		       (double)cpu / 5e9 * 100);
		CHECK(nats_lat.n >= n * 99 / 100, "the NATS subscriber got %zu of %u", nats_lat.n, n);
	}
	CHECK_EQ_U64(ft_stream_msgs(js, "NERRF"), seq);
	fprintf(stderr, "the forwarder's log:\n%s", pt_slurp(t.fwd_err));
	atomic_store(&stop_local, true);
	pthread_join(th, NULL);
	natsSubscription_Destroy(sub);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	ft_free(&t);
	return 0;
}
