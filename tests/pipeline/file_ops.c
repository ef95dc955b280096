/* SPDX-License-Identifier: Apache-2.0 */
/*
 * End to end through `nerrf run`: a process creates a file, writes to it,
 * renames it to .locked, chmods and unlinks it; a subscriber receives
 * exactly those events, in order, with the absolute paths, byte counts,
 * return values and wall-clock times (within 1 s of the process's own
 * clock) that the process saw.
 */
#include "e2e.h"

#define NOPS 5
#define WRITE_LEN 1234

struct report {
	struct timespec ts[NOPS];
	long ret[NOPS];
};

static void work(const struct e2e *e, int report_fd, void *arg)
{
	char a[PATH_MAX + 16], b[PATH_MAX + 16], buf[WRITE_LEN];
	struct report r;
	(void)arg;
	snprintf(a, sizeof(a), "%s/victim.txt", e->work);
	snprintf(b, sizeof(b), "%s/victim.txt.locked", e->work);
	memset(buf, 'x', sizeof(buf));

	clock_gettime(CLOCK_REALTIME, &r.ts[0]);
	int fd = open(a, O_CREAT | O_WRONLY | O_TRUNC, 0640);
	r.ret[0] = fd;
	clock_gettime(CLOCK_REALTIME, &r.ts[1]);
	r.ret[1] = write(fd, buf, sizeof(buf));
	close(fd);
	clock_gettime(CLOCK_REALTIME, &r.ts[2]);
	r.ret[2] = rename(a, b);
	clock_gettime(CLOCK_REALTIME, &r.ts[3]);
	r.ret[3] = chmod(b, 0600);
	clock_gettime(CLOCK_REALTIME, &r.ts[4]);
	r.ret[4] = unlink(b);
	if (write(report_fd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
}

static bool one_of(const char *s, const char *const names[])
{
	for (int i = 0; names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

int main(void)
{
	struct e2e e = {0};
	struct report r;
	static const char *const opens[] = {"open", "openat", "openat2", "creat", NULL};
	static const char *const writes[] = {"write",	"pwrite64", "writev",
					     "pwritev", "pwritev2", NULL};
	static const char *const renames[] = {"rename", "renameat", "renameat2", NULL};
	static const char *const chmods[] = {"chmod", "fchmodat", "fchmodat2", NULL};
	static const char *const unlinks[] = {"unlink", "unlinkat", NULL};
	const char *const *want[NOPS] = {opens, writes, renames, chmods, unlinks};
	char a[PATH_MAX + 16], b[PATH_MAX + 16];

	e2e_require("the end-to-end file operations test", true);
	e2e_dirs(&e, "e2e-fileops");
	snprintf(a, sizeof(a), "%s/victim.txt", e.work);
	snprintf(b, sizeof(b), "%s/victim.txt.locked", e.work);
	e2e_child(&e, work, NULL);
	e2e_run(&e, NULL);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	e2e_go(&e, e.sub, 1);
	CHECK(read(e.done_fd, &r, sizeof(r)) == sizeof(r), "the child's report");
	CHECK(r.ret[0] >= 0 && r.ret[1] == WRITE_LEN && r.ret[2] == 0 && r.ret[3] == 0 &&
		      r.ret[4] == 0,
	      "the file operations themselves failed");

	Nerrf__Trace__Event *got[NOPS];
	Nerrf__Trace__EventBatch *keep[64];
	int ngot = 0, nkeep = 0;
	uint64_t end = nerrf_mono_ms() + 15000;
	while (ngot < NOPS && nerrf_mono_ms() < end) {
		nng_msg *m = pt_recv(e.sub, 500);
		if (!m)
			continue;
		Nerrf__Trace__EventBatch *bt = pt_decode_batch(m);
		nng_msg_free(m);
		CHECK(nkeep < 64);
		keep[nkeep++] = bt;
		for (size_t i = 0; i < bt->n_events; i++) {
			Nerrf__Trace__Event *ev = bt->events[i];
			/* write summaries ("close") have their own test, tests/collector/close_test */
			if (ev->pid != (uint32_t)e.child || e2e_is_probe(&e, ev) ||
			    strcmp(ev->syscall, "exit") == 0 || strcmp(ev->syscall, "close") == 0)
				continue;
			CHECK(ngot < NOPS, "more events than operations: extra %s %s", ev->syscall,
			      ev->path);
			got[ngot++] = ev;
		}
	}
	CHECK(ngot == NOPS, "received %d of %d events: %s", ngot, NOPS, pt_slurp(e.err));

	for (int i = 0; i < NOPS; i++) {
		Nerrf__Trace__Event *ev = got[i];
		CHECK(one_of(ev->syscall, want[i]), "event %d is %s, expected %s", i, ev->syscall,
		      want[i][0]);
		CHECK_EQ_U64(ev->tid, e.child);
		CHECK_EQ_U64(ev->ret_val, r.ret[i]);
		CHECK(ev->ts, "event %d has a timestamp", i);
		double d = (double)(ev->ts->seconds - r.ts[i].tv_sec) +
			   (ev->ts->nanos - r.ts[i].tv_nsec) / 1e9;
		CHECK(d > -1.0 && d < 1.0, "event %d (%s) ts is %.3f s off the process's clock", i,
		      ev->syscall, d);
	}
	CHECK_STR(got[0]->path, a);
	CHECK(got[0]->flags & O_CREAT, "open flags 0%o lack O_CREAT", got[0]->flags);
	CHECK_EQ_U64(got[0]->mode, 0640);
	CHECK_STR(got[1]->path, a);
	CHECK_EQ_U64(got[1]->bytes, WRITE_LEN);
	CHECK_STR(got[2]->path, a);
	CHECK_STR(got[2]->new_path, b);
	CHECK_STR(got[3]->path, b);
	CHECK_EQ_U64(got[3]->mode, 0600);
	CHECK_STR(got[4]->path, b);

	for (int i = 0; i < nkeep; i++)
		nerrf__trace__event_batch__free_unpacked(keep[i], NULL);
	e2e_finish(&e);
	return 0;
}
