/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A subscriber that stops for 10 s under load and comes back with
 * `nerrf tail --from <its last publisher_seq + 1>` ends with every batch the
 * publisher sent exactly once: the journal fills the 10 s, then the live
 * stream follows without a gap or a duplicate (docs/PROTOCOL.md).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"
#include "tjson.h"

#define RATE 2000		/* batches a second */
#define TOTAL (RATE * 16)	/* 16 s of load: first run, 10 s away, the catch-up */
#define FIRST 3000		/* events (= batches) the first run prints */

static struct pt_env t;
static unsigned seen[TOTAL + 1];

/* One event a batch, bytes = batch_seq * 1000 = publisher_seq * 1000. */
static void *feed(void *arg)
{
	static uint8_t rec[4096];
	uint64_t start = nerrf_mono_ms();
	(void)arg;
	for (unsigned i = 1; i <= TOTAL; i++) {
		CHECK(pt_put(t.r2, rec, pt_make_batch(rec, sizeof(rec), i, 1, 7, 60)) == 0);
		if (i % (RATE / 100) == 0)
			while (nerrf_mono_ms() < start + i * 1000ull / RATE)
				usleep(1000);
	}
	return NULL;
}

/* Notes each batch printed; returns the highest publisher_seq. */
static unsigned collect(const char *path)
{
	json_object *l = tj_file_lines(path);
	unsigned hi = 0;
	for (size_t i = 0; i < json_object_array_length(l); i++) {
		const char *b = tj_get(tj_line(l, i), "bytes");
		CHECK(b, "not an event: %s", json_object_to_json_string(tj_line(l, i)));
		unsigned long long v = strtoull(b, NULL, 10);
		CHECK(v % 1000 == 0 && v / 1000 >= 1 && v / 1000 <= TOTAL, "bytes %llu", v);
		seen[v / 1000]++;
		hi = (unsigned)(v / 1000) > hi ? (unsigned)(v / 1000) : hi;
	}
	json_object_put(l);
	return hi;
}

static pid_t tail_from(const char *rurl, unsigned from, unsigned count, const char *out,
		       const char *err)
{
	static char f[16], c[16];
	snprintf(f, sizeof(f), "%u", from);
	snprintf(c, sizeof(c), "%u", count);
	char *argv[] = {(char *)pt_bin("NERRF_CLI"), "tail", "--url", t.url, "--replay-url",
			(char *)rurl, "--from", f, "--json", "--count", c, NULL};
	return pt_spawn_io(argv, err, out);
}

int main(void)
{
	char jdir[700], rurl[700], out1[700], err1[700], out2[700], err2[700];
	pthread_t th;

	pt_env_init(&t, "pub-jcatchup");
	snprintf(jdir, sizeof(jdir), "%s/journal", t.dir);
	snprintf(rurl, sizeof(rurl), "ipc://%s/replay.sock", t.dir);
	snprintf(out1, sizeof(out1), "%s/tail1.out", t.dir);
	snprintf(err1, sizeof(err1), "%s/tail1.err", t.dir);
	snprintf(out2, sizeof(out2), "%s/tail2.out", t.dir);
	snprintf(err2, sizeof(err2), "%s/tail2.err", t.dir);
	pid_t pub = pt_publisher(t.dir, t.err, "--journal", jdir, NULL);
	nng_socket stats = pt_sub(t.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(stats, 1), NULL);

	CHECK(pthread_create(&th, NULL, feed, NULL) == 0);
	pid_t tail = tail_from(rurl, 1, FIRST, out1, err1);
	CHECK(pt_wait_exit(tail, 30000) == 0, "first run: %s", pt_slurp(err1));
	unsigned last = collect(out1);
	CHECK(last == FIRST, "the first run ended at publisher_seq %u", last);

	sleep(10);
	tail = tail_from(rurl, last + 1, TOTAL - last, out2, err2);
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(pt_wait_exit(tail, 60000) == 0, "after 10 s away: %s", pt_slurp(err2));
	collect(out2);
	for (unsigned s = 1; s <= TOTAL; s++)
		CHECK(seen[s] == 1, "publisher_seq %u printed %u times", s, seen[s]);
	CHECK(!strstr(pt_slurp(err1), "warning"), "first run: %s", pt_slurp(err1));
	CHECK(!strstr(pt_slurp(err2), "warning"), "after 10 s away: %s", pt_slurp(err2));
	pt_stop(pub);
	pt_env_free(&t);
	return 0;
}
