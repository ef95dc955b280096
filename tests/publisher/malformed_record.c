/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ring #2 records with a bad header (too short, unknown kind, length past
 * the record) are skipped and reported once; the batches around them are
 * published in order and nothing is counted as a published batch for them.
 */
#include "pubtest.h"

static void put_raw(struct nerrf_ring *r2, uint32_t kind, uint32_t len, size_t reclen)
{
	uint8_t rec[256] = {0};
	struct nerrf_r2_hdr h = {.kind = kind, .len = len};
	memcpy(rec, &h, reclen < sizeof(h) ? reclen : sizeof(h));
	CHECK(pt_put(r2, rec, reclen) == 0);
}

int main(void)
{
	struct pt_env env;
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "pub-malformed");
	pid_t pub = pt_publisher(env.dir, env.err, NULL);
	nng_socket s = pt_sub(env.url, NERRF_TOPIC_EVENTS);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 2), NULL);

	size_t n = pt_make_batch(rec, sizeof(rec), 1, 2, 3, 10);
	CHECK(pt_put(env.r2, rec, n) == 0);
	put_raw(env.r2, NERRF_R2_BATCH, 0, 8);		     /* shorter than the header */
	put_raw(env.r2, 99, 8, sizeof(struct nerrf_r2_hdr) + 8); /* unknown kind */
	put_raw(env.r2, NERRF_R2_BATCH, 1000, sizeof(struct nerrf_r2_hdr) + 8); /* len past the end */
	n = pt_make_batch(rec, sizeof(rec), 2, 2, 3, 10);
	CHECK(pt_put(env.r2, rec, n) == 0);

	for (uint64_t i = 1; i <= 2; i++) {
		nng_msg *m = pt_recv(s, 5000);
		CHECK(m != NULL, "batch %llu missing", (unsigned long long)i);
		Nerrf__Trace__EventBatch *eb = pt_decode_batch(m);
		CHECK_EQ_U64(eb->batch_seq, i);
		CHECK_EQ_U64(eb->publisher_seq, i);
		nerrf__trace__event_batch__free_unpacked(eb, NULL);
		nng_msg_free(m);
	}
	CHECK(pt_recv(s, 1000) == NULL, "a malformed record was published");
	CHECK(pt_wait_exit(pub, 0) < 0, "publisher died on a malformed record");
	pt_stop(pub);
	CHECK(strstr(pt_slurp(env.err), "malformed ring #2 record") != NULL, "reported: %s",
	      pt_slurp(env.err));

	nng_close(s);
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
