/* SPDX-License-Identifier: Apache-2.0 */
/* Bad flag values fail at start, exit status 2, with a message that names
 * the flag; nothing is loaded. --check-config shows every option given, as
 * a file that reads back to the same. */
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

/* --check-config with these options, and again from its own output as the file. */
static void expect_round_trip(char *const opts[], const char *const want[])
{
	const char *bin = getenv("NERRF_COLLECTOR");
	char *argv[40] = {(char *)bin, "--check-config"}, out[8192], again[8192];
	int n = 2;

	for (int i = 0; opts[i] && n < 39; i++)
		argv[n++] = opts[i];
	CHECK(pt_run_capture(argv, true, out, sizeof(out), 30000) == 0, "%s", out);
	for (int i = 0; want[i]; i++) {
		char line[256];
		snprintf(line, sizeof(line), "\n%s\n", want[i]);
		CHECK(strstr(out, line), "--check-config does not show \"%s\": %s", want[i], out);
	}
	FILE *f = fopen(conf, "w");
	CHECK(f && fputs(out, f) >= 0 && fclose(f) == 0);
	char *argv2[] = {(char *)bin, "--check-config", NULL};
	CHECK(pt_run_capture(argv2, true, again, sizeof(again), 30000) == 0, "%s", again);
	CHECK(strcmp(out, again) == 0, "read back from its own output:\n%s\nbecame\n%s", out,
	      again);
	CHECK((f = fopen(conf, "w")) && fclose(f) == 0);
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
	char *opts[] = {"--net-family", "inet6,unix", "--net-port", "443", "--net-port", "22",
			"--net-loopback", "--uid", "1000", "--exclude-comm", "sshd", "--cgroup", "7",
			"--path-prefix", "/home", "--syscalls", "openat,write", "--pid", "1",
			"--wakeup-us", "500", NULL};
	const char *want[] = {"net-family = inet6,unix", "net-port = 443", "net-port = 22",
			      "net-loopback = true", "uid = 1000", "exclude-comm = sshd",
			      "cgroup = 7", "path-prefix = /home", "syscalls = openat,write",
			      "pid = 1", NULL};
	expect_round_trip(opts, want);
	unlink(conf);
	*strrchr(conf, '/') = 0;
	rmdir(conf);
	return 0;
}
