/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loss accounting end to end: with a 4 KiB ring #1, a process floods the
 * pipeline with file operations, far faster than the collector can hand
 * them on. Once the counters settle, every event the BPF programs tried to
 * emit is either delivered to the subscriber or counted as lost, exactly:
 *   kernel_emitted == delivered + kernel_lost + ring1_dropped + malformed
 * and some loss did happen (else the test proved nothing).
 */
#include "e2e.h"

static unsigned rounds = 20000;

static void flood(const struct e2e *e, int report_fd, void *arg)
{
	char p[PATH_MAX + 16], buf[64];
	(void)arg;
	memset(buf, 'f', sizeof(buf));
	for (unsigned i = 0; i < rounds; i++) {
		snprintf(p, sizeof(p), "%s/flood%u", e->work, i % 8);
		int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fd >= 0) {
			if (write(fd, buf, sizeof(buf)) < 0)
				_exit(1);
			close(fd);
		}
	}
	if (write(report_fd, &rounds, sizeof(rounds)) != sizeof(rounds))
		_exit(1);
}

int main(void)
{
	struct e2e e = {0};
	unsigned done;

	e2e_require("the end-to-end loss accounting test", true);
	if (getenv("NERRF_TEST_SCALE") && strcmp(getenv("NERRF_TEST_SCALE"), "sanitize") == 0)
		rounds = 5000;
	e2e_dirs(&e, "e2e-loss");
	e2e_child(&e, flood, NULL);
	char *extra[] = {"--ring1-size", "4096", "--publisher-arg", "--sendbuf=8192", NULL};
	e2e_run(&e, extra);
	e.sub = pt_sub(e.url, NULL);
	/* Deep queues on both ends: this subscriber must not be the one losing. */
	CHECK(nng_socket_set_int(e.sub, NNG_OPT_RECVBUF, 8192) == 0);
	e2e_go(&e, e.sub, 1);
	fcntl(e.done_fd, F_SETFL, O_NONBLOCK);

	/*
	 * Read until the flood is over and two consecutive encoder stats agree
	 * with each other and with what arrived.
	 */
	Nerrf__Trace__LossCounters last = NERRF__TRACE__LOSS_COUNTERS__INIT;
	unsigned stable = 0;
	bool flood_done = false;
	uint64_t end = pt_now_ms() + 90000;
	while (stable < 2 && pt_now_ms() < end) {
		if (!flood_done && read(e.done_fd, &done, sizeof(done)) == sizeof(done)) {
			CHECK(done == rounds);
			flood_done = true;
		}
		nng_msg *m = pt_recv(e.sub, 200);
		if (!m)
			continue;
		if (memcmp(nng_msg_body(m), NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0) {
			Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
			e2e_account(&e, b);
			nerrf__trace__event_batch__free_unpacked(b, NULL);
			stable = 0;
		} else {
			Nerrf__Trace__Stats *st = pt_decode_stats(m);
			if (st->loss) {
				const Nerrf__Trace__LossCounters *l = st->loss;
				bool same = l->kernel_emitted == last.kernel_emitted &&
					    l->encoder_events == last.encoder_events &&
					    l->ring1_dropped == last.ring1_dropped &&
					    l->kernel_lost == last.kernel_lost;
				stable = flood_done && same && l->encoder_events == e.delivered
						 ? stable + 1
						 : 0;
				last.kernel_emitted = l->kernel_emitted;
				last.kernel_lost = l->kernel_lost;
				last.ring1_dropped = l->ring1_dropped;
				last.malformed = l->malformed;
				last.encoder_events = l->encoder_events;
				last.ring2_dropped = l->ring2_dropped;
			}
			nerrf__trace__stats__free_unpacked(st, NULL);
		}
		nng_msg_free(m);
	}
	fprintf(stderr,
		"emitted %llu delivered %llu kernel_lost %llu ring1_dropped %llu "
		"malformed %llu ring2_dropped %llu (first publisher_seq %llu, gaps %llu)\n",
		(unsigned long long)last.kernel_emitted, (unsigned long long)e.delivered,
		(unsigned long long)last.kernel_lost, (unsigned long long)last.ring1_dropped,
		(unsigned long long)last.malformed, (unsigned long long)last.ring2_dropped,
		(unsigned long long)e.first_publisher_seq, (unsigned long long)e.publisher_gaps);
	CHECK(stable == 2, "the counters never settled within 90 s");
	CHECK(e.first_publisher_seq == 1 && e.publisher_gaps == 0,
	      "this subscriber itself missed batches, so 'delivered' is not the pipeline's");
	CHECK_EQ_U64(last.ring2_dropped, 0);
	CHECK_EQ_U64(last.kernel_emitted,
		     e.delivered + last.kernel_lost + last.ring1_dropped + last.malformed);
	CHECK(last.kernel_lost + last.ring1_dropped > 0,
	      "no loss under the flood: the test did not exercise loss accounting");
	CHECK(last.kernel_emitted >= 2ull * rounds, "the flood's %u opens and writes were emitted",
	      rounds);

	nng_close(e.sub);
	e2e_finish(&e);
	return 0;
}
