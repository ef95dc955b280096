/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the forwarder tests: a real nats-server (JetStream, a random
 * port on 127.0.0.1, a store in the test's directory), the real publisher
 * with a journal fed by the ring #2 stand-in of tests/lib, the real
 * nerrf-forward, and the stream read back with libnats.
 */
#ifndef NERRF_FWDTEST_H
#define NERRF_FWDTEST_H

#include <pthread.h>
#include <stdatomic.h>

#include <nats/nats.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"
#include "nerrf_journal.h"
#include "wirecheck.h"

struct ft_env {
	struct pt_env pt;
	int port;
	char nats_url[64], store[600], state[600], jdir[600];
	char nats_err[600], fwd_err[600];
	pid_t nats, fwd, pub;
	const char *tls_args[8]; /* extra nats-server arguments (TLS) */
};

static inline void ft_require_nats(void)
{
	if (system("nats-server --version >/dev/null 2>&1") != 0)
		test_skip("nats-server is not installed (apt-get install nats-server, or "
			  "scripts/install-deps)");
}

/* Waits until something accepts on 127.0.0.1:port. */
static inline bool ft_port_open(int port, int ms)
{
	uint64_t end = nerrf_mono_ms() + (uint64_t)ms;
	do {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		bool ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
		close(s);
		if (ok)
			return true;
		usleep(20000);
	} while (nerrf_mono_ms() < end);
	return false;
}

static inline void ft_nats_start(struct ft_env *t)
{
	char port[16];
	char *argv[24];
	int n = 0;

	snprintf(port, sizeof(port), "%d", t->port);
	argv[n++] = (char *)"/usr/sbin/nats-server";
	if (access(argv[0], X_OK) != 0)
		argv[0] = (char *)"/usr/bin/nats-server";
	argv[n++] = (char *)"-a";
	argv[n++] = (char *)"127.0.0.1";
	argv[n++] = (char *)"-p";
	argv[n++] = port;
	argv[n++] = (char *)"-js";
	argv[n++] = (char *)"-sd";
	argv[n++] = t->store;
	for (int i = 0; t->tls_args[i]; i++)
		argv[n++] = (char *)t->tls_args[i];
	argv[n] = NULL;
	t->nats = pt_spawn(argv, t->nats_err);
	CHECK(ft_port_open(t->port, 10000), "nats-server did not listen on %d: %s", t->port,
	      pt_slurp(t->nats_err));
}

static inline void ft_nats_stop(struct ft_env *t)
{
	kill(t->nats, SIGTERM);
	if (pt_wait_exit(t->nats, 10000) < 0) {
		kill(t->nats, SIGKILL);
		waitpid(t->nats, NULL, 0);
	}
	t->nats = 0;
}

/* The scratch directory, ring #2 and where everything goes; nothing started yet. */
static inline void ft_setup(struct ft_env *t, const char *name)
{
	ft_require_nats();
	pt_env_init(&t->pt, name);
	t->port = pt_free_port();
	snprintf(t->nats_url, sizeof(t->nats_url), "nats://127.0.0.1:%d", t->port);
	snprintf(t->store, sizeof(t->store), "%s/nats", t->pt.dir);
	snprintf(t->state, sizeof(t->state), "%s/state", t->pt.dir);
	snprintf(t->jdir, sizeof(t->jdir), "%s/journal", t->pt.dir);
	snprintf(t->nats_err, sizeof(t->nats_err), "%s/nats.err", t->pt.dir);
	snprintf(t->fwd_err, sizeof(t->fwd_err), "%s/forward.err", t->pt.dir);
}

/* ft_setup, the publisher with a journal, and nats-server. */
static inline void ft_init(struct ft_env *t, const char *name, bool start_nats)
{
	ft_setup(t, name);
	t->pub = pt_publisher(t->pt.dir, t->pt.err, "--journal", t->jdir, NULL);
	if (start_nats)
		ft_nats_start(t);
}

/* nerrf-forward with the test's places, then extra arguments (NULL-terminated). */
static inline pid_t ft_forward(struct ft_env *t, const char *url, ...)
{
	char *argv[48];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)pt_bin("NERRF_FORWARD");
	argv[argc++] = (char *)"--nats";
	argv[argc++] = (char *)(url ? url : t->nats_url);
	argv[argc++] = (char *)"--rundir";
	argv[argc++] = t->pt.dir;
	argv[argc++] = (char *)"--state-dir";
	argv[argc++] = t->state;
	argv[argc++] = (char *)"--hostname";
	argv[argc++] = (char *)"testhost";
	va_start(ap, url);
	for (char *a; (a = va_arg(ap, char *)) && argc < 46;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	/* Appends, so that a restarted forwarder's lines stay with its predecessor's. */
	t->fwd = pt_start(argv, &(struct pt_child){ .err = t->fwd_err, .append = true });
	return t->fwd;
}

static inline void ft_free(struct ft_env *t)
{
	if (t->fwd > 0)
		pt_stop(t->fwd);
	if (t->pub > 0)
		pt_stop(t->pub);
	if (t->nats > 0)
		ft_nats_stop(t);
	pt_env_free(&t->pt);
}

/* ---- load ---- */

struct ft_feed {
	struct ft_env *t;
	unsigned total, rate, events; /* batches, batches a second, events a batch */
	atomic_uint sent;
	pthread_t th;
};

static inline void *ft_feed_run(void *arg)
{
	static uint8_t rec[1 << 16];
	struct ft_feed *f = arg;
	uint64_t start = nerrf_mono_ms();
	unsigned step = f->rate / 100 ? f->rate / 100 : 1;

	for (unsigned i = 1; i <= f->total; i++) {
		CHECK(pt_put(f->t->pt.r2, rec, pt_make_batch(rec, sizeof(rec), i, f->events, 7, 60)) == 0);
		atomic_store(&f->sent, i);
		if (i % step == 0)
			while (nerrf_mono_ms() < start + i * 1000ull / f->rate)
				usleep(1000);
	}
	return NULL;
}

/* Waits for the publisher to have n subscribers (the test's is one), then feeds in the background. */
static inline void ft_feed_start(struct ft_feed *f, unsigned n)
{
	nng_socket st = pt_sub(f->t->pt.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, n), NULL);
	nng_close(st);
	CHECK(pthread_create(&f->th, NULL, ft_feed_run, f) == 0);
}

static inline void ft_feed_join(struct ft_feed *f)
{
	CHECK(pthread_join(f->th, NULL) == 0);
}

/* ---- the stream, read back ---- */

static inline natsConnection *ft_connect(const char *url, natsOptions *o)
{
	natsConnection *nc = NULL;
	natsStatus s;
	if (!o) {
		CHECK(natsOptions_Create(&o) == NATS_OK);
		CHECK(natsOptions_SetURL(o, url) == NATS_OK);
	}
	s = natsConnection_Connect(&nc, o);
	CHECK(s == NATS_OK, "the test cannot connect to %s: %s", url, natsStatus_GetText(s));
	natsOptions_Destroy(o);
	return nc;
}

/* Messages in the stream now (0 if it does not exist yet). */
static inline uint64_t ft_stream_msgs(jsCtx *js, const char *stream)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	if (js_GetStreamInfo(&si, js, stream, NULL, &jerr) != NATS_OK)
		return 0;
	uint64_t n = si->State.Msgs;
	jsStreamInfo_Destroy(si);
	return n;
}

/* Waits up to ms for the stream to hold n messages; returns what it holds. */
static inline uint64_t ft_wait_msgs(jsCtx *js, const char *stream, uint64_t n, int ms)
{
	uint64_t end = nerrf_mono_ms() + (uint64_t)ms, have = 0;
	while (nerrf_mono_ms() < end && (have = ft_stream_msgs(js, stream)) < n)
		usleep(100000);
	usleep(500000); /* and nothing more comes after */
	return ft_stream_msgs(js, stream);
}

/*
 * Every message of the stream: its subject, the Nats-Msg-Id header, and its
 * data, which must be an EventBatch; count[publisher_seq]++ (publisher_seq
 * up to max). Returns the messages read.
 */
static inline uint64_t ft_read_stream(jsCtx *js, const char *stream, const char *subject,
				      unsigned *count, uint64_t max)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	uint64_t n = 0;

	CHECK(js_GetStreamInfo(&si, js, stream, NULL, &jerr) == NATS_OK, "no stream %s", stream);
	uint64_t first = si->State.FirstSeq, last = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	for (uint64_t q = first; q && q <= last; q++) {
		natsMsg *m = NULL;
		const char *id = NULL;
		struct nerrf_batch_scan sc;
		CHECK(js_GetMsg(&m, js, stream, q, NULL, &jerr) == NATS_OK, "stream seq %llu",
		      (unsigned long long)q);
		CHECK_STR(natsMsg_GetSubject(m), subject);
		CHECK(natsMsgHeader_Get(m, "Nats-Msg-Id", &id) == NATS_OK && id && *id,
		      "stream seq %llu has no Nats-Msg-Id", (unsigned long long)q);
		CHECK(nerrf_batch_scan((const uint8_t *)natsMsg_GetData(m),
				       (size_t)natsMsg_GetDataLength(m), &sc) == 0 &&
			      sc.publisher_seq >= 1 && sc.publisher_seq <= max,
		      "stream seq %llu is not an EventBatch of this test", (unsigned long long)q);
		count[sc.publisher_seq]++;
		natsMsg_Destroy(m);
		n++;
	}
	return n;
}

/* Every publisher_seq 1..n exactly once. */
static inline void ft_check_once(const unsigned *count, unsigned n)
{
	for (unsigned s = 1; s <= n; s++)
		CHECK(count[s] == 1, "publisher_seq %u is in the stream %u times", s, count[s]);
}

/*
 * Connects (with o, or plainly to the test's server), waits up to ms for the
 * stream NERRF to hold total batches on subject, and checks it holds every
 * publisher_seq 1..total once (count has total + 1 entries).
 */
static inline void ft_expect_once(struct ft_env *t, natsOptions *o, const char *subject,
				  unsigned *count, unsigned total, int ms)
{
	natsConnection *nc = ft_connect(t->nats_url, o);
	jsCtx *js;
	CHECK(natsConnection_JetStream(&js, nc, NULL) == NATS_OK);
	uint64_t n = ft_wait_msgs(js, "NERRF", total, ms);
	CHECK(n == total, "the stream holds %llu messages, want %u: %s", (unsigned long long)n,
	      total, pt_slurp(t->fwd_err));
	CHECK_EQ_U64(ft_read_stream(js, "NERRF", subject, count, total), total);
	ft_check_once(count, total);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
}

/*
 * `nerrf stats --once` on the forwarder's stats socket until its output holds
 * want. Exit 5 (a hop down) is a state on the way there, as when the broker
 * has just restarted and the forwarder has not reconnected yet.
 */
static inline const char *ft_stats_until(struct ft_env *t, const char *want, int ms)
{
	char url[700], out[700], err[700];
	snprintf(url, sizeof(url), "ipc://%s/forward.sock", t->pt.dir);
	snprintf(out, sizeof(out), "%s/stats.out", t->pt.dir);
	snprintf(err, sizeof(err), "%s/stats.err", t->pt.dir);
	uint64_t end = nerrf_mono_ms() + (uint64_t)ms;
	unlink(out);
	while (!strstr(pt_slurp(out), want)) {
		char *argv[] = {(char *)pt_bin("NERRF_CLI"), "stats", "--once", "--url", url, NULL};
		int rc = pt_wait_exit(pt_spawn_io(argv, err, out), 10000);
		CHECK(rc == 0 || rc == 5, "exit %d: %s", rc, pt_slurp(err));
		CHECK(nerrf_mono_ms() < end, "nerrf stats never showed '%s': %s %s", want,
		      pt_slurp(out), pt_slurp(t->fwd_err));
	}
	return pt_slurp(out);
}

#endif /* NERRF_FWDTEST_H */
