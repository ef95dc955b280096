/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The publisher's durable journal (docs/JOURNAL.md): every EventBatch it
 * publishes, exactly the bytes subscribers received, appended to segments
 * DIR/<first publisher_seq, 20 digits>.seg, each with an index .idx of fixed
 * entries. The writer (writer.c) is the publisher's, through io_uring, and
 * never makes the publish path wait for the disk; the reader (reader.c)
 * trusts nothing it reads: the replay endpoint, `nerrf replay` on a copy of
 * the directory and the fuzz target all go through it.
 */
#ifndef NERRF_JOURNAL_H
#define NERRF_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NERRF_JOURNAL_MAGIC 0x314a524eu /* "NRJ1" little-endian */
/* Far above the largest message a subscriber accepts by default (4 MiB). */
#define NERRF_JOURNAL_MAX_RECORD (64u << 20)
#define NERRF_JOURNAL_DEFAULT_DIR "/var/lib/nerrf/journal"

/* Little-endian on disk, as every host nerrf runs on. */
struct nerrf_jrec_hdr {
	uint32_t magic;
	uint32_t len;	   /* payload bytes that follow */
	uint32_t crc;	   /* zlib crc32 of the rest of this header, then the payload */
	uint32_t flags;	   /* 0; reserved */
	uint64_t seq;	   /* publisher_seq of the batch */
	uint64_t first_ns; /* wall-clock range of its events; 0, 0 without events */
	uint64_t last_ns;
};

struct nerrf_jidx {
	uint64_t seq;
	uint64_t first_ns;
	uint64_t last_ns;
	uint64_t offset; /* of the record's header in the segment */
};

/* ---- reading (reader.c) ---- */

enum nerrf_jread {
	NERRF_JREAD_RECORD = 1, /* *r filled in */
	NERRF_JREAD_END = 0,	/* clean end of the segment */
	NERRF_JREAD_TORN = -1,	/* a record starts but does not end: a write cut short */
	NERRF_JREAD_BAD = -2,	/* magic, length, checksum or order wrong */
	NERRF_JREAD_IO = -3,	/* read error, errno set */
};

struct nerrf_jrec {
	struct nerrf_jrec_hdr h;
	uint64_t off;	 /* where the header starts */
	uint8_t *payload; /* h.len bytes, in the reader's buffer */
};

struct nerrf_jreader {
	int fd;
	uint64_t off;	   /* next record */
	uint64_t last_seq; /* of the last good record; records must rise */
	uint8_t *buf;
	size_t cap;
	const char *why; /* for TORN and BAD */
};

/* Records of a segment held in memory (the fuzz target, tests). */
int nerrf_journal_parse(const uint8_t *buf, size_t len, size_t *off, uint64_t *last_seq,
			struct nerrf_jrec *r, const char **why);

void nerrf_jreader_init(struct nerrf_jreader *rd, int fd, uint64_t off);
void nerrf_jreader_free(struct nerrf_jreader *rd);
/* The next record at rd->off (advanced past it), never past limit bytes. */
int nerrf_jreader_next(struct nerrf_jreader *rd, uint64_t limit, struct nerrf_jrec *r);

uint32_t nerrf_journal_crc(const struct nerrf_jrec_hdr *h, const void *payload);

/* Segments of a directory, oldest first. */
struct nerrf_jseg {
	uint64_t first_seq; /* from the name */
	char name[32];	    /* <20 digits>.seg */
};
/* -1 with errno on error; *out is malloc'd (free it). */
int nerrf_journal_list(int dirfd, struct nerrf_jseg **out, size_t *n);
/* The name's seq if it is a segment name, else -1. */
int nerrf_journal_segname(const char *name, uint64_t *seq);

/*
 * Where in the segment open at fd (its index at idxfd, -1 if none) the
 * first record with seq >= from_seq (by_time: whose last_ns >= from_ns)
 * starts. The index is only a hint: the record found there is verified, and
 * without it the segment is scanned. Returns the offset, or the segment's
 * clean end when no record qualifies.
 */
uint64_t nerrf_journal_seek(int fd, int idxfd, bool by_time, uint64_t key);

/* The wall-clock range of an EventBatch's events, from the wire format alone. */
void nerrf_journal_time_range(const uint8_t *pb, size_t len, uint64_t *first_ns,
			      uint64_t *last_ns);

/* ---- writing (writer.c) ---- */

struct nerrf_journal_opts {
	const char *dir;
	uint64_t segment_bytes;
	uint64_t sync_ms;     /* fdatasync at least this often while writing ... */
	uint64_t sync_bytes;  /* ... and after this many bytes */
	uint64_t max_bytes;   /* retention: total size of the segments */
	uint64_t max_age_s;   /* and age of a segment's newest record */
};

#define NERRF_JOURNAL_DEFAULTS                                                       \
	{                                                                            \
		.dir = NERRF_JOURNAL_DEFAULT_DIR, .segment_bytes = 64u << 20,        \
		.sync_ms = 1000, .sync_bytes = 4u << 20,                              \
		.max_bytes = 1ull << 30, .max_age_s = 7 * 86400,                     \
	}

struct nerrf_journal_stats {
	uint64_t dropped;	   /* batches not journaled: disk full, write error */
	uint64_t written;	   /* batches whose write completed */
	uint64_t bytes;		   /* their bytes, headers included */
	uint64_t synced_seq;	   /* every batch up to this one survives a power cut */
	uint64_t truncated_bytes;  /* a torn or corrupt tail cut at start */
	uint64_t deleted_segments; /* by retention */
	uint64_t deleted_bytes;
};

struct nerrf_journal;

/*
 * Opens (creating if missing) the journal directory, verifies the newest
 * segments and cuts a torn or corrupt tail, applies retention. -1 with a
 * message in err.
 */
int nerrf_journal_open(const struct nerrf_journal_opts *o, struct nerrf_journal **out, char *err,
		       size_t errlen);
/* publisher_seq of the last record kept; 0 for an empty journal. */
uint64_t nerrf_journal_last_seq(const struct nerrf_journal *j);
/*
 * Stages one record; the bytes are copied. 0 staged, -1 not journaled
 * (counted in dropped). A full staging buffer is written out first.
 */
int nerrf_journal_append(struct nerrf_journal *j, uint64_t seq, const void *payload, size_t len,
			 uint64_t first_ns, uint64_t last_ns);
/*
 * Writes what was staged to the page cache (one pwrite): a kill -9 after it
 * loses none of it. Call it before publishing what was appended.
 */
void nerrf_journal_write(struct nerrf_journal *j);
/* Writes what was staged, reaps syncs, starts one if due, retains; never waits for a sync. */
void nerrf_journal_poll(struct nerrf_journal *j);
/* Staged records or syncs in flight: poll again soon. */
bool nerrf_journal_busy(const struct nerrf_journal *j);
/* Every record up to this seq is complete on disk (readable); any thread. */
uint64_t nerrf_journal_completed_seq(const struct nerrf_journal *j);
void nerrf_journal_get_stats(const struct nerrf_journal *j, struct nerrf_journal_stats *s);
/* Writes what is staged, waits for the syncs in flight, syncs, closes. */
void nerrf_journal_close(struct nerrf_journal *j);

#endif /* NERRF_JOURNAL_H */
