/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A ring #2 record as the publisher takes it: the encoder's header checked,
 * and what the publisher appends to the encoder's protobuf bytes (plain
 * varint fields; a concatenation of encodings decodes as their merge), so
 * subscribers get the last hop's counters in the same message.
 */
#ifndef NERRF_PUB_RECORD_H
#define NERRF_PUB_RECORD_H

#include <stddef.h>
#include <stdint.h>

/* 10 varint fields with 1-byte keys (Stats 17: a 2-byte key) */
#define PUB_TRAILER_MAX 128

struct pub_tail {
	uint64_t publisher_seq, publish_errors;
	uint64_t ring2_dropped, ring2_malformed, ring2_corrupt_resets, ring2_corrupt_bytes;
	uint64_t journal_dropped;
	uint64_t ring2_used, ring2_capacity, subscribers; /* Stats only */
};

/*
 * The record's kind (NERRF_R2_BATCH or NERRF_R2_STATS) and the protobuf it
 * frames, in *pb and *pblen, inside rec[0..len); 0 when the header does not
 * check out (a length past the record, an unknown kind): a malformed record.
 */
unsigned pub_record(const void *rec, size_t len, const uint8_t **pb, size_t *pblen);

/* The fields appended to an EventBatch and to a Stats; at most PUB_TRAILER_MAX bytes. */
size_t pub_batch_trailer(uint8_t *p, const struct pub_tail *t);
size_t pub_stats_trailer(uint8_t *p, const struct pub_tail *t);

#endif /* NERRF_PUB_RECORD_H */
