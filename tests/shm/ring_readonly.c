/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The consumer maps the data area read-only: a consumer that writes into a
 * record it was handed faults instead of changing what the producer's side
 * (or a later reader) sees.
 */
#include <signal.h>
#include <sys/wait.h>

#include "ring_test.h"

int main(void)
{
	struct nerrf_ring_prod *p = open_prod(4096);
	struct nerrf_ring_cons *c = open_cons(p);
	size_t len;
	int err, status;
	uint8_t *w;
	pid_t pid;

	w = nerrf_ring_reserve(p, 16);
	CHECK(w != NULL);
	fill_payload(w, 16, 7);
	nerrf_ring_commit(p);
	nerrf_ring_publish(p);

	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		uint8_t *rd = (uint8_t *)nerrf_ring_peek(c, &len, &err);
		if (!rd)
			_exit(2);
		signal(SIGSEGV, SIG_DFL); /* not a sanitizer report: the fault is the point */
		rd[0] ^= 0xff;             /* must fault */
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
	      "consumer wrote into the ring (status %#x)", status);

	const void *rd = nerrf_ring_peek(c, &len, &err);
	CHECK(rd && len == 16 && check_payload(rd, len, 7), "record changed");
	nerrf_ring_release(c);
	nerrf_ring_cons_close(c);
	nerrf_ring_prod_close(p);
	return 0;
}
