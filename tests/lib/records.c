/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "harness.h"
#include "records.h"

size_t build_event(void *buf, unsigned op, const char *path, const char *path2, const char *raw,
		   const void *data, unsigned data_len)
{
	struct nerrf_event *ev = buf;
	char *s = ev->strings;

	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = NERRF_REC_EVENT;
	ev->cpu = 1;
	ev->op = (uint16_t)op;
	ev->seq = 1;
	ev->tgid = 4242;
	ev->tid = 4243;
	ev->ppid = 1;
	ev->uid = 1000;
	ev->gid = 1001;
	ev->mnt_ns = 4026531841u;
	ev->cgroup_id = 0;
	ev->ret = 3;
	memcpy(ev->comm, "victim", 7);
	ev->fd = 3;
	ev->offset = -1;
#define PUT(str, field)                                                                 \
	do {                                                                            \
		ev->field = (str) ? (uint16_t)(strlen(str) + 1) : 0;                    \
		if (str)                                                                \
			memcpy(s, (str), ev->field);                                    \
		s += ev->field;                                                         \
	} while (0)
	PUT(path, path_len);
	PUT(path2, path2_len);
	PUT(raw, raw_len);
#undef PUT
	ev->data_len = (uint16_t)data_len;
	if (data_len)
		memcpy(s, data, data_len);
	s += data_len;
	ev->hdr.size = (uint32_t)(s - (char *)buf);
	return ev->hdr.size;
}

size_t pt_pack(uint8_t *buf, size_t cap, struct nerrf_r2_hdr h, const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	CHECK(sizeof(h) + len <= cap);
	h.len = (uint32_t)len;
	memcpy(buf, &h, sizeof(h));
	protobuf_c_message_pack(m, buf + sizeof(h));
	return sizeof(h) + len;
}

size_t pt_pack_batch(uint8_t *buf, size_t cap, const Nerrf__Trace__EventBatch *b)
{
	struct nerrf_r2_hdr h = {
		.kind = NERRF_R2_BATCH, .batch_seq = b->batch_seq, .nevents = (uint32_t)b->n_events};
	return pt_pack(buf, cap, h, &b->base);
}

size_t pt_pack_stats(uint8_t *buf, size_t cap, const Nerrf__Trace__Stats *st)
{
	return pt_pack(buf, cap, (struct nerrf_r2_hdr){.kind = NERRF_R2_STATS}, &st->base);
}

size_t pt_make_batch(uint8_t *buf, size_t cap, uint64_t batch_seq, unsigned n, uint32_t pid,
		     size_t pathlen)
{
	Nerrf__Trace__EventBatch b = NERRF__TRACE__EVENT_BATCH__INIT;
	Nerrf__Trace__LossCounters loss = NERRF__TRACE__LOSS_COUNTERS__INIT;
	Nerrf__Trace__Event ev[256], *evp[256];
	Google__Protobuf__Timestamp ts[256];
	char path[1024];

	CHECK(n <= 256 && pathlen < sizeof(path) - 1);
	memset(path, 'p', pathlen);
	path[0] = '/';
	path[pathlen] = '\0';
	for (unsigned i = 0; i < n; i++) {
		nerrf__trace__event__init(&ev[i]);
		google__protobuf__timestamp__init(&ts[i]);
		ts[i].seconds = 1700000000 + (int64_t)batch_seq;
		ts[i].nanos = (int32_t)i;
		ev[i].ts = &ts[i];
		ev[i].pid = pid;
		ev[i].tid = i;
		ev[i].comm = (char *)"pubtest";
		ev[i].syscall = (char *)(i % 2 ? "write" : "openat");
		ev[i].path = path;
		ev[i].new_path = (char *)"";
		ev[i].ret_val = i % 2 ? 4096 : 3;
		ev[i].bytes = batch_seq * 1000 + i;
		evp[i] = &ev[i];
	}
	loss.encoder_events = batch_seq * n;
	b.n_events = n;
	b.events = evp;
	b.batch_seq = batch_seq;
	b.hostname = (char *)"testhost";
	b.boot_id = (char *)"";
	b.loss = &loss;
	b.encoder_start_ns = 42;

	return pt_pack_batch(buf, cap, &b);
}

size_t pt_make_stats(uint8_t *buf, size_t cap, double events_per_sec)
{
	Nerrf__Trace__Stats st = NERRF__TRACE__STATS__INIT;
	Nerrf__Trace__LossCounters loss = NERRF__TRACE__LOSS_COUNTERS__INIT;
	loss.kernel_emitted = 7;
	st.hostname = (char *)"testhost";
	st.loss = &loss;
	st.events_per_sec = events_per_sec;
	st.stage_state = (char *)"encoder=up";
	return pt_pack_stats(buf, cap, &st);
}
