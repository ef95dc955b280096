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

/* How pt_start runs a child; what is left zero is inherited, or as we are. */
struct pt_child {
	const char *err, *out; /* files for stderr and stdout; one path for both: one file */
	bool append;           /* add to the files instead of truncating them */
	int err_fd;            /* > 0: stderr to this fd (a pipe's end) instead */
	uid_t uid;             /* > 0: as this uid, its gid the same, no other groups */
	const char *cwd;
	char *const *env;      /* NAME=VALUE strings added to the environment, NULL-terminated */
	int death_sig;         /* what it gets when the test dies; 0: SIGKILL */
};

/*
 * Starts argv[0] as c says. The child exits 126 when it cannot be set up
 * that way, 127 when argv[0] cannot be run.
 */
pid_t pt_start(char *const argv[], const struct pt_child *c);
/* The common cases: stderr (if err_path) and stdout (if out_path) to those files. */
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
