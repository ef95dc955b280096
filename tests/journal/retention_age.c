/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Retention by age: segments whose newest record is older than
 * --journal-max-age go at the next start, oldest first; younger ones and
 * the segment being written stay, however old.
 */
#include <sys/time.h>

#include "jtest.h"

static void age(const char *dir, uint64_t seq, time_t secs)
{
	char p[600];
	struct timespec t[2];
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= secs;
	t[1] = t[0];
	snprintf(p, sizeof(p), "%s/%s", dir, jt_seg(seq, "seg"));
	CHECK(utimensat(AT_FDCWD, p, t, 0) == 0);
}

int main(void)
{
	char *dir = test_tmpdir("journal-retain-age");
	struct nerrf_journal_opts o = NERRF_JOURNAL_DEFAULTS;
	o.dir = dir;
	o.segment_bytes = 32 << 10;
	o.max_age_s = 3600;
	struct nerrf_journal *j = jt_open(&o);
	jt_write(j, 1, 200);
	nerrf_journal_close(j);

	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct nerrf_jseg *v;
	size_t n;
	CHECK(nerrf_journal_list(dfd, &v, &n) == 0);
	CHECK(n >= 4);
	/* The two oldest are two hours old, the third 30 minutes, the last two days. */
	age(dir, v[0].first_seq, 7200);
	age(dir, v[1].first_seq, 7200);
	age(dir, v[2].first_seq, 1800);
	age(dir, v[n - 1].first_seq, 2 * 86400);
	uint64_t keep_from = v[2].first_seq;
	free(v);

	j = jt_open(&o);
	nerrf_journal_poll(j);
	struct nerrf_journal_stats st;
	nerrf_journal_get_stats(j, &st);
	CHECK_EQ_U64(st.deleted_segments, 2);
	CHECK_EQ_U64(nerrf_journal_last_seq(j), 200);
	nerrf_journal_close(j);

	uint64_t first, last;
	CHECK_EQ_U64(jt_read_all(dir, &first, &last), 200 - keep_from + 1);
	CHECK_EQ_U64(first, keep_from);
	CHECK_EQ_U64(last, 200);
	close(dfd);
	jt_rm_rf(dir);
	return 0;
}
