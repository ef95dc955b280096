/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf tail and nerrf stats: nng subscribers that decode the publisher's
 * stream (docs/PROTOCOL.md) and print it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "nerrf.h"
#include "nerrf_wire.h"
#include "trace.pb-c.h"

#define MAX_FILTERS 32
#define RECV_POLL_MS 200

typedef Nerrf__Trace__Event Event;
typedef Nerrf__Trace__EventBatch EventBatch;
typedef Nerrf__Trace__LossCounters LossCounters;
typedef Nerrf__Trace__Stats Stats;

static void on_signal(int sig)
{
	(void)sig;
	nerrf_stop = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ipc://<rundir>/events.sock, the publisher's default address. */
static const char *default_url(const char *rundir, char *buf, size_t len)
{
	snprintf(buf, len, "ipc://%s/events.sock", rundir ? rundir : NERRF_DEFAULT_RUNDIR);
	return buf;
}

/*
 * Dials without waiting for the publisher: nng keeps redialling in the
 * background, so a subscriber started first, or one whose publisher
 * restarts, connects as soon as the publisher listens.
 */
static int subscribe(const char *cmd, const char *url, bool events, bool stats, nng_socket *out)
{
	nng_socket s;
	int rv = nng_sub0_open(&s);
	if (rv == 0 && events)
		rv = nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN);
	if (rv == 0 && stats)
		rv = nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, NERRF_TOPIC_STATS, NERRF_TOPIC_LEN);
	if (rv == 0)
		rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, RECV_POLL_MS);
	if (rv == 0)
		rv = nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 50);
	if (rv == 0)
		rv = nng_socket_set_ms(s, NNG_OPT_RECONNMAXT, 1000);
	/* Large batches: let nng accept what the publisher may send. */
	if (rv == 0)
		rv = nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 0);
	if (rv == 0)
		rv = nng_dial(s, url, NULL, NNG_FLAG_NONBLOCK);
	if (rv != 0) {
		fprintf(stderr,
			"nerrf %s: cannot subscribe to %s: %s; give the publisher's "
			"address with --url (ipc:///path or tcp://host:port)\n",
			cmd, url, nng_strerror(rv));
		return -1;
	}
	*out = s;
	return 0;
}

/* ---- printing ---- */

static void put_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : ""), *run = p;

	fputc('"', f);
	/* Plain bytes go out in runs: one call per character was the printer's top cost. */
	for (;; p++) {
		unsigned char c = *p;
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		fwrite(run, 1, (size_t)(p - run), f);
		run = p + 1;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c)
			fprintf(f, "\\u%04x", c);
		else
			break;
	}
	fputc('"', f);
}

static void put_base64(FILE *f, const uint8_t *d, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	fputc('"', f);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < n)
			v |= d[i + 2];
		fputc(a[v >> 18 & 63], f);
		fputc(a[v >> 12 & 63], f);
		fputc(i + 1 < n ? a[v >> 6 & 63] : '=', f);
		fputc(i + 2 < n ? a[v & 63] : '=', f);
	}
	fputc('"', f);
}

/* RFC 3339, UTC, nanoseconds: 2026-11-21T05:00:00.123456789Z */
static void format_ts(const Google__Protobuf__Timestamp *ts, char *buf, size_t len)
{
	struct tm tm;
	time_t sec = ts ? (time_t)ts->seconds : 0;
	gmtime_r(&sec, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09dZ", ts ? ts->nanos : 0);
}

static void print_json(FILE *f, const Event *e)
{
	char ts[64];
	format_ts(e->ts, ts, sizeof(ts));
	fprintf(f,
		"{\"ts\":\"%s\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"ppid\":%" PRIu32
		",\"uid\":%" PRIu32 ",\"gid\":%" PRIu32 ",\"comm\":",
		ts, e->pid, e->tid, e->ppid, e->uid, e->gid);
	put_json_str(f, e->comm);
	fputs(",\"syscall\":", f);
	put_json_str(f, e->syscall);
	fputs(",\"path\":", f);
	put_json_str(f, e->path);
	fputs(",\"new_path\":", f);
	put_json_str(f, e->new_path);
	fprintf(f,
		",\"ret_val\":%" PRId64 ",\"bytes\":%" PRIu64 ",\"flags\":%" PRIu32
		",\"mode\":%" PRIu32 ",\"offset\":%" PRId64 ",\"inode\":%" PRIu64
		",\"dev\":%" PRIu32 ",\"cgroup_id\":%" PRIu64 ",\"container_id\":",
		e->ret_val, e->bytes, e->flags, e->mode, e->offset, e->inode, e->dev, e->cgroup_id);
	put_json_str(f, e->container_id);
	fprintf(f,
		",\"mnt_ns\":%" PRIu32 ",\"fd\":%" PRId32 ",\"seq\":%" PRIu64 ",\"cpu\":%" PRIu32
		",\"mono_ns\":%" PRIu64 ",\"arg_flags\":%" PRIu64 ",\"trunc_flags\":%" PRIu32,
		e->mnt_ns, e->fd, e->seq, e->cpu, e->mono_ns, e->arg_flags, e->trunc_flags);
	if (e->raw_path && *e->raw_path) {
		fputs(",\"raw_path\":", f);
		put_json_str(f, e->raw_path);
	}
	if (e->xattr_name && *e->xattr_name) {
		fputs(",\"xattr_name\":", f);
		put_json_str(f, e->xattr_name);
	}
	if (e->n_argv) {
		fputs(",\"argv\":[", f);
		for (size_t i = 0; i < e->n_argv; i++) {
			if (i)
				fputc(',', f);
			put_json_str(f, e->argv[i]);
		}
		fputc(']', f);
	}
	if (e->sample_len)
		fprintf(f, ",\"write_entropy\":%.3f,\"sample_len\":%" PRIu32, e->write_entropy,
			e->sample_len);
	if (e->sample.len) {
		fputs(",\"sample\":", f);
		put_base64(f, e->sample.data, e->sample.len);
	}
	fputs("}\n", f);
}

static void print_header(FILE *f)
{
	fprintf(f, "%-15s %7s %-15s %-10s %5s %s\n", "TIME", "PID", "COMM", "SYSCALL", "RET",
		"PATH [-> NEW_PATH] BYTES");
}

static void print_row(FILE *f, const Event *e)
{
	char tbuf[32] = "?";
	if (e->ts) {
		struct tm tm;
		time_t sec = (time_t)e->ts->seconds;
		localtime_r(&sec, &tm);
		size_t n = strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
		snprintf(tbuf + n, sizeof(tbuf) - n, ".%06d", e->ts->nanos / 1000);
	}
	fprintf(f, "%-15s %7" PRIu32 " %-15s %-10s %5" PRId64 " %s", tbuf, e->pid, e->comm,
		e->syscall, e->ret_val, e->path);
	if (e->new_path && *e->new_path)
		fprintf(f, " -> %s", e->new_path);
	if (e->bytes)
		fprintf(f, " %" PRIu64, e->bytes);
	fputc('\n', f);
}

/* ---- tail ---- */

struct tail_opts {
	const char *url;
	bool json, stats;
	const char *syscalls[MAX_FILTERS];
	int nsyscalls;
	const char *prefixes[MAX_FILTERS];
	int nprefixes;
	long pid;
	const char *comm;
	long long count; /* stop after this many events; 0 = never */
};

static bool starts_with(const char *s, const char *p)
{
	return s && strncmp(s, p, strlen(p)) == 0;
}

static bool wanted(const struct tail_opts *o, const Event *e)
{
	if (o->pid >= 0 && e->pid != (uint32_t)o->pid)
		return false;
	if (o->comm && strcmp(o->comm, e->comm) != 0)
		return false;
	if (o->nsyscalls) {
		int i = 0;
		while (i < o->nsyscalls && strcmp(o->syscalls[i], e->syscall) != 0)
			i++;
		if (i == o->nsyscalls)
			return false;
	}
	if (o->nprefixes) {
		int i = 0;
		while (i < o->nprefixes && !starts_with(e->path, o->prefixes[i]) &&
		       !starts_with(e->new_path, o->prefixes[i]))
			i++;
		if (i == o->nprefixes)
			return false;
	}
	return true;
}

static uint64_t loss_total(const LossCounters *l)
{
	if (!l)
		return 0;
	return l->kernel_lost + l->ring1_dropped + l->malformed + l->seq_gaps + l->ring2_dropped;
}

struct seen {
	uint64_t publisher_seq;
	uint64_t loss;
	uint64_t encoder_start_ns;
};

/* Tells the reader on stderr what the sequence numbers and loss counters say was lost. */
static void check_gaps(const EventBatch *b, struct seen *s)
{
	if (s->publisher_seq && b->publisher_seq > s->publisher_seq + 1)
		fprintf(stderr,
			"nerrf tail: warning: missed %" PRIu64 " batches (publisher_seq %" PRIu64
			" to %" PRIu64 "): this subscriber read too slowly; filter with "
			"fewer options, or raise nerrf-publisher --sendbuf\n",
			b->publisher_seq - s->publisher_seq - 1, s->publisher_seq + 1,
			b->publisher_seq - 1);
	else if (s->publisher_seq && b->publisher_seq <= s->publisher_seq)
		fprintf(stderr,
			"nerrf tail: note: the publisher restarted (publisher_seq %" PRIu64
			" after %" PRIu64 ")\n",
			b->publisher_seq, s->publisher_seq);
	s->publisher_seq = b->publisher_seq;

	uint64_t loss = loss_total(b->loss);
	if (b->encoder_start_ns != s->encoder_start_ns)
		s->loss = 0; /* the encoder restarted: its counters restarted too */
	if (loss > s->loss && s->encoder_start_ns)
		fprintf(stderr,
			"nerrf tail: warning: the pipeline counted %" PRIu64 " more lost "
			"events (see nerrf stats for where)\n",
			loss - s->loss);
	s->loss = loss;
	s->encoder_start_ns = b->encoder_start_ns;
}

static void print_stats_line(FILE *f, const Stats *st, bool json);

static void tail_usage(FILE *f)
{
	fputs("Usage: nerrf tail [options]\n"
	      "Subscribes to nerrf-publisher and prints live events.\n\n"
	      "  --url URL           publisher address (default ipc://<rundir>/events.sock)\n"
	      "  --rundir DIR        runtime directory of the pipeline (default /run/nerrf)\n"
	      "  --json              one JSON object per event and line (proto field names)\n"
	      "  --syscall NAME      only this syscall (repeatable)\n"
	      "  --pid PID           only this process (thread-group id)\n"
	      "  --comm NAME         only tasks with this name\n"
	      "  --path-prefix P     only paths (or rename targets) starting with P (repeatable)\n"
	      "  --stats             also print the once-a-second stats messages\n"
	      "  --count N           exit after printing N events\n"
	      "  --help              this text\n",
	      f);
}

static int parse_long(const char *cmd, const char *opt, const char *s, long long lo, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo) {
		fprintf(stderr, "nerrf %s: %s '%s' is not a number >= %lld\n", cmd, opt, s, lo);
		return -1;
	}
	*out = v;
	return 0;
}

int cmd_tail(int argc, char **argv)
{
	static const struct option lo[] = {
		{"url", required_argument, NULL, 'u'},
		{"rundir", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"syscall", required_argument, NULL, 's'},
		{"pid", required_argument, NULL, 'p'},
		{"comm", required_argument, NULL, 'c'},
		{"path-prefix", required_argument, NULL, 'P'},
		{"stats", no_argument, NULL, 'S'},
		{"count", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct tail_opts o = {.pid = -1};
	const char *rundir = NULL;
	char urlbuf[4200];
	long long v;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'u':
			o.url = optarg;
			break;
		case 'r':
			rundir = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 's':
		case 'P':
			if ((c == 's' ? o.nsyscalls : o.nprefixes) == MAX_FILTERS) {
				fprintf(stderr, "nerrf tail: at most %d of each filter\n",
					MAX_FILTERS);
				return 2;
			}
			if (c == 's')
				o.syscalls[o.nsyscalls++] = optarg;
			else
				o.prefixes[o.nprefixes++] = optarg;
			break;
		case 'p':
			if (parse_long("tail", "--pid", optarg, 0, &v) != 0)
				return 2;
			o.pid = (long)v;
			break;
		case 'c':
			o.comm = optarg;
			break;
		case 'S':
			o.stats = true;
			break;
		case 'n':
			if (parse_long("tail", "--count", optarg, 1, &o.count) != 0)
				return 2;
			break;
		case 'h':
			tail_usage(stdout);
			return 0;
		default:
			tail_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nerrf tail: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return 2;
	}
	if (!o.url)
		o.url = default_url(rundir, urlbuf, sizeof(urlbuf));

	nng_socket s;
	if (subscribe("tail", o.url, true, o.stats, &s) != 0)
		return 1;
	catch_signals();
	if (!o.json)
		print_header(stdout);
	fflush(stdout);

	struct seen seen = {0};
	long long printed = 0;
	int ret = 0;
	while (!nerrf_stop) {
		nng_msg *m;
		int rv = nng_recvmsg(s, &m, 0);
		if (rv == NNG_ETIMEDOUT)
			continue;
		if (rv != 0) {
			if (!nerrf_stop) {
				fprintf(stderr, "nerrf tail: receive failed: %s\n",
					nng_strerror(rv));
				ret = 1;
			}
			break;
		}
		size_t len = nng_msg_len(m);
		const uint8_t *b = nng_msg_body(m);
		if (len >= NERRF_TOPIC_LEN && memcmp(b, NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0) {
			EventBatch *eb = nerrf__trace__event_batch__unpack(
				NULL, len - NERRF_TOPIC_LEN, b + NERRF_TOPIC_LEN);
			if (!eb) {
				fprintf(stderr,
					"nerrf tail: skipped an undecodable batch (%zu bytes); "
					"is the publisher from another version?\n",
					len);
			} else {
				check_gaps(eb, &seen);
				for (size_t i = 0;
				     i < eb->n_events && (!o.count || printed < o.count); i++) {
					if (!wanted(&o, eb->events[i]))
						continue;
					if (o.json)
						print_json(stdout, eb->events[i]);
					else
						print_row(stdout, eb->events[i]);
					printed++;
				}
				nerrf__trace__event_batch__free_unpacked(eb, NULL);
			}
		} else if (len >= NERRF_TOPIC_LEN &&
			   memcmp(b, NERRF_TOPIC_STATS, NERRF_TOPIC_LEN) == 0) {
			Stats *st = nerrf__trace__stats__unpack(NULL, len - NERRF_TOPIC_LEN,
								b + NERRF_TOPIC_LEN);
			if (st) {
				print_stats_line(stdout, st, o.json);
				nerrf__trace__stats__free_unpacked(st, NULL);
			}
		}
		nng_msg_free(m);
		if (fflush(stdout) != 0 || ferror(stdout))
			break; /* reader went away (e.g. | head) */
		if (o.count && printed >= o.count)
			break;
	}
	/* No nng_close(): it can hang on a busy pipe (nng 1.5.2), and exit closes the socket. */
	(void)s;
	return ret;
}

/* ---- stats ---- */

static void print_stats_line(FILE *f, const Stats *st, bool json)
{
	const LossCounters *l = st->loss;
	LossCounters zero = NERRF__TRACE__LOSS_COUNTERS__INIT;
	char ts[64];

	if (!l)
		l = &zero;
	format_ts(st->ts, ts, sizeof(ts));
	if (json) {
		fprintf(f,
			"{\"stats\":{\"ts\":\"%s\",\"events_per_sec\":%.1f,\"kernel_emitted\":%" PRIu64
			",\"kernel_lost\":%" PRIu64 ",\"ring1_dropped\":%" PRIu64
			",\"malformed\":%" PRIu64 ",\"seq_gaps\":%" PRIu64
			",\"encoder_events\":%" PRIu64 ",\"ring2_dropped\":%" PRIu64
			",\"publish_errors\":%" PRIu64 ",\"publisher_seq\":%" PRIu64
			",\"subscribers\":%" PRIu32 "}}\n",
			ts, st->events_per_sec, l->kernel_emitted, l->kernel_lost, l->ring1_dropped,
			l->malformed, l->seq_gaps, l->encoder_events, l->ring2_dropped,
			l->publish_errors, st->publisher_seq, st->subscribers);
		return;
	}
	fprintf(f,
		"# stats %s events/s %.1f kernel_lost %" PRIu64 " ring1_dropped %" PRIu64
		" malformed %" PRIu64 " ring2_dropped %" PRIu64 " publisher_seq %" PRIu64
		" subscribers %" PRIu32 "\n",
		ts, st->events_per_sec, l->kernel_lost, l->ring1_dropped, l->malformed,
		l->ring2_dropped, st->publisher_seq, st->subscribers);
}

static double rate(uint64_t now, uint64_t prev, double dt)
{
	return dt > 0 && now >= prev ? (double)(now - prev) / dt : 0.0;
}

static void print_stats_table(FILE *f, const Stats *st, const Stats *prev)
{
	LossCounters zero = NERRF__TRACE__LOSS_COUNTERS__INIT;
	const LossCounters *l = st->loss ? st->loss : &zero;
	const LossCounters *p = prev && prev->loss ? prev->loss : NULL;
	double dt = 0;
	char ts[64];

	if (p && st->ts && prev->ts)
		dt = (double)(st->ts->seconds - prev->ts->seconds) +
		     (st->ts->nanos - prev->ts->nanos) / 1e9;
	format_ts(st->ts, ts, sizeof(ts));
	fprintf(f, "%s host %s  subscribers %" PRIu32 "  %s\n", ts,
		st->hostname && *st->hostname ? st->hostname : "?", st->subscribers,
		st->stage_state ? st->stage_state : "");
	fprintf(f, "  %-10s %-22s %14s %12s\n", "HOP", "COUNTER", "TOTAL", "PER SEC");
#define ROW(hop, name, field)                                                                      \
	fprintf(f, "  %-10s %-22s %14" PRIu64 " %12.1f\n", hop, name, l->field,                    \
		p ? rate(l->field, p->field, dt) : 0.0)
	ROW("kernel", "emitted", kernel_emitted);
	ROW("kernel", "lost", kernel_lost);
	ROW("kernel", "filtered", kernel_filtered);
	ROW("ring1", "dropped", ring1_dropped);
	ROW("ring1", "corrupt_resets", ring1_corrupt_resets);
	ROW("encoder", "events", encoder_events);
	ROW("encoder", "malformed", malformed);
	ROW("encoder", "seq_gaps", seq_gaps);
	ROW("ring2", "dropped", ring2_dropped);
#undef ROW
	/* The publisher's own count travels as Stats.publisher_seq (appended). */
	fprintf(f, "  %-10s %-22s %14" PRIu64 " %12.1f\n", "publisher", "batches (publisher_seq)",
		st->publisher_seq, p ? rate(st->publisher_seq, prev->publisher_seq, dt) : 0.0);
	for (size_t i = 0; i < l->n_kernel_lost_by_syscall; i++)
		if (l->kernel_lost_by_syscall[i]->value)
			fprintf(f, "  %-10s lost %-17s %14" PRIu64 "\n", "kernel",
				l->kernel_lost_by_syscall[i]->key,
				l->kernel_lost_by_syscall[i]->value);
	for (size_t i = 0; i < l->n_kernel_lost_by_cpu; i++)
		if (l->kernel_lost_by_cpu[i]->value)
			fprintf(f, "  %-10s lost on cpu %-10" PRIu32 " %14" PRIu64 "\n", "kernel",
				l->kernel_lost_by_cpu[i]->key, l->kernel_lost_by_cpu[i]->value);
	fprintf(f,
		"  ring1 fill %" PRIu64 "/%" PRIu64 " bytes   ring2 fill %" PRIu64 "/%" PRIu64
		" bytes   encoder %.1f events/s %.1f batches/s\n\n",
		st->ring1_used, st->ring1_capacity, st->ring2_used, st->ring2_capacity,
		st->events_per_sec, st->batches_per_sec);
}

static void stats_usage(FILE *f)
{
	fputs("Usage: nerrf stats [options]\n"
	      "Prints the pipeline's per-hop counters and rates, once a second.\n\n"
	      "  --url URL      publisher address (default ipc://<rundir>/events.sock)\n"
	      "  --rundir DIR   runtime directory of the pipeline (default /run/nerrf)\n"
	      "  --once         print one report and exit (fails after --timeout seconds)\n"
	      "  --timeout S    with --once: how long to wait for a report (default 5)\n"
	      "  --help         this text\n",
	      f);
}

int cmd_stats(int argc, char **argv)
{
	static const struct option lo[] = {
		{"url", required_argument, NULL, 'u'}, {"rundir", required_argument, NULL, 'r'},
		{"once", no_argument, NULL, 'o'},      {"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},      {0},
	};
	const char *url = NULL, *rundir = NULL;
	char urlbuf[4200];
	bool once = false;
	long long timeout_s = 5;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'u':
			url = optarg;
			break;
		case 'r':
			rundir = optarg;
			break;
		case 'o':
			once = true;
			break;
		case 't':
			if (parse_long("stats", "--timeout", optarg, 1, &timeout_s) != 0)
				return 2;
			break;
		case 'h':
			stats_usage(stdout);
			return 0;
		default:
			stats_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nerrf stats: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return 2;
	}
	if (!url)
		url = default_url(rundir, urlbuf, sizeof(urlbuf));

	nng_socket s;
	if (subscribe("stats", url, false, true, &s) != 0)
		return 1;
	catch_signals();

	Stats *prev = NULL;
	int ret = 0;
	long long waited_ms = 0;
	while (!nerrf_stop) {
		nng_msg *m;
		int rv = nng_recvmsg(s, &m, 0);
		if (rv == NNG_ETIMEDOUT) {
			waited_ms += RECV_POLL_MS;
			if (once && waited_ms >= timeout_s * 1000) {
				fprintf(stderr,
					"nerrf stats: no stats from %s within %lld s: is the "
					"pipeline running (nerrf run), and is this its address?\n",
					url, timeout_s);
				ret = 1;
				break;
			}
			continue;
		}
		if (rv != 0) {
			if (!nerrf_stop) {
				fprintf(stderr, "nerrf stats: receive failed: %s\n",
					nng_strerror(rv));
				ret = 1;
			}
			break;
		}
		size_t len = nng_msg_len(m);
		Stats *st = NULL;
		if (len >= NERRF_TOPIC_LEN)
			st = nerrf__trace__stats__unpack(NULL, len - NERRF_TOPIC_LEN,
							 (uint8_t *)nng_msg_body(m) +
								 NERRF_TOPIC_LEN);
		nng_msg_free(m);
		if (!st) {
			fprintf(stderr, "nerrf stats: skipped an undecodable stats message\n");
			continue;
		}
		print_stats_table(stdout, st, prev);
		if (prev)
			nerrf__trace__stats__free_unpacked(prev, NULL);
		prev = st;
		if (fflush(stdout) != 0 || once)
			break;
	}
	if (prev)
		nerrf__trace__stats__free_unpacked(prev, NULL);
	/* No nng_close(), as in cmd_tail. */
	return ret;
}
