/* SPDX-License-Identifier: Apache-2.0 */
/* Bad flags fail at start with exit 2 and a message saying what to do; --help works. */
#include "harness.h"
#include "lib/spawn.h"

static const char *encoder;

/* Runs the encoder with args; returns its exit status, output (both streams) in out. */
static int run(const char *const *args, char *out, size_t len)
{
	const char *argv[16] = {encoder, "--config", "/dev/null"};
	int argc = 3;

	while (*args)
		argv[argc++] = *args++;
	argv[argc] = NULL;
	return pt_run_capture((char *const *)argv, true, out, len, 30000);
}

static void expect_fail(const char *const *args, const char *want)
{
	char out[4096];

	CHECK(run(args, out, sizeof(out)) == 2, "accepted %s ...: %s", args[0], out);
	if (!strstr(out, want))
		FAIL("message for %s does not say \"%s\": %s", args[0], want, out);
}

int main(int argc, char **argv)
{
	char out[8192];

	CHECK(argc == 2, "usage: cli_test NERRF_ENCODER");
	encoder = argv[1];

	CHECK(run((const char *[]){"--help", NULL}, out, sizeof(out)) == 0);
	CHECK(strstr(out, "--latency-us") && strstr(out, "--raw-sample"), "%s", out);

	expect_fail((const char *[]){"--ring2-size", "100000", NULL}, "power of two");
	expect_fail((const char *[]){"--ring2-size", "1K", NULL}, "from 65536");
	expect_fail((const char *[]){"--max-batch", "0", NULL}, "from 1 to");
	expect_fail((const char *[]){"--max-batch-bytes", "12x", NULL}, "--max-batch-bytes 12x");
	expect_fail((const char *[]){"--latency-us", "-5", NULL}, "--latency-us -5");
	expect_fail((const char *[]){"--ring2-size", "256K", "--max-batch-bytes", "1M", NULL},
		    "raise --ring2-size");
	expect_fail((const char *[]){"--no-such-flag", NULL}, "--help");
	expect_fail((const char *[]){"stray", NULL}, "unexpected argument");
	return 0;
}
