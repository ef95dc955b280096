/* SPDX-License-Identifier: Apache-2.0 */
/* write, pwrite64, writev, pwritev, pwritev2: the file's path, bytes, offset
 * and the head sample; a failing write; pipes are not traced by default. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "common_checks.h"

static const struct nerrf_event *expect(struct coll *c, unsigned op, long long ret,
					const char *path, int fd)
{
	const struct nerrf_event *e = coll_find(c, op, getpid(), NULL, 5000);
	check_header(e, op, ret);
	CHECK_STR(ev_path(e), path);
	CHECK_EQ_U64(e->fd, fd);
	CHECK(!(e->flags & NERRF_EF_PATH_FALLBACK), "flags %#x", e->flags);
	check_inode(e, path);
	return e;
}

int main(void)
{
	char self[16], p[4200], big[100];
	const char *args[] = { "--pid", self, "--syscalls", "write,pwrite64,writev,pwritev,pwritev2",
			       NULL };
	struct iovec iov[2] = { { "ab", 2 }, { "cdef", 4 } };
	const struct nerrf_event *e;
	struct coll c;
	int fd, rofd, pfd[2];

	test_require_root("write_test");
	snprintf(self, sizeof(self), "%d", getpid());
	snprintf(p, sizeof(p), "%s/data", real_tmpdir("write"));
	memset(big, 'A', sizeof(big));
	fd = open(p, O_CREAT | O_RDWR, 0600);
	rofd = open(p, O_RDONLY);
	CHECK(fd >= 0 && rofd >= 0 && pipe(pfd) == 0);
	coll_start(&c, args);

	/* A pipe write first: it must not show up before the file write. */
	CHECK(write(pfd[1], "x", 1) == 1);
	CHECK(write(fd, "hello world", 11) == 11);
	e = expect(&c, NERRF_OP_WRITE, 11, p, fd);
	CHECK_EQ_U64(e->bytes, 11);
	CHECK_EQ_U64(e->offset, -1);
	CHECK_EQ_U64(e->data_len, 11);
	CHECK(memcmp(ev_data(e), "hello world", 11) == 0);
	CHECK(!(e->flags & NERRF_EF_DATA_TRUNC));

	/* Beyond --sample-bytes (64): sampled head, truncation flagged */
	CHECK(pwrite(fd, big, sizeof(big), 7) == sizeof(big));
	e = expect(&c, NERRF_OP_PWRITE64, sizeof(big), p, fd);
	CHECK_EQ_U64(e->bytes, sizeof(big));
	CHECK_EQ_U64(e->offset, 7);
	CHECK_EQ_U64(e->data_len, 64);
	CHECK(memcmp(ev_data(e), big, 64) == 0);
	CHECK(e->flags & NERRF_EF_DATA_TRUNC);

	/* Vectored: bytes sum every iovec, the sample is the head as written, across them */
	CHECK(writev(fd, iov, 2) == 6);
	e = expect(&c, NERRF_OP_WRITEV, 6, p, fd);
	CHECK_EQ_U64(e->bytes, 6);
	CHECK_EQ_U64(e->data_len, 6);
	CHECK(memcmp(ev_data(e), "abcdef", 6) == 0);
	CHECK(!(e->flags & NERRF_EF_IOV_CAPPED));

	/* Many small iovecs (writers gather records this way): all summed, head sampled */
	static struct iovec many[200];
	for (int i = 0; i < 200; i++)
		many[i] = (struct iovec){ &big[i % 100], 1 };
	big[0] = 'Z';
	CHECK(writev(fd, many, 200) == 200);
	e = expect(&c, NERRF_OP_WRITEV, 200, p, fd);
	CHECK_EQ_U64(e->bytes, 200);
	CHECK_EQ_U64(e->data_len, 64);
	CHECK(memcmp(ev_data(e), big, 64) == 0);
	CHECK(e->flags & NERRF_EF_DATA_TRUNC);

	CHECK(pwritev(fd, iov, 2, 3) == 6);
	e = expect(&c, NERRF_OP_PWRITEV, 6, p, fd);
	CHECK_EQ_U64(e->offset, 3);
	CHECK_EQ_U64(e->bytes, 6);

	CHECK(pwritev2(fd, iov, 2, 5, RWF_DSYNC) == 6);
	e = expect(&c, NERRF_OP_PWRITEV2, 6, p, fd);
	CHECK_EQ_U64(e->offset, 5);
	CHECK_EQ_U64(e->arg_flags, RWF_DSYNC);

	/* A failing write: -EBADF, bytes requested, nothing sampled */
	CHECK(write(rofd, "zz", 2) == -1 && errno == EBADF);
	e = expect(&c, NERRF_OP_WRITE, -EBADF, p, rofd);
	CHECK_EQ_U64(e->bytes, 2);
	CHECK_EQ_U64(e->data_len, 0);

	coll_stop(&c);
	/* Everything left: no write of ours other than the file's. */
	while ((e = coll_next(&c, 200)))
		CHECK(!(e->tgid == (unsigned)getpid() && e->fd == pfd[1]), "pipe write traced");
	CHECK(c.stats && c.stats->kernel_filtered >= 1, "the pipe write was not counted as filtered");
	coll_free(&c);
	unlink(p);
	return 0;
}
