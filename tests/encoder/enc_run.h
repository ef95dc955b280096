/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs the real nerrf-encoder binary between a real ring #1 (the test is its
 * producer, standing where the collector stands) and a real ring #2 (the
 * test is its consumer, standing where the publisher stands).
 */
#ifndef NERRF_TEST_ENC_RUN_H
#define NERRF_TEST_ENC_RUN_H

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"
#include "nerrf_ring.h"
#include "nerrf_wire.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "trace.pb-c.h"
#include "nerrf_time.h"

struct enc_run {
	char dir[256];
	struct nerrf_ring_prod *r1;
	struct nerrf_ring_cons *r2;
	struct nerrf_ring_server *srv1; /* serves r1 to each encoder that starts */
	char dir_r2[300];               /* ring #2's socket */
	pid_t pid;
};

static inline void sleep_ms(unsigned ms)
{
	struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&t, NULL);
}

/* Hands ring #1 to the encoder that just started, as the collector would. */
static inline void enc_serve_ring1(struct enc_run *t)
{
	for (int i = 0;; i++) {
		int st, rc = nerrf_ring_serve(t->srv1, 100);
		if (rc == 1)
			return;
		CHECK(rc == 0 && i < 300, "serving ring #1: %s", strerror(-rc));
		CHECK(waitpid(t->pid, &st, WNOHANG) == 0, "the encoder exited before taking ring #1");
	}
}

/* Starts the encoder on t->dir with extra args (NULL-ended). */
static inline void enc_spawn(struct enc_run *t, const char *encoder, const char *const *extra)
{
	const char *argv[32] = {encoder, "--rundir", t->dir, "--hostname", "test-host",
				"--config", "/dev/null"};
	int argc = 7;

	while (extra && *extra && argc < 30)
		argv[argc++] = *extra++;
	argv[argc] = NULL;
	t->pid = pt_spawn((char *const *)argv, NULL);
	enc_serve_ring1(t);
}

/* Creates ring #1 (ring1_cap bytes), starts the encoder on it, attaches to ring #2. */
static inline void enc_start(struct enc_run *t, const char *name, const char *encoder,
			     size_t ring1_cap, const char *const *extra)
{
	const char *msg = NULL;
	int rc;

	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "%s", test_tmpdir(name));
	rc = nerrf_ring_create("test-ring1", ring1_cap, &t->r1, &msg);
	CHECK(rc == 0, "ring #1: %s %s", strerror(-rc), msg ? msg : "");
	rc = nerrf_ring_listen(t->dir, NERRF_RING1_NAME, 0600, t->r1, &t->srv1, &msg);
	CHECK(rc == 0, "serving ring #1: %s %s", strerror(-rc), msg ? msg : "");
	enc_spawn(t, encoder, extra);

	snprintf(t->dir_r2, sizeof(t->dir_r2), "%s/%s", t->dir, NERRF_RING2_NAME);
	for (int i = 0;; i++) {
		rc = nerrf_ring_connect(t->dir_r2, &t->r2, &msg);
		if (rc == 0)
			break;
		CHECK(rc == -EAGAIN && i < 1000, "ring #2: %s %s", strerror(-rc), msg ? msg : "");
		int st;
		CHECK(waitpid(t->pid, &st, WNOHANG) == 0, "the encoder exited before ring #2 existed");
		sleep_ms(10);
	}
}

static inline void put_rec(struct enc_run *t, const void *rec, size_t len)
{
	void *p = nerrf_ring_reserve(t->r1, len);

	CHECK(p != NULL, "ring #1 full or record of %zu bytes too large", len);
	memcpy(p, rec, len);
	nerrf_ring_commit(t->r1);
	nerrf_ring_publish(t->r1);
}

/*
 * Next ring #2 record of kind (0: any) within timeout_ms, copied to a buffer
 * the caller frees; NULL on timeout. Skips records of other kinds.
 */
static inline uint8_t *next_r2(struct enc_run *t, uint32_t kind, struct nerrf_r2_hdr *hdr,
			       int timeout_ms)
{
	uint64_t end = nerrf_mono_ns() + (uint64_t)timeout_ms * 1000000;

	for (;;) {
		size_t len;
		int err = 0;
		const uint8_t *p = nerrf_ring_peek(t->r2, &len, &err);

		CHECK(err == 0, "ring #2 corrupt: %d", err);
		if (p) {
			struct nerrf_r2_hdr h;
			CHECK(len >= sizeof(h), "ring #2 record of %zu bytes", len);
			memcpy(&h, p, sizeof(h));
			CHECK_EQ_U64(h.len, len - sizeof(h));
			CHECK(h.kind == NERRF_R2_BATCH || h.kind == NERRF_R2_STATS);
			uint8_t *out = NULL;
			if (!kind || h.kind == kind) {
				out = malloc(h.len + 1);
				CHECK(out != NULL);
				memcpy(out, p + sizeof(h), h.len);
				*hdr = h;
			}
			nerrf_ring_release(t->r2);
			nerrf_ring_consumer_publish(t->r2);
			if (out)
				return out;
			continue;
		}
		uint64_t now = nerrf_mono_ns();
		if (now >= end)
			return NULL;
		/* as the publisher does: a gone encoder's ring is final once drained */
		if (nerrf_ring_producer_gone(t->r2) && !nerrf_ring_peek(t->r2, &len, &err)) {
			const char *msg = NULL;
			nerrf_ring_cons_close(t->r2);
			t->r2 = NULL;
			while (nerrf_ring_connect(t->dir_r2, &t->r2, &msg) == -EAGAIN &&
			       nerrf_mono_ns() < end)
				sleep_ms(10);
			CHECK(t->r2 != NULL, "no new ring #2: %s", msg ? msg : "timeout");
			continue;
		}
		nerrf_ring_wait(t->r2, 20);
	}
}

/* Next EventBatch (NULL on timeout); checks the ring #2 header agrees with it. */
static inline Nerrf__Trace__EventBatch *next_batch(struct enc_run *t, int timeout_ms)
{
	struct nerrf_r2_hdr h;
	uint8_t *p = next_r2(t, NERRF_R2_BATCH, &h, timeout_ms);

	if (!p)
		return NULL;
	Nerrf__Trace__EventBatch *b = nerrf__trace__event_batch__unpack(NULL, h.len, p);
	free(p);
	CHECK(b != NULL, "batch %llu does not unpack", (unsigned long long)h.batch_seq);
	CHECK_EQ_U64(h.batch_seq, b->batch_seq);
	CHECK_EQ_U64(h.nevents, b->n_events);
	CHECK(b->n_events > 0, "empty batch");
	CHECK_EQ_U64(h.oldest_mono_ns, b->events[0]->mono_ns);
	return b;
}

/* SIGTERM; the encoder must exit 0. Removes the rings and the directory. */
static inline void enc_stop(struct enc_run *t)
{
	char path[300];
	int st;

	CHECK(kill(t->pid, SIGTERM) == 0);
	CHECK(waitpid(t->pid, &st, 0) == t->pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "encoder status %#x", st);
	nerrf_ring_server_close(t->srv1);
	nerrf_ring_prod_close(t->r1);
	nerrf_ring_cons_close(t->r2);
	snprintf(path, sizeof(path), "%s/%s", t->dir, NERRF_RING1_NAME);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", t->dir, NERRF_RING2_NAME);
	unlink(path);
	rmdir(t->dir);
}

/* A small event with a numbered path, cpu 1, per-CPU sequence i + 1. */
static inline size_t numbered_event(void *buf, const char *prefix, unsigned i)
{
	char path[1200];

	snprintf(path, sizeof(path), "%s/%u", prefix, i);
	size_t n = build_event(buf, NERRF_OP_OPENAT, path, NULL, NULL, NULL, 0);
	struct nerrf_event *ev = buf;
	ev->seq = i + 1;
	ev->ts_ns = nerrf_mono_ns();
	return n;
}

#endif
