/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nerrf_parse.h"

/* Room for the escaped value a message repeats: about 60 bytes of it. */
#define SHOWN_LEN 64

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Not isspace(): the locale must not decide what a number is. */
static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static __attribute__((format(printf, 3, 4))) char *
print(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return buf;
}

/* Shown as it is; everything else as \xNN, the backslash too, so it reads unambiguously. */
static bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\';
}

void nerrf_escape(char *out, size_t outlen, const char *s, size_t len)
{
	size_t total = 0, o = 0;

	for (size_t i = 0; i < len; i++)
		total += plain((unsigned char)s[i]) ? 1 : 4;
	/* Cut short: leave room for the "...". */
	size_t limit = total < outlen ? outlen - 1 : outlen - 4;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (o + (plain(c) ? 1 : 4) > limit)
			break;
		if (plain(c))
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
	}
	if (total >= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static int fail(char *err, size_t errlen, const char *name, const char *s, const char *want,
		const char *why)
{
	char shown[SHOWN_LEN];

	nerrf_escape(shown, sizeof(shown), s, strlen(s));
	snprintf(err, errlen, "%s%s%s: %s; want %s", name, *s ? " " : "", shown, why, want);
	return -1;
}

int nerrf_parse_names(const char *name, const char *s, const char *const names[], size_t n,
		      uint64_t *out, char *err, size_t errlen)
{
	char want[512] = "some of: all", why[SHOWN_LEN + 32] = "no name given";
	uint64_t v = 0;
	size_t w = strlen(want);

	for (size_t i = 0; i < n && w < sizeof(want); i++)
		w += (size_t)snprintf(want + w, sizeof(want) - w, ", %s", names[i]);
	for (const char *p = s; *p;) {
		size_t len = strcspn(p, ","), i;

		for (i = 0; i < n && (strlen(names[i]) != len || strncmp(p, names[i], len)); i++)
			;
		if (i < n) {
			v |= 1ull << i;
		} else if (len == 3 && strncmp(p, "all", 3) == 0) {
			v |= n == 64 ? ~0ull : (1ull << n) - 1;
		} else if (len) {
			char shown[SHOWN_LEN];

			nerrf_escape(shown, sizeof(shown), p, len);
			snprintf(why, sizeof(why), "unknown name '%s'", shown);
			return fail(err, errlen, name, s, want, why);
		}
		p += len + (p[len] == ',');
	}
	if (!v)
		return fail(err, errlen, name, s, want, why);
	*out = v;
	return 0;
}

/*
 * The decimal number s starts with, and where it ends; false with the
 * reason in why when s does not start with one we accept.
 */
static bool scan(const char *s, uint64_t *v, const char **end, char *why, size_t n)
{
	const char *p = s;
	uint64_t x = 0;

	if (!*s) {
		print(why, n, "empty value");
		return false;
	}
	if (space(*s)) {
		print(why, n, "whitespace around the number");
		return false;
	}
	if (*s == '-' || *s == '+') {
		print(why, n, *s == '-' ? "negative values are not allowed" : "no sign allowed");
		return false;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		print(why, n, "hexadecimal is not accepted, numbers are decimal");
		return false;
	}
	if (!digit(*s)) {
		print(why, n, "not a number");
		return false;
	}
	if (s[0] == '0' && digit(s[1])) {
		char bare[SHOWN_LEN];
		p = s + strspn(s, "0");
		if (!digit(*p))
			p--;
		nerrf_escape(bare, sizeof(bare), p, strlen(p));
		print(why, n, "leading zero; numbers are decimal here, not octal: write %s", bare);
		return false;
	}
	for (; digit(*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (x > (UINT64_MAX - d) / 10) {
			print(why, n, "too large");
			return false;
		}
		x = x * 10 + d;
	}
	if (space(*p)) {
		print(why, n, "whitespace around the number");
		return false;
	}
	*v = x;
	*end = p;
	return true;
}

static bool in_range(uint64_t v, uint64_t min, uint64_t max, char *why, size_t n)
{
	if (v < min)
		print(why, n, "too small");
	else if (v > max)
		print(why, n, "too large");
	return v >= min && v <= max;
}

int nerrf_parse_uint(const char *name, const char *s, uint64_t min, uint64_t max, uint64_t *out,
		     char *err, size_t errlen)
{
	char want[96], why[128], rest[SHOWN_LEN];
	const char *end;
	uint64_t v;

	print(want, sizeof(want), "a number from %llu to %llu", (unsigned long long)min,
	      (unsigned long long)max);
	if (!scan(s, &v, &end, why, sizeof(why)))
		return fail(err, errlen, name, s, want, why);
	if (*end) {
		nerrf_escape(rest, sizeof(rest), end, strlen(end));
		return fail(err, errlen, name, s, want,
			    print(why, sizeof(why), "unexpected '%s' after the number", rest));
	}
	if (!in_range(v, min, max, why, sizeof(why)))
		return fail(err, errlen, name, s, want, why);
	*out = v;
	return 0;
}

/* 65536 -> "64K"; a number without a whole suffix as it is. */
static const char *size_str(char *buf, size_t n, uint64_t v)
{
	static const char suffix[] = "TGMK";

	for (unsigned i = 0, shift = 40; i < 4; i++, shift -= 10)
		if (v && !(v & ((1ull << shift) - 1)))
			return print(buf, n, "%llu%c", (unsigned long long)(v >> shift), suffix[i]);
	return print(buf, n, "%llu", (unsigned long long)v);
}

int nerrf_parse_size(const char *name, const char *s, uint64_t min, uint64_t max, bool pow2,
		     uint64_t *out, char *err, size_t errlen)
{
	char want[160], why[128], rest[SHOWN_LEN], lo[24], hi[24];
	const char *end, *suffix;
	unsigned shift = 0;
	uint64_t v;

	size_str(lo, sizeof(lo), min);
	size_str(hi, sizeof(hi), max);
	print(want, sizeof(want), "%s from %llu to %llu bytes (%s to %s; suffixes K, M, G, T)",
	      pow2 ? "a power of two" : "a size", (unsigned long long)min,
	      (unsigned long long)max, lo, hi);
	if (!scan(s, &v, &end, why, sizeof(why)))
		return fail(err, errlen, name, s, want, why);
	suffix = end;
	switch (*end) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	}
	if (shift)
		end++;
	if (*end) {
		nerrf_escape(rest, sizeof(rest), suffix, strlen(suffix));
		return fail(err, errlen, name, s, want,
			    space(*end) ? "whitespace around the number" :
			    print(why, sizeof(why), "unknown suffix '%s'", rest));
	}
	if (v > UINT64_MAX >> shift)
		return fail(err, errlen, name, s, want, "too large");
	v <<= shift;
	if (!in_range(v, min, max, why, sizeof(why)))
		return fail(err, errlen, name, s, want, why);
	if (pow2 && (v & (v - 1)))
		return fail(err, errlen, name, s, want, "not a power of two");
	*out = v;
	return 0;
}

static const char *unit_name(uint64_t unit)
{
	return unit == NERRF_S ? "seconds" : unit == NERRF_MS ? "milliseconds" : "microseconds";
}

/* 10000000 us -> "10s": in the largest unit that keeps it whole. */
static const char *duration_str(char *buf, size_t n, uint64_t v, uint64_t unit)
{
	static const struct { uint64_t ns; const char *name; } units[] = {
		{NERRF_S, "s"}, {NERRF_MS, "ms"}, {NERRF_US, "us"},
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (units[i].ns < unit || v > UINT64_MAX / unit)
			continue;
		if ((v * unit) % units[i].ns == 0 && (v || units[i].ns == unit))
			return print(buf, n, "%llu%s", (unsigned long long)(v * unit / units[i].ns),
				     units[i].name);
	}
	return print(buf, n, "%llu%s", (unsigned long long)v,
		     unit == NERRF_S ? "s" : unit == NERRF_MS ? "ms" : "us");
}

int nerrf_parse_duration(const char *name, const char *s, uint64_t unit, uint64_t min,
			 uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	char want[160], why[128], rest[SHOWN_LEN], lo[32], hi[32];
	const char *end;
	uint64_t v, given = unit;

	print(want, sizeof(want), "a duration from %s to %s: a number of %s, or one with a unit "
	      "us, ms or s", duration_str(lo, sizeof(lo), min, unit),
	      duration_str(hi, sizeof(hi), max, unit), unit_name(unit));
	if (!scan(s, &v, &end, why, sizeof(why)))
		return fail(err, errlen, name, s, want, why);
	if (strcmp(end, "us") == 0)
		given = NERRF_US;
	else if (strcmp(end, "ms") == 0)
		given = NERRF_MS;
	else if (strcmp(end, "s") == 0)
		given = NERRF_S;
	else if (*end) {
		nerrf_escape(rest, sizeof(rest), end, strlen(end));
		return fail(err, errlen, name, s, want,
			    space(*end) ? "whitespace around the number" :
			    print(why, sizeof(why), "unknown unit '%s'", rest));
	}
	/* The units are powers of 1000 apart: each step is exact. */
	if (given > unit) {
		if (v > UINT64_MAX / (given / unit))
			return fail(err, errlen, name, s, want, "too large");
		v *= given / unit;
	} else if (given < unit) {
		if (v % (unit / given))
			return fail(err, errlen, name, s, want,
				    print(why, sizeof(why), "not a whole number of %s",
					  unit_name(unit)));
		v /= unit / given;
	}
	if (!in_range(v, min, max, why, sizeof(why)))
		return fail(err, errlen, name, s, want, why);
	*out = v;
	return 0;
}

int nerrf_parse_mode(const char *name, const char *s, unsigned deny, unsigned *out, char *err,
		     size_t errlen)
{
	char want[128], why[96];
	const char *p = s;
	unsigned v = 0;

	if (deny == 0007)
		print(want, sizeof(want), "an octal mode like 0660, at most 0777, without access "
		      "for others (the bits 007)");
	else if (deny)
		print(want, sizeof(want), "an octal mode like 0660, at most 0777, without the bits %03o",
		      deny);
	else
		print(want, sizeof(want), "an octal mode like 0660, at most 0777");
	for (; *p >= '0' && *p <= '7'; p++)
		if (v <= 0777) /* further digits only make it larger: stop before overflowing */
			v = v * 8 + (unsigned)(*p - '0');
	if (!*s)
		return fail(err, errlen, name, s, want, "empty value");
	if (*p)
		return fail(err, errlen, name, s, want,
			    space(*p) ? "whitespace around the mode" :
			    *p == '-' || *p == '+' ? "no sign allowed" :
			    digit(*p) ? "8 and 9 are not octal digits" : "not an octal mode");
	if (v > 0777)
		return fail(err, errlen, name, s, want, "too large");
	if (v & deny)
		return fail(err, errlen, name, s, want,
			    print(why, sizeof(why), "the bits %03o are not allowed here", v & deny));
	*out = v;
	return 0;
}
