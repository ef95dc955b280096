/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A look at an EventBatch before decoding it. protobuf-c allocates every
 * repeated element while it unpacks, about 140 times the two bytes an empty
 * Event takes on the wire, so a publisher's message is checked first: its
 * top-level fields walked (keys, varints and lengths only), the Events
 * counted. A pure function over (buf, len), for a fuzz target as well.
 */
#ifndef NERRF_WIRECHECK_H
#define NERRF_WIRECHECK_H

#include <stddef.h>
#include <stdint.h>

/*
 * What subscribers accept by default: a message well above the largest batch
 * an encoder makes with its default --max-batch-bytes (256K, within a ring #2
 * record), and twice the most events nerrf-encoder --max-batch allows.
 */
#define NERRF_MAX_MESSAGE_BYTES (4u << 20)
#define NERRF_MAX_EVENTS 131072u

struct nerrf_batch_scan {
	uint64_t events;	/* occurrences of field 1, Event */
	uint64_t publisher_seq; /* field 7 (the last one, as a decoder reads it); 0 if none */
	/* The batch's identity as the encoder made it (fields 2, 6, 4), for nerrf-forward. */
	uint64_t batch_seq, encoder_start_ns;
	const uint8_t *boot_id; /* into buf; NULL if absent */
	size_t boot_id_len;
};

/*
 * 0 when buf holds a well-formed sequence of protobuf fields (every varint
 * ends, every length fits, no group or unknown wire type, no field 0), with
 * *out filled in; -1 otherwise. Reads nothing outside buf[0..len).
 */
int nerrf_batch_scan(const uint8_t *buf, size_t len, struct nerrf_batch_scan *out);

#endif /* NERRF_WIRECHECK_H */
