/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The handles, private to shm/: ring_lifecycle.c makes and frees them,
 * ring_hotpath.c moves records through them, ring_handoff.c passes the
 * memory file between processes.
 *
 * Each side writes only its own cache line of the header and keeps private
 * copies of everything it needs for bounds: indices, capacity, mapping.
 * Values read from the peer's line are validated before use.
 */
#ifndef NERRF_RING_INTERNAL_H
#define NERRF_RING_INTERNAL_H

#include "nerrf_ring.h"
#include "ring_layout.h"

/* What either side holds: the mapping, and what it keeps private about it. */
struct nerrf_ring {
	int fd;
	struct ring_hdr *hdr;
	size_t hdr_size;   /* mapping of the header page */
	uint8_t *data;     /* mapping of the data area, capacity bytes */
	uint64_t cap;      /* private: never re-read from the header */
	uint64_t mask;
	uint64_t max_rec;
	uint64_t gen;
	const char *why;   /* last corruption seen */
	uint64_t spin_ns;  /* adaptive spin budget of this side's waits; 0 = SPIN_NS */
	bool borrowed;     /* the mapping is another handle's (nerrf_ring__test_consumer_view) */
};

struct nerrf_ring_prod {
	struct nerrf_ring r;
	uint64_t head;        /* private head, published by nerrf_ring_publish */
	uint64_t pub_head;
	uint64_t shown_head;  /* the head consumers can see: pub_head, or beyond it by expose */
	uint64_t cached_tail;
	uint64_t rec;         /* number of the next record */
	uint64_t resv_off;    /* offset of the reserved record's header, or UINT64_MAX */
	uint32_t resv_len;
	uint64_t bad_tail;    /* last corrupt tail seen, counted once */
	uint64_t dropped, dropped_bytes, wakeups;
};

struct nerrf_ring_cons {
	struct nerrf_ring r;
	uint64_t tail;
	uint64_t pub_tail;
	uint64_t cached_head;
	uint64_t expect;       /* record number expected next */
	uint64_t cur_need;     /* bytes of the record returned by peek, 0 if none */
	bool relearn;          /* accept the next seq near expect (after attach/resync) */
	uint64_t consumed, space_wakeups;
	bool bad_head_seen;    /* bad_head holds a head already reported as corrupt */
	uint64_t bad_head;
	bool bad_gen_seen;     /* bad_gen holds a generation already reported as corrupt */
	uint64_t bad_gen;
	uint64_t bad_gen_head; /* the producer's head when bad_gen was reported */
	uint64_t bad_gen_drop; /* and its drop count: a full ring moves that, not the head */
	int conn;              /* connection to the producer that handed the ring over, or -1 */
};

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

/*
 * The one check every path applies to a head/tail pair read from shared
 * memory: in order, at most a capacity apart, both 8-byte aligned. A check
 * that differs between paths is how a consumer ends up resyncing to an index
 * that the next refresh rejects again.
 */
static inline bool span_ok(uint64_t head, uint64_t tail, uint64_t cap)
{
	return tail <= head && head - tail <= cap && !((head | tail) & 7);
}

static inline void set_msg(const char **err_msg, const char *msg)
{
	if (err_msg)
		*err_msg = msg;
}

#endif /* NERRF_RING_INTERNAL_H */
