/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration file, /etc/nerrf/tracker.conf by default:
 *
 *   # comment
 *   [collector]
 *   ringbuf-size = 16777216
 *   path-prefix = /home
 *   path-prefix = /srv
 *   [publisher]
 *   listen = tcp://127.0.0.1:5555
 *
 * A section's keys are exactly the long options of that stage, so the file
 * and the command line go through one parser and one set of checks: the
 * file's options are placed before the command line's, and a flag given on
 * the command line wins over the file (repeatable options accumulate).
 * Boolean options take true/false/yes/no/1/0.
 *
 * Unknown keys, missing values and malformed lines fail at start, naming the
 * file, line and key.
 */
#ifndef NERRF_CONF_H
#define NERRF_CONF_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#define NERRF_CONF_DEFAULT "/etc/nerrf/tracker.conf"

struct nerrf_conf_argv {
	int argc;
	char **argv; /* argv[0], the file's options, then the command line's */
};

/*
 * Builds the merged argv for `section`. The file is the value of --config
 * (or --config=) on the command line, else $NERRF_CONFIG, else the default; a
 * missing default file is not an error, a missing named one is. With
 * trusted_only, the file (and its directory) must be owned by root and not
 * writable by group or others — for a stage that reads it as root.
 * `opts` must include {"config", required_argument, ...} so getopt accepts it.
 * Returns 0, or -1 with a message in err.
 */
int nerrf_conf_load(int argc, char **argv, const char *section, const struct option *opts,
		    bool trusted_only, struct nerrf_conf_argv *out, char *err, size_t errlen);

void nerrf_conf_free(struct nerrf_conf_argv *a);

#endif /* NERRF_CONF_H */
