/* SPDX-License-Identifier: Apache-2.0 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "nerrf_pbwire.h"
#include "nerrf_wire.h"
#include "record.h"
#include "trace.pb-c.h"

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

/*
 * The fields appended, by their names in trace.proto: the numbers come from
 * the generated descriptors, so the .proto is the one place they are set.
 */
struct field {
	const char *name;
	size_t off; /* in struct pub_tail */
	unsigned id;
};

#define F(name) { #name, offsetof(struct pub_tail, name), 0 }
static struct field batch_fields[] = {
	F(publisher_seq),
	{ "publisher_publish_errors", offsetof(struct pub_tail, publish_errors), 0 },
	F(ring2_dropped), F(ring2_malformed),
	F(ring2_corrupt_resets), F(ring2_corrupt_bytes), F(journal_dropped),
};
static struct field stats_fields[] = {
	F(ring2_used), F(ring2_capacity), F(subscribers), F(publisher_seq), F(ring2_malformed),
	F(ring2_corrupt_resets), F(ring2_corrupt_bytes), F(journal_dropped),
};
#undef F

static size_t put(uint8_t *p, const ProtobufCMessageDescriptor *d, struct field *f, size_t nf,
		  const struct pub_tail *t)
{
	size_t n = 0;

	for (size_t i = 0; i < nf; i++) {
		if (!f[i].id) {
			const ProtobufCFieldDescriptor *fd =
				protobuf_c_message_descriptor_get_field_by_name(d, f[i].name);
			if (!fd)
				abort(); /* trace.proto lost a field this code appends: rebuild both */
			f[i].id = fd->id;
		}
		uint64_t v;
		memcpy(&v, (const uint8_t *)t + f[i].off, sizeof(v));
		n += nerrf_put_u64_field(p + n, f[i].id, v);
	}
	return n;
}

size_t pub_batch_trailer(uint8_t *p, const struct pub_tail *t)
{
	return put(p, &nerrf__trace__event_batch__descriptor, batch_fields,
		   sizeof(batch_fields) / sizeof(batch_fields[0]), t);
}

size_t pub_stats_trailer(uint8_t *p, const struct pub_tail *t)
{
	return put(p, &nerrf__trace__stats__descriptor, stats_fields,
		   sizeof(stats_fields) / sizeof(stats_fields[0]), t);
}
