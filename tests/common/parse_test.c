/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one number syntax (nerrf_parse.h): what each parser takes, and for
 * each kind of bad input a message naming the option, the value, the
 * problem and what is wanted. The inputs the old per-stage parsers misread
 * are here: 0x10, 020M, 01000 (octal), 17179869185G (wrapped to 1G), -1,
 * " 5", "5 ", "" and 2^64.
 */
#include "harness.h"
#include "nerrf_parse.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aull

static char err[512];

/* The message of a refusal: option, value (escaped), reason and what is wanted. */
static void check_msg(const char *name, const char *s, const char *why, const char *want)
{
	char head[300], shown[64];

	nerrf_escape(shown, sizeof(shown), s, strlen(s));
	snprintf(head, sizeof(head), "%s%s%s: ", name, *s ? " " : "", shown);
	CHECK(strncmp(err, head, strlen(head)) == 0, "\"%s\" does not start with \"%s\"", err, head);
	CHECK(strstr(err, why), "\"%s\" does not say \"%s\"", err, why);
	CHECK(strstr(err, "; want "), "\"%s\" does not say what is wanted", err);
	CHECK(strstr(err, want), "\"%s\" does not say \"%s\"", err, want);
	for (const char *p = err; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7f, "raw byte %#x in \"%s\"", (unsigned char)*p, err);
}

static void uint_ok(const char *s, uint64_t min, uint64_t max, uint64_t want)
{
	uint64_t v = SENTINEL;
	CHECK(nerrf_parse_uint("--n", s, min, max, &v, err, sizeof(err)) == 0, "'%s': %s", s, err);
	CHECK(v == want, "'%s' gave %llu, want %llu", s, (unsigned long long)v,
	      (unsigned long long)want);
}

static void uint_bad(const char *s, uint64_t min, uint64_t max, const char *why)
{
	uint64_t v = SENTINEL;
	char want[80];
	CHECK(nerrf_parse_uint("--n", s, min, max, &v, err, sizeof(err)) == -1, "'%s' accepted", s);
	CHECK(v == SENTINEL, "'%s' refused but wrote %llu", s, (unsigned long long)v);
	snprintf(want, sizeof(want), "a number from %llu to %llu", (unsigned long long)min,
		 (unsigned long long)max);
	check_msg("--n", s, why, want);
}

static void size_ok(const char *s, uint64_t max, bool pow2, uint64_t want)
{
	uint64_t v = SENTINEL;
	CHECK(nerrf_parse_size("--size", s, 0, max, pow2, &v, err, sizeof(err)) == 0, "'%s': %s",
	      s, err);
	CHECK(v == want, "'%s' gave %llu, want %llu", s, (unsigned long long)v,
	      (unsigned long long)want);
}

static void size_bad(const char *s, uint64_t min, uint64_t max, bool pow2, const char *why,
		     const char *want)
{
	uint64_t v = SENTINEL;
	CHECK(nerrf_parse_size("--size", s, min, max, pow2, &v, err, sizeof(err)) == -1,
	      "'%s' accepted", s);
	CHECK(v == SENTINEL, "'%s' refused but wrote %llu", s, (unsigned long long)v);
	check_msg("--size", s, why, want);
}

static void dur_ok(const char *s, uint64_t unit, uint64_t want)
{
	uint64_t v = SENTINEL;
	CHECK(nerrf_parse_duration("--wait", s, unit, 0, UINT64_MAX, &v, err, sizeof(err)) == 0,
	      "'%s': %s", s, err);
	CHECK(v == want, "'%s' gave %llu, want %llu", s, (unsigned long long)v,
	      (unsigned long long)want);
}

static void dur_bad(const char *s, uint64_t unit, uint64_t min, uint64_t max, const char *why,
		    const char *want)
{
	uint64_t v = SENTINEL;
	CHECK(nerrf_parse_duration("--wait", s, unit, min, max, &v, err, sizeof(err)) == -1,
	      "'%s' accepted", s);
	CHECK(v == SENTINEL, "'%s' refused but wrote %llu", s, (unsigned long long)v);
	check_msg("--wait", s, why, want);
}

static void mode_ok(const char *s, unsigned deny, unsigned want)
{
	unsigned v = 01000;
	CHECK(nerrf_parse_mode("--mode", s, deny, &v, err, sizeof(err)) == 0, "'%s': %s", s, err);
	CHECK(v == want, "'%s' gave %o, want %o", s, v, want);
}

static void mode_bad(const char *s, unsigned deny, const char *why)
{
	unsigned v = 01000;
	CHECK(nerrf_parse_mode("--mode", s, deny, &v, err, sizeof(err)) == -1, "'%s' accepted", s);
	CHECK(v == 01000, "'%s' refused but wrote %o", s, v);
	check_msg("--mode", s, why, "an octal mode like 0660");
}

static void escape_is(const char *s, size_t len, size_t outlen, const char *want)
{
	char out[128];
	memset(out, 'Z', sizeof(out));
	nerrf_escape(out, outlen, s, len);
	CHECK_STR(out, want);
	CHECK(strlen(out) < outlen);
	CHECK(out[outlen] == 'Z', "wrote past %zu bytes", outlen);
}

static const char *const fams[] = {"inet", "inet6", "unix"};

static void names_ok(const char *s, uint64_t want)
{
	uint64_t v = SENTINEL;
	CHECK(nerrf_parse_names("--f", s, fams, 3, &v, err, sizeof(err)) == 0, "'%s': %s", s, err);
	CHECK(v == want, "'%s' gave %#llx, want %#llx", s, (unsigned long long)v,
	      (unsigned long long)want);
}

static void names_bad(const char *s, const char *why)
{
	uint64_t v = SENTINEL;
	CHECK(nerrf_parse_names("--f", s, fams, 3, &v, err, sizeof(err)) == -1, "'%s' accepted", s);
	CHECK(v == SENTINEL, "'%s' refused but wrote %#llx", s, (unsigned long long)v);
	check_msg("--f", s, why, "some of: all, inet, inet6, unix");
}

int main(void)
{
	/* Names out of a list: a prefix or an extension of a name is no name. */
	names_ok("inet", 1);
	names_ok("unix,inet6", 6);
	names_ok("inet,,inet", 1);
	names_ok("all", 7);
	names_ok("inet,all", 7);
	names_bad("", "no name given");
	names_bad(",", "no name given");
	names_bad("ine", "unknown name 'ine'");
	names_bad("inet66", "unknown name 'inet66'");
	names_bad("inet,ipx", "unknown name 'ipx'");
	names_bad("in\x01" "et", "unknown name 'in\\x01et'");

	/* Plain numbers: decimal, the whole range of uint64_t. */
	uint_ok("0", 0, 10, 0);
	uint_ok("1000", 0, UINT64_MAX, 1000);
	uint_ok("18446744073709551615", 0, UINT64_MAX, UINT64_MAX);
	uint_ok("65536", 1, 65536, 65536);
	uint_bad("18446744073709551616", 0, UINT64_MAX, "too large");
	uint_bad("99999999999999999999999", 0, UINT64_MAX, "too large");
	uint_bad("0x10", 0, 100, "hexadecimal is not accepted, numbers are decimal");
	uint_bad("0X10", 0, 100, "hexadecimal");
	uint_bad("01000", 0, 4294967294, "leading zero; numbers are decimal here, not octal: "
		 "write 1000");
	uint_bad("00", 0, 10, "leading zero; numbers are decimal here, not octal: write 0");
	uint_bad("-1", 0, 256, "negative values are not allowed");
	uint_bad("-0", 0, 256, "negative values are not allowed");
	uint_bad("+5", 0, 256, "no sign allowed");
	uint_bad(" 5", 0, 256, "whitespace around the number");
	uint_bad("5 ", 0, 256, "whitespace around the number");
	uint_bad("5\n", 0, 256, "whitespace around the number");
	uint_bad("", 0, 256, "empty value");
	uint_bad("12x", 0, 256, "unexpected 'x' after the number");
	uint_bad("1e3", 0, 10000, "unexpected 'e3' after the number");
	uint_bad("1.5", 0, 10, "unexpected '.5' after the number");
	uint_bad("5K", 0, 10000, "unexpected 'K' after the number");
	uint_bad("root", 0, 10, "not a number");
	uint_bad("0", 1, 65536, "too small");
	uint_bad("65537", 1, 65536, "too large");

	/* One whole message, as a stage prints it. */
	uint64_t v;
	CHECK(nerrf_parse_size("--ring2-size", "17179869185G", 64 << 10, 1u << 30, true, &v, err,
			       sizeof(err)) == -1);
	CHECK_STR(err, "--ring2-size 17179869185G: too large; want a power of two from 65536 to "
		  "1073741824 bytes (64K to 1G; suffixes K, M, G, T)");

	/* Sizes: binary suffixes in either case, overflow caught before the shift. */
	size_ok("4096", UINT64_MAX, true, 4096);
	size_ok("64K", UINT64_MAX, true, 64 << 10);
	size_ok("64k", UINT64_MAX, true, 64 << 10);
	size_ok("8M", UINT64_MAX, true, 8 << 20);
	size_ok("8m", UINT64_MAX, true, 8 << 20);
	size_ok("1G", UINT64_MAX, true, 1u << 30);
	size_ok("3g", UINT64_MAX, false, 3ull << 30);
	size_ok("2T", UINT64_MAX, true, 2ull << 40);
	size_ok("16777215T", UINT64_MAX, false, 16777215ull << 40);
	size_ok("0K", UINT64_MAX, false, 0);
	size_ok("100000", UINT64_MAX, false, 100000);
	const char *w64 = "from 65536 to 1073741824 bytes (64K to 1G";
	size_bad("17179869185G", 64 << 10, 1u << 30, true, "too large", w64);
	size_bad("16777216T", 0, UINT64_MAX, false, "too large", "a size from 0 to");
	size_bad("18446744073709551616", 0, UINT64_MAX, false, "too large", "a size");
	size_bad("2G", 64 << 10, 1u << 30, true, "too large", w64);
	size_bad("1K", 64 << 10, 1u << 30, true, "too small", w64);
	size_bad("100000", 64 << 10, 1u << 30, true, "not a power of two", "a power of two");
	size_bad("020M", 64 << 10, 1u << 30, true, "leading zero; numbers are decimal here, not "
		 "octal: write 20M", w64);
	size_bad("0x10000", 64 << 10, 1u << 30, true, "hexadecimal", w64);
	size_bad("-1", 0, 1u << 30, false, "negative", "a size");
	size_bad("8MB", 0, 1u << 30, false, "unknown suffix 'MB'", "suffixes K, M, G, T");
	size_bad("8KiB", 0, 1u << 30, false, "unknown suffix 'KiB'", "a size");
	size_bad("1.5M", 0, 1u << 30, false, "unknown suffix '.5M'", "a size");
	size_bad("8 M", 0, 1u << 30, false, "whitespace around the number", "a size");
	size_bad("8M ", 0, 1u << 30, false, "whitespace around the number", "a size");
	size_bad(" 8M", 0, 1u << 30, false, "whitespace around the number", "a size");
	size_bad("", 0, 1u << 30, false, "empty value", "a size");
	size_bad("M", 0, 1u << 30, false, "not a number", "a size");
	size_bad("3000", 4096, 1u << 30, true, "too small", "from 4096 to 1073741824 bytes "
		 "(4K to 1G");

	/* Durations: the option's unit, or an explicit us, ms or s. */
	dur_ok("250", NERRF_US, 250);
	dur_ok("2ms", NERRF_US, 2000);
	dur_ok("1s", NERRF_US, 1000000);
	dur_ok("0", NERRF_MS, 0);
	dur_ok("1000", NERRF_MS, 1000);
	dur_ok("2000us", NERRF_MS, 2);
	dur_ok("3s", NERRF_MS, 3000);
	dur_ok("5", NERRF_S, 5);
	dur_ok("5000ms", NERRF_S, 5);
	dur_ok("18446744073709551615us", NERRF_US, UINT64_MAX);
	const char *wus = "a duration from 10us to 10s: a number of microseconds, or one with a "
			  "unit us, ms or s";
	dur_bad("5", NERRF_US, 10, 10000000, "too small", wus);
	dur_bad("11s", NERRF_US, 10, 10000000, "too large", wus);
	dur_bad("-5", NERRF_US, 10, 10000000, "negative", wus);
	dur_bad("0x10", NERRF_US, 10, 10000000, "hexadecimal", wus);
	dur_bad("0250", NERRF_US, 10, 10000000, "write 250", wus);
	dur_bad("1500ns", NERRF_US, 10, 10000000, "unknown unit 'ns'", wus);
	dur_bad("1.5ms", NERRF_US, 10, 10000000, "unknown unit '.5ms'", wus);
	dur_bad("2 ms", NERRF_US, 10, 10000000, "whitespace around the number", wus);
	dur_bad("ms", NERRF_US, 10, 10000000, "not a number", wus);
	dur_bad("", NERRF_US, 10, 10000000, "empty value", wus);
	dur_bad("1500us", NERRF_MS, 0, 60000, "not a whole number of milliseconds",
		"a duration from 0ms to 60s");
	dur_bad("500ms", NERRF_S, 1, 86400, "not a whole number of seconds",
		"a duration from 1s to 86400s: a number of seconds");
	dur_bad("18446744073709551615s", NERRF_MS, 0, UINT64_MAX, "too large", "a duration");
	dur_bad("18446744073709551616", NERRF_MS, 0, UINT64_MAX, "too large", "a duration");

	/* Modes: octal, as chmod takes them. */
	mode_ok("660", 0, 0660);
	mode_ok("0660", 0007, 0660);
	mode_ok("0", 0007, 0);
	mode_ok("0777", 0, 0777);
	mode_ok("000000640", 0, 0640);
	mode_bad("0666", 0007, "the bits 006 are not allowed here");
	mode_bad("1777", 0, "too large");
	mode_bad("77777777777777777777777777", 0, "too large");
	mode_bad("0680", 0, "8 and 9 are not octal digits");
	mode_bad("0x1b0", 0, "not an octal mode");
	mode_bad("0o660", 0, "not an octal mode");
	mode_bad("rw", 0, "not an octal mode");
	mode_bad("-660", 0, "no sign allowed");
	mode_bad(" 660", 0, "whitespace around the mode");
	mode_bad("660 ", 0, "whitespace around the mode");
	mode_bad("", 0, "empty value");
	CHECK(nerrf_parse_mode("--mode", "0666", 0007, &(unsigned){0}, err, sizeof(err)) == -1);
	CHECK(strstr(err, "without access for others (the bits 007)"), "%s", err);

	/* Untrusted bytes in a message: escaped, and cut to fit. */
	escape_is("plain", 5, 64, "plain");
	escape_is("a\x1b[2Jb\\", 7, 64, "a\\x1b[2Jb\\x5c");
	escape_is("\xef\xbb\xbf", 3, 64, "\\xef\\xbb\\xbf");
	escape_is("nul\0x", 5, 64, "nul\\x00x");
	escape_is("0123456789", 10, 11, "0123456789");
	escape_is("0123456789", 10, 10, "012345...");
	escape_is("\x01\x02\x03", 3, 12, "\\x01\\x02...");
	char big[1000];
	memset(big, '\x7f', sizeof(big));
	escape_is(big, sizeof(big), 9, "\\x7f...");
	/* A value with a terminal escape is shown escaped, never raw (check_msg). */
	uint_bad("\x1b]0;pwned\x07", 0, 10, "not a number");
	CHECK(strstr(err, "\\x1b]0;pwned\\x07"), "%s", err);
	return 0;
}
