/* SPDX-License-Identifier: Apache-2.0 */
/* The top-level walk of an EventBatch's wire format; see wirecheck.h. */
#include "wirecheck.h"

/* Reads a varint at *p, advancing it; -1 if it does not end within 10 bytes before end. */
static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned i = 0; i < 10 && *p < end; i++) {
		uint8_t b = *(*p)++;
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

int nerrf_batch_scan(const uint8_t *buf, size_t len, struct nerrf_batch_scan *out)
{
	const uint8_t *p = buf, *end = buf + len;
	uint64_t key, v;

	*out = (struct nerrf_batch_scan){0};
	while (p < end) {
		if (get_varint(&p, end, &key) != 0 || key >> 3 == 0 || key >> 3 > 0x1fffffff)
			return -1;
		switch (key & 7) {
		case 0: /* varint */
			if (get_varint(&p, end, &v) != 0)
				return -1;
			if (key >> 3 == 7)
				out->publisher_seq = v;
			else if (key >> 3 == 2)
				out->batch_seq = v;
			else if (key >> 3 == 6)
				out->encoder_start_ns = v;
			break;
		case 1: /* 64-bit */
			if (end - p < 8)
				return -1;
			p += 8;
			break;
		case 2: /* length-delimited: a message, string or bytes */
			if (get_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p))
				return -1;
			if (key >> 3 == 4) {
				out->boot_id = p;
				out->boot_id_len = (size_t)v;
			}
			p += v;
			break;
		case 5: /* 32-bit */
			if (end - p < 4)
				return -1;
			p += 4;
			break;
		default: /* groups (3, 4) are not proto3; 6 and 7 do not exist */
			return -1;
		}
		if (key >> 3 == 1)
			out->events++;
	}
	return 0;
}
