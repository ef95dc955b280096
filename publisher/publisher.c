/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-publisher: consumes encoded batches from ring #2 and fans them out
 * over nng pub0 (see docs/PROTOCOL.md for the framing).
 *
 * It never blocks on a subscriber: pub0 gives every subscriber its own send
 * queue that drops the oldest message when full. A subscriber sees what it
 * lost as a gap in publisher_seq, which the publisher appends to every batch
 * as plain protobuf fields, without decoding or re-encoding the encoder's
 * bytes.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>

#include "nerrf_conf.h"
#include "nerrf_ring.h"
#include "nerrf_pbwire.h"
#include "nerrf_wire.h"

#define MAX_LISTEN 16
#define DEFAULT_SENDBUF 256 /* messages queued per subscriber before the oldest drops */
#define DEFAULT_IPC_MODE 0660
#define DEFAULT_START_GRACE_MS 1000
#define STATS_INTERVAL_NS 1000000000ull
/* Our own Stats go out only when the encoder's have not come for this long. */
#define ENCODER_SILENT_NS 2500000000ull
#define TRAILER_MAX 64

static volatile sig_atomic_t stop;
static atomic_uint subscribers;

struct opts {
	const char *rundir;
	char *listen[MAX_LISTEN];
	int nlisten;
	int ipc_mode;
	int sendbuf;
	int start_grace_ms;
};

struct counters {
	uint64_t publisher_seq;	 /* EventBatches handed to nng */
	uint64_t publish_errors; /* nng_sendmsg failures */
	uint64_t malformed;	 /* ring #2 records with a bad header, skipped */
	uint64_t last_encoder_stats_ns;
	uint64_t last_own_stats_ns;
};

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)p;
	(void)arg;
	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_fetch_add(&subscribers, 1);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_fetch_sub(&subscribers, 1);
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- protobuf fields appended to encoded messages ---- */

static size_t put_bytes(uint8_t *p, unsigned field, const void *b, size_t len)
{
	size_t n = nerrf_put_varint(p, (uint64_t)field << 3 | 2); /* wire type 2: length-delimited */
	n += nerrf_put_varint(p + n, len);
	memcpy(p + n, b, len);
	return n + len;
}

static size_t batch_trailer(uint8_t *p, const struct counters *c, uint64_t ring2_dropped)
{
	size_t n = nerrf_put_u64_field(p, 7, c->publisher_seq);
	n += nerrf_put_u64_field(p + n, 8, c->publish_errors);
	return n + nerrf_put_u64_field(p + n, 9, ring2_dropped);
}

static size_t stats_trailer(uint8_t *p, const struct counters *c, const struct nerrf_ring_stats *rs)
{
	size_t n = nerrf_put_u64_field(p, 9, rs->used_bytes);
	n += nerrf_put_u64_field(p + n, 10, rs->capacity);
	n += nerrf_put_u64_field(p + n, 11, atomic_load(&subscribers));
	return n + nerrf_put_u64_field(p + n, 12, c->publisher_seq);
}

/* ---- sending ---- */

static int send_framed(nng_socket s, const char *topic, const void *pb, size_t len,
		       const uint8_t *trailer, size_t tlen, struct counters *c)
{
	nng_msg *m;
	int rv = nng_msg_alloc(&m, NERRF_TOPIC_LEN + len + tlen);
	if (rv == 0) {
		uint8_t *b = nng_msg_body(m);
		memcpy(b, topic, NERRF_TOPIC_LEN);
		memcpy(b + NERRF_TOPIC_LEN, pb, len);
		if (tlen)
			memcpy(b + NERRF_TOPIC_LEN + len, trailer, tlen);
		rv = nng_sendmsg(s, m, NNG_FLAG_NONBLOCK);
		if (rv != 0)
			nng_msg_free(m);
	}
	if (rv != 0) {
		if (c->publish_errors++ == 0)
			fprintf(stderr,
				"nerrf-publisher: send failed: %s (counted in "
				"publisher_publish_errors; further failures are only counted)\n",
				nng_strerror(rv));
		return -1;
	}
	return 0;
}

/*
 * Stats while the encoder is silent (stopped, restarting, or not started), so
 * subscribers still see the publisher's side and can tell a stalled pipeline
 * from a quiet host.
 */
static void send_own_stats(nng_socket s, struct nerrf_ring *r2, struct counters *c)
{
	uint8_t msg[128], ts[24];
	struct nerrf_ring_stats rs = {0};
	struct timespec now;
	static const char state[] = "encoder=silent publisher=up";

	clock_gettime(CLOCK_REALTIME, &now);
	size_t tn = nerrf_put_u64_field(ts, 1, (uint64_t)now.tv_sec);
	tn += nerrf_put_u64_field(ts + tn, 2, (uint64_t)now.tv_nsec);
	size_t n = put_bytes(msg, 1, ts, tn);
	n += put_bytes(msg + n, 13, state, sizeof(state) - 1);
	if (r2)
		nerrf_ring_get_stats(r2, &rs);
	n += stats_trailer(msg + n, c, &rs);
	send_framed(s, NERRF_TOPIC_STATS, msg, n, NULL, 0, c);
}

static void publish_record(nng_socket s, struct nerrf_ring *r2, const void *rec, size_t len,
			   struct counters *c)
{
	struct nerrf_r2_hdr h;
	struct nerrf_ring_stats rs;
	uint8_t trailer[TRAILER_MAX];

	/* The encoder is another process: trust the header only after checking it. */
	if (len < sizeof(h))
		goto malformed;
	memcpy(&h, rec, sizeof(h));
	if (h.len > len - sizeof(h))
		goto malformed;
	const uint8_t *pb = (const uint8_t *)rec + sizeof(h);

	nerrf_ring_get_stats(r2, &rs);
	switch (h.kind) {
	case NERRF_R2_BATCH:
		c->publisher_seq++;
		send_framed(s, NERRF_TOPIC_EVENTS, pb, h.len, trailer,
			    batch_trailer(trailer, c, rs.dropped), c);
		return;
	case NERRF_R2_STATS:
		c->last_encoder_stats_ns = now_ns(CLOCK_MONOTONIC);
		send_framed(s, NERRF_TOPIC_STATS, pb, h.len, trailer,
			    stats_trailer(trailer, c, &rs), c);
		return;
	}
malformed:
	if (c->malformed++ == 0)
		fprintf(stderr,
			"nerrf-publisher: skipped a malformed ring #2 record (%zu bytes); "
			"the encoder and publisher may be from different builds: rebuild both\n",
			len);
}

/* ---- setup ---- */

static const char *listen_hint(int rv)
{
	switch (rv) {
	case NNG_EADDRINUSE:
		return "another process listens there (another nerrf-publisher?): stop it or "
		       "choose another address with --listen";
	case NNG_EPERM:
		return "permission denied: run as a user that may create the socket there, or "
		       "choose another path with --listen";
	case NNG_EADDRINVAL:
	case NNG_EINVAL:
		return "malformed address: use ipc:///path/to.sock or tcp://host:port";
	case NNG_ENOTSUP:
		return "unsupported scheme: use ipc:// or tcp://";
	case NNG_ENOENT:
		return "the directory does not exist: create it or choose another path";
	default:
		return "check the address given with --listen, NERRF_LISTEN or TRACKER_LISTEN_ADDR";
	}
}

static int start_listener(nng_socket s, const char *url, int ipc_mode)
{
	nng_listener l;
	int rv = nng_listener_create(&l, s, url);
	if (rv == 0 && strncmp(url, "ipc://", 6) == 0)
		rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, ipc_mode);
	if (rv == 0)
		rv = nng_listener_start(l, 0);
	if (rv != 0) {
		fprintf(stderr, "nerrf-publisher: cannot listen on %s: %s; %s\n", url,
			nng_strerror(rv), listen_hint(rv));
		return -1;
	}
	fprintf(stderr, "nerrf-publisher: listening on %s\n", url);
	return 0;
}

/* Adds the comma-separated addresses in s; a bare host:port means tcp://host:port. */
static int add_listen_list(struct opts *o, const char *s, bool bare_is_tcp)
{
	char *dup = strdup(s), *save = NULL;
	if (!dup)
		return -1;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		if (!*t)
			continue;
		if (o->nlisten == MAX_LISTEN) {
			fprintf(stderr, "nerrf-publisher: more than %d listen addresses\n",
				MAX_LISTEN);
			free(dup);
			return -1;
		}
		char *u;
		if (bare_is_tcp && !strstr(t, "://")) {
			u = malloc(strlen(t) + 7);
			if (u)
				sprintf(u, "tcp://%s", t);
		} else {
			u = strdup(t);
		}
		if (!u) {
			free(dup);
			return -1;
		}
		o->listen[o->nlisten++] = u;
	}
	free(dup);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nerrf-publisher [options]\n"
		"Publishes the encoder's batches from <rundir>/ring2 to nng subscribers.\n\n"
		"  --rundir DIR      runtime directory holding ring2 (default %s)\n"
		"  --listen URL      listen address, repeatable: ipc:///path or tcp://host:port\n"
		"                    (default: $NERRF_LISTEN, comma-separated, else\n"
		"                    $TRACKER_LISTEN_ADDR, else ipc://<rundir>/events.sock)\n"
		"  --ipc-mode MODE   permissions of ipc:// sockets, octal (default 0660)\n"
		"  --sendbuf N       messages queued per subscriber before its oldest is dropped\n"
		"                    (1..8192, default %d)\n"
		"  --start-grace MS  at start, wait up to MS for a first subscriber before\n"
		"                    publishing what ring #2 holds (default %d; 0: don't)\n"
		"  --config FILE     configuration file, section [publisher] (default %s)\n"
		"  --help            this text\n",
		NERRF_DEFAULT_RUNDIR, DEFAULT_SENDBUF, DEFAULT_START_GRACE_MS, NERRF_CONF_DEFAULT);
}

static const struct option longopts[] = {
	{"rundir", required_argument, NULL, 'r'},
	{"listen", required_argument, NULL, 'l'},
	{"ipc-mode", required_argument, NULL, 'm'},
	{"sendbuf", required_argument, NULL, 'b'},
	{"start-grace", required_argument, NULL, 'g'},
	{"config", required_argument, NULL, 'c'},
	{"help", no_argument, NULL, 'h'},
	{0},
};

static int parse_int(const char *s, int base, long lo, long hi, const char *what, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, base);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr,
			"nerrf-publisher: %s '%s' is invalid: give a number from %ld to %ld%s\n",
			what, s, lo, hi, base == 8 ? " in octal (e.g. 0660)" : "");
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* 0 ok, 1 exit successfully (--help), -1 error. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	o->rundir = NERRF_DEFAULT_RUNDIR;
	o->ipc_mode = DEFAULT_IPC_MODE;
	o->sendbuf = DEFAULT_SENDBUF;
	o->start_grace_ms = DEFAULT_START_GRACE_MS;

	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->rundir = optarg;
			break;
		case 'l':
			if (add_listen_list(o, optarg, false) != 0)
				return -1;
			break;
		case 'm':
			if (parse_int(optarg, 8, 0, 0777, "--ipc-mode", &o->ipc_mode) != 0)
				return -1;
			break;
		case 'b':
			if (parse_int(optarg, 10, 1, 8192, "--sendbuf", &o->sendbuf) != 0)
				return -1;
			break;
		case 'g':
			if (parse_int(optarg, 10, 0, 60000, "--start-grace", &o->start_grace_ms) != 0)
				return -1;
			break;
		case 'c':
			break; /* consumed by nerrf_conf_load */
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nerrf-publisher: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return -1;
	}
	const char *env;
	if (o->nlisten == 0 && (env = getenv("NERRF_LISTEN")) && *env)
		return add_listen_list(o, env, false);
	if (o->nlisten == 0 && (env = getenv("TRACKER_LISTEN_ADDR")) && *env)
		return add_listen_list(o, env, true);
	if (o->nlisten == 0) {
		char *u = malloc(strlen(o->rundir) + 32);
		if (!u)
			return -1;
		sprintf(u, "ipc://%s/events.sock", o->rundir);
		o->listen[o->nlisten++] = u;
	}
	return 0;
}

/*
 * Waits for the encoder to create ring #2, sending stats meanwhile so
 * subscribers see which hop is missing. NULL when stopped or on a hard error.
 */
static struct nerrf_ring *attach_ring2(const char *path, nng_socket s, struct counters *c)
{
	bool told = false;
	while (!stop) {
		struct nerrf_ring *r;
		const char *msg = NULL;
		int rv = nerrf_ring_open_consumer(path, &r, &msg);
		if (rv == 0)
			return r;
		if (rv != -EAGAIN) {
			fprintf(stderr, "nerrf-publisher: cannot attach to %s: %s%s%s\n", path,
				rv <= -1000 ? "incompatible ring" : strerror(-rv), msg ? "; " : "",
				msg ? msg : "");
			return NULL;
		}
		if (!told)
			fprintf(stderr, "nerrf-publisher: waiting for the encoder to create %s\n",
				path);
		told = true;
		uint64_t t = now_ns(CLOCK_MONOTONIC);
		if (t - c->last_own_stats_ns >= STATS_INTERVAL_NS) {
			send_own_stats(s, NULL, c);
			c->last_own_stats_ns = t;
		}
		usleep(50 * 1000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct nerrf_conf_argv ca = {0};
	struct opts o = {0};
	struct counters c = {0};
	struct nerrf_ring *r2 = NULL;
	nng_socket sock = NNG_SOCKET_INITIALIZER;
	bool sock_open = false;
	char err[512], path[4096];
	int ret = 1, rv;

	if (nerrf_conf_load(argc, argv, "publisher", longopts, false, &ca, err, sizeof(err)) != 0) {
		fprintf(stderr, "nerrf-publisher: %s\n", err);
		goto out;
	}
	rv = parse_args(ca.argc, ca.argv, &o);
	if (rv != 0) {
		ret = rv > 0 ? 0 : 2;
		goto out;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", o.rundir, NERRF_RING2_NAME) >=
	    sizeof(path)) {
		fprintf(stderr, "nerrf-publisher: --rundir is too long\n");
		goto out;
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((rv = nng_pub0_open(&sock)) != 0) {
		fprintf(stderr, "nerrf-publisher: cannot open an nng pub socket: %s\n",
			nng_strerror(rv));
		goto out;
	}
	sock_open = true;
	if ((rv = nng_socket_set_int(sock, NNG_OPT_SENDBUF, o.sendbuf)) != 0 ||
	    (rv = nng_pipe_notify(sock, NNG_PIPE_EV_ADD_POST, on_pipe, NULL)) != 0 ||
	    (rv = nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, on_pipe, NULL)) != 0) {
		fprintf(stderr, "nerrf-publisher: cannot configure the nng socket: %s\n",
			nng_strerror(rv));
		goto out;
	}
	for (int i = 0; i < o.nlisten; i++)
		if (start_listener(sock, o.listen[i], o.ipc_mode) != 0)
			goto out;

	r2 = attach_ring2(path, sock, &c);
	if (!r2) {
		ret = stop ? 0 : 1;
		goto out;
	}
	/*
	 * Subscribers of a publisher that restarted redial within their reconnect
	 * interval; what we sent before they are back would be lost to them. The
	 * encoder waits on a full ring #2 meanwhile, so nothing is dropped.
	 */
	for (uint64_t end = now_ns(CLOCK_MONOTONIC) + (uint64_t)o.start_grace_ms * 1000000;
	     !stop && atomic_load(&subscribers) == 0 && now_ns(CLOCK_MONOTONIC) < end;)
		usleep(10 * 1000);
	fprintf(stderr, "nerrf-publisher: publishing %s\n", path);

	while (!stop) {
		const void *rec;
		size_t len;
		int e = 0;

		while ((rec = nerrf_ring_peek(r2, &len, &e))) {
			publish_record(sock, r2, rec, len, &c);
			nerrf_ring_release(r2);
		}
		if (e) {
			fprintf(stderr,
				"nerrf-publisher: ring #2 is corrupt; skipped %zu bytes and "
				"resynchronised (counted in the ring's corrupt_bytes)\n",
				nerrf_ring_resync(r2));
		}
		nerrf_ring_consumer_publish(r2);

		uint64_t t = now_ns(CLOCK_MONOTONIC);
		if (t - c.last_encoder_stats_ns >= ENCODER_SILENT_NS &&
		    t - c.last_own_stats_ns >= STATS_INTERVAL_NS) {
			send_own_stats(sock, r2, &c);
			c.last_own_stats_ns = t;
		}
		rv = nerrf_ring_wait(r2, 250);
		if (rv != 0 && rv != -ETIMEDOUT && rv != -EINTR) {
			fprintf(stderr, "nerrf-publisher: waiting on ring #2 failed: %s\n",
				strerror(-rv));
			goto out;
		}
	}
	ret = 0;
out:
	if (sock_open)
		nng_close(sock);
	if (r2)
		nerrf_ring_close(r2);
	for (int i = 0; i < o.nlisten; i++)
		free(o.listen[i]);
	nerrf_conf_free(&ca);
	return ret;
}
