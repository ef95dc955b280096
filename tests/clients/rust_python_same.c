/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One JSON dialect (docs/PROTOCOL.md, "JSON"): nerrf tail --json (C, from
 * protobuf-c's descriptors), nerrf-subscribe (Rust, serde_json) and the
 * Python subscriber (protobuf's own json_format) print the same values for
 * the same messages: every Event field, names that are not UTF-8 with their
 * exact bytes, and a Stats with nested counters, maps, a capture gap and a
 * double; with --all-fields, nerrf tail and nerrf-subscribe print the
 * zeros alike too. Compared as parsed JSON, never as bytes (spacing and
 * escapes differ).
 */
#include "rusttest.h"

/* A Stats with every kind of field: nested messages, both maps, Timestamps, doubles. */
static size_t rich_stats(uint8_t *buf, size_t cap)
{
	Nerrf__Trace__Stats st = NERRF__TRACE__STATS__INIT;
	Nerrf__Trace__LossCounters loss = NERRF__TRACE__LOSS_COUNTERS__INIT;
	Nerrf__Trace__CaptureGap gap = NERRF__TRACE__CAPTURE_GAP__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT, t0 = ts, t1 = ts;
	Nerrf__Trace__LossCounters__KernelLostByCpuEntry c[2], *cp[2] = {&c[0], &c[1]};
	Nerrf__Trace__LossCounters__KernelLostBySyscallEntry y[2], *yp[2] = {&y[0], &y[1]};

	for (int i = 0; i < 2; i++) {
		nerrf__trace__loss_counters__kernel_lost_by_cpu_entry__init(&c[i]);
		nerrf__trace__loss_counters__kernel_lost_by_syscall_entry__init(&y[i]);
	}
	c[0].key = 0, c[0].value = 5, c[1].key = 3, c[1].value = 1ull << 60;
	y[0].key = "write", y[0].value = 4, y[1].key = "rename\x1b", y[1].value = 0;
	loss.kernel_emitted = 7;
	loss.kernel_lost = 9;
	loss.n_kernel_lost_by_cpu = 2;
	loss.kernel_lost_by_cpu = cp;
	loss.n_kernel_lost_by_syscall = 2;
	loss.kernel_lost_by_syscall = yp;
	loss.capture_gaps = 1;
	loss.capture_gap_ns = 2500000000ull;
	t0.seconds = 1700000000, t0.nanos = 120000;
	t1.seconds = 1700000002, t1.nanos = 620000000;
	gap.start_mono_ns = 1, gap.end_mono_ns = 2500000001ull;
	gap.start = &t0, gap.end = &t1;
	gap.cause = "collector died";
	loss.last_capture_gap = &gap;
	ts.seconds = 1700000005;
	st.ts = &ts;
	st.hostname = "testhost";
	st.loss = &loss;
	st.events_per_sec = 1234.0625;
	st.batches_per_sec = 0.1;
	st.stage_state = "encoder=up";
	st.version = "1.2.3";
	return pt_pack_stats(buf, cap, &st);
}

/* A batch of one event whose names are not UTF-8: the string forms and the exact bytes. */
static size_t bytes_batch(uint8_t *buf, size_t cap, uint64_t batch_seq)
{
	Nerrf__Trace__EventBatch b = NERRF__TRACE__EVENT_BATCH__INIT;
	Nerrf__Trace__Event ev = NERRF__TRACE__EVENT__INIT, *evp = &ev;
	static uint8_t raw[] = "/srv/inv\xff\xfe" "alid.doc";
	static char *argv[] = {"cp", "-r"};
	static ProtobufCBinaryData argvb[] = {{2, (uint8_t *)"cp"}, {2, (uint8_t *)"-r"}};

	ev.pid = 4242;
	ev.syscall = "openat";
	ev.path = "/srv/inv??alid.doc";
	ev.path_bytes.len = sizeof(raw) - 1;
	ev.path_bytes.data = raw;
	ev.n_argv = 2;
	ev.argv = argv;
	ev.n_argv_bytes = 2;
	ev.argv_bytes = argvb;
	ev.trunc_flags = 64;
	ev.write_entropy = 7.9f; /* a float whose double differs: each prints its shortest form */
	ev.loginuid = 4294967295u;
	b.n_events = 1;
	b.events = &evp;
	b.batch_seq = batch_seq;
	return pt_pack_batch(buf, cap, &b);
}

/* The lines of out, parsed, without the publisher's own stats (which depend on when each joined). */
static json_object *values(const char *out)
{
	json_object *all = tj_lines(out), *kept = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *l = tj_line(all, i);
		const char *state = tj_get(l, "stats.stage_state");
		if (state && strstr(state, "encoder=silent"))
			continue;
		json_object_array_add(kept, json_object_get(l));
	}
	json_object_put(all);
	return kept;
}

int main(void)
{
	const char *bin = rt_build();
	const char *py = getenv("NERRF_PYTHON"), *pysub = getenv("NERRF_PYSUB");
	if (!py || access(py, X_OK) != 0 || !pysub)
		test_skip("no Python with python3-protobuf (scripts/install-deps) to compare with");
	struct pt_env env;
	char rout[600], rerr[600], pout[600], perr[600], cout[600], cerr[600];
	char raout[600], raerr[600], caout[600], caerr[600];
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "rust-py");
	snprintf(rout, sizeof(rout), "%s/rust.out", env.dir);
	snprintf(rerr, sizeof(rerr), "%s/rust.err", env.dir);
	snprintf(pout, sizeof(pout), "%s/py.out", env.dir);
	snprintf(perr, sizeof(perr), "%s/py.err", env.dir);
	snprintf(cout, sizeof(cout), "%s/tail.out", env.dir);
	snprintf(cerr, sizeof(cerr), "%s/tail.err", env.dir);
	snprintf(raout, sizeof(raout), "%s/rust-all.out", env.dir);
	snprintf(raerr, sizeof(raerr), "%s/rust-all.err", env.dir);
	snprintf(caout, sizeof(caout), "%s/tail-all.out", env.dir);
	snprintf(caerr, sizeof(caerr), "%s/tail-all.err", env.dir);
	pid_t pub = pt_publisher(env.dir, env.err, NULL);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 1), NULL);

	pid_t rs = rt_subscriber(bin, rout, rerr, "--url", env.url, "--stats", "--count", "4", NULL);
	char *pargv[] = {(char *)py, (char *)pysub, "--url", env.url, "--stats", "--count", "4", NULL};
	pid_t ps = pt_spawn_io(pargv, perr, pout);
	char *cargv[] = {(char *)pt_bin("NERRF_CLI"), "tail", "--url", env.url, "--json", "--stats",
			 "--count", "4", NULL};
	pid_t cs = pt_spawn_io(cargv, cerr, cout);
	pid_t ras = rt_subscriber(bin, raout, raerr, "--url", env.url, "--stats", "--all-fields",
				  "--count", "4", NULL);
	char *caargv[] = {(char *)pt_bin("NERRF_CLI"), "tail", "--url", env.url, "--json",
			  "--all-fields", "--stats", "--count", "4", NULL};
	pid_t cas = pt_spawn_io(caargv, caerr, caout);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 6), NULL);

	size_t n = rich_stats(rec, sizeof(rec));
	CHECK(pt_put(env.r2, rec, n) == 0);
	n = rt_rich_batch(rec, sizeof(rec), 9);
	CHECK(pt_put(env.r2, rec, n) == 0);
	n = bytes_batch(rec, sizeof(rec), 10);
	CHECK(pt_put(env.r2, rec, n) == 0);

	int rc = pt_wait_exit(rs, 20000), pc = pt_wait_exit(ps, 20000), cc = pt_wait_exit(cs, 20000);
	for (pid_t p = rc < 0 ? rs : 0; p; p = 0)
		kill(p, SIGKILL);
	for (pid_t p = pc < 0 ? ps : 0; p; p = 0)
		kill(p, SIGKILL);
	for (pid_t p = cc < 0 ? cs : 0; p; p = 0)
		kill(p, SIGKILL);
	CHECK(rc == 0, "nerrf-subscribe exit %d: %s", rc, pt_slurp(rerr));
	CHECK(pc == 0, "python subscriber exit %d: %s", pc, pt_slurp(perr));
	CHECK(cc == 0, "nerrf tail exit %d: %s", cc, pt_slurp(cerr));
	CHECK(pt_wait_exit(ras, 20000) == 0, "nerrf-subscribe --all-fields: %s", pt_slurp(raerr));
	CHECK(pt_wait_exit(cas, 20000) == 0, "nerrf tail --all-fields: %s", pt_slurp(caerr));
	json_object *ra = values(pt_slurp(raout)), *ca = values(pt_slurp(caout));
	CHECK(tj_is(tj_line(ra, 2), "tid", "0") && tj_is(tj_line(ra, 2), "inode", "0") &&
		      tj_is(tj_line(ra, 2), "path", ""),
	      "--all-fields prints the zeros: %s", json_object_to_json_string(tj_line(ra, 2)));
	CHECK(json_object_equal(ra, ca), "--all-fields: Rust and nerrf tail differ:\n%s\n%s",
	      json_object_to_json_string(ra), json_object_to_json_string(ca));
	json_object_put(ra);
	json_object_put(ca);
	json_object *r = values(pt_slurp(rout)), *p = values(pt_slurp(pout)),
		    *c = values(pt_slurp(cout));
	CHECK_EQ_U64(json_object_array_length(r), 5);
	json_object *s = tj_line(r, 0);
	CHECK(json_object_get_double(tj_at(s, "stats.events_per_sec")) == 1234.0625 &&
		      tj_is(s, "stats.loss.kernel_lost_by_cpu.3", "1152921504606846976") &&
		      tj_is(s, "stats.loss.last_capture_gap.end", "2023-11-14T22:13:22.620Z"),
	      "%s", json_object_to_json_string(s));
	CHECK(tj_equal(tj_line(r, 1), RT_LINE0), "%s", json_object_to_json_string(tj_line(r, 1)));
	CHECK(tj_is(tj_line(r, 4), "path_bytes", "L3Nydi9pbnb//mFsaWQuZG9j"), "%s",
	      json_object_to_json_string(tj_line(r, 4)));
	CHECK(json_object_equal(r, p), "Rust and Python differ:\n%s\n%s",
	      json_object_to_json_string(r), json_object_to_json_string(p));
	CHECK(json_object_equal(c, p), "nerrf tail and Python differ:\n%s\n%s",
	      json_object_to_json_string(c), json_object_to_json_string(p));

	json_object_put(r);
	json_object_put(p);
	json_object_put(c);
	pt_stop(pub);
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
