/* SPDX-License-Identifier: Apache-2.0 */
/*
 * With no publisher at the URL, nerrf-subscribe fails at once and says what
 * to check, instead of waiting silently.
 */
#include "rusttest.h"

int main(void)
{
	const char *bin = rt_build();
	char *dir = test_tmpdir("rust-dial");
	char url[512], out[600], err[600];

	snprintf(url, sizeof(url), "ipc://%s/nobody.sock", dir);
	snprintf(out, sizeof(out), "%s/sub.out", dir);
	snprintf(err, sizeof(err), "%s/sub.err", dir);
	pid_t sub = rt_subscriber(bin, out, err, "--url", url, NULL);
	int rc = pt_wait_exit(sub, 10000);
	if (rc < 0)
		kill(sub, SIGKILL);
	CHECK(rc == 1, "exit status %d, expected 1", rc);
	const char *e = pt_slurp(err);
	CHECK(strstr(e, "nerrf-subscribe: cannot dial ") != NULL, "%s", e);
	CHECK(strstr(e, url) != NULL, "the message names the URL: %s", e);
	CHECK(strstr(e, "is nerrf-publisher running? check the URL") != NULL, "%s", e);
	CHECK_STR(pt_slurp(out), "");

	/* A bad argument is a usage error, not a dial. */
	sub = rt_subscriber(bin, out, err, "--count", "many", NULL);
	rc = pt_wait_exit(sub, 10000);
	CHECK(rc == 2, "exit status %d for --count many, expected 2", rc);
	CHECK(strstr(pt_slurp(err), "--count many: not a non-negative integer") != NULL, "%s",
	      pt_slurp(err));
	pt_rm_rf(dir);
	return 0;
}
