/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A stalled subscriber slows nobody: while subscriber A stops reading for
 * seconds, subscriber B receives every batch with no publisher_seq gap, and
 * ring #2 never fills (the producer never has to wait). A, reading at last,
 * sees what it lost as a publisher_seq gap, and has the newest batches
 * (pub0 drops a slow subscriber's oldest messages).
 */
#include <pthread.h>

#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"

#define PACE_US 750

static unsigned nbatch = 4000;
static nng_socket sub_b;
static uint64_t b_got, b_gaps;

static void *reader_b(void *arg)
{
	(void)arg;
	uint64_t last = 0;
	while (b_got < nbatch) {
		nng_msg *m = pt_recv(sub_b, 10000);
		if (!m)
			break;
		Nerrf__Trace__EventBatch *eb = pt_decode_batch(m);
		if (eb->publisher_seq != last + 1)
			b_gaps++;
		last = eb->publisher_seq;
		b_got++;
		nerrf__trace__event_batch__free_unpacked(eb, NULL);
		nng_msg_free(m);
	}
	return NULL;
}

int main(void)
{
	struct pt_env env;
	static uint8_t rec[1 << 16];
	pthread_t th;

	if (scale_sanitize())
		nbatch = 2000;
	pt_env_init(&env, "pub-slow");
	pid_t pub = pt_publisher(env.dir, env.err, "--sendbuf", "1024", NULL);

	nng_socket a = pt_sub(env.url, NERRF_TOPIC_EVENTS);
	sub_b = pt_sub(env.url, NERRF_TOPIC_EVENTS);
	/* B's own queue too: a busy host may deschedule its reader for a while. */
	CHECK(nng_socket_set_int(sub_b, NNG_OPT_RECVBUF, 8192) == 0);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 3), NULL);
	nng_close(st);
	CHECK(pthread_create(&th, NULL, reader_b, NULL) == 0);

	/* ~3.5 KiB batches, paced, for ~3 s; A reads nothing meanwhile. */
	uint64_t full = 0;
	for (unsigned i = 1; i <= nbatch; i++) {
		size_t n = pt_make_batch(rec, sizeof(rec), i, 8, 5, 400);
		void *p = nerrf_ring_reserve(env.r2, n);
		if (!p) {
			full++;
			CHECK(pt_put(env.r2, rec, n) == 0, "ring #2 stayed full for 2 s");
		} else {
			memcpy(p, rec, n);
			nerrf_ring_commit(env.r2);
			nerrf_ring_publish(env.r2);
		}
		usleep(PACE_US);
	}
	CHECK(pthread_join(th, NULL) == 0);
	CHECK_EQ_U64(b_got, nbatch);
	CHECK_EQ_U64(b_gaps, 0);
	CHECK(full == 0,
	      "ring #2 filled %llu times: the publisher was held up by the stalled "
	      "subscriber",
	      (unsigned long long)full);

	uint64_t a_got = 0, a_gaps = 0, last = 0;
	for (nng_msg *m; (m = pt_recv(a, 1000)); nng_msg_free(m)) {
		Nerrf__Trace__EventBatch *eb = pt_decode_batch(m);
		CHECK(eb->publisher_seq > last, "publisher_seq went backwards");
		if (eb->publisher_seq != last + 1)
			a_gaps++;
		last = eb->publisher_seq;
		a_got++;
		nerrf__trace__event_batch__free_unpacked(eb, NULL);
	}
	CHECK(a_got > 0 && a_got < nbatch, "stalled subscriber got %llu of %u",
	      (unsigned long long)a_got, nbatch);
	CHECK(a_gaps > 0, "the stalled subscriber's loss must show as a publisher_seq gap");
	CHECK_EQ_U64(last, nbatch);

	pt_stop(pub);
	nng_close(a);
	nng_close(sub_b);
	pt_env_free(&env);
	return 0;
}
