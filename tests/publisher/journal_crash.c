/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kill -9 of a journaling publisher under load, then a restart: the journal
 * reopens clean (every record whole, checksummed, publisher_seq rising, none
 * twice), publisher_seq continues after the last record kept, every batch
 * a live subscriber received before the kill is in the journal with the same
 * bytes, and `nerrf replay --json` of the directory shows each batch once,
 * but those ring #2 delivers again to the restarted publisher.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <zlib.h>

#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"
#include "tjson.h"
#include "nerrf_journal.h"

#define MAXSEQ 400000

static struct pt_env t;
static atomic_bool feeding = true;
static atomic_uint_fast64_t fed;
/* Pre-kill, by publisher_seq: the crc32 of the message a live subscriber got, +1 (0: none). */
static uint64_t live_crc[MAXSEQ];
static uint8_t in_journal[MAXSEQ];
/* By batch_seq (the feeder's): 1 journaled before the restart, 2 after, 3 both. */
static uint8_t batch_where[MAXSEQ];

/*
 * Bursts of 256 as fast as the publisher takes them, so that the kill finds it
 * mid-pass, 5 ms apart, so that however fast the publisher, the run stays
 * well under MAXSEQ batches (publisher_seq counts the ones delivered again,
 * too). Batches of two events, bytes = batch_seq * 1000 + i: one a line in
 * the JSON, named by it.
 */
static void *feed(void *arg)
{
	static uint8_t rec[4096];
	(void)arg;
	for (uint64_t i = 1; atomic_load(&feeding) && i < MAXSEQ / 2; i++) {
		if (i % 256 == 0)
			usleep(5000);
		size_t len = pt_make_batch(rec, sizeof(rec), i, 2, 7, 40);
		while (atomic_load(&feeding) && pt_put(t.r2, rec, len) != 0)
			; /* the publisher is dead for a moment: ring #2 waits for it */
		atomic_store(&fed, i);
	}
	return NULL;
}

/* Receives for ms milliseconds, noting each batch; returns the highest publisher_seq. */
static uint64_t receive(nng_socket ev, int ms, uint64_t *first, uint64_t *jdropped)
{
	uint64_t end = nerrf_mono_ms() + (uint64_t)ms, hi = 0;
	nng_msg *m;
	/* After a restart, wait for the first batch however slow the start. */
	while (nerrf_mono_ms() < end && (m = pt_recv(ev, first && !*first ? 10000 : 200))) {
		Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
		CHECK(b->publisher_seq > 0 && b->publisher_seq < MAXSEQ, "publisher_seq %llu",
		      (unsigned long long)b->publisher_seq);
		if (first && !*first)
			*first = b->publisher_seq;
		if (!first)
			live_crc[b->publisher_seq] =
				1 + crc32(0, nng_msg_body(m), (uInt)nng_msg_len(m));
		if (b->journal_dropped > *jdropped)
			*jdropped = b->journal_dropped;
		hi = b->publisher_seq > hi ? b->publisher_seq : hi;
		nerrf__trace__event_batch__free_unpacked(b, NULL);
		nng_msg_free(m);
	}
	return hi;
}


/*
 * Every record of the journal in order, to each(); a torn tail of the last
 * segment is allowed where torn_ok (what the kill may leave). The last seq.
 */
static uint64_t walk(const char *jdir, bool torn_ok, void (*each)(const struct nerrf_jrec *))
{
	int dfd = open(jdir, O_RDONLY | O_DIRECTORY);
	struct nerrf_jseg *v;
	size_t n;
	uint64_t last = 0;
	CHECK(dfd >= 0 && nerrf_journal_list(dfd, &v, &n) == 0 && n >= 1);
	for (size_t i = 0; i < n; i++) {
		int fd = openat(dfd, v[i].name, O_RDONLY);
		struct nerrf_jreader rd;
		struct nerrf_jrec r;
		int rv;
		nerrf_jreader_init(&rd, fd, 0);
		while ((rv = nerrf_jreader_next(&rd, UINT64_MAX, &r)) == NERRF_JREAD_RECORD) {
			last = r.h.seq;
			if (each)
				each(&r);
		}
		CHECK(rv == NERRF_JREAD_END || (torn_ok && rv == NERRF_JREAD_TORN && i + 1 == n),
		      "segment %s: %d %s", v[i].name, rv, rd.why);
		nerrf_jreader_free(&rd);
		close(fd);
	}
	free(v);
	close(dfd);
	return last;
}

/* The restarted publisher's first publisher_seq, as the journal before it tells. */
static uint64_t boundary;
static uint64_t prev, kept_before, records, first_after;

/* Whole and rising; the ones before the restart are what subscribers got. */
static void check_record(const struct nerrf_jrec *r)
{
	CHECK(r->h.seq > prev && r->h.seq < MAXSEQ, "record %llu after %llu",
	      (unsigned long long)r->h.seq, (unsigned long long)prev);
	prev = r->h.seq;
	records++;
	Nerrf__Trace__EventBatch *b = nerrf__trace__event_batch__unpack(
		NULL, r->h.len - NERRF_TOPIC_LEN, r->payload + NERRF_TOPIC_LEN);
	CHECK(b && b->batch_seq < MAXSEQ, "record %llu does not decode",
	      (unsigned long long)r->h.seq);
	uint8_t here = r->h.seq >= boundary ? 2 : 1;
	CHECK(!(batch_where[b->batch_seq] & here), "batch_seq %llu journaled twice by one publisher",
	      (unsigned long long)b->batch_seq);
	batch_where[b->batch_seq] |= here;
	nerrf__trace__event_batch__free_unpacked(b, NULL);
	if (r->h.seq >= boundary) {
		if (!first_after)
			first_after = r->h.seq;
		return;
	}
	kept_before = r->h.seq;
	in_journal[r->h.seq] = 1;
	CHECK(!live_crc[r->h.seq] || live_crc[r->h.seq] == 1 + crc32(0, r->payload, r->h.len),
	      "journal record %llu is not the batch the subscriber received",
	      (unsigned long long)r->h.seq);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

int main(void)
{
	char jdir[700], out[700], err2[700];
	uint64_t jdropped = 0, after = 0;
	pthread_t th;

	pt_env_init(&t, "pub-jcrash");
	snprintf(jdir, sizeof(jdir), "%s/journal", t.dir);
	pid_t pub = pt_publisher(t.dir, t.err, "--journal", jdir, NULL);
	nng_socket stats = pt_sub(t.url, NERRF_TOPIC_STATS);
	nng_socket ev = pt_sub(t.url, NERRF_TOPIC_EVENTS);
	CHECK(nng_socket_set_int(ev, NNG_OPT_RECVBUF, 8192) == 0);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(stats, 2), NULL);

	CHECK(pthread_create(&th, NULL, feed, NULL) == 0);
	uint64_t hi = receive(ev, 1500, NULL, &jdropped);
	CHECK(hi > 1000, "only %llu batches published before the kill", (unsigned long long)hi);
	CHECK(kill(pub, SIGKILL) == 0);
	CHECK(pt_wait_exit(pub, 5000) == 128 + SIGKILL);
	/* What was sent before the kill and is still on its way. */
	uint64_t h2 = receive(ev, 500, NULL, &jdropped);
	hi = h2 > hi ? h2 : hi;

	/* Before any restart: clean, or a torn last record at most. */
	snprintf(out, sizeof(out), "%s/replay0.out", t.dir);
	snprintf(err2, sizeof(err2), "%s/replay0.err", t.dir);
	char *r0argv[] = {(char *)pt_bin("NERRF_CLI"), "replay", "--json", jdir, NULL};
	int rc = pt_wait_exit(pt_spawn_io(r0argv, err2, out), 30000);
	CHECK(rc == 0 || (rc == 1 && strstr(pt_slurp(err2), "a torn tail is what a crash leaves") &&
			  !strstr(pt_slurp(err2), "checksum")),
	      "nerrf replay after the kill: status %d: %s", rc, pt_slurp(err2));

	/*
	 * Who wrote a record is told by the journal, not by a subscriber: the
	 * restarted publisher may send its first batches before our sockets
	 * have reconnected to it.
	 */
	boundary = walk(jdir, true, NULL) + 1;

	char err_restart[700];
	snprintf(err_restart, sizeof(err_restart), "%s/publisher2.err", t.dir);
	/* A new stats socket: the old one holds the dead publisher's reports. */
	nng_close(stats);
	stats = pt_sub(t.url, NERRF_TOPIC_STATS);
	pub = pt_publisher(t.dir, err_restart, "--journal", jdir, NULL);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(stats, 2), NULL);
	/* a restarted publisher reopens and checks its journal first: slower under sanitizers */
	receive(ev, scale_sanitize() ? 15000 : 1000, &after, &jdropped);
	CHECK(after > 0, "no batch after the restart (%llu fed); the restarted publisher said: %s",
	      (unsigned long long)atomic_load(&fed), pt_slurp(err_restart));
	atomic_store(&feeding, false);
	CHECK(pthread_join(th, NULL) == 0);
	pt_stop(pub);

	walk(jdir, false, check_record);
	/* publisher_seq continues after the last record kept, and subscribers see it. */
	CHECK_EQ_U64(kept_before + 1, boundary);
	CHECK_EQ_U64(first_after, boundary);
	CHECK(after >= boundary, "a subscriber got publisher_seq %llu after the restart, "
	      "the journal kept to %llu before it", (unsigned long long)after,
	      (unsigned long long)kept_before);

	/* Seen live before the kill, not in the journal: only what journal_dropped counts. */
	uint64_t missing = 0, first_missing = 0;
	for (uint64_t s = 1; s <= hi; s++)
		if (live_crc[s] && !in_journal[s] && !missing++)
			first_missing = s;
	CHECK(missing <= jdropped,
	      "%llu batches a subscriber received before the kill (first %llu, last live %llu, "
	      "journal kept to %llu) are not in the journal, journal_dropped says %llu",
	      (unsigned long long)missing, (unsigned long long)first_missing,
	      (unsigned long long)hi, (unsigned long long)kept_before,
	      (unsigned long long)jdropped);

	/* Offline: clean, and each batch once (two event lines a batch, distinct bytes). */
	snprintf(out, sizeof(out), "%s/replay.out", t.dir);
	snprintf(err2, sizeof(err2), "%s/replay.err", t.dir);
	char *rargv[] = {(char *)pt_bin("NERRF_CLI"), "replay", "--json", jdir, NULL};
	CHECK(pt_wait_exit(pt_spawn_io(rargv, err2, out), 30000) == 0, "nerrf replay: %s",
	      pt_slurp(err2));
	json_object *lines = tj_file_lines(out);
	size_t nl = json_object_array_length(lines);
	CHECK(tj_count_file(out, "comm", "pubtest") == (int)(2 * records) && nl == 2 * records,
	      "nerrf replay printed %zu events, the journal holds %llu batches of 2", nl,
	      (unsigned long long)records);
	/*
	 * Delivery from ring #2 is at-least-once across a publisher crash
	 * (docs/PROTOCOL.md): the batches the dead publisher had sent but not
	 * released come again from its successor, same batch_seq, a new
	 * publisher_seq. Those, and nothing else, may be there twice.
	 */
	uint64_t again = 0;
	for (uint64_t b = 1; b < MAXSEQ; b++)
		again += batch_where[b] == 3;
	static uint8_t one[4096];
	size_t reclen = pt_make_batch(one, sizeof(one), MAXSEQ - 1, 2, 7, 40);
	CHECK(again * reclen <= PT_RING2_CAP,
	      "%llu batches journaled by both publishers: more than ring #2 holds",
	      (unsigned long long)again);
	uint64_t *bytes = calloc(nl + 1, sizeof(*bytes)), dups = 0;
	CHECK(bytes != NULL);
	for (size_t i = 0; i < nl; i++)
		bytes[i] = strtoull(tj_get(tj_line(lines, i), "bytes"), NULL, 10);
	qsort(bytes, nl, sizeof(*bytes), cmp_u64);
	for (size_t i = 1; i < nl; i++)
		dups += bytes[i] == bytes[i - 1] && (i < 2 || bytes[i - 1] != bytes[i - 2]);
	CHECK(dups == 2 * again,
	      "%llu event lines twice in nerrf replay, want those of the %llu batches sent again",
	      (unsigned long long)dups, (unsigned long long)again);
	free(bytes);
	json_object_put(lines);

	fprintf(stderr, "live to %llu before the kill, journal kept to %llu, %llu records, "
		"journal_dropped %llu, %llu batches sent again after the restart\n",
		(unsigned long long)hi, (unsigned long long)kept_before,
		(unsigned long long)records, (unsigned long long)jdropped, (unsigned long long)again);
	pt_env_free(&t);
	return 0;
}
