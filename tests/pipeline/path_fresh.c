/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A write's path and inode are the file's as they are at that write, never
 * as they were when the file was opened or last written: the guards any
 * shortcut in the kernel's path resolution (a cache, a reuse) must pass.
 * A file kept open while its directory and then a parent of it are renamed;
 * a name unlinked and created again while the old file is still open; a
 * directory mounted over while a file in it is written, and reached through
 * a bind mount; two processes writing one file through their own fds. Each
 * write has its own length, which names it in the stream.
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "e2e.h"

#define NW 11

struct want {
	char path[PATH_MAX + 32];
	uint64_t ino;
	uint32_t dev; /* kernel encoding, as the event has it */
	bool seen;
};

struct plan {
	struct want w[NW + 1]; /* by write length, 1..NW */
};

/* The work's results go back through report_fd: the ok count, then the plan. */
static struct plan plan;

/* notes what the event of the write of len bytes through fd must say */
static int note(int fd, unsigned len, const char *path)
{
	struct stat st;

	if (len < 1 || len > NW || fstat(fd, &st) != 0)
		return 0;
	snprintf(plan.w[len].path, sizeof(plan.w[len].path), "%s", path);
	plan.w[len].ino = st.st_ino;
	plan.w[len].dev = major(st.st_dev) << 20 | minor(st.st_dev);
	return 1;
}

static int wrote(int fd, unsigned len, const char *path)
{
	static const char buf[NW] = "0123456789";

	return note(fd, len, path) && write(fd, buf, len) == (ssize_t)len;
}

static void work(const struct e2e *e, int report_fd, void *arg)
{
	char p[PATH_MAX + 32], q[PATH_MAX + 32];
	uint64_t ok = 0;
	(void)arg;

#define AT(buf, fmt) (snprintf(buf, sizeof(buf), "%s/" fmt, e->work), buf)
	/* a mount namespace of its own: the mounts below stay in this test */
	ok += unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
	ok += mkdir(AT(p, "a"), 0755) == 0 && mkdir(AT(p, "a/b"), 0755) == 0;
	ok += mkdir(AT(p, "m"), 0755) == 0 && mkdir(AT(p, "bind"), 0755) == 0;
	ok -= 3;

	/* 1-3: one fd, its directory renamed, then the directory above */
	int fd = open(AT(p, "a/b/f"), O_CREAT | O_WRONLY, 0644);
	ok += wrote(fd, 1, AT(p, "a/b/f"));
	ok += rename(AT(p, "a/b"), AT(q, "a/c")) == 0;
	ok += wrote(fd, 2, AT(p, "a/c/f"));
	ok += rename(AT(p, "a"), AT(q, "A")) == 0;
	ok += wrote(fd, 3, AT(p, "A/c/f"));

	/* 4-5: a name unlinked (its file kept open) and made again */
	int old = open(AT(p, "A/c/g"), O_CREAT | O_WRONLY, 0644);
	ok += wrote(old, 4, AT(p, "A/c/g"));
	ok += unlink(AT(p, "A/c/g")) == 0;
	int fresh = open(AT(p, "A/c/g"), O_CREAT | O_WRONLY, 0644);
	ok += wrote(fresh, 5, AT(p, "A/c/g"));

	/* 6-8: a file written before and after a mount over its directory, and the
	 * file of the same name on the new mount */
	int under = open(AT(p, "m/h"), O_CREAT | O_WRONLY, 0644);
	ok += wrote(under, 6, AT(p, "m/h"));
	ok += mount("nerrf-test", AT(p, "m"), "tmpfs", 0, "size=1m") == 0;
	ok += wrote(under, 7, AT(p, "m/h"));
	int over = open(AT(p, "m/h"), O_CREAT | O_WRONLY, 0644);
	ok += wrote(over, 8, AT(p, "m/h"));

	/* 9: the first file through a bind mount of its directory */
	ok += mount(AT(p, "A/c"), AT(q, "bind"), NULL, MS_BIND, NULL) == 0;
	int bound = open(AT(p, "bind/f"), O_WRONLY | O_APPEND);
	ok += wrote(bound, 9, AT(p, "bind/f"));

	/* 10: another process, its own fd to the same file, while fd stays open */
	pid_t kid = fork();
	if (kid == 0) {
		int kfd = open(AT(p, "A/c/f"), O_WRONLY | O_APPEND);
		_exit(wrote(kfd, 10, AT(p, "A/c/f")) ? 0 : 1);
	}
	int st = -1;
	ok += kid > 0 && waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	ok += note(fd, 10, AT(p, "A/c/f")); /* the child's entry is in its copy */
	ok += wrote(fd, 11, AT(p, "A/c/f")); /* fd's file is still that one */
#undef AT
	if (write(report_fd, &ok, sizeof(ok)) != sizeof(ok) ||
	    write(report_fd, &plan, sizeof(plan)) != sizeof(plan))
		_exit(1);
}

int main(void)
{
	struct e2e e = {0};
	struct plan want;
	uint64_t ok = 0;
	unsigned got = 0;

	e2e_require("the path freshness test", true);
	e2e_dirs(&e, "e2e-fresh");
	e2e_child(&e, work, NULL);
	e2e_run(&e, (char *[]){"--follow", NULL}); /* write 10 is the child's child's */
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	e2e_go(&e, e.sub, 1);
	CHECK(read(e.done_fd, &ok, sizeof(ok)) == sizeof(ok),
	      "the child reported nothing");
	CHECK(ok == NW + 6, "the child's operations: %llu of %d succeeded",
	      (unsigned long long)ok, NW + 6);
	CHECK(read(e.done_fd, &want, sizeof(want)) == sizeof(want));
	/* the fresh file is not the unlinked one, nor the mount's file the covered one */
	CHECK(want.w[5].ino != want.w[4].ino);
	CHECK(want.w[8].dev != want.w[7].dev);

	Nerrf__Trace__EventBatch *b;
	for (uint64_t end = nerrf_mono_ms() + 20000;
	     got < NW && (b = e2e_next_batch(&e, e.sub, end));) {
		for (size_t k = 0; k < b->n_events; k++) {
			const Nerrf__Trace__Event *ev = b->events[k];
			if (strcmp(ev->syscall, "write") != 0 || ev->bytes < 1 || ev->bytes > NW)
				continue;
			struct want *w = &want.w[ev->bytes];
			CHECK(!w->seen, "two writes of %llu bytes", (unsigned long long)ev->bytes);
			CHECK_STR(ev->path, w->path);
			CHECK(ev->inode == w->ino, "write of %llu bytes: inode %llu, the file's is %llu",
			      (unsigned long long)ev->bytes, (unsigned long long)ev->inode,
			      (unsigned long long)w->ino);
			CHECK(ev->dev == w->dev, "write of %llu bytes: dev %u, the file's is %u",
			      (unsigned long long)ev->bytes, ev->dev, w->dev);
			w->seen = true;
			got++;
		}
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
	char missing[4 * NW] = "", *mp = missing;
	for (unsigned len = 1; len <= NW; len++)
		if (!want.w[len].seen)
			mp += sprintf(mp, " %u", len);
	CHECK(got == NW, "%u of %d writes arrived; missing those of length%s", got, NW, missing);
	e2e_finish(&e);
	return 0;
}
