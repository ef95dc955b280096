/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf tail against a live publisher: --json prints one valid JSON object
 * per event, proto3 JSON with the proto field names and the right values (ts
 * as RFC 3339, 64-bit integers as strings, fields at 0 or empty left out
 * unless --all-fields), the filters (--pid, --syscall, --path-prefix) keep only
 * matching events, and the table has its header and rows.
 */
#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"
#include "tjson.h"

static pid_t start_tail(const char *dir, const char *name, char *const extra[], char *out)
{
	char err[600];
	char *argv[32];
	int argc = 0;
	snprintf(out, 600, "%s/%s.out", dir, name);
	snprintf(err, sizeof(err), "%s/%s.err", dir, name);
	argv[argc++] = (char *)pt_bin("NERRF_CLI");
	argv[argc++] = (char *)"tail";
	for (int i = 0; extra[i]; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	return pt_spawn_io(argv, err, out);
}

static unsigned count_lines(const char *s)
{
	unsigned n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

int main(void)
{
	struct pt_env env;
	char json_out[600], filt_out[600], table_out[600], all_out[600];
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "tail-out");
	pid_t pub = pt_publisher(env.dir, env.err, NULL);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 1), NULL);

	char *json_args[] = {"--url", env.url, "--json", "--pid", "777", "--count", "4", NULL};
	char *filt_args[] = {"--url",	      env.url,   "--json",	"--syscall", "write",
			     "--path-prefix", "/pp", "--count", "2",	     NULL};
	char *table_args[] = {"--url", env.url, "--pid", "777", "--count", "4", NULL};
	char *all_args[] = {"--url", env.url, "--json", "--all-fields", "--count", "1", NULL};
	pid_t t1 = start_tail(env.dir, "json", json_args, json_out);
	pid_t t2 = start_tail(env.dir, "filt", filt_args, filt_out);
	pid_t t3 = start_tail(env.dir, "table", table_args, table_out);
	pid_t t4 = start_tail(env.dir, "all", all_args, all_out);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 5), NULL);

	/* pid 1 first (filtered out by --pid), then two batches for pid 777. */
	size_t n = pt_make_batch(rec, sizeof(rec), 1, 2, 1, 8);
	CHECK(pt_put(env.r2, rec, n) == 0);
	for (uint64_t s = 2; s <= 3; s++) {
		n = pt_make_batch(rec, sizeof(rec), s, 2, 777, 8);
		CHECK(pt_put(env.r2, rec, n) == 0);
	}
	CHECK(pt_wait_exit(t1, 10000) == 0, "tail --json --count 4 exited 0");
	CHECK(pt_wait_exit(t2, 10000) == 0, "tail with filters exited 0");
	CHECK(pt_wait_exit(t3, 10000) == 0, "tail (table) exited 0");
	CHECK(pt_wait_exit(t4, 10000) == 0, "tail --all-fields exited 0");

	json_object *j = tj_lines(pt_slurp(json_out));
	CHECK_EQ_U64(json_object_array_length(j), 4);
	json_object *l0 = tj_line(j, 0), *l1 = tj_line(j, 1);
	CHECK(tj_is(l0, "ts", "2023-11-14T22:13:22Z") && tj_is(l0, "pid", "777") &&
		      tj_is(l0, "comm", "pubtest") && tj_is(l0, "syscall", "openat") &&
		      tj_is(l0, "path", "/ppppppp") && tj_is(l0, "ret_val", "3") &&
		      tj_is(l0, "bytes", "2000"),
	      "first line: %s", json_object_to_json_string(l0));
	/* Zero and empty fields are left out; 64-bit integers are strings. */
	CHECK(!tj_at(l0, "tid") && !tj_at(l0, "new_path") && !tj_at(l0, "flags"),
	      "%s", json_object_to_json_string(l0));
	CHECK(json_object_is_type(tj_at(l0, "bytes"), json_type_string) &&
		      json_object_is_type(tj_at(l0, "pid"), json_type_int),
	      "%s", json_object_to_json_string(l0));
	CHECK(tj_is(l1, "ts", "2023-11-14T22:13:22.000000001Z") && tj_is(l1, "tid", "1") &&
		      tj_is(l1, "syscall", "write") && tj_is(l1, "ret_val", "4096") &&
		      tj_is(l1, "bytes", "2001"),
	      "second line: %s", json_object_to_json_string(l1));
	CHECK(tj_count(pt_slurp(json_out), "pid", "1") == 0, "--pid 777 let pid 1 through");
	json_object_put(j);

	/* --all-fields: every field of Event, zeros too. */
	json_object *a = tj_lines(pt_slurp(all_out));
	CHECK_EQ_U64(json_object_array_length(a), 1);
	l0 = tj_line(a, 0);
	CHECK(tj_is(l0, "tid", "0") && tj_is(l0, "new_path", "") && tj_is(l0, "inode", "0") &&
		      tj_is(l0, "loginuid", "0") &&
		      json_object_array_length(tj_at(l0, "argv_bytes")) == 0,
	      "--all-fields: %s", json_object_to_json_string(l0));
	json_object_put(a);

	const char *f = pt_slurp(filt_out);
	CHECK_EQ_U64(count_lines(f), 2);
	CHECK(tj_count(f, "syscall", "write") == 2, "--syscall write let openat through: %s", f);
	CHECK(tj_count(f, "pid", "1") == 1, "the first write is pid 1's: %s", f);

	const char *t = pt_slurp(table_out);
	CHECK(strncmp(t, "TIME", 4) == 0 && strstr(t, "SYSCALL") && strstr(t, "PATH"),
	      "table header: %s", t);
	CHECK_EQ_U64(count_lines(t), 5);
	CHECK(strstr(t, "777 pubtest         openat         3 /ppppppp 2000\n") != NULL, "row: %s",
	      t);
	CHECK(strstr(t, "write       4096 /ppppppp 3001\n") != NULL, "row: %s", t);

	pt_stop(pub);
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
