/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Several listen addresses at once: --listen ipc:// and --listen tcp://
 * serve the same stream; and NERRF_LISTEN (comma-separated) does the same
 * when no --listen is given.
 */
#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"

static void run(const char *dir, const char *ipc, const char *tcp, bool via_env)
{
	char err[600], listen_env[1200];
	static uint8_t rec[1 << 16];

	snprintf(err, sizeof(err), "%s/publisher.err", dir);
	struct nerrf_ring_prod *r2 = pt_ring2(dir, PT_RING2_CAP);
	pid_t pub;
	if (via_env) {
		snprintf(listen_env, sizeof(listen_env), "%s, %s", ipc, tcp);
		setenv("NERRF_LISTEN", listen_env, 1);
		pub = pt_publisher(dir, err, NULL);
		unsetenv("NERRF_LISTEN");
	} else {
		pub = pt_publisher(dir, err, "--listen", ipc, "--listen", tcp, NULL);
	}

	nng_socket a = pt_sub(ipc, NERRF_TOPIC_EVENTS);
	nng_socket b = pt_sub(tcp, NULL);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(b, 2), NULL);

	for (unsigned i = 1; i <= 4; i++) {
		size_t n = pt_make_batch(rec, sizeof(rec), i, 1, 99, 10);
		CHECK(pt_put(r2, rec, n) == 0);
	}
	for (unsigned i = 1; i <= 4; i++) {
		nng_msg *m = pt_recv(a, 5000);
		CHECK(m != NULL, "ipc subscriber got %u of 4", i - 1);
		Nerrf__Trace__EventBatch *eb = pt_decode_batch(m);
		CHECK_EQ_U64(eb->batch_seq, i);
		nerrf__trace__event_batch__free_unpacked(eb, NULL);
		nng_msg_free(m);
	}
	unsigned got = 0;
	for (nng_msg *m; got < 4 && (m = pt_recv_topic(b, NERRF_TOPIC_EVENTS, 5000)); nng_msg_free(m)) {
		Nerrf__Trace__EventBatch *eb = pt_decode_batch(m);
		CHECK_EQ_U64(eb->batch_seq, ++got);
		nerrf__trace__event_batch__free_unpacked(eb, NULL);
	}
	CHECK(got == 4, "tcp subscriber got %u of 4", got);
	pt_stop(pub);
	nng_close(a);
	nng_close(b);
	nerrf_ring_prod_close(r2);
}

int main(void)
{
	char *dir = strdup(test_tmpdir("pub-multi"));
	char ipc[512], tcp[64];

	snprintf(ipc, sizeof(ipc), "ipc://%s/a.sock", dir);
	snprintf(tcp, sizeof(tcp), "tcp://127.0.0.1:%d", pt_free_port());
	run(dir, ipc, tcp, false);

	snprintf(ipc, sizeof(ipc), "ipc://%s/b.sock", dir);
	snprintf(tcp, sizeof(tcp), "tcp://127.0.0.1:%d", pt_free_port());
	run(dir, ipc, tcp, true);

	pt_rm_rf(dir);
	free(dir);
	return 0;
}
