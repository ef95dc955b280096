/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Memory for decoding one batch: protobuf-c's many small allocations (every
 * event, string and array) taken from a few large blocks and all given back
 * at once when the batch is printed, instead of a malloc and a free each.
 */
#ifndef NERRF_ARENA_H
#define NERRF_ARENA_H

#include <protobuf-c/protobuf-c.h>

struct arena_block;

struct arena {
	ProtobufCAllocator pa; /* give &a->pa to *__unpack */
	struct arena_block *blocks;
};

void arena_init(struct arena *a);
/* Everything allocated since the last reset is gone; one block (as large as they all were) is kept. */
void arena_reset(struct arena *a);

#endif /* NERRF_ARENA_H */
