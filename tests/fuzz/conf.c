/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration parser on arbitrary file contents. The input is written
 * to a file and loaded for each section, through both spellings of --config
 * and both trust modes, with error buffers of several sizes. Whatever the
 * file says: no crash, no read or write past a buffer (ASan), a failure
 * leaves a NUL-terminated message within errlen, and a success gives an argv
 * of argv[0], "--key[=value]" options from the table, then the command line.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"
#include "harness.h"
#include "nerrf_conf.h"

static const struct option opts[] = {
	{"config", required_argument, NULL, 'c'},
	{"ringbuf-size", required_argument, NULL, 'r'},
	{"path-prefix", required_argument, NULL, 'p'},
	{"listen", required_argument, NULL, 'l'},
	{"latency-us", required_argument, NULL, 'L'},
	{"all-writes", no_argument, NULL, 'w'},
	{"raw-sample", no_argument, NULL, 's'},
	{"verbose", no_argument, NULL, 'v'},
	{NULL, 0, NULL, 0},
};

static const char *const sections[] = {"collector", "encoder", "publisher", "nerrf"};

static char dir[256], path[300], config_eq[320];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s", test_tmpdir("fuzz-conf"));
	snprintf(path, sizeof(path), "%s/tracker.conf", dir);
	snprintf(config_eq, sizeof(config_eq), "--config=%s", path);
	atexit(cleanup);
}

static bool known_option(const char *arg)
{
	for (const struct option *o = opts; o->name; o++) {
		size_t n = strlen(o->name);
		if (strncmp(arg + 2, o->name, n) != 0 || strcmp(o->name, "config") == 0)
			continue;
		if (o->has_arg == no_argument ? arg[2 + n] == '\0' : arg[2 + n] == '=')
			return true;
	}
	return false;
}

static void load(unsigned int k)
{
	char *argv_sp[] = {"prog", "--config", path, "--verbose", NULL};
	char *argv_eq[] = {"prog", config_eq, "--verbose", NULL};
	char **argv = k & 1 ? argv_eq : argv_sp;
	int argc = k & 1 ? 3 : 4;
	const char *section = sections[k % 4];
	/* 1 byte up to more than any message: truncation must still terminate */
	size_t errlen = (size_t[]){1, 7, 64, 512}[k & 4 ? 3 - k % 4 : k % 4];
	struct nerrf_conf_argv out;
	char *err = malloc(errlen);

	FUZZ_CHECK(err, "out of memory");
	memset(err, 0x7f, errlen);
	int rc = nerrf_conf_load(argc, argv, section, opts, k & 4, &out, err, errlen);
	if (rc != 0) {
		FUZZ_CHECK(rc == -1, "rc %d", rc);
		FUZZ_CHECK(memchr(err, '\0', errlen), "error message not terminated within %zu",
			   errlen);
		FUZZ_CHECK(errlen < 512 || strstr(err, dir) || strstr(err, "memory"),
			   "error does not name the file: %s", err);
		free(err);
		return;
	}
	free(err);
	FUZZ_CHECK(out.argc >= argc && out.argv[out.argc] == NULL, "argc %d", out.argc);
	FUZZ_CHECK(strcmp(out.argv[0], "prog") == 0, "argv[0] %s", out.argv[0]);
	int file_opts = out.argc - argc;
	for (int i = 1; i <= file_opts; i++)
		FUZZ_CHECK(strncmp(out.argv[i], "--", 2) == 0 && known_option(out.argv[i]),
			   "[%s] gave '%s'", section, out.argv[i]);
	for (int i = 1; i < argc; i++)
		FUZZ_CHECK(strcmp(out.argv[file_opts + i], argv[i]) == 0,
			   "command line argument %d became '%s'", i, out.argv[file_opts + i]);
	/* A reload of the same file changes nothing; every option says where it came from. */
	const char *changed[16];
	FUZZ_CHECK(nerrf_conf_changed(&out, &out, opts, changed, 16) == 0, "'%s' differs from itself",
		   changed[0]);
	for (int i = 2; i <= out.argc; i++) {
		char where[600];
		nerrf_conf_origin(&out, i, section, where, sizeof(where));
		FUZZ_CHECK((i <= file_opts + 1) == (strstr(where, path) == where),
			   "option %d said to come from %s", i - 1, where);
	}
	nerrf_conf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0])
		setup();
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0, "cannot write %s", path);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size, "short write to %s", path);
	close(fd);
	for (unsigned int k = 0; k < 8; k++)
		load(k);
	return 0;
}
