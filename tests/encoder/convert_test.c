/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every Event field, from records written into a real ring #1 through the
 * real nerrf-encoder (with --raw-sample) to the EventBatch read from ring #2.
 */
#include <fcntl.h>

#include "enc_run.h"

#define CID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define NREC 11

static _Alignas(8) uint8_t buf[REC_BUF];
static Nerrf__Trace__Event *got[NREC];
static uint64_t sent_mono[NREC];

static struct nerrf_event *ev(void)
{
	return (struct nerrf_event *)buf;
}

static void send(struct enc_run *t, unsigned i, size_t len)
{
	ev()->seq = 100 + i;
	ev()->ts_ns = sent_mono[i] = nerrf_mono_ns();
	put_rec(t, buf, len);
}

static void check_common(const Nerrf__Trace__Event *e, unsigned i, const char *syscall)
{
	CHECK_STR(e->syscall, syscall);
	CHECK_EQ_U64(e->pid, 4242);
	CHECK_EQ_U64(e->tid, 4243);
	CHECK_EQ_U64(e->ppid, 1);
	CHECK_EQ_U64(e->uid, 1000);
	CHECK_EQ_U64(e->gid, 1001);
	CHECK_EQ_U64(e->mnt_ns, 4026531841u);
	CHECK_STR(e->comm, "victim");
	CHECK_EQ_U64(e->cpu, 1);
	CHECK_EQ_U64(e->seq, 100 + i);
	CHECK_EQ_U64(e->mono_ns, sent_mono[i]);
	/* wall clock: within a second of ours, taken just now */
	CHECK(e->ts != NULL);
	int64_t wall = e->ts->seconds * 1000000000 + e->ts->nanos;
	int64_t mine = (int64_t)nerrf_now_ns(CLOCK_REALTIME);
	CHECK(wall <= mine && mine - wall < 1000000000, "ts %lld vs now %lld", (long long)wall,
	      (long long)mine);
}

int main(int argc, char **argv)
{
	struct enc_run t;
	char cgroot[300], ctr[400];
	struct stat st;
	uint8_t zeros[64] = {0}, all[256], args[] = "ls\0-l\0/tm";
	size_t n;

	CHECK(argc == 2, "usage: convert_test NERRF_ENCODER");
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)(255 - i);

	/* A cgroup tree naming one docker container, for container_id. */
	snprintf(cgroot, sizeof(cgroot), "%s", test_tmpdir("convert-cg"));
	snprintf(ctr, sizeof(ctr), "%s/docker-%s.scope", cgroot, CID);
	CHECK(mkdir(ctr, 0755) == 0);
	CHECK(stat(ctr, &st) == 0);

	const char *extra[] = {"--raw-sample", "--cgroup-root", cgroot, NULL};
	enc_start(&t, "convert", argv[1], 1 << 20, extra);

	/* 0: openat, in the container, through a relative name */
	n = build_event(buf, NERRF_OP_OPENAT, "/home/u/doc.txt", NULL, "doc.txt", NULL, 0);
	ev()->arg_flags = O_WRONLY | O_CREAT | O_TRUNC;
	ev()->mode = 0644;
	ev()->ino = 123456789;
	ev()->dev = (8u << 20) | 1;
	ev()->cgroup_id = st.st_ino;
	send(&t, 0, n);
	/* 1, 2: writes with a uniform and an all-distinct sample */
	n = build_event(buf, NERRF_OP_WRITE, "/home/u/doc.txt", NULL, NULL, zeros, 64);
	ev()->bytes = 4096;
	ev()->ret = 4096;
	ev()->flags = NERRF_EF_DATA_TRUNC;
	send(&t, 1, n);
	n = build_event(buf, NERRF_OP_PWRITE64, "/home/u/doc.txt", NULL, NULL, all, 256);
	ev()->bytes = 256;
	ev()->offset = 8192;
	send(&t, 2, n);
	/* 3: rename to .locked, with renameat2 flags */
	n = build_event(buf, NERRF_OP_RENAMEAT2, "/home/u/doc.txt", "/home/u/doc.txt.locked",
			NULL, NULL, 0);
	ev()->arg_flags = 1; /* RENAME_NOREPLACE */
	ev()->ret = 0;
	send(&t, 3, n);
	/* 4: setxattr: path2 is the attribute name */
	n = build_event(buf, NERRF_OP_SETXATTR, "/home/u/doc.txt.locked", "user.ransom", NULL,
			NULL, 0);
	ev()->bytes = 12;
	send(&t, 4, n);
	/* 5: execve with an argv head whose last argument was cut */
	n = build_event(buf, NERRF_OP_EXECVE, "/usr/bin/ls", NULL, NULL, args, sizeof(args) - 1);
	ev()->flags = NERRF_EF_DATA_TRUNC;
	send(&t, 5, n);
	/* 6: fork: header only */
	n = build_event(buf, NERRF_OP_FORK, NULL, NULL, NULL, NULL, 0);
	send(&t, 6, n);
	/* 7: a name that is not UTF-8 */
	n = build_event(buf, NERRF_OP_UNLINKAT, "/tmp/\xff\xfe.locked", NULL, NULL, NULL, 0);
	ev()->flags = NERRF_EF_PATH_FALLBACK;
	send(&t, 7, n);
	/* 8: chmod, failed */
	n = build_event(buf, NERRF_OP_FCHMODAT, "/etc/shadow", NULL, NULL, NULL, 0);
	ev()->mode = 0777;
	ev()->ret = -13;
	send(&t, 8, n);
	/* 9: a #! script: path2 is its interpreter */
	n = build_event(buf, NERRF_OP_EXECVE, "/home/u/run.sh", "/usr/bin/dash", "./run.sh",
			NULL, 0);
	send(&t, 9, n);
	/* 10: a close summary: 3 writes, [0, 8192), created and truncated */
	n = build_event(buf, NERRF_OP_CLOSE, "/home/u/doc.txt", NULL, NULL, all, 256);
	ev()->bytes = 8192;
	ev()->count = 3;
	ev()->offset = 0;
	ev()->ret = 8192;
	ev()->mode = NERRF_CS_TRUNC | NERRF_CS_CREATED;
	ev()->arg_flags = O_WRONLY | O_CREAT | O_TRUNC;
	send(&t, 10, n);

	unsigned have = 0;
	uint64_t last_seq = 0;
	Nerrf__Trace__EventBatch *batches[NREC];
	unsigned nb = 0;
	while (have < NREC) {
		Nerrf__Trace__EventBatch *b = next_batch(&t, 10000);
		CHECK(b != NULL, "only %u of %d events arrived", have, NREC);
		CHECK_EQ_U64(b->batch_seq, last_seq + 1);
		last_seq = b->batch_seq;
		CHECK_STR(b->hostname, "test-host");
		CHECK(strlen(b->boot_id) == 36, "boot_id \"%s\"", b->boot_id);
		uint64_t wall = nerrf_now_ns(CLOCK_REALTIME);
		CHECK(b->encoder_start_ns <= wall && wall - b->encoder_start_ns < 60000000000ull);
		CHECK(b->loss != NULL);
		CHECK_EQ_U64(b->loss->malformed, 0);
		CHECK_EQ_U64(b->loss->seq_gaps, 0);
		for (size_t i = 0; i < b->n_events; i++) {
			CHECK(have < NREC, "more events than sent");
			got[have++] = b->events[i];
		}
		CHECK_EQ_U64(b->loss->encoder_events, have);
		batches[nb++] = b;
	}
	for (unsigned i = 0; i < NREC; i++)
		CHECK_EQ_U64(got[i]->seq, 100 + i); /* in order */

	Nerrf__Trace__Event *e = got[0];
	check_common(e, 0, "openat");
	CHECK_STR(e->path, "/home/u/doc.txt");
	CHECK_STR(e->raw_path, "doc.txt");
	CHECK_STR(e->new_path, "");
	CHECK_EQ_U64(e->flags, O_WRONLY | O_CREAT | O_TRUNC);
	CHECK_EQ_U64(e->arg_flags, 0);
	CHECK_EQ_U64(e->mode, 0644);
	CHECK_EQ_U64(e->ret_val, 3);
	CHECK_EQ_U64(e->fd, 3);
	CHECK_EQ_U64(e->inode, 123456789);
	CHECK_EQ_U64(e->dev, (8u << 20) | 1);
	CHECK_EQ_U64(e->cgroup_id, st.st_ino);
	CHECK_STR(e->container_id, CID);
	CHECK_EQ_U64(e->offset, -1);
	CHECK_EQ_U64(e->sample_len, 0);

	e = got[1];
	check_common(e, 1, "write");
	CHECK_EQ_U64(e->bytes, 4096);
	CHECK_EQ_U64(e->ret_val, 4096);
	CHECK(e->write_entropy == 0.0f, "entropy of zeros %f", (double)e->write_entropy);
	CHECK_EQ_U64(e->sample_len, 64);
	CHECK(e->sample.len == 64 && memcmp(e->sample.data, zeros, 64) == 0);
	CHECK_EQ_U64(e->trunc_flags, NERRF_EF_DATA_TRUNC);
	CHECK_STR(e->container_id, "");

	e = got[2];
	check_common(e, 2, "pwrite64");
	CHECK(e->write_entropy > 7.999f && e->write_entropy <= 8.0001f, "entropy %f",
	      (double)e->write_entropy);
	CHECK(e->sample.len == 256 && memcmp(e->sample.data, all, 256) == 0);
	CHECK_EQ_U64(e->offset, 8192);

	e = got[3];
	check_common(e, 3, "renameat2");
	CHECK_STR(e->path, "/home/u/doc.txt");
	CHECK_STR(e->new_path, "/home/u/doc.txt.locked");
	CHECK_EQ_U64(e->arg_flags, 1);
	CHECK_EQ_U64(e->flags, 0);
	CHECK_EQ_U64(e->ret_val, 0);

	e = got[4];
	check_common(e, 4, "setxattr");
	CHECK_STR(e->xattr_name, "user.ransom");
	CHECK_STR(e->new_path, "");
	CHECK_EQ_U64(e->bytes, 12);

	e = got[5];
	check_common(e, 5, "execve");
	CHECK_STR(e->path, "/usr/bin/ls");
	CHECK_EQ_U64(e->n_argv, 3);
	CHECK_STR(e->argv[0], "ls");
	CHECK_STR(e->argv[1], "-l");
	CHECK_STR(e->argv[2], "/tm");
	CHECK_EQ_U64(e->sample_len, 0);
	CHECK_EQ_U64(e->sample.len, 0);

	e = got[6];
	check_common(e, 6, "fork");
	CHECK_STR(e->path, "");
	CHECK_EQ_U64(e->n_argv, 0);

	e = got[7];
	check_common(e, 7, "unlinkat");
	CHECK_STR(e->path, "/tmp/??.locked");
	CHECK_EQ_U64(e->trunc_flags, NERRF_EF_PATH_FALLBACK | (1u << 6));

	e = got[8];
	check_common(e, 8, "fchmodat");
	CHECK_EQ_U64(e->mode, 0777);
	CHECK_EQ_U64(e->ret_val, -13);
	CHECK_EQ_U64(e->trunc_flags, 0);

	e = got[9];
	check_common(e, 9, "execve");
	CHECK_STR(e->path, "/home/u/run.sh");
	CHECK_STR(e->interpreter, "/usr/bin/dash");
	CHECK_STR(e->new_path, "");
	CHECK_STR(e->raw_path, "./run.sh");

	e = got[10];
	check_common(e, 10, "close");
	CHECK_STR(e->path, "/home/u/doc.txt");
	CHECK_EQ_U64(e->bytes, 8192);
	CHECK_EQ_U64(e->write_count, 3);
	CHECK_EQ_U64(e->offset, 0);
	CHECK_EQ_U64(e->range_end, 8192);
	CHECK_EQ_U64(e->ret_val, 0);
	CHECK_EQ_U64(e->mode, 0);
	CHECK_EQ_U64(e->close_flags, NERRF_CS_TRUNC | NERRF_CS_CREATED);
	CHECK_EQ_U64(e->flags, O_WRONLY | O_CREAT | O_TRUNC);
	CHECK(e->write_entropy > 7.999f, "entropy %f", (double)e->write_entropy);
	CHECK_EQ_U64(e->sample_len, 256);

	for (unsigned i = 0; i < nb; i++)
		nerrf__trace__event_batch__free_unpacked(batches[i], NULL);
	enc_stop(&t);
	CHECK(rmdir(ctr) == 0 && rmdir(cgroot) == 0);
	return 0;
}
