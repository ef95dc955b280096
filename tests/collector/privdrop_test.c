/* SPDX-License-Identifier: Apache-2.0 */
/* After nerrf_privdrop(): no capability in any set, every uid and gid (real,
 * effective, saved, filesystem) exactly the account's from the password
 * database and no supplementary group, no_new_privs, seccomp filter mode,
 * socket() and openat() refused. Checked in a child that calls the very
 * function the collector calls, and in /proc of a running collector started
 * with --user daemon (an account other than the default nobody, so that the
 * ids show the one asked for). */
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "common_checks.h"
#include "nerrf_account.h"
#include "privdrop.h"

#ifdef __SANITIZE_ADDRESS__
/* As in the collector, so that the filter checked is the one the collector installs. */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return 1;
}
#endif

static void check_status(pid_t pid, const struct passwd *want)
{
	char path[64], line[256];
	int seen = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	CHECK(f, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		unsigned a, b, cc, d;
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "CapEff: %llx", &v) == 1 || sscanf(line, "CapPrm: %llx", &v) == 1 ||
		    sscanf(line, "CapBnd: %llx", &v) == 1 || sscanf(line, "CapAmb: %llx", &v) == 1 ||
		    sscanf(line, "CapInh: %llx", &v) == 1) {
			CHECK(v == 0, "%d: %s", pid, line);
			seen++;
		} else if (sscanf(line, "Uid: %u %u %u %u", &a, &b, &cc, &d) == 4) {
			CHECK(a == want->pw_uid && b == a && cc == a && d == a,
			      "%d has %s; want %u (%s) in all four", pid, line, want->pw_uid,
			      want->pw_name);
			seen++;
		} else if (sscanf(line, "Gid: %u %u %u %u", &a, &b, &cc, &d) == 4) {
			CHECK(a == want->pw_gid && b == a && cc == a && d == a,
			      "%d has %s; want %u (%s) in all four", pid, line, want->pw_gid,
			      want->pw_name);
			seen++;
		} else if (strncmp(line, "Groups:", 7) == 0) {
			CHECK(strspn(line + 7, " \t") == strlen(line + 7),
			      "%d: supplementary groups kept: %s", pid, line);
			seen++;
		} else if (sscanf(line, "NoNewPrivs: %llu", &v) == 1) {
			CHECK(v == 1, "%d: %s", pid, line);
			seen++;
		} else if (sscanf(line, "Seccomp: %llu", &v) == 1) {
			CHECK(v == 2, "%d: %s", pid, line);
			seen++;
		}
	}
	fclose(f);
	CHECK(seen == 10, "%d: only %d of 10 status lines checked", pid, seen);
}

/* The account from the password database, copied (getpwnam's buffer is reused). */
static struct passwd account(const char *name)
{
	struct passwd *pw = getpwnam(name), copy;

	CHECK(pw != NULL, "no account %s on this host", name);
	CHECK(pw->pw_uid != 0 && pw->pw_gid != 0, "%s is root's", name);
	copy = *pw;
	copy.pw_name = (char *)name;
	return copy;
}

int main(void)
{
	const char *args[] = { "--syscalls", "openat", "--user", "daemon", NULL };
	char msg[512];
	int pfd[2], res[2];
	struct coll c;
	uid_t uid;
	gid_t gid;
	pid_t pid;

	test_require_root("privdrop_test");
	struct passwd nobody = account("nobody"), daemon = account("daemon");
	CHECK(nerrf_account_lookup("nobody", NULL, &uid, &gid, msg, sizeof(msg)) == 0, "%s", msg);
	CHECK(nerrf_account_lookup("root", NULL, &uid, &gid, msg, sizeof(msg)) < 0);
	CHECK(pipe(pfd) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		CHECK(nerrf_account_lookup("nobody", NULL, &uid, &gid, msg, sizeof(msg)) == 0);
		if (nerrf_privdrop(uid, gid, -1, msg, sizeof(msg)) < 0) {
			res[0] = res[1] = -1;
		} else {
			res[0] = socket(AF_INET, SOCK_STREAM, 0) < 0 ? errno : 0;
			res[1] = syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY) < 0 ? errno : 0;
		}
		if (write(pfd[1], res, sizeof(res)) != sizeof(res))
			_exit(1);
		for (;;) /* nanosleep is on the allowlist, pause() is not */
			sleep(1);
	}
	CHECK(read(pfd[0], res, sizeof(res)) == sizeof(res));
	CHECK(res[0] == EPERM, "socket() after the drop: errno %d, want EPERM", res[0]);
	CHECK(res[1] == EPERM, "openat() after the drop: errno %d, want EPERM", res[1]);
	check_status(pid, &nobody);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	coll_start(&c, args);
	check_status(c.pid, &daemon);
	coll_stop(&c);
	coll_free(&c);
	return 0;
}
