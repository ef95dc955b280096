/* SPDX-License-Identifier: Apache-2.0 */
/* nerrf stats: the pipeline's per-hop counters and rates from the stats topic. */
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>

#include "nerrf_wire.h"
#include "print.h"
#include "subscribe.h"
#include "trace.pb-c.h"
#include "wirecheck.h"

static void stats_usage(FILE *f)
{
	fprintf(f,
		"Usage: nerrf stats [options]\n"
		"Prints the pipeline's per-hop counters and rates, once a second.\n\n"
		"  --url URL      publisher address (default ipc://<rundir>/events.sock)\n"
		"  --rundir DIR   runtime directory of the pipeline (default /run/nerrf)\n"
		"  --once         print one report and exit\n"
		"  --timeout S    with no report after S seconds, say why and exit (default %d)\n"
		"  --wait         say why, but keep waiting for the publisher\n"
		"  --max-message-bytes N  largest message accepted (default %u)\n"
		TLS_USAGE
		"  --help         this text\n"
		"Exit status: 0 done, 1 runtime error, 2 usage, 3 no publisher answers,\n"
		"4 permission denied on the socket, 5 (--once) a stage is down or silent.\n",
		DEFAULT_TIMEOUT_S, NERRF_MAX_MESSAGE_BYTES);
}

int cmd_stats(int argc, char **argv)
{
	static const struct option lo[] = {
		{"url", required_argument, NULL, 'u'},
		{"rundir", required_argument, NULL, 'r'},
		{"once", no_argument, NULL, 'o'},
		{"timeout", required_argument, NULL, 't'},
		{"wait", no_argument, NULL, 'w'},
		{"max-message-bytes", required_argument, NULL, 'B'},
		TLS_OPTIONS,
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *url = NULL, *rundir = NULL;
	struct nerrf_tls_files tls = {0};
	char urlbuf[4200];
	bool once = false, wait = false;
	long long timeout_s = DEFAULT_TIMEOUT_S;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'u':
			url = optarg;
			break;
		case 'r':
			rundir = optarg;
			break;
		case 'o':
			once = true;
			break;
		case 't':
			if (parse_secs("stats", optarg, &timeout_s) != 0)
				return 2;
			break;
		case 'w':
			wait = true;
			break;
		case 'B':
			if (parse_recv_max("stats", optarg) != 0)
				return 2;
			break;
		case 'h':
			stats_usage(stdout);
			return 0;
		case 'C': case 'K': case 'A': case 'N':
			tls_option(&tls, c, optarg);
			break;
		default:
			stats_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nerrf stats: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return 2;
	}
	if (!url)
		url = default_url(rundir, urlbuf, sizeof(urlbuf));

	nng_socket s;
	if (subscribe("stats", url, &tls, false, true, &s) != 0)
		return 1;
	nerrf_catch_stop();

	struct watch w = {.cmd = "stats", .url = url, .limit_ms = timeout_s * 1000, .wait = wait};
	Stats *prev = NULL;
	int ret = 0;
	while (!nerrf_stop) {
		nng_msg *m;
		int got = watch_recv(s, &w, &m, &ret);
		if (got < 0)
			break;
		if (!got)
			continue;
		size_t len = nng_msg_len(m);
		Stats *st = NULL;
		if (len >= NERRF_TOPIC_LEN)
			st = nerrf__trace__stats__unpack(NULL, len - NERRF_TOPIC_LEN,
							 (uint8_t *)nng_msg_body(m) +
								 NERRF_TOPIC_LEN);
		nng_msg_free(m);
		if (!st) {
			fprintf(stderr, "nerrf stats: skipped an undecodable stats message\n");
			continue;
		}
		print_stats_table(stdout, st, prev);
		/* a stage that is down or silent is named, and --once says so in its status */
		bool down = st->stage_state &&
			    (strstr(st->stage_state, "=down") || strstr(st->stage_state, "=silent"));
		if (down) {
			fprintf(stderr, "nerrf stats: a stage is not running: ");
			put_text(stderr, st->stage_state);
			fputc('\n', stderr);
		}
		if (prev)
			nerrf__trace__stats__free_unpacked(prev, NULL);
		prev = st;
		if (fflush(stdout) != 0 || once) {
			if (down)
				ret = 5;
			break;
		}
	}
	if (prev)
		nerrf__trace__stats__free_unpacked(prev, NULL);
	/* No nng_close(), as in cmd_tail. */
	return ret;
}
