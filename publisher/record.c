/* SPDX-License-Identifier: Apache-2.0 */
#include <stddef.h>
#include <string.h>

#include "nerrf_pbwire.h"
#include "nerrf_wire.h"
#include "record.h"
#include "trace_fields.h"

unsigned pub_record(const void *rec, size_t len, const uint8_t **pb, size_t *pblen)
{
	struct nerrf_r2_hdr h;

	/* The encoder is another process: trust the header only after checking it. */
	if (len < sizeof(h))
		return 0;
	memcpy(&h, rec, sizeof(h));
	if (h.len > len - sizeof(h) || (h.kind != NERRF_R2_BATCH && h.kind != NERRF_R2_STATS))
		return 0;
	*pb = (const uint8_t *)rec + sizeof(h);
	*pblen = h.len;
	return h.kind;
}

/* The fields appended, by their names in trace.proto (trace_fields.h). */
struct field {
	unsigned id;
	size_t off; /* in struct pub_tail */
};

#define B(name, member) { NERRF_PB_EVENT_BATCH_##name, offsetof(struct pub_tail, member) }
static const struct field batch_fields[] = {
	B(PUBLISHER_SEQ, publisher_seq), B(PUBLISHER_PUBLISH_ERRORS, publish_errors),
	B(RING2_DROPPED, ring2_dropped), B(RING2_MALFORMED, ring2_malformed),
	B(RING2_CORRUPT_RESETS, ring2_corrupt_resets), B(RING2_CORRUPT_BYTES, ring2_corrupt_bytes),
	B(JOURNAL_DROPPED, journal_dropped),
};
#undef B
#define S(name, member) { NERRF_PB_STATS_##name, offsetof(struct pub_tail, member) }
static const struct field stats_fields[] = {
	S(RING2_USED, ring2_used), S(RING2_CAPACITY, ring2_capacity), S(SUBSCRIBERS, subscribers),
	S(PUBLISHER_SEQ, publisher_seq), S(RING2_MALFORMED, ring2_malformed),
	S(RING2_CORRUPT_RESETS, ring2_corrupt_resets), S(RING2_CORRUPT_BYTES, ring2_corrupt_bytes),
	S(JOURNAL_DROPPED, journal_dropped),
};
#undef S

static size_t put(uint8_t *p, const struct field *f, size_t nf, const struct pub_tail *t)
{
	size_t n = 0;

	for (size_t i = 0; i < nf; i++) {
		uint64_t v;
		memcpy(&v, (const uint8_t *)t + f[i].off, sizeof(v));
		n += nerrf_put_u64_field(p + n, f[i].id, v);
	}
	return n;
}

size_t pub_batch_trailer(uint8_t *p, const struct pub_tail *t)
{
	return put(p, batch_fields, sizeof(batch_fields) / sizeof(batch_fields[0]), t);
}

size_t pub_stats_trailer(uint8_t *p, const struct pub_tail *t)
{
	return put(p, stats_fields, sizeof(stats_fields) / sizeof(stats_fields[0]), t);
}
