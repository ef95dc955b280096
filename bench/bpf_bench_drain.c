/* SPDX-License-Identifier: Apache-2.0 */
/* Drains ring #1 as the encoder would (without decoding), so the collector
 * is measured writing into a ring whose pages are reused, not first touched.
 *   usage: bpf_bench_drain RING1       prints the records read at SIGTERM */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "nerrf_ring.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	struct nerrf_ring_cons *r;
	const char *msg = NULL;
	unsigned long long n = 0;
	int e;

	if (argc != 2) {
		fprintf(stderr, "usage: bpf_bench_drain RING1_SOCKET\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	e = nerrf_ring_connect(argv[1], &r, &msg);
	if (e < 0) {
		fprintf(stderr, "bpf_bench_drain: %s: %s (%s)\n", argv[1], strerror(-e), msg ? msg : "");
		return 1;
	}
	while (!stop) {
		size_t len;
		int err = 0;
		while (nerrf_ring_peek(r, &len, &err)) {
			nerrf_ring_release(r);
			n++;
		}
		if (err) {
			fprintf(stderr, "bpf_bench_drain: ring corrupt\n");
			nerrf_ring_resync(r);
		}
		nerrf_ring_wait(r, 100);
	}
	nerrf_ring_cons_close(r);
	printf("%llu\n", n);
	return 0;
}
