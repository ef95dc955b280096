/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Monotonic stamp + wall-clock offset at the extremes: the Event's
 * Timestamp is never negative and never wraps (nanos always in 0..999999999),
 * but held at the epoch or at 2^64 - 1 ns. Each case goes through the real
 * conversion (enc_take, then the packed batch); run under UBSan, a signed
 * overflow would also show.
 */
#include "encoder.h"
#include "harness.h"
#include "lib/records.h"

static _Alignas(8) uint8_t rec[NERRF_EVENT_MAX];

static void expect(uint64_t mono, int64_t off, int64_t sec, int32_t nsec)
{
	struct enc_opts o = {.max_batch = 4, .max_batch_bytes = 16 << 10, .hostname = "h"};
	struct encoder e;
	char err[256];

	CHECK(enc_init(&e, &o, err, sizeof(err)) == 0, "%s", err);
	e.clock_off = off;
	size_t n = build_event(rec, NERRF_OP_OPENAT, "/x", NULL, NULL, NULL, 0);
	((struct nerrf_event *)rec)->ts_ns = mono;
	enc_take(&e, rec, n, 1);
	CHECK_EQ_U64(e.loss.malformed, 0);

	size_t size = enc_batch_size(&e);
	uint8_t *buf = malloc(size);
	CHECK(buf != NULL);
	enc_batch_pack(&e, buf, size);
	Nerrf__Trace__EventBatch *b = nerrf__trace__event_batch__unpack(NULL, size, buf);
	CHECK(b && b->n_events == 1 && b->events[0]->ts);
	const Google__Protobuf__Timestamp *ts = b->events[0]->ts;
	CHECK(ts->seconds == sec && ts->nanos == nsec,
	      "mono %llu + off %lld: %lld s %d ns, want %lld s %d ns", (unsigned long long)mono,
	      (long long)off, (long long)ts->seconds, ts->nanos, (long long)sec, nsec);
	CHECK_EQ_U64(b->events[0]->mono_ns, mono);
	nerrf__trace__event_batch__free_unpacked(b, NULL);
	free(buf);
	enc_fini(&e);
}

int main(void)
{
	/* An ordinary stamp: a second after boot, booted at 1700000000 s. */
	expect(1000000123, 1700000000000000000, 1700000001, 123);
	/* A wall clock set before the boot's epoch reading: held at the epoch. */
	expect(5, -10, 0, 0);
	expect(1ull << 62, INT64_MIN, 0, 0);
	expect(0, INT64_MIN, 0, 0);
	/* Past INT64_MAX ns the sum stays unsigned: no negative seconds or nanos. */
	expect((1ull << 63) + 7, 1700000000000000000, 10923372036, 854775815);
	expect(INT64_MAX, 1, 9223372036, 854775808);
	expect((1ull << 63) + 5, INT64_MIN, 0, 5);
	/* Beyond 2^64 - 1 ns: held there. */
	expect(UINT64_MAX - 3, INT64_MAX, 18446744073, 709551615);
	expect(UINT64_MAX, 1, 18446744073, 709551615);
	expect(UINT64_MAX, 0, 18446744073, 709551615);
	return 0;
}
