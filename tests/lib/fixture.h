/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the publisher, client, exporter and forwarder tests start from: a real
 * ring #2 served as the encoder serves it, a temporary rundir, free ports and
 * throwaway certificates.
 */
#ifndef NERRF_TESTLIB_FIXTURE_H
#define NERRF_TESTLIB_FIXTURE_H

#include <stddef.h>

#include "nerrf_ring.h"
#include "nerrf_wire.h"

#define PT_RING2_CAP (1u << 20)

/* Ring #2, served at dir/ring2.sock to every publisher that starts, as the encoder does. */
struct nerrf_ring_prod *pt_ring2(const char *dir, size_t cap);
/* Writes one record; waits for space (the publisher drains). -1 if it stayed full for 2 s. */
int pt_put(struct nerrf_ring_prod *r, const void *rec, size_t len);

/*
 * A temporary rundir named after the test, ring #2 in it, and where the
 * publisher will listen and log. The publisher itself is started by the test
 * (pt_publisher), with its options.
 */
struct pt_env {
	char *dir;
	char url[512]; /* ipc://<dir>/events.sock */
	char err[600]; /* the publisher's stderr */
	struct nerrf_ring_prod *r2;
};

void pt_env_init(struct pt_env *t, const char *name);
void pt_env_free(struct pt_env *t);

/* A free TCP port on 127.0.0.1 (bound then released). */
int pt_free_port(void);
/* dir/name.crt and name.key, signed by ca (or self-signed as a CA when ca is NULL). */
void pt_make_cert(const char *dir, const char *name, const char *cn, const char *ca,
		  const char *ext);

#endif
