/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Blocking: an idle consumer sleeps and the next publish wakes it with one
 * wake syscall; a publish with nobody asleep makes none; a producer waiting
 * for space goes on as soon as its record fits, but the consumer spends a
 * wake syscall on it only once half the ring is free; timeouts and signals
 * end the waits with -ETIMEDOUT and -EINTR.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include "ring_test.h"
#include "nerrf_time.h"

static struct nerrf_ring_prod *prod;
static struct nerrf_ring_cons *cons;

static void put(struct nerrf_ring_prod *p, size_t len)
{
	void *w = nerrf_ring_reserve(p, len);
	CHECK(w != NULL);
	memset(w, 0xab, len);
	nerrf_ring_commit(p);
}

static void *late_publisher(void *arg)
{
	(void)arg;
	usleep(100 * 1000); /* long past the spin: the consumer is on the futex */
	put(prod, 64);
	nerrf_ring_publish(prod);
	return NULL;
}

/* Releases records until arg bytes (0: one record) are free, then publishes. */
static void *late_releaser(void *arg)
{
	size_t len, want = (size_t)(uintptr_t)arg, freed = 0;
	int err;
	usleep(100 * 1000); /* long past the spin: the producer is on the futex */
	do {
		CHECK(nerrf_ring_peek(cons, &len, &err) != NULL);
		nerrf_ring_release(cons);
		freed += len + 8;
	} while (freed < want);
	nerrf_ring_consumer_publish(cons);
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

int main(void)
{
	struct nerrf_ring_stats st;
	pthread_t t;
	uint64_t t0;
	size_t len;
	int err;

	prod = open_prod(4096);
	cons = open_cons(prod);

	t0 = nerrf_mono_ms();
	CHECK(nerrf_ring_wait(cons, 50) == -ETIMEDOUT);
	CHECK(nerrf_mono_ms() - t0 >= 45, "wait returned before its timeout");
	CHECK(nerrf_ring_wait(cons, 0) == -ETIMEDOUT);

	/* nobody asleep: publishing makes no syscall */
	put(prod, 64);
	nerrf_ring_publish(prod);
	nerrf_ring_prod_stats(prod, &st);
	CHECK_EQ_U64(st.wakeups, 0);
	CHECK(nerrf_ring_wait(cons, 0) == 0, "wait on a non-empty ring");
	CHECK(nerrf_ring_peek(cons, &len, &err) && len == 64);
	nerrf_ring_release(cons);

	/* asleep: one publish, one wake */
	CHECK(pthread_create(&t, NULL, late_publisher, NULL) == 0);
	CHECK(nerrf_ring_wait(cons, -1) == 0);
	pthread_join(t, NULL);
	nerrf_ring_cons_stats(cons, &st);
	CHECK_EQ_U64(st.wakeups, 1);
	CHECK(nerrf_ring_peek(cons, &len, &err) && len == 64);
	nerrf_ring_release(cons);
	nerrf_ring_consumer_publish(cons);

	/* one record freed: the producer sees it on its own, no wake syscall */
	while (nerrf_ring_reserve(prod, 200))
		nerrf_ring_commit(prod);
	nerrf_ring_publish(prod);
	CHECK(nerrf_ring_wait_space(prod, 200, 20) == -ETIMEDOUT);
	CHECK(pthread_create(&t, NULL, late_releaser, NULL) == 0);
	CHECK(nerrf_ring_wait_space(prod, 200, -1) == 0);
	pthread_join(t, NULL);
	CHECK(nerrf_ring_reserve(prod, 200) != NULL, "wait_space returned without space");
	nerrf_ring_commit(prod);
	nerrf_ring_publish(prod);
	nerrf_ring_prod_stats(prod, &st);
	CHECK_EQ_U64(st.space_wakeups, 0);

	/*
	 * Half the ring freed: the consumer's publish wakes it. The producer's
	 * own 1 ms re-check can beat the wake by a hair, so ask for 4 of 5.
	 */
	for (int i = 0; i < 5; i++) {
		while (nerrf_ring_reserve(prod, 200))
			nerrf_ring_commit(prod);
		nerrf_ring_publish(prod);
		CHECK(pthread_create(&t, NULL, late_releaser,
				     (void *)(uintptr_t)(st.capacity / 2)) == 0);
		CHECK(nerrf_ring_wait_space(prod, 200, -1) == 0);
		pthread_join(t, NULL);
		CHECK(nerrf_ring_reserve(prod, 200) != NULL, "wait_space returned without space");
		nerrf_ring_commit(prod);
		nerrf_ring_publish(prod);
	}
	nerrf_ring_prod_stats(prod, &st);
	CHECK(st.space_wakeups >= 4 && st.space_wakeups <= 5, "%llu wakes for 5 waits",
	      (unsigned long long)st.space_wakeups);

	/* a signal ends an endless wait */
	while (nerrf_ring_peek(cons, &len, &err))
		nerrf_ring_release(cons);
	nerrf_ring_consumer_publish(cons);
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	struct itimerval it = { .it_value = { .tv_usec = 100 * 1000 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	CHECK(nerrf_ring_wait(cons, -1) == -EINTR);

	nerrf_ring_cons_close(cons);
	nerrf_ring_prod_close(prod);
	return 0;
}
