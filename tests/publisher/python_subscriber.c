/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Python example subscriber (clients/python/nerrf_subscribe.py: ctypes
 * nng + generated trace_pb2) receives a live publisher's batches and prints
 * the events as JSON with the proto field names.
 */
#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"

int main(void)
{
	struct pt_env env;
	char out[600], perr[600], pid_arg[16];
	static uint8_t rec[1 << 16];

	pt_env_init(&env, "pysub");
	snprintf(out, sizeof(out), "%s/py.out", env.dir);
	snprintf(perr, sizeof(perr), "%s/py.err", env.dir);
	pid_t pub = pt_publisher(env.dir, env.err, NULL);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 1), NULL);

	snprintf(pid_arg, sizeof(pid_arg), "%d", 31337);
	char *argv[] = {(char *)pt_bin("NERRF_PYTHON"),
			(char *)pt_bin("NERRF_PYSUB"),
			"--url",
			env.url,
			"--pid",
			pid_arg,
			"--count",
			"3",
			NULL};
	pid_t py = pt_spawn_io(argv, perr, out);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 2), NULL);

	size_t n = pt_make_batch(rec, sizeof(rec), 1, 2, 1, 8);
	CHECK(pt_put(env.r2, rec, n) == 0);
	n = pt_make_batch(rec, sizeof(rec), 2, 4, 31337, 12);
	CHECK(pt_put(env.r2, rec, n) == 0);

	int rc = pt_wait_exit(py, 20000);
	if (rc < 0)
		kill(py, SIGKILL);
	CHECK(rc == 0, "python subscriber exit %d: %s", rc, pt_slurp(perr));
	const char *o = pt_slurp(out);
	CHECK(strstr(o, "\"pid\": 31337") != NULL, "%s", o);
	CHECK(strstr(o, "\"pid\": 1,") == NULL, "--pid filter: %s", o);
	CHECK(strstr(o, "\"path\": \"/ppppppppppp\"") != NULL, "%s", o);
	CHECK(strstr(o, "\"syscall\": \"write\"") != NULL, "%s", o);
	CHECK(strstr(o, "\"ret_val\": \"4096\"") != NULL, "int64 in proto JSON: %s", o);
	CHECK(strstr(o, "\"ts\": \"2023-11-14T22:13:22") != NULL, "%s", o);
	unsigned lines = 0;
	for (const char *p = o; *p; p++)
		lines += *p == '\n';
	CHECK_EQ_U64(lines, 3);

	pt_stop(pub);
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
