/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network listen and dial addresses: which are encrypted, which stay on this
 * host, and the nng TLS configuration both ends build from PEM files. The
 * files are read whole when the configuration is built, so a stage can do it
 * before it confines itself.
 */
#ifndef NERRF_TLS_H
#define NERRF_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

enum nerrf_url_kind {
	NERRF_URL_LOCAL, /* ipc://, abstract://, inproc:// */
	NERRF_URL_PLAIN, /* tcp://, ws://: neither authenticated nor encrypted */
	NERRF_URL_TLS,	 /* tls+tcp://, wss:// */
};

enum nerrf_url_kind nerrf_url_kind(const char *url);

/* Host part of a network URL ("" for all interfaces), brackets removed. */
const char *nerrf_url_host(const char *url, char *buf, size_t len);

/* localhost, 127.0.0.0/8 or ::1: reachable from this host only. */
bool nerrf_host_is_loopback(const char *host);

struct nerrf_tls_files {
	const char *cert;	 /* PEM certificate (chain) of this end */
	const char *key;	 /* its PEM private key, unencrypted */
	const char *ca;		 /* PEM CA certificates the peer's certificate must chain to */
	const char *server_name; /* client: name the publisher's certificate must carry */
};

/*
 * A server (publisher) needs cert and key; with ca it requires client
 * certificates signed by it, without it clients are not authenticated. A
 * client needs ca to verify the publisher, and cert and key only if the
 * publisher asks for them. Option names (--tls-cert...) appear in err.
 */
int nerrf_tls_config(nng_tls_config **out, bool server, const struct nerrf_tls_files *f,
		     char *err, size_t errlen);

#endif /* NERRF_TLS_H */
