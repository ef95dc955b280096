/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the replay endpoint answers to one request: records read from the
 * journal directory through the checking reader, in publisher_seq order,
 * never past what the writer completed. Apart from the socket so that a
 * fuzz target runs the very same code on hostile requests.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nerrf_journal.h"
#include "replay_serve.h"

#define DEFAULT_CHUNK (1u << 20)
#define MAX_CHUNK (16u << 20)

static int add(struct replay_chunk *c, const struct nerrf_jrec *r)
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

void replay_serve(int dirfd, uint64_t done, const Nerrf__Trace__ReplayRequest *req,
		  Nerrf__Trace__ReplayChunk *out, struct replay_chunk *c)
{
	struct nerrf_jseg *v;
	size_t n, i;
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

void replay_chunk_free(struct replay_chunk *c)
{
	for (size_t k = 0; k < c->n; k++)
		free(c->msgs[k].data);
	free(c->msgs);
	*c = (struct replay_chunk){0};
}
