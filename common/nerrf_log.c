/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "nerrf_log.h"
#include "nerrf_time.h"

static const char *prog = "nerrf";
static bool verbose;
/* -1 until the first log_init looks: stderr is the journal's stream */
static int journal = -1;

/* $JOURNAL_STREAM is "DEVICE:INODE" of the stream systemd gave us; a child may have another. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
	       st.st_dev == dev && st.st_ino == ino;
}

void log_init(const char *name, bool v)
{
	prog = name;
	verbose = v;
	/* once: a later call may come after a seccomp filter that refuses fstat */
	if (journal < 0)
		journal = stderr_is_journal();
}

bool log_verbose(void)
{
	return verbose;
}

/* One write per line, so lines from several processes on one stderr never mix. */
static void vlog(int pri, const char *fmt, va_list ap, int e)
{
	char line[2048];
	int n = journal > 0 ? snprintf(line, sizeof(line), "<%d>%s: ", pri, prog)
			    : snprintf(line, sizeof(line), "%s: ", prog);

	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (e && (size_t)n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(e));
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	fwrite(line, 1, (size_t)n, stderr);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, 0);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, e);
	va_end(ap);
	errno = e;
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, 0);
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
	vlog(LOG_DEBUG, fmt, ap, 0);
	va_end(ap);
}

void fatal(int code, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap, e);
	va_end(ap);
	exit(code);
}

void fatalx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap, 0);
	va_end(ap);
	exit(code);
}
