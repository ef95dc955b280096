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
#include "trace.pb-c.h"

#define ENC_MAX_CPUS 8192
/*
 * Largest packed Event, tag and length prefix included, that one valid record
 * can give: each string at most its length, argv at most 3 bytes of framing
 * per byte of the head, and under 400 bytes for every scalar field, the
 * timestamp and a container id. The batch buffer keeps this much room free.
 */
#define ENC_EVENT_WIRE_MAX (2 * NERRF_PATH_MAX + NERRF_RAW_MAX + 4 * NERRF_DATA_MAX + 1024)
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
};

#define ENC_DEFAULT_RING2_SIZE (8u << 20)
#define ENC_DEFAULT_MAX_BATCH 1024
#define ENC_DEFAULT_MAX_BATCH_BYTES (256u << 10)
#define ENC_DEFAULT_LATENCY_US 1000

/* ---- clock.c: kernel monotonic ns -> wall clock ---- */

uint64_t enc_mono_ns(void);
/* CLOCK_REALTIME - CLOCK_MONOTONIC, from the tightest of a few paired reads. */
int64_t enc_clock_offset(void);

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
/*
 * Replaces every byte of s[0..n) that is not part of valid UTF-8 with '?';
 * true if any was. s[n] must be NUL.
 */
bool enc_utf8_fix(char *s, size_t n);

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

/* Resynchronises the wall-clock offset (call about once a second). */
void enc_clock_tick(struct encoder *e);

#endif /* NERRF_ENCODER_H */
