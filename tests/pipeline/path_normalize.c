/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Paths built from a directory and a relative name are canonical: "./"
 * removed, "../" resolved against the directory the kernel walked (a cwd
 * reached through a symlinked directory included), "a/./b" folded, names
 * relative to a dirfd too; the caller's own string stays in raw_path.
 */
#include "e2e.h"

#define NOPS 5

static void work(const struct e2e *e, int report_fd, void *arg)
{
	char p[PATH_MAX + 32];
	uint64_t ok = 0;
	(void)arg;

	snprintf(p, sizeof(p), "%s/real", e->work);
	ok += mkdir(p, 0755) == 0;
	snprintf(p, sizeof(p), "%s/sub", e->work);
	ok += mkdir(p, 0755) == 0;
	snprintf(p, sizeof(p), "%s/real", e->work);
	char l[PATH_MAX + 32];
	snprintf(l, sizeof(l), "%s/link", e->work);
	ok += symlink(p, l) == 0;
	ok += chdir(e->work) == 0;
	int fd = open("a", O_CREAT | O_WRONLY, 0644);
	ok += fd >= 0 && close(fd) == 0;
	fd = open("d", O_CREAT | O_WRONLY, 0644);
	ok += fd >= 0 && close(fd) == 0;
	ok += mkdir("sub/x", 0755) == 0;
	fd = open("sub/x/f", O_CREAT | O_WRONLY, 0644);
	ok += fd >= 0 && close(fd) == 0;
	ok -= 8; /* set-up done; now the traced operations, one point each */

	ok += rename("./a", "sub/../b") == 0;	   /* -> work/a, work/b */
	int dfd = open("sub", O_RDONLY | O_DIRECTORY);
	ok += renameat(dfd, "../b", dfd, "./c") == 0; /* -> work/b, work/sub/c */
	ok += chmod("./sub/./x/../x/f", 0600) == 0;   /* -> work/sub/x/f */
	ok += chdir(l) == 0 && unlink("../d") == 0;  /* cwd is work/real: -> work/d */
	ok += unlinkat(dfd, "./c", 0) == 0;	   /* -> work/sub/c */
	if (write(report_fd, &ok, sizeof(ok)) != sizeof(ok))
		_exit(1);
}

struct want {
	const char *syscall, *path, *new_path, *raw;
};

int main(void)
{
	struct e2e e = {0};
	char p[NOPS][3][PATH_MAX + 32];
	uint64_t ok = 0;
	unsigned got = 0;

	e2e_require("the path normalisation test", true);
	e2e_dirs(&e, "e2e-paths");
	snprintf(p[0][0], sizeof(p[0][0]), "%s/a", e.work);
	snprintf(p[0][1], sizeof(p[0][1]), "%s/b", e.work);
	snprintf(p[1][0], sizeof(p[1][0]), "%s/b", e.work);
	snprintf(p[1][1], sizeof(p[1][1]), "%s/sub/c", e.work);
	snprintf(p[2][0], sizeof(p[2][0]), "%s/sub/x/f", e.work);
	snprintf(p[3][0], sizeof(p[3][0]), "%s/d", e.work);
	snprintf(p[4][0], sizeof(p[4][0]), "%s/sub/c", e.work);
	const struct want want[NOPS] = {
		{"rename", p[0][0], p[0][1], "./a"},
		{"renameat", p[1][0], p[1][1], "../b"},
		{"chmod", p[2][0], "", "./sub/./x/../x/f"},
		{"unlink", p[3][0], "", "../d"},
		{"unlinkat", p[4][0], "", "./c"},
	};

	e2e_child(&e, work, NULL);
	e2e_run(&e, NULL);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	e2e_go(&e, e.sub, 1);
	CHECK(read(e.done_fd, &ok, sizeof(ok)) == sizeof(ok) && ok == NOPS,
	      "the child's operations: %llu of %d succeeded", (unsigned long long)ok, NOPS);
	Nerrf__Trace__EventBatch *b;
	for (uint64_t end = nerrf_mono_ms() + 20000;
	     got < NOPS && (b = e2e_next_batch(&e, e.sub, end));) {
		for (size_t k = 0; k < b->n_events && got < NOPS; k++) {
			const Nerrf__Trace__Event *ev = b->events[k];
			const struct want *w = &want[got];
			if (strcmp(ev->syscall, w->syscall) != 0)
				continue;
			CHECK_STR(ev->path, w->path);
			CHECK_STR(ev->new_path, w->new_path);
			CHECK_STR(ev->raw_path, w->raw);
			CHECK(ev->ret_val == 0, "%s returned %lld", ev->syscall, (long long)ev->ret_val);
			got++;
		}
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
	CHECK(got == NOPS, "%u of %d operations arrived", got, NOPS);
	e2e_finish(&e);
	return 0;
}
