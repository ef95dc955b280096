/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A record cut short by a crash (whole header, half a payload; or half a
 * header) is cut off at the next start, counted, and never read; the
 * journal continues right after the last whole record.
 */
#include "jtest.h"

static void tear(const char *dir, uint64_t seg, size_t keep)
{
	uint8_t buf[4096];
	char p[600];
	size_t len = jt_payload(99, buf + 40, sizeof(buf) - 40);
	struct nerrf_jrec_hdr h = {.magic = NERRF_JOURNAL_MAGIC, .len = (uint32_t)len, .seq = 99};
	h.crc = nerrf_journal_crc(&h, buf + 40);
	memcpy(buf, &h, sizeof(h));
	CHECK(keep < sizeof(h) + len);
	snprintf(p, sizeof(p), "%s/%s", dir, jt_seg(seg, "seg"));
	int fd = open(p, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK(write(fd, buf, keep) == (ssize_t)keep);
	close(fd);
}

int main(void)
{
	char *dir = test_tmpdir("journal-torn");
	struct nerrf_journal_opts o = NERRF_JOURNAL_DEFAULTS;
	o.dir = dir;
	struct nerrf_journal *j = jt_open(&o);
	jt_write(j, 1, 40);
	nerrf_journal_close(j);
	uint64_t whole = jt_size(dir, jt_seg(1, "seg"));

	size_t cuts[] = {40 + 500, 17};
	for (int k = 0; k < 2; k++) {
		tear(dir, 1, cuts[k]);
		CHECK_EQ_U64(jt_size(dir, jt_seg(1, "seg")), whole + cuts[k]);
		j = jt_open(&o);
		struct nerrf_journal_stats st;
		nerrf_journal_get_stats(j, &st);
		CHECK_EQ_U64(st.truncated_bytes, cuts[k]);
		CHECK_EQ_U64(nerrf_journal_last_seq(j), 40 + 10 * k);
		CHECK_EQ_U64(jt_size(dir, jt_seg(1, "seg")), whole);
		jt_write(j, 41 + 10 * k, 50 + 10 * k);
		nerrf_journal_close(j);
		whole = jt_size(dir, jt_seg(1, "seg"));
		uint64_t first, last;
		CHECK_EQ_U64(jt_read_all(dir, &first, &last), 50 + 10 * k);
	}
	jt_rm_rf(dir);
	return 0;
}
