/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf tail --nats: the fleet's stream, as nerrf-forward puts it into NATS
 * JetStream (docs/FORWARD.md), read through an ordered consumer of its own
 * (ephemeral: nothing is left on the server). Each message is one
 * EventBatch; its host is the subject's token before "events".
 */
#include <stdio.h>
#include <string.h>

#include <nats/nats.h>

#include "nerrf.h"

static int say(const char *what, natsStatus s, const char *url)
{
	const char *last = nats_GetLastError(NULL);
	fprintf(stderr, "nerrf tail: %s %s: %s%s%s%s\n", what, url, natsStatus_GetText(s),
		last ? " (" : "", last ? last : "", last ? ")" : "");
	return 1;
}

int tail_nats(const char *url, const char *subject, const struct nerrf_tls_files *tls,
	      uint64_t from_seq, uint64_t from_ns, nats_batch_cb cb, void *arg)
{
	natsOptions *o = NULL;
	natsConnection *nc = NULL;
	natsSubscription *sub = NULL;
	jsCtx *js = NULL;
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;
	int ret = 1;

	if ((s = natsOptions_Create(&o)) != NATS_OK || (s = natsOptions_SetURL(o, url)) != NATS_OK ||
	    (s = natsOptions_SetName(o, "nerrf tail")) != NATS_OK ||
	    (s = natsOptions_SetMaxReconnect(o, -1)) != NATS_OK ||
	    ((tls->ca || tls->cert || strncmp(url, "tls://", 6) == 0) &&
	     (s = natsOptions_SetSecure(o, true)) != NATS_OK) ||
	    (tls->ca && (s = natsOptions_LoadCATrustedCertificates(o, tls->ca)) != NATS_OK) ||
	    (tls->cert && (s = natsOptions_LoadCertificatesChain(o, tls->cert, tls->key)) != NATS_OK) ||
	    (tls->server_name && (s = natsOptions_SetExpectedHostname(o, tls->server_name)) != NATS_OK)) {
		say("cannot set up the NATS client for", s, url);
		goto out;
	}
	if ((s = natsConnection_Connect(&nc, o)) != NATS_OK) {
		say("cannot connect to", s, url);
		goto out;
	}
	if ((s = natsConnection_JetStream(&js, nc, NULL)) != NATS_OK) {
		say("no JetStream at", s, url);
		goto out;
	}
	jsSubOptions_Init(&so);
	so.Ordered = true;
	so.Config.DeliverPolicy = from_seq ? js_DeliverByStartSequence
				  : from_ns ? js_DeliverByStartTime : js_DeliverNew;
	so.Config.OptStartSeq = from_seq;
	so.Config.OptStartTime = (int64_t)from_ns;
	if ((s = js_SubscribeSync(&sub, js, subject, NULL, &so, &jerr)) != NATS_OK) {
		fprintf(stderr, "nerrf tail: cannot read %s from the JetStream at %s: %s (is there a "
			"stream for it? nerrf-forward creates one; see docs/FORWARD.md)\n", subject,
			url, natsStatus_GetText(s));
		goto out;
	}
	ret = 0;
	while (!nerrf_stop) {
		natsMsg *m = NULL;
		s = natsSubscription_NextMsg(&m, sub, 200);
		if (s == NATS_TIMEOUT)
			continue;
		if (s != NATS_OK) {
			ret = say("reading from", s, url);
			break;
		}
		/* <prefix...>.<host>.events: the token before the last. */
		char host[256] = "?";
		const char *subj = natsMsg_GetSubject(m), *end = strrchr(subj, '.');
		if (end) {
			const char *p = end;
			while (p > subj && p[-1] != '.')
				p--;
			snprintf(host, sizeof(host), "%.*s", (int)(end - p), p);
		}
		int stop = cb(arg, host, (const uint8_t *)natsMsg_GetData(m),
			      (size_t)natsMsg_GetDataLength(m));
		natsMsg_Destroy(m);
		if (stop)
			break;
	}
out:
	natsSubscription_Destroy(sub);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(o);
	return ret;
}
