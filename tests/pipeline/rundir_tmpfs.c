/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `nerrf run` keeps the rings in memory: given a rundir on a disk
 * filesystem it mounts a tmpfs there while it runs (and the pipeline works
 * through it), and unmounts it when it stops.
 */
#include "e2e.h"

int main(void)
{
	struct e2e e = {0};
	uint64_t n;

	e2e_require("the rundir tmpfs test", true);
	e2e_dirs(&e, "e2e-tmpfs");
	if (nerrf_ring_dir_in_memory(e.dir))
		test_skip("TMPDIR is already memory-backed: nothing to mount; run with "
			  "TMPDIR on a disk filesystem");
	e2e_child(&e, e2e_no_work, NULL);
	e2e_run(&e, NULL);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	e2e_go(&e, e.sub, 1);
	CHECK(nerrf_ring_dir_in_memory(e.rundir), "rundir %s is not on tmpfs while running: %s",
	      e.rundir, pt_slurp(e.err));
	CHECK(strstr(pt_slurp(e.err), "mounted a tmpfs") != NULL, "no notice: %s",
	      pt_slurp(e.err));
	CHECK(read(e.done_fd, &n, sizeof(n)) == sizeof(n), "the child's report");
	nng_close(e.sub);
	char rundir[sizeof(e.rundir)];
	memcpy(rundir, e.rundir, sizeof(rundir));
	e2e_finish(&e);
	/* removing the directory fails on a mount point, so gone = unmounted */
	CHECK(access(rundir, F_OK) != 0 && errno == ENOENT,
	      "%s is still there (still a tmpfs?) after nerrf run stopped", rundir);
	return 0;
}
