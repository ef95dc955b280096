/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The write summary at the last close of an open file: exact bytes, write
 * count and byte range; one summary for dup'ed and inherited fds, from the
 * last holder; released by exec (O_CLOEXEC) and by exit; writes through an
 * fd opened before capture began counted, not summarized.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "common_checks.h"

static const char *dir;

static const char *file(const char *name)
{
	static char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/*
 * The one summary of name, from tgid, whose first bytes written were data;
 * and no second one before the marker's.
 */
static const struct nerrf_event *summary(struct coll *c, pid_t tgid, const char *name,
					 const char *data)
{
	static struct nerrf_event copy;
	const struct nerrf_event *e = coll_find(c, NERRF_OP_CLOSE, tgid, file(name), 5000);

	CHECK(e, "no close summary of %s from %d", name, tgid);
	CHECK_EQ_U64(e->tgid, tgid);
	CHECK_STR(ev_path(e), file(name));
	check_inode(e, file(name));
	CHECK_EQ_U64(e->data_len, strlen(data));
	CHECK(memcmp(ev_data(e), data, strlen(data)) == 0, "sample of %s", name);
	copy = *e;

	/* a marker: a summary of its own, after which no second one of name may come */
	int fd = open(file("marker"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, "m", 1) == 1 && close(fd) == 0);
	while ((e = coll_find(c, NERRF_OP_CLOSE, 0, NULL, 5000))) {
		if (!strcmp(ev_path(e), file("marker")))
			break;
		CHECK(strcmp(ev_path(e), file(name)), "a second summary of %s", name);
	}
	CHECK(e, "no summary of the marker");
	return &copy;
}

int main(void)
{
	char self[16];
	const char *args[] = { "--pid", self, "--follow", NULL };
	const struct nerrf_event *e;
	struct coll c;
	int fd, fd2, st, early;
	pid_t pid;

	test_require_root("close_test");
	snprintf(self, sizeof(self), "%d", getpid());
	dir = real_tmpdir("close");
	early = open(file("early"), O_WRONLY | O_CREAT, 0600);
	CHECK(early >= 0);
	coll_start(&c, args);

	/* chunks through one fd, one of them a pwrite past the end */
	fd = open(file("chunks"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, "hello ", 6) == 6);
	CHECK(pwrite(fd, "xyz", 3, 100) == 3);
	CHECK(write(fd, "0123456789", 10) == 10);
	CHECK(close(fd) == 0);
	e = summary(&c, getpid(), "chunks", "hello xyz0123456789");
	CHECK_EQ_U64(e->fd, fd);
	CHECK_EQ_U64(e->bytes, 19);
	CHECK_EQ_U64(e->count, 3);
	CHECK_EQ_U64(e->offset, 0);
	CHECK_EQ_U64(e->ret, 103);
	CHECK_EQ_U64(e->mode, NERRF_CS_TRUNC | NERRF_CS_CREATED);
	CHECK_EQ_U64(e->arg_flags & (O_CREAT | O_TRUNC), O_CREAT | O_TRUNC);

	/* an existing file, appended to: neither created nor truncated; the range at the end */
	fd = open(file("chunks"), O_WRONLY | O_APPEND);
	CHECK(fd >= 0 && write(fd, "ab", 2) == 2 && write(fd, "c", 1) == 1 && close(fd) == 0);
	e = summary(&c, getpid(), "chunks", "abc");
	CHECK_EQ_U64(e->bytes, 3);
	CHECK_EQ_U64(e->count, 2);
	CHECK_EQ_U64(e->offset, 103);
	CHECK_EQ_U64(e->ret, 106);
	CHECK_EQ_U64(e->mode, 0);

	/* dup: the summary comes at the second close, counting both fds' writes */
	fd = open(file("dup"), O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0 && write(fd, "a", 1) == 1);
	fd2 = dup(fd);
	CHECK(fd2 >= 0 && write(fd2, "bb", 2) == 2);
	CHECK(close(fd) == 0 && close(fd2) == 0);
	e = summary(&c, getpid(), "dup", "abb");
	CHECK_EQ_U64(e->fd, fd2);
	CHECK_EQ_U64(e->bytes, 3);
	CHECK_EQ_U64(e->count, 2);
	CHECK_EQ_U64(e->ret, 3);

	/* fork: the child's close is not the last; the parent's is */
	fd = open(file("fork"), O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0 && write(fd, "1", 1) == 1);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(write(fd, "22", 2) == 2 && close(fd) == 0 ? 0 : 1);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(write(fd, "333", 3) == 3 && close(fd) == 0);
	e = summary(&c, getpid(), "fork", "122333");
	CHECK_EQ_U64(e->bytes, 6);
	CHECK_EQ_U64(e->count, 3);
	CHECK_EQ_U64(e->ret, 6);

	/* exit: the parent closes first; the child exits holding the file */
	int go[2];
	fd = open(file("exit"), O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0 && pipe(go) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char b;
		close(go[1]);
		_exit(read(go[0], &b, 1) == 1 && write(fd, "4444", 4) == 4 ? 0 : 1);
	}
	CHECK(close(fd) == 0);
	CHECK(write(go[1], "g", 1) == 1 && close(go[1]) == 0 && close(go[0]) == 0);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	e = summary(&c, pid, "exit", "4444");
	CHECK_EQ_U64(e->fd, -1);
	CHECK_EQ_U64(e->bytes, 4);
	CHECK_EQ_U64(e->mode, NERRF_CS_CREATED | NERRF_CS_EXIT);

	/* exec: an O_CLOEXEC fd goes with the old image */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char *argv[] = { "true", NULL }, *envp[] = { NULL };
		fd = open(file("cloexec"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, "55555", 5) != 5)
			_exit(1);
		execve("/bin/true", argv, envp);
		_exit(2);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	e = summary(&c, pid, "cloexec", "55555");
	CHECK_EQ_U64(e->fd, -1);
	CHECK_EQ_U64(e->bytes, 5);
	CHECK_EQ_U64(e->mode, NERRF_CS_CREATED | NERRF_CS_EXEC);

	/* opened before capture began: counted, no summary */
	CHECK(write(early, "e", 1) == 1 && close(early) == 0);
	coll_stop(&c);
	while (coll_next(&c, 1000))
		;
	CHECK(c.stats && (c.stats->flags & NERRF_KS_FINAL), "no final stats record");
	CHECK(c.stats->close_unattributed >= 1, "close_unattributed %llu",
	      (unsigned long long)c.stats->close_unattributed);
	coll_free(&c);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
	return 0;
}
