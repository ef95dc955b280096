/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kill -9 either side mid-stream, or both at once, and start new ones, with
 * the stages' own hand-over between them (nerrf_ring_listen, _connect). A
 * new consumer gets the same ring and resumes at its published tail. A new
 * producer makes a new ring: the consumer reads the old one to its end once
 * its producer's connection is gone, then connects again. When both die at
 * once, only the test still holds the old ring (it made it, as a
 * supervisor could): it reads what is left there, as a consumer would.
 *
 * Final tally over record numbers 0..N-1:
 *   seen at least once + counted drops + lost in producer crashes == N
 * where a producer crash loses at most its one unpublished batch, and a
 * consumer crash re-delivers at most what it had released but not yet
 * published (the documented at-least-once window). Every record that
 * arrives is verified (length, checksum), and each consumer sees its
 * records in increasing order.
 */
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "stress.h"

struct shared {
	_Atomic uint64_t next;      /* next record number the producer will try */
	_Atomic uint64_t delivered; /* deliveries, duplicates included */
	_Atomic uint8_t seen[];     /* deliveries per record number (saturating) */
};

#define MAX_RINGS 8

static struct shared *sh;
static const char *dir;
static char sock[300];
static uint64_t total;
static struct nerrf_ring_prod *rings[MAX_RINGS]; /* every producer's, kept for the tally */
static int nrings;

/* The producer of rings[nrings - 1], which it serves as a stage does. */
static void produce(void)
{
	struct nerrf_ring_prod *p = rings[nrings - 1];
	struct nerrf_ring_server *srv;
	unsigned int batch = 0;
	const char *msg = NULL;
	uint64_t n;

	if (nerrf_ring_listen(dir, "ring.sock", 0600, p, &srv, &msg) < 0 ||
	    nerrf_ring_serve_background(srv) < 0)
		FAIL("cannot serve the ring: %s", msg ? msg : "");
	while ((n = atomic_load(&sh->next)) < total) {
		uint32_t len = stress_len(n);
		void *w = nerrf_ring_reserve(p, len);
		if (!w) {
			nerrf_ring_publish(p);
			batch = 0;
			while (!(w = nerrf_ring_reserve(p, len)) && stress_lossless(n, total))
				nerrf_ring_wait_space(p, len, 100);
			if (!w) {
				/* advance first: a kill in between loses it, never counts twice */
				atomic_store(&sh->next, n + 1);
				nerrf_ring_count_drop(p, len);
				continue;
			}
		}
		stress_fill(w, n);
		nerrf_ring_commit(p);
		atomic_store(&sh->next, n + 1);
		if (++batch == STRESS_BATCH) {
			nerrf_ring_publish(p);
			batch = 0;
		}
	}
	nerrf_ring_publish(p);
	_exit(0);
}

static struct nerrf_ring_cons *connect_ring(void)
{
	struct nerrf_ring_cons *c;
	const char *msg = NULL;
	int ret;

	/* -EBUSY while the producer has not yet seen a killed consumer's connection close */
	while ((ret = nerrf_ring_connect(sock, &c, &msg)) == -EAGAIN || ret == -EBUSY)
		usleep(1000);
	if (ret < 0)
		FAIL("connect: %s (%s)", nerrf_ring_strerror(ret), msg ? msg : "");
	return c;
}

/* Takes one record; returns its number. last is the previous one this consumer saw. */
static uint64_t take(const void *rd, size_t len, uint64_t last)
{
	uint64_t n = stress_check(rd, len);

	if (n >= total || (last != UINT64_MAX && n <= last))
		FAIL("record %" PRIu64 " after %" PRIu64, n, last);
	if (atomic_load(&sh->seen[n]) < 255)
		atomic_fetch_add(&sh->seen[n], 1);
	atomic_fetch_add(&sh->delivered, 1);
	return n;
}

static void consume(void)
{
	struct nerrf_ring_cons *c = connect_ring();
	unsigned int unpublished = 0;
	uint64_t last = UINT64_MAX;

	for (;;) {
		size_t len;
		int err;
		const void *rd = nerrf_ring_peek(c, &len, &err);
		if (err)
			FAIL("peek after record %" PRIu64 ": error %d", last, err);
		if (!rd) {
			if (nerrf_ring_producer_gone(c) && !nerrf_ring_peek(c, &len, &err) && !err) {
				/* read to its end: the next producer's ring is a new one */
				nerrf_ring_cons_close(c);
				c = connect_ring();
				unpublished = 0;
				continue;
			}
			nerrf_ring_wait(c, 10);
			unpublished = 0;
			continue;
		}
		last = take(rd, len, last);
		nerrf_ring_release(c);
		if (++unpublished == STRESS_RELEASE) {
			nerrf_ring_consumer_publish(c);
			unpublished = 0;
		}
		if (last == total - 1)
			break;
	}
	nerrf_ring_cons_close(c);
	_exit(0);
}

/* What a ring both of whose sides were killed still holds past its published tail. */
static void read_leftover(struct nerrf_ring_prod *p)
{
	struct nerrf_ring_cons *c = open_cons(p);
	uint64_t last = UINT64_MAX;
	const void *rd;
	size_t len;
	int err;

	while ((rd = nerrf_ring_peek(c, &len, &err))) {
		last = take(rd, len, last);
		nerrf_ring_release(c);
	}
	if (err)
		FAIL("peek after record %" PRIu64 ": error %d", last, err);
	nerrf_ring_cons_close(c);
}

static pid_t start(void (*fn)(void))
{
	pid_t pid;

	if (fn == produce) {
		if (nrings == MAX_RINGS)
			FAIL("more producers than rings");
		rings[nrings++] = open_prod(64 << 10);
	}
	pid = fork();
	if (pid < 0)
		FAIL("fork: %s", strerror(errno));
	if (pid == 0)
		fn();
	return pid;
}

static void kill9(pid_t pid)
{
	int status;
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid)
		FAIL("waitpid: %s", strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		FAIL("child %d failed before it was killed", (int)pid);
}

/* Waits until deliveries reach want, failing if a child died or time ran out. */
static void wait_delivered(uint64_t want, pid_t prod, pid_t cons)
{
	time_t deadline = time(NULL) + 60;

	while (atomic_load(&sh->delivered) < want) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid == prod || pid == cons)
			FAIL("%s exited early (status %#x)", pid == prod ? "producer" : "consumer",
			     status);
		if (time(NULL) > deadline)
			FAIL("stuck at %" PRIu64 " deliveries of %" PRIu64,
			     atomic_load(&sh->delivered), want);
		usleep(1000);
	}
}

static void reap(pid_t pid, const char *who)
{
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		FAIL("%s failed (status %#x)", who, status);
}

int main(void)
{
	struct nerrf_ring_stats st;
	unsigned int prod_kills = 0, cons_kills = 0;
	uint64_t dropped = 0;
	pid_t prod, cons;

	dir = test_tmpdir("restart");
	snprintf(sock, sizeof(sock), "%s/ring.sock", dir);
	total = scale_sanitize() ? 1000000 : 8000000;
	sh = mmap(NULL, sizeof(*sh) + total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	if (sh == MAP_FAILED)
		FAIL("mmap: %s", strerror(errno));

	prod = start(produce);
	cons = start(consume);
	wait_delivered(total / 10, prod, cons);
	kill9(cons), cons_kills++;
	cons = start(consume);
	wait_delivered(total / 5, prod, cons);
	kill9(prod), prod_kills++;
	prod = start(produce);
	wait_delivered(3 * total / 10, prod, cons);
	kill9(prod), prod_kills++;
	kill9(cons), cons_kills++;
	read_leftover(rings[nrings - 1]);
	cons = start(consume);
	prod = start(produce);
	/* drop phases hold half the records: at least half arrive */
	wait_delivered(2 * total / 5, prod, cons);
	kill9(cons), cons_kills++;
	cons = start(consume);
	reap(prod, "producer");
	reap(cons, "consumer");

	uint64_t distinct = 0, dups = 0;
	for (uint64_t n = 0; n < total; n++) {
		uint8_t s = atomic_load(&sh->seen[n]);
		distinct += s > 0;
		dups += s > 1 ? s - 1 : 0;
	}
	for (int i = 0; i < nrings; i++) {
		nerrf_ring_prod_stats(rings[i], &st);
		dropped += st.dropped;
		nerrf_ring_prod_close(rings[i]);
	}
	uint64_t lost = total - distinct - dropped;
	fprintf(stderr, "distinct %" PRIu64 " dropped %" PRIu64 " lost in crashes %" PRIu64
		" duplicates %" PRIu64 " rings %d\n", distinct, dropped, lost, dups, nrings);
	CHECK(distinct + dropped <= total, "more records accounted for than sent");
	CHECK(lost <= (uint64_t)prod_kills * STRESS_BATCH,
	      "lost more than one unpublished batch per producer crash");
	CHECK(dups <= (uint64_t)cons_kills * STRESS_RELEASE,
	      "more duplicates than the unpublished window per consumer crash");
	CHECK(dropped > 0, "no drops: the drop phases lost their point");
	CHECK_EQ_U64(atomic_load(&sh->seen[total - 1]), 1);
	munmap(sh, sizeof(*sh) + total);
	unlink(sock);
	rmdir(dir);
	return 0;
}
