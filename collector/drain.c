/* SPDX-License-Identifier: Apache-2.0 */
/*
 * All the collector does after it dropped its privileges: copy each record
 * from the BPF ring buffer into ring #1 verbatim (never waiting: a full ring
 * is a counted drop), once a second write the kernel's loss counters as a
 * stats record, and hand ring #1 to one encoder at a time. Its syscalls are
 * the seccomp allowlist in privdrop.c.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "nerrf_log.h"
#include "nerrf_notify.h"
#include "nerrf_ring.h"

/*
 * What arrives between two kernel wakeups is swept by a POLL_BUSY_MS poll
 * while events flow; idle, we sleep POLL_IDLE_MS between stats ticks.
 */
#define POLL_BUSY_MS 1
#define POLL_IDLE_MS 250

/*
 * A kernel wakeup is paid by the traced task that emits the event (an
 * irq_work and a cross-CPU wakeup: 5-20 us in a VM). At low rates each
 * isolated event still wakes us, as latency matters and wakeups are few.
 * Once more than SWEEP_ENTER events a ms arrive over a WINDOW_MS window, we
 * sweep the ring every 4 x --wakeup-us on our own clock instead and tell the
 * programs (collector_sweeping), which then wake us only if the ring fills;
 * below SWEEP_LEAVE a ms we go back, after one more sweep for what a program
 * committed having read the flag just before it changed.
 */
#define WINDOW_MS 10
#define SWEEP_ENTER 4
#define SWEEP_LEAVE 2

struct drain {
	const struct kernel *k;
	bool sweep;      /* sweeping on our own clock */
	struct nerrf_ring_prod *ring;
	struct nerrf_ring_server *srv;
	struct ring_buffer *rb;
	int epfd;
	__u64 copied;    /* records into ring #1 */
	__u64 dropped;   /* records ring #1 had no room for */
	__u64 malformed; /* records from the kernel that failed the size checks */
	struct nerrf_ratelimit refused;

	/* the stats record: the kernel's per-CPU counters, summed */
	int counters_fd;
	int ncpu;
	struct nerrf_kcounters *percpu;
	struct nerrf_kstats *rec;
	size_t rec_size;
	__u64 seq;
	__u32 flags;       /* NERRF_KS_* for every record */
	__u64 attached_ns; /* with NERRF_KS_FRESH */
	__u64 next_stats;  /* when the next stats record is due */
};

static void stats_emit(struct drain *d)
{
	struct nerrf_kstats *k = d->rec;
	__u32 zero = 0;
	void *dst;

	if (bpf_map_lookup_elem(d->counters_fd, &zero, d->percpu) < 0) {
		log_warn("reading the kernel counters");
		return;
	}
	memset(k, 0, d->rec_size);
	k->hdr.type = NERRF_REC_STATS;
	k->hdr.size = d->rec_size;
	k->ts_ns = nerrf_mono_ns();
	k->seq = d->seq++;
	k->ring1_dropped = d->dropped + d->malformed;
	k->nr_cpus = d->ncpu;
	k->flags = d->flags;
	k->attached_ns = d->attached_ns;
	for (int c = 0; c < d->ncpu; c++) {
		const struct nerrf_kcounters *pc = &d->percpu[c];
		k->kernel_emitted += pc->seq;
		k->kernel_filtered += pc->filtered;
		k->close_unattributed += pc->close_unattributed;
		k->close_lost += pc->close_lost;
		for (int op = 0; op < NERRF_OP_MAX; op++) {
			k->kernel_lost[op] += pc->lost[op];
			k->lost_by_cpu[c] += pc->lost[op];
		}
	}
	dst = nerrf_ring_reserve(d->ring, d->rec_size);
	if (!dst) {
		/*
		 * Not counted: ring1_dropped counts events, like kernel_emitted, so
		 * that emitted = delivered + lost holds exactly; and the next stats
		 * record carries these cumulative counters anyway.
		 */
		return;
	}
	memcpy(dst, k, d->rec_size);
	nerrf_ring_commit(d->ring);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct drain *d = ctx;
	const struct nerrf_rec_hdr *h = data;
	void *dst;

	if (size < sizeof(struct nerrf_event) || size > NERRF_EVENT_MAX || h->size != size ||
	    h->type != NERRF_REC_EVENT) {
		d->malformed++;
		return 0;
	}
	dst = nerrf_ring_reserve(d->ring, size);
	if (!dst) {
		nerrf_ring_count_drop(d->ring, size);
		d->dropped++;
		return 0;
	}
	memcpy(dst, data, size);
	nerrf_ring_commit(d->ring);
	/*
	 * libbpf frees the kernel's copy as this returns: the record must be
	 * visible in ring #1 first, or a collector killed before the loop's
	 * publish loses it without a trace. Killed after, the successor reads
	 * it again from the pinned buffer: a duplicate, same cpu and seq.
	 */
	nerrf_ring_expose(d->ring);
	d->copied++;
	return 0;
}

static void serve_ring1(struct drain *d)
{
	int e = nerrf_ring_serve(d->srv, 0);

	if (e == 1)
		log_debug("handed ring #1 to an encoder");
	/* a second consumer would corrupt the first one's reads */
	if (e == -EBUSY)
		log_warnx_limited(&d->refused, "refused a second encoder: one already holds ring #1");
}

static int epoll_add(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

struct drain *drain_new(const struct kernel *k, struct nerrf_ring_prod *ring,
			struct nerrf_ring_server *srv)
{
	struct drain *d = calloc(1, sizeof(*d));

	if (!d) {
		log_warnx("out of memory");
		return NULL;
	}
	d->k = k;
	/* pinned programs keep the flag of a collector that stopped while sweeping */
	if (k->sweeping)
		__atomic_store_n(k->sweeping, 0, __ATOMIC_SEQ_CST);
	d->ring = ring;
	d->srv = srv;
	d->epfd = -1;
	d->counters_fd = k->fds.counters;
	d->flags = k->fresh ? NERRF_KS_FRESH : 0;
	d->attached_ns = k->attached_ns;
	d->ncpu = libbpf_num_possible_cpus();
	if (d->ncpu <= 0) {
		log_warnx("cannot count possible CPUs: %s", strerror(-d->ncpu));
		goto fail;
	}
	d->percpu = calloc(d->ncpu, sizeof(*d->percpu));
	d->rec_size = sizeof(*d->rec) + d->ncpu * sizeof(__u64);
	d->rec = calloc(1, d->rec_size);
	if (!d->percpu || !d->rec) {
		log_warnx("out of memory");
		goto fail;
	}
	d->rb = ring_buffer__new(k->fds.events, on_record, d, NULL);
	if (!d->rb) {
		log_warn("setting up the ring buffer reader");
		goto fail;
	}
	/* One wait for both: kernel records, and an encoder asking for ring #1. */
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0 || epoll_add(d->epfd, ring_buffer__epoll_fd(d->rb)) < 0 ||
	    epoll_add(d->epfd, nerrf_ring_server_fd(srv)) < 0) {
		log_warn("setting up epoll");
		goto fail;
	}
	return d;
fail:
	drain_free(d);
	return NULL;
}

/* The loop went round: systemd's watchdog is petted from here alone. */
static void notify_alive(struct drain *d, __u64 now, __u64 *copied_then)
{
	double secs;

	if (!nerrf_notify_due(now, &secs))
		return;
	nerrf_notify_alive("%.0f events/s into ring #1; %llu dropped (ring #1 full), %llu malformed",
			   (double)(d->copied - *copied_then) / secs,
			   (unsigned long long)d->dropped, (unsigned long long)d->malformed);
	*copied_then = d->copied;
}

/* per_ms: events a ms over the last window */
static void sweep_decide(struct drain *d, __u64 per_ms)
{
	bool on = per_ms >= (d->sweep ? SWEEP_LEAVE : SWEEP_ENTER);

	if (on == d->sweep)
		return;
	d->sweep = on;
	if (d->k->sweeping)
		__atomic_store_n(d->k->sweeping, on, __ATOMIC_SEQ_CST);
}

static int sweep_ms(const struct drain *d)
{
	__u64 ms = 4 * kernel_wakeup_ns(d->k) / 1000000;

	return ms < POLL_BUSY_MS ? POLL_BUSY_MS : ms > POLL_IDLE_MS ? POLL_IDLE_MS : (int)ms;
}

int drain_run(struct drain *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
	__u64 copied_then = d->copied;
	__u64 win_start = nerrf_mono_ns(), win_events = 0;
	int timeout = POLL_IDLE_MS;

	if (!d->next_stats)
		d->next_stats = nerrf_mono_ns();
	while (!*stop) {
		if (*reload)
			return 1;
		struct epoll_event ev[2];
		int w = epoll_wait(d->epfd, ev, 2, timeout);

		if (w < 0 && errno != EINTR) {
			log_warn("waiting for events");
			return -1;
		}
		for (int i = 0; i < w; i++)
			if (ev[i].data.fd == nerrf_ring_server_fd(d->srv))
				serve_ring1(d);
		/* consume() also takes what waits below the kernel's wakeup threshold */
		int n = ring_buffer__consume(d->rb);
		if (n < 0 && n != -EINTR) {
			log_warnx("reading the ring buffer: %s", strerror(-n));
			return -1;
		}
		__u64 now = nerrf_mono_ns();
		bool was = d->sweep;
		win_events += n > 0 ? n : 0;
		if (now - win_start >= WINDOW_MS * 1000000ull) {
			sweep_decide(d, win_events * 1000000 / (now - win_start));
			win_start = now;
			win_events = 0;
		}
		timeout = d->sweep || was ? sweep_ms(d) : n > 0 ? POLL_BUSY_MS : POLL_IDLE_MS;
		if (now >= d->next_stats) {
			stats_emit(d);
			d->next_stats += 1000000000ull;
		}
		nerrf_ring_publish(d->ring);
		notify_alive(d, now, &copied_then);
	}
	return 0;
}

void drain_finish(struct drain *d)
{
	ring_buffer__consume(d->rb);
	d->flags |= NERRF_KS_FINAL;
	stats_emit(d);
	nerrf_ring_publish(d->ring);
}

void drain_free(struct drain *d)
{
	if (!d)
		return;
	ring_buffer__free(d->rb);
	if (d->epfd >= 0)
		close(d->epfd);
	free(d->percpu);
	free(d->rec);
	free(d);
}
