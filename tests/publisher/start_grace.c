/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A publisher that starts with batches already waiting in ring #2 (say,
 * after a restart) holds them until a first subscriber connects, within
 * --start-grace: a subscriber that dials 300 ms late still gets every batch
 * from publisher_seq 1. With --start-grace 0 the same late subscriber gets
 * none of them.
 */
#include "pubtest.h"

static unsigned run(const char *grace)
{
	char *dir = test_tmpdir("pub-grace");
	char url[512], err[600];
	static uint8_t rec[1 << 16];

	snprintf(url, sizeof(url), "ipc://%s/events.sock", dir);
	snprintf(err, sizeof(err), "%s/publisher.err", dir);
	struct nerrf_ring *r2 = pt_ring2(dir, PT_RING2_CAP);
	for (unsigned i = 1; i <= 3; i++) {
		size_t n = pt_make_batch(rec, sizeof(rec), i, 2, 8, 16);
		CHECK(pt_put(r2, rec, n) == 0);
	}
	pid_t pub = pt_publisher(dir, err, "--start-grace", grace, NULL);
	usleep(300 * 1000);
	nng_socket s = pt_sub(url, NERRF_TOPIC_EVENTS);
	unsigned got = 0;
	for (nng_msg *m; (m = pt_recv(s, 2000)); nng_msg_free(m)) {
		Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
		got++;
		CHECK_EQ_U64(b->publisher_seq, got);
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
	pt_stop(pub);
	nng_close(s);
	nerrf_ring_close(r2);
	pt_rm_rf(dir);
	return got;
}

int main(void)
{
	CHECK_EQ_U64(run("5000"), 3);
	CHECK_EQ_U64(run("0"), 0);
	return 0;
}
