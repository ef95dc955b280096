/* SPDX-License-Identifier: Apache-2.0 */
#include <grp.h>
#include <poll.h>

#include "spawn.h"

const char *pt_bin(const char *env)
{
	const char *p = getenv(env);
	if (!p || access(p, X_OK) != 0)
		FAIL("$%s must name the binary under test (meson test sets it)", env);
	return p;
}

static int open_out(const char *path, bool append)
{
	return open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
}

pid_t pt_start(char *const argv[], const struct pt_child *c)
{
	pid_t pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int e = c->err_fd > 0 ? c->err_fd : c->err ? open_out(c->err, c->append) : -1;
		int o = !c->out ? -1 : c->err && strcmp(c->out, c->err) == 0 ? e
									   : open_out(c->out, c->append);

		prctl(PR_SET_PDEATHSIG, c->death_sig ? c->death_sig : SIGKILL);
		if ((c->err_fd > 0 || c->err) && (e < 0 || dup2(e, STDERR_FILENO) < 0))
			_exit(126);
		if (c->out && (o < 0 || dup2(o, STDOUT_FILENO) < 0))
			_exit(126);
		if (c->cwd && chdir(c->cwd) < 0)
			_exit(126);
		for (int i = 0; c->env && c->env[i]; i++)
			if (putenv(c->env[i]) < 0)
				_exit(126);
		if (c->uid && (setgroups(0, NULL) < 0 || setgid((gid_t)c->uid) < 0 ||
			       setuid(c->uid) < 0))
			_exit(126);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

pid_t pt_spawn_io(char *const argv[], const char *err_path, const char *out_path)
{
	return pt_start(argv, &(struct pt_child){ .err = err_path, .out = out_path });
}

pid_t pt_spawn(char *const argv[], const char *err_path)
{
	return pt_spawn_io(argv, err_path, NULL);
}

int pt_wait_exit(pid_t pid, int ms)
{
	uint64_t end = nerrf_mono_ms() + (uint64_t)ms;
	int st;
	do {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	} while (nerrf_mono_ms() < end);
	return -1;
}

void pt_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	int rc = pt_wait_exit(pid, 5000);
	if (rc < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		FAIL("pid %d did not stop within 5 s of SIGTERM", pid);
	}
	CHECK(rc == 0, "clean shutdown expected, got status %d", rc);
}

int pt_run_capture(char *const argv[], bool both, char *out, size_t len, int timeout_ms)
{
	uint64_t end = nerrf_mono_ms() + (uint64_t)timeout_ms;
	int pfd[2], st;
	size_t n = 0;

	CHECK(len > 0 && pipe(pfd) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, STDIN_FILENO);
		if (both)
			dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	/* To its end of output, or the deadline; what does not fit is read and dropped. */
	for (uint64_t now; (now = nerrf_mono_ms()) < end;) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		char drop[512];
		if (poll(&p, 1, (int)(end - now)) <= 0)
			continue;
		ssize_t r = n + 1 < len ? read(pfd[0], out + n, len - 1 - n)
					: read(pfd[0], drop, sizeof(drop));
		if (r <= 0)
			break;
		if (n + 1 < len)
			n += (size_t)r;
	}
	out[n] = '\0';
	close(pfd[0]);
	pid_t done = waitpid(pid, &st, WNOHANG);
	if (done != pid && nerrf_mono_ms() >= end) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	if (done != pid)
		CHECK(waitpid(pid, &st, 0) == pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

char *pt_slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n = 0;
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

double pt_cpu_seconds(pid_t pid)
{
	char path[64], line[1024], *p;
	unsigned long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	CHECK(f && fgets(line, sizeof(line), f), "%s", path);
	fclose(f);
	p = strrchr(line, ')'); /* comm may hold spaces and parentheses */
	CHECK(p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

int pt_count_lines(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	int n = 0;
	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

void pt_rm_rf(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
}

void pt_sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	CHECK(system(cmd) == 0, "failed: %s", cmd);
}
