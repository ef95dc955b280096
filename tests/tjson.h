/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The clients' JSON lines (docs/PROTOCOL.md, "JSON") read as values with
 * json-c, so that a test checks what a line says, not how it is spelled:
 * nerrf tail, the Python package and the Rust crate print the same values
 * with different spacing and number forms.
 */
#ifndef NERRF_TJSON_H
#define NERRF_TJSON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "harness.h"

/* Every line of out, parsed, as a JSON array; fails the test on a line that is not an object. */
static inline json_object *tj_lines(const char *out)
{
	json_object *all = json_object_new_array();
	unsigned n = 0;

	for (const char *l = out, *nl; *l; l = nl + 1, n++) {
		nl = strchr(l, '\n');
		CHECK(nl != NULL, "line %u does not end: %s", n + 1, l);
		json_tokener *tok = json_tokener_new();
		json_object *o = json_tokener_parse_ex(tok, l, (int)(nl - l));
		enum json_tokener_error err = json_tokener_get_error(tok);
		CHECK(o && err == json_tokener_success && json_tokener_get_parse_end(tok) == (size_t)(nl - l) &&
			      json_object_is_type(o, json_type_object),
		      "line %u is not one JSON object (%s): %.*s", n + 1,
		      json_tokener_error_desc(err), (int)(nl - l), l);
		json_tokener_free(tok);
		json_object_array_add(all, o);
	}
	return all;
}

/* text, one JSON object, parsed; fails the test if it is not. */
static inline json_object *tj_parse(const char *text)
{
	json_object *o = json_tokener_parse(text);
	CHECK(o && json_object_is_type(o, json_type_object), "not a JSON object: %s", text);
	return o;
}

/* The value at a dotted path ("stats.loss.kernel_emitted"), or NULL. */
static inline json_object *tj_at(json_object *o, const char *path)
{
	char key[256];

	while (o && *path) {
		size_t n = strcspn(path, ".");
		CHECK(n < sizeof(key));
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path += n + (path[n] == '.');
	}
	return o;
}

/*
 * The value at path as text: a string's content, a number's digits (a
 * 64-bit integer is a string in proto3 JSON, a 32-bit one a number: both
 * read "12"), or NULL when absent.
 */
static inline const char *tj_get(json_object *o, const char *path)
{
	json_object *v = tj_at(o, path);
	return v ? json_object_get_string(v) : NULL;
}

static inline bool tj_is(json_object *o, const char *path, const char *want)
{
	const char *v = tj_get(o, path);
	return v && strcmp(v, want) == 0;
}

/* Line i of lines (tj_lines). */
static inline json_object *tj_line(json_object *lines, size_t i)
{
	CHECK(i < json_object_array_length(lines), "no line %zu in %s", i + 1,
	      json_object_to_json_string(lines));
	return json_object_array_get_idx(lines, i);
}

/* Whether the parsed line o holds the same values as the JSON text want (one line). */
static inline bool tj_equal(json_object *o, const char *want)
{
	json_object *w = tj_parse(want);
	bool same = json_object_equal(o, w);
	json_object_put(w);
	return same;
}

/* How many lines of out have want at path (as tj_get reads it). */
static inline int tj_count(const char *out, const char *path, const char *want)
{
	json_object *all = tj_lines(out);
	int n = 0;

	for (size_t i = 0; i < json_object_array_length(all); i++)
		n += tj_is(json_object_array_get_idx(all, i), path, want);
	json_object_put(all);
	return n;
}

/*
 * Whether a complete line of text that parses has want at path; lines that
 * do not parse (one cut short at either end of a window onto a file a
 * client is still writing) are passed over. For polling.
 */
static inline bool tj_any(const char *text, const char *path, const char *want)
{
	bool found = false;

	for (const char *l = text, *nl; !found && (nl = strchr(l, '\n')); l = nl + 1) {
		json_tokener *tok = json_tokener_new();
		json_object *o = json_tokener_parse_ex(tok, l, (int)(nl - l));
		found = o && json_tokener_get_error(tok) == json_tokener_success &&
			json_object_is_type(o, json_type_object) && tj_is(o, path, want);
		json_object_put(o);
		json_tokener_free(tok);
	}
	return found;
}

/* The whole of file f, however large (malloc'd). */
static inline char *tj_slurp(const char *f)
{
	FILE *in = fopen(f, "r");
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);

	CHECK(in != NULL && buf != NULL, "%s", f);
	for (size_t r; (r = fread(buf + len, 1, cap - len - 1, in)) > 0;) {
		len += r;
		if (cap - len < 2) {
			buf = realloc(buf, cap *= 2);
			CHECK(buf != NULL);
		}
	}
	buf[len] = '\0';
	fclose(in);
	return buf;
}

/* Every line of file f, parsed (tj_lines). */
static inline json_object *tj_file_lines(const char *f)
{
	char *text = tj_slurp(f);
	json_object *l = tj_lines(text);
	free(text);
	return l;
}

/* As tj_count, over file f. */
static inline int tj_count_file(const char *f, const char *path, const char *want)
{
	char *text = tj_slurp(f);
	int n = tj_count(text, path, want);
	free(text);
	return n;
}

#endif /* NERRF_TJSON_H */
