/* SPDX-License-Identifier: Apache-2.0 */
/* execve, execveat, fork and exit: the new executable's resolved path, the
 * caller's name, the argv head; children followed with --follow. A #! script
 * is reported as itself with its interpreter beside it; failed execs carry
 * the caller's argv. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common_checks.h"

static const char *dir; /* scratch directory, canonical */

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
		else if (how == 2)
			syscall(SYS_execve, "/nonexistent/x", argv, envp);
		else if (how == 3 && chdir(dir) == 0)
			syscall(SYS_execve, "./sub/../script.sh", argv, envp);
		else if (how == 4 && chdir(dir) == 0)
			syscall(SYS_execve, "noexec", argv, envp);
		_exit(3);
	}
	return pid;
}

static void put_file(const char *name, const char *text, mode_t mode)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CHECK(fd >= 0, "create %s", p);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	CHECK(fchmod(fd, mode) == 0 && close(fd) == 0);
}

/* A #! script: path is the script, path2 the interpreter that ran it. */
static void check_script(struct coll *c)
{
	char script[PATH_MAX], sh[PATH_MAX];
	int st;

	snprintf(script, sizeof(script), "%s/script.sh", dir);
	CHECK(realpath("/bin/sh", sh));
	CHECK(mkdir(strcat(strcpy((char[PATH_MAX]){ 0 }, dir), "/sub"), 0755) == 0);
	put_file("script.sh", "#!/bin/sh\nexit 0\n", 0755);
	pid_t pid = run(3);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	const struct nerrf_event *e = coll_find(c, NERRF_OP_EXECVE, pid, NULL, 5000);
	CHECK(e, "no execve event for the script run by %d", pid);
	CHECK_EQ_U64(e->ret, 0);
	CHECK_STR(ev_path(e), script);
	CHECK(!(e->flags & NERRF_EF_PATH_FALLBACK), "script path from its name, not its file");
	check_inode(e, script);
	CHECK(ev_path2(e), "no interpreter for the script");
	CHECK_STR(ev_path2(e), sh);
	CHECK_STR(ev_raw(e), "./sub/../script.sh");
	/* the kernel's argv: interpreter, script name, then the caller's arguments */
	static const char want[] = "/bin/sh\0./sub/../script.sh\0arg1";
	CHECK_EQ_U64(e->data_len, sizeof(want));
	CHECK(memcmp(ev_data(e), want, sizeof(want)) == 0);
}

/* A failed exec keeps the argv the caller passed, read from its memory. */
static void check_failed_argv(const struct nerrf_event *e, long long err)
{
	CHECK_EQ_U64(e->ret, err);
	CHECK(e->flags & NERRF_EF_ARGV_CALLER, "failed exec without the caller's argv");
	CHECK_EQ_U64(e->data_len, 10);
	CHECK(memcmp(ev_data(e), "true\0arg1\0", 10) == 0);
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
	dir = real_tmpdir("exec");
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
	check_failed_argv(e, -ENOENT);
	e = coll_find(&c, NERRF_OP_EXIT, pid, NULL, 5000);
	CHECK(e, "no exit event for %d", pid);
	CHECK_EQ_U64(e->ret, st);

	/* no execute bit: EACCES, even for root */
	put_file("noexec", "#!/bin/sh\n", 0644);
	pid = run(4);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 3);
	e = coll_find(&c, NERRF_OP_EXECVE, pid, NULL, 5000);
	CHECK(e, "no failed execve event for %d", pid);
	check_failed_argv(e, -EACCES);
	char noexec[PATH_MAX];
	snprintf(noexec, sizeof(noexec), "%s/noexec", dir);
	CHECK_STR(ev_path(e), noexec);

	check_script(&c);

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
