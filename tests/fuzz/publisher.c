/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The publisher's ring #2 record handling against a hostile encoder: an
 * input is a ring #2 record (header, then what claims to be protobuf) and
 * the publisher's counters to append. The frame handed on lies inside the
 * record; a malformed header is refused, never followed; and whenever the
 * encoder's bytes decode, the message subscribers get (those bytes plus the
 * publisher's fields) decodes too, with the publisher's values in it.
 */
#include "fuzz.h"
#include "nerrf_wire.h"
#include "record.h"
#include "trace.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct pub_tail t;
	const uint8_t *pb = NULL;
	size_t pblen = 0, k = sizeof(t) < size ? sizeof(t) : size;
	static uint8_t msg[1 << 20];

	memset(&t, 0, sizeof(t));
	memcpy(&t, data, k);
	in.p += k;
	in.n -= k;
	unsigned kind = pub_record(in.p, in.n, &pb, &pblen);
	if (!kind)
		return 0;
	FUZZ_CHECK(kind == NERRF_R2_BATCH || kind == NERRF_R2_STATS, "kind %u", kind);
	FUZZ_CHECK(pb >= in.p && pblen <= in.n && (size_t)(pb - in.p) + pblen <= in.n,
		   "the frame runs outside the record");
	if (pblen + PUB_TRAILER_MAX > sizeof(msg))
		return 0;
	memcpy(msg, pb, pblen);
	if (kind == NERRF_R2_BATCH) {
		size_t n = pblen + pub_batch_trailer(msg + pblen, &t);
		FUZZ_CHECK(n - pblen <= PUB_TRAILER_MAX, "trailer of %zu bytes", n - pblen);
		Nerrf__Trace__EventBatch *b = nerrf__trace__event_batch__unpack(NULL, pblen, pb);
		if (!b)
			return 0;
		nerrf__trace__event_batch__free_unpacked(b, NULL);
		b = nerrf__trace__event_batch__unpack(NULL, n, msg);
		FUZZ_CHECK(b, "the encoder's batch decodes, the published one does not");
		FUZZ_CHECK(b->publisher_seq == t.publisher_seq &&
			   b->journal_dropped == t.journal_dropped &&
			   b->ring2_malformed == t.ring2_malformed, "appended values lost");
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	} else {
		size_t n = pblen + pub_stats_trailer(msg + pblen, &t);
		FUZZ_CHECK(n - pblen <= PUB_TRAILER_MAX, "trailer of %zu bytes", n - pblen);
		Nerrf__Trace__Stats *st = nerrf__trace__stats__unpack(NULL, pblen, pb);
		if (!st)
			return 0;
		nerrf__trace__stats__free_unpacked(st, NULL);
		st = nerrf__trace__stats__unpack(NULL, n, msg);
		FUZZ_CHECK(st, "the encoder's stats decode, the published ones do not");
		FUZZ_CHECK(st->publisher_seq == t.publisher_seq &&
			   st->subscribers == (uint32_t)t.subscribers &&
			   st->ring2_corrupt_bytes == t.ring2_corrupt_bytes, "appended values lost");
		nerrf__trace__stats__free_unpacked(st, NULL);
	}
	return 0;
}
