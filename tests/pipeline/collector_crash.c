/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Capture survives collector crashes. Under `nerrf run` (which pins the
 * programs), a workload opens files at a steady pace and counts its own
 * successful opens; meanwhile the collector is killed with SIGKILL twice.
 * Every open the workload made is delivered or counted lost, exactly, with
 * no capture gap; the kernel-time hole between consecutive delivered events
 * is no wider than the workload's own pause between those opens (a loaded
 * machine may stop it for longer than a restart takes); the pins are root's
 * alone, and the restarted collector is as confined as the first (no uid 0,
 * no capability, seccomp on every thread).
 */
#include "confine.h"
#include "e2e.h"

#define PACE_US 250
#define SECONDS 4

struct report {
	uint64_t made;
	/* Bounds the kernel-time gap between two consecutive opens: from before
	 * the first to after the second, the widest over the run. */
	uint64_t pause_ns;
};

static void opener(const struct e2e *e, int report_fd, void *arg)
{
	char p[PATH_MAX + 16];
	struct report r = {0};
	uint64_t end = nerrf_mono_ms() + SECONDS * 1000, before_prev = 0;
	(void)arg;
	for (unsigned i = 0; nerrf_mono_ms() < end; i++) {
		snprintf(p, sizeof(p), "%s/crash%u", e->work, i % 16);
		uint64_t before = nerrf_mono_ns();
		int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		uint64_t after = nerrf_mono_ns();
		if (before_prev && after - before_prev > r.pause_ns)
			r.pause_ns = after - before_prev;
		before_prev = before;
		if (fd >= 0) {
			r.made++;
			close(fd);
		}
		usleep(PACE_US);
	}
	if (write(report_fd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
}

struct seen {
	uint64_t key, mono;
};

static int by_mono(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	return x->mono < y->mono ? -1 : x->mono > y->mono;
}

static void kill_collector(struct e2e *e)
{
	pid_t old = e2e_stage_pid(e, "collector");
	CHECK(old > 0);
	CHECK(kill(old, SIGKILL) == 0);
	uint64_t t0 = nerrf_mono_ms();
	while (e2e_stage_pid(e, "collector") == old && nerrf_mono_ms() - t0 < 10000)
		usleep(5000);
	CHECK(e2e_stage_pid(e, "collector") != old, "the collector was not restarted");
	fprintf(stderr, "collector %d killed; successor %d started after %llu ms\n", old,
		e2e_stage_pid(e, "collector"), (unsigned long long)(nerrf_mono_ms() - t0));
}

int main(void)
{
	struct e2e e = {0};
	static struct seen seen[SECONDS * 1000000 / PACE_US + 1000];
	size_t nseen = 0;
	struct report r = {0};
	uint64_t made = 0;
	unsigned kills = 0;
	uint64_t lost = 0, gaps = 0;
	char prefix[PATH_MAX + 16];

	e2e_require("the collector crash test", true);
	e2e_dirs(&e, "e2e-collector-crash");
	snprintf(prefix, sizeof(prefix), "%s/crash", e.work);
	e2e_child(&e, opener, NULL);
	e2e_run(&e, NULL);
	e.sub = pt_sub(e.url, NULL);
	CHECK(nng_socket_set_int(e.sub, NNG_OPT_RECVBUF, 8192) == 0);
	e2e_go(&e, e.sub, 1);
	fcntl(e.done_fd, F_SETFL, O_NONBLOCK);

	struct stat pst;
	CHECK(stat("/sys/fs/bpf/nerrf", &pst) == 0 && e2e_pinned(e.rundir),
	      "nerrf run did not pin the programs");
	CHECK(pst.st_uid == 0 && (pst.st_mode & 0077) == 0,
	      "the pin directory is open to others (uid %u mode %o)", (unsigned)pst.st_uid,
	      (unsigned)(pst.st_mode & 07777));

	uint64_t start = nerrf_mono_ms(), end = start + 60000;
	while (nerrf_mono_ms() < end) {
		if (kills < 2 && nerrf_mono_ms() - start > 1000 + kills * 1200) {
			kill_collector(&e);
			kills++;
		}
		if (!made && read(e.done_fd, &r, sizeof(r)) == sizeof(r)) {
			made = r.made;
			CHECK(made > 0);
		}
		nng_msg *m = pt_recv(e.sub, 100);
		if (!m)
			continue;
		if (memcmp(nng_msg_body(m), NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0) {
			Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
			e2e_account(&e, b);
			for (size_t i = 0; i < b->n_events; i++) {
				const Nerrf__Trace__Event *ev = b->events[i];
				if (strcmp(ev->syscall, "openat") || strncmp(ev->path, prefix, strlen(prefix)))
					continue;
				uint64_t key = (uint64_t)ev->cpu << 48 | ev->seq;
				bool dup = false;
				for (size_t k = nseen; k-- > 0 && nseen - k < 4096;)
					dup |= seen[k].key == key;
				if (!dup && nseen < sizeof(seen) / sizeof(seen[0]))
					seen[nseen++] = (struct seen){key, ev->mono_ns};
			}
			if (b->loss) {
				lost = 0;
				for (size_t i = 0; i < b->loss->n_kernel_lost_by_syscall; i++)
					if (!strcmp(b->loss->kernel_lost_by_syscall[i]->key, "openat"))
						lost = b->loss->kernel_lost_by_syscall[i]->value;
				gaps = b->loss->capture_gaps;
			}
			nerrf__trace__event_batch__free_unpacked(b, NULL);
		}
		nng_msg_free(m);
		if (made && kills == 2 && nseen + lost >= made)
			break;
	}
	fprintf(stderr, "made %llu, delivered %zu, kernel_lost(openat) %llu, capture gaps %llu\n",
		(unsigned long long)made, nseen, (unsigned long long)lost, (unsigned long long)gaps);
	CHECK(made > 0, "the workload never reported");
	CHECK_EQ_U64(gaps, 0);
	CHECK_EQ_U64(nseen + lost, made);

	/* No blind window: consecutive events are as close as the workload made them. */
	qsort(seen, nseen, sizeof(seen[0]), by_mono);
	uint64_t hole = 0;
	for (size_t i = 1; i < nseen; i++)
		if (seen[i].mono - seen[i - 1].mono > hole)
			hole = seen[i].mono - seen[i - 1].mono;
	fprintf(stderr, "largest hole between delivered events: %.1f ms; the workload's own "
		"widest pause: %.1f ms\n", hole / 1e6, r.pause_ns / 1e6);
	CHECK(lost > 0 || hole <= r.pause_ns + 1000000,
	      "a %.1f ms hole in the workload's events, which never paused more than %.1f ms",
	      hole / 1e6, r.pause_ns / 1e6);

	/* The successor reopened the pins as root: it must have dropped as a first start does. */
	pid_t succ = e2e_stage_pid(&e, "collector");
	char status[64];
	snprintf(status, sizeof(status), "/proc/%d/status", (int)succ);
	const char *st = pt_slurp(status);
	unsigned ruid = 0, euid = 0, suid = 0, fsuid = 0;
	const char *u = strstr(st, "\nUid:");
	CHECK(u && sscanf(u, "\nUid: %u %u %u %u", &ruid, &euid, &suid, &fsuid) == 4, "%s", st);
	CHECK(ruid && euid && suid && fsuid, "the restarted collector kept uid 0: %s", st);
	CHECK(strstr(st, "\nCapEff:\t0000000000000000\n"), "the restarted collector kept "
	      "capabilities: %s", st);
	confine_check_status(succ, "restarted collector");

	char rundir[sizeof(e.rundir)];
	memcpy(rundir, e.rundir, sizeof(rundir));
	e2e_finish(&e);
	CHECK(!e2e_pinned(rundir), "nerrf run left its pinned programs behind after stopping");
	return 0;
}
