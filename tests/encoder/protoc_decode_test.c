/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the encoder writes to ring #2 (after the r2 header) is an EventBatch
 * that stock protoc decodes against proto/trace.proto; so is its Stats message.
 */
#include "enc_run.h"

static _Alignas(8) uint8_t buf[REC_BUF];

/* protoc --decode TYPE of the bytes; returns its text output (caller frees). */
static char *decode(const char *protoc, const char *proto_dir, const char *type,
		    const uint8_t *msg, size_t len, const char *dir)
{
	char in[400], out[400], cmd[2048];
	FILE *f;

	snprintf(in, sizeof(in), "%s/msg.bin", dir);
	snprintf(out, sizeof(out), "%s/msg.txt", dir);
	f = fopen(in, "wb");
	CHECK(f && fwrite(msg, 1, len, f) == len && fclose(f) == 0);
	snprintf(cmd, sizeof(cmd), "'%s' --decode %s -I '%s' -I /usr/include '%s/trace.proto' "
		 "< '%s' > '%s'", protoc, type, proto_dir, proto_dir, in, out);
	int st = system(cmd);
	CHECK(st == 0, "protoc failed (%#x): %s", st, cmd);
	f = fopen(out, "r");
	CHECK(f != NULL);
	char *text = calloc(1, 1 << 16);
	CHECK(text != NULL);
	fread(text, 1, (1 << 16) - 1, f);
	fclose(f);
	unlink(in);
	unlink(out);
	return text;
}

static void expect(const char *text, const char *want)
{
	if (!strstr(text, want))
		FAIL("protoc output lacks '%s':\n%s", want, text);
}

int main(int argc, char **argv)
{
	struct enc_run t;
	struct nerrf_r2_hdr h;

	CHECK(argc == 4, "usage: protoc_decode_test NERRF_ENCODER PROTOC PROTO_DIR");
	enc_start(&t, "protoc", argv[1], 1 << 20, NULL);

	size_t n = build_event(buf, NERRF_OP_RENAMEAT, "/srv/data/report.docx",
			       "/srv/data/report.docx.locked", NULL, NULL, 0);
	((struct nerrf_event *)buf)->ts_ns = nerrf_mono_ns();
	put_rec(&t, buf, n);

	uint8_t *msg = next_r2(&t, NERRF_R2_BATCH, &h, 10000);
	CHECK(msg != NULL, "no batch");
	char *text = decode(argv[2], argv[3], "nerrf.trace.EventBatch", msg, h.len, t.dir);
	expect(text, "events {");
	expect(text, "path: \"/srv/data/report.docx\"");
	expect(text, "new_path: \"/srv/data/report.docx.locked\"");
	expect(text, "syscall: \"renameat\"");
	expect(text, "comm: \"victim\"");
	expect(text, "pid: 4242");
	expect(text, "batch_seq: 1");
	expect(text, "hostname: \"test-host\"");
	expect(text, "encoder_events: 1");
	free(text);
	free(msg);

	/* the once-a-second Stats message */
	msg = next_r2(&t, NERRF_R2_STATS, &h, 5000);
	CHECK(msg != NULL, "no stats message within 5 s");
	CHECK_EQ_U64(h.batch_seq, 0);
	text = decode(argv[2], argv[3], "nerrf.trace.Stats", msg, h.len, t.dir);
	expect(text, "hostname: \"test-host\"");
	expect(text, "encoder_events: 1");
	expect(text, "ring1_capacity: 1048576");
	free(text);
	free(msg);

	enc_stop(&t);
	return 0;
}
