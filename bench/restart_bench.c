/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How long a collector crash blinds the pipeline: `nerrf run` traces one
 * process opening files every 250 us; the collector is killed with SIGKILL
 * KILLS times, 1.5 s apart. Per kill it measures the time from the kill to
 * the arrival at a subscriber of the first event made after the kill (the
 * supervisor's backoff, the new collector's start, and its first drain all
 * count), and at the end what was delivered, counted lost, or fell into a
 * capture gap. Root only.
 *
 *   restart_bench [KILLS [NERRF RUN OPTION...]]       (default 5; e.g. --no-pin)
 *   env NERRF_CLI, NERRF_BUILD_ROOT: as for tests/pipeline
 */
#include "pipeline/e2e.h"
#include "nerrf_time.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void opener(const struct e2e *e, int report_fd, void *arg)
{
	char p[PATH_MAX + 16];
	uint64_t made = 0, end = nerrf_mono_ms() + *(unsigned *)arg;

	while (nerrf_mono_ms() < end) {
		snprintf(p, sizeof(p), "%s/restart%llu", e->work, (unsigned long long)(made % 16));
		int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fd >= 0) {
			made++;
			close(fd);
		}
		usleep(250);
	}
	if (write(report_fd, &made, sizeof(made)) != sizeof(made))
		_exit(1);
}

int main(int argc, char **argv)
{
	struct e2e e = {0};
	unsigned kills = argc > 1 ? (unsigned)atoi(argv[1]) : 5;
	unsigned ms = 1000 + kills * 1500 + 1000;
	uint64_t lat[64], made = 0, delivered = 0, lost = 0, gaps = 0, gap_ns = 0;
	uint64_t kill_ns = 0, next_kill = 0;
	unsigned done = 0;

	if (kills < 1 || kills > 64) {
		fprintf(stderr, "usage: restart_bench [KILLS 1..64 [NERRF RUN OPTION...]]\n");
		return 2;
	}
	e2e_require("restart_bench", true);
	e2e_dirs(&e, "restart-bench");
	e2e_child(&e, opener, &ms);
	e2e_run(&e, argc > 2 ? argv + 2 : NULL);
	e.sub = pt_sub(e.url, NULL);
	e2e_go(&e, e.sub, 1);
	fcntl(e.done_fd, F_SETFL, O_NONBLOCK);
	next_kill = nerrf_mono_ms() + 1000;
	for (uint64_t end = nerrf_mono_ms() + ms + 20000; nerrf_mono_ms() < end;) {
		if (done < kills && !kill_ns && nerrf_mono_ms() >= next_kill) {
			pid_t c = e2e_stage_pid(&e, "collector");
			CHECK(c > 0 && kill(c, SIGKILL) == 0);
			kill_ns = nerrf_mono_ns();
			next_kill = nerrf_mono_ms() + 1500;
		}
		if (!made && read(e.done_fd, &made, sizeof(made)) == sizeof(made) && done == kills)
			end = nerrf_mono_ms() + 3000;
		nng_msg *m = pt_recv(e.sub, 20);
		if (!m)
			continue;
		if (memcmp(nng_msg_body(m), NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0) {
			Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
			for (size_t i = 0; i < b->n_events; i++) {
				if (strcmp(b->events[i]->syscall, "openat") ||
				    !strstr(b->events[i]->path, "/restart"))
					continue;
				delivered++;
				if (kill_ns && b->events[i]->mono_ns > kill_ns) {
					lat[done++] = nerrf_mono_ns() - kill_ns;
					kill_ns = 0;
				}
			}
			if (b->loss) {
				lost = b->loss->kernel_lost;
				gaps = b->loss->capture_gaps;
				gap_ns = b->loss->capture_gap_ns;
			}
			nerrf__trace__event_batch__free_unpacked(b, NULL);
		}
		nng_msg_free(m);
		if (made && done == kills && delivered + lost >= made)
			break;
	}
	qsort(lat, done, sizeof(lat[0]), cmp_u64);
	printf("| run options | kills | death -> first new event delivered, ms (median, max) "
	       "| made | delivered | kernel_lost | capture gaps (total ms) |\n");
	printf("|---|---:|---|---:|---:|---:|---|\n");
	printf("| %s | %u | %.0f, %.0f | %llu | %llu | %llu | %llu (%.0f) |\n",
	       argc > 2 ? argv[2] : "(default: --pin)", done,
	       done ? lat[done / 2] / 1e6 : -1.0, done ? lat[done - 1] / 1e6 : -1.0,
	       (unsigned long long)made, (unsigned long long)delivered, (unsigned long long)lost,
	       (unsigned long long)gaps, gap_ns / 1e6);
	printf("restart kills=%u p50_ms=%.1f max_ms=%.1f made=%llu delivered=%llu lost=%llu "
	       "gaps=%llu gap_ms=%.0f\n", done, done ? lat[done / 2] / 1e6 : -1.0,
	       done ? lat[done - 1] / 1e6 : -1.0, (unsigned long long)made,
	       (unsigned long long)delivered, (unsigned long long)lost, (unsigned long long)gaps,
	       gap_ns / 1e6);
	nng_close(e.sub);
	e2e_finish(&e);
	return done == kills ? 0 : 1;
}
