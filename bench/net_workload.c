/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A connect/accept-heavy loop: a local TCP echo server and a client making
 * short connections (connect, send 64 bytes, read the echo, close) for a
 * duration. Prints the connections made and their rate. With --udp instead:
 * 64-byte datagrams between two connected UDP sockets, sent with write(2)
 * and read back, and their rate.
 *   usage: net_workload [--udp] SECONDS [ADDR]      ADDR default 127.0.0.1
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "nerrf_time.h"

static int ls;

static void *serve(void *arg)
{
	char buf[64];
	(void)arg;
	for (;;) {
		int as = accept(ls, NULL, NULL);
		if (as < 0)
			return NULL;
		ssize_t n = recv(as, buf, sizeof(buf), MSG_WAITALL);
		if (n > 0 && send(as, buf, (size_t)n, 0) != n)
			perror("net_workload: echo");
		close(as);
	}
}

/* Datagrams from one connected UDP socket to another on sa's address. */
static int udp(struct sockaddr_in sa, double secs)
{
	socklen_t len = sizeof(sa);
	struct sockaddr_in ra;
	char buf[64] = "nerrf";
	unsigned long long n = 0;
	int rs = socket(AF_INET, SOCK_DGRAM, 0), ss = socket(AF_INET, SOCK_DGRAM, 0);

	if (bind(rs, (void *)&sa, sizeof(sa)) < 0 || getsockname(rs, (void *)&ra, &len) < 0 ||
	    connect(ss, (void *)&ra, sizeof(ra)) < 0) {
		perror("net_workload: udp sockets");
		return 1;
	}
	double t0 = nerrf_mono_ns() / 1e9, end = t0 + secs;
	while (nerrf_mono_ns() / 1e9 < end) {
		for (int i = 0; i < 64; i++)
			if (write(ss, buf, sizeof(buf)) != sizeof(buf) ||
			    read(rs, buf, sizeof(buf)) != sizeof(buf)) {
				perror("net_workload: datagram");
				return 1;
			}
		n += 64;
	}
	printf("datagrams %llu per_sec %.0f\n", n, (double)n / ((nerrf_mono_ns() / 1e9) - t0));
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	char buf[64] = "nerrf";
	unsigned long long conns = 0;
	pthread_t t;
	int one = 1;
	bool dgram = argc > 1 && !strcmp(argv[1], "--udp");

	argc -= dgram;
	argv += dgram;
	if (argc < 2 || argc > 3 || atof(argv[1]) <= 0 ||
	    inet_pton(AF_INET, argc == 3 ? argv[2] : "127.0.0.1", &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: net_workload [--udp] SECONDS [IPV4_ADDR]\n");
		return 2;
	}
	if (dgram)
		return udp(sa, atof(argv[1]));
	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (void *)&sa, sizeof(sa)) < 0 || listen(ls, 128) < 0 ||
	    getsockname(ls, (void *)&sa, &len) < 0 || pthread_create(&t, NULL, serve, NULL)) {
		perror("net_workload: listener");
		return 1;
	}
	double t0 = nerrf_mono_ns() / 1e9, end = t0 + atof(argv[1]);
	while (nerrf_mono_ns() / 1e9 < end) {
		int cs = socket(AF_INET, SOCK_STREAM, 0);
		/* no TIME_WAIT pile-up: the client resets instead of lingering */
		struct linger lg = { 1, 0 };
		setsockopt(cs, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		if (connect(cs, (void *)&sa, sizeof(sa)) < 0 || send(cs, buf, sizeof(buf), 0) != sizeof(buf) ||
		    recv(cs, buf, sizeof(buf), MSG_WAITALL) != sizeof(buf)) {
			perror("net_workload: client");
			return 1;
		}
		close(cs);
		conns++;
	}
	printf("connections %llu per_sec %.0f\n", conns, (double)conns / ((nerrf_mono_ns() / 1e9) - t0));
	return 0;
}
