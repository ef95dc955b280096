/* SPDX-License-Identifier: Apache-2.0 */
/* The printers of nerrf tail, stats and replay (print.c). */
#ifndef NERRF_PRINT_H
#define NERRF_PRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "trace.pb-c.h"

typedef Nerrf__Trace__Event Event;
typedef Nerrf__Trace__EventBatch EventBatch;
typedef Nerrf__Trace__LossCounters LossCounters;
typedef Nerrf__Trace__Stats Stats;

/*
 * s for a human: printable UTF-8 as it is, a backslash as \\, every other
 * byte as \xNN. Returns the characters written, for padding.
 */
size_t put_text(FILE *f, const char *s);
void put_text_padded(FILE *f, const char *s, size_t width);
void format_ts(const Google__Protobuf__Timestamp *ts, char *buf, size_t len);
/* A finite float (single) or double as the shortest %g that reads back to it. */
void format_float(char buf[static 40], double v, bool single);

/*
 * Any message as one line of proto3 JSON with trace.proto's field names
 * (docs/PROTOCOL.md, "JSON"), inside {"wrap": ...} when wrap is given;
 * all_fields prints the fields at their default too.
 */
void print_json(FILE *f, const ProtobufCMessage *m, const char *wrap, bool all_fields);
/* An event, with a "host" member first (nerrf tail --nats). */
void print_json_host(FILE *f, const Event *e, const char *host, bool all_fields);
/* One event as a table row under print_header(). */
void print_header(FILE *f);
void print_row(FILE *f, const Event *e);

/* Stats: one line, or a table; prev gives the rates. */
void print_stats_line(FILE *f, const Stats *st);
void print_stats_table(FILE *f, const Stats *st, const Stats *prev);
/* The last capture gap of l, which must have one. */
void print_gap(FILE *f, const LossCounters *l);

#endif /* NERRF_PRINT_H */
