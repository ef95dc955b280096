/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A publisher that starts with batches already waiting in ring #2 (say,
 * after a restart) holds them until a first subscriber connects, within
 * --start-grace: a subscriber that dials 300 ms late still gets every batch
 * from publisher_seq 1. With --start-grace 0 the same late subscriber gets
 * none of them.
 */
#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"

static unsigned run(const char *grace)
{
	struct pt_env env;
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "pub-grace");
	for (unsigned i = 1; i <= 3; i++) {
		size_t n = pt_make_batch(rec, sizeof(rec), i, 2, 8, 16);
		CHECK(pt_put(env.r2, rec, n) == 0);
	}
	pid_t pub = pt_publisher(env.dir, env.err, "--start-grace", grace, NULL);
	usleep(300 * 1000);
	nng_socket s = pt_sub(env.url, NERRF_TOPIC_EVENTS);
	unsigned got = 0;
	for (nng_msg *m; (m = pt_recv(s, 2000)); nng_msg_free(m)) {
		Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
		got++;
		CHECK_EQ_U64(b->publisher_seq, got);
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
	pt_stop(pub);
	nng_close(s);
	pt_env_free(&env);
	return got;
}

int main(void)
{
	CHECK_EQ_U64(run("5000"), 3);
	CHECK_EQ_U64(run("0"), 0);
	return 0;
}
