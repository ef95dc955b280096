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
#include "trace.pb-c.h"

#define DEFAULT_CHUNK (1u << 20)
#define MAX_CHUNK (16u << 20)
#define MAX_REQUEST 256

static nng_socket sock = NNG_SOCKET_INITIALIZER;
static pthread_t thread;
static atomic_bool stopping;
static bool running;
static int dirfd = -1;
static struct nerrf_journal *journal;

struct chunk {
	ProtobufCBinaryData *msgs;
	size_t n, cap, bytes;
};

static int add(struct chunk *c, const struct nerrf_jrec *r)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		ProtobufCBinaryData *v = realloc(c->msgs, cap * sizeof(*v));
		if (!v)
			return -1;
		c->msgs = v;
		c->cap = cap;
	}
	uint8_t *d = malloc(r->h.len ? r->h.len : 1);
	if (!d)
		return -1;
	memcpy(d, r->payload, r->h.len);
	c->msgs[c->n++] = (ProtobufCBinaryData){.len = r->h.len, .data = d};
	c->bytes += r->h.len;
	return 0;
}

/* Fills out from the journal as req asks; the error string is static. */
static void serve(const Nerrf__Trace__ReplayRequest *req, Nerrf__Trace__ReplayChunk *out, struct chunk *c)
{
	struct nerrf_jseg *v;
	size_t n, i;
	uint64_t done = nerrf_journal_completed_seq(journal);
	uint64_t max = req->max_bytes ? req->max_bytes : DEFAULT_CHUNK;
	uint64_t until = req->until_seq ? req->until_seq : UINT64_MAX;
	bool by_time = req->from_seq == 0;
	uint64_t key = by_time ? req->from_time_ns : req->from_seq;

	if (max > MAX_CHUNK)
		max = MAX_CHUNK;
	out->next_seq = req->from_seq;
	out->last_seq = done;
	if (nerrf_journal_list(dirfd, &v, &n) != 0) {
		out->error = (char *)"the publisher cannot list its journal directory";
		return;
	}
	if (n)
		out->first_seq = v[0].first_seq;
	/* By seq: the segment holding it. By time: the first with a later batch. */
	i = 0;
	if (!by_time)
		while (i + 1 < n && v[i + 1].first_seq <= key)
			i++;
	bool started = false;
	for (; i < n && c->bytes < max; i++) {
		char idx[32];
		int fd = openat(dirfd, v[i].name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue; /* retention took it meanwhile */
		memcpy(idx, v[i].name, 20);
		memcpy(idx + 20, ".idx", 5);
		uint64_t off = 0;
		if (!started) {
			int ifd = openat(dirfd, idx, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			off = nerrf_journal_seek(fd, ifd, by_time, key);
			if (ifd >= 0)
				close(ifd);
		}
		struct nerrf_jreader rd;
		struct nerrf_jrec r;
		nerrf_jreader_init(&rd, fd, off);
		while (c->bytes < max && nerrf_jreader_next(&rd, UINT64_MAX, &r) == NERRF_JREAD_RECORD) {
			if (r.h.seq > done || r.h.seq > until) {
				i = n; /* nothing servable after it */
				break;
			}
			started = true;
			if (add(c, &r) != 0) {
				out->error = (char *)"the publisher ran out of memory";
				i = n;
				break;
			}
			out->next_seq = r.h.seq + 1;
		}
		nerrf_jreader_free(&rd);
		close(fd);
	}
	free(v);
	out->n_messages = c->n;
	out->messages = c->msgs;
}

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
		struct chunk c = {0};
		Nerrf__Trace__ReplayRequest *req = NULL;
		if (nng_msg_len(m) <= MAX_REQUEST)
			req = nerrf__trace__replay_request__unpack(NULL, nng_msg_len(m),
								   nng_msg_body(m));
		if (req)
			serve(req, &out, &c);
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
		for (size_t k = 0; k < c.n; k++)
			free(c.msgs[k].data);
		free(c.msgs);
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
		fprintf(stderr, "nerrf-publisher: replay: cannot open %s: %s\n", dir,
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
		fprintf(stderr,
			"nerrf-publisher: cannot serve replay on %s: %s; choose another address "
			"with --replay-listen, or run with --no-journal\n",
			url, nng_strerror(rv));
		return -1;
	}
	if (pthread_create(&thread, NULL, run, NULL) != 0) {
		fprintf(stderr, "nerrf-publisher: cannot start the replay thread\n");
		return -1;
	}
	running = true;
	fprintf(stderr, "nerrf-publisher: serving replay on %s\n", url);
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
