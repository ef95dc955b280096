/* SPDX-License-Identifier: Apache-2.0 */
/*
 * format_float against its definition: for a float, the first of %.6g ..
 * %.9g that strtof reads back to it. The JSON printer computes most floats
 * without snprintf (print.c, short_float); this compares the two on every
 * edge where exact arithmetic goes wrong first (powers of ten and two, the
 * range's ends, roundings that carry into a new digit) and on a sweep and a
 * random sample of floats across and beyond the range.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "print.h"

static unsigned long checked, failed;

static void reference(char buf[40], float x)
{
	for (int prec = 6; prec <= 9; prec++) {
		snprintf(buf, 40, "%.*g", prec, x);
		if (strtof(buf, NULL) == x)
			return;
	}
}

static void check(float x)
{
	char want[40], got[40];

	if (!isfinite(x))
		return;
	reference(want, x);
	format_float(got, x, true);
	checked++;
	if (strcmp(want, got) != 0 && failed++ < 20)
		fprintf(stderr, "float_test: %a (%.9g): format_float wrote %s, want %s\n", x, x, got,
			want);
}

static float from_bits(uint32_t b)
{
	float f;
	memcpy(&f, &b, sizeof(f));
	return f;
}

/* x and 40 floats each side of it, both signs */
static void around(float x)
{
	float lo = x, hi = x;
	for (int i = 0; i < 40; i++) {
		check(lo), check(-lo), check(hi), check(-hi);
		lo = nextafterf(lo, 0), hi = nextafterf(hi, INFINITY);
	}
}

int main(void)
{
	check(0.0f), check(-0.0f);
	for (int e = -6; e <= 7; e++) {
		around((float)pow(10, e));
		/* 9.9999...: rounding carries into a digit more */
		for (int p = 6; p <= 9; p++)
			around((float)((1 - pow(10, -p) / 2) * pow(10, e)));
	}
	for (int e = -20; e <= 24; e++)
		around(ldexpf(1, e));
	/* every 4099th float from 1e-6 to 1e8, and in [0, 8], the range of an entropy */
	for (uint32_t b = 0x358637bd; b < 0x4cbebc20; b += 4099)
		check(from_bits(b));
	for (uint32_t b = 0; b <= 0x41000000; b += 1021)
		check(from_bits(b));
	uint64_t s = 0x9e3779b97f4a7c15u;
	for (int i = 0; i < 300000; i++) {
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		check(from_bits((uint32_t)s));
	}
	printf("float_test: %lu floats, %lu differ\n", checked, failed);
	return failed ? 1 : 0;
}
