/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Journal throughput, side by side in one run: the real writer (io_uring,
 * journal/writer.c, default options) against plain write(2) of the same
 * records (header with its crc32, payload, then the 32-byte index entry, as
 * the journal lays them out) to a file, fdatasync after every 4 MiB as the
 * journal's default policy. Each run writes --records records of --payload
 * bytes into a fresh directory and ends when every record is on disk and
 * synced. Reports medians over --runs of MB/s, records/s and the ns the
 * caller spends per record (for the journal, what the publish path pays).
 * --pass N writes every N records, as the publisher writes once per pass
 * of its loop (1: a batch per pass, a quiet host; up to 64 under load).
 *
 * Fails when a journal run does not read back, through the checking reader,
 * exactly the records appended, or a plain file is not the size written.
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nerrf_journal.h"
#include "nerrf_time.h"

#define MAX_RUNS 32

struct result {
	double mbps, rps, call_ns;
};

static void die(const char *what)
{
	fprintf(stderr, "journal_bench: %s\n", what);
	exit(1);
}

static void rm_rf(const char *dir)
{
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "journal_bench: could not remove %s\n", dir);
}

static uint64_t read_back(const char *dir)
{
	struct nerrf_jseg *v;
	size_t n;
	uint64_t cnt = 0;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);

	if (dfd < 0 || nerrf_journal_list(dfd, &v, &n) != 0)
		die("cannot list the journal written");
	for (size_t i = 0; i < n; i++) {
		struct nerrf_jreader rd;
		struct nerrf_jrec r;
		int fd = openat(dfd, v[i].name, O_RDONLY), rv;
		nerrf_jreader_init(&rd, fd, 0);
		while ((rv = nerrf_jreader_next(&rd, UINT64_MAX, &r)) == NERRF_JREAD_RECORD)
			cnt++;
		if (rv != NERRF_JREAD_END)
			die("the journal written does not read back cleanly");
		nerrf_jreader_free(&rd);
		close(fd);
	}
	free(v);
	close(dfd);
	return cnt;
}

static struct result run_journal(const char *dir, uint64_t records, unsigned pass,
				 const uint8_t *payload, size_t len)
{
	struct nerrf_journal_opts o = NERRF_JOURNAL_DEFAULTS;
	struct nerrf_journal *j;
	struct nerrf_journal_stats st;
	char err[512];
	uint64_t in_calls = 0;

	o.dir = dir;
	o.max_bytes = 1ull << 50;
	if (nerrf_journal_open(&o, &j, err, sizeof(err)) != 0)
		die(err);
	uint64_t t0 = nerrf_mono_ns();
	for (uint64_t s = 1; s <= records; s++) {
		uint64_t a = nerrf_mono_ns();
		/* A failed write pauses the journal: let it resume. */
		while (nerrf_journal_append(j, s, payload, len, s, s) != 0) {
			nerrf_journal_get_stats(j, &st);
			if (st.dropped > 1000000)
				die("the journal keeps refusing records");
			nerrf_journal_poll(j);
			usleep(100);
		}
		/* The publisher writes once a pass, before it sends, and polls after. */
		if (s % pass == 0)
			nerrf_journal_write(j);
		if (s % 32 == 0)
			nerrf_journal_poll(j);
		in_calls += nerrf_mono_ns() - a;
	}
	nerrf_journal_close(j); /* waits for every write, syncs */
	uint64_t dt = nerrf_mono_ns() - t0;
	if (read_back(dir) != records)
		die("the journal lost records");
	double bytes = (double)records * (double)(sizeof(struct nerrf_jrec_hdr) + len);
	return (struct result){bytes / 1e6 / ((double)dt / 1e9), (double)records * 1e9 / (double)dt,
			       (double)in_calls / (double)records};
}

static struct result run_write(const char *dir, uint64_t records, const uint8_t *payload,
			       size_t len)
{
	char seg[700], idx[700];
	uint8_t *rec = malloc(sizeof(struct nerrf_jrec_hdr) + len);
	uint64_t off = 0, unsynced = 0;
	size_t rlen = sizeof(struct nerrf_jrec_hdr) + len;

	if (!rec || mkdir(dir, 0700) != 0)
		die("cannot make the plain write(2) directory");
	snprintf(seg, sizeof(seg), "%s/plain.seg", dir);
	snprintf(idx, sizeof(idx), "%s/plain.idx", dir);
	int fd = open(seg, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int ifd = open(idx, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ifd < 0)
		die("cannot create the plain files");
	uint64_t t0 = nerrf_mono_ns();
	for (uint64_t s = 1; s <= records; s++) {
		struct nerrf_jrec_hdr h = {.magic = NERRF_JOURNAL_MAGIC, .len = (uint32_t)len,
					   .seq = s, .first_ns = s, .last_ns = s};
		h.crc = nerrf_journal_crc(&h, payload);
		memcpy(rec, &h, sizeof(h));
		memcpy(rec + sizeof(h), payload, len);
		struct nerrf_jidx e = {.seq = s, .first_ns = s, .last_ns = s, .offset = off};
		if (write(fd, rec, rlen) != (ssize_t)rlen || write(ifd, &e, sizeof(e)) != sizeof(e))
			die("plain write(2) failed");
		off += rlen;
		if ((unsynced += rlen) >= 4u << 20) {
			fdatasync(fd);
			unsynced = 0;
		}
	}
	fdatasync(fd);
	uint64_t dt = nerrf_mono_ns() - t0;
	struct stat st;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != off)
		die("the plain file is not the size written");
	close(fd);
	close(ifd);
	free(rec);
	double bytes = (double)records * (double)rlen;
	return (struct result){bytes / 1e6 / ((double)dt / 1e9), (double)records * 1e9 / (double)dt,
			       (double)dt / (double)records};
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void report(const char *name, struct result *r, int runs)
{
	double m[MAX_RUNS], q[MAX_RUNS], c[MAX_RUNS];
	for (int i = 0; i < runs; i++) {
		m[i] = r[i].mbps;
		q[i] = r[i].rps;
		c[i] = r[i].call_ns;
	}
	printf("| %s | %.0f | %.0f | %.0f |\n", name, median(m, runs), median(q, runs),
	       median(c, runs));
}

int main(int argc, char **argv)
{
	const char *base = "/var/tmp";
	uint64_t records = 100000;
	unsigned pass = 1;
	size_t len = 1024;
	int runs = 5, c;
	static const struct option lo[] = {
		{"dir", required_argument, NULL, 'd'},	   {"records", required_argument, NULL, 'n'},
		{"pass", required_argument, NULL, 'P'},
		{"payload", required_argument, NULL, 'p'}, {"runs", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': base = optarg; break;
		case 'n': records = strtoull(optarg, NULL, 10); break;
		case 'P': pass = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'p': len = strtoull(optarg, NULL, 10); break;
		case 'r': runs = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: journal_bench [--dir D] [--records N] "
				"[--payload BYTES] [--runs R] [--pass N]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || records < 1 || len < 1 || len > (1u << 20) || pass < 1)
		die("--runs 1..32, --records >= 1, --payload 1..1M, --pass >= 1");

	uint8_t *payload = malloc(len);
	struct result ju[MAX_RUNS], wr[MAX_RUNS];
	char dir[512];
	if (!payload)
		die("out of memory");
	for (size_t i = 0; i < len; i++)
		payload[i] = (uint8_t)(i * 7);
	/* Alternating, so both see the same state of a shared machine. */
	for (int i = 0; i < runs; i++) {
		if (snprintf(dir, sizeof(dir), "%s/nerrf-jbench-%d", base, (int)getpid()) >= (int)sizeof(dir))
			die("--dir: path too long");
		rm_rf(dir);
		ju[i] = run_journal(dir, records, pass, payload, len);
		rm_rf(dir);
		wr[i] = run_write(dir, records, payload, len);
		rm_rf(dir);
	}
	printf("%" PRIu64 " records of %zu bytes (+%zu header) in %s, %u a submission, "
	       "median of %d runs\n\n"
	       "| writer | MB/s | records/s | caller ns/record |\n|---|---:|---:|---:|\n",
	       records, len, sizeof(struct nerrf_jrec_hdr), base, pass, runs);
	report("journal (io_uring)", ju, runs);
	report("plain write(2)", wr, runs);
	free(payload);
	return 0;
}
