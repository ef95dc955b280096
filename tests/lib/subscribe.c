/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"
#include "spawn.h"
#include "subscribe.h"

nng_socket pt_sub(const char *url, const char *topic)
{
	nng_socket s;
	CHECK(nng_sub0_open(&s) == 0);
	CHECK(nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, topic ? topic : "",
			     topic ? strlen(topic) : 0) == 0);
	CHECK(nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 0) == 0);
	CHECK(nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 20) == 0);
	CHECK(nng_dial(s, url, NULL, NNG_FLAG_NONBLOCK) == 0);
	return s;
}

nng_msg *pt_recv(nng_socket s, int timeout_ms)
{
	nng_msg *m;
	CHECK(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms) == 0);
	int rv = nng_recvmsg(s, &m, 0);
	if (rv == NNG_ETIMEDOUT)
		return NULL;
	CHECK(rv == 0, "recv: %s", nng_strerror(rv));
	return m;
}

nng_msg *pt_recv_topic(nng_socket s, const char *topic, int timeout_ms)
{
	uint64_t end = nerrf_mono_ms() + (uint64_t)timeout_ms, now;

	while ((now = nerrf_mono_ms()) < end) {
		nng_msg *m = pt_recv(s, (int)(end - now));
		if (!m)
			return NULL;
		if (memcmp(nng_msg_body(m), topic, NERRF_TOPIC_LEN) == 0)
			return m;
		nng_msg_free(m);
	}
	return NULL;
}

const uint8_t *pt_payload(nng_msg *m, const char *topic, size_t *len)
{
	const uint8_t *b = nng_msg_body(m);
	CHECK(nng_msg_len(m) >= NERRF_TOPIC_LEN && memcmp(b, topic, NERRF_TOPIC_LEN) == 0,
	      "expected a %s message", topic);
	*len = nng_msg_len(m) - NERRF_TOPIC_LEN;
	return b + NERRF_TOPIC_LEN;
}

Nerrf__Trace__EventBatch *pt_decode_batch(nng_msg *m)
{
	size_t len;
	const uint8_t *b = pt_payload(m, NERRF_TOPIC_EVENTS, &len);
	Nerrf__Trace__EventBatch *eb = nerrf__trace__event_batch__unpack(NULL, len, b);
	CHECK(eb != NULL, "EventBatch does not decode");
	return eb;
}

Nerrf__Trace__Stats *pt_decode_stats(nng_msg *m)
{
	size_t len;
	const uint8_t *b = pt_payload(m, NERRF_TOPIC_STATS, &len);
	Nerrf__Trace__Stats *st = nerrf__trace__stats__unpack(NULL, len, b);
	CHECK(st != NULL, "Stats does not decode");
	return st;
}

Nerrf__Trace__Stats *pt_wait_subscribers(nng_socket stats_sub, unsigned n)
{
	uint64_t end = nerrf_mono_ms() + 15000;
	long long last = -1;
	while (nerrf_mono_ms() < end) {
		nng_msg *m = pt_recv(stats_sub, 500);
		if (!m)
			continue;
		Nerrf__Trace__Stats *st = pt_decode_stats(m);
		nng_msg_free(m);
		if (st->subscribers >= n)
			return st;
		last = st->subscribers;
		nerrf__trace__stats__free_unpacked(st, NULL);
	}
	FAIL("the publisher's stats never showed %u subscribers within 15 s (%s %lld)", n,
	     last < 0 ? "no stats at all;" : "the last said", last);
}

pid_t pt_publisher(const char *rundir, const char *err_path, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	argv[argc++] = (char *)pt_bin("NERRF_PUBLISHER");
	argv[argc++] = (char *)"--rundir";
	argv[argc++] = (char *)rundir;
	/* Each test's publisher_seq starts at 1 unless it asks for a --journal (the last wins). */
	argv[argc++] = (char *)"--no-journal";
	va_start(ap, err_path);
	for (char *a; (a = va_arg(ap, char *)) && argc < 31;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return pt_spawn(argv, err_path);
}
