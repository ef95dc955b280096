/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * SPSC ring in a shared file mapping. See nerrf_ring.h for the contract.
 *
 * File layout: one page of header, then the data area (capacity bytes).
 * Records are {u32 len; u32 seq} + payload padded to 8 bytes and never wrap:
 * a PAD record fills the tail end of the data area instead.
 *
 * Each side writes only its own cache line of the header and keeps private
 * copies of everything it needs for bounds: indices, capacity, mapping.
 * Values read from the peer's line are validated before use.
 */
#include "nerrf_ring.h"
#include "ring_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * Spin this long before sleeping on the futex. A sleep that ends sooner than
 * the spin budget means a longer spin would have saved both sides a syscall
 * (the peer's wake is a cross-CPU interrupt): the budget doubles, up to
 * SPIN_MAX_NS, and halves back after long sleeps. So a busy peer publishing
 * every few microseconds is met by spinning, an idle one costs 5 us a wait.
 */
#define SPIN_NS 5000
#define SPIN_MAX_NS 50000
/*
 * A producer waiting for space sleeps until half the ring is free, not until
 * its one record fits: waking it for every consumer batch made the two sides
 * ping-pong a wake syscall (a cross-CPU interrupt) per batch. It re-checks on
 * its own every SPACE_SLICE_NS, so a consumer that frees a little and then
 * stalls still lets it go on.
 */
#define SPACE_SLICE_NS 1000000

#define MSG_NOT_REGULAR "ring path is not a regular file: remove it and restart the producer"
#define MSG_NOT_READY "ring file is not initialised yet: start the producer (the consumer retries)"

struct nerrf_ring {
	enum nerrf_ring_role role;
	int fd;
	struct ring_hdr *hdr;
	size_t hdr_size;   /* mapping of the header page */
	uint8_t *data;     /* mapping of the data area, capacity bytes */
	uint64_t cap;      /* private: never re-read from the header */
	uint64_t mask;
	uint64_t max_rec;
	uint64_t gen;

	/* producer */
	uint64_t head;        /* private head, published by nerrf_ring_publish */
	uint64_t pub_head;
	uint64_t cached_tail;
	uint64_t rec;         /* number of the next record */
	uint64_t resv_off;    /* offset of the reserved record's header, or UINT64_MAX */
	uint32_t resv_len;
	uint32_t first_flag;  /* REC_RESTART on the first header after attach */
	uint64_t bad_tail;    /* last corrupt tail seen, counted once */
	uint64_t dropped, dropped_bytes, wakeups;

	/* consumer */
	uint64_t tail;
	uint64_t pub_tail;
	uint64_t cached_head;
	uint64_t expect;      /* record number expected next */
	uint64_t cur_need;    /* bytes of the record returned by peek, 0 if none */
	bool relearn;         /* accept the next seq near expect (after attach/resync) */
	uint64_t consumed, space_wakeups;
	char *path;
	bool borrowed;        /* mapping belongs to another handle (ring_consumer_view) */
	const char *why;      /* last corruption seen */
	bool bad_head_seen;   /* the last resync found the head out of reach */
	uint64_t spin_ns;     /* adaptive spin budget of this side's waits; 0 = SPIN_NS */
};

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

static inline uint64_t rec_size(uint64_t len)
{
	return REC_HDR + ((len + 7) & ~7ULL);
}

static void set_msg(const char **err_msg, const char *msg)
{
	if (err_msg)
		*err_msg = msg;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
	/* not FUTEX_PRIVATE: the word lives in a file mapping shared across processes */
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static uint64_t new_generation(uint64_t old)
{
	uint64_t g = 0;
	if (getrandom(&g, sizeof(g), GRND_NONBLOCK) != (ssize_t)sizeof(g)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		g = ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 48);
	}
	if (g == 0 || g == old)
		g = old + 1 ? old + 1 : 1;
	return g;
}

static size_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	return ps < 4096 ? 4096 : (size_t)ps;
}

static bool cap_ok(uint64_t cap)
{
	return cap >= RING_MIN_CAP && cap <= RING_MAX_CAP && (cap & (cap - 1)) == 0;
}

static void ring_unmap(struct nerrf_ring *r)
{
	if (r->borrowed) {
		r->data = NULL;
		r->hdr = NULL;
		r->borrowed = false;
		return;
	}
	if (r->data)
		munmap(r->data, r->cap);
	if (r->hdr)
		munmap(r->hdr, r->hdr_size);
	if (r->fd >= 0)
		close(r->fd);
	r->data = NULL;
	r->hdr = NULL;
	r->fd = -1;
}

static void ring_set_cap(struct nerrf_ring *r, uint64_t cap)
{
	r->cap = cap;
	r->mask = cap - 1;
	r->max_rec = cap / 4 - REC_HDR;
}

/* ---- producer attach ---- */

static bool hdr_valid_for(const struct ring_hdr *h, uint64_t cap, size_t hsz)
{
	uint64_t head, tail;

	if (LOAD_ACQ(&h->magic) != RING_MAGIC || LOAD(&h->version) != RING_VERSION ||
	    LOAD(&h->hdr_size) != hsz || LOAD(&h->capacity) != cap)
		return false;
	head = LOAD(&h->head);
	tail = LOAD(&h->tail);
	return tail <= head && head - tail <= cap && ((head | tail) & 7) == 0;
}

/* Writes a fresh header; magic goes last so a consumer never sees half of it. */
static void hdr_init(struct ring_hdr *h, uint64_t cap, size_t hsz, uint64_t gen)
{
	STORE_REL(&h->magic, 0);
	memset((uint8_t *)h + sizeof(h->magic), 0, sizeof(*h) - sizeof(h->magic));
	h->version = RING_VERSION;
	h->hdr_size = (uint32_t)hsz;
	h->capacity = cap;
	h->generation = gen;
	STORE_REL(&h->magic, RING_MAGIC);
}

/*
 * Tells consumers still mapping a replaced file that the ring moved: they
 * see a new generation, re-open the path and find the new file.
 */
static void poison_old(int fd, size_t hsz, uint64_t gen)
{
	struct ring_hdr *h = mmap(NULL, hsz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		return;
	/* magic stays valid, so sleeping consumers take the new generation as news */
	STORE_REL(&h->generation, gen);
	__atomic_store_n(&h->cons_sleeping, 0, __ATOMIC_SEQ_CST);
	futex(&h->cons_sleeping, FUTEX_WAKE, INT_MAX, NULL);
	munmap(h, hsz);
}

/* The ring must be a regular file, whatever sits at its path. */
static int stat_regular(int fd, struct stat *st, const char **err_msg)
{
	if (fstat(fd, st) < 0) {
		set_msg(err_msg, "cannot stat the ring file: check permissions");
		return -errno;
	}
	if (!S_ISREG(st->st_mode)) {
		set_msg(err_msg, MSG_NOT_REGULAR);
		return -EINVAL;
	}
	return 0;
}

/*
 * A file of the wrong size is replaced, not truncated: a consumer may have
 * it mapped, and shrinking a mapped file turns its next access into SIGBUS.
 * The new file is initialised before it takes the name, so a consumer that
 * follows the rename never finds it half-made.
 */
/*
 * Allocates the whole file now, so a full filesystem (on tmpfs: no memory
 * left) is an error at start instead of SIGBUS on some later record.
 */
static int reserve(int fd, off_t size, const char **err_msg)
{
	int e = posix_fallocate(fd, 0, size);
	if (e == 0 || e == EOPNOTSUPP)
		return 0;
	set_msg(err_msg, "no room for a ring of this size in the ring directory (on tmpfs: "
			 "not enough memory): free some, or configure a smaller ring");
	return -e;
}

bool nerrf_ring_dir_in_memory(const char *dir)
{
	struct statfs sf;
	return statfs(dir, &sf) == 0 &&
	       (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC);
}

static int replace_file(const char *path, mode_t mode, size_t hsz, uint64_t cap, int *fdp,
			const char **err_msg)
{
	struct ring_hdr *h;
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	int fd, ret = 0;

	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, n, "%s.new.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		set_msg(err_msg, "cannot create a replacement ring file next to the old one: "
				 "check that the ring directory is writable by the producer");
		goto out;
	}
	if (fchmod(fd, mode) < 0 || ftruncate(fd, (off_t)(hsz + cap)) < 0)
		goto fail;
	if ((ret = reserve(fd, (off_t)(hsz + cap), err_msg)) < 0) {
		unlink(tmp);
		close(fd);
		goto out;
	}
	h = mmap(NULL, hsz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		goto fail;
	hdr_init(h, cap, hsz, new_generation(0));
	munmap(h, hsz);
	if (rename(tmp, path) < 0)
		goto fail;
	*fdp = fd;
	goto out;
fail:
	ret = -errno;
	set_msg(err_msg, "cannot size, map or rename the replacement ring file: check free "
			 "space in the ring directory and its permissions");
	unlink(tmp);
	close(fd);
out:
	free(tmp);
	return ret;
}

int nerrf_ring_open_producer(const char *path, size_t capacity, mode_t mode,
			     struct nerrf_ring **out, const char **err_msg)
{
	size_t hsz = page_size();
	uint64_t cap = capacity;
	off_t want = (off_t)(hsz + cap);
	struct nerrf_ring *r;
	struct stat st;
	bool created = false;
	int fd, ret;

	*out = NULL;
	set_msg(err_msg, NULL);
	if (!cap_ok(cap)) {
		set_msg(err_msg, "ring capacity must be a power of two between 4 KiB and 1 GiB: "
				 "fix the configured ring size");
		return -EINVAL;
	}
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd >= 0) {
		created = true;
	} else if (errno == EEXIST) {
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0) {
		ret = -errno;
		set_msg(err_msg, ret == -EISDIR ? MSG_NOT_REGULAR
						: "cannot open or create the ring file: check that "
						  "its directory exists and is writable by the "
						  "producer");
		return ret;
	}
	/* the mode is the caller's choice, whatever the umask says */
	if (created && fchmod(fd, mode) < 0) {
		ret = -errno;
		set_msg(err_msg, "cannot set the mode of the ring file: check permissions");
		close(fd);
		return ret;
	}
	if ((ret = stat_regular(fd, &st, err_msg)) < 0) {
		close(fd);
		return ret;
	}
	if (st.st_size == 0) {
		if (ftruncate(fd, want) < 0) {
			ret = -errno;
			set_msg(err_msg, "cannot size the ring file: check free space in its "
					 "directory");
			close(fd);
			return ret;
		}
		if ((ret = reserve(fd, want, err_msg)) < 0) {
			if (created)
				unlink(path);
			close(fd);
			return ret;
		}
	} else if (st.st_size != want) {
		int nfd = -1;
		ret = replace_file(path, mode, hsz, cap, &nfd, err_msg);
		if (ret < 0) {
			close(fd);
			return ret;
		}
		if ((size_t)st.st_size >= hsz)
			poison_old(fd, hsz, new_generation(0));
		close(fd);
		fd = nfd;
	}

	r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		return -ENOMEM;
	}
	r->role = NERRF_RING_PRODUCER;
	r->fd = fd;
	r->path = strdup(path);
	r->hdr_size = hsz;
	ring_set_cap(r, cap);
	r->hdr = mmap(NULL, hsz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	r->data = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)hsz);
	if (!r->path || r->hdr == MAP_FAILED || r->data == MAP_FAILED) {
		ret = r->path ? -errno : -ENOMEM;
		if (r->hdr == MAP_FAILED)
			r->hdr = NULL;
		if (r->data == MAP_FAILED)
			r->data = NULL;
		set_msg(err_msg, "cannot map the ring file: check memory limits (ulimit -v)");
		nerrf_ring_close(r);
		return ret;
	}

	if (hdr_valid_for(r->hdr, cap, hsz)) {
		/* a valid ring: continue at the published head */
		r->gen = LOAD(&r->hdr->generation);
		r->head = LOAD(&r->hdr->head);
		r->rec = LOAD(&r->hdr->produced);
		r->dropped = LOAD(&r->hdr->dropped);
		r->dropped_bytes = LOAD(&r->hdr->dropped_bytes);
		r->wakeups = LOAD(&r->hdr->wakeups);
	} else {
		r->gen = new_generation(LOAD(&r->hdr->generation));
		hdr_init(r->hdr, cap, hsz, r->gen);
		/* a consumer of the old generation may sleep on this word */
		futex(&r->hdr->cons_sleeping, FUTEX_WAKE, INT_MAX, NULL);
	}
	r->pub_head = r->head;
	r->cached_tail = LOAD_ACQ(&r->hdr->tail);
	if (r->cached_tail > r->head || r->head - r->cached_tail > cap || (r->cached_tail & 7))
		r->cached_tail = r->head - cap; /* full until the consumer shows a sane tail */
	r->bad_tail = UINT64_MAX;
	r->resv_off = UINT64_MAX;
	r->first_flag = REC_RESTART;
	*out = r;
	return 0;
}

/* ---- consumer attach ---- */

/* Takes up the consumer state of a freshly mapped ring from its header. */
static void consumer_start(struct nerrf_ring *r)
{
	struct ring_hdr *h = r->hdr;
	uint64_t head = LOAD_ACQ(&h->head), tail = LOAD(&h->tail);

	if (tail > head || head - tail > r->cap || ((head | tail) & 7)) {
		/* the published tail is garbage: start from the head */
		ADD(&h->corrupt_resets, 1);
		tail = head;
		STORE_REL(&h->tail, tail);
	}
	r->tail = r->pub_tail = r->cached_head = tail;
	r->consumed = LOAD(&h->consumed);
	r->space_wakeups = LOAD(&h->space_wakeups);
	r->expect = LOAD(&h->produced);
	r->relearn = true;
	r->cur_need = 0;
}

/* Maps path into r; on failure r keeps whatever it had. */
static int consumer_map(struct nerrf_ring *r, const char **err_msg)
{
	size_t hsz = page_size();
	struct ring_hdr *h;
	uint8_t *data;
	struct stat st;
	uint64_t cap, gen;
	int fd, ret;

	fd = open(r->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT) {
			set_msg(err_msg, "ring file does not exist yet: start the producer "
					 "(the consumer retries)");
			return -EAGAIN;
		}
		set_msg(err_msg, ret == -EISDIR ? MSG_NOT_REGULAR
						: "cannot open the ring file: check that the "
						  "consumer's user is in the ring file's group");
		return ret;
	}
	if ((ret = stat_regular(fd, &st, err_msg)) < 0) {
		close(fd);
		return ret;
	}
	if ((uint64_t)st.st_size < hsz) {
		set_msg(err_msg, MSG_NOT_READY);
		close(fd);
		return -EAGAIN;
	}
	h = mmap(NULL, hsz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		ret = -errno;
		set_msg(err_msg, "cannot map the ring header: check memory limits");
		close(fd);
		return ret;
	}
	ret = -EAGAIN;
	set_msg(err_msg, MSG_NOT_READY);
	if (LOAD_ACQ(&h->magic) != RING_MAGIC)
		goto fail;
	ret = -NERRF_RING_EVERSION;
	set_msg(err_msg, "ring was written by another ABI version of nerrf: run the same "
			 "version for producer and consumer");
	if (LOAD(&h->version) != RING_VERSION)
		goto fail;
	ret = -EINVAL;
	cap = LOAD(&h->capacity);
	gen = LOAD(&h->generation);
	set_msg(err_msg, "ring header has a bad page or capacity field: another program wrote "
			 "it; remove the file and restart the producer");
	if (LOAD(&h->hdr_size) != hsz || !cap_ok(cap))
		goto fail;
	set_msg(err_msg, "ring file size does not match its header: another program wrote "
			 "it; remove it and restart the producer");
	if ((uint64_t)st.st_size != hsz + cap)
		goto fail;
	data = mmap(NULL, cap, PROT_READ, MAP_SHARED, fd, (off_t)hsz);
	if (data == MAP_FAILED) {
		ret = -errno;
		set_msg(err_msg, "cannot map the ring data area: check memory limits");
		goto fail;
	}
	/* magic was read before the fields: a re-init under us shows as a new generation */
	if (LOAD_ACQ(&h->magic) != RING_MAGIC || LOAD(&h->generation) != gen) {
		munmap(data, cap);
		ret = -EAGAIN;
		set_msg(err_msg, "ring is being re-initialised by its producer: retry");
		goto fail;
	}

	ring_unmap(r);
	r->fd = fd;
	r->hdr = h;
	r->hdr_size = hsz;
	r->data = data;
	ring_set_cap(r, cap);
	r->gen = gen;
	consumer_start(r);
	return 0;
fail:
	munmap(h, hsz);
	close(fd);
	return ret;
}

int nerrf_ring_open_consumer(const char *path, struct nerrf_ring **out, const char **err_msg)
{
	struct nerrf_ring *r;
	int ret;

	*out = NULL;
	set_msg(err_msg, NULL);
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->role = NERRF_RING_CONSUMER;
	r->fd = -1;
	r->path = strdup(path);
	if (!r->path) {
		free(r);
		return -ENOMEM;
	}
	ret = consumer_map(r, err_msg);
	if (ret < 0) {
		free(r->path);
		free(r);
		return ret;
	}
	*out = r;
	return 0;
}

int ring_consumer_view(const struct nerrf_ring *p, struct nerrf_ring **out)
{
	struct nerrf_ring *r;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->role = NERRF_RING_CONSUMER;
	r->fd = -1;
	r->path = strdup(p->path);
	if (!r->path) {
		free(r);
		return -ENOMEM;
	}
	r->hdr = p->hdr;
	r->hdr_size = p->hdr_size;
	r->data = p->data;
	r->borrowed = true;
	ring_set_cap(r, p->cap);
	r->gen = p->gen;
	consumer_start(r);
	*out = r;
	return 0;
}

void nerrf_ring_close(struct nerrf_ring *r)
{
	if (!r)
		return;
	if (r->role == NERRF_RING_CONSUMER && r->hdr)
		nerrf_ring_consumer_publish(r);
	ring_unmap(r);
	free(r->path);
	free(r);
}

size_t nerrf_ring_max_record(const struct nerrf_ring *r)
{
	return r->max_rec;
}

size_t nerrf_ring_capacity(const struct nerrf_ring *r)
{
	return r->cap;
}

/* ---- producer ---- */

/* Bytes reserve(len) needs from head: the record, plus a PAD if it would wrap. */
static inline uint64_t space_needed(const struct nerrf_ring *r, uint64_t need)
{
	uint64_t to_end = r->cap - (r->head & r->mask);
	return to_end < need ? to_end + need : need;
}

/*
 * The identity line is the producer's alone: if something scribbled on it,
 * put it back so consumers keep validating against the ring that is live.
 */
static bool repair_identity(struct nerrf_ring *r)
{
	struct ring_hdr *h = r->hdr;

	if (LOAD(&h->magic) == RING_MAGIC && LOAD(&h->generation) == r->gen &&
	    LOAD(&h->capacity) == r->cap && LOAD(&h->version) == RING_VERSION &&
	    LOAD(&h->hdr_size) == r->hdr_size)
		return false;
	STORE(&h->version, RING_VERSION);
	STORE(&h->hdr_size, (uint32_t)r->hdr_size);
	STORE(&h->capacity, r->cap);
	STORE(&h->generation, r->gen);
	STORE_REL(&h->magic, RING_MAGIC);
	ADD(&h->corrupt_resets, 1);
	return true;
}

/* Re-reads the consumer's tail; false if it is corrupt (then the ring counts as full). */
static bool refresh_tail(struct nerrf_ring *r)
{
	/* seq_cst: also wait_space()'s re-check after announcing sleep */
	uint64_t t = __atomic_load_n(&r->hdr->tail, __ATOMIC_SEQ_CST);

	if (t > r->head || r->head - t > r->cap || (t & 7)) {
		/* count each bad value once, not every poll of it */
		if (t != r->bad_tail)
			ADD(&r->hdr->corrupt_resets, 1);
		r->bad_tail = t;
		/* the consumer may have followed a scribbled header: show it ours */
		repair_identity(r);
		if (LOAD(&r->hdr->head) != r->pub_head)
			STORE_REL(&r->hdr->head, r->pub_head);
		r->why = "consumer's tail index is outside the ring (ahead of the head, more "
			 "than a capacity behind or unaligned): the ring counts as full until "
			 "the consumer publishes a sane one";
		return false;
	}
	r->cached_tail = t;
	return true;
}

void *nerrf_ring_reserve(struct nerrf_ring *r, size_t len)
{
	uint64_t need, total, off, to_end;
	uint8_t *p;

	if (len > r->max_rec)
		return NULL;
	need = rec_size(len);
	total = space_needed(r, need);
	if (r->cap - (r->head - r->cached_tail) < total) {
		if (!refresh_tail(r) || r->cap - (r->head - r->cached_tail) < total)
			return NULL;
	}
	off = r->head & r->mask;
	to_end = r->cap - off;
	if (to_end < need) {
		uint64_t w = (uint64_t)(uint32_t)(REC_PAD | r->first_flag | (to_end - REC_HDR)) |
			     ((uint64_t)(uint32_t)r->rec << 32);
		memcpy(r->data + off, &w, sizeof(w));
		r->first_flag = 0;
		r->head += to_end;
		off = 0;
	}
	r->resv_off = off;
	r->resv_len = (uint32_t)len;
	p = r->data + off + REC_HDR;
	return p;
}

void nerrf_ring_commit(struct nerrf_ring *r)
{
	uint64_t w;

	if (r->resv_off == UINT64_MAX)
		return;
	w = (uint64_t)(r->resv_len | r->first_flag) | ((uint64_t)(uint32_t)r->rec << 32);
	memcpy(r->data + r->resv_off, &w, sizeof(w));
	r->first_flag = 0;
	r->head += rec_size(r->resv_len);
	r->rec++;
	r->resv_off = UINT64_MAX;
}

void nerrf_ring_publish(struct nerrf_ring *r)
{
	struct ring_hdr *h = r->hdr;
	bool repaired = repair_identity(r);

	if (r->head == r->pub_head) {
		/* nothing new; but restore an overwritten header and wake the consumer to see it */
		if (LOAD(&h->head) == r->head && !repaired)
			return;
		if (LOAD(&h->head) != r->head)
			ADD(&h->corrupt_resets, 1);
	}
	/* produced first: a kill between the stores counts unpublished records as lost */
	STORE(&h->produced, r->rec);
	/* seq_cst store and load pair with wait_for()'s announce and re-check */
	__atomic_store_n(&h->head, r->head, __ATOMIC_SEQ_CST);
	r->pub_head = r->head;
	if (__atomic_load_n(&h->cons_sleeping, __ATOMIC_SEQ_CST) &&
	    __atomic_exchange_n(&h->cons_sleeping, 0, __ATOMIC_SEQ_CST)) {
		futex(&h->cons_sleeping, FUTEX_WAKE, 1, NULL);
		STORE(&h->wakeups, ++r->wakeups);
	}
}

void nerrf_ring_count_drop(struct nerrf_ring *r, size_t len)
{
	STORE(&r->hdr->dropped, ++r->dropped);
	r->dropped_bytes += len;
	STORE(&r->hdr->dropped_bytes, r->dropped_bytes);
}

static struct timespec *rel_timeout(struct timespec *ts, uint64_t deadline)
{
	uint64_t now = now_ns(), left = deadline > now ? deadline - now : 0;

	ts->tv_sec = (time_t)(left / 1000000000ULL);
	ts->tv_nsec = (long)(left % 1000000000ULL);
	return ts;
}

/*
 * Spin, then announce sleep on word and sleep until ready() or the deadline.
 * Announce-then-recheck here and publish-then-check-word on the peer's side
 * are all seq_cst, so at least one side sees the other's store: either the
 * re-check sees the new index or the peer sees the announcement and wakes us.
 */
typedef bool ready_fn(struct nerrf_ring *r, uint64_t arg);

static int wait_for(struct nerrf_ring *r, uint32_t *word, ready_fn *ready, uint64_t arg,
		    int timeout_ms, uint64_t slice_ns)
{
	uint64_t start = now_ns(), deadline = UINT64_MAX, spin = r->spin_ns ? r->spin_ns : SPIN_NS;
	uint64_t asleep;
	struct timespec ts;
	unsigned int i = 0;

	if (timeout_ms == 0)
		return ready(r, arg) ? 0 : -ETIMEDOUT;
	if (timeout_ms > 0)
		deadline = start + (uint64_t)timeout_ms * 1000000ULL;
	while (!ready(r, arg)) {
		if (++i % 64 == 0 && now_ns() - start >= spin)
			goto sleep;
		cpu_relax();
	}
	return 0;
sleep:
	asleep = now_ns();
	for (;;) {
		long rc;

		__atomic_store_n(word, 1, __ATOMIC_SEQ_CST);
		if (ready(r, arg)) {
			__atomic_store_n(word, 0, __ATOMIC_RELAXED);
			uint64_t slept = now_ns() - asleep;
			if (slept < spin)
				r->spin_ns = spin * 2 < SPIN_MAX_NS ? spin * 2 : SPIN_MAX_NS;
			else if (slept > 4 * SPIN_MAX_NS)
				r->spin_ns = spin / 2 > SPIN_NS ? spin / 2 : SPIN_NS;
			return 0;
		}
		if (now_ns() >= deadline) {
			__atomic_store_n(word, 0, __ATOMIC_RELAXED);
			return -ETIMEDOUT;
		}
		uint64_t until = deadline;
		if (slice_ns && now_ns() + slice_ns < until)
			until = now_ns() + slice_ns;
		rc = futex(word, FUTEX_WAIT, 1, until == UINT64_MAX ? NULL : rel_timeout(&ts, until));
		if (rc < 0 && errno == EINTR) {
			__atomic_store_n(word, 0, __ATOMIC_RELAXED);
			return -EINTR;
		}
		/* woken, timed out or the word changed: re-check */
	}
}

static bool space_ready(struct nerrf_ring *r, uint64_t total)
{
	return refresh_tail(r) && r->cap - (r->head - r->cached_tail) >= total;
}

int nerrf_ring_wait_space(struct nerrf_ring *r, size_t len, int timeout_ms)
{
	if (len > r->max_rec)
		return -EINVAL;
	uint64_t need = space_needed(r, rec_size(len));
	STORE(&r->hdr->prod_want, need > r->cap / 2 ? need : r->cap / 2);
	return wait_for(r, &r->hdr->prod_sleeping, space_ready, need, timeout_ms, SPACE_SLICE_NS);
}

/* ---- consumer ---- */

static const void *corrupt(struct nerrf_ring *r, int *err, const char *why)
{
	r->why = why;
	if (err)
		*err = -NERRF_RING_ECORRUPT;
	return NULL;
}

/*
 * Re-reads the producer's head. A new generation means the producer
 * re-initialised (or replaced) the ring: re-attach and start over.
 */
static int refresh_head(struct nerrf_ring *r)
{
	uint64_t h;

	if (LOAD_ACQ(&r->hdr->generation) != r->gen) {
		int ret = consumer_map(r, NULL);
		/* -EAGAIN: a producer is still initialising the new ring; empty until then */
		if (ret == -EAGAIN)
			return 0;
		if (ret < 0) {
			r->why = "ring header changed generation but the ring does not validate "
				 "(size, version): waiting for the producer to re-initialise it";
			return -NERRF_RING_ECORRUPT;
		}
		ADD(&r->hdr->corrupt_resets, 1);
	}
	h = LOAD_ACQ(&r->hdr->head);
	if (h < r->tail || h - r->tail > r->cap || (h & 7)) {
		r->why = "producer's head index is outside the ring (behind the tail, past the "
			 "capacity or unaligned)";
		return -NERRF_RING_ECORRUPT;
	}
	r->bad_head_seen = false;
	r->cached_head = h;
	return 0;
}

static bool seq_ok(struct nerrf_ring *r, uint32_t seq, bool restart)
{
	uint32_t d;

	if (seq == (uint32_t)r->expect)
		return true;
	if (restart) {
		r->expect = (r->expect & ~0xffffffffULL) | seq;
		return true;
	}
	if (!r->relearn)
		return false;
	/* after attach or resync: the producer's counter is near, not exact */
	d = seq - (uint32_t)r->expect;
	if (d <= r->cap / REC_HDR || (uint32_t)-d <= r->cap / REC_HDR) {
		r->expect = (r->expect & ~0xffffffffULL) | seq;
		return true;
	}
	return false;
}

const void *nerrf_ring_peek(struct nerrf_ring *r, size_t *len, int *err)
{
	const uint8_t *p;
	uint64_t w, to_end, avail, need;
	uint32_t l, seq;

	if (err)
		*err = 0;
	for (;;) {
		if (r->cached_head == r->tail) {
			if (refresh_head(r) < 0)
				return corrupt(r, err, r->why);
			if (r->cached_head == r->tail)
				return NULL;
		}
		p = r->data + (r->tail & r->mask);
		to_end = r->cap - (r->tail & r->mask);
		avail = r->cached_head - r->tail;
		if (avail < REC_HDR)
			return corrupt(r, err, "published bytes end inside a record header");
		/* one read: the peer may rewrite the header under us */
		w = *(const volatile uint64_t *)p;
		l = (uint32_t)w;
		seq = (uint32_t)(w >> 32);
		if (l & REC_PAD) {
			if ((uint64_t)(l & ~REC_FLAGS) + REC_HDR != to_end || to_end > avail)
				return corrupt(r, err, "padding record does not end exactly at the "
						       "end of the data area");
			if (!seq_ok(r, seq, l & REC_RESTART))
				return corrupt(r, err, "record sequence number out of order");
			r->relearn = false;
			r->tail += to_end;
			continue;
		}
		l &= ~REC_RESTART;
		need = rec_size(l);
		if (l > r->max_rec || need > avail || need > to_end)
			return corrupt(r, err, "record length runs past the published bytes, the "
					       "data area or the largest record");
		if (!seq_ok(r, seq, (uint32_t)w & REC_RESTART))
			return corrupt(r, err, "record sequence number out of order");
		r->relearn = false;
		r->cur_need = need;
		*len = l;
		return p + REC_HDR;
	}
}

void nerrf_ring_release(struct nerrf_ring *r)
{
	if (!r->cur_need)
		return;
	r->tail += r->cur_need;
	r->cur_need = 0;
	r->expect++;
	r->consumed++;
}

/* Is there as much free space as the sleeping producer asked for? A bogus
 * head or request only changes when we wake it, never what we access. */
static bool space_wanted(struct nerrf_ring *r)
{
	uint64_t head = LOAD_ACQ(&r->hdr->head), want = LOAD(&r->hdr->prod_want);

	if (head < r->tail || head - r->tail > r->cap)
		return true;
	return r->cap - (head - r->tail) >= want;
}

void nerrf_ring_consumer_publish(struct nerrf_ring *r)
{
	struct ring_hdr *h = r->hdr;

	if (r->tail == r->pub_tail) {
		/* nothing new; but put the tail back if someone overwrote it */
		if (LOAD(&h->tail) == r->tail)
			return;
		ADD(&h->corrupt_resets, 1);
	}
	STORE(&h->consumed, r->consumed);
	__atomic_store_n(&h->tail, r->tail, __ATOMIC_SEQ_CST);
	r->pub_tail = r->tail;
	if (__atomic_load_n(&h->prod_sleeping, __ATOMIC_SEQ_CST) && space_wanted(r) &&
	    __atomic_exchange_n(&h->prod_sleeping, 0, __ATOMIC_SEQ_CST)) {
		futex(&h->prod_sleeping, FUTEX_WAKE, 1, NULL);
		STORE(&h->space_wakeups, ++r->space_wakeups);
	}
}

size_t nerrf_ring_resync(struct nerrf_ring *r)
{
	uint64_t h, skipped;

	r->cur_need = 0;
	if (LOAD_ACQ(&r->hdr->generation) != r->gen) {
		refresh_head(r);
		return 0;
	}
	h = LOAD_ACQ(&r->hdr->head);
	ADD(&r->hdr->corrupt_resets, 1);
	if (h < r->tail || h - r->tail > r->cap || (h & 7)) {
		/*
		 * The head is bad, or our tail is (resync followed a scribbled
		 * head past the producer). The producer puts its head back at
		 * every publish and whenever it sees our tail out of reach: the
		 * first time, give it that chance; if the head is still out of
		 * reach at the next resync, it is the producer's own: follow it.
		 */
		if (!r->bad_head_seen) {
			r->bad_head_seen = true;
			r->cached_head = r->tail;
			return 0;
		}
		r->bad_head_seen = false;
		r->tail = r->cached_head = h & ~7ULL;
		r->expect = LOAD(&r->hdr->produced);
		r->relearn = true;
		nerrf_ring_consumer_publish(r);
		return 0;
	}
	r->bad_head_seen = false;
	skipped = h - r->tail;
	r->tail = r->cached_head = h;
	r->expect = LOAD(&r->hdr->produced);
	r->relearn = true;
	ADD(&r->hdr->corrupt_bytes, skipped);
	nerrf_ring_consumer_publish(r);
	return skipped;
}

static bool data_ready(struct nerrf_ring *r, uint64_t unused)
{
	uint64_t h = __atomic_load_n(&r->hdr->head, __ATOMIC_SEQ_CST);

	(void)unused;
	/*
	 * A corrupt head or header is not data: sleep until the producer's next
	 * publish restores it (and wakes us).
	 */
	return (h != r->tail && h - r->tail <= r->cap && !(h & 7)) ||
	       (LOAD(&r->hdr->generation) != r->gen && LOAD(&r->hdr->magic) == RING_MAGIC);
}

int nerrf_ring_wait(struct nerrf_ring *r, int timeout_ms)
{
	nerrf_ring_consumer_publish(r);
	if (r->cached_head != r->tail)
		return 0;
	return wait_for(r, &r->hdr->cons_sleeping, data_ready, 0, timeout_ms, 0);
}

const char *nerrf_ring_corruption(const struct nerrf_ring *r)
{
	return r->why;
}

void *ring_data_area(const struct nerrf_ring *r)
{
	return r->data;
}

/* ---- counters ---- */

void nerrf_ring_get_stats(const struct nerrf_ring *r, struct nerrf_ring_stats *st)
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
	st->used_bytes = head >= tail && head - tail <= r->cap ? head - tail : 0;
	st->capacity = r->cap;
}
