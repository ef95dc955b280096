/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf_batch_scan counts an EventBatch's Events and reads publisher_seq (and the
 * batch identity: batch_seq, encoder_start_ns, boot_id)
 * from its top-level fields, accepts what protobuf-c packs, and rejects,
 * without reading past the buffer (each input sits in a heap block of its
 * exact size, for the sanitizer builds), every way the fields can be cut or
 * malformed.
 */
#include <stdint.h>

#include "harness.h"
#include "nerrf_pbwire.h"
#include "trace.pb-c.h"
#include "wirecheck.h"

static int scan(const void *bytes, size_t len, struct nerrf_batch_scan *sc)
{
	uint8_t *b = malloc(len ? len : 1);
	CHECK(b != NULL);
	memcpy(b, bytes, len);
	int rv = nerrf_batch_scan(b, len, sc);
	free(b);
	return rv;
}

#define BAD(lit)                                                                                   \
	do {                                                                                       \
		struct nerrf_batch_scan sc_;                                                       \
		CHECK(scan(lit, sizeof(lit) - 1, &sc_) == -1, "accepted %s", #lit);                \
	} while (0)

int main(void)
{
	struct nerrf_batch_scan sc;

	/* A real batch, packed by protobuf-c, with the publisher's fields appended. */
	Nerrf__Trace__EventBatch b = NERRF__TRACE__EVENT_BATCH__INIT;
	Nerrf__Trace__LossCounters loss = NERRF__TRACE__LOSS_COUNTERS__INIT;
	Nerrf__Trace__Event ev[3], *evp[3];
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	static uint8_t buf[4096];
	ts.seconds = 1700000000;
	ts.nanos = 5;
	for (int i = 0; i < 3; i++) {
		nerrf__trace__event__init(&ev[i]);
		ev[i].ts = &ts;
		ev[i].pid = 100 + (uint32_t)i;
		ev[i].path = "/a/b";
		ev[i].write_entropy = 7.5f; /* a 32-bit field */
		evp[i] = &ev[i];
	}
	loss.kernel_emitted = 1ull << 40;
	b.n_events = 3;
	b.events = evp;
	b.batch_seq = 9;
	b.hostname = "h";
	b.boot_id = "0f1e-2d3c";
	b.loss = &loss;
	b.encoder_start_ns = UINT64_MAX; /* a 10-byte varint */
	size_t n = nerrf__trace__event_batch__pack(&b, buf);
	n += nerrf_put_u64_field(buf + n, 7, 300);
	n += nerrf_put_u64_field(buf + n, 8, 0);
	CHECK(scan(buf, n, &sc) == 0);
	CHECK_EQ_U64(sc.events, 3);
	CHECK_EQ_U64(sc.publisher_seq, 300);
	/* The batch's identity, for nerrf-forward's message ids. */
	CHECK_EQ_U64(sc.batch_seq, 9);
	CHECK_EQ_U64(sc.encoder_start_ns, UINT64_MAX);
	CHECK_EQ_U64(sc.boot_id_len, 9);
	/* The tail is 38 ac 02 (field 7 = 300), 40 00 (field 8 = 0): cut at a field's end, or in one. */
	CHECK(scan(buf, n - 2, &sc) == 0 && sc.publisher_seq == 300);
	CHECK(scan(buf, n - 5, &sc) == 0 && sc.publisher_seq == 0 && sc.events == 3);
	CHECK(scan(buf, n - 4, &sc) == -1);
	CHECK(scan(buf, n - 3, &sc) == -1);
	CHECK(scan(buf, n - 1, &sc) == -1);
	/* A 64-bit field (wire type 1) and the last field 7 wins, as in a decoder. */
	CHECK(scan("\x31\x01\x02\x03\x04\x05\x06\x07\x08\x38\x05\x38\x06", 13, &sc) == 0);
	CHECK_EQ_U64(sc.publisher_seq, 6);
	CHECK_EQ_U64(sc.events, 0);
	CHECK(scan("", 0, &sc) == 0 && sc.events == 0 && sc.publisher_seq == 0);

	BAD("\x0a");			     /* key without a length */
	BAD("\x0a\x05xy");		     /* length past the end */
	BAD("\x0a\x03xy");		     /* by one byte */
	BAD("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f"); /* a length of 2^63 */
	BAD("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"); /* and of 2^64 - 1 */
	BAD("\x38");			     /* varint missing */
	BAD("\x38\x80");		     /* varint cut */
	BAD("\x38\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01"); /* varint of 11 bytes */
	BAD("\x80");			     /* key cut */
	BAD("\x31\x01\x02\x03\x04\x05\x06\x07"); /* 64-bit value a byte short */
	BAD("\x35\x01\x02\x03");	     /* 32-bit value a byte short */
	BAD("\x0b\x0c");		     /* a group */
	BAD("\x0e\x00");		     /* wire type 6 */
	BAD("\x0f\x00");		     /* wire type 7 */
	BAD("\x00\x00");		     /* field 0 */
	BAD("\xf8\xff\xff\xff\x7f\x00");     /* a field number above 2^29 - 1 */

	/* Many empty Events: counted, nothing allocated per Event. */
	n = 1u << 20;
	uint8_t *many = malloc(n + 2);
	CHECK(many != NULL);
	for (size_t i = 0; i < n; i += 2)
		many[i] = 0x0a, many[i + 1] = 0;
	many[n] = 0x38;
	many[n + 1] = 0x07;
	CHECK(scan(many, n + 2, &sc) == 0);
	CHECK_EQ_U64(sc.events, n / 2);
	CHECK_EQ_U64(sc.publisher_seq, 7);
	free(many);
	return 0;
}
