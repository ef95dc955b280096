/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every stage and client reads numbers through nerrf_parse: the inputs their
 * old parsers took (0x10 as 16, 020M as octal, 01000 as 512, 17179869185G
 * wrapped to 1G, leading blanks and signs) now stop the real binaries at
 * start with status 2 and the parser's message. A binary that accepts one
 * instead runs on, and is killed and reported after a few seconds.
 *
 * Usage: stage_numbers NERRF_COLLECTOR NERRF_ENCODER NERRF_PUBLISHER NERRF
 */
#include "harness.h"
#include "lib/spawn.h"

#define NOWHERE "/nonexistent-nerrf-numbers"

static const char *bin[4];
enum { COLLECTOR, ENCODER, PUBLISHER, NERRF };

static void expect_refused(int which, const char *sub, const char *opt, const char *value,
			   const char *why)
{
	const char *argv[12];
	char out[4096];
	int n = 0;

	argv[n++] = bin[which];
	if (sub)
		argv[n++] = sub;
	if (which == NERRF) {
		argv[n++] = "--url";
		argv[n++] = "ipc://" NOWHERE "/events.sock";
	} else {
		argv[n++] = "--rundir";
		argv[n++] = NOWHERE;
	}
	if (which == COLLECTOR) {
		/* Accepted by mistake, it stops here rather than loading anything. */
		argv[n++] = "--user";
		argv[n++] = "nerrf-no-such-user";
	}
	argv[n++] = opt;
	argv[n++] = value;
	argv[n] = NULL;
	int rc = pt_run_capture((char *const *)argv, true, out, sizeof(out), 5000);
	if (rc < 0)
		FAIL("%s %s %s '%s': still running after 5 s, the value was accepted: %s",
		     bin[which], sub ? sub : "", opt, value, out);
	CHECK(rc == 2, "%s %s '%s': status %d: %s", bin[which], opt, value, rc, out);
	char head[200];
	snprintf(head, sizeof(head), "%s %s: ", opt, value);
	CHECK(strstr(out, head) && strstr(out, why), "%s %s '%s': want \"%s...%s\", got: %s",
	      bin[which], opt, value, head, why, out);
}

int main(int argc, char **argv)
{
	CHECK(argc == 5, "usage: stage_numbers NERRF_COLLECTOR NERRF_ENCODER NERRF_PUBLISHER NERRF");
	for (int i = 0; i < 4; i++)
		bin[i] = argv[i + 1];
	unsetenv("NERRF_CONFIG");
	unsetenv("NERRF_LISTEN");
	unsetenv("TRACKER_LISTEN_ADDR");

	expect_refused(ENCODER, NULL, "--max-batch", "0x10", "hexadecimal is not accepted");
	expect_refused(ENCODER, NULL, "--ring2-size", "17179869185G", "too large");
	expect_refused(ENCODER, NULL, "--max-batch-bytes", "020M", "leading zero");
	expect_refused(ENCODER, NULL, "--latency-us", " 50", "whitespace");

	expect_refused(COLLECTOR, NULL, "--uid", "01000", "not octal: write 1000");
	expect_refused(COLLECTOR, NULL, "--wakeup-us", "0x10", "hexadecimal is not accepted");
	expect_refused(COLLECTOR, NULL, "--cgroup", "0x10", "hexadecimal is not accepted");
	expect_refused(COLLECTOR, NULL, "--ring-mode", " 0660", "whitespace");

	expect_refused(PUBLISHER, NULL, "--sendbuf", " 5", "whitespace");
	expect_refused(PUBLISHER, NULL, "--start-grace", "+5", "no sign allowed");
	expect_refused(PUBLISHER, NULL, "--ipc-mode", "0660 ", "whitespace");

	expect_refused(NERRF, "tail", "--count", " 3", "whitespace");
	expect_refused(NERRF, "tail", "--pid", "+777", "no sign allowed");
	expect_refused(NERRF, "tail", "--pid", "4194305", "too large");
	expect_refused(NERRF, "stats", "--timeout", "+5", "no sign allowed");
	return 0;
}
