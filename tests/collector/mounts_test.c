/* SPDX-License-Identifier: Apache-2.0 */
/* Paths across mounts, as the caller named them: a file in a bind mount
 * (whose mount root is not its filesystem's root), and one on a tmpfs
 * mounted inside that bind mount, where the walk crosses two mounts. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "common_checks.h"

static void check_open(struct coll *c, const char *path, const char *suffix)
{
	const struct nerrf_event *e;
	int fd = open(path, O_CREAT | O_WRONLY, 0600);

	CHECK(fd >= 0, "%s: %s", path, strerror(errno));
	e = coll_find(c, NERRF_OP_OPENAT, getpid(), suffix, 5000);
	CHECK(e != NULL, "no event for %s", path);
	CHECK_STR(ev_path(e), path);
	CHECK(!(e->flags & (NERRF_EF_PATH_FALLBACK | NERRF_EF_PATH_TRUNC)), "flags %#x", e->flags);
	close(fd);
}

int main(void)
{
	char self[16], real[4200], bound[4200], mnt[4300], p1[4300], p2[4400];
	const char *args[] = { "--pid", self, "--syscalls", "openat", NULL };
	struct coll c;
	const char *d;

	test_require_root("mounts_test");
	d = real_tmpdir("mounts");
	snprintf(self, sizeof(self), "%d", getpid());
	snprintf(real, sizeof(real), "%s/real", d);
	snprintf(bound, sizeof(bound), "%s/bound", d);
	snprintf(mnt, sizeof(mnt), "%s/mnt", bound);
	snprintf(p1, sizeof(p1), "%s/in-bind", bound);
	snprintf(p2, sizeof(p2), "%s/on-tmpfs", mnt);
	CHECK(mkdir(real, 0755) == 0 && mkdir(bound, 0755) == 0);
	if (mount(real, bound, NULL, MS_BIND, NULL) != 0)
		test_skip("cannot bind-mount here: %s", strerror(errno));
	CHECK(mkdir(mnt, 0755) == 0);
	CHECK(mount("nerrf-test", mnt, "tmpfs", 0, "size=1m") == 0, "tmpfs: %s", strerror(errno));
	coll_start(&c, args);

	check_open(&c, p1, "/in-bind");
	check_open(&c, p2, "/on-tmpfs");

	coll_stop(&c);
	coll_free(&c);
	CHECK(umount(mnt) == 0 && umount(bound) == 0);
	return 0;
}
