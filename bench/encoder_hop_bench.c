/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The encoder hop as deployed: this process writes records into a real
 * ring #1 at a fixed rate and reads ring #2, with the real nerrf-encoder in
 * between. Reports, per rate, the delay from a record's timestamp to its
 * batch being readable in ring #2 (p50/p99/max) and the batch sizes, which
 * is what the batching defaults trade.
 *
 *   encoder_hop_bench NERRF_ENCODER [--rates 1000,10000,100000] [--seconds S]
 *                     [-- encoder options...]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nerrf_event.h"
#include "nerrf_ring.h"
#include "nerrf_wire.h"
#include "nerrf_time.h"
#include "lib/records.h"
#include "lib/spawn.h"

static int cmp64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Record i: an openat or a write with a 64-byte sample, one CPU's sequence, stamped now. */
static size_t record(uint8_t *buf, uint64_t i)
{
	struct nerrf_event *ev = (struct nerrf_event *)buf;
	char path[64], data[64];

	snprintf(path, sizeof(path), "/home/alice/Documents/report-%06llu.docx",
		 (unsigned long long)i);
	memset(data, (int)(i & 0xff), sizeof(data));
	size_t n = build_event(buf, i % 2 ? NERRF_OP_WRITE : NERRF_OP_OPENAT, path, NULL, NULL,
			       data, i % 2 ? sizeof(data) : 0);
	ev->seq = i + 1;
	ev->ts_ns = nerrf_mono_ns();
	return n;
}

static int one_rate(const char *encoder, char **extra, int nextra, unsigned rate, unsigned secs)
{
	char dir[] = "/tmp/nerrf-hopbench-XXXXXX", path[300];
	struct nerrf_ring_prod *r1;
	struct nerrf_ring_cons *r2 = NULL;
	const char *msg = NULL;
	struct nerrf_ring_server *srv;
	_Alignas(8) uint8_t buf[512];
	uint64_t total = (uint64_t)rate * secs, sent = 0, got = 0, batches = 0, maxb = 0;
	uint64_t *lat = calloc(total, sizeof(*lat)), *ts = calloc(total, sizeof(*ts));
	pid_t pid;

	if (!lat || !ts || !mkdtemp(dir))
		return -1;
	if (nerrf_ring_create("bench-ring1", 16u << 20, &r1, &msg) < 0 ||
	    nerrf_ring_listen(dir, NERRF_RING1_NAME, 0600, r1, &srv, &msg) < 0 ||
	    nerrf_ring_serve_background(srv) < 0) {
		fprintf(stderr, "ring #1: %s\n", msg ? msg : "?");
		return -1;
	}
	char *argv[64] = {(char *)encoder, "--rundir", dir, "--config", "/dev/null"};
	int argc = 5;
	for (int i = 0; i < nextra && argc < 62; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	pid = pt_start(argv, &(struct pt_child){0});
	snprintf(path, sizeof(path), "%s/%s", dir, NERRF_RING2_NAME);
	while (nerrf_ring_connect(path, &r2, &msg) == -EAGAIN)
		usleep(10000);
	if (!r2) {
		fprintf(stderr, "ring #2: %s\n", msg ? msg : "?");
		return -1;
	}

	uint64_t start = nerrf_mono_ns(), period = 1000000000ull / rate;
	while (got < total) {
		uint64_t now = nerrf_mono_ns();
		/* produce what is due: bursts, as the collector forwards them */
		while (sent < total && now - start >= sent * period) {
			size_t n = record(buf, sent);
			void *p = nerrf_ring_reserve(r1, n);
			if (!p)
				break;
			memcpy(p, buf, n);
			nerrf_ring_commit(r1);
			ts[sent++] = ((struct nerrf_event *)buf)->ts_ns;
		}
		nerrf_ring_publish(r1);
		size_t len;
		int err = 0;
		const uint8_t *p;
		while ((p = nerrf_ring_peek(r2, &len, &err))) {
			struct nerrf_r2_hdr h;
			memcpy(&h, p, sizeof(h));
			if (h.kind == NERRF_R2_BATCH) {
				/* events of a batch are in ring order: ts of event k is known */
				uint64_t t = nerrf_mono_ns();
				for (uint32_t k = 0; k < h.nevents && got < total; k++)
					lat[got++] = t;
				batches++;
				if (h.nevents > maxb)
					maxb = h.nevents;
			}
			nerrf_ring_release(r2);
		}
		/* sleep until a batch comes or a millisecond passes: two cores, do not spin */
		nerrf_ring_wait(r2, 1);
		if (err || nerrf_mono_ns() - start > (uint64_t)(secs + 30) * 1000000000ull)
			break;
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);

	/* lat[] holds arrival times; ring order is preserved, so event i was stamped ts[i] */
	for (uint64_t i = 0; i < got; i++)
		lat[i] -= ts[i];
	qsort(lat, got, sizeof(*lat), cmp64);
	if (got)
		printf("%8u/s %9llu %9.1f %9.1f %9.1f %9.1f %7.1f %6llu\n", rate,
		       (unsigned long long)got, lat[got / 2] / 1e3, lat[got * 99 / 100] / 1e3,
		       lat[got * 999 / 1000] / 1e3, lat[got - 1] / 1e3,
		       (double)got / (double)batches, (unsigned long long)maxb);
	nerrf_ring_prod_close(r1);
	nerrf_ring_cons_close(r2);
	snprintf(path, sizeof(path), "%s/%s", dir, NERRF_RING1_NAME);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir, NERRF_RING2_NAME);
	unlink(path);
	rmdir(dir);
	free(lat);
	free(ts);
	return got == total ? 0 : -1;
}

int main(int argc, char **argv)
{
	unsigned rates[16] = {1000, 10000, 100000}, nrates = 3, secs = 3;
	int i = 2;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: encoder_hop_bench NERRF_ENCODER [--rates A,B,...] "
			"[--seconds S] [-- encoder options]\n");
		return 2;
	}
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--rates") == 0 && i + 1 < argc) {
			char *s = argv[++i];
			nrates = 0;
			while (*s && nrates < 16) {
				rates[nrates++] = (unsigned)strtoul(s, &s, 10);
				if (*s == ',')
					s++;
			}
		} else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			secs = (unsigned)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			fprintf(stderr, "encoder_hop_bench: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	printf("record timestamp -> batch readable in ring #2, microseconds; encoder args:");
	for (int k = i; k < argc; k++)
		printf(" %s", argv[k]);
	printf("\n%10s %9s %9s %9s %9s %9s %7s %6s\n", "rate", "events", "p50", "p99", "p99.9",
	       "max", "ev/bat", "maxbat");
	for (unsigned r = 0; r < nrates; r++)
		if (!rates[r] || one_rate(argv[1], argv + i, argc - i, rates[r], secs) < 0) {
			fprintf(stderr, "encoder_hop_bench: rate %u did not complete\n", rates[r]);
			return 1;
		}
	return 0;
}
