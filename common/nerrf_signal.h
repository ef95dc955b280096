/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signals every nerrf process acts on, as flags its loop reads. The
 * handler sets a flag and does nothing else. No SA_RESTART: a loop waiting
 * in a syscall wakes with EINTR and looks at the flags at once.
 */
#ifndef NERRF_SIGNAL_H
#define NERRF_SIGNAL_H

#include <signal.h>

/* SIGINT, SIGTERM: stop. SIGHUP: read the configuration again. */
extern volatile sig_atomic_t nerrf_stop, nerrf_reload;

/*
 * SIGHUP. A stage catches it on the first line of main(): a reload asked
 * for while it starts must not end it, and is done once its loop runs.
 */
void nerrf_catch_reload(void);
/* SIGINT and SIGTERM; SIGPIPE is ignored (a vanished peer is a write error). */
void nerrf_catch_stop(void);

#endif /* NERRF_SIGNAL_H */
