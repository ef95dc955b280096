/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A ring larger than the process may make is refused at once, with a message
 * that names the limit, and no handle; a ring within the limit is made as
 * usual. The limit here is RLIMIT_FSIZE (ulimit -f, systemd's LimitFSIZE=),
 * which memory files obey like any file. (Running out of memory itself, the
 * other way the ring's up-front allocation fails, would need a memory
 * cgroup.)
 */
#include <signal.h>
#include <sys/resource.h>

#include "ring_test.h"

int main(void)
{
	struct rlimit rl = { .rlim_cur = 1 << 20, .rlim_max = RLIM_INFINITY };
	struct nerrf_ring_prod *p = (void *)1;
	const char *msg = NULL;
	int ret;

	signal(SIGXFSZ, SIG_IGN); /* the kernel's signal for the limit would end the test */
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);

	ret = nerrf_ring_create("test-ring", 4 << 20, &p, &msg);
	CHECK(ret == -EFBIG, "a 4 MiB ring under a 1 MiB limit: %d, expected -EFBIG", ret);
	CHECK(p == NULL);
	CHECK(msg && strstr(msg, "ulimit -f") && strstr(msg, "smaller ring"), "message: %s",
	      msg ? msg : "none");

	p = open_prod(64 << 10);
	nerrf_ring_prod_close(p);
	return 0;
}
