/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A corrupt ring #2 costs the publisher next to nothing: a head the
 * producer never wrote (unaligned) and an overwritten identity are each
 * reported, at most once a second, and then waited on, not spun on: under
 * 10% of a CPU over 2 s each. When the producer publishes again, batches
 * flow. An encoder whose ring is of another ABI version makes the publisher
 * exit with a clear message instead of reading it.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"
#include "ring_layout.h"

static uint8_t rec[1 << 16];

static void send_and_expect(struct pt_env *env, nng_socket s, uint64_t seq)
{
	size_t n = pt_make_batch(rec, sizeof(rec), seq, 2, 3, 10);
	CHECK(pt_put(env->r2, rec, n) == 0);
	nerrf_ring_publish(env->r2);
	nng_msg *m = pt_recv(s, 10000);
	CHECK(m != NULL, "batch %llu did not come through after the ring healed: %s",
	      (unsigned long long)seq, pt_slurp(env->err));
	Nerrf__Trace__EventBatch *eb = pt_decode_batch(m);
	nng_msg_free(m);
	CHECK_EQ_U64(eb->batch_seq, seq);
	nerrf__trace__event_batch__free_unpacked(eb, NULL);
}

static void idle_cost(pid_t pub, const char *what)
{
	double c0 = pt_cpu_seconds(pub);
	usleep(2000 * 1000);
	double used = pt_cpu_seconds(pub) - c0;
	fprintf(stderr, "%s: the publisher used %.3f s of CPU in 2 s\n", what, used);
	CHECK(used < 0.2, "%s: the publisher spun on the corrupt ring (%.3f s of CPU in 2 s)",
	      what, used);
}

int main(void)
{
	struct pt_env env;
	long psz = sysconf(_SC_PAGESIZE);

	pt_env_init(&env, "pub-corrupt-cpu");
	pid_t pub = pt_publisher(env.dir, env.err, NULL);
	nng_socket s = pt_sub(env.url, NERRF_TOPIC_EVENTS);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 2), NULL);
	send_and_expect(&env, s, 1);

	struct ring_hdr *h = mmap(NULL, (size_t)psz, PROT_READ | PROT_WRITE, MAP_SHARED,
				  nerrf_ring_fd(env.r2), 0);
	CHECK(h != MAP_FAILED);
	uint64_t head = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);
	__atomic_store_n(&h->head, head + 4, __ATOMIC_RELEASE);
	idle_cost(pub, "unaligned head");
	__atomic_store_n(&h->head, head, __ATOMIC_RELEASE);
	send_and_expect(&env, s, 2);

	h->generation ^= 0x5a5a;
	idle_cost(pub, "overwritten identity");
	send_and_expect(&env, s, 3); /* the publish puts the identity back */
	int lines = pt_count_lines(env.err, "corrupt");
	CHECK(lines >= 2 && lines <= 6, "%d corruption lines in the publisher's log for two "
	      "corruptions over 4 s (want each reported, at most once a second): %s", lines,
	      pt_slurp(env.err));
	munmap(h, (size_t)psz);
	pt_stop(pub);
	nng_close(s);
	nng_close(st);
	pt_env_free(&env);

	/* An encoder of another ABI version: a clean, clear exit. */
	pt_env_init(&env, "pub-abi");
	h = mmap(NULL, (size_t)psz, PROT_READ | PROT_WRITE, MAP_SHARED, nerrf_ring_fd(env.r2), 0);
	CHECK(h != MAP_FAILED);
	h->version = RING_VERSION + 1;
	pub = pt_publisher(env.dir, env.err, NULL);
	int rc = pt_wait_exit(pub, 10000);
	CHECK(rc > 0, "the publisher kept running on a ring of another ABI version (%d): %s", rc,
	      pt_slurp(env.err));
	CHECK(strstr(pt_slurp(env.err), "another ABI version"), "no clear message: %s",
	      pt_slurp(env.err));
	munmap(h, (size_t)psz);
	pt_env_free(&env);
	return 0;
}
