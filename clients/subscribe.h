/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What nerrf tail and nerrf stats share as subscribers: dialling (ipc://,
 * tls+tcp://), the bound on message size, signals, and telling a user why
 * nothing arrives. Private to clients/.
 */
#ifndef NERRF_CLIENTS_SUBSCRIBE_H
#define NERRF_CLIENTS_SUBSCRIBE_H

#include <getopt.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "nerrf.h"

#define RECV_POLL_MS 200
#define DEFAULT_TIMEOUT_S 5 /* twice the longest a live publisher goes without sending stats */

/* Exit statuses besides 0, 1 (runtime error) and 2 (usage). */
#define EXIT_NO_PUBLISHER 3
#define EXIT_PERMISSION 4

/* Both commands dial tls+tcp:// publishers alike. */
#define TLS_OPTIONS                                                                     \
	{"tls-cert", required_argument, NULL, 'C'}, {"tls-key", required_argument, NULL, 'K'}, \
	{"tls-ca", required_argument, NULL, 'A'}, {"tls-server-name", required_argument, NULL, 'N'}
#define TLS_USAGE                                                                       \
	"  --tls-ca FILE       CA (PEM) that signed the publisher's certificate (tls+tcp)\n" \
	"  --tls-cert FILE     this subscriber's PEM certificate, if the publisher asks\n"   \
	"  --tls-key FILE      and its PEM private key (unencrypted)\n"                     \
	"  --tls-server-name N name the publisher's certificate must carry\n"              \
	"                      (default: the host in --url)\n"

/*
 * nng redials a missing or forbidden ipc:// socket silently, so until the
 * first message arrives the subscriber watches the time and, when it is up,
 * says which of those it is, then exits (or with --wait keeps waiting).
 */
struct watch {
	const char *cmd, *url;
	long long limit_ms; /* silence this long means no publisher answers (--timeout) */
	bool wait;	    /* --wait */
	long long idle_ms;  /* waited for the first message */
	bool heard, probed, reported;
};

/* The largest message nng accepts (--max-message-bytes). */
extern size_t recv_max;
/* Connections nng closed; it closes one on a message larger than recv_max. */
extern atomic_uint pipes_closed;

/* ipc://<rundir>/events.sock, the publisher's default address. */
const char *default_url(const char *rundir, char *buf, size_t len);
void tls_option(struct nerrf_tls_files *t, int c, const char *v);
int subscribe(const char *cmd, const char *url, const struct nerrf_tls_files *tls, bool events,
	      bool stats, nng_socket *out);
/*
 * The next message, watching the silence: 1 with *m; 0 nothing yet, call
 * again; -1 stop, with *status the exit status (0 when a signal stopped us).
 */
int watch_recv(nng_socket s, struct watch *w, nng_msg **m, int *status);
int parse_num(const char *cmd, const char *opt, const char *s, uint64_t lo, uint64_t hi,
	      uint64_t *out);
int parse_secs(const char *cmd, const char *s, long long *out);
int parse_recv_max(const char *cmd, const char *s);

#endif
