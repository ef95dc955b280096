/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's wakeup modes, read from the running programs' .bss (their
 * pinned map): a burst of events puts it in sweep mode (collector_sweeping
 * set, so the programs stop waking it); quiet afterwards takes it out again,
 * and an isolated event after that still comes through. A collector that
 * left the flag set would leave every later event to its 250 ms idle sleep.
 */
#include <bpf/bpf.h>

#include "e2e.h"
#include "nerrf_bpf.h"
/* The skeleton embeds the BPF object as one long string literal. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverlength-strings"
#include "nerrf.skel.h"
#pragma GCC diagnostic pop

#define BURST_MS 2000
#define QUIET_MS 2000

static void work(const struct e2e *e, int report_fd, void *arg)
{
	char p[PATH_MAX + 32];
	uint64_t n = 0;
	(void)arg;

	snprintf(p, sizeof(p), "%s/burst", e->work);
	for (uint64_t end = nerrf_mono_ms() + BURST_MS; nerrf_mono_ms() < end; n++) {
		int fd = open(p, O_CREAT | O_WRONLY, 0644);
		if (fd >= 0)
			close(fd);
	}
	if (write(report_fd, &n, sizeof(n)) != sizeof(n))
		_exit(1);
	usleep(QUIET_MS * 1000);
	snprintf(p, sizeof(p), "%s/after-quiet", e->work);
	int fd = open(p, O_CREAT | O_WRONLY, 0644);
	n = fd >= 0 && close(fd) == 0;
	if (write(report_fd, &n, sizeof(n)) != sizeof(n))
		_exit(1);
}

/* The pinned .bss of the programs nerrf run started for rundir. */
static int open_conf(const char *rundir)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char prefix[32], path[PATH_MAX];
	struct dirent *de;
	int fd = -1;

	for (const char *p = rundir; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	snprintf(prefix, sizeof(prefix), "%016llx-", (unsigned long long)h);
	DIR *d = opendir("/sys/fs/bpf/nerrf");
	while (d && fd < 0 && (de = readdir(d)))
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
			snprintf(path, sizeof(path), "/sys/fs/bpf/nerrf/%s/conf", de->d_name);
			fd = bpf_obj_get(path);
		}
	if (d)
		closedir(d);
	CHECK(fd >= 0, "no pinned conf map for %s", rundir);
	return fd;
}

static unsigned sweeping(int conf)
{
	struct nerrf_bpf__bss b;
	uint32_t zero = 0;

	CHECK(bpf_map_lookup_elem(conf, &zero, &b) == 0, "reading the programs' .bss: %s",
	      strerror(errno));
	return b.collector_sweeping;
}

/* Polls the flag (draining the subscriber meanwhile) until it is want or ms pass. */
static bool flag_becomes(struct e2e *e, int conf, unsigned want, unsigned ms)
{
	for (uint64_t end = nerrf_mono_ms() + ms; nerrf_mono_ms() < end;) {
		if (sweeping(conf) == want)
			return true;
		nng_msg *m = pt_recv(e->sub, 1);
		if (m)
			nng_msg_free(m);
	}
	return sweeping(conf) == want;
}

int main(void)
{
	struct e2e e = {0};
	uint64_t burst = 0, ok = 0;
	bool seen = false;
	char want[PATH_MAX + 32];

	e2e_require("the wakeup mode test", true);
	e2e_dirs(&e, "e2e-sweep");
	snprintf(want, sizeof(want), "%s/after-quiet", e.work);
	e2e_child(&e, work, NULL);
	e2e_run(&e, NULL);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	e2e_go(&e, e.sub, 1);
	int conf = open_conf(e.rundir);
	CHECK(flag_becomes(&e, conf, 1, BURST_MS), "no sweep mode during a burst of opens");
	CHECK(read(e.done_fd, &burst, sizeof(burst)) == sizeof(burst) && burst > 0);
	CHECK(flag_becomes(&e, conf, 0, QUIET_MS - 500),
	      "still in sweep mode %d ms after a burst of %llu opens ended", QUIET_MS - 500,
	      (unsigned long long)burst);
	CHECK(read(e.done_fd, &ok, sizeof(ok)) == sizeof(ok) && ok == 1);
	for (uint64_t end = nerrf_mono_ms() + 20000; !seen && nerrf_mono_ms() < end;) {
		nng_msg *m = pt_recv(e.sub, 200);
		if (!m)
			continue;
		Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
		nng_msg_free(m);
		for (size_t k = 0; k < b->n_events; k++)
			seen |= strcmp(b->events[k]->path, want) == 0;
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
	CHECK(seen, "the open after the quiet never arrived");
	close(conf);
	e2e_finish(&e);
	return 0;
}
