/* SPDX-License-Identifier: Apache-2.0 */
/*
 * No stage outlives its supervisor: after `nerrf run` is killed with
 * SIGKILL (no chance to stop anything), the collector, which dropped to the
 * stage user after loading, the encoder and the publisher all exit within
 * seconds. The programs it pinned stay attached (nobody stopped capture for
 * good): a collector of another configuration started on the same rundir
 * replaces them, saying so, and `nerrf-collector --cleanup` then finds only
 * its set.
 */
#include "e2e.h"

int main(void)
{
	static const char *const stages[] = {"collector", "encoder", "publisher"};
	struct e2e e = {0};
	pid_t pid[3];

	e2e_require("the supervisor kill test", true);
	e2e_dirs(&e, "e2e-supkill");
	e2e_child(&e, e2e_no_work, NULL);
	e2e_run(&e, NULL);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	e2e_go(&e, e.sub, 1);
	for (int i = 0; i < 3; i++) {
		pid[i] = e2e_stage_pid(&e, stages[i]);
		CHECK(pid[i] > 0 && kill(pid[i], 0) == 0, "no running %s: %s", stages[i],
		      pt_slurp(e.err));
	}

	CHECK(kill(e.run, SIGKILL) == 0);
	CHECK(waitpid(e.run, NULL, 0) == e.run);
	/* The collector detaches its ~90 programs before it exits, one RCU grace
	 * period each: seconds, more under a sanitizer. */
	uint64_t end = nerrf_mono_ms() + 30000;
	for (int i = 0; i < 3; i++) {
		while (kill(pid[i], 0) == 0 && nerrf_mono_ms() < end)
			usleep(20000);
		CHECK(kill(pid[i], 0) != 0 && errno == ESRCH,
		      "%s (pid %d) still runs 30 s after its supervisor was killed", stages[i],
		      pid[i]);
	}

	kill(e.child, SIGKILL);
	waitpid(e.child, NULL, 0);

	/* Pins of another configuration (ring buffer size, no pid filter): replaced, not reused. */
	char next_err[PATH_MAX + 16];
	snprintf(next_err, sizeof(next_err), "%s/next.err", e.dir);
	char *next[] = {(char *)e2e_stage("collector"), "--pin", "--rundir", e.rundir,
			"--ringbuf-size", "64K", "--user", "nobody", NULL};
	pid_t np = pt_spawn(next, next_err);
	end = nerrf_mono_ms() + 60000;
	while (!strstr(pt_slurp(next_err), "ready: pid") && kill(np, 0) == 0 && nerrf_mono_ms() < end)
		usleep(50000);
	CHECK(strstr(pt_slurp(next_err), "removed programs pinned by an earlier collector of "
		     "another version or configuration"),
	      "a collector of another configuration did not replace the stale pins: %s",
	      pt_slurp(next_err));
	CHECK(!strstr(pt_slurp(next_err), "reopened the programs pinned"), "%s",
	      pt_slurp(next_err));
	CHECK(kill(np, SIGTERM) == 0 && pt_wait_exit(np, 30000) == 0, "%s", pt_slurp(next_err));

	/* nerrf run had no chance to remove the pins; that collector's set is the only one left */
	char *cleanup[] = {(char *)e2e_stage("collector"), "--cleanup", "--rundir", e.rundir, NULL};
	CHECK(pt_wait_exit(pt_spawn(cleanup, e.err), 10000) == 0, "--cleanup failed: %s",
	      pt_slurp(e.err));
	CHECK(strstr(pt_slurp(e.err), "removed 1 pinned program set") != NULL,
	      "--cleanup found no pins: %s", pt_slurp(e.err));
	pt_rm_rf(e.dir);
	return 0;
}
