/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper: runs the real nerrf-collector (path in $NERRF_COLLECTOR) as a
 * child with a scratch --rundir, waits until it has dropped privileges and
 * said "ready", and reads records back from ring #1.
 */
#ifndef NERRF_COLL_HELPER_H
#define NERRF_COLL_HELPER_H

#include <stdbool.h>
#include <sys/types.h>

#include "nerrf_event.h"

struct coll {
	pid_t pid;
	char rundir[256];
	struct nerrf_ring_cons *ring;
	struct nerrf_kstats *stats; /* last stats record seen, or NULL */
	unsigned long long events;  /* event records read so far */
};

/* Starts the collector with args (NULL-terminated) after --rundir. */
void coll_start(struct coll *c, const char *const *args);
/* Next event record (copied; valid until the next call), or NULL on timeout. */
const struct nerrf_event *coll_next(struct coll *c, int timeout_ms);
/* First event of op from tgid whose path ends with suffix (NULL: any path). */
const struct nerrf_event *coll_find(struct coll *c, unsigned op, pid_t tgid, const char *suffix,
				    int timeout_ms);
/* SIGTERM, wait for a clean exit, then read every record left (stats too). */
void coll_stop(struct coll *c);
/* Removes the rundir; frees everything. */
void coll_free(struct coll *c);

/* The record's strings; NULL when absent. data_len gives the data size. */
const char *ev_path(const struct nerrf_event *e);
const char *ev_path2(const struct nerrf_event *e);
const char *ev_raw(const struct nerrf_event *e);
const unsigned char *ev_data(const struct nerrf_event *e);

/* comm of the calling thread. */
const char *self_comm(void);

#endif
