/* SPDX-License-Identifier: Apache-2.0 */
#include <netinet/in.h>
#include <sys/socket.h>

#include "fixture.h"
#include "harness.h"
#include "spawn.h"

struct nerrf_ring_prod *pt_ring2(const char *dir, size_t cap)
{
	struct nerrf_ring_server *srv;
	struct nerrf_ring_prod *r;
	const char *msg = NULL;
	int rv = nerrf_ring_create("test-ring2", cap, &r, &msg);
	CHECK(rv == 0, "ring #2: %d %s", rv, msg ? msg : "");
	rv = nerrf_ring_listen(dir, NERRF_RING2_NAME, 0660, r, &srv, &msg);
	CHECK(rv == 0, "serving ring #2 in %s: %d %s", dir, rv, msg ? msg : "");
	CHECK(nerrf_ring_serve_background(srv) == 0);
	return r;
}

int pt_put(struct nerrf_ring_prod *r, const void *rec, size_t len)
{
	void *p = nerrf_ring_reserve(r, len);
	if (!p) {
		nerrf_ring_publish(r);
		int rv = nerrf_ring_wait_space(r, len, 2000);
		if (rv == -ETIMEDOUT)
			return -1;
		CHECK(rv == 0, "wait_space: %d", rv);
		p = nerrf_ring_reserve(r, len);
		CHECK(p != NULL, "reserve after wait_space");
	}
	memcpy(p, rec, len);
	nerrf_ring_commit(r);
	nerrf_ring_publish(r);
	return 0;
}

void pt_env_init(struct pt_env *t, const char *name)
{
	t->dir = test_tmpdir(name);
	snprintf(t->url, sizeof(t->url), "ipc://%s/events.sock", t->dir);
	snprintf(t->err, sizeof(t->err), "%s/publisher.err", t->dir);
	t->r2 = pt_ring2(t->dir, PT_RING2_CAP);
}

void pt_env_free(struct pt_env *t)
{
	nerrf_ring_prod_close(t->r2);
	pt_rm_rf(t->dir);
}

int pt_free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(a);
	CHECK(s >= 0);
	CHECK(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(getsockname(s, (struct sockaddr *)&a, &l) == 0);
	close(s);
	return ntohs(a.sin_port);
}

void pt_make_cert(const char *dir, const char *name, const char *cn, const char *ca,
		  const char *ext)
{
	const char *q = "2>/dev/null";
	if (!ca) {
		pt_sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		      "-keyout %s.key -out %s.crt -days 2 -subj /CN=%s %s", dir, name, name, cn, q);
		return;
	}
	pt_sh("cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "
	      "%s.key -out %s.csr -subj /CN=%s %s", dir, name, name, cn, q);
	pt_sh("cd %s && printf '%s\\n' > %s.ext && openssl x509 -req -in %s.csr -CA %s.crt "
	      "-CAkey %s.key -CAcreateserial -out %s.crt -days 2 -extfile %s.ext %s",
	      dir, ext, name, name, ca, ca, name, name, q);
}
