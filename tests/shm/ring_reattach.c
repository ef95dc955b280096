/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Either side can go away and come back while the other stays:
 * - a new consumer on the same memory file continues at the published tail
 *   (released-but-unpublished records come again: the documented
 *   at-least-once window), and after a clean close nothing comes twice;
 * - a new producer makes a new ring: what the old one committed but never
 *   published never appears, a consumer that holds the old ring reads it to
 *   its end, and a consumer of the new one starts at its first record,
 *   whatever its capacity.
 */
#include <sys/wait.h>

#include "ring_test.h"

static uint64_t send(struct nerrf_ring_prod *p, uint64_t first, uint64_t count, bool publish)
{
	for (uint64_t n = first; n < first + count; n++) {
		size_t len = 8 + n % 50 * 4;
		void *w = nerrf_ring_reserve(p, len);
		CHECK(w != NULL);
		fill_payload(w, len, n);
		nerrf_ring_commit(p);
	}
	if (publish)
		nerrf_ring_publish(p);
	return first + count;
}

/* Receives records first..first+count-1 (release only, no publish). */
static void expect(struct nerrf_ring_cons *c, uint64_t first, uint64_t count)
{
	for (uint64_t n = first; n < first + count; n++) {
		size_t len;
		int err;
		const void *rd = nerrf_ring_peek(c, &len, &err);
		if (!rd)
			FAIL("record %llu missing (err %d)", (unsigned long long)n, err);
		if (len != 8 + n % 50 * 4 || !check_payload(rd, len, n))
			FAIL("record %llu: wrong length %zu or content", (unsigned long long)n,
			     len);
		nerrf_ring_release(c);
	}
}

static void expect_empty(struct nerrf_ring_cons *c)
{
	size_t len;
	int err;
	CHECK(nerrf_ring_peek(c, &len, &err) == NULL && err == 0, "ring should be empty");
}

int main(void)
{
	struct nerrf_ring_prod *p;
	struct nerrf_ring_cons *c;
	struct nerrf_ring_stats st;
	uint64_t gen, n;
	int status;

	/* consumer restart: released-but-unpublished records come again */
	p = open_prod(8192);
	c = open_cons(p);
	n = send(p, 0, 40, true);
	expect(c, 0, 10);
	nerrf_ring_cons_close(c); /* publishes */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		c = open_cons(p);
		expect(c, 10, 5);
		_exit(0); /* dies without publishing */
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	c = open_cons(p);
	expect(c, 10, 30);
	nerrf_ring_consumer_publish(c);
	nerrf_ring_cons_stats(c, &st);
	CHECK_EQ_U64(st.consumed, 40);
	CHECK_EQ_U64(st.used_bytes, 0);
	nerrf_ring_cons_close(c);
	c = open_cons(p); /* close published: nothing comes twice */
	expect_empty(c);
	for (int i = 0; i < 10; i++) { /* wraps the ring several times */
		n = send(p, n, 10, true);
		expect(c, n - 10, 10);
		nerrf_ring_consumer_publish(c);
	}
	expect_empty(c);
	nerrf_ring_cons_stats(c, &st);
	CHECK_EQ_U64(st.corrupt_resets, 0);
	CHECK_EQ_U64(st.produced, 140);

	/* producer restart: the consumer reads the old ring to its end */
	nerrf_ring_prod_stats(p, &st);
	gen = st.generation;
	n = send(p, n, 30, true);
	send(p, 1000, 5, false); /* committed, never published: must never appear */
	nerrf_ring_prod_close(p);
	expect(c, n - 30, 30);
	expect_empty(c);
	nerrf_ring_consumer_publish(c);
	nerrf_ring_cons_stats(c, &st);
	CHECK_EQ_U64(st.produced, 170);
	CHECK_EQ_U64(st.consumed, 170);
	nerrf_ring_cons_close(c);

	/* ... and the new one from its first record, in another capacity */
	p = open_prod(16384);
	nerrf_ring_prod_stats(p, &st);
	CHECK(st.generation != gen);
	CHECK_EQ_U64(st.produced, 0);
	send(p, 5000, 20, true);
	c = open_cons(p);
	expect(c, 5000, 20);
	expect_empty(c);
	nerrf_ring_consumer_publish(c);
	nerrf_ring_cons_stats(c, &st);
	CHECK_EQ_U64(st.capacity, 16384);
	CHECK_EQ_U64(st.consumed, 20);
	CHECK_EQ_U64(st.corrupt_resets, 0);
	nerrf_ring_cons_close(c);
	nerrf_ring_prod_close(p);
	return 0;
}
