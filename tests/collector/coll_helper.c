/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coll_helper.h"
#include "harness.h"
#include "lib/spawn.h"
#include "nerrf_ring.h"
#include "nerrf_time.h"

static unsigned char rec[NERRF_EVENT_MAX + 64];
static unsigned char stats_buf[4096 + 8 * 1024];

/* A failed CHECK exits at once: take the collector down with the test (its
 * parent-death signal is cleared when it changes uid). */
static pid_t running;

static void kill_running(void)
{
	if (running > 0)
		kill(running, SIGKILL);
}

void coll_start(struct coll *c, const char *const *args)
{
	const char *bin = getenv("NERRF_COLLECTOR");
	const char *argv[64];
	char line[512];
	size_t n = 0, len = 0;
	int pfd[2];

	memset(c, 0, sizeof(*c));
	if (!bin)
		FAIL("NERRF_COLLECTOR is not set; run through meson test");
	snprintf(c->rundir, sizeof(c->rundir), "%s", test_tmpdir("coll"));
	/* the collector binds ring1.sock there as its unprivileged --user */
	if (chmod(c->rundir, 0777) < 0)
		FAIL("chmod %s: %s", c->rundir, strerror(errno));
	argv[n++] = bin;
	argv[n++] = "--rundir";
	argv[n++] = c->rundir;
	for (; args && *args && n < 62; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		FAIL("pipe: %s", strerror(errno));
	/* LeakSanitizer stops the world with clone/ptrace/mprotect, which the
	 * collector's seccomp filter refuses; the tests still check their own
	 * leaks. Later ASAN_OPTIONS entries win. */
	char asan[512], *env[] = { asan, NULL };
	const char *old = getenv("ASAN_OPTIONS");
	snprintf(asan, sizeof(asan), "ASAN_OPTIONS=%s%sdetect_leaks=0", old ? old : "",
		 old ? ":" : "");
	c->pid = pt_start((char *const *)argv, &(struct pt_child){ .err_fd = pfd[1], .env = env,
								     .death_sig = SIGTERM });
	running = c->pid;
	atexit(kill_running);
	close(pfd[1]);
	/* Wait for "ready", echoing everything the collector says. */
	for (uint64_t end = nerrf_mono_ms() + 30000; nerrf_mono_ms() < end;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		if (poll(&p, 1, 200) <= 0)
			continue;
		ssize_t r = read(pfd[0], line + len, sizeof(line) - 1 - len);
		if (r <= 0)
			FAIL("collector exited before it was ready");
		len += r;
		line[len] = 0;
		fputs(line + len - r, stderr);
		if (strstr(line, "ready:")) {
			/* Let the collector keep writing to our stderr. */
			if (fork() == 0) {
				char b[512];
				ssize_t k;
				while ((k = read(pfd[0], b, sizeof(b))) > 0)
					if (write(2, b, k) < 0)
						break;
				_exit(0);
			}
			close(pfd[0]);
			char path[300];
			const char *msg;
			snprintf(path, sizeof(path), "%s/ring1.sock", c->rundir);
			int e = nerrf_ring_connect(path, &c->ring, &msg);
			if (e < 0)
				FAIL("attaching to %s: %s (%s)", path, strerror(-e), msg ? msg : "");
			return;
		}
		if (len > sizeof(line) / 2) {
			memmove(line, line + len / 2, len - len / 2);
			len -= len / 2;
		}
	}
	FAIL("collector not ready after 30 s");
}

/* Next record of any kind; NULL on timeout. */
static const struct nerrf_rec_hdr *next_rec(struct coll *c, int timeout_ms)
{
	long long end = (long long)nerrf_mono_ms() + timeout_ms;

	for (;;) {
		size_t len;
		int err = 0;
		const void *p = nerrf_ring_peek(c->ring, &len, &err);
		if (err)
			FAIL("ring1 corrupt: %d", err);
		if (p) {
			const struct nerrf_rec_hdr *h = p;
			CHECK(len >= sizeof(*h) && h->size <= len, "record size %u vs %zu", h->size, len);
			if (h->type == NERRF_REC_STATS) {
				CHECK(h->size <= sizeof(stats_buf));
				memcpy(stats_buf, p, h->size);
				c->stats = (struct nerrf_kstats *)stats_buf;
			} else {
				CHECK(h->type == NERRF_REC_EVENT, "record type %u", h->type);
				CHECK(h->size >= sizeof(struct nerrf_event) && h->size <= NERRF_EVENT_MAX);
				memcpy(rec, p, h->size);
			}
			nerrf_ring_release(c->ring);
			nerrf_ring_consumer_publish(c->ring);
			return h->type == NERRF_REC_STATS ? (void *)stats_buf : (void *)rec;
		}
		long long left = end - (long long)nerrf_mono_ms();
		if (left <= 0)
			return NULL;
		nerrf_ring_wait(c->ring, left > 100 ? 100 : (int)left);
	}
}

const struct nerrf_event *coll_next(struct coll *c, int timeout_ms)
{
	long long end = (long long)nerrf_mono_ms() + timeout_ms;

	for (;;) {
		long long left = end - (long long)nerrf_mono_ms();
		const struct nerrf_rec_hdr *h = next_rec(c, left > 0 ? (int)left : 0);
		if (!h)
			return NULL;
		if (h->type == NERRF_REC_EVENT) {
			const struct nerrf_event *e = (const void *)h;
			size_t need = sizeof(*e) + e->path_len + e->path2_len + e->raw_len + e->data_len;
			CHECK(need == e->hdr.size, "string lengths %zu != record size %u", need,
			      e->hdr.size);
			c->events++;
			return e;
		}
	}
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

const struct nerrf_event *coll_find(struct coll *c, unsigned op, pid_t tgid, const char *suffix,
				    int timeout_ms)
{
	long long end = (long long)nerrf_mono_ms() + timeout_ms;
	const struct nerrf_event *e;

	while ((e = coll_next(c, (int)(end > (long long)nerrf_mono_ms() ? end - (long long)nerrf_mono_ms() : 0)))) {
		if (e->op != op || (tgid && e->tgid != (unsigned)tgid))
			continue;
		if (suffix && (!ev_path(e) || !ends_with(ev_path(e), suffix)))
			continue;
		return e;
	}
	return NULL;
}

void coll_stop(struct coll *c)
{
	int st;

	if (c->pid <= 0)
		return;
	kill(c->pid, SIGTERM);
	if (waitpid(c->pid, &st, 0) < 0)
		FAIL("waitpid collector: %s", strerror(errno));
	c->pid = 0;
	running = 0;
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "collector exit status 0x%x", st);
}

void coll_free(struct coll *c)
{
	char cmd[300];

	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	if (c->ring)
		nerrf_ring_cons_close(c->ring);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->rundir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", c->rundir);
}

static const char *str_at(const struct nerrf_event *e, size_t off, size_t len)
{
	const char *s = e->strings + off;
	if (!len)
		return NULL;
	CHECK(s[len - 1] == 0, "string at %zu not NUL-terminated", off);
	return s;
}

const char *ev_path(const struct nerrf_event *e)
{
	return str_at(e, 0, e->path_len);
}

const char *ev_path2(const struct nerrf_event *e)
{
	return str_at(e, e->path_len, e->path2_len);
}

const char *ev_raw(const struct nerrf_event *e)
{
	return str_at(e, e->path_len + e->path2_len, e->raw_len);
}

const unsigned char *ev_data(const struct nerrf_event *e)
{
	return e->data_len ? (const unsigned char *)e->strings + e->path_len + e->path2_len +
				     e->raw_len : NULL;
}

const char *self_comm(void)
{
	static char comm[17];
	prctl(PR_GET_NAME, comm);
	return comm;
}
