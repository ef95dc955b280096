/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Layout of a ring's memory file: private to shm/ and its tests (which
 * corrupt it on purpose). Changing anything here means bumping RING_VERSION.
 */
#ifndef NERRF_RING_LAYOUT_H
#define NERRF_RING_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define RING_MAGIC 0x31474e4952465245ULL /* "ERFRING1" little-endian */
#define RING_VERSION 3u
#define RING_MIN_CAP (4ULL << 10)
#define RING_MAX_CAP (1ULL << 30)

#define REC_HDR 8u
#define REC_PAD 0x80000000u /* len: padding up to the end of the data area */

#define RING_LINE 64

struct ring_hdr {
	/* identity: written once by the producer, restored by it after a scribble */
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size;
	uint64_t capacity;
	uint64_t generation;
	uint8_t _pad0[RING_LINE - 32];

	/* producer line */
	uint64_t head;          /* byte position after the last published record */
	uint64_t produced;      /* records published */
	uint64_t dropped;
	uint64_t dropped_bytes;
	uint64_t wakeups;
	uint64_t prod_want;     /* free bytes the sleeping producer waits for */
	uint32_t prod_sleeping; /* futex: producer waits for space */
	uint32_t _pad1;
	uint64_t tail_refused;  /* the consumer's tail the producer found out of its reach */

	/* consumer line */
	uint64_t tail;          /* byte position after the last released record */
	uint64_t consumed;
	uint64_t space_wakeups;
	uint32_t cons_sleeping; /* futex: consumer waits for records */
	uint8_t _pad2[RING_LINE - 28];

	/* corruption: written by both sides with atomic adds */
	uint64_t corrupt_resets;
	uint64_t corrupt_bytes;
	uint8_t _pad3[RING_LINE - 16];
};

_Static_assert(sizeof(struct ring_hdr) == 4 * RING_LINE, "header lines");
_Static_assert(offsetof(struct ring_hdr, head) == RING_LINE, "producer line");
_Static_assert(offsetof(struct ring_hdr, tail) == 2 * RING_LINE, "consumer line");
_Static_assert(offsetof(struct ring_hdr, tail_refused) == 2 * RING_LINE - 8, "producer line");
_Static_assert(offsetof(struct ring_hdr, corrupt_resets) == 3 * RING_LINE, "corruption line");

/* ---- hooks for tests only ---- */

struct nerrf_ring_prod;
struct nerrf_ring_cons;

/*
 * A consumer handle on the producer handle's own mapping, so that
 * ThreadSanitizer, which tracks addresses, sees both sides touch the same
 * memory. Production consumers use nerrf_ring_attach().
 */
int nerrf_ring__test_consumer_view(const struct nerrf_ring_prod *p,
				   struct nerrf_ring_cons **out);

/* Where a handle mapped the data area, and the bounds it keeps privately. */
struct nerrf_ring__test_area {
	const uint8_t *data;
	size_t cap, max_rec;
};
struct nerrf_ring__test_area nerrf_ring__test_prod_area(const struct nerrf_ring_prod *p);
struct nerrf_ring__test_area nerrf_ring__test_cons_area(const struct nerrf_ring_cons *c);

#endif /* NERRF_RING_LAYOUT_H */
