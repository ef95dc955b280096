/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Names any local user chooses (file and task names) and the host names and
 * counters' keys in Stats never reach a terminal raw: nerrf tail's table and
 * nerrf stats show control characters (C0, DEL, C1, bidirectional overrides)
 * and bytes that are not UTF-8 as \xNN and a backslash as \\, and nerrf tail
 * --json stays valid UTF-8 JSON that decodes to the name (U+FFFD for the
 * bytes JSON cannot carry).
 */
#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"
#include "tjson.h"

/* ESC sequences, a newline with a fake row after it, invalid UTF-8, a backslash, C1 CSI, RLO. */
#define EVIL_PATH                                                                                  \
	"/tmp/a\x1b]0;pwned\x07" "b\n05:00:00.000000    1 root openat 0 /etc/shadow"               \
	"\xff\xfe\x80\xc3\xa9\\n\xc2\x9b\xe2\x80\xae\x7f\xed\xa0\x80\xc0\xaf"
#define EVIL_PATH_TEXT                                                                             \
	"/tmp/a\\x1b]0;pwned\\x07" "b\\x0a05:00:00.000000    1 root openat 0 /etc/shadow"           \
	"\\xff\\xfe\\x80\xc3\xa9\\\\n\\xc2\\x9b\\xe2\\x80\\xae\\x7f\\xed\\xa0\\x80\\xc0\\xaf"
#define EVIL_PATH_JSON                                                                             \
	"/tmp/a\\u001b]0;pwned\\u0007" "b\\n05:00:00.000000    1 root openat 0 /etc/shadow"         \
	"\\ufffd\\ufffd\\ufffd\xc3\xa9\\\\n\\u009b\\u202e\\u007f\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"
#define EVIL_COMM "ev\x1b[31mil"

static size_t evil_batch(uint8_t *buf, size_t cap)
{
	Nerrf__Trace__EventBatch b = NERRF__TRACE__EVENT_BATCH__INIT;
	Nerrf__Trace__Event ev = NERRF__TRACE__EVENT__INIT, *evp = &ev;
	ev.pid = 4242;
	ev.comm = EVIL_COMM;
	ev.syscall = "rename\r";
	ev.path = EVIL_PATH;
	ev.new_path = "/x\x1b[2J";
	ev.ret_val = 0;
	b.n_events = 1;
	b.events = &evp;
	b.batch_seq = 1;
	return pt_pack_batch(buf, cap, &b);
}

static size_t evil_stats(uint8_t *buf, size_t cap)
{
	Nerrf__Trace__Stats st = NERRF__TRACE__STATS__INIT;
	Nerrf__Trace__LossCounters loss = NERRF__TRACE__LOSS_COUNTERS__INIT;
	Nerrf__Trace__LossCounters__KernelLostBySyscallEntry e =
		NERRF__TRACE__LOSS_COUNTERS__KERNEL_LOST_BY_SYSCALL_ENTRY__INIT,
							     *ep = &e;
	e.key = "\x1b[1Aopenat";
	e.value = 5;
	loss.n_kernel_lost_by_syscall = 1;
	loss.kernel_lost_by_syscall = &ep;
	st.hostname = "h\x1b[2Jost\nfake";
	st.stage_state = "encoder=up\r\xff";
	st.loss = &loss;
	return pt_pack_stats(buf, cap, &st);
}

/* Nothing a terminal would act on: only printable UTF-8 and line ends. */
static void check_inert(const char *what, const char *path)
{
	char cmd[1400];
	const char *o = pt_slurp(path);
	for (const unsigned char *p = (const unsigned char *)o; *p; p++)
		CHECK(*p >= 0x20 ? *p != 0x7f : *p == '\n', "%s: raw byte 0x%02x at offset %zu: %s",
		      what, *p, (size_t)(p - (const unsigned char *)o), o);
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import sys; t = open(sys.argv[1], \"rb\").read().decode(\"utf-8\"); "
		 "sys.exit(any(0x80 <= ord(c) <= 0x9f or 0x202a <= ord(c) <= 0x202e for c in t))' %s",
		 path);
	CHECK(system(cmd) == 0, "%s: not UTF-8, or C1 or bidi controls: %s", what, o);
}

static pid_t run_cli(const char *dir, const char *name, char *out, char *const args[])
{
	char err[600];
	char *argv[16];
	int argc = 0;
	snprintf(out, 600, "%s/%s.out", dir, name);
	snprintf(err, sizeof(err), "%s/%s.err", dir, name);
	argv[argc++] = (char *)pt_bin("NERRF_CLI");
	for (int i = 0; args[i]; i++)
		argv[argc++] = args[i];
	argv[argc] = NULL;
	return pt_spawn_io(argv, err, out);
}

int main(void)
{
	struct pt_env env;
	char table_out[600], json_out[600], stats_out[600];
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "tail-escape");
	pid_t pub = pt_publisher(env.dir, env.err, NULL);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 1), NULL);

	char *table_args[] = {"tail", "--url", env.url, "--count", "1", NULL};
	char *json_args[] = {"tail", "--url", env.url, "--json", "--count", "1", NULL};
	pid_t t1 = run_cli(env.dir, "table", table_out, table_args);
	pid_t t2 = run_cli(env.dir, "json", json_out, json_args);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 3), NULL);
	size_t n = evil_batch(rec, sizeof(rec));
	CHECK(pt_put(env.r2, rec, n) == 0);
	CHECK(pt_wait_exit(t1, 10000) == 0, "tail (table) exit");
	CHECK(pt_wait_exit(t2, 10000) == 0, "tail --json exit");

	check_inert("tail table", table_out);
	const char *t = pt_slurp(table_out);
	CHECK(strstr(t, " ev\\x1b[31mil    rename\\x0d     0 " EVIL_PATH_TEXT
			" -> /x\\x1b[2J\n") != NULL,
	      "the row: %s", t);

	const char *j = pt_slurp(json_out);
	CHECK(strstr(j, "\"comm\":\"ev\\u001b[31mil\",\"syscall\":\"rename\\u000d\",\"path\":\"" EVIL_PATH_JSON
			"\",\"new_path\":\"/x\\u001b[2J\"") != NULL,
	      "%s", j);
	/* ... and a JSON parser reads the names back. */
	json_object *l = tj_lines(j);
	CHECK(tj_is(tj_line(l, 0), "comm", EVIL_COMM) && tj_is(tj_line(l, 0), "syscall", "rename\r"),
	      "%s", j);
	json_object_put(l);

	/* nerrf stats: the publisher passes the encoder's Stats on; keep them coming. */
	char *stats_args[] = {"stats", "--url", env.url, "--once", NULL};
	n = evil_stats(rec, sizeof(rec));
	CHECK(pt_put(env.r2, rec, n) == 0);
	pid_t sp = run_cli(env.dir, "stats", stats_out, stats_args);
	int rc;
	uint64_t end = nerrf_mono_ms() + 10000;
	while ((rc = pt_wait_exit(sp, 100)) < 0 && nerrf_mono_ms() < end)
		CHECK(pt_put(env.r2, rec, n) == 0);
	CHECK(rc == 0, "nerrf stats --once exit %d", rc);
	check_inert("nerrf stats", stats_out);
	const char *s = pt_slurp(stats_out);
	CHECK(strstr(s, " host h\\x1b[2Jost\\x0afake  subscribers 2  encoder=up\\x0d\\xff\n") !=
		      NULL,
	      "%s", s);
	CHECK(strstr(s, "  kernel     lost \\x1b[1Aopenat                  5\n") != NULL, "%s", s);

	pt_stop(pub);
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
