/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector restarts under a running encoder and makes a new ring #1
 * (here of another size): the encoder first reads the old ring to its end,
 * then takes the new one; every record arrives in order, and the kernel
 * sequence starting over is not a gap. The new collector loaded the
 * programs afresh, so the time between is a capture gap, counted.
 */
#include "enc_run.h"

static _Alignas(8) uint8_t buf[REC_BUF];

/* A collector's stats record saying it attached the programs itself at attached_ns. */
static size_t fresh_stats(void *p, uint64_t attached_ns)
{
	struct nerrf_kstats *k = p;

	memset(k, 0, sizeof(*k));
	k->hdr.type = NERRF_REC_STATS;
	k->hdr.size = sizeof(*k);
	k->ts_ns = attached_ns;
	k->flags = NERRF_KS_FRESH;
	k->attached_ns = attached_ns;
	return sizeof(*k);
}

static void expect_from(struct enc_run *t, const char *prefix, unsigned got, unsigned n)
{
	while (got < n) {
		Nerrf__Trace__EventBatch *b = next_batch(t, 10000);
		CHECK(b != NULL, "%s: %u of %u events arrived", prefix, got, n);
		for (size_t k = 0; k < b->n_events; k++) {
			char want[64];
			snprintf(want, sizeof(want), "%s/%u", prefix, got++);
			CHECK_STR(b->events[k]->path, want);
		}
		CHECK_EQ_U64(b->loss->seq_gaps, 0);
		CHECK_EQ_U64(b->loss->malformed, 0);
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
}

static void expect(struct enc_run *t, const char *prefix, unsigned n)
{
	expect_from(t, prefix, 0, n);
}

int main(int argc, char **argv)
{
	struct enc_run t;
	const char *msg = NULL;

	CHECK(argc == 2, "usage: collector_restart_test NERRF_ENCODER");
	enc_start(&t, "restart", argv[1], 1 << 20, NULL);
	for (unsigned i = 0; i < 5; i++)
		put_rec(&t, buf, numbered_event(buf, "/gen1", i));
	expect(&t, "/gen1", 5);

	/* the last records and the collector's death come together */
	for (unsigned i = 5; i < 500; i++)
		put_rec(&t, buf, numbered_event(buf, "/gen1", i));
	nerrf_ring_server_close(t.srv1);
	nerrf_ring_prod_close(t.r1);
	int rc = nerrf_ring_create("test-ring1", 2 << 20, &t.r1, &msg);
	CHECK(rc == 0, "%s", msg ? msg : strerror(-rc));
	rc = nerrf_ring_listen(t.dir, NERRF_RING1_NAME, 0600, t.r1, &t.srv1, &msg);
	CHECK(rc == 0, "%s", msg ? msg : strerror(-rc));
	enc_serve_ring1(&t);
	/* the new collector loaded the programs afresh: capture stopped in between */
	uint64_t attached = nerrf_mono_ns();
	put_rec(&t, buf, fresh_stats(buf, attached));
	for (unsigned i = 0; i < 5; i++)
		put_rec(&t, buf, numbered_event(buf, "/gen2", i));
	expect_from(&t, "/gen1", 5, 500);
	Nerrf__Trace__EventBatch *b = next_batch(&t, 10000);
	CHECK(b != NULL && b->loss && b->loss->last_capture_gap);
	CHECK_EQ_U64(b->loss->capture_gaps, 1);
	CHECK_EQ_U64(b->loss->last_capture_gap->end_mono_ns, attached);
	CHECK(b->loss->last_capture_gap->start_mono_ns < attached &&
	      b->loss->last_capture_gap->start_mono_ns > 0);
	CHECK_EQ_U64(b->loss->capture_gap_ns, attached - b->loss->last_capture_gap->start_mono_ns);
	CHECK_STR(b->loss->last_capture_gap->cause, "collector died");
	CHECK(b->loss->last_capture_gap->start && b->loss->last_capture_gap->end &&
	      b->loss->last_capture_gap->end->seconds > 1600000000);
	unsigned got = 0;
	for (size_t k = 0; k < b->n_events; k++) {
		char want[64];
		snprintf(want, sizeof(want), "/gen2/%u", got++);
		CHECK_STR(b->events[k]->path, want);
	}
	nerrf__trace__event_batch__free_unpacked(b, NULL);
	expect_from(&t, "/gen2", got, 5);

	enc_stop(&t);
	return 0;
}
