/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Python example subscriber (clients/python/nerrf_subscribe.py: ctypes
 * nng + generated trace_pb2) receives a live publisher's batches and prints
 * the events as JSON with the proto field names.
 */
#include "pubtest.h"

int main(void)
{
	char *dir = test_tmpdir("pysub");
	char url[512], err[600], out[600], perr[600], pid_arg[16];
	static uint8_t rec[1 << 16];

	snprintf(url, sizeof(url), "ipc://%s/events.sock", dir);
	snprintf(err, sizeof(err), "%s/publisher.err", dir);
	snprintf(out, sizeof(out), "%s/py.out", dir);
	snprintf(perr, sizeof(perr), "%s/py.err", dir);
	struct nerrf_ring *r2 = pt_ring2(dir, PT_RING2_CAP);
	pid_t pub = pt_publisher(dir, err, NULL);
	nng_socket st = pt_sub(url, NERRF_TOPIC_STATS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 1), NULL);

	snprintf(pid_arg, sizeof(pid_arg), "%d", 31337);
	char *argv[] = {(char *)pt_bin("NERRF_PYTHON"),
			(char *)pt_bin("NERRF_PYSUB"),
			"--url",
			url,
			"--pid",
			pid_arg,
			"--count",
			"3",
			NULL};
	pid_t py = pt_spawn_io(argv, perr, out);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 2), NULL);

	size_t n = pt_make_batch(rec, sizeof(rec), 1, 2, 1, 8);
	CHECK(pt_put(r2, rec, n) == 0);
	n = pt_make_batch(rec, sizeof(rec), 2, 4, 31337, 12);
	CHECK(pt_put(r2, rec, n) == 0);

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
	nerrf_ring_close(r2);
	pt_rm_rf(dir);
	return 0;
}
