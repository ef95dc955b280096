/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Everything appended is in the journal byte for byte, in order, across
 * segment rolls; each segment's index names every record; a reopened journal
 * continues after the last record.
 */
#include "jtest.h"

int main(void)
{
	char *dir = test_tmpdir("journal-roundtrip");
	struct nerrf_journal_opts o = NERRF_JOURNAL_DEFAULTS;
	o.dir = dir;
	o.segment_bytes = 64 << 10;
	struct nerrf_journal *j = jt_open(&o);
	CHECK_EQ_U64(nerrf_journal_last_seq(j), 0);
	jt_write(j, 1, 500);
	struct nerrf_journal_stats st;
	nerrf_journal_get_stats(j, &st);
	CHECK_EQ_U64(st.written, 500);
	CHECK_EQ_U64(st.dropped, 0);
	nerrf_journal_close(j);

	uint64_t first, last;
	CHECK_EQ_U64(jt_read_all(dir, &first, &last), 500);
	CHECK_EQ_U64(first, 1);
	CHECK_EQ_U64(last, 500);

	/* Every index entry points at its record; the segments rolled by size. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct nerrf_jseg *v;
	size_t n;
	CHECK(nerrf_journal_list(dfd, &v, &n) == 0);
	CHECK(n > 10, "500 records of ~1.5K in 64K segments make more than %zu segments", n);
	uint64_t entries = 0;
	for (size_t i = 0; i < n; i++) {
		CHECK(jt_size(dir, v[i].name) <= o.segment_bytes);
		int fd = openat(dfd, v[i].name, O_RDONLY);
		int ifd = openat(dfd, jt_seg(v[i].first_seq, "idx"), O_RDONLY);
		struct nerrf_jidx e;
		struct nerrf_jrec_hdr h;
		CHECK(fd >= 0 && ifd >= 0);
		for (uint64_t k = 0; pread(ifd, &e, sizeof(e), (off_t)(k * sizeof(e))) == sizeof(e);
		     k++, entries++) {
			CHECK(k || e.seq == v[i].first_seq, "a segment is named by its first seq");
			CHECK(pread(fd, &h, sizeof(h), (off_t)e.offset) == sizeof(h));
			CHECK_EQ_U64(h.seq, e.seq);
			CHECK_EQ_U64(h.last_ns, e.last_ns);
		}
		close(fd);
		close(ifd);
	}
	CHECK_EQ_U64(entries, 500);
	free(v);
	close(dfd);

	j = jt_open(&o);
	CHECK_EQ_U64(nerrf_journal_last_seq(j), 500);
	nerrf_journal_get_stats(j, &st);
	CHECK_EQ_U64(st.truncated_bytes, 0);
	jt_write(j, 501, 520);
	nerrf_journal_close(j);
	CHECK_EQ_U64(jt_read_all(dir, &first, &last), 520);
	jt_rm_rf(dir);
	return 0;
}
