/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attaching validates a ring's memory file before trusting it: a header
 * without its magic (not written yet, or scribbled over) is "retry later"
 * (-EAGAIN), another ABI version is -EVERSION, a bad page size or capacity
 * field and a file smaller than a header or of another size than its header
 * says are refused (-EINVAL). Every refusal says what to do and leaves the caller's fd open;
 * a good fd becomes the ring's.
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "ring_layout.h"
#include "ring_test.h"

#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static void expect_attach(int fd, int want, const char *msg_part)
{
	struct nerrf_ring_cons *c = (void *)1;
	const char *msg = NULL;
	int ret = nerrf_ring_attach(fd, &c, &msg);

	if (ret != want)
		FAIL("attach: %d, expected %d (%s)", ret, want, msg ? msg : "no message");
	CHECK(c == NULL);
	if (!msg || !strstr(msg, msg_part))
		FAIL("message \"%s\" does not mention \"%s\"", msg ? msg : "", msg_part);
	CHECK(fcntl(fd, F_GETFD) >= 0, "a refused fd was closed");
}

/* A sealed memory file of size bytes holding the first n bytes of src. */
static int sealed_copy(int src, size_t n, size_t size)
{
	int fd = memfd_create("test-copy", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	char buf[4096];

	CHECK(fd >= 0 && ftruncate(fd, (off_t)size) == 0);
	for (size_t off = 0; off < n; off += sizeof(buf)) {
		size_t k = n - off < sizeof(buf) ? n - off : sizeof(buf);
		CHECK(pread(src, buf, k, (off_t)off) == (ssize_t)k);
		CHECK(pwrite(fd, buf, k, (off_t)off) == (ssize_t)k);
	}
	CHECK(fcntl(fd, F_ADD_SEALS, SEALS) == 0);
	return fd;
}

/* Rewrites one header field of the ring in place. */
static void poke(int fd, size_t off, const void *val, size_t len)
{
	CHECK(pwrite(fd, val, len, (off_t)off) == (ssize_t)len);
}

int main(void)
{
	struct nerrf_ring_prod *p = open_prod(8192);
	struct nerrf_ring_cons *c;
	struct nerrf_ring_stats st;
	const char *msg = NULL;
	int pfd = nerrf_ring_fd(p), fd;

	/* a good fd becomes the ring's */
	fd = dup(pfd);
	CHECK(nerrf_ring_attach(fd, &c, &msg) == 0, "%s", msg ? msg : "");
	nerrf_ring_cons_stats(c, &st);
	CHECK_EQ_U64(st.capacity, 8192);
	nerrf_ring_cons_close(c);
	CHECK(fcntl(fd, F_GETFD) < 0, "the ring's fd outlived the ring");

	/* smaller than a header: a sealed file never grows into a ring */
	fd = sealed_copy(pfd, 0, 100);
	expect_attach(fd, -EINVAL, "restart the producer");
	close(fd);

	/* zeros: no magic */
	fd = sealed_copy(pfd, 0, 4096 + 8192);
	expect_attach(fd, -EAGAIN, "retries");
	close(fd);

	fd = dup(pfd);
	uint32_t v = RING_VERSION + 1;
	poke(pfd, offsetof(struct ring_hdr, version), &v, sizeof(v));
	expect_attach(fd, -NERRF_RING_EVERSION, "same version");
	v = RING_VERSION;
	poke(pfd, offsetof(struct ring_hdr, version), &v, sizeof(v));

	uint64_t cap = 16384; /* header claims more than the file holds */
	poke(pfd, offsetof(struct ring_hdr, capacity), &cap, sizeof(cap));
	expect_attach(fd, -EINVAL, "restart the producer");
	cap = 12345;
	poke(pfd, offsetof(struct ring_hdr, capacity), &cap, sizeof(cap));
	expect_attach(fd, -EINVAL, "restart the producer");
	cap = 8192;
	poke(pfd, offsetof(struct ring_hdr, capacity), &cap, sizeof(cap));

	uint32_t hsz, bad;
	CHECK(pread(pfd, &hsz, sizeof(hsz), offsetof(struct ring_hdr, hdr_size)) == sizeof(hsz));
	bad = 2 * hsz;
	poke(pfd, offsetof(struct ring_hdr, hdr_size), &bad, sizeof(bad));
	expect_attach(fd, -EINVAL, "restart the producer");
	poke(pfd, offsetof(struct ring_hdr, hdr_size), &hsz, sizeof(hsz));
	close(fd);

	/* a good header in a file shorter than it says */
	fd = sealed_copy(pfd, 4096, 4096 + 4096);
	expect_attach(fd, -EINVAL, "size does not match");
	close(fd);

	/* all put back: attaches again */
	c = open_cons(p);
	nerrf_ring_cons_close(c);
	nerrf_ring_prod_close(p);
	return 0;
}
