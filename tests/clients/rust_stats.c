/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-subscribe --stats prints the stats messages as {"stats": {...}}
 * lines (proto3 JSON), with the encoder's fields and the publisher's appended ones, and
 * still prints events.
 */
#include "rusttest.h"

int main(void)
{
	const char *bin = rt_build();
	struct pt_env env;
	char out[600], serr[600];
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "rust-stats");
	snprintf(out, sizeof(out), "%s/sub.out", env.dir);
	snprintf(serr, sizeof(serr), "%s/sub.err", env.dir);
	pid_t pub = pt_publisher(env.dir, env.err, NULL);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 1), NULL);

	pid_t sub = rt_subscriber(bin, out, serr, "--url", env.url, "--stats", "--count", "1", NULL);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 2), NULL);
	size_t n = pt_make_stats(rec, sizeof(rec), 2.5);
	CHECK(pt_put(env.r2, rec, n) == 0);

	/* The encoder's Stats, among the publisher's own (for the silent encoder). */
	bool found = false;
	for (uint64_t end = nerrf_mono_ms() + 10000; !found && nerrf_mono_ms() < end; usleep(20000))
		found = tj_any(pt_slurp(out), "stats.hostname", "testhost");
	CHECK(found, "no stats line from the encoder's Stats: %s", pt_slurp(out));
	json_object *l = tj_lines(pt_slurp(out)), *line = NULL;
	for (size_t i = 0; i < json_object_array_length(l); i++) {
		json_object *s = tj_line(l, i);
		CHECK(tj_at(s, "stats") && json_object_object_length(s) == 1, "not a stats line: %s",
		      json_object_to_json_string(s));
		if (tj_is(s, "stats.hostname", "testhost"))
			line = s;
	}
	CHECK(line && tj_is(line, "stats.loss.kernel_emitted", "7") &&
		      json_object_get_double(tj_at(line, "stats.events_per_sec")) == 2.5 &&
		      tj_is(line, "stats.stage_state", "encoder=up"),
	      "%s", json_object_to_json_string(line));
	CHECK(json_object_is_type(tj_at(line, "stats.ring2_capacity"), json_type_string) &&
		      tj_is(line, "stats.subscribers", "2"),
	      "appended fields: %s", json_object_to_json_string(line));
	json_object_put(l);

	n = rt_rich_batch(rec, sizeof(rec), 1);
	CHECK(pt_put(env.r2, rec, n) == 0);
	int rc = pt_wait_exit(sub, 20000);
	if (rc < 0)
		kill(sub, SIGKILL);
	CHECK(rc == 0, "nerrf-subscribe --stats --count 1 exit %d: %s", rc, pt_slurp(serr));
	const char *o = pt_slurp(out);
	l = tj_lines(o);
	size_t nl = json_object_array_length(l);
	/* the event after the stats, and --count 1 stops after it */
	CHECK(nl >= 2 && tj_equal(tj_line(l, nl - 1), RT_LINE0) && tj_at(tj_line(l, nl - 2), "stats"),
	      "%s", o);
	json_object_put(l);

	pt_stop(pub);
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
