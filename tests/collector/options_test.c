/* SPDX-License-Identifier: Apache-2.0 */
/* Bad flag values fail at start, exit status 2, with a message that names
 * the flag; nothing is loaded. */
#include <stdio.h>
#include <string.h>
#include "harness.h"
#include "lib/spawn.h"

static char conf[300];

static void expect_refused(const char *flag, const char *value)
{
	const char *bin = getenv("NERRF_COLLECTOR");
	char *argv[] = {(char *)bin, "--rundir", "/nonexistent-nerrf", (char *)flag, (char *)value,
			NULL};
	char out[4096];

	int rc = pt_run_capture(argv, false, out, sizeof(out), 30000);
	CHECK(rc == 2, "%s %s: status %d, output: %s", flag, value, rc, out);
	CHECK(strstr(out, flag), "%s %s: message does not name the flag: %s", flag, value, out);
}

int main(void)
{
	if (!getenv("NERRF_COLLECTOR"))
		FAIL("NERRF_COLLECTOR is not set; run through meson test");
	/* An empty config file the collector accepts: root's, in a root-only dir. */
	if (geteuid() != 0)
		test_skip("options_test needs root: the collector reads only root-owned config files");
	snprintf(conf, sizeof(conf), "%s/tracker.conf", test_tmpdir("options"));
	FILE *f = fopen(conf, "w");
	CHECK(f && fclose(f) == 0);
	setenv("NERRF_CONFIG", conf, 1);
	expect_refused("--ringbuf-size", "3000");
	expect_refused("--ringbuf-size", "1k");
	expect_refused("--ring1-size", "12M");
	expect_refused("--sample-bytes", "257");
	expect_refused("--sample-bytes", "-1");
	expect_refused("--syscalls", "openat,bogus");
	expect_refused("--pid", "0");
	expect_refused("--pid", "12x");
	expect_refused("--exclude-tree", "abc");
	expect_refused("--uid", "root");
	expect_refused("--net-family", "inet,ipx");
	expect_refused("--net-family", ",");
	expect_refused("--net-port", "0");
	expect_refused("--net-port", "65536");
	expect_refused("--ring-mode", "0666");
	expect_refused("--ring-mode", "rw");
	expect_refused("--comm", "a-name-longer-than-15");
	expect_refused("--path-prefix", "relative/dir");
	expect_refused("--cgroup", "/nonexistent-cgroup");
	expect_refused("--rundir", "relative");
	unlink(conf);
	*strrchr(conf, '/') = 0;
	rmdir(conf);
	return 0;
}
