/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A corrupt ring #1 costs the encoder next to nothing: a head the producer
 * never wrote (unaligned) and an overwritten identity are each reported once
 * and then slept on, not spun on: under 10% of a CPU over 2 s each, and a
 * handful of log lines, not thousands. When the producer publishes again,
 * records flow. A new collector whose ring is of another ABI version makes
 * the encoder exit with a clear message instead of retrying forever.
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "enc_run.h"
#include "ring_layout.h"

static _Alignas(8) uint8_t buf[REC_BUF];

static void expect(struct enc_run *t, unsigned first, unsigned n)
{
	for (unsigned got = 0; got < n;) {
		Nerrf__Trace__EventBatch *b = next_batch(t, 10000);
		CHECK(b != NULL, "%u of %u events arrived after the ring healed", got, n);
		for (size_t k = 0; k < b->n_events; k++) {
			char want[64];
			snprintf(want, sizeof(want), "/heal/%u", first + got++);
			CHECK_STR(b->events[k]->path, want);
		}
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
}

static void send_n(struct enc_run *t, unsigned first, unsigned n)
{
	for (unsigned i = first; i < first + n; i++)
		put_rec(t, buf, numbered_event(buf, "/heal", i));
}

static void idle_cost(struct enc_run *t, const char *what)
{
	double c0 = pt_cpu_seconds(t->pid);
	sleep_ms(2000);
	double used = pt_cpu_seconds(t->pid) - c0;
	fprintf(stderr, "%s: encoder used %.3f s of CPU in 2 s\n", what, used);
	CHECK(used < 0.2, "%s: the encoder spun on the corrupt ring (%.3f s of CPU in 2 s)", what,
	      used);
}

int main(int argc, char **argv)
{
	struct enc_run t;
	char log[300];
	const char *msg = NULL;
	long psz = sysconf(_SC_PAGESIZE);
	int st, saved = dup(2);

	CHECK(argc == 2, "usage: ring_corrupt_cpu_test NERRF_ENCODER");
	/* the encoder's stderr goes to a file we can count lines in */
	snprintf(log, sizeof(log), "%s/encoder.log", test_tmpdir("corrupt-cpu-log"));
	int lfd = open(log, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	CHECK(lfd >= 0 && dup2(lfd, 2) == 2);
	enc_start(&t, "corrupt-cpu", argv[1], 1 << 20, NULL);
	dup2(saved, 2);

	struct ring_hdr *h = mmap(NULL, (size_t)psz, PROT_READ | PROT_WRITE, MAP_SHARED,
				  nerrf_ring_fd(t.r1), 0);
	CHECK(h != MAP_FAILED);
	send_n(&t, 0, 5);
	expect(&t, 0, 5);

	uint64_t head = h->head;
	h->head = head + 4;
	idle_cost(&t, "unaligned head");
	h->head = head;
	send_n(&t, 5, 5);
	expect(&t, 5, 5);

	h->generation ^= 0x5a5a;
	idle_cost(&t, "overwritten identity");
	send_n(&t, 10, 5); /* the publish puts the identity back */
	expect(&t, 10, 5);

	int lines = pt_count_lines(log, "corrupt");
	CHECK(lines >= 2 && lines <= 6, "%d corruption lines in the encoder's log for two "
	      "corruptions over 4 s (want each reported, at most once a second)", lines);

	/* a collector of another ABI version replaces the ring: a clean, clear exit */
	munmap(h, (size_t)psz);
	nerrf_ring_server_close(t.srv1);
	nerrf_ring_prod_close(t.r1);
	CHECK(nerrf_ring_create("test-ring1", 1 << 20, &t.r1, &msg) == 0);
	h = mmap(NULL, (size_t)psz, PROT_READ | PROT_WRITE, MAP_SHARED, nerrf_ring_fd(t.r1), 0);
	CHECK(h != MAP_FAILED);
	h->version = RING_VERSION + 1;
	CHECK(nerrf_ring_listen(t.dir, NERRF_RING1_NAME, 0600, t.r1, &t.srv1, &msg) == 0);
	enc_serve_ring1(&t);
	pid_t w = 0;
	for (int i = 0; i < 500 && (w = waitpid(t.pid, &st, WNOHANG)) == 0; i++)
		sleep_ms(10);
	CHECK(w == t.pid, "the encoder kept running on a ring of another ABI version");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 0, "encoder status %#x", st);
	CHECK(pt_count_lines(log, "another ABI version") >= 1, "no clear message in the log");
	munmap(h, (size_t)psz);
	nerrf_ring_server_close(t.srv1);
	nerrf_ring_prod_close(t.r1);
	nerrf_ring_cons_close(t.r2);
	return 0;
}
