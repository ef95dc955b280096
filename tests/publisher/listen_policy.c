/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Events leave the host only encrypted unless asked otherwise: plain tcp://
 * to a non-loopback address is refused, from --listen and from a bare
 * TRACKER_LISTEN_ADDR alike, with a message naming the way out; with
 * --insecure-tcp it is served, with a warning. A tls+tcp:// address without
 * a certificate is refused. Loopback tcp:// stays allowed.
 */
#include "lib/fixture.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"

static char *dir;

static const char *run_to_exit(const char *url, const char *extra, int want_rc)
{
	static char err[700];
	snprintf(err, sizeof(err), "%s/policy.err", dir);
	pid_t pub = url ? pt_publisher(dir, err, "--listen", url, extra, NULL)
			: pt_publisher(dir, err, extra, NULL);
	int rc = pt_wait_exit(pub, 5000);
	if (rc < 0) {
		kill(pub, SIGKILL);
		waitpid(pub, NULL, 0);
		FAIL("publisher kept running with --listen %s: %s", url, pt_slurp(err));
	}
	CHECK(rc == want_rc, "--listen %s: exit status %d, want %d: %s", url, rc, want_rc,
	      pt_slurp(err));
	return pt_slurp(err);
}

int main(void)
{
	char url[128], bare[64], err[700];
	const char *msg;
	int port = pt_free_port();

	dir = test_tmpdir("pub-policy");
	snprintf(url, sizeof(url), "tcp://0.0.0.0:%d", port);
	msg = run_to_exit(url, NULL, 2);
	CHECK(strstr(msg, url) && strstr(msg, "tls+tcp://") && strstr(msg, "--insecure-tcp"),
	      "the refusal names the address and both ways out: %s", msg);

	snprintf(bare, sizeof(bare), "0.0.0.0:%d", port);
	setenv("TRACKER_LISTEN_ADDR", bare, 1);
	msg = run_to_exit(NULL, NULL, 2);
	unsetenv("TRACKER_LISTEN_ADDR");
	CHECK(strstr(msg, "is taken as tcp://0.0.0.0:") && strstr(msg, "refusing tcp://0.0.0.0:"),
	      "a bare TRACKER_LISTEN_ADDR is named as what it became, and refused: %s", msg);

	snprintf(url, sizeof(url), "tls+tcp://127.0.0.1:%d", port);
	msg = run_to_exit(url, NULL, 1);
	CHECK(strstr(msg, "--tls-cert and --tls-key"), "%s", msg);

	/* With --insecure-tcp it is served (0.0.0.0 includes loopback), and says what that means. */
	struct nerrf_ring_prod *r2 = pt_ring2(dir, PT_RING2_CAP);
	snprintf(url, sizeof(url), "tcp://0.0.0.0:%d", port);
	snprintf(err, sizeof(err), "%s/insecure.err", dir);
	pid_t pub = pt_publisher(dir, err, "--listen", url, "--insecure-tcp", NULL);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	nng_socket s = pt_sub(url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(s, 1), NULL);
	CHECK(strstr(pt_slurp(err), "unauthenticated and unencrypted"), "%s", pt_slurp(err));
	pt_stop(pub);
	nng_close(s);
	nerrf_ring_prod_close(r2);
	pt_rm_rf(dir);
	return 0;
}
