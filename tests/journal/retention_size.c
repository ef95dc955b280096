/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Retention by total size: whole segments go, oldest first, counted; the
 * newest records and the segment being written stay.
 */
#include "jtest.h"

int main(void)
{
	char *dir = test_tmpdir("journal-retain-size");
	struct nerrf_journal_opts o = NERRF_JOURNAL_DEFAULTS;
	o.dir = dir;
	o.segment_bytes = 32 << 10;
	o.max_bytes = 128 << 10;
	struct nerrf_journal *j = jt_open(&o);
	jt_write(j, 1, 400);
	nerrf_journal_poll(j); /* retention looks after a roll, in the next pass */
	struct nerrf_journal_stats st;
	nerrf_journal_get_stats(j, &st);
	nerrf_journal_close(j);

	uint64_t first, last, total = 0;
	uint64_t n = jt_read_all(dir, &first, &last);
	CHECK_EQ_U64(last, 400);
	CHECK_EQ_U64(n, 400 - first + 1);
	CHECK(first > 1, "the oldest records went");
	CHECK(st.deleted_segments > 0 && st.deleted_bytes > 0);

	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct nerrf_jseg *v;
	size_t ns;
	CHECK(nerrf_journal_list(dfd, &v, &ns) == 0);
	for (size_t i = 0; i < ns; i++)
		total += jt_size(dir, v[i].name);
	/* Within the limit but for the segment written since retention last looked. */
	CHECK(total <= o.max_bytes + o.segment_bytes, "%llu bytes kept",
	      (unsigned long long)total);
	CHECK(total + st.deleted_bytes >= 400 * 1500, "deleted and kept add up");
	CHECK(v[0].first_seq == first);
	free(v);
	close(dfd);
	jt_rm_rf(dir);
	return 0;
}
