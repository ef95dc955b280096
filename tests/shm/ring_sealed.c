/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A ring's memory file is sealed before anyone else sees it: nobody holding
 * it (a dup, or the same file opened again through /proc) can shrink or grow
 * it, so no side's mapping turns into SIGBUS under it, and nobody can add a
 * seal of their own. Attach refuses, with -EPERM and a message, any fd
 * without all of those seals: an unsealed memfd, one sealed in part, a
 * regular file (on disk or on tmpfs) with a valid ring in it.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "ring_test.h"

#define RING_SIZE (4096 + 8192)

static void expect_refused(int fd, const char *what)
{
	struct nerrf_ring_cons *c = (void *)1;
	const char *msg = NULL;
	int ret = nerrf_ring_attach(fd, &c, &msg);

	if (ret != -EPERM)
		FAIL("%s: attach returned %d, expected -EPERM (%s)", what, ret, msg ? msg : "");
	CHECK(c == NULL);
	CHECK(msg && strstr(msg, "sealed"), "%s: message \"%s\"", what, msg ? msg : "");
	CHECK(fcntl(fd, F_GETFD) >= 0, "%s: a refused fd was closed", what);
	close(fd);
}

/* fd holding a copy of the ring in src, sealed with seals (if it can be). */
static int copy_of(int src, int fd, int seals)
{
	char buf[RING_SIZE];

	CHECK(fd >= 0, "%s", strerror(errno));
	CHECK(pread(src, buf, sizeof(buf), 0) == sizeof(buf));
	CHECK(pwrite(fd, buf, sizeof(buf), 0) == sizeof(buf));
	if (seals)
		CHECK(fcntl(fd, F_ADD_SEALS, seals) == 0);
	return fd;
}

static int new_memfd(void)
{
	return memfd_create("test-unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

/* An unnamed regular file in dir, or -1 where O_TMPFILE is not supported. */
static int tmpfile_in(const char *dir)
{
	return open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

int main(void)
{
	struct nerrf_ring_prod *p = open_prod(8192);
	struct nerrf_ring_cons *c = open_cons(p);
	int pfd = nerrf_ring_fd(p), fds[3];
	char proc[64];
	struct stat st;
	size_t len;
	int err;

	CHECK(fstat(pfd, &st) == 0);
	CHECK_EQ_U64(st.st_size, RING_SIZE);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fds[0] = pfd;
	fds[1] = dup(pfd);
	fds[2] = open(proc, O_RDWR | O_CLOEXEC);
	for (int i = 0; i < 3; i++) {
		CHECK(fds[i] >= 0, "fd %d: %s", i, strerror(errno));
		CHECK(ftruncate(fds[i], 0) < 0 && errno == EPERM, "fd %d: shrunk to 0", i);
		CHECK(ftruncate(fds[i], RING_SIZE - 4096) < 0 && errno == EPERM, "fd %d: shrunk", i);
		CHECK(ftruncate(fds[i], 2 * RING_SIZE) < 0 && errno == EPERM, "fd %d: grown", i);
		CHECK(fallocate(fds[i], 0, RING_SIZE, 4096) < 0 && errno == EPERM,
		      "fd %d: grown by fallocate", i);
		CHECK(fcntl(fds[i], F_ADD_SEALS, F_SEAL_FUTURE_WRITE) < 0 && errno == EPERM,
		      "fd %d: took another seal", i);
	}
	close(fds[1]);
	close(fds[2]);
	CHECK(fstat(pfd, &st) == 0);
	CHECK_EQ_U64(st.st_size, RING_SIZE);

	/* and the ring still works */
	void *w = nerrf_ring_reserve(p, 16);
	CHECK(w != NULL);
	fill_payload(w, 16, 1);
	nerrf_ring_commit(p);
	nerrf_ring_publish(p);
	const void *rd = nerrf_ring_peek(c, &len, &err);
	CHECK(rd && len == 16 && check_payload(rd, len, 1));
	nerrf_ring_release(c);

	/* copies of a valid ring without the seals */
	expect_refused(copy_of(pfd, new_memfd(), 0), "unsealed memfd");
	expect_refused(copy_of(pfd, new_memfd(), F_SEAL_SHRINK | F_SEAL_GROW),
		       "memfd open to further seals");
	expect_refused(copy_of(pfd, new_memfd(), F_SEAL_SHRINK | F_SEAL_SEAL),
		       "memfd that can grow");
	const char *dir = test_tmpdir("sealed");
	expect_refused(copy_of(pfd, tmpfile_in(dir), 0), "regular file in TMPDIR");
	rmdir(dir);
	int fd = tmpfile_in("/dev/shm");
	if (fd >= 0)
		expect_refused(copy_of(pfd, fd, 0), "regular file on tmpfs");

	nerrf_ring_cons_close(c);
	nerrf_ring_prod_close(p);
	return 0;
}
