/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared-memory ring throughput: a producer process and a consumer process,
 * pinned to different CPUs, move fixed-size records through one ring (a
 * sealed memfd, as the stages make theirs; the consumer inherits it) without
 * loss (the producer waits for space when the ring is full). Reports
 * the median over several runs of records/s, ns/record and wake-up syscalls
 * (futex wakes made by either side) per million records.
 *
 * The producer fills every byte of each record (as the collector copies an
 * event); the consumer reads every byte back (a word sum, as the encoder
 * reads every field) and checks it against the record number, so a lost,
 * reordered or torn record fails the run.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nerrf_ring.h"
#include "nerrf_time.h"

#define MAX_SIZES 8
#define PROD_BATCH 32 /* records per producer publish */
#define CONS_BATCH 64 /* records per consumer publish */

struct opts {
	size_t sizes[MAX_SIZES];
	int nsizes;
	uint64_t records;
	int runs;
	size_t capacity;
};

struct run {
	double rps;
	double ns_per_rec;
	double wakes_per_m;
};

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fprintf(stderr, "ring_bench: cannot pin to CPU %d (%s); results will be noisier\n",
			cpu, strerror(errno));
}

/* Sum of the record's 8-byte words plus its trailing bytes: linear in the first word. */
static uint64_t record_sum(const uint8_t *p, size_t len)
{
	uint64_t s = 0, w;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		s += w;
	}
	for (; i < len; i++)
		s += p[i];
	return s;
}

static void fill_template(uint8_t *tmpl, size_t size)
{
	for (size_t i = 0; i < size; i++)
		tmpl[i] = (uint8_t)(i * 7 + 1);
	memset(tmpl, 0, 8); /* the record number goes here */
}

static void produce(struct nerrf_ring_prod *r, size_t size, uint64_t records, uint64_t *start_ns)
{
	uint8_t tmpl[4096];
	unsigned int batch = 0;

	fill_template(tmpl, size);
	*start_ns = nerrf_mono_ns();
	for (uint64_t n = 0; n < records; n++) {
		uint8_t *w = nerrf_ring_reserve(r, size);
		if (!w) {
			nerrf_ring_publish(r);
			batch = 0;
			while (!(w = nerrf_ring_reserve(r, size)))
				nerrf_ring_wait_space(r, size, 1000);
		}
		memcpy(w, tmpl, size);
		memcpy(w, &n, sizeof(n));
		nerrf_ring_commit(r);
		if (++batch == PROD_BATCH) {
			nerrf_ring_publish(r);
			batch = 0;
		}
	}
	nerrf_ring_publish(r);
}

/* Returns 0, or -1 after saying what went wrong. */
static int consume(struct nerrf_ring_cons *r, size_t size, uint64_t records, pid_t child)
{
	unsigned int unpublished = 0;
	uint8_t tmpl[4096];
	uint64_t n = 0, base;

	fill_template(tmpl, size);
	base = record_sum(tmpl, size);

	while (n < records) {
		size_t len;
		int err;
		const uint8_t *p = nerrf_ring_peek(r, &len, &err);
		if (!p) {
			if (err) {
				fprintf(stderr, "ring_bench: ring corrupt after %" PRIu64
					" records: %s\n", n, nerrf_ring_cons_corruption(r));
				return -1;
			}
			if (nerrf_ring_wait(r, 1000) == -ETIMEDOUT &&
			    waitpid(child, NULL, WNOHANG) != 0) {
				fprintf(stderr, "ring_bench: producer died after %" PRIu64
					" records\n", n);
				return -1;
			}
			unpublished = 0;
			continue;
		}
		if (len != size || record_sum(p, len) != base + n) {
			fprintf(stderr, "ring_bench: record %" PRIu64 " arrived with %zu bytes and "
				"a wrong sum: the ring lost, reordered or tore records\n", n, len);
			return -1;
		}
		n++;
		nerrf_ring_release(r);
		if (++unpublished == CONS_BATCH) {
			nerrf_ring_consumer_publish(r);
			unpublished = 0;
		}
	}
	nerrf_ring_consumer_publish(r);
	return 0;
}

static int one_run(const struct opts *o, size_t size, int cpus, struct run *out)
{
	struct nerrf_ring_prod *p;
	struct nerrf_ring_cons *c;
	struct nerrf_ring_stats st;
	uint64_t *start_ns, end_ns;
	const char *msg = NULL;
	int fd, ret, status;
	pid_t child;

	ret = nerrf_ring_create("ring-bench", o->capacity, &p, &msg);
	if (ret < 0) {
		fprintf(stderr, "ring_bench: %s (%s)\n", nerrf_ring_strerror(ret), msg);
		return -1;
	}
	fd = dup(nerrf_ring_fd(p));
	ret = fd < 0 ? -errno : nerrf_ring_attach(fd, &c, &msg);
	if (ret < 0) {
		fprintf(stderr, "ring_bench: attach: %s (%s)\n", nerrf_ring_strerror(ret),
			msg ? msg : "");
		if (fd >= 0)
			close(fd);
		nerrf_ring_prod_close(p);
		return -1;
	}
	start_ns = mmap(NULL, sizeof(*start_ns), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (start_ns == MAP_FAILED) {
		perror("ring_bench: mmap");
		ret = -1;
		goto out;
	}

	child = fork();
	if (child < 0) {
		perror("ring_bench: fork");
		ret = -1;
		goto out_unmap;
	}
	if (child == 0) {
		nerrf_ring_cons_close(c);
		pin(cpus > 1 ? 0 : -1);
		produce(p, size, o->records, start_ns);
		nerrf_ring_prod_close(p);
		_exit(0);
	}
	pin(cpus > 1 ? 1 : -1);
	ret = consume(c, size, o->records, child);
	end_ns = nerrf_mono_ns();
	if (ret < 0)
		kill(child, SIGKILL);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "ring_bench: producer failed (status %#x)\n", status);
		ret = -1;
	}
	if (ret == 0) {
		double secs = (double)(end_ns - *start_ns) / 1e9;
		nerrf_ring_cons_stats(c, &st);
		out->rps = (double)o->records / secs;
		out->ns_per_rec = secs * 1e9 / (double)o->records;
		out->wakes_per_m = (double)(st.wakeups + st.space_wakeups) * 1e6 /
				   (double)o->records;
	}
	pin(-1);
out_unmap:
	munmap(start_ns, sizeof(*start_ns));
out:
	nerrf_ring_cons_close(c);
	nerrf_ring_prod_close(p);
	return ret;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ring_bench [--size BYTES]... [--records N] [--runs N] [--capacity BYTES]\n"
		"Moves N records of BYTES bytes through a shared-memory ring between two\n"
		"processes pinned to CPUs 0 and 1, without loss, and prints the median of the\n"
		"runs: records/s, ns/record and wake-up syscalls per million records.\n"
		"  --size BYTES      record payload size; repeatable (default: 64, 128, 512)\n"
		"  --records N       records per run (default 5000000)\n"
		"  --runs N          runs per size; the median is reported (default 5)\n"
		"  --capacity BYTES  ring data area, power of two, 4 KiB..1 GiB (default 1 MiB)\n");
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno == 0 && end != s && *end == '\0' && s[0] != '-';
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "records", required_argument, NULL, 'n' },
		{ "runs", required_argument, NULL, 'r' },
		{ "capacity", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .records = 5000000, .runs = 5, .capacity = 1 << 20 };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t v;
	int opt;

	while ((opt = getopt_long(argc, argv, "s:n:r:c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (!parse_u64(optarg, &v) || v < 8 || v > 4096 || o.nsizes == MAX_SIZES) {
				fprintf(stderr, "ring_bench: --size %s: give 8..4096 bytes, "
					"at most %d sizes\n", optarg, MAX_SIZES);
				return 2;
			}
			o.sizes[o.nsizes++] = v;
			break;
		case 'n':
			if (!parse_u64(optarg, &o.records) || o.records == 0) {
				fprintf(stderr, "ring_bench: --records %s: give a positive count\n",
					optarg);
				return 2;
			}
			break;
		case 'r':
			if (!parse_u64(optarg, &v) || v == 0 || v > 1000) {
				fprintf(stderr, "ring_bench: --runs %s: give 1..1000\n", optarg);
				return 2;
			}
			o.runs = (int)v;
			break;
		case 'c':
			if (!parse_u64(optarg, &v)) {
				fprintf(stderr, "ring_bench: --capacity %s: give a byte count\n",
					optarg);
				return 2;
			}
			o.capacity = v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ring_bench: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (o.nsizes == 0) {
		o.sizes[0] = 64, o.sizes[1] = 128, o.sizes[2] = 512;
		o.nsizes = 3;
	}
	if (ncpu < 2)
		fprintf(stderr, "ring_bench: only %ld CPU online: running unpinned\n", ncpu);

	printf("ring_bench: %" PRIu64 " records/run, %d runs, capacity %zu, %ld CPUs%s\n",
	       o.records, o.runs, o.capacity, ncpu, ncpu >= 2 ? " (producer CPU 0, consumer CPU 1)"
							: "");
	printf("%8s %14s %12s %14s %14s %14s\n", "size", "records/s", "ns/record",
	       "wakes/M rec", "min rec/s", "max rec/s");
	for (int s = 0; s < o.nsizes; s++) {
		double rps[1000], ns[1000], wk[1000];
		for (int i = 0; i < o.runs; i++) {
			struct run r;
			if (one_run(&o, o.sizes[s], (int)ncpu, &r) < 0)
				return 1;
			rps[i] = r.rps, ns[i] = r.ns_per_rec, wk[i] = r.wakes_per_m;
		}
		double med_rps = median(rps, o.runs);
		printf("%8zu %14.0f %12.1f %14.1f %14.0f %14.0f\n", o.sizes[s], med_rps,
		       median(ns, o.runs), median(wk, o.runs), rps[0], rps[o.runs - 1]);
		fflush(stdout);
	}
	return 0;
}
