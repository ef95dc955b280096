/* SPDX-License-Identifier: Apache-2.0 */
/* Checks every test makes on an event from its own thread. */
#ifndef NERRF_COMMON_CHECKS_H
#define NERRF_COMMON_CHECKS_H

#include <stdlib.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coll_helper.h"
#include "harness.h"

/*
 * Our cgroup v2 id: the inode number of our cgroup's directory in a cgroup2
 * mount (/sys/fs/cgroup, or one of our own where that is cgroup v1). 0 when
 * there is none to be had: the check is then only > 0.
 */
static inline unsigned long long self_cgroup_id(void)
{
	char line[4096], path[4200], mnt[64] = "/sys/fs/cgroup";
	struct statfs sf;
	struct stat st;
	unsigned long long id = 0;
	bool ours = false;
	FILE *f;

	if (statfs(mnt, &sf) != 0 || sf.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(mnt, sizeof(mnt), "/tmp/nerrf-cg2-XXXXXX");
		if (!mkdtemp(mnt))
			return 0;
		if (mount("none", mnt, "cgroup2", 0, NULL) != 0) {
			rmdir(mnt);
			return 0;
		}
		ours = true;
	}
	f = fopen("/proc/self/cgroup", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = 0;
			snprintf(path, sizeof(path), "%s%s", mnt, line + 3);
			if (stat(path, &st) == 0)
				id = st.st_ino;
		}
	if (f)
		fclose(f);
	if (ours) {
		umount(mnt);
		rmdir(mnt);
	}
	return id;
}

/* Found before any test traces itself: the mount and directory above make events. */
static unsigned long long our_cgroup_id;
__attribute__((constructor)) static void find_our_cgroup_id(void)
{
	our_cgroup_id = self_cgroup_id();
}

static inline void check_header(const struct nerrf_event *e, unsigned op, long long ret)
{
	CHECK(e, "no event for op %u", op);
	CHECK_EQ_U64(e->op, op);
	CHECK_EQ_U64(e->tgid, getpid());
	CHECK_EQ_U64(e->tid, syscall(SYS_gettid));
	CHECK_EQ_U64(e->ppid, getppid());
	CHECK_EQ_U64(e->uid, getuid());
	CHECK_EQ_U64(e->gid, getgid());
	CHECK_STR(e->comm, self_comm());
	CHECK_EQ_U64(e->ret, ret);
	CHECK(e->cpu < (unsigned)sysconf(_SC_NPROCESSORS_CONF), "cpu %u", e->cpu);
	CHECK(e->ts_ns > 0 && e->cgroup_id > 0 && e->mnt_ns > 0);
	CHECK(!our_cgroup_id || e->cgroup_id == our_cgroup_id, "cgroup_id %llu, our cgroup's is %llu",
	      (unsigned long long)e->cgroup_id, our_cgroup_id);
}

/* The kernel's dev_t is major << 20 | minor. */
static inline void check_inode(const struct nerrf_event *e, const char *path)
{
	struct stat st;
	CHECK(stat(path, &st) == 0, "stat %s", path);
	CHECK_EQ_U64(e->ino, st.st_ino);
	CHECK_EQ_U64(e->dev >> 20, major(st.st_dev));
	CHECK_EQ_U64(e->dev & 0xfffff, minor(st.st_dev));
}

/* A scratch directory by its canonical path (what the kernel reports). */
static inline const char *real_tmpdir(const char *name)
{
	static char buf[4096];
	CHECK(realpath(test_tmpdir(name), buf) != NULL);
	return buf;
}

#endif
