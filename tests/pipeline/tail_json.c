/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `nerrf tail --json --pid P` on the live pipeline prints one JSON object
 * per event of process P, with the proto field names and the values the
 * process saw: here a create, a write, its write summary at the close and an
 * unlink, of a file whose name needs JSON escapes (quote, backslash, tab, a
 * control byte), which decodes back to the name.
 */
#include "e2e.h"
#include "tjson.h"

#define NAME "tailed\"\\\t\x01.txt"

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
	char out[PATH_MAX + 16], terr[PATH_MAX + 16], pidbuf[16], a[PATH_MAX + 16];
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
			"--wait",
			"--url",
			e.url,
			"--json",
			"--pid",
			pidbuf,
			"--path-prefix",
			a,
			"--count",
			"4",
			NULL};
	pid_t tail = pt_spawn_io(argv, terr, out);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	e2e_go(&e, e.sub, 2);
	CHECK(read(e.done_fd, &n, sizeof(n)) == sizeof(n) && n == 12);

	int rc = pt_wait_exit(tail, 15000);
	if (rc < 0)
		kill(tail, SIGKILL);
	CHECK(rc == 0, "nerrf tail --count 4 exit %d: %s", rc, pt_slurp(terr));
	const char *o = pt_slurp(out);
	json_object *l = tj_lines(o);
	char want[PATH_MAX * 2];
	CHECK_EQ_U64(json_object_array_length(l), 4);
	snprintf(want, sizeof(want), "%d", e.child);
	CHECK(tj_count(o, "pid", want) == 4, "not 4 lines of pid %d: %s", e.child, o);
	snprintf(want, sizeof(want), "%s/" NAME, e.work);
	json_object *w = NULL, *c = NULL;
	for (size_t i = 0; i < 4; i++) {
		if (tj_is(tj_line(l, i), "syscall", "write"))
			w = tj_line(l, i);
		if (tj_is(tj_line(l, i), "syscall", "close"))
			c = tj_line(l, i);
	}
	CHECK(w && tj_is(w, "path", want) && !tj_at(w, "new_path") &&
		      tj_is(w, "ret_val", "12") && tj_is(w, "bytes", "12"),
	      "the write: %s", o);
	/* the write summary at the close: one write of 12 bytes by an open that created it */
	CHECK(c && tj_is(c, "path", want) && tj_is(c, "write_count", "1") &&
		      tj_is(c, "range_end", "12") && tj_is(c, "close_flags", "3"),
	      "the close summary: %s", o);
	CHECK(tj_count(o, "path", want) == 4, "the name decodes back: %s", o);
	CHECK(tj_count(o, "syscall", "unlink") + tj_count(o, "syscall", "unlinkat") == 1,
	      "the unlink: %s", o);
	CHECK(strncmp(o, "{\"ts\":\"20", 8) == 0, "ts first, RFC 3339: %s", o);
	json_object_put(l);

	e2e_finish(&e);
	return 0;
}
