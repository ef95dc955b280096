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

#define NERRF_ABI_VERSION 3

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
	/* network: data holds a struct nerrf_net */
	NERRF_OP_CONNECT = 32,
	NERRF_OP_ACCEPT = 33,
	NERRF_OP_ACCEPT4 = 34,
	NERRF_OP_BIND = 35,
	NERRF_OP_LISTEN = 36,
	NERRF_OP_SOCK_CLOSE = 37, /* a TCP socket's summary, at its last reference */
	/* 38-40 are free for more network ops */
	NERRF_OP_CLOSE = 41, /* write summary of one open file, at its last close (see below) */
	NERRF_OP_MAX,
};

/* nerrf_event.flags */
#define NERRF_EF_PATH_TRUNC   (1u << 0) /* path hit NERRF_PATH_MAX or the depth bound */
#define NERRF_EF_PATH2_TRUNC  (1u << 1)
#define NERRF_EF_RAW_TRUNC    (1u << 2)
#define NERRF_EF_DATA_TRUNC   (1u << 3) /* more bytes were written than sampled */
#define NERRF_EF_PATH_FALLBACK (1u << 4) /* path built from dirfd/cwd + name, not from the result's struct file */
#define NERRF_EF_PATH_UNRESOLVED (1u << 5) /* no absolute path: path holds the raw name */
/* bit 6 is the encoder's (a string was not UTF-8) */
#define NERRF_EF_IOV_CAPPED (1u << 7) /* vectored write of more than NERRF_IOV_MAX iovecs: bytes sums the first ones */
#define NERRF_IOV_MAX 1024 /* UIO_MAXIOV: more iovecs are refused by the kernel anyway */
/* Network ops: an address taken from the caller's sockaddr, because the
 * socket did not keep it (a failed connect or bind), not from the socket. */
#define NERRF_EF_REMOTE_USER (1u << 11)
#define NERRF_EF_LOCAL_USER  (1u << 12)

/*
 * Network ops (connect, accept, accept4, bind, listen, sock_close): data is
 * one struct nerrf_net (data_len = its size), read from the kernel's socket
 * after the syscall (accept: the new socket; failed accept: the listening
 * one). An address the socket no longer holds comes from the caller's
 * sockaddr, flagged NERRF_EF_*_USER. Unix sockets: path is the socket's own
 * name and path2 the peer's ("@name" for an abstract one); their addresses
 * and ports stay 0. fd is the socket (accept: the listening fd; ret is the
 * new one), arg_flags accept4's flags or listen's backlog.
 * sock_close: bytes is what the application queued for sending (TCP's
 * write_seq), the struct's rx_bytes what the peer sent in order, both since
 * the connection began; mode NERRF_CS_EXEC or NERRF_CS_EXIT as for close.
 */
struct nerrf_net {
	__u16 family;      /* AF_INET, AF_INET6, AF_UNIX */
	__u16 type;        /* SOCK_STREAM, SOCK_DGRAM, ... */
	__u16 protocol;    /* IPPROTO_TCP, IPPROTO_UDP, ...; 0 for unix */
	__u16 local_port;  /* host order; 0 = none */
	__u16 remote_port;
	__u16 _res[3];
	__u8 local_addr[16]; /* network order; IPv4 in the first 4 bytes */
	__u8 remote_addr[16];
	__u64 rx_bytes;    /* sock_close only, as the other three */
	__u64 first_ns;    /* connect or accept, CLOCK_MONOTONIC; 0 = unseen */
	__u64 last_ns;     /* the socket's last packet, either way */
};
#define NERRF_EF_ARGV_CALLER (1u << 8) /* failed exec: data is argv read from the caller's memory */

/*
 * One traced operation, emitted at syscall exit (or at the sched tracepoint).
 *
 * Meaning of the op-dependent fields:
 *   path   absolute path of the file acted on (for write/fchmod/ftruncate/
 *          fsetxattr: the file behind fd; for exec: the new executable)
 *   path2  rename: the new absolute path; *xattr: the attribute name;
 *          exec through an interpreter (#!, binfmt_misc): the interpreter,
 *          while path is the file named to exec
 *   raw    the path string exactly as the caller passed it, when it differs
 *          from path (relative, through a symlink, ...)
 *   data   write family: first bytes of the written buffer;
 *          exec: argv head, NUL-separated (of a failed exec: read from the
 *          caller, NERRF_EF_ARGV_CALLER)
 *   fd     the fd argument, or for open*: the returned fd (also in ret)
 *   arg_flags  open flags / renameat2 flags / unlinkat flags / xattr flags /
 *          execveat flags
 *   bytes  write family: bytes requested; truncate: new length;
 *          setxattr: value size
 *   offset pwrite family: the offset argument; -1 where not applicable
 */
/*
 * NERRF_OP_CLOSE, the write summary of one open of a regular file with write
 * access that was written at least once, emitted when its last reference
 * goes (close(2), dup2/dup3 over it, O_CLOEXEC at exec, process exit):
 *   path, ino, dev  the file; fd  the fd closed, -1 at exec or exit
 *   bytes   bytes written through that open; count  the writes
 *   offset  lowest offset written; ret  end of the highest write (exclusive)
 *   arg_flags  the open's flags; mode  NERRF_CS_*
 *   data    the first bytes written through it, for the encoder's entropy
 */
#define NERRF_CS_TRUNC   (1u << 0) /* the open truncated the file (O_TRUNC) */
#define NERRF_CS_CREATED (1u << 1) /* the open created the file */
#define NERRF_CS_EXEC    (1u << 2) /* released by exec (O_CLOEXEC) */
#define NERRF_CS_EXIT    (1u << 3) /* released by the exit of the last process holding it */

/* uid and gid are the real ids; euid/egid the effective ones the kernel checked. */
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
	/* who acted on whose behalf: a setuid program or sudo shows here */
	__u32 euid;
	__u32 egid;
	__u32 loginuid;  /* the audit login uid; (__u32)-1 when unset or not in this kernel */
	__u64 count;     /* close summary: writes through that open */
	/* path, path2, raw, data: back to back in this order, unaligned. */
	char strings[];
};

/*
 * Loss counters, read by the collector from the BPF maps and written into
 * ring #1 once a second. All counters are cumulative since the programs
 * were loaded (across collector restarts, with --pin), so a lost stats
 * record loses no information.
 */
struct nerrf_kstats {
	struct nerrf_rec_hdr hdr; /* type = NERRF_REC_STATS */
	__u64 ts_ns;              /* CLOCK_MONOTONIC when sampled */
	__u64 seq;                /* stats record number */
	__u64 ring1_dropped;      /* records the collector could not place in ring #1 */
	__u64 kernel_emitted;     /* events the kernel tried to emit, all CPUs */
	__u64 kernel_filtered;    /* events removed by in-kernel filters */
	__u64 kernel_lost[NERRF_OP_MAX]; /* ringbuf reserve/output failures, by op, all CPUs */
	__u64 close_unattributed; /* writes through an open the kernel did not see: no summary */
	__u64 close_lost;         /* summaries lost: map full at open, or the release unseen */
	__u32 nr_cpus;            /* entries in lost_by_cpu */
	__u32 flags;              /* NERRF_KS_* */
	__u64 attached_ns;        /* with NERRF_KS_FRESH: CLOCK_MONOTONIC when capture began */
	__u64 lost_by_cpu[];      /* ringbuf failures by CPU, all ops */
};

/*
 * This collector loaded and attached the programs itself: capture began at
 * attached_ns. Without it the collector reopened programs pinned by an
 * earlier one, and capture went on while no collector ran.
 */
#define NERRF_KS_FRESH 0x1u
/* The last stats record of a collector that stops cleanly. */
#define NERRF_KS_FINAL 0x2u

#endif /* NERRF_EVENT_H */
