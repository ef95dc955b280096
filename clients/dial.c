/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dialling a tls+tcp:// publisher. The first dial is made in the foreground,
 * so that a certificate either end refuses is reported instead of retried in
 * silence; a publisher that is not listening yet is redialled in the
 * background, as plain addresses are.
 */
#include <stdio.h>

#include "nerrf.h"

int nerrf_dial_tls(nng_socket s, const char *cmd, const char *url, struct nerrf_tls_files tls)
{
	nng_tls_config *cfg;
	nng_dialer d;
	char err[512], host[256];
	int rv;

	if (!tls.server_name)
		tls.server_name = nerrf_url_host(url, host, sizeof(host));
	if (nerrf_tls_config(&cfg, false, &tls, err, sizeof(err)) != 0) {
		fprintf(stderr, "nerrf %s: %s\n", cmd, err);
		return -1;
	}
	rv = nng_dialer_create(&d, s, url);
	if (rv == 0)
		rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
	nng_tls_config_free(cfg);
	if (rv == 0)
		rv = nng_dialer_start(d, 0);
	switch (rv) {
	case 0:
		return 0;
	case NNG_ECONNREFUSED:
	case NNG_ETIMEDOUT:
		rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
		if (rv == 0)
			return 0;
		break;
	case NNG_ECRYPTO:
	case NNG_EPEERAUTH:
		fprintf(stderr,
			"nerrf %s: the TLS handshake with %s failed (%s): either the publisher's "
			"certificate is not signed by --tls-ca %s or does not name '%s' (give the "
			"name it carries with --tls-server-name), or the publisher refused this "
			"client's certificate\n",
			cmd, url, nng_strerror(rv), tls.ca, tls.server_name);
		return -1;
	case NNG_ECONNSHUT:
	case NNG_ECONNRESET:
	case NNG_ECLOSED:
		fprintf(stderr,
			"nerrf %s: the publisher at %s closed the connection during the TLS "
			"handshake: it takes only subscribers whose certificate its CA signed; "
			"give --tls-cert and --tls-key\n",
			cmd, url);
		return -1;
	}
	fprintf(stderr, "nerrf %s: cannot subscribe to %s: %s\n", cmd, url, nng_strerror(rv));
	return -1;
}
