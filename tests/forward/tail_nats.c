/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf tail --nats reads the fleet's stream: two forwarders (hosts alpha
 * and beta) put the same publisher's batches into one JetStream stream;
 * `nerrf tail --nats URL --from 1` prints every event of both, each with its
 * host (JSON "host", the table's HOST column), and --subject picks one host.
 */
#include "fwdtest.h"
#include "tjson.h"

#define TOTAL 100 /* batches of 2 events */

static pid_t tail(struct ft_env *t, const char *name, const char *count, char *out, char *err,
		  const char *extra1, const char *extra2, const char *extra3)
{
	snprintf(out, 700, "%s/%s.out", t->pt.dir, name);
	snprintf(err, 700, "%s/%s.err", t->pt.dir, name);
	char *argv[] = {(char *)pt_bin("NERRF_CLI"), "tail", "--nats", t->nats_url, "--from", "1",
			"--count", (char *)count, (char *)extra1, (char *)extra2, (char *)extra3,
			NULL};
	return pt_spawn_io(argv, err, out);
}

int main(void)
{
	struct ft_env t = {0};
	char out[700], err[700], sdir[700], ssock[700], serr[700];

	ft_init(&t, "fwd-tail-nats", true);
	ft_forward(&t, NULL, "--start", "oldest", "--hostname", "alpha", NULL);
	snprintf(sdir, sizeof(sdir), "%s/state-beta", t.pt.dir);
	snprintf(ssock, sizeof(ssock), "ipc://%s/beta.sock", t.pt.dir);
	snprintf(serr, sizeof(serr), "%s/beta.err", t.pt.dir);
	char *beta[] = {(char *)pt_bin("NERRF_FORWARD"), "--nats", t.nats_url, "--rundir", t.pt.dir,
			"--state-dir", sdir, "--stats-listen", ssock, "--hostname", "beta", "--start",
			"oldest", NULL};
	pid_t b = pt_spawn(beta, serr);
	struct ft_feed f = {.t = &t, .total = TOTAL, .rate = 1000, .events = 2};
	ft_feed_start(&f, 3);
	ft_feed_join(&f);

	natsConnection *nc = ft_connect(t.nats_url, NULL);
	jsCtx *js;
	CHECK(natsConnection_JetStream(&js, nc, NULL) == NATS_OK);
	CHECK(ft_wait_msgs(js, "NERRF", 2 * TOTAL, 30000) == 2 * TOTAL, "%s %s",
	      pt_slurp(t.fwd_err), pt_slurp(serr));

	pid_t p = tail(&t, "both", "400", out, err, "--json", NULL, NULL);
	CHECK(pt_wait_exit(p, 20000) == 0, "%s", pt_slurp(err));
	CHECK(tj_count_file(out, "host", "alpha") == 2 * TOTAL, "%s", pt_slurp(out));
	CHECK(tj_count_file(out, "host", "beta") == 2 * TOTAL, "%s", pt_slurp(out));

	p = tail(&t, "beta", "200", out, err, "--subject", "nerrf.beta.events", NULL);
	CHECK(pt_wait_exit(p, 20000) == 0, "%s", pt_slurp(err));
	CHECK(pt_count_lines(out, "HOST ") == 1, "%s", pt_slurp(out));
	CHECK(pt_count_lines(out, "beta ") == 2 * TOTAL, "%s", pt_slurp(out));
	CHECK(pt_count_lines(out, "alpha") == 0, "%s", pt_slurp(out));

	pt_stop(b);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	ft_free(&t);
	return 0;
}
