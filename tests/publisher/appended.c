/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fields the publisher appends without re-encoding decode with a stock
 * protobuf decoder: EventBatch publisher_seq (consecutive from 1),
 * publisher_publish_errors, ring2_dropped; Stats ring2_used, ring2_capacity,
 * subscribers, publisher_seq. The encoder's own fields survive untouched.
 */
#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"

int main(void)
{
	struct pt_env env;
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "pub-appended");
	/* Drops the encoder counted in ring #2 must reach subscribers as ring2_dropped. */
	nerrf_ring_count_drop(env.r2, 100);
	nerrf_ring_count_drop(env.r2, 100);
	nerrf_ring_publish(env.r2);
	pid_t pub = pt_publisher(env.dir, env.err, NULL);

	nng_socket s = pt_sub(env.url, NULL);
	Nerrf__Trace__Stats *own = pt_wait_subscribers(s, 1);
	/* Before the encoder speaks, the publisher sends stats of its own. */
	CHECK_EQ_U64(own->ring2_capacity, PT_RING2_CAP);
	CHECK_EQ_U64(own->subscribers, 1);
	CHECK_EQ_U64(own->publisher_seq, 0);
	CHECK(own->ts && own->ts->seconds > 1600000000, "own stats carry a wall-clock ts");
	nerrf__trace__stats__free_unpacked(own, NULL);

	for (unsigned i = 1; i <= 3; i++) {
		size_t n = pt_make_batch(rec, sizeof(rec), 10 + i, 2, 7, 30);
		CHECK(pt_put(env.r2, rec, n) == 0);
	}
	size_t n = pt_make_stats(rec, sizeof(rec), 55.5);
	CHECK(pt_put(env.r2, rec, n) == 0);

	uint64_t want_seq = 1;
	bool got_stats = false;
	while (!got_stats) {
		nng_msg *m = pt_recv(s, 5000);
		CHECK(m != NULL, "timed out waiting for batches and stats");
		if (memcmp(nng_msg_body(m), NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0) {
			Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
			CHECK_EQ_U64(b->publisher_seq, want_seq);
			CHECK_EQ_U64(b->batch_seq, 10 + want_seq);
			CHECK_EQ_U64(b->publisher_publish_errors, 0);
			CHECK_EQ_U64(b->ring2_dropped, 2);
			CHECK_EQ_U64(b->encoder_start_ns, 42);
			CHECK_STR(b->hostname, "testhost");
			CHECK_EQ_U64(b->loss->encoder_events, (10 + want_seq) * 2);
			CHECK_EQ_U64(b->n_events, 2);
			CHECK_EQ_U64(strlen(b->events[1]->path), 30);
			CHECK_EQ_U64(b->events[1]->ts->seconds, 1700000000 + 10 + want_seq);
			want_seq++;
			nerrf__trace__event_batch__free_unpacked(b, NULL);
		} else {
			Nerrf__Trace__Stats *st = pt_decode_stats(m);
			if (st->events_per_sec == 55.5) {
				got_stats = true;
				CHECK_EQ_U64(st->publisher_seq, 3);
				CHECK_EQ_U64(st->ring2_capacity, PT_RING2_CAP);
				CHECK_EQ_U64(st->subscribers, 1);
				CHECK(st->ring2_used <= PT_RING2_CAP);
				CHECK_EQ_U64(st->loss->kernel_emitted, 7);
				CHECK_STR(st->stage_state, "encoder=up");
			}
			nerrf__trace__stats__free_unpacked(st, NULL);
		}
		nng_msg_free(m);
	}
	CHECK_EQ_U64(want_seq, 4);

	pt_stop(pub);
	nng_close(s);
	pt_env_free(&env);
	return 0;
}
