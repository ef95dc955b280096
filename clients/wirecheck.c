/* SPDX-License-Identifier: Apache-2.0 */
/* The top-level walk of an EventBatch's wire format; see wirecheck.h. */
#include "nerrf_pbwire.h"
#include "trace_fields.h"
#include "wirecheck.h"

int nerrf_batch_scan(const uint8_t *buf, size_t len, struct nerrf_batch_scan *out)
{
	const uint8_t *p = buf, *end = buf + len, *val;
	uint64_t key, v = 0;

	*out = (struct nerrf_batch_scan){0};
	while (p < end) {
		if (!nerrf_get_varint(&p, end, &key) || key >> 3 == 0 || key >> 3 > 0x1fffffff)
			return -1;
		val = p;
		if (!nerrf_pb_skip(&p, end, key & 7))
			return -1;
		/* whatever its wire type: the bound is on what a decoder may allocate */
		if (key >> 3 == NERRF_PB_EVENT_BATCH_EVENTS)
			out->events++;
		if ((key & 7) == NERRF_PB_VARINT) {
			nerrf_get_varint(&val, p, &v);
			if (key >> 3 == NERRF_PB_EVENT_BATCH_PUBLISHER_SEQ)
				out->publisher_seq = v;
			else if (key >> 3 == NERRF_PB_EVENT_BATCH_BATCH_SEQ)
				out->batch_seq = v;
			else if (key >> 3 == NERRF_PB_EVENT_BATCH_ENCODER_START_NS)
				out->encoder_start_ns = v;
		} else if (key == NERRF_PB_KEY(NERRF_PB_EVENT_BATCH_BOOT_ID, NERRF_PB_LEN)) {
			nerrf_get_varint(&val, p, &v);
			out->boot_id = val;
			out->boot_id_len = (size_t)v;
		}
	}
	return 0;
}
