/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A notify datagram as nerrf run receives it from anyone on the host who
 * can reach its socket: nerrf_notify_is_ready() reads only the bytes given
 * (ASan), and says ready exactly when a line of them is READY=1, as a
 * different reading of the same rule (the message framed by newlines,
 * searched for "\nREADY=1\n") says.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "harness.h"
#include "nerrf_notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *exact = malloc(size ? size : 1), *framed = malloc(size + 2);

	CHECK(exact && framed);
	memcpy(exact, data, size);
	framed[0] = '\n';
	memcpy(framed + 1, data, size);
	framed[size + 1] = '\n';
	bool want = memmem(framed, size + 2, "\nREADY=1\n", 9) != NULL;
	CHECK(nerrf_notify_is_ready(exact, size) == want, "%zu bytes: %d", size, !want);
	free(exact);
	free(framed);
	return 0;
}
