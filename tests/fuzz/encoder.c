/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The encoder's per-record path on arbitrary ring #1 records: validation,
 * conversion to an Event, packing into the batch, and the batch itself.
 *
 * Input: one byte picks an encoder configuration, then records, each as a
 * 32-bit little-endian length (the ring's record length, cut to what is
 * left) and that many bytes. In events, cgroup ids 1 and 2 stand for the
 * two container cgroups of a small cgroup tree made at start, 3 for a host
 * one, so the container lookup is reached with real inode numbers.
 *
 * Every record must come out as an Event, a stats update or a counted
 * malformed record; every batch must decode as an EventBatch whose events
 * match the records taken, with valid UTF-8 in every string field and the
 * encoder's loss counters as they stood.
 */
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encoder.h"
#include "fuzz.h"
#include "harness.h"
#include "nerrf_ops.h"

#define CID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define MAX_BATCH 64

static const struct enc_opts configs[] = {
	{.max_batch = 1, .max_batch_bytes = 256u << 10},
	{.max_batch = 7, .max_batch_bytes = 256u << 10, .raw_sample = true},
	{.max_batch = MAX_BATCH, .max_batch_bytes = 4096},
	{.max_batch = MAX_BATCH, .max_batch_bytes = 64u << 10, .raw_sample = true},
};
#define NCONF (sizeof(configs) / sizeof(configs[0]))

static struct encoder enc[NCONF];
static char root[256], cg_dirs[3][400];
static uint64_t cg_ino[3];
static uint64_t now_ns;

/* What the batch's Event for one record must show. */
struct expect {
	unsigned op;
	uint32_t tgid;
	size_t comm, path, path2, raw; /* string lengths as the encoder will see them */
	unsigned data_len;
	const char *cid;               /* NULL: either, the id may be any inode */
};

static struct expect want[MAX_BATCH];

static void cleanup(void)
{
	for (int i = 2; i >= 0; i--)
		rmdir(cg_dirs[i]);
	rmdir(root);
}

static void setup(void)
{
	static const char *const sub[] = {"/system.slice", "/system.slice/docker-" CID ".scope",
					  "/system.slice/docker-" CID ".scope/init"};
	char err[256];
	struct stat st;

	snprintf(root, sizeof(root), "%s", test_tmpdir("fuzz-encoder"));
	atexit(cleanup);
	for (int i = 0; i < 3; i++) {
		snprintf(cg_dirs[i], sizeof(cg_dirs[i]), "%s%s", root, sub[i]);
		FUZZ_CHECK(mkdir(cg_dirs[i], 0700) == 0 && stat(cg_dirs[i], &st) == 0,
			   "cannot make %s", cg_dirs[i]);
		cg_ino[i] = st.st_ino;
	}
	for (size_t i = 0; i < NCONF; i++) {
		struct enc_opts o = configs[i];
		o.hostname = "fuzz";
		o.cgroup_root = root;
		FUZZ_CHECK(enc_init(&enc[i], &o, err, sizeof(err)) == 0, "enc_init: %s", err);
	}
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static bool utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned c = *s++, n, min;
		uint32_t cp;

		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c < 0xe0)
			n = 1, min = 0x80, cp = c & 0x1f;
		else if (c >= 0xe0 && c < 0xf0)
			n = 2, min = 0x800, cp = c & 0x0f;
		else if (c >= 0xf0 && c < 0xf5)
			n = 3, min = 0x10000, cp = c & 0x07;
		else
			return false;
		for (; n; n--, s++) {
			if ((*s & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (*s & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
			return false;
	}
	return true;
}

static void check_str(const char *s, size_t len, const char *field)
{
	FUZZ_CHECK(s != NULL, "%s missing", field);
	FUZZ_CHECK(utf8_valid(s), "%s is not valid UTF-8", field);
	FUZZ_CHECK(strlen(s) == len, "%s has %zu bytes, the record %zu", field, strlen(s), len);
}

static void check_canon(const char *s, size_t len, bool normalized, const char *field)
{
	if (!normalized || !s || s[0] != '/') {
		check_str(s, len, field);
		return;
	}
	FUZZ_CHECK(utf8_valid(s), "%s is not valid UTF-8", field);
	FUZZ_CHECK(strlen(s) <= len, "%s grew from %zu to %zu bytes", field, len, strlen(s));
	FUZZ_CHECK(!strstr(s, "/./") && !strstr(s, "/../") && !strstr(s, "//"),
		   "%s is not canonical: %s", field, s);
}

static void check_event(const Nerrf__Trace__Event *ev, const struct expect *x, bool raw_sample)
{
	bool xattr = x->op >= NERRF_OP_SETXATTR && x->op <= NERRF_OP_FREMOVEXATTR;
	/* the write family and a write summary (close) carry the head written */
	bool write = (x->op >= NERRF_OP_WRITE && x->op <= NERRF_OP_PWRITEV2) ||
		     x->op == NERRF_OP_CLOSE;
	bool exec = x->op == NERRF_OP_EXECVE || x->op == NERRF_OP_EXECVEAT;

	FUZZ_CHECK(ev->pid == x->tgid, "pid %u, record %u", ev->pid, x->tgid);
	FUZZ_CHECK(ev->syscall && strcmp(ev->syscall, nerrf_op_name(x->op)) == 0,
		   "syscall '%s' for op %u", ev->syscall, x->op);
	check_str(ev->comm, x->comm, "comm");
	/* a path built from a directory and a name comes out canonical: no longer, never ".." */
	bool built = (ev->trunc_flags & (NERRF_EF_PATH_FALLBACK | NERRF_EF_PATH_UNRESOLVED)) ==
		     NERRF_EF_PATH_FALLBACK;
	bool renamed = x->op >= NERRF_OP_RENAME && x->op <= NERRF_OP_RENAMEAT2;
	check_canon(ev->path, x->path, built, "path");
	/* path2 is an xattr's name, an exec's interpreter, or else new_path */
	const char *path2 = xattr ? ev->xattr_name : exec ? ev->interpreter : ev->new_path;
	check_canon(path2, x->path2, renamed, "path2");
	if (!xattr)
		check_str(ev->xattr_name, 0, "unused path2 field xattr_name");
	if (!exec)
		check_str(ev->interpreter, 0, "unused path2 field interpreter");
	if (xattr || exec)
		check_str(ev->new_path, 0, "unused path2 field new_path");
	check_str(ev->raw_path, x->raw, "raw_path");
	check_str(ev->container_id, x->cid ? strlen(x->cid) : strlen(ev->container_id),
		  "container_id");
	/* an id that is no stand-in may still be the inode of one of the tree's cgroups */
	FUZZ_CHECK(x->cid ? strcmp(ev->container_id, x->cid) == 0
			  : !*ev->container_id || strcmp(ev->container_id, CID) == 0,
		   "container id '%s', want '%s'", ev->container_id, x->cid ? x->cid : CID);
	FUZZ_CHECK(ev->ts && ev->ts->nanos >= 0 && ev->ts->nanos < 1000000000,
		   "timestamp nanos %d outside 0..999999999", ev->ts ? ev->ts->nanos : -1);
	if (write && x->data_len) {
		FUZZ_CHECK(ev->sample_len == x->data_len, "sample_len %u, data_len %u",
			   ev->sample_len, x->data_len);
		FUZZ_CHECK(ev->sample.len == (raw_sample ? x->data_len : 0), "sample of %zu bytes",
			   ev->sample.len);
		FUZZ_CHECK(ev->write_entropy >= 0 && ev->write_entropy <= 8, "entropy %f",
			   (double)ev->write_entropy);
	} else {
		FUZZ_CHECK(ev->sample_len == 0 && ev->sample.len == 0 && ev->write_entropy == 0,
			   "write sample on op %u", x->op);
	}
	FUZZ_CHECK(exec || ev->n_argv == 0, "argv on op %u", x->op);
	FUZZ_CHECK(ev->n_argv <= (exec ? x->data_len : 0), "%zu arguments from %u bytes",
		   ev->n_argv, x->data_len);
	for (size_t i = 0; i < ev->n_argv; i++)
		FUZZ_CHECK(ev->argv[i] && utf8_valid(ev->argv[i]), "argv[%zu] not valid UTF-8", i);
}

/* Packs the batch, decodes it, and holds it against the records taken. */
static uint64_t flush(struct encoder *e)
{
	size_t size = enc_batch_size(e);
	unsigned n = e->n;
	uint64_t seq = e->batch_seq + 1;
	uint8_t *buf = malloc(size);

	FUZZ_CHECK(buf, "out of memory");
	enc_batch_pack(e, buf, size);
	Nerrf__Trace__EventBatch *b = nerrf__trace__event_batch__unpack(NULL, size, buf);
	FUZZ_CHECK(b, "batch %llu of %zu bytes does not decode", (unsigned long long)seq, size);
	FUZZ_CHECK(b->n_events == n, "batch has %zu events, %u were taken", b->n_events, n);
	FUZZ_CHECK(b->batch_seq == seq, "batch_seq %llu, want %llu",
		   (unsigned long long)b->batch_seq, (unsigned long long)seq);
	FUZZ_CHECK(b->loss && b->loss->encoder_events == e->loss.encoder_events &&
			   b->loss->malformed == e->loss.malformed,
		   "batch loss counters differ from the encoder's");
	check_str(b->hostname, 4, "hostname");
	for (size_t i = 0; i < n; i++)
		check_event(b->events[i], &want[i], e->o.raw_sample);
	nerrf__trace__event_batch__free_unpacked(b, NULL);
	free(buf);
	return n;
}

/* Records what the Event of this (valid) event record must show. */
static void expect_event(struct expect *x, const struct nerrf_event *r)
{
	const char *s = r->strings;

	x->op = r->op;
	x->tgid = r->tgid;
	x->comm = strnlen(r->comm, sizeof(r->comm));
	x->path = r->path_len ? strlen(s) : 0;
	s += r->path_len;
	x->path2 = r->path2_len ? strlen(s) : 0;
	s += r->path2_len;
	x->raw = r->raw_len ? strlen(s) : 0;
	x->data_len = r->data_len;
	x->cid = r->cgroup_id == cg_ino[1] || r->cgroup_id == cg_ino[2] ? CID
		 : r->cgroup_id == 0 || r->cgroup_id == cg_ino[0] ? "" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint64_t records = 0, events = 0, stats = 0, batched = 0;

	if (!root[0])
		setup();
	struct encoder *e = &enc[fuzz_u8(&in) % NCONF];
	uint64_t events0 = e->loss.encoder_events, malformed0 = e->loss.malformed;

	while (in.n) {
		size_t len = fuzz_u32(&in);
		const char *why = NULL;

		if (len > in.n)
			len = in.n;
		/* exactly len bytes, so ASan sees any read past the record */
		uint8_t *rec = malloc(len ? len : 1);
		FUZZ_CHECK(rec, "out of memory");
		memcpy(rec, in.p, len);
		in.p += len;
		in.n -= len;

		struct nerrf_event *ev = (struct nerrf_event *)rec;
		enum enc_rec_kind kind = enc_rec_check(rec, len, &why);
		if (kind == ENC_REC_EVENT) {
			if (ev->cgroup_id >= 1 && ev->cgroup_id <= 3)
				ev->cgroup_id = cg_ino[ev->cgroup_id - 1];
			expect_event(&want[e->n], ev);
		} else if (kind == ENC_REC_MALFORMED) {
			FUZZ_CHECK(why && *why, "malformed record without a reason");
		}

		uint64_t ev0 = e->loss.encoder_events, mal0 = e->loss.malformed;
		now_ns += 250000000;
		bool full = enc_take(e, rec, len, now_ns);
		records++;
		/* each record is exactly one of: an event, a stats update, a counted loss */
		if (kind == ENC_REC_EVENT) {
			FUZZ_CHECK(e->loss.encoder_events == ev0 + 1 && e->loss.malformed == mal0,
				   "valid event record not taken as one event");
			events++;
		} else if (kind == ENC_REC_STATS) {
			FUZZ_CHECK(e->loss.encoder_events == ev0 && e->loss.malformed == mal0,
				   "stats record counted as an event or malformed");
			FUZZ_CHECK(e->loss.kernel_emitted ==
					   ((const struct nerrf_kstats *)rec)->kernel_emitted,
				   "stats record not taken up in the loss counters");
			stats++;
		} else {
			FUZZ_CHECK(e->loss.encoder_events == ev0 && e->loss.malformed == mal0 + 1,
				   "malformed record (%s) not counted as one", why);
		}
		free(rec);
		if (full)
			batched += flush(e);
	}
	if (e->n)
		batched += flush(e);
	FUZZ_CHECK(batched == events, "%llu events taken, %llu in batches",
		   (unsigned long long)events, (unsigned long long)batched);
	FUZZ_CHECK(e->loss.encoder_events - events0 == events &&
			   e->loss.malformed - malformed0 == records - events - stats,
		   "loss counters do not add up to the records given");
	return 0;
}
