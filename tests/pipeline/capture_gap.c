/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A blind window is never silent. Under `nerrf run --no-pin` (capture dies
 * with the collector) a workload opens files every millisecond while the
 * collector is killed with SIGKILL once: the events of the window are gone,
 * and the pipeline says so. The encoder reports exactly one capture gap,
 * "collector died", whose span holds the kill and the widest hole between
 * the workload's delivered events; `nerrf tail` warns on stderr and
 * `nerrf stats --once` shows the gap.
 */
#include "e2e.h"

#define SLACK_NS 100000000ull /* the workload's pace, and its scheduling on a loaded machine */
#define MAX_EVENTS 200000

/* Opens a file every millisecond until the test says stop (a file of that name). */
static void opener(const struct e2e *e, int report_fd, void *arg)
{
	char p[PATH_MAX + 16];
	const char *stop = arg;
	uint64_t made = 0, end = nerrf_mono_ms() + 150000;
	for (unsigned i = 0; nerrf_mono_ms() < end && access(stop, F_OK) != 0; i++) {
		snprintf(p, sizeof(p), "%s/gap%u", e->work, i % 16);
		int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fd >= 0) {
			made++;
			close(fd);
		}
		usleep(1000);
	}
	if (write(report_fd, &made, sizeof(made)) != sizeof(made))
		_exit(1);
}

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	struct e2e e = {0};
	static uint64_t seen[MAX_EVENTS];
	size_t nseen = 0;
	uint64_t made = 0, killed_ns = 0, gaps = 0;
	Nerrf__Trace__CaptureGap *gap = NULL;
	char prefix[PATH_MAX + 16], tail_err[PATH_MAX + 16], out[PATH_MAX + 16],
		err[PATH_MAX + 16], stop[PATH_MAX + 16];
	bool after = false; /* an event of the workload's after the gap's end */

	e2e_require("the capture gap test", true);
	e2e_dirs(&e, "e2e-capture-gap");
	snprintf(prefix, sizeof(prefix), "%s/gap", e.work);
	snprintf(tail_err, sizeof(tail_err), "%s/tail.err", e.dir);
	snprintf(out, sizeof(out), "%s/stats.out", e.dir);
	snprintf(err, sizeof(err), "%s/stats.err", e.dir);
	snprintf(stop, sizeof(stop), "%s/stop", e.dir);
	e2e_child(&e, opener, stop);
	char *extra[] = {"--no-pin", NULL};
	e2e_run(&e, extra);
	char *targv[] = {(char *)pt_bin("NERRF_CLI"), "tail", "--wait", "--url", e.url, NULL};
	pid_t tail = pt_spawn_io(targv, tail_err, "/dev/null");
	e.sub = pt_sub(e.url, NULL); /* the gap is in Stats too, if no event follows it */
	CHECK(nng_socket_set_int(e.sub, NNG_OPT_RECVBUF, 8192) == 0);
	e2e_go(&e, e.sub, 2);
	fcntl(e.done_fd, F_SETFL, O_NONBLOCK);

	/* Until the workload, told to stop once it was seen captured again, has reported. */
	uint64_t start = nerrf_mono_ms(), end = start + 120000;
	while (nerrf_mono_ms() < end && !made) {
		if (!killed_ns && nerrf_mono_ms() - start > 1500) {
			pid_t old = e2e_stage_pid(&e, "collector");
			CHECK(old > 0 && kill(old, SIGKILL) == 0);
			killed_ns = nerrf_mono_ns();
		}
		if (!made && read(e.done_fd, &made, sizeof(made)) == sizeof(made))
			CHECK(made > 0);
		if (gap && after && access(stop, F_OK) != 0)
			close(open(stop, O_CREAT | O_WRONLY, 0644));
		nng_msg *m = pt_recv(e.sub, 100);
		if (!m)
			continue;
		const Nerrf__Trace__LossCounters *loss = NULL;
		Nerrf__Trace__EventBatch *b = NULL;
		Nerrf__Trace__Stats *st = NULL;
		if (memcmp(nng_msg_body(m), NERRF_TOPIC_STATS, NERRF_TOPIC_LEN) == 0) {
			st = pt_decode_stats(m);
			loss = st->loss;
		} else {
			b = pt_decode_batch(m);
			loss = b->loss;
			for (size_t i = 0; i < b->n_events; i++) {
				const Nerrf__Trace__Event *ev = b->events[i];
				if (strcmp(ev->syscall, "openat") || strncmp(ev->path, prefix, strlen(prefix)))
					continue;
				if (nseen < MAX_EVENTS)
					seen[nseen++] = ev->mono_ns;
				after |= gap && ev->mono_ns > gap->end_mono_ns;
			}
		}
		nng_msg_free(m);
		if (loss && loss->capture_gaps && !gap) {
			gaps = loss->capture_gaps;
			CHECK(loss->last_capture_gap, "capture_gaps %llu without last_capture_gap",
			      (unsigned long long)gaps);
			/* A copy that outlives the message. */
			size_t len = nerrf__trace__capture_gap__get_packed_size(loss->last_capture_gap);
			uint8_t *buf = malloc(len ? len : 1);
			nerrf__trace__capture_gap__pack(loss->last_capture_gap, buf);
			gap = nerrf__trace__capture_gap__unpack(NULL, len, buf);
			free(buf);
		} else if (loss && gap) {
			gaps = loss->capture_gaps;
		}
		if (b)
			nerrf__trace__event_batch__free_unpacked(b, NULL);
		if (st)
			nerrf__trace__stats__free_unpacked(st, NULL);
	}
	CHECK(killed_ns, "the collector was never killed");
	CHECK(made, "the workload never reported (gap %s, an event after it %s): %s",
	      gap ? "seen" : "never seen", after ? "seen" : "never seen", pt_slurp(e.err));
	CHECK(gaps == 1 && gap, "capture_gaps %llu after one collector kill, want 1: %s",
	      (unsigned long long)gaps, pt_slurp(e.err));
	fprintf(stderr, "made %llu, delivered %zu; gap %.3f s, cause '%s'\n",
		(unsigned long long)made, nseen, (gap->end_mono_ns - gap->start_mono_ns) / 1e9,
		gap->cause);
	CHECK(nseen < made, "every open was delivered: the collector's death left no window");
	CHECK_STR(gap->cause, "collector died");
	CHECK(gap->start_mono_ns <= killed_ns && killed_ns < gap->end_mono_ns,
	      "the kill at %llu is outside the gap [%llu, %llu]", (unsigned long long)killed_ns,
	      (unsigned long long)gap->start_mono_ns, (unsigned long long)gap->end_mono_ns);

	/* What went missing went missing inside the reported window. */
	qsort(seen, nseen, sizeof(seen[0]), by_value);
	size_t w = 1;
	for (size_t i = 1; i < nseen; i++)
		if (seen[i] - seen[i - 1] > seen[w] - seen[w - 1])
			w = i;
	CHECK(nseen >= 2);
	CHECK(seen[w - 1] + SLACK_NS >= gap->start_mono_ns && seen[w] <= gap->end_mono_ns + SLACK_NS,
	      "the widest hole in the delivered events, %.3f s from %llu, is not the reported gap "
	      "[%llu, %llu]", (seen[w] - seen[w - 1]) / 1e9, (unsigned long long)seen[w - 1],
	      (unsigned long long)gap->start_mono_ns, (unsigned long long)gap->end_mono_ns);

	/* Subscribers are told: nerrf tail on stderr, nerrf stats in its table. */
	uint64_t wait_end = nerrf_mono_ms() + 10000;
	while (!strstr(pt_slurp(tail_err), "capture gap") && nerrf_mono_ms() < wait_end)
		usleep(50000);
	CHECK(strstr(pt_slurp(tail_err), "nerrf tail: warning: capture gap: nothing was captured") &&
	      strstr(pt_slurp(tail_err), "collector died"), "nerrf tail said: %s",
	      pt_slurp(tail_err));
	char *sargv[] = {(char *)pt_bin("NERRF_CLI"), "stats", "--once", "--url", e.url, NULL};
	pt_wait_exit(pt_spawn_io(sargv, err, out), 15000);
	CHECK(strstr(pt_slurp(out), "capture gaps 1 ("), "nerrf stats --once: %s%s",
	      pt_slurp(out), pt_slurp(err));

	nerrf__trace__capture_gap__free_unpacked(gap, NULL);
	pt_stop(tail);
	e2e_finish(&e);
	return 0;
}
