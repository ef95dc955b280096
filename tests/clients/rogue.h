/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A rogue publisher: a plain nng pub socket of the test's own that sends what
 * nerrf-publisher never would, to check that a subscriber bounds what it
 * allocates. It sends, in order: batch 1; batch 2, 2,000,000 empty Events in
 * 4 MB, which protobuf-c and the Python and Rust decoders would turn into
 * hundreds of megabytes; batch 3; batch 4, 8 MiB (one long host name),
 * above the default --max-message-bytes; and once the subscriber has
 * redialled, batch 5. Batches 1, 3 and 5 hold one event each, whose pid is
 * the batch's number.
 */
#ifndef NERRF_ROGUE_H
#define NERRF_ROGUE_H

#include <stdatomic.h>
#include <sys/resource.h>

#include "nerrf_pbwire.h"
#include "trace_fields.h"
#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"

#include <nng/protocol/pubsub0/pub.h>

#define ROGUE_EMPTY_EVENTS 2000000u
#define ROGUE_BIG_BYTES (8u << 20)

static atomic_int rogue_added, rogue_removed;

static void rogue_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)p;
	(void)arg;
	atomic_fetch_add(ev == NNG_PIPE_EV_ADD_POST ? &rogue_added : &rogue_removed, 1);
}

static void rogue_send(nng_socket pub, const uint8_t *pb, size_t len)
{
	nng_msg *m;
	CHECK(nng_msg_alloc(&m, 0) == 0);
	CHECK(nng_msg_append(m, NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0);
	CHECK(nng_msg_append(m, pb, len) == 0);
	CHECK(nng_sendmsg(pub, m, 0) == 0);
}

/* A batch of one event with pid seq, publisher_seq appended as the publisher does. */
static void rogue_send_small(nng_socket pub, uint64_t seq)
{
	Nerrf__Trace__EventBatch b = NERRF__TRACE__EVENT_BATCH__INIT;
	Nerrf__Trace__Event ev = NERRF__TRACE__EVENT__INIT, *evp = &ev;
	uint8_t buf[256];

	ev.pid = (uint32_t)seq;
	ev.syscall = "openat";
	ev.path = "/rogue";
	b.n_events = 1;
	b.events = &evp;
	b.batch_seq = seq;
	size_t n = nerrf__trace__event_batch__pack(&b, buf);
	n += nerrf_put_u64_field(buf + n, NERRF_PB_EVENT_BATCH_PUBLISHER_SEQ, seq);
	rogue_send(pub, buf, n);
}

static bool rogue_until(atomic_int *v, int n, int ms)
{
	for (uint64_t end = nerrf_mono_ms() + (uint64_t)ms; nerrf_mono_ms() < end; usleep(10000))
		if (atomic_load(v) >= n)
			return true;
	return false;
}

/* Exit status of pid within ms (-1 if still running), and its peak RSS in KiB. */
static int rogue_wait(pid_t pid, int ms, long *maxrss_kb)
{
	struct rusage ru;
	int st;
	for (uint64_t end = nerrf_mono_ms() + (uint64_t)ms; nerrf_mono_ms() < end; usleep(10000)) {
		if (wait4(pid, &st, WNOHANG, &ru) == pid) {
			*maxrss_kb = ru.ru_maxrss;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/*
 * Runs the subscriber argv (which must --count 3 events) against the rogue
 * at url; it must print batches 1, 3 and 5 and exit 0 with a peak RSS under
 * max_rss_kb, saying on stderr that it dropped batch 2 (drop_msg) and missed
 * batch 4 (gap_msg).
 */
static void rogue_run(const char *dir, const char *name, const char *url, char *const argv[],
		      const char *drop_msg, const char *gap_msg, long max_rss_kb)
{
	char out[600], err[600];
	nng_socket pub;
	long rss = 0;

	snprintf(out, sizeof(out), "%s/%s.out", dir, name);
	snprintf(err, sizeof(err), "%s/%s.err", dir, name);
	atomic_store(&rogue_added, 0);
	atomic_store(&rogue_removed, 0);
	CHECK(nng_pub0_open(&pub) == 0);
	CHECK(nng_pipe_notify(pub, NNG_PIPE_EV_ADD_POST, rogue_pipe, NULL) == 0);
	CHECK(nng_pipe_notify(pub, NNG_PIPE_EV_REM_POST, rogue_pipe, NULL) == 0);
	CHECK(nng_listen(pub, url, NULL, 0) == 0);

	pid_t sub = pt_spawn_io(argv, err, out);
	CHECK(rogue_until(&rogue_added, 1, 20000), "%s never connected: %s", name, pt_slurp(err));

	rogue_send_small(pub, 1);
	size_t n = 2 * ROGUE_EMPTY_EVENTS;
	uint8_t *big = malloc(ROGUE_BIG_BYTES + 64);
	CHECK(big != NULL);
	for (size_t i = 0; i < n; i += 2)
		big[i] = NERRF_PB_KEY(NERRF_PB_EVENT_BATCH_EVENTS, NERRF_PB_LEN), big[i + 1] = 0;
	n += nerrf_put_u64_field(big + n, NERRF_PB_EVENT_BATCH_PUBLISHER_SEQ, 2);
	rogue_send(pub, big, n);
	rogue_send_small(pub, 3);
	n = nerrf_put_varint(big, NERRF_PB_KEY(NERRF_PB_EVENT_BATCH_HOSTNAME, NERRF_PB_LEN));
	n += nerrf_put_varint(big + n, ROGUE_BIG_BYTES);
	memset(big + n, 'h', ROGUE_BIG_BYTES);
	n += ROGUE_BIG_BYTES;
	n += nerrf_put_u64_field(big + n, NERRF_PB_EVENT_BATCH_PUBLISHER_SEQ, 4);
	rogue_send(pub, big, n);
	free(big);

	/* The oversized message ends the connection; once it is back, the last batch. */
	CHECK(rogue_until(&rogue_added, 2, 20000), "%s did not reconnect after batch 4: %s", name,
	      pt_slurp(err));
	rogue_send_small(pub, 5);

	int rc = rogue_wait(sub, 30000, &rss);
	const char *e = pt_slurp(err);
	CHECK(rc == 0, "%s exit %d: %s", name, rc, e);
	fprintf(stderr, "%s: peak RSS %ld KiB\n", name, rss);
	CHECK(rss < max_rss_kb, "%s peaked at %ld KiB, more than %ld: %s", name, rss, max_rss_kb, e);
	CHECK(strstr(e, drop_msg) != NULL, "%s: no '%s' in: %s", name, drop_msg, e);
	CHECK(strstr(e, gap_msg) != NULL, "%s: no '%s' in: %s", name, gap_msg, e);
	const char *o = pt_slurp(out);
	unsigned lines = 0;
	for (const char *p = o; *p; p++)
		lines += *p == '\n';
	CHECK_EQ_U64(lines, 3);
	nng_close(pub);
}

/* The peak RSS a subscriber may reach: a few times the 4 MB it must receive. */
static long rogue_rss_limit_kb(void)
{
	return (scale_sanitize() ? 1024 : 96) * 1024;
}

#endif /* NERRF_ROGUE_H */
