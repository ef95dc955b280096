/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What crosses ring #2 (encoder -> publisher) and the nng socket.
 *
 * Ring #2 record: struct nerrf_r2_hdr followed by len bytes of protobuf
 * (nerrf.trace.EventBatch or nerrf.trace.Stats, per kind).
 *
 * nng message: a 4-byte topic (NERRF_TOPIC_*), then the protobuf bytes, to
 * which the publisher appends its own scalar fields (EventBatch fields 7-12,
 * Stats fields 9-12 and 14-16). Appending encoded fields to an encoded message is
 * valid protobuf, so the encoder's bytes are sent without re-encoding.
 * Subscribers subscribe to a topic prefix: "EVB1" (events), "STS1" (stats),
 * or "" (both).
 */
#ifndef NERRF_WIRE_H
#define NERRF_WIRE_H

#include <stdint.h>

#define NERRF_TOPIC_LEN 4
#define NERRF_TOPIC_EVENTS "EVB1"
#define NERRF_TOPIC_STATS "STS1"

enum nerrf_r2_kind {
	NERRF_R2_BATCH = 1, /* EventBatch */
	NERRF_R2_STATS = 2, /* Stats */
};

struct nerrf_r2_hdr {
	uint32_t kind;           /* enum nerrf_r2_kind */
	uint32_t len;            /* protobuf bytes that follow */
	uint64_t batch_seq;      /* EventBatch.batch_seq; 0 for stats */
	uint32_t nevents;
	uint32_t _pad;
	uint64_t oldest_mono_ns; /* kernel timestamp of the oldest event in the batch */
};

#define NERRF_DEFAULT_RUNDIR "/run/nerrf"
/* Where each ring's producer hands its sealed memfd to the consumer. */
#define NERRF_RING1_NAME "ring1.sock"   /* collector -> encoder */
#define NERRF_RING2_NAME "ring2.sock"   /* encoder -> publisher */
#define NERRF_DEFAULT_LISTEN "ipc:///run/nerrf/events.sock"

#endif /* NERRF_WIRE_H */
