/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Synthetic records with the real layouts: ring #1 events (common/nerrf_event.h)
 * and ring #2 records holding real protobuf-c EventBatch and Stats messages.
 */
#ifndef NERRF_TESTLIB_RECORDS_H
#define NERRF_TESTLIB_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "nerrf_event.h"
#include "nerrf_wire.h"
#include "trace.pb-c.h"

/* Room for any ring #1 record the tests build. */
#define REC_BUF (NERRF_EVENT_MAX + 64)

/*
 * A ring #1 event record in buf with fixed, recognisable header values;
 * strings are NULL for absent. Returns the record size (also in hdr.size).
 */
size_t build_event(void *buf, unsigned op, const char *path, const char *path2, const char *raw,
		   const void *data, unsigned data_len);

/* Frames message m under header h as ring #2 carries it; returns the record's length. */
size_t pt_pack(uint8_t *buf, size_t cap, struct nerrf_r2_hdr h, const ProtobufCMessage *m);
size_t pt_pack_batch(uint8_t *buf, size_t cap, const Nerrf__Trace__EventBatch *b);
size_t pt_pack_stats(uint8_t *buf, size_t cap, const Nerrf__Trace__Stats *st);

/*
 * A ring #2 record holding an EventBatch of n events; event i has pid, tid
 * = i, bytes = batch_seq * 1000 + i and a path of pathlen bytes.
 */
size_t pt_make_batch(uint8_t *buf, size_t cap, uint64_t batch_seq, unsigned n, uint32_t pid,
		     size_t pathlen);
/* A ring #2 record holding an encoder Stats message. */
size_t pt_make_stats(uint8_t *buf, size_t cap, double events_per_sec);

#endif
