/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-exporter: the pipeline's counters for Prometheus. An nng subscriber
 * to the stats topic (STS1) only, which keeps the last Stats and serves them
 * at GET /metrics through libmicrohttpd. It never touches the rings: a slow
 * or stuck scraper costs the pipeline nothing, since the publisher drops
 * what this subscriber does not read (as for any other).
 *
 * libmicrohttpd answers from its own thread; the Stats it renders are
 * swapped under a mutex by the main thread, which only receives.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "exporter.h"
#include "nerrf_conf.h"
#include "nerrf_log.h"
#include "nerrf_signal.h"
#include "nerrf_notify.h"
#include "nerrf_opt.h"
#include "nerrf_parse.h"
#include "nerrf_version.h"
#include "nerrf_wire.h"
#include "nerrf_time.h"

#define DEFAULT_LISTEN "127.0.0.1:9465"
#define DEFAULT_STATS_INTERVAL_MS 1000 /* the encoder's */
#define RECV_POLL_MS 200
/* A Stats is a few hundred bytes, plus a loss entry per CPU and per syscall. */
#define RECV_MAX (256u << 10)
#define HTTP_CONNECTIONS 32
#define HTTP_TIMEOUT_S 10

struct opts {
	const char *rundir;
	const char *url;
	const char *listen;
	bool insecure_listen;
	uint64_t stats_interval_ms;
	bool check; /* --check-config */
};

static struct exp_state state;
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;

static void usage(FILE *f)
{
	fputs("Usage: nerrf-exporter [options]\n"
	      "Serves the pipeline's stats (the publisher's STS1 topic) to Prometheus.\n\n"
	      "  --url URL             the publisher's address (default ipc://<rundir>/events.sock)\n"
	      "  --rundir DIR          where the stages' sockets are (default " NERRF_DEFAULT_RUNDIR ")\n"
	      "  --listen ADDR:PORT    HTTP address for GET /metrics (default " DEFAULT_LISTEN
	      ");\n"
	      "                        IPv6 as [::1]:9465\n"
	      "  --insecure-listen     allow a --listen address other than loopback (the\n"
	      "                        metrics carry no authentication)\n"
	      "  --stats-interval D    the encoder's stats interval (default 1s): a stage whose\n"
	      "                        stats are 3 intervals old is reported down\n"
	      "  --config FILE         configuration file, section [exporter] (default "
	      NERRF_CONF_DEFAULT ")\n"
	      "  --check-config        print the configuration in force (file and flags), then exit\n"
	      "  --version             print the version\n"
	      "  --help                this text\n",
	      f);
}

#define O struct opts
/* The options; also the [exporter] keys. */
static const struct nerrf_opt table[] = {
	NOPT_STR("url", O, url),
	NOPT_STR("rundir", O, rundir),
	NOPT_STR("listen", O, listen),
	NOPT_FLAG("insecure-listen", O, insecure_listen),
	NOPT_FLAG("check-config", O, check),
	NOPT_DURATION("stats-interval", O, stats_interval_ms, NERRF_MS, 100, 3600000),
	NOPT_IGNORE("config"),
	NOPT_VERSION("nerrf-exporter"),
	NOPT_HELP(usage),
	NOPT_END,
};
#undef O

static const struct opts defaults = {
	.rundir = NERRF_DEFAULT_RUNDIR,
	.listen = DEFAULT_LISTEN,
	.stats_interval_ms = DEFAULT_STATS_INTERVAL_MS,
};

static struct nerrf_optset set = {
	.section = "exporter", .table = table, .defaults = &defaults, .size = sizeof(defaults),
};

/*
 * ADDR:PORT with a numeric address (IPv6 in brackets) into *sa. Anything but
 * loopback needs --insecure-listen: the metrics name hosts, syscalls and
 * loss, and nothing authenticates who reads them.
 */
static int parse_listen(const char *s, bool insecure, struct sockaddr_storage *sa, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	uint64_t port;
	char err[512], what[256];
	bool loopback;

	if (!colon || (size_t)(colon - s) >= sizeof(host)) {
		log_warnx("--listen '%s' is not ADDR:PORT; write e.g. "
			DEFAULT_LISTEN " or [::1]:9465", s);
		return -1;
	}
	snprintf(what, sizeof(what), "--listen '%s': port", s);
	if (nerrf_parse_uint(what, colon + 1, 1, 65535, &port, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		return -1;
	}
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	size_t hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			goto bad_addr;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr) ||
			   (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr) && a6->sin6_addr.s6_addr[12] == 127);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)sa;
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			goto bad_addr;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	}
	if (!loopback && !insecure) {
		log_warnx("--listen %s is not a loopback address: anyone who reaches it "
			"reads the metrics, without authentication. Keep 127.0.0.1 and scrape through "
			"a proxy or tunnel, or add --insecure-listen to serve it anyway", s);
		return -1;
	}
	return 0;
bad_addr:
	log_warnx("--listen '%s': '%s' is not a numeric IPv4 address or a bracketed "
		"IPv6 one; write e.g. " DEFAULT_LISTEN " or [::1]:9465", s, host);
	return -1;
}

/*
 * The listening socket is ours, so that a port in use is reported as such;
 * libmicrohttpd does the HTTP on it.
 */
static int open_listener(const char *text, const struct sockaddr_storage *sa, socklen_t len)
{
	int one = 1;
	int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (sa->ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    bind(fd, (const struct sockaddr *)sa, len) != 0 || listen(fd, 64) != 0) {
		log_warnx("cannot listen on %s: %s; choose another address "
			"with --listen", text, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **con_cls)
{
	static char not_found[] = "not found: the metrics are at /metrics\n";
	static char bad_method[] = "only GET and HEAD are served\n";
	char *body = NULL;
	size_t len = 0;

	(void)cls;
	(void)version;
	(void)upload;
	(void)con_cls;
	*upload_len = 0; /* a body, if any, is ignored */
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
			     bad_method, sizeof(bad_method) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", not_found,
			     sizeof(not_found) - 1, MHD_RESPMEM_PERSISTENT);

	FILE *f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	pthread_mutex_lock(&state_lock);
	exp_render(f, &state, nerrf_mono_ms());
	pthread_mutex_unlock(&state_lock);
	if (fclose(f) != 0) {
		free(body);
		return MHD_NO;
	}
	return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len,
		     MHD_RESPMEM_MUST_FREE);
}

static int subscribe(const char *url, nng_socket *out)
{
	nng_socket s;
	int rv = nng_sub0_open(&s);
	if (rv == 0)
		rv = nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, NERRF_TOPIC_STATS, NERRF_TOPIC_LEN);
	if (rv == 0)
		rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, RECV_POLL_MS);
	if (rv == 0)
		rv = nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, RECV_MAX);
	if (rv == 0)
		rv = nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 50);
	if (rv == 0)
		rv = nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, 1000);
	/* Non-blocking: nng redials until the publisher listens, and after it restarts. */
	if (rv == 0)
		rv = nng_dial(s, url, NULL, NNG_FLAG_NONBLOCK);
	if (rv != 0) {
		log_warnx("cannot subscribe to %s: %s; give the publisher's address "
			"with --url (ipc:///path or tcp://host:port)", url, nng_strerror(rv));
		return -1;
	}
	*out = s;
	return 0;
}

/*
 * Keeps a received Stats as the last one, and as the encoder's when it has
 * loss counters (the publisher's own have none); one object may be both.
 */
static void take(nng_msg *m)
{
	const uint8_t *b = nng_msg_body(m);
	size_t len = nng_msg_len(m);
	Stats *st = NULL, *gone[2] = {NULL, NULL};

	if (len >= NERRF_TOPIC_LEN && memcmp(b, NERRF_TOPIC_STATS, NERRF_TOPIC_LEN) == 0)
		st = nerrf__trace__stats__unpack(NULL, len - NERRF_TOPIC_LEN, b + NERRF_TOPIC_LEN);
	pthread_mutex_lock(&state_lock);
	state.received++;
	if (!st) {
		state.undecodable++;
	} else {
		gone[0] = state.last;
		state.last = st;
		state.last_ms = nerrf_mono_ms();
		if (st->loss) {
			gone[1] = state.enc;
			state.enc = st;
			state.enc_ms = state.last_ms;
		}
	}
	pthread_mutex_unlock(&state_lock);
	/* Only this thread changes state, so it reads it here without the lock. */
	for (int i = 0; i < 2; i++)
		if (gone[i] && gone[i] != state.enc && gone[i] != state.last &&
		    (i == 0 || gone[1] != gone[0]))
			nerrf__trace__stats__free_unpacked(gone[i], NULL);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct MHD_Daemon *httpd = NULL;
	struct sockaddr_storage sa;
	socklen_t salen;
	nng_socket sock = NNG_SOCKET_INITIALIZER;
	bool sock_open = false;
	char urlbuf[4200];
	int ret = 1, rv, lfd = -1;

	log_init("nerrf-exporter", false);
	if (nerrf_opt_start(&set, argc, argv, &o) != 0) {
		ret = 2;
		goto out;
	}
	if (parse_listen(o.listen, o.insecure_listen, &sa, &salen) != 0) {
		ret = 2;
		goto out;
	}
	if (!o.url) {
		snprintf(urlbuf, sizeof(urlbuf), "ipc://%s/events.sock", o.rundir);
		o.url = urlbuf;
	}
	state.stale_ms = 3 * o.stats_interval_ms;
	if (o.check) {
		nerrf_opt_show(&set, &o);
		ret = 0;
		goto out;
	}

	nerrf_catch_reload();
	nerrf_catch_stop();

	if (subscribe(o.url, &sock) != 0)
		goto out;
	sock_open = true;
	if ((lfd = open_listener(o.listen, &sa, salen)) < 0)
		goto out;
	httpd = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, NULL,
				 MHD_OPTION_LISTEN_SOCKET, lfd,
				 MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS,
				 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
				 MHD_OPTION_END);
	if (!httpd) {
		log_warnx("libmicrohttpd could not start on %s (see its "
			"message above)", o.listen);
		close(lfd);
		goto out;
	}
	log_info("serving http://%s/metrics from %s", o.listen, o.url);
	nerrf_notify_ready("serving http://%s/metrics", o.listen);

	uint64_t received_then = 0;
	while (!nerrf_stop) {
		nng_msg *m;
		double secs;
		/* The receive loop went round (at least every RECV_POLL_MS): pet the watchdog. */
		if (nerrf_notify_due(nerrf_mono_ms() * 1000000, &secs)) {
			nerrf_notify_alive("serving http://%s/metrics; %.1f Stats/s from %s", o.listen,
					   (double)(state.received - received_then) / secs, o.url);
			received_then = state.received;
		}
		if (nerrf_reload) {
			nerrf_reload = 0;
			log_info("SIGHUP: nothing to reload; --listen, --url "
				"and --stats-interval take a restart");
		}
		rv = nng_recvmsg(sock, &m, 0);
		if (rv == NNG_ETIMEDOUT)
			continue;
		if (rv != 0) {
			log_warnx("receiving from %s failed: %s", o.url,
				nng_strerror(rv));
			goto out;
		}
		take(m);
		nng_msg_free(m);
	}
	ret = 0;
out:
	if (httpd)
		MHD_stop_daemon(httpd); /* closes lfd */
	if (sock_open)
		nng_close(sock);
	if (state.last)
		nerrf__trace__stats__free_unpacked(state.last, NULL);
	if (state.enc && state.enc != state.last)
		nerrf__trace__stats__free_unpacked(state.enc, NULL);
	nerrf_opt_free(&set);
	return ret;
}
