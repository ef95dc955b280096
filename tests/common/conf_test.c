/* SPDX-License-Identifier: Apache-2.0 */
/* The configuration file: merging into argv, and a clear error for each kind of bad input. */
#include <signal.h>
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

static void write_conf_n(const char *text, size_t len)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	CHECK(fwrite(text, 1, len, f) == len);
	fclose(f);
}

static void write_conf(const char *text)
{
	write_conf_n(text, strlen(text));
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
	for (const char *p = err; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7f, "raw byte %#x in \"%s\"", (unsigned char)*p, err);
}

/* As expect_error, for text with NUL bytes. */
static void expect_error_n(const char *text, size_t len, const char *want)
{
	char *argv[] = {"prog", "--config", path, NULL};
	struct nerrf_conf_argv a;
	char err[512] = "";
	write_conf_n(text, len);
	CHECK(nerrf_conf_load(3, argv, "collector", opts, false, &a, err, sizeof(err)) == -1,
	      "accepted %zu bytes", len);
	CHECK(strstr(err, want), "error \"%s\" does not mention \"%s\"", err, want);
}

/* --config names something other than a regular file: refused at once, trusted or not. */
static void expect_not_file(const char *name, const char *what)
{
	char arg[400], err[512] = "";
	struct nerrf_conf_argv a;
	snprintf(arg, sizeof(arg), "--config=%s", name);
	char *argv[] = {"prog", arg, NULL};
	for (int trusted = 0; trusted < 2; trusted++) {
		CHECK(nerrf_conf_load(2, argv, "collector", opts, trusted, &a, err, sizeof(err)) == -1,
		      "%s accepted", name);
		CHECK(strstr(err, what) && strstr(err, "regular file"), "%s: %s", name, err);
	}
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

	/* NUL bytes, a byte order mark, and garbage get their own messages, escaped and cut. */
	static const char nul[] = "[collector]\nverbose = true\nall-wr\0ites = 1\n";
	expect_error_n(nul, sizeof(nul) - 1, ":3: NUL byte");
	expect_error_n("\0\0\0\0", 4, ":1: NUL byte");
	memset(longline, 'x', sizeof(longline) - 2);
	longline[100] = '\0';
	expect_error_n(longline, sizeof(longline) - 1, ":1: NUL byte");
	expect_error("\xef\xbb\xbf[collector]\nverbose = true\n",
		     ":1: the file starts with a UTF-8 byte order mark; save it as UTF-8 without one");
	expect_error("[collector]\nverb\x1b[2Jose = 1\n", ":2: [collector] has no key "
		     "'verb\\x1b[2Jose'");
	expect_error("\x7f""ELF\x02\x01\x01\n", ":1: expected 'key = value', got "
		     "'\\x7fELF\\x02\\x01\\x01'");
	expect_error("[coll\rector]\n", ":1: unknown section [coll\\x0dector]");
	expect_error("[collector]\nverbose = \xff\xfe\n", "'\\xff\\xfe' is not a boolean");
	memset(longline, '\x01', 3000);
	longline[3000] = '\0';
	expect_error(longline, "expected 'key = value', got '\\x01\\x01");
	{
		char *argv1[] = {"prog", "--config", path, NULL};
		char err1[512];
		CHECK(load(longline, false, &a, err1, sizeof(err1), 3, argv1) == -1);
		CHECK(strlen(err1) < 200 && strstr(err1, "...'"), "not cut short: %s", err1);
	}

	/*
	 * A FIFO, a directory or a device is refused before a single read: a
	 * FIFO with no writer would otherwise block the start for ever. The
	 * alarm turns such a hang into a failure.
	 */
	char fifo[320];
	snprintf(fifo, sizeof(fifo), "%s/fifo.conf", dir);
	CHECK(mkfifo(fifo, 0600) == 0, "mkfifo: %s", strerror(errno));
	alarm(10);
	expect_not_file(fifo, "is a FIFO");
	alarm(0);
	unlink(fifo);
	expect_not_file(dir, "is a directory");
	expect_not_file("/dev/zero", "is a character device");
	/* /dev/null stays the way to say "no configuration". */
	char *none[] = {"prog", "--config", "/dev/null", "--verbose", NULL};
	CHECK(nerrf_conf_load(4, none, "collector", opts, false, &a, err, sizeof(err)) == 0, "%s",
	      err);
	CHECK_EQ_U64(a.argc, 4);
	nerrf_conf_free(&a);
	setenv("NERRF_CONFIG", dir, 1);
	CHECK(nerrf_conf_load(1, argv, "collector", opts, false, &a, err, sizeof(err)) == -1);
	CHECK(strstr(err, "is a directory"), "%s", err);
	unsetenv("NERRF_CONFIG");

	/* A missing default file is fine; a missing named file is an error. */
	setenv("NERRF_CONFIG", "", 1);
	char *plain[] = {"prog", "--verbose", NULL};
	CHECK(nerrf_conf_load(2, plain, "collector", opts, false, &a, err, sizeof(err)) == 0 ||
	      access(NERRF_CONF_DEFAULT, F_OK) == 0, "%s", err);
	if (access(NERRF_CONF_DEFAULT, F_OK) != 0) {
		CHECK_EQ_U64(a.argc, 2);
		nerrf_conf_free(&a);
		/* Also for a privileged stage, whose default directory may be missing too. */
		CHECK(nerrf_conf_load(2, plain, "collector", opts, true, &a, err, sizeof(err)) == 0,
		      "%s", err);
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
		/* The directory it was opened from, too. */
		CHECK(chmod(dir, 0777) == 0);
		CHECK(nerrf_conf_load(2, plain, "collector", opts, true, &a, err, sizeof(err)) == -1);
		CHECK(strstr(err, "the directory holding the configuration") && strstr(err, dir),
		      "%s", err);
		CHECK(chmod(dir, 0700) == 0);
		CHECK(chown(path, 65534, 65534) == 0);
		CHECK(nerrf_conf_load(2, plain, "collector", opts, true, &a, err, sizeof(err)) == -1);
		CHECK(strstr(err, "owned by root"), "%s", err);
	}

	unlink(path);
	rmdir(dir);
	return 0;
}
