/* SPDX-License-Identifier: Apache-2.0 */
/*
 * With the real pipeline, a subscriber that stops reading for seconds slows
 * nobody: a second subscriber receives every batch (no publisher_seq gap)
 * and the pipeline's counters show no upstream drop.
 */
#include "e2e.h"

static void churn(const struct e2e *e, int report_fd, void *arg)
{
	char p[PATH_MAX + 16];
	(void)arg;
	/* ~3 s of steady file activity, well within the pipeline's capacity. */
	for (unsigned i = 0; i < 3000; i++) {
		snprintf(p, sizeof(p), "%s/churn%u", e->work, i % 16);
		int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fd >= 0) {
			if (write(fd, p, 32) < 0)
				_exit(1);
			close(fd);
		}
		usleep(1000);
	}
	char c = 'd';
	if (write(report_fd, &c, 1) != 1)
		_exit(1);
}

int main(void)
{
	struct e2e e = {0};
	char c;

	e2e_require("the end-to-end slow subscriber test", true);
	e2e_dirs(&e, "e2e-slow");
	e2e_child(&e, churn, NULL);
	fcntl(e.done_fd, F_SETFL, O_NONBLOCK);
	/*
	 * Queues small enough that the stalled subscriber overflows within the
	 * churn, large enough (with the reader's own receive queue) that a busy
	 * CI host descheduling the reader for a while does not.
	 */
	char *extra[] = {"--publisher-arg", "--sendbuf=64", NULL};
	e2e_run(&e, extra);
	nng_socket stalled = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	e.sub = pt_sub(e.url, NULL);
	CHECK(nng_socket_set_int(e.sub, NNG_OPT_RECVBUF, 8192) == 0);
	e2e_go(&e, e.sub, 2);
	/* The stalled subscriber's last word before it stops reading: a probe batch. */
	nng_msg *first = pt_recv(stalled, 5000);
	CHECK(first != NULL, "the stalled subscriber received nothing at all");
	Nerrf__Trace__EventBatch *fb = pt_decode_batch(first);
	uint64_t baseline = fb->publisher_seq;
	nerrf__trace__event_batch__free_unpacked(fb, NULL);
	nng_msg_free(first);

	/* The stalled subscriber reads nothing until the churn is over. */
	Nerrf__Trace__LossCounters *loss = NULL;
	bool child_done = false;
	uint64_t settle_until = 0;
	while (!child_done || nerrf_mono_ms() < settle_until) {
		if (!child_done && read(e.done_fd, &c, 1) == 1) {
			child_done = true;
			settle_until = nerrf_mono_ms() + 2500;
		}
		nng_msg *m = pt_recv(e.sub, 200);
		if (!m)
			continue;
		if (memcmp(nng_msg_body(m), NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0) {
			Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
			e2e_account(&e, b);
			nerrf__trace__event_batch__free_unpacked(b, NULL);
		} else {
			Nerrf__Trace__Stats *st = pt_decode_stats(m);
			if (st->loss) {
				if (loss)
					nerrf__trace__loss_counters__free_unpacked(loss, NULL);
				loss = st->loss;
				st->loss = NULL;
			}
			nerrf__trace__stats__free_unpacked(st, NULL);
		}
		nng_msg_free(m);
	}
	CHECK(e.batches > 0);
	CHECK_EQ_U64(e.publisher_gaps, 0);
	CHECK(loss != NULL, "no stats with loss counters");
	CHECK_EQ_U64(loss->kernel_lost, 0);
	CHECK_EQ_U64(loss->ring1_dropped, 0);
	CHECK_EQ_U64(loss->ring2_dropped, 0);
	CHECK_EQ_U64(loss->publish_errors, 0);
	CHECK(e.delivered >= 6000, "the churn's opens and writes arrived (%llu events)",
	      (unsigned long long)e.delivered);

	/*
	 * The stalled one lost batches (its queues dropped them), and can tell:
	 * publisher_seq advanced by more than it received.
	 */
	uint64_t got = 0, last = baseline;
	for (nng_msg *m; (m = pt_recv(stalled, 500)); nng_msg_free(m)) {
		Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
		CHECK(b->publisher_seq > last, "publisher_seq went backwards");
		last = b->publisher_seq;
		got++;
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
	CHECK(last == e.last_publisher_seq,
	      "the stalled subscriber ends at publisher_seq %llu, "
	      "the pipeline at %llu",
	      (unsigned long long)last, (unsigned long long)e.last_publisher_seq);
	CHECK(got < last - baseline,
	      "the stalled subscriber got %llu of the %llu batches since "
	      "it stopped reading: it lost none, so it was not stalled",
	      (unsigned long long)got, (unsigned long long)(last - baseline));

	nerrf__trace__loss_counters__free_unpacked(loss, NULL);
	nng_close(stalled);
	e2e_finish(&e);
	return 0;
}
