/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-forward: hands the host's EventBatches, unchanged, to NATS
 * JetStream, exactly once (docs/FORWARD.md).
 *
 * It is an ordinary subscriber of the publisher (the live nng stream) and a
 * client of its replay endpoint, so it needs no privilege and never reads
 * the journal's files. Its position is the last publisher_seq JetStream
 * acknowledged: whatever is after it and not in flight comes from the live
 * stream when it is next in line, from replay otherwise (after a broker
 * outage, a restart, or live messages it had to let go). Re-sends carry the
 * same Nats-Msg-Id, which JetStream's duplicate window drops. The publisher
 * never waits for it: a forwarder that falls behind loses live messages in
 * its own nng queue and reads them back from the journal.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/req.h>

#include "forward.h"
#include "nerrf_conf.h"
#include "nerrf_log.h"
#include "nerrf_signal.h"
#include "nerrf_opt.h"
#include "nerrf_parse.h"
#include "nerrf_tls.h"
#include "nerrf_version.h"
#include "nerrf_wire.h"
#include "wirecheck.h"
#include "nerrf_notify.h"
#include "nerrf_time.h"

#define DEFAULT_WINDOW 256
#define DEFAULT_ACK_WAIT_MS 5000
#define DEFAULT_DUP_WINDOW_NS (600 * NERRF_S)
#define DEFAULT_MAX_AGE_NS (7 * 86400 * NERRF_S)
#define SAVE_EVERY_NS (200 * NERRF_MS)	/* the state file, while acks come */
#define STUCK_NS (3 * NERRF_S)		/* replay has nothing for a gap this long: not journaled */
#define LOG_EVERY_NS (60 * NERRF_S)	/* the counters, when they changed */
#define REPLAY_BYTES (4u << 20)
#define LIVE_RECVBUF 8192		/* messages nng holds while we catch up */

struct fwd {
	struct fwd_opts o;
	nng_socket live, rq, local;
	bool replay_ok;	   /* the last replay request was answered */
	int statedir;
	uint64_t acked;	   /* every publisher_seq <= acked is in JetStream or counted lost */
	uint64_t next;	   /* the next publisher_seq to send; 0: not known yet */
	uint64_t live_hi;  /* the highest publisher_seq known to exist */
	uint64_t saved;	   /* acked as the state file has it */
	uint64_t saved_ns, stats_ns, logged_ns;
	uint64_t acked_then; /* c.acked at the last status line */
	uint64_t stuck_ns; /* since when replay has not had what the gap needs */
	bool take_live;	   /* the journal cannot fill the gap: skip to the live stream */
	bool oldest;	   /* no position yet, --start oldest: the journal's first batch is next */
	ForwardCounters c, c_logged;
	struct nerrf_ratelimit rl_fail, rl_send;
};

/* ---- options ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nerrf-forward --nats URL [options]\n"
		"Forwards the host's EventBatches, unchanged, to NATS JetStream, exactly once\n"
		"(docs/FORWARD.md). Unprivileged; resumes from the publisher's journal.\n\n"
		"  --nats URL             the NATS server: nats://HOST:PORT or tls://HOST:PORT\n"
		"  --prefix P             subjects P.<host>.events and P.<host>.stats (default nerrf)\n"
		"  --hostname NAME        the <host> in the subjects (default: this host's name;\n"
		"                         '.', '*', '>' and blanks become '_')\n"
		"  --stream NAME          JetStream stream (default NERRF); created if missing\n"
		"  --no-create-stream     only check that the stream exists and takes the subject\n"
		"  --duplicate-window S   the stream's Nats-Msg-Id window when created (default 600s)\n"
		"  --max-age S            the stream's retention when created (default 604800s)\n"
		"  --max-bytes N          the stream's size limit when created (default none)\n"
		"  --start live|oldest    with no position yet (no state file): from the live\n"
		"                         stream (default), or from the oldest batch journaled\n"
		"  --window N             batches in flight without an ack (default %d)\n"
		"  --ack-wait MS          an ack later than this means: send again (default %d)\n"
		"  --rundir DIR           the pipeline's sockets (default " NERRF_DEFAULT_RUNDIR ")\n"
		"  --url URL              the publisher's stream (default ipc://<rundir>/events.sock)\n"
		"  --replay-url URL       its replay endpoint (default ipc://<rundir>/replay.sock)\n"
		"  --stats-listen URL     this forwarder's own Stats (default ipc://<rundir>/forward.sock)\n"
		"  --state-dir DIR        where the position is kept (default " FWD_DEFAULT_STATE_DIR ")\n"
		"  --tls-ca FILE          CA (PEM) the server's certificate must chain to\n"
		"  --tls-cert FILE        this client's certificate (PEM), if the server asks\n"
		"  --tls-key FILE         and its key\n"
		"  --tls-server-name N    name the server's certificate must carry\n"
		"  --creds FILE           NATS credentials file (user JWT and nkey seed)\n"
		"  --nkey PUBKEY          NATS nkey user, with --nkey-seed FILE holding its seed\n"
		"  --insecure             allow plain text to a non-loopback server\n"
		"  --config FILE          configuration file, section [forward]\n"
		"  --check-config         print the configuration in force (file and flags), then exit\n"
		"  --verbose, --help, --version\n",
		DEFAULT_WINDOW, DEFAULT_ACK_WAIT_MS);
}

static int start(void *p, const char *arg, char *err, size_t errlen)
{
	if (strcmp(arg, "live") != 0 && strcmp(arg, "oldest") != 0) {
		snprintf(err, errlen, "--start %s: want live or oldest", arg);
		return -1;
	}
	((struct fwd_opts *)p)->start_oldest = strcmp(arg, "oldest") == 0;
	return 0;
}

static int verbose(void *o, const char *arg, char *err, size_t errlen)
{
	(void)o, (void)arg, (void)err, (void)errlen;
	log_init("nerrf-forward", true);
	return 0;
}

#define O struct fwd_opts
/* The options; also the [forward] keys. */
static const struct nerrf_opt table[] = {
	NOPT_STR("nats", O, nats),
	NOPT_STR("prefix", O, prefix),
	NOPT_STR("hostname", O, host),
	NOPT_STR("stream", O, stream),
	NOPT_FLAG("no-create-stream", O, no_create_stream),
	NOPT_NS("duplicate-window", O, dup_window_ns, NERRF_S, 1, 86400 * 7),
	NOPT_NS("max-age", O, max_age_ns, NERRF_S, 60, 86400ull * 3650),
	NOPT_SIZE("max-bytes", O, max_bytes, 1 << 20, 1ull << 50, false),
	NOPT_UINT("window", O, window, 1, 65536),
	NOPT_FN("start", start),
	NOPT_DURATION("ack-wait", O, ack_wait_ms, NERRF_MS, 100, 600000),
	NOPT_STR("rundir", O, rundir),
	NOPT_STR("url", O, events_url),
	NOPT_STR("replay-url", O, replay_url),
	NOPT_STR("stats-listen", O, stats_listen),
	NOPT_STR("state-dir", O, state_dir),
	NOPT_STR("tls-ca", O, tls_ca),
	NOPT_STR("tls-cert", O, tls_cert),
	NOPT_STR("tls-key", O, tls_key),
	NOPT_STR("tls-server-name", O, tls_server_name),
	NOPT_STR("creds", O, creds),
	NOPT_STR("nkey", O, nkey),
	NOPT_STR("nkey-seed", O, nkey_seed),
	NOPT_FLAG("insecure", O, insecure),
	NOPT_FLAG("no-sandbox", O, no_sandbox),
	NOPT_FLAG("check-config", O, check),
	NOPT_IGNORE("config"),
	NOPT_ACTION("verbose", verbose),
	NOPT_HELP(usage),
	NOPT_VERSION("nerrf-forward"),
	NOPT_END,
};
#undef O

/* A subject token: no '.', wildcard or blank may come from a host name. */
static void token(char *out, size_t len, const char *s)
{
	size_t i = 0;
	for (; s[i] && i + 1 < len; i++)
		out[i] = strchr(".*> \t\r\n", s[i]) ? '_' : s[i];
	out[i] = '\0';
}

/* Plain text leaves the host only when asked for. */
static int check_url(const struct fwd_opts *o)
{
	char host[256];
	const char *u = o->nats, *h = strstr(u, "://");
	bool tls = o->tls_ca || o->tls_cert || strncmp(u, "tls://", 6) == 0;

	if (!h || (strncmp(u, "nats://", 7) != 0 && strncmp(u, "tls://", 6) != 0)) {
		log_warnx("--nats %s: want nats://HOST:PORT or tls://HOST:PORT", u);
		return -1;
	}
	if (tls)
		return 0;
	/* nerrf_url_host reads tcp-like URLs: the same host syntax. */
	char tcp[600];
	snprintf(tcp, sizeof(tcp), "tcp%s", h);
	if (nerrf_host_is_loopback(nerrf_url_host(tcp, host, sizeof(host))))
		return 0;
	if (!o->insecure) {
		log_warnx("refusing %s: plain text to a non-loopback server is neither "
			  "authenticated nor encrypted; use tls://HOST:PORT with --tls-ca (and "
			  "--tls-cert/--tls-key or --creds), or pass --insecure", u);
		return -1;
	}
	log_warnx("warning: --insecure: every event goes to %s unencrypted", u);
	return 0;
}

/* The names and addresses the options leave to be derived, checked. */
static int check(void *p)
{
	static char host[256], urls[3][4200];
	struct fwd_opts *o = p;

	if (!o->nats && o->check) /* --check-config says it is not configured */
		return 0;
	if (!o->nats) {
		log_warnx("no NATS server: give --nats nats://HOST:PORT (or nats = ... under "
			  "[forward] in the configuration)");
		return -1;
	}
	if (!*o->prefix || strpbrk(o->prefix, "*> \t") || o->prefix[strlen(o->prefix) - 1] == '.') {
		log_warnx("--prefix '%s': want subject tokens without wildcards or blanks, "
			  "such as nerrf or acme.nerrf", o->prefix);
		return -1;
	}
	char h[256] = "";
	if (!o->host) {
		gethostname(h, sizeof(h) - 1);
		o->host = h[0] ? h : "unknown";
	}
	token(host, sizeof(host), o->host);
	o->host = host;
	snprintf(o->events_subject, sizeof(o->events_subject), "%s.%s.events", o->prefix, host);
	snprintf(o->stats_subject, sizeof(o->stats_subject), "%s.%s.stats", o->prefix, host);
	if (!o->events_url) {
		snprintf(urls[0], sizeof(urls[0]), "ipc://%s/events.sock", o->rundir);
		o->events_url = urls[0];
	}
	if (!o->replay_url) {
		snprintf(urls[1], sizeof(urls[1]), "ipc://%s/replay.sock", o->rundir);
		o->replay_url = urls[1];
	}
	if (!o->stats_listen) {
		snprintf(urls[2], sizeof(urls[2]), "ipc://%s/forward.sock", o->rundir);
		o->stats_listen = urls[2];
	}
	return check_url(o);
}

static const struct fwd_opts defaults = {
	.prefix = "nerrf",
	.stream = "NERRF",
	.rundir = NERRF_DEFAULT_RUNDIR,
	.state_dir = FWD_DEFAULT_STATE_DIR,
	.window = DEFAULT_WINDOW,
	.ack_wait_ms = DEFAULT_ACK_WAIT_MS,
	.dup_window_ns = DEFAULT_DUP_WINDOW_NS,
	.max_age_ns = DEFAULT_MAX_AGE_NS,
};

static struct nerrf_optset set = {
	.section = "forward", .table = table, .defaults = &defaults, .size = sizeof(defaults),
	.check = check,
};

/* ---- the local side ---- */

static int open_local(struct fwd *f)
{
	int rv;

	if ((rv = nng_sub0_open(&f->live)) != 0 ||
	    (rv = nng_socket_set(f->live, NNG_OPT_SUB_SUBSCRIBE, NERRF_TOPIC_EVENTS,
				 NERRF_TOPIC_LEN)) != 0 ||
	    (rv = nng_socket_set(f->live, NNG_OPT_SUB_SUBSCRIBE, NERRF_TOPIC_STATS,
				 NERRF_TOPIC_LEN)) != 0 ||
	    (rv = nng_socket_set_int(f->live, NNG_OPT_RECVBUF, LIVE_RECVBUF)) != 0 ||
	    (rv = nng_socket_set_size(f->live, NNG_OPT_RECVMAXSZ, NERRF_MAX_MESSAGE_BYTES)) != 0 ||
	    (rv = nng_socket_set_ms(f->live, NNG_OPT_RECONNMINT, 50)) != 0 ||
	    (rv = nng_socket_set_ms(f->live, NNG_OPT_RECONNMAXT, 1000)) != 0 ||
	    (rv = nng_dial(f->live, f->o.events_url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		log_warnx("cannot subscribe to %s: %s; give the publisher's address with "
			  "--url or --rundir", f->o.events_url, nng_strerror(rv));
		return -1;
	}
	/* A reply is at most 16 MiB of messages (docs/PROTOCOL.md). */
	if ((rv = nng_req0_open(&f->rq)) != 0 ||
	    (rv = nng_socket_set_size(f->rq, NNG_OPT_RECVMAXSZ, 20u << 20)) != 0 ||
	    (rv = nng_socket_set_ms(f->rq, NNG_OPT_RECVTIMEO, 3000)) != 0 ||
	    (rv = nng_socket_set_ms(f->rq, NNG_OPT_SENDTIMEO, 1000)) != 0 ||
	    (rv = nng_socket_set_ms(f->rq, NNG_OPT_RECONNMINT, 50)) != 0 ||
	    (rv = nng_socket_set_ms(f->rq, NNG_OPT_RECONNMAXT, 1000)) != 0 ||
	    (rv = nng_dial(f->rq, f->o.replay_url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		log_warnx("cannot dial the replay endpoint %s: %s; give it with "
			  "--replay-url", f->o.replay_url, nng_strerror(rv));
		return -1;
	}
	if ((rv = nng_pub0_open(&f->local)) != 0 ||
	    (rv = nng_listen(f->local, f->o.stats_listen, NULL, 0)) != 0) {
		log_warnx("cannot listen on %s for its stats: %s; choose another "
			  "--stats-listen", f->o.stats_listen, nng_strerror(rv));
		return -1;
	}
	if (strncmp(f->o.stats_listen, "ipc://", 6) == 0)
		chmod(f->o.stats_listen + 6, 0660);
	return 0;
}

/* ---- the position ---- */

static void save_state(struct fwd *f, uint64_t now)
{
	struct fwd_state st = {.acked_seq = f->acked};
	char err[300];

	if (f->acked == f->saved)
		return;
	if (fwd_state_save(f->statedir, &st, err, sizeof(err)) != 0) {
		log_warnx_limited(&f->rl_fail, "%s", err);
		return;
	}
	f->saved = f->acked;
	f->saved_ns = now;
}

/* Nothing in flight: the batches up to to - 1 will never come. */
static void skip_to(struct fwd *f, uint64_t to, const char *why)
{
	uint64_t n = to - f->next;

	f->c.lost += n;
	log_warnx("forward_lost: %" PRIu64 " batches (publisher_seq %" PRIu64 " to %" PRIu64
		  ") never reach NATS: %s (%" PRIu64 " lost so far)",
		  n, f->next, to - 1, why, f->c.lost);
	f->acked = to - 1;
	f->next = to;
	f->live_hi = f->live_hi > f->acked ? f->live_hi : f->acked;
}

static unsigned in_flight(const struct fwd *f)
{
	return f->next ? (unsigned)(f->next - f->acked - 1) : 0;
}

/* Sends the EventBatch that is next in line; -1 when it could not go (it comes again). */
static int send_batch(struct fwd *f, const uint8_t *pb, size_t len,
		      const struct nerrf_batch_scan *sc)
{
	char id[400], boot[80], err[400];
	size_t i = 0;

	/* The batch as the encoder made it: the same id whichever copy comes. */
	for (; sc->boot_id && i < sc->boot_id_len && i + 1 < sizeof(boot); i++) {
		char ch = (char)sc->boot_id[i];
		boot[i] = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
			  (ch >= 'A' && ch <= 'Z') || ch == '-' ? ch : '_';
	}
	boot[i] = '\0';
	if (sc->encoder_start_ns || sc->batch_seq)
		snprintf(id, sizeof(id), "%s:%s:%" PRIu64 ":%" PRIu64, f->o.host, boot,
			 sc->encoder_start_ns, sc->batch_seq);
	else
		snprintf(id, sizeof(id), "%s:%s:p%" PRIu64, f->o.host, boot, sc->publisher_seq);
	if (fwd_broker_send(sc->publisher_seq, id, pb, len, (uint32_t)sc->events, err,
			    sizeof(err)) != 0) {
		log_warnx_limited(&f->rl_send, "%s; it is sent again from the journal", err);
		return -1;
	}
	f->next = sc->publisher_seq + 1;
	f->c.forwarded++;
	f->stuck_ns = 0;
	f->take_live = false;
	f->oldest = false;
	return 0;
}

/* A journaled or live message; 1 sent, 0 not for now, -1 could not send. */
static int offer(struct fwd *f, const uint8_t *msg, size_t len, bool live)
{
	struct nerrf_batch_scan sc;

	if (len < NERRF_TOPIC_LEN || memcmp(msg, NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) != 0 ||
	    nerrf_batch_scan(msg + NERRF_TOPIC_LEN, len - NERRF_TOPIC_LEN, &sc) != 0 ||
	    !sc.publisher_seq) {
		log_warnx("skipped a message from the publisher that is not an EventBatch (%zu "
			  "bytes); is the publisher from another version?", len);
		return 0;
	}
	uint64_t s = sc.publisher_seq;
	if (s > f->live_hi)
		f->live_hi = s;
	if (!f->next) {
		log_warnx("no position yet: forwarding from publisher_seq %" PRIu64
			  " (what the journal holds before it is not sent)", s);
		f->next = s;
		f->acked = s - 1;
	}
	if (s < f->next)
		return 0;
	if (s > f->next && f->oldest && !live) {
		f->next = s; /* the oldest the journal keeps: nothing before it was wanted */
		f->acked = s - 1;
	}
	if (s > f->next) {
		/* A hole in the journal, or live with the journal unable to fill the gap. */
		if ((live && !f->take_live) || f->acked + 1 != f->next)
			return 0;
		skip_to(f, s, live ? "the publisher's journal does not have them (journal_dropped, "
				     "no journal, or removed by retention)"
				   : "the journal does not have them (journal_dropped, or removed by "
				     "retention)");
	}
	return send_batch(f, msg + NERRF_TOPIC_LEN, len - NERRF_TOPIC_LEN, &sc) == 0 ? 1 : -1;
}

/* What comes after next from the journal, as much as the window takes; 1 if any was sent. */
static int catch_up(struct fwd *f, uint64_t now)
{
	Nerrf__Trace__ReplayRequest req = NERRF__TRACE__REPLAY_REQUEST__INIT;
	unsigned room = f->o.window - in_flight(f);
	uint8_t buf[64];
	nng_msg *m;
	int rv, sent = 0;
	size_t had;

	req.from_seq = f->next;
	req.until_seq = f->next + room - 1;
	req.max_bytes = REPLAY_BYTES;
	size_t len = nerrf__trace__replay_request__pack(&req, buf);
	if ((rv = nng_send(f->rq, buf, len, 0)) != 0 || (rv = nng_recvmsg(f->rq, &m, 0)) != 0) {
		if (f->replay_ok || !f->stuck_ns)
			log_warnx("the replay endpoint %s does not answer (%s): batches the live "
				  "stream no longer has cannot be read back; is the publisher "
				  "running with a journal?", f->o.replay_url, nng_strerror(rv));
		f->replay_ok = false;
		goto stuck;
	}
	f->replay_ok = true;
	Nerrf__Trace__ReplayChunk *c =
		nerrf__trace__replay_chunk__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
	nng_msg_free(m);
	if (!c || (c->error && *c->error)) {
		log_warnx("the replay endpoint refused a request from publisher_seq %" PRIu64 ": %s",
			  f->next, c ? c->error : "undecodable reply (another version?)");
		if (c)
			nerrf__trace__replay_chunk__free_unpacked(c, NULL);
		goto stuck;
	}
	if (!c->n_messages && c->first_seq > f->next && f->acked + 1 == f->next && !f->oldest &&
	    c->first_seq <= c->last_seq)
		skip_to(f, c->first_seq, "removed from the journal by retention before the "
					 "broker took them");
	rv = 0;
	for (size_t i = 0; i < c->n_messages && rv >= 0; i++)
		if ((rv = offer(f, c->messages[i].data, c->messages[i].len, false)) > 0)
			sent++;
	had = c->n_messages;
	nerrf__trace__replay_chunk__free_unpacked(c, NULL);
	if (sent || had)
		return sent > 0; /* a hole to skip once nothing is in flight, or a failed send */
stuck:
	/* Only the journal's silence counts, not acks still awaited. */
	if (f->acked + 1 != f->next) {
		f->stuck_ns = 0;
		return 0;
	}
	if (!f->stuck_ns)
		f->stuck_ns = now;
	else if (now - f->stuck_ns > STUCK_NS && !f->take_live) {
		f->take_live = true;
		log_warnx("the journal has not had publisher_seq %" PRIu64 " for %llu s: going "
			  "on with the live stream", f->next, STUCK_NS / NERRF_S);
	}
	return 0;
}

/* ---- counters ---- */

static void counters_now(struct fwd *f, uint64_t now)
{
	f->c.outage_ns = fwd_broker_outage_ns(now, &f->c.outages);
	f->c.acked_seq = f->acked;
	f->c.behind = f->live_hi > f->acked ? f->live_hi - f->acked : 0;
}

static void log_counters(struct fwd *f, const char *when)
{
	log_info("%sforwarded %" PRIu64 ", acked %" PRIu64 " (%" PRIu64 " events), duplicates %"
		 PRIu64 ", forward_lost %" PRIu64 ", outages %" PRIu64 " (%.1f s), position %"
		 PRIu64 ", behind %" PRIu64,
		 when, f->c.forwarded, f->c.acked, f->c.acked_events, f->c.duplicates, f->c.lost,
		 f->c.outages, (double)f->c.outage_ns / 1e9, f->acked, f->c.behind);
	f->c_logged = f->c;
}

/* The forwarder's own Stats on --stats-listen, for nerrf stats and nerrf-exporter. */
static void publish_local(struct fwd *f)
{
	Stats st = NERRF__TRACE__STATS__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	st.ts = &ts;
	st.hostname = (char *)f->o.host;
	st.stage_state = fwd_broker_connected() ? (char *)"forward=up nats=up"
						: (char *)"forward=up nats=down";
	st.version = (char *)NERRF_VERSION;
	st.forward = &f->c;
	size_t len = nerrf__trace__stats__get_packed_size(&st);
	uint8_t *b = malloc(NERRF_TOPIC_LEN + len);
	if (!b)
		return;
	memcpy(b, NERRF_TOPIC_STATS, NERRF_TOPIC_LEN);
	nerrf__trace__stats__pack(&st, b + NERRF_TOPIC_LEN);
	nng_send(f->local, b, NERRF_TOPIC_LEN + len, NNG_FLAG_NONBLOCK);
	free(b);
}

/*
 * The publisher's Stats, unchanged, with this forwarder's counters appended:
 * a Stats holding only them, packed after it, which protobuf reads as one.
 */
static void forward_stats(struct fwd *f, const uint8_t *pb, size_t len)
{
	Stats own = NERRF__TRACE__STATS__INIT;

	own.forward = &f->c;
	size_t n = nerrf__trace__stats__get_packed_size(&own);
	uint8_t *b = malloc(len + n);
	if (!b)
		return;
	memcpy(b, pb, len);
	nerrf__trace__stats__pack(&own, b + len);
	fwd_broker_send_stats(b, len + n);
	free(b);
}

static void on_stats(struct fwd *f, const uint8_t *pb, size_t len)
{
	Stats *st = nerrf__trace__stats__unpack(NULL, len, pb);

	if (!st)
		return;
	uint64_t p = st->publisher_seq;
	nerrf__trace__stats__free_unpacked(st, NULL);
	if (f->next && p && p < f->acked) {
		log_warnx("the publisher's publisher_seq went back to %" PRIu64 " (the position was %"
			  PRIu64 "): its journal was removed or it runs without one; following it "
			  "from its oldest batch", p, f->acked);
		fwd_broker_rewind(0);
		f->acked = 0;
		f->next = 1;
		f->live_hi = p;
	} else if (!f->next && p) {
		log_warnx("no position yet: forwarding from publisher_seq %" PRIu64
			  " (what the journal holds before it is not sent)", p + 1);
		f->next = p + 1;
		f->acked = p;
	}
	if (p > f->live_hi)
		f->live_hi = p;
	forward_stats(f, pb, len);
}

/* ---- the loop ---- */

static void collect(struct fwd *f, int wait_ms)
{
	struct fwd_acks a;

	fwd_broker_collect(&f->acked, f->next, &a, wait_ms);
	f->c.acked += a.acked;
	f->c.duplicates += a.duplicates;
	f->c.acked_events += a.events;
	/*
	 * What was in flight when the connection went is acked, or times out
	 * (--ack-wait) and fails: only then is it sent again, so that nothing
	 * still on its way is given up (or counted lost) as well.
	 */
	if (a.failed) {
		log_warnx_limited(&f->rl_fail, "JetStream did not acknowledge %s; sending again "
				  "from publisher_seq %" PRIu64, a.why, f->acked + 1);
	}
	if (a.failed && f->next && f->next > f->acked + 1) {
		fwd_broker_rewind(f->acked + 1);
		f->next = f->acked + 1;
	}
}

static void run(struct fwd *f)
{
	bool stream_ready = false;
	char err[512];
	int wait_ms = 0;

	f->logged_ns = nerrf_mono_ns();
	while (!nerrf_stop) {
		uint64_t now = nerrf_mono_ns();
		double secs;
		/* The loop goes round at least every 20 ms: pet the watchdog. */
		if (nerrf_notify_due(now, &secs)) {
			nerrf_notify_alive("%s; %.1f batches/s acked, position %" PRIu64 ", %" PRIu64
					   " behind", fwd_broker_connected() ? "broker up" : "broker down",
					   (double)(f->c.acked - f->acked_then) / secs, f->acked,
					   f->c.behind);
			f->acked_then = f->c.acked;
		}
		if (nerrf_reload) {
			/* nerrf run and kill -HUP send it to every stage: it must not end the hop. */
			nerrf_reload = 0;
			log_info("SIGHUP: nothing to reload; every option of the forwarder takes "
				 "a restart (systemctl restart nerrf-forward)");
		}
		collect(f, wait_ms);
		wait_ms = 0;
		if (now - f->saved_ns >= SAVE_EVERY_NS)
			save_state(f, now);
		if (now - f->stats_ns >= NERRF_S) {
			f->stats_ns = now;
			counters_now(f, now);
			publish_local(f);
			if (now - f->logged_ns >= LOG_EVERY_NS &&
			    memcmp(&f->c, &f->c_logged, sizeof(f->c)) != 0) {
				f->logged_ns = now;
				log_counters(f, "");
			}
		}
		if (!stream_ready) {
			int rv = fwd_broker_stream(&f->o, err, sizeof(err));
			if (rv < 0)
				fatalx(1, "%s", err);
			stream_ready = rv == 0;
		}
		bool up = stream_ready && fwd_broker_connected();
		if (up && f->next && in_flight(f) >= f->o.window) {
			wait_ms = 20; /* acks free the window */
			continue;
		}
		if (up && f->next && f->live_hi >= f->next && !f->take_live && catch_up(f, now) > 0)
			continue;

		nng_msg *m;
		nng_socket_set_ms(f->live, NNG_OPT_RECVTIMEO, 20);
		int rv = nng_recvmsg(f->live, &m, 0);
		if (rv == NNG_ETIMEDOUT)
			continue;
		if (rv != 0) {
			if (!nerrf_stop)
				log_warnx("receiving from the publisher: %s", nng_strerror(rv));
			continue;
		}
		const uint8_t *b = nng_msg_body(m);
		size_t len = nng_msg_len(m);
		if (len >= NERRF_TOPIC_LEN && memcmp(b, NERRF_TOPIC_STATS, NERRF_TOPIC_LEN) == 0) {
			on_stats(f, b + NERRF_TOPIC_LEN, len - NERRF_TOPIC_LEN);
		} else if (up && (!f->next || in_flight(f) < f->o.window)) {
			offer(f, b, len, true);
		} else {
			/* Not now: it is in the journal. Only note that it exists. */
			struct nerrf_batch_scan sc;
			if (len > NERRF_TOPIC_LEN &&
			    nerrf_batch_scan(b + NERRF_TOPIC_LEN, len - NERRF_TOPIC_LEN, &sc) == 0 &&
			    sc.publisher_seq > f->live_hi)
				f->live_hi = sc.publisher_seq;
		}
		nng_msg_free(m);
	}
}

int main(int argc, char **argv)
{
	struct fwd f = {.statedir = -1};
	struct fwd_state st;
	char err[600];
	int ret = 1;

	log_init("nerrf-forward", false);
	if (nerrf_opt_start(&set, argc, argv, &f.o) != 0) {
		nerrf_opt_free(&set);
		return 2;
	}
	nerrf__trace__forward_counters__init(&f.c);
	if (f.o.check) {
		if (!f.o.nats) {
			printf("[forward]\n# not configured: no nats key, so nerrf-forward does not "
			       "start\n");
		} else {
			nerrf_opt_show(&set, &f.o);
			printf("start = %s\n", f.o.start_oldest ? "oldest" : "live");
		}
		nerrf_opt_free(&set);
		return 0;
	}

	nerrf_catch_reload();
	nerrf_catch_stop();

	if (mkdir(f.o.state_dir, 0700) != 0 && errno != EEXIST)
		fatal(1, "cannot create the state directory %s (--state-dir)", f.o.state_dir);
	f.statedir = open(f.o.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f.statedir < 0)
		fatal(1, "cannot open the state directory %s (--state-dir)", f.o.state_dir);
	if (fwd_state_load(f.statedir, &st, err, sizeof(err)) != 0)
		fatalx(1, "%s/%s", f.o.state_dir, err);
	if (st.acked_seq) {
		f.acked = f.saved = f.live_hi = st.acked_seq;
		f.next = st.acked_seq + 1;
		log_info("resuming after publisher_seq %" PRIu64, st.acked_seq);
	} else if (f.o.start_oldest) {
		f.next = 1;
		f.oldest = true;
		log_warnx("no position yet: forwarding from the oldest batch the journal holds");
	}
	if (open_local(&f) != 0)
		goto out;
	if (fwd_broker_open(&f.o, f.o.window, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		goto out;
	}
	if (!f.o.no_sandbox && fwd_sandbox(err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		goto out;
	}
	log_info("forwarding %s to %s as %s (stream %s)", f.o.events_url, f.o.nats,
		 f.o.events_subject, f.o.stream);
	/* Ready once subscribed and confined; a broker that is not up yet is an outage, counted. */
	nerrf_notify_ready("forwarding to %s", f.o.nats);
	run(&f);
	ret = 0;
out:
	fwd_broker_close();
	if (f.next) {
		struct fwd_acks a;
		fwd_broker_collect(&f.acked, f.next, &a, 0);
		f.c.acked += a.acked;
		f.c.duplicates += a.duplicates;
		f.c.acked_events += a.events;
		save_state(&f, nerrf_mono_ns());
	}
	counters_now(&f, nerrf_mono_ns());
	if (ret == 0)
		log_counters(&f, "stopping: ");
	nerrf_opt_free(&set);
	return ret;
}
