/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The journal reader on arbitrary bytes as a segment: the in-memory parser
 * and the file reader (through a memfd) must agree record for record, never
 * read outside the input, and only hand out records whose checksum holds;
 * the wall-clock scan of each payload must stay inside it.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "nerrf_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nerrf_jrec a, b;
	struct nerrf_jreader rd;
	const char *why = NULL;
	size_t off = 0;
	uint64_t last = 0;
	int ra, rb;
	int fd = memfd_create("fuzz-journal", MFD_CLOEXEC);

	FUZZ_CHECK(fd >= 0, "memfd_create");
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size, "write");
	nerrf_jreader_init(&rd, fd, 0);
	for (;;) {
		ra = nerrf_journal_parse(data, size, &off, &last, &a, &why);
		rb = nerrf_jreader_next(&rd, size, &b);
		FUZZ_CHECK(ra == rb, "parser %d, reader %d", ra, rb);
		if (ra != NERRF_JREAD_RECORD)
			break;
		FUZZ_CHECK(a.off == b.off && a.h.seq == b.h.seq && a.h.len == b.h.len &&
				   memcmp(a.payload, b.payload, a.h.len) == 0,
			   "parser and reader disagree");
		FUZZ_CHECK(nerrf_journal_crc(&a.h, a.payload) == a.h.crc, "bad crc served");
		FUZZ_CHECK(off == rd.off && off <= size, "offsets");
		uint64_t f, l;
		nerrf_journal_time_range(a.payload, a.h.len, &f, &l);
		FUZZ_CHECK(f <= l, "time range");
	}
	nerrf_jreader_free(&rd);
	/* Seeking over the same bytes stays inside them. */
	FUZZ_CHECK(nerrf_journal_seek(fd, -1, false, size / 2) <= size, "seek");
	FUZZ_CHECK(nerrf_journal_seek(fd, fd, true, size) <= size, "seek with a bogus index");
	close(fd);
	return 0;
}
