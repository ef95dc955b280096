/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replay endpoint: an nng rep0 socket served by a thread of its own,
 * which reads the journal directory and nothing else, and never further
 * than the writer has completed (nerrf_journal_completed_seq). Every record
 * goes through the checking reader: a damaged one is skipped with the rest
 * of its segment, and never served.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "journal.h"
#include "nerrf_log.h"
#include "replay_serve.h"
#include "trace.pb-c.h"

#define MAX_REQUEST 256 /* a ReplayRequest is four varints */

static nng_socket sock = NNG_SOCKET_INITIALIZER;
static pthread_t thread;
static atomic_bool stopping;
static bool running;
static int dirfd = -1;
static struct nerrf_journal *journal;

static void *run(void *arg)
{
	(void)arg;
	while (!atomic_load(&stopping)) {
		nng_msg *m;
		int rv = nng_recvmsg(sock, &m, 0);
		if (rv == NNG_ETIMEDOUT)
			continue;
		if (rv != 0)
			break;
		Nerrf__Trace__ReplayChunk out = NERRF__TRACE__REPLAY_CHUNK__INIT;
		struct replay_chunk c = {0};
		Nerrf__Trace__ReplayRequest *req = NULL;
		if (nng_msg_len(m) <= MAX_REQUEST)
			req = nerrf__trace__replay_request__unpack(NULL, nng_msg_len(m),
								   nng_msg_body(m));
		if (req)
			replay_serve(dirfd, nerrf_journal_completed_seq(journal), req, &out, &c);
		else
			out.error = (char *)"malformed ReplayRequest (see proto/trace.proto)";
		size_t len = nerrf__trace__replay_chunk__get_packed_size(&out);
		nng_msg_clear(m);
		if (nng_msg_realloc(m, len) == 0) {
			nerrf__trace__replay_chunk__pack(&out, nng_msg_body(m));
			if (nng_sendmsg(sock, m, 0) != 0)
				nng_msg_free(m);
		} else {
			nng_msg_free(m);
		}
		replay_chunk_free(&c);
		if (req)
			nerrf__trace__replay_request__free_unpacked(req, NULL);
	}
	return NULL;
}

int replay_start(const char *url, int ipc_mode, const char *dir, struct nerrf_journal *j)
{
	nng_listener l;
	int rv;

	journal = j;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		log_warnx("replay: cannot open %s: %s", dir,
			strerror(errno));
		return -1;
	}
	if ((rv = nng_rep0_open(&sock)) != 0 ||
	    (rv = nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, 250)) != 0 ||
	    (rv = nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, MAX_REQUEST)) != 0 ||
	    (rv = nng_listener_create(&l, sock, url)) != 0 ||
	    (strncmp(url, "ipc://", 6) == 0 &&
	     (rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, ipc_mode)) != 0) ||
	    (rv = nng_listener_start(l, 0)) != 0) {
		log_warnx("cannot serve replay on %s: %s; choose another address "
			"with --replay-listen, or run with --no-journal",
			url, nng_strerror(rv));
		return -1;
	}
	if (pthread_create(&thread, NULL, run, NULL) != 0) {
		log_warnx("cannot start the replay thread");
		return -1;
	}
	running = true;
	log_info("serving replay on %s", url);
	return 0;
}

void replay_stop(void)
{
	if (running) {
		atomic_store(&stopping, true);
		pthread_join(thread, NULL);
		running = false;
	}
	if (nng_socket_id(sock) > 0)
		nng_close(sock);
	if (dirfd >= 0)
		close(dirfd);
	dirfd = -1;
}
