/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf config check: what each real stage would run with, as sections of
 * the file format, so that the output checked again prints itself (defaults
 * and the file's values alike); an invalid file exits 1 naming the file, the
 * line and the key; the collector's rule that only root may own its file
 * holds here too.
 */
#include <sys/stat.h>

#include "harness.h"
#include "lib/spawn.h"

static char dir[256], conf[300], out[300], out2[300], err[300];

static int check(const char *file, const char *stdout_path)
{
	char *argv[] = {(char *)pt_bin("NERRF_CLI"), "config", "check", (char *)file, NULL};
	pid_t pid = pt_spawn_io(argv, err, stdout_path);
	int rc = pt_wait_exit(pid, 30000);
	CHECK(rc >= 0, "nerrf config check did not finish within 30 s");
	return rc;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	CHECK(fputs(text, f) >= 0 && fclose(f) == 0);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s", test_tmpdir("config-check"));
	snprintf(conf, sizeof(conf), "%s/tracker.conf", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(out2, sizeof(out2), "%s/out2.conf", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	write_file(conf, "[collector]\npath-prefix = /home\ncomm = bash\n"
			 "[encoder]\nmax-batch = 10\n[publisher]\nsendbuf = 64\n"
			 "[exporter]\nstats-interval = 2s\n"
			 "[forward]\nnats = nats://127.0.0.1:4222\nwindow = 64\nstart = oldest\n");
	CHECK(chmod(conf, 0644) == 0);

	if (geteuid() != 0) {
		/* Our own file: the collector, which reads it as root, refuses it. */
		CHECK(check(conf, out) == 1, "%s", pt_slurp(err));
		CHECK(strstr(pt_slurp(err), "must be owned by root"), "%s", pt_slurp(err));
		test_skip("the rest needs a root-owned configuration: run as root");
	}
	CHECK(check(conf, out) == 0, "%s", pt_slurp(err));
	const char *o = pt_slurp(out);
	static const char *const want[] = {
		"[collector]\n", "\npath-prefix = /home\n", "\ncomm = bash\n", "\nsample-bytes = 64\n",
		"[encoder]\n", "\nmax-batch = 10\n", "\nlatency-us = 1000\n", "[publisher]\n",
		"\nsendbuf = 64\n", "# changes at SIGHUP: sendbuf; the rest at a restart\n",
		"[exporter]\n", "\nstats-interval = 2000ms\n", "\nlisten = 127.0.0.1:9465\n",
		"[forward]\n", "\nnats = nats://127.0.0.1:4222\n", "\nwindow = 64\n",
		"\nstart = oldest\n", "\nduplicate-window = 600s\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK(strstr(o, want[i]), "no \"%s\" in:\n%s", want[i], o);

	/* The output is a configuration that means the same. */
	char *first = strdup(o);
	CHECK(first != NULL);
	write_file(out2, first);
	CHECK(chmod(out2, 0644) == 0);
	CHECK(check(out2, out) == 0, "%s", pt_slurp(err));
	CHECK_STR(pt_slurp(out), first);
	free(first);

	/* Invalid: the stage that refuses it names file, line and key; the others still print. */
	write_file(conf, "[collector]\npath-prefix = /home\n[encoder]\n\nmax-batch = 0\n");
	CHECK(check(conf, out) == 1, "accepted max-batch = 0: %s", pt_slurp(out));
	char where[400];
	snprintf(where, sizeof(where), "%s:5: [encoder] max-batch", conf);
	CHECK(strstr(pt_slurp(err), where), "no \"%s\" in: %s", where, pt_slurp(err));
	CHECK(strstr(pt_slurp(err), "nerrf-encoder refuses the configuration"), "%s", pt_slurp(err));
	CHECK(strstr(pt_slurp(out), "[publisher]"), "%s", pt_slurp(out));

	/* The same for the forwarder, and its plain text to another host. */
	write_file(conf, "[forward]\nnats = nats://192.0.2.1:4222\n");
	CHECK(check(conf, out) == 1, "accepted plain text to 192.0.2.1: %s", pt_slurp(out));
	CHECK(strstr(pt_slurp(err), "refusing nats://192.0.2.1:4222: plain text") &&
	      strstr(pt_slurp(err), "nerrf-forward refuses the configuration"), "%s", pt_slurp(err));

	/* The collector's ownership rule. */
	write_file(conf, "[collector]\npath-prefix = /home\n");
	CHECK(chmod(conf, 0666) == 0);
	CHECK(check(conf, out) == 1);
	CHECK(strstr(pt_slurp(err), "writable only by root"), "%s", pt_slurp(err));

	pt_rm_rf(dir);
	return 0;
}
