/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Record validation rejects each kind of malformed record and accepts the
 * well-formed ones; entropy of known samples; UTF-8 repair.
 */
#include "encoder.h"
#include "harness.h"
#include "lib/records.h"

static _Alignas(8) uint8_t buf[REC_BUF];

static size_t good(void)
{
	return build_event(buf, NERRF_OP_RENAMEAT2, "/a/b", "/a/b.locked", "b", "xy", 2);
}

static void expect_bad(size_t len, const char *want)
{
	const char *why = NULL;

	CHECK(enc_rec_check(buf, len, &why) == ENC_REC_MALFORMED, "accepted (want: %s)", want);
	if (!why || !strstr(why, want))
		FAIL("reason \"%s\" does not mention \"%s\"", why ? why : "(null)", want);
}

static void events(void)
{
	struct nerrf_event *ev = (struct nerrf_event *)buf;
	const char *why;
	size_t n;

	n = good();
	CHECK(enc_rec_check(buf, n, &why) == ENC_REC_EVENT, "%s", why);
	n = build_event(buf, NERRF_OP_FORK, NULL, NULL, NULL, NULL, 0);
	CHECK(enc_rec_check(buf, n, &why) == ENC_REC_EVENT, "%s", why);

	n = good();
	ev->hdr.type = 7;
	expect_bad(n, "type");
	n = good();
	expect_bad(n - 1, "size"); /* header says more than there is */
	n = good();
	expect_bad(3, "shorter than its header");
	n = good();
	ev->op = NERRF_OP_MAX;
	expect_bad(n, "op");
	n = good();
	ev->op = NERRF_OP_NONE;
	expect_bad(n, "op");
	n = good();
	ev->path_len++; /* a length running past the record */
	expect_bad(n, "lengths");
	n = good();
	ev->path_len = NERRF_PATH_MAX + 1;
	expect_bad(n, "maximum");
	n = good();
	ev->strings[ev->path_len - 1] = 'x';
	expect_bad(n, "path not NUL");
	n = good();
	ev->strings[ev->path_len + ev->path2_len - 1] = 'x';
	expect_bad(n, "path2 not NUL");
	n = good();
	ev->strings[ev->path_len + ev->path2_len + ev->raw_len - 1] = 'x';
	expect_bad(n, "raw path not NUL");
	n = good();
	memset(ev->comm, 'c', sizeof(ev->comm));
	expect_bad(n, "comm");
	n = good();
	ev->cpu = ENC_MAX_CPUS;
	expect_bad(n, "cpu");
	/* too small for the fixed part, though self-consistent */
	n = good();
	ev->hdr.size = 40;
	expect_bad(40, "shorter than struct nerrf_event");
}

static void stats(void)
{
	struct nerrf_kstats *ks = (struct nerrf_kstats *)buf;
	const char *why;
	size_t n = sizeof(*ks) + 2 * sizeof(ks->lost_by_cpu[0]);

	memset(buf, 0, n);
	ks->hdr.type = NERRF_REC_STATS;
	ks->hdr.size = (uint32_t)n;
	ks->nr_cpus = 2;
	CHECK(enc_rec_check(buf, n, &why) == ENC_REC_STATS, "%s", why);
	ks->nr_cpus = 3;
	expect_bad(n, "nr_cpus");
	ks->nr_cpus = ENC_MAX_CPUS + 1;
	expect_bad(n, "nr_cpus");
	ks->hdr.size = 16;
	expect_bad(16, "shorter than struct nerrf_kstats");
}

static void entropy(void)
{
	uint8_t s[256];

	memset(s, 0, sizeof(s));
	CHECK(enc_entropy(s, 256) == 0.0f);
	for (int i = 0; i < 256; i++)
		s[i] = (uint8_t)i;
	float h = enc_entropy(s, 256);
	CHECK(h > 7.9999f && h < 8.0001f, "256 distinct bytes: %f", (double)h);
	/* two symbols, equally often: one bit */
	for (int i = 0; i < 64; i++)
		s[i] = (uint8_t)(i & 1 ? 'a' : 'b');
	h = enc_entropy(s, 64);
	CHECK(h > 0.9999f && h < 1.0001f, "two symbols: %f", (double)h);
	CHECK(enc_entropy(s, 1) == 0.0f);
	CHECK(enc_entropy(s, 0) == 0.0f);
}

static void utf8(void)
{
	char ok[] = "/home/\xc3\xa9t\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x94\x92.txt";
	char bad[] = "/a\xff" "b\xc3(\xe2\x82/\xed\xa0\x80/\xc0\xaf/\xf4\x90\x80\x80";

	CHECK(!enc_utf8_fix(ok, strlen(ok)));
	CHECK_STR(ok, "/home/\xc3\xa9t\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x94\x92.txt");
	CHECK(enc_utf8_fix(bad, strlen(bad)));
	/* each byte that starts no valid sequence becomes '?' */
	CHECK_STR(bad, "/a?b?(?\?/?\?\?/?\?/?\?\?\?");

	/* long ASCII runs are skipped a word at a time: the bad byte after one is still found */
	char lng[] = "/srv/share/finance/2024/quarterly\xe9report.xlsx";
	CHECK(enc_utf8_fix(lng, strlen(lng)));
	CHECK_STR(lng, "/srv/share/finance/2024/quarterly?report.xlsx");
}

int main(void)
{
	events();
	stats();
	entropy();
	utf8();
	return 0;
}
