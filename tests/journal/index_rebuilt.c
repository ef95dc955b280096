/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The index is a hint: lost or damaged, it is rebuilt from the segment at
 * the next start; seeking by sequence and by time finds the right record
 * with it, and with a wrong one.
 */
#include "jtest.h"

static void check_seek(const char *dir)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/%s", dir, jt_seg(1, "seg"));
	int fd = open(p, O_RDONLY);
	snprintf(p, sizeof(p), "%s/%s", dir, jt_seg(1, "idx"));
	int ifd = open(p, O_RDONLY);
	CHECK(fd >= 0);
	for (uint64_t s = 1; s <= 100; s += 9) {
		for (int by_time = 0; by_time < 2; by_time++) {
			struct nerrf_jrec_hdr h;
			uint64_t key = by_time ? s * 1000000000ull + 500 : s;
			uint64_t off = nerrf_journal_seek(fd, ifd, by_time, key);
			CHECK(pread(fd, &h, sizeof(h), (off_t)off) == sizeof(h));
			CHECK_EQ_U64(h.seq, s);
		}
	}
	/* Past the end: the segment's end. */
	CHECK_EQ_U64(nerrf_journal_seek(fd, ifd, false, 101), jt_size(dir, jt_seg(1, "seg")));
	if (ifd >= 0)
		close(ifd);
	close(fd);
}

int main(void)
{
	char *dir = test_tmpdir("journal-index");
	char p[600];
	struct nerrf_journal_opts o = NERRF_JOURNAL_DEFAULTS;
	o.dir = dir;
	struct nerrf_journal *j = jt_open(&o);
	jt_write(j, 1, 100);
	nerrf_journal_close(j);
	snprintf(p, sizeof(p), "%s/%s", dir, jt_seg(1, "idx"));
	uint64_t good = jt_size(dir, jt_seg(1, "idx"));
	CHECK_EQ_U64(good, 100 * sizeof(struct nerrf_jidx));
	check_seek(dir);

	/* Wrong entries: offsets shifted by one record. */
	int ifd = open(p, O_RDWR);
	struct nerrf_jidx e[100];
	CHECK(ifd >= 0 && pread(ifd, e, sizeof(e), 0) == sizeof(e));
	for (int i = 0; i < 99; i++)
		e[i].offset = e[i + 1].offset;
	CHECK(pwrite(ifd, e, sizeof(e), 0) == sizeof(e));
	close(ifd);
	check_seek(dir);

	/* Gone: rebuilt at start. */
	CHECK(unlink(p) == 0);
	check_seek(dir);
	j = jt_open(&o);
	nerrf_journal_close(j);
	CHECK_EQ_U64(jt_size(dir, jt_seg(1, "idx")), good);
	struct nerrf_jidx r[100];
	ifd = open(p, O_RDONLY);
	CHECK(ifd >= 0 && pread(ifd, r, sizeof(r), 0) == sizeof(r));
	close(ifd);
	for (int i = 0; i < 100; i++)
		CHECK(r[i].seq == (uint64_t)i + 1 && r[i].first_ns == r[i].seq * 1000000000ull,
		      "entry %d", i);

	/* Damaged: rebuilt too. */
	ifd = open(p, O_RDWR);
	CHECK(ifd >= 0 && pwrite(ifd, "garbage!", 8, 40 * sizeof(e[0]) + 3) == 8);
	close(ifd);
	j = jt_open(&o);
	nerrf_journal_close(j);
	ifd = open(p, O_RDONLY);
	struct nerrf_jidx r2[100];
	CHECK(ifd >= 0 && pread(ifd, r2, sizeof(r2), 0) == sizeof(r2));
	close(ifd);
	CHECK(memcmp(r, r2, sizeof(r)) == 0, "the damaged index was rebuilt");
	check_seek(dir);
	jt_rm_rf(dir);
	return 0;
}
