/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Index entries wait for the next sync (one write for many): while they
 * wait, the index covers fewer records than the segment holds, and seeking
 * past its last entry still finds every record; closing writes the rest.
 */
#include "jtest.h"

static void check_seek(const char *dir, uint64_t last)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/%s", dir, jt_seg(1, "seg"));
	int fd = open(p, O_RDONLY);
	snprintf(p, sizeof(p), "%s/%s", dir, jt_seg(1, "idx"));
	int ifd = open(p, O_RDONLY);
	CHECK(fd >= 0 && ifd >= 0);
	for (uint64_t s = 1; s <= last; s += 7) {
		struct nerrf_jrec_hdr h;
		uint64_t off = nerrf_journal_seek(fd, ifd, false, s);
		CHECK(pread(fd, &h, sizeof(h), (off_t)off) == sizeof(h));
		CHECK_EQ_U64(h.seq, s);
	}
	close(ifd);
	close(fd);
}

int main(void)
{
	char *dir = test_tmpdir("journal-index-lags");
	struct nerrf_journal_opts o = NERRF_JOURNAL_DEFAULTS;
	o.dir = dir;
	o.sync_ms = 3600000; /* no sync during the test: the index waits */
	o.sync_bytes = 1ull << 32;
	struct nerrf_journal *j = jt_open(&o);
	jt_write(j, 1, 300);
	uint64_t isz = jt_size(dir, jt_seg(1, "idx"));
	CHECK(isz % sizeof(struct nerrf_jidx) == 0 && isz < 300 * sizeof(struct nerrf_jidx),
	      "the index holds %llu bytes while its entries wait for the sync",
	      (unsigned long long)isz);
	check_seek(dir, 300);
	nerrf_journal_close(j);
	CHECK_EQ_U64(jt_size(dir, jt_seg(1, "idx")), 300 * sizeof(struct nerrf_jidx));
	check_seek(dir, 300);
	return 0;
}
