/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-forward: the host's EventBatches, unchanged, into NATS JetStream,
 * exactly once (docs/FORWARD.md). One thread runs the logic (main.c);
 * libnats' threads only report acknowledgements and connection changes
 * (broker.c), which the main thread collects.
 */
#ifndef NERRF_FORWARD_H
#define NERRF_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace.pb-c.h"

typedef Nerrf__Trace__Stats Stats;
typedef Nerrf__Trace__ForwardCounters ForwardCounters;

#define FWD_DEFAULT_STATE_DIR "/var/lib/nerrf-forward"
#define FWD_STATE_FILE "state"

struct fwd_opts {
	const char *nats;	 /* --nats URL */
	const char *prefix;	 /* subjects <prefix>.<host>.events / .stats */
	const char *host;	 /* the <host> in the subjects */
	const char *stream;	 /* JetStream stream name */
	bool no_create_stream;	 /* verify only */
	bool start_oldest;	 /* --start oldest */
	uint64_t dup_window_ns, max_age_ns, max_bytes;
	const char *rundir, *events_url, *replay_url, *stats_listen;
	const char *state_dir;
	unsigned window;	 /* batches in flight without an ack */
	uint64_t ack_wait_ms;
	const char *tls_ca, *tls_cert, *tls_key, *tls_server_name;
	const char *creds, *nkey, *nkey_seed;
	bool insecure;
	bool no_sandbox;
	bool check; /* --check-config */
	char events_subject[512], stats_subject[512];
};

/* ---- the state file (state.c) ---- */

struct fwd_state {
	uint64_t acked_seq; /* every publisher_seq up to here is in JetStream or counted lost */
};

/*
 * Parses a state file's bytes (outside input: a fuzz target runs it).
 * 0, or -1 with err saying what is wrong.
 */
int fwd_state_parse(const char *buf, size_t len, struct fwd_state *out, char *err, size_t errlen);
/* 0 and *out (zero when there is no file yet), or -1 with err. */
int fwd_state_load(int dirfd, struct fwd_state *out, char *err, size_t errlen);
/* Writes the file atomically: a temporary file, fsync, rename, fsync of the directory. */
int fwd_state_save(int dirfd, const struct fwd_state *st, char *err, size_t errlen);

/* ---- the broker (broker.c) ---- */

struct fwd_acks {
	uint64_t acked, duplicates, events; /* batches newly acknowledged since the last call */
	bool failed;			    /* a publish failed or timed out: send again from acked */
	char why[256];
};

int fwd_broker_open(struct fwd_opts *o, unsigned window, char *err, size_t errlen);
bool fwd_broker_connected(void);
uint64_t fwd_broker_outage_ns(uint64_t now_ns, uint64_t *outages);
/* Creates or checks the stream once connected; 0 when ready, 1 not yet, -1 fatal (err). */
int fwd_broker_stream(const struct fwd_opts *o, char *err, size_t errlen);
/* Publishes one EventBatch as publisher_seq seq; 0, or -1 (not sent, err says why). */
int fwd_broker_send(uint64_t seq, const char *msgid, const uint8_t *pb, size_t len,
		    uint32_t nevents, char *err, size_t errlen);
void fwd_broker_send_stats(const uint8_t *pb, size_t len);
/*
 * Moves *acked over what JetStream acknowledged, in order, up to next - 1;
 * fills a. Waits at most wait_ms for something to happen first.
 */
void fwd_broker_collect(uint64_t *acked, uint64_t next, struct fwd_acks *a, int wait_ms);
/* Forgets what is in flight from from_seq on (it will be sent again). */
void fwd_broker_rewind(uint64_t from_seq);
void fwd_broker_close(void);

/* ---- the sandbox (sandbox.c) ---- */

int fwd_sandbox(char *err, size_t errlen);

#endif /* NERRF_FORWARD_H */
