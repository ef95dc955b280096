/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How nerrf tail, stats and replay show the stream: events as table rows or
 * JSON lines, Stats as a line or a table. Every string in a message comes
 * from a name some local user chose: the human forms escape what would not
 * show as itself, the JSON forms stay valid JSON.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "print.h"

/*
 * Every string in a message comes from a file name, task name or host name
 * that any local user (or whoever runs the publisher) chose. The next
 * character of s as a code point, with its length in *len; *len = 0 when the
 * bytes there are not UTF-8 (overlong, surrogate, past U+10FFFF, cut short).
 */
static uint32_t utf8_next(const unsigned char *p, size_t *len)
{
	uint32_t c = p[0], min;
	size_t n;

	*len = 0;
	if (c < 0x80) {
		*len = 1;
		return c;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, c &= 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, c &= 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	/* A NUL is no continuation byte, so this stops at the end of s. */
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*len = n;
	return c;
}

/*
 * What a terminal shows as itself: no C0 or C1 control (ESC, CR, NEL, CSI
 * move the cursor or start sequences), no DEL, and no bidirectional override
 * or isolate, which would show a name's characters in another order.
 */
static bool shows_as_itself(uint32_t c)
{
	return c >= 0x20 && !(c >= 0x7f && c <= 0x9f) && !(c >= 0x202a && c <= 0x202e) &&
	       !(c >= 0x2066 && c <= 0x2069);
}

/*
 * Writes s for a human: printable UTF-8 as it is, a backslash as \\, every
 * other byte as \xNN, so that a name can neither fake a line nor reach the
 * terminal's control sequences, and the escaping is unambiguous. Returns the
 * characters written, for padding. Every human-readable output uses this.
 */
size_t put_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : ""), *run = p;
	size_t cols = 0, n;

	while (*p) {
		uint32_t c = utf8_next(p, &n);
		if (n && c != '\\' && shows_as_itself(c)) {
			p += n;
			cols++;
			continue;
		}
		fwrite(run, 1, (size_t)(p - run), f);
		if (n && c == '\\') {
			fputs("\\\\", f);
			cols += 2;
			p++;
		} else {
			/* A control character's bytes, or the first of a broken sequence. */
			for (size_t i = 0; i < (n ? n : 1); i++, p++, cols += 4)
				fprintf(f, "\\x%02x", *p);
		}
		run = p;
	}
	fwrite(run, 1, (size_t)(p - run), f);
	return cols;
}

/*
 * A name for a human: its exact bytes (escaped) when the string field had to
 * have bytes replaced to be UTF-8, so two names that read the same differ.
 */
static size_t put_name(FILE *f, const char *s, ProtobufCBinaryData exact)
{
	char buf[8192];

	/* names hold no NUL: one in the bytes is not a name, show the string */
	if (!exact.len || exact.len >= sizeof(buf) || memchr(exact.data, 0, exact.len))
		return put_text(f, s);
	memcpy(buf, exact.data, exact.len);
	buf[exact.len] = '\0';
	return put_text(f, buf);
}

static void put_name_padded(FILE *f, const char *s, ProtobufCBinaryData exact, size_t width)
{
	for (size_t n = put_name(f, s, exact); n < width; n++)
		fputc(' ', f);
}

void put_text_padded(FILE *f, const char *s, size_t width)
{
	put_name_padded(f, s, (ProtobufCBinaryData){0}, width);
}

/*
 * A JSON line is built here and goes to its FILE in one write: stdio's
 * call per piece (a field name, a comma, a number) was a third of the JSON
 * printer's time. A line longer than the buffer goes out in parts.
 */
struct jout {
	FILE *f;
	size_t n;
	char b[16384];
};

static void j_flush(struct jout *o)
{
	fwrite(o->b, 1, o->n, o->f);
	o->n = 0;
}

static inline void j_put(struct jout *o, const void *s, size_t n)
{
	if (n > sizeof(o->b) - o->n) {
		j_flush(o);
		if (n > sizeof(o->b)) {
			fwrite(s, 1, n, o->f);
			return;
		}
	}
	memcpy(o->b + o->n, s, n);
	o->n += n;
}

static inline void j_c(struct jout *o, char c)
{
	if (o->n == sizeof(o->b))
		j_flush(o);
	o->b[o->n++] = c;
}

static inline void j_s(struct jout *o, const char *s)
{
	j_put(o, s, strlen(s));
}

/*
 * A JSON string: JSON's escapes, and \uXXXX for what would not show as
 * itself on a terminal. JSON has no way to carry bytes that are not UTF-8:
 * each becomes U+FFFD, so the line stays valid JSON.
 */
static void put_json_str(struct jout *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : ""), *run = p;
	size_t n;

	j_c(o, '"');
	/* Plain characters go out in runs: one call per character was the printer's top cost. */
	while (*p) {
		uint32_t c = utf8_next(p, &n);
		if (n && c != '"' && c != '\\' && shows_as_itself(c)) {
			p += n;
			continue;
		}
		j_put(o, run, (size_t)(p - run));
		if (!n)
			j_s(o, "\\ufffd");
		else if (c == '"' || c == '\\')
			j_c(o, '\\'), j_c(o, (char)c);
		else if (c == '\n')
			j_s(o, "\\n");
		else if (c == '\t')
			j_s(o, "\\t");
		else {
			char u[8];
			snprintf(u, sizeof(u), "\\u%04" PRIx32, c);
			j_s(o, u);
		}
		p += n ? n : 1;
		run = p;
	}
	j_put(o, run, (size_t)(p - run));
	j_c(o, '"');
}

static void put_base64(struct jout *o, const uint8_t *d, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	j_c(o, '"');
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < n)
			v |= d[i + 2];
		j_c(o, a[v >> 18 & 63]);
		j_c(o, a[v >> 12 & 63]);
		j_c(o, i + 1 < n ? a[v >> 6 & 63] : '=');
		j_c(o, i + 2 < n ? a[v & 63] : '=');
	}
	j_c(o, '"');
}

/* RFC 3339, UTC, nanoseconds: 2026-11-21T05:00:00.123456789Z */
void format_ts(const Google__Protobuf__Timestamp *ts, char *buf, size_t len)
{
	struct tm tm;
	time_t sec = ts ? (time_t)ts->seconds : 0;
	gmtime_r(&sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09dZ", ts ? ts->nanos : 0);
}

/* ---- proto3 JSON, from the descriptors (docs/PROTOCOL.md, "JSON") ---- */

static void put_message(struct jout *o, const ProtobufCMessage *m, bool all);

__extension__ typedef unsigned __int128 u128;

/* 10^0 .. 10^13: what short_float scales by */
static const uint64_t p10[] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
	10000000000, 100000000000, 1000000000000, 10000000000000,
};

/* 10^j <= m / 2^k, exactly */
static bool pow10_at_most(int j, uint64_t m, int k)
{
	return j >= 0 ? (u128)p10[j] << k <= m : (u128)1 << k <= (u128)m * p10[-j];
}

/*
 * The text format_float gives a float in [1e-4, 1e6), by exact integer
 * arithmetic instead of snprintf and strtof per try (a tenth of the JSON
 * printer's time at full speed, for write_entropy). Rounds ties to even as
 * glibc's printf does, and keeps a precision only if its decimal is inside
 * the float's rounding interval, which is what strtof's reading back tells.
 * Returns 0 for other values.
 */
static size_t short_float(char *buf, float x)
{
	float a = fabsf(x);
	int e, k, X = -5;

	if (!(a >= 1e-4f && a < 1e6f))
		return 0;
	/* a = m / 2^k, m in [2^23, 2^24); 10^X <= a < 10^(X+1) */
	uint64_t m = (uint64_t)ldexpf(frexpf(a, &e), 24);
	k = 24 - e;
	while (X < 5 && pow10_at_most(X + 1, m, k))
		X++;
	for (int prec = 6; prec <= 9; prec++) {
		int s = prec - 1 - X;
		u128 ten = p10[s];
		u128 all = m * ten, q = all >> k, r = all - (q << k), half = (u128)1 << (k - 1);
		if (r > half || (r == half && (q & 1)))
			q++;
		/*
		 * q / 10^s against the interval's ends, (2m +- 1) / 2^(k+1), which a tie
		 * rounds to the even m; a power of two's lower end is half as far.
		 */
		bool p2 = m == 1u << 23, even = !(m & 1);
		u128 up = q << (k + 1), hi = (2 * m + 1) * ten;
		u128 dn = p2 ? up << 1 : up, lo = (p2 ? 4 * m - 1 : 2 * m - 1) * ten;
		if (up > hi || (up == hi && !even) || dn < lo || (dn == lo && !even))
			continue;
		/* the digits of q, the point after the digit of 10^X (q = 10^prec: one more) */
		char d[12];
		int n = 0, exp10 = X;
		uint64_t u = (uint64_t)q;
		for (uint64_t t = u; t; t /= 10)
			n++;
		if (n > prec)
			exp10++;
		for (int i = n - 1; i >= 0; i--, u /= 10)
			d[i] = (char)('0' + u % 10);
		while (n > 1 && d[n - 1] == '0')
			n--;
		if (exp10 < -4 || exp10 >= prec)
			return 0; /* %g writes an exponent there */
		char *p = buf;
		if (x < 0)
			*p++ = '-';
		if (exp10 < 0) {
			*p++ = '0', *p++ = '.';
			for (int i = -1; i > exp10; i--)
				*p++ = '0';
			memcpy(p, d, (size_t)n), p += n;
		} else {
			for (int i = 0; i <= exp10; i++)
				*p++ = i < n ? d[i] : '0';
			if (n > exp10 + 1) {
				*p++ = '.';
				memcpy(p, d + exp10 + 1, (size_t)(n - exp10 - 1));
				p += n - exp10 - 1;
			}
		}
		*p = '\0';
		return (size_t)(p - buf);
	}
	return 0;
}

/*
 * A finite float or double as the shortest %g that reads back to the same
 * value (protobuf's and serde's printers do the same). %g drops trailing
 * zeros, so a shorter form shows up already at 6 (15) digits.
 */
void format_float(char buf[static 40], double v, bool single)
{
	if (single && short_float(buf, (float)v))
		return;
	for (int prec = single ? 6 : 15; prec <= 17; prec++) {
		snprintf(buf, 40, "%.*g", prec, v);
		if (single ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
			break;
	}
}

/*
 * A float or double as format_float writes it, with ".0" when it looks like
 * an integer; proto3 JSON spells the non-finite ones as strings.
 */
static void put_float(struct jout *o, double v, bool single)
{
	char buf[40];

	if (isnan(v)) {
		j_s(o, "\"NaN\"");
		return;
	}
	if (isinf(v)) {
		j_s(o, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
		return;
	}
	format_float(buf, v, single);
	j_s(o, buf);
	if (!strpbrk(buf, ".e"))
		j_s(o, ".0");
}

/*
 * A Timestamp as protobuf writes it: RFC 3339 in UTC with 0, 3, 6 or 9
 * fraction digits. One that RFC 3339 cannot write (outside years 1-9999)
 * goes out as its fields, so nothing a publisher sent is lost.
 */
static void put_timestamp(struct jout *o, const Google__Protobuf__Timestamp *ts, bool all)
{
	static int64_t second = INT64_MIN;
	static char second_text[64];
	/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in seconds since 1970 */
	const int64_t min = -62135596800LL, max = 253402300799LL;
	int64_t nanos = ts->nanos % 1000000000, secs = ts->seconds;
	struct tm tm;

	if (nanos < 0)
		nanos += 1000000000;
	/* nanos past a second carry into the seconds, as protobuf normalises them */
	if (secs >= min - 3 && secs <= max + 3)
		secs += (ts->nanos - nanos) / 1000000000;
	if (secs < min || secs > max) {
		put_message(o, &ts->base, all);
		return;
	}
	/* Events come in time order: most share the second before them, so its text is kept. */
	if (secs != second) {
		time_t t = (time_t)secs;
		gmtime_r(&t, &tm);
		snprintf(second_text, sizeof(second_text), "\"%04d-%02d-%02dT%02d:%02d:%02d",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec);
		second = secs;
	}
	j_s(o, second_text);

	char frac[16], *p = frac;
	int digits = !nanos ? 0 : nanos % 1000000 == 0 ? 3 : nanos % 1000 == 0 ? 6 : 9;
	if (digits)
		*p++ = '.';
	for (int64_t d = 100000000; digits-- > 0; d /= 10)
		*p++ = (char)('0' + nanos / d % 10);
	*p++ = 'Z';
	*p++ = '"';
	j_put(o, frac, (size_t)(p - frac));
}

/* A decimal integer, quoted for the 64-bit types: fprintf per field was the printer's top cost. */
static void put_int(struct jout *o, uint64_t v, bool neg, bool quoted)
{
	char buf[24], *p = buf + sizeof(buf);

	if (quoted)
		*--p = '"';
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	if (neg)
		*--p = '-';
	if (quoted)
		*--p = '"';
	j_put(o, p, (size_t)(buf + sizeof(buf) - p));
}

static void put_signed(struct jout *o, int64_t v, bool quoted)
{
	put_int(o, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, quoted);
}

/* One value of field fd at p (an element, for a repeated field). */
static void put_value(struct jout *o, const ProtobufCFieldDescriptor *fd, const void *p, bool all)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		put_signed(o, *(const int32_t *)p, false);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		put_int(o, *(const uint32_t *)p, false, false);
		break;
	/* 64-bit integers are strings: a JSON number loses precision past 2^53. */
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		put_signed(o, *(const int64_t *)p, true);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		put_int(o, *(const uint64_t *)p, false, true);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		put_float(o, *(const float *)p, true);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		put_float(o, *(const double *)p, false);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		j_s(o, *(const protobuf_c_boolean *)p ? "true" : "false");
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, v);
		/* A value this build does not know goes out as its number, as protobuf does. */
		if (ev)
			put_json_str(o, ev->name);
		else
			put_signed(o, v, false);
		break;
	}
	case PROTOBUF_C_TYPE_STRING:
		put_json_str(o, *(char *const *)p);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		put_base64(o, b->data, b->len);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
		if (!m)
			j_s(o, "{}"); /* a repeated element is never NULL after a decode */
		else if (m->descriptor == &google__protobuf__timestamp__descriptor)
			put_timestamp(o, (const Google__Protobuf__Timestamp *)m, all);
		else
			put_message(o, m, all);
		break;
	}
	}
}

static size_t value_size(const ProtobufCFieldDescriptor *fd)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return sizeof(uint32_t);
	}
}

/*
 * Whether the value of a proto3 field without presence is its default: no
 * bit set, as protobuf's own printers tell (a -0.0 is a value).
 */
static bool is_default(const ProtobufCFieldDescriptor *fd, const void *p)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
		return !*(char *const *)p || !**(char *const *)p;
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return !*(void *const *)p;
	default:
		return value_size(fd) == sizeof(uint64_t) ? *(const uint64_t *)p == 0
							  : *(const uint32_t *)p == 0;
	}
}

/*
 * protoc turns map<K, V> name into repeated NameEntry {K key = 1; V value = 2;}
 * nested in the message; protobuf-c keeps no other mark of a map.
 */
static bool is_map(const ProtobufCMessageDescriptor *parent, const ProtobufCFieldDescriptor *fd)
{
	const ProtobufCMessageDescriptor *e = fd->descriptor;
	char want[256];
	size_t n = 0;

	if (fd->label != PROTOBUF_C_LABEL_REPEATED || fd->type != PROTOBUF_C_TYPE_MESSAGE ||
	    e->n_fields != 2 || e->fields[0].id != 1 || e->fields[1].id != 2 ||
	    strcmp(e->fields[0].name, "key") != 0 || strcmp(e->fields[1].name, "value") != 0)
		return false;
	/* protoc's name for it: the field's name in CamelCase, then "Entry" */
	bool cap = true;
	for (const char *s = fd->name; *s && n + 7 < sizeof(want); s++) {
		if (*s == '_')
			cap = true;
		else
			want[n++] = (char)(cap ? toupper((unsigned char)*s) : *s), cap = false;
	}
	memcpy(want + n, "Entry", 6);
	size_t plen = strlen(parent->name);
	return strncmp(e->name, parent->name, plen) == 0 && e->name[plen] == '.' &&
	       strcmp(e->name + plen + 1, want) == 0;
}

/* A map entry as "key":value; JSON object keys are strings whatever the key's type. */
static void put_entry(struct jout *o, const ProtobufCMessage *e, bool all)
{
	const ProtobufCFieldDescriptor *k = &e->descriptor->fields[0];
	const ProtobufCFieldDescriptor *v = &e->descriptor->fields[1];
	const char *base = (const char *)e;

	if (k->type == PROTOBUF_C_TYPE_STRING) {
		put_json_str(o, *(char *const *)(base + k->offset));
	} else if (k->type == PROTOBUF_C_TYPE_INT64 || k->type == PROTOBUF_C_TYPE_UINT64 ||
		   k->type == PROTOBUF_C_TYPE_SINT64 || k->type == PROTOBUF_C_TYPE_FIXED64 ||
		   k->type == PROTOBUF_C_TYPE_SFIXED64) {
		put_value(o, k, base + k->offset, all);
	} else {
		j_c(o, '"');
		put_value(o, k, base + k->offset, all);
		j_c(o, '"');
	}
	j_c(o, ':');
	put_value(o, v, base + v->offset, all);
}

/*
 * Every field of m the descriptors name, in field-number order, with the
 * proto field names. Left out, as protobuf's own printer does: fields at
 * their default (0, "", empty) unless all, and absent messages always.
 */
static void put_members(struct jout *o, const ProtobufCMessage *m, bool all, const char *host)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	bool first = !host;

	j_c(o, '{');
	if (host) {
		j_s(o, "\"host\":");
		put_json_str(o, host);
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const void *p = base + fd->offset;
		size_t n = 1;

		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)(base + fd->quantifier_offset);
			if (!n && !all)
				continue;
		} else if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (*(const uint32_t *)(base + fd->quantifier_offset) != fd->id)
				continue;
		} else if (fd->label == PROTOBUF_C_LABEL_OPTIONAL &&
			   fd->type != PROTOBUF_C_TYPE_MESSAGE && fd->type != PROTOBUF_C_TYPE_STRING) {
			if (!*(const protobuf_c_boolean *)(base + fd->quantifier_offset))
				continue; /* proto3 optional, or proto2: has_<name> says */
		} else if (fd->label != PROTOBUF_C_LABEL_REQUIRED && is_default(fd, p) &&
			   (!all || fd->type == PROTOBUF_C_TYPE_MESSAGE)) {
			continue;
		}
		if (!first)
			j_c(o, ',');
		first = false;
		j_c(o, '"');
		j_s(o, fd->name);
		j_s(o, "\":");
		if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
			put_value(o, fd, p, all);
			continue;
		}
		bool map = is_map(d, fd);
		const char *v = *(const char *const *)p;
		size_t sz = value_size(fd);
		j_c(o, map ? '{' : '[');
		for (size_t j = 0; j < n; j++) {
			if (j)
				j_c(o, ',');
			if (map)
				put_entry(o, *(ProtobufCMessage *const *)(v + j * sz), all);
			else
				put_value(o, fd, v + j * sz, all);
		}
		j_c(o, map ? '}' : ']');
	}
	j_c(o, '}');
}

static void put_message(struct jout *o, const ProtobufCMessage *m, bool all)
{
	put_members(o, m, all, NULL);
}

void print_json(FILE *f, const ProtobufCMessage *m, const char *wrap, bool all_fields)
{
	struct jout o;

	o.f = f, o.n = 0; /* not b: an initializer would clear 16 KiB a line */
	if (wrap) {
		j_s(&o, "{\"");
		j_s(&o, wrap);
		j_s(&o, "\":");
	}
	put_message(&o, m, all_fields);
	j_s(&o, wrap ? "}\n" : "\n");
	j_flush(&o);
}

void print_json_host(FILE *f, const Event *e, const char *host, bool all_fields)
{
	struct jout o;

	o.f = f, o.n = 0; /* not b: an initializer would clear 16 KiB a line */
	put_members(&o, &e->base, all_fields, host);
	j_c(&o, '\n');
	j_flush(&o);
}

void print_header(FILE *f)
{
	fprintf(f, "%-15s %7s %-15s %-10s %5s %s\n", "TIME", "PID", "COMM", "SYSCALL", "RET",
		"PATH [-> NEW_PATH] BYTES");
}

void print_row(FILE *f, const Event *e)
{
	static int64_t second = INT64_MIN; /* as in put_timestamp */
	static char second_text[16];
	char tbuf[32] = "?";
	if (e->ts) {
		if (e->ts->seconds != second) {
			struct tm tm;
			time_t sec = (time_t)e->ts->seconds;
			localtime_r(&sec, &tm);
			strftime(second_text, sizeof(second_text), "%H:%M:%S", &tm);
			second = e->ts->seconds;
		}
		snprintf(tbuf, sizeof(tbuf), "%s.%06d", second_text, e->ts->nanos / 1000);
	}
	fprintf(f, "%-15s %7" PRIu32 " ", tbuf, e->pid);
	put_name_padded(f, e->comm, e->comm_bytes, 15);
	fputc(' ', f);
	put_text_padded(f, e->syscall, 10);
	fprintf(f, " %5" PRId64 " ", e->ret_val);
	put_name(f, e->path, e->path_bytes);
	if (e->new_path && *e->new_path) {
		fputs(" -> ", f);
		put_name(f, e->new_path, e->new_path_bytes);
	}
	/* a network op: the peer, or where it listens; addresses are inet_ntop's */
	const char *addr = e->remote_addr && *e->remote_addr ? e->remote_addr : e->local_addr;
	uint32_t port = e->remote_addr && *e->remote_addr ? e->remote_port : e->local_port;
	if (addr && *addr)
		fprintf(f, strchr(addr, ':') ? "[%s]:%" PRIu32 : "%s:%" PRIu32, addr, port);
	if (e->bytes)
		fprintf(f, " %" PRIu64, e->bytes);
	if (e->bytes_received)
		fprintf(f, " in %" PRIu64, e->bytes_received);
	/* a close summary: how many writes, where, and how random the head was */
	if (e->write_count)
		fprintf(f, " in %" PRIu64 " writes [%" PRId64 ",%" PRIu64 ") entropy %.2f",
			e->write_count, e->offset, e->range_end, e->write_entropy);
	fputc('\n', f);
}

/* A window in which nothing was captured: how long, when, and why. */
void print_gap(FILE *f, const LossCounters *l)
{
	const Nerrf__Trace__CaptureGap *g = l->last_capture_gap;
	char from[64], to[64];

	format_ts(g->start, from, sizeof(from));
	format_ts(g->end, to, sizeof(to));
	fprintf(f, "  capture gaps %" PRIu64 " (%.3f s in all); the last %.3f s from %s to %s: ",
		l->capture_gaps, l->capture_gap_ns / 1e9,
		(g->end_mono_ns - g->start_mono_ns) / 1e9, from, to);
	put_text(f, g->cause);
	fputc('\n', f);
}

void print_stats_line(FILE *f, const Stats *st)
{
	const LossCounters *l = st->loss;
	LossCounters zero = NERRF__TRACE__LOSS_COUNTERS__INIT;
	char ts[64];

	if (!l)
		l = &zero;
	format_ts(st->ts, ts, sizeof(ts));
	fprintf(f,
		"# stats %s events/s %.1f kernel_lost %" PRIu64 " ring1_dropped %" PRIu64
		" malformed %" PRIu64 " ring2_dropped %" PRIu64 " ring2_malformed %" PRIu64
		" ring2_corrupt_resets %" PRIu64 " publisher_seq %" PRIu64 " subscribers %" PRIu32
		"\n",
		ts, st->events_per_sec, l->kernel_lost, l->ring1_dropped, l->malformed,
		l->ring2_dropped, st->ring2_malformed, st->ring2_corrupt_resets, st->publisher_seq,
		st->subscribers);
}

static double rate(uint64_t now, uint64_t prev, double dt)
{
	return dt > 0 && now >= prev ? (double)(now - prev) / dt : 0.0;
}

void print_stats_table(FILE *f, const Stats *st, const Stats *prev)
{
	LossCounters zero = NERRF__TRACE__LOSS_COUNTERS__INIT;
	const LossCounters *l = st->loss ? st->loss : &zero;
	const LossCounters *p = prev && prev->loss ? prev->loss : NULL;
	double dt = 0;
	char ts[64];

	if (p && st->ts && prev->ts)
		dt = (double)(st->ts->seconds - prev->ts->seconds) +
		     (st->ts->nanos - prev->ts->nanos) / 1e9;
	format_ts(st->ts, ts, sizeof(ts));
	fprintf(f, "%s host ", ts);
	put_text(f, st->hostname && *st->hostname ? st->hostname : "?");
	fprintf(f, "  subscribers %" PRIu32 "  ", st->subscribers);
	put_text(f, st->stage_state);
	fputc('\n', f);
	fprintf(f, "  %-10s %-22s %14s %12s\n", "HOP", "COUNTER", "TOTAL", "PER SEC");
#define ROW(hop, name, field)                                                                      \
	fprintf(f, "  %-10s %-22s %14" PRIu64 " %12.1f\n", hop, name, l->field,                    \
		p ? rate(l->field, p->field, dt) : 0.0)
	ROW("kernel", "emitted", kernel_emitted);
	ROW("kernel", "lost", kernel_lost);
	ROW("kernel", "filtered", kernel_filtered);
	ROW("ring1", "dropped", ring1_dropped);
	ROW("ring1", "corrupt_resets", ring1_corrupt_resets);
	ROW("encoder", "events", encoder_events);
	ROW("encoder", "malformed", malformed);
	ROW("encoder", "seq_gaps", seq_gaps);
	ROW("ring2", "dropped", ring2_dropped);
	ROW("capture", "gaps", capture_gaps);
#undef ROW
	/* The publisher appends its own counters to Stats itself, not to its loss. */
#define ROW(hop, name, field)                                                                      \
	fprintf(f, "  %-10s %-22s %14" PRIu64 " %12.1f\n", hop, name, st->field,                   \
		p ? rate(st->field, prev->field, dt) : 0.0)
	ROW("ring2", "malformed", ring2_malformed);
	ROW("ring2", "corrupt_resets", ring2_corrupt_resets);
	ROW("ring2", "corrupt_bytes", ring2_corrupt_bytes);
#undef ROW
	/* The publisher's own count travels as Stats.publisher_seq (appended). */
	fprintf(f, "  %-10s %-22s %14" PRIu64 " %12.1f\n", "publisher", "batches (publisher_seq)",
		st->publisher_seq, p ? rate(st->publisher_seq, prev->publisher_seq, dt) : 0.0);
	for (size_t i = 0; i < l->n_kernel_lost_by_syscall; i++)
		if (l->kernel_lost_by_syscall[i]->value) {
			fprintf(f, "  %-10s lost ", "kernel");
			put_text_padded(f, l->kernel_lost_by_syscall[i]->key, 17);
			fprintf(f, " %14" PRIu64 "\n", l->kernel_lost_by_syscall[i]->value);
		}
	for (size_t i = 0; i < l->n_kernel_lost_by_cpu; i++)
		if (l->kernel_lost_by_cpu[i]->value)
			fprintf(f, "  %-10s lost on cpu %-10" PRIu32 " %14" PRIu64 "\n", "kernel",
				l->kernel_lost_by_cpu[i]->key, l->kernel_lost_by_cpu[i]->value);
	if (l->last_capture_gap)
		print_gap(f, l);
	/* nerrf-forward's counters (its forward.sock, or a Stats it forwarded to NATS). */
	const Nerrf__Trace__ForwardCounters *fc = st->forward, *fp = prev ? prev->forward : NULL;
#define ROW(name, field)                                                                           \
	fprintf(f, "  %-10s %-22s %14" PRIu64 " %12.1f\n", "forward", name, fc->field,              \
		fp && dt > 0 ? rate(fc->field, fp->field, dt) : 0.0)
	if (fc) {
		ROW("forwarded", forwarded);
		ROW("acked", acked);
		ROW("acked_events", acked_events);
		ROW("duplicates", duplicates);
		ROW("lost", lost);
		ROW("outages", outages);
		fprintf(f, "  %-10s %-22s %14.1f\n", "forward", "outage_seconds",
			(double)fc->outage_ns / 1e9);
		fprintf(f, "  %-10s %-22s %14" PRIu64 "\n", "forward", "acked_seq", fc->acked_seq);
		fprintf(f, "  %-10s %-22s %14" PRIu64 "\n", "forward", "behind", fc->behind);
	}
#undef ROW
	fprintf(f,
		"  ring1 fill %" PRIu64 "/%" PRIu64 " bytes   ring2 fill %" PRIu64 "/%" PRIu64
		" bytes   encoder %.1f events/s %.1f batches/s\n\n",
		st->ring1_used, st->ring1_capacity, st->ring2_used, st->ring2_capacity,
		st->events_per_sec, st->batches_per_sec);
}
