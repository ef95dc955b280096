/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who acted on whose behalf: a root process that takes another effective
 * uid and gid (as a setuid program or sudo leaves them) and opens a file
 * shows its real ids in uid/gid, the effective ones in euid/egid, and the
 * audit login uid it was given (as pam_loginuid gives one) in loginuid.
 */
#include "e2e.h"

#define EUID 65534
#define EGID 65533

static void work(const struct e2e *e, int report_fd, void *arg)
{
	char p[PATH_MAX + 32];
	uint64_t ok = 0;
	(void)arg;
	snprintf(p, sizeof(p), "%s/open/as-other", e->work);
	/* a login session's uid, as pam_loginuid sets it (root may, once) */
	int lfd = open("/proc/self/loginuid", O_WRONLY);
	if (lfd >= 0) {
		if (write(lfd, "4321", 4) != 4)
			_exit(1);
		close(lfd);
	}
	if (setegid(EGID) == 0 && seteuid(EUID) == 0) {
		int fd = open(p, O_CREAT | O_WRONLY, 0644);
		ok = fd >= 0 && close(fd) == 0;
		ok &= seteuid(0) == 0 && setegid(0) == 0;
	}
	if (write(report_fd, &ok, sizeof(ok)) != sizeof(ok))
		_exit(1);
}

int main(void)
{
	struct e2e e = {0};
	char p[PATH_MAX + 32], buf[32] = "4294967295";
	uint64_t ok = 0;
	bool seen = false;

	e2e_require("the who-acted test", true);
	e2e_dirs(&e, "e2e-who");
	snprintf(p, sizeof(p), "%s/open", e.work);
	CHECK(mkdir(p, 0777) == 0 && chmod(p, 0777) == 0);
	/* the child sets 4321; a kernel without audit has none (the field says -1) */
	if (access("/proc/self/loginuid", F_OK) == 0)
		snprintf(buf, sizeof(buf), "4321");
	uint32_t loginuid = (uint32_t)strtoul(buf, NULL, 10);
	snprintf(p, sizeof(p), "%s/open/as-other", e.work);

	e2e_child(&e, work, NULL);
	e2e_run(&e, NULL);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	e2e_go(&e, e.sub, 1);
	CHECK(read(e.done_fd, &ok, sizeof(ok)) == sizeof(ok) && ok == 1,
	      "the child could not open the file as uid %d", EUID);
	for (uint64_t end = nerrf_mono_ms() + 20000; !seen && nerrf_mono_ms() < end;) {
		nng_msg *m = pt_recv(e.sub, 200);
		if (!m)
			continue;
		Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
		nng_msg_free(m);
		for (size_t k = 0; k < b->n_events && !seen; k++) {
			const Nerrf__Trace__Event *ev = b->events[k];
			if (strcmp(ev->path, p) != 0)
				continue;
			CHECK_EQ_U64(ev->uid, 0);
			CHECK_EQ_U64(ev->gid, 0);
			CHECK_EQ_U64(ev->euid, EUID);
			CHECK_EQ_U64(ev->egid, EGID);
			CHECK_EQ_U64(ev->loginuid, loginuid);
			seen = true;
		}
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
	CHECK(seen, "no open of %s arrived", p);
	e2e_finish(&e);
	return 0;
}
