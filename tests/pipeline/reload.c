/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SIGHUP to `nerrf run` reloads every stage without restarting one. A
 * writer creates a/N and b/N in turn while the collector traces only the
 * path prefixes a/ (and the probe). A new file adds b/ (and changes keys of
 * the encoder, the publisher and one the collector cannot change live):
 * after the SIGHUP, b/ events arrive, from one point on and all of them;
 * every a/ event arrives exactly once, and per CPU the kernel's sequence
 * numbers run without a hole or a repeat, so nothing was lost or duplicated
 * over the switch. Then an invalid file: the error names file, line and key,
 * and the configuration in force stays (b/ keeps arriving). No stage
 * restarts: the pids stay.
 *
 * With the argument "restart", the new file is not announced by SIGHUP:
 * the collector is killed (-9) instead, and its successor, reopening the
 * programs pinned across the restart, puts its configuration in force in
 * them, with the same guarantees; only the collector's pid changes.
 */
#include "e2e.h"

#define MAX_N 200000
#define MAX_CPUS 1024

static char conf[PATH_MAX], stop_file[PATH_MAX + 16];
static uint8_t seen_a[MAX_N], seen_b[MAX_N];
static uint64_t next_seq[MAX_CPUS];

/* The child: a/i then b/i, one open each, until the stop file appears. */
static void writer(const struct e2e *e, int report_fd, void *arg)
{
	char path[PATH_MAX + 32];
	uint64_t n = 0;
	(void)arg;

	while (n < MAX_N && access(stop_file, F_OK) != 0) {
		for (int d = 0; d < 2; d++) {
			snprintf(path, sizeof(path), "%s/%c/%llu", e->work, "ab"[d],
				 (unsigned long long)n);
			int fd = open(path, O_CREAT | O_WRONLY, 0644);
			if (fd < 0)
				_exit(1);
			close(fd);
		}
		n++;
		usleep(1000);
	}
	if (write(report_fd, &n, sizeof(n)) != sizeof(n))
		_exit(1);
}

static void on_batch(struct e2e *e, const Nerrf__Trace__EventBatch *b)
{
	size_t wl = strlen(e->work);

	for (size_t i = 0; i < b->n_events; i++) {
		const Nerrf__Trace__Event *ev = b->events[i];
		CHECK(ev->cpu < MAX_CPUS);
		CHECK(ev->seq == next_seq[ev->cpu], "cpu %u: seq %llu after %llu: %s (%llu "
		      "publisher_seq gaps: batches the subscriber was too slow for)", ev->cpu,
		      (unsigned long long)ev->seq, (unsigned long long)next_seq[ev->cpu],
		      ev->seq < next_seq[ev->cpu] ? "a duplicate" : "an event lost",
		      (unsigned long long)e->publisher_gaps);
		next_seq[ev->cpu]++;
		if (strncmp(ev->path, e->work, wl) != 0 || ev->path[wl] != '/' ||
		    (ev->path[wl + 1] != 'a' && ev->path[wl + 1] != 'b') || ev->path[wl + 2] != '/')
			continue;
		unsigned long long k = strtoull(ev->path + wl + 3, NULL, 10);
		CHECK(k < MAX_N);
		uint8_t *seen = ev->path[wl + 1] == 'a' ? seen_a : seen_b;
		CHECK(!seen[k], "%s delivered twice", ev->path);
		seen[k] = 1;
	}
}

/* Receives for ms, counting every batch. */
static void pump(struct e2e *e, int ms)
{
	uint64_t end = nerrf_mono_ms() + (uint64_t)ms;

	while (nerrf_mono_ms() < end) {
		nng_msg *m = pt_recv(e->sub, 50);
		if (!m)
			continue;
		if (memcmp(nng_msg_body(m), NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0) {
			Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
			e2e_account(e, b);
			nerrf__trace__event_batch__free_unpacked(b, NULL);
		}
		nng_msg_free(m);
	}
}

/* Replaces the file as an editor does: a new one renamed over it, root's, 0644. */
static void write_conf(const char *text)
{
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.new", conf);
	FILE *f = fopen(tmp, "w");
	CHECK(f != NULL);
	CHECK(fputs(text, f) >= 0 && fclose(f) == 0);
	CHECK(chmod(tmp, 0644) == 0 && rename(tmp, conf) == 0);
}

/* Waits up to 5 s for text in nerrf run's log. */
static void expect_log(const struct e2e *e, const char *text)
{
	for (uint64_t end = nerrf_mono_ms() + 5000; nerrf_mono_ms() < end; usleep(50000))
		if (strstr(pt_slurp(e->err), text))
			return;
	FAIL("\"%s\" never appeared in the log: %s", text, pt_slurp(e->err));
}

int main(int argc, char **argv)
{
	static const char *const stages[] = {"collector", "encoder", "publisher"};
	struct e2e e = {0};
	pid_t pids[3];
	char text[4 * PATH_MAX], want[PATH_MAX + 128];
	uint64_t n = 0;
	bool restart = argc > 1 && strcmp(argv[1], "restart") == 0;

	e2e_require("the reload test", true);
	e2e_dirs(&e, "e2e-reload");
	snprintf(conf, sizeof(conf), "%s/tracker.conf", e.dir);
	snprintf(stop_file, sizeof(stop_file), "%s/stop", e.dir);
	for (int d = 0; d < 2; d++) {
		snprintf(text, sizeof(text), "%s/%c", e.work, "ab"[d]);
		CHECK(mkdir(text, 0755) == 0);
	}
	/* the probe, and a/ */
	/* Queues that hold seconds of batches: a busy host must not make the test drop any. */
	snprintf(text, sizeof(text),
		 "[collector]\npath-prefix = %s\npath-prefix = %s/a/\n[publisher]\nsendbuf = 4096\n",
		 e.probe, e.work);
	write_conf(text);

	e.on_batch = on_batch;
	e2e_child(&e, writer, NULL);
	e2e_run(&e, NULL);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	CHECK(nng_socket_set_int(e.sub, NNG_OPT_RECVBUF, 8192) == 0);
	e2e_go(&e, e.sub, 1);
	for (int i = 0; i < 3; i++)
		CHECK((pids[i] = e2e_stage_pid(&e, stages[i])) > 0, "no %s pid: %s", stages[i],
		      pt_slurp(e.err));
	pump(&e, 1000);

	/* b/ added live, one key per stage besides, and one that takes a restart */
	snprintf(text, sizeof(text),
		 "[collector]\npath-prefix = %s\npath-prefix = %s/a/\npath-prefix = %s/b/\n"
		 "ring1-size = 4M\n"
		 "[encoder]\nlatency-us = 2000\n"
		 "[publisher]\nsendbuf = 8192\n",
		 e.probe, e.work, e.work);
	write_conf(text);
	if (restart) {
		CHECK(kill(pids[0], SIGKILL) == 0);
		for (uint64_t end = nerrf_mono_ms() + 10000;
		     e2e_stage_pid(&e, "collector") == pids[0] && nerrf_mono_ms() < end;)
			pump(&e, 20);
		CHECK((pids[0] = e2e_stage_pid(&e, "collector")) > 0, "%s", pt_slurp(e.err));
		expect_log(&e, "nerrf-collector: reopened the programs pinned");
		pump(&e, 1000);
		goto done;
	}
	CHECK(kill(e.run, SIGHUP) == 0);
	expect_log(&e, "nerrf-collector: reload: path-prefix changed: in force now");
	expect_log(&e, "nerrf-collector: reload: ring1-size changed: needs restart");
	expect_log(&e, "nerrf-encoder: reload: latency-us changed: in force now");
	expect_log(&e, "nerrf-publisher: reload: sendbuf changed: in force now");
	pump(&e, 1000);

	/* line 6: a value out of range; the whole file is refused */
	snprintf(text, sizeof(text),
		 "[collector]\npath-prefix = %s\npath-prefix = %s/a/\npath-prefix = %s/b/\n"
		 "ring1-size = 4M\nsample-bytes = 9999\n[encoder]\nlatency-us = 2000\n"
		 "[publisher]\nsendbuf = 8192\n",
		 e.probe, e.work, e.work);
	write_conf(text);
	CHECK(kill(e.run, SIGHUP) == 0);
	snprintf(want, sizeof(want), "nerrf-collector: the value above is from %s:6: [collector] "
		 "sample-bytes", conf);
	expect_log(&e, want);
	expect_log(&e, "nerrf-collector: reload: the configuration is invalid (above): the one in "
		   "force stays");
	pump(&e, 1000);

done:;
	int fd = open(stop_file, O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	close(fd);
	CHECK(read(e.done_fd, &n, sizeof(n)) == sizeof(n), "the writer's report");
	CHECK(n > 100 && n < MAX_N, "the writer made %llu pairs", (unsigned long long)n);

	/* every a/ exactly once (on_batch refuses repeats) */
	for (uint64_t end = nerrf_mono_ms() + 15000; nerrf_mono_ms() < end; pump(&e, 200)) {
		uint64_t have = 0;
		for (uint64_t i = 0; i < n; i++)
			have += seen_a[i];
		if (have == n && seen_b[n - 1])
			break;
	}
	for (uint64_t i = 0; i < n; i++)
		CHECK(seen_a[i], "a/%llu of %llu never arrived", (unsigned long long)i,
		      (unsigned long long)n);
	/* b/: none before the reload, every one after */
	uint64_t from = 0;
	while (from < n && !seen_b[from])
		from++;
	CHECK(from > 0 && from < n, "b/ events from %llu of %llu: the reload %s",
	      (unsigned long long)from, (unsigned long long)n,
	      from == 0 ? "was in force before the SIGHUP" : "never took effect");
	for (uint64_t i = from; i < n; i++)
		CHECK(seen_b[i], "b/%llu missing after the reload took effect at b/%llu",
		      (unsigned long long)i, (unsigned long long)from);

	for (int i = 0; i < 3; i++)
		CHECK(e2e_stage_pid(&e, stages[i]) == pids[i], "the %s restarted: %s", stages[i],
		      pt_slurp(e.err));
	CHECK(strstr(pt_slurp(e.err), "restarting it") == NULL || restart, "a stage died: %s",
	      pt_slurp(e.err));
	fprintf(stderr, "reload: %llu pairs, b/ from %llu on, %llu batches\n",
		(unsigned long long)n, (unsigned long long)from, (unsigned long long)e.batches);
	/* Stopping for good removes the pins, whatever the file in force says. */
	char rundir[sizeof(e.rundir)];
	memcpy(rundir, e.rundir, sizeof(rundir));
	e2e_finish(&e);
	CHECK(!e2e_pinned(rundir), "nerrf run left its pinned programs behind after stopping");
	return 0;
}
