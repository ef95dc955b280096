/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf run: the root supervisor. It starts the three stages with the
 * privilege split of docs/ARCHITECTURE.md and supervises them; everything
 * in this folder runs as root, and works on the run directory only through
 * checked directory fds.
 */
#ifndef NERRF_SUPERVISOR_H
#define NERRF_SUPERVISOR_H

#include <stddef.h>

int cmd_run(int argc, char **argv);
/*
 * Where nerrf-<name> is, as nerrf run finds it: $NERRF_LIBEXEC, beside this
 * program, the build tree, the install directory. 0, or -1 with a message.
 */
int nerrf_stage_path(const char *name, char *out, size_t len);

#endif
