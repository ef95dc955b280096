/* SPDX-License-Identifier: Apache-2.0 */
/* open, openat, openat2, creat: absolute paths from the returned fd, relative
 * names against cwd and dirfd, a symlink, and a failing open. */
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>

#include "common_checks.h"

int main(void)
{
	char self[16], p1[4200], p2[4200], p3[4200], miss[4200];
	const char *args[] = { "--pid", self, "--syscalls", "open,openat,openat2,creat", NULL };
	const struct nerrf_event *e;
	struct coll c;
	const char *d;
	int dirfd, fd;

	test_require_root("open_test");
	d = real_tmpdir("open");
	snprintf(self, sizeof(self), "%d", getpid());
	snprintf(p1, sizeof(p1), "%s/f1", d);
	snprintf(p2, sizeof(p2), "%s/f2", d);
	snprintf(p3, sizeof(p3), "%s/f3", d);
	snprintf(miss, sizeof(miss), "%s/missing", d);
	CHECK(chdir(d) == 0);
	CHECK(symlink("f1", "link") == 0);
	dirfd = open(d, O_DIRECTORY | O_RDONLY);
	CHECK(dirfd >= 0);
	coll_start(&c, args);

	/* open, cwd-relative */
	fd = syscall(SYS_open, "f1", O_CREAT | O_WRONLY, 0640);
	CHECK(fd >= 0);
	e = coll_find(&c, NERRF_OP_OPEN, getpid(), "/f1", 5000);
	check_header(e, NERRF_OP_OPEN, fd);
	CHECK_STR(ev_path(e), p1);
	CHECK_STR(ev_raw(e), "f1");
	CHECK_EQ_U64(e->fd, fd);
	CHECK_EQ_U64(e->arg_flags, O_CREAT | O_WRONLY);
	CHECK_EQ_U64(e->mode, 0640);
	CHECK(!(e->flags & (NERRF_EF_PATH_FALLBACK | NERRF_EF_PATH_TRUNC)), "flags %#x", e->flags);
	check_inode(e, p1);
	close(fd);

	/* openat, dirfd-relative */
	fd = syscall(SYS_openat, dirfd, "f2", O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 0);
	e = coll_find(&c, NERRF_OP_OPENAT, getpid(), "/f2", 5000);
	check_header(e, NERRF_OP_OPENAT, fd);
	CHECK_STR(ev_path(e), p2);
	CHECK_STR(ev_raw(e), "f2");
	CHECK_EQ_U64(e->arg_flags, O_CREAT | O_RDWR);
	CHECK_EQ_U64(e->mode, 0600);
	check_inode(e, p2);
	close(fd);

	/* openat through a symlink: the path is the file's, raw the caller's */
	fd = syscall(SYS_openat, AT_FDCWD, "link", O_RDONLY, 0);
	CHECK(fd >= 0);
	e = coll_find(&c, NERRF_OP_OPENAT, getpid(), "/f1", 5000);
	check_header(e, NERRF_OP_OPENAT, fd);
	CHECK_STR(ev_path(e), p1);
	CHECK_STR(ev_raw(e), "link");
	check_inode(e, p1);
	close(fd);

	/* a failing openat: ret is -errno, the path is built from cwd + name */
	CHECK(syscall(SYS_openat, AT_FDCWD, "missing", O_RDONLY, 0) == -1 && errno == ENOENT);
	e = coll_find(&c, NERRF_OP_OPENAT, getpid(), "/missing", 5000);
	check_header(e, NERRF_OP_OPENAT, -ENOENT);
	CHECK_STR(ev_path(e), miss);
	CHECK(e->flags & NERRF_EF_PATH_FALLBACK, "flags %#x", e->flags);
	CHECK_EQ_U64(e->ino, 0);

	/* openat2, absolute name: raw is dropped when it equals the path */
	struct open_how how = { .flags = O_RDONLY };
	fd = syscall(SYS_openat2, AT_FDCWD, p1, &how, sizeof(how));
	CHECK(fd >= 0);
	e = coll_find(&c, NERRF_OP_OPENAT2, getpid(), "/f1", 5000);
	check_header(e, NERRF_OP_OPENAT2, fd);
	CHECK_STR(ev_path(e), p1);
	CHECK(ev_raw(e) == NULL, "raw %s", ev_raw(e));
	CHECK_EQ_U64(e->arg_flags, O_RDONLY);
	close(fd);

	/* creat */
	fd = syscall(SYS_creat, "f3", 0644);
	CHECK(fd >= 0);
	e = coll_find(&c, NERRF_OP_CREAT, getpid(), "/f3", 5000);
	check_header(e, NERRF_OP_CREAT, fd);
	CHECK_STR(ev_path(e), p3);
	CHECK_EQ_U64(e->arg_flags, O_CREAT | O_WRONLY | O_TRUNC);
	CHECK_EQ_U64(e->mode, 0644);
	check_inode(e, p3);
	close(fd);

	coll_stop(&c);
	coll_free(&c);
	unlink(p1), unlink(p2), unlink(p3), unlink("link");
	rmdir(d);
	return 0;
}
