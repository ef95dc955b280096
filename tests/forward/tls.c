/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS to the broker, with a throwaway CA made here by openssl: nats-server
 * requires client certificates; nerrf-forward with a certificate that CA
 * signed gets every batch into the stream; one whose certificate another
 * CA signed, and one that does not trust the server's CA, are refused at
 * start with a message that says so. Plain text to a non-loopback server
 * is refused without --insecure.
 */
#include "fwdtest.h"

#define TOTAL 300

static unsigned count[TOTAL + 1];
static struct ft_env t;

static void expect_refused(const char *name, const char *why, ...)
{
	char state[700], sock[700], err[700];
	char *argv[40];
	int argc = 0;
	va_list ap;

	snprintf(state, sizeof(state), "%s/%s.state", t.pt.dir, name);
	snprintf(sock, sizeof(sock), "ipc://%s/%s.sock", t.pt.dir, name);
	snprintf(err, sizeof(err), "%s/%s.err", t.pt.dir, name);
	argv[argc++] = (char *)pt_bin("NERRF_FORWARD");
	argv[argc++] = (char *)"--rundir";
	argv[argc++] = t.pt.dir;
	argv[argc++] = (char *)"--state-dir";
	argv[argc++] = state;
	argv[argc++] = (char *)"--stats-listen";
	argv[argc++] = sock;
	va_start(ap, why);
	for (char *a; (a = va_arg(ap, char *)) && argc < 38;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	pid_t p = pt_spawn(argv, err);
	int rc = pt_wait_exit(p, 15000);
	if (rc < 0) {
		kill(p, SIGKILL);
		waitpid(p, NULL, 0);
	}
	CHECK(rc == 1 || rc == 2, "%s: exit status %d, want a refusal: %s", name, rc, pt_slurp(err));
	CHECK(strstr(pt_slurp(err), why), "%s does not say '%s': %s", name, why, pt_slurp(err));
	fprintf(stderr, "%s, refused as it should be: %s", name, pt_slurp(err));
}

int main(void)
{
	char url[64], ca[700], other[700], crt[700], key[700], bcrt[700], bkey[700];

	if (system("openssl version >/dev/null 2>&1") != 0)
		test_skip("openssl is not installed (apt-get install openssl)");
	ft_setup(&t, "fwd-tls");
	const char *d = t.pt.dir;
	pt_make_cert(d, "ca", "nerrf-test-ca", NULL, NULL);
	pt_make_cert(d, "other-ca", "nerrf-other-ca", NULL, NULL);
	pt_make_cert(d, "server", "localhost", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1");
	pt_make_cert(d, "client", "forwarder", "ca", "extendedKeyUsage=clientAuth");
	pt_make_cert(d, "intruder", "forwarder", "other-ca", "extendedKeyUsage=clientAuth");
	snprintf(ca, sizeof(ca), "%s/ca.crt", d);
	snprintf(other, sizeof(other), "%s/other-ca.crt", d);
	snprintf(crt, sizeof(crt), "%s/client.crt", d);
	snprintf(key, sizeof(key), "%s/client.key", d);
	snprintf(bcrt, sizeof(bcrt), "%s/intruder.crt", d);
	snprintf(bkey, sizeof(bkey), "%s/intruder.key", d);

	/* ft_init, with a TLS-only server */
	static char scrt[700], skey[700];
	snprintf(scrt, sizeof(scrt), "%s/server.crt", d);
	snprintf(skey, sizeof(skey), "%s/server.key", d);
	const char *targs[] = {"--tlsverify", "--tlscert", scrt, "--tlskey", skey, "--tlscacert", ca,
			       NULL};
	memcpy(t.tls_args, targs, sizeof(targs));
	t.pub = pt_publisher(d, t.pt.err, "--journal", t.jdir, NULL);
	ft_nats_start(&t);
	snprintf(url, sizeof(url), "tls://127.0.0.1:%d", t.port);

	expect_refused("intruder", "refused this client's certificate", "--nats", url, "--tls-ca",
		       ca, "--tls-cert", bcrt, "--tls-key", bkey, "--tls-server-name", "localhost",
		       NULL);
	expect_refused("distrustful", "SSL handshake error", "--nats", url,
		       "--tls-ca", other, "--tls-cert", crt, "--tls-key", key, "--tls-server-name",
		       "localhost", NULL);
	expect_refused("plain-remote", "refusing nats://192.0.2.1:4222", "--nats",
		       "nats://192.0.2.1:4222", NULL);

	ft_forward(&t, url, "--start", "oldest", "--tls-ca", ca, "--tls-cert", crt, "--tls-key",
		   key, "--tls-server-name", "localhost", NULL);
	struct ft_feed f = {.t = &t, .total = TOTAL, .rate = 1000, .events = 3};
	ft_feed_start(&f, 2);
	ft_feed_join(&f);

	natsOptions *o;
	CHECK(natsOptions_Create(&o) == NATS_OK);
	CHECK(natsOptions_SetURL(o, url) == NATS_OK);
	CHECK(natsOptions_SetSecure(o, true) == NATS_OK);
	CHECK(natsOptions_LoadCATrustedCertificates(o, ca) == NATS_OK);
	CHECK(natsOptions_LoadCertificatesChain(o, crt, key) == NATS_OK);
	CHECK(natsOptions_SetExpectedHostname(o, "localhost") == NATS_OK);
	ft_expect_once(&t, o, "nerrf.testhost.events", count, TOTAL, 30000);
	ft_free(&t);
	return 0;
}
