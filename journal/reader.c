/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading journal segments. Whatever is on disk may be torn by a crash, cut
 * by a full disk, damaged, or handed to `nerrf replay` by anyone: every
 * length is checked against what is there before it is used, every record
 * against its checksum, and sequence numbers must rise.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "nerrf_journal.h"
#include "nerrf_pbwire.h"
#include "trace_fields.h"

#define HDR sizeof(struct nerrf_jrec_hdr)

_Static_assert(sizeof(struct nerrf_jrec_hdr) == 40, "journal record header is 40 bytes");
_Static_assert(sizeof(struct nerrf_jidx) == 32, "journal index entry is 32 bytes");

uint32_t nerrf_journal_crc(const struct nerrf_jrec_hdr *h, const void *payload)
{
	/* len, and everything after crc: a flipped bit anywhere but the magic shows. */
	uLong c = crc32(0L, (const Bytef *)&h->len, sizeof(h->len));
	c = crc32(c, (const Bytef *)&h->flags, (uInt)(HDR - offsetof(struct nerrf_jrec_hdr, flags)));
	/* zlib reads a NULL buffer as "start over" (returns 0): an empty payload adds nothing */
	if (h->len)
		c = crc32(c, (const Bytef *)payload, h->len);
	return (uint32_t)c;
}

/* The header's own checks; avail is what the segment holds from the header on. */
static int check_hdr(const struct nerrf_jrec_hdr *h, uint64_t avail, uint64_t last_seq,
		     const char **why)
{
	if (avail < HDR) {
		*why = "a record header is cut short";
		return NERRF_JREAD_TORN;
	}
	if (h->magic != NERRF_JOURNAL_MAGIC) {
		/* What a write that never happened leaves: nothing, or a hole of zeros. */
		*why = h->magic == 0 ? "a record was never completely written"
				     : "bad record magic";
		return h->magic == 0 ? NERRF_JREAD_TORN : NERRF_JREAD_BAD;
	}
	if (h->len > NERRF_JOURNAL_MAX_RECORD) {
		*why = "record length beyond the limit";
		return NERRF_JREAD_BAD;
	}
	if (h->len > avail - HDR) {
		*why = "a record's payload is cut short";
		return NERRF_JREAD_TORN;
	}
	if (h->seq <= last_seq) {
		*why = "publisher_seq does not rise";
		return NERRF_JREAD_BAD;
	}
	return NERRF_JREAD_RECORD;
}

int nerrf_journal_parse(const uint8_t *buf, size_t len, size_t *off, uint64_t *last_seq,
			struct nerrf_jrec *r, const char **why)
{
	if (*off >= len)
		return NERRF_JREAD_END;
	memset(&r->h, 0, sizeof(r->h));
	memcpy(&r->h, buf + *off, len - *off < HDR ? len - *off : HDR);
	int rv = check_hdr(&r->h, len - *off, *last_seq, why);
	if (rv != NERRF_JREAD_RECORD)
		return rv;
	r->off = *off;
	r->payload = (uint8_t *)buf + *off + HDR;
	if (nerrf_journal_crc(&r->h, r->payload) != r->h.crc) {
		*why = "record checksum mismatch";
		return NERRF_JREAD_BAD;
	}
	*off += HDR + r->h.len;
	*last_seq = r->h.seq;
	return NERRF_JREAD_RECORD;
}

void nerrf_jreader_init(struct nerrf_jreader *rd, int fd, uint64_t off)
{
	memset(rd, 0, sizeof(*rd));
	rd->fd = fd;
	rd->off = off;
}

void nerrf_jreader_free(struct nerrf_jreader *rd)
{
	free(rd->buf);
	rd->buf = NULL;
	rd->cap = 0;
}

static int pread_full(int fd, void *buf, size_t len, uint64_t off, size_t *got)
{
	*got = 0;
	while (*got < len) {
		ssize_t n = pread(fd, (uint8_t *)buf + *got, len - *got, (off_t)(off + *got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

int nerrf_jreader_next(struct nerrf_jreader *rd, uint64_t limit, struct nerrf_jrec *r)
{
	size_t got;

	if (rd->off >= limit)
		return NERRF_JREAD_END;
	memset(&r->h, 0, sizeof(r->h));
	if (pread_full(rd->fd, &r->h, HDR, rd->off, &got) != 0)
		return NERRF_JREAD_IO;
	if (got == 0)
		return NERRF_JREAD_END;
	int rv = check_hdr(&r->h, got < HDR ? got : limit - rd->off, rd->last_seq, &rd->why);
	if (rv != NERRF_JREAD_RECORD)
		return rv;
	if (r->h.len > rd->cap) {
		uint8_t *nb = realloc(rd->buf, r->h.len ? r->h.len : 1);
		if (!nb)
			return NERRF_JREAD_IO;
		rd->buf = nb;
		rd->cap = r->h.len;
	}
	if (pread_full(rd->fd, rd->buf, r->h.len, rd->off + HDR, &got) != 0)
		return NERRF_JREAD_IO;
	if (got < r->h.len) {
		rd->why = "a record's payload is cut short";
		return NERRF_JREAD_TORN;
	}
	r->payload = rd->buf;
	r->off = rd->off;
	if (nerrf_journal_crc(&r->h, r->payload) != r->h.crc) {
		rd->why = "record checksum mismatch";
		return NERRF_JREAD_BAD;
	}
	rd->off += HDR + r->h.len;
	rd->last_seq = r->h.seq;
	return NERRF_JREAD_RECORD;
}

int nerrf_journal_segname(const char *name, uint64_t *seq)
{
	uint64_t v = 0;

	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	if (strcmp(name + 20, ".seg") != 0)
		return -1;
	*seq = v;
	return 0;
}

static int by_seq(const void *a, const void *b)
{
	const struct nerrf_jseg *x = a, *y = b;
	return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

int nerrf_journal_list(int dirfd, struct nerrf_jseg **out, size_t *n)
{
	/* A descriptor of our own: readdir moves its offset. */
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct nerrf_jseg *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((e = readdir(d))) {
		uint64_t seq;
		if (nerrf_journal_segname(e->d_name, &seq) != 0)
			continue;
		if (cnt == cap) {
			struct nerrf_jseg *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				errno = ENOMEM;
				return -1;
			}
			v = nv;
		}
		v[cnt].first_seq = seq;
		memcpy(v[cnt].name, e->d_name, 25);
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), by_seq);
	*out = v;
	*n = cnt;
	return 0;
}

static bool qualifies(const struct nerrf_jrec_hdr *h, bool by_time, uint64_t key)
{
	return by_time ? h->last_ns >= key : h->seq >= key;
}

static uint64_t scan_from(int fd, uint64_t off, bool by_time, uint64_t key)
{
	struct nerrf_jreader rd;
	struct nerrf_jrec r;

	nerrf_jreader_init(&rd, fd, off);
	for (;;) {
		uint64_t at = rd.off;
		if (nerrf_jreader_next(&rd, UINT64_MAX, &r) != NERRF_JREAD_RECORD ||
		    qualifies(&r.h, by_time, key)) {
			nerrf_jreader_free(&rd);
			return at;
		}
	}
}

uint64_t nerrf_journal_seek(int fd, int idxfd, bool by_time, uint64_t key)
{
	struct stat st;
	struct nerrf_jidx e;
	uint64_t lo = 0, hi;

	if (idxfd < 0 || fstat(idxfd, &st) != 0)
		return scan_from(fd, 0, by_time, key);
	hi = (uint64_t)st.st_size / sizeof(e);
	/* The first entry that qualifies, if the index rises as it should. */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (pread(idxfd, &e, sizeof(e), (off_t)(mid * sizeof(e))) != sizeof(e))
			return scan_from(fd, 0, by_time, key);
		if ((by_time ? e.last_ns : e.seq) >= key)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo == 0)
		return scan_from(fd, 0, by_time, key);
	/* Start from the entry before; trust it only if the segment agrees. */
	struct nerrf_jrec_hdr h;
	if (pread(idxfd, &e, sizeof(e), (off_t)((lo - 1) * sizeof(e))) != sizeof(e) ||
	    pread(fd, &h, sizeof(h), (off_t)e.offset) != sizeof(h) ||
	    h.magic != NERRF_JOURNAL_MAGIC || h.seq != e.seq)
		return scan_from(fd, 0, by_time, key);
	return scan_from(fd, e.offset, by_time, key);
}

/* ---- the events' wall-clock range, from the protobuf wire format ---- */

/* The wall-clock ns of an Event's ts; 0 if none. */
static uint64_t event_ns(const uint8_t *p, const uint8_t *end)
{
	uint64_t key, v, sec = 0, nsec = 0;

	while (p < end && nerrf_get_varint(&p, end, &key)) {
		const uint8_t *f = p;
		if (!nerrf_pb_skip(&p, end, key & 7))
			return 0;
		if (key != NERRF_PB_KEY(NERRF_PB_EVENT_TS, NERRF_PB_LEN))
			continue;
		const uint8_t *q = f, *qe;
		if (!nerrf_get_varint(&q, end, &v))
			return 0;
		qe = q + v;
		while (q < qe && nerrf_get_varint(&q, qe, &key)) {
			if ((key & 7) != NERRF_PB_VARINT)
				return 0;
			if (!nerrf_get_varint(&q, qe, &v))
				return 0;
			if (key >> 3 == NERRF_PB_TIMESTAMP_SECONDS)
				sec = v;
			else if (key >> 3 == NERRF_PB_TIMESTAMP_NANOS)
				nsec = v;
		}
	}
	if (sec > UINT64_MAX / 1000000000u - 1 || nsec >= 1000000000u)
		return 0;
	return sec * 1000000000u + nsec;
}

void nerrf_journal_time_range(const uint8_t *pb, size_t len, uint64_t *first_ns,
			      uint64_t *last_ns)
{
	const uint8_t *p = pb, *end = pb + len;
	uint64_t key, lo = UINT64_MAX, hi = 0;

	while (p < end && nerrf_get_varint(&p, end, &key)) {
		const uint8_t *f = p;
		if (!nerrf_pb_skip(&p, end, key & 7))
			break;
		if (key != NERRF_PB_KEY(NERRF_PB_EVENT_BATCH_EVENTS, NERRF_PB_LEN))
			continue;
		uint64_t n;
		if (!nerrf_get_varint(&f, end, &n))
			break;
		uint64_t t = event_ns(f, f + n);
		if (!t)
			continue;
		lo = t < lo ? t : lo;
		hi = t > hi ? t : hi;
	}
	*first_ns = hi ? lo : 0;
	*last_ns = hi;
}
