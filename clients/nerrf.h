/* SPDX-License-Identifier: Apache-2.0 */
/* The nerrf command's subcommands (private to clients/). */
#ifndef NERRF_CLI_H
#define NERRF_CLI_H

#include <signal.h>

extern volatile sig_atomic_t nerrf_stop;

int cmd_run(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_stats(int argc, char **argv);

#endif
