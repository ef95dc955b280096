/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trace_fields.h, made from trace.proto by proto/field_numbers.py, against
 * what protoc-c made of the same file: every field at its number, and every
 * field of each message there (a field the script misread would be missing).
 */
#include "harness.h"
#include "trace.pb-c.h"
#include "trace_fields.h"

static const ProtobufCMessageDescriptor *const messages[] = {
	&nerrf__trace__event__descriptor,	    &nerrf__trace__loss_counters__descriptor,
	&nerrf__trace__capture_gap__descriptor,	    &nerrf__trace__event_batch__descriptor,
	&nerrf__trace__stats__descriptor,	    &nerrf__trace__forward_counters__descriptor,
	&nerrf__trace__replay_request__descriptor, &nerrf__trace__replay_chunk__descriptor,
};
#define NMESSAGES (sizeof(messages) / sizeof(messages[0]))

static unsigned seen[NMESSAGES];

static void field(const char *message, const char *name, unsigned number)
{
	for (size_t i = 0; i < NMESSAGES; i++) {
		if (strcmp(messages[i]->short_name, message) != 0)
			continue;
		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field_by_name(messages[i], name);
		CHECK(f, "%s.%s is not in protoc-c's descriptor", message, name);
		CHECK(f->id == number, "%s.%s: %u in trace_fields.h, %u in protoc-c's", message, name,
		      number, f->id);
		seen[i]++;
		return;
	}
	FAIL("trace_fields.h has a message %s that this test does not know: add it", message);
}

int main(void)
{
#define X(message, name, number) field(#message, #name, number);
	NERRF_PB_FIELDS(X)
#undef X
	for (size_t i = 0; i < NMESSAGES; i++)
		CHECK(seen[i] == messages[i]->n_fields, "%s: %u fields in trace_fields.h, %u in trace.proto",
		      messages[i]->short_name, seen[i], messages[i]->n_fields);
	/* the numbers the hand-written code uses, by name */
	CHECK_EQ_U64(NERRF_PB_EVENT_BATCH_EVENTS, 1);
	CHECK_EQ_U64(NERRF_PB_EVENT_BATCH_PUBLISHER_SEQ, 7);
	CHECK_EQ_U64(NERRF_PB_EVENT_TS, 1);
	return 0;
}
