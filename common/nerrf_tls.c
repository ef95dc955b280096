/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nerrf_tls.h"

#define PEM_MAX (1 << 20)

enum nerrf_url_kind nerrf_url_kind(const char *url)
{
	if (strncmp(url, "tls+", 4) == 0 || strncmp(url, "wss", 3) == 0)
		return NERRF_URL_TLS;
	if (strncmp(url, "tcp", 3) == 0 || strncmp(url, "ws", 2) == 0)
		return NERRF_URL_PLAIN;
	return NERRF_URL_LOCAL;
}

const char *nerrf_url_host(const char *url, char *buf, size_t len)
{
	const char *h = strstr(url, "://"), *end;

	buf[0] = '\0';
	if (!h)
		return buf;
	h += 3;
	if (*h == '[') {
		end = strchr(++h, ']');
	} else {
		end = h + strcspn(h, "/");
		const char *colon = memrchr(h, ':', (size_t)(end - h));
		if (colon)
			end = colon;
	}
	if (end && (size_t)(end - h) < len) {
		memcpy(buf, h, (size_t)(end - h));
		buf[end - h] = '\0';
	}
	if (strcmp(buf, "*") == 0)
		buf[0] = '\0';
	return buf;
}

bool nerrf_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 && memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0;
}

/* The whole file, NUL-terminated as the PEM parser wants it; NULL with err set. */
static char *read_pem(const char *opt, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = f ? malloc(PEM_MAX + 1) : NULL;
	size_t n = 0;

	if (buf) {
		n = fread(buf, 1, PEM_MAX + 1, f);
		if (ferror(f) || n > PEM_MAX) {
			errno = ferror(f) ? EIO : EFBIG;
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
		}
	}
	if (!buf)
		snprintf(err, errlen, "%s %s: cannot read it: %s", opt, path, strerror(errno));
	if (f)
		fclose(f);
	return buf;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int nerrf_tls_config(nng_tls_config **out, bool server, const struct nerrf_tls_files *f,
		     char *err, size_t errlen)
{
	char *cert = NULL, *key = NULL, *ca = NULL;
	nng_tls_config *cfg = NULL;
	int rv, ret = -1;

	if (server && (!f->cert || !f->key)) {
		snprintf(err, errlen, "a tls+tcp:// address needs --tls-cert and --tls-key: the "
			 "publisher's PEM certificate and private key");
		return -1;
	}
	if (!server && !f->ca) {
		snprintf(err, errlen, "a tls+tcp:// address needs --tls-ca: the PEM CA certificate "
			 "that signed the publisher's certificate, to verify it");
		return -1;
	}
	if (!f->cert != !f->key) {
		snprintf(err, errlen, "--tls-cert and --tls-key go together: give both or neither");
		return -1;
	}
	if ((f->cert && !(cert = read_pem("--tls-cert", f->cert, err, errlen))) ||
	    (f->key && !(key = read_pem("--tls-key", f->key, err, errlen))) ||
	    (f->ca && !(ca = read_pem("--tls-ca", f->ca, err, errlen))))
		goto out;
	if ((rv = nng_tls_config_alloc(&cfg, server ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT))) {
		snprintf(err, errlen, "setting up TLS: %s", nng_strerror(rv));
		goto out;
	}
	if (cert && (rv = nng_tls_config_own_cert(cfg, cert, key, NULL))) {
		snprintf(err, errlen, "--tls-cert %s with --tls-key %s: %s; give a PEM certificate "
			 "and its unencrypted PEM private key", f->cert, f->key, nng_strerror(rv));
		goto out;
	}
	if (ca && (rv = nng_tls_config_ca_chain(cfg, ca, NULL))) {
		snprintf(err, errlen, "--tls-ca %s: %s; give PEM CA certificates", f->ca,
			 nng_strerror(rv));
		goto out;
	}
	rv = nng_tls_config_auth_mode(cfg, ca ? NNG_TLS_AUTH_MODE_REQUIRED : NNG_TLS_AUTH_MODE_NONE);
	if (rv == 0 && !server && f->server_name)
		rv = nng_tls_config_server_name(cfg, f->server_name);
	if (rv) {
		snprintf(err, errlen, "setting up TLS: %s", nng_strerror(rv));
		goto out;
	}
	*out = cfg;
	cfg = NULL;
	ret = 0;
out:
	if (cfg)
		nng_tls_config_free(cfg);
	free(cert);
	free_secret(key);
	free(ca);
	return ret;
}
