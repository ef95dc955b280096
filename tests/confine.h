/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checks that a stage is confined: every thread of a running stage has a
 * seccomp filter and no_new_privs (from /proc), and the stage's own allowlist,
 * installed in a child process, refuses with EPERM what no stage may do while
 * still allowing what the ring handover over a unix socket will need.
 */
#ifndef NERRF_TEST_CONFINE_H
#define NERRF_TEST_CONFINE_H

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "harness.h"

/* Every thread of pid shows Seccomp: 2 (filter mode) and NoNewPrivs: 1; returns how many. */
static inline int confine_check_status(pid_t pid, const char *what)
{
	char path[64], line[256];
	int threads = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	CHECK(d, "%s (pid %d): %s", what, (int)pid, strerror(errno));
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		char status[400];
		int seccomp = -1, nnp = -1;
		snprintf(status, sizeof(status), "%s/%s/status", path, de->d_name);
		FILE *f = fopen(status, "r");
		if (!f)
			continue; /* the thread just exited */
		while (fgets(line, sizeof(line), f)) {
			sscanf(line, "Seccomp: %d", &seccomp);
			sscanf(line, "NoNewPrivs: %d", &nnp);
		}
		fclose(f);
		CHECK(seccomp == 2, "%s thread %s: Seccomp: %d, want 2 (filter)", what, de->d_name,
		      seccomp);
		CHECK(nnp == 1, "%s thread %s: NoNewPrivs: %d, want 1", what, de->d_name, nnp);
		threads++;
	}
	closedir(d);
	CHECK(threads > 0, "%s (pid %d) has no threads in /proc", what, (int)pid);
	return threads;
}

enum { CF_EXECVE, CF_INET, CF_CREAT, CF_UNLINK, CF_KILL, CF_SETUID, CF_CHMOD, CF_UNIX, CF_OPEN,
       CF_N };

/*
 * Installs the allowlist with install() in a child, then makes the calls.
 * Those a stage never makes fail with EPERM; a unix socket and opening an
 * existing file (ring attach, ring handover) work, and so do the calls in
 * `allowed` (1 << CF_*: the publisher's journal creates and removes files).
 */
static inline void confine_check_denied(int (*install)(char *err, size_t len), const char *what,
					unsigned allowed)
{
	static const char *const names[CF_N] = {
		"execve", "socket(AF_INET)", "openat(O_CREAT)", "unlink", "kill",
		"setresuid", "chmod", "socket(AF_UNIX)", "openat(O_RDWR) of an existing file",
	};
	char *dir = test_tmpdir("confine"), file[300], fresh[300];
	int r[CF_N], pfd[2], st;

	snprintf(file, sizeof(file), "%s/existing", dir);
	snprintf(fresh, sizeof(fresh), "%s/fresh", dir);
	int fd = open(file, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK(pipe(pfd) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char err[256];
		char *const argv[] = { (char *)"/bin/true", NULL };
		if (install(err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			_exit(2);
		}
#define CF_RES(rc) ((rc) < 0 ? errno : 0)
		r[CF_EXECVE] = CF_RES(syscall(__NR_execve, argv[0], argv, argv + 1));
		r[CF_INET] = CF_RES(syscall(__NR_socket, AF_INET, SOCK_STREAM, 0));
		r[CF_CREAT] = CF_RES(syscall(__NR_openat, AT_FDCWD, fresh, O_RDWR | O_CREAT, 0600));
		r[CF_OPEN] = CF_RES(syscall(__NR_openat, AT_FDCWD, file, O_RDWR));
		r[CF_UNLINK] = CF_RES(syscall(__NR_unlinkat, AT_FDCWD, file, 0));
		r[CF_KILL] = CF_RES(syscall(__NR_kill, getppid(), 0));
		r[CF_SETUID] = CF_RES(syscall(__NR_setresuid, -1, -1, -1));
		r[CF_CHMOD] = CF_RES(syscall(__NR_fchmodat, AT_FDCWD, file, 0666));
		r[CF_UNIX] = CF_RES(syscall(__NR_socket, AF_UNIX, SOCK_SEQPACKET, 0));
#undef CF_RES
		_exit(write(pfd[1], r, sizeof(r)) == sizeof(r) ? 0 : 3);
	}
	close(pfd[1]);
	ssize_t n = read(pfd[0], r, sizeof(r));
	close(pfd[0]);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && n == sizeof(r),
	      "%s allowlist child: status %#x, %zd bytes", what, st, n);
	for (int i = 0; i < CF_N; i++) {
		int want = i < CF_UNIX && !(allowed & (1u << i)) ? EPERM : 0;
		CHECK(r[i] == want, "%s allowlist: %s gave errno %d (%s), want %d", what, names[i],
		      r[i], strerror(r[i]), want);
	}
	CHECK((access(fresh, F_OK) == 0) == !!(allowed & (1u << CF_CREAT)));
	CHECK((access(file, F_OK) == 0) == !(allowed & (1u << CF_UNLINK)));
	unlink(fresh);
	unlink(file);
	rmdir(dir);
}

#endif /* NERRF_TEST_CONFINE_H */
