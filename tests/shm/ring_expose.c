/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf_ring_expose: a committed record is readable at once, before any
 * publish (the collector relies on it to lose nothing when killed between
 * records), without a wake syscall; the publish that follows still wakes a
 * consumer that fell asleep meanwhile, and one with nothing new wakes nobody.
 */
#include <pthread.h>
#include <sys/syscall.h>

#include "ring_test.h"

static struct nerrf_ring_prod *prod;
static struct nerrf_ring_cons *cons;
static pid_t main_tid;

/* Whether the thread sleeps in the kernel (the consumer's futex), not spinning. */
static int asleep(pid_t tid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *st = strrchr(buf, ')');
	return st && st[1] == ' ' && st[2] == 'S';
}

static void put_exposed(uint64_t n)
{
	void *w = nerrf_ring_reserve(prod, 64);
	CHECK(w != NULL);
	fill_payload(w, 64, n);
	nerrf_ring_commit(prod);
	nerrf_ring_expose(prod);
}

static void take(uint64_t n)
{
	size_t len;
	int err;
	const void *p = nerrf_ring_peek(cons, &len, &err);
	CHECK(p && len == 64 && check_payload(p, len, n), "record %llu not readable",
	      (unsigned long long)n);
	nerrf_ring_release(cons);
}

static void *expose_then_publish(void *arg)
{
	(void)arg;
	do
		usleep(20 * 1000);
	while (!asleep(main_tid)); /* past the spin: on the futex */
	put_exposed(3);
	usleep(50 * 1000);
	CHECK(asleep(main_tid), "expose woke the consumer: only publish may");
	nerrf_ring_publish(prod);
	return NULL;
}

int main(void)
{
	struct nerrf_ring_stats st;
	size_t len;
	int err;
	pthread_t t;

	main_tid = (pid_t)syscall(SYS_gettid);
	prod = open_prod(4096);
	cons = open_cons(prod);

	/* visible without publish, and counted as produced */
	put_exposed(1);
	put_exposed(2);
	take(1);
	take(2);
	CHECK(nerrf_ring_peek(cons, &len, &err) == NULL);
	nerrf_ring_consumer_publish(cons);
	nerrf_ring_cons_stats(cons, &st);
	CHECK_EQ_U64(st.produced, 2);
	nerrf_ring_prod_stats(prod, &st);
	CHECK_EQ_U64(st.wakeups, 0);

	/* a sleeper: expose alone leaves it asleep, the publish after wakes it once */
	CHECK(pthread_create(&t, NULL, expose_then_publish, NULL) == 0);
	CHECK(nerrf_ring_wait(cons, -1) == 0);
	pthread_join(t, NULL);
	take(3);
	nerrf_ring_consumer_publish(cons);
	nerrf_ring_prod_stats(prod, &st);
	CHECK_EQ_U64(st.wakeups, 1);

	/* a publish with nothing new since wakes nobody */
	nerrf_ring_publish(prod);
	nerrf_ring_prod_stats(prod, &st);
	CHECK_EQ_U64(st.wakeups, 1);

	nerrf_ring_cons_close(cons);
	nerrf_ring_prod_close(prod);
	return 0;
}
