/* SPDX-License-Identifier: Apache-2.0 */
/* The real nerrf-publisher and real nng subscribers to it. */
#ifndef NERRF_TESTLIB_SUBSCRIBE_H
#define NERRF_TESTLIB_SUBSCRIBE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "nerrf_wire.h"
#include "trace.pb-c.h"

/* A subscriber dialling url (non-blocking, reconnecting), for topic (NULL: everything). */
nng_socket pt_sub(const char *url, const char *topic);
/* The next message, or NULL after timeout_ms. */
nng_msg *pt_recv(nng_socket s, int timeout_ms);
/* The next message of topic (others are dropped), or NULL after timeout_ms. */
nng_msg *pt_recv_topic(nng_socket s, const char *topic, int timeout_ms);
/* The protobuf bytes of a message, which must carry the given topic. */
const uint8_t *pt_payload(nng_msg *m, const char *topic, size_t *len);
Nerrf__Trace__EventBatch *pt_decode_batch(nng_msg *m);
Nerrf__Trace__Stats *pt_decode_stats(nng_msg *m);

/*
 * pub/sub drops whatever is sent before a subscriber is connected, so tests
 * wait until the publisher's stats say n subscribers are attached (the
 * stats socket itself counts as one).
 */
Nerrf__Trace__Stats *pt_wait_subscribers(nng_socket stats_sub, unsigned n);

/* Starts $NERRF_PUBLISHER on rundir with --no-journal and extra args (NULL-terminated). */
pid_t pt_publisher(const char *rundir, const char *err_path, ...);

#endif
