/* SPDX-License-Identifier: Apache-2.0 */
/* nerrf: run the pipeline (run), watch its events (tail) and counters (stats). */
#include <stdio.h>
#include <string.h>

#include "nerrf.h"
#include "supervisor.h"
#include "nerrf_version.h"

static void usage(FILE *f)
{
	fputs("Usage: nerrf COMMAND [options]\n\n"
	      "  run     start collector, encoder and publisher and supervise them (root)\n"
	      "  tail    subscribe and print events as a table or JSON lines\n"
	      "  stats   print per-hop counters and rates\n"
	      "  replay  print the events kept in journal segments (offline)\n"
	      "  config  check FILE: validate the configuration, print what each stage runs with\n\n"
	      "nerrf COMMAND --help shows a command's options; see also docs/nerrf.1.md.\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "tail") == 0)
		return cmd_tail(argc - 1, argv + 1);
	if (strcmp(argv[1], "replay") == 0)
		return cmd_replay(argc - 1, argv + 1);
	if (strcmp(argv[1], "stats") == 0)
		return cmd_stats(argc - 1, argv + 1);
	if (strcmp(argv[1], "config") == 0)
		return cmd_config(argc - 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0) {
		printf("nerrf %s\n", NERRF_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "nerrf: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
