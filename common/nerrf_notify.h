/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Telling the service manager how a stage is doing, by the sd_notify(3) protocol:
 * READY=1 once the stage does its job, then, from its main loop, WATCHDOG=1
 * (when the unit has WatchdogSec=) with a STATUS= line of its rates. Without
 * $NOTIFY_SOCKET (a shell, a container) nothing is sent and no
 * syscall made.
 *
 * The loop asks nerrf_notify_due() each time round; when it says so, the
 * stage formats its status for nerrf_notify_alive(). A loop that wedges stops
 * asking, the watchdog goes unpetted, and systemd restarts the stage. Each
 * stage's seccomp allowlist lets it make its datagram socket.
 */
#ifndef NERRF_NOTIFY_H
#define NERRF_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* READY=1 and a first STATUS=; arms nerrf_notify_due(). */
void nerrf_notify_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * True when a message is due at now_ns (CLOCK_MONOTONIC): a third of the
 * watchdog timeout after the last, or 5 s without a watchdog. *secs (when
 * not NULL) gets the time since the last, for rates.
 */
bool nerrf_notify_due(uint64_t now_ns, double *secs);
/*
 * The receiving side (nerrf run): whether a notify datagram of len bytes,
 * not NUL-terminated, says READY=1 on a line of its own.
 */
bool nerrf_notify_is_ready(const void *msg, size_t len);
/* WATCHDOG=1 (with a watchdog) and STATUS=. */
void nerrf_notify_alive(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* NERRF_NOTIFY_H */
