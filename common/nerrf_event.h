/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The raw record ABI: the one layout shared by the BPF programs (bpf/), the
 * collector that copies records verbatim into shm ring #1, and the encoder
 * that interprets them. Included from BPF (after vmlinux.h) and userspace.
 *
 * Every record starts with struct nerrf_rec_hdr. Sizes are in bytes and
 * include the header. Readers trust nothing: the encoder checks hdr.size
 * against what it read, each string length against hdr.size, and every string
 * for its terminating NUL before use.
 *
 * Change the layout => bump NERRF_ABI_VERSION.
 */
#ifndef NERRF_EVENT_H
#define NERRF_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define NERRF_ABI_VERSION 1

#define NERRF_COMM_LEN 16
#define NERRF_PATH_MAX 4096   /* one resolved path, NUL included */
#define NERRF_RAW_MAX 512     /* the caller's own string, when it differs */
#define NERRF_DATA_MAX 256    /* write head sample, or exec argv head */
/* Largest event record: fixed part + two paths + raw + data. */
#define NERRF_EVENT_MAX (sizeof(struct nerrf_event) + 2 * NERRF_PATH_MAX + NERRF_RAW_MAX + NERRF_DATA_MAX)

enum nerrf_rec_type {
	NERRF_REC_EVENT = 1, /* struct nerrf_event, from the kernel */
	NERRF_REC_STATS = 2, /* struct nerrf_kstats, from the collector */
};

struct nerrf_rec_hdr {
	__u32 type; /* enum nerrf_rec_type */
	__u32 size; /* whole record, header included */
};

/*
 * Operations. The numbering is ABI; add at the end only. Names for
 * userspace live in nerrf_ops.h.
 */
enum nerrf_op {
	NERRF_OP_NONE = 0,
	NERRF_OP_OPEN,
	NERRF_OP_OPENAT,
	NERRF_OP_OPENAT2,
	NERRF_OP_CREAT,
	NERRF_OP_WRITE,
	NERRF_OP_PWRITE64,
	NERRF_OP_WRITEV,
	NERRF_OP_PWRITEV,
	NERRF_OP_PWRITEV2,
	NERRF_OP_RENAME,
	NERRF_OP_RENAMEAT,
	NERRF_OP_RENAMEAT2,
	NERRF_OP_UNLINK,
	NERRF_OP_UNLINKAT,
	NERRF_OP_RMDIR,
	NERRF_OP_CHMOD,
	NERRF_OP_FCHMOD,
	NERRF_OP_FCHMODAT,
	NERRF_OP_FCHMODAT2,
	NERRF_OP_TRUNCATE,
	NERRF_OP_FTRUNCATE,
	NERRF_OP_SETXATTR,
	NERRF_OP_LSETXATTR,
	NERRF_OP_FSETXATTR,
	NERRF_OP_REMOVEXATTR,
	NERRF_OP_LREMOVEXATTR,
	NERRF_OP_FREMOVEXATTR,
	NERRF_OP_EXECVE,
	NERRF_OP_EXECVEAT,
	NERRF_OP_FORK, /* sched_process_fork: header describes the child */
	NERRF_OP_EXIT, /* sched_process_exit, last thread: ret is the wait status (as waitpid) */
	NERRF_OP_MAX,
};

/* nerrf_event.flags */
#define NERRF_EF_PATH_TRUNC   (1u << 0) /* path hit NERRF_PATH_MAX or the depth bound */
#define NERRF_EF_PATH2_TRUNC  (1u << 1)
#define NERRF_EF_RAW_TRUNC    (1u << 2)
#define NERRF_EF_DATA_TRUNC   (1u << 3) /* more bytes were written than sampled */
#define NERRF_EF_PATH_FALLBACK (1u << 4) /* path built from dirfd/cwd + name, not from the result's struct file */
#define NERRF_EF_PATH_UNRESOLVED (1u << 5) /* no absolute path: path holds the raw name */

/*
 * One traced operation, emitted at syscall exit (or at the sched tracepoint).
 *
 * Meaning of the op-dependent fields:
 *   path   absolute path of the file acted on (for write/fchmod/ftruncate/
 *          fsetxattr: the file behind fd; for exec: the new executable)
 *   path2  rename: the new absolute path; *xattr: the attribute name
 *   raw    the path string exactly as the caller passed it, when it differs
 *          from path (relative, through a symlink, ...)
 *   data   write family: first bytes of the written buffer;
 *          exec: argv head, NUL-separated
 *   fd     the fd argument, or for open*: the returned fd (also in ret)
 *   arg_flags  open flags / renameat2 flags / unlinkat flags / xattr flags /
 *          execveat flags
 *   bytes  write family: bytes requested; truncate: new length;
 *          setxattr: value size
 *   offset pwrite family: the offset argument; -1 where not applicable
 */
struct nerrf_event {
	struct nerrf_rec_hdr hdr; /* type = NERRF_REC_EVENT */
	__u32 cpu;
	__u16 op;     /* enum nerrf_op */
	__u16 flags;  /* NERRF_EF_* */
	__u64 seq;    /* per-CPU sequence; counts failed emissions too, so gaps show loss */
	__u64 ts_ns;  /* CLOCK_MONOTONIC, bpf_ktime_get_ns() */
	__u32 tgid;
	__u32 tid;
	__u32 ppid;   /* tgid of the real parent */
	__u32 uid;
	__u32 gid;
	__u32 mnt_ns; /* mount namespace inode number */
	__u64 cgroup_id;
	__s64 ret;
	char comm[NERRF_COMM_LEN];

	__s32 fd;
	__u32 mode;
	__u64 arg_flags;
	__u64 bytes;
	__s64 offset;
	__u64 ino;
	__u32 dev;    /* kernel dev_t of the inode's superblock */
	__u16 path_len;  /* string lengths include the NUL; 0 = absent */
	__u16 path2_len;
	__u16 raw_len;
	__u16 data_len;  /* raw bytes, no NUL */
	__u32 _pad;
	/* path, path2, raw, data: back to back in this order, unaligned. */
	char strings[];
};

/*
 * Loss counters, read by the collector from the BPF maps and written into
 * ring #1 once a second. All counters are cumulative since the collector
 * loaded the programs, so a lost stats record loses no information.
 */
struct nerrf_kstats {
	struct nerrf_rec_hdr hdr; /* type = NERRF_REC_STATS */
	__u64 ts_ns;              /* CLOCK_MONOTONIC when sampled */
	__u64 seq;                /* stats record number */
	__u64 ring1_dropped;      /* records the collector could not place in ring #1 */
	__u64 kernel_emitted;     /* events the kernel tried to emit, all CPUs */
	__u64 kernel_filtered;    /* events removed by in-kernel filters */
	__u64 kernel_lost[NERRF_OP_MAX]; /* ringbuf reserve/output failures, by op, all CPUs */
	__u32 nr_cpus;            /* entries in lost_by_cpu */
	__u32 _pad;
	__u64 lost_by_cpu[];      /* ringbuf failures by CPU, all ops */
};

#endif /* NERRF_EVENT_H */
