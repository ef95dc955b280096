/* SPDX-License-Identifier: Apache-2.0 */
/*
 * End-to-end helpers: the real pipeline started by `nerrf run` (real BPF
 * programs, collector, encoder, publisher), a traced child process that
 * performs file operations on command, and real nng subscribers.
 *
 * The child is traced alone (collector --pid), so the counters see nothing
 * but what the test does. Before its real work it repeats a probe operation
 * until the subscriber has seen one: then the BPF programs are attached and
 * the whole path works, and nothing the test counts can be missed by a
 * pipeline still starting up.
 */
#ifndef NERRF_E2E_H
#define NERRF_E2E_H

#include <limits.h>
#include <sys/stat.h>

#include "nerrf_event.h"
#include <dirent.h>

#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"
#include "nerrf_time.h"

struct e2e {
	char dir[512];	/* scratch, realpath'd */
	char work[600]; /* where the child operates */
	char rundir[600];
	char url[PATH_MAX + 16];
	char err[PATH_MAX]; /* nerrf run's stderr */
	char probe[PATH_MAX];
	pid_t run;
	pid_t child;
	int go_fd;   /* write end: tells the child to stop probing */
	int done_fd; /* read end: the child's report */
	nng_socket sub;
	/* what e2e_account saw */
	uint64_t delivered; /* events in every batch received */
	uint64_t batches;
	uint64_t first_publisher_seq, last_publisher_seq, publisher_gaps;
	/* optional: sees every batch e2e_account counts, e2e_go's included */
	void (*on_batch)(struct e2e *e, const Nerrf__Trace__EventBatch *b);
};

/* Counts a received batch: its events and any publisher_seq gap before it. */
static inline void e2e_account(struct e2e *e, const Nerrf__Trace__EventBatch *b)
{
	if (!e->batches)
		e->first_publisher_seq = b->publisher_seq;
	else if (b->publisher_seq != e->last_publisher_seq + 1)
		e->publisher_gaps++;
	e->last_publisher_seq = b->publisher_seq;
	e->batches++;
	e->delivered += b->n_events;
	if (e->on_batch)
		e->on_batch(e, b);
}

static inline const char *e2e_stage(const char *name)
{
	static char path[4][PATH_MAX];
	static int n;
	char *p = path[n++ % 4];
	snprintf(p, PATH_MAX, "%s/%s/nerrf-%s", pt_bin("NERRF_BUILD_ROOT"), name, name);
	return p;
}

/* Skips (77) unless root and all three stages are built. */
static inline void e2e_require(const char *what, bool need_collector)
{
	if (need_collector)
		test_require_root(what);
	const char *names[] = {"collector", "encoder", "publisher"};
	for (int i = need_collector ? 0 : 1; i < 3; i++)
		if (access(e2e_stage(names[i]), X_OK) != 0)
			test_skip(
				"%s needs %s, which this build does not have yet (merge the branch "
				"that adds it and rebuild)",
				what, e2e_stage(names[i]));
}

static inline void e2e_dirs(struct e2e *e, const char *name)
{
	char real[PATH_MAX];
	CHECK(realpath(test_tmpdir(name), real) != NULL);
	CHECK(strlen(real) < sizeof(e->dir), "TMPDIR is too deep");
	memcpy(e->dir, real, strlen(real) + 1);
	/* The stages run as nobody and must reach the rundir inside. */
	CHECK(chmod(e->dir, 0755) == 0);
	snprintf(e->work, sizeof(e->work), "%s/work", e->dir);
	snprintf(e->rundir, sizeof(e->rundir), "%s/run", e->dir);
	snprintf(e->url, sizeof(e->url), "ipc://%s/events.sock", e->rundir);
	snprintf(e->err, sizeof(e->err), "%s/run.err", e->dir);
	snprintf(e->probe, sizeof(e->probe), "%s/probe", e->work);
	CHECK(mkdir(e->work, 0755) == 0);
	/* An empty configuration the collector accepts (root-owned, not writable by others). */
	char conf[PATH_MAX];
	snprintf(conf, sizeof(conf), "%s/tracker.conf", e->dir);
	int fd = open(conf, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	CHECK(fd >= 0);
	close(fd);
	setenv("NERRF_CONFIG", conf, 1);
}

/* work for a child that only probes: tests of the pipeline itself, not of events */
static inline void e2e_no_work(const struct e2e *e, int report_fd, void *arg)
{
	uint64_t n = 1;
	(void)e;
	(void)arg;
	if (write(report_fd, &n, sizeof(n)) != sizeof(n))
		_exit(1);
}

/*
 * Forks the traced child. It waits for 's', then probes (opens e->probe)
 * every 20 ms until it reads 'g', then runs work(arg) and reports through
 * done_fd. It does nothing traced before 's', so the test's subscribers can
 * connect before the first event exists.
 */
static inline void e2e_child(struct e2e *e, void (*work)(const struct e2e *, int report_fd, void *),
			     void *arg)
{
	int go[2], done[2];
	CHECK(pipe(go) == 0 && pipe(done) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(go[1]);
		close(done[0]);
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		fcntl(go[0], F_SETFL, O_NONBLOCK);
		while (read(go[0], &c, 1) != 1) {
			int fd = open(e->probe, O_CREAT | O_WRONLY, 0644);
			if (fd >= 0)
				close(fd);
			usleep(20000);
		}
		work(e, done[1], arg);
		_exit(0);
	}
	close(go[0]);
	close(done[1]);
	e->child = pid;
	e->go_fd = go[1];
	e->done_fd = done[0];
}

/* Starts `nerrf run` tracing only the child, plus extra arguments (NULL-terminated). */
static inline void e2e_run(struct e2e *e, char *const extra[])
{
	char *argv[64], pidbuf[16];
	int argc = 0;
	snprintf(pidbuf, sizeof(pidbuf), "%d", e->child);
	argv[argc++] = (char *)pt_bin("NERRF_CLI");
	argv[argc++] = "run";
	argv[argc++] = "--no-journal"; /* publisher_seq from 1, nothing in /var/lib */
	argv[argc++] = "--rundir";
	argv[argc++] = e->rundir;
	argv[argc++] = "--pid";
	argv[argc++] = pidbuf;
	for (int i = 0; extra && extra[i] && argc < 62; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	/* SIGTERM, not SIGKILL: if the test dies, nerrf run still stops its stages. */
	e->run = pt_start(argv, &(struct pt_child){ .err = e->err, .death_sig = SIGTERM });
}

static inline bool e2e_is_probe(const struct e2e *e, const Nerrf__Trace__Event *ev)
{
	return strcmp(ev->path, e->probe) == 0;
}

/*
 * The next event batch on sub, skipping other topics; NULL once the
 * monotonic clock passes end_ms (nerrf_mono_ms) or nerrf run has exited.
 */
static inline Nerrf__Trace__EventBatch *e2e_next_batch(const struct e2e *e, nng_socket sub,
						       uint64_t end_ms)
{
	while (nerrf_mono_ms() < end_ms && pt_wait_exit(e->run, 0) < 0) {
		nng_msg *m = pt_recv_topic(sub, NERRF_TOPIC_EVENTS, 200);
		if (!m)
			continue;
		Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
		nng_msg_free(m);
		return b;
	}
	return NULL;
}

/*
 * Waits until nsubs subscribers (events, plus one stats socket of our own)
 * are connected, lets the child probe, and waits until a probe event has
 * come through the whole pipeline; then lets the child work. Batches read
 * meanwhile are accounted.
 */
static inline void e2e_go(struct e2e *e, nng_socket events, unsigned nsubs)
{
	nng_socket st = pt_sub(e->url, NERRF_TOPIC_STATS);
	uint64_t end = nerrf_mono_ms() + 30000;
	for (unsigned subs = 0; subs < nsubs + 1;) {
		if (pt_wait_exit(e->run, 0) >= 0)
			FAIL("nerrf run exited early: %s", pt_slurp(e->err));
		if (nerrf_mono_ms() > end)
			FAIL("the publisher never counted %u subscribers: %s", nsubs + 1,
			     pt_slurp(e->err));
		nng_msg *m = pt_recv(st, 200);
		if (m) {
			Nerrf__Trace__Stats *s = pt_decode_stats(m);
			subs = s->subscribers;
			nerrf__trace__stats__free_unpacked(s, NULL);
			nng_msg_free(m);
		}
	}
	nng_close(st);
	CHECK(write(e->go_fd, "s", 1) == 1);

	for (Nerrf__Trace__EventBatch *b; (b = e2e_next_batch(e, events, end));) {
		e2e_account(e, b);
		bool seen = false;
		for (size_t i = 0; i < b->n_events; i++)
			seen |= b->events[i]->pid == (uint32_t)e->child &&
				e2e_is_probe(e, b->events[i]);
		nerrf__trace__event_batch__free_unpacked(b, NULL);
		if (seen) {
			CHECK(write(e->go_fd, "g", 1) == 1);
			return;
		}
	}
	if (pt_wait_exit(e->run, 0) >= 0)
		FAIL("nerrf run exited early: %s", pt_slurp(e->err));
	FAIL("no probe event reached the subscriber within 30 s: %s", pt_slurp(e->err));
}

/* The pid a stage has now, from nerrf run's log (start line, then restarts). */
static inline pid_t e2e_stage_pid(const struct e2e *e, const char *stage)
{
	const char *log = pt_slurp(e->err);
	char key[64];
	pid_t pid = 0;
	snprintf(key, sizeof(key), "%s ", stage);
	for (const char *p = strstr(log, "nerrf run: collector "); p; p = NULL) {
		const char *q = strstr(p, key);
		if (q)
			pid = (pid_t)atoi(q + strlen(key));
	}
	snprintf(key, sizeof(key), "%s restarted (pid ", stage);
	for (const char *p = strstr(log, key); p; p = strstr(p + 1, key))
		pid = (pid_t)atoi(p + strlen(key));
	return pid;
}

/*
 * The encoder and the publisher without a collector: the test makes ring #1
 * (cap bytes) and writes it, in the collector's place. The stages' stderr
 * goes to e->dir/encoder.err and publisher.err; e->sub is subscribed to
 * everything and counted by the publisher before this returns.
 */
struct e2e_stages {
	struct nerrf_ring_prod *r1;
	pid_t enc, pub;
	char enc_err[PATH_MAX + 16], pub_err[PATH_MAX + 16];
};

static inline void e2e_encoder(struct e2e *e, struct e2e_stages *st, char *const extra[])
{
	char *argv[32] = {(char *)e2e_stage("encoder"), "--rundir", e->rundir};
	int argc = 3;

	for (int i = 0; extra && extra[i] && argc < 31; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	st->enc = pt_spawn(argv, st->enc_err);
}

static inline void e2e_without_collector(struct e2e *e, struct e2e_stages *st, size_t cap,
					 char *const enc_extra[])
{
	struct nerrf_ring_server *srv;
	const char *msg = NULL;

	CHECK(mkdir(e->rundir, 0755) == 0);
	snprintf(st->enc_err, sizeof(st->enc_err), "%s/encoder.err", e->dir);
	snprintf(st->pub_err, sizeof(st->pub_err), "%s/publisher.err", e->dir);
	CHECK(nerrf_ring_create("test-ring1", cap, &st->r1, &msg) == 0, "%s", msg);
	CHECK(nerrf_ring_listen(e->rundir, NERRF_RING1_NAME, 0660, st->r1, &srv, &msg) == 0, "%s",
	      msg);
	CHECK(nerrf_ring_serve_background(srv) == 0);
	e2e_encoder(e, st, enc_extra);
	char *pub_argv[] = {(char *)e2e_stage("publisher"), "--rundir", e->rundir, "--no-journal",
			    NULL};
	st->pub = pt_spawn(pub_argv, st->pub_err);
	e->sub = pt_sub(e->url, NULL);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(e->sub, 1), NULL);
}

/* An event record as the programs make one: op on cpu, with its per-CPU seq. */
static inline size_t e2e_event(void *buf, unsigned op, uint32_t cpu, uint64_t seq, uint32_t tgid,
			       const char *path)
{
	struct nerrf_event *ev = buf;
	size_t plen = strlen(path) + 1;

	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = NERRF_REC_EVENT;
	ev->hdr.size = (uint32_t)(sizeof(*ev) + plen);
	ev->op = (uint16_t)op;
	ev->cpu = cpu;
	ev->seq = seq;
	ev->ts_ns = nerrf_mono_ns();
	ev->tgid = ev->tid = tgid;
	ev->ret = 3;
	snprintf(ev->comm, sizeof(ev->comm), "e2e-test");
	ev->fd = 3;
	ev->offset = -1;
	ev->path_len = (uint16_t)plen;
	memcpy(ev->strings, path, plen);
	return ev->hdr.size;
}

static inline void e2e_without_collector_finish(struct e2e *e, struct e2e_stages *st)
{
	CHECK(pt_wait_exit(st->enc, 0) < 0, "the encoder died: %s", pt_slurp(st->enc_err));
	CHECK(pt_wait_exit(st->pub, 0) < 0, "the publisher died: %s", pt_slurp(st->pub_err));
	pt_stop(st->pub);
	pt_stop(st->enc);
	nng_close(e->sub);
	nerrf_ring_prod_close(st->r1);
	pt_rm_rf(e->dir);
}

/* Whether programs are pinned for rundir (collector/pin.c names them so). */
static inline bool e2e_pinned(const char *rundir)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char prefix[32];
	struct dirent *de;
	bool found = false;

	for (const char *p = rundir; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	snprintf(prefix, sizeof(prefix), "%016llx-", (unsigned long long)h);
	DIR *d = opendir("/sys/fs/bpf/nerrf");
	while (d && (de = readdir(d)))
		found |= strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return found;
}

static inline void e2e_finish(struct e2e *e)
{
	if (e->child > 0) {
		kill(e->child, SIGKILL);
		waitpid(e->child, NULL, 0);
	}
	kill(e->run, SIGINT);
	int rc = pt_wait_exit(e->run, 10000);
	if (rc < 0) {
		kill(e->run, SIGKILL);
		waitpid(e->run, NULL, 0);
		FAIL("nerrf run did not stop within 10 s of SIGINT");
	}
	CHECK(rc == 0, "nerrf run exit status %d after SIGINT: %s", rc, pt_slurp(e->err));
	/*
	 * The subscriber is closed only now, its publisher gone: the nng of
	 * Debian 12 (1.5.2) can hang in nng_close() while a connection is live
	 * (nng issues 1543, 1813).
	 */
	if (nng_socket_id(e->sub) > 0)
		nng_close(e->sub);
	pt_rm_rf(e->dir);
}

#endif /* NERRF_E2E_H */
