/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A producer that dies between a consumer's connect and its hand-over (its
 * socket still listening, our connection in its queue, never accepted) is
 * "retry later" (-EAGAIN), as when nobody listens at all: the stage's
 * supervisor restarts the producer, and the consumer must wait for it, not
 * exit. Also a producer that accepts and closes without a word is
 * -EBUSY (that is how a producer refuses a second consumer).
 */
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ring_test.h"

static int listener;

/* The producer's death, 200 ms after the consumer connected. */
static void *die_later(void *arg)
{
	(void)arg;
	usleep(200000);
	close(listener);
	return NULL;
}

static void *refuse(void *arg)
{
	(void)arg;
	int c = accept(listener, NULL, NULL);
	CHECK(c >= 0);
	close(c);
	return NULL;
}

static void listen_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	CHECK(listener >= 0 && bind(listener, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	      listen(listener, 4) == 0);
}

static void expect(const char *path, void *(*producer)(void *), int want, const char *why)
{
	struct nerrf_ring_cons *c = (void *)1;
	const char *msg = NULL;
	pthread_t th;

	listen_at(path);
	CHECK(pthread_create(&th, NULL, producer, NULL) == 0);
	int rv = nerrf_ring_connect(path, &c, &msg);
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(rv == want, "%s: nerrf_ring_connect returned %d (%s), expected %d", why, rv,
	      msg ? msg : "no message", want);
	CHECK(c == NULL && msg && *msg, "%s: no message", why);
	if (producer == refuse)
		close(listener);
	CHECK(unlink(path) == 0);
}

int main(void)
{
	char dir[] = "/tmp/nerrf-ring-gone-XXXXXX", path[64];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/ring.sock", dir);
	expect(path, die_later, -EAGAIN, "a producer that died before the hand-over");
	expect(path, refuse, -EBUSY, "a producer that refused us");
	CHECK(rmdir(dir) == 0);
	printf("ok\n");
	return 0;
}
