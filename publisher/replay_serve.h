/* SPDX-License-Identifier: Apache-2.0 */
/* One replay request answered from the journal directory (replay_serve.c). */
#ifndef NERRF_REPLAY_SERVE_H
#define NERRF_REPLAY_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "trace.pb-c.h"

/* The messages of one reply, owned by it. */
struct replay_chunk {
	ProtobufCBinaryData *msgs;
	size_t n, cap, bytes;
};

/*
 * Fills out (its messages point into c) from the journal in dirfd as req
 * asks, never past done (the last publisher_seq the writer completed); an
 * error is a static string in out->error.
 */
void replay_serve(int dirfd, uint64_t done, const Nerrf__Trace__ReplayRequest *req,
		  Nerrf__Trace__ReplayChunk *out, struct replay_chunk *c);
void replay_chunk_free(struct replay_chunk *c);

#endif
