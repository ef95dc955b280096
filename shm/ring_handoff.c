/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Handing a ring's sealed memfd from its producer to its consumer over a
 * unix socket. See "Hand-over" in nerrf_ring.h for the contract.
 *
 * The socket carries one message, producer to consumer: a fixed hello with
 * exactly one fd attached. Anything else (another size, no fd, more fds) is
 * refused. The connection then stays open and silent: its end is how the
 * consumer learns that the producer is gone.
 */
#include "ring_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define HELLO_MAGIC 0x31444e4148524e45ULL /* "ENRHAND1" little-endian */
#define HELLO_WAIT_MS 2000

struct hello {
	uint64_t magic;
	uint32_t version;
	uint32_t zero;
};

struct nerrf_ring_server {
	int lfd;
	int cur; /* the consumer holding the ring, or -1 */
	struct nerrf_ring_prod *ring;
};

static int sock_path(struct sockaddr_un *sa, const char *dir, const char *name)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir, name) >=
	    sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int nerrf_ring_listen(const char *dir, const char *name, mode_t mode,
		      struct nerrf_ring_prod *ring, struct nerrf_ring_server **out,
		      const char **err_msg)
{
	struct nerrf_ring_server *s;
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int dfd, fd, ret;

	*out = NULL;
	set_msg(err_msg, NULL);
	if (sock_path(&sa, dir, name) < 0) {
		set_msg(err_msg, "ring socket path is longer than a unix socket address allows "
				 "(107 bytes): choose a shorter run directory");
		return -ENAMETOOLONG;
	}
	dfd = open(dir, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_PATH);
	if (dfd < 0) {
		ret = -errno;
		set_msg(err_msg, "cannot open the run directory (it must exist, be a directory "
				 "and not a symlink): create it or choose another");
		return ret;
	}
	/* A stale socket from an earlier run goes; anything else there is not ours to remove. */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			close(dfd);
			set_msg(err_msg, "something other than a socket sits at the ring socket's "
					 "path: refusing to replace it; remove it and restart");
			return -EEXIST;
		}
		unlinkat(dfd, name, 0);
	}
	close(dfd);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		ret = -errno;
		set_msg(err_msg, "cannot create a unix socket");
		return ret;
	}
	/* bind() never follows a symlink at the final name: one placed there fails it. */
	old = umask(~mode & 0777);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old);
	if (ret == 0 && listen(fd, 4) < 0)
		ret = -errno;
	if (ret < 0) {
		set_msg(err_msg, "cannot bind the ring socket in the run directory: check that "
				 "the stage's user may write there and nothing else is at the name");
		close(fd);
		return ret;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	s->lfd = fd;
	s->cur = -1;
	s->ring = ring;
	*out = s;
	return 0;
}

int nerrf_ring_server_fd(const struct nerrf_ring_server *s)
{
	return s->lfd;
}

/* Whether the peer of a silent connection has gone away. */
static bool conn_closed(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static int send_ring(int conn, int ring_fd)
{
	struct hello h = {.magic = HELLO_MAGIC, .version = RING_VERSION};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = &h, .iov_len = sizeof(h)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	memset(u.buf, 0, sizeof(u.buf));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &ring_fd, sizeof(int));
	return sendmsg(conn, &m, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)sizeof(h) ? 0 : -errno;
}

int nerrf_ring_serve(struct nerrf_ring_server *s, int timeout_ms)
{
	struct pollfd p = {.fd = s->lfd, .events = POLLIN};
	int conn;

	if (timeout_ms != 0 && poll(&p, 1, timeout_ms) <= 0)
		return 0;
	conn = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (conn < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
		       errno == ECONNABORTED ? 0 : -errno;
	/* One consumer at a time: two would both move the tail. */
	if (s->cur >= 0 && !conn_closed(s->cur)) {
		close(conn);
		return -EBUSY;
	}
	if (s->cur >= 0)
		close(s->cur);
	s->cur = -1;
	if (send_ring(conn, nerrf_ring_fd(s->ring)) < 0) {
		close(conn);
		return 0;
	}
	s->cur = conn;
	return 1;
}

struct serving {
	struct nerrf_ring_server *s;
	sem_t started;
};

static void *serve_loop(void *arg)
{
	struct serving *v = arg;
	struct nerrf_ring_server *s = v->s;

	sem_post(&v->started);
	for (;;)
		nerrf_ring_serve(s, -1);
	return NULL;
}

/*
 * Returns once the thread runs: a seccomp filter installed right after must
 * not meet a thread still starting up (its set_robust_list and rseq calls).
 */
int nerrf_ring_serve_background(struct nerrf_ring_server *s)
{
	struct serving v = { .s = s };
	pthread_attr_t a;
	pthread_t t;
	int ret;

	if (sem_init(&v.started, 0, 0) != 0)
		return -errno;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&t, &a, serve_loop, &v);
	pthread_attr_destroy(&a);
	if (ret == 0)
		while (sem_wait(&v.started) != 0 && errno == EINTR)
			;
	sem_destroy(&v.started);
	return -ret;
}

/* Takes the hello and its one fd; -EBUSY when the producer closed without one. */
static int recv_ring(int conn, int *ring_fd, const char **err_msg)
{
	struct hello h;
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = &h, .iov_len = sizeof(h)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct pollfd p = {.fd = conn, .events = POLLIN};
	int fds[4], nfd = 0, ret = 0;
	ssize_t n;

	if (poll(&p, 1, HELLO_WAIT_MS) <= 0) {
		set_msg(err_msg, "the ring's producer accepted the connection but sent nothing: "
				 "it is wedged or not a nerrf stage");
		return -ETIMEDOUT;
	}
	n = recvmsg(conn, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && errno == ECONNRESET) {
		/* It died with our connection in its queue: its successor will serve. */
		set_msg(err_msg, "the ring's producer went away before handing the ring over: "
				 "waiting for the next one (the consumer retries)");
		return -EAGAIN;
	}
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k && nfd < 4; i++)
			memcpy(&fds[nfd++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	if (n == 0) {
		set_msg(err_msg, "the ring's producer refused us: another consumer holds the "
				 "ring (only one may); stop it first");
		ret = -EBUSY;
	} else if (n != (ssize_t)sizeof(h) || nfd != 1 || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
		   h.magic != HELLO_MAGIC) {
		set_msg(err_msg, "the ring socket answered with something other than a nerrf ring "
				 "hand-over: check what listens there");
		ret = -EPROTO;
	} else if (h.version != RING_VERSION) {
		set_msg(err_msg, "the ring's producer runs another ABI version of nerrf: run the "
				 "same version for producer and consumer");
		ret = -NERRF_RING_EVERSION;
	}
	for (int i = ret == 0; i < nfd; i++)
		close(fds[i]);
	if (ret == 0)
		*ring_fd = fds[0];
	return ret;
}

int nerrf_ring_connect(const char *path, struct nerrf_ring_cons **out, const char **err_msg)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int conn, fd = -1, ret;

	*out = NULL;
	set_msg(err_msg, NULL);
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path) >= sizeof(sa.sun_path)) {
		set_msg(err_msg, "ring socket path is longer than a unix socket address allows "
				 "(107 bytes): choose a shorter run directory");
		return -ENAMETOOLONG;
	}
	/*
	 * Something other than a socket at the name (a symlink placed there) is
	 * not followed: the producer refuses to start over it, and says so.
	 */
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		set_msg(err_msg, "something other than a socket sits at the ring socket's path: "
				 "waiting for the producer (which refuses to replace it)");
		return -EAGAIN;
	}
	conn = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (conn < 0)
		return -errno;
	if (connect(conn, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(conn);
		if (ret == -ENOENT || ret == -ECONNREFUSED) {
			set_msg(err_msg, "no producer serves this ring yet: start it (the consumer "
					 "retries)");
			return -EAGAIN;
		}
		set_msg(err_msg, ret == -EACCES ? "permission denied on the ring socket: run the "
						  "consumer as the stages' user or in their group"
						: "cannot connect to the ring socket");
		return ret;
	}
	ret = recv_ring(conn, &fd, err_msg);
	if (ret == 0) {
		ret = nerrf_ring_attach(fd, out, err_msg);
		if (ret < 0)
			close(fd);
	}
	if (ret < 0) {
		close(conn);
		return ret;
	}
	(*out)->conn = conn;
	return 0;
}

bool nerrf_ring_producer_gone(const struct nerrf_ring_cons *c)
{
	return c->conn >= 0 && conn_closed(c->conn);
}

int nerrf_ring_watch_producer(const struct nerrf_ring_cons *c, int sig)
{
	struct f_owner_ex owner = {.type = F_OWNER_TID, .pid = gettid()};
	int conn = c->conn, fl;

	if (conn < 0)
		return -EINVAL;
	fl = fcntl(conn, F_GETFL);
	if (fl < 0 || fcntl(conn, F_SETOWN_EX, &owner) < 0 || fcntl(conn, F_SETSIG, sig) < 0 ||
	    fcntl(conn, F_SETFL, fl | O_ASYNC) < 0)
		return -errno;
	return 0;
}

void nerrf_ring_server_close(struct nerrf_ring_server *s)
{
	if (!s)
		return;
	close(s->lfd);
	if (s->cur >= 0)
		close(s->cur);
	free(s);
}
