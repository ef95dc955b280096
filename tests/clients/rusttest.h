/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the clients/rust tests: build the nerrf-client crate and its
 * nerrf-subscribe with Debian's cargo from the vendored registry, and batches that set every Event field.
 * The publisher side (ring #2, nerrf-publisher, stats) is the shared test
 * library, tests/lib.
 */
#ifndef NERRF_RUSTTEST_H
#define NERRF_RUSTTEST_H

#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"
#include "tjson.h"

#define RT_CARGO "/usr/bin/cargo"
#define RT_RUSTC "/usr/bin/rustc"
#define RT_RUSTDOC "/usr/bin/rustdoc"

/*
 * Runs cargo with args (NULL-terminated) in the crate, with Debian's
 * toolchain only, offline, into this build folder, extra environment
 * variables set (NAME=VALUE, NULL-terminated; may be NULL); returns the
 * exit status, with cargo's output in log.
 */
static inline int rt_cargo(const char *log, char *const env[], char *const args[])
{
	static char home[600], tdir[600], *vars[24];
	const char *src = getenv("NERRF_RUST_SRC"), *target = getenv("NERRF_RUST_TARGET");
	char *argv[16] = {RT_CARGO};
	int n = 0;

	if (access(RT_CARGO, X_OK) != 0 || access(RT_RUSTC, X_OK) != 0)
		test_skip("%s or %s missing: install Debian's cargo and rustc "
			  "(scripts/install-deps) to test clients/rust", RT_CARGO, RT_RUSTC);
	CHECK(src && target, "meson test sets NERRF_RUST_SRC and NERRF_RUST_TARGET");
	for (int i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	/* Debian's toolchain only, whatever else is on PATH or in ~/.cargo. */
	snprintf(tdir, sizeof(tdir), "CARGO_TARGET_DIR=%s", target);
	snprintf(home, sizeof(home), "CARGO_HOME=%s/cargo-home", target);
	vars[n++] = tdir;
	vars[n++] = home;
	vars[n++] = "RUSTC=" RT_RUSTC;
	vars[n++] = "RUSTDOC=" RT_RUSTDOC;
	for (int i = 0; env && env[i] && n < 23; i++)
		vars[n++] = env[i];
	vars[n] = NULL;
	/* cargo finds .cargo/config.toml (the vendored registry) from its cwd */
	pid_t pid = pt_start(argv, &(struct pt_child){ .err = log, .out = log, .cwd = src,
						     .env = vars });
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Builds the crate (a no-op when it is up to date) and returns the binary.
 * --locked: a Cargo.lock that no longer matches Debian's crates is an
 * error, not a silent rewrite of the source tree.
 */
static inline const char *rt_build(void)
{
	static char bin[600];
	char log[600];
	const char *src = getenv("NERRF_RUST_SRC"), *target = getenv("NERRF_RUST_TARGET");
	char *args[] = {"build", "--offline", "--locked", NULL};

	CHECK(src && target, "meson test sets NERRF_RUST_SRC and NERRF_RUST_TARGET");
	snprintf(bin, sizeof(bin), "%s/debug/nerrf-subscribe", target);
	snprintf(log, sizeof(log), "%s.build-%d.log", target, getpid());
	int st = rt_cargo(log, NULL, args);
	CHECK(st == 0, "cargo build in %s failed (status %d):\n%s", src, st, pt_slurp(log));
	unlink(log);
	CHECK(access(bin, X_OK) == 0, "cargo built no %s", bin);
	return bin;
}

/*
 * A ring #2 record holding one EventBatch: event 0 sets every field (with
 * strings that need escaping), event 1 only pid and syscall, event 2 the
 * pid of event 0 and a millisecond timestamp.
 */
static inline size_t rt_rich_batch(uint8_t *buf, size_t cap, uint64_t batch_seq)
{
	Nerrf__Trace__EventBatch b = NERRF__TRACE__EVENT_BATCH__INIT;
	Nerrf__Trace__Event ev[3], *evp[3] = {&ev[0], &ev[1], &ev[2]};
	Google__Protobuf__Timestamp ts0 = GOOGLE__PROTOBUF__TIMESTAMP__INIT, ts2 = ts0;
	static char *argv[] = {"sh", "-c", "echo\t1"};
	static uint8_t sample[] = {'M', 'a', 'n'};

	for (unsigned i = 0; i < 3; i++)
		nerrf__trace__event__init(&ev[i]);
	ts0.seconds = 1700000002;
	ts0.nanos = 1;
	ev[0].ts = &ts0;
	ev[0].pid = 4242;
	ev[0].tid = 4243;
	ev[0].comm = "bash";
	ev[0].syscall = "renameat2";
	ev[0].path = "/home/u/a \"q\"\\.txt";
	ev[0].new_path = "/home/u/\xc3\xa9.locked";
	ev[0].ret_val = -2;
	ev[0].bytes = 1ull << 40;
	ev[0].flags = 577;
	ev[0].ppid = 1;
	ev[0].uid = 1000;
	ev[0].gid = 1001;
	ev[0].mode = 0644;
	ev[0].offset = -1;
	ev[0].inode = 123456789012ull;
	ev[0].dev = 8u << 20 | 1;
	ev[0].cgroup_id = 9999999999ull;
	ev[0].container_id = "abc123";
	ev[0].mnt_ns = 4026531841u;
	ev[0].fd = -100;
	ev[0].seq = 77;
	ev[0].cpu = 1;
	ev[0].mono_ns = 123456789;
	ev[0].raw_path = "a.txt";
	ev[0].arg_flags = 1;
	ev[0].xattr_name = "user.x";
	ev[0].n_argv = 3;
	ev[0].argv = argv;
	ev[0].write_entropy = 7.5f;
	ev[0].sample_len = 3;
	ev[0].sample.len = sizeof(sample);
	ev[0].sample.data = sample;
	ev[0].trunc_flags = 16;
	static uint8_t laddr[] = {10, 0, 0, 5}, raddr[] = {93, 184, 216, 34};
	ev[0].family = 2;
	ev[0].sock_type = 1;
	ev[0].protocol = 6;
	ev[0].local_addr = "10.0.0.5";
	ev[0].local_port = 40000;
	ev[0].remote_addr = "93.184.216.34";
	ev[0].remote_port = 443;
	ev[0].local_addr_bytes = (ProtobufCBinaryData){sizeof(laddr), laddr};
	ev[0].remote_addr_bytes = (ProtobufCBinaryData){sizeof(raddr), raddr};
	ev[0].bytes_received = 1256;
	ev[0].first_mono_ns = 1000;
	ev[0].last_mono_ns = 2000;
	ev[1].pid = 7;
	ev[1].syscall = "exit";
	ts2.seconds = 1700000003;
	ts2.nanos = 5000000;
	ev[2].ts = &ts2;
	ev[2].pid = 4242;
	ev[2].syscall = "write";
	ev[2].bytes = 4096;

	b.n_events = 3;
	b.events = evp;
	b.batch_seq = batch_seq;
	b.hostname = "testhost";
	return pt_pack_batch(buf, cap, &b);
}

/* The values of rt_rich_batch's events in proto3 JSON (docs/PROTOCOL.md, "JSON"). */
#define RT_LINE0                                                                                 \
	"{\"ts\": \"2023-11-14T22:13:22.000000001Z\", \"pid\": 4242, \"tid\": 4243, "            \
	"\"comm\": \"bash\", \"syscall\": \"renameat2\", \"path\": \"/home/u/a \\\"q\\\"\\\\.txt\", " \
	"\"new_path\": \"/home/u/\\u00e9.locked\", \"ret_val\": \"-2\", "                        \
	"\"bytes\": \"1099511627776\", \"flags\": 577, \"ppid\": 1, \"uid\": 1000, \"gid\": 1001, " \
	"\"mode\": 420, \"offset\": \"-1\", \"inode\": \"123456789012\", \"dev\": 8388609, "     \
	"\"cgroup_id\": \"9999999999\", \"container_id\": \"abc123\", \"mnt_ns\": 4026531841, "  \
	"\"fd\": -100, \"seq\": \"77\", \"cpu\": 1, \"mono_ns\": \"123456789\", "                \
	"\"raw_path\": \"a.txt\", \"arg_flags\": \"1\", \"xattr_name\": \"user.x\", "            \
	"\"argv\": [\"sh\", \"-c\", \"echo\\t1\"], \"write_entropy\": 7.5, \"sample_len\": 3, "  \
	"\"sample\": \"TWFu\", \"trunc_flags\": 16, \"family\": 2, \"sock_type\": 1, "         \
	"\"protocol\": 6, \"local_addr\": \"10.0.0.5\", \"local_port\": 40000, "               \
	"\"remote_addr\": \"93.184.216.34\", \"remote_port\": 443, "                          \
	"\"local_addr_bytes\": \"CgAABQ==\", \"remote_addr_bytes\": \"XbjYIg==\", "             \
	"\"bytes_received\": \"1256\", \"first_mono_ns\": \"1000\", \"last_mono_ns\": \"2000\"}"
#define RT_LINE1 "{\"pid\": 7, \"syscall\": \"exit\"}"
#define RT_LINE2                                                                                 \
	"{\"ts\": \"2023-11-14T22:13:23.005Z\", \"pid\": 4242, \"syscall\": \"write\", "         \
	"\"bytes\": \"4096\"}"

/* Starts nerrf-subscribe with args (NULL-terminated), stdout and stderr to files. */
static inline pid_t rt_subscriber(const char *bin, const char *out, const char *err, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;
	argv[argc++] = (char *)bin;
	va_start(ap, err);
	for (char *a; (a = va_arg(ap, char *)) && argc < 15;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return pt_spawn_io(argv, err, out);
}

/* Whether the lines of out hold the values of the JSON objects want (NULL-terminated). */
static inline bool rt_same(const char *out, const char *const want[])
{
	json_object *l = tj_lines(out);
	size_t n = 0;
	bool same = true;
	for (; want[n]; n++)
		same = same && n < json_object_array_length(l) && tj_equal(tj_line(l, n), want[n]);
	same = same && n == json_object_array_length(l);
	json_object_put(l);
	return same;
}

#endif /* NERRF_RUSTTEST_H */
