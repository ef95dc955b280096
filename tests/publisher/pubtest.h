/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the publisher tests: a real ring #2 producer writing real
 * EventBatch bytes, the real nerrf-publisher binary, real nng subscribers.
 */
#ifndef NERRF_PUBTEST_H
#define NERRF_PUBTEST_H

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "harness.h"
#include "nerrf_ring.h"
#include "nerrf_wire.h"
#include "trace.pb-c.h"

#define PT_RING2_CAP (1u << 20)

static inline const char *pt_bin(const char *env)
{
	const char *p = getenv(env);
	if (!p || access(p, X_OK) != 0)
		FAIL("$%s must name the binary under test (meson test sets it)", env);
	return p;
}

static inline uint64_t pt_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Starts argv[0] with stderr (and stdout if out_path) redirected to files;
 * it gets signal death_sig when the test dies, so a failed test leaves no
 * process behind.
 */
static inline pid_t pt_spawn_sig(char *const argv[], const char *err_path, const char *out_path,
				 int death_sig)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, death_sig);
		int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
		if (out_path) {
			int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (o >= 0)
				dup2(o, STDOUT_FILENO);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static inline pid_t pt_spawn_io(char *const argv[], const char *err_path, const char *out_path)
{
	return pt_spawn_sig(argv, err_path, out_path, SIGKILL);
}

static inline pid_t pt_spawn(char *const argv[], const char *err_path)
{
	return pt_spawn_io(argv, err_path, NULL);
}

/* Exit status of pid, waiting at most ms; -1 if still running. */
static inline int pt_wait_exit(pid_t pid, int ms)
{
	uint64_t end = pt_now_ms() + (uint64_t)ms;
	int st;
	do {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	} while (pt_now_ms() < end);
	return -1;
}

static inline void pt_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	int rc = pt_wait_exit(pid, 5000);
	if (rc < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		FAIL("pid %d did not stop within 5 s of SIGTERM", pid);
	}
	CHECK(rc == 0, "clean shutdown expected, got status %d", rc);
}

static inline char *pt_slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n = 0;
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* A free TCP port on 127.0.0.1 (bound then released). */
static inline int pt_free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	CHECK(s >= 0);
	CHECK(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(getsockname(s, (struct sockaddr *)&a, &l) == 0);
	close(s);
	return ntohs(a.sin_port);
}

/* ---- ring #2 producer ---- */

static inline struct nerrf_ring *pt_ring2(const char *dir, size_t cap)
{
	char path[512];
	struct nerrf_ring *r;
	const char *msg = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, NERRF_RING2_NAME);
	int rv = nerrf_ring_open_producer(path, cap, 0660, &r, &msg);
	CHECK(rv == 0, "open_producer %s: %d %s", path, rv, msg ? msg : "");
	return r;
}

/*
 * A ring #2 record holding an EventBatch of n events; event i has pid, tid
 * = i, bytes = batch_seq * 1000 + i and a path of pathlen bytes.
 */
static inline size_t pt_make_batch(uint8_t *buf, size_t cap, uint64_t batch_seq, unsigned n,
				   uint32_t pid, size_t pathlen)
{
	Nerrf__Trace__EventBatch b = NERRF__TRACE__EVENT_BATCH__INIT;
	Nerrf__Trace__LossCounters loss = NERRF__TRACE__LOSS_COUNTERS__INIT;
	Nerrf__Trace__Event ev[64], *evp[64];
	Google__Protobuf__Timestamp ts[64];
	char path[1024];

	CHECK(n <= 64 && pathlen < sizeof(path) - 1);
	memset(path, 'p', pathlen);
	path[0] = '/';
	path[pathlen] = '\0';
	for (unsigned i = 0; i < n; i++) {
		nerrf__trace__event__init(&ev[i]);
		google__protobuf__timestamp__init(&ts[i]);
		ts[i].seconds = 1700000000 + (int64_t)batch_seq;
		ts[i].nanos = (int32_t)i;
		ev[i].ts = &ts[i];
		ev[i].pid = pid;
		ev[i].tid = i;
		ev[i].comm = (char *)"pubtest";
		ev[i].syscall = (char *)(i % 2 ? "write" : "openat");
		ev[i].path = path;
		ev[i].new_path = (char *)"";
		ev[i].ret_val = i % 2 ? 4096 : 3;
		ev[i].bytes = batch_seq * 1000 + i;
		evp[i] = &ev[i];
	}
	loss.encoder_events = batch_seq * n;
	b.n_events = n;
	b.events = evp;
	b.batch_seq = batch_seq;
	b.hostname = (char *)"testhost";
	b.boot_id = (char *)"";
	b.loss = &loss;
	b.encoder_start_ns = 42;

	struct nerrf_r2_hdr h = {.kind = NERRF_R2_BATCH, .batch_seq = batch_seq, .nevents = n};
	size_t len = nerrf__trace__event_batch__get_packed_size(&b);
	CHECK(sizeof(h) + len <= cap);
	h.len = (uint32_t)len;
	memcpy(buf, &h, sizeof(h));
	nerrf__trace__event_batch__pack(&b, buf + sizeof(h));
	return sizeof(h) + len;
}

/* A ring #2 record holding an encoder Stats message. */
static inline size_t pt_make_stats(uint8_t *buf, size_t cap, double events_per_sec)
{
	Nerrf__Trace__Stats st = NERRF__TRACE__STATS__INIT;
	Nerrf__Trace__LossCounters loss = NERRF__TRACE__LOSS_COUNTERS__INIT;
	loss.kernel_emitted = 7;
	st.hostname = (char *)"testhost";
	st.loss = &loss;
	st.events_per_sec = events_per_sec;
	st.stage_state = (char *)"encoder=up";
	struct nerrf_r2_hdr h = {.kind = NERRF_R2_STATS};
	size_t len = nerrf__trace__stats__get_packed_size(&st);
	CHECK(sizeof(h) + len <= cap);
	h.len = (uint32_t)len;
	memcpy(buf, &h, sizeof(h));
	nerrf__trace__stats__pack(&st, buf + sizeof(h));
	return sizeof(h) + len;
}

/* Writes one record; waits for space (the publisher drains). -1 if it stayed full for 2 s. */
static inline int pt_put(struct nerrf_ring *r, const void *rec, size_t len)
{
	void *p = nerrf_ring_reserve(r, len);
	if (!p) {
		nerrf_ring_publish(r);
		int rv = nerrf_ring_wait_space(r, len, 2000);
		if (rv == -ETIMEDOUT)
			return -1;
		CHECK(rv == 0, "wait_space: %d", rv);
		p = nerrf_ring_reserve(r, len);
		CHECK(p != NULL, "reserve after wait_space");
	}
	memcpy(p, rec, len);
	nerrf_ring_commit(r);
	nerrf_ring_publish(r);
	return 0;
}

/* ---- subscribers ---- */

/* topic NULL: everything. */
static inline nng_socket pt_sub(const char *url, const char *topic)
{
	nng_socket s;
	CHECK(nng_sub0_open(&s) == 0);
	CHECK(nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, topic ? topic : "",
			     topic ? strlen(topic) : 0) == 0);
	CHECK(nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 0) == 0);
	CHECK(nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 20) == 0);
	CHECK(nng_dial(s, url, NULL, NNG_FLAG_NONBLOCK) == 0);
	return s;
}

/* The next message, or NULL after timeout_ms. */
static inline nng_msg *pt_recv(nng_socket s, int timeout_ms)
{
	nng_msg *m;
	CHECK(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms) == 0);
	int rv = nng_recvmsg(s, &m, 0);
	if (rv == NNG_ETIMEDOUT)
		return NULL;
	CHECK(rv == 0, "recv: %s", nng_strerror(rv));
	return m;
}

/* The protobuf bytes of a message, which must carry the given topic. */
static inline const uint8_t *pt_payload(nng_msg *m, const char *topic, size_t *len)
{
	const uint8_t *b = nng_msg_body(m);
	CHECK(nng_msg_len(m) >= NERRF_TOPIC_LEN && memcmp(b, topic, NERRF_TOPIC_LEN) == 0,
	      "expected a %s message", topic);
	*len = nng_msg_len(m) - NERRF_TOPIC_LEN;
	return b + NERRF_TOPIC_LEN;
}

static inline Nerrf__Trace__EventBatch *pt_decode_batch(nng_msg *m)
{
	size_t len;
	const uint8_t *b = pt_payload(m, NERRF_TOPIC_EVENTS, &len);
	Nerrf__Trace__EventBatch *eb = nerrf__trace__event_batch__unpack(NULL, len, b);
	CHECK(eb != NULL, "EventBatch does not decode");
	return eb;
}

static inline Nerrf__Trace__Stats *pt_decode_stats(nng_msg *m)
{
	size_t len;
	const uint8_t *b = pt_payload(m, NERRF_TOPIC_STATS, &len);
	Nerrf__Trace__Stats *st = nerrf__trace__stats__unpack(NULL, len, b);
	CHECK(st != NULL, "Stats does not decode");
	return st;
}

/*
 * pub/sub drops whatever is sent before a subscriber is connected, so tests
 * wait until the publisher's stats say n subscribers are attached (the
 * stats socket itself counts as one).
 */
static inline Nerrf__Trace__Stats *pt_wait_subscribers(nng_socket stats_sub, unsigned n)
{
	uint64_t end = pt_now_ms() + 15000;
	while (pt_now_ms() < end) {
		nng_msg *m = pt_recv(stats_sub, 500);
		if (!m)
			continue;
		Nerrf__Trace__Stats *st = pt_decode_stats(m);
		nng_msg_free(m);
		if (st->subscribers >= n)
			return st;
		nerrf__trace__stats__free_unpacked(st, NULL);
	}
	FAIL("the publisher's stats never showed %u subscribers within 15 s", n);
}

/* Starts nerrf-publisher on rundir with extra args (NULL-terminated). */
static inline pid_t pt_publisher(const char *rundir, const char *err_path, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	argv[argc++] = (char *)pt_bin("NERRF_PUBLISHER");
	argv[argc++] = (char *)"--rundir";
	argv[argc++] = (char *)rundir;
	va_start(ap, err_path);
	for (char *a; (a = va_arg(ap, char *)) && argc < 31;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return pt_spawn(argv, err_path);
}

static inline void pt_rm_rf(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
}

/*
 * What the publisher and client tests start from: a temporary rundir named
 * after the test, ring #2 in it, and where the publisher will listen and log.
 * The publisher itself is started by the test (pt_publisher), with its options.
 */
struct pt_env {
	char *dir;
	char url[512]; /* ipc://<dir>/events.sock */
	char err[600]; /* the publisher's stderr */
	struct nerrf_ring *r2;
};

static inline void pt_env_init(struct pt_env *t, const char *name)
{
	t->dir = test_tmpdir(name);
	snprintf(t->url, sizeof(t->url), "ipc://%s/events.sock", t->dir);
	snprintf(t->err, sizeof(t->err), "%s/publisher.err", t->dir);
	t->r2 = pt_ring2(t->dir, PT_RING2_CAP);
}

static inline void pt_env_free(struct pt_env *t)
{
	nerrf_ring_close(t->r2);
	pt_rm_rf(t->dir);
}

#endif /* NERRF_PUBTEST_H */
