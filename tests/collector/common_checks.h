/* SPDX-License-Identifier: Apache-2.0 */
/* Checks every test makes on an event from its own thread. */
#ifndef NERRF_COMMON_CHECKS_H
#define NERRF_COMMON_CHECKS_H

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "coll_helper.h"
#include "harness.h"

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
