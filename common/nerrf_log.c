/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nerrf_log.h"
#include "nerrf_time.h"

static const char *prog = "nerrf";
static bool verbose;

void log_init(const char *name, bool v)
{
	prog = name;
	verbose = v;
}

bool log_verbose(void)
{
	return verbose;
}

/* One write per line, so lines from several processes on one stderr never mix. */
static void vlog(const char *fmt, va_list ap, int e)
{
	char line[2048];
	int n = snprintf(line, sizeof(line), "%s: ", prog);

	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (e && (size_t)n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(e));
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	fwrite(line, 1, (size_t)n, stderr);
}

void log_warn(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, e);
	va_end(ap);
	errno = e;
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, 0);
	va_end(ap);
}

bool log_warnx_limited(struct nerrf_ratelimit *rl, const char *fmt, ...)
{
	char msg[1800];
	uint64_t held;
	va_list ap;

	if (!nerrf_ratelimit(rl, nerrf_mono_ns(), &held))
		return false;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (held)
		log_warnx("%s (%llu more like it held back)", msg, (unsigned long long)held);
	else
		log_warnx("%s", msg);
	return true;
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap, 0);
	va_end(ap);
}

void fatal(int code, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, e);
	va_end(ap);
	exit(code);
}

void fatalx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, 0);
	va_end(ap);
	exit(code);
}
