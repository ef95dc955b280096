/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A ring's life: made by its producer in a sealed memfd, attached by its
 * consumer, closed by each. See nerrf_ring.h for the contract.
 *
 * Layout: one page of header, then the data area (capacity bytes).
 * Records are {u32 len; u32 seq} + payload padded to 8 bytes and never wrap:
 * a PAD record fills the tail end of the data area instead.
 */
#include "ring_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * A ring is sealed against resizing: otherwise the peer could shrink it
 * under our mapping and turn our next access into SIGBUS. F_SEAL_SEAL keeps
 * anyone from adding a write seal that would fail the other side's mapping.
 */
#define RING_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static size_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	return ps < 4096 ? 4096 : (size_t)ps;
}

static bool cap_ok(uint64_t cap)
{
	return cap >= RING_MIN_CAP && cap <= RING_MAX_CAP && (cap & (cap - 1)) == 0;
}

static void set_cap(struct nerrf_ring *r, uint64_t cap)
{
	r->cap = cap;
	r->mask = cap - 1;
	r->max_rec = cap / 4 - REC_HDR;
}

static void unmap(struct nerrf_ring *r)
{
	if (r->borrowed)
		return;
	if (r->data)
		munmap(r->data, r->cap);
	if (r->hdr)
		munmap(r->hdr, r->hdr_size);
	if (r->fd >= 0)
		close(r->fd);
}

/* ---- producer ---- */

/* Tells rings apart in the stats, and makes a scribble unlikely to hit it. */
static uint64_t new_generation(void)
{
	uint64_t g = 0;
	if (getrandom(&g, sizeof(g), GRND_NONBLOCK) != (ssize_t)sizeof(g)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		g = ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 48);
	}
	return g ? g : 1;
}

/* Fills in a new ring's zeroed header, before anyone else can see it. */
static void hdr_init(struct ring_hdr *h, uint64_t cap, size_t hsz, uint64_t gen)
{
	h->magic = RING_MAGIC;
	h->version = RING_VERSION;
	h->hdr_size = (uint32_t)hsz;
	h->capacity = cap;
	h->generation = gen;
	h->tail_refused = UINT64_MAX; /* no tail refused: never a record boundary */
}

/*
 * A memory file of the ring's size, all of it allocated now (running out of
 * memory is an error at start, not SIGBUS or the OOM killer at some later
 * record) and sealed: from here on nobody, the producer included, can
 * change its size.
 */
static int make_file(const char *name, off_t size, const char **err_msg)
{
	int fd, ret;

	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		ret = -errno;
		set_msg(err_msg, "cannot create the ring's memory file (memfd_create): the kernel "
				 "needs CONFIG_MEMFD_CREATE, and a seccomp policy must allow it");
		return ret;
	}
	if (ftruncate(fd, size) < 0) {
		ret = -errno;
		set_msg(err_msg, "cannot size the ring's memory file: check the file size limit "
				 "(ulimit -f) and memory limits, or configure a smaller ring");
		goto fail;
	}
	ret = -posix_fallocate(fd, 0, size);
	if (ret < 0 && ret != -EOPNOTSUPP) {
		set_msg(err_msg, "not enough memory for a ring of this size: free some, or "
				 "configure a smaller ring");
		goto fail;
	}
	if (fcntl(fd, F_ADD_SEALS, RING_SEALS) < 0) {
		ret = -errno;
		set_msg(err_msg, "cannot seal the ring's memory file against resizing");
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return ret;
}

int nerrf_ring_create(const char *name, size_t capacity, struct nerrf_ring_prod **out,
		      const char **err_msg)
{
	size_t hsz = page_size();
	struct nerrf_ring_prod *p;
	struct nerrf_ring *r;
	int fd, ret;

	*out = NULL;
	set_msg(err_msg, NULL);
	if (!cap_ok(capacity)) {
		set_msg(err_msg, "ring capacity must be a power of two between 4 KiB and 1 GiB: "
				 "fix the configured ring size");
		return -EINVAL;
	}
	fd = make_file(name, (off_t)(hsz + capacity), err_msg);
	if (fd < 0)
		return fd;
	p = calloc(1, sizeof(*p));
	if (!p) {
		close(fd);
		return -ENOMEM;
	}
	r = &p->r;
	r->fd = fd;
	r->hdr_size = hsz;
	set_cap(r, capacity);
	r->hdr = mmap(NULL, hsz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	r->data = mmap(NULL, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)hsz);
	if (r->hdr == MAP_FAILED || r->data == MAP_FAILED) {
		ret = -errno;
		if (r->hdr == MAP_FAILED)
			r->hdr = NULL;
		if (r->data == MAP_FAILED)
			r->data = NULL;
		set_msg(err_msg, "cannot map the ring: check memory limits (ulimit -v)");
		nerrf_ring_prod_close(p);
		return ret;
	}
	r->gen = new_generation();
	hdr_init(r->hdr, capacity, hsz, r->gen);
	p->bad_tail = UINT64_MAX;
	p->resv_off = UINT64_MAX;
	*out = p;
	return 0;
}

int nerrf_ring_fd(const struct nerrf_ring_prod *p)
{
	return p->r.fd;
}

size_t nerrf_ring_max_record(const struct nerrf_ring_prod *p)
{
	return p->r.max_rec;
}

void nerrf_ring_prod_close(struct nerrf_ring_prod *p)
{
	if (!p)
		return;
	unmap(&p->r);
	free(p);
}

/* ---- consumer ---- */

static struct nerrf_ring_cons *cons_new(void)
{
	struct nerrf_ring_cons *c = calloc(1, sizeof(*c));

	if (c) {
		c->r.fd = -1;
		c->conn = -1;
	}
	return c;
}

/* Takes up the consumer state of a freshly mapped ring from its header. */
static void cons_start(struct nerrf_ring_cons *c)
{
	struct ring_hdr *h = c->r.hdr;
	uint64_t head = LOAD_ACQ(&h->head), tail = LOAD(&h->tail);

	if (!span_ok(head, tail, c->r.cap)) {
		/* the published tail is garbage: start from the head (never from an unaligned one) */
		ADD(&h->corrupt_resets, 1);
		tail = head & ~7ULL;
		STORE_REL(&h->tail, tail);
	}
	c->tail = c->pub_tail = c->cached_head = tail;
	c->consumed = LOAD(&h->consumed);
	c->space_wakeups = LOAD(&h->space_wakeups);
	c->expect = LOAD(&h->produced);
	c->relearn = true;
}

/* Checks and maps fd into r, which takes the fd over on success. */
static int cons_map(struct nerrf_ring *r, int fd, const char **err_msg)
{
	size_t hsz = page_size();
	struct ring_hdr *h;
	struct stat st;
	uint64_t cap;
	int seals, ret;

	/* F_GET_SEALS fails (-1, all bits set) on files that cannot be sealed at all */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & RING_SEALS) != RING_SEALS) {
		set_msg(err_msg, "the ring handed over is not sealed against resizing: refusing "
				 "it (a peer could crash us by shrinking it); run matching nerrf "
				 "versions");
		return -EPERM;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		set_msg(err_msg, "cannot stat the ring's memory file");
		return ret;
	}
	if ((uint64_t)st.st_size < hsz) {
		set_msg(err_msg, "ring's memory file is smaller than a ring header: another "
				 "program made it; restart the producer");
		return -EINVAL;
	}
	h = mmap(NULL, hsz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		ret = -errno;
		set_msg(err_msg, "cannot map the ring header: check memory limits");
		return ret;
	}
	/* written before anyone had the fd, so overwritten since: the producer restores it */
	ret = -EAGAIN;
	set_msg(err_msg, "ring header has no valid magic: waiting for its producer to restore "
			 "it (the consumer retries)");
	if (LOAD_ACQ(&h->magic) != RING_MAGIC)
		goto fail;
	ret = -NERRF_RING_EVERSION;
	set_msg(err_msg, "ring was written by another ABI version of nerrf: run the same "
			 "version for producer and consumer");
	if (LOAD(&h->version) != RING_VERSION)
		goto fail;
	ret = -EINVAL;
	cap = LOAD(&h->capacity);
	set_msg(err_msg, "ring header has a bad page or capacity field: another program wrote "
			 "it; restart the producer");
	if (LOAD(&h->hdr_size) != hsz || !cap_ok(cap))
		goto fail;
	set_msg(err_msg, "ring's memory file size does not match its header: another program "
			 "wrote it; restart the producer");
	if ((uint64_t)st.st_size != hsz + cap)
		goto fail;
	r->data = mmap(NULL, cap, PROT_READ, MAP_SHARED, fd, (off_t)hsz);
	if (r->data == MAP_FAILED) {
		ret = -errno;
		r->data = NULL;
		set_msg(err_msg, "cannot map the ring data area: check memory limits");
		goto fail;
	}
	set_msg(err_msg, NULL);
	r->fd = fd;
	r->hdr = h;
	r->hdr_size = hsz;
	r->gen = LOAD(&h->generation);
	set_cap(r, cap);
	return 0;
fail:
	munmap(h, hsz);
	return ret;
}

int nerrf_ring_attach(int fd, struct nerrf_ring_cons **out, const char **err_msg)
{
	struct nerrf_ring_cons *c;
	int ret;

	*out = NULL;
	set_msg(err_msg, NULL);
	c = cons_new();
	if (!c)
		return -ENOMEM;
	ret = cons_map(&c->r, fd, err_msg);
	if (ret < 0) {
		free(c);
		return ret;
	}
	cons_start(c);
	*out = c;
	return 0;
}

int nerrf_ring__test_consumer_view(const struct nerrf_ring_prod *p, struct nerrf_ring_cons **out)
{
	struct nerrf_ring_cons *c = cons_new();

	*out = c;
	if (!c)
		return -ENOMEM;
	c->r = p->r;
	c->r.fd = -1;
	c->r.why = NULL;
	c->r.spin_ns = 0;
	c->r.borrowed = true;
	cons_start(c);
	return 0;
}

void nerrf_ring_cons_close(struct nerrf_ring_cons *c)
{
	if (!c)
		return;
	nerrf_ring_consumer_publish(c);
	unmap(&c->r);
	if (c->conn >= 0)
		close(c->conn);
	free(c);
}

/* ---- either side ---- */

const char *nerrf_ring_strerror(int err)
{
	if (err == -NERRF_RING_ECORRUPT)
		return "ring corrupt";
	if (err == -NERRF_RING_EVERSION)
		return "ring of another ABI version";
	return strerror(-err);
}

const char *nerrf_ring_prod_corruption(const struct nerrf_ring_prod *p)
{
	return p->r.why;
}

const char *nerrf_ring_cons_corruption(const struct nerrf_ring_cons *c)
{
	return c->r.why;
}

static void get_stats(const struct nerrf_ring *r, struct nerrf_ring_stats *st)
{
	const struct ring_hdr *h = r->hdr;
	uint64_t tail = LOAD(&h->tail), head = LOAD(&h->head);

	memset(st, 0, sizeof(*st));
	st->generation = LOAD(&h->generation);
	st->produced = LOAD(&h->produced);
	st->consumed = LOAD(&h->consumed);
	st->dropped = LOAD(&h->dropped);
	st->dropped_bytes = LOAD(&h->dropped_bytes);
	st->corrupt_resets = LOAD(&h->corrupt_resets);
	st->corrupt_bytes = LOAD(&h->corrupt_bytes);
	st->wakeups = LOAD(&h->wakeups);
	st->space_wakeups = LOAD(&h->space_wakeups);
	st->used_bytes = span_ok(head, tail, r->cap) ? head - tail : 0;
	st->capacity = r->cap;
}

void nerrf_ring_prod_stats(const struct nerrf_ring_prod *p, struct nerrf_ring_stats *st)
{
	get_stats(&p->r, st);
}

void nerrf_ring_cons_stats(const struct nerrf_ring_cons *c, struct nerrf_ring_stats *st)
{
	get_stats(&c->r, st);
}

static struct nerrf_ring__test_area area(const struct nerrf_ring *r)
{
	return (struct nerrf_ring__test_area){ .data = r->data, .cap = r->cap,
					       .max_rec = r->max_rec };
}

struct nerrf_ring__test_area nerrf_ring__test_prod_area(const struct nerrf_ring_prod *p)
{
	return area(&p->r);
}

struct nerrf_ring__test_area nerrf_ring__test_cons_area(const struct nerrf_ring_cons *c)
{
	return area(&c->r);
}
