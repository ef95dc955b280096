/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A ransomware-shaped file workload: per iteration, openat(O_CREAT) a file,
 * write it, optionally fsync, close, rename it to .locked, unlink it. Runs
 * for a count or a duration, on 1..N threads, at full speed or a fixed rate,
 * and prints exactly how many of each traced syscall it made, so a tracer's
 * output can be checked against it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "nerrf_time.h"

struct opts {
	const char *dir;
	uint64_t count;    /* iterations per thread; 0 = use duration */
	double duration;   /* seconds */
	unsigned threads;
	double rate;       /* iterations per second, all threads; 0 = full speed */
	size_t size;       /* bytes per write */
	bool fsync;
	bool random;       /* high-entropy content, like encrypted output */
};

struct worker {
	pthread_t thread;
	unsigned id;
	const struct opts *o;
	uint64_t iterations, openat, write, fsync, rename, unlink, errors;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void fill(unsigned char *buf, size_t n, bool random, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	for (size_t i = 0; i < n; i++) {
		if (random) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (unsigned char)x;
		} else {
			buf[i] = (unsigned char)('a' + i % 26);
		}
	}
}

static void sleep_until(double t)
{
	struct timespec ts = {.tv_sec = (time_t)t, .tv_nsec = (long)((t - (double)(time_t)t) * 1e9)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop_requested)
		;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	const struct opts *o = w->o;
	unsigned char *buf = malloc(o->size ? o->size : 1);
	char name[64], locked[72];
	double start = nerrf_mono_ns() / 1e9, period = o->rate > 0 ? o->threads / o->rate : 0;

	if (!buf)
		return NULL;
	int dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		fprintf(stderr, "workload: cannot open %s: %s\n", o->dir, strerror(errno));
		w->errors++;
		free(buf);
		return NULL;
	}
	for (uint64_t i = 0; !stop_requested; i++) {
		if (o->count ? i >= o->count
			     : (period > 0 ? (double)i * period : (nerrf_mono_ns() / 1e9) - start) >= o->duration)
			break;
		if (period > 0)
			sleep_until(start + (double)i * period);
		snprintf(name, sizeof(name), "w%u-%" PRIu64 ".doc", w->id, i);
		snprintf(locked, sizeof(locked), "%s.locked", name);
		fill(buf, o->size, o->random, i);

		int fd = openat(dfd, name, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
		w->openat++;
		if (fd < 0) {
			w->errors++;
			continue;
		}
		w->write++;
		if (write(fd, buf, o->size) != (ssize_t)o->size)
			w->errors++;
		if (o->fsync) {
			w->fsync++;
			if (fsync(fd) != 0)
				w->errors++;
		}
		close(fd);
		w->rename++;
		if (renameat(dfd, name, dfd, locked) != 0)
			w->errors++;
		w->unlink++;
		if (unlinkat(dfd, locked, 0) != 0)
			w->errors++;
		w->iterations++;
	}
	close(dfd);
	free(buf);
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: workload [options]\n"
		"A ransomware-shaped loop: openat(O_CREAT), write, [fsync], close, rename to\n"
		".locked, unlink. Prints the syscalls it made and the rate it achieved.\n\n"
		"  -d, --dir DIR        where to work (default: a new directory under /tmp)\n"
		"  -n, --count N        iterations per thread (default: run for --duration)\n"
		"  -t, --duration SEC   how long to run (default 5)\n"
		"  -j, --threads N      worker threads (default 1)\n"
		"  -r, --rate R         iterations per second over all threads (default: full speed)\n"
		"  -s, --size BYTES     bytes per write (default 4096)\n"
		"      --fsync          fsync each file before closing it\n"
		"      --random         write high-entropy bytes (like encrypted output)\n"
		"  -h, --help\n");
}

static bool parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"count", required_argument, NULL, 'n'},
		{"duration", required_argument, NULL, 't'},
		{"threads", required_argument, NULL, 'j'},
		{"rate", required_argument, NULL, 'r'},
		{"size", required_argument, NULL, 's'},
		{"fsync", no_argument, NULL, 'F'},
		{"random", no_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {.duration = 5, .threads = 1, .size = 4096};
	char tmpdir[] = "/tmp/nerrf-workload-XXXXXX";
	bool made_dir = false;
	double v;
	int c;

	while ((c = getopt_long(argc, argv, "d:n:t:j:r:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o.dir = optarg; break;
		case 'n':
			if (!parse_num(optarg, 1, 1e12, &v))
				goto bad;
			o.count = (uint64_t)v;
			break;
		case 't':
			if (!parse_num(optarg, 0.001, 1e6, &o.duration))
				goto bad;
			break;
		case 'j':
			if (!parse_num(optarg, 1, 256, &v))
				goto bad;
			o.threads = (unsigned)v;
			break;
		case 'r':
			if (!parse_num(optarg, 0, 1e9, &o.rate))
				goto bad;
			break;
		case 's':
			if (!parse_num(optarg, 0, 64 << 20, &v))
				goto bad;
			o.size = (size_t)v;
			break;
		case 'F': o.fsync = true; break;
		case 'R': o.random = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		continue;
bad:
		fprintf(stderr, "workload: bad value '%s' for -%c (see --help for the ranges)\n", optarg, c);
		return 2;
	}
	if (!o.dir) {
		if (!mkdtemp(tmpdir)) {
			fprintf(stderr, "workload: mkdtemp: %s (set --dir)\n", strerror(errno));
			return 1;
		}
		o.dir = tmpdir;
		made_dir = true;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	struct worker *w = calloc(o.threads, sizeof(*w));
	if (!w)
		return 1;
	double t0 = nerrf_mono_ns() / 1e9;
	for (unsigned i = 0; i < o.threads; i++) {
		w[i] = (struct worker){.id = i, .o = &o};
		if (pthread_create(&w[i].thread, NULL, run, &w[i]) != 0) {
			fprintf(stderr, "workload: cannot start thread %u\n", i);
			return 1;
		}
	}
	struct worker sum = {0};
	for (unsigned i = 0; i < o.threads; i++) {
		pthread_join(w[i].thread, NULL);
		sum.iterations += w[i].iterations;
		sum.openat += w[i].openat;
		sum.write += w[i].write;
		sum.fsync += w[i].fsync;
		sum.rename += w[i].rename;
		sum.unlink += w[i].unlink;
		sum.errors += w[i].errors;
	}
	double secs = nerrf_mono_ns() / 1e9 - t0;
	uint64_t traced = sum.openat + sum.write + sum.rename + sum.unlink;
	/* One line, key=value, so scripts can parse it. */
	printf("workload pid=%d threads=%u seconds=%.3f iterations=%" PRIu64 " openat=%" PRIu64
	       " write=%" PRIu64 " fsync=%" PRIu64 " rename=%" PRIu64 " unlink=%" PRIu64
	       " errors=%" PRIu64 " traced_syscalls=%" PRIu64 " iter_per_sec=%.0f"
	       " syscalls_per_sec=%.0f\n",
	       (int)getpid(), o.threads, secs, sum.iterations, sum.openat, sum.write, sum.fsync,
	       sum.rename, sum.unlink, sum.errors, traced, (double)sum.iterations / secs,
	       (double)traced / secs);
	free(w);
	if (made_dir)
		rmdir(tmpdir);
	/* The counts are what a tracer is checked against: they must be what was asked for. */
	if (!traced || (o.count && sum.iterations != o.count * o.threads)) {
		fprintf(stderr, "workload: %" PRIu64 " iterations and %" PRIu64 " traced syscalls, "
			"asked for %" PRIu64 " iterations on each of %u threads\n", sum.iterations,
			traced, o.count, o.threads);
		return 1;
	}
	return sum.errors ? 1 : 0;
}
