/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Liveness end to end: the encoder knows whether the collector is alive (the
 * connection that handed it ring #1 is open) and says so in Stats, with its
 * version; `nerrf stats --once` names a collector that is down and exits 5,
 * and exits 0 while it runs. The test stands in the collector's place.
 */
#include "e2e.h"
#include "nerrf_version.h"

static int stats_once(const struct e2e *e, const char *out, const char *err)
{
	char *argv[] = {(char *)pt_bin("NERRF_CLI"), "stats", "--once", "--url", (char *)e->url,
			NULL};
	return pt_wait_exit(pt_spawn_io(argv, err, out), 15000);
}

int main(void)
{
	struct e2e e = {0};
	char err_enc[PATH_MAX + 16], err_pub[PATH_MAX + 16], out[PATH_MAX + 16], err[PATH_MAX + 16];
	struct nerrf_ring_prod *r1;
	struct nerrf_ring_server *srv;
	const char *msg = NULL;

	e2e_require("the stage liveness test", false);
	e2e_dirs(&e, "e2e-down");
	CHECK(mkdir(e.rundir, 0755) == 0);
	snprintf(err_enc, sizeof(err_enc), "%s/encoder.err", e.dir);
	snprintf(err_pub, sizeof(err_pub), "%s/publisher.err", e.dir);
	snprintf(out, sizeof(out), "%s/stats.out", e.dir);
	snprintf(err, sizeof(err), "%s/stats.err", e.dir);
	CHECK(nerrf_ring_create("test-ring1", 1 << 20, &r1, &msg) == 0, "%s", msg);
	CHECK(nerrf_ring_listen(e.rundir, NERRF_RING1_NAME, 0660, r1, &srv, &msg) == 0, "%s", msg);

	char *enc_argv[] = {(char *)e2e_stage("encoder"), "--rundir", e.rundir, NULL};
	char *pub_argv[] = {(char *)e2e_stage("publisher"), "--rundir", e.rundir, "--no-journal",
			    NULL};
	pid_t enc = pt_spawn(enc_argv, err_enc);
	pid_t pub = pt_spawn(pub_argv, err_pub);
	CHECK(nerrf_ring_serve(srv, 10000) == 1, "the encoder never asked for ring #1: %s",
	      pt_slurp(err_enc));

	/* up: the encoder's stats carry its version; a report names nobody, exit 0 */
	nng_socket sub = pt_sub(e.url, NERRF_TOPIC_STATS);
	Nerrf__Trace__Stats *st = NULL;
	for (int i = 0; i < 50 && !(st && st->loss); i++) {
		if (st)
			nerrf__trace__stats__free_unpacked(st, NULL);
		nng_msg *m = pt_recv(sub, 200);
		st = m ? pt_decode_stats(m) : NULL;
		if (m)
			nng_msg_free(m);
	}
	CHECK(st && st->loss, "no stats from the encoder");
	CHECK_STR(st->version, NERRF_VERSION);
	CHECK_STR(st->stage_state, "collector=up encoder=up");
	nerrf__trace__stats__free_unpacked(st, NULL);
	nng_close(sub);
	int rc = stats_once(&e, out, err);
	CHECK(rc == 0, "nerrf stats --once: %d: %s", rc, pt_slurp(err));
	CHECK(strstr(pt_slurp(out), "collector=up") != NULL, "%s", pt_slurp(out));

	/* the collector goes away: the next report names it, exit 5 */
	nerrf_ring_server_close(srv);
	nerrf_ring_prod_close(r1);
	usleep(1500 * 1000); /* the encoder's next stats tick */
	rc = stats_once(&e, out, err);
	CHECK(rc == 5, "nerrf stats --once with the collector gone: %d: %s", rc, pt_slurp(err));
	CHECK(strstr(pt_slurp(err), "collector=down") != NULL, "not named: %s", pt_slurp(err));

	kill(enc, SIGTERM);
	kill(pub, SIGTERM);
	CHECK(pt_wait_exit(enc, 10000) == 0 && pt_wait_exit(pub, 10000) == 0);
	pt_rm_rf(e.dir);
	return 0;
}
