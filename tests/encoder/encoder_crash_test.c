/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kill -9 the encoder while it holds a batch it cannot place (ring #2 full):
 * the records of that batch are still in ring #1, so a new encoder sends
 * them. Every event arrives at least once; only the batch in flight may come
 * twice. The new run restarts batch_seq at 1 with a later encoder_start_ns.
 */
#include "enc_run.h"

static _Alignas(8) uint8_t buf[REC_BUF];
static uint8_t seen[1 << 20];

int main(int argc, char **argv)
{
	const char *extra[] = {"--ring2-size", "256K", "--max-batch-bytes", "16K",
			       "--max-batch", "64", NULL};
	struct enc_run t;
	unsigned written = 0;
	int st;

	CHECK(argc == 2, "usage: encoder_crash_test NERRF_ENCODER");
	enc_start(&t, "crash", argv[1], 64 << 10, extra);

	/* Fill both rings: ring #1 refusing for 300 ms means the encoder is stuck. */
	uint64_t refused_since = 0;
	for (;;) {
		size_t n = numbered_event(buf, "/crash", written);
		void *p = nerrf_ring_reserve(t.r1, n);
		if (p) {
			memcpy(p, buf, n);
			nerrf_ring_commit(t.r1);
			nerrf_ring_publish(t.r1);
			CHECK(++written < sizeof(seen), "ring #1 never filled");
			refused_since = 0;
			continue;
		}
		uint64_t now = nerrf_mono_ns();
		if (!refused_since)
			refused_since = now;
		else if (now - refused_since > 300000000)
			break;
		sleep_ms(1);
	}
	CHECK(kill(t.pid, SIGKILL) == 0 && waitpid(t.pid, &st, 0) == t.pid);

	/* Read what the dead encoder placed, then start another. */
	unsigned got = 0, dups = 0, batches = 0;
	uint64_t first_start = 0, last_seq = 0;
	bool second_run = false;
	enc_spawn(&t, argv[1], extra);
	while (got < written) {
		Nerrf__Trace__EventBatch *b = next_batch(&t, 10000);
		CHECK(b != NULL, "%u of %u events arrived", got, written);
		if (!first_start)
			first_start = b->encoder_start_ns;
		if (b->encoder_start_ns != first_start && !second_run) {
			second_run = true;
			CHECK(b->encoder_start_ns > first_start);
			CHECK_EQ_U64(b->batch_seq, 1);
		} else {
			CHECK_EQ_U64(b->batch_seq, last_seq + 1);
		}
		last_seq = b->batch_seq;
		batches++;
		for (size_t i = 0; i < b->n_events; i++) {
			uint64_t s = b->events[i]->seq;
			CHECK(s >= 1 && s <= written, "seq %llu", (unsigned long long)s);
			if (seen[s - 1])
				dups++;
			else
				got++;
			seen[s - 1] = 1;
		}
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
	CHECK(second_run, "everything came from the first encoder: it was never stuck");
	CHECK(dups <= 64, "%u events came twice: more than the one batch in flight", dups);
	enc_stop(&t);
	return 0;
}
