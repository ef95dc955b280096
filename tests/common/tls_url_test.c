/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which listen and dial addresses are encrypted, which host they name, which
 * hosts are loopback, and the TLS option combinations refused before any
 * file is read.
 */
#include "harness.h"
#include "nerrf_tls.h"

static void host_is(const char *url, const char *want, bool loopback)
{
	char buf[64];
	CHECK_STR(nerrf_url_host(url, buf, sizeof(buf)), want);
	CHECK(nerrf_host_is_loopback(buf) == loopback, "%s: host '%s' loopback %d", url, buf,
	      !loopback);
}

static void refused(bool server, struct nerrf_tls_files f, const char *why)
{
	char err[256] = "";
	nng_tls_config *cfg = NULL;
	CHECK(nerrf_tls_config(&cfg, server, &f, err, sizeof(err)) < 0 && !cfg);
	CHECK(strstr(err, why) != NULL, "'%s' lacks '%s'", err, why);
}

int main(void)
{
	CHECK(nerrf_url_kind("tls+tcp://h:1") == NERRF_URL_TLS);
	CHECK(nerrf_url_kind("tls+tcp6://h:1") == NERRF_URL_TLS);
	CHECK(nerrf_url_kind("wss://h:1/p") == NERRF_URL_TLS);
	CHECK(nerrf_url_kind("tcp://h:1") == NERRF_URL_PLAIN);
	CHECK(nerrf_url_kind("tcp4://h:1") == NERRF_URL_PLAIN);
	CHECK(nerrf_url_kind("ws://h:1/p") == NERRF_URL_PLAIN);
	CHECK(nerrf_url_kind("ipc:///run/nerrf/events.sock") == NERRF_URL_LOCAL);
	CHECK(nerrf_url_kind("abstract://x") == NERRF_URL_LOCAL);

	host_is("tcp://127.0.0.1:5555", "127.0.0.1", true);
	host_is("tcp://127.8.9.10:5555", "127.8.9.10", true);
	host_is("tcp://localhost:5555", "localhost", true);
	host_is("tcp://[::1]:5555", "::1", true);
	host_is("ws://localhost:80/nerrf", "localhost", true);
	host_is("tcp://128.0.0.1:5555", "128.0.0.1", false);
	host_is("tcp://0.0.0.0:5555", "0.0.0.0", false);
	host_is("tcp://[::]:5555", "::", false);
	host_is("tcp://:5555", "", false);
	host_is("tcp://*:5555", "", false);
	host_is("tcp://localhost.example:5555", "localhost.example", false);
	host_is("tls+tcp://tracker.example:5556", "tracker.example", false);

	refused(true, (struct nerrf_tls_files){.ca = "ca.pem"}, "--tls-cert and --tls-key");
	refused(true, (struct nerrf_tls_files){.cert = "c.pem"}, "--tls-cert and --tls-key");
	refused(false, (struct nerrf_tls_files){.cert = "c.pem", .key = "k.pem"}, "--tls-ca");
	refused(false, (struct nerrf_tls_files){.ca = "ca.pem", .cert = "c.pem"}, "go together");
	refused(false, (struct nerrf_tls_files){.ca = "/nonexistent/ca.pem"},
		"--tls-ca /nonexistent/ca.pem: cannot read it");
	refused(true, (struct nerrf_tls_files){.cert = "/dev/null", .key = "/dev/null"},
		"--tls-cert /dev/null with --tls-key /dev/null");
	return 0;
}
