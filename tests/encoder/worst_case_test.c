/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The largest events a valid record can give (every string not UTF-8, so
 * sent twice) pack within ENC_EVENT_WIRE_MAX,
 * the room the batch buffer keeps free (events are packed without sizing them
 * first), and come back whole. Run under ASan, an overrun would also show.
 */
#include <sys/stat.h>

#include "encoder.h"
#include "harness.h"

#define CID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static _Alignas(8) uint8_t rec[NERRF_EVENT_MAX];

static size_t biggest(unsigned op, uint64_t cgid)
{
	struct nerrf_event *ev = (struct nerrf_event *)rec;
	char *s = ev->strings;

	memset(rec, 0, sizeof(rec));
	ev->hdr.type = NERRF_REC_EVENT;
	ev->op = (uint16_t)op;
	ev->cpu = ENC_MAX_CPUS - 1;
	ev->flags = 0xffff;
	ev->seq = UINT64_MAX - 1;
	ev->ts_ns = UINT64_MAX / 4;
	ev->tgid = ev->tid = ev->ppid = ev->uid = ev->gid = ev->mnt_ns = UINT32_MAX;
	ev->cgroup_id = cgid;
	ev->ret = INT64_MIN;
	memset(ev->comm, 0xe9, NERRF_COMM_LEN - 1); /* not UTF-8 either */
	ev->fd = -1;
	ev->mode = UINT32_MAX;
	ev->arg_flags = UINT64_MAX;
	ev->bytes = UINT64_MAX;
	ev->offset = INT64_MIN;
	ev->ino = UINT64_MAX;
	ev->dev = UINT32_MAX;
	ev->path_len = ev->path2_len = NERRF_PATH_MAX;
	ev->raw_len = NERRF_RAW_MAX;
	ev->data_len = NERRF_DATA_MAX;
	/* no string is UTF-8: each travels twice, readable and exact (*_bytes) */
	memset(s, 0xff, NERRF_PATH_MAX - 1);
	s += NERRF_PATH_MAX;
	memset(s, 0xfe, NERRF_PATH_MAX - 1);
	s += NERRF_PATH_MAX;
	memset(s, 0xfd, NERRF_RAW_MAX - 1);
	s += NERRF_RAW_MAX;
	/* data left all NUL but the first byte: for exec, one argument that is
	 * not UTF-8, so every argument travels twice, then empty ones */
	if (op != NERRF_OP_EXECVE)
		memset(s, 0xff, NERRF_DATA_MAX);
	else
		s[0] = (char)0xff;
	s += NERRF_DATA_MAX;
	ev->hdr.size = (uint32_t)(s - (char *)rec);
	return ev->hdr.size;
}

int main(void)
{
	static const unsigned ops[] = {NERRF_OP_EXECVE, NERRF_OP_PWRITEV2, NERRF_OP_RENAMEAT2,
				       NERRF_OP_FSETXATTR};
	char cgroot[300], ctr[400];
	struct stat st;

	snprintf(cgroot, sizeof(cgroot), "%s", test_tmpdir("worst-cg"));
	snprintf(ctr, sizeof(ctr), "%s/libpod-%s.scope", cgroot, CID);
	CHECK(mkdir(ctr, 0755) == 0 && stat(ctr, &st) == 0);

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct enc_opts o = {
			.max_batch = 4, .max_batch_bytes = 16 << 10, .raw_sample = true,
			.hostname = "h", .cgroup_root = cgroot,
		};
		struct encoder e;
		char err[256];
		CHECK(enc_init(&e, &o, err, sizeof(err)) == 0, "%s", err);
		size_t n = biggest(ops[i], st.st_ino);
		CHECK(n == NERRF_EVENT_MAX, "record of %zu bytes", n);
		enc_take(&e, rec, n, 1);
		CHECK_EQ_U64(e.loss.malformed, 0);
		CHECK(e.used <= ENC_EVENT_WIRE_MAX, "op %u packs to %zu > %zu", ops[i], e.used,
		      (size_t)ENC_EVENT_WIRE_MAX);

		size_t size = enc_batch_size(&e);
		uint8_t *buf = malloc(size);
		CHECK(buf != NULL);
		enc_batch_pack(&e, buf, size);
		Nerrf__Trace__EventBatch *b = nerrf__trace__event_batch__unpack(NULL, size, buf);
		CHECK(b && b->n_events == 1, "op %u does not unpack", ops[i]);
		Nerrf__Trace__Event *ev = b->events[0];
		CHECK_EQ_U64(strlen(ev->path), NERRF_PATH_MAX - 1);
		CHECK_EQ_U64(strlen(ev->raw_path), NERRF_RAW_MAX - 1);
		CHECK_STR(ev->container_id, CID);
		CHECK_STR(ev->comm, "???????????????");
		CHECK_EQ_U64(ev->path_bytes.len, NERRF_PATH_MAX - 1);
		CHECK(ev->path_bytes.data[0] == 0xff && ev->path_bytes.data[NERRF_PATH_MAX - 2] == 0xff);
		CHECK_EQ_U64(ev->raw_path_bytes.len, NERRF_RAW_MAX - 1);
		CHECK_EQ_U64(ev->comm_bytes.len, NERRF_COMM_LEN - 1);
		if (ops[i] == NERRF_OP_EXECVE) {
			/* "\xff" and then empty ones */
			CHECK_EQ_U64(ev->n_argv, NERRF_DATA_MAX - 1);
			CHECK_EQ_U64(ev->n_argv_bytes, ev->n_argv);
			CHECK(ev->argv_bytes[0].len == 1 && ev->argv_bytes[0].data[0] == 0xff);
			CHECK_EQ_U64(ev->argv_bytes[1].len, 0);
		}
		if (ops[i] == NERRF_OP_PWRITEV2)
			CHECK_EQ_U64(ev->sample.len, NERRF_DATA_MAX);
		if (ops[i] == NERRF_OP_FSETXATTR)
			CHECK_EQ_U64(strlen(ev->xattr_name), NERRF_PATH_MAX - 1);
		else if (ops[i] == NERRF_OP_EXECVE)
			CHECK_EQ_U64(strlen(ev->interpreter), NERRF_PATH_MAX - 1);
		else
			CHECK_EQ_U64(strlen(ev->new_path), NERRF_PATH_MAX - 1);
		nerrf__trace__event_batch__free_unpacked(b, NULL);
		free(buf);
		enc_fini(&e);
	}
	CHECK(rmdir(ctr) == 0 && rmdir(cgroot) == 0);
	return 0;
}
