/* SPDX-License-Identifier: Apache-2.0 */
/* The nerrf command's subcommands (private to clients/). */
#ifndef NERRF_CLI_H
#define NERRF_CLI_H

#include <stdint.h>

#include <nng/nng.h>

#include "nerrf_signal.h"
#include "nerrf_tls.h"


int cmd_tail(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_config(int argc, char **argv);

/* ---- the journal (replay.c) ---- */

/* A published message (topic and all); nonzero stops. */
typedef int (*replay_cb)(void *arg, const uint8_t *msg, size_t len);

struct replay_range {
	uint64_t from_seq, until_seq; /* inclusive; 0: open */
	uint64_t from_ns, until_ns;   /* wall clock of the batches' events */
};

int replay_files(const char *path, const struct replay_range *r, replay_cb cb, void *arg);
int replay_open(const char *url, nng_socket *s);
int replay_fetch(nng_socket s, uint64_t *next, uint64_t from_ns, uint64_t until, replay_cb cb,
		 void *arg, uint64_t *last_written);
int replay_parse_point(const char *opt, const char *s, uint64_t *seq, uint64_t *ns);

/* ---- the fleet's stream in NATS JetStream (tail_nats.c) ---- */

/* An EventBatch from host; nonzero stops. */
typedef int (*nats_batch_cb)(void *arg, const char *host, const uint8_t *pb, size_t len);

/* Reads subject from the stream sequence from_seq, or from time from_ns, or new ones (both 0). */
int tail_nats(const char *url, const char *subject, const struct nerrf_tls_files *tls,
	      uint64_t from_seq, uint64_t from_ns, nats_batch_cb cb, void *arg);

/* Dials a tls+tcp:// url on s (dial.c); -1 after saying why. */
int nerrf_dial_tls(nng_socket s, const char *cmd, const char *url, struct nerrf_tls_files tls);

#endif
