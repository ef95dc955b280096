/* SPDX-License-Identifier: Apache-2.0 */
/*
 * With --journal, every batch a subscriber received is in the journal byte
 * for byte, in order; a restarted publisher continues publisher_seq after
 * the last journaled batch; `nerrf replay` of the directory shows every
 * event; `nerrf tail --from 1` prints them all from the journal, then the
 * live ones, each batch exactly once.
 */
#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"
#include "tjson.h"
#include "nerrf_journal.h"

#define N 150

static uint8_t got[N + 1][4096];
static size_t gotlen[N + 1];


int main(void)
{
	struct pt_env t;
	char jdir[700], rurl[700], out[700], err2[700];
	uint8_t rec[8192];

	pt_env_init(&t, "pub-journal");
	snprintf(jdir, sizeof(jdir), "%s/journal", t.dir);
	snprintf(rurl, sizeof(rurl), "ipc://%s/replay.sock", t.dir);
	pid_t pub = pt_publisher(t.dir, t.err, "--journal", jdir, NULL);
	nng_socket stats = pt_sub(t.url, NERRF_TOPIC_STATS);
	nng_socket ev = pt_sub(t.url, NERRF_TOPIC_EVENTS);
	CHECK(nng_socket_set_int(ev, NNG_OPT_RECVBUF, 1024) == 0); /* all N, however late we read */
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(stats, 2), NULL);

	for (unsigned i = 1; i <= N; i++)
		CHECK(pt_put(t.r2, rec, pt_make_batch(rec, sizeof(rec), i, 1 + i % 5, 7, 40)) == 0);
	for (unsigned i = 1; i <= N; i++) {
		nng_msg *m = pt_recv(ev, 5000);
		CHECK(m != NULL, "batch %u never came", i);
		Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
		CHECK_EQ_U64(b->publisher_seq, i);
		CHECK(nng_msg_len(m) <= sizeof(got[i]));
		memcpy(got[i], nng_msg_body(m), gotlen[i] = nng_msg_len(m));
		nerrf__trace__event_batch__free_unpacked(b, NULL);
		nng_msg_free(m);
	}
	pt_stop(pub);

	/* Byte for byte, in order, every one. */
	int dfd = open(jdir, O_RDONLY | O_DIRECTORY);
	struct nerrf_jseg *v;
	size_t n;
	CHECK(dfd >= 0 && nerrf_journal_list(dfd, &v, &n) == 0 && n == 1);
	int fd = openat(dfd, v[0].name, O_RDONLY);
	struct nerrf_jreader rd;
	struct nerrf_jrec r;
	uint64_t seq = 0;
	nerrf_jreader_init(&rd, fd, 0);
	while (nerrf_jreader_next(&rd, UINT64_MAX, &r) == NERRF_JREAD_RECORD) {
		CHECK_EQ_U64(r.h.seq, ++seq);
		CHECK(r.h.len == gotlen[seq] && memcmp(r.payload, got[seq], r.h.len) == 0,
		      "journal record %llu differs from what the subscriber received",
		      (unsigned long long)seq);
		CHECK_EQ_U64(r.h.first_ns, (1700000000ull + seq) * 1000000000ull);
	}
	CHECK_EQ_U64(seq, N);
	nerrf_jreader_free(&rd);
	close(fd);
	free(v);
	close(dfd);

	/* Offline: every event, as JSON lines. */
	snprintf(out, sizeof(out), "%s/replay.out", t.dir);
	snprintf(err2, sizeof(err2), "%s/replay.err", t.dir);
	char *rargv[] = {(char *)pt_bin("NERRF_CLI"), "replay", "--json", jdir, NULL};
	CHECK(pt_wait_exit(pt_spawn_io(rargv, err2, out), 10000) == 0, "nerrf replay: %s",
	      pt_slurp(err2));
	int events = 0;
	for (unsigned i = 1; i <= N; i++)
		events += 1 + i % 5;
	CHECK(tj_count_file(out, "comm", "pubtest") == events, "nerrf replay printed %d of %d",
	      tj_count_file(out, "comm", "pubtest"), events);

	/* Restarted: continues the journal's numbering. */
	pub = pt_publisher(t.dir, t.err, "--journal", jdir, NULL);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(stats, 2), NULL);
	snprintf(out, sizeof(out), "%s/tail.out", t.dir);
	snprintf(err2, sizeof(err2), "%s/tail.err", t.dir);
	char count[16];
	snprintf(count, sizeof(count), "%d", events + 10);
	char *targv[] = {(char *)pt_bin("NERRF_CLI"), "tail", "--url", t.url, "--replay-url", rurl,
			 "--from", "1", "--json", "--count", count, NULL};
	pid_t tail = pt_spawn_io(targv, err2, out);
	usleep(500000);
	for (unsigned i = N + 1; i <= N + 10; i++)
		CHECK(pt_put(t.r2, rec, pt_make_batch(rec, sizeof(rec), i, 1, 7, 40)) == 0);
	nng_msg *m = pt_recv(ev, 5000);
	CHECK(m != NULL);
	Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
	CHECK_EQ_U64(b->publisher_seq, N + 1);
	nerrf__trace__event_batch__free_unpacked(b, NULL);
	nng_msg_free(m);
	CHECK(pt_wait_exit(tail, 15000) == 0, "nerrf tail --from: %s", pt_slurp(err2));
	CHECK(tj_count_file(out, "comm", "pubtest") == events + 10,
	      "nerrf tail --from 1 printed %d events, want %d", tj_count_file(out, "comm", "pubtest"),
	      events + 10);
	/* Each batch once: batch i's events carry bytes = i * 1000 + k. */
	CHECK(tj_count_file(out, "bytes", "150000") == 1 && tj_count_file(out, "bytes", "151000") == 1,
	      "the hand-over batches once each");
	CHECK(!strstr(pt_slurp(err2), "warning"), "tail: %s", pt_slurp(err2));
	pt_stop(pub);
	pt_env_free(&t);
	return 0;
}
