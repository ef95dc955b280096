/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replay endpoint against hostile requests: an input is what a client
 * sends (at most 256 bytes, as the publisher reads), served the way the
 * publisher serves it (replay_serve) from a real journal of 300 records in
 * several segments, of which 250 are complete. Whatever the request says:
 * no crash, and a reply that keeps the endpoint's promises — records in
 * publisher_seq order without a hole, none past what is complete nor past
 * until_seq, a by-seq reply starting at the seq asked for (when the journal
 * has it), at least one record when there is one to give and no more bytes
 * than asked beyond that one, and next_seq one past the last record sent.
 */
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"
#include "harness.h"
#include "nerrf_journal.h"
#include "replay_serve.h"

#define RECORDS 300
#define DONE 250
#define MAX_REQUEST 256
#define MAX_CHUNK (16u << 20)

static char dir[256];
static int jfd = -1;

/* Record seq: its seq in the first 8 bytes, then filler of a size that varies with it. */
static size_t payload_len(uint64_t seq)
{
	return 8 + (seq * 7919) % 2000;
}

static void cleanup(void)
{
	DIR *d = fdopendir(jfd);
	for (struct dirent *de; d && (de = readdir(d));)
		unlinkat(jfd, de->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
}

static void make_journal(void)
{
	static uint8_t buf[4096];
	struct nerrf_journal_opts o = NERRF_JOURNAL_DEFAULTS;
	struct nerrf_journal *j;
	char err[512];

	snprintf(dir, sizeof(dir), "%s", test_tmpdir("fuzz-replay"));
	o.dir = dir;
	o.segment_bytes = 64 << 10; /* several segments */
	FUZZ_CHECK(nerrf_journal_open(&o, &j, err, sizeof(err)) == 0, "journal: %s", err);
	for (uint64_t s = 1; s <= RECORDS; s++) {
		size_t len = payload_len(s);
		memcpy(buf, &s, 8);
		memset(buf + 8, (int)(s & 0xff), len - 8);
		FUZZ_CHECK(nerrf_journal_append(j, s, buf, len, s * 1000000000ull,
						s * 1000000000ull + 999) == 0, "append %llu",
			   (unsigned long long)s);
		nerrf_journal_poll(j);
	}
	for (int i = 0; i < 5000 && nerrf_journal_completed_seq(j) < RECORDS; i++) {
		nerrf_journal_poll(j);
		usleep(1000);
	}
	FUZZ_CHECK(nerrf_journal_completed_seq(j) == RECORDS, "the journal was not written");
	nerrf_journal_close(j);
	jfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(jfd >= 0, "cannot open %s", dir);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (jfd < 0)
		make_journal();
	if (size > MAX_REQUEST)
		return 0; /* the publisher refuses it unread */
	Nerrf__Trace__ReplayRequest *req = nerrf__trace__replay_request__unpack(NULL, size, data);
	if (!req)
		return 0;
	Nerrf__Trace__ReplayChunk out = NERRF__TRACE__REPLAY_CHUNK__INIT;
	struct replay_chunk c = {0};
	replay_serve(jfd, DONE, req, &out, &c);

	uint64_t until = req->until_seq ? req->until_seq : UINT64_MAX;
	uint64_t max = req->max_bytes ? req->max_bytes : 1u << 20;
	uint64_t prev = 0, bytes = 0;
	FUZZ_CHECK(!out.error || !*out.error, "a request was refused: %s", out.error);
	FUZZ_CHECK(out.last_seq == DONE && out.first_seq == 1, "first %llu last %llu",
		   (unsigned long long)out.first_seq, (unsigned long long)out.last_seq);
	for (size_t i = 0; i < out.n_messages; i++) {
		uint64_t seq;
		FUZZ_CHECK(out.messages[i].len >= 8, "a message of %zu bytes", out.messages[i].len);
		memcpy(&seq, out.messages[i].data, 8);
		FUZZ_CHECK(out.messages[i].len == payload_len(seq),
			   "record %llu came back with %zu bytes", (unsigned long long)seq,
			   out.messages[i].len);
		FUZZ_CHECK(seq <= DONE && seq <= until, "served %llu past done %d / until %llu",
			   (unsigned long long)seq, DONE, (unsigned long long)until);
		FUZZ_CHECK(!prev || seq == prev + 1, "%llu after %llu", (unsigned long long)seq,
			   (unsigned long long)prev);
		if (i == 0 && req->from_seq)
			FUZZ_CHECK(seq == req->from_seq, "asked from %llu, got %llu first",
				   (unsigned long long)req->from_seq, (unsigned long long)seq);
		FUZZ_CHECK(i == 0 || bytes < (max < MAX_CHUNK ? max : MAX_CHUNK),
			   "more than max_bytes %llu", (unsigned long long)max);
		bytes += out.messages[i].len;
		prev = seq;
	}
	if (req->from_seq && req->from_seq <= DONE && req->from_seq <= until)
		FUZZ_CHECK(out.n_messages > 0, "nothing served from %llu (until %llu)",
			   (unsigned long long)req->from_seq, (unsigned long long)until);
	if (out.n_messages)
		FUZZ_CHECK(out.next_seq == prev + 1, "next_seq %llu after %llu",
			   (unsigned long long)out.next_seq, (unsigned long long)prev);
	replay_chunk_free(&c);
	nerrf__trace__replay_request__free_unpacked(req, NULL);
	return 0;
}
