/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ring consumer against a hostile producer. Each input starts a fresh
 * ring (a sealed memfd, as the stages make it) with a real producer and a
 * real consumer on it, and is read as a script of operations: the
 * producer's (reserve/commit, publish, restart with a new ring, wait for
 * space), the consumer's (peek/release, publish, resync, re-attach, wait)
 * and a hostile writer's, which maps the same memory and writes any header
 * field or any bytes of the data area. Waits get real timeouts of 0-2 ms (a few per input).
 *
 * Whatever the script: every record peek hands out lies inside the
 * consumer's data area and within the largest record, every reservation
 * inside the producer's, every corruption is named, no call outlives its
 * timeout by more than scheduling noise, and once the hostile writes stop
 * the ring heals: a fresh record arrives intact.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "harness.h"
#include "nerrf_ring.h"
#include "ring_layout.h"
#include "nerrf_time.h"

#define TIMED_WAITS 3      /* waits per input that may sleep; the rest poll */
#define LATE_NS 5000000000ull /* a wait this much past its timeout is stuck */

enum op {
	OP_HDR_SET, OP_HDR_NUDGE, OP_DATA_BYTES, OP_REC_HDR,
	OP_PRODUCE, OP_PUBLISH, OP_WAIT_SPACE, OP_PROD_REOPEN,
	OP_PEEK, OP_CONS_PUBLISH, OP_RESYNC, OP_WAIT, OP_CONS_REOPEN,
	OP_STATS, OP_COUNT,
};

/* The header fields a hostile producer (or anything else) may write. */
static const struct {
	size_t off, size;
} fields[] = {
	{offsetof(struct ring_hdr, magic), 8},
	{offsetof(struct ring_hdr, version), 4},
	{offsetof(struct ring_hdr, hdr_size), 4},
	{offsetof(struct ring_hdr, capacity), 8},
	{offsetof(struct ring_hdr, generation), 8},
	{offsetof(struct ring_hdr, head), 8},
	{offsetof(struct ring_hdr, produced), 8},
	{offsetof(struct ring_hdr, prod_want), 8},
	{offsetof(struct ring_hdr, prod_sleeping), 4},
	{offsetof(struct ring_hdr, tail), 8},
	{offsetof(struct ring_hdr, consumed), 8},
	{offsetof(struct ring_hdr, cons_sleeping), 4},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static struct nerrf_ring_prod *p;
static struct nerrf_ring_cons *c;
static bool c_on_old; /* the producer restarted: c still reads the old ring */
static uint8_t *page; /* the hostile mapping: header page, then the data area */
static size_t hsz, page_len;
static unsigned int timed_waits;
static uint64_t heal_id;
static volatile uint8_t sink;

static void setup(void)
{
	hsz = (size_t)sysconf(_SC_PAGESIZE);
}

static struct ring_hdr *hdr(void)
{
	return (struct ring_hdr *)page;
}

static uint8_t *data(void)
{
	return page + hsz;
}

static size_t cap(void)
{
	return page_len - hsz;
}

/* Maps the producer's ring, as a hostile writer holding its memfd sees it. */
static void hostile_map(void)
{
	struct stat st;
	int fd = nerrf_ring_fd(p);

	if (page)
		munmap(page, page_len);
	FUZZ_CHECK(fstat(fd, &st) == 0, "cannot stat the ring: %s", strerror(errno));
	page_len = (size_t)st.st_size;
	page = mmap(NULL, page_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	FUZZ_CHECK(page != MAP_FAILED, "cannot map the ring: %s", strerror(errno));
}

/* A new producer makes a new ring; a consumer on the old one keeps it. */
static void open_producer(size_t capacity)
{
	const char *msg = NULL;
	int ret = nerrf_ring_create("fuzz-ring", capacity, &p, &msg);

	FUZZ_CHECK(ret == 0, "producer cannot create its ring: %s (%s)", strerror(-ret), msg);
	hostile_map();
}

/* As the hand-over does: the consumer maps the producer's memfd. */
static void open_consumer(void)
{
	const char *msg = NULL;
	int fd = dup(nerrf_ring_fd(p));
	int ret = fd < 0 ? -errno : nerrf_ring_attach(fd, &c, &msg);

	c_on_old = false;
	if (ret < 0 && fd >= 0)
		close(fd);
	FUZZ_CHECK(ret == 0 ? c != NULL : c == NULL && msg != NULL,
		   "consumer attach returned %d without %s", ret, ret ? "a reason" : "a ring");
}

static void reset(void)
{
	nerrf_ring_cons_close(c);
	nerrf_ring_prod_close(p);
	c = NULL;
	p = NULL;
	open_producer(RING_MIN_CAP);
	open_consumer();
	FUZZ_CHECK(c, "consumer cannot attach to a fresh ring");
	timed_waits = 0;
}

static void check_inside(struct nerrf_ring__test_area a, const void *ptr, size_t len,
			 const char *who)
{
	const uint8_t *base = a.data, *q = ptr;
	size_t size = a.cap;

	FUZZ_CHECK(len <= a.max_rec, "%s: record of %zu bytes, largest %zu", who, len, a.max_rec);
	FUZZ_CHECK(q >= base + REC_HDR && q <= base + size && len <= (size_t)(base + size - q) &&
			   (size_t)(q - base) % 8 == 0,
		   "%s: record at data area offset %td, %zu bytes, outside the %zu-byte area", who,
		   q - base, len, size);
}

static int timeout_ms(struct fuzz_in *in)
{
	int ms = fuzz_u8(in) % 3;

	if (ms && timed_waits++ >= TIMED_WAITS)
		ms = 0;
	return ms;
}

static void check_time(uint64_t t0, int ms, const char *what)
{
	uint64_t took = nerrf_mono_ns() - t0;

	FUZZ_CHECK(took < (uint64_t)ms * 1000000 + LATE_NS, "%s with a %d ms timeout took %llu ms",
		   what, ms, (unsigned long long)(took / 1000000));
}

static void produce(size_t len, uint64_t id)
{
	uint8_t *w = nerrf_ring_reserve(p, len);

	if (!w) {
		nerrf_ring_count_drop(p, len);
		return;
	}
	check_inside(nerrf_ring__test_prod_area(p), w, len, "reserve");
	for (size_t i = 0; i < len; i++)
		w[i] = (uint8_t)(id >> (8 * (i % 8)));
	nerrf_ring_commit(p);
}

/* One peek; true if it gave a record. On corruption, the reason must be named. */
static const uint8_t *peek(size_t *len, bool *bad)
{
	int err = 12345;
	const uint8_t *rd = nerrf_ring_peek(c, len, &err);

	*bad = false;
	if (err) {
		FUZZ_CHECK(err == -NERRF_RING_ECORRUPT && !rd, "peek: err %d, record %p", err,
			   (const void *)rd);
		FUZZ_CHECK(nerrf_ring_cons_corruption(c), "corruption without a reason");
		*bad = true;
		return NULL;
	}
	if (!rd)
		return NULL;
	check_inside(nerrf_ring__test_cons_area(c), rd, *len, "peek");
	/* touch every byte: a record past the mapping faults here */
	uint8_t x = 0;
	for (size_t i = 0; i < *len; i++)
		x ^= rd[i];
	sink = x;
	return rd;
}

/*
 * The consumer writes the tail only from its own position: if the header's
 * tail changed during a consumer call, the new value is one of those, and a
 * record position is always 8-aligned (an unaligned one reads its record
 * header across the end of the data area).
 */
static void check_tail(uint64_t before, const char *what)
{
	uint64_t t = hdr()->tail;

	FUZZ_CHECK(t == before || !(t & 7), "%s published the unaligned tail %#llx", what,
		   (unsigned long long)t);
}

static void hostile_field(struct fuzz_in *in, bool nudge)
{
	unsigned int f = fuzz_u8(in) % NFIELDS;
	uint8_t *at = page + fields[f].off;
	uint64_t v = 0;

	if (nudge) {
		memcpy(&v, at, fields[f].size);
		v += (uint64_t)(int64_t)(int8_t)fuzz_u8(in) * 8;
	} else {
		v = fuzz_u64(in);
	}
	memcpy(at, &v, fields[f].size);
}

/* A record header at the hostile view of the head, optionally published. */
static void hostile_record(struct fuzz_in *in)
{
	uint8_t how = fuzz_u8(in);
	uint32_t len = fuzz_u16(in);
	uint64_t head = hdr()->head, off = head & (cap() - 1), to_end = cap() - off;
	uint32_t seq = (uint32_t)(hdr()->produced + (uint64_t)(int64_t)(int8_t)fuzz_u8(in));

	if (how & 1) {
		len = REC_PAD | (how & 8 ? (uint32_t)(to_end - REC_HDR) : len);
		if (how & 4)
			head += to_end;
	} else if (how & 4) {
		head += REC_HDR + ((len + 7u) & ~7u);
		hdr()->produced++;
	}
	if (how & 2)
		len |= 1u << 30; /* a flag bit no record has */
	uint64_t w = (uint64_t)len | (uint64_t)seq << 32;
	if (off + REC_HDR <= cap())
		memcpy(data() + off, &w, sizeof(w));
	hdr()->head = head;
}

static void hostile_bytes(struct fuzz_in *in)
{
	size_t off = fuzz_u16(in) & (cap() - 1), n = fuzz_u8(in) % 33;

	if (n > cap() - off)
		n = cap() - off;
	if (n > in->n)
		n = in->n;
	memcpy(data() + off, in->p, n);
	in->p += n;
	in->n -= n;
}

static void step(struct fuzz_in *in)
{
	uint64_t t0, tail = hdr()->tail;
	unsigned int op = fuzz_u8(in) % OP_COUNT;
	size_t len;
	bool bad;
	int ms, ret;

	switch (op) {
	case OP_HDR_SET:
		hostile_field(in, false);
		break;
	case OP_HDR_NUDGE:
		hostile_field(in, true);
		break;
	case OP_DATA_BYTES:
		hostile_bytes(in);
		break;
	case OP_REC_HDR:
		hostile_record(in);
		break;
	case OP_PRODUCE:
		for (unsigned int k = 1 + fuzz_u8(in) % 8; k; k--)
			produce(fuzz_u16(in) % (nerrf_ring_max_record(p) + 1), 0);
		break;
	case OP_PUBLISH:
		nerrf_ring_publish(p);
		break;
	case OP_WAIT_SPACE:
		len = fuzz_u16(in) % (nerrf_ring_max_record(p) + 1);
		ms = timeout_ms(in);
		t0 = nerrf_mono_ns();
		ret = nerrf_ring_wait_space(p, len, ms);
		FUZZ_CHECK(ret == 0 || ret == -ETIMEDOUT || ret == -EINTR, "wait_space: %d", ret);
		check_time(t0, ms, "wait_space");
		break;
	case OP_PROD_REOPEN:
		nerrf_ring_prod_close(p);
		p = NULL;
		c_on_old = c != NULL;
		open_producer(fuzz_u8(in) & 1 ? 2 * RING_MIN_CAP : RING_MIN_CAP);
		break;
	case OP_PEEK:
		if (!c)
			break;
		for (unsigned int k = fuzz_u8(in); k--;) {
			if (!peek(&len, &bad))
				break;
			if (k & 1)
				nerrf_ring_release(c);
		}
		break;
	case OP_CONS_PUBLISH:
		if (c)
			nerrf_ring_consumer_publish(c);
		break;
	case OP_RESYNC:
		if (c) {
			size_t skipped = nerrf_ring_resync(c);
			FUZZ_CHECK(skipped <= nerrf_ring__test_cons_area(c).cap,
				   "resync skipped %zu bytes", skipped);
		}
		break;
	case OP_WAIT:
		if (!c)
			break;
		ms = timeout_ms(in);
		t0 = nerrf_mono_ns();
		ret = nerrf_ring_wait(c, ms);
		FUZZ_CHECK(ret == 0 || ret == -ETIMEDOUT || ret == -EINTR, "wait: %d", ret);
		check_time(t0, ms, "wait");
		break;
	case OP_CONS_REOPEN:
		nerrf_ring_cons_close(c);
		c = NULL;
		open_consumer();
		break;
	case OP_STATS:
		for (int i = 0; i < 2; i++) {
			struct nerrf_ring__test_area a;
			struct nerrf_ring_stats st;
			if (i ? !c : !p)
				continue;
			if (i) {
				nerrf_ring_cons_stats(c, &st);
				a = nerrf_ring__test_cons_area(c);
			} else {
				nerrf_ring_prod_stats(p, &st);
				a = nerrf_ring__test_prod_area(p);
			}
			FUZZ_CHECK(st.used_bytes <= st.capacity && st.capacity == a.cap,
				   "stats: %llu of %llu bytes used",
				   (unsigned long long)st.used_bytes,
				   (unsigned long long)st.capacity);
		}
		break;
	}
	/* the hostile writer's own writes, and a re-created file, are not the consumer's */
	if (op >= OP_PRODUCE && op != OP_PROD_REOPEN)
		check_tail(tail, "consumer");
}

/*
 * The hostile writes have stopped: the producer's publishes restore its
 * header line, the consumer resyncs past the debris, and a record made now
 * must come through whole within a few rounds.
 */
static void heal(void)
{
	/* as a stage does once the old producer is gone and its ring drained */
	if (c_on_old) {
		nerrf_ring_cons_close(c);
		c = NULL;
	}
	for (int round = 0; round < 64; round++) {
		uint64_t id = ++heal_id | 1ull << 63;
		size_t len;
		bool bad;

		uint64_t tail = hdr()->tail;

		produce(64, id);
		nerrf_ring_publish(p);
		if (!c)
			open_consumer();
		check_tail(tail, "consumer attach");
		if (!c)
			continue;
		for (int n = 0; n < 1024; n++) {
			tail = hdr()->tail;
			const uint8_t *rd = peek(&len, &bad);
			if (bad) {
				nerrf_ring_resync(c);
				check_tail(tail, "resync");
				continue;
			}
			if (!rd)
				break;
			uint64_t v;
			memcpy(&v, rd, sizeof(v));
			nerrf_ring_release(c);
			if (len == 64 && v == id) {
				nerrf_ring_consumer_publish(c);
				check_tail(tail, "consumer");
				return;
			}
		}
		nerrf_ring_consumer_publish(c);
		check_tail(tail, "consumer");
	}
	FUZZ_CHECK(0, "ring did not heal in 64 rounds: consumer says '%s', producer '%s'",
		   c && nerrf_ring_cons_corruption(c) ? nerrf_ring_cons_corruption(c) : "",
		   nerrf_ring_prod_corruption(p) ? nerrf_ring_prod_corruption(p) : "");
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	struct fuzz_in in = {input, size};

	if (!hsz)
		setup();
	reset();
	while (in.n)
		step(&in);
	heal();
	return 0;
}
