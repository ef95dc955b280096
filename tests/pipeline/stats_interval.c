/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stats come once a second, from one speaker at a time. While the encoder
 * runs, its Stats (the loss counters) and nothing else, one per interval.
 * When it dies, the publisher speaks for the pipeline ("encoder=silent")
 * once the encoder has been silent for 2.5 s as it documents, then once a
 * second. When an encoder comes back, its Stats and no more of the
 * publisher's. Real encoder and publisher; the test holds ring #1.
 */
#include "e2e.h"

#define PER_PHASE 5
#define SILENT_MS 2500 /* the publisher's ENCODER_SILENT_NS */

struct stats {
	/* The speaker's own time (Stats.ts): on a loaded machine the test may read a
	 * Stats late, which says nothing of the cadence it was sent at. */
	uint64_t at_ms;
	bool encoder; /* the encoder's, with loss counters; else the publisher's own */
};

static struct stats next_stats(struct e2e *e)
{
	uint64_t end = nerrf_mono_ms() + 10000;

	while (nerrf_mono_ms() < end) {
		nng_msg *m = pt_recv_topic(e->sub, NERRF_TOPIC_STATS, 100);
		if (!m)
			continue;
		Nerrf__Trace__Stats *s = pt_decode_stats(m);
		CHECK(s->ts, "a Stats without ts");
		struct stats r = {(uint64_t)s->ts->seconds * 1000 + (uint64_t)s->ts->nanos / 1000000,
				  s->loss != NULL};
		if (!r.encoder)
			CHECK_STR(s->stage_state, "encoder=silent publisher=up");
		nerrf__trace__stats__free_unpacked(s, NULL);
		nng_msg_free(m);
		return r;
	}
	FAIL("no Stats within 10 s");
}

/* PER_PHASE Stats from one speaker, a second apart, after first. */
static struct stats steady(struct e2e *e, struct stats first, const char *who)
{
	struct stats prev = first;

	for (int i = 0; i < PER_PHASE; i++) {
		struct stats s = next_stats(e);
		CHECK(s.encoder == first.encoder, "Stats from the %s while the %s spoke",
		      s.encoder ? "encoder" : "publisher", who);
		CHECK(s.at_ms - prev.at_ms >= 500 && s.at_ms - prev.at_ms <= 1500,
		      "the %s's Stats %llu ms apart, not once a second", who,
		      (unsigned long long)(s.at_ms - prev.at_ms));
		prev = s;
	}
	return prev;
}

int main(void)
{
	struct e2e e = {0};
	struct e2e_stages st;
	struct stats s;

	e2e_require("the Stats interval test", false);
	e2e_dirs(&e, "e2e-stats-interval");
	e2e_without_collector(&e, &st, 1 << 20, NULL);

	/* Until the encoder's first tick the publisher speaks; from then on, the encoder. */
	while (!(s = next_stats(&e)).encoder)
		;
	struct stats last = steady(&e, s, "encoder");

	CHECK(kill(st.enc, SIGKILL) == 0);
	CHECK(waitpid(st.enc, NULL, 0) == st.enc);
	s = next_stats(&e);
	CHECK(!s.encoder, "Stats from an encoder killed before");
	CHECK(s.at_ms - last.at_ms + 100 >= SILENT_MS,
	      "the publisher spoke %llu ms after the encoder's last Stats, not after %d ms of "
	      "silence", (unsigned long long)(s.at_ms - last.at_ms), SILENT_MS);
	steady(&e, s, "publisher");

	e2e_encoder(&e, &st, NULL);
	while (!(s = next_stats(&e)).encoder)
		;
	steady(&e, s, "encoder");

	e2e_without_collector_finish(&e, &st);
	return 0;
}
