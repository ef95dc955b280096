/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The publisher confines itself, whoever starts it: every thread, nng's
 * included, runs under its seccomp allowlist with no_new_privs, and it still
 * publishes. Its allowlist refuses what it never does (tests/confine.h); its
 * socket stays behind at exit: a publisher started again on it must replace
 * it and serve.
 */
#include "confine.h"
#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"
#include "sandbox.h"

static void serve_one(struct pt_env *env, uint64_t batch_seq)
{
	static uint8_t rec[1 << 16];
	pid_t pub = pt_publisher(env->dir, env->err, "--start-grace", "0", NULL);
	nng_socket s = pt_sub(env->url, NULL);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(s, 1), NULL);

	int threads = confine_check_status(pub, "nerrf-publisher");
	CHECK(threads > 1, "nerrf-publisher has %d thread(s); nng's should be there too", threads);

	size_t n = pt_make_batch(rec, sizeof(rec), batch_seq, 3, 7, 20);
	CHECK(pt_put(env->r2, rec, n) == 0);
	for (;;) {
		nng_msg *m = pt_recv(s, 5000);
		CHECK(m != NULL, "no batch from the confined publisher: %s", pt_slurp(env->err));
		bool batch = memcmp(nng_msg_body(m), NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0;
		if (batch) {
			Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
			CHECK_EQ_U64(b->batch_seq, batch_seq);
			CHECK_EQ_U64(b->n_events, 3);
			nerrf__trace__event_batch__free_unpacked(b, NULL);
		}
		nng_msg_free(m);
		if (batch)
			break;
	}
	pt_stop(pub);
	nng_close(s);
	CHECK(access(env->url + strlen("ipc://"), F_OK) == 0,
	      "the publisher removed its socket at exit");
}

int main(void)
{
	struct pt_env env;

	pt_env_init(&env, "pub-sandbox");
	serve_one(&env, 1);
	serve_one(&env, 2);
	pt_env_free(&env);

	/* the journal makes segments and removes the oldest */
	confine_check_denied(pub_sandbox, "publisher", 1u << CF_CREAT | 1u << CF_UNLINK);
	return 0;
}
