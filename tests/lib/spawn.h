/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running the binaries under test as real processes: start, wait, stop, and
 * read what they wrote. Every child dies with the test (PR_SET_PDEATHSIG), so
 * a failed check leaves no process behind.
 */
#ifndef NERRF_TESTLIB_SPAWN_H
#define NERRF_TESTLIB_SPAWN_H

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "harness.h"
#include "nerrf_time.h"

/* The binary named by $env, which must be executable (meson test sets it). */
const char *pt_bin(const char *env);

/*
 * Starts argv[0] with stderr (if err_path) and stdout (if out_path) going to
 * those files; it gets death_sig when the test dies.
 */
pid_t pt_spawn_sig(char *const argv[], const char *err_path, const char *out_path, int death_sig);
pid_t pt_spawn_io(char *const argv[], const char *err_path, const char *out_path);
pid_t pt_spawn(char *const argv[], const char *err_path);

/* Exit status of pid (128 + signal when killed), waiting at most ms; -1 if still running. */
int pt_wait_exit(pid_t pid, int ms);
/* SIGTERM; the process must exit 0 within 5 s. */
void pt_stop(pid_t pid);

/*
 * Runs argv with stdin from /dev/null and its stderr (and stdout too if
 * both) in out (NUL-terminated, cut at len); returns the exit status (128 +
 * signal when killed), or -1 when it still ran after timeout_ms (then killed).
 */
int pt_run_capture(char *const argv[], bool both, char *out, size_t len, int timeout_ms);

/* The file's first 64 KiB as a string ("" if it cannot be read); one static buffer. */
char *pt_slurp(const char *path);
/* Lines of the file at path that contain needle. */
int pt_count_lines(const char *path, const char *needle);
/* CPU time (user + system) pid has used, in seconds, from /proc/PID/stat. */
double pt_cpu_seconds(pid_t pid);
void pt_rm_rf(const char *dir);
/* Runs a shell command, which must succeed. */
void pt_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
