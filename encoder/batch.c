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
	struct timespec now;

	memset(e, 0, sizeof(*e));
	e->o = *o;
	e->cap = o->max_batch_bytes + ENC_EVENT_WIRE_MAX;
	e->buf = malloc(e->cap);
	/* +1: room to terminate the last argv fragment, which may be cut short */
	e->rec = malloc(REC_BUF_SIZE + 1);
	e->last_seq = calloc(ENC_MAX_CPUS, sizeof(*e->last_seq));
	e->by_cpu = calloc(ENC_MAX_CPUS, sizeof(*e->by_cpu));
	e->by_cpu_p = calloc(ENC_MAX_CPUS, sizeof(*e->by_cpu_p));
	e->cg = enc_cgroups_new(o->cgroup_root);
	if (!e->buf || !e->rec || !e->last_seq || !e->by_cpu || !e->by_cpu_p || !e->cg) {
		snprintf(err, errlen, "out of memory for %zu-byte batches; lower --max-batch-bytes",
			 o->max_batch_bytes);
		enc_fini(e);
		return -ENOMEM;
	}

	nerrf__trace__event__init(&e->ev);
	google__protobuf__timestamp__init(&e->ts);
	e->ev.ts = &e->ts;
	e->ev.argv = e->argv;
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
	clock_gettime(CLOCK_REALTIME, &now);
	e->start_wall_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
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

/* s holds len bytes, the last one NUL (checked); 0 = absent. */
static char *str_field(struct encoder *e, char *s, size_t len)
{
	if (!len)
		return (char *)protobuf_c_empty_string;
	if (enc_utf8_fix(s, len - 1))
		e->ev.trunc_flags |= ENC_EF_BAD_UTF8;
	return s;
}

/* exec: the argv head, NUL-separated; the last argument may be cut short. */
static void split_argv(struct encoder *e, char *d, unsigned len)
{
	unsigned pos = 0;

	d[len] = '\0';
	e->ev.n_argv = 0;
	while (pos < len && e->ev.n_argv < ENC_ARGV_MAX) {
		char *arg = d + pos;
		size_t n = strlen(arg) + 1;

		pos += (unsigned)n;
		e->argv[e->ev.n_argv++] = str_field(e, arg, n);
	}
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
	int64_t wall = (int64_t)r->ts_ns + e->clock_off;

	e->ts.seconds = wall / 1000000000;
	e->ts.nanos = (int32_t)(wall % 1000000000);
	ev->pid = r->tgid;
	ev->tid = r->tid;
	ev->ppid = r->ppid;
	ev->uid = r->uid;
	ev->gid = r->gid;
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
	ev->comm = str_field(e, r->comm, strnlen(r->comm, sizeof(r->comm)) + 1);

	bool opens = op_in(r->op, NERRF_OP_OPEN, NERRF_OP_CREAT);
	ev->flags = opens ? (uint32_t)r->arg_flags : 0;
	ev->arg_flags = opens ? 0 : r->arg_flags;

	ev->path = str_field(e, s, r->path_len);
	s += r->path_len;
	ev->new_path = ev->xattr_name = (char *)protobuf_c_empty_string;
	if (op_in(r->op, NERRF_OP_SETXATTR, NERRF_OP_FREMOVEXATTR))
		ev->xattr_name = str_field(e, s, r->path2_len);
	else
		ev->new_path = str_field(e, s, r->path2_len);
	s += r->path2_len;
	ev->raw_path = str_field(e, s, r->raw_len);
	s += r->raw_len;

	ev->n_argv = 0;
	ev->write_entropy = 0;
	ev->sample_len = 0;
	ev->sample.len = 0;
	ev->sample.data = NULL;
	if (op_in(r->op, NERRF_OP_WRITE, NERRF_OP_PWRITEV2) && r->data_len) {
		ev->write_entropy = enc_entropy((const uint8_t *)s, r->data_len);
		ev->sample_len = r->data_len;
		if (e->o.raw_sample) {
			ev->sample.len = r->data_len;
			ev->sample.data = (uint8_t *)s;
		}
	} else if (op_in(r->op, NERRF_OP_EXECVE, NERRF_OP_EXECVEAT) && r->data_len) {
		split_argv(e, s, r->data_len);
	}
	seq_track(e, r);
}

static void take_stats(struct encoder *e)
{
	const struct nerrf_kstats *ks = (const struct nerrf_kstats *)e->rec;
	uint64_t lost = 0;
	size_t n = 0;

	e->loss.kernel_emitted = ks->kernel_emitted;
	e->loss.kernel_filtered = ks->kernel_filtered;
	e->kstats_ring1_dropped = ks->ring1_dropped;
	for (unsigned op = 0; op < NERRF_OP_MAX; op++) {
		lost += ks->kernel_lost[op];
		if (!ks->kernel_lost[op])
			continue;
		e->by_op[n].key = (char *)(op ? nerrf_op_name(op) : "none");
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
		fprintf(stderr,
			"nerrf-encoder: skipped a malformed record from ring #1 (%s); %llu so far. "
			"The collector may be from another build: rebuild and restart both\n",
			why, (unsigned long long)n);
}

bool enc_take(struct encoder *e, const void *rec, size_t len, uint64_t now_ns)
{
	const char *why = "record larger than any valid record";

	if (e->n >= e->o.max_batch || e->used >= e->o.max_batch_bytes) {
		/* the caller did not flush when told: packing on could overrun */
		fprintf(stderr, "nerrf-encoder: internal error: batch full but not flushed\n");
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
