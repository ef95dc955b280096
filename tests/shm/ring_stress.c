/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Two processes share a small ring (its memfd inherited across fork) for
 * 50 M variable-length records (2 M under sanitizers). The consumer verifies
 * every record's length, checksum and order; the producer drops when full in
 * half the phases. At the end, delivered + dropped == produced exactly, as
 * the header counters say too.
 */
#include <signal.h>
#include <sys/wait.h>

#include "stress.h"

static pid_t child;

static bool child_alive(void)
{
	return waitpid(child, NULL, WNOHANG) == 0;
}

int main(void)
{
	uint64_t total = scale_sanitize() ? 2000000 : 50000000;
	struct nerrf_ring_prod *p = open_prod(64 << 10);
	struct nerrf_ring_cons *c = open_cons(p);
	struct stress_result res = { 0 };
	struct nerrf_ring_stats st;
	int status;

	child = fork();
	if (child < 0)
		FAIL("fork: %s", strerror(errno));
	if (child == 0) {
		nerrf_ring_cons_close(c);
		stress_produce(p, 0, total);
		nerrf_ring_prod_close(p);
		_exit(0);
	}
	nerrf_ring_prod_close(p);
	stress_consume(c, total, &res, child_alive);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
		FAIL("producer process failed (status %#x)", status);

	nerrf_ring_cons_stats(c, &st);
	fprintf(stderr, "delivered %" PRIu64 " dropped %" PRIu64 " wakeups %" PRIu64
		" space_wakeups %" PRIu64 "\n", res.delivered, st.dropped, st.wakeups,
		st.space_wakeups);
	CHECK_EQ_U64(res.delivered + st.dropped, total);
	CHECK_EQ_U64(res.gaps, st.dropped);
	CHECK_EQ_U64(st.produced, res.delivered);
	CHECK_EQ_U64(st.consumed, res.delivered);
	CHECK_EQ_U64(st.corrupt_resets, 0);
	CHECK(st.dropped > 0, "the drop phases dropped nothing: the test lost its point");
	nerrf_ring_cons_close(c);
	return 0;
}
