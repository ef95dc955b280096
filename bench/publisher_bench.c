/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Publisher cost per batch: a producer replays encoded EventBatches into a
 * real ring #2 as fast as the ring takes them, the real nerrf-publisher
 * publishes them, and one subscriber (reading only publisher_seq) receives
 * them over ipc://. Reports the publisher process's CPU time per batch (all
 * its threads, nng's included) and the wall time per batch, for small and
 * large batches, and the cost of the two ways to
 * add the publisher's fields: appending varints by hand (what the
 * publisher does) or packing a protobuf-c message holding only those
 * fields.
 *
 *   publisher_bench PUBLISHER_BINARY [BATCHES]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "nerrf_ring.h"
#include "nerrf_wire.h"
#include "nerrf_pbwire.h"
#include "trace.pb-c.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static size_t make_batch(uint8_t *buf, unsigned n, uint64_t seq)
{
	Nerrf__Trace__EventBatch b = NERRF__TRACE__EVENT_BATCH__INIT;
	Nerrf__Trace__Event ev[256], *evp[256];
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	ts.seconds = 1763700000;
	for (unsigned i = 0; i < n; i++) {
		nerrf__trace__event__init(&ev[i]);
		ev[i].ts = &ts;
		ev[i].pid = 1000 + i;
		ev[i].tid = 1000 + i;
		ev[i].comm = (char *)"worker";
		ev[i].syscall = (char *)"write";
		ev[i].path = (char *)"/home/user/documents/quarterly-report-2026.docx";
		ev[i].ret_val = 4096;
		ev[i].bytes = 4096;
		ev[i].inode = 1234567;
		ev[i].mono_ns = 123456789;
		evp[i] = &ev[i];
	}
	b.n_events = n;
	b.events = evp;
	b.batch_seq = seq;
	b.hostname = (char *)"benchhost";
	struct nerrf_r2_hdr h = {.kind = NERRF_R2_BATCH, .batch_seq = seq, .nevents = n};
	h.len = (uint32_t)nerrf__trace__event_batch__pack(&b, buf + sizeof(h));
	memcpy(buf, &h, sizeof(h));
	return sizeof(h) + h.len;
}

static void die(const char *what)
{
	fprintf(stderr, "publisher_bench: %s\n", what);
	exit(1);
}

/* ns per batch through a fresh publisher, measured from first send to last receive. */
static double run(const char *bin, unsigned nevents, unsigned nbatch)
{
	char dir[] = "/tmp/nerrf-pubbench-XXXXXX", ring[64], url[96];
	static uint8_t rec[1 << 16];
	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(ring, sizeof(ring), "%s/ring2", dir);
	snprintf(url, sizeof(url), "ipc://%s/events.sock", dir);

	struct nerrf_ring *r;
	const char *msg;
	if (nerrf_ring_open_producer(ring, 8u << 20, 0600, &r, &msg) != 0)
		die("ring");
	pid_t pub = fork();
	if (pub == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 2);
		execl(bin, bin, "--rundir", dir, "--sendbuf", "8192", (char *)NULL);
		_exit(127);
	}
	nng_socket s;
	nng_sub0_open(&s);
	nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, NERRF_TOPIC_EVENTS, 4);
	nng_socket_set_int(s, NNG_OPT_RECVBUF, 8192);
	nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 0);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	while (nng_dial(s, url, NULL, 0) != 0)
		usleep(10000);
	/* Let the publisher register the pipe: send until one batch arrives. */
	size_t n = make_batch(rec, nevents, 0);
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

	uint64_t t0 = now_ns();
	unsigned sent = 0, got = 0, lost = 0;
	uint64_t last_seq = 0;
	while (got + lost < nbatch) {
		while (sent < nbatch) {
			void *p = nerrf_ring_reserve(r, n);
			if (!p)
				break;
			memcpy(p, rec, n);
			nerrf_ring_commit(r);
			sent++;
		}
		nerrf_ring_publish(r);
		if (nng_recvmsg(s, &m, sent < nbatch ? NNG_FLAG_NONBLOCK : 0) != 0) {
			if (sent == nbatch)
				die("timed out waiting for batches");
			continue;
		}
		/* Read only publisher_seq, right after the encoder's bytes: decoding
		 * whole batches would measure this thread, not the publisher. */
		const uint8_t *t =
			(const uint8_t *)nng_msg_body(m) + 4 + (n - sizeof(struct nerrf_r2_hdr));
		if (nng_msg_len(m) < 4 + n - sizeof(struct nerrf_r2_hdr) + 2 || t[0] != (7 << 3))
			die("no publisher_seq after the batch");
		uint64_t seq = 0;
		for (unsigned sh = 0, i = 1; sh < 64; sh += 7, i++) {
			seq |= (uint64_t)(t[i] & 0x7f) << sh;
			if (!(t[i] & 0x80))
				break;
		}
		if (last_seq && seq > last_seq + 1)
			lost += (unsigned)(seq - last_seq - 1);
		last_seq = seq;
		nng_msg_free(m);
		got++;
	}
	uint64_t t1 = now_ns();
	if (lost)
		fprintf(stderr, "publisher_bench: subscriber lost %u batches\n", lost);

	/* CPU the publisher spent (all its threads, nng's included), per batch. */
	struct rusage ru0, ru1;
	getrusage(RUSAGE_CHILDREN, &ru0);
	kill(pub, SIGTERM);
	waitpid(pub, NULL, 0);
	getrusage(RUSAGE_CHILDREN, &ru1);
	double cpu_ns = ((double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1e9 +
			 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) * 1e3 +
			 (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1e9 +
			 (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) * 1e3) /
			(nbatch + warm);
	nng_close(s);
	nerrf_ring_close(r);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "publisher_bench: could not remove %s\n", dir);
	printf("  %3u events/batch (%5zu bytes): publisher CPU %6.0f ns/batch (%5.1f ns/event); "
	       "wall %6.0f ns/batch; %u batches, %u lost by the subscriber\n",
	       nevents, n, cpu_ns, cpu_ns / nevents, (double)(t1 - t0) / nbatch, nbatch, lost);
	return cpu_ns;
}

static void trailer_cost(void)
{
	enum { N = 10000000 };
	uint8_t buf[64];
	volatile size_t sink = 0;

	uint64_t t0 = now_ns();
	for (uint64_t i = 1; i <= N; i++) {
		size_t n = nerrf_put_u64_field(buf, 7, i);
		n += nerrf_put_u64_field(buf + n, 8, 0);
		n += nerrf_put_u64_field(buf + n, 9, 0);
		sink += n;
	}
	uint64_t t1 = now_ns();
	for (uint64_t i = 1; i <= N; i++) {
		Nerrf__Trace__EventBatch b = NERRF__TRACE__EVENT_BATCH__INIT;
		b.publisher_seq = i;
		b.publisher_publish_errors = 0;
		b.ring2_dropped = 0;
		sink += nerrf__trace__event_batch__pack(&b, buf);
	}
	uint64_t t2 = now_ns();
	printf("  trailer: hand varints %.1f ns, protobuf-c pack %.1f ns per batch "
	       "(protobuf-c omits zero fields; the hand trailer always carries all three)\n",
	       (double)(t1 - t0) / N, (double)(t2 - t1) / N);
	(void)sink;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: publisher_bench PUBLISHER_BINARY [BATCHES]");
	unsigned nbatch = argc > 2 ? (unsigned)atoi(argv[2]) : 100000;
	printf("publisher: ring #2 -> nerrf-publisher -> 1 ipc subscriber\n");
	run(argv[1], 1, nbatch);
	run(argv[1], 16, nbatch);
	run(argv[1], 128, nbatch / 4);
	trailer_cost();
	return 0;
}
