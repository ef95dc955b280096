/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf config check [FILE]: each stage reads the configuration as it would
 * at start (its own parser and checks, the collector's ownership rule too)
 * and prints the result as its section, with the keys a SIGHUP changes; a
 * stage that refuses it says why, naming file, line and key. The stages are
 * the judges, so what this accepts they accept.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nerrf.h"
#include "supervisor.h"

static void config_usage(FILE *f)
{
	fputs("Usage: nerrf config check [FILE]\n"
	      "Validates the configuration (FILE, else $NERRF_CONFIG, else /etc/nerrf/tracker.conf)\n"
	      "as nerrf-collector, nerrf-encoder, nerrf-publisher, nerrf-exporter and\n"
	      "nerrf-forward read it, and prints what each would run with. Exits 1 when a stage\n"
	      "refuses it.\n",
	      f);
}

/* The stage's own --check-config: 0 accepted, else refused (it said why). */
static int check_stage(const char *name, const char *file)
{
	char path[4096];
	char *argv[5] = {path, "--check-config", NULL, NULL, NULL};
	int status;

	if (nerrf_stage_path(name, path, sizeof(path)) != 0)
		return -1;
	if (file) {
		argv[2] = "--config";
		argv[3] = (char *)file;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("nerrf config: fork");
		return -1;
	}
	if (pid == 0) {
		execv(path, argv);
		fprintf(stderr, "nerrf config: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "nerrf config: nerrf-%s refuses the configuration (above)\n", name);
		return -1;
	}
	return 0;
}

int cmd_config(int argc, char **argv)
{
	static const char *const stages[] = {"collector", "encoder", "publisher", "exporter",
					     "forward"};
	int bad = 0;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		config_usage(stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "check") != 0 || argc > 3 ||
	    (argc == 3 && argv[2][0] == '-')) {
		config_usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		if (i)
			putchar('\n');
		bad |= check_stage(stages[i], argc == 3 ? argv[2] : NULL) != 0;
	}
	return bad;
}
