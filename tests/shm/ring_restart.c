/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kill -9 either side mid-stream and start a new one: the new consumer
 * resumes at the published tail, the new producer re-attaches to the same
 * ring and continues, and the other side keeps going throughout.
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

static struct shared *sh;
static const char *path;
static uint64_t total;

static void produce(void)
{
	struct nerrf_ring *p = open_prod(path, 64 << 10);
	unsigned int batch = 0;
	uint64_t n;

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
	nerrf_ring_close(p);
	_exit(0);
}

static void consume(void)
{
	struct nerrf_ring *c = open_cons(path);
	unsigned int unpublished = 0;
	uint64_t last = UINT64_MAX;

	for (;;) {
		size_t len;
		int err;
		const void *rd = nerrf_ring_peek(c, &len, &err);
		if (err)
			FAIL("peek after record %" PRIu64 ": error %d", last, err);
		if (!rd) {
			nerrf_ring_wait(c, 100);
			continue;
		}
		uint64_t n = stress_check(rd, len);
		if (n >= total || (last != UINT64_MAX && n <= last))
			FAIL("record %" PRIu64 " after %" PRIu64, n, last);
		last = n;
		if (atomic_load(&sh->seen[n]) < 255)
			atomic_fetch_add(&sh->seen[n], 1);
		atomic_fetch_add(&sh->delivered, 1);
		nerrf_ring_release(c);
		if (++unpublished == STRESS_RELEASE) {
			nerrf_ring_consumer_publish(c);
			unpublished = 0;
		}
		if (n == total - 1)
			break;
	}
	nerrf_ring_close(c);
	_exit(0);
}

static pid_t start(void (*fn)(void))
{
	pid_t pid = fork();
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
	struct nerrf_ring *watch;
	struct nerrf_ring_stats st;
	unsigned int prod_kills = 0, cons_kills = 0;
	pid_t prod, cons;

	path = ring_test_file("restart");
	total = scale_sanitize() ? 1000000 : 8000000;
	sh = mmap(NULL, sizeof(*sh) + total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	if (sh == MAP_FAILED)
		FAIL("mmap: %s", strerror(errno));
	watch = open_prod(path, 64 << 10); /* creates the ring; the children re-attach */
	nerrf_ring_close(watch);

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
	watch = open_cons(path);
	nerrf_ring_get_stats(watch, &st);
	nerrf_ring_close(watch);
	uint64_t lost = total - distinct - st.dropped;
	fprintf(stderr, "distinct %" PRIu64 " dropped %" PRIu64 " lost in crashes %" PRIu64
		" duplicates %" PRIu64 "\n", distinct, st.dropped, lost, dups);
	CHECK(distinct + st.dropped <= total, "more records accounted for than sent");
	CHECK(lost <= (uint64_t)prod_kills * STRESS_BATCH,
	      "lost more than one unpublished batch per producer crash");
	CHECK(dups <= (uint64_t)cons_kills * STRESS_RELEASE,
	      "more duplicates than the unpublished window per consumer crash");
	CHECK(st.dropped > 0, "no drops: the drop phases lost their point");
	CHECK_EQ_U64(atomic_load(&sh->seen[total - 1]), 1);
	munmap(sh, sizeof(*sh) + total);
	return 0;
}
