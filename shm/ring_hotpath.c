/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Moving records: the producer's reserve/commit/publish, the consumer's
 * peek/release/publish, and both sides' waits. See nerrf_ring.h for the
 * contract, ring_internal.h for the handles.
 */
#include "ring_internal.h"

#include <errno.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "nerrf_time.h"

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

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
	/* not FUTEX_PRIVATE: the word lives in a mapping shared across processes */
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static struct timespec *rel_timeout(struct timespec *ts, uint64_t deadline)
{
	uint64_t now = nerrf_mono_ns(), left = deadline > now ? deadline - now : 0;

	ts->tv_sec = (time_t)(left / 1000000000ULL);
	ts->tv_nsec = (long)(left % 1000000000ULL);
	return ts;
}

/*
 * Spin, then announce sleep on word and sleep until ready(side) or the
 * deadline. Announce-then-recheck here and publish-then-check-word on the
 * peer's side are all seq_cst, so at least one side sees the other's store:
 * either the re-check sees the new index or the peer sees the announcement
 * and wakes us.
 */
typedef bool ready_fn(void *side, uint64_t arg);

static int wait_for(struct nerrf_ring *r, void *side, uint32_t *word, ready_fn *ready,
		    uint64_t arg, int timeout_ms, uint64_t slice_ns)
{
	uint64_t start = nerrf_mono_ns(), deadline = UINT64_MAX, spin = r->spin_ns ? r->spin_ns : SPIN_NS;
	uint64_t asleep;
	struct timespec ts;
	unsigned int i = 0;

	if (timeout_ms == 0)
		return ready(side, arg) ? 0 : -ETIMEDOUT;
	if (timeout_ms > 0)
		deadline = start + (uint64_t)timeout_ms * 1000000ULL;
	while (!ready(side, arg)) {
		if (++i % 64 == 0 && nerrf_mono_ns() - start >= spin)
			goto sleep;
		cpu_relax();
	}
	return 0;
sleep:
	asleep = nerrf_mono_ns();
	for (;;) {
		long rc;

		__atomic_store_n(word, 1, __ATOMIC_SEQ_CST);
		if (ready(side, arg)) {
			__atomic_store_n(word, 0, __ATOMIC_RELAXED);
			uint64_t slept = nerrf_mono_ns() - asleep;
			if (slept < spin)
				r->spin_ns = spin * 2 < SPIN_MAX_NS ? spin * 2 : SPIN_MAX_NS;
			else if (slept > 4 * SPIN_MAX_NS)
				r->spin_ns = spin / 2 > SPIN_NS ? spin / 2 : SPIN_NS;
			return 0;
		}
		if (nerrf_mono_ns() >= deadline) {
			__atomic_store_n(word, 0, __ATOMIC_RELAXED);
			return -ETIMEDOUT;
		}
		uint64_t until = deadline;
		if (slice_ns && nerrf_mono_ns() + slice_ns < until)
			until = nerrf_mono_ns() + slice_ns;
		rc = futex(word, FUTEX_WAIT, 1, until == UINT64_MAX ? NULL : rel_timeout(&ts, until));
		if (rc < 0 && errno == EINTR) {
			__atomic_store_n(word, 0, __ATOMIC_RELAXED);
			return -EINTR;
		}
		/* woken, timed out or the word changed: re-check */
	}
}

/* ---- producer ---- */

/* Bytes reserve(len) needs from head: the record, plus a PAD if it would wrap. */
static inline uint64_t space_needed(const struct nerrf_ring_prod *p, uint64_t need)
{
	uint64_t to_end = p->r.cap - (p->head & p->r.mask);
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
static bool refresh_tail(struct nerrf_ring_prod *p)
{
	struct ring_hdr *h = p->r.hdr;
	/* seq_cst: also wait_space()'s re-check after announcing sleep */
	uint64_t t = __atomic_load_n(&h->tail, __ATOMIC_SEQ_CST);

	if (!span_ok(p->head, t, p->r.cap)) {
		/* count each bad value once, not every poll of it */
		if (t != p->bad_tail)
			ADD(&h->corrupt_resets, 1);
		p->bad_tail = t;
		/* tell the consumer: if that is its own tail, our head is the one to follow */
		STORE(&h->tail_refused, t);
		/* the consumer may have followed a scribbled header: show it ours */
		repair_identity(&p->r);
		if (LOAD(&h->head) != p->shown_head)
			STORE_REL(&h->head, p->shown_head);
		p->r.why = "consumer's tail index is outside the ring (ahead of the head, more "
			   "than a capacity behind or unaligned): the ring counts as full until "
			   "the consumer publishes a sane one";
		return false;
	}
	p->cached_tail = t;
	return true;
}

void *nerrf_ring_reserve(struct nerrf_ring_prod *p, size_t len)
{
	uint64_t need, total, off, to_end, cap = p->r.cap;

	if (len > p->r.max_rec)
		return NULL;
	need = rec_size(len);
	total = space_needed(p, need);
	if (cap - (p->head - p->cached_tail) < total) {
		if (!refresh_tail(p) || cap - (p->head - p->cached_tail) < total)
			return NULL;
	}
	off = p->head & p->r.mask;
	to_end = cap - off;
	if (to_end < need) {
		uint64_t w = (uint64_t)(uint32_t)(REC_PAD | (to_end - REC_HDR)) |
			     ((uint64_t)(uint32_t)p->rec << 32);
		memcpy(p->r.data + off, &w, sizeof(w));
		p->head += to_end;
		off = 0;
	}
	p->resv_off = off;
	p->resv_len = (uint32_t)len;
	return p->r.data + off + REC_HDR;
}

void nerrf_ring_commit(struct nerrf_ring_prod *p)
{
	uint64_t w;

	if (p->resv_off == UINT64_MAX)
		return;
	w = (uint64_t)p->resv_len | ((uint64_t)(uint32_t)p->rec << 32);
	memcpy(p->r.data + p->resv_off, &w, sizeof(w));
	p->head += rec_size(p->resv_len);
	p->rec++;
	p->resv_off = UINT64_MAX;
}

void nerrf_ring_publish(struct nerrf_ring_prod *p)
{
	struct ring_hdr *h = p->r.hdr;
	bool repaired = repair_identity(&p->r);

	if (p->head == p->pub_head) {
		/* nothing new; but restore an overwritten header and wake the consumer to see it */
		if (LOAD(&h->head) == p->head && !repaired)
			return;
		if (LOAD(&h->head) != p->head)
			ADD(&h->corrupt_resets, 1);
	}
	/* produced first: a kill between the stores counts unpublished records as lost */
	STORE(&h->produced, p->rec);
	/* seq_cst store and load pair with wait_for()'s announce and re-check */
	__atomic_store_n(&h->head, p->head, __ATOMIC_SEQ_CST);
	p->pub_head = p->shown_head = p->head;
	if (__atomic_load_n(&h->cons_sleeping, __ATOMIC_SEQ_CST) &&
	    __atomic_exchange_n(&h->cons_sleeping, 0, __ATOMIC_SEQ_CST)) {
		futex(&h->cons_sleeping, FUTEX_WAKE, 1, NULL);
		STORE(&h->wakeups, ++p->wakeups);
	}
}

void nerrf_ring_expose(struct nerrf_ring_prod *p)
{
	struct ring_hdr *h = p->r.hdr;

	if (p->head == p->shown_head)
		return;
	/* produced first, as in publish; release, not seq_cst: publish pairs with the sleeper */
	STORE(&h->produced, p->rec);
	STORE_REL(&h->head, p->head);
	p->shown_head = p->head;
}

void nerrf_ring_count_drop(struct nerrf_ring_prod *p, size_t len)
{
	STORE(&p->r.hdr->dropped, ++p->dropped);
	p->dropped_bytes += len;
	STORE(&p->r.hdr->dropped_bytes, p->dropped_bytes);
}

static bool space_ready(void *side, uint64_t total)
{
	struct nerrf_ring_prod *p = side;

	return refresh_tail(p) && p->r.cap - (p->head - p->cached_tail) >= total;
}

int nerrf_ring_wait_space(struct nerrf_ring_prod *p, size_t len, int timeout_ms)
{
	uint64_t need, cap = p->r.cap;

	if (len > p->r.max_rec)
		return -EINVAL;
	need = space_needed(p, rec_size(len));
	STORE(&p->r.hdr->prod_want, need > cap / 2 ? need : cap / 2);
	return wait_for(&p->r, p, &p->r.hdr->prod_sleeping, space_ready, need, timeout_ms,
			SPACE_SLICE_NS);
}

/* ---- consumer ---- */

static const void *corrupt(struct nerrf_ring_cons *c, int *err, const char *why)
{
	c->r.why = why;
	if (err)
		*err = -NERRF_RING_ECORRUPT;
	return NULL;
}

/* Re-reads the producer's head. */
static int refresh_head(struct nerrf_ring_cons *c)
{
	struct ring_hdr *hdr = c->r.hdr;
	uint64_t gen = LOAD_ACQ(&hdr->generation), h = LOAD_ACQ(&hdr->head);
	uint64_t drop = LOAD(&hdr->dropped);

	/*
	 * A ring's generation never changes: another one is a scribble, which
	 * the producer's next publish undoes. Reported once; empty until then.
	 * If the producer acted since (its head moved, or it counted a drop
	 * because the ring we do not read is full) and the header still
	 * disagrees, the scribble is the one we took at attach: take its.
	 */
	if (gen != c->r.gen) {
		if (!c->bad_gen_seen || gen != c->bad_gen) {
			c->bad_gen_seen = true;
			c->bad_gen = gen;
			c->bad_gen_head = h;
			c->bad_gen_drop = drop;
			c->r.why = "ring header's identity was overwritten: waiting for the "
				   "producer to restore it";
			return -NERRF_RING_ECORRUPT;
		}
		if (h == c->bad_gen_head && drop == c->bad_gen_drop)
			return 0;
		c->r.gen = gen;
	}
	c->bad_gen_seen = false;
	if (!span_ok(h, c->tail, c->r.cap)) {
		/*
		 * Out of reach. A scribble is one value that the producer's next
		 * publish puts right. An aligned head that moves, or a producer
		 * that says our tail is out of its reach, means our tail is what
		 * is wrong (a resync followed a scribbled head past the producer):
		 * take its head. Anything else is reported once and then reads as
		 * empty, so the consumer sleeps instead of spinning on it.
		 */
		bool adopt = !(h & 7) &&
			     ((c->bad_head_seen && !(c->bad_head & 7) && h != c->bad_head) ||
			      LOAD(&hdr->tail_refused) == c->tail);
		if (adopt) {
			c->tail = c->cached_head = h;
			c->expect = LOAD(&hdr->produced);
			c->relearn = true;
			c->bad_head_seen = false;
			nerrf_ring_consumer_publish(c);
			c->r.why = "producer's head index stayed out of reach: took it as the new "
				   "tail";
			return -NERRF_RING_ECORRUPT;
		}
		if (c->bad_head_seen && h == c->bad_head)
			return 0;
		c->bad_head_seen = true;
		c->bad_head = h;
		c->r.why = "producer's head index is outside the ring (behind the tail, past "
			   "the capacity or unaligned)";
		return -NERRF_RING_ECORRUPT;
	}
	c->bad_head_seen = false;
	c->cached_head = h;
	return 0;
}

static bool seq_ok(struct nerrf_ring_cons *c, uint32_t seq)
{
	uint32_t d;

	if (seq == (uint32_t)c->expect)
		return true;
	if (!c->relearn)
		return false;
	/* after attach or resync: the producer's counter is near, not exact */
	d = seq - (uint32_t)c->expect;
	if (d <= c->r.cap / REC_HDR || (uint32_t)-d <= c->r.cap / REC_HDR) {
		c->expect = (c->expect & ~0xffffffffULL) | seq;
		return true;
	}
	return false;
}

const void *nerrf_ring_peek(struct nerrf_ring_cons *c, size_t *len, int *err)
{
	const uint8_t *p;
	uint64_t w, to_end, avail, need;
	uint32_t l, seq;

	if (err)
		*err = 0;
	for (;;) {
		if (c->cached_head == c->tail) {
			int ret = refresh_head(c);
			if (ret < 0) {
				if (err)
					*err = ret;
				return NULL;
			}
			if (c->cached_head == c->tail)
				return NULL;
		}
		p = c->r.data + (c->tail & c->r.mask);
		to_end = c->r.cap - (c->tail & c->r.mask);
		avail = c->cached_head - c->tail;
		if (avail < REC_HDR)
			return corrupt(c, err, "published bytes end inside a record header");
		/* one read: the peer may rewrite the header under us */
		w = *(const volatile uint64_t *)p;
		l = (uint32_t)w;
		seq = (uint32_t)(w >> 32);
		if (l & REC_PAD) {
			if ((uint64_t)(l & ~REC_PAD) + REC_HDR != to_end || to_end > avail)
				return corrupt(c, err, "padding record does not end exactly at the "
						       "end of the data area");
			if (!seq_ok(c, seq))
				return corrupt(c, err, "record sequence number out of order");
			c->relearn = false;
			c->tail += to_end;
			continue;
		}
		need = rec_size(l);
		if (l > c->r.max_rec || need > avail || need > to_end)
			return corrupt(c, err, "record length runs past the published bytes, the "
					       "data area or the largest record");
		if (!seq_ok(c, seq))
			return corrupt(c, err, "record sequence number out of order");
		c->relearn = false;
		c->cur_need = need;
		*len = l;
		return p + REC_HDR;
	}
}

void nerrf_ring_release(struct nerrf_ring_cons *c)
{
	if (!c->cur_need)
		return;
	c->tail += c->cur_need;
	c->cur_need = 0;
	c->expect++;
	c->consumed++;
}

/* Is there as much free space as the sleeping producer asked for? A bogus
 * head or request only changes when we wake it, never what we access. */
static bool space_wanted(struct nerrf_ring_cons *c)
{
	uint64_t head = LOAD_ACQ(&c->r.hdr->head), want = LOAD(&c->r.hdr->prod_want);

	if (!span_ok(head, c->tail, c->r.cap))
		return true;
	return c->r.cap - (head - c->tail) >= want;
}

void nerrf_ring_consumer_publish(struct nerrf_ring_cons *c)
{
	struct ring_hdr *h = c->r.hdr;

	if (c->tail == c->pub_tail) {
		/* nothing new; but put the tail back if someone overwrote it */
		if (LOAD(&h->tail) == c->tail)
			return;
		ADD(&h->corrupt_resets, 1);
	}
	STORE(&h->consumed, c->consumed);
	__atomic_store_n(&h->tail, c->tail, __ATOMIC_SEQ_CST);
	c->pub_tail = c->tail;
	if (__atomic_load_n(&h->prod_sleeping, __ATOMIC_SEQ_CST) && space_wanted(c) &&
	    __atomic_exchange_n(&h->prod_sleeping, 0, __ATOMIC_SEQ_CST)) {
		futex(&h->prod_sleeping, FUTEX_WAKE, 1, NULL);
		STORE(&h->space_wakeups, ++c->space_wakeups);
	}
}

size_t nerrf_ring_resync(struct nerrf_ring_cons *c)
{
	struct ring_hdr *hdr = c->r.hdr;
	uint64_t h, skipped;

	c->cur_need = 0;
	ADD(&hdr->corrupt_resets, 1);
	h = LOAD_ACQ(&hdr->head);
	if (LOAD_ACQ(&hdr->generation) != c->r.gen || !span_ok(h, c->tail, c->r.cap)) {
		/*
		 * Nothing to skip to: refresh_head() reports a bad head once and
		 * then reads the ring as empty until the producer's next publish
		 * puts its own head back (or we take its head: refresh_head()).
		 */
		c->cached_head = c->tail;
		return 0;
	}
	skipped = h - c->tail;
	c->tail = c->cached_head = h;
	c->expect = LOAD(&hdr->produced);
	c->relearn = true;
	ADD(&hdr->corrupt_bytes, skipped);
	nerrf_ring_consumer_publish(c);
	return skipped;
}

static bool data_ready(void *side, uint64_t unused)
{
	struct nerrf_ring_cons *c = side;
	uint64_t h = __atomic_load_n(&c->r.hdr->head, __ATOMIC_SEQ_CST);
	uint64_t gen = LOAD(&c->r.hdr->generation);

	(void)unused;
	/*
	 * A corrupt head or identity is not data: sleep until the producer's
	 * next publish restores it (and wakes us). A new one is news to peek.
	 */
	if (gen != c->r.gen)
		return !c->bad_gen_seen || gen != c->bad_gen || h != c->bad_gen_head;
	return h != c->tail && span_ok(h, c->tail, c->r.cap);
}

int nerrf_ring_wait(struct nerrf_ring_cons *c, int timeout_ms)
{
	nerrf_ring_consumer_publish(c);
	if (c->cached_head != c->tail)
		return 0;
	return wait_for(&c->r, c, &c->r.hdr->cons_sleeping, data_ready, 0, timeout_ms, 0);
}
