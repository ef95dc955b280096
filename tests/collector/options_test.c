/* SPDX-License-Identifier: Apache-2.0 */
/* Bad flag values fail at start, exit status 2, with a message that names
 * the flag; nothing is loaded. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

static char conf[300];

static void expect_refused(const char *flag, const char *value)
{
	const char *bin = getenv("NERRF_COLLECTOR");
	char out[4096] = "";
	size_t len = 0;
	int pfd[2], st;
	pid_t pid;

	CHECK(pipe(pfd) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		setenv("NERRF_CONFIG", conf, 1);
		execl(bin, bin, "--rundir", "/nonexistent-nerrf", flag, value, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	for (ssize_t r; (r = read(pfd[0], out + len, sizeof(out) - 1 - len)) > 0;)
		len += r;
	out[len] = 0;
	close(pfd[0]);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2, "%s %s: status %#x, output: %s", flag, value,
	      st, out);
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
