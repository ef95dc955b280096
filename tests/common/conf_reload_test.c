/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a reload builds on: the file read again through the directory fd
 * held since the start (after an editor replaced it), the keys whose values
 * changed (each occurrence, in order; --key value and --key=value alike),
 * where a bad value came from, and the report that sorts the changed keys
 * into "in force now" and "needs restart".
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "harness.h"
#include "nerrf_conf.h"
#include "nerrf_log.h"

static const struct option opts[] = {
	{"config", required_argument, NULL, 'c'},
	{"ring1-size", required_argument, NULL, 'r'},
	{"path-prefix", required_argument, NULL, 'p'},
	{"path", required_argument, NULL, 'P'},
	{"all-writes", no_argument, NULL, 'w'},
	{"verbose", no_argument, NULL, 'v'},
	{NULL, 0, NULL, 0},
};
static const char *const live[] = {"path-prefix", "all-writes", NULL};

static char dir[256], path[300];

/* As an editor saves: a new file renamed over the old one. */
static void write_conf(const char *text)
{
	char tmp[320];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	CHECK(f != NULL);
	CHECK(fputs(text, f) >= 0 && fclose(f) == 0);
	CHECK(rename(tmp, path) == 0);
}

static void load_at(int dfd, int argc, char **argv, const char *text, struct nerrf_conf_argv *a)
{
	char err[512];
	write_conf(text);
	CHECK(nerrf_conf_load_at(dfd, argc, argv, "collector", opts, false, a, err, sizeof(err)) == 0,
	      "%s", err);
}

/* Changed keys between two texts, joined by spaces. */
static const char *changed(const char *x, const char *y, int argc, char **argv)
{
	static char out[256];
	struct nerrf_conf_argv a, b;
	const char *keys[8];

	load_at(-1, argc, argv, x, &a);
	load_at(-1, argc, argv, y, &b);
	size_t n = nerrf_conf_changed(&a, &b, opts, keys, 8);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? " " : "", keys[i]);
	nerrf_conf_free(&a);
	nerrf_conf_free(&b);
	return out;
}

int main(void)
{
	char *argv[] = {"prog", "--config", path, "--verbose", NULL};
	char *argv_val[] = {"prog", "--config", path, "--path-prefix", "/cmd", NULL};
	struct nerrf_conf_argv boot, cur, next;
	char where[512], log[400];

	snprintf(dir, sizeof(dir), "%s", test_tmpdir("conf-reload"));
	snprintf(path, sizeof(path), "%s/tracker.conf", dir);

	/* Diffs: values, order and count of repeats, flags; "path" is not "path-prefix". */
	CHECK_STR(changed("[collector]\npath-prefix = /a\n", "[collector]\npath-prefix = /a\n", 4,
			  argv), "");
	CHECK_STR(changed("[collector]\npath-prefix = /a\n", "[collector]\npath-prefix = /b\n", 4,
			  argv), "path-prefix");
	CHECK_STR(changed("[collector]\npath-prefix = /a\npath-prefix = /b\n",
			  "[collector]\npath-prefix = /b\npath-prefix = /a\n", 4, argv), "path-prefix");
	CHECK_STR(changed("[collector]\npath-prefix = /a\n",
			  "[collector]\npath-prefix = /a\npath-prefix = /b\n", 4, argv), "path-prefix");
	CHECK_STR(changed("[collector]\npath = /a\n", "[collector]\npath = /a\npath-prefix = /a\n", 4,
			  argv), "path-prefix");
	CHECK_STR(changed("[collector]\nall-writes = true\n", "[collector]\nall-writes = false\n", 4,
			  argv), "all-writes");
	CHECK_STR(changed("[collector]\nring1-size = 4M\nall-writes = yes\n",
			  "[collector]\nring1-size = 8M\n[encoder]\nmax-batch = 3\n", 4, argv),
		  "ring1-size all-writes");
	/* the command line's own --key value pair stays the same whatever the file says */
	CHECK_STR(changed("[collector]\nring1-size = 4M\n", "[collector]\nring1-size = 4M\n", 5,
			  argv_val), "");
	CHECK_STR(changed("", "[collector]\npath-prefix = /f\n", 5, argv_val), "path-prefix");

	/* Where a value came from: file and line with the key, or the command line. */
	load_at(-1, 5, argv_val, "# one\n[collector]\n\nring1-size = 3\n", &next);
	CHECK_EQ_U64(next.argc, 6);
	nerrf_conf_origin(&next, 2, "collector", where, sizeof(where));
	snprintf(log, sizeof(log), "%s:4: [collector] ring1-size", path);
	CHECK_STR(where, log);
	nerrf_conf_origin(&next, 6, "collector", where, sizeof(where)); /* --path-prefix /cmd */
	CHECK_STR(where, "the command line");
	nerrf_conf_free(&next);

	/* Read again through the directory held since the start, after a rename over it. */
	int dfd = nerrf_conf_dir(4, argv, where, sizeof(where));
	CHECK(dfd >= 0, "%s", where);
	load_at(dfd, 4, argv, "[collector]\npath-prefix = /one\n", &boot);
	CHECK_STR(boot.argv[1], "--path-prefix=/one");
	load_at(dfd, 4, argv, "[collector]\npath-prefix = /two\nring1-size = 8M\n", &next);
	CHECK_STR(next.argv[1], "--path-prefix=/two");
	CHECK_STR(next.path, path);

	/* The report: live keys since the last reload, the rest since the start. */
	int saved = dup(2);
	char logf[320];
	snprintf(logf, sizeof(logf), "%s/log", dir);
	int lfd = open(logf, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	CHECK(saved >= 0 && lfd >= 0 && dup2(lfd, 2) == 2);
	log_init("prog", false);
	size_t n1 = nerrf_conf_report(&boot, &boot, &next, opts, live);
	load_at(dfd, 4, argv, "[collector]\npath-prefix = /two\nring1-size = 8M\n", &cur);
	size_t n2 = nerrf_conf_report(&boot, &next, &cur, opts, live);
	fflush(stderr);
	CHECK(dup2(saved, 2) == 2);
	close(lfd);
	CHECK_EQ_U64(n1, 1);
	CHECK_EQ_U64(n2, 0);
	FILE *f = fopen(logf, "r");
	CHECK(f != NULL);
	const char *want[] = {
		"prog: reload: path-prefix changed: in force now\n",
		"prog: reload: ring1-size changed: needs restart (the value it started with stays "
		"in force until then)\n",
		/* the second reload: nothing live, the restart still pending */
		"prog: reload: ring1-size changed: needs restart (the value it started with stays "
		"in force until then)\n",
	};
	for (size_t i = 0; i < 3; i++) {
		CHECK(fgets(log, sizeof(log), f) != NULL, "line %zu of the report missing", i + 1);
		CHECK_STR(log, want[i]);
	}
	CHECK(fgets(log, sizeof(log), f) && strstr(log, "nothing changes live"), "%s", log);
	fclose(f);

	nerrf_conf_free(&boot);
	nerrf_conf_free(&next);
	nerrf_conf_free(&cur);
	close(dfd);
	unlink(logf);
	unlink(path);
	rmdir(dir);
	return 0;
}
