/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-subscribe --stats prints the stats messages as {"stats": {...}}
 * lines, with the encoder's fields and the publisher's appended ones, and
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

	static const char head[] = "{\"stats\": {\"hostname\": \"testhost\", \"loss\": "
				   "{\"kernel_emitted\": \"7\"}, \"events_per_sec\": 2.5, ";
	const char *line = NULL;
	for (uint64_t end = pt_now_ms() + 10000; !line && pt_now_ms() < end; usleep(20000))
		line = strstr(pt_slurp(out), head);
	CHECK(line != NULL, "no stats line from the encoder's Stats: %s", pt_slurp(out));
	static const char tail[] = "\"stage_state\": \"encoder=up\"}}\n";
	const char *eol = strchr(line, '\n');
	CHECK(eol && strncmp(eol + 1 - strlen(tail), tail, strlen(tail)) == 0, "%s", line);
	CHECK(strstr(line, "\"ring2_capacity\": \"") != NULL, "appended fields: %s", line);
	CHECK(strstr(line, "\"subscribers\": 2") != NULL, "appended fields: %s", line);
	/* Every other stats line is the publisher's own, for the silent encoder. */
	const char *o = pt_slurp(out);
	for (const char *l = o, *nl; (nl = strchr(l, '\n')); l = nl + 1)
		CHECK(strncmp(l, "{\"stats\": {", 11) == 0, "%s", o);

	n = rt_rich_batch(rec, sizeof(rec), 1);
	CHECK(pt_put(env.r2, rec, n) == 0);
	int rc = pt_wait_exit(sub, 20000);
	if (rc < 0)
		kill(sub, SIGKILL);
	CHECK(rc == 0, "nerrf-subscribe --stats --count 1 exit %d: %s", rc, pt_slurp(serr));
	o = pt_slurp(out);
	CHECK(strstr(o, "\n" RT_LINE0 "\n") != NULL, "the event after the stats: %s", o);
	CHECK(strcmp(o + strlen(o) - strlen(RT_LINE0) - 1, RT_LINE0 "\n") == 0,
	      "--count 1 stops after the first event: %s", o);

	pt_stop(pub);
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
