/* SPDX-License-Identifier: Apache-2.0 */
/* See arena.h. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "arena.h"

#define BLOCK_BYTES (256u << 10)

struct arena_block {
	struct arena_block *next;
	size_t size, used;
	max_align_t data[];
};

static void *arena_alloc(void *data, size_t size)
{
	struct arena *a = data;
	struct arena_block *b = a->blocks;
	size_t need = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);

	if (need < size)
		return NULL;
	if (!b || b->size - b->used < need) {
		size_t cap = need > BLOCK_BYTES ? need : BLOCK_BYTES;
		if (cap > SIZE_MAX - sizeof(*b) || !(b = malloc(sizeof(*b) + cap)))
			return NULL;
		b->size = cap;
		b->used = 0;
		b->next = a->blocks;
		a->blocks = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += need;
	return p;
}

/* freed with the batch, by arena_reset */
static void arena_nofree(void *data, void *p)
{
	(void)data;
	(void)p;
}

void arena_init(struct arena *a)
{
	a->pa = (ProtobufCAllocator){ .alloc = arena_alloc, .free = arena_nofree, .allocator_data = a };
	a->blocks = NULL;
}

void arena_reset(struct arena *a)
{
	struct arena_block *b = a->blocks;
	size_t total = 0;

	if (!b)
		return;
	if (!b->next) {
		b->used = 0;
		return;
	}
	/*
	 * The batch took more than one block: the next gets one of the size they
	 * had together, so that a stream of large batches does not malloc and
	 * free (and the heap grow and shrink) every time.
	 */
	for (struct arena_block *next; b; b = next) {
		next = b->next;
		total += b->size;
		free(b);
	}
	a->blocks = NULL;
	b = malloc(sizeof(*b) + total);
	if (b) {
		*b = (struct arena_block){ .size = total };
		a->blocks = b;
	}
}
