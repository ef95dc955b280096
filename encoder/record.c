/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checks on one record, always made on the encoder's private copy: the
 * shared ring can change under a reader, so a check on shared memory proves
 * nothing about the bytes used afterwards.
 */
#include <math.h>
#include <string.h>

#include "encoder.h"
#include "nerrf_ops.h"

static enum enc_rec_kind bad(const char **why, const char *what)
{
	*why = what;
	return ENC_REC_MALFORMED;
}

static bool str_ok(const char *s, size_t len)
{
	return len == 0 || s[len - 1] == '\0';
}

static enum enc_rec_kind check_event(const struct nerrf_event *ev, size_t len, const char **why)
{
	if (len < sizeof(*ev))
		return bad(why, "event record shorter than struct nerrf_event");
	/* the numbering has holes (ops of other branches): a name, or it is no op */
	if (!nerrf_op_name(ev->op))
		return bad(why, "op out of range");
	if (ev->cpu >= ENC_MAX_CPUS)
		return bad(why, "cpu out of range");
	if (memchr(ev->comm, '\0', sizeof(ev->comm)) == NULL)
		return bad(why, "comm not NUL-terminated");
	if (ev->path_len > NERRF_PATH_MAX || ev->path2_len > NERRF_PATH_MAX ||
	    ev->raw_len > NERRF_RAW_MAX || ev->data_len > NERRF_DATA_MAX)
		return bad(why, "string length over its maximum");
	size_t want = sizeof(*ev) + (size_t)ev->path_len + ev->path2_len + ev->raw_len +
		      ev->data_len;
	if (want != len)
		return bad(why, "string lengths disagree with the record size");
	const char *s = ev->strings;
	if (!str_ok(s, ev->path_len))
		return bad(why, "path not NUL-terminated");
	s += ev->path_len;
	if (!str_ok(s, ev->path2_len))
		return bad(why, "path2 not NUL-terminated");
	s += ev->path2_len;
	if (!str_ok(s, ev->raw_len))
		return bad(why, "raw path not NUL-terminated");
	if (enc_is_net_op(ev->op) && ev->data_len != sizeof(struct nerrf_net))
		return bad(why, "network record without its struct nerrf_net");
	return ENC_REC_EVENT;
}

static enum enc_rec_kind check_stats(const struct nerrf_kstats *ks, size_t len, const char **why)
{
	if (len < sizeof(*ks))
		return bad(why, "stats record shorter than struct nerrf_kstats");
	if (ks->nr_cpus > ENC_MAX_CPUS)
		return bad(why, "stats record nr_cpus out of range");
	if (len != sizeof(*ks) + (size_t)ks->nr_cpus * sizeof(ks->lost_by_cpu[0]))
		return bad(why, "stats record size disagrees with nr_cpus");
	return ENC_REC_STATS;
}

enum enc_rec_kind enc_rec_check(const void *rec, size_t len, const char **why)
{
	const struct nerrf_rec_hdr *h = rec;

	if (len < sizeof(*h))
		return bad(why, "record shorter than its header");
	if (h->size != len)
		return bad(why, "header size differs from the record length");
	switch (h->type) {
	case NERRF_REC_EVENT:
		return check_event(rec, len, why);
	case NERRF_REC_STATS:
		return check_stats(rec, len, why);
	default:
		return bad(why, "unknown record type");
	}
}

/*
 * c * log2(c) in 16.16 fixed point for every count a sample can hold, and
 * the step from c to c + 1. Integer sums keep the loop free of the
 * floating-point add latency, and they telescope exactly: a uniform sample
 * gives exactly 0, 256 distinct bytes exactly 8.
 */
static uint32_t clogc[NERRF_DATA_MAX + 1], step[NERRF_DATA_MAX];

static void tables_init(void)
{
	for (unsigned c = 1; c <= NERRF_DATA_MAX; c++)
		clogc[c] = (uint32_t)((double)c * log2((double)c) * 65536.0 + 0.5);
	for (unsigned c = 0; c < NERRF_DATA_MAX; c++)
		step[c] = clogc[c + 1] - clogc[c];
}

float enc_entropy(const uint8_t *buf, size_t n)
{
	uint16_t count[256];
	uint32_t sum = 0;

	if (n < 2 || n > NERRF_DATA_MAX)
		return 0;
	if (clogc[2] == 0)
		tables_init();
	/* H = log2(n) - sum(c log2 c) / n, the sum built up one byte at a time */
	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++)
		sum += step[count[buf[i]]++];
	return (float)((double)(clogc[n] - sum) / (65536.0 * (double)n));
}

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0; /* overlong, surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0; /* overlong, past U+10FFFF */
		return 4;
	}
	return 0;
}

/* s[n] is the NUL: it fails every continuation check, so no read passes it */
size_t enc_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		/* paths are mostly ASCII: skip it a word at a time */
		if (n - i >= 8) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (!(w & 0x8080808080808080ull)) {
				i += 8;
				continue;
			}
		}
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		size_t len = utf8_seq(s + i);
		if (!len)
			return i;
		i += len;
	}
	return n;
}

bool enc_utf8_fix(char *str, size_t n)
{
	bool fixed = false;

	for (size_t i = enc_utf8_valid(str, n); i < n; i += enc_utf8_valid(str + i, n - i)) {
		str[i++] = '?';
		fixed = true;
	}
	return fixed;
}
