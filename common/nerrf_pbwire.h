/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The few protobuf wire-format writes done by hand: the encoder's length
 * prefix for events it packed itself, and the fields the publisher appends
 * to an encoder's message without re-encoding it (see nerrf_wire.h).
 */
#ifndef NERRF_PBWIRE_H
#define NERRF_PBWIRE_H

#include <stddef.h>
#include <stdint.h>

#define NERRF_VARINT_MAX 10

static inline size_t nerrf_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline size_t nerrf_put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* A varint field (wire type 0): key, then value. */
static inline size_t nerrf_put_u64_field(uint8_t *p, unsigned field, uint64_t v)
{
	size_t n = nerrf_put_varint(p, (uint64_t)field << 3);
	return n + nerrf_put_varint(p + n, v);
}

#endif /* NERRF_PBWIRE_H */
