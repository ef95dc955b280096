/* SPDX-License-Identifier: Apache-2.0 */
/* execve, execveat, fork and exit: the new executable's resolved path, the
 * caller's name, the argv head; children followed with --follow. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "common_checks.h"

static pid_t run(int how)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char *argv[] = { "true", "arg1", NULL }, *envp[] = { NULL };
		if (how == 0)
			syscall(SYS_execve, "/bin/true", argv, envp);
		else if (how == 1)
			syscall(SYS_execveat, open("/usr/bin", O_DIRECTORY | O_RDONLY), "true", argv,
				envp, 0);
		else
			syscall(SYS_execve, "/nonexistent/x", argv, envp);
		_exit(3);
	}
	return pid;
}

int main(void)
{
	char self[16], truepath[PATH_MAX];
	const char *args[] = { "--pid", self, "--follow", "--syscalls", "execve,execveat", NULL };
	const char *args_at[] = { "--pid", self, "--follow", "--syscalls", "execveat", NULL };
	const struct nerrf_event *e;
	struct coll c;
	int st;

	test_require_root("exec_test");
	snprintf(self, sizeof(self), "%d", getpid());
	CHECK(realpath("/bin/true", truepath));
	coll_start(&c, args);

	pid_t pid = run(0);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	e = coll_find(&c, NERRF_OP_FORK, pid, NULL, 5000);
	CHECK(e, "no fork event for %d", pid);
	CHECK_EQ_U64(e->tid, pid);
	CHECK_EQ_U64(e->ppid, getpid());
	e = coll_find(&c, NERRF_OP_EXECVE, pid, NULL, 5000);
	CHECK(e, "no execve event for %d", pid);
	CHECK_EQ_U64(e->ret, 0);
	CHECK_EQ_U64(e->ppid, getpid());
	CHECK_STR(e->comm, "true");
	CHECK_STR(ev_path(e), truepath);
	check_inode(e, truepath);
	if (strcmp(truepath, "/bin/true"))
		CHECK_STR(ev_raw(e), "/bin/true");
	CHECK_EQ_U64(e->data_len, 10);
	CHECK(memcmp(ev_data(e), "true\0arg1\0", 10) == 0);
	e = coll_find(&c, NERRF_OP_EXIT, pid, NULL, 5000);
	CHECK(e, "no exit event for %d", pid);
	CHECK_EQ_U64(e->ret, 0);

	pid = run(1);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	e = coll_find(&c, NERRF_OP_EXECVEAT, pid, NULL, 5000);
	CHECK(e, "no execveat event for %d", pid);
	CHECK_EQ_U64(e->ret, 0);
	CHECK_STR(ev_path(e), truepath);

	/* A failed exec, then exit(3): ret -ENOENT, and the exit's wait status */
	pid = run(2);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 3);
	e = coll_find(&c, NERRF_OP_EXECVE, pid, NULL, 5000);
	CHECK(e, "no failed execve event for %d", pid);
	CHECK_EQ_U64(e->ret, -ENOENT);
	CHECK_STR(ev_path(e), "/nonexistent/x");
	CHECK(e->flags & NERRF_EF_PATH_FALLBACK);
	e = coll_find(&c, NERRF_OP_EXIT, pid, NULL, 5000);
	CHECK(e, "no exit event for %d", pid);
	CHECK_EQ_U64(e->ret, st);

	coll_stop(&c);
	coll_free(&c);

	/* execveat alone: its success still arrives (it exits as execve) */
	coll_start(&c, args_at);
	pid = run(1);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	e = coll_find(&c, NERRF_OP_EXECVEAT, pid, NULL, 5000);
	CHECK(e, "no execveat event for %d with --syscalls execveat", pid);
	CHECK_STR(ev_path(e), truepath);
	coll_stop(&c);
	coll_free(&c);
	return 0;
}
