/* SPDX-License-Identifier: Apache-2.0 */
/* A one-page BPF ring buffer flooded by a fast writer that also connects
 * now and then: reserve failures are counted, delivered + lost == performed
 * exactly for each, and the per-CPU sequence gaps account for every loss. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common_checks.h"

#define MAX_CPUS 1024

int main(void)
{
	char self[16], p[4200];
	const char *args[] = { "--pid", self, "--syscalls", "write,connect", "--ringbuf-size", "4096",
			       "--sample-bytes", "0", "--ring1-size", "256M", NULL };
	static unsigned long long next_seq[MAX_CPUS], gaps[MAX_CPUS];
	long n = scale_sanitize() ? 20000 : 200000;
	unsigned long long delivered = 0, others = 0, lost = 0, gap_total = 0, conns = 0,
			   conns_delivered = 0;
	/* a UDP connect sends nothing; TEST-NET-1 is no loopback, so it is traced */
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9) };
	int us = socket(AF_INET, SOCK_DGRAM, 0);
	const struct nerrf_event *e;
	struct coll c;
	int fd;

	test_require_root("loss_test");
	snprintf(self, sizeof(self), "%d", getpid());
	snprintf(p, sizeof(p), "%s/flood", real_tmpdir("loss"));
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	CHECK(fd >= 0 && us >= 0 && inet_pton(AF_INET, "192.0.2.1", &sa.sin_addr) == 1);
	coll_start(&c, args);
	for (long i = 0; i < n; i++) {
		CHECK(write(fd, "x", 1) == 1);
		if (i % 16 == 0) {
			connect(us, (void *)&sa, sizeof(sa)); /* its result is the event's */
			conns++;
		}
	}
	coll_stop(&c);

	while ((e = coll_next(&c, 500))) {
		CHECK(e->cpu < MAX_CPUS);
		/* Each CPU's sequence only grows; what it skips was lost. */
		CHECK(e->seq >= next_seq[e->cpu], "cpu %u seq %llu went back", e->cpu,
		      (unsigned long long)e->seq);
		gaps[e->cpu] += e->seq - next_seq[e->cpu];
		next_seq[e->cpu] = e->seq + 1;
		/* The helper's own fork shares the sequence; count it apart. */
		if (e->op == NERRF_OP_WRITE && e->tgid == (unsigned)getpid())
			delivered++;
		else if (e->op == NERRF_OP_CONNECT && e->tgid == (unsigned)getpid())
			conns_delivered++;
		else
			others++;
	}
	CHECK(c.stats, "no stats record");
	for (int op = 0; op < NERRF_OP_MAX; op++)
		lost += c.stats->kernel_lost[op];
	fprintf(stderr, "performed %ld delivered %llu lost %llu emitted %llu\n", n, delivered, lost,
		(unsigned long long)c.stats->kernel_emitted);
	CHECK(lost > 0, "a 4 KiB ring buffer lost nothing under a flood");
	CHECK_EQ_U64(delivered + c.stats->kernel_lost[NERRF_OP_WRITE], n);
	CHECK_EQ_U64(conns_delivered + c.stats->kernel_lost[NERRF_OP_CONNECT], conns);
	CHECK_EQ_U64(c.stats->kernel_emitted, delivered + conns_delivered + others + lost);
	CHECK_EQ_U64(c.stats->ring1_dropped, 0);
	for (unsigned cpu = 0; cpu < c.stats->nr_cpus && cpu < MAX_CPUS; cpu++) {
		/* Losses after a CPU's last delivered event leave no gap. */
		CHECK(gaps[cpu] <= c.stats->lost_by_cpu[cpu], "cpu %u: %llu gaps > %llu lost", cpu,
		      gaps[cpu], (unsigned long long)c.stats->lost_by_cpu[cpu]);
		gap_total += gaps[cpu];
	}
	CHECK(gap_total > 0 && gap_total <= lost);
	coll_free(&c);
	unlink(p);
	return 0;
}
