/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Blocking: an idle consumer sleeps and the next publish wakes it with one
 * wake syscall; a publish with nobody asleep makes none; a producer waiting
 * for space is woken by the consumer's publish; timeouts and signals end
 * the waits with -ETIMEDOUT and -EINTR.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include "ring_test.h"

static struct nerrf_ring *prod, *cons;

static uint64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void put(struct nerrf_ring *p, size_t len)
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

static void *late_releaser(void *arg)
{
	size_t len;
	int err;
	(void)arg;
	usleep(100 * 1000);
	CHECK(nerrf_ring_peek(cons, &len, &err) != NULL);
	nerrf_ring_release(cons);
	nerrf_ring_consumer_publish(cons);
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

int main(void)
{
	const char *path = ring_test_file("wait");
	struct nerrf_ring_stats st;
	pthread_t t;
	uint64_t t0;
	size_t len;
	int err;

	prod = open_prod(path, 4096);
	cons = open_cons(path);

	t0 = ms_now();
	CHECK(nerrf_ring_wait(cons, 50) == -ETIMEDOUT);
	CHECK(ms_now() - t0 >= 45, "wait returned before its timeout");
	CHECK(nerrf_ring_wait(cons, 0) == -ETIMEDOUT);

	/* nobody asleep: publishing makes no syscall */
	put(prod, 64);
	nerrf_ring_publish(prod);
	nerrf_ring_get_stats(prod, &st);
	CHECK_EQ_U64(st.wakeups, 0);
	CHECK(nerrf_ring_wait(cons, 0) == 0, "wait on a non-empty ring");
	CHECK(nerrf_ring_peek(cons, &len, &err) && len == 64);
	nerrf_ring_release(cons);

	/* asleep: one publish, one wake */
	CHECK(pthread_create(&t, NULL, late_publisher, NULL) == 0);
	CHECK(nerrf_ring_wait(cons, -1) == 0);
	pthread_join(t, NULL);
	nerrf_ring_get_stats(cons, &st);
	CHECK_EQ_U64(st.wakeups, 1);
	CHECK(nerrf_ring_peek(cons, &len, &err) && len == 64);
	nerrf_ring_release(cons);
	nerrf_ring_consumer_publish(cons);

	/* producer waits for space; the consumer's publish wakes it */
	while (nerrf_ring_reserve(prod, 200))
		nerrf_ring_commit(prod);
	nerrf_ring_publish(prod);
	CHECK(nerrf_ring_wait_space(prod, 200, 20) == -ETIMEDOUT);
	CHECK(pthread_create(&t, NULL, late_releaser, NULL) == 0);
	CHECK(nerrf_ring_wait_space(prod, 200, -1) == 0);
	pthread_join(t, NULL);
	CHECK(nerrf_ring_reserve(prod, 200) != NULL, "wait_space returned without space");
	nerrf_ring_get_stats(prod, &st);
	CHECK_EQ_U64(st.space_wakeups, 1);

	/* a signal ends an endless wait */
	while (nerrf_ring_peek(cons, &len, &err))
		nerrf_ring_release(cons);
	nerrf_ring_consumer_publish(cons);
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	struct itimerval it = { .it_value = { .tv_usec = 100 * 1000 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	CHECK(nerrf_ring_wait(cons, -1) == -EINTR);

	nerrf_ring_close(cons);
	nerrf_ring_close(prod);
	return 0;
}
