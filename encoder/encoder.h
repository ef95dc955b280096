/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-encoder internals, shared by the binary, its tests and its benchmark
 * so that all three run the same code.
 *
 * A record goes: ring #1 -> private copy (enc_take) -> validated -> converted
 * to one Event -> packed straight into the batch buffer as EventBatch field 1.
 * A batch is written to ring #2 as the batch metadata (EventBatch without
 * events) followed by the packed events; protobuf allows fields in any order
 * and concatenates repeated fields, so that is one valid EventBatch and the
 * events are packed exactly once.
 */
#ifndef NERRF_ENCODER_H
#define NERRF_ENCODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nerrf_event.h"
#include "nerrf_time.h"
#include "trace.pb-c.h"

#define ENC_MAX_CPUS 8192
/*
 * Largest packed Event, tag and length prefix included, that one valid record
 * can give: each string at most its length, argv at most 3 bytes of framing
 * per byte of the head, and under 400 bytes for every scalar field, the
 * timestamp and a container id; each string once more when it is not UTF-8
 * (the *_bytes fields). The batch buffer keeps this much room free.
 */
#define ENC_EVENT_WIRE_MAX (4 * NERRF_PATH_MAX + 2 * NERRF_RAW_MAX + 7 * NERRF_DATA_MAX + 1024)
#define ENC_KSTATS_MAX (sizeof(struct nerrf_kstats) + ENC_MAX_CPUS * sizeof(__u64))
#define ENC_ARGV_MAX NERRF_DATA_MAX /* one per byte: every argument may be empty */

/* trunc_flags bit set by the encoder itself (bits 0-5 are the kernel's). */
#define ENC_EF_BAD_UTF8 (1u << 6)

struct enc_opts {
	const char *rundir;
	size_t ring2_size;
	unsigned max_batch;      /* events per batch */
	size_t max_batch_bytes;  /* packed events per batch; metadata comes on top */
	unsigned latency_us;     /* encoder's own delay bound for the oldest event */
	bool raw_sample;
	const char *hostname;    /* NULL: gethostname() */
	const char *cgroup_root; /* NULL: /sys/fs/cgroup */
	int verbose;
	bool check;              /* --check-config: print the options, then exit */
};

#define ENC_DEFAULT_RING2_SIZE (8u << 20)
#define ENC_DEFAULT_MAX_BATCH 1024
#define ENC_DEFAULT_MAX_BATCH_BYTES (256u << 10)
#define ENC_DEFAULT_LATENCY_US 1000

/* ---- clock.c: kernel monotonic ns -> wall clock ---- */

/* CLOCK_REALTIME - CLOCK_MONOTONIC, from the tightest of a few paired reads. */
int64_t enc_clock_offset(void);
/*
 * mono_ns + off as wall-clock ns since the epoch, held to [0, UINT64_MAX]
 * (the epoch to the year 2554): a wall clock set before 1970 or a corrupt
 * stamp gives the epoch or the far end, never a wrapped or negative time.
 */
uint64_t enc_wall_ns(uint64_t mono_ns, int64_t off);

/* ---- cgroup.c: cgroup v2 id -> container id ---- */

#define ENC_CONTAINER_ID_MAX 64

/*
 * The container id named by a cgroup path (relative or absolute), from the
 * innermost component that a runtime names: docker-<hex>.scope,
 * /docker/<hex>, cri-containerd-<hex>.scope, crio-<hex>.scope,
 * libpod-<hex>[.scope], or a bare 64-hex component (cgroupfs drivers).
 * Writes it NUL-terminated to out and returns true; false (out = "") on the host.
 */
bool enc_container_id(const char *cgpath, char out[ENC_CONTAINER_ID_MAX + 1]);

struct enc_cgroups;
struct enc_cgroups *enc_cgroups_new(const char *root);
void enc_cgroups_free(struct enc_cgroups *cg);
/* Container id of the cgroup with this id; "" for the host or unknown ids. */
const char *enc_cgroups_lookup(struct enc_cgroups *cg, uint64_t cgroup_id, uint64_t now_ns);
/* Walks of the cgroup tree made so far. */
uint64_t enc_cgroups_scans(const struct enc_cgroups *cg);

/* ---- record.c: validate one private copy ---- */

enum enc_rec_kind {
	ENC_REC_MALFORMED = 0,
	ENC_REC_EVENT,
	ENC_REC_STATS,
};

/* Checks a record already copied out of shared memory; *why says what is wrong. */
enum enc_rec_kind enc_rec_check(const void *rec, size_t len, const char **why);
/* Shannon entropy of buf in bits per byte (0..8); n <= NERRF_DATA_MAX. */
float enc_entropy(const uint8_t *buf, size_t n);

/* net.c: network ops carry a struct nerrf_net in data */
bool enc_is_net_op(unsigned op);
/*
 * Replaces every byte of s[0..n) that is not part of valid UTF-8 with '?';
 * true if any was. s[n] must be NUL.
 */
bool enc_utf8_fix(char *s, size_t n);
/* How many leading bytes of s[0..n) are valid UTF-8 (n: all of them). s[n] must be NUL. */
size_t enc_utf8_valid(const char *s, size_t n);

/* ---- path.c ---- */

/*
 * Removes "." and empty components from the absolute path p[0..len) and
 * resolves ".." lexically, in place; returns the new length (p is
 * NUL-terminated). A relative p is left as it is.
 */
size_t enc_path_normalize(char *p, size_t len);

/* ---- sandbox.c ---- */

/* Installs the encoder's seccomp allowlist on the whole process; 0 or -1 with err. */
int enc_sandbox(char *err, size_t errlen);

/* ---- batch.c: the encoder state ---- */

struct encoder {
	struct enc_opts o;

	/* batch being built: packed events, field 1 of EventBatch each */
	uint8_t *buf;
	size_t used, cap;
	unsigned n;
	uint64_t oldest_mono_ns;  /* kernel time of the batch's first event */
	uint64_t batch_t0;        /* when the encoder took that event */
	uint64_t batch_seq;       /* of the last batch made */

	/* conversion scratch: one record, one Event */
	uint8_t *rec;
	Nerrf__Trace__Event ev;
	Google__Protobuf__Timestamp ts;
	char *argv[ENC_ARGV_MAX];
	ProtobufCBinaryData argv_bytes[ENC_ARGV_MAX];
	char net_str[2][46];      /* local and remote address, INET6_ADDRSTRLEN */
	uint8_t net_addr[2][16];
	uint8_t *exact;           /* original bytes of strings that were not UTF-8 */
	size_t exact_used;
	int64_t clock_off;
	struct enc_cgroups *cg;
	uint64_t *last_seq;       /* per CPU, seq + 1 of the last event; 0 = none yet */

	/* loss counters: ours, and the latest collector/kernel and ring #1 views */
	Nerrf__Trace__LossCounters loss;
	Nerrf__Trace__LossCounters__KernelLostByCpuEntry *by_cpu;
	Nerrf__Trace__LossCounters__KernelLostByCpuEntry **by_cpu_p;
	Nerrf__Trace__LossCounters__KernelLostBySyscallEntry by_op[NERRF_OP_MAX];
	Nerrf__Trace__LossCounters__KernelLostBySyscallEntry *by_op_p[NERRF_OP_MAX];
	uint64_t kstats_ring1_dropped; /* collector's count, from its last stats record */

	/* capture gaps: what we last read from a collector, and one being measured */
	uint64_t r1_last_ns;      /* newest kernel time read from the current ring #1 */
	uint32_t r1_flags;        /* NERRF_KS_* of its last stats record */
	bool gap_pending;         /* ring #1 changed hands: was capture interrupted? */
	uint64_t gap_from_ns;
	const char *gap_cause;
	Nerrf__Trace__CaptureGap gap;
	Google__Protobuf__Timestamp gap_ts[2];
	Nerrf__Trace__EventBatch meta;

	char hostname[256];
	char boot_id[64];
	uint64_t start_wall_ns;
};

/* Sets up e (allocates every buffer the hot path uses). -errno and a message on failure. */
int enc_init(struct encoder *e, const struct enc_opts *o, char *err, size_t errlen);
void enc_fini(struct encoder *e);

/*
 * Takes one record as read from ring #1: copies it, validates it, and either
 * appends its Event to the batch, updates the loss counters from a stats
 * record, or counts it malformed. now_ns is CLOCK_MONOTONIC, for the latency
 * clock. Returns true when the batch is full and must be flushed.
 */
bool enc_take(struct encoder *e, const void *rec, size_t len, uint64_t now_ns);

/* Bytes enc_batch_pack() will write: the metadata (with batch_seq + 1) and events. */
size_t enc_batch_size(struct encoder *e);
/* Writes the batch to dst (enc_batch_size() bytes) and starts the next one. */
void enc_batch_pack(struct encoder *e, void *dst, size_t size);

/*
 * The collector that wrote ring #1 went away and the next one's ring is
 * taken: its first stats record says whether capture went on meanwhile
 * (pinned programs reopened) or began afresh, leaving a capture gap that is
 * then counted. now_ns is CLOCK_MONOTONIC.
 */
void enc_ring1_switched(struct encoder *e, uint64_t now_ns);

/* Resynchronises the wall-clock offset (call about once a second). */
void enc_clock_tick(struct encoder *e);

/* net.c: Event's network fields from the record (cleared for other ops). */
void enc_net(struct encoder *e, const struct nerrf_event *r, const void *data);

#endif /* NERRF_ENCODER_H */
