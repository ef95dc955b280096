/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Topic framing: an events-only subscriber gets only "EVB1" messages, a
 * stats-only subscriber only "STS1", and an everything subscriber both; the
 * protobuf after the 4-byte topic decodes.
 */
#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"

#define NBATCH 5

int main(void)
{
	struct pt_env env;
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "pub-topics");
	pid_t pub = pt_publisher(env.dir, env.err, NULL);

	nng_socket ev = pt_sub(env.url, NERRF_TOPIC_EVENTS);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nng_socket all = pt_sub(env.url, NULL);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 3), NULL);

	for (unsigned i = 1; i <= NBATCH; i++) {
		size_t n = pt_make_batch(rec, sizeof(rec), i, 3, 4242, 20);
		CHECK(pt_put(env.r2, rec, n) == 0);
		n = pt_make_stats(rec, sizeof(rec), 100.0 * i);
		CHECK(pt_put(env.r2, rec, n) == 0);
	}

	/* Events-only: exactly NBATCH batches, in order, nothing else. */
	for (unsigned i = 1; i <= NBATCH; i++) {
		nng_msg *m = pt_recv(ev, 5000);
		CHECK(m != NULL, "events subscriber got %u of %d batches", i - 1, NBATCH);
		Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
		CHECK_EQ_U64(b->batch_seq, i);
		CHECK_EQ_U64(b->n_events, 3);
		CHECK_EQ_U64(b->events[2]->pid, 4242);
		CHECK_EQ_U64(b->events[2]->bytes, i * 1000 + 2);
		nerrf__trace__event_batch__free_unpacked(b, NULL);
		nng_msg_free(m);
	}
	CHECK(pt_recv(ev, 1500) == NULL, "events subscriber received a non-events message");

	/* Stats-only: the encoder's stats forwarded (our events_per_sec values), no batches. */
	unsigned forwarded = 0;
	uint64_t end = nerrf_mono_ms() + 10000;
	for (nng_msg *m; forwarded < NBATCH && nerrf_mono_ms() < end && (m = pt_recv(st, 5000));) {
		Nerrf__Trace__Stats *s = pt_decode_stats(m);
		if (s->events_per_sec > 0) {
			forwarded++;
			CHECK(s->events_per_sec == 100.0 * forwarded, "stats out of order");
			CHECK_STR(s->hostname, "testhost");
		}
		nerrf__trace__stats__free_unpacked(s, NULL);
		nng_msg_free(m);
	}
	CHECK_EQ_U64(forwarded, NBATCH);

	/* Everything: both topics, and nothing but those two. */
	unsigned nev = 0, nst = 0;
	for (nng_msg *m; (nev < NBATCH || nst < NBATCH) && (m = pt_recv(all, 3000));) {
		const char *b = nng_msg_body(m);
		CHECK(nng_msg_len(m) >= NERRF_TOPIC_LEN);
		if (memcmp(b, NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0)
			nev++;
		else if (memcmp(b, NERRF_TOPIC_STATS, NERRF_TOPIC_LEN) == 0)
			nst++;
		else
			FAIL("unknown topic %.4s", b);
		nng_msg_free(m);
	}
	CHECK_EQ_U64(nev, NBATCH);
	CHECK(nst >= NBATCH, "everything subscriber got %u stats", nst);

	pt_stop(pub);
	nng_close(ev);
	nng_close(st);
	nng_close(all);
	pt_env_free(&env);
	return 0;
}
