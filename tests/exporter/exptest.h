/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the exporter tests: a real nng pub socket standing in for the
 * publisher, sending real protobuf Stats; the real nerrf-exporter binary;
 * scrapes over a real TCP connection.
 */
#ifndef NERRF_EXPTEST_H
#define NERRF_EXPTEST_H

#include <arpa/inet.h>

#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"

#include <nng/protocol/pubsub0/pub.h>

struct exp_env {
	char *dir;
	char url[512];
	char err[600]; /* the exporter's stderr */
	int port;
	nng_socket pub;
	pid_t exporter;
};

/* The fake publisher listens first; the exporter (started later) dials it. */
static inline void exp_env_init(struct exp_env *t, const char *name)
{
	t->dir = test_tmpdir(name);
	snprintf(t->url, sizeof(t->url), "ipc://%s/events.sock", t->dir);
	snprintf(t->err, sizeof(t->err), "%s/exporter.err", t->dir);
	t->port = pt_free_port();
	CHECK(nng_pub0_open(&t->pub) == 0);
	CHECK(nng_listen(t->pub, t->url, NULL, 0) == 0);
}

/* Starts nerrf-exporter on t->url and 127.0.0.1:t->port, plus extra args (NULL-terminated). */
static inline void exp_start(struct exp_env *t, ...)
{
	static char listen[64];
	char *argv[32];
	int argc = 0;
	va_list ap;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", t->port);
	argv[argc++] = (char *)pt_bin("NERRF_EXPORTER");
	argv[argc++] = (char *)"--url";
	argv[argc++] = t->url;
	argv[argc++] = (char *)"--listen";
	argv[argc++] = listen;
	va_start(ap, t);
	for (char *a; (a = va_arg(ap, char *)) && argc < 31;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	t->exporter = pt_spawn(argv, t->err);
}

static inline void exp_env_free(struct exp_env *t)
{
	if (t->exporter > 0)
		pt_stop(t->exporter);
	nng_close(t->pub);
	pt_rm_rf(t->dir);
}

/* Sends st on the stats topic, as the publisher frames it. */
static inline void exp_send(struct exp_env *t, const Nerrf__Trace__Stats *st)
{
	size_t len = nerrf__trace__stats__get_packed_size(st);
	nng_msg *m;
	CHECK(nng_msg_alloc(&m, NERRF_TOPIC_LEN + len) == 0);
	memcpy(nng_msg_body(m), NERRF_TOPIC_STATS, NERRF_TOPIC_LEN);
	nerrf__trace__stats__pack(st, (uint8_t *)nng_msg_body(m) + NERRF_TOPIC_LEN);
	CHECK(nng_sendmsg(t->pub, m, 0) == 0);
}

/*
 * One HTTP/1.0 request on a fresh connection to 127.0.0.1:port; the
 * response (status line, headers and body) into a static buffer. Retries
 * while nothing listens yet (the exporter starting), up to 10 s.
 */
static inline const char *exp_http(int port, const char *method, const char *path, int *status)
{
	static char buf[1 << 20];
	char req[512];
	size_t n = 0;
	uint64_t end = nerrf_mono_ms() + 10000;
	int s;

	for (;;) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		s = socket(AF_INET, SOCK_STREAM, 0);
		CHECK(s >= 0);
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		CHECK(errno == ECONNREFUSED, "connect: %s", strerror(errno));
		close(s);
		CHECK(nerrf_mono_ms() < end, "nothing listens on 127.0.0.1:%d after 10 s", port);
		usleep(20000);
	}
	int len = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method,
			   path);
	CHECK(write(s, req, (size_t)len) == len);
	for (ssize_t r; (r = read(s, buf + n, sizeof(buf) - 1 - n)) > 0;)
		n += (size_t)r;
	close(s);
	buf[n] = '\0';
	CHECK(sscanf(buf, "HTTP/1.%*d %d", status) == 1, "no HTTP status line in: %s", buf);
	return buf;
}

/* The body of GET /metrics, which must answer 200. */
static inline const char *exp_scrape(int port)
{
	int status;
	const char *r = exp_http(port, "GET", "/metrics", &status);
	CHECK(status == 200, "GET /metrics: %d\n%s", status, r);
	const char *body = strstr(r, "\r\n\r\n");
	CHECK(body != NULL);
	return body + 4;
}

/* Scrapes until the metrics hold line (a whole line), up to 10 s. */
static inline const char *exp_wait_line(struct exp_env *t, const Nerrf__Trace__Stats *resend,
					const char *line)
{
	uint64_t end = nerrf_mono_ms() + 10000;
	char want[1024];
	snprintf(want, sizeof(want), "\n%s\n", line);
	while (nerrf_mono_ms() < end) {
		/* pub/sub drops what goes out before the exporter has connected: send again. */
		if (resend)
			exp_send(t, resend);
		const char *m = exp_scrape(t->port);
		if (strstr(m, want))
			return m;
		usleep(50000);
	}
	FAIL("the metrics never showed '%s'; last scrape:\n%s\nexporter: %s", line,
	     exp_scrape(t->port), pt_slurp(t->err));
}

static inline void exp_has(const char *metrics, const char *line)
{
	char want[1024];
	snprintf(want, sizeof(want), "\n%s\n", line);
	CHECK(strstr(metrics, want) != NULL, "expected the line '%s' in:\n%s", line, metrics);
}

/*
 * promtool check metrics on text: 0 when it is clean. Skips (77) when promtool
 * is not installed.
 */
static inline void exp_promtool(const char *dir, const char *text)
{
	char path[600], cmd[1400];
	const char *promtool = "/usr/bin/promtool";
	if (access(promtool, X_OK) != 0)
		test_skip("promtool is not installed (apt-get install prometheus, or "
			  "scripts/install-deps)");
	snprintf(path, sizeof(path), "%s/scrape.txt", dir);
	FILE *f = fopen(path, "w");
	CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0);
	snprintf(cmd, sizeof(cmd), "%s check metrics < '%s' > '%s.out' 2>&1", promtool, path, path);
	int rc = system(cmd);
	snprintf(cmd, sizeof(cmd), "%s.out", path);
	CHECK(rc == 0 && pt_slurp(cmd)[0] == '\0', "promtool check metrics (status %d) says:\n%s\non:\n%s",
	      rc, pt_slurp(cmd), text);
}

#endif /* NERRF_EXPTEST_H */
