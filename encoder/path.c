/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Paths the kernel built from a directory it walked (dirfd or cwd, symlinks
 * resolved) plus the name the caller passed, e.g. "/srv/data/./x.enc" or
 * "/srv/data/../y": made canonical here, where it costs nothing in the
 * kernel. A ".." right after the walked directory is exact (that directory
 * has no symlink left in it); one after a component of the caller's own
 * name is resolved lexically, as if that component were no symlink. The
 * caller's string stays in raw_path.
 */
#include <string.h>

#include "encoder.h"

size_t enc_path_normalize(char *p, size_t len)
{
	size_t in = 0, out = 0;

	/* the path ends at its first NUL: a ".." past it must not pull later bytes in */
	len = strnlen(p, len);
	if (len == 0 || p[0] != '/')
		return len;
	while (in < len) {
		while (in < len && p[in] == '/')
			in++;
		size_t start = in;
		while (in < len && p[in] != '/')
			in++;
		size_t n = in - start;
		if (n == 0 || (n == 1 && p[start] == '.'))
			continue;
		if (n == 2 && p[start] == '.' && p[start + 1] == '.') {
			/* up one, never above the root */
			while (out > 0 && p[out - 1] != '/')
				out--;
			if (out > 0)
				out--;
			continue;
		}
		p[out++] = '/';
		memmove(p + out, p + start, n);
		out += n;
	}
	if (out == 0)
		p[out++] = '/';
	p[out] = '\0';
	return out;
}
