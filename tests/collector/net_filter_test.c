/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The network filters, in the kernel: loopback peers are left out by
 * default, net-port keeps only the listed ports (set in tracker.conf here),
 * and unix sockets (with their paths) come only with --net-family unix.
 * A reload (SIGHUP, the file rewritten) puts new network filters in force.
 */
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common_checks.h"

static char self[16];

/* A UDP connect sends nothing: any address will do, routed or not. */
static long udp_connect(const char *ip, unsigned port, int *fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, ip, &sa.sin_addr);
	*fd = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(*fd >= 0);
	return connect(*fd, (void *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
}

static void tcp_loopback(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int ls = socket(AF_INET, SOCK_STREAM, 0), cs = socket(AF_INET, SOCK_STREAM, 0), as;
	CHECK(bind(ls, (void *)&sa, sizeof(sa)) == 0 && listen(ls, 1) == 0 &&
	      getsockname(ls, (void *)&sa, &len) == 0 && connect(cs, (void *)&sa, sizeof(sa)) == 0);
	CHECK((as = accept(ls, NULL, NULL)) >= 0);
	close(as);
	close(cs);
	close(ls);
}

static const struct nerrf_net *net_of(const struct nerrf_event *e)
{
	CHECK_EQ_U64(e->data_len, sizeof(struct nerrf_net));
	return (const void *)ev_data(e);
}

static void check_udp(const struct nerrf_event *e, long ret, int fd, unsigned port)
{
	check_header(e, NERRF_OP_CONNECT, ret);
	CHECK_EQ_U64(e->fd, fd);
	const struct nerrf_net *n = net_of(e);
	CHECK_EQ_U64(n->family, AF_INET);
	CHECK_EQ_U64(n->type, SOCK_DGRAM);
	CHECK_EQ_U64(n->remote_port, port);
	CHECK(n->remote_addr[0] == 192 && n->remote_addr[1] == 0 && n->remote_addr[2] == 2 &&
	      n->remote_addr[3] == 1, "remote address");
}

/* Defaults: loopback out, counted as filtered; anything else in. */
static void loopback_excluded(void)
{
	const char *args[] = { "--pid", self, "--syscalls", "connect,accept,bind,listen", NULL };
	const struct nerrf_event *e;
	struct coll c;
	int fd;

	coll_start(&c, args);
	tcp_loopback();
	long ret = udp_connect("192.0.2.1", 53, &fd);
	e = coll_find(&c, NERRF_OP_CONNECT, getpid(), NULL, 5000);
	check_udp(e, ret, fd, 53);
	close(fd);
	coll_stop(&c);
	/* the final stats record comes after every event */
	while (coll_next(&c, 200))
		;
	CHECK(c.stats && c.stats->kernel_filtered >= 4, "bind, listen, connect, accept on "
	      "loopback: filtered %llu", c.stats ? (unsigned long long)c.stats->kernel_filtered : 0);
	coll_free(&c);
}

static void port_filter(void)
{
	const char *args[] = { "--pid", self, "--syscalls", "connect,accept,bind,listen", NULL };
	const struct nerrf_event *e;
	struct coll c;
	int fd54, fd53;
	char conf[300];

	/* the configuration file's keys are the long options */
	snprintf(conf, sizeof(conf), "%s/tracker.conf", test_tmpdir("net-conf"));
	FILE *f = fopen(conf, "w");
	CHECK(f && fputs("[collector]\nnet-port = 53\nnet-loopback = true\n", f) >= 0 &&
	      fclose(f) == 0);
	setenv("NERRF_CONFIG", conf, 1);
	coll_start(&c, args);
	unsetenv("NERRF_CONFIG");
	tcp_loopback();
	long r54 = udp_connect("192.0.2.1", 54, &fd54);
	long r53 = udp_connect("192.0.2.1", 53, &fd53);
	(void)r54;
	/* the first network event to arrive is the one to port 53 */
	while ((e = coll_next(&c, 5000)) && (e->tgid != (unsigned)getpid() ||
					      e->op < NERRF_OP_CONNECT))
		;
	check_udp(e, r53, fd53, 53);
	close(fd53);
	close(fd54);
	coll_stop(&c);
	coll_free(&c);
}

static void unix_paths(void)
{
	const char *args[] = { "--pid", self, "--syscalls", "connect,accept,bind,listen",
			       "--net-family", "unix", "--net-loopback", NULL };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const struct nerrf_event *e;
	struct coll c;
	int ls, cs, as, fd;

	const char *dir = real_tmpdir("net-unix");
	CHECK(strlen(dir) + 6 <= sizeof(sa.sun_path), "%s: too long for a unix socket path", dir);
	memcpy(sa.sun_path, dir, strlen(dir));
	memcpy(sa.sun_path + strlen(dir), "/sock", 6);
	coll_start(&c, args);
	/* inet is not asked for */
	udp_connect("192.0.2.1", 53, &fd);
	close(fd);
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	cs = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(ls, (void *)&sa, sizeof(sa)) == 0 && listen(ls, 1) == 0);
	CHECK(connect(cs, (void *)&sa, sizeof(sa)) == 0 && (as = accept(ls, NULL, NULL)) >= 0);

	e = coll_find(&c, NERRF_OP_BIND, getpid(), NULL, 5000);
	check_header(e, NERRF_OP_BIND, 0);
	CHECK_EQ_U64(net_of(e)->family, AF_UNIX);
	CHECK_EQ_U64(net_of(e)->type, SOCK_STREAM);
	CHECK_STR(ev_path(e), sa.sun_path);
	CHECK(!ev_path2(e));
	/* a connected unix socket is unnamed; its peer has the listener's name */
	e = coll_find(&c, NERRF_OP_CONNECT, getpid(), NULL, 5000);
	check_header(e, NERRF_OP_CONNECT, 0);
	CHECK(!ev_path(e));
	CHECK_STR(ev_path2(e), sa.sun_path);
	e = coll_find(&c, NERRF_OP_ACCEPT, getpid(), NULL, 5000);
	check_header(e, NERRF_OP_ACCEPT, as);
	CHECK_STR(ev_path(e), sa.sun_path);
	close(as);
	close(cs);
	close(ls);
	/* a refused connect names the caller's path, flagged */
	unlink(sa.sun_path);
	cs = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(connect(cs, (void *)&sa, sizeof(sa)) == -1 && errno == ENOENT);
	e = coll_find(&c, NERRF_OP_CONNECT, getpid(), NULL, 5000);
	check_header(e, NERRF_OP_CONNECT, -ENOENT);
	CHECK_STR(ev_path2(e), sa.sun_path);
	CHECK(e->flags & NERRF_EF_REMOTE_USER, "flags %#x", e->flags);
	close(cs);
	coll_stop(&c);
	while ((e = coll_next(&c, 200)))
		CHECK(e->tgid != (unsigned)getpid() || net_of(e)->family == AF_UNIX,
		      "an inet event with --net-family unix");
	coll_free(&c);
}

static void write_conf(const char *path, const char *text)
{
	char tmp[320];
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	FILE *f = fopen(tmp, "w");
	/* root's file, which the collector reads again after dropping to nobody */
	CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0 && chmod(tmp, 0644) == 0 &&
	      rename(tmp, path) == 0);
}

/* net-port 53 -> 54 by SIGHUP: connects to 54 come from some point on, and then 53's stop. */
static void reload_port(void)
{
	const char *args[] = { "--pid", self, "--syscalls", "connect", NULL };
	const struct nerrf_event *e;
	struct coll c;
	char conf[300];
	bool got54 = false;
	int fd;

	const char *dir = test_tmpdir("net-reload");
	CHECK(chmod(dir, 0755) == 0);
	snprintf(conf, sizeof(conf), "%s/tracker.conf", dir);
	write_conf(conf, "[collector]\nnet-port = 53\n");
	setenv("NERRF_CONFIG", conf, 1);
	coll_start(&c, args);
	unsetenv("NERRF_CONFIG");
	write_conf(conf, "[collector]\nnet-port = 54\n");
	CHECK(kill(c.pid, SIGHUP) == 0);
	/* The reload is the collector's own business: try until it is in force. */
	for (int i = 0; i < 100 && !got54; i++) {
		long r = udp_connect("192.0.2.1", 54, &fd);
		while (!got54 && (e = coll_next(&c, 50)))
			if (e->tgid == (unsigned)getpid() && e->op == NERRF_OP_CONNECT &&
			    e->fd == fd) {
				check_udp(e, r, fd, 54);
				got54 = true;
			}
		close(fd);
	}
	CHECK(got54, "no connect to port 54 within 5 s of reloading to net-port = 54");
	udp_connect("192.0.2.1", 53, &fd);
	close(fd);
	long r = udp_connect("192.0.2.1", 54, &fd);
	while ((e = coll_next(&c, 2000)) &&
	       (e->tgid != (unsigned)getpid() || e->op != NERRF_OP_CONNECT))
		;
	check_udp(e, r, fd, 54); /* not the one to 53 before it */
	close(fd);
	coll_stop(&c);
	coll_free(&c);
}

int main(void)
{
	test_require_root("net_filter_test");
	snprintf(self, sizeof(self), "%d", getpid());
	loopback_excluded();
	port_filter();
	unix_paths();
	reload_port();
	return 0;
}
