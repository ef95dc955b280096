/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the journal tests: real files in a scratch directory, the real writer and reader. */
#ifndef NERRF_JTEST_H
#define NERRF_JTEST_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"
#include "nerrf_journal.h"

/* Record seq's payload: its length and bytes follow from seq, so any mix-up shows. */
static inline size_t jt_payload(uint64_t seq, uint8_t *buf, size_t cap)
{
	size_t len = 16 + (seq * 7919) % 3000;
	CHECK(len <= cap);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq * 31 + i * 7);
	return len;
}

static inline void jt_sync(struct nerrf_journal *j, uint64_t seq)
{
	for (int i = 0; i < 5000 && nerrf_journal_completed_seq(j) < seq; i++) {
		nerrf_journal_poll(j);
		usleep(1000);
	}
	CHECK_EQ_U64(nerrf_journal_completed_seq(j), seq);
}

/* Appends records from..to inclusive, time range seq s .. s+1 (in ns). */
static inline void jt_write(struct nerrf_journal *j, uint64_t from, uint64_t to)
{
	static uint8_t buf[4096];
	for (uint64_t s = from; s <= to; s++) {
		size_t len = jt_payload(s, buf, sizeof(buf));
		CHECK(nerrf_journal_append(j, s, buf, len, s * 1000000000ull,
					   s * 1000000000ull + 999) == 0,
		      "append %llu", (unsigned long long)s);
		if (s % 16 == 0)
			nerrf_journal_poll(j);
	}
	jt_sync(j, to);
}

static inline struct nerrf_journal *jt_open(struct nerrf_journal_opts *o)
{
	struct nerrf_journal *j;
	char err[512];
	CHECK(nerrf_journal_open(o, &j, err, sizeof(err)) == 0, "open: %s", err);
	return j;
}

/*
 * Reads every segment of dir in order, checking each record against
 * jt_payload; returns the records read, *last the last seq.
 */
static inline uint64_t jt_read_all(const char *dir, uint64_t *first, uint64_t *last)
{
	static uint8_t want[4096];
	struct nerrf_jseg *v;
	size_t n;
	uint64_t cnt = 0, prev = 0;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);

	CHECK(dfd >= 0);
	CHECK(nerrf_journal_list(dfd, &v, &n) == 0);
	*first = 0;
	for (size_t i = 0; i < n; i++) {
		int fd = openat(dfd, v[i].name, O_RDONLY);
		struct nerrf_jreader rd;
		struct nerrf_jrec r;
		int rv;
		CHECK(fd >= 0);
		nerrf_jreader_init(&rd, fd, 0);
		while ((rv = nerrf_jreader_next(&rd, UINT64_MAX, &r)) == NERRF_JREAD_RECORD) {
			CHECK(r.off || r.h.seq == v[i].first_seq, "a segment is named by its first seq");
			if (!*first)
				*first = r.h.seq;
			CHECK(r.h.seq == prev + 1 || !prev, "seq %llu after %llu",
			      (unsigned long long)r.h.seq, (unsigned long long)prev);
			size_t len = jt_payload(r.h.seq, want, sizeof(want));
			CHECK(r.h.len == len && memcmp(r.payload, want, len) == 0,
			      "record %llu differs from what was appended",
			      (unsigned long long)r.h.seq);
			CHECK_EQ_U64(r.h.first_ns, r.h.seq * 1000000000ull);
			prev = r.h.seq;
			cnt++;
		}
		CHECK(rv == NERRF_JREAD_END, "segment %s: %d %s", v[i].name, rv, rd.why);
		nerrf_jreader_free(&rd);
		close(fd);
	}
	free(v);
	close(dfd);
	*last = prev;
	return cnt;
}

static inline uint64_t jt_size(const char *dir, const char *name)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	CHECK(stat(p, &st) == 0, "%s: %s", p, strerror(errno));
	return (uint64_t)st.st_size;
}

static inline const char *jt_seg(uint64_t seq, const char *ext)
{
	static char b[64];
	snprintf(b, sizeof(b), "%020llu.%s", (unsigned long long)seq, ext);
	return b;
}

static inline void jt_rm_rf(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
}

#endif
