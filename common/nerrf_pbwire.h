/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The protobuf wire format where it is done by hand: the encoder's length
 * prefix for events it packed itself, the fields the publisher appends to an
 * encoder's message without re-encoding it (see nerrf_wire.h), and the scans
 * that look into a message without unpacking it (the journal's time range,
 * nerrf tail's check before protobuf-c allocates). The field numbers are
 * trace.proto's, from the generated trace_fields.h.
 */
#ifndef NERRF_PBWIRE_H
#define NERRF_PBWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NERRF_VARINT_MAX 10

/* Wire types, and a field's key. */
#define NERRF_PB_VARINT 0
#define NERRF_PB_I64 1
#define NERRF_PB_LEN 2
#define NERRF_PB_I32 5
#define NERRF_PB_KEY(field, type) ((uint64_t)(field) << 3 | (type))

/* google.protobuf.Timestamp's fields: a well-known type, its numbers never change. */
#define NERRF_PB_TIMESTAMP_SECONDS 1
#define NERRF_PB_TIMESTAMP_NANOS 2

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

/* Reads a varint at *p, advancing it; false if it does not end within 10 bytes before end. */
static inline bool nerrf_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned shift = 0; shift < 7 * NERRF_VARINT_MAX && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

/* Steps *p over one value of wire type wt; false if it is malformed or runs past end. */
static inline bool nerrf_pb_skip(const uint8_t **p, const uint8_t *end, unsigned wt)
{
	uint64_t v;

	switch (wt) {
	case NERRF_PB_VARINT:
		return nerrf_get_varint(p, end, &v);
	case NERRF_PB_I64:
		if (end - *p < 8)
			return false;
		*p += 8;
		return true;
	case NERRF_PB_LEN:
		if (!nerrf_get_varint(p, end, &v) || v > (uint64_t)(end - *p))
			return false;
		*p += v;
		return true;
	case NERRF_PB_I32:
		if (end - *p < 4)
			return false;
		*p += 4;
		return true;
	}
	return false; /* groups (3, 4) are not proto3; 6 and 7 do not exist */
}

#endif /* NERRF_PBWIRE_H */
