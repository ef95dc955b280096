/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stress test with the two sides as threads of one process sharing one
 * mapping, so that ThreadSanitizer sees both and checks the ring's memory
 * ordering: 10 M records (1 M under sanitizers), same accounting as
 * ring_stress.
 */
#include <pthread.h>

#include "ring_layout.h"
#include "stress.h"

static struct nerrf_ring_prod *prod;
static uint64_t total;
static int done;

static bool producer_alive(void)
{
	return !__atomic_load_n(&done, __ATOMIC_ACQUIRE);
}

static void *producer(void *arg)
{
	(void)arg;
	stress_produce(prod, 0, total);
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	return NULL;
}

int main(void)
{
	struct nerrf_ring_cons *c;
	struct stress_result res = { 0 };
	struct nerrf_ring_stats st;
	pthread_t t;

	total = scale_sanitize() ? 1000000 : 10000000;
	prod = open_prod(64 << 10);
	if (nerrf_ring__test_consumer_view(prod, &c) < 0)
		FAIL("nerrf_ring__test_consumer_view failed");
	if (pthread_create(&t, NULL, producer, NULL))
		FAIL("pthread_create failed");
	stress_consume(c, total, &res, producer_alive);
	pthread_join(t, NULL);

	nerrf_ring_cons_stats(c, &st);
	CHECK_EQ_U64(res.delivered + st.dropped, total);
	CHECK_EQ_U64(res.gaps, st.dropped);
	CHECK_EQ_U64(st.produced, res.delivered);
	CHECK_EQ_U64(st.consumed, res.delivered);
	CHECK_EQ_U64(st.corrupt_resets, 0);
	CHECK(st.dropped > 0, "the drop phases dropped nothing: the test lost its point");
	nerrf_ring_cons_close(c);
	nerrf_ring_prod_close(prod);
	return 0;
}
