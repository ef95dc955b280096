/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One way to talk to the operator, for every process: a line on stderr,
 * prefixed with the program's name (journald adds the time). As in BSD
 * err(3): the *x forms print the message alone, the others append the errno
 * text; fatal and fatalx then exit. Messages say what went wrong and what to
 * do about it.
 *
 * Levels: log_info for what the operator may want to know (started,
 * listening, a reload in force), log_warn* for what went wrong or may have,
 * fatal* for why we stop, log_debug with --verbose only. When stderr is the
 * journal's stream (systemd's $JOURNAL_STREAM), each line starts with its
 * syslog priority, "<6>" and so on, which journald takes off and files the
 * line under: `journalctl -p warning` then shows the warnings alone.
 */
#ifndef NERRF_LOG_H
#define NERRF_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "nerrf_ratelimit.h"

void log_init(const char *prog, bool verbose);
bool log_verbose(void);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only with --verbose. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * log_warnx at most once a second per rl, for a condition a peer can repeat
 * at will (a corrupt ring, a refused connection); the line says how many
 * like it were held back before it. True if it went out.
 */
bool log_warnx_limited(struct nerrf_ratelimit *rl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
_Noreturn void fatal(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void fatalx(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* NERRF_LOG_H */
