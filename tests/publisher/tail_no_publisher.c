/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf tail and nerrf stats do not wait silently when no publisher answers:
 * within a few seconds they say whether the socket is missing, forbidden, or
 * connected but silent, and exit 3 (4 when forbidden); with --wait they say
 * it once and carry on as soon as the publisher is there.
 */
#include <grp.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"

#include <nng/protocol/pubsub0/pub.h>

#define NOBODY 65534

/* Runs nerrf with args as uid (or as we are, uid < 0); returns its exit status and time taken. */
static int run(const char *dir, const char *name, int uid, char *const args[], uint64_t *ms)
{
	char out[600], err[600];
	char *argv[16];
	int argc = 0;
	snprintf(out, sizeof(out), "%s/%s.out", dir, name);
	snprintf(err, sizeof(err), "%s/%s.err", dir, name);
	argv[argc++] = (char *)pt_bin("NERRF_CLI");
	for (int i = 0; args[i]; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	uint64_t t0 = nerrf_mono_ms();
	pid_t pid = pt_start(argv, &(struct pt_child){ .err = err, .out = out,
						     .uid = uid > 0 ? (uid_t)uid : 0 });
	int rc = pt_wait_exit(pid, 15000);
	if (rc < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	*ms = nerrf_mono_ms() - t0;
	return rc;
}

static void expect(const char *dir, const char *name, int uid, char *const args[], int status,
		   const char *msg, uint64_t min_ms, uint64_t max_ms)
{
	char err[600];
	uint64_t ms;
	int rc = run(dir, name, uid, args, &ms);
	snprintf(err, sizeof(err), "%s/%s.err", dir, name);
	const char *e = pt_slurp(err);
	CHECK(rc == status, "%s: exit %d after %llu ms, expected %d: %s", name, rc,
	      (unsigned long long)ms, status, e);
	CHECK(strstr(e, msg) != NULL, "%s: no '%s' in: %s", name, msg, e);
	/* a sanitizer build starts slowly on a busy machine: the upper bound only says "not forever" */
	if (scale_sanitize())
		max_ms *= 3;
	CHECK(ms >= min_ms && ms <= max_ms, "%s: took %llu ms, expected %llu to %llu", name,
	      (unsigned long long)ms, (unsigned long long)min_ms, (unsigned long long)max_ms);
}

int main(void)
{
	struct pt_env env;
	char url[600], want[1400], sock[600];
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "tail-nopub");

	/* No socket file: said within about 3 s. */
	snprintf(url, sizeof(url), "ipc://%s/none.sock", env.dir);
	snprintf(want, sizeof(want),
		 "nerrf tail: no publisher socket at %s/none.sock: is nerrf running? "
		 "(systemctl status nerrf.target, or nerrf run)\n",
		 env.dir);
	char *t1[] = {"tail", "--url", url, NULL};
	expect(env.dir, "missing", -1, t1, 3, want, 2500, 6000);
	char *s1[] = {"stats", "--url", url, NULL};
	expect(env.dir, "stats-missing", -1, s1, 3, "nerrf stats: no publisher socket at ", 2500,
	       6000);

	/* A socket file nobody listens on. */
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	CHECK((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "%s/stale.sock", env.dir) <
	      sizeof(a.sun_path));
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	close(fd);
	snprintf(url, sizeof(url), "ipc://%s", a.sun_path);
	char *t2[] = {"tail", "--url", url, NULL};
	expect(env.dir, "stale", -1, t2, 3, "nerrf tail: nothing listens on ", 2500, 6000);

	/* Connected, but nothing ever comes: an nng pub socket that sends nothing. */
	nng_socket mute;
	snprintf(url, sizeof(url), "ipc://%s/mute.sock", env.dir);
	CHECK(nng_pub0_open(&mute) == 0 && nng_listen(mute, url, NULL, 0) == 0);
	char *t3[] = {"tail", "--url", url, "--timeout", "2", NULL};
	snprintf(want, sizeof(want),
		 "nerrf tail: connected to %s/mute.sock but no publisher answered within 2 s",
		 env.dir);
	expect(env.dir, "mute", -1, t3, 3, want, 1800, 5000);
	nng_close(mute);

	/* A socket this user may not open: the publisher's, 0600, run as another user. */
	pid_t pub = pt_publisher(env.dir, env.err, "--ipc-mode", "0600", NULL);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 1), NULL);
	snprintf(sock, sizeof(sock), "%s/events.sock", env.dir);
	int uid = -1;
	if (geteuid() == 0) {
		CHECK(chmod(env.dir, 0755) == 0);
		uid = NOBODY;
	} else {
		CHECK(chmod(sock, 0) == 0); /* not even its owner may connect */
	}
	char *t4[] = {"tail", "--url", env.url, NULL};
	snprintf(want, sizeof(want), "nerrf tail: permission denied on %s: add yourself to group ",
		 sock);
	expect(env.dir, "forbidden", uid, t4, 4, want, 2500, 6000);
	pt_stop(pub);
	nng_close(st);

	/* --wait: said once, then the events as soon as a publisher is there. */
	char *t5[] = {"tail", "--url", env.url, "--wait", "--count", "1", NULL};
	char out[600], err[600];
	snprintf(out, sizeof(out), "%s/wait.out", env.dir);
	snprintf(err, sizeof(err), "%s/wait.err", env.dir);
	char *argv[] = {(char *)pt_bin("NERRF_CLI"), t5[0], t5[1], t5[2], t5[3], t5[4], t5[5], NULL};
	unlink(sock);
	pid_t tail = pt_spawn_io(argv, err, out);
	uint64_t end = nerrf_mono_ms() + 10000;
	while (!strstr(pt_slurp(err), "waiting for it (--wait)") && nerrf_mono_ms() < end)
		usleep(50000);
	CHECK(strstr(pt_slurp(err), "no publisher socket at") != NULL, "%s", pt_slurp(err));
	CHECK(pt_wait_exit(tail, 0) < 0, "tail --wait exited");
	pub = pt_publisher(env.dir, env.err, NULL);
	st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 2), NULL);
	size_t n = pt_make_batch(rec, sizeof(rec), 1, 1, 99, 8);
	CHECK(pt_put(env.r2, rec, n) == 0);
	int rc = pt_wait_exit(tail, 10000);
	CHECK(rc == 0, "tail --wait exit %d: %s", rc, pt_slurp(err));
	const char *e = pt_slurp(err);
	const char *first = strstr(e, "no publisher socket at");
	CHECK(first && !strstr(first + 1, "no publisher socket at"), "said once: %s", e);
	snprintf(want, sizeof(want), "nerrf tail: %s answered\n", env.url);
	CHECK(strstr(e, want) != NULL, "%s", e);
	CHECK(strstr(pt_slurp(out), " 99 pubtest ") != NULL, "%s", pt_slurp(out));

	pt_stop(pub);
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
