/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One flipped bit in a record is caught by its checksum: the reader stops
 * there and says why, and the next start cuts the segment being written
 * back to the last good record before it, so the damaged one is never served.
 */
#include "jtest.h"

int main(void)
{
	char *dir = test_tmpdir("journal-corrupt");
	char p[600];
	struct nerrf_journal_opts o = NERRF_JOURNAL_DEFAULTS;
	o.dir = dir;
	struct nerrf_journal *j = jt_open(&o);
	jt_write(j, 1, 30);
	nerrf_journal_close(j);

	/* Record 21's offset, from the index. */
	snprintf(p, sizeof(p), "%s/%s", dir, jt_seg(1, "idx"));
	int ifd = open(p, O_RDONLY);
	struct nerrf_jidx e;
	CHECK(ifd >= 0 && pread(ifd, &e, sizeof(e), 20 * sizeof(e)) == sizeof(e));
	close(ifd);
	CHECK_EQ_U64(e.seq, 21);
	snprintf(p, sizeof(p), "%s/%s", dir, jt_seg(1, "seg"));
	int fd = open(p, O_RDWR);
	uint8_t b;
	off_t at = (off_t)e.offset + 40 + 5;
	CHECK(fd >= 0 && pread(fd, &b, 1, at) == 1);
	b ^= 0x10;
	CHECK(pwrite(fd, &b, 1, at) == 1);

	struct nerrf_jreader rd;
	struct nerrf_jrec r;
	int rv, n = 0;
	nerrf_jreader_init(&rd, fd, 0);
	while ((rv = nerrf_jreader_next(&rd, UINT64_MAX, &r)) == NERRF_JREAD_RECORD)
		n++;
	CHECK(rv == NERRF_JREAD_BAD && n == 20, "reader: %d after %d records", rv, n);
	CHECK_EQ_U64(rd.off, e.offset);
	CHECK(strstr(rd.why, "checksum"), "why: %s", rd.why);
	nerrf_jreader_free(&rd);
	close(fd);

	j = jt_open(&o);
	struct nerrf_journal_stats st;
	nerrf_journal_get_stats(j, &st);
	CHECK(st.truncated_bytes > 0);
	CHECK_EQ_U64(nerrf_journal_last_seq(j), 20);
	CHECK_EQ_U64(jt_size(dir, jt_seg(1, "seg")), e.offset);
	CHECK_EQ_U64(jt_size(dir, jt_seg(1, "idx")), 20 * sizeof(e));
	nerrf_journal_close(j);
	uint64_t first, last;
	CHECK_EQ_U64(jt_read_all(dir, &first, &last), 20);
	jt_rm_rf(dir);
	return 0;
}
