/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sd_notify as systemd would see it, for one stage (argv[1]): the real
 * binary runs with $NOTIFY_SOCKET naming a datagram socket of this test and
 * $WATCHDOG_USEC set.
 *  - READY=1 comes only once the stage does its job: the collector after
 *    attaching and serving ring #1, the encoder after taking ring #1 (none
 *    while there is no ring #1 to take), the publisher once subscribers can
 *    dial it, the exporter once /metrics answers; nothing comes before it.
 *  - Then WATCHDOG=1 with a STATUS= line, at least once per WATCHDOG_USEC,
 *    sent under the stage's own seccomp allowlist.
 *  - A stopped stage (SIGSTOP: its loop goes no further) pets nothing, and
 *    petting resumes with SIGCONT.
 */
#include <poll.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "lib/fixture.h"
#include "lib/spawn.h"

#define WATCHDOG_MS 3000

struct notify {
	int fd;
	char path[600];
	char msg[1024];
	uint64_t at_ms;
};

/* Next datagram within ms, into n->msg; false on timeout. */
static bool next_msg(struct notify *n, int ms)
{
	struct pollfd p = {.fd = n->fd, .events = POLLIN};
	if (poll(&p, 1, ms) <= 0)
		return false;
	ssize_t r = recv(n->fd, n->msg, sizeof(n->msg) - 1, 0);
	CHECK(r >= 0, "recv: %s", strerror(errno));
	n->msg[r] = '\0';
	n->at_ms = nerrf_mono_ms();
	return true;
}

static bool has_line(const char *msg, const char *line)
{
	size_t l = strlen(line);
	for (const char *p = msg; (p = strstr(p, line)); p++)
		if ((p == msg || p[-1] == '\n') && (p[l] == '\n' || p[l] == '\0'))
			return true;
	return false;
}

static void notify_open(struct notify *n, const char *dir)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(n->path, sizeof(n->path), "%s/notify.sock", dir);
	CHECK(strlen(n->path) < sizeof(a.sun_path), "TMPDIR is too deep for a socket path");
	memcpy(a.sun_path, n->path, strlen(n->path) + 1);
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(n->fd >= 0);
	CHECK(bind(n->fd, (struct sockaddr *)&a, sizeof(a)) == 0, "bind %s: %s", n->path,
	      strerror(errno));
	/* the collector sends after it dropped to nobody */
	CHECK(chmod(n->path, 0777) == 0);
	setenv("NOTIFY_SOCKET", n->path, 1);
	char wd[32];
	snprintf(wd, sizeof(wd), "%d", WATCHDOG_MS * 1000);
	setenv("WATCHDOG_USEC", wd, 1);
}

/* Waits for READY=1; what came before it fails the test. */
static void wait_ready(struct notify *n, pid_t pid, const char *err, int ms)
{
	uint64_t end = nerrf_mono_ms() + (uint64_t)ms;
	while (nerrf_mono_ms() < end) {
		CHECK(pt_wait_exit(pid, 0) < 0, "the stage exited before READY=1: %s", pt_slurp(err));
		if (!next_msg(n, 200))
			continue;
		CHECK(has_line(n->msg, "READY=1"), "'%s' came before READY=1", n->msg);
		CHECK(strstr(n->msg, "STATUS=") && !has_line(n->msg, "STATUS="),
		      "READY=1 without a STATUS= line: '%s'", n->msg);
		return;
	}
	FAIL("no READY=1 within %d ms: %s", ms, pt_slurp(err));
}

static bool can_connect(int family, int type, const void *addr, socklen_t len)
{
	int s = socket(family, type | SOCK_CLOEXEC, 0);
	CHECK(s >= 0);
	bool ok = connect(s, addr, len) == 0;
	close(s);
	return ok;
}

static bool unix_listening(const char *path, int type)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	return can_connect(AF_UNIX, type, &a, sizeof(a));
}

/* WATCHDOG=1 for secs seconds: never more than WATCHDOG_MS apart, each with a status. */
static void check_petting(struct notify *n, pid_t pid, const char *err, int secs)
{
	uint64_t start = nerrf_mono_ms(), last = start, end = start + (uint64_t)secs * 1000;
	unsigned pets = 0;
	while (nerrf_mono_ms() < end) {
		CHECK(pt_wait_exit(pid, 0) < 0, "the stage died: %s", pt_slurp(err));
		if (!next_msg(n, 100))
			continue;
		CHECK(!has_line(n->msg, "READY=1"), "a second READY=1: '%s'", n->msg);
		CHECK(has_line(n->msg, "WATCHDOG=1"), "a message without WATCHDOG=1: '%s'", n->msg);
		const char *st = strstr(n->msg, "STATUS=");
		CHECK(st && st[7] && st[7] != '\n', "WATCHDOG=1 without a status: '%s'", n->msg);
		CHECK(n->at_ms - last < WATCHDOG_MS, "%llu ms without WATCHDOG=1 (WATCHDOG_USEC is "
		      "%d ms)", (unsigned long long)(n->at_ms - last), WATCHDOG_MS);
		last = n->at_ms;
		pets++;
	}
	CHECK(nerrf_mono_ms() - last < WATCHDOG_MS, "no WATCHDOG=1 in the last %llu ms: %s",
	      (unsigned long long)(nerrf_mono_ms() - last), pt_slurp(err));
	CHECK(pets >= (unsigned)secs * 1000 / WATCHDOG_MS, "only %u WATCHDOG=1 in %d s", pets,
	      secs);
	fprintf(stderr, "%u WATCHDOG=1 in %d s, last: %s\n", pets, secs, n->msg);
}

static void check_stopped_stage_is_silent(struct notify *n, pid_t pid, const char *err)
{
	CHECK(kill(pid, SIGSTOP) == 0);
	usleep(100 * 1000); /* what was already on its way */
	while (next_msg(n, 0))
		;
	CHECK(!next_msg(n, WATCHDOG_MS + 1000), "a stopped stage sent '%s'", n->msg);
	CHECK(kill(pid, SIGCONT) == 0);
	CHECK(next_msg(n, WATCHDOG_MS) && has_line(n->msg, "WATCHDOG=1"),
	      "no WATCHDOG=1 within %d ms of SIGCONT: %s", WATCHDOG_MS, pt_slurp(err));
}

static char *stage_bin(const char *stage)
{
	static char env[64];
	snprintf(env, sizeof(env), "NERRF_%s", stage);
	for (char *p = env; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	return (char *)pt_bin(env);
}

int main(int argc, char **argv)
{
	struct notify n = {0};
	char rundir[600], err[600], sock[700], port[16], listen[32];
	struct nerrf_ring_prod *ring = NULL;
	pid_t pid;

	CHECK(argc == 2, "usage: notify collector|encoder|publisher|exporter");
	const char *stage = argv[1];
	if (strcmp(stage, "collector") == 0)
		test_require_root("the collector's sd_notify test");
	char *bin = stage_bin(stage);
	char *dir = test_tmpdir("notify");
	CHECK(chmod(dir, 0755) == 0);
	snprintf(rundir, sizeof(rundir), "%s/run", dir);
	snprintf(err, sizeof(err), "%s/stage.err", dir);
	CHECK(mkdir(rundir, 0777) == 0 && chmod(rundir, 0777) == 0);
	notify_open(&n, dir);

	if (strcmp(stage, "collector") == 0) {
		char self[16], conf[700];
		snprintf(self, sizeof(self), "%d", getpid());
		/* an empty configuration the collector accepts: root's, in a directory of root's */
		snprintf(conf, sizeof(conf), "%s/tracker.conf", dir);
		int fd = open(conf, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		CHECK(fd >= 0);
		close(fd);
		setenv("NERRF_CONFIG", conf, 1);
		char *args[] = {bin, "--rundir", rundir, "--pid", self, NULL};
		pid = pt_spawn(args, err);
		wait_ready(&n, pid, err, 60000);
		snprintf(sock, sizeof(sock), "%s/%s", rundir, NERRF_RING1_NAME);
		CHECK(strstr(pt_slurp(err), "ready:"), "READY=1 before the collector said ready: %s",
		      pt_slurp(err));
		/* ring #1's hand-over socket (connected and left at once) */
		CHECK(unix_listening(sock, SOCK_SEQPACKET), "READY=1 but %s does not answer", sock);
	} else if (strcmp(stage, "encoder") == 0) {
		char *args[] = {bin, "--rundir", rundir, NULL};
		pid = pt_spawn(args, err);
		/* No ring #1 yet: not ready, and nothing to say. */
		CHECK(!next_msg(&n, 1500), "'%s' while there is no ring #1 to take", n.msg);
		const char *msg = NULL;
		struct nerrf_ring_server *srv;
		CHECK(nerrf_ring_create("notify-ring1", 1u << 20, &ring, &msg) == 0, "%s", msg);
		CHECK(nerrf_ring_listen(rundir, NERRF_RING1_NAME, 0660, ring, &srv, &msg) == 0, "%s",
		      msg);
		CHECK(nerrf_ring_serve_background(srv) == 0);
		wait_ready(&n, pid, err, 10000);
	} else if (strcmp(stage, "publisher") == 0) {
		char *args[] = {bin, "--rundir", rundir, "--no-journal", NULL};
		pid = pt_spawn(args, err);
		wait_ready(&n, pid, err, 10000);
		snprintf(sock, sizeof(sock), "%s/events.sock", rundir);
		CHECK(unix_listening(sock, SOCK_STREAM), "READY=1 but %s does not answer", sock);
		/* petting is checked in the publish loop, with a ring #2 to read */
		ring = pt_ring2(rundir, PT_RING2_CAP);
	} else if (strcmp(stage, "exporter") == 0) {
		int p = pt_free_port();
		snprintf(port, sizeof(port), "%d", p);
		snprintf(listen, sizeof(listen), "127.0.0.1:%d", p);
		char *args[] = {bin, "--rundir", rundir, "--listen", listen, NULL};
		pid = pt_spawn(args, err);
		wait_ready(&n, pid, err, 10000);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p),
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		CHECK(can_connect(AF_INET, SOCK_STREAM, &a, sizeof(a)), "READY=1 but %s does not accept", listen);
	} else {
		FAIL("unknown stage '%s'", stage);
	}
	fprintf(stderr, "%s: %s\n", stage, n.msg);

	check_petting(&n, pid, err, 7);
	check_stopped_stage_is_silent(&n, pid, err);
	pt_stop(pid);
	if (ring)
		nerrf_ring_prod_close(ring);
	close(n.fd);
	pt_rm_rf(dir);
	return 0;
}
