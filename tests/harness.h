/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared test harness: one small program per behaviour, exit 0 pass,
 * 1 fail, 77 skip (meson's convention). A failed check prints where and why
 * and exits at once, so a test can never pass by falling through.
 */
#ifndef NERRF_TEST_HARNESS_H
#define NERRF_TEST_HARNESS_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_SKIP 77

/* scripts/test sets NERRF_TEST_SCALE=sanitize for the ASan/UBSan and TSan runs:
 * smaller counts, more time. */
static inline int scale_sanitize(void)
{
	const char *s = getenv("NERRF_TEST_SCALE");
	return s && strcmp(s, "sanitize") == 0;
}

static inline __attribute__((noreturn, format(printf, 3, 4))) void
test_fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

#define FAIL(...) test_fail_at(__FILE__, __LINE__, __VA_ARGS__)

static inline __attribute__((noreturn, format(printf, 4, 5))) void
test_check_failed(const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "FAIL %s:%d: check '%s' failed:", file, line, expr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

#ifdef __clang__
#pragma clang diagnostic ignored "-Wgnu-zero-variadic-macro-arguments"
#endif
/* CHECK(cond) or CHECK(cond, "printf format", args...) */
#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond))                                                    \
			test_check_failed(__FILE__, __LINE__, #cond, " " __VA_ARGS__); \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                      \
	do {                                                                    \
		unsigned long long a_ = (unsigned long long)(a);                \
		unsigned long long b_ = (unsigned long long)(b);                \
		if (a_ != b_)                                                   \
			FAIL("%s == %s: %llu != %llu", #a, #b, a_, b_);         \
	} while (0)

#define CHECK_STR(a, b)                                                         \
	do {                                                                    \
		const char *a_ = (a), *b_ = (b);                                \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                          \
			FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b,              \
			     a_ ? a_ : "(null)", b_ ? b_ : "(null)");           \
	} while (0)

static inline __attribute__((noreturn, format(printf, 1, 2))) void
test_skip(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "SKIP: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(TEST_SKIP);
}

/* Scratch directory, removed by the caller (tests run in parallel). */
static inline char *test_tmpdir(const char *name)
{
	const char *base = getenv("TMPDIR");
	static char buf[256];
	snprintf(buf, sizeof(buf), "%s/nerrf-%s-XXXXXX", base ? base : "/tmp", name);
	if (!mkdtemp(buf))
		FAIL("mkdtemp %s: %s", buf, strerror(errno));
	return buf;
}

/* Tests that load BPF programs need CAP_BPF+CAP_PERFMON; run as root. */
static inline void test_require_root(const char *why)
{
	if (geteuid() != 0)
		test_skip("%s needs root (CAP_BPF, CAP_PERFMON); run the suite as root", why);
}

#endif /* NERRF_TEST_HARNESS_H */
