/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --ipc-mode with any bit for others is refused at start, with a message that
 * says why and what to use instead: whoever may connect reads every event of
 * the host. A mode without them is applied to the socket file.
 */
#include <sys/stat.h>

#include "lib/fixture.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"

static void expect_refused(const char *dir, const char *mode)
{
	char err[600];
	snprintf(err, sizeof(err), "%s/publisher.err", dir);
	pid_t pub = pt_publisher(dir, err, "--ipc-mode", mode, NULL);
	int rc = pt_wait_exit(pub, 5000);
	if (rc < 0) {
		kill(pub, SIGKILL);
		waitpid(pub, NULL, 0);
		FAIL("publisher kept running with --ipc-mode %s", mode);
	}
	CHECK(rc == 2, "--ipc-mode %s: exit status %d, expected 2 (usage)", mode, rc);
	const char *msg = pt_slurp(err);
	CHECK(strstr(msg, "--ipc-mode") != NULL && strstr(msg, mode) != NULL,
	      "the message names the option and value: %s", msg);
	CHECK(strstr(msg, "without access for others") != NULL, "says what to use: %s", msg);
}

int main(void)
{
	struct pt_env env;
	char sock[600];
	struct stat st;

	pt_env_init(&env, "pub-ipcmode");
	expect_refused(env.dir, "0777");
	expect_refused(env.dir, "0666");
	expect_refused(env.dir, "0661");
	expect_refused(env.dir, "0664");

	pid_t pub = pt_publisher(env.dir, env.err, "--ipc-mode", "0640", NULL);
	nng_socket s = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(s, 1), NULL);
	snprintf(sock, sizeof(sock), "%s/events.sock", env.dir);
	CHECK(stat(sock, &st) == 0, "stat %s: %s", sock, strerror(errno));
	CHECK((st.st_mode & 07777) == 0640, "socket mode %o, expected 0640",
	      (unsigned)(st.st_mode & 07777));
	pt_stop(pub);
	nng_close(s);
	pt_env_free(&env);
	return 0;
}
