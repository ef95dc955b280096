/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf tail against a live publisher: --json prints one valid JSON object
 * per event with the proto field names and the right values (ts as RFC 3339
 * with nanoseconds), the filters (--pid, --syscall, --path-prefix) keep only
 * matching events, and the table has its header and rows.
 */
#include "pubtest.h"

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
	char json_out[600], filt_out[600], table_out[600], cmd[1400];
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "tail-out");
	pid_t pub = pt_publisher(env.dir, env.err, NULL);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 1), NULL);

	char *json_args[] = {"--url", env.url, "--json", "--pid", "777", "--count", "4", NULL};
	char *filt_args[] = {"--url",	      env.url,   "--json",	"--syscall", "write",
			     "--path-prefix", "/pp", "--count", "2",	     NULL};
	char *table_args[] = {"--url", env.url, "--pid", "777", "--count", "4", NULL};
	pid_t t1 = start_tail(env.dir, "json", json_args, json_out);
	pid_t t2 = start_tail(env.dir, "filt", filt_args, filt_out);
	pid_t t3 = start_tail(env.dir, "table", table_args, table_out);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 4), NULL);

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

	const char *j = pt_slurp(json_out);
	CHECK_EQ_U64(count_lines(j), 4);
	CHECK(strstr(j, "{\"ts\":\"2023-11-14T22:13:22.000000000Z\",\"pid\":777,\"tid\":0,") == j,
	      "first line: %s", j);
	CHECK(strstr(j, "\"comm\":\"pubtest\",\"syscall\":\"openat\",\"path\":\"/ppppppp\","
			"\"new_path\":\"\",\"ret_val\":3,\"bytes\":2000,") != NULL,
	      "%s", j);
	CHECK(strstr(j, "\"syscall\":\"write\",\"path\":\"/ppppppp\",\"new_path\":\"\","
			"\"ret_val\":4096,\"bytes\":3001,") != NULL,
	      "%s", j);
	CHECK(strstr(j, "\"pid\":1,") == NULL, "--pid 777 let pid 1 through: %s", j);
	/* Every line is JSON a stock parser accepts. */
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' < %s", json_out);
	CHECK(system(cmd) == 0, "tail --json output is not valid JSON lines: %s", j);

	const char *f = pt_slurp(filt_out);
	CHECK_EQ_U64(count_lines(f), 2);
	CHECK(strstr(f, "\"openat\"") == NULL, "--syscall write let openat through: %s", f);
	CHECK(strstr(f, "\"pid\":1,") != NULL, "the first write is pid 1's: %s", f);

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
