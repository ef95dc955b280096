/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ring #2 records with a bad header (too short, unknown kind, length past
 * the record) are skipped and reported once; the batches around them are
 * published in order and nothing is counted as a published batch for them.
 * They are counted in ring2_malformed, as is ring #2 corruption in
 * ring2_corrupt_resets/bytes, in every batch and Stats, and nerrf tail and
 * nerrf stats show them.
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"
#include "ring_layout.h"

static void put_raw(struct nerrf_ring_prod *r2, uint32_t kind, uint32_t len, size_t reclen)
{
	uint8_t rec[256] = {0};
	struct nerrf_r2_hdr h = {.kind = kind, .len = len};
	memcpy(rec, &h, reclen < sizeof(h) ? reclen : sizeof(h));
	CHECK(pt_put(r2, rec, reclen) == 0);
}

static Nerrf__Trace__EventBatch *next_batch(nng_socket s, uint64_t seq)
{
	nng_msg *m = pt_recv(s, 5000);
	CHECK(m != NULL, "batch %llu missing", (unsigned long long)seq);
	Nerrf__Trace__EventBatch *eb = pt_decode_batch(m);
	nng_msg_free(m);
	CHECK_EQ_U64(eb->batch_seq, seq);
	CHECK_EQ_U64(eb->publisher_seq, seq);
	return eb;
}

/* Corruption as a resync counts it, in the ring's shared header. */
static void count_corruption(struct nerrf_ring_prod *r2, uint64_t resets, uint64_t bytes)
{
	struct ring_hdr *h = mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE, MAP_SHARED,
				  nerrf_ring_fd(r2), 0);
	CHECK(h != MAP_FAILED);
	__atomic_fetch_add(&h->corrupt_resets, resets, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->corrupt_bytes, bytes, __ATOMIC_RELAXED);
	munmap(h, sizeof(*h));
}

int main(void)
{
	struct pt_env env;
	static uint8_t rec[1 << 16];
	char tout[600], terr[600], sout[600], serr[600];

	pt_env_init(&env, "pub-malformed");
	snprintf(tout, sizeof(tout), "%s/tail.out", env.dir);
	snprintf(terr, sizeof(terr), "%s/tail.err", env.dir);
	snprintf(sout, sizeof(sout), "%s/stats.out", env.dir);
	snprintf(serr, sizeof(serr), "%s/stats.err", env.dir);
	pid_t pub = pt_publisher(env.dir, env.err, NULL);
	nng_socket s = pt_sub(env.url, NERRF_TOPIC_EVENTS);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	char *targv[] = {(char *)pt_bin("NERRF_CLI"), "tail", "--url", env.url, "--json",
			 "--count", "6", NULL};
	pid_t tail = pt_spawn_io(targv, terr, tout);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 3), NULL);

	size_t n = pt_make_batch(rec, sizeof(rec), 1, 2, 3, 10);
	CHECK(pt_put(env.r2, rec, n) == 0);
	put_raw(env.r2, NERRF_R2_BATCH, 0, 8);		     /* shorter than the header */
	put_raw(env.r2, 99, 8, sizeof(struct nerrf_r2_hdr) + 8); /* unknown kind */
	put_raw(env.r2, NERRF_R2_BATCH, 1000, sizeof(struct nerrf_r2_hdr) + 8); /* len past the end */
	n = pt_make_batch(rec, sizeof(rec), 2, 2, 3, 10);
	CHECK(pt_put(env.r2, rec, n) == 0);

	Nerrf__Trace__EventBatch *eb = next_batch(s, 1);
	CHECK_EQ_U64(eb->ring2_malformed, 0);
	nerrf__trace__event_batch__free_unpacked(eb, NULL);
	eb = next_batch(s, 2);
	CHECK_EQ_U64(eb->ring2_malformed, 3);
	CHECK_EQ_U64(eb->ring2_corrupt_resets, 0);
	nerrf__trace__event_batch__free_unpacked(eb, NULL);
	CHECK(pt_recv(s, 1000) == NULL, "a malformed record was published");
	CHECK(pt_wait_exit(pub, 0) < 0, "publisher died on a malformed record");

	count_corruption(env.r2, 2, 100);
	n = pt_make_batch(rec, sizeof(rec), 3, 2, 3, 10);
	CHECK(pt_put(env.r2, rec, n) == 0);
	eb = next_batch(s, 3);
	CHECK_EQ_U64(eb->ring2_malformed, 3);
	CHECK_EQ_U64(eb->ring2_corrupt_resets, 2);
	CHECK_EQ_U64(eb->ring2_corrupt_bytes, 100);
	nerrf__trace__event_batch__free_unpacked(eb, NULL);

	/* The publisher's own Stats (the encoder is silent) carry them too. */
	bool seen = false;
	for (uint64_t end = nerrf_mono_ms() + 5000; !seen && nerrf_mono_ms() < end;) {
		nng_msg *m = pt_recv(st, 1000);
		if (!m)
			continue;
		Nerrf__Trace__Stats *sts = pt_decode_stats(m);
		nng_msg_free(m);
		seen = sts->ring2_malformed == 3 && sts->ring2_corrupt_resets == 2 &&
		       sts->ring2_corrupt_bytes == 100;
		nerrf__trace__stats__free_unpacked(sts, NULL);
	}
	CHECK(seen, "no Stats with ring2_malformed 3, ring2_corrupt_resets 2, bytes 100");

	CHECK(pt_wait_exit(tail, 10000) == 0, "tail --count 6: %s", pt_slurp(terr));
	const char *e = pt_slurp(terr);
	CHECK(strstr(e, "warning: the publisher could not read events from ring #2: 3 more "
			"malformed records, 0 more resynchronisations after corruption (0 bytes)") !=
		      NULL,
	      "tail: %s", e);
	CHECK(strstr(e, "0 more malformed records, 2 more resynchronisations after corruption "
			"(100 bytes)") != NULL,
	      "tail: %s", e);

	char *sargv[] = {(char *)pt_bin("NERRF_CLI"), "stats", "--url", env.url, "--once", NULL};
	pid_t sp = pt_spawn_io(sargv, serr, sout);
	/* no encoder runs here (the test feeds ring #2): --once says so and exits 5 */
	CHECK(pt_wait_exit(sp, 10000) == 5, "nerrf stats --once: %s", pt_slurp(serr));
	CHECK(strstr(pt_slurp(serr), "encoder=silent") != NULL, "%s", pt_slurp(serr));
	const char *o = pt_slurp(sout);
	CHECK(strstr(o, "  ring2      malformed                           3 ") != NULL, "%s", o);
	CHECK(strstr(o, "  ring2      corrupt_resets                      2 ") != NULL, "%s", o);
	CHECK(strstr(o, "  ring2      corrupt_bytes                     100 ") != NULL, "%s", o);

	pt_stop(pub);
	CHECK(strstr(pt_slurp(env.err), "malformed ring #2 record") != NULL, "reported: %s",
	      pt_slurp(env.err));

	nng_close(s);
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
