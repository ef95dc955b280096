/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf tail, and the Python example subscriber when python3-protobuf is
 * there, against a rogue publisher (rogue.h): they stay within a few times
 * the largest message they accept, print the sane batches, and report the
 * dropped batch with its count and the batch lost to the oversized message.
 */
#include "rogue.h"

int main(void)
{
	char *dir = test_tmpdir("rogue");
	char url[512];
	long limit = rogue_rss_limit_kb();

	snprintf(url, sizeof(url), "ipc://%s/rogue.sock", dir);
	char *tail[] = {(char *)pt_bin("NERRF_CLI"), "tail", "--url", url, "--json", "--count", "3",
			NULL};
	rogue_run(dir, "tail", url, tail,
		  "nerrf tail: warning: dropped batch publisher_seq 2 of 2000000 events, more than "
		  "--max-events 131072 (1 batches, 2000000 events dropped so far)",
		  "nerrf tail: warning: missed 1 batches (publisher_seq 4 to 4) while the "
		  "connection to the publisher was down; nng closes it on a message above "
		  "--max-message-bytes (4194304)",
		  limit);

	if (getenv("NERRF_PYTHON")) {
		/* Python itself takes some 30 MB. */
		char *py[] = {(char *)pt_bin("NERRF_PYTHON"), (char *)getenv("NERRF_PYSUB"),
			      "--url", url, "--count", "3", NULL};
		rogue_run(dir, "python", url, py,
			  "nerrf_subscribe: dropped batch publisher_seq 2 of 2000000 events, more "
			  "than --max-events 131072 (1 batches, 2000000 events dropped so far)",
			  "nerrf_subscribe: missed 1 batches: this subscriber read too slowly, or "
			  "a message above --max-message-bytes closed the connection",
			  limit + 32 * 1024);
	}
	pt_rm_rf(dir);
	return 0;
}
