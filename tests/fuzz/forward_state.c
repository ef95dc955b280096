/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-forward's state file parser on arbitrary bytes. Whatever the file
 * holds: no crash, no read past it (ASan), a failure leaves a NUL-terminated
 * message within the buffer and a zero position; a success is exactly what
 * the writer writes (the header line and "acked_seq N\n", N in canonical
 * decimal), so it round-trips.
 */
#include <stdio.h>

#include "forward.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t errlens[] = {1, 16, 300};
	struct fwd_state st;
	char err[300], again[64];

	for (size_t i = 0; i < sizeof(errlens) / sizeof(errlens[0]); i++) {
		memset(err, 'x', sizeof(err));
		int rv = fwd_state_parse((const char *)data, size, &st, err, errlens[i]);
		if (rv != 0) {
			FUZZ_CHECK(memchr(err, '\0', errlens[i]) != NULL, "unterminated message");
			FUZZ_CHECK(st.acked_seq == 0, "a refused file gave a position");
			continue;
		}
		int n = snprintf(again, sizeof(again), "nerrf-forward-state 1\nacked_seq %llu\n",
				 (unsigned long long)st.acked_seq);
		FUZZ_CHECK((size_t)n == size && memcmp(again, data, size) == 0,
			   "accepted a file the writer would not write");
	}
	return 0;
}
