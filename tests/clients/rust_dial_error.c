/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-client says at once why it cannot subscribe, and nerrf-subscribe
 * exits with nerrf tail's statuses: no socket file (3), a socket file nobody
 * listens on (3), a socket this user may not connect to (4, as root: the
 * subscriber runs as nobody), instead of waiting silently.
 */
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "rusttest.h"

/* The subscriber's exit status and stderr, run as uid (0: as we are). */
static int run(const char *bin, const char *url, const char *err, uid_t uid)
{
	char *argv[] = { (char *)bin, "--url", (char *)url, NULL };
	pid_t pid = pt_start(argv, &(struct pt_child){ .err = err, .uid = uid });
	int rc = pt_wait_exit(pid, 10000);
	if (rc < 0)
		kill(pid, SIGKILL);
	return rc;
}

/* A unix socket at path: listening (kept open) or left behind by a closed one. */
static int unix_socket(const char *path, bool listening)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0 && strlen(path) < sizeof(a.sun_path));
	strcpy(a.sun_path, path);
	CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind %s: %s", path, strerror(errno));
	if (listening)
		CHECK(listen(fd, 4) == 0);
	else
		close(fd);
	return fd;
}

int main(void)
{
	const char *bin = rt_build();
	char *dir = test_tmpdir("rust-dial");
	char url[600], path[512], err[600];

	snprintf(err, sizeof(err), "%s/sub.err", dir);
	snprintf(path, sizeof(path), "%s/nobody.sock", dir);
	snprintf(url, sizeof(url), "ipc://%s", path);
	int rc = run(bin, url, err, 0);
	const char *e = pt_slurp(err);
	CHECK(rc == 3, "no socket: exit status %d, expected 3: %s", rc, e);
	CHECK(strstr(e, "nerrf-subscribe: no publisher socket at ") && strstr(e, path) &&
		      strstr(e, "is nerrf running?"),
	      "the message names the socket and what to check: %s", e);

	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	snprintf(url, sizeof(url), "ipc://%s", path);
	unix_socket(path, false);
	rc = run(bin, url, err, 0);
	e = pt_slurp(err);
	CHECK(rc == 3, "stale socket: exit status %d, expected 3: %s", rc, e);
	CHECK(strstr(e, "nothing listens on the socket") && strstr(e, url), "%s", e);

	if (geteuid() == 0) {
		snprintf(path, sizeof(path), "%s/private.sock", dir);
		snprintf(url, sizeof(url), "ipc://%s", path);
		int fd = unix_socket(path, true);
		CHECK(chmod(dir, 0755) == 0 && chmod(path, 0600) == 0);
		rc = run(bin, url, err, 65534);
		e = pt_slurp(err);
		CHECK(rc == 4, "no permission: exit status %d, expected 4: %s", rc, e);
		CHECK(strstr(e, "nerrf-subscribe: permission denied on ") && strstr(e, path) &&
			      strstr(e, "group"),
		      "%s", e);
		close(fd);
	} else {
		fprintf(stderr, "not root: the permission case (the subscriber as another user) "
				"is left out\n");
	}

	/* A bad argument is a usage error, not a dial. */
	pid_t sub = rt_subscriber(bin, "/dev/null", err, "--count", "many", NULL);
	rc = pt_wait_exit(sub, 10000);
	CHECK(rc == 2, "exit status %d for --count many, expected 2", rc);
	CHECK(strstr(pt_slurp(err), "--count many: not a non-negative integer") != NULL, "%s",
	      pt_slurp(err));
	pt_rm_rf(dir);
	return 0;
}
