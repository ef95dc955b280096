/* SPDX-License-Identifier: Apache-2.0 */
/* Dialling the publisher as nerrf tail and nerrf stats do, and saying why nothing arrives. */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "nerrf_parse.h"
#include "nerrf_wire.h"
#include "print.h"
#include "subscribe.h"
#include "wirecheck.h"

#define PROBE_MS 3000 /* with nothing received, look at an ipc:// socket after this long */

/* ipc://<rundir>/events.sock, the publisher's default address. */
const char *default_url(const char *rundir, char *buf, size_t len)
{
	snprintf(buf, len, "ipc://%s/events.sock", rundir ? rundir : NERRF_DEFAULT_RUNDIR);
	return buf;
}

/* The largest message nng accepts (--max-message-bytes). */
size_t recv_max = NERRF_MAX_MESSAGE_BYTES;
/* Connections nng closed; it closes one on a message larger than recv_max. */
atomic_uint pipes_closed;

static void on_pipe_closed(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)p;
	(void)ev;
	(void)arg;
	atomic_fetch_add(&pipes_closed, 1);
}

/* Bounds what nng allocates for a publisher's message, and counts closed connections. */
int guard(nng_socket s)
{
	int rv = nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, recv_max);
	if (rv == 0)
		rv = nng_pipe_notify(s, NNG_PIPE_EV_REM_POST, on_pipe_closed, NULL);
	return rv;
}


void tls_option(struct nerrf_tls_files *t, int c, const char *v)
{
	switch (c) {
	case 'C': t->cert = v; break;
	case 'K': t->key = v; break;
	case 'A': t->ca = v; break;
	case 'N': t->server_name = v; break;
	}
}

/*
 * Dials without waiting for the publisher: nng keeps redialling in the
 * background, so a subscriber started first, or one whose publisher
 * restarts, connects as soon as the publisher listens.
 */
int subscribe(const char *cmd, const char *url, const struct nerrf_tls_files *tls,
		     bool events, bool stats, nng_socket *out)
{
	nng_socket s;
	int rv = nng_sub0_open(&s);
	if (rv == 0 && events)
		rv = nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN);
	if (rv == 0 && stats)
		rv = nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, NERRF_TOPIC_STATS, NERRF_TOPIC_LEN);
	if (rv == 0)
		rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, RECV_POLL_MS);
	if (rv == 0)
		rv = nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 50);
	if (rv == 0)
		rv = nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, 1000);
	if (rv == 0)
		rv = guard(s);
	if (rv == 0 && nerrf_url_kind(url) == NERRF_URL_TLS) {
		if (nerrf_dial_tls(s, cmd, url, *tls) != 0)
			return -1;
	} else if (rv == 0) {
		rv = nng_dial(s, url, NULL, NNG_FLAG_NONBLOCK);
	}
	if (rv != 0) {
		fprintf(stderr,
			"nerrf %s: cannot subscribe to %s: %s; give the publisher's "
			"address with --url (ipc:///path, tls+tcp://host:port or tcp://host:port)\n",
			cmd, url, nng_strerror(rv));
		return -1;
	}
	*out = s;
	return 0;
}

/* ---- is a publisher there ---- */


static const char *ipc_path(const char *url)
{
	return strncmp(url, "ipc://", 6) == 0 ? url + 6 : NULL;
}

/* What a connect() to the socket file says: 0 or EAGAIN when something listens, else why not. */
static int probe_ipc(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t n = strlen(path);

	if (n >= sizeof(a.sun_path))
		return ENAMETOOLONG;
	memcpy(a.sun_path, path, n);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	int err = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 ? 0 : errno;
	close(fd);
	return err;
}

static void put_socket_group(FILE *f, const char *path)
{
	struct stat st;
	struct group *g;

	/* The directory itself may be what is forbidden: then the pipeline's default. */
	put_text(f, stat(path, &st) == 0 && (g = getgrgid(st.st_gid)) ? g->gr_name : "nerrf");
}

/* Says why nothing arrives (err: what connect() said; 0: it connected); returns the exit status. */
static int explain(const struct watch *w, int err)
{
	static const char running[] = "is nerrf running? (systemctl status nerrf.target, or nerrf run)";
	const char *path = ipc_path(w->url);
	int status = EXIT_NO_PUBLISHER;

	fprintf(stderr, "nerrf %s: ", w->cmd);
	if (!path) {
		fputs("nothing from ", stderr);
		put_text(stderr, w->url);
		fprintf(stderr, " within %lld s: is nerrf-publisher listening there, and can this "
				"host reach it?", w->limit_ms / 1000);
	} else if (err == ENOENT || err == ENOTDIR) {
		fputs("no publisher socket at ", stderr);
		put_text(stderr, path);
		fprintf(stderr, ": %s", running);
	} else if (err == EACCES || err == EPERM) {
		fputs("permission denied on ", stderr);
		put_text(stderr, path);
		fputs(": add yourself to group ", stderr);
		put_socket_group(stderr, path);
		fputs(" (then log in again), or run as root", stderr);
		status = EXIT_PERMISSION;
	} else if (err == ECONNREFUSED) {
		fputs("nothing listens on ", stderr);
		put_text(stderr, path);
		fprintf(stderr, " (left by a publisher that stopped?): %s", running);
	} else if (err == 0 || err == EAGAIN) {
		fputs("connected to ", stderr);
		put_text(stderr, path);
		fprintf(stderr, " but no publisher answered within %lld s: is what listens there "
				"a nerrf-publisher, and is it running (not stopped)?",
			w->limit_ms / 1000);
	} else {
		fputs("cannot connect to ", stderr);
		put_text(stderr, path);
		fprintf(stderr, ": %s; give the publisher's socket with --url or --rundir",
			strerror(err));
	}
	fputs(w->wait ? "; waiting for it (--wait)\n" : "\n", stderr);
	return status;
}

/* After a receive timed out: 0 to keep waiting, else the status to exit with. */
static int watch_idle(struct watch *w)
{
	const char *path = ipc_path(w->url);
	int status = 0;

	if (w->heard || w->reported)
		return 0;
	w->idle_ms += RECV_POLL_MS;
	if (path && !w->probed && w->idle_ms >= (w->limit_ms < PROBE_MS ? w->limit_ms : PROBE_MS)) {
		w->probed = true;
		int err = probe_ipc(path);
		if (err != 0 && err != EAGAIN) {
			status = explain(w, err);
			w->reported = true;
		}
	}
	if (!w->reported && w->idle_ms >= w->limit_ms) {
		status = explain(w, 0);
		w->reported = true;
	}
	return w->wait ? 0 : status;
}

static void watch_heard(struct watch *w)
{
	if (w->reported && !w->heard) {
		fprintf(stderr, "nerrf %s: ", w->cmd);
		put_text(stderr, w->url);
		fputs(" answered\n", stderr);
	}
	w->heard = true;
}

/* The shared parser (nerrf_parse.h), its message under our command's name. */
int parse_num(const char *cmd, const char *opt, const char *s, uint64_t lo, uint64_t hi,
		     uint64_t *out)
{
	char err[256];

	if (nerrf_parse_uint(opt, s, lo, hi, out, err, sizeof(err)) != 0) {
		fprintf(stderr, "nerrf %s: %s\n", cmd, err);
		return -1;
	}
	return 0;
}

int parse_secs(const char *cmd, const char *s, long long *out)
{
	char err[256];
	uint64_t v;

	if (nerrf_parse_duration("--timeout", s, NERRF_S, 1, 86400, &v, err, sizeof(err)) != 0) {
		fprintf(stderr, "nerrf %s: %s\n", cmd, err);
		return -1;
	}
	*out = (long long)v;
	return 0;
}

/* --max-message-bytes: 64 KiB at least, four times the largest batch of the smallest ring #2. */
int parse_recv_max(const char *cmd, const char *s)
{
	char err[256];
	uint64_t v;

	if (nerrf_parse_size("--max-message-bytes", s, 64 << 10, 1u << 30, false, &v, err,
			     sizeof(err)) != 0) {
		fprintf(stderr, "nerrf %s: %s\n", cmd, err);
		return -1;
	}
	recv_max = (size_t)v;
	return 0;
}

int watch_recv(nng_socket s, struct watch *w, nng_msg **m, int *status)
{
	int rv = nng_recvmsg(s, m, 0);

	if (rv == NNG_ETIMEDOUT) {
		*status = watch_idle(w);
		return *status ? -1 : 0;
	}
	if (rv != 0) {
		*status = 0;
		if (!nerrf_stop) {
			fprintf(stderr, "nerrf %s: receive failed: %s\n", w->cmd, nng_strerror(rv));
			*status = 1;
		}
		return -1;
	}
	watch_heard(w);
	return 1;
}
