/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Under the real pipeline: `nerrf run --metrics` starts nerrf-exporter as a
 * fourth stage; while a process writes files, scrapes show
 * nerrf_encoder_events_total growing by at least what it did, every stage
 * the metrics name is up, and promtool accepts every scrape.
 */
#include "exptest.h"
#include "pipeline/e2e.h"

#define NFILES 2000

static void work(const struct e2e *e, int report_fd, void *arg)
{
	char path[PATH_MAX + 32];
	uint64_t n = 0;
	char c;
	/* Not before the test has read the counter it will compare with. */
	if (read(*(int *)arg, &c, 1) != 1)
		_exit(1);
	for (int i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/f%d", e->work, i % 16);
		int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fd >= 0 && write(fd, "x", 1) == 1)
			n += 2;
		if (fd >= 0)
			close(fd);
	}
	if (write(report_fd, &n, sizeof(n)) != sizeof(n))
		_exit(1);
}

static uint64_t value(const char *metrics, const char *name)
{
	char key[128];
	snprintf(key, sizeof(key), "\n%s ", name);
	const char *p = strstr(metrics, key);
	CHECK(p != NULL, "no %s in:\n%s", name, metrics);
	return strtoull(p + strlen(key), NULL, 10);
}

int main(void)
{
	struct e2e e = {0};
	char addr[64], *extra[] = {"--metrics", addr, NULL};
	int port = pt_free_port();
	uint64_t done;
	int start[2];

	e2e_require("the exporter under the real pipeline", true);
	if (access(e2e_stage("exporter"), X_OK) != 0)
		test_skip("%s is not built", e2e_stage("exporter"));
	e2e_dirs(&e, "exporter-pipeline");
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	CHECK(pipe(start) == 0);
	e2e_child(&e, work, &start[0]);
	e2e_run(&e, extra);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	/* Our events subscriber and the exporter. */
	e2e_go(&e, e.sub, 2);

	/* The encoder's first Stats since the exporter connected. */
	const char *m = exp_scrape(port);
	for (uint64_t t = nerrf_mono_ms() + 10000;
	     !strstr(m, "\nnerrf_encoder_events_total ") && nerrf_mono_ms() < t; usleep(100000))
		m = exp_scrape(port);
	uint64_t before = value(m, "nerrf_encoder_events_total");
	CHECK(write(start[1], "w", 1) == 1);
	CHECK(read(e.done_fd, &done, sizeof(done)) == sizeof(done), "the child's report");
	CHECK(done == 2 * NFILES, "the child's own operations failed");

	/* Scraped under load and after: growth by at least what the child did. */
	uint64_t end = nerrf_mono_ms() + 15000, now = before;
	while (now < before + done && nerrf_mono_ms() < end) {
		m = exp_scrape(port);
		exp_promtool(e.dir, m);
		now = value(m, "nerrf_encoder_events_total");
		usleep(200000);
	}
	CHECK(now >= before + done,
	      "nerrf_encoder_events_total went from %llu to %llu; the child did %llu:\n%s",
	      (unsigned long long)before, (unsigned long long)now, (unsigned long long)done, m);
	exp_has(m, "nerrf_up{stage=\"publisher\"} 1");
	exp_has(m, "nerrf_up{stage=\"encoder\"} 1");
	for (const char *p = m; (p = strstr(p, "\nnerrf_up{")); p++)
		CHECK(strncmp(strchr(p, '}'), "} 1\n", 4) == 0, "a stage is down:\n%s", m);
	CHECK(value(m, "nerrf_ring_capacity_bytes{ring=\"1\"}") > 0);
	exp_has(m, "nerrf_kernel_lost_total 0");
	e2e_finish(&e);
	return 0;
}
