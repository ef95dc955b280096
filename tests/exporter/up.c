/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf_up follows the Stats: the publisher is up while any come, the
 * encoder while its own come (the publisher's stand-ins, sent while the
 * encoder is silent, do not count), other stages as stage_state says; all
 * are down 3 intervals after their last Stats. Gauges go with their stage,
 * counters keep their last value.
 */
#include "exptest.h"
#include "full_stats.h"

/* Sends st every 50 ms for ms milliseconds. */
static void keep_sending(struct exp_env *t, const Nerrf__Trace__Stats *st, unsigned ms)
{
	for (uint64_t end = nerrf_mono_ms() + ms; nerrf_mono_ms() < end; usleep(50000))
		exp_send(t, st);
}

int main(void)
{
	struct exp_env t;
	struct full_stats fs;
	Nerrf__Trace__Stats own = NERRF__TRACE__STATS__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	const char *m;

	exp_env_init(&t, "exporter_up");
	full_stats(&fs);
	fs.st.stage_state = (char *)"collector=dead encoder=up publisher=up";
	/* What nerrf-publisher sends while the encoder is silent. */
	ts.seconds = 1700000100;
	own.ts = &ts;
	own.stage_state = (char *)"encoder=silent publisher=up";
	own.ring2_capacity = 1 << 23;
	own.subscribers = 1;
	own.publisher_seq = 778;
	exp_start(&t, "--stats-interval", "100ms", NULL);

	m = exp_wait_line(&t, &own, "nerrf_up{stage=\"publisher\"} 1");
	exp_has(m, "nerrf_up{stage=\"encoder\"} 0");
	exp_has(m, "nerrf_published_batches_total 778");
	CHECK(!strstr(m, "stage=\"collector\""), "collector state out of nowhere:\n%s", m);
	CHECK(!strstr(m, "nerrf_encoder_events_total"), "loss counters without an encoder:\n%s", m);

	m = exp_wait_line(&t, &fs.st, "nerrf_up{stage=\"encoder\"} 1");
	exp_has(m, "nerrf_up{stage=\"collector\"} 0");
	exp_has(m, "nerrf_up{stage=\"publisher\"} 1");
	exp_has(m, "nerrf_events_per_second 1234.5");

	/* The encoder falls silent; the publisher carries on with its own. */
	keep_sending(&t, &own, 600);
	m = exp_scrape(t.port);
	exp_has(m, "nerrf_up{stage=\"encoder\"} 0");
	exp_has(m, "nerrf_up{stage=\"publisher\"} 1");
	exp_has(m, "nerrf_encoder_events_total 1008");
	exp_has(m, "nerrf_ring_used_bytes{ring=\"2\"} 0");
	CHECK(!strstr(m, "nerrf_events_per_second"), "a silent encoder's rate:\n%s", m);
	CHECK(!strstr(m, "ring=\"1\""), "a silent encoder's ring #1:\n%s", m);
	CHECK(!strstr(m, "stage=\"collector\""), "the collector named by stale Stats:\n%s", m);

	/* Everything falls silent. */
	usleep(600000);
	m = exp_scrape(t.port);
	exp_has(m, "nerrf_up{stage=\"publisher\"} 0");
	exp_has(m, "nerrf_up{stage=\"encoder\"} 0");
	exp_has(m, "nerrf_encoder_events_total 1008");
	CHECK(!strstr(m, "nerrf_subscribers"), "a silent publisher's subscribers:\n%s", m);
	exp_env_free(&t);
	return 0;
}
