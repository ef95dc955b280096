/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The real pipeline under `nerrf run --forward` (BPF, collector, encoder,
 * publisher with a journal, nerrf-forward as the stage user) and a real
 * nats-server: a traced process creates files; the stream on
 * nerrf.fleethost.events ends with every batch the publisher sent, once
 * each, and as many events as a local subscriber received.
 */
#include "pipeline/e2e.h"
#include "fwdtest.h"

#define NFILES 300

static void work(const struct e2e *e, int report_fd, void *arg)
{
	char p[PATH_MAX + 32];
	uint64_t n = NFILES;
	(void)arg;
	for (int i = 0; i < NFILES; i++) {
		snprintf(p, sizeof(p), "%s/f%d", e->work, i);
		int fd = open(p, O_CREAT | O_WRONLY, 0644);
		if (fd >= 0)
			close(fd);
	}
	if (write(report_fd, &n, sizeof(n)) != sizeof(n))
		_exit(1);
}

static unsigned count[1 << 16];

int main(void)
{
	struct e2e e = {0};
	struct ft_env t = {0};
	char jdir[700], sdir[700], sarg[720], url[64];
	uint64_t n;

	e2e_require("nerrf run --forward", true);
	if (access(e2e_stage("forward"), X_OK) != 0)
		test_skip("nerrf-forward is not built");
	ft_require_nats();
	e2e_dirs(&e, "fwd-run");
	snprintf(jdir, sizeof(jdir), "%s/journal", e.dir);
	snprintf(sdir, sizeof(sdir), "%s/fwdstate", e.dir);
	snprintf(sarg, sizeof(sarg), "--state-dir=%s", sdir);
	t.port = pt_free_port();
	snprintf(t.store, sizeof(t.store), "%s/nats", e.dir);
	snprintf(t.nats_err, sizeof(t.nats_err), "%s/nats.err", e.dir);
	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", t.port);
	ft_nats_start(&t);

	e2e_child(&e, work, NULL);
	char *extra[] = {"--journal", jdir, "--forward", url, "--forward-arg", sarg,
			 "--forward-arg", "--start=oldest", "--forward-arg", "--hostname=fleethost",
			 NULL};
	e2e_run(&e, extra);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	/* it reads once the child is done: room for every batch till then (one each, when slow) */
	CHECK(nng_socket_set_int(e.sub, NNG_OPT_RECVBUF, 8192) == 0);
	/* Our subscriber and the forwarder. */
	e2e_go(&e, e.sub, 2);
	CHECK(read(e.done_fd, &n, sizeof(n)) == sizeof(n), "the child's report");
	/* Until the stream is quiet: every batch the child's work made. */
	for (nng_msg *m; (m = pt_recv(e.sub, 2000));) {
		Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
		nng_msg_free(m);
		e2e_account(&e, b);
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
	uint64_t last = e.last_publisher_seq;
	CHECK(e.first_publisher_seq >= 1 && last < sizeof(count) / sizeof(count[0]) &&
	      e.delivered >= NFILES, "%llu events in publisher_seq %llu..%llu",
	      (unsigned long long)e.delivered, (unsigned long long)e.first_publisher_seq,
	      (unsigned long long)last);

	natsConnection *nc = ft_connect(url, NULL);
	jsCtx *js;
	CHECK(natsConnection_JetStream(&js, nc, NULL) == NATS_OK);
	uint64_t have = ft_wait_msgs(js, "NERRF", last, 30000);
	CHECK(have == last, "the stream holds %llu batches, the publisher sent %llu: %s",
	      (unsigned long long)have, (unsigned long long)last, pt_slurp(e.err));
	CHECK_EQ_U64(ft_read_stream(js, "NERRF", "nerrf.fleethost.events", count, last), last);
	ft_check_once(count, (unsigned)last);

	/* The events of the batches our subscriber saw are in the stream too. */
	uint64_t events = 0;
	jsErrCode jerr;
	for (uint64_t q = e.first_publisher_seq; q <= last; q++) {
		natsMsg *m;
		struct nerrf_batch_scan sc;
		CHECK(js_GetMsg(&m, js, "NERRF", q, NULL, &jerr) == NATS_OK);
		CHECK(nerrf_batch_scan((const uint8_t *)natsMsg_GetData(m),
				       (size_t)natsMsg_GetDataLength(m), &sc) == 0);
		events += sc.events;
		natsMsg_Destroy(m);
	}
	CHECK(events == e.delivered, "the stream holds %llu events of the batches a local "
	      "subscriber received %llu of", (unsigned long long)events,
	      (unsigned long long)e.delivered);
	CHECK(!strstr(pt_slurp(e.err), "forward_lost:"), "%s", pt_slurp(e.err));
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	e2e_finish(&e);
	ft_nats_stop(&t);
	return 0;
}
