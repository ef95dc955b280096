/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A subscriber against a hostile publisher: an input is one message (a
 * 4-byte topic, then protobuf), taken as nerrf tail and nerrf stats take it:
 * the wire scan that bounds the events before decoding, the decoder, then
 * every printer. Whatever the bytes: the table and stats forms hold no
 * control byte but the newline that ends a line (a name cannot move the
 * cursor or fake a line), each JSON line is one line of valid UTF-8 with no
 * raw control byte that a JSON parser reads as one object, and nothing is
 * read outside the message (ASan).
 */
#include <stdbool.h>

#include <json-c/json.h>

#include "fuzz.h"
#include "nerrf_wire.h"
#include "print.h"
#include "wirecheck.h"

/* A message decoding this many events is dropped by tail before decoding. */
#define MAX_EVENTS 4096

static bool human_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\n') || c == 0x7f)
			return false;
	}
	return true;
}

/* Strict UTF-8, and no control byte but the newlines ending lines. */
static bool json_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		if (!k || i + k > n || (c < 0x20 && c != '\n'))
			return false;
		for (size_t j = 1; j < k; j++)
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
		i += k;
	}
	return true;
}

/* Every line one JSON object, as a stock parser reads it. */
static bool json_parses(const char *s, size_t n)
{
	for (const char *l = s, *nl; l < s + n; l = nl + 1) {
		nl = memchr(l, '\n', (size_t)(s + n - l));
		if (!nl)
			return false;
		json_tokener *tok = json_tokener_new_ex(64);
		json_object *o = json_tokener_parse_ex(tok, l, (int)(nl - l));
		bool ok = o && json_tokener_get_error(tok) == json_tokener_success &&
			  json_tokener_get_parse_end(tok) == (size_t)(nl - l) &&
			  json_object_is_type(o, json_type_object);
		json_object_put(o);
		json_tokener_free(tok);
		if (!ok)
			return false;
	}
	return true;
}

static size_t lines(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == '\n';
	return k;
}

static void events(const uint8_t *pb, size_t len)
{
	struct nerrf_batch_scan sc;
	char *out = NULL;
	size_t n = 0;

	if (nerrf_batch_scan(pb, len, &sc) != 0 || sc.events > MAX_EVENTS)
		return;
	EventBatch *b = nerrf__trace__event_batch__unpack(NULL, len, pb);
	if (!b)
		return;
	FUZZ_CHECK(b->n_events == sc.events, "the scan counted %llu events, the decoder %zu",
		   (unsigned long long)sc.events, b->n_events);
	FILE *f = open_memstream(&out, &n);
	print_header(f);
	for (size_t i = 0; i < b->n_events; i++)
		print_row(f, b->events[i]);
	fclose(f);
	FUZZ_CHECK(human_ok(out, n) && lines(out, n) == b->n_events + 1,
		   "a table row escaped its line: %zu lines for %zu events", lines(out, n),
		   b->n_events);
	free(out);
	f = open_memstream(&out, &n);
	for (size_t i = 0; i < b->n_events; i++)
		print_json(f, &b->events[i]->base, NULL, i % 2);
	fclose(f);
	FUZZ_CHECK(json_ok(out, n) && lines(out, n) == b->n_events && json_parses(out, n),
		   "JSON lines are not one valid line per event: %.*s", (int)n, out);
	free(out);
	nerrf__trace__event_batch__free_unpacked(b, NULL);
}

static void stats(const uint8_t *pb, size_t len)
{
	char *out = NULL;
	size_t n = 0;
	Stats *st = nerrf__trace__stats__unpack(NULL, len, pb);

	if (!st)
		return;
	FILE *f = open_memstream(&out, &n);
	print_stats_table(f, st, st);
	print_stats_line(f, st);
	fclose(f);
	FUZZ_CHECK(human_ok(out, n), "the stats table holds a control byte");
	free(out);
	f = open_memstream(&out, &n);
	print_json(f, &st->base, "stats", false);
	print_json(f, &st->base, "stats", true);
	fclose(f);
	FUZZ_CHECK(json_ok(out, n) && lines(out, n) == 2 && json_parses(out, n),
		   "the stats JSON is not one valid line: %.*s", (int)n, out);
	free(out);
	nerrf__trace__stats__free_unpacked(st, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < NERRF_TOPIC_LEN)
		return 0;
	if (memcmp(data, NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0)
		events(data + NERRF_TOPIC_LEN, size - NERRF_TOPIC_LEN);
	else
		stats(data + NERRF_TOPIC_LEN, size - NERRF_TOPIC_LEN);
	return 0;
}
