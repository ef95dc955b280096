/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Record -> Event -> batch. Everything the hot path touches is allocated in
 * enc_init(): one record buffer, one Event whose string fields point into
 * that buffer, and the batch buffer each Event is packed into as soon as it
 * is converted. No malloc per event, and each Event is packed once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "encoder.h"
#include "nerrf_log.h"
#include "nerrf_ops.h"
#include "nerrf_pbwire.h"

#define REC_BUF_SIZE (ENC_KSTATS_MAX > NERRF_EVENT_MAX ? ENC_KSTATS_MAX : NERRF_EVENT_MAX)

static void read_boot_id(char *out, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	out[0] = '\0';
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

int enc_init(struct encoder *e, const struct enc_opts *o, char *err, size_t errlen)
{
	memset(e, 0, sizeof(*e));
	e->o = *o;
	e->cap = o->max_batch_bytes + ENC_EVENT_WIRE_MAX;
	e->buf = malloc(e->cap);
	/* +1: room to terminate the last argv fragment, which may be cut short */
	e->rec = malloc(REC_BUF_SIZE + 1);
	e->exact = malloc(REC_BUF_SIZE);
	e->last_seq = calloc(ENC_MAX_CPUS, sizeof(*e->last_seq));
	e->by_cpu = calloc(ENC_MAX_CPUS, sizeof(*e->by_cpu));
	e->by_cpu_p = calloc(ENC_MAX_CPUS, sizeof(*e->by_cpu_p));
	e->cg = enc_cgroups_new(o->cgroup_root);
	if (!e->buf || !e->rec || !e->exact || !e->last_seq || !e->by_cpu || !e->by_cpu_p || !e->cg) {
		snprintf(err, errlen, "out of memory for %zu-byte batches; lower --max-batch-bytes",
			 o->max_batch_bytes);
		enc_fini(e);
		return -ENOMEM;
	}

	nerrf__trace__event__init(&e->ev);
	google__protobuf__timestamp__init(&e->ts);
	e->ev.ts = &e->ts;
	e->ev.argv = e->argv;
	e->ev.argv_bytes = e->argv_bytes;
	nerrf__trace__loss_counters__init(&e->loss);
	e->loss.kernel_lost_by_cpu = e->by_cpu_p;
	e->loss.kernel_lost_by_syscall = e->by_op_p;
	for (unsigned i = 0; i < ENC_MAX_CPUS; i++) {
		nerrf__trace__loss_counters__kernel_lost_by_cpu_entry__init(&e->by_cpu[i]);
		e->by_cpu_p[i] = &e->by_cpu[i];
	}
	for (unsigned i = 0; i < NERRF_OP_MAX; i++) {
		nerrf__trace__loss_counters__kernel_lost_by_syscall_entry__init(&e->by_op[i]);
		e->by_op_p[i] = &e->by_op[i];
	}

	if (o->hostname)
		snprintf(e->hostname, sizeof(e->hostname), "%s", o->hostname);
	else if (gethostname(e->hostname, sizeof(e->hostname) - 1) < 0)
		e->hostname[0] = '\0';
	enc_utf8_fix(e->hostname, strlen(e->hostname));
	read_boot_id(e->boot_id, sizeof(e->boot_id));
	enc_utf8_fix(e->boot_id, strlen(e->boot_id));
	e->start_wall_ns = nerrf_now_ns(CLOCK_REALTIME);
	e->clock_off = enc_clock_offset();

	nerrf__trace__event_batch__init(&e->meta);
	e->meta.hostname = e->hostname;
	e->meta.boot_id = e->boot_id;
	e->meta.loss = &e->loss;
	e->meta.encoder_start_ns = e->start_wall_ns;
	return 0;
}

void enc_fini(struct encoder *e)
{
	enc_cgroups_free(e->cg);
	free(e->by_cpu_p);
	free(e->by_cpu);
	free(e->last_seq);
	free(e->rec);
	free(e->exact);
	free(e->buf);
	memset(e, 0, sizeof(*e));
}

void enc_clock_tick(struct encoder *e)
{
	e->clock_off = enc_clock_offset();
}

static bool op_in(unsigned op, unsigned first, unsigned last)
{
	return op >= first && op <= last;
}

/*
 * s holds len bytes, the last one NUL (checked); 0 = absent. Bytes that are
 * not UTF-8 become '?' in the string, and the exact bytes go to *exact (a
 * copy in e->exact, which a record's strings always fit).
 */
static char *str_field(struct encoder *e, char *s, size_t len, ProtobufCBinaryData *exact)
{
	if (!len)
		return (char *)protobuf_c_empty_string;
	if (enc_utf8_valid(s, len - 1) == len - 1)
		return s;
	if (exact) {
		exact->data = e->exact + e->exact_used;
		exact->len = len - 1;
		memcpy(exact->data, s, len - 1);
		e->exact_used += len - 1;
	}
	enc_utf8_fix(s, len - 1);
	e->ev.trunc_flags |= ENC_EF_BAD_UTF8;
	return s;
}

/*
 * exec: the argv head, NUL-separated; the last argument may be cut short.
 * When any argument is not UTF-8, argv_bytes carries every one exactly.
 */
static void split_argv(struct encoder *e, char *d, unsigned len)
{
	unsigned pos = 0;
	bool bad = false;

	d[len] = '\0';
	e->ev.n_argv = 0;
	while (pos < len && e->ev.n_argv < ENC_ARGV_MAX) {
		char *arg = d + pos;
		size_t n = strlen(arg);

		pos += (unsigned)n + 1;
		bad |= enc_utf8_valid(arg, n) != n;
		e->argv[e->ev.n_argv++] = arg;
	}
	if (!bad)
		return;
	for (size_t k = 0; k < e->ev.n_argv; k++) {
		size_t n = strlen(e->argv[k]);
		e->argv_bytes[k] = (ProtobufCBinaryData){ .data = e->exact + e->exact_used, .len = n };
		memcpy(e->exact + e->exact_used, e->argv[k], n);
		e->exact_used += n;
		if (enc_utf8_fix(e->argv[k], n))
			e->ev.trunc_flags |= ENC_EF_BAD_UTF8;
	}
	e->ev.n_argv_bytes = e->ev.n_argv;
}

static void seq_track(struct encoder *e, const struct nerrf_event *r)
{
	uint64_t *next = &e->last_seq[r->cpu];

	/* A smaller seq means the programs were reloaded: start over. */
	if (*next && r->seq >= *next)
		e->loss.seq_gaps += r->seq - *next;
	*next = r->seq + 1;
}

static void convert(struct encoder *e, uint64_t now_ns)
{
	struct nerrf_event *r = (struct nerrf_event *)e->rec;
	Nerrf__Trace__Event *ev = &e->ev;
	char *s = r->strings;
	uint64_t wall = enc_wall_ns(r->ts_ns, e->clock_off);

	e->ts.seconds = (int64_t)(wall / 1000000000);
	e->ts.nanos = (int32_t)(wall % 1000000000);
	ev->pid = r->tgid;
	ev->tid = r->tid;
	ev->ppid = r->ppid;
	ev->uid = r->uid;
	ev->gid = r->gid;
	ev->euid = r->euid;
	ev->egid = r->egid;
	ev->loginuid = r->loginuid;
	ev->syscall = (char *)nerrf_op_name(r->op);
	ev->ret_val = r->ret;
	ev->bytes = r->bytes;
	ev->mode = r->mode;
	ev->offset = r->offset;
	ev->inode = r->ino;
	ev->dev = r->dev;
	ev->cgroup_id = r->cgroup_id;
	ev->mnt_ns = r->mnt_ns;
	ev->fd = r->fd;
	ev->seq = r->seq;
	ev->cpu = r->cpu;
	ev->mono_ns = r->ts_ns;
	ev->trunc_flags = r->flags;
	ev->container_id = (char *)enc_cgroups_lookup(e->cg, r->cgroup_id, now_ns);
	e->exact_used = 0;
	ev->path_bytes.len = ev->new_path_bytes.len = ev->raw_path_bytes.len = 0;
	ev->comm_bytes.len = ev->xattr_name_bytes.len = ev->interpreter_bytes.len = 0;
	ev->n_argv_bytes = 0;
	ev->comm = str_field(e, r->comm, strnlen(r->comm, sizeof(r->comm)) + 1, &ev->comm_bytes);

	bool opens = op_in(r->op, NERRF_OP_OPEN, NERRF_OP_CREAT) || r->op == NERRF_OP_CLOSE;
	ev->flags = opens ? (uint32_t)r->arg_flags : 0;
	ev->arg_flags = opens ? 0 : r->arg_flags;

	/* built from a walked directory + the caller's name: make it canonical */
	bool built = (r->flags & (NERRF_EF_PATH_FALLBACK | NERRF_EF_PATH_UNRESOLVED)) ==
		     NERRF_EF_PATH_FALLBACK;
	size_t len = r->path_len;
	if (built && len)
		len = enc_path_normalize(s, len - 1) + 1;
	ev->path = str_field(e, s, len, &ev->path_bytes);
	s += r->path_len;
	ev->new_path = ev->xattr_name = ev->interpreter = (char *)protobuf_c_empty_string;
	if (op_in(r->op, NERRF_OP_SETXATTR, NERRF_OP_FREMOVEXATTR))
		ev->xattr_name = str_field(e, s, r->path2_len, &ev->xattr_name_bytes);
	else if (op_in(r->op, NERRF_OP_EXECVE, NERRF_OP_EXECVEAT))
		ev->interpreter = str_field(e, s, r->path2_len, &ev->interpreter_bytes);
	else {
		len = r->path2_len;
		if (op_in(r->op, NERRF_OP_RENAME, NERRF_OP_RENAMEAT2) && len)
			len = enc_path_normalize(s, len - 1) + 1;
		ev->new_path = str_field(e, s, len, &ev->new_path_bytes);
	}
	s += r->path2_len;
	ev->raw_path = str_field(e, s, r->raw_len, &ev->raw_path_bytes);
	s += r->raw_len;

	ev->write_count = ev->range_end = 0;
	ev->close_flags = 0;
	if (r->op == NERRF_OP_CLOSE) {
		ev->write_count = r->count;
		ev->range_end = (uint64_t)r->ret;
		ev->close_flags = r->mode;
		ev->ret_val = 0;
		ev->mode = 0;
	}
	ev->n_argv = 0;
	ev->write_entropy = 0;
	ev->sample_len = 0;
	ev->sample.len = 0;
	ev->sample.data = NULL;
	if ((op_in(r->op, NERRF_OP_WRITE, NERRF_OP_PWRITEV2) || r->op == NERRF_OP_CLOSE) &&
	    r->data_len) {
		ev->write_entropy = enc_entropy((const uint8_t *)s, r->data_len);
		ev->sample_len = r->data_len;
		if (e->o.raw_sample) {
			ev->sample.len = r->data_len;
			ev->sample.data = (uint8_t *)s;
		}
	} else if (op_in(r->op, NERRF_OP_EXECVE, NERRF_OP_EXECVEAT) && r->data_len) {
		split_argv(e, s, r->data_len);
	}
	enc_net(e, r, s);
	seq_track(e, r);
}

static void set_ts(const struct encoder *e, Google__Protobuf__Timestamp *ts, uint64_t mono_ns)
{
	/* From ring #1, which the encoder does not trust: saturate, never overflow. */
	uint64_t wall = enc_wall_ns(mono_ns, e->clock_off);

	google__protobuf__timestamp__init(ts);
	ts->seconds = (int64_t)(wall / 1000000000);
	ts->nanos = (int32_t)(wall % 1000000000);
}

void enc_ring1_switched(struct encoder *e, uint64_t now_ns)
{
	e->gap_pending = true;
	/* nothing read from it: blind at least since we noticed */
	e->gap_from_ns = e->r1_last_ns ? e->r1_last_ns : now_ns;
	e->gap_cause = e->r1_flags & NERRF_KS_FINAL ? "collector stopped" : "collector died";
	e->r1_last_ns = 0;
	e->r1_flags = 0;
}

/* The first stats record of a new collector: did capture stop meanwhile? */
static void close_gap(struct encoder *e, const struct nerrf_kstats *ks)
{
	Nerrf__Trace__CaptureGap *g = &e->gap;

	e->gap_pending = false;
	if (!(ks->flags & NERRF_KS_FRESH) || ks->attached_ns <= e->gap_from_ns)
		return;
	nerrf__trace__capture_gap__init(g);
	g->start_mono_ns = e->gap_from_ns;
	g->end_mono_ns = ks->attached_ns;
	set_ts(e, &e->gap_ts[0], g->start_mono_ns);
	set_ts(e, &e->gap_ts[1], g->end_mono_ns);
	g->start = &e->gap_ts[0];
	g->end = &e->gap_ts[1];
	g->cause = (char *)e->gap_cause;
	e->loss.capture_gaps++;
	e->loss.capture_gap_ns += g->end_mono_ns - g->start_mono_ns;
	e->loss.last_capture_gap = g;
	log_warnx("capture gap of %.3f s (%s; the next collector had to "
		"load the programs afresh): counted in capture_gaps; run the collector with "
		"--pin to keep capturing across its restarts",
		(double)(g->end_mono_ns - g->start_mono_ns) / 1e9, g->cause);
}

static void take_stats(struct encoder *e)
{
	const struct nerrf_kstats *ks = (const struct nerrf_kstats *)e->rec;
	uint64_t lost = 0;
	size_t n = 0;

	if (ks->ts_ns > e->r1_last_ns)
		e->r1_last_ns = ks->ts_ns;
	e->r1_flags = ks->flags;
	if (e->gap_pending)
		close_gap(e, ks);

	e->loss.kernel_emitted = ks->kernel_emitted;
	e->loss.kernel_filtered = ks->kernel_filtered;
	e->loss.close_unattributed = ks->close_unattributed;
	e->loss.close_lost = ks->close_lost;
	e->kstats_ring1_dropped = ks->ring1_dropped;
	for (unsigned op = 0; op < NERRF_OP_MAX; op++) {
		lost += ks->kernel_lost[op];
		if (!ks->kernel_lost[op])
			continue;
		e->by_op[n].key = (char *)(nerrf_op_name(op) ? nerrf_op_name(op) : "none");
		e->by_op[n++].value = ks->kernel_lost[op];
	}
	e->loss.kernel_lost = lost;
	e->loss.n_kernel_lost_by_syscall = n;
	n = 0;
	for (unsigned cpu = 0; cpu < ks->nr_cpus; cpu++) {
		if (!ks->lost_by_cpu[cpu])
			continue;
		e->by_cpu[n].key = cpu;
		e->by_cpu[n++].value = ks->lost_by_cpu[cpu];
	}
	e->loss.n_kernel_lost_by_cpu = n;
}

static void malformed(struct encoder *e, const char *why)
{
	uint64_t n = ++e->loss.malformed;

	/* Every one when asked, otherwise the 1st, 2nd, 4th, ... so a flood cannot spam. */
	if (e->o.verbose || (n & (n - 1)) == 0)
		log_warnx("skipped a malformed record from ring #1 (%s); %llu so far. "
			"The collector may be from another build: rebuild and restart both",
			why, (unsigned long long)n);
}

bool enc_take(struct encoder *e, const void *rec, size_t len, uint64_t now_ns)
{
	const char *why = "record larger than any valid record";

	if (e->n >= e->o.max_batch || e->used >= e->o.max_batch_bytes) {
		/* the caller did not flush when told: packing on could overrun */
		log_warnx("internal error: batch full but not flushed");
		abort();
	}
	if (len > REC_BUF_SIZE) {
		malformed(e, why);
		return false;
	}
	memcpy(e->rec, rec, len);
	switch (enc_rec_check(e->rec, len, &why)) {
	case ENC_REC_MALFORMED:
		malformed(e, why);
		return false;
	case ENC_REC_STATS:
		take_stats(e);
		return false;
	case ENC_REC_EVENT:
		break;
	}

	convert(e, now_ns);
	if (((const struct nerrf_event *)e->rec)->ts_ns > e->r1_last_ns)
		e->r1_last_ns = ((const struct nerrf_event *)e->rec)->ts_ns;
	/*
	 * Pack first, then write the length in front: guessing its varint
	 * width (2 bytes: 128..16383, nearly every event) saves sizing the
	 * Event in a separate pass; a wrong guess costs one memmove.
	 * ENC_EVENT_WIRE_MAX of room is left, which bounds every event.
	 */
	uint8_t *p = e->buf + e->used;
	size_t sz = protobuf_c_message_pack(&e->ev.base, p + 3);
	size_t w = nerrf_varint_len(sz);
	if (w != 2)
		memmove(p + 1 + w, p + 3, sz);
	p[0] = 0x0a; /* EventBatch.events: field 1, length-delimited */
	nerrf_put_varint(p + 1, sz);
	e->used += 1 + w + sz;
	if (e->n++ == 0) {
		e->oldest_mono_ns = ((const struct nerrf_event *)e->rec)->ts_ns;
		e->batch_t0 = now_ns;
	}
	e->loss.encoder_events++;
	return e->n >= e->o.max_batch || e->used >= e->o.max_batch_bytes;
}

size_t enc_batch_size(struct encoder *e)
{
	e->meta.batch_seq = e->batch_seq + 1;
	return protobuf_c_message_get_packed_size(&e->meta.base) + e->used;
}

void enc_batch_pack(struct encoder *e, void *dst, size_t size)
{
	size_t meta = size - e->used;

	protobuf_c_message_pack(&e->meta.base, dst);
	memcpy((uint8_t *)dst + meta, e->buf, e->used);
	e->batch_seq++;
	e->n = 0;
	e->used = 0;
}
