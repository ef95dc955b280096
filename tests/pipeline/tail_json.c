/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `nerrf tail --json --pid P` on the live pipeline prints one JSON object
 * per event of process P, with the proto field names and the values the
 * process saw: here a create, a write and an unlink, of a file whose name
 * needs JSON escapes (quote, backslash, tab, a control byte).
 */
#include "e2e.h"

#define NAME "tailed\"\\\t\x01.txt"
#define NAME_JSON "tailed\\\"\\\\\\t\\u0001.txt"

static void work(const struct e2e *e, int report_fd, void *arg)
{
	char a[PATH_MAX + 16];
	(void)arg;
	snprintf(a, sizeof(a), "%s/" NAME, e->work);
	int fd = open(a, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	long n = write(fd, "hello, tail\n", 12);
	close(fd);
	unlink(a);
	if (write(report_fd, &n, sizeof(n)) != sizeof(n))
		_exit(1);
}

int main(void)
{
	struct e2e e = {0};
	char out[PATH_MAX + 16], terr[PATH_MAX + 16], pidbuf[16], a[PATH_MAX + 16],
		cmd[PATH_MAX * 2];
	long n;

	e2e_require("the end-to-end nerrf tail test", true);
	e2e_dirs(&e, "e2e-tail");
	snprintf(out, sizeof(out), "%s/tail.out", e.dir);
	snprintf(terr, sizeof(terr), "%s/tail.err", e.dir);
	snprintf(a, sizeof(a), "%s/" NAME, e.work);
	e2e_child(&e, work, NULL);
	e2e_run(&e, NULL);
	snprintf(pidbuf, sizeof(pidbuf), "%d", e.child);
	char *argv[] = {(char *)pt_bin("NERRF_CLI"),
			"tail",
			"--url",
			e.url,
			"--json",
			"--pid",
			pidbuf,
			"--path-prefix",
			a,
			"--count",
			"3",
			NULL};
	pid_t tail = pt_spawn_io(argv, terr, out);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	e2e_go(&e, e.sub, 2);
	CHECK(read(e.done_fd, &n, sizeof(n)) == sizeof(n) && n == 12);

	int rc = pt_wait_exit(tail, 15000);
	if (rc < 0)
		kill(tail, SIGKILL);
	CHECK(rc == 0, "nerrf tail --count 3 exit %d: %s", rc, pt_slurp(terr));
	const char *o = pt_slurp(out);
	char want[PATH_MAX * 2];
	snprintf(want, sizeof(want), "\"pid\":%d,", e.child);
	CHECK(strstr(o, want) != NULL, "%s", o);
	snprintf(want, sizeof(want),
		 "\"path\":\"%s/" NAME_JSON "\",\"new_path\":\"\",\"ret_val\":12,\"bytes\":12,",
		 e.work);
	CHECK(strstr(o, want) != NULL, "the write: %s", o);
	CHECK(strstr(o, "\"syscall\":\"unlink") != NULL, "the unlink: %s", o);
	CHECK(strstr(o, "\"ts\":\"20") == o + 1, "ts first, RFC 3339: %s", o);
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; l=[json.loads(x) for x in sys.stdin]; "
		 "assert len(l)==3, len(l); assert all(x[\"pid\"]==%d for x in l)' < %s",
		 e.child, out);
	CHECK(system(cmd) == 0, "not 3 JSON lines of pid %d: %s", e.child, o);

	nng_close(e.sub);
	e2e_finish(&e);
	return 0;
}
