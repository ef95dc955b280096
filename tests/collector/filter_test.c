/* SPDX-License-Identifier: Apache-2.0 */
/* In-kernel filters actually filter: --pid, --comm, --path-prefix,
 * --exclude-tree; and the collector never sees its own events. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "common_checks.h"

static const char *dir;

static void touch(const char *name)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_CREAT | O_RDONLY, 0600);
	CHECK(fd >= 0, "open %s: %s", p, strerror(errno));
	close(fd);
}

/* A child named comm that creates name, and waits to be reaped. */
static pid_t child_touch(const char *comm, const char *name)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_NAME, comm);
		touch(name);
		_exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && st == 0);
	return pid;
}

/* Reads everything up to the marker event (our own open of "marker") and
 * fails if a file named bad was seen on the way. */
static void expect_until_marker(struct coll *c, const char *bad, const char *good)
{
	const struct nerrf_event *e;
	bool seen_good = !good;
	while ((e = coll_next(c, 5000))) {
		const char *p = ev_path(e);
		if (!p)
			continue;
		CHECK(!strstr(p, bad), "filtered event seen: %s by %u", p, e->tgid);
		if (good && strstr(p, good))
			seen_good = true;
		if (strstr(p, "/marker") && e->tgid == (unsigned)getpid()) {
			CHECK(seen_good, "%s not seen before the marker", good);
			return;
		}
	}
	FAIL("marker not seen");
}

int main(void)
{
	char self[16], tree[16], prefix[4200], coll_pid[16];
	struct coll c;
	const struct nerrf_event *e;

	test_require_root("filter_test");
	dir = real_tmpdir("filter");
	snprintf(self, sizeof(self), "%d", getpid());

	/* --pid: another process's open is not seen, ours is */
	{
		const char *a[] = { "--pid", self, "--syscalls", "openat", NULL };
		coll_start(&c, a);
		child_touch("other", "bad-pid");
		touch("good-pid");
		touch("marker");
		expect_until_marker(&c, "bad-pid", "good-pid");
		coll_stop(&c);
		coll_free(&c);
	}
	/* --comm: only the named process */
	{
		const char *a[] = { "--comm", "nerrf-yes", "--syscalls", "openat", NULL };
		coll_start(&c, a);
		child_touch("nerrf-no", "bad-comm");
		pid_t yes = child_touch("nerrf-yes", "good-comm");
		e = coll_find(&c, NERRF_OP_OPENAT, yes, "/good-comm", 5000);
		CHECK(e, "named child's open not seen");
		CHECK_STR(e->comm, "nerrf-yes");
		prctl(PR_SET_NAME, "nerrf-yes");
		touch("marker");
		expect_until_marker(&c, "bad-comm", NULL);
		coll_stop(&c);
		coll_free(&c);
	}
	/* --path-prefix: only paths under it */
	{
		snprintf(prefix, sizeof(prefix), "%s/in", dir);
		const char *a[] = { "--pid", self, "--path-prefix", prefix, "--syscalls", "openat",
				    NULL };
		CHECK(mkdir(prefix, 0700) == 0);
		coll_start(&c, a);
		touch("out-file");
		touch("in/good-prefix");
		touch("in/marker");
		expect_until_marker(&c, "out-file", "good-prefix");
		coll_stop(&c);
		coll_free(&c);
	}
	/* --exclude-tree: a process, a child it had before the collector started
	 * (found in /proc), and a child it forks later (followed at fork). */
	{
		sigset_t set;
		int pfd[2], st;
		char b;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		CHECK(pipe(pfd) == 0);
		pid_t root = fork();
		CHECK(root >= 0);
		if (root == 0) {
			int sig;
			pid_t early = fork();
			if (early == 0) {
				sigwait(&set, &sig);
				touch("bad-tree-early");
				_exit(0);
			}
			CHECK(write(pfd[1], "x", 1) == 1);
			sigwait(&set, &sig);
			child_touch("tree-kid", "bad-tree-kid");
			touch("bad-tree-root");
			kill(early, SIGUSR1);
			CHECK(waitpid(early, &st, 0) == early && st == 0);
			_exit(0);
		}
		CHECK(read(pfd[0], &b, 1) == 1);
		snprintf(tree, sizeof(tree), "%d", root);
		const char *a[] = { "--exclude-tree", tree, "--syscalls", "openat", NULL };
		coll_start(&c, a);
		kill(root, SIGUSR1);
		CHECK(waitpid(root, &st, 0) == root && st == 0);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		touch("marker");
		expect_until_marker(&c, "bad-tree", NULL);
		coll_stop(&c);
		coll_free(&c);
	}
	/* No filter but ourselves: the collector's own writes (its ready line,
	 * traced with --all-writes) never appear. */
	{
		const char *a[] = { "--all-writes", "--verbose", "--syscalls", "write,openat", NULL };
		coll_start(&c, a);
		snprintf(coll_pid, sizeof(coll_pid), "%d", c.pid);
		touch("marker");
		while ((e = coll_next(&c, 5000))) {
			CHECK(e->tgid != (unsigned)c.pid, "collector traced itself (op %u)", e->op);
			if (ev_path(e) && strstr(ev_path(e), "/marker") && e->tgid == (unsigned)getpid())
				break;
		}
		CHECK(e, "marker not seen");
		coll_stop(&c);
		while ((e = coll_next(&c, 200)))
			CHECK(e->tgid != (unsigned)atoi(coll_pid), "collector traced itself (op %u)",
			      e->op);
		coll_free(&c);
	}
	return 0;
}
