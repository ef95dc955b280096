/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf tail warns on stderr, with the count, when publisher_seq shows that
 * it missed batches: tail is frozen (SIGSTOP) while more batches arrive than
 * its queues hold, then thawed. The warnings name exactly the batches tail
 * did not print, no more and no fewer: each batch is known by its events'
 * bytes (batch_seq * 1000 + i), and publisher_seq is batch_seq here.
 */
#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"
#include "tjson.h"

#define LAST 401

/* Whether tail printed the last batch yet (its output outgrows pt_slurp). */
static bool printed_last(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n;

	CHECK(f != NULL, "%s: %s", path, strerror(errno));
	/* a line is far shorter than the buffer: keep the newest bytes */
	if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > (long)sizeof(buf) - 1)
		fseek(f, -(long)(sizeof(buf) - 1), SEEK_END);
	else
		rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return tj_any(buf, "bytes", "401000");
}

/* The events tail printed, by batch. */
static void count_printed(const char *path, unsigned events[LAST + 1])
{
	json_object *l = tj_file_lines(path);

	for (size_t i = 0; i < json_object_array_length(l); i++) {
		const char *b = tj_get(tj_line(l, i), "bytes");
		CHECK(b != NULL, "not an event: %s", json_object_to_json_string(tj_line(l, i)));
		unsigned long long batch = strtoull(b, NULL, 10) / 1000;
		CHECK(batch >= 1 && batch <= LAST, "batch %llu: %s", batch, b);
		events[batch]++;
	}
	json_object_put(l);
}

int main(void)
{
	struct pt_env env;
	char out[600], terr[600];
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "tail-gap");
	snprintf(out, sizeof(out), "%s/tail.out", env.dir);
	snprintf(terr, sizeof(terr), "%s/tail.err", env.dir);
	pid_t pub = pt_publisher(env.dir, env.err, "--sendbuf", "4", NULL);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	char *argv[] = {(char *)pt_bin("NERRF_CLI"), "tail", "--url", env.url, "--json", NULL};
	pid_t tail = pt_spawn_io(argv, terr, out);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 2), NULL);

	size_t n = pt_make_batch(rec, sizeof(rec), 1, 1, 5, 8);
	CHECK(pt_put(env.r2, rec, n) == 0);
	uint64_t end = nerrf_mono_ms() + 10000;
	while (!tj_any(pt_slurp(out), "pid", "5") && nerrf_mono_ms() < end)
		usleep(10000);
	CHECK(tj_any(pt_slurp(out), "pid", "5"), "tail printed the first batch");

	kill(tail, SIGSTOP);
	/* Far more (48 KiB) batches than 4 queued messages plus socket buffers hold. */
	for (uint64_t s = 2; s <= 400; s++) {
		n = pt_make_batch(rec, sizeof(rec), s, 48, 5, 1000);
		CHECK(pt_put(env.r2, rec, n) == 0);
	}
	usleep(300 * 1000);
	kill(tail, SIGCONT);
	/* The newest batch survives the drops; one more after it closes any gap at the end. */
	n = pt_make_batch(rec, sizeof(rec), LAST, 1, 5, 8);
	CHECK(pt_put(env.r2, rec, n) == 0);
	end = nerrf_mono_ms() + 10000;
	while (!printed_last(out) && nerrf_mono_ms() < end)
		usleep(20000);
	kill(tail, SIGTERM);
	int trc = pt_wait_exit(tail, 5000);
	CHECK(trc == 0, "tail exits cleanly on SIGTERM: %d %s", trc, pt_slurp(terr));

	/* What tail printed: its batches, each whole. */
	static unsigned events[LAST + 1];
	unsigned printed = 0;
	count_printed(out, events);
	CHECK(events[1] == 1 && events[LAST] == 1, "tail printed the first and last batches");
	for (unsigned s = 1; s <= LAST; s++) {
		CHECK(events[s] == 0 || events[s] == (s == 1 || s == LAST ? 1 : 48),
		      "batch %u printed with %u events", s, events[s]);
		printed += events[s] > 0;
	}

	/* What tail said it missed: every hole, as a range, and nothing else. */
	unsigned long missed = 0, warnings = 0;
	char e[1 << 16];
	snprintf(e, sizeof(e), "%s", pt_slurp(terr));
	for (const char *p = e; (p = strstr(p, "nerrf tail: warning: missed ")); p++) {
		unsigned long k, from, to;
		CHECK(sscanf(p, "nerrf tail: warning: missed %lu batches (publisher_seq %lu to %lu)",
			     &k, &from, &to) == 3, "%s", p);
		CHECK(k == to - from + 1 && from > 1 && to < LAST, "%s", p);
		CHECK(events[from - 1] && events[to + 1], "not a whole hole: %s", p);
		for (unsigned long s = from; s <= to; s++)
			CHECK(!events[s], "batch %lu was printed: %s", s, p);
		missed += k;
		warnings++;
	}
	fprintf(stderr, "tail printed %u of %d batches; %lu warnings say %lu missed\n", printed,
		LAST, warnings, missed);
	CHECK(printed < LAST, "tail missed nothing: the test did not make it fall behind");
	CHECK_EQ_U64(missed, LAST - printed);
	pt_stop(pub);
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
