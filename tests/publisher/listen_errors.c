/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bad listen addresses fail at start with a message that says what to do:
 * address in use, malformed URL, unsupported scheme, missing directory; and
 * TRACKER_LISTEN_ADDR's bare host:port means tcp://host:port.
 */
#include "lib/fixture.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"

static void expect_fail(const char *dir, const char *url, const char *hint)
{
	char err[600];
	snprintf(err, sizeof(err), "%s/publisher.err", dir);
	pid_t pub = pt_publisher(dir, err, "--listen", url, NULL);
	int rc = pt_wait_exit(pub, 5000);
	if (rc < 0) {
		kill(pub, SIGKILL);
		waitpid(pub, NULL, 0);
		FAIL("publisher kept running with --listen %s", url);
	}
	CHECK(rc != 0, "--listen %s: exit status 0", url);
	const char *msg = pt_slurp(err);
	CHECK(strstr(msg, url) != NULL, "message names the address: %s", msg);
	CHECK(strstr(msg, hint) != NULL, "message for %s lacks '%s': %s", url, hint, msg);
}

int main(void)
{
	char *dir = test_tmpdir("pub-listen");
	char url[600], err[600];
	int port = pt_free_port();

	/* Occupy a port with a real nng listener. */
	nng_socket busy;
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	CHECK(nng_sub0_open(&busy) == 0);
	CHECK(nng_listen(busy, url, NULL, 0) == 0);
	expect_fail(dir, url, "another process listens there");
	nng_close(busy);

	expect_fail(dir, "tcp://127.0.0.1:notaport", "malformed address");
	expect_fail(dir, "carrier-pigeon://x", "unsupported scheme");
	snprintf(url, sizeof(url), "ipc://%s/no/such/dir/x.sock", dir);
	expect_fail(dir, url, "directory");

	/* TRACKER_LISTEN_ADDR=host:port listens on tcp://host:port. */
	port = pt_free_port();
	snprintf(url, sizeof(url), "127.0.0.1:%d", port);
	setenv("TRACKER_LISTEN_ADDR", url, 1);
	snprintf(err, sizeof(err), "%s/publisher.err", dir);
	struct nerrf_ring_prod *r2 = pt_ring2(dir, PT_RING2_CAP);
	pid_t pub = pt_publisher(dir, err, NULL);
	unsetenv("TRACKER_LISTEN_ADDR");
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	nng_socket s = pt_sub(url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(s, 1), NULL);
	pt_stop(pub);
	nng_close(s);
	nerrf_ring_prod_close(r2);
	pt_rm_rf(dir);
	return 0;
}
