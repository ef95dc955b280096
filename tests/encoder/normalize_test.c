/* SPDX-License-Identifier: Apache-2.0 */
/* Paths built from a walked directory and a caller's name come out canonical. */
#include <string.h>

#include "encoder.h"
#include "harness.h"

static void check(const char *in, const char *want)
{
	char buf[256];
	size_t n;

	snprintf(buf, sizeof(buf), "%s", in);
	n = enc_path_normalize(buf, strlen(buf));
	CHECK_STR(buf, want);
	CHECK_EQ_U64(n, strlen(want));
}

int main(void)
{
	check("/srv/data/./x.enc", "/srv/data/x.enc");
	check("/srv/data/../y", "/srv/y");
	check("/srv/data/a/./b/../c", "/srv/data/a/c");
	check("/srv//data///z", "/srv/data/z");
	check("/../../etc", "/etc");
	check("/a/..", "/");
	check("/.", "/");
	check("/", "/");
	check("/a/b/", "/a/b");
	check("/a/.../b", "/a/.../b"); /* three dots is a name */
	check("/a/..b/.c", "/a/..b/.c");
	check("relative/./x", "relative/./x"); /* unresolved names are left alone */
	return 0;
}
