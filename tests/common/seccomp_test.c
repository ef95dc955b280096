/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The filter builder in a child process: a listed syscall runs, an argument
 * rule lets through only what it names, several rules for one syscall all
 * count, rules after them still match, a rule with two argument tests
 * needs both, anything else fails with EPERM, and a thread started before
 * the install is bound too (TSYNC).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "harness.h"
#include "nerrf_seccomp.h"

static const struct nerrf_sc_rule rules[] = {
	NERRF_SC_ALLOW(__NR_write),
	NERRF_SC_ALLOW(__NR_read),
	NERRF_SC_ALLOW(__NR_close),
	NERRF_SC_ALLOW(__NR_futex),
	NERRF_SC_ALLOW(__NR_exit),
	NERRF_SC_ALLOW(__NR_exit_group),
	NERRF_SC_ALLOW_EQ(__NR_fcntl, 1, F_GETFD),
	NERRF_SC_ALLOW_EQ(__NR_fcntl, 1, F_SETFD),
	NERRF_SC_ALLOW_NONE(__NR_openat, 2, O_CREAT | O_TRUNC),
	NERRF_SC_ALLOW_EQ(__NR_socket, 0, AF_UNIX),
	NERRF_SC_ALLOW(__NR_getuid),
	NERRF_SC_ALLOW_EQ_NONE(__NR_faccessat, 0, AT_FDCWD, 2, W_OK),
};

enum { R_GETUID, R_GETGID, R_GETFD, R_SETFD, R_GETFL, R_OPEN, R_CREAT, R_UNIX, R_INET,
       R_THREAD, R_BOTH, R_FIRST_ONLY, R_SECOND_ONLY, NRES };
static const char *const names[NRES] = {
	"getuid (listed)", "getgid (not listed)", "fcntl F_GETFD (first rule)",
	"fcntl F_SETFD (second rule)", "fcntl F_GETFL (no rule)", "openat O_RDWR",
	"openat O_CREAT", "socket AF_UNIX", "socket AF_INET", "getgid in an earlier thread",
	"faccessat AT_FDCWD R_OK (both tests hold)", "faccessat AT_FDCWD W_OK (second fails)",
	"faccessat fd R_OK (first fails)",
};

static int ready[2], go[2], done[2];

/* 0 if the call worked, else its errno. */
static int res(long rc)
{
	return rc < 0 ? errno : 0;
}

static void *early_thread(void *arg)
{
	char c;
	(void)arg;
	/* Running before the install: glibc aborts a thread whose start-up rseq() fails. */
	if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
		return NULL;
	int r = res(syscall(__NR_getgid));
	if (write(done[1], &r, sizeof(r)) != sizeof(r))
		return NULL;
	return NULL;
}

static void child(const char *file, int out)
{
	int r[NRES];
	char err[256];
	pthread_t t;

	if (pthread_create(&t, NULL, early_thread, NULL) != 0 || read(ready[0], err, 1) != 1)
		_exit(3);
	if (nerrf_seccomp_install(rules, sizeof(rules) / sizeof(rules[0]), err, sizeof(err)) < 0) {
		if (write(out, err, strlen(err)) < 0)
			_exit(4);
		_exit(2);
	}
	r[R_GETUID] = res(syscall(__NR_getuid));
	r[R_GETGID] = res(syscall(__NR_getgid));
	r[R_GETFD] = res(syscall(__NR_fcntl, out, F_GETFD));
	r[R_SETFD] = res(syscall(__NR_fcntl, out, F_SETFD, FD_CLOEXEC));
	r[R_GETFL] = res(syscall(__NR_fcntl, out, F_GETFL));
	long fd = syscall(__NR_openat, AT_FDCWD, file, O_RDWR);
	r[R_OPEN] = res(fd);
	r[R_CREAT] = res(syscall(__NR_openat, AT_FDCWD, file, O_RDWR | O_CREAT, 0600));
	long s = syscall(__NR_socket, AF_UNIX, SOCK_STREAM, 0);
	r[R_UNIX] = res(s);
	r[R_INET] = res(syscall(__NR_socket, AF_INET, SOCK_STREAM, 0));
	r[R_BOTH] = res(syscall(__NR_faccessat, AT_FDCWD, file, R_OK));
	r[R_FIRST_ONLY] = res(syscall(__NR_faccessat, AT_FDCWD, file, W_OK));
	r[R_SECOND_ONLY] = res(syscall(__NR_faccessat, out, file, R_OK));
	if (write(go[1], "g", 1) != 1 || read(done[0], &r[R_THREAD], sizeof(int)) != sizeof(int))
		_exit(5);
	if (write(out, r, sizeof(r)) != sizeof(r))
		_exit(6);
	_exit(0);
}

int main(void)
{
	char *dir = test_tmpdir("seccomp"), file[300];
	int out[2], st, r[NRES], want[NRES] = {0};

	snprintf(file, sizeof(file), "%s/existing", dir);
	int fd = open(file, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK(pipe(out) == 0 && pipe(ready) == 0 && pipe(go) == 0 && pipe(done) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		child(file, out[1]);
	close(out[1]);
	ssize_t n = read(out[0], r, sizeof(r));
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && n == sizeof(r),
	      "child status 0x%x, %zd bytes: %.*s", st, n, n > 0 ? (int)n : 0, (char *)r);

	want[R_GETGID] = want[R_GETFL] = want[R_CREAT] = want[R_INET] = want[R_THREAD] = EPERM;
	want[R_FIRST_ONLY] = want[R_SECOND_ONLY] = EPERM;
	for (int i = 0; i < NRES; i++)
		CHECK(r[i] == want[i], "%s: errno %d (%s), want %d", names[i], r[i], strerror(r[i]),
		      want[i]);
	unlink(file);
	rmdir(dir);
	return 0;
}
