/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Publisher cost per batch: a producer replays encoded EventBatches into a
 * real ring #2 as fast as the ring takes them, the real nerrf-publisher
 * publishes them, and one subscriber (reading only publisher_seq) receives
 * them over ipc://. Reports the publisher process's CPU time per batch (all
 * its threads, nng's and io_uring's included, over the measured window) and the wall time per batch, for small and
 * large batches, and the cost of the two ways to
 * add the publisher's fields: appending varints by hand (what the
 * publisher does) or packing a protobuf-c message holding only those
 * fields.
 *
 * With --journal DIR the same runs go side by side, journal off and on
 * alternating (--runs each), so the journal's cost on the publish path is a
 * ratio measured in one run; --rate paces the producer to that many batches
 * per second, where the publisher wakes for every batch as it does on a
 * quiet host.
 *
 *   publisher_bench PUBLISHER_BINARY [BATCHES] [--journal DIR] [--rate N] [--runs N]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "nerrf_ring.h"
#include "nerrf_wire.h"
#include "nerrf_pbwire.h"
#include "trace_fields.h"
#include "trace.pb-c.h"
#include "nerrf_time.h"
#include "lib/records.h"
#include "lib/spawn.h"

#define MAX_RUNS 32

static bool quiet; /* side by side: only the table */

static void die(const char *what)
{
	fprintf(stderr, "publisher_bench: %s\n", what);
	exit(1);
}

/*
 * CPU time of every thread of pid so far (nng's and io_uring's workers
 * included), from the scheduler's ns counts: the measured window alone, not
 * the start-up or the journal's recovery.
 */
static uint64_t cpu_of(pid_t pid)
{
	char path[320], line[128];
	uint64_t sum = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	struct dirent *de;
	if (!d)
		die("cannot list the publisher's threads");
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", (int)pid, de->d_name);
		FILE *f = fopen(path, "r");
		if (f && fgets(line, sizeof(line), f))
			sum += strtoull(line, NULL, 10);
		if (f)
			fclose(f);
	}
	closedir(d);
	return sum;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = {.tv_sec = (time_t)(t / 1000000000u), .tv_nsec = (long)(t % 1000000000u)};
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/*
 * The publisher's CPU ns per batch through a fresh publisher (journaling
 * into jdir unless NULL), from first send to last receive; rate 0: as fast
 * as the ring takes them.
 */
static double run(const char *bin, unsigned nevents, unsigned nbatch, const char *jdir,
		  unsigned rate)
{
	char dir[] = "/tmp/nerrf-pubbench-XXXXXX", url[96];
	static uint8_t rec[1 << 16];
	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(url, sizeof(url), "ipc://%s/events.sock", dir);

	struct nerrf_ring_prod *r;
	const char *msg;
	struct nerrf_ring_server *srv;
	if (nerrf_ring_create("bench-ring2", 8u << 20, &r, &msg) != 0 ||
	    nerrf_ring_listen(dir, NERRF_RING2_NAME, 0600, r, &srv, &msg) != 0 ||
	    nerrf_ring_serve_background(srv) != 0)
		die("ring");
	char *argv[] = {(char *)bin, "--rundir", dir, "--sendbuf", "8192",
			jdir ? "--journal" : "--no-journal", (char *)jdir, NULL};
	pid_t pub = pt_spawn(argv, "/dev/null");
	nng_socket s;
	nng_sub0_open(&s);
	nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, NERRF_TOPIC_EVENTS, 4);
	nng_socket_set_int(s, NNG_OPT_RECVBUF, 8192);
	nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 0);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	while (nng_dial(s, url, NULL, 0) != 0)
		usleep(10000);
	/* Let the publisher register the pipe: send until one batch arrives. */
	size_t n = pt_make_batch(rec, sizeof(rec), 0, nevents, 1000, 47);
	unsigned warm = 0;
	for (;;) {
		void *p = nerrf_ring_reserve(r, n);
		if (p) {
			warm++;
			memcpy(p, rec, n);
			nerrf_ring_commit(r);
			nerrf_ring_publish(r);
		}
		nng_msg *m;
		nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 50);
		if (nng_recvmsg(s, &m, 0) == 0) {
			nng_msg_free(m);
			break;
		}
	}
	usleep(200000);
	nng_msg *m;
	while (nng_recvmsg(s, &m, NNG_FLAG_NONBLOCK) == 0)
		nng_msg_free(m);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);

	uint64_t t0 = nerrf_mono_ns(), cpu0 = cpu_of(pub);
	unsigned sent = 0, got = 0, lost = 0;
	uint64_t last_seq = 0;
	while (got + lost < nbatch) {
		uint64_t due = rate ? t0 + (uint64_t)sent * 1000000000u / rate : 0;
		if (rate && sent < nbatch && got + lost == sent)
			sleep_until(due);
		while (sent < nbatch && (!rate || nerrf_mono_ns() >= due)) {
			void *p = nerrf_ring_reserve(r, n);
			if (!p)
				break;
			memcpy(p, rec, n);
			nerrf_ring_commit(r);
			sent++;
			if (rate)
				break;
		}
		nerrf_ring_publish(r);
		if (nng_recvmsg(s, &m, sent < nbatch && !rate ? NNG_FLAG_NONBLOCK : 0) != 0) {
			if (sent == nbatch)
				die("timed out waiting for batches");
			continue;
		}
		/* Read only publisher_seq, right after the encoder's bytes: decoding
		 * whole batches would measure this thread, not the publisher. */
		const uint8_t *t =
			(const uint8_t *)nng_msg_body(m) + 4 + (n - sizeof(struct nerrf_r2_hdr));
		const uint8_t *te = (const uint8_t *)nng_msg_body(m) + nng_msg_len(m);
		uint64_t key = 0, seq = 0;
		if (nng_msg_len(m) < 4 + n - sizeof(struct nerrf_r2_hdr) + 2 ||
		    !nerrf_get_varint(&t, te, &key) ||
		    key != NERRF_PB_KEY(NERRF_PB_EVENT_BATCH_PUBLISHER_SEQ, NERRF_PB_VARINT) ||
		    !nerrf_get_varint(&t, te, &seq))
			die("no publisher_seq after the batch");
		if (last_seq && seq > last_seq + 1)
			lost += (unsigned)(seq - last_seq - 1);
		last_seq = seq;
		nng_msg_free(m);
		got++;
	}
	uint64_t t1 = nerrf_mono_ns(), cpu1 = cpu_of(pub);
	if (lost)
		fprintf(stderr, "publisher_bench: subscriber lost %u batches\n", lost);

	double cpu_ns = (double)(cpu1 - cpu0) / nbatch;
	kill(pub, SIGTERM);
	waitpid(pub, NULL, 0);
	nng_close(s);
	nerrf_ring_prod_close(r);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "publisher_bench: could not remove %s\n", dir);
	if (!quiet)
		printf("  %3u events/batch (%5zu bytes): publisher CPU %6.0f ns/batch (%5.1f "
		       "ns/event); wall %6.0f ns/batch; %u batches, %u lost by the subscriber\n",
		       nevents, n, cpu_ns, cpu_ns / nevents, (double)(t1 - t0) / nbatch, nbatch,
		       lost);
	return cpu_ns;
}

static void trailer_cost(void)
{
	enum { N = 10000000 };
	uint8_t buf[64];
	volatile size_t sink = 0;

	uint64_t t0 = nerrf_mono_ns();
	for (uint64_t i = 1; i <= N; i++) {
		size_t n = nerrf_put_u64_field(buf, NERRF_PB_EVENT_BATCH_PUBLISHER_SEQ, i);
		n += nerrf_put_u64_field(buf + n, NERRF_PB_EVENT_BATCH_PUBLISHER_PUBLISH_ERRORS, 0);
		n += nerrf_put_u64_field(buf + n, NERRF_PB_EVENT_BATCH_RING2_DROPPED, 0);
		sink += n;
	}
	uint64_t t1 = nerrf_mono_ns();
	for (uint64_t i = 1; i <= N; i++) {
		Nerrf__Trace__EventBatch b = NERRF__TRACE__EVENT_BATCH__INIT;
		b.publisher_seq = i;
		b.publisher_publish_errors = 0;
		b.ring2_dropped = 0;
		sink += nerrf__trace__event_batch__pack(&b, buf);
	}
	uint64_t t2 = nerrf_mono_ns();
	printf("  trailer: hand varints %.1f ns, protobuf-c pack %.1f ns per batch "
	       "(protobuf-c omits zero fields; the hand trailer always carries all three)\n",
	       (double)(t1 - t0) / N, (double)(t2 - t1) / N);
	(void)sink;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Journal off and on alternating, each into a fresh directory under jroot. */
static void journal_side_by_side(const char *bin, unsigned nevents, unsigned nbatch,
				 const char *jroot, unsigned rate, unsigned runs)
{
	double off[MAX_RUNS], on[MAX_RUNS];
	char jdir[512], cmd[600];

	for (unsigned i = 0; i < runs; i++) {
		snprintf(jdir, sizeof(jdir), "%s/publisher_bench.%d.%u", jroot, (int)getpid(), i);
		off[i] = run(bin, nevents, nbatch, NULL, rate);
		on[i] = run(bin, nevents, nbatch, jdir, rate);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", jdir);
		if (system(cmd) != 0)
			fprintf(stderr, "publisher_bench: could not remove %s\n", jdir);
	}
	qsort(off, runs, sizeof(*off), cmp_double);
	qsort(on, runs, sizeof(*on), cmp_double);
	double a = off[runs / 2], b = on[runs / 2];
	printf("| %u | %u | %s | %.0f | %.0f | %+.0f | %+.1f%% |\n", nevents, nbatch,
	       rate ? "paced" : "full speed", a, b, b - a, 100.0 * (b - a) / a);
	if (rate)
		printf("|   |   | (%u batches/s) | | | | |\n", rate);
}

int main(int argc, char **argv)
{
	const char *jroot = NULL;
	unsigned rate = 0, runs = 3;

	if (argc < 2)
		die("usage: publisher_bench PUBLISHER_BINARY [BATCHES] [--journal DIR] [--rate N] "
		    "[--runs N]");
	unsigned nbatch = argc > 2 && argv[2][0] != '-' ? (unsigned)atoi(argv[2]) : 100000;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--journal") && i + 1 < argc)
			jroot = argv[++i];
		else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
			rate = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = (unsigned)atoi(argv[++i]);
	}
	if (runs < 1 || runs > MAX_RUNS)
		die("--runs: 1..32");
	if (jroot) {
		quiet = true;
		printf("publisher CPU ns per batch, journal off and on alternating, medians of "
		       "%u runs\n\n| events/batch | batches | producer | journal off | journal "
		       "on | difference | |\n|---:|---:|---|---:|---:|---:|---:|\n", runs);
		journal_side_by_side(argv[1], 1, nbatch, jroot, rate, runs);
		journal_side_by_side(argv[1], 16, nbatch, jroot, rate, runs);
		journal_side_by_side(argv[1], 128, nbatch / 4, jroot, rate, runs);
		return 0;
	}
	printf("publisher: ring #2 -> nerrf-publisher -> 1 ipc subscriber\n");
	run(argv[1], 1, nbatch, NULL, rate);
	run(argv[1], 16, nbatch, NULL, rate);
	run(argv[1], 128, nbatch / 4, NULL, rate);
	trailer_cost();
	return 0;
}
