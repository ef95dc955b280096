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

#include "journal.h"
#include "nerrf_conf.h"
#include "nerrf_log.h"
#include "nerrf_signal.h"
#include "nerrf_notify.h"
#include "nerrf_opt.h"
#include "nerrf_parse.h"
#include "nerrf_version.h"
#include "nerrf_ring.h"
#include "nerrf_tls.h"
#include "nerrf_wire.h"
#include "record.h"
#include "sandbox.h"
#include "trace.pb-c.h"
#include "nerrf_time.h"

#define MAX_LISTEN 16
#define DEFAULT_SENDBUF 256 /* messages queued per subscriber before the oldest drops */
#define DEFAULT_IPC_MODE 0660
#define DEFAULT_START_GRACE_MS 1000
#define STATS_INTERVAL_NS 1000000000ull
/* Our own Stats go out only when the encoder's have not come for this long. */
#define ENCODER_SILENT_NS 2500000000ull
#define PASS_MAX 64 /* ring #2 records framed, journaled in one write, then sent */

static atomic_uint subscribers;

struct opts {
	const char *rundir;
	char *listen[MAX_LISTEN];
	int nlisten;
	int ipc_mode;
	int sendbuf;
	int start_grace_ms;
	struct pj_opts journal;
	struct nerrf_tls_files tls;
	bool insecure_tcp;
	bool check; /* --check-config */
};

struct counters {
	uint64_t publisher_seq;	 /* EventBatches handed to nng */
	uint64_t publish_errors; /* nng_sendmsg failures */
	uint64_t malformed;	 /* ring #2 records with a bad header, skipped and exported */
	struct nerrf_ring_stats r2_base; /* ring #2 counters of the rings of earlier encoders */
	uint64_t last_encoder_stats_ns;
	uint64_t last_own_stats_ns;
	struct nerrf_journal *journal; /* NULL with --no-journal */
	uint64_t notified_seq; /* publisher_seq at the last status */
};

static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)p;
	(void)arg;
	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_fetch_add(&subscribers, 1);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_fetch_sub(&subscribers, 1);
}

/* ---- protobuf fields appended to encoded messages ---- */

/* ring #2's counters, added up over the rings of every encoder run so far */
static void ring2_stats(struct nerrf_ring_cons *r2, const struct counters *c,
			struct nerrf_ring_stats *rs)
{
	struct nerrf_ring_stats now = {0};

	if (r2)
		nerrf_ring_cons_stats(r2, &now);
	now.dropped += c->r2_base.dropped;
	now.corrupt_resets += c->r2_base.corrupt_resets;
	now.corrupt_bytes += c->r2_base.corrupt_bytes;
	*rs = now;
}

static uint64_t journal_dropped(const struct counters *c)
{
	struct nerrf_journal_stats js = {0};

	if (c->journal)
		nerrf_journal_get_stats(c->journal, &js);
	return js.dropped;
}

/* What the publisher appends to the encoder's bytes, from its counters and ring #2's. */
static struct pub_tail tail_of(const struct counters *c, const struct nerrf_ring_stats *rs)
{
	return (struct pub_tail){
		.publisher_seq = c->publisher_seq,
		.publish_errors = c->publish_errors,
		.ring2_dropped = rs->dropped,
		.ring2_malformed = c->malformed,
		.ring2_corrupt_resets = rs->corrupt_resets,
		.ring2_corrupt_bytes = rs->corrupt_bytes,
		.journal_dropped = journal_dropped(c),
		.ring2_used = rs->used_bytes,
		.ring2_capacity = rs->capacity,
		.subscribers = atomic_load(&subscribers),
	};
}

/* ---- sending ---- */

static void send_failed(struct counters *c, int rv)
{
	if (c->publish_errors++ == 0)
		log_warnx("send failed: %s (counted in publisher_publish_errors; "
			"further failures are only counted)",
			nng_strerror(rv));
}

/* topic + protobuf + trailer in one message; events are appended to the journal too. */
static nng_msg *frame(const char *topic, const void *pb, size_t len, const uint8_t *trailer,
		      size_t tlen, struct counters *c)
{
	nng_msg *m;
	int rv = nng_msg_alloc(&m, NERRF_TOPIC_LEN + len + tlen);
	if (rv != 0) {
		send_failed(c, rv);
		return NULL;
	}
	uint8_t *b = nng_msg_body(m);
	memcpy(b, topic, NERRF_TOPIC_LEN);
	memcpy(b + NERRF_TOPIC_LEN, pb, len);
	if (tlen)
		memcpy(b + NERRF_TOPIC_LEN + len, trailer, tlen);
	/* Kept even if nng refuses it: replay can still deliver it. */
	if (c->journal && topic[0] == NERRF_TOPIC_EVENTS[0])
		pj_append(c->journal, c->publisher_seq, b, nng_msg_len(m));
	return m;
}

static void send_msg(nng_socket s, nng_msg *m, struct counters *c)
{
	int rv = nng_sendmsg(s, m, NNG_FLAG_NONBLOCK);
	if (rv != 0) {
		nng_msg_free(m);
		send_failed(c, rv);
	}
}

/*
 * Stats while the encoder is silent (stopped, restarting, or not started), so
 * subscribers still see the publisher's side and can tell a stalled pipeline
 * from a quiet host.
 */
static void send_own_stats(nng_socket s, struct nerrf_ring_cons *r2, struct counters *c)
{
	Nerrf__Trace__Stats st = NERRF__TRACE__STATS__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	uint8_t msg[64 + PUB_TRAILER_MAX];
	struct nerrf_ring_stats rs = {0};
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	st.ts = &ts;
	st.stage_state = (char *)"encoder=silent publisher=up";
	size_t n = nerrf__trace__stats__pack(&st, msg); /* a Timestamp and 27 bytes: < 64 */
	ring2_stats(r2, c, &rs);
	struct pub_tail t = tail_of(c, &rs);
	n += pub_stats_trailer(msg + n, &t);
	nng_msg *m = frame(NERRF_TOPIC_STATS, msg, n, NULL, 0, c);
	if (m)
		send_msg(s, m, c);
}

/* The message to publish for a ring #2 record, NULL if there is none. */
static nng_msg *frame_record(struct nerrf_ring_cons *r2, const void *rec, size_t len,
			     struct counters *c)
{
	struct nerrf_ring_stats rs;
	struct pub_tail t;
	uint8_t trailer[PUB_TRAILER_MAX];
	const uint8_t *pb;
	size_t pblen;

	switch (pub_record(rec, len, &pb, &pblen)) {
	case NERRF_R2_BATCH:
		c->publisher_seq++;
		ring2_stats(r2, c, &rs);
		t = tail_of(c, &rs);
		return frame(NERRF_TOPIC_EVENTS, pb, pblen, trailer, pub_batch_trailer(trailer, &t),
			     c);
	case NERRF_R2_STATS:
		c->last_encoder_stats_ns = nerrf_mono_ns();
		ring2_stats(r2, c, &rs);
		t = tail_of(c, &rs);
		return frame(NERRF_TOPIC_STATS, pb, pblen, trailer, pub_stats_trailer(trailer, &t),
			     c);
	}
	if (c->malformed++ == 0)
		log_warnx("skipped a malformed ring #2 record (%zu bytes; counted "
			"in ring2_malformed, further ones are only counted); the encoder and "
			"publisher may be from different builds: rebuild both",
			len);
	return NULL;
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
		return "malformed address: use ipc:///path/to.sock, tls+tcp://host:port or "
		       "tcp://host:port";
	case NNG_ENOTSUP:
		return "unsupported scheme: use ipc://, tls+tcp:// or tcp://";
	case NNG_ENOENT:
		return "the directory does not exist: create it or choose another path";
	default:
		return "check the address given with --listen, NERRF_LISTEN or TRACKER_LISTEN_ADDR";
	}
}

static int start_listener(nng_socket s, const char *url, int ipc_mode, nng_tls_config *tls)
{
	nng_listener l;
	int rv = nng_listener_create(&l, s, url);
	if (rv == 0 && strncmp(url, "ipc://", 6) == 0)
		rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, ipc_mode);
	if (rv == 0 && nerrf_url_kind(url) == NERRF_URL_TLS)
		rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, tls);
	if (rv == 0)
		rv = nng_listener_start(l, 0);
	if (rv != 0) {
		log_warnx("cannot listen on %s: %s; %s", url,
			nng_strerror(rv), listen_hint(rv));
		return -1;
	}
	log_info("listening on %s", url);
	return 0;
}

/* Adds the comma-separated addresses in s; a bare host:port means tcp://host:port. */
static int add_listen_list(struct opts *o, const char *s, bool bare_is_tcp, char *err,
			   size_t errlen)
{
	char *dup = strdup(s), *save = NULL;
	snprintf(err, errlen, "out of memory");
	if (!dup)
		return -1;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		if (!*t)
			continue;
		if (o->nlisten == MAX_LISTEN) {
			snprintf(err, errlen, "more than %d listen addresses", MAX_LISTEN);
			free(dup);
			return -1;
		}
		char *u;
		if (bare_is_tcp && !strstr(t, "://")) {
			u = malloc(strlen(t) + 7);
			if (u) {
				sprintf(u, "tcp://%s", t);
				log_warnx("warning: TRACKER_LISTEN_ADDR %s is "
					"taken as %s, unencrypted; prefer NERRF_LISTEN=tls+tcp://%s",
					t, u, t);
			}
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
		"Publishes the encoder's batches from ring #2 (<rundir>/ring2.sock) to nng subscribers.\n\n"
		"  --rundir DIR      runtime directory holding ring2.sock (default %s)\n"
		"  --listen URL      listen address, repeatable: ipc:///path, tls+tcp://host:port\n"
		"                    or tcp://host:port (loopback only, unless --insecure-tcp)\n"
		"                    (default: $NERRF_LISTEN, comma-separated, else\n"
		"                    $TRACKER_LISTEN_ADDR, else ipc://<rundir>/events.sock)\n"
		"  --ipc-mode MODE   permissions of ipc:// sockets, octal, no bits for others\n"
		"                    (default 0660)\n"
		"  --tls-cert FILE   PEM certificate for tls+tcp:// addresses\n"
		"  --tls-key FILE    its PEM private key (unencrypted)\n"
		"  --tls-ca FILE     PEM CA certificates: subscribers must present a\n"
		"                    certificate they signed (without: anyone may subscribe)\n"
		"  --insecure-tcp    allow tcp:// to a non-loopback address: anyone who\n"
		"                    reaches it reads every event, unencrypted\n"
		"  --sendbuf N       messages queued per subscriber before its oldest is dropped\n"
		"                    (1..8192, default %d)\n"
		"  --start-grace MS  at start, wait up to MS for a first subscriber before\n"
		"                    publishing what ring #2 holds (default %d; 0: don't)\n"
		"  --config FILE     configuration file, section [publisher] (default %s)\n",
		NERRF_DEFAULT_RUNDIR, DEFAULT_SENDBUF, DEFAULT_START_GRACE_MS, NERRF_CONF_DEFAULT);
	pj_usage(f);
	fprintf(f, "  --check-config    print the configuration in force (file, flags and\n"
		"                    environment), then exit\n"
		"  --help            this text\n");
}

static int opt_listen(void *o, const char *arg, char *err, size_t errlen)
{
	return add_listen_list(o, arg, false, err, errlen);
}

/* The last of --journal and --no-journal wins, as for any option given twice. */
static int opt_journal(void *o, const char *arg, char *err, size_t errlen)
{
	struct opts *op = o;
	(void)err, (void)errlen;
	op->journal.j.dir = arg;
	op->journal.off = false;
	return 0;
}

static int opt_no_journal(void *o, const char *arg, char *err, size_t errlen)
{
	(void)arg, (void)err, (void)errlen;
	((struct opts *)o)->journal.off = true;
	return 0;
}

#define O struct opts
/* The options; also the [publisher] keys. */
static const struct nerrf_opt table[] = {
	NOPT_STR("rundir", O, rundir),
	NOPT_FN("listen", opt_listen),
	/* Any local user who can connect reads every event of the host. */
	NOPT_MODE("ipc-mode", O, ipc_mode, 0007),
	NOPT_UINT("sendbuf", O, sendbuf, 1, 8192),
	NOPT_DURATION("start-grace", O, start_grace_ms, NERRF_MS, 0, 60000),
	NOPT_STR("tls-cert", O, tls.cert),
	NOPT_STR("tls-key", O, tls.key),
	NOPT_STR("tls-ca", O, tls.ca),
	NOPT_FLAG("insecure-tcp", O, insecure_tcp),
	NOPT_IGNORE("config"),
	NOPT_FN("journal", opt_journal),
	NOPT_ACTION("no-journal", opt_no_journal),
	NOPT_SIZE("journal-segment-bytes", O, journal.j.segment_bytes, 64 << 10, 1ull << 32, false),
	NOPT_DURATION("journal-sync-ms", O, journal.j.sync_ms, NERRF_MS, 1, 3600000),
	NOPT_SIZE("journal-sync-bytes", O, journal.j.sync_bytes, 4096, 1ull << 32, false),
	NOPT_SIZE("journal-max-bytes", O, journal.j.max_bytes, 1 << 20, 1ull << 50, false),
	NOPT_DURATION("journal-max-age", O, journal.j.max_age_s, NERRF_S, 1, 100ull * 365 * 86400),
	NOPT_STR("replay-listen", O, journal.replay_url),
	NOPT_HELP(usage),
	NOPT_VERSION("nerrf-publisher"),
	NOPT_FLAG("check-config", O, check),
	NOPT_END,
};
#undef O

/*
 * Events leave the host only encrypted, unless asked otherwise: plain tcp://
 * to anything but loopback needs --insecure-tcp, and says what it exposes.
 */
static int check_network(const struct opts *o)
{
	bool tls = false;
	char host[256];

	for (int i = 0; i < o->nlisten; i++) {
		const char *url = o->listen[i];
		switch (nerrf_url_kind(url)) {
		case NERRF_URL_TLS:
			tls = true;
			if (!o->tls.ca)
				log_warnx("warning: %s without --tls-ca: "
					"subscribers are not authenticated, anyone who reaches it "
					"reads every event", url);
			break;
		case NERRF_URL_PLAIN:
			if (nerrf_host_is_loopback(nerrf_url_host(url, host, sizeof(host))))
				break;
			if (!o->insecure_tcp) {
				log_warnx("refusing %s: plain tcp to a "
					"non-loopback address is neither authenticated nor "
					"encrypted; listen on tls+tcp:// with --tls-cert, --tls-key "
					"and --tls-ca, or pass --insecure-tcp", url);
				return -1;
			}
			log_warnx("warning: --insecure-tcp: %s is "
				"unauthenticated and unencrypted, anyone who reaches it reads every "
				"event", url);
			break;
		case NERRF_URL_LOCAL:
			break;
		}
	}
	if (!tls && (o->tls.cert || o->tls.key || o->tls.ca))
		log_warnx("warning: --tls-cert, --tls-key and --tls-ca "
			"apply to tls+tcp:// addresses, and none is configured");
	return 0;
}

/* What a reload changes at once; the rest takes a restart. */
static const char *const live_keys[] = {"sendbuf", NULL};

/* The listen addresses from the environment or the default, checked. */
static int check(void *p)
{
	struct opts *o = p;
	const char *env;
	char err[512];

	if (o->nlisten == 0 && (env = getenv("NERRF_LISTEN")) && *env &&
	    add_listen_list(o, env, false, err, sizeof(err)) != 0) {
		log_warnx("NERRF_LISTEN: %s", err);
		return -1;
	}
	if (o->nlisten == 0 && (env = getenv("TRACKER_LISTEN_ADDR")) && *env &&
	    add_listen_list(o, env, true, err, sizeof(err)) != 0) {
		log_warnx("TRACKER_LISTEN_ADDR: %s", err);
		return -1;
	}
	if (o->nlisten == 0) {
		char *u = malloc(strlen(o->rundir) + 32);
		if (!u)
			return -1;
		sprintf(u, "ipc://%s/events.sock", o->rundir);
		o->listen[o->nlisten++] = u;
	}
	return check_network(o);
}

static const struct opts defaults = {
	.rundir = NERRF_DEFAULT_RUNDIR,
	.ipc_mode = DEFAULT_IPC_MODE,
	.sendbuf = DEFAULT_SENDBUF,
	.start_grace_ms = DEFAULT_START_GRACE_MS,
	.journal = {.j = NERRF_JOURNAL_DEFAULTS},
};

static struct nerrf_optset set = {
	.section = "publisher", .table = table, .defaults = &defaults, .size = sizeof(defaults),
	.live = live_keys, .check = check,
};

/* --check-config: the table's kinds by nerrf_opt_show, then our functions' options. */
static void print_opts(const struct opts *o)
{
	nerrf_opt_show(&set, o);
	for (int i = 0; i < o->nlisten; i++)
		printf("listen = %s\n", o->listen[i]);
	if (o->journal.off)
		printf("no-journal = true\n");
	else
		printf("journal = %s\n", o->journal.j.dir);
}

static void free_opts(struct opts *o)
{
	for (int i = 0; i < o->nlisten; i++)
		free(o->listen[i]);
	o->nlisten = 0;
}

/*
 * SIGHUP: the subscribers' queue length (--sendbuf) changes at once, for
 * the subscribers connected too; an invalid file changes nothing.
 */
static void reload_conf(nng_socket sock, struct opts *o)
{
	struct nerrf_conf_argv next;
	struct opts n;
	int rv;

	if (nerrf_opt_reload(&set, -1, &n, &next) != 0) {
		free_opts(&n);
		return;
	}
	if (nerrf_opt_take(&set, &next) > 0 && n.sendbuf != o->sendbuf) {
		/* nng resizes every subscriber's queue; a shorter one drops its oldest (a gap) */
		if ((rv = nng_socket_set_int(sock, NNG_OPT_SENDBUF, n.sendbuf)) != 0)
			log_warnx("reload: --sendbuf %d: %s; the queues keep "
				"%d messages", n.sendbuf, nng_strerror(rv), o->sendbuf);
		else
			o->sendbuf = n.sendbuf;
	}
	free_opts(&n);
}

/* Each loop went round: systemd's watchdog is petted from here alone. */
static void notify_alive(struct counters *c, const char *ring2)
{
	double secs;

	if (!nerrf_notify_due(nerrf_mono_ns(), &secs))
		return;
	nerrf_notify_alive("%.1f batches/s to %u subscribers; ring #2 %s",
			   (double)(c->publisher_seq - c->notified_seq) / secs,
			   atomic_load(&subscribers), ring2);
	c->notified_seq = c->publisher_seq;
}

/*
 * What ring #2 holds, up to PASS_MAX records at a time: framed, journaled
 * in one write to the page cache before any of them is sent (a kill -9
 * then loses no batch a subscriber got), then sent. Released records stay
 * in ring #2 until the loop publishes its tail, after the sends.
 */
static int publish_pass(nng_socket s, struct nerrf_ring_cons *r2, struct counters *c)
{
	nng_msg *out[PASS_MAX];
	unsigned n;
	int e = 0;

	do {
		const void *rec;
		size_t len;
		n = 0;
		while (n < PASS_MAX && (rec = nerrf_ring_peek(r2, &len, &e))) {
			if ((out[n] = frame_record(r2, rec, len, c)))
				n++;
			nerrf_ring_release(r2);
		}
		if (c->journal)
			nerrf_journal_write(c->journal);
		for (unsigned i = 0; i < n; i++)
			send_msg(s, out[i], c);
		notify_alive(c, "attached");
	} while (n == PASS_MAX);
	return e;
}

/*
 * Waits for the encoder to create ring #2, sending stats meanwhile so
 * subscribers see which hop is missing. NULL when stopped or on a hard error.
 */
static struct nerrf_ring_cons *attach_ring2(const char *path, nng_socket s, struct counters *c)
{
	bool told = false;
	while (!nerrf_stop) {
		struct nerrf_ring_cons *r;
		const char *msg = NULL;
		int rv = nerrf_ring_connect(path, &r, &msg);
		if (rv == 0)
			return r;
		if (rv != -EAGAIN && rv != -EBUSY) {
			log_warnx("cannot attach to ring #2 at %s: %s%s%s",
				path, nerrf_ring_strerror(rv), msg ? "; " : "", msg ? msg : "");
			return NULL;
		}
		if (!told)
			log_warnx("waiting for ring #2 at %s: %s", path,
				msg);
		told = true;
		if (c->journal)
			nerrf_journal_poll(c->journal);
		uint64_t t = nerrf_mono_ns();
		if (t - c->last_encoder_stats_ns >= ENCODER_SILENT_NS &&
		    t - c->last_own_stats_ns >= STATS_INTERVAL_NS) {
			send_own_stats(s, NULL, c);
			c->last_own_stats_ns = t;
		}
		notify_alive(c, "awaited (no encoder)");
		usleep(50 * 1000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct counters c = {0};
	struct nerrf_ring_cons *r2 = NULL;
	nng_socket sock = NNG_SOCKET_INITIALIZER;
	nng_tls_config *tls = NULL;
	bool sock_open = false;
	char err[512], path[4096];
	struct nerrf_ratelimit corrupt_log = {0};
	int ret = 1, rv;

	log_init("nerrf-publisher", false);
	nerrf_catch_reload();
	if (nerrf_opt_start(&set, argc, argv, &o) != 0) {
		ret = 2;
		goto out;
	}
	if (o.check) {
		print_opts(&o);
		ret = 0;
		goto out;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", o.rundir, NERRF_RING2_NAME) >=
	    sizeof(path)) {
		log_warnx("--rundir is too long");
		goto out;
	}

	nerrf_catch_stop();

	if ((rv = nng_pub0_open(&sock)) != 0) {
		log_warnx("cannot open an nng pub socket: %s",
			nng_strerror(rv));
		goto out;
	}
	sock_open = true;
	if ((rv = nng_socket_set_int(sock, NNG_OPT_SENDBUF, o.sendbuf)) != 0 ||
	    (rv = nng_pipe_notify(sock, NNG_PIPE_EV_ADD_POST, on_pipe, NULL)) != 0 ||
	    (rv = nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, on_pipe, NULL)) != 0) {
		log_warnx("cannot configure the nng socket: %s",
			nng_strerror(rv));
		goto out;
	}
	/* Certificates are read now: the seccomp allowlist will not let files be opened later. */
	for (int i = 0; i < o.nlisten && !tls; i++) {
		if (nerrf_url_kind(o.listen[i]) != NERRF_URL_TLS)
			continue;
		if (nerrf_tls_config(&tls, true, &o.tls, err, sizeof(err)) != 0) {
			log_warnx("%s", err);
			goto out;
		}
	}
	for (int i = 0; i < o.nlisten; i++)
		if (start_listener(sock, o.listen[i], o.ipc_mode, tls) != 0)
			goto out;
	if (!o.journal.off) {
		char url[4200];
		if (nerrf_journal_open(&o.journal.j, &c.journal, err, sizeof(err)) != 0) {
			log_warnx("%s", err);
			goto out;
		}
		/* publisher_seq names a batch for as long as the journal keeps it. */
		c.publisher_seq = nerrf_journal_last_seq(c.journal);
		snprintf(url, sizeof(url), "ipc://%s/replay.sock", o.rundir);
		if (replay_start(o.journal.replay_url ? o.journal.replay_url : url, o.ipc_mode,
				 o.journal.j.dir, c.journal) != 0)
			goto out;
		log_info("journal %s, continuing after publisher_seq %llu",
			o.journal.j.dir, (unsigned long long)c.publisher_seq);
	}
	/* after the journal's io_uring and the replay thread exist: the filter binds every thread */
	if (pub_sandbox(err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		goto out;
	}
	c.notified_seq = c.publisher_seq;
	nerrf_notify_ready("listening on %s%s", o.listen[0], o.nlisten > 1 ? " and more" : "");

	r2 = attach_ring2(path, sock, &c);
	if (!r2) {
		ret = nerrf_stop ? 0 : 1;
		goto out;
	}
	/*
	 * Subscribers of a publisher that restarted redial within their reconnect
	 * interval; what we sent before they are back would be lost to them. The
	 * encoder waits on a full ring #2 meanwhile, so nothing is dropped.
	 */
	for (uint64_t end = nerrf_mono_ns() + (uint64_t)o.start_grace_ms * 1000000;
	     !nerrf_stop && atomic_load(&subscribers) == 0 && nerrf_mono_ns() < end;) {
		notify_alive(&c, "held for a first subscriber (--start-grace)");
		usleep(10 * 1000);
	}
	log_info("publishing %s", path);

	while (!nerrf_stop) {
		size_t len;
		int e = publish_pass(sock, r2, &c);

		if (e == -NERRF_RING_EVERSION) {
			log_warnx("ring #2: %s",
				nerrf_ring_cons_corruption(r2));
			goto out;
		}
		if (e) {
			size_t lost = nerrf_ring_resync(r2);
			log_warnx_limited(&corrupt_log, "ring #2 is corrupt (%s); skipped %zu bytes "
					  "and resynchronised (counted in ring2_corrupt_resets and "
					  "ring2_corrupt_bytes)", nerrf_ring_cons_corruption(r2), lost);
			continue;
		}
		nerrf_ring_consumer_publish(r2);
		if (c.journal)
			nerrf_journal_poll(c.journal);
		/* A gone encoder wrote its last batch before it went: re-check, then move on. */
		if (nerrf_ring_producer_gone(r2) && !nerrf_ring_peek(r2, &len, &e) && !e) {
			ring2_stats(r2, &c, &c.r2_base);
			nerrf_ring_cons_close(r2);
			log_warnx("the encoder went away; ring #2 drained, "
				"waiting for the next one");
			if (!(r2 = attach_ring2(path, sock, &c)))
				break;
			continue;
		}

		if (nerrf_reload) {
			nerrf_reload = 0;
			reload_conf(sock, &o);
		}
		uint64_t t = nerrf_mono_ns();
		if (t - c.last_encoder_stats_ns >= ENCODER_SILENT_NS &&
		    t - c.last_own_stats_ns >= STATS_INTERVAL_NS) {
			send_own_stats(sock, r2, &c);
			c.last_own_stats_ns = t;
		}
		notify_alive(&c, "attached");
		/*
		 * Completions are reaped here, within 50 ms while writes are in
		 * flight (replay serves up to the last completed record, and its
		 * clients retry for 2 s): waking after 2 ms, as before, cost a
		 * wakeup per batch on a quiet host.
		 */
		rv = nerrf_ring_wait(r2, c.journal && nerrf_journal_busy(c.journal) ? 50 : 250);
		if (rv != 0 && rv != -ETIMEDOUT && rv != -EINTR) {
			log_warnx("waiting on ring #2 failed: %s",
				strerror(-rv));
			goto out;
		}
	}
	ret = 0;
out:
	replay_stop();
	nerrf_journal_close(c.journal);
	if (sock_open)
		nng_close(sock);
	if (tls)
		nng_tls_config_free(tls);
	if (r2)
		nerrf_ring_cons_close(r2);
	free_opts(&o);
	nerrf_opt_free(&set);
	return ret;
}
