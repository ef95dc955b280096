/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls+tcp:// with client certificates, against a throwaway CA made here with
 * openssl: `nerrf tail` with a certificate the CA signed receives events;
 * one without a certificate, and one whose certificate another CA signed,
 * are refused and say why, as is one that expects the publisher under
 * another name. The Python example subscriber gets events with the client
 * certificate too. Without --tls-ca the publisher warns that subscribers are
 * not authenticated.
 */
#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"
#include "tjson.h"

static const char *dir;

static void make_cert(const char *name, const char *cn, const char *ca, const char *ext)
{
	pt_make_cert(dir, name, cn, ca, ext);
}

static pid_t tail(const char *url, const char *name, const char *cert, const char *server_name,
		  char *out, char *err)
{
	char ca[600], crt[600], key[600];
	char *argv[20];
	int argc = 0;

	snprintf(out, 600, "%s/%s.out", dir, name);
	snprintf(err, 600, "%s/%s.err", dir, name);
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	argv[argc++] = (char *)pt_bin("NERRF_CLI");
	argv[argc++] = (char *)"tail";
	argv[argc++] = (char *)"--json";
	argv[argc++] = (char *)"--count";
	argv[argc++] = (char *)"4";
	argv[argc++] = (char *)"--url";
	argv[argc++] = (char *)url;
	argv[argc++] = (char *)"--tls-ca";
	argv[argc++] = ca;
	argv[argc++] = (char *)"--tls-server-name";
	argv[argc++] = (char *)server_name;
	if (cert) {
		snprintf(crt, sizeof(crt), "%s/%s.crt", dir, cert);
		snprintf(key, sizeof(key), "%s/%s.key", dir, cert);
		argv[argc++] = (char *)"--tls-cert";
		argv[argc++] = crt;
		argv[argc++] = (char *)"--tls-key";
		argv[argc++] = key;
	}
	argv[argc] = NULL;
	return pt_spawn_io(argv, err, out);
}

/* The Python example subscriber with the client certificate; 0 when there is no Python. */
static pid_t python(const char *url, char *out, char *err)
{
	char ca[600], crt[600], key[600];

	if (!getenv("NERRF_PYTHON"))
		return 0;
	snprintf(out, 600, "%s/py.out", dir);
	snprintf(err, 600, "%s/py.err", dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(crt, sizeof(crt), "%s/client.crt", dir);
	snprintf(key, sizeof(key), "%s/client.key", dir);
	char *argv[] = {(char *)pt_bin("NERRF_PYTHON"), (char *)pt_bin("NERRF_PYSUB"), "--url",
			(char *)url, "--count", "4", "--tls-ca", ca, "--tls-cert", crt, "--tls-key",
			key, "--tls-server-name", "localhost", NULL};
	return pt_spawn_io(argv, err, out);
}

static void expect_refused(pid_t t, const char *name, const char *out, const char *err,
			   const char *why)
{
	int rc = pt_wait_exit(t, 10000);
	if (rc < 0) {
		kill(t, SIGKILL);
		waitpid(t, NULL, 0);
	}
	CHECK(rc == 1, "tail %s: exit status %d, want 1 (refused): %s", name, rc, pt_slurp(err));
	CHECK(strstr(pt_slurp(err), why) != NULL, "tail %s does not say '%s': %s", name, why,
	      pt_slurp(err));
	CHECK(pt_slurp(out)[0] == '\0', "tail %s received: %s", name, pt_slurp(out));
}

int main(void)
{
	struct pt_env env;
	char url[128], cert[600], key[600], ca[600];
	char good_out[600], good_err[600], none_out[600], none_err[600], bad_out[600], bad_err[600];
	char mis_out[600], mis_err[600], py_out[600], py_err[600];
	static uint8_t rec[1 << 16];

	if (system("openssl version >/dev/null 2>&1") != 0)
		test_skip("openssl is not installed (apt-get install openssl)");
	pt_env_init(&env, "pub-tls");
	dir = env.dir;
	make_cert("ca", "nerrf-test-ca", NULL, NULL);
	make_cert("other-ca", "nerrf-other-ca", NULL, NULL);
	make_cert("server", "localhost", "ca", "subjectAltName=DNS:localhost");
	make_cert("client", "subscriber", "ca", "extendedKeyUsage=clientAuth");
	make_cert("intruder", "subscriber", "other-ca", "extendedKeyUsage=clientAuth");
	snprintf(cert, sizeof(cert), "%s/server.crt", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(url, sizeof(url), "tls+tcp://127.0.0.1:%d", pt_free_port());

	pid_t pub = pt_publisher(env.dir, env.err, "--listen", env.url, "--listen", url,
				 "--tls-cert", cert, "--tls-key", key, "--tls-ca", ca, NULL);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 1), NULL);

	/* mbed TLS 2 checks DNS names only: dial 127.0.0.1, verify the name localhost. */
	pid_t none = tail(url, "none", NULL, "localhost", none_out, none_err);
	pid_t bad = tail(url, "intruder", "intruder", "localhost", bad_out, bad_err);
	pid_t misnamed = tail(url, "misnamed", "client", "elsewhere.example", mis_out, mis_err);
	expect_refused(none, "without a certificate", none_out, none_err,
		       "closed the connection during the TLS handshake");
	expect_refused(bad, "with another CA's certificate", bad_out, bad_err,
		       "TLS handshake with");
	expect_refused(misnamed, "expecting another publisher name", mis_out, mis_err,
		       "does not name 'elsewhere.example'");
	pid_t good = tail(url, "client", "client", "localhost", good_out, good_err);
	pid_t py = python(url, py_out, py_err);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, py > 0 ? 3 : 2), NULL);

	for (uint64_t s = 1; s <= 2; s++) {
		size_t n = pt_make_batch(rec, sizeof(rec), s, 2, 4242, 12);
		CHECK(pt_put(env.r2, rec, n) == 0);
	}
	CHECK(pt_wait_exit(good, 10000) == 0, "tail with the CA's client certificate: %s",
	      pt_slurp(good_err));
	const char *j = pt_slurp(good_out);
	int lines = tj_count(j, "pid", "4242");
	CHECK(lines == 4, "tail with a client certificate printed %d of 4 events: %s", lines, j);
	if (py > 0) {
		CHECK(pt_wait_exit(py, 20000) == 0, "python subscriber: %s", pt_slurp(py_err));
		j = pt_slurp(py_out);
		lines = tj_count(j, "pid", "4242");
		CHECK(lines == 4, "the python subscriber printed %d of 4 events: %s", lines, j);
	}
	pt_stop(pub);
	CHECK(strstr(pt_slurp(env.err), "not authenticated") == NULL, "%s", pt_slurp(env.err));

	/* Without --tls-ca, anyone may subscribe: the publisher says so. */
	char err2[700];
	snprintf(err2, sizeof(err2), "%s/publisher-no-ca.err", dir);
	pub = pt_publisher(env.dir, err2, "--listen", url, "--tls-cert", cert, "--tls-key", key,
			   NULL);
	uint64_t end = nerrf_mono_ms() + 5000;
	while (!strstr(pt_slurp(err2), "listening on") && nerrf_mono_ms() < end)
		usleep(20000);
	CHECK(strstr(pt_slurp(err2), "subscribers are not authenticated") != NULL, "%s",
	      pt_slurp(err2));
	pt_stop(pub);

	nng_close(st);
	pt_env_free(&env);
	return 0;
}
