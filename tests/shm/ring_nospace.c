/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A ring that does not fit where it is created is refused at once, with a
 * message that says so, and leaves no file behind; it never becomes a sparse
 * file that raises SIGBUS on some later record. The ring directory check
 * tells tmpfs from disk filesystems. Needs root (mounts a small tmpfs).
 */
#include <errno.h>
#include <sys/mount.h>

#include "ring_test.h"

int main(void)
{
	char dir[] = "/tmp/nerrf-nospace-XXXXXX", path[64];
	struct nerrf_ring *p = NULL;
	const char *msg = NULL;

	if (geteuid() != 0)
		test_skip("mounting a small tmpfs needs root");
	CHECK(mkdtemp(dir) != NULL);
	if (mount("nerrf-test", dir, "tmpfs", 0, "size=256k") != 0)
		test_skip("cannot mount a tmpfs here: %s", strerror(errno));
	CHECK(nerrf_ring_dir_in_memory(dir));
	snprintf(path, sizeof(path), "%s/ring", dir);

	int ret = nerrf_ring_open_producer(path, 1 << 20, 0600, &p, &msg);
	CHECK(ret == -ENOSPC, "a 1 MiB ring on a 256 KiB tmpfs: %d, expected -ENOSPC", ret);
	CHECK(p == NULL);
	CHECK(msg && strstr(msg, "smaller ring"), "message: %s", msg ? msg : "none");
	CHECK(access(path, F_OK) != 0, "the refused ring file was left behind");

	ret = nerrf_ring_open_producer(path, 64 << 10, 0600, &p, &msg);
	CHECK(ret == 0, "a 64 KiB ring fits: %d (%s)", ret, msg ? msg : "");
	nerrf_ring_close(p);

	CHECK(umount(dir) == 0);
	CHECK(rmdir(dir) == 0);
	return 0;
}
