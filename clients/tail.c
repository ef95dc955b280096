/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf tail and nerrf replay: the publisher's stream (docs/PROTOCOL.md),
 * live, from the journal, or from a journal directory, decoded and printed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "arena.h"
#include "nerrf.h"
#include "nerrf_parse.h"
#include "nerrf_wire.h"
#include "print.h"
#include "subscribe.h"
#include "trace.pb-c.h"
#include "wirecheck.h"

#define MAX_FILTERS 32


/* ---- tail ---- */

struct tail_opts {
	const char *url;
	bool json, all_fields, stats, wait;
	const char *syscalls[MAX_FILTERS];
	int nsyscalls;
	const char *prefixes[MAX_FILTERS];
	int nprefixes;
	long pid;
	const char *comm;
	long long count; /* stop after this many events; 0 = never */
	long long timeout_s;
	long long max_events;
	const char *from, *until, *replay_url;
	struct nerrf_tls_files tls; /* dialling tls+tcp:// */
	const char *nats, *subject; /* --nats: the fleet's stream instead */
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
	uint64_t ring2_malformed, ring2_corrupt_resets, ring2_corrupt_bytes;
	uint64_t capture_gaps;
	unsigned pipes_closed;
	bool closed_since; /* a connection closed since the last gap or restart */
	uint64_t dropped_batches, dropped_events; /* over --max-events */
};

/* How much a counter grew; a counter that went down restarted from 0. */
static uint64_t growth(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : now;
}

/* Capture stopped for a while (a collector restart without pinned programs). */
static void check_capture(const EventBatch *b, struct seen *s)
{
	const LossCounters *l = b->loss;

	if (!l || l->capture_gaps <= s->capture_gaps || !l->last_capture_gap) {
		if (l)
			s->capture_gaps = l->capture_gaps;
		return;
	}
	fprintf(stderr, "nerrf tail: warning: capture gap: nothing was captured for ");
	print_gap(stderr, l);
	s->capture_gaps = l->capture_gaps;
}

/* The publisher's own counts of what it could not read from ring #2. */
static void check_ring2(const EventBatch *b, struct seen *s, bool publisher_restarted)
{
	if (publisher_restarted)
		s->ring2_malformed = 0; /* counted per publisher run */
	uint64_t m = growth(b->ring2_malformed, s->ring2_malformed);
	uint64_t r = growth(b->ring2_corrupt_resets, s->ring2_corrupt_resets);
	uint64_t n = growth(b->ring2_corrupt_bytes, s->ring2_corrupt_bytes);
	if ((m || r) && s->publisher_seq)
		fprintf(stderr,
			"nerrf tail: warning: the publisher could not read events from ring #2: "
			"%" PRIu64 " more malformed records, %" PRIu64 " more resynchronisations "
			"after corruption (%" PRIu64 " bytes); see nerrf stats\n",
			m, r, n);
	s->ring2_malformed = b->ring2_malformed;
	s->ring2_corrupt_resets = b->ring2_corrupt_resets;
	s->ring2_corrupt_bytes = b->ring2_corrupt_bytes;
}

/* What publisher_seq says this subscriber missed, for every batch, dropped ones too. */
static void check_seq(uint64_t seq, struct seen *s)
{
	unsigned closed = atomic_load(&pipes_closed);

	/* Batches received before the close may still be queued: it explains the next gap. */
	s->closed_since |= closed != s->pipes_closed;
	s->pipes_closed = closed;
	if (s->publisher_seq && seq > s->publisher_seq + 1 && s->closed_since)
		fprintf(stderr,
			"nerrf tail: warning: missed %" PRIu64 " batches (publisher_seq %" PRIu64
			" to %" PRIu64 ") while the connection to the publisher was down; nng "
			"closes it on a message above --max-message-bytes (%zu): raise that if "
			"the publisher's batches are larger (nerrf-encoder --max-batch-bytes)\n",
			seq - s->publisher_seq - 1, s->publisher_seq + 1, seq - 1, recv_max);
	else if (s->publisher_seq && seq > s->publisher_seq + 1)
		fprintf(stderr,
			"nerrf tail: warning: missed %" PRIu64 " batches (publisher_seq %" PRIu64
			" to %" PRIu64 "): this subscriber read too slowly; filter with "
			"fewer options, or raise nerrf-publisher --sendbuf\n",
			seq - s->publisher_seq - 1, s->publisher_seq + 1, seq - 1);
	else if (s->publisher_seq && seq <= s->publisher_seq)
		fprintf(stderr,
			"nerrf tail: note: the publisher restarted (publisher_seq %" PRIu64
			" after %" PRIu64 ")\n",
			seq, s->publisher_seq);
	if (s->publisher_seq && seq != s->publisher_seq + 1)
		s->closed_since = false;
	s->publisher_seq = seq;
}

/* Tells the reader on stderr what the sequence numbers and loss counters say was lost. */
static void check_gaps(const EventBatch *b, struct seen *s)
{
	check_ring2(b, s, s->publisher_seq && b->publisher_seq <= s->publisher_seq);
	check_capture(b, s);
	check_seq(b->publisher_seq, s);

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

/* Where a batch is decoded: the previous batch's memory, all of it reused. */
static ProtobufCAllocator *batch_mem(void)
{
	static struct arena batch_arena;

	if (!batch_arena.pa.alloc)
		arena_init(&batch_arena);
	arena_reset(&batch_arena);
	return &batch_arena.pa;
}

/* Decodes and prints one batch; returns the events printed. */

static long long tail_batch(const struct tail_opts *o, const uint8_t *pb, size_t len,
			    struct seen *s, long long printed)
{
	struct nerrf_batch_scan sc;
	long long n = 0;

	/* Counted before decoding: decoding allocates for every event. */
	if (nerrf_batch_scan(pb, len, &sc) == 0 && sc.events > (uint64_t)o->max_events) {
		check_seq(sc.publisher_seq, s);
		s->dropped_batches++;
		s->dropped_events += sc.events;
		fprintf(stderr,
			"nerrf tail: warning: dropped batch publisher_seq %" PRIu64 " of %" PRIu64
			" events, more than --max-events %lld (%" PRIu64 " batches, %" PRIu64
			" events dropped so far); raise --max-events if the publisher is yours "
			"and its batches are that large\n",
			sc.publisher_seq, sc.events, o->max_events, s->dropped_batches,
			s->dropped_events);
		return 0;
	}
	EventBatch *eb = nerrf__trace__event_batch__unpack(batch_mem(), len, pb);
	if (!eb) {
		fprintf(stderr,
			"nerrf tail: skipped an undecodable batch (%zu bytes); "
			"is the publisher from another version?\n",
			len);
		return 0;
	}
	check_gaps(eb, s);
	for (size_t i = 0; i < eb->n_events && (!o->count || printed + n < o->count); i++) {
		if (!wanted(o, eb->events[i]))
			continue;
		if (o->json)
			print_json(stdout, &eb->events[i]->base, NULL, o->all_fields);
		else
			print_row(stdout, eb->events[i]);
		n++;
	}
	return n;
}


static void tail_usage(FILE *f)
{
	fprintf(f,
		"Usage: nerrf tail [options]\n"
		"Subscribes to nerrf-publisher and prints live events.\n\n"
		"  --url URL           publisher address (default ipc://<rundir>/events.sock)\n"
		"  --rundir DIR        runtime directory of the pipeline (default /run/nerrf)\n"
		"  --json              one JSON object per event and line: proto3 JSON with\n"
		"                      trace.proto's field names (docs/PROTOCOL.md)\n"
		"  --all-fields        with --json, also the fields at 0 or empty\n"
		"  --syscall NAME      only this syscall (repeatable)\n"
		"  --pid PID           only this process (thread-group id)\n"
		"  --comm NAME         only tasks with this name\n"
		"  --path-prefix P     only paths (or rename targets) starting with P (repeatable)\n"
		"  --stats             also print the once-a-second stats messages\n"
		"  --count N           exit after printing N events\n"
		"  --timeout S         with nothing from the publisher after S seconds, say why\n"
		"                      and exit (default %d)\n"
		"  --wait              say why, but keep waiting for the publisher\n"
		"  --max-events N      drop (and count) batches of more events (default %u)\n"
		"  --max-message-bytes N  largest message accepted; nng closes the connection\n"
		"                      on a larger one (default %u)\n"
		"  --from SEQ|@SECONDS|TIME  first the batches kept in the publisher's journal\n"
		"                      from this publisher_seq, unix time or RFC 3339 time, then\n"
		"                      live, without a gap or a duplicate (docs/PROTOCOL.md)\n"
		"  --replay-url URL    the publisher's replay endpoint\n"
		"                      (default ipc://<rundir>/replay.sock)\n"
		"  --nats URL          instead, the fleet's stream in NATS JetStream, as\n"
		"                      nerrf-forward puts it there, with a HOST column; --from\n"
		"                      then takes the stream's sequence or a time (docs/FORWARD.md)\n"
		"  --subject S         with --nats: which hosts (default nerrf.*.events)\n"
		TLS_USAGE
		"  --help              this text\n"
		"Exit status: 0 done, 1 runtime error, 2 usage, 3 no publisher answers,\n"
		"4 permission denied on the socket.\n",
		DEFAULT_TIMEOUT_S, NERRF_MAX_EVENTS, NERRF_MAX_MESSAGE_BYTES);
}

static void replay_usage(FILE *f)
{
	fputs("Usage: nerrf replay [options] DIR|FILE\n"
	      "Prints the events kept in a journal directory (or one segment) offline, as\n"
	      "nerrf tail would; works on a copy of the directory on another machine.\n"
	      "Every record's checksum is verified; a torn or damaged one is reported, never shown.\n\n"
	      "  --from SEQ|@SECONDS|TIME  from this publisher_seq, unix time or RFC 3339 time\n"
	      "  --until SEQ|@SECONDS|TIME up to this one (inclusive)\n"
	      "  --json, --all-fields, --syscall, --pid, --comm, --path-prefix, --count,\n"
	      "  --max-events\n"
	      "                      as for nerrf tail\n"
	      "  --help              this text\n"
	      "Exit status: 0 done, 1 unreadable or damaged segments (the rest is shown), 2 usage.\n",
	      f);
}

/* tail's options, and replay's (offline: no --url, --rundir, --wait, --timeout, --stats). */
static int parse_tail(const char *cmd, int argc, char **argv, struct tail_opts *o,
		      const char **rundir)
{
	static const struct option lo[] = {
		{"url", required_argument, NULL, 'u'},
		{"rundir", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"all-fields", no_argument, NULL, 'a'},
		{"syscall", required_argument, NULL, 's'},
		{"pid", required_argument, NULL, 'p'},
		{"comm", required_argument, NULL, 'c'},
		{"path-prefix", required_argument, NULL, 'P'},
		{"stats", no_argument, NULL, 'S'},
		{"count", required_argument, NULL, 'n'},
		{"timeout", required_argument, NULL, 't'},
		{"wait", no_argument, NULL, 'w'},
		{"max-events", required_argument, NULL, 'E'},
		{"max-message-bytes", required_argument, NULL, 'B'},
		{"from", required_argument, NULL, 'F'},
		{"until", required_argument, NULL, 'U'},
		{"replay-url", required_argument, NULL, 'R'},
		{"nats", required_argument, NULL, 'Z'},
		{"subject", required_argument, NULL, 'J'},
		TLS_OPTIONS,
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	bool offline = strcmp(cmd, "replay") == 0;
	char err[256];
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'u':
			if (offline)
				goto bad;
			o->url = optarg;
			break;
		case 'r':
			*rundir = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'a':
			o->all_fields = true;
			break;
		case 's':
		case 'P':
			if ((c == 's' ? o->nsyscalls : o->nprefixes) == MAX_FILTERS) {
				fprintf(stderr, "nerrf %s: at most %d of each filter\n",
					cmd, MAX_FILTERS);
				return 2;
			}
			if (c == 's')
				o->syscalls[o->nsyscalls++] = optarg;
			else
				o->prefixes[o->nprefixes++] = optarg;
			break;
		case 'p':
			if (nerrf_parse_uint("--pid", optarg, 1, 4194304, &v, err, sizeof(err)) != 0) {
				fprintf(stderr, "nerrf %s: %s\n", cmd, err);
				return 2;
			}
			o->pid = (long)v;
			break;
		case 'c':
			o->comm = optarg;
			break;
		case 'S':
			o->stats = true;
			break;
		case 'n':
			if (parse_num(cmd, "--count", optarg, 1, LLONG_MAX, &v) != 0)
				return 2;
			o->count = (long long)v;
			break;
		case 't':
			if (parse_secs(cmd, optarg, &o->timeout_s) != 0)
				return 2;
			break;
		case 'w':
			o->wait = true;
			break;
		case 'E':
			if (parse_num(cmd, "--max-events", optarg, 1, 1u << 24, &v) != 0)
				return 2;
			o->max_events = (long long)v;
			break;
		case 'B':
			if (parse_recv_max(cmd, optarg) != 0)
				return 2;
			break;
		case 'F':
			o->from = optarg;
			break;
		case 'U':
			if (!offline)
				goto bad;
			o->until = optarg;
			break;
		case 'R':
			o->replay_url = optarg;
			break;
		case 'Z':
		case 'J':
			if (offline)
				goto bad;
			*(c == 'Z' ? &o->nats : &o->subject) = optarg;
			break;
		case 'h':
			(offline ? replay_usage : tail_usage)(stdout);
			return 0;
		case 'C': case 'K': case 'A': case 'N':
			tls_option(&o->tls, c, optarg);
			break;
		default:
		bad:
			(offline ? replay_usage : tail_usage)(stderr);
			return 2;
		}
	}
	if (optind < argc - offline || (offline && optind == argc)) {
		fprintf(stderr, "nerrf %s: %s (see --help)\n", cmd,
			optind < argc ? "unexpected argument" : "name a journal directory or segment");
		return 2;
	}
	return -1;
}

struct emit {
	const struct tail_opts *o;
	struct seen *seen;
	long long printed;
};

static int emit(void *arg, const uint8_t *msg, size_t len)
{
	struct emit *e = arg;

	if (len >= NERRF_TOPIC_LEN && memcmp(msg, NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0)
		e->printed += tail_batch(e->o, msg + NERRF_TOPIC_LEN, len - NERRF_TOPIC_LEN,
					 e->seen, e->printed);
	return e->o->count && e->printed >= e->o->count;
}

/*
 * Everything the journal holds from *next up to until (0: all), retrying for
 * up to 2 s while the publisher has not yet written up to until. What is
 * still missing then was never journaled: said, and skipped.
 */
static int fill(nng_socket rq, uint64_t *next, uint64_t from_ns, uint64_t until, struct emit *e)
{
	uint64_t written = 0, tries = 0;
	int rv;

	while (!nerrf_stop && !(e->o->count && e->printed >= e->o->count) &&
	       (!until || *next <= until)) {
		rv = replay_fetch(rq, next, from_ns, until, emit, e, &written);
		if (rv < 0)
			return -1;
		if (rv > 0)
			continue;
		if (!until || written >= until || ++tries > 200)
			break;
		usleep(10000);
	}
	if (until && *next <= until && !nerrf_stop) {
		fprintf(stderr,
			"nerrf tail: warning: batches publisher_seq %" PRIu64 " to %" PRIu64
			" are not in the journal (journal_dropped, or removed by retention)\n",
			*next, until);
		*next = until + 1;
		e->seen->publisher_seq = until; /* said: not a slow-reader gap */
	}
	return 0;
}

struct fleet {
	const struct tail_opts *o;
	long long printed;
	uint64_t dropped;
};

/* One batch of the fleet's stream: the events wanted, with the host they came from. */
static int fleet_batch(void *arg, const char *host, const uint8_t *pb, size_t len)
{
	struct fleet *fl = arg;
	const struct tail_opts *o = fl->o;
	struct nerrf_batch_scan sc;

	if (nerrf_batch_scan(pb, len, &sc) != 0 || sc.events > (uint64_t)o->max_events) {
		fprintf(stderr, "nerrf tail: skipped a message from %s that is not an EventBatch "
			"or has more than --max-events events (%" PRIu64 " so far)\n", host,
			++fl->dropped);
		return 0;
	}
	EventBatch *eb = nerrf__trace__event_batch__unpack(batch_mem(), len, pb);
	if (!eb)
		return 0;
	for (size_t i = 0; i < eb->n_events && (!o->count || fl->printed < o->count); i++) {
		if (!wanted(o, eb->events[i]))
			continue;
		if (o->json) {
			print_json_host(stdout, eb->events[i], host, o->all_fields);
		} else {
			put_text_padded(stdout, host, 16);
			fputc(' ', stdout);
			print_row(stdout, eb->events[i]);
		}
		fl->printed++;
	}
	return fflush(stdout) != 0 || ferror(stdout) || (o->count && fl->printed >= o->count);
}

/*
 * One write per batch: every printer flushes after each batch, and with
 * stdio's default buffer (one page) a full-speed batch took ~25 writes.
 */
static void buffer_stdout(void)
{
	static char buf[1 << 18];

	setvbuf(stdout, buf, _IOFBF, sizeof(buf));
}

int cmd_tail(int argc, char **argv)
{
	struct tail_opts o = {
		.pid = -1, .timeout_s = DEFAULT_TIMEOUT_S, .max_events = NERRF_MAX_EVENTS};
	const char *rundir = NULL;
	char urlbuf[4200], rurl[4200];
	uint64_t from_seq = 0, from_ns = 0;
	int rv;

	if ((rv = parse_tail("tail", argc, argv, &o, &rundir)) >= 0)
		return rv;
	buffer_stdout();
	if (o.from && replay_parse_point("--from", o.from, &from_seq, &from_ns) != 0)
		return 2;
	if (o.nats) {
		struct fleet fl = {.o = &o};
		nerrf_catch_stop();
		if (!o.json) {
			printf("%-16s ", "HOST");
			print_header(stdout);
		}
		return tail_nats(o.nats, o.subject ? o.subject : "nerrf.*.events", &o.tls, from_seq,
				 from_ns, fleet_batch, &fl);
	}
	if (!o.url)
		o.url = default_url(rundir, urlbuf, sizeof(urlbuf));

	nng_socket s;
	/* The stats come at least every 2.5 s: they tell that a publisher is there. */
	if (subscribe("tail", o.url, &o.tls, true, true, &s) != 0)
		return 1;
	nerrf_catch_stop();
	if (!o.json)
		print_header(stdout);
	fflush(stdout);

	struct watch w = {.cmd = "tail", .url = o.url, .limit_ms = o.timeout_s * 1000, .wait = o.wait};
	struct seen seen = {0};
	struct emit em = {.o = &o, .seen = &seen};
	nng_socket rq;
	/* With --from: the next publisher_seq to print, journal or live (docs/PROTOCOL.md). */
	uint64_t next = from_seq;
	int ret = 0;
	if (o.from) {
		if (!o.replay_url) {
			snprintf(rurl, sizeof(rurl), "ipc://%s/replay.sock",
				 rundir ? rundir : NERRF_DEFAULT_RUNDIR);
			o.replay_url = rurl;
		}
		/* Subscribed already: what is published meanwhile waits in the socket. */
		if (replay_open(o.replay_url, &rq) != 0 || fill(rq, &next, from_ns, 0, &em) != 0)
			return 1;
	}
#define printed em.printed
	while (!nerrf_stop && !(o.count && printed >= o.count)) {
		nng_msg *m;
		int got = watch_recv(s, &w, &m, &ret);
		if (got < 0)
			break;
		if (!got)
			continue;
		size_t len = nng_msg_len(m);
		const uint8_t *b = nng_msg_body(m);
		struct nerrf_batch_scan sc;
		if (len >= NERRF_TOPIC_LEN && memcmp(b, NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0) {
			bool show = true;
			if (o.from && nerrf_batch_scan(b + NERRF_TOPIC_LEN, len - NERRF_TOPIC_LEN,
						       &sc) == 0) {
				/* Before it, what the journal holds; what it already gave, not again. */
				if (next && sc.publisher_seq > next &&
				    fill(rq, &next, 0, sc.publisher_seq - 1, &em) != 0)
					ret = 1;
				show = sc.publisher_seq >= next;
				if (show)
					next = sc.publisher_seq + 1;
			}
			if (show && !(o.count && printed >= o.count))
				printed += tail_batch(&o, b + NERRF_TOPIC_LEN,
						      len - NERRF_TOPIC_LEN, &seen, printed);
		} else if (len >= NERRF_TOPIC_LEN &&
			   memcmp(b, NERRF_TOPIC_STATS, NERRF_TOPIC_LEN) == 0 && (o.stats || o.from)) {
			Stats *st = nerrf__trace__stats__unpack(NULL, len - NERRF_TOPIC_LEN,
								b + NERRF_TOPIC_LEN);
			/* A quiet stream: the stats say how far the publisher is. */
			if (st && o.from && next && st->publisher_seq >= next &&
			    fill(rq, &next, 0, st->publisher_seq, &em) != 0)
				ret = 1;
			if (st && o.stats && o.json)
				print_json(stdout, &st->base, "stats", o.all_fields);
			else if (st && o.stats)
				print_stats_line(stdout, st);
			if (st)
				nerrf__trace__stats__free_unpacked(st, NULL);
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
#undef printed

static int print_msg(void *arg, const uint8_t *msg, size_t len)
{
	int stop = emit(arg, msg, len);
	return stop || fflush(stdout) != 0 || ferror(stdout);
}

int cmd_replay(int argc, char **argv)
{
	struct tail_opts o = {.pid = -1, .max_events = NERRF_MAX_EVENTS};
	struct replay_range r = {0};
	struct seen seen = {0};
	struct emit em = {.o = &o, .seen = &seen};
	const char *rundir = NULL;
	int rv;

	if ((rv = parse_tail("replay", argc, argv, &o, &rundir)) >= 0)
		return rv;
	buffer_stdout();
	if ((o.from && replay_parse_point("--from", o.from, &r.from_seq, &r.from_ns) != 0) ||
	    (o.until && replay_parse_point("--until", o.until, &r.until_seq, &r.until_ns) != 0))
		return 2;
	if (!o.json)
		print_header(stdout);
	rv = replay_files(argv[argc - 1], &r, print_msg, &em);
	fflush(stdout);
	return rv;
}
