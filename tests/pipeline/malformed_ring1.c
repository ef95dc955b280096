/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Malformed records written straight into ring #1 (the test is the ring's
 * producer, in the collector's place) are counted and skipped by the real
 * encoder: the valid records around them reach a subscriber of the real
 * publisher, in order, and the loss counters show exactly the malformed
 * ones.
 */
#include "e2e.h"
#include "nerrf_ops.h"
#include "nerrf_time.h"

#define TGID 4711
#define NVALID 6
#define NBAD 6

static uint64_t seq;

static size_t make_event(uint8_t *buf, const char *path)
{
	return e2e_event(buf, NERRF_OP_OPENAT, 0, seq++, TGID, path);
}

static void put(struct nerrf_ring_prod *r, const void *rec, size_t len)
{
	CHECK(pt_put(r, rec, len) == 0, "ring #1 stayed full");
}

int main(void)
{
	struct e2e e = {0};
	static uint8_t rec[8192];
	char path[64], err_enc[PATH_MAX + 16], err_pub[PATH_MAX + 16];
	size_t n;

	e2e_require("the malformed ring #1 record test", false);
	e2e_dirs(&e, "e2e-malformed");
	CHECK(mkdir(e.rundir, 0755) == 0);
	snprintf(err_enc, sizeof(err_enc), "%s/encoder.err", e.dir);
	snprintf(err_pub, sizeof(err_pub), "%s/publisher.err", e.dir);
	struct nerrf_ring_prod *r1;
	struct nerrf_ring_server *srv;
	const char *msg = NULL;
	CHECK(nerrf_ring_create("test-ring1", 1 << 20, &r1, &msg) == 0, "%s", msg);
	CHECK(nerrf_ring_listen(e.rundir, NERRF_RING1_NAME, 0660, r1, &srv, &msg) == 0, "%s", msg);
	CHECK(nerrf_ring_serve_background(srv) == 0);

	char *enc_argv[] = {(char *)e2e_stage("encoder"), "--rundir", e.rundir, NULL};
	char *pub_argv[] = {(char *)e2e_stage("publisher"), "--rundir", e.rundir, "--no-journal",
			    NULL};
	pid_t enc = pt_spawn(enc_argv, err_enc);
	pid_t pub = pt_spawn(pub_argv, err_pub);
	e.sub = pt_sub(e.url, NULL);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(e.sub, 1), NULL);

	for (int i = 0; i < NVALID / 2; i++) {
		snprintf(path, sizeof(path), "/valid/%d", i);
		put(r1, rec, make_event(rec, path));
	}
	/* size in the header differs from the record's length */
	n = make_event(rec, "/bad/size");
	((struct nerrf_rec_hdr *)rec)->size += 8;
	put(r1, rec, n);
	/* unknown record type */
	n = make_event(rec, "/bad/type");
	((struct nerrf_rec_hdr *)rec)->type = 77;
	put(r1, rec, n);
	/* op out of range */
	n = make_event(rec, "/bad/op");
	((struct nerrf_event *)rec)->op = NERRF_OP_MAX + 3;
	put(r1, rec, n);
	/* path without its NUL */
	n = make_event(rec, "/bad/nul");
	rec[n - 1] = 'X';
	put(r1, rec, n);
	/* path length past the record */
	n = make_event(rec, "/bad/len");
	((struct nerrf_event *)rec)->path_len = 4000;
	put(r1, rec, n);
	/* shorter than a record header */
	put(r1, rec, 4);
	for (int i = NVALID / 2; i < NVALID; i++) {
		snprintf(path, sizeof(path), "/valid/%d", i);
		put(r1, rec, make_event(rec, path));
	}

	int got = 0;
	uint64_t malformed = 0, end = nerrf_mono_ms() + 15000;
	while ((got < NVALID || malformed < NBAD) && nerrf_mono_ms() < end) {
		nng_msg *m = pt_recv(e.sub, 500);
		if (!m)
			continue;
		if (memcmp(nng_msg_body(m), NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0) {
			Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
			for (size_t i = 0; i < b->n_events; i++) {
				const Nerrf__Trace__Event *ev = b->events[i];
				CHECK_EQ_U64(ev->pid, TGID);
				snprintf(path, sizeof(path), "/valid/%d", got);
				CHECK_STR(ev->path, path);
				CHECK_STR(ev->syscall, "openat");
				CHECK_EQ_U64(ev->ret_val, 3);
				got++;
			}
			if (b->loss)
				malformed = b->loss->malformed;
			nerrf__trace__event_batch__free_unpacked(b, NULL);
		} else {
			Nerrf__Trace__Stats *st = pt_decode_stats(m);
			if (st->loss)
				malformed = st->loss->malformed;
			nerrf__trace__stats__free_unpacked(st, NULL);
		}
		nng_msg_free(m);
	}
	CHECK(got == NVALID, "received %d of %d valid events: %s", got, NVALID, pt_slurp(err_enc));
	CHECK_EQ_U64(malformed, NBAD);
	CHECK(pt_wait_exit(enc, 0) < 0, "the encoder died: %s", pt_slurp(err_enc));

	pt_stop(pub);
	pt_stop(enc);
	nerrf_ring_prod_close(r1);
	pt_rm_rf(e.dir);
	return 0;
}
