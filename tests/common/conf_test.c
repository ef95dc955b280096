/* SPDX-License-Identifier: Apache-2.0 */
/* The configuration file: merging into argv, and a clear error for each kind of bad input. */
#include <sys/stat.h>

#include "harness.h"
#include "nerrf_conf.h"

static const struct option opts[] = {
	{"config", required_argument, NULL, 'c'},
	{"ringbuf-size", required_argument, NULL, 'r'},
	{"path-prefix", required_argument, NULL, 'p'},
	{"all-writes", no_argument, NULL, 'w'},
	{"verbose", no_argument, NULL, 'v'},
	{NULL, 0, NULL, 0},
};

static char dir[256], path[300];

static void write_conf(const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	fputs(text, f);
	fclose(f);
}

static int load(const char *text, bool trusted, struct nerrf_conf_argv *a, char *err, size_t n,
		int argc, char **argv)
{
	write_conf(text);
	return nerrf_conf_load(argc, argv, "collector", opts, trusted, a, err, n);
}

/* Loads text as the config named by --config; expects an error containing want. */
static void expect_error(const char *text, const char *want)
{
	char *argv[] = {"prog", "--config", path, NULL};
	struct nerrf_conf_argv a;
	char err[512] = "";
	CHECK(load(text, false, &a, err, sizeof(err), 3, argv) == -1, "accepted: %s", text);
	if (!strstr(err, want))
		FAIL("error \"%s\" does not mention \"%s\"", err, want);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s", test_tmpdir("conf"));
	snprintf(path, sizeof(path), "%s/tracker.conf", dir);

	/* Merge: file options first, only our section, booleans become bare flags. */
	char *argv[] = {"prog", "--config", path, "--ringbuf-size=4096", NULL};
	struct nerrf_conf_argv a;
	char err[512];
	int rc = load("# comment\n"
		      "[encoder]\nlatency-us = 5\n"
		      "[collector]\n"
		      "ringbuf-size = 1048576\n"
		      "  path-prefix = \"/srv/data dir\"  \n"
		      "path-prefix=/home\n"
		      "all-writes = yes\n"
		      "verbose = false\n"
		      "[publisher]\nlisten = tcp://127.0.0.1:1\n",
		      false, &a, err, sizeof(err), 4, argv);
	CHECK(rc == 0, "%s", err);
	CHECK_EQ_U64(a.argc, 8);
	CHECK_STR(a.argv[0], "prog");
	CHECK_STR(a.argv[1], "--ringbuf-size=1048576");
	CHECK_STR(a.argv[2], "--path-prefix=/srv/data dir");
	CHECK_STR(a.argv[3], "--path-prefix=/home");
	CHECK_STR(a.argv[4], "--all-writes");
	CHECK_STR(a.argv[5], "--config");
	CHECK_STR(a.argv[7], "--ringbuf-size=4096");
	CHECK(a.argv[8] == NULL);
	nerrf_conf_free(&a);

	/* Each kind of bad input names the file, the line and the problem. */
	expect_error("[collector]\nringbuff-size = 1\n", ":2: [collector] has no key 'ringbuff-size'");
	expect_error("[collector]\nconfig = /x\n", "has no key 'config'");
	expect_error("[colector]\n", ":1: unknown section [colector]");
	expect_error("[collector\n", ":1: malformed section header");
	expect_error("ringbuf-size = 1\n", ":1: key 'ringbuf-size' is outside any section");
	expect_error("[collector]\nringbuf-size =\n", ":2: [collector] ringbuf-size: missing value");
	expect_error("[collector]\nverbose = maybe\n", "verbose: 'maybe' is not a boolean");
	expect_error("[collector]\njust words\n", ":2: expected 'key = value'");
	char longline[5000];
	memset(longline, 'x', sizeof(longline) - 2);
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	expect_error(longline, "longer than");

	/* A missing default file is fine; a missing named file is an error. */
	setenv("NERRF_CONFIG", "", 1);
	char *plain[] = {"prog", "--verbose", NULL};
	CHECK(nerrf_conf_load(2, plain, "collector", opts, false, &a, err, sizeof(err)) == 0 ||
	      access(NERRF_CONF_DEFAULT, F_OK) == 0, "%s", err);
	if (access(NERRF_CONF_DEFAULT, F_OK) != 0) {
		CHECK_EQ_U64(a.argc, 2);
		nerrf_conf_free(&a);
	}
	char missing[320];
	snprintf(missing, sizeof(missing), "--config=%s/absent.conf", dir);
	char *named[] = {"prog", missing, NULL};
	CHECK(nerrf_conf_load(2, named, "collector", opts, false, &a, err, sizeof(err)) == -1);
	CHECK(strstr(err, "absent.conf") && strstr(err, "No such file"), "%s", err);

	/* NERRF_CONFIG names the file when --config is absent. */
	write_conf("[collector]\nall-writes = 1\n");
	setenv("NERRF_CONFIG", path, 1);
	CHECK(nerrf_conf_load(2, plain, "collector", opts, false, &a, err, sizeof(err)) == 0, "%s", err);
	CHECK_EQ_U64(a.argc, 3);
	CHECK_STR(a.argv[1], "--all-writes");
	nerrf_conf_free(&a);

	/* A privileged stage refuses a file others can edit. */
	chmod(path, 0666);
	CHECK(nerrf_conf_load(2, plain, "collector", opts, true, &a, err, sizeof(err)) == -1);
	CHECK(strstr(err, "writable only by root"), "%s", err);
	chmod(path, 0644);
	if (geteuid() == 0) {
		CHECK(nerrf_conf_load(2, plain, "collector", opts, true, &a, err, sizeof(err)) == 0,
		      "%s", err);
		nerrf_conf_free(&a);
		CHECK(chown(path, 65534, 65534) == 0);
		CHECK(nerrf_conf_load(2, plain, "collector", opts, true, &a, err, sizeof(err)) == -1);
		CHECK(strstr(err, "owned by root"), "%s", err);
	}

	unlink(path);
	rmdir(dir);
	return 0;
}
