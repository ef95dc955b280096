/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The journal writer. Appending copies the record into a staging buffer;
 * the publisher writes what its loop appended with one pwrite at an
 * explicit offset before it publishes those batches. The write returns
 * once the bytes are in the page cache, which a kill -9 of the publisher
 * does not lose, so no batch a subscriber got is missing from the journal.
 * An io_uring write would not do: ext4 has no non-blocking buffered write,
 * so io_uring hands it to a kernel worker, which a kill -9 cancels if it
 * has not started (and each hand-off costs a worker wakeup besides).
 * io_uring does what may wait for the disk: fdatasync of the segment and of
 * the directory, which the publisher's loop reaps without waiting. Index
 * entries wait for the next sync (the index is a hint that readers verify
 * and a start rebuilds). A record counts as kept once written
 * (completed_seq), which is how far the replay thread reads.
 *
 * A write that fails or comes up short (a full disk) ends in an episode:
 * the segment is cut back to its last whole record, and the journal retries
 * a second later. Every record not kept is counted in dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "nerrf_journal.h"
#include "nerrf_log.h"
#include "nerrf_time.h"

#define QUEUE_DEPTH 256
#define RETRY_NS 1000000000ull
#define RETENTION_EVERY_NS 60000000000ull
#define HDR sizeof(struct nerrf_jrec_hdr)
#define STAGE_BYTES (256u << 10) /* a write of staged records at most, unless one is larger */
#define IDX_STAGE 128		 /* index entries per index write at most */
#define SPARES 4		 /* staging buffers kept for reuse */

struct seg {
	uint64_t first_seq;
	int fd, idxfd;
	uint64_t size;	    /* where the next record goes */
	uint64_t nidx;	    /* index entries made, staged ones included */
	uint64_t idx_written; /* index entries written */
	uint64_t good_end;  /* end of the last record kept, in order */
	uint64_t good_nidx; /* index entries of the records kept */
	unsigned refs;	    /* syncs in flight, and 1 while current */
};

enum op_kind { OP_REC, OP_IDX, OP_SYNC, OP_SEGSYNC, OP_DIRSYNC };

/* OP_REC and OP_IDX are staged writes, the others io_uring requests. */
struct op {
	struct seg *seg;
	enum op_kind kind;
	uint64_t seq;	/* OP_REC: of its last record; OP_SYNC: completed_seq when submitted */
	uint64_t off;
	uint64_t nidx;	/* OP_REC: its first record's index entry number */
	unsigned nrec;	/* OP_REC: records in it */
	size_t len, cap;
	uint8_t data[];
};

struct sealed {
	uint64_t first_seq, size, mtime;
};

struct nerrf_journal {
	struct nerrf_journal_opts o;
	struct sealed *sealed; /* oldest first */
	size_t nsealed, capsealed;
	uint64_t sealed_bytes;
	int dirfd;
	struct io_uring ring;
	struct seg *cur;
	struct op *stage, *istage; /* records and index entries appended, not yet written */
	/*
	 * Written staging buffers, for the next passes: a 256 KiB malloc and
	 * free per pass made glibc grow and trim its heap (brk, page faults)
	 * every time.
	 */
	struct op *spare[SPARES];
	unsigned nspare;
	unsigned old_pending;  /* segment and directory syncs of a roll in flight */
	bool sync_inflight;
	uint64_t unsynced, last_sync_ns;
	uint64_t last_seq;
	_Atomic uint64_t completed;
	struct nerrf_journal_stats st;
	bool failing;	  /* a write failed: cut back */
	bool paused;	  /* until resume_ns */
	bool episode;	  /* paused since the log line, nothing kept since */
	int fail_err;
	uint64_t resume_ns, dropped_at_pause, last_retention_ns;
};

static void seg_name(char *buf, size_t len, uint64_t seq, const char *ext)
{
	snprintf(buf, len, "%020" PRIu64 ".%s", seq, ext);
}

static void seg_free(struct seg *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->idxfd >= 0)
		close(s->idxfd);
	free(s);
}

/* ---- io_uring ---- */

static struct io_uring_sqe *get_sqe(struct nerrf_journal *j)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&j->ring);
	if (!sqe) {
		/* Submission queue full: hand it to the kernel now, which does not wait. */
		io_uring_submit(&j->ring);
		sqe = io_uring_get_sqe(&j->ring);
	}
	return sqe;
}

static int queue_op(struct nerrf_journal *j, struct op *op)
{
	struct io_uring_sqe *sqe = get_sqe(j);
	if (!sqe)
		return -1;
	if (op->kind == OP_DIRSYNC)
		io_uring_prep_fsync(sqe, j->dirfd, 0);
	else
		io_uring_prep_fsync(sqe, op->seg->fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data(sqe, op);
	if (op->seg)
		op->seg->refs++;
	return 0;
}

static struct op *new_op(enum op_kind kind, struct seg *s, size_t cap)
{
	struct op *op = malloc(sizeof(*op) + cap);
	if (op) {
		*op = (struct op){.kind = kind, .seg = s, .cap = cap};
	}
	return op;
}

/* The index file back to the entries of records kept, never past what it holds. */
static int cut_index(struct seg *s)
{
	if (s->good_nidx < s->idx_written)
		s->idx_written = s->good_nidx;
	s->nidx = s->idx_written;
	return ftruncate(s->idxfd, (off_t)(s->idx_written * sizeof(struct nerrf_jidx)));
}

/* A segment nobody writes to any more: cut back what was not kept, sync, close. */
static void seg_put(struct nerrf_journal *j, struct seg *s)
{
	if (--s->refs)
		return;
	if (s->size > s->good_end) {
		if (ftruncate(s->fd, (off_t)s->good_end) != 0 || cut_index(s) != 0)
			log_warnx("journal: cannot cut segment %020" PRIu64
				" back to its last whole record: %s; the next start will",
				s->first_seq, strerror(errno));
		s->size = s->good_end;
	}
	struct op *op = new_op(OP_SEGSYNC, s, 0);
	if (op && queue_op(j, op) == 0) {
		j->old_pending++;
		return;
	}
	free(op);
	seg_free(s);
}

/* ---- completions ---- */

static void fail(struct nerrf_journal *j, int err)
{
	if (!j->episode) {
		j->episode = true;
		log_warnx("journal paused: a write to %s failed: %s; publishing "
			"continues, batches not journaled are counted in journal_dropped; "
			"retrying every second%s",
			j->o.dir, strerror(err),
			err == ENOSPC ? " (free space on that file system)" : "");
		j->dropped_at_pause = j->st.dropped;
	}
	j->failing = true;
	j->fail_err = err;
}

static void recycle(struct nerrf_journal *j, struct op *op)
{
	if (op->cap == STAGE_BYTES && j->nspare < SPARES)
		j->spare[j->nspare++] = op;
	else
		free(op);
}

/* A staging buffer for records at s->size on, from the spares if one is big enough. */
static struct op *new_stage(struct nerrf_journal *j, struct seg *s, size_t rlen)
{
	struct op *op;

	if (rlen <= STAGE_BYTES && j->nspare) {
		op = j->spare[--j->nspare];
		*op = (struct op){.kind = OP_REC, .seg = s, .cap = STAGE_BYTES};
	} else {
		op = new_op(OP_REC, s, rlen > STAGE_BYTES ? rlen : STAGE_BYTES);
	}
	if (op) {
		op->off = s->size;
		op->nidx = s->nidx;
	}
	return op;
}

static void complete(struct nerrf_journal *j, struct op *op, int res)
{
	struct seg *s = op->seg;

	switch (op->kind) {
	case OP_SYNC:
		j->sync_inflight = false;
		if (res == 0 && !j->old_pending)
			j->st.synced_seq = op->seq;
		break;
	case OP_SEGSYNC:
		j->old_pending--;
		free(op);
		seg_free(s);
		return;
	case OP_DIRSYNC:
		j->old_pending--;
		break;
	case OP_REC:
	case OP_IDX:
		break; /* written, not queued */
	}
	if (s)
		seg_put(j, s);
	free(op);
}

static void reap(struct nerrf_journal *j)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&j->ring, &cqe) == 0) {
		struct op *op = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		io_uring_cqe_seen(&j->ring, cqe);
		complete(j, op, res);
	}
}

/* ---- staged records and index entries to the page cache ---- */

/* All of it, or -1 with errno (ENOSPC for a write that came up short). */
static int write_at(int fd, const uint8_t *p, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* The staged records: kept, or the journal fails and they are counted dropped. */
static void write_stage(struct nerrf_journal *j)
{
	struct op *op = j->stage;

	if (!op)
		return;
	j->stage = NULL;
	if (!op->nrec) {
		recycle(j, op);
		return;
	}
	if (write_at(op->seg->fd, op->data, op->len, op->off) == 0) {
		struct seg *s = op->seg;
		s->good_end = op->off + op->len;
		s->good_nidx = op->nidx + op->nrec;
		j->st.written += op->nrec;
		j->st.bytes += op->len;
		j->unsynced += op->len;
		atomic_store_explicit(&j->completed, op->seq, memory_order_release);
		if (j->episode) {
			j->episode = false;
			log_warnx("journal resumed; %" PRIu64 " batches "
				"were not journaled meanwhile (journal_dropped)",
				j->st.dropped - j->dropped_at_pause);
		}
	} else {
		fail(j, errno);
		j->st.dropped += op->nrec;
	}
	recycle(j, op);
}

static void write_index(struct nerrf_journal *j)
{
	struct op *op = j->istage;

	if (!op)
		return;
	j->istage = NULL;
	/* A hint: if it fails, the next start rebuilds it. */
	if (write_at(op->seg->idxfd, op->data, op->len, op->off) == 0)
		op->seg->idx_written = (op->off + op->len) / sizeof(struct nerrf_jidx);
	free(op);
}

/* ---- segments ---- */

static struct seg *seg_open(struct nerrf_journal *j, uint64_t first_seq, int flags)
{
	char name[40];
	struct seg *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->first_seq = first_seq;
	s->refs = 1;
	seg_name(name, sizeof(name), first_seq, "seg");
	s->fd = openat(j->dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW | flags, 0640);
	seg_name(name, sizeof(name), first_seq, "idx");
	s->idxfd = s->fd < 0 ? -1
			     : openat(j->dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
				      0640);
	if (s->idxfd < 0) {
		int e = errno;
		seg_free(s);
		errno = e;
		return NULL;
	}
	return s;
}

static void seg_unlink(struct nerrf_journal *j, uint64_t first_seq)
{
	char name[40];
	seg_name(name, sizeof(name), first_seq, "seg");
	unlinkat(j->dirfd, name, 0);
	seg_name(name, sizeof(name), first_seq, "idx");
	unlinkat(j->dirfd, name, 0);
}

/* A sealed segment retention may delete, oldest first. */
static int keep(struct nerrf_journal *j, uint64_t first_seq, uint64_t size, uint64_t mtime)
{
	if (j->nsealed == j->capsealed) {
		size_t cap = j->capsealed ? j->capsealed * 2 : 64;
		struct sealed *v = realloc(j->sealed, cap * sizeof(*v));
		if (!v)
			return -1;
		j->sealed = v;
		j->capsealed = cap;
	}
	j->sealed[j->nsealed++] = (struct sealed){first_seq, size, mtime};
	j->sealed_bytes += size;
	return 0;
}

/* A new segment for the record seq; the old one is synced and closed once settled. */
static int roll(struct nerrf_journal *j, uint64_t seq)
{
	struct seg *s = seg_open(j, seq, O_CREAT | O_TRUNC);
	if (!s) {
		fail(j, errno);
		return -1;
	}
	if (j->cur) {
		write_stage(j);
		write_index(j);
		keep(j, j->cur->first_seq, j->cur->size,
		     nerrf_now_ns(CLOCK_REALTIME) / 1000000000u);
		seg_put(j, j->cur);
	}
	j->cur = s;
	/* The new name must survive a power cut with the records in it. */
	struct op *op = new_op(OP_DIRSYNC, NULL, 0);
	if (op && queue_op(j, op) == 0)
		j->old_pending++;
	else
		free(op);
	j->last_retention_ns = 0; /* look at retention now */
	return 0;
}

/*
 * Whole sealed segments, oldest first, while the journal is over its size or
 * the oldest is past its age; never the segment being written. Sizes are the
 * writer's own count of what it wrote there.
 */
static void retain(struct nerrf_journal *j, uint64_t wall_now)
{
	uint64_t cur = j->cur ? j->cur->size : 0;
	size_t k = 0;

	while (k < j->nsealed &&
	       (j->sealed_bytes + cur > j->o.max_bytes ||
		j->sealed[k].mtime + j->o.max_age_s < wall_now / 1000000000u)) {
		seg_unlink(j, j->sealed[k].first_seq);
		j->sealed_bytes -= j->sealed[k].size;
		j->st.deleted_segments++;
		j->st.deleted_bytes += j->sealed[k].size;
		k++;
	}
	if (k)
		memmove(j->sealed, j->sealed + k, (j->nsealed - k) * sizeof(*j->sealed));
	j->nsealed -= k;
}

/* ---- the publisher's side ---- */

int nerrf_journal_append(struct nerrf_journal *j, uint64_t seq, const void *payload, size_t len,
			 uint64_t first_ns, uint64_t last_ns)
{
	size_t rlen = HDR + len;

	if (j->failing || j->paused || len > NERRF_JOURNAL_MAX_RECORD)
		goto drop;
	if ((!j->cur || (j->cur->size && j->cur->size + rlen > j->o.segment_bytes)) &&
	    roll(j, seq) != 0)
		goto drop;

	struct seg *s = j->cur;
	if (j->stage && j->stage->len + rlen > j->stage->cap)
		write_stage(j);
	if (!j->stage && !(j->stage = new_stage(j, s, rlen)))
		goto drop;
	if (!j->istage) {
		j->istage = new_op(OP_IDX, s, IDX_STAGE * sizeof(struct nerrf_jidx));
		if (!j->istage)
			goto drop;
		j->istage->off = s->nidx * sizeof(struct nerrf_jidx);
	}
	struct op *rec = j->stage;
	struct nerrf_jrec_hdr h = {.magic = NERRF_JOURNAL_MAGIC, .len = (uint32_t)len,
				   .seq = seq, .first_ns = first_ns, .last_ns = last_ns};
	h.crc = nerrf_journal_crc(&h, payload);
	memcpy(rec->data + rec->len, &h, HDR);
	memcpy(rec->data + rec->len + HDR, payload, len);
	rec->len += rlen;
	rec->nrec++;
	rec->seq = seq;
	struct nerrf_jidx e = {.seq = seq, .first_ns = first_ns, .last_ns = last_ns,
			       .offset = s->size};
	memcpy(j->istage->data + j->istage->len, &e, sizeof(e));
	j->istage->len += sizeof(e);
	if (j->istage->len == j->istage->cap)
		write_index(j);
	s->size += rlen;
	s->nidx++;
	j->last_seq = seq;
	return 0;
drop:
	j->st.dropped++;
	return -1;
}

void nerrf_journal_write(struct nerrf_journal *j)
{
	write_stage(j);
}

void nerrf_journal_poll(struct nerrf_journal *j)
{
	uint64_t t = nerrf_now_ns(CLOCK_MONOTONIC);

	write_stage(j);
	reap(j);
	/* A failed episode: cut back to the last whole record, retry later. */
	if (j->failing && j->cur) {
		struct seg *s = j->cur;
		free(j->istage); /* entries of records not kept, or kept and left out of the hint */
		j->istage = NULL;
		if (s->size > s->good_end &&
		    (ftruncate(s->fd, (off_t)s->good_end) != 0 || cut_index(s) != 0))
			log_warnx("journal: cannot cut back to the last "
				"whole record: %s; the next start will", strerror(errno));
		s->size = s->good_end;
		s->nidx = s->idx_written;
		j->failing = false;
		j->paused = true;
		j->resume_ns = t + RETRY_NS;
	}
	if (j->failing && !j->cur) {
		j->failing = false;
		j->paused = true;
		j->resume_ns = t + RETRY_NS;
	}
	if (j->paused && t >= j->resume_ns)
		j->paused = false;
	if (!j->sync_inflight && j->cur && j->unsynced &&
	    (j->unsynced >= j->o.sync_bytes || t - j->last_sync_ns >= j->o.sync_ms * 1000000)) {
		struct op *op = new_op(OP_SYNC, j->cur, 0);
		if (!j->failing)
			write_index(j);
		if (op) {
			op->seq = atomic_load_explicit(&j->completed, memory_order_relaxed);
			if (queue_op(j, op) == 0) {
				j->sync_inflight = true;
				j->unsynced = 0;
				j->last_sync_ns = t;
			} else {
				free(op);
			}
		}
	}
	if (t - j->last_retention_ns >= RETENTION_EVERY_NS || !j->last_retention_ns) {
		j->last_retention_ns = t;
		retain(j, nerrf_now_ns(CLOCK_REALTIME));
	}
	io_uring_submit(&j->ring);
}

/* ---- start: recovery ---- */

/*
 * Verifies a segment record by record, cuts a torn or corrupt tail and
 * rewrites its index if it does not match. The segment's records, or -1.
 */
static int64_t recover_seg(struct nerrf_journal *j, const struct nerrf_jseg *g, struct seg *s,
			   bool sealed, uint64_t *last_seq)
{
	struct nerrf_jreader rd;
	struct nerrf_jrec r;
	struct nerrf_jidx *v = NULL, e;
	size_t n = 0, cap = 0;
	bool idx_ok = true;
	struct stat st, ist;
	int rv;

	if (fstat(s->fd, &st) != 0 || fstat(s->idxfd, &ist) != 0)
		return -1;
	/* Sealed segments: their last indexed record ending the file is enough. */
	uint64_t ni = (uint64_t)ist.st_size / sizeof(e);
	if (ist.st_size % sizeof(e) == 0 && ni &&
	    pread(s->idxfd, &e, sizeof(e), (off_t)((ni - 1) * sizeof(e))) == sizeof(e) &&
	    e.offset < (uint64_t)st.st_size && sealed) {
		nerrf_jreader_init(&rd, s->fd, e.offset);
		rv = nerrf_jreader_next(&rd, (uint64_t)st.st_size, &r);
		nerrf_jreader_free(&rd);
		if (rv == NERRF_JREAD_RECORD && r.h.seq == e.seq && rd.off == (uint64_t)st.st_size) {
			*last_seq = e.seq;
			s->size = s->good_end = rd.off;
			s->nidx = s->good_nidx = s->idx_written = ni;
			return (int64_t)ni;
		}
	}
	nerrf_jreader_init(&rd, s->fd, 0);
	while ((rv = nerrf_jreader_next(&rd, (uint64_t)st.st_size, &r)) == NERRF_JREAD_RECORD) {
		if (n == cap) {
			struct nerrf_jidx *nv = realloc(v, (cap = cap ? cap * 2 : 1024) * sizeof(*v));
			if (!nv) {
				free(v);
				nerrf_jreader_free(&rd);
				return -1;
			}
			v = nv;
		}
		v[n] = (struct nerrf_jidx){r.h.seq, r.h.first_ns, r.h.last_ns, r.off};
		if (idx_ok && (n >= ni ||
			       pread(s->idxfd, &e, sizeof(e), (off_t)(n * sizeof(e))) != sizeof(e) ||
			       memcmp(&e, &v[n], sizeof(e)) != 0))
			idx_ok = false;
		n++;
	}
	nerrf_jreader_free(&rd);
	if (rv == NERRF_JREAD_IO) {
		free(v);
		return -1;
	}
	if (rv != NERRF_JREAD_END) {
		uint64_t cut = (uint64_t)st.st_size - rd.off;
		log_warnx("journal: %s: %s at offset %" PRIu64 "; cut the "
			"%" PRIu64 " bytes from there (left by a crash or a full disk; "
			"counted), they are never served",
			g->name, rd.why, rd.off, cut);
		if (ftruncate(s->fd, (off_t)rd.off) != 0) {
			free(v);
			return -1;
		}
		j->st.truncated_bytes += cut;
	}
	if (!idx_ok || ni != n) {
		size_t len = n * sizeof(*v);
		if ((len && pwrite(s->idxfd, v, len, 0) != (ssize_t)len) ||
		    ftruncate(s->idxfd, (off_t)len) != 0) {
			free(v);
			return -1;
		}
	}
	if (n)
		*last_seq = v[n - 1].seq;
	free(v);
	s->size = s->good_end = rd.off;
	s->nidx = s->good_nidx = s->idx_written = n;
	return (int64_t)n;
}

static int recover(struct nerrf_journal *j, char *err, size_t errlen)
{
	struct nerrf_jseg *v;
	size_t n;

	if (nerrf_journal_list(j->dirfd, &v, &n) != 0) {
		snprintf(err, errlen, "cannot list the journal directory %s: %s", j->o.dir,
			 strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct seg *s = seg_open(j, v[i].first_seq, 0);
		if (!s) {
			snprintf(err, errlen, "cannot open journal segment %s/%s: %s", j->o.dir,
				 v[i].name, strerror(errno));
			free(v);
			return -1;
		}
		uint64_t last = 0;
		int64_t recs = recover_seg(j, &v[i], s, i + 1 < n, &last);
		if (recs < 0) {
			snprintf(err, errlen, "cannot verify journal segment %s/%s: %s", j->o.dir,
				 v[i].name, strerror(errno));
			seg_free(s);
			free(v);
			return -1;
		}
		if (recs == 0) {
			/* Created, then nothing whole written to it. */
			seg_free(s);
		seg_unlink(j, v[i].first_seq);
			continue;
		}
		j->last_seq = last;
		if (j->cur) {
			struct stat st;
			if (fstat(j->cur->fd, &st) != 0 ||
			    keep(j, j->cur->first_seq, j->cur->size, (uint64_t)st.st_mtime) != 0) {
				snprintf(err, errlen, "cannot take stock of the journal: %s",
					 strerror(errno));
				seg_free(s);
				free(v);
				return -1;
			}
			seg_free(j->cur);
		}
		j->cur = s;
	}
	free(v);
	atomic_store(&j->completed, j->last_seq);
	j->st.synced_seq = j->last_seq;
	return 0;
}

int nerrf_journal_open(const struct nerrf_journal_opts *o, struct nerrf_journal **out, char *err,
		       size_t errlen)
{
	struct nerrf_journal *j = calloc(1, sizeof(*j));
	int rv;

	if (!j) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	j->o = *o;
	j->dirfd = -1;
	if (mkdir(o->dir, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen,
			 "cannot create the journal directory %s: %s; create it for the "
			 "publisher's user, choose another with --journal, or run with --no-journal",
			 o->dir, strerror(errno));
		free(j);
		return -1;
	}
	j->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd < 0) {
		snprintf(err, errlen, "cannot open the journal directory %s: %s", o->dir,
			 strerror(errno));
		free(j);
		return -1;
	}
	/*
	 * Completions wait for the publisher's next system call instead of
	 * interrupting it (a wakeup from its ring #2 wait per write): it reaps
	 * them in its loop anyway. Kernels before 5.19 lack the flags.
	 */
	rv = io_uring_queue_init(QUEUE_DEPTH, &j->ring,
				 IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
	if (rv == -EINVAL)
		rv = io_uring_queue_init(QUEUE_DEPTH, &j->ring, 0);
	if (rv != 0) {
		snprintf(err, errlen,
			 "cannot set up io_uring for the journal: %s; the kernel may have it "
			 "disabled (sysctl kernel.io_uring_disabled): allow it or run with "
			 "--no-journal",
			 strerror(-rv));
		close(j->dirfd);
		free(j);
		return -1;
	}
	if (recover(j, err, errlen) != 0) {
		nerrf_journal_close(j);
		return -1;
	}
	j->last_sync_ns = nerrf_now_ns(CLOCK_MONOTONIC);
	*out = j;
	return 0;
}

uint64_t nerrf_journal_last_seq(const struct nerrf_journal *j)
{
	return j->last_seq;
}

bool nerrf_journal_busy(const struct nerrf_journal *j)
{
	return j->stage || j->sync_inflight || j->old_pending || j->unsynced || j->paused;
}

uint64_t nerrf_journal_completed_seq(const struct nerrf_journal *j)
{
	return atomic_load_explicit(&j->completed, memory_order_acquire);
}

void nerrf_journal_get_stats(const struct nerrf_journal *j, struct nerrf_journal_stats *s)
{
	*s = j->st;
}

void nerrf_journal_close(struct nerrf_journal *j)
{
	if (!j)
		return;
	if (!j->failing) {
		write_stage(j);
		write_index(j);
	}
	free(j->stage); /* a failed episode's: counted when it failed */
	free(j->istage);
	io_uring_submit(&j->ring);
	while (j->sync_inflight) {
		io_uring_submit_and_wait(&j->ring, 1);
		reap(j);
	}
	if (j->cur) {
		/* Cut back to the last record kept, sync and close, like any segment. */
		seg_put(j, j->cur);
		j->cur = NULL;
	}
	io_uring_submit(&j->ring);
	while (j->old_pending) {
		io_uring_submit_and_wait(&j->ring, 1);
		reap(j);
	}
	io_uring_queue_exit(&j->ring);
	while (j->nspare)
		free(j->spare[--j->nspare]);
	close(j->dirfd);
	free(j->sealed);
	free(j);
}
