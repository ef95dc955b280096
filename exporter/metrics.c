/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stats -> Prometheus text exposition format (version 0.0.4).
 *
 * The loss counters are walked through protobuf-c's descriptor of
 * LossCounters, so a counter added to trace.proto is exported without a code
 * change: a uint64 field x becomes nerrf_x_total (x_ns becomes
 * nerrf_x_seconds_total), a map x_by_y becomes nerrf_x_by_y_total{y="key"}.
 * Every string in a label value came from the stream (host names, syscall
 * names, stage names) and is escaped, and made UTF-8, on the way out.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "exporter.h"
#include "nerrf_version.h"

typedef Nerrf__Trace__LossCounters LossCounters;

#define MAX_STAGES 16 /* stage_state names beyond this many are not exported */

static const struct {
	const char *field, *help;
} loss_help[] = {
	{"kernel_emitted", "Events the BPF programs tried to emit"},
	{"kernel_lost", "Events lost in the kernel: BPF ring buffer full, all CPUs"},
	{"kernel_filtered", "Events removed by the in-kernel filters (not a loss)"},
	{"ring1_dropped", "Records lost because ring #1 (collector to encoder) was full"},
	{"malformed", "Ring #1 records the encoder rejected as malformed"},
	{"ring1_corrupt_resets", "Ring #1 resynchronisations after corruption"},
	{"ring1_corrupt_bytes", "Bytes discarded by ring #1 resynchronisations"},
	{"encoder_events", "Events the encoder put into batches"},
	{"seq_gaps", "Events missing by per-CPU sequence numbers, as the encoder saw them"},
	{"ring2_dropped", "Batches lost because ring #2 (encoder to publisher) was full"},
	{"publish_errors", "Batches nng refused to send"},
	{"publisher_batches", "Batches the publisher handed to nng"},
	{"kernel_lost_by_cpu", "Events lost in the kernel, by CPU"},
	{"kernel_lost_by_syscall", "Events lost in the kernel, by syscall"},
	{"capture_gaps", "Windows in which no BPF program was attached, so nothing was seen"},
	{"capture_gap_ns", "Total length of the capture gaps"},
};

/* ---- the text format ---- */

/* Length of the well-formed UTF-8 character at p, 0 if there is none. */
static size_t utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	size_t n = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3
		 : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0; /* also stops at the terminating NUL */
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
		return 0;
	return n;
}

/*
 * A label value between quotes: backslash, quote and newline escaped as the
 * format wants, and bytes that are not UTF-8 (which Prometheus refuses, and
 * with it the whole scrape) each as U+FFFD.
 */
static void put_label(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	while (*p) {
		size_t n = utf8_len(p);
		if (*p == '\\' || *p == '"')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (n)
			fwrite(p, 1, n, f);
		else
			fputs("\xef\xbf\xbd", f);
		p += n ? n : 1;
	}
	fputc('"', f);
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_double(FILE *f, double v)
{
	if (isnan(v))
		fputs("NaN", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else
		fprintf(f, "%.17g", v);
}

/* A metric with no labels, or with one: name{label="value"} v. */
static void sample_u64(FILE *f, const char *name, const char *label, const char *value,
		       uint64_t v)
{
	fputs(name, f);
	if (label) {
		fprintf(f, "{%s=", label);
		put_label(f, value);
		fputc('}', f);
	}
	fprintf(f, " %" PRIu64 "\n", v);
}

static void gauge(FILE *f, const char *name, const char *help, double v)
{
	head(f, name, "gauge", help);
	fprintf(f, "%s ", name);
	put_double(f, v);
	fputc('\n', f);
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	head(f, name, "counter", help);
	sample_u64(f, name, NULL, NULL, v);
}

/* ---- loss counters, from the descriptor ---- */

static const char *help_for(const char *field, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(loss_help) / sizeof(loss_help[0]); i++)
		if (strcmp(loss_help[i].field, field) == 0)
			return loss_help[i].help;
	snprintf(buf, len, "LossCounters.%s in trace.proto", field);
	return buf;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * protoc-c writes map<K, V> x as a repeated message x whose two fields are
 * key (1) and value (2); NULL for any other field.
 */
static const ProtobufCMessageDescriptor *map_entry(const ProtobufCFieldDescriptor *fd)
{
	const ProtobufCMessageDescriptor *d = fd->descriptor;
	if (fd->label != PROTOBUF_C_LABEL_REPEATED || fd->type != PROTOBUF_C_TYPE_MESSAGE ||
	    d->n_fields != 2 || d->fields[0].id != 1 || strcmp(d->fields[0].name, "key") != 0 ||
	    d->fields[1].id != 2 || strcmp(d->fields[1].name, "value") != 0)
		return NULL;
	return d;
}

/* A map key as a label value; NULL for a key type the format cannot show. */
static const char *key_text(const ProtobufCFieldDescriptor *k, const void *entry, char *buf,
			    size_t len)
{
	const char *p = (const char *)entry + k->offset;
	switch (k->type) {
	case PROTOBUF_C_TYPE_UINT32:
		snprintf(buf, len, "%" PRIu32, *(const uint32_t *)p);
		return buf;
	case PROTOBUF_C_TYPE_UINT64:
		snprintf(buf, len, "%" PRIu64, *(const uint64_t *)p);
		return buf;
	case PROTOBUF_C_TYPE_INT32:
		snprintf(buf, len, "%" PRId32, *(const int32_t *)p);
		return buf;
	case PROTOBUF_C_TYPE_INT64:
		snprintf(buf, len, "%" PRId64, *(const int64_t *)p);
		return buf;
	case PROTOBUF_C_TYPE_STRING:
		return *(char *const *)p ? *(char *const *)p : "";
	default:
		return NULL;
	}
}

struct map_sort {
	const ProtobufCFieldDescriptor *key;
	void *const *entries;
};

static int key_cmp(struct map_sort *m, size_t i, size_t j)
{
	const ProtobufCFieldDescriptor *k = m->key;
	if (k->type == PROTOBUF_C_TYPE_STRING)
		return strcmp(key_text(k, m->entries[i], NULL, 0), key_text(k, m->entries[j], NULL, 0));
	/* Numbers compare as numbers: the signed ones through their text would not. */
	const char *x = (const char *)m->entries[i] + k->offset;
	const char *y = (const char *)m->entries[j] + k->offset;
	int64_t sx, sy;
	uint64_t ux, uy;
	switch (k->type) {
	case PROTOBUF_C_TYPE_INT32:
		sx = *(const int32_t *)x, sy = *(const int32_t *)y;
		return (sx > sy) - (sx < sy);
	case PROTOBUF_C_TYPE_INT64:
		sx = *(const int64_t *)x, sy = *(const int64_t *)y;
		return (sx > sy) - (sx < sy);
	case PROTOBUF_C_TYPE_UINT32:
		ux = *(const uint32_t *)x, uy = *(const uint32_t *)y;
		return (ux > uy) - (ux < uy);
	default:
		ux = *(const uint64_t *)x, uy = *(const uint64_t *)y;
		return (ux > uy) - (ux < uy);
	}
}

/* By key, then by position, so that the last of equal keys can win. */
static int cmp_entry(const void *a, const void *b, void *arg)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = key_cmp(arg, i, j);
	return c ? c : (i > j) - (i < j);
}

/*
 * map<K, uint64> x_by_y -> nerrf_x_by_y_total{y="key"}. A key that occurs
 * twice would make two equal series, for which Prometheus drops the whole
 * scrape: as protobuf reads a map, the last one counts.
 */
static void loss_map(FILE *f, const ProtobufCFieldDescriptor *fd, const LossCounters *l,
		     const char *name, const char *help)
{
	const ProtobufCMessageDescriptor *e = map_entry(fd);
	size_t n = *(const size_t *)((const char *)l + fd->quantifier_offset);
	const char *by = strstr(fd->name, "_by_");
	char buf[32];

	if (!e || e->fields[1].type != PROTOBUF_C_TYPE_UINT64 || n == 0)
		return;
	struct map_sort ms = {&e->fields[0], *(void *const *const *)((const char *)l + fd->offset)};
	if (!key_text(ms.key, ms.entries[0], buf, sizeof(buf)))
		return;
	size_t *order = malloc(n * sizeof(*order));
	if (!order)
		return;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), cmp_entry, &ms);
	head(f, name, "counter", help);
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && key_cmp(&ms, order[i], order[i + 1]) == 0)
			continue;
		const void *entry = ms.entries[order[i]];
		sample_u64(f, name, by ? by + 4 : "key", key_text(ms.key, entry, buf, sizeof(buf)),
			   *(const uint64_t *)((const char *)entry + e->fields[1].offset));
	}
	free(order);
}

static void loss_counters(FILE *f, const LossCounters *l)
{
	const ProtobufCMessageDescriptor *d = &nerrf__trace__loss_counters__descriptor;
	char name[160], buf[160];

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const char *help = help_for(fd->name, buf, sizeof(buf));
		if (fd->label == PROTOBUF_C_LABEL_NONE && fd->type == PROTOBUF_C_TYPE_UINT64) {
			uint64_t v = *(const uint64_t *)((const char *)l + fd->offset);
			if (ends_with(fd->name, "_ns")) {
				snprintf(name, sizeof(name), "nerrf_%.*s_seconds_total",
					 (int)strlen(fd->name) - 3, fd->name);
				head(f, name, "counter", help);
				fprintf(f, "%s %" PRIu64 ".%09" PRIu64 "\n", name, v / 1000000000,
					v % 1000000000);
			} else {
				snprintf(name, sizeof(name), "nerrf_%s_total", fd->name);
				counter(f, name, help, v);
			}
		} else if (map_entry(fd)) {
			snprintf(name, sizeof(name), "nerrf_%s_total", fd->name);
			loss_map(f, fd, l, name, help);
		}
	}
}

/* ---- the rest of Stats ---- */

static bool fresh(const Stats *st, uint64_t at_ms, const struct exp_state *s, uint64_t now_ms)
{
	return st && now_ms - at_ms <= s->stale_ms;
}

/*
 * nerrf_up: the publisher is up while any Stats come (it relays or makes
 * every one), the encoder while its own come; any other stage as the last
 * Stats' stage_state ("collector=up encoder=up ...") says, while it is fresh.
 */
static void up(FILE *f, const struct exp_state *s, uint64_t now_ms)
{
	bool last_fresh = fresh(s->last, s->last_ms, s, now_ms);
	char names[MAX_STAGES][64];
	unsigned n = 0;

	head(f, "nerrf_up", "gauge",
	     "1 if the stage is up: its Stats arrived within 3 stats intervals, or the last "
	     "Stats' stage_state says so");
	sample_u64(f, "nerrf_up", "stage", "publisher", last_fresh);
	sample_u64(f, "nerrf_up", "stage", "encoder", fresh(s->enc, s->enc_ms, s, now_ms));
	if (!last_fresh || !s->last->stage_state)
		return;
	for (const char *p = s->last->stage_state; *p && n < MAX_STAGES;) {
		size_t len = strcspn(p, " ");
		const char *eq = memchr(p, '=', len);
		if (eq && eq > p && (size_t)(eq - p) < sizeof(names[0])) {
			char *name = names[n];
			bool seen = false;
			memcpy(name, p, (size_t)(eq - p));
			name[eq - p] = '\0';
			seen = strcmp(name, "publisher") == 0 || strcmp(name, "encoder") == 0;
			for (unsigned i = 0; i < n && !seen; i++)
				seen = strcmp(names[i], name) == 0;
			if (!seen) {
				n++;
				sample_u64(f, "nerrf_up", "stage", name,
					   len - (size_t)(eq - p) - 1 == 2 && strncmp(eq + 1, "up", 2) == 0);
			}
		}
		p += len;
		p += strspn(p, " ");
	}
}

static void ring(FILE *f, const char *which, const Stats *st, bool capacity)
{
	fprintf(f, "%s{ring=\"%s\"} %" PRIu64 "\n",
		capacity ? "nerrf_ring_capacity_bytes" : "nerrf_ring_used_bytes", which,
		*which == '1' ? (capacity ? st->ring1_capacity : st->ring1_used)
			      : (capacity ? st->ring2_capacity : st->ring2_used));
}

void exp_render(FILE *f, const struct exp_state *s, uint64_t now_ms)
{
	bool enc_fresh = fresh(s->enc, s->enc_ms, s, now_ms);
	bool last_fresh = fresh(s->last, s->last_ms, s, now_ms);

	head(f, "nerrf_build_info", "gauge", "The exporter's version, as a label; always 1");
	fputs("nerrf_build_info{version=", f);
	put_label(f, NERRF_VERSION);
	fputs("} 1\n", f);
	up(f, s, now_ms);
	counter(f, "nerrf_exporter_stats_received_total", "Stats messages this exporter received",
		s->received);
	counter(f, "nerrf_exporter_stats_undecodable_total",
		"Stats messages this exporter received and could not decode", s->undecodable);

	if (s->last) {
		const Stats *st = s->last;
		if (st->ts) {
			int32_t ns = st->ts->nanos >= 0 && st->ts->nanos < 1000000000 ? st->ts->nanos : 0;
			head(f, "nerrf_last_stats_timestamp_seconds", "gauge",
			     "When the last Stats was sent, seconds since the Unix epoch");
			fprintf(f, "nerrf_last_stats_timestamp_seconds %" PRId64 ".%09" PRId32 "\n",
				st->ts->seconds, ns);
		}
		counter(f, "nerrf_published_batches_total", "EventBatches the publisher sent",
			st->publisher_seq);
		counter(f, "nerrf_ring2_malformed_total",
			"Ring #2 records the publisher skipped for a bad header", st->ring2_malformed);
		counter(f, "nerrf_ring2_corrupt_resets_total",
			"Ring #2 resynchronisations after corruption", st->ring2_corrupt_resets);
		counter(f, "nerrf_ring2_corrupt_bytes_total",
			"Bytes discarded by ring #2 resynchronisations", st->ring2_corrupt_bytes);
	}
	/* nerrf-forward's Stats (the exporter pointed at its forward.sock): docs/FORWARD.md. */
	if (s->last && s->last->forward) {
		const Nerrf__Trace__ForwardCounters *c = s->last->forward;
		counter(f, "nerrf_forward_sent_total",
			"EventBatches nerrf-forward handed to JetStream, re-sends included", c->forwarded);
		counter(f, "nerrf_forward_acked_total",
			"EventBatches JetStream acknowledged as newly stored", c->acked);
		counter(f, "nerrf_forward_acked_events_total", "Events in those batches",
			c->acked_events);
		counter(f, "nerrf_forward_duplicates_total",
			"Re-sent EventBatches JetStream dropped by Nats-Msg-Id", c->duplicates);
		counter(f, "nerrf_forward_lost_total",
			"EventBatches gone from the journal before they reached JetStream", c->lost);
		counter(f, "nerrf_forward_outages_total", "Times the broker connection was lost",
			c->outages);
		head(f, "nerrf_forward_outage_seconds_total", "counter",
		     "Time without a broker connection");
		fprintf(f, "nerrf_forward_outage_seconds_total %" PRIu64 ".%09" PRIu64 "\n",
			c->outage_ns / 1000000000, c->outage_ns % 1000000000);
		gauge(f, "nerrf_forward_acked_seq",
		      "Every publisher_seq up to this is in JetStream or counted lost", (double)c->acked_seq);
		gauge(f, "nerrf_forward_behind_batches",
		      "EventBatches published on the host and not yet acknowledged by JetStream",
		      (double)c->behind);
	}
	/* Gauges say how things are now: only while the stage that measures them is up. */
	if (last_fresh)
		gauge(f, "nerrf_subscribers", "nng pipes connected to the publisher, this exporter's included",
		      s->last->subscribers);
	if (enc_fresh) {
		gauge(f, "nerrf_events_per_second", "Events the encoder batched, over its last stats interval",
		      s->enc->events_per_sec);
		gauge(f, "nerrf_batches_per_second", "Batches the encoder made, over its last stats interval",
		      s->enc->batches_per_sec);
	}
	if (enc_fresh || last_fresh) {
		head(f, "nerrf_ring_used_bytes", "gauge", "Bytes waiting in a ring (1: collector to encoder, 2: encoder to publisher)");
		if (enc_fresh)
			ring(f, "1", s->enc, false);
		if (last_fresh)
			ring(f, "2", s->last, false);
		head(f, "nerrf_ring_capacity_bytes", "gauge", "Size of a ring's data area");
		if (enc_fresh)
			ring(f, "1", s->enc, true);
		if (last_fresh)
			ring(f, "2", s->last, true);
	}
	if (s->enc) {
		head(f, "nerrf_host_info", "gauge", "The host the encoder reports, as labels; always 1");
		fputs("nerrf_host_info{hostname=", f);
		put_label(f, s->enc->hostname);
		fputs(",boot_id=", f);
		put_label(f, s->enc->boot_id);
		fputs("} 1\n", f);
		if (s->enc->loss)
			loss_counters(f, s->enc->loss);
	}
}
