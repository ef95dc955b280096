/* SPDX-License-Identifier: Apache-2.0 */
/*
 * End to end, kernel -> subscriber: `nerrf run` (real BPF programs,
 * collector, encoder, publisher) traces one process that issues pwrite(2)
 * at a fixed rate; one subscriber receives the events. Latency per event =
 * the subscriber's CLOCK_MONOTONIC at receipt - the event's mono_ns (taken
 * in the kernel at syscall exit). Also reports whether every write was
 * delivered. Root only.
 *
 *   e2e_bench [RATE[,RATE...]] [SECONDS [NERRF RUN OPTION...]]
 *                                             (default 1000,10000,100000,max 3)
 *
 * RATE "max" writes flat out, unpaced: the latency at the workload's maximum.
 * Besides the markdown table, one `e2e key=value ...` line per rate goes to
 * stdout for scripts (bench/compare).
 *   env NERRF_CLI, NERRF_BUILD_ROOT: as for tests/pipeline
 */
#include <math.h>

#include "pipeline/e2e.h"
#include "nerrf_time.h"

struct load {
	unsigned rate; /* 0: as fast as the writer can */
	unsigned seconds;
	char **run_args; /* more `nerrf run` options, e.g. --wakeup-us 100 */
};

/* Enough slots for an unpaced writer: traced pwrite64 stays well below this. */
#define MAX_RATE_SLOTS 2000000u

static void writer(const struct e2e *e, int report_fd, void *arg)
{
	const struct load *l = arg;
	char p[PATH_MAX + 16];
	snprintf(p, sizeof(p), "%s/paced", e->work);
	int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	uint64_t n = (uint64_t)(l->rate ? l->rate : MAX_RATE_SLOTS) * l->seconds;
	uint64_t start = nerrf_mono_ms() * 1000000ull, end = start + l->seconds * 1000000000ull;
	for (uint64_t i = 0; i < n; i++) {
		/* Busy-paced: sleeping would round every gap up to the timer slack. */
		uint64_t due = l->rate ? start + i * 1000000000ull / l->rate : 0, now;
		do
			now = nerrf_mono_ns();
		while (now < due);
		if (!l->rate && now >= end) {
			n = i;
			break;
		}
		if (pwrite(fd, "b", 1, (off_t)i) != 1)
			_exit(1);
	}
	close(fd);
	if (write(report_fd, &n, sizeof(n)) != sizeof(n))
		_exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void run(struct load *l)
{
	struct e2e e = {0};
	uint64_t want = 0, n = 0;
	uint64_t cap = (uint64_t)(l->rate ? l->rate : MAX_RATE_SLOTS) * l->seconds;
	uint64_t *lat = calloc(cap + 1, sizeof(*lat));
	CHECK(lat != NULL);

	e2e_dirs(&e, "e2e-bench");
	e2e_child(&e, writer, l);
	fcntl(e.done_fd, F_SETFL, O_NONBLOCK);
	char *extra[32] = {"--publisher-arg", "--sendbuf=8192"};
	for (int i = 0; l->run_args[i] && i < 29; i++)
		extra[2 + i] = l->run_args[i];
	e2e_run(&e, extra);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	CHECK(nng_socket_set_int(e.sub, NNG_OPT_RECVBUF, 8192) == 0);
	e2e_go(&e, e.sub, 1);

	uint64_t quiet_until = 0;
	while (!quiet_until || nerrf_mono_ms() < quiet_until) {
		if (!want && read(e.done_fd, &want, sizeof(want)) == sizeof(want))
			quiet_until = nerrf_mono_ms() + 1500;
		nng_msg *m = pt_recv(e.sub, 100);
		if (!m)
			continue;
		uint64_t now = nerrf_mono_ns();
		Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
		nng_msg_free(m);
		e2e_account(&e, b);
		for (size_t i = 0; i < b->n_events; i++) {
			const Nerrf__Trace__Event *ev = b->events[i];
			if (ev->pid == (uint32_t)e.child && strcmp(ev->syscall, "pwrite64") == 0 &&
			    n < cap)
				lat[n++] = now - ev->mono_ns;
		}
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	char rate[16];
	if (l->rate)
		snprintf(rate, sizeof(rate), "%u", l->rate);
	else
		snprintf(rate, sizeof(rate), "max");
	double p50 = n ? lat[n / 2] / 1e3 : NAN, p99 = n ? lat[n * 99 / 100] / 1e3 : NAN,
	       p999 = n ? lat[n * 999 / 1000] / 1e3 : NAN;
	double per_batch = e.batches ? (double)e.delivered / e.batches : 0.0;
	bool lossless = n == want && !e.publisher_gaps;
	printf("| %7s/s | %8.1f | %8.1f | %8.1f | %8llu / %-8llu | %6.1f | %s |\n", rate, p50, p99,
	       p999, (unsigned long long)n, (unsigned long long)want, per_batch,
	       lossless ? "none" : "LOSS");
	printf("e2e rate=%s seconds=%u achieved_per_sec=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f"
	       " delivered=%llu written=%llu events_per_batch=%.1f lossless=%d\n",
	       rate, l->seconds, (double)want / l->seconds, p50, p99, p999, (unsigned long long)n,
	       (unsigned long long)want, per_batch, lossless);
	fflush(stdout);
	free(lat);
	nng_close(e.sub);
	e2e_finish(&e);
}

int main(int argc, char **argv)
{
	const char *rates = argc > 1 ? argv[1] : "1000,10000,100000,max";
	unsigned seconds = argc > 2 ? (unsigned)atoi(argv[2]) : 3;

	e2e_require("e2e_bench", true);
	printf("| rate | p50 µs | p99 µs | p99.9 µs | delivered / written | events/batch | loss |\n"
	       "|---:|---:|---:|---:|---:|---:|---|\n");
	char *list = strdup(rates), *save = NULL;
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		struct load l = {.rate = (unsigned)atoi(t), .seconds = seconds,
				 .run_args = argc > 3 ? argv + 3 : argv + argc};
		if (l.rate || strcmp(t, "max") == 0)
			run(&l);
		else
			fprintf(stderr, "e2e_bench: skipping rate '%s': a number or 'max'\n", t);
	}
	free(list);
	return 0;
}
