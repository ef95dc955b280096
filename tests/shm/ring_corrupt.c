/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Each kind of corruption a peer (or a stray write) can make is caught,
 * named, counted and recovered from, without a crash or an access outside
 * the ring: record lengths past the data, the published bytes or the record
 * limit; a PAD in the wrong place; a sequence number out of order; the head
 * behind the tail or too far ahead; the tail ahead of the head; an
 * overwritten generation; a wrong magic.
 */
#include <sys/mman.h>

#include "ring_layout.h"
#include "ring_test.h"

static struct nerrf_ring_prod *p;
static struct nerrf_ring_cons *c;
static struct ring_hdr *hdr; /* the "hostile peer": a mapping of its own */
static uint8_t *data;
static uint64_t next_send, next_recv;

static void send(unsigned int count, size_t len)
{
	for (unsigned int i = 0; i < count; i++) {
		void *w = nerrf_ring_reserve(p, len);
		CHECK(w != NULL);
		fill_payload(w, len, next_send++);
		nerrf_ring_commit(p);
	}
	nerrf_ring_publish(p);
}

/* Receives everything pending; all of it must be intact and in order. */
static void recv_all(void)
{
	const uint8_t *rd;
	size_t len;
	int err;

	while ((rd = nerrf_ring_peek(c, &len, &err))) {
		if (!check_payload(rd, len, next_recv))
			FAIL("record %llu: content differs", (unsigned long long)next_recv);
		next_recv++;
		nerrf_ring_release(c);
	}
	if (err)
		FAIL("unexpected corruption: %s", nerrf_ring_cons_corruption(c));
	nerrf_ring_consumer_publish(c);
	CHECK_EQ_U64(next_recv, next_send);
}

static void recv_one(void)
{
	size_t len;
	int err;
	const void *rd = nerrf_ring_peek(c, &len, &err);

	CHECK(rd && check_payload(rd, len, next_recv), "intact record expected");
	nerrf_ring_release(c);
	next_recv++;
}

/* The next peek must report corruption naming why; resync skips the rest. */
#define expect_corrupt(why) expect_corrupt_at(__LINE__, why)
static void expect_corrupt_at(int line, const char *why_part)
{
	size_t len;
	int err;
	const char *why;
	uint64_t before;
	struct nerrf_ring_stats st;

	if (nerrf_ring_peek(c, &len, &err) || err != -NERRF_RING_ECORRUPT)
		FAIL("line %d: peek: err %d, expected -NERRF_RING_ECORRUPT", line, err);
	why = nerrf_ring_cons_corruption(c);
	if (!why || !strstr(why, why_part))
		FAIL("line %d: corruption \"%s\" does not mention \"%s\"", line, why ? why : "",
		     why_part);
	nerrf_ring_cons_stats(c, &st);
	before = st.corrupt_resets;
	nerrf_ring_resync(c);
	nerrf_ring_cons_stats(c, &st);
	CHECK_EQ_U64(st.corrupt_resets, before + 1);
	next_recv = next_send; /* whatever was pending is gone */
}

static uint32_t *rec_len_at(uint64_t pos)
{
	return (uint32_t *)(data + (pos & 4095));
}

int main(void)
{
	struct nerrf_ring_stats st;
	uint64_t pos, saved, skipped;
	size_t len;
	int err;

	p = open_prod(4096);
	c = open_cons(p);
	hdr = mmap(NULL, 4096 + 4096, PROT_READ | PROT_WRITE, MAP_SHARED, nerrf_ring_fd(p), 0);
	CHECK(hdr != MAP_FAILED);
	data = (uint8_t *)hdr + 4096;
	CHECK(nerrf_ring_cons_corruption(c) == NULL);

	/* record length beyond the largest record */
	send(3, 40);
	pos = hdr->head - 3 * 48;
	*rec_len_at(pos) = 0x00ffffff;
	expect_corrupt("record length");
	send(5, 40);
	recv_all();

	/* record length within the limit but past the published bytes */
	send(2, 40);
	*rec_len_at(hdr->head - 48) = 200;
	recv_one();
	expect_corrupt("record length");
	CHECK_EQ_U64(nerrf_ring_resync(c), 0);
	send(5, 40);
	recv_all();

	/* record length running past the end of the data area (ring wrapped) */
	while ((hdr->head & 4095) < 4096 - 64)
		send(1, 40), recv_all();
	pos = hdr->head;
	send(1, 40);
	*rec_len_at(pos) = 100; /* 108 bytes from 64 before the end */
	expect_corrupt("record length");
	send(5, 40);
	recv_all();

	/* PAD in the middle of the data area */
	send(2, 40);
	*rec_len_at(hdr->head - 96) = REC_PAD | 40;
	expect_corrupt("padding record");
	send(5, 40);
	recv_all();

	/* sequence number out of order (a stale record) */
	send(2, 40);
	rec_len_at(hdr->head - 96)[1] += 7;
	expect_corrupt("sequence");
	send(5, 40);
	recv_all();

	/* head behind the tail: corruption, then the producer's next publish repairs it */
	saved = hdr->head;
	hdr->head = saved - 8;
	expect_corrupt("head index");
	CHECK(nerrf_ring_wait(c, 10) == -ETIMEDOUT, "a bad head is not data to wait for");
	send(3, 40);
	CHECK_EQ_U64(hdr->head, saved + 3 * 48);
	recv_all();

	/* head more than a capacity ahead */
	saved = hdr->head;
	hdr->head = saved + 4096 + 8;
	expect_corrupt("head index");
	nerrf_ring_publish(p); /* nothing new, but it puts the head back */
	CHECK_EQ_U64(hdr->head, saved);
	recv_all();
	hdr->head = saved + 4; /* unaligned */
	expect_corrupt("head index");
	send(3, 40);
	recv_all();

	/*
	 * A scribbled head that looked sane sent the consumer past the producer
	 * (resync jumped to it). The producer's real head is now out of the
	 * consumer's reach; after the producer's next publish moves it, the
	 * consumer follows, and the producer gets a sane tail back.
	 */
	saved = hdr->head;
	hdr->head = saved + 2048;
	CHECK_EQ_U64(nerrf_ring_resync(c), 2048);
	send(1, 40);
	expect_corrupt("head index");
	send(1, 40);
	expect_corrupt("head index");
	CHECK_EQ_U64(hdr->tail, saved + 2 * 48);
	send(3, 40);
	recv_all();

	/* tail ahead of the head: the producer treats the ring as full */
	void *w;
	while ((w = nerrf_ring_reserve(p, 40))) {
		fill_payload(w, 40, next_send++);
		nerrf_ring_commit(p);
	}
	nerrf_ring_publish(p);
	nerrf_ring_prod_stats(p, &st);
	uint64_t resets = st.corrupt_resets;
	saved = hdr->tail;
	hdr->tail = hdr->head + 64;
	for (int i = 0; i < 3; i++) {
		CHECK(nerrf_ring_reserve(p, 8) == NULL, "reserve trusted a tail ahead of the head");
		CHECK(nerrf_ring_reserve(p, 8) == NULL);
	}
	CHECK(nerrf_ring_wait_space(p, 8, 10) == -ETIMEDOUT);
	nerrf_ring_prod_stats(p, &st);
	CHECK_EQ_U64(st.corrupt_resets, resets + 1); /* once per bad value, not per poll */
	CHECK(strstr(nerrf_ring_prod_corruption(p), "tail index") != NULL);
	nerrf_ring_consumer_publish(c); /* nothing new, but it puts the tail back */
	CHECK_EQ_U64(hdr->tail, saved);
	recv_all();
	send(3, 40);
	recv_all();

	/*
	 * An overwritten generation (a ring's never changes): reported once,
	 * then nothing is read, and the consumer sleeps, until the producer's
	 * next publish puts its identity back; what was pending is still there.
	 */
	uint64_t gen = hdr->generation;
	const uint64_t bad_gens[] = { gen ^ 0x5555, 0 };
	for (int i = 0; i < 2; i++) {
		nerrf_ring_cons_stats(c, &st);
		resets = st.corrupt_resets;
		send(2, 40);
		hdr->generation = bad_gens[i];
		if (nerrf_ring_peek(c, &len, &err) || err != -NERRF_RING_ECORRUPT)
			FAIL("generation %#llx: peek err %d", (unsigned long long)bad_gens[i], err);
		CHECK(strstr(nerrf_ring_cons_corruption(c), "identity") != NULL);
		CHECK(nerrf_ring_peek(c, &len, &err) == NULL && err == 0, "reported twice");
		CHECK(nerrf_ring_wait(c, 10) == -ETIMEDOUT,
		      "records under an overwritten identity are not data to wait for");
		send(3, 40);
		CHECK_EQ_U64(hdr->generation, gen);
		recv_all();
		nerrf_ring_cons_stats(c, &st);
		CHECK(st.corrupt_resets >= resets + 1, "the repair was not counted");
	}

	/*
	 * A consumer that attached while the generation was overwritten took
	 * the scribble for the ring's: it reports the producer's own once, and
	 * takes it when the producer has published and the header still says
	 * so. Nothing is lost meanwhile, and it does not spin.
	 */
	nerrf_ring_cons_close(c);
	hdr->generation = gen ^ 0xaaaa;
	c = open_cons(p);
	send(2, 40);
	CHECK_EQ_U64(hdr->generation, gen);
	CHECK(nerrf_ring_peek(c, &len, &err) == NULL && err == -NERRF_RING_ECORRUPT);
	CHECK(strstr(nerrf_ring_cons_corruption(c), "identity") != NULL);
	CHECK_EQ_U64(nerrf_ring_resync(c), 0);
	CHECK(nerrf_ring_wait(c, 10) == -ETIMEDOUT, "spun on the producer's generation");
	send(3, 40);
	recv_all();

	/* wrong magic: new consumers wait for the producer, which restores it */
	hdr->magic = 0x4141414141414141ULL;
	struct nerrf_ring_cons *c2;
	const char *msg;
	int fd = dup(nerrf_ring_fd(p));
	CHECK(nerrf_ring_attach(fd, &c2, &msg) == -EAGAIN);
	close(fd);
	send(1, 40);
	CHECK_EQ_U64(hdr->magic, RING_MAGIC);
	recv_all();
	c2 = open_cons(p);
	nerrf_ring_cons_close(c2);

	/* corruption counted in bytes too */
	send(4, 40);
	*rec_len_at(hdr->head - 4 * 48) = 0xfffffff0;
	CHECK(nerrf_ring_peek(c, &(size_t){ 0 }, &(int){ 0 }) == NULL);
	skipped = nerrf_ring_resync(c);
	CHECK_EQ_U64(skipped, 4 * 48);
	next_recv = next_send;
	nerrf_ring_cons_stats(c, &st);
	CHECK(st.corrupt_bytes >= skipped);

	munmap(hdr, 8192);
	nerrf_ring_cons_close(c);
	nerrf_ring_prod_close(p);
	return 0;
}
