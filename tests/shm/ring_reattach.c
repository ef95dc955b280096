/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Either side can go away and come back while the other stays attached:
 * - a new producer on a valid ring keeps its generation and continues at the
 *   published head (records it never published are gone, never half-seen);
 * - a new consumer continues at the published tail (released-but-unpublished
 *   records come again: the documented at-least-once window);
 * - a producer asking for another capacity replaces the ring, and a consumer
 *   still attached to the old one follows to the new one (counted reset);
 * - a producer finding a header it cannot trust re-initialises it with a new
 *   generation, and the consumer follows;
 * - a producer that died half-way through a publish leaves a record count
 *   ahead of its head; the next producer's records are still accepted.
 */
#include <fcntl.h>
#include <sys/wait.h>

#include "ring_layout.h"
#include "ring_test.h"

static uint64_t send(struct nerrf_ring *p, uint64_t first, uint64_t count, bool publish)
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
static void expect(struct nerrf_ring *c, uint64_t first, uint64_t count)
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

static void expect_empty(struct nerrf_ring *c)
{
	size_t len;
	int err;
	CHECK(nerrf_ring_peek(c, &len, &err) == NULL && err == 0, "ring should be empty");
}

int main(void)
{
	const char *path = ring_test_file("reattach");
	struct nerrf_ring *p, *c;
	struct nerrf_ring_stats st;
	uint64_t gen, n;

	/* producer restart */
	p = open_prod(path, 8192);
	c = open_cons(path);
	nerrf_ring_get_stats(p, &st);
	gen = st.generation;
	n = send(p, 0, 30, true);
	send(p, 1000, 5, false); /* committed, never published: must never appear */
	nerrf_ring_close(p);
	expect(c, 0, 10);
	p = open_prod(path, 8192);
	nerrf_ring_get_stats(p, &st);
	CHECK_EQ_U64(st.generation, gen);
	CHECK_EQ_U64(st.produced, 30);
	expect(c, 10, 20);
	nerrf_ring_consumer_publish(c);
	for (int i = 0; i < 10; i++) { /* wraps the ring several times */
		n = send(p, n, 10, true);
		expect(c, n - 10, 10);
		nerrf_ring_consumer_publish(c);
	}
	expect_empty(c);
	nerrf_ring_get_stats(c, &st);
	CHECK_EQ_U64(st.corrupt_resets, 0);
	CHECK_EQ_U64(st.produced, 130);

	/* consumer restart: released-but-unpublished records come again */
	n = send(p, n, 40, true);
	expect(c, 130, 10);
	nerrf_ring_close(c); /* publishes */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		c = open_cons(path);
		expect(c, 140, 5);
		_exit(0); /* dies without publishing */
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	c = open_cons(path);
	expect(c, 140, 30);
	nerrf_ring_consumer_publish(c);
	nerrf_ring_get_stats(c, &st);
	CHECK_EQ_U64(st.consumed, 170);
	CHECK_EQ_U64(st.used_bytes, 0);
	nerrf_ring_close(c);
	c = open_cons(path); /* close published: nothing comes twice */
	expect_empty(c);

	/* capacity change: replaced file, the attached consumer follows */
	nerrf_ring_close(p);
	p = open_prod(path, 16384);
	CHECK_EQ_U64(nerrf_ring_capacity(p), 16384);
	nerrf_ring_get_stats(p, &st);
	CHECK(st.generation != gen);
	gen = st.generation;
	CHECK_EQ_U64(st.produced, 0);
	send(p, 5000, 20, true);
	expect(c, 5000, 20);
	CHECK_EQ_U64(nerrf_ring_capacity(c), 16384);
	nerrf_ring_consumer_publish(c);
	nerrf_ring_get_stats(c, &st);
	CHECK_EQ_U64(st.generation, gen);
	CHECK_EQ_U64(st.corrupt_resets, 1);
	CHECK_EQ_U64(st.consumed, 20);

	/* a header the producer cannot trust: re-initialised in place */
	nerrf_ring_close(p);
	uint64_t junk = 0x0123456789abcdefULL;
	int fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	CHECK(pwrite(fd, &junk, sizeof(junk), offsetof(struct ring_hdr, magic)) == 8);
	close(fd);
	p = open_prod(path, 16384);
	nerrf_ring_get_stats(p, &st);
	CHECK(st.generation != gen);
	CHECK_EQ_U64(st.produced, 0);
	send(p, 7000, 20, true);
	expect(c, 7000, 20);
	expect_empty(c);

	/*
	 * A producer killed between its two publish stores (record count, then
	 * head) leaves a count ahead of the head. Its successor numbers from
	 * that count; the consumer takes the jump without calling it corruption.
	 */
	nerrf_ring_close(p);
	uint64_t produced;
	fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	CHECK(pread(fd, &produced, 8, offsetof(struct ring_hdr, produced)) == 8);
	produced += 3;
	CHECK(pwrite(fd, &produced, 8, offsetof(struct ring_hdr, produced)) == 8);
	close(fd);
	p = open_prod(path, 16384);
	send(p, 8000, 20, true);
	expect(c, 8000, 20);
	expect_empty(c);
	nerrf_ring_get_stats(c, &st);
	CHECK_EQ_U64(st.produced, produced + 20);

	nerrf_ring_close(c);
	nerrf_ring_close(p);
	return 0;
}
