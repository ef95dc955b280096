/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Batches from the journal: offline from segment files (`nerrf replay`, on
 * the host or on a copy of the directory anywhere), or from the publisher's
 * replay endpoint (`nerrf tail --from`). Either way every message is handed
 * on exactly as it was published, to the same printers as live ones.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "nerrf.h"
#include "nerrf_journal.h"
#include "nerrf_parse.h"
#include "trace.pb-c.h"

static bool in_range(const struct nerrf_jrec_hdr *h, const struct replay_range *r)
{
	if (r->from_seq && h->seq < r->from_seq)
		return false;
	if (r->until_seq && h->seq > r->until_seq)
		return false;
	if (r->from_ns && h->last_ns < r->from_ns)
		return false;
	if (r->until_ns && h->first_ns > r->until_ns)
		return false;
	return true;
}

static int read_segment(int dirfd, const char *name, const struct replay_range *r,
			replay_cb cb, void *arg)
{
	struct nerrf_jreader rd;
	struct nerrf_jrec rec;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC), rv;

	if (fd < 0) {
		fprintf(stderr, "nerrf replay: cannot open %s: %s\n", name, strerror(errno));
		return 1;
	}
	nerrf_jreader_init(&rd, fd, 0);
	while ((rv = nerrf_jreader_next(&rd, UINT64_MAX, &rec)) == NERRF_JREAD_RECORD) {
		if (!in_range(&rec.h, r))
			continue;
		if (cb(arg, rec.payload, rec.h.len) != 0)
			break;
	}
	if (rv == NERRF_JREAD_IO)
		fprintf(stderr, "nerrf replay: %s: read error: %s\n", name, strerror(errno));
	else if (rv != NERRF_JREAD_END && rv != NERRF_JREAD_RECORD)
		fprintf(stderr,
			"nerrf replay: %s: %s at offset %" PRIu64 "; nothing after it in this "
			"segment is shown (a torn tail is what a crash leaves; the publisher "
			"cuts it at its next start)\n",
			name, rd.why, rd.off);
	nerrf_jreader_free(&rd);
	close(fd);
	return rv == NERRF_JREAD_IO || (rv != NERRF_JREAD_END && rv != NERRF_JREAD_RECORD);
}

int replay_files(const char *path, const struct replay_range *r, replay_cb cb, void *arg)
{
	struct stat st;
	struct nerrf_jseg *v;
	size_t n;
	int ret = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "nerrf replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return read_segment(AT_FDCWD, path, r, cb, arg);
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || nerrf_journal_list(dfd, &v, &n) != 0) {
		fprintf(stderr, "nerrf replay: cannot list %s: %s\n", path, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return 1;
	}
	if (!n)
		fprintf(stderr, "nerrf replay: %s holds no journal segments (<20 digits>.seg)\n",
			path);
	for (size_t i = 0; i < n; i++) {
		/* Segments before the one holding from_seq have nothing for us. */
		if (r->from_seq && i + 1 < n && v[i + 1].first_seq <= r->from_seq)
			continue;
		if (r->until_seq && v[i].first_seq > r->until_seq)
			break;
		ret |= read_segment(dfd, v[i].name, r, cb, arg);
	}
	free(v);
	close(dfd);
	return n ? ret : 1;
}

/* ---- the replay endpoint ---- */

int replay_open(const char *url, nng_socket *s)
{
	int rv;
	if ((rv = nng_req0_open(s)) != 0 ||
	    (rv = nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ, 64u << 20)) != 0 ||
	    (rv = nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, 5000)) != 0 ||
	    (rv = nng_dial(*s, url, NULL, 0)) != 0) {
		fprintf(stderr,
			"nerrf tail: cannot reach the replay endpoint %s: %s; is the publisher "
			"running with a journal (not --no-journal)? --replay-url names another\n",
			url, nng_strerror(rv));
		return -1;
	}
	return 0;
}

/*
 * One request: messages from *next (or from from_ns when *next is 0) up to
 * until (0: as far as written) to cb. 1 when something came, 0 when the
 * journal had nothing more yet, -1 on error (said).
 */
int replay_fetch(nng_socket s, uint64_t *next, uint64_t from_ns, uint64_t until, replay_cb cb,
		 void *arg, uint64_t *last_written)
{
	Nerrf__Trace__ReplayRequest req = NERRF__TRACE__REPLAY_REQUEST__INIT;
	uint8_t buf[64];
	nng_msg *m;
	int rv;

	req.from_seq = *next;
	req.from_time_ns = *next ? 0 : from_ns;
	req.until_seq = until;
	size_t len = nerrf__trace__replay_request__pack(&req, buf);
	if ((rv = nng_send(s, buf, len, 0)) != 0 || (rv = nng_recvmsg(s, &m, 0)) != 0) {
		fprintf(stderr, "nerrf tail: replay request failed: %s\n", nng_strerror(rv));
		return -1;
	}
	Nerrf__Trace__ReplayChunk *c =
		nerrf__trace__replay_chunk__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
	nng_msg_free(m);
	if (!c) {
		fprintf(stderr, "nerrf tail: undecodable replay reply; is the publisher from "
			"another version?\n");
		return -1;
	}
	if (c->error && *c->error) {
		fprintf(stderr, "nerrf tail: replay refused: %s\n", c->error);
		nerrf__trace__replay_chunk__free_unpacked(c, NULL);
		return -1;
	}
	for (size_t i = 0; i < c->n_messages; i++)
		if (cb(arg, c->messages[i].data, c->messages[i].len) != 0)
			break;
	rv = c->n_messages > 0;
	if (c->next_seq > *next)
		*next = c->next_seq;
	if (last_written)
		*last_written = c->last_seq;
	nerrf__trace__replay_chunk__free_unpacked(c, NULL);
	return rv;
}

/* SEQ, @UNIX-SECONDS or RFC 3339 (2025-01-31T22:00:00Z, +hh:mm, fractions). */
int replay_parse_point(const char *opt, const char *s, uint64_t *seq, uint64_t *ns)
{
	char *end;
	struct tm tm = {0};

	*seq = *ns = 0;
	/* The numbers through the stages' one parser; its message is replaced by the one below. */
	if (*s >= '1' && *s <= '9' && !strpbrk(s, "-:T")) {
		if (nerrf_parse_uint(opt, s, 1, UINT64_MAX, seq, NULL, 0) == 0)
			return 0;
	} else if (*s == '@' && s[1] >= '0' && s[1] <= '9') {
		uint64_t v;
		if (nerrf_parse_uint(opt, s + 1, 0, UINT64_MAX / NERRF_S - 1, &v, NULL, 0) == 0) {
			*ns = v * NERRF_S;
			return 0;
		}
	} else if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))) {
		uint64_t frac = 0, scale = 1000000000u;
		if (*end == '.')
			for (end++; *end >= '0' && *end <= '9'; end++)
				if (scale > 1)
					frac += (uint64_t)(*end - '0') * (scale /= 10);
		long off = 0;
		int hh, mm;
		if (*end == 'Z' || *end == 'z')
			end++;
		else if ((*end == '+' || *end == '-') && sscanf(end + 1, "%2d:%2d", &hh, &mm) == 2 &&
			 strlen(end) == 6) {
			off = (hh * 3600L + mm * 60L) * (*end == '+' ? 1 : -1);
			end += 6;
		}
		time_t t = timegm(&tm) - off;
		if (!*end && t >= 0) {
			*ns = (uint64_t)t * 1000000000u + frac;
			return 0;
		}
	}
	fprintf(stderr,
		"nerrf: %s '%s': want a publisher_seq (a number), @unix-seconds or an "
		"RFC 3339 time such as 2025-01-31T22:00:00Z\n",
		opt, s);
	return -1;
}
