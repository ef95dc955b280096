/* SPDX-License-Identifier: Apache-2.0 */
/* rename*, unlink*, rmdir, chmod*, truncate*, *xattr: absolute paths built
 * from cwd or dirfd + name, both rename paths, modes, sizes, attribute names,
 * and a failing call. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>

#include "common_checks.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452 /* older libc headers; same number on every arch */
#endif

static const char *dir;
static struct coll c;

static const char *at(const char *name)
{
	static char buf[4][4200];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

/* The next event of op, from a name (fallback path) or an fd (resolved). */
static const struct nerrf_event *expect(unsigned op, long long ret, const char *path,
					const char *raw)
{
	const struct nerrf_event *e = coll_find(&c, op, getpid(), NULL, 5000);
	check_header(e, op, ret);
	CHECK_STR(ev_path(e), path);
	if (raw) {
		CHECK(e->flags & NERRF_EF_PATH_FALLBACK, "flags %#x", e->flags);
		CHECK_STR(ev_raw(e), raw);
	} else {
		CHECK(!(e->flags & NERRF_EF_PATH_FALLBACK), "flags %#x", e->flags);
		check_inode(e, path);
	}
	return e;
}

int main(void)
{
	char self[16];
	const char *args[] = { "--pid", self, "--syscalls",
		"rename,renameat,renameat2,unlink,unlinkat,rmdir,chmod,fchmod,fchmodat,fchmodat2,"
		"truncate,ftruncate,setxattr,lsetxattr,fsetxattr,removexattr,lremovexattr,"
		"fremovexattr", NULL };
	const struct nerrf_event *e;
	int dfd, fd;

	test_require_root("pathops_test");
	dir = real_tmpdir("pathops");
	snprintf(self, sizeof(self), "%d", getpid());
	CHECK(chdir(dir) == 0);
	dfd = open(dir, O_DIRECTORY | O_RDONLY);
	fd = open("f", O_CREAT | O_RDWR, 0600);
	CHECK(dfd >= 0 && fd >= 0);
	CHECK(close(open("a", O_CREAT | O_RDWR, 0600)) == 0);
	CHECK(mkdir("d1", 0700) == 0 && mkdir("d2", 0700) == 0);
	coll_start(&c, args);

	CHECK(syscall(SYS_rename, "a", "b") == 0);
	e = expect(NERRF_OP_RENAME, 0, at("a"), "a");
	CHECK_STR(ev_path2(e), at("b"));
	CHECK(syscall(SYS_renameat, dfd, "b", AT_FDCWD, "c") == 0);
	e = expect(NERRF_OP_RENAMEAT, 0, at("b"), "b");
	CHECK_STR(ev_path2(e), at("c"));
	CHECK(syscall(SYS_renameat2, AT_FDCWD, "c", dfd, "e", RENAME_NOREPLACE) == 0);
	e = expect(NERRF_OP_RENAMEAT2, 0, at("c"), "c");
	CHECK_STR(ev_path2(e), at("e"));
	CHECK_EQ_U64(e->arg_flags, RENAME_NOREPLACE);
	/* both names against one directory fd: the second reuses the first's directory */
	CHECK(syscall(SYS_renameat, dfd, "e", dfd, "g") == 0);
	e = expect(NERRF_OP_RENAMEAT, 0, at("e"), "e");
	CHECK_STR(ev_path2(e), at("g"));
	CHECK(!(e->flags & NERRF_EF_PATH2_TRUNC), "flags %#x", e->flags);
	/* the same fd with an absolute second name */
	CHECK(syscall(SYS_renameat, dfd, "g", dfd, at("e")) == 0);
	e = expect(NERRF_OP_RENAMEAT, 0, at("g"), "g");
	CHECK_STR(ev_path2(e), at("e"));

	CHECK(syscall(SYS_unlink, "e") == 0);
	expect(NERRF_OP_UNLINK, 0, at("e"), "e");
	CHECK(syscall(SYS_unlink, "nothing") == -1 && errno == ENOENT);
	expect(NERRF_OP_UNLINK, -ENOENT, at("nothing"), "nothing");
	CHECK(syscall(SYS_unlinkat, dfd, "d1", AT_REMOVEDIR) == 0);
	e = expect(NERRF_OP_UNLINKAT, 0, at("d1"), "d1");
	CHECK_EQ_U64(e->arg_flags, AT_REMOVEDIR);
	CHECK(syscall(SYS_rmdir, "d2") == 0);
	expect(NERRF_OP_RMDIR, 0, at("d2"), "d2");

	CHECK(syscall(SYS_chmod, "f", 0640) == 0);
	CHECK_EQ_U64(expect(NERRF_OP_CHMOD, 0, at("f"), "f")->mode, 0640);
	CHECK(syscall(SYS_fchmod, fd, 0600) == 0);
	CHECK_EQ_U64(expect(NERRF_OP_FCHMOD, 0, at("f"), NULL)->mode, 0600);
	CHECK(syscall(SYS_fchmodat, dfd, "f", 0644) == 0);
	CHECK_EQ_U64(expect(NERRF_OP_FCHMODAT, 0, at("f"), "f")->mode, 0644);
	CHECK(syscall(SYS_fchmodat2, AT_FDCWD, "f", 0600, 0) == 0);
	CHECK_EQ_U64(expect(NERRF_OP_FCHMODAT2, 0, at("f"), "f")->mode, 0600);

	CHECK(syscall(SYS_truncate, "f", 10) == 0);
	CHECK_EQ_U64(expect(NERRF_OP_TRUNCATE, 0, at("f"), "f")->bytes, 10);
	CHECK(syscall(SYS_ftruncate, fd, 20) == 0);
	CHECK_EQ_U64(expect(NERRF_OP_FTRUNCATE, 0, at("f"), NULL)->bytes, 20);

	if (setxattr("f", "user.k", "v1", 2, 0) < 0)
		test_skip("this filesystem (%s) has no user xattrs", dir);
	e = expect(NERRF_OP_SETXATTR, 0, at("f"), "f");
	CHECK_STR(ev_path2(e), "user.k");
	CHECK_EQ_U64(e->bytes, 2);
	CHECK(lsetxattr("f", "user.l", "v", 1, XATTR_CREATE) == 0);
	e = expect(NERRF_OP_LSETXATTR, 0, at("f"), "f");
	CHECK_STR(ev_path2(e), "user.l");
	CHECK_EQ_U64(e->arg_flags, XATTR_CREATE);
	CHECK(fsetxattr(fd, "user.m", "vvv", 3, 0) == 0);
	e = expect(NERRF_OP_FSETXATTR, 0, at("f"), NULL);
	CHECK_STR(ev_path2(e), "user.m");
	CHECK_EQ_U64(e->bytes, 3);
	CHECK(removexattr("f", "user.k") == 0);
	CHECK_STR(ev_path2(expect(NERRF_OP_REMOVEXATTR, 0, at("f"), "f")), "user.k");
	CHECK(lremovexattr("f", "user.l") == 0);
	CHECK_STR(ev_path2(expect(NERRF_OP_LREMOVEXATTR, 0, at("f"), "f")), "user.l");
	CHECK(fremovexattr(fd, "user.m") == 0);
	CHECK_STR(ev_path2(expect(NERRF_OP_FREMOVEXATTR, 0, at("f"), NULL)), "user.m");
	CHECK(removexattr("f", "user.none") == -1);
	CHECK_EQ_U64(coll_find(&c, NERRF_OP_REMOVEXATTR, getpid(), NULL, 5000)->ret, -ENODATA);

	coll_stop(&c);
	coll_free(&c);
	unlink(at("f"));
	rmdir(dir);
	return 0;
}
