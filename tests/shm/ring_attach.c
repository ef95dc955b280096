/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attaching validates the file before trusting it: a missing or blank file
 * is "retry later" (-EAGAIN), another ABI version is -EVERSION, a file whose
 * size disagrees with its header is refused, and every refusal says what to
 * do. The producer creates the file with exactly the mode asked for.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "ring_layout.h"
#include "ring_test.h"

static void expect_consumer(const char *path, int want, const char *msg_part)
{
	struct nerrf_ring *c = (void *)1;
	const char *msg = NULL;
	int ret = nerrf_ring_open_consumer(path, &c, &msg);

	if (ret != want)
		FAIL("open_consumer: %d, expected %d (%s)", ret, want, msg ? msg : "no message");
	CHECK(c == NULL);
	if (!msg || !strstr(msg, msg_part))
		FAIL("message \"%s\" does not mention \"%s\"", msg ? msg : "", msg_part);
}

/* Rewrites one header field of the ring file in place. */
static void poke(const char *path, size_t off, const void *val, size_t len)
{
	int fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	CHECK(pwrite(fd, val, len, (off_t)off) == (ssize_t)len);
	close(fd);
}

int main(void)
{
	const char *path = ring_test_file("attach");
	struct nerrf_ring *p, *c;
	const char *msg;
	struct stat st;
	int fd;

	expect_consumer(path, -EAGAIN, "start the producer");

	fd = open(path, O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 0);
	expect_consumer(path, -EAGAIN, "not initialised"); /* empty file */
	CHECK(ftruncate(fd, 4096 + 4096) == 0);
	expect_consumer(path, -EAGAIN, "not initialised"); /* zeros: no magic */
	close(fd);
	unlink(path);

	/* the mode is applied whatever the umask */
	umask(077);
	CHECK(nerrf_ring_open_producer(path, 8192, 0660, &p, &msg) == 0);
	CHECK(stat(path, &st) == 0);
	CHECK((st.st_mode & 0777) == 0660, "mode not applied over the umask");
	CHECK_EQ_U64(st.st_size, 4096 + 8192);
	c = open_cons(path);
	CHECK_EQ_U64(nerrf_ring_capacity(c), 8192);
	nerrf_ring_close(c);

	uint32_t v = RING_VERSION + 1;
	poke(path, offsetof(struct ring_hdr, version), &v, sizeof(v));
	expect_consumer(path, -NERRF_RING_EVERSION, "same version");
	v = RING_VERSION;
	poke(path, offsetof(struct ring_hdr, version), &v, sizeof(v));

	uint64_t cap = 16384; /* header claims more than the file holds */
	poke(path, offsetof(struct ring_hdr, capacity), &cap, sizeof(cap));
	expect_consumer(path, -EINVAL, "remove it and restart the producer");
	cap = 12345;
	poke(path, offsetof(struct ring_hdr, capacity), &cap, sizeof(cap));
	expect_consumer(path, -EINVAL, "restart the producer");
	cap = 8192;
	poke(path, offsetof(struct ring_hdr, capacity), &cap, sizeof(cap));

	fd = open(path, O_RDWR);
	CHECK(fd >= 0 && ftruncate(fd, 4096 + 4096) == 0); /* file shorter than the header says */
	close(fd);
	expect_consumer(path, -EINVAL, "size does not match");
	nerrf_ring_close(p);
	unlink(path);

	/* not a regular file */
	CHECK(mkdir(path, 0700) == 0);
	p = (void *)1;
	CHECK(nerrf_ring_open_producer(path, 8192, 0600, &p, &msg) == -EISDIR && p == NULL);
	CHECK(msg && strstr(msg, "not a regular file"));
	expect_consumer(path, -EISDIR, "not a regular file");
	rmdir(path);
	return 0;
}
