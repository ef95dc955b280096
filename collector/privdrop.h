/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's one-way door: after it, the process has no capability in
 * any set, runs as an unprivileged uid/gid, cannot regain privilege through
 * exec, and may only make the few syscalls the drain loop needs.
 */
#ifndef NERRF_PRIVDROP_H
#define NERRF_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Drops everything: supplementary groups, gid, uid, all capability sets
 * (bounding and ambient included), dumpability; sets no_new_privs and
 * installs the seccomp allowlist (other syscalls fail with EPERM). Files
 * can then be opened only read-only through conf_dir (the configuration's
 * directory, held for reloads; -1: not at all). Must run single-threaded,
 * as root or with CAP_SETUID, CAP_SETGID and CAP_SETPCAP. Returns 0 or -1
 * with err set; on failure the caller must exit.
 */
int nerrf_privdrop(uid_t uid, gid_t gid, int conf_dir, char *err, size_t errlen);

#endif /* NERRF_PRIVDROP_H */
