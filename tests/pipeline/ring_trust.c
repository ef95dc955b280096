/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stage user owns the rundir and may place anything there; no stage may
 * be able to crash another through a ring.
 * - A symlink at the ring socket's name, pointing at a root-owned file, is
 *   refused with a message (nerrf run stops at start), and the file keeps
 *   its owner and mode; so does one at the old ring file's name, which the
 *   pipeline no longer uses at all. A rundir that is itself a symlink is
 *   refused before anything is done as root, and so is one in a directory
 *   another user owns (who could swap the rundir's parent for one of theirs).
 * - The rings are memfds sealed against resizing: truncating them through
 *   /proc (as root, the strongest peer there is) fails with EPERM, the
 *   rundir holds no ring file, and the pipeline keeps delivering.
 */
#include "e2e.h"

#include <dirent.h>

static void victim_file(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, "root's\n", 7) == 7);
	CHECK(fchown(fd, 0, 0) == 0);
	close(fd);
}

static void victim_intact(const char *path)
{
	struct stat st;
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
	CHECK(st.st_uid == 0 && st.st_gid == 0, "%s was given to uid %u gid %u", path,
	      (unsigned)st.st_uid, (unsigned)st.st_gid);
	CHECK((st.st_mode & 07777) == 0600, "%s mode became %o", path,
	      (unsigned)(st.st_mode & 07777));
	CHECK(st.st_size == 7, "%s was resized to %lld", path, (long long)st.st_size);
}

/* nerrf run must stop by itself (a start-up failure) and say why. */
static void expect_refused(struct e2e *e, const char *what)
{
	int rc = pt_wait_exit(e->run, 20000);
	CHECK(rc > 0, "nerrf run did not fail (%d) for %s: %s", rc, what, pt_slurp(e->err));
	CHECK(strstr(pt_slurp(e->err), what) != NULL, "no message about %s: %s", what,
	      pt_slurp(e->err));
}

/* Every memfd ring a stage holds: truncating it must fail; returns how many. */
static int try_truncate_rings(pid_t pid)
{
	char dir[64], link[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	DIR *d = opendir(dir);
	CHECK(d != NULL, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ssize_t k = readlink(path, link, sizeof(link) - 1);
		if (k <= 0)
			continue;
		link[k] = 0;
		if (!strstr(link, "memfd:nerrf-ring"))
			continue;
		int fd = open(path, O_RDWR);
		CHECK(fd >= 0, "opening %s (%s): %s", path, link, strerror(errno));
		CHECK(ftruncate(fd, 0) < 0 && errno == EPERM, "%s could be truncated", link);
		CHECK(ftruncate(fd, 1 << 30) < 0 && errno == EPERM, "%s could be grown", link);
		close(fd);
		n++;
	}
	closedir(d);
	return n;
}

int main(void)
{
	struct e2e e = {0};
	char victim[PATH_MAX + 16], link[PATH_MAX + 16], real_run[PATH_MAX + 16];
	uint64_t n;

	e2e_require("the ring trust test", true);

	/* 1. a symlink at ring1.sock */
	e2e_dirs(&e, "e2e-trust");
	snprintf(victim, sizeof(victim), "%s/victim", e.dir);
	victim_file(victim);
	CHECK(mkdir(e.rundir, 0770) == 0);
	snprintf(link, sizeof(link), "%s/%s", e.rundir, NERRF_RING1_NAME);
	CHECK(symlink(victim, link) == 0);
	e2e_child(&e, e2e_no_work, NULL);
	e2e_run(&e, NULL);
	expect_refused(&e, "other than a socket");
	victim_intact(victim);
	CHECK(unlink(link) == 0);

	/* 2. the rundir itself a symlink */
	snprintf(real_run, sizeof(real_run), "%s/real-run", e.dir);
	CHECK(rename(e.rundir, real_run) == 0 && symlink(real_run, e.rundir) == 0);
	e2e_run(&e, NULL);
	expect_refused(&e, "symlink there is refused");
	CHECK(unlink(e.rundir) == 0 && rename(real_run, e.rundir) == 0);

	/* 2b. a rundir whose parent another user (daemon, uid 1) owns: nothing made there */
	char saved[sizeof(e.rundir)], theirs[PATH_MAX + 16], run_there[PATH_MAX + 32];
	snprintf(theirs, sizeof(theirs), "%s/theirs", e.dir);
	snprintf(run_there, sizeof(run_there), "%s/run", theirs);
	CHECK(mkdir(theirs, 0755) == 0 && chown(theirs, 1, 1) == 0);
	CHECK(strlen(run_there) < sizeof(e.rundir));
	memcpy(saved, e.rundir, sizeof(saved));
	snprintf(e.rundir, sizeof(e.rundir), "%s", run_there);
	e2e_run(&e, NULL);
	expect_refused(&e, "on its way is owned by uid 1");
	CHECK(access(run_there, F_OK) != 0 && errno == ENOENT, "root made %s", run_there);
	memcpy(e.rundir, saved, sizeof(saved));

	/* 3. a symlink at the old ring file's name: ignored, left alone */
	snprintf(link, sizeof(link), "%s/ring1", e.rundir);
	CHECK(symlink(victim, link) == 0);
	e2e_run(&e, NULL);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	e2e_go(&e, e.sub, 1);
	victim_intact(victim);

	/* 4. the rings cannot be resized, by anyone */
	int rings = try_truncate_rings(e2e_stage_pid(&e, "collector")) +
		    try_truncate_rings(e2e_stage_pid(&e, "encoder")) +
		    try_truncate_rings(e2e_stage_pid(&e, "publisher"));
	CHECK(rings == 4, "found %d ring mappings in the stages, want 4 (each ring, both sides)",
	      rings);
	DIR *d = opendir(e.rundir);
	struct dirent *de;
	CHECK(d != NULL);
	while ((de = readdir(d))) {
		struct stat st;
		CHECK(fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0);
		CHECK(!S_ISREG(st.st_mode), "a regular file %s in the rundir", de->d_name);
	}
	closedir(d);
	/* and the pipeline still works: the child's work reaches us */
	CHECK(read(e.done_fd, &n, sizeof(n)) == sizeof(n), "the child's report");
	e2e_finish(&e);
	return 0;
}
