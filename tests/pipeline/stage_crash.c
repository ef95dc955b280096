/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage crash: while a child pinned to one CPU makes pwrite64 calls at a
 * steady pace and counts them itself, the encoder and then the publisher are
 * killed with SIGKILL. `nerrf run` restarts each alone (the other stages
 * keep their pids) and the subscriber resumes receiving. Then, exactly:
 *
 *   made == distinct writes delivered + kernel_lost(pwrite64) + ring1_dropped
 *           + events in batches this subscriber never got
 *
 * where the last term comes from the encoder's own numbering, not from a
 * guess: within one encoder run, batch_seq has no gap unless encoder_events
 * jumped by the events of the missing batches, and a new run's first batch
 * must be batch 1 or its jump says what went before. Each such gap must be
 * counted by the hop that made it: the encoder's ring2_dropped grew by its
 * events, or publisher_seq skipped its batches. The kernel and ring #1
 * counters live beyond either restart, so their growth since the pipeline
 * was at rest before the writes is what the writes lost; kernel_emitted grew
 * by exactly what the child made.
 *
 * Duplicates only where the design admits them, each the same cpu + seq as
 * the copy delivered first: the writes of one batch of the killed encoder
 * read again by its successor, and one batch the killed publisher had sent
 * but not yet released, sent again by its successor.
 */
#include "e2e.h"
#include "tally.h"

#include <sched.h>

#define NWRITES 5000
#define MAX_BATCHES (NWRITES + 1000)

static int ctl_read;

/* After 'w' from the test: NWRITES pwrite64 calls, each at its own offset, 1 ms apart. */
static void writer(const struct e2e *e, int report_fd, void *arg)
{
	char p[PATH_MAX + 16], c;
	uint64_t made = 0;
	(void)arg;
	snprintf(p, sizeof(p), "%s/steady", e->work);
	int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0 || read(ctl_read, &c, 1) != 1)
		_exit(1);
	for (int i = 1; i <= NWRITES; i++) {
		/* The offset names the write. */
		if (pwrite(fd, "w", 1, i) == 1)
			made++;
		usleep(1000);
	}
	if (write(report_fd, &made, sizeof(made)) != sizeof(made))
		_exit(1);
	pause();
}

struct copy {
	uint64_t run, batch_seq; /* the batch: encoder_start_ns, batch_seq */
	uint64_t seq;
	uint32_t cpu;
	bool seen;
};

struct run {
	uint64_t start_ns;
	uint64_t batch_seq;      /* the last one received */
	uint64_t encoder_events; /* what the encoder had batched by then */
	uint64_t ring2_dropped;  /* and counted as dropped itself */
	uint64_t malformed;
};

static struct {
	struct e2e e;
	bool counting;
	struct copy first[NWRITES + 1];
	uint64_t distinct, dups;
	struct run runs[8];
	unsigned nruns;
	struct {
		uint64_t run, batch_seq;
	} got[MAX_BATCHES];
	unsigned ngot;
	uint64_t unseen_batches, unseen_events; /* since counting began */
	uint64_t resent;		       /* batches received twice */
	uint64_t reread_run, reread_batch;     /* the one batch whose writes came back */
	unsigned reread_batches;
	uint64_t publish_errors;
	uint64_t publisher_seq; /* of the last batch */
	struct tally stats; /* the latest encoder Stats */
	bool have_stats;
} S;

static struct run *run_of(uint64_t start_ns)
{
	for (unsigned i = 0; i < S.nruns; i++)
		if (S.runs[i].start_ns == start_ns)
			return &S.runs[i];
	CHECK(S.nruns < 8, "more encoder runs than the test made");
	S.runs[S.nruns] = (struct run){.start_ns = start_ns};
	return &S.runs[S.nruns++];
}

static bool received_before(uint64_t run, uint64_t batch_seq)
{
	for (unsigned i = S.ngot; i-- > 0;)
		if (S.got[i].run == run && S.got[i].batch_seq == batch_seq)
			return true;
	CHECK(S.ngot < MAX_BATCHES);
	S.got[S.ngot].run = run;
	S.got[S.ngot++].batch_seq = batch_seq;
	return false;
}

static void write_event(const Nerrf__Trace__EventBatch *b, const Nerrf__Trace__Event *ev,
			bool resent)
{
	CHECK(ev->pid == (uint32_t)S.e.child && !strcmp(ev->syscall, "pwrite64") &&
		      ev->offset >= 1 && ev->offset <= NWRITES,
	      "an event the child did not make during the writes: %s pid %u offset %lld",
	      ev->syscall, ev->pid, (long long)ev->offset);
	struct copy *f = &S.first[ev->offset];
	if (!f->seen) {
		*f = (struct copy){b->encoder_start_ns, b->batch_seq, ev->seq, ev->cpu, true};
		S.distinct++;
		return;
	}
	S.dups++;
	CHECK(f->cpu == ev->cpu && f->seq == ev->seq,
	      "write %lld delivered twice, as cpu %u seq %llu and as cpu %u seq %llu: a second "
	      "event, not a second copy", (long long)ev->offset, f->cpu,
	      (unsigned long long)f->seq, ev->cpu, (unsigned long long)ev->seq);
	if (resent)
		return;
	CHECK(f->run != b->encoder_start_ns,
	      "write %lld came twice from one encoder run (batches %llu and %llu)",
	      (long long)ev->offset, (unsigned long long)f->batch_seq,
	      (unsigned long long)b->batch_seq);
	if (S.reread_batches && f->run == S.reread_run && f->batch_seq == S.reread_batch)
		return;
	S.reread_batches++;
	S.reread_run = f->run;
	S.reread_batch = f->batch_seq;
}

/* Every batch, from the first e2e_go reads. */
static void take_batch(struct e2e *e, const Nerrf__Trace__EventBatch *b)
{
	struct run *r = run_of(b->encoder_start_ns);
	bool resent = received_before(b->encoder_start_ns, b->batch_seq);

	(void)e;
	S.publish_errors = b->publisher_publish_errors;
	CHECK(b->loss, "a batch without loss counters");
	/* Batches this subscriber missed, by the publisher's numbering (it restarts at 1). */
	uint64_t prev = b->publisher_seq > S.publisher_seq ? S.publisher_seq : 0;
	uint64_t pub_gap = b->publisher_seq - prev - 1;
	S.publisher_seq = b->publisher_seq;
	if (resent) {
		S.resent++;
	} else {
		/* A batch_seq gap and a jump in encoder_events: one without the other is a lie. */
		CHECK(b->batch_seq > r->batch_seq, "batch %llu after %llu in one encoder run",
		      (unsigned long long)b->batch_seq, (unsigned long long)r->batch_seq);
		uint64_t missed = b->batch_seq - r->batch_seq - 1;
		uint64_t expect = r->encoder_events + b->n_events;
		CHECK(b->loss->encoder_events >= expect,
		      "encoder_events %llu in batch %llu, but %llu were received in this run",
		      (unsigned long long)b->loss->encoder_events, (unsigned long long)b->batch_seq,
		      (unsigned long long)expect);
		uint64_t jump = b->loss->encoder_events - expect;
		CHECK((missed > 0) == (jump > 0),
		      "batch %llu: %llu batches missing by batch_seq, %llu events by encoder_events",
		      (unsigned long long)b->batch_seq, (unsigned long long)missed,
		      (unsigned long long)jump);
		/*
		 * Counted by the hop that lost them: the encoder's ring2_dropped grew
		 * by the events, or publisher_seq skipped the batches, or both shared.
		 */
		uint64_t r2d = b->loss->ring2_dropped - r->ring2_dropped;
		CHECK(b->loss->ring2_dropped >= r->ring2_dropped);
		CHECK((r2d == jump && pub_gap == 0) || (r2d == 0 && pub_gap == missed) ||
			      (r2d > 0 && r2d < jump && pub_gap > 0 && pub_gap < missed),
		      "batch %llu: %llu events in %llu batches before it never arrived; the "
		      "encoder counted %llu dropped, publisher_seq skipped %llu batches",
		      (unsigned long long)b->batch_seq, (unsigned long long)jump,
		      (unsigned long long)missed, (unsigned long long)r2d,
		      (unsigned long long)pub_gap);
		if (S.counting) {
			S.unseen_batches += missed;
			S.unseen_events += jump;
		}
		r->batch_seq = b->batch_seq;
		r->encoder_events = b->loss->encoder_events;
		r->ring2_dropped = b->loss->ring2_dropped;
	}
	if (b->loss->malformed > r->malformed)
		r->malformed = b->loss->malformed;
	for (size_t i = 0; S.counting && i < b->n_events; i++)
		write_event(b, b->events[i], resent);
}

/* Reads one message, if one comes within 100 ms; true for an encoder Stats. */
static bool pump_one(void)
{
	nng_msg *m = pt_recv(S.e.sub, 100);
	bool stats = false;

	if (!m)
		return false;
	if (memcmp(nng_msg_body(m), NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0) {
		Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
		e2e_account(&S.e, b);
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	} else {
		Nerrf__Trace__Stats *st = pt_decode_stats(m);
		if (st->loss) {
			tally_take(&S.stats, st->loss);
			S.have_stats = stats = true;
		}
		nerrf__trace__stats__free_unpacked(st, NULL);
	}
	nng_msg_free(m);
	return stats;
}

static void pump(uint64_t ms)
{
	for (uint64_t end = nerrf_mono_ms() + ms; nerrf_mono_ms() < end;)
		pump_one();
}

/*
 * Until three encoder Stats in a row say the same and the current encoder
 * run's batches are all received or counted unseen; with rest, until they
 * also describe a pipeline at rest (one encoder run only).
 */
static struct tally settle(const char *phase, bool rest)
{
	struct tally last;
	unsigned stable = 0;
	uint64_t end = nerrf_mono_ms() + 60000;

	CHECK(S.nruns > 0, "no batch yet");
	memset(&last, 0xff, sizeof(last));
	while (stable < 2 || S.stats.encoder_events != S.runs[S.nruns - 1].encoder_events ||
	       (rest && !tally_at_rest(&last, S.e.delivered))) {
		CHECK(nerrf_mono_ms() < end, "%s: the counters never came to rest within 60 s", phase);
		if (rest && stable >= 5)
			tally_unrest(&last, S.e.delivered, phase);
		if (!pump_one())
			continue;
		stable = tally_same(&S.stats, &last) ? stable + 1 : 0;
		last = S.stats;
	}
	return last;
}

static void kill_and_wait_restart(const char *stage)
{
	pid_t old = e2e_stage_pid(&S.e, stage);
	CHECK(old > 0, "no %s pid in nerrf run's log: %s", stage, pt_slurp(S.e.err));
	CHECK(kill(old, SIGKILL) == 0);
	uint64_t end = nerrf_mono_ms() + 15000;
	while (e2e_stage_pid(&S.e, stage) == old && nerrf_mono_ms() < end)
		pump(100);
	CHECK(e2e_stage_pid(&S.e, stage) != old, "%s was not restarted: %s", stage,
	      pt_slurp(S.e.err));
}

int main(void)
{
	struct e2e *e = &S.e;
	cpu_set_t all, one;
	uint64_t made = 0;
	int ctl[2];
	unsigned cpu;

	e2e_require("the end-to-end stage crash test", true);
	e2e_dirs(e, "e2e-crash");
	e->on_batch = take_batch;
	/* One CPU for the child, so that its events' cpu + seq are one sequence. */
	CHECK(sched_getaffinity(0, sizeof(all), &all) == 0);
	for (cpu = CPU_SETSIZE; cpu-- > 0 && !CPU_ISSET(cpu, &all);)
		;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	CHECK(pipe(ctl) == 0);
	ctl_read = ctl[0];
	CHECK(sched_setaffinity(0, sizeof(one), &one) == 0);
	e2e_child(e, writer, NULL);
	CHECK(sched_setaffinity(0, sizeof(all), &all) == 0);
	close(ctl[0]);
	fcntl(e->done_fd, F_SETFL, O_NONBLOCK);
	e2e_run(e, NULL);
	e->sub = pt_sub(e->url, NULL);
	CHECK(nng_socket_set_int(e->sub, NNG_OPT_RECVBUF, 8192) == 0);
	e2e_go(e, e->sub, 1);
	pid_t collector = e2e_stage_pid(e, "collector");
	pid_t publisher = e2e_stage_pid(e, "publisher");

	/* Everything before the writes is in: from here on the counters' growth is theirs. */
	struct tally before = settle("before the writes", true);
	S.counting = true;
	CHECK(write(ctl[1], "w", 1) == 1);

	pump(800);
	kill_and_wait_restart("encoder");
	CHECK_EQ_U64(e2e_stage_pid(e, "collector"), collector);
	CHECK_EQ_U64(e2e_stage_pid(e, "publisher"), publisher);
	pid_t encoder = e2e_stage_pid(e, "encoder");
	pump(800);
	uint64_t batches = e->batches;
	kill_and_wait_restart("publisher");
	CHECK_EQ_U64(e2e_stage_pid(e, "collector"), collector);
	CHECK_EQ_U64(e2e_stage_pid(e, "encoder"), encoder);

	uint64_t end = nerrf_mono_ms() + 30000;
	while (read(e->done_fd, &made, sizeof(made)) != sizeof(made)) {
		CHECK(nerrf_mono_ms() < end, "the writer never finished");
		pump(100);
	}
	struct tally after = settle("after the writes", false);
	CHECK(e->batches > batches, "no batches after the publisher restarted: %s",
	      pt_slurp(e->err));
	CHECK(S.nruns == 2, "%u encoder runs seen, not 2", S.nruns);

	uint64_t malformed = 0;
	for (unsigned i = 0; i < S.nruns; i++)
		malformed += S.runs[i].malformed;
	uint64_t klost = after.by_op[NERRF_OP_PWRITE64] - before.by_op[NERRF_OP_PWRITE64];
	uint64_t r1 = after.ring1_dropped - before.ring1_dropped;
	fprintf(stderr,
		"made %llu writes; delivered %llu distinct (%llu duplicates: %u batch read again "
		"after the encoder restart, %llu sent again after the publisher restart); lost: "
		"kernel %llu, ring #1 %llu, in %llu unseen batches %llu; malformed %llu\n",
		(unsigned long long)made, (unsigned long long)S.distinct,
		(unsigned long long)S.dups, S.reread_batches, (unsigned long long)S.resent,
		(unsigned long long)klost, (unsigned long long)r1,
		(unsigned long long)S.unseen_batches, (unsigned long long)S.unseen_events,
		(unsigned long long)malformed);
	CHECK_EQ_U64(made, NWRITES);
	CHECK_EQ_U64(after.kernel_emitted - before.kernel_emitted, made);
	CHECK_EQ_U64(after.kernel_lost - before.kernel_lost, klost);
	CHECK_EQ_U64(malformed, 0);
	CHECK_EQ_U64(S.publish_errors, 0);
	CHECK_EQ_U64(S.distinct + klost + r1 + S.unseen_events, made);
	CHECK(S.reread_batches <= 1, "writes of %u batches came again after the encoder restart",
	      S.reread_batches);
	CHECK(S.resent <= 1, "%llu batches came again after the publisher restart",
	      (unsigned long long)S.resent);

	nng_close(e->sub);
	close(ctl[1]);
	e2e_finish(e);
	return 0;
}
