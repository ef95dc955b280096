/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-subscribe against a rogue publisher (rogue.h): it stays within a few
 * times the largest message it accepts, prints the sane batches, and reports
 * the dropped batch with its count and the batch lost to the oversized one.
 */
#include "rogue.h"
#include "rusttest.h"

int main(void)
{
	const char *bin = rt_build();
	char *dir = test_tmpdir("rust-rogue");
	char url[512];

	snprintf(url, sizeof(url), "ipc://%s/rogue.sock", dir);
	char *argv[] = {(char *)bin, "--url", url, "--count", "3", NULL};
	rogue_run(dir, "rust", url, argv,
		  "nerrf-subscribe: warning: dropped batch publisher_seq 2 of 2000000 events, more "
		  "than --max-events 131072 (1 batches, 2000000 events dropped so far)",
		  "nerrf-subscribe: warning: missed 1 batches (publisher_seq 4 to 4): this "
		  "subscriber read too slowly (read faster, or raise nerrf-publisher --sendbuf), or "
		  "a message above --max-message-bytes closed the connection",
		  rogue_rss_limit_kb());
	pt_rm_rf(dir);
	return 0;
}
