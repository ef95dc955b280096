/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The notify protocol by hand (one datagram to $NOTIFY_SOCKET, a path or
 * @abstract name), not libsystemd: linking it would put liblzma, libzstd,
 * liblz4 and libgcrypt into the root collector for forty lines of work.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nerrf_notify.h"
#include "nerrf_time.h"

#define STATUS_EVERY_NS 5000000000ull

static struct {
	bool on, watchdog, failed;
	uint64_t every_ns, last_ns;
} nt;

/* 0, or -errno; what sd_notify(3) does with a datagram socket of its own. */
static int notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t plen = path ? strlen(path) : 0;

	if (plen < 2 || plen >= sizeof(a.sun_path) || (path[0] != '/' && path[0] != '@'))
		return -EINVAL;
	memcpy(a.sun_path, path, plen);
	if (path[0] == '@')
		a.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct iovec iov = {(void *)msg, strlen(msg)};
	struct msghdr m = {.msg_name = &a,
			   .msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
						      (path[0] == '/')),
			   .msg_iov = &iov,
			   .msg_iovlen = 1};
	int rv = sendmsg(fd, &m, MSG_NOSIGNAL) < 0 ? -errno : 0;
	close(fd);
	return rv;
}

/* A watchdog for us: $WATCHDOG_USEC, and $WATCHDOG_PID ours if set. */
static uint64_t watchdog_usec(void)
{
	const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	char *end;

	if (!us || (pid && strtol(pid, NULL, 10) != (long)getpid()))
		return 0;
	errno = 0;
	unsigned long long v = strtoull(us, &end, 10);
	return errno || end == us || *end ? 0 : v;
}

static void send_status(const char *head, const char *fmt, va_list ap)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "%sSTATUS=", head);
	int e;

	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	e = notify(msg);
	/* Once: a stage that cannot reach systemd is restarted by its watchdog, say why. */
	if (e < 0 && !nt.failed) {
		nt.failed = true;
		fprintf(stderr, "%s: telling systemd (NOTIFY_SOCKET=%s) failed: %s; with "
			"WatchdogSec= it will restart this stage\n", program_invocation_short_name,
			getenv("NOTIFY_SOCKET"), strerror(-e));
	}
}

void nerrf_notify_ready(const char *fmt, ...)
{
	uint64_t usec = 0;
	va_list ap;

	nt.on = getenv("NOTIFY_SOCKET") != NULL;
	if (!nt.on)
		return;
	usec = watchdog_usec();
	nt.watchdog = usec > 0;
	nt.every_ns = nt.watchdog ? usec * 1000 / 3 : STATUS_EVERY_NS;
	nt.last_ns = nerrf_mono_ns();
	va_start(ap, fmt);
	send_status("READY=1\n", fmt, ap);
	va_end(ap);
}

bool nerrf_notify_due(uint64_t now_ns, double *secs)
{
	if (!nt.on || now_ns - nt.last_ns < nt.every_ns)
		return false;
	if (secs)
		*secs = (double)(now_ns - nt.last_ns) / 1e9;
	nt.last_ns = now_ns;
	return true;
}

void nerrf_notify_alive(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_status(nt.watchdog ? "WATCHDOG=1\n" : "", fmt, ap);
	va_end(ap);
}

bool nerrf_notify_is_ready(const void *msg, size_t len)
{
	static const char ready[] = "READY=1";
	const char *p = msg, *end = p + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		if (n == sizeof(ready) - 1 && memcmp(p, ready, n) == 0)
			return true;
		p += n + 1;
	}
	return false;
}
