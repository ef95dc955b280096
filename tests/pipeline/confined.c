/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Under `nerrf run` every stage confines itself: each thread of the
 * collector, the encoder and the publisher runs under a seccomp filter with
 * no_new_privs, and an event still goes all the way through. That the
 * filters refuse what they should is checked per stage (encoder sandbox_test,
 * publisher_sandbox, the collector's privdrop test).
 */
#include "confine.h"
#include "e2e.h"

int main(void)
{
	struct e2e e = {0};
	uint64_t n;

	e2e_require("the confined pipeline test", true);
	e2e_dirs(&e, "e2e-confined");
	e2e_child(&e, e2e_no_work, NULL);
	e2e_run(&e, NULL);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	e2e_go(&e, e.sub, 1);
	static const char *const stages[] = {"collector", "encoder", "publisher"};
	for (int i = 0; i < 3; i++) {
		pid_t pid = e2e_stage_pid(&e, stages[i]);
		CHECK(pid > 0, "no %s pid in nerrf run's log: %s", stages[i], pt_slurp(e.err));
		confine_check_status(pid, stages[i]);
	}
	CHECK(read(e.done_fd, &n, sizeof(n)) == sizeof(n), "the child's report");
	e2e_finish(&e);
	return 0;
}
