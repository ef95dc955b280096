/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NATS side: one connection (libnats), JetStream's asynchronous publish,
 * and the table of what is in flight. libnats calls back from its own
 * threads; the callbacks only record under a mutex what the main thread
 * then collects (fwd_broker_collect), so the forwarding logic stays on one
 * thread.
 *
 * In flight is always a run of consecutive publisher_seqs (acked, next):
 * the main thread skips over a lost range only with nothing in flight, so
 * each seq has its own slot, seq % window.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

#include "forward.h"
#include "nerrf_log.h"
#include "nerrf_tls.h"
#include "nerrf_time.h"

#define HDR_SEQ "Nerrf-Publisher-Seq"

enum { SLOT_FREE, SLOT_SENT, SLOT_ACKED, SLOT_DUP };

struct slot {
	uint64_t seq;
	uint32_t nevents;
	uint8_t state;
};

static natsOptions *nopts;
static natsConnection *nc;
static jsCtx *js;
static int64_t ack_wait_ms;
static const char *events_subject, *stats_subject;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct slot *slots;
static unsigned nslots;
static unsigned news; /* callbacks since the last collect */
static bool failed;
static char failed_why[256];
static bool connected, closing;
static uint64_t down_since_ns, outage_ns, outages;

static void on_disconnected(natsConnection *c, void *arg)
{
	(void)c;
	(void)arg;
	pthread_mutex_lock(&mu);
	bool ours = closing;
	if (connected && !ours) {
		connected = false;
		down_since_ns = nerrf_mono_ns();
		outages++;
	}
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	if (!ours)
		log_warnx("lost the connection to the NATS server; batches wait in the publisher's "
			  "journal and are sent once it is back");
}

static void on_connected(natsConnection *c, void *arg)
{
	bool first = arg == NULL;
	char url[256] = "";

	natsConnection_GetConnectedUrl(c, url, sizeof(url));
	pthread_mutex_lock(&mu);
	if (!connected) {
		connected = true;
		if (down_since_ns)
			outage_ns += nerrf_mono_ns() - down_since_ns;
		down_since_ns = 0;
	}
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	log_info("%s the NATS server at %s", first ? "connected to" : "reconnected to", url);
}

static void on_reconnected(natsConnection *c, void *arg)
{
	(void)arg;
	on_connected(c, (void *)1);
}

static void on_error(natsConnection *c, natsSubscription *sub, natsStatus s, void *arg)
{
	const char *txt = NULL;
	(void)sub;
	(void)arg;
	natsConnection_GetLastError(c, &txt);
	log_warnx("NATS: %s%s%s", natsStatus_GetText(s), txt ? ": " : "", txt ? txt : "");
}

static void on_ack(jsCtx *j, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae, void *arg)
{
	const char *v = NULL;
	uint64_t seq = 0;
	(void)j;
	(void)arg;

	if (natsMsgHeader_Get(m, HDR_SEQ, &v) == NATS_OK && v)
		seq = strtoull(v, NULL, 10);
	pthread_mutex_lock(&mu);
	struct slot *s = seq ? &slots[seq % nslots] : NULL;
	if (pa && s && s->seq == seq && s->state == SLOT_SENT)
		s->state = pa->Duplicate ? SLOT_DUP : SLOT_ACKED;
	else if (!pa && s && s->seq == seq && s->state == SLOT_SENT) {
		/* Only a batch still awaited: a stale failure of one sent again says nothing. */
		failed = true;
		snprintf(failed_why, sizeof(failed_why), "publisher_seq %" PRIu64 ": %s%s%s", seq,
			 natsStatus_GetText(pae->Err), pae->ErrText ? ": " : "",
			 pae->ErrText ? pae->ErrText : "");
	}
	news++;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	natsMsg_Destroy(m);
}

static int nats_fail(char *err, size_t errlen, const char *what, natsStatus s)
{
	const char *last = nats_GetLastError(NULL);
	snprintf(err, errlen, "%s: %s%s%s", what, natsStatus_GetText(s), last ? " (" : "",
		 last ? last : "");
	if (last)
		strncat(err, ")", errlen - strlen(err) - 1);
	return -1;
}

/* The options the connection and every reconnection use: the files are read now. */
static int build_options(const struct fwd_opts *o, char *err, size_t errlen)
{
	natsStatus s;
	bool tls = o->tls_ca || o->tls_cert || strncmp(o->nats, "tls://", 6) == 0;

	if ((s = natsOptions_Create(&nopts)) != NATS_OK ||
	    (s = natsOptions_SetURL(nopts, o->nats)) != NATS_OK ||
	    (s = natsOptions_SetName(nopts, "nerrf-forward")) != NATS_OK ||
	    (s = natsOptions_SetMaxReconnect(nopts, -1)) != NATS_OK ||
	    (s = natsOptions_SetReconnectWait(nopts, 250)) != NATS_OK ||
	    /* A broker that vanished without closing the connection shows within ~6 s. */
	    (s = natsOptions_SetPingInterval(nopts, 2000)) != NATS_OK ||
	    (s = natsOptions_SetMaxPingsOut(nopts, 3)) != NATS_OK ||
	    (s = natsOptions_SetTimeout(nopts, 5000)) != NATS_OK ||
	    /*
	     * No publishing into libnats' buffer while it reconnects: a batch held
	     * there past its ack wait would reach the broker after the forwarder
	     * had given it up (and perhaps counted it lost). A publish fails
	     * instead, and the batch comes again from the journal.
	     */
	    (s = natsOptions_SetReconnectBufSize(nopts, 1)) != NATS_OK ||
	    /* A batch goes out when published, not when libnats' flusher next runs. */
	    (s = natsOptions_SetSendAsap(nopts, true)) != NATS_OK ||
	    (s = natsOptions_SetDisconnectedCB(nopts, on_disconnected, NULL)) != NATS_OK ||
	    (s = natsOptions_SetReconnectedCB(nopts, on_reconnected, NULL)) != NATS_OK ||
	    (s = natsOptions_SetErrorHandler(nopts, on_error, NULL)) != NATS_OK)
		return nats_fail(err, errlen, "setting up the NATS client", s);
	if (tls && (s = natsOptions_SetSecure(nopts, true)) != NATS_OK)
		return nats_fail(err, errlen, "--nats tls://", s);
	if (o->tls_ca && (s = natsOptions_LoadCATrustedCertificates(nopts, o->tls_ca)) != NATS_OK)
		return nats_fail(err, errlen, "--tls-ca", s);
	if ((o->tls_cert != NULL) != (o->tls_key != NULL)) {
		snprintf(err, errlen, "--tls-cert and --tls-key go together: give both or neither");
		return -1;
	}
	if (o->tls_cert &&
	    (s = natsOptions_LoadCertificatesChain(nopts, o->tls_cert, o->tls_key)) != NATS_OK)
		return nats_fail(err, errlen, "--tls-cert/--tls-key", s);
	if (o->tls_server_name &&
	    (s = natsOptions_SetExpectedHostname(nopts, o->tls_server_name)) != NATS_OK)
		return nats_fail(err, errlen, "--tls-server-name", s);
	if (o->creds && (s = natsOptions_SetUserCredentialsFromFiles(nopts, o->creds, NULL)) != NATS_OK)
		return nats_fail(err, errlen, "--creds", s);
	if ((o->nkey != NULL) != (o->nkey_seed != NULL)) {
		snprintf(err, errlen, "--nkey (the user's public key) and --nkey-seed (the file "
			 "holding its seed) go together: give both or neither");
		return -1;
	}
	if (o->nkey && (s = natsOptions_SetNKeyFromSeed(nopts, o->nkey, o->nkey_seed)) != NATS_OK)
		return nats_fail(err, errlen, "--nkey/--nkey-seed", s);
	return 0;
}

int fwd_broker_open(struct fwd_opts *o, unsigned window, char *err, size_t errlen)
{
	natsStatus s;
	jsOptions jo;

	nslots = window;
	slots = calloc(window, sizeof(*slots));
	if (!slots) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ack_wait_ms = (int64_t)o->ack_wait_ms;
	events_subject = o->events_subject;
	stats_subject = o->stats_subject;
	if (build_options(o, err, errlen) != 0)
		return -1;
	/*
	 * A broker that is not up yet is waited for (in the background); one that
	 * answers and refuses us (certificate, credentials) is a setup error.
	 */
	s = natsConnection_Connect(&nc, nopts);
	if (s == NATS_OK) {
		on_connected(nc, NULL);
	} else if (s == NATS_NO_SERVER) {
		log_warnx("no NATS server answers at %s yet (%s); retrying in the background",
			  o->nats, nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "refused");
		if ((s = natsOptions_SetRetryOnFailedConnect(nopts, true, on_connected, NULL)) != NATS_OK)
			return nats_fail(err, errlen, "setting up the NATS client", s);
		s = natsConnection_Connect(&nc, nopts);
		if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED)
			goto refused;
	} else {
		goto refused;
	}
	jsOptions_Init(&jo);
	jo.Wait = 5000;
	jo.PublishAsync.AckHandler = on_ack;
	/* libnats' own bound, above ours: never the one that stalls a publish. */
	jo.PublishAsync.MaxPending = (int64_t)window * 4;
	if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK)
		return nats_fail(err, errlen, "opening a JetStream context", s);
	return 0;
refused:
	nats_fail(err, errlen, "cannot connect to the NATS server", s);
	snprintf(err + strlen(err), errlen - strlen(err), " at %s", o->nats);
	/* TLS 1.3 servers refuse a client certificate after the handshake: the connection just ends. */
	if (o->tls_cert && (s == NATS_PROTOCOL_ERROR || s == NATS_CONNECTION_CLOSED ||
			    s == NATS_IO_ERROR))
		snprintf(err + strlen(err), errlen - strlen(err),
			 "; the server ended the connection after the TLS handshake: it most "
			 "likely refused this client's certificate (--tls-cert: is it signed by "
			 "a CA the server trusts, and made for client authentication?)");
	else
		snprintf(err + strlen(err), errlen - strlen(err),
			 "; check the address, --tls-ca/--tls-cert/--tls-key/--tls-server-name "
			 "against the server's TLS settings, and --creds");
	return -1;
}

bool fwd_broker_connected(void)
{
	pthread_mutex_lock(&mu);
	bool c = connected;
	pthread_mutex_unlock(&mu);
	return c;
}

uint64_t fwd_broker_outage_ns(uint64_t now, uint64_t *n)
{
	pthread_mutex_lock(&mu);
	uint64_t t = outage_ns + (down_since_ns && now > down_since_ns ? now - down_since_ns : 0);
	*n = outages;
	pthread_mutex_unlock(&mu);
	return t;
}

/* NATS subject matching: '*' is one token, '>' the rest (at least one). */
static bool subject_matches(const char *pattern, const char *subj)
{
	for (;;) {
		size_t pl = strcspn(pattern, "."), sl = strcspn(subj, ".");
		if (pl == 1 && *pattern == '>')
			return sl > 0;
		if (!(pl == 1 && *pattern == '*') && (pl != sl || strncmp(pattern, subj, pl) != 0))
			return false;
		pattern += pl;
		subj += sl;
		if (!*pattern || !*subj)
			return !*pattern && !*subj;
		pattern++;
		subj++;
	}
}

int fwd_broker_stream(const struct fwd_opts *o, char *err, size_t errlen)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;
	char subj[520];

	if (!fwd_broker_connected())
		return 1;
	s = js_GetStreamInfo(&si, js, o->stream, NULL, &jerr);
	if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
		if (o->no_create_stream) {
			snprintf(err, errlen, "JetStream has no stream %s; create it (docs/FORWARD.md) "
				 "or let nerrf-forward do it (drop --no-create-stream)", o->stream);
			return -1;
		}
		jsStreamConfig c;
		const char *subjects[1] = {subj};
		jsStreamConfig_Init(&c);
		/* Every host's events: one stream for the fleet. */
		snprintf(subj, sizeof(subj), "%s.*.events", o->prefix);
		c.Name = o->stream;
		c.Subjects = subjects;
		c.SubjectsLen = 1;
		c.Retention = js_LimitsPolicy;
		c.Storage = js_FileStorage;
		c.Duplicates = (int64_t)o->dup_window_ns;
		c.MaxAge = (int64_t)o->max_age_ns;
		c.MaxBytes = o->max_bytes ? (int64_t)o->max_bytes : -1;
		s = js_AddStream(&si, js, &c, NULL, &jerr);
		if (s == NATS_OK) {
			log_info("created the JetStream stream %s for %s", o->stream, subj);
			jsStreamInfo_Destroy(si);
			return 0;
		}
		/* Another host's forwarder may have made it meanwhile: look again. */
		if (jerr == JSStreamNameExistErr)
			return 1;
	}
	if (s == NATS_TIMEOUT || s == NATS_CONNECTION_CLOSED || s == NATS_CONNECTION_DISCONNECTED ||
	    s == NATS_NO_RESPONDERS)
		return s == NATS_NO_RESPONDERS ? (snprintf(err, errlen, "the NATS server at %s has "
			"no JetStream (start nats-server with -js, or jetstream {} in its "
			"configuration)", o->nats), -1) : 1;
	if (s != NATS_OK)
		return nats_fail(err, errlen, "looking up the JetStream stream", s);
	bool covered = false;
	for (int i = 0; i < si->Config->SubjectsLen && !covered; i++)
		covered = subject_matches(si->Config->Subjects[i], o->events_subject);
	int64_t dup = si->Config->Duplicates;
	jsStreamInfo_Destroy(si);
	if (!covered) {
		snprintf(err, errlen, "the JetStream stream %s does not take subject %s; add it to "
			 "the stream's subjects, or choose the stream with --stream", o->stream,
			 o->events_subject);
		return -1;
	}
	if ((uint64_t)dup < o->dup_window_ns)
		log_warnx("the stream %s keeps message ids for %" PRId64 " s, less than "
			  "--duplicate-window: re-sends after a longer outage may be stored twice",
			  o->stream, dup / 1000000000);
	return 0;
}

int fwd_broker_send(uint64_t seq, const char *msgid, const uint8_t *pb, size_t len,
		    uint32_t nevents, char *err, size_t errlen)
{
	natsMsg *m = NULL;
	jsPubOptions po;
	char v[24];
	natsStatus s;

	snprintf(v, sizeof(v), "%" PRIu64, seq);
	if ((s = natsMsg_Create(&m, events_subject, NULL, (const char *)pb, (int)len)) != NATS_OK ||
	    (s = natsMsgHeader_Set(m, "Nats-Msg-Id", msgid)) != NATS_OK ||
	    (s = natsMsgHeader_Set(m, HDR_SEQ, v)) != NATS_OK) {
		natsMsg_Destroy(m);
		return nats_fail(err, errlen, "building a message", s);
	}
	pthread_mutex_lock(&mu);
	slots[seq % nslots] = (struct slot){.seq = seq, .nevents = nevents, .state = SLOT_SENT};
	pthread_mutex_unlock(&mu);
	jsPubOptions_Init(&po);
	po.MaxWait = ack_wait_ms;
	s = js_PublishMsgAsync(js, &m, &po);
	natsMsg_Destroy(m);
	if (s != NATS_OK) {
		pthread_mutex_lock(&mu);
		slots[seq % nslots].state = SLOT_FREE;
		pthread_mutex_unlock(&mu);
		return nats_fail(err, errlen, "publishing", s);
	}
	return 0;
}

void fwd_broker_send_stats(const uint8_t *pb, size_t len)
{
	if (fwd_broker_connected())
		natsConnection_Publish(nc, stats_subject, pb, (int)len);
}

void fwd_broker_collect(uint64_t *acked, uint64_t next, struct fwd_acks *a, int wait_ms)
{
	*a = (struct fwd_acks){0};
	pthread_mutex_lock(&mu);
	if (!news && wait_ms > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)wait_ms * 1000000;
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		pthread_cond_timedwait(&cv, &mu, &ts);
	}
	news = 0;
	while (*acked + 1 < next) {
		struct slot *s = &slots[(*acked + 1) % nslots];
		if (s->seq != *acked + 1 || (s->state != SLOT_ACKED && s->state != SLOT_DUP))
			break;
		if (s->state == SLOT_DUP)
			a->duplicates++;
		else
			a->acked++;
		a->events += s->nevents;
		s->state = SLOT_FREE;
		(*acked)++;
	}
	a->failed = failed;
	if (failed)
		snprintf(a->why, sizeof(a->why), "%s", failed_why);
	failed = false;
	pthread_mutex_unlock(&mu);
}

void fwd_broker_rewind(uint64_t from)
{
	pthread_mutex_lock(&mu);
	for (unsigned i = 0; i < nslots; i++)
		if (slots[i].seq >= from)
			slots[i].state = SLOT_FREE;
	pthread_mutex_unlock(&mu);
}

void fwd_broker_close(void)
{
	jsPubOptions po;

	if (js && fwd_broker_connected()) {
		jsPubOptions_Init(&po);
		po.MaxWait = 2000;
		js_PublishAsyncComplete(js, &po);
	}
	jsCtx_Destroy(js);
	js = NULL;
	pthread_mutex_lock(&mu);
	closing = true;
	pthread_mutex_unlock(&mu);
	if (nc) {
		natsConnection_Close(nc);
		natsConnection_Destroy(nc);
		nc = NULL;
	}
	natsOptions_Destroy(nopts);
	nopts = NULL;
}
