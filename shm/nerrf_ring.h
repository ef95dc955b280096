/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Lock-free single-producer / single-consumer ring of variable-length records
 * in shared memory, used for both hops of the pipeline:
 * collector -> encoder (raw records) and encoder -> publisher (batches).
 *
 * The producer makes the ring in a memory file (memfd) sealed against
 * resizing and hands it to the consumer over a unix socket (see
 * "Hand-over"). The ring lives as long as either side holds it: a consumer
 * can restart and continue at the published tail; a producer that restarts
 * makes a new ring, and the consumer reads the old one to its end first.
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
 * handing records on to bound it; nerrf_ring_cons_close() publishes too.
 *
 * Corruption: the producer never reads the data area and keeps its header
 * lines (identity, head) right: each publish restores whatever a peer
 * overwrote. The consumer reports bad records and indices through peek's
 * -NERRF_RING_ECORRUPT and skips them with resync; after a resync (or an
 * attach) it takes the sequence number of the next record if it is within
 * a ring's worth of the producer's counter. Payload bytes are not checked:
 * a record's contents are only as good as the peer that wrote them.
 *
 * Syscalls in steady state: none per record; futex only when a side sleeps
 * or wakes the other, clock_gettime (vDSO) while waiting. Making and
 * attaching a ring takes memfd_create, ftruncate, fallocate, fcntl,
 * getrandom, fstat and mmap; closing it munmap and close.
 *
 * Each side has a handle type of its own, so that a consumer's call on a
 * producer's handle (or the reverse) does not compile. Not thread-safe: one
 * thread per side per ring.
 */
#ifndef NERRF_RING_H
#define NERRF_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct nerrf_ring_prod; /* the producer's handle */
struct nerrf_ring_cons; /* the consumer's handle */

/* Errors returned (negated) besides ordinary errno values. */
#define NERRF_RING_ECORRUPT 1001 /* the ring's shared state broke an invariant */
#define NERRF_RING_EVERSION 1002 /* header written by another ABI version */

/* A short description of a negative return value (errno or the two above). */
const char *nerrf_ring_strerror(int err);

/*
 * Create a ring as its producer, in a memory file (memfd) sealed against
 * resizing: no peer can shrink it under another's mapping (SIGBUS), and it
 * never touches a disk. name shows in /proc/PID/fd. capacity is the data
 * area in bytes, a power of two between 4 KiB and 1 GiB, allocated now.
 * Hand it over with nerrf_ring_listen() (see "Hand-over"). Returns 0 or a
 * negative errno; *err_msg (optional) gets a static string saying what to do.
 */
int nerrf_ring_create(const char *name, size_t capacity, struct nerrf_ring_prod **out,
		      const char **err_msg);
/* The ring's memory file, for handing over. */
int nerrf_ring_fd(const struct nerrf_ring_prod *p);
/* Largest record this ring accepts (a quarter of the capacity, at most). */
size_t nerrf_ring_max_record(const struct nerrf_ring_prod *p);
void nerrf_ring_prod_close(struct nerrf_ring_prod *p);

/*
 * Attach as consumer to a ring's memory file (from nerrf_ring_fd() in the
 * same process, or received over the hand-over socket); it continues at the
 * published tail. The fd must be sealed against resizing (-EPERM
 * otherwise); -NERRF_RING_EVERSION for another ABI version, -EINVAL for a
 * header or size this build cannot read, -EAGAIN while the header's magic
 * is overwritten (retry). The fd is the ring's on success, still the
 * caller's on failure.
 */
int nerrf_ring_attach(int fd, struct nerrf_ring_cons **out, const char **err_msg);
/* Publishes the consumer position, then lets go of the ring. */
void nerrf_ring_cons_close(struct nerrf_ring_cons *c);

/* ---- hand-over ---- */

/*
 * The producer serves its ring on a unix socket (SOCK_SEQPACKET) at
 * dir/name, created with mode (the consumer needs write access to connect).
 * Each consumer that connects gets one message with the ring's fd; the
 * connection then stays open, silent, and its end tells the consumer that
 * the producer is gone. One consumer at a time: while the current one's
 * connection is open, others are turned away (-EBUSY at their end).
 *
 * Either side may restart alone. A new consumer gets the same ring and goes
 * on at the published tail. A new producer makes a new ring: the consumer
 * drains the old one to the end (nothing writes it any more), sees
 * nerrf_ring_producer_gone(), and connects again.
 *
 * nerrf_ring_listen() removes a stale socket at the name but refuses to
 * replace anything else; it sets the umask around bind(), so call it before
 * starting threads. The server does not own the ring.
 */
struct nerrf_ring_server;

int nerrf_ring_listen(const char *dir, const char *name, mode_t mode,
		      struct nerrf_ring_prod *ring, struct nerrf_ring_server **out,
		      const char **err_msg);
/* The listening socket, for poll/epoll: readable when a consumer waits. */
int nerrf_ring_server_fd(const struct nerrf_ring_server *s);
/*
 * Waits up to timeout_ms (0: not at all, -1: forever) for a consumer and
 * hands it the ring. 1 if one got it, 0 if none came, -EBUSY if one was
 * turned away because another holds the ring, other negative errno values.
 */
int nerrf_ring_serve(struct nerrf_ring_server *s, int timeout_ms);
/* Serves from a thread of its own for the rest of the process's life. */
int nerrf_ring_serve_background(struct nerrf_ring_server *s);
/* Not while a background thread serves. */
void nerrf_ring_server_close(struct nerrf_ring_server *s);

/*
 * Consumer: connect to the socket at path and attach to the ring it hands
 * over. -EAGAIN while nobody serves there, or the producer died before the
 * hand-over (retry later); -EBUSY when another consumer holds the ring;
 * -NERRF_RING_EVERSION for another ABI version; -EACCES, -EPROTO, -EPERM
 * (not sealed) with *err_msg saying what to do.
 */
int nerrf_ring_connect(const char *path, struct nerrf_ring_cons **out, const char **err_msg);
/*
 * Whether the producer that handed this ring over is gone (one syscall).
 * After it is, what the ring holds is final: drain it, then connect again.
 * False for rings not received through nerrf_ring_connect().
 */
bool nerrf_ring_producer_gone(const struct nerrf_ring_cons *c);
/*
 * Have signal sig sent to the calling thread when the producer goes, so a
 * consumer asleep in nerrf_ring_wait() wakes at once (-EINTR) instead of at
 * its next timeout. The caller installs a handler for sig (one that only
 * returns, without SA_RESTART); nothing is sent while the producer lives.
 */
int nerrf_ring_watch_producer(const struct nerrf_ring_cons *c, int sig);

/* ---- producer ---- */

/*
 * Reserve len contiguous bytes (8-byte aligned) for one record. NULL when
 * the ring is full or len is out of range: the caller either drops and calls
 * nerrf_ring_count_drop(), or waits with nerrf_ring_wait_space(). Never
 * blocks. The record becomes visible only after commit + publish.
 */
void *nerrf_ring_reserve(struct nerrf_ring_prod *p, size_t len);
/* Finish the record returned by the last reserve. */
void nerrf_ring_commit(struct nerrf_ring_prod *p);
/* Make every committed record visible and wake a sleeping consumer. */
void nerrf_ring_publish(struct nerrf_ring_prod *p);
/*
 * Make every committed record visible, without the wakeup: for a producer
 * whose source forgets a record once it has been handed on (the collector,
 * whose BPF ring buffer frees each record as its callback returns), so that
 * a crash between the two loses nothing unseen. nerrf_ring_publish() must
 * still follow to wake the consumer.
 */
void nerrf_ring_expose(struct nerrf_ring_prod *p);
/* Count one dropped record of len bytes in the shared header. */
void nerrf_ring_count_drop(struct nerrf_ring_prod *p, size_t len);
/*
 * Block until len bytes can be reserved, the timeout passes (-ETIMEDOUT) or
 * a signal arrives (-EINTR). Spins briefly, then sleeps on a futex that the
 * consumer wakes only when the producer announced it sleeps.
 */
int nerrf_ring_wait_space(struct nerrf_ring_prod *p, size_t len, int timeout_ms);

/* ---- consumer ---- */

/*
 * Next record, or NULL when the ring is empty or *err is set. Checks the
 * record's length and sequence number against the bounds before returning
 * it. On corruption, *err = -NERRF_RING_ECORRUPT; the caller reports it and
 * calls nerrf_ring_resync(). Each bad head or header is reported once; while
 * it stays, the ring reads as empty and nerrf_ring_wait() sleeps, so a
 * corrupt ring never makes its consumer spin.
 */
const void *nerrf_ring_peek(struct nerrf_ring_cons *c, size_t *len, int *err);
/* Done with the record returned by the last peek. */
void nerrf_ring_release(struct nerrf_ring_cons *c);
/* Publish the consumer position (frees space for the producer). */
void nerrf_ring_consumer_publish(struct nerrf_ring_cons *c);
/*
 * Skip everything up to the producer's current head after corruption;
 * returns the number of bytes discarded (counted in the header).
 */
size_t nerrf_ring_resync(struct nerrf_ring_cons *c);
/*
 * Block until a record is available (0), the timeout passes (-ETIMEDOUT,
 * timeout_ms < 0 waits forever) or a signal arrives (-EINTR). Publishes the
 * consumer position first. Spins briefly, then announces sleep and sleeps on
 * a futex; the producer only makes a wake syscall after that announcement.
 */
int nerrf_ring_wait(struct nerrf_ring_cons *c, int timeout_ms);

/* ---- either side ---- */

/*
 * What the last corruption this side saw was (a static sentence for the
 * log), or NULL if none. The consumer's is set when peek returns
 * -NERRF_RING_ECORRUPT, the producer's when it finds the consumer's tail
 * outside the ring.
 */
const char *nerrf_ring_prod_corruption(const struct nerrf_ring_prod *p);
const char *nerrf_ring_cons_corruption(const struct nerrf_ring_cons *c);

struct nerrf_ring_stats {
	uint64_t generation;       /* tells rings apart: a restarted producer's is another */
	uint64_t produced;         /* records published */
	uint64_t consumed;         /* records released and published by the consumer */
	uint64_t dropped;          /* records the producer dropped (nerrf_ring_count_drop) */
	uint64_t dropped_bytes;
	uint64_t corrupt_resets;   /* resyncs after corruption, both sides */
	uint64_t corrupt_bytes;    /* bytes discarded by resyncs */
	uint64_t wakeups;          /* wake syscalls made by the producer */
	uint64_t space_wakeups;    /* wake syscalls made by the consumer */
	uint64_t used_bytes;       /* fill level when read */
	uint64_t capacity;         /* this side's own record of it, not the header's */
};

/* A snapshot of the header counters; values are only as true as the peer. */
void nerrf_ring_prod_stats(const struct nerrf_ring_prod *p, struct nerrf_ring_stats *st);
void nerrf_ring_cons_stats(const struct nerrf_ring_cons *c, struct nerrf_ring_stats *st);

#endif /* NERRF_RING_H */
