/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Lock-free single-producer / single-consumer ring of variable-length records
 * in a shared file mapping, used for both hops of the pipeline:
 * collector -> encoder (raw records) and encoder -> publisher (batches).
 *
 * The ring lives in a regular file (normally under /run/nerrf, group-shared),
 * so either side can restart and re-attach while the other keeps running,
 * and both continue from where the ring's indices say they left off.
 *
 * Neither side trusts the shared memory. Every index and length read from
 * the mapping is checked against the capacity recorded privately at attach;
 * all writes go through private copies, so a hostile or corrupt peer can
 * cause lost records (counted) but never an out-of-bounds access.
 *
 * Producer:  reserve -> fill -> commit, ..., publish   (one release store per batch)
 * Consumer:  peek -> use -> release, ..., publish       (ditto); wait when empty
 *
 * Crashes: either side may be killed at any point. A record is visible only
 * after publish, so a consumer never sees half a record; a dead producer
 * loses only what it had not published. A consumer resumes at the published
 * tail, so records it released but had not yet published before dying are
 * delivered again: delivery is at-least-once across a consumer crash, and
 * the duplicate window is what the consumer released since its last
 * nerrf_ring_consumer_publish() (or nerrf_ring_wait()). Publish after
 * handing records on to bound it; nerrf_ring_close() publishes too.
 *
 * Corruption: the producer never reads the data area and keeps its header
 * line (identity, head) right: each publish restores whatever a peer
 * overwrote. The consumer reports bad records and indices through peek's
 * -NERRF_RING_ECORRUPT and skips them with resync; after a resync (or an
 * attach) it takes the sequence number of the next record if it is within
 * a ring's worth of the producer's counter. Payload bytes are not checked:
 * a record's contents are only as good as the peer that wrote them.
 *
 * Syscalls in steady state: none per record; futex only when a side sleeps
 * or wakes the other, clock_gettime (vDSO) while waiting. A consumer that
 * follows a re-initialised ring re-opens the path (openat, fstat, mmap,
 * munmap, close); the producer needs those, ftruncate, fchmod, getrandom
 * and rename only in nerrf_ring_open_producer().
 *
 * Not thread-safe: one thread per side per ring.
 */
#ifndef NERRF_RING_H
#define NERRF_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct nerrf_ring;

enum nerrf_ring_role {
	NERRF_RING_PRODUCER,
	NERRF_RING_CONSUMER,
};

/* Errors returned (negated) besides ordinary errno values. */
#define NERRF_RING_ECORRUPT 1001 /* the ring's shared state broke an invariant */
#define NERRF_RING_EVERSION 1002 /* header written by another ABI version */

/*
 * Attach as producer. Creates the file if it does not exist (mode applies
 * only then), and initialises the header if it is absent or invalid (new
 * generation). A valid existing ring is reused: the producer continues at the
 * published head. capacity is the data area in bytes, a power of two between
 * 4 KiB and 1 GiB; an existing ring of another capacity is re-initialised.
 * Returns 0 or a negative errno; *err_msg (optional) gets a static string
 * saying what to do.
 */
int nerrf_ring_open_producer(const char *path, size_t capacity, mode_t mode,
			     struct nerrf_ring **out, const char **err_msg);

/*
 * Whether dir's filesystem keeps its pages in memory only (tmpfs, ramfs).
 * Elsewhere the kernel writes ring pages back to disk, and the producer
 * stalls on writeback for tens of milliseconds at a time.
 */
bool nerrf_ring_dir_in_memory(const char *dir);

/*
 * Attach as consumer to a ring a producer has initialised. -EAGAIN when the
 * file is missing or not yet initialised (retry later); -NERRF_RING_EVERSION,
 * -EINVAL etc. for rings this build cannot read. The consumer continues at
 * the published tail.
 */
int nerrf_ring_open_consumer(const char *path, struct nerrf_ring **out, const char **err_msg);

void nerrf_ring_close(struct nerrf_ring *r);

/* Largest record this ring accepts (a quarter of the capacity, at most). */
size_t nerrf_ring_max_record(const struct nerrf_ring *r);
size_t nerrf_ring_capacity(const struct nerrf_ring *r);

/* ---- producer ---- */

/*
 * Reserve len contiguous bytes (8-byte aligned) for one record. NULL when
 * the ring is full or len is out of range: the caller either drops and calls
 * nerrf_ring_count_drop(), or waits with nerrf_ring_wait_space(). Never
 * blocks. The record becomes visible only after commit + publish.
 */
void *nerrf_ring_reserve(struct nerrf_ring *r, size_t len);
/* Finish the record returned by the last reserve. */
void nerrf_ring_commit(struct nerrf_ring *r);
/* Make every committed record visible and wake a sleeping consumer. */
void nerrf_ring_publish(struct nerrf_ring *r);
/* Count one dropped record of len bytes in the shared header. */
void nerrf_ring_count_drop(struct nerrf_ring *r, size_t len);
/*
 * Block until len bytes can be reserved, the timeout passes (-ETIMEDOUT) or
 * a signal arrives (-EINTR). Spins briefly, then sleeps on a futex that the
 * consumer wakes only when the producer announced it sleeps.
 */
int nerrf_ring_wait_space(struct nerrf_ring *r, size_t len, int timeout_ms);

/* ---- consumer ---- */

/*
 * Next record, or NULL when the ring is empty or *err is set. Checks the
 * record's length and sequence number against the bounds before returning
 * it. On corruption, *err = -NERRF_RING_ECORRUPT; the caller reports it and
 * calls nerrf_ring_resync().
 */
const void *nerrf_ring_peek(struct nerrf_ring *r, size_t *len, int *err);
/*
 * What the last corruption was (a static sentence for the log), or NULL if
 * none was seen. Set when peek returns -NERRF_RING_ECORRUPT and when the
 * producer finds the consumer's tail outside the ring.
 */
const char *nerrf_ring_corruption(const struct nerrf_ring *r);
/* Done with the record returned by the last peek. */
void nerrf_ring_release(struct nerrf_ring *r);
/* Publish the consumer position (frees space for the producer). */
void nerrf_ring_consumer_publish(struct nerrf_ring *r);
/*
 * Skip everything up to the producer's current head after corruption;
 * returns the number of bytes discarded (counted in the header).
 */
size_t nerrf_ring_resync(struct nerrf_ring *r);
/*
 * Block until a record is available (0), the timeout passes (-ETIMEDOUT,
 * timeout_ms < 0 waits forever) or a signal arrives (-EINTR). Publishes the
 * consumer position first. Spins briefly, then announces sleep and sleeps on
 * a futex; the producer only makes a wake syscall after that announcement.
 */
int nerrf_ring_wait(struct nerrf_ring *r, int timeout_ms);

/* ---- counters, readable from either side ---- */

struct nerrf_ring_stats {
	uint64_t generation;       /* changes when the producer re-initialises the ring */
	uint64_t produced;         /* records published */
	uint64_t consumed;         /* records released and published by the consumer */
	uint64_t dropped;          /* records the producer dropped (nerrf_ring_count_drop) */
	uint64_t dropped_bytes;
	uint64_t corrupt_resets;   /* resyncs after corruption, both sides */
	uint64_t corrupt_bytes;    /* bytes discarded by resyncs */
	uint64_t wakeups;          /* wake syscalls made by the producer */
	uint64_t space_wakeups;    /* wake syscalls made by the consumer */
	uint64_t used_bytes;       /* fill level when read */
	uint64_t capacity;
};

/* A snapshot of the header counters; values are only as true as the peer. */
void nerrf_ring_get_stats(const struct nerrf_ring *r, struct nerrf_ring_stats *st);

#endif /* NERRF_RING_H */
