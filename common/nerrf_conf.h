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
 * Boolean options take true/false/yes/no/1/0. config, help, version and
 * check-config are options only, never keys.
 *
 * Values are checked by the stages, numbers by nerrf_parse.h.
 *
 * Unknown keys, missing values and malformed lines fail at start, naming the
 * file, line and key, with the file's bytes escaped (\xNN) and cut short. So
 * do a NUL byte and a leading UTF-8 byte order mark, each with its own
 * message. The file must be a regular file (or /dev/null, read as empty): a
 * FIFO, another device or a directory is refused before anything is read.
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
	int *line;   /* per argv entry: the file's line it came from, 0 for the command line */
	char *path;  /* the file read; NULL when there was none */
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

/* The command line alone, no file: for a stage that must act when the file is refused. */
int nerrf_conf_cmdline(int argc, char **argv, const char *section, struct nerrf_conf_argv *out,
		       char *err, size_t errlen);

void nerrf_conf_free(struct nerrf_conf_argv *a);

/*
 * Reloading (SIGHUP). A stage reads the file again with the command line it
 * started with, parses the result into new options, and keeps its old ones
 * whole if anything is wrong. Keys whose value changed are in force at once
 * when the stage can apply them live, and reported as needing a restart
 * otherwise.
 */

/*
 * An O_PATH fd of the configuration's directory, for a stage that must read
 * the file again once it can no longer open that directory by name (the
 * collector, after its privilege drop). -1 when the default file's
 * directory is absent; -2 with a message on error.
 */
int nerrf_conf_dir(int argc, char **argv, char *err, size_t errlen);

/* nerrf_conf_load, the file opened through dirfd when it is >= 0 (and checked as there). */
int nerrf_conf_load_at(int dirfd, int argc, char **argv, const char *section,
		       const struct option *opts, bool trusted_only, struct nerrf_conf_argv *out,
		       char *err, size_t errlen);

/*
 * Where the option getopt_long just returned (optind as it left it) came
 * from: "FILE:LINE: [section] key", or "the command line".
 */
void nerrf_conf_origin(const struct nerrf_conf_argv *a, int optind, const char *section,
		       char *buf, size_t len);

/*
 * The long options of opts whose values (each occurrence, in order) differ
 * between a and b, by name in the table's order; at most max, returns how many.
 */
size_t nerrf_conf_changed(const struct nerrf_conf_argv *a, const struct nerrf_conf_argv *b,
			  const struct option *opts, const char **changed, size_t max);

/*
 * Logs a clean reload (nerrf_log: "prog: reload: ..."): each key changed
 * since cur that is in live (NULL-terminated) as in force now, each key
 * changed since boot (the start) that is not as needing a restart. Returns
 * how many live keys changed.
 */
size_t nerrf_conf_report(const struct nerrf_conf_argv *boot, const struct nerrf_conf_argv *cur,
			 const struct nerrf_conf_argv *next, const struct option *opts,
			 const char *const *live);

#endif /* NERRF_CONF_H */
