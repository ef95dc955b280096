/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Numbers from the command line and the configuration file (whose keys reach
 * the stages as the same options), with one syntax for every stage and client:
 *
 *   numbers    decimal digits only: no sign, no whitespace, no 0x. A leading
 *              zero is refused, not read as octal nor quietly as decimal:
 *              "uid = 01000" meant 512 to the old collector and 1000 to the
 *              old encoder, so neither reading is safe. "0" is zero.
 *   sizes      a number with an optional binary suffix, either case:
 *              K = 2^10, M = 2^20, G = 2^30, T = 2^40 ("64K", "8m"). No
 *              "KB" or "KiB", no fractions.
 *   durations  a number in the option's own unit (the "us" of --wakeup-us),
 *              or with a unit: us, ms or s ("250", "2ms", "1s"). The value
 *              must be a whole number of the option's unit.
 *   modes      octal, as chmod takes them: 660 or 0660, at most 0777.
 *   names      comma-separated names out of the option's own list, or
 *              "all" for every one of them ("openat,write", "inet,unix").
 *
 * Anything else fails: trailing characters, an unknown suffix, values beyond
 * 2^64 - 1 or outside the option's range. Each parser returns 0, or -1 with
 * a message in err that names the option and value, says what is wrong and
 * what is wanted, e.g.
 *   --ring2-size 17179869185G: too large; want a power of two from 65536 to
 *   1073741824 bytes (64K to 1G)
 * `name` is the option as written on the command line, "--ring2-size".
 */
#ifndef NERRF_PARSE_H
#define NERRF_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Duration units, in nanoseconds. */
#define NERRF_US 1000ull
#define NERRF_MS 1000000ull
#define NERRF_S 1000000000ull

int nerrf_parse_uint(const char *name, const char *s, uint64_t min, uint64_t max, uint64_t *out,
		     char *err, size_t errlen);

/* Bytes in [min, max]; with pow2, a power of two. */
int nerrf_parse_size(const char *name, const char *s, uint64_t min, uint64_t max, bool pow2,
		     uint64_t *out, char *err, size_t errlen);

/* In `unit` (NERRF_US, NERRF_MS or NERRF_S): min, max and *out. */
int nerrf_parse_duration(const char *name, const char *s, uint64_t unit, uint64_t min,
			 uint64_t max, uint64_t *out, char *err, size_t errlen);

/* A permission mode up to 0777 with none of the bits in `deny`. */
int nerrf_parse_mode(const char *name, const char *s, unsigned deny, unsigned *out, char *err,
		     size_t errlen);

/*
 * At least one name out of names[0..n) (n <= 64), as the bits 1 << index in
 * *out; "all" sets every bit, empty items between commas are skipped.
 */
int nerrf_parse_names(const char *name, const char *s, const char *const names[], size_t n,
		      uint64_t *out, char *err, size_t errlen);

/*
 * Untrusted text for a message: len bytes of s into out, bytes other than
 * printable ASCII (and the backslash) as \xNN, cut with "..." to fit outlen.
 * Always NUL-terminates (outlen >= 4).
 */
void nerrf_escape(char *out, size_t outlen, const char *s, size_t len);

#endif /* NERRF_PARSE_H */
