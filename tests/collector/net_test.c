/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bind, listen, connect, accept, accept4 over TCP on 127.0.0.1 and ::1: the
 * exact addresses and ports the test's own sockets report, the return values
 * (a refused connect, a bind to a taken port) and, at close, the bytes each
 * side sent and received as counted here.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common_checks.h"
#include "nerrf_time.h"

#define SENT 100000 /* client to server */
#define BACK 33333  /* server to client */

static struct coll c;

/* addr (4 or 16 bytes in the record) and port of a sockaddr the test got itself */
static void check_ep_at(int line, const struct sockaddr_storage *ss, const __u8 *addr,
			unsigned port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;
		CHECK(memcmp(addr, &in->sin_addr, 4) == 0, "line %d: IPv4 address differs", line);
		CHECK(port == ntohs(in->sin_port), "line %d: port %u, want %u", line, port,
		      ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;
		CHECK(memcmp(addr, &in6->sin6_addr, 16) == 0, "line %d: IPv6 address differs", line);
		CHECK(port == ntohs(in6->sin6_port), "line %d: port %u, want %u", line, port,
		      ntohs(in6->sin6_port));
	}
}

#define check_ep(ss, a, p) check_ep_at(__LINE__, ss, a, p)

static const struct nerrf_event *last;

static const struct nerrf_net *expect(unsigned op, long long ret, int fd, int family)
{
	const struct nerrf_event *e = coll_find(&c, op, getpid(), NULL, 5000);
	check_header(e, op, ret);
	last = e;
	CHECK_EQ_U64(e->fd, fd);
	CHECK_EQ_U64(e->data_len, sizeof(struct nerrf_net));
	CHECK_EQ_U64(e->path_len + e->path2_len + e->raw_len, 0);
	const struct nerrf_net *n = (const void *)ev_data(e);
	CHECK_EQ_U64(n->family, family);
	CHECK_EQ_U64(n->type, SOCK_STREAM);
	CHECK_EQ_U64(n->protocol, IPPROTO_TCP);
	return n;
}

static const struct nerrf_net *expect_flags(unsigned op, long long ret, int fd, int family,
					    unsigned flags)
{
	const struct nerrf_net *n = expect(op, ret, fd, family);
	CHECK((last->flags & (NERRF_EF_REMOTE_USER | NERRF_EF_LOCAL_USER)) == flags,
	      "flags %#x, want %#x", last->flags, flags);
	return n;
}

static void name_of(int fd, struct sockaddr_storage *ss, bool peer)
{
	socklen_t len = sizeof(*ss);
	memset(ss, 0, sizeof(*ss));
	CHECK((peer ? getpeername(fd, (void *)ss, &len) : getsockname(fd, (void *)ss, &len)) == 0);
}

static void pump(int from, int to, size_t total)
{
	static char buf[8192];
	size_t sent = 0, got = 0;

	memset(buf, 'n', sizeof(buf));
	while (sent < total) {
		size_t n = total - sent < sizeof(buf) ? total - sent : sizeof(buf);
		ssize_t w = (sent / sizeof(buf)) % 2 ? send(from, buf, n, 0) : write(from, buf, n);
		CHECK(w > 0, "send: %s", strerror(errno));
		sent += (size_t)w;
		while (got < sent) {
			ssize_t r = recv(to, buf, sizeof(buf), 0);
			CHECK(r > 0, "recv: %s", strerror(errno));
			got += (size_t)r;
		}
	}
}

/* Closes fd: its summary has the endpoints, the counts and the start the test saw. */
static const struct nerrf_net *closed(int fd, int family, const struct sockaddr_storage *local,
				      const struct sockaddr_storage *remote, unsigned long long sent,
				      unsigned long long got, unsigned long long first_ns)
{
	close(fd);
	const struct nerrf_net *n = expect_flags(NERRF_OP_SOCK_CLOSE, 0, fd, family, 0);
	check_ep(local, n->local_addr, n->local_port);
	check_ep(remote, n->remote_addr, n->remote_port);
	CHECK_EQ_U64(last->bytes, sent);
	CHECK_EQ_U64(n->rx_bytes, got);
	CHECK_EQ_U64(n->first_ns, first_ns);
	return n;
}

static void one_family(int family)
{
	struct sockaddr_storage any = { .ss_family = (sa_family_t)family }, ss, peer;
	socklen_t alen = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	const struct nerrf_net *n;
	unsigned long long t0, t1;
	int ls, cs, as, xs;

	if (family == AF_INET)
		((struct sockaddr_in *)&any)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&any)->sin6_addr = in6addr_loopback;

	/* bind to port 0: the event has the port the kernel chose */
	ls = socket(family, SOCK_STREAM, 0);
	CHECK(ls >= 0 && bind(ls, (void *)&any, alen) == 0);
	name_of(ls, &ss, false);
	n = expect_flags(NERRF_OP_BIND, 0, ls, family, 0);
	check_ep(&ss, n->local_addr, n->local_port);
	CHECK(n->local_port != 0);
	CHECK_EQ_U64(n->remote_port, 0);

	CHECK(listen(ls, 7) == 0);
	n = expect_flags(NERRF_OP_LISTEN, 0, ls, family, 0);
	CHECK_EQ_U64(last->arg_flags, 7);
	check_ep(&ss, n->local_addr, n->local_port);

	/* a taken port: the address is the caller's, flagged */
	xs = socket(family, SOCK_STREAM, 0);
	CHECK(xs >= 0 && bind(xs, (void *)&ss, alen) == -1 && errno == EADDRINUSE);
	n = expect_flags(NERRF_OP_BIND, -EADDRINUSE, xs, family, NERRF_EF_LOCAL_USER);
	check_ep(&ss, n->local_addr, n->local_port);
	close(xs);

	t0 = nerrf_mono_ns();
	cs = socket(family, SOCK_STREAM, 0);
	CHECK(cs >= 0 && connect(cs, (void *)&ss, alen) == 0);
	n = expect_flags(NERRF_OP_CONNECT, 0, cs, family, 0);
	name_of(cs, &peer, false);
	check_ep(&peer, n->local_addr, n->local_port);
	name_of(cs, &peer, true);
	check_ep(&peer, n->remote_addr, n->remote_port);
	unsigned long long connected = last->ts_ns;

	if (family == AF_INET) {
		as = accept(ls, NULL, NULL);
		CHECK(as >= 0);
		n = expect_flags(NERRF_OP_ACCEPT, as, ls, family, 0);
	} else {
		as = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		CHECK(as >= 0);
		n = expect_flags(NERRF_OP_ACCEPT4, as, ls, family, 0);
		CHECK_EQ_U64(last->arg_flags, SOCK_CLOEXEC);
	}
	unsigned long long accepted = last->ts_ns;
	name_of(as, &peer, false);
	check_ep(&peer, n->local_addr, n->local_port);
	name_of(as, &peer, true);
	check_ep(&peer, n->remote_addr, n->remote_port);

	pump(cs, as, SENT);
	pump(as, cs, BACK);
	t1 = nerrf_mono_ns();

	/* each side's summary: what it sent and received, here counted */
	name_of(cs, &ss, false);
	name_of(cs, &peer, true);
	n = closed(cs, family, &ss, &peer, SENT, BACK, connected);
	CHECK(n->last_ns >= t0 && n->last_ns <= t1, "last_ns %llu outside [%llu, %llu]",
	      (unsigned long long)n->last_ns, t0, t1);
	closed(as, family, &peer, &ss, BACK, SENT, accepted);

	/* a refused connect: the socket forgot the target, so it is the caller's, flagged */
	name_of(ls, &ss, false);
	close(ls);
	cs = socket(family, SOCK_STREAM, 0);
	CHECK(cs >= 0 && connect(cs, (void *)&ss, alen) == -1 && errno == ECONNREFUSED);
	n = expect_flags(NERRF_OP_CONNECT, -ECONNREFUSED, cs, family, NERRF_EF_REMOTE_USER);
	check_ep(&ss, n->remote_addr, n->remote_port);
	name_of(cs, &peer, false);
	check_ep(&peer, n->local_addr, n->local_port);
	/* never connected: no summary */
	close(cs);
}

int main(void)
{
	char self[16];
	const char *args[] = { "--pid", self, "--syscalls", "connect,accept,accept4,bind,listen",
			       "--net-loopback", NULL };
	const struct nerrf_event *e;

	test_require_root("net_test");
	snprintf(self, sizeof(self), "%d", getpid());
	coll_start(&c, args);
	one_family(AF_INET);
	one_family(AF_INET6);
	coll_stop(&c);
	while ((e = coll_next(&c, 200)))
		CHECK(e->tgid != (unsigned)getpid() || e->op != NERRF_OP_SOCK_CLOSE,
		      "a summary for a socket that never connected (fd %d)", e->fd);
	coll_free(&c);
	return 0;
}
