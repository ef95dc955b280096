// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * File and process capture. Each traced syscall has an enter program that
 * filters the task and stashes the arguments in `inflight` (keyed by thread),
 * and an exit program that takes them back, resolves absolute paths from the
 * kernel's own objects and emits one struct nerrf_event with the return value.
 *
 * Records are built in a per-CPU scratch buffer and copied into the ring
 * buffer with their exact size. Every emission attempt takes the next
 * per-CPU sequence number, so a failed output shows as a gap and is counted
 * by op in `counters`.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "nerrf_bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AT_FDCWD -100
#define S_IFMT 00170000
#define S_IFREG 0100000
#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_APPEND 02000
#define FMODE_WRITE 0x2
#define FMODE_CREATED 0x100000 /* the open created the file */

#define MAX_DEPTH 64            /* path components */
#define MAX_HOPS (MAX_DEPTH + 16) /* components plus mount crossings */
#define STR_MASK 0x3fff         /* string offsets stay below 16 KiB ... */
#define STR_AREA (STR_MASK + 1 + NERRF_PATH_MAX) /* ... so any read at one fits */

/* Set by the collector before load; a change takes a restart. */
const volatile __u64 wakeup_bytes = 0;
const volatile bool pid_include = false;

/* Changed at run time by the collector (SIGHUP); see struct nerrf_bconf. */
struct nerrf_bconf conf[2];
__u32 conf_slot;
/*
 * 1 while the collector sweeps the ring on its own clock, which it does
 * while events flow faster than it wants a wakeup each; written by it alone.
 */
__u32 collector_sweeping;

static __always_inline struct nerrf_bconf *bconf(void)
{
	return &conf[*(volatile __u32 *)&conf_slot & 1];
}

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nerrf_kcounters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);   /* tgid */
	__type(value, __u32); /* NERRF_TF_* */
} tgid_filter SEC(".maps");

/* What an exit program needs from its enter program. */
enum kind {
	K_OPEN,   /* path from the returned fd; on failure from dirfd + name */
	K_FD,     /* path from the fd argument */
	K_WRITE,  /* path from the file written; head sample of the buffer */
	K_NAME,   /* path from dirfd + name */
	K_RENAME, /* both paths from dirfd + name */
	K_EXEC,   /* path of the new executable; argv head */
};

struct inflight {
	__u16 op;     /* NERRF_OP_NONE: no syscall in flight */
	__u8 kind;
	__u8 vectored;
	__s32 fd;     /* fd, or dirfd */
	__s32 fd2;    /* rename: new dirfd */
	__u32 mode;
	__u64 flags;
	__u64 bytes;
	__s64 offset;
	__u64 name;   /* user: path name; write: buffer or iovec array */
	__u64 name2;  /* user: rename new name, xattr attribute name */
	__u64 file;   /* write: the struct file, held by the syscall */
	__s32 nr;     /* syscall number: an exit only takes its own enter's record */
	__u32 vlen;   /* vectored write: iovec count */
	__u64 argv;   /* exec: the caller's argv, read at exit when the exec failed */
};

/*
 * Per thread, in task-local storage: a pointer fetch instead of a hash
 * update at enter and a lookup + delete at exit, bounded by the number of
 * threads, and freed with the thread, so a missed exit cannot leak.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight SEC(".maps");

/* exec's strings must be copied at enter: the old image is gone at exit. */
struct exec_args {
	__u16 raw_len;
	__u16 data_len;
	__u16 flags;
	__u8 interp;  /* an interpreter (#!, binfmt_misc) runs the file named */
	__u8 _pad;
	__u64 named;  /* with interp: the struct file named to exec, still alive, or 0 */
	char raw[NERRF_RAW_MAX];
	char data[2 * NERRF_DATA_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NERRF_EXEC_INFLIGHT_MAX);
	__type(key, __u64);
	__type(value, struct exec_args);
} exec_inflight SEC(".maps");

/*
 * Write summary of one open file description, keyed by its struct file, so
 * dup'ed and inherited fds share it. Made at open, filled at each write,
 * emitted and removed where the last reference goes.
 */
struct wsum {
	__u64 ino;
	__u32 dev;
	__u32 cflags;     /* NERRF_CS_* */
	__u64 open_flags;
	__u64 bytes;
	__u64 count;
	__s64 lo, hi;     /* byte range written: lowest offset, highest end */
	__u32 tag, drops; /* exit: the exiting fd table's references seen so far */
	__u32 sample_len;
	__u32 _pad;
	char sample[NERRF_SAMPLE_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, NERRF_WSUM_MAX);
	__type(key, __u64);
	__type(value, struct wsum);
} wsum SEC(".maps");

struct scratch {
	char ev[sizeof(struct nerrf_event)];
	char str[STR_AREA];
	__u64 comp[MAX_DEPTH]; /* dentry name pointers, leaf first */
	__u32 comp_len[MAX_DEPTH];
	__u64 mnt_root; /* walk: the current mount's root dentry, read once per mount */
	__u64 num;      /* as_num() */
	__u32 dir_off, dir_len; /* put_name_path: the directory prefix it built, "/" included */
	struct exec_args exec;
	struct wsum wsum; /* a new summary, built here: too large for the stack */
};

/* Slot 0 for syscall programs, 1 for sched programs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* bpf_get_current_cgroup_id() by plain loads: one helper call less per event */
static __always_inline __u64 current_cgroup_id(void)
{
	return bpf_get_current_task_btf()->cgroups->dfl_cgrp->kn->id;
}

static __always_inline struct nerrf_kcounters *my_counters(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&counters, &zero);
}

static __always_inline void count_filtered(void)
{
	struct nerrf_kcounters *c = my_counters();
	if (c)
		__sync_fetch_and_add(&c->filtered, 1);
}

static __always_inline bool comm_listed(const struct nerrf_bconf *cf, const char *comm)
{
	for (__u32 i = 0; i < NERRF_MAX_COMMS; i++) {
		if (i >= cf->ncomms)
			break;
		bool same = true;
		for (__u32 j = 0; j < NERRF_COMM_LEN; j++) {
			if (comm[j] != cf->comms[i][j]) {
				same = false;
				break;
			}
			if (!comm[j])
				break;
		}
		if (same)
			return true;
	}
	return false;
}

/* True when the current task is not to be traced (and counts it). */
static __always_inline bool task_filtered(__u32 tgid)
{
	__u32 *tf = bpf_map_lookup_elem(&tgid_filter, &tgid);
	__u32 v = tf ? *tf : 0;
	const struct nerrf_bconf *cf = bconf();

	if (v & NERRF_TF_EXCLUDE)
		goto out;
	if (pid_include && !(v & NERRF_TF_INCLUDE))
		goto out;
	if (cf->uid_on && (__u32)bpf_get_current_uid_gid() != cf->uid_val)
		goto out;
	if (cf->cgroup_val && current_cgroup_id() != cf->cgroup_val)
		goto out;
	if (cf->comm_mode != NERRF_COMM_OFF) {
		char comm[NERRF_COMM_LEN];
		bpf_get_current_comm(comm, sizeof(comm));
		if (comm_listed(cf, comm) != (cf->comm_mode == NERRF_COMM_INCLUDE))
			goto out;
	}
	return false;
out:
	count_filtered();
	return true;
}

static __always_inline void fill_header(struct nerrf_event *e, __u16 op, __s64 ret)
{
	/* A BTF pointer: the reads below are plain loads, not helper calls. */
	struct task_struct *t = bpf_get_current_task_btf();
	const struct cred *cred = t->cred;

	e->hdr.type = NERRF_REC_EVENT;
	e->cpu = bpf_get_smp_processor_id();
	e->op = op;
	e->flags = 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->tgid = t->tgid;
	e->tid = t->pid;
	e->ppid = t->real_parent->tgid;
	e->uid = cred->uid.val;
	e->gid = cred->gid.val;
	e->euid = cred->euid.val;
	e->egid = cred->egid.val;
	e->loginuid = bpf_core_field_exists(t->loginuid) ? t->loginuid.val : (__u32)-1;
	e->mnt_ns = t->nsproxy->mnt_ns->ns.inum;
	e->cgroup_id = current_cgroup_id();
	e->ret = ret;
	__builtin_memcpy(e->comm, t->comm, sizeof(e->comm));
	e->fd = -1;
	e->mode = 0;
	e->arg_flags = 0;
	e->bytes = 0;
	e->offset = -1;
	e->ino = 0;
	e->dev = 0;
	e->path_len = 0;
	e->path2_len = 0;
	e->raw_len = 0;
	e->data_len = 0;
	e->count = 0;
}

/*
 * When to wake the collector. The kernel's default (whenever the reader has
 * caught up) costs a wakeup per event while the reader keeps up, which was
 * most of the collector's CPU. A wakeup is paid here, by the traced task:
 * an irq_work and a cross-CPU wakeup, 5-20 us in a VM. So: while the
 * collector sweeps on its own clock, only a ring filling up (wakeup_bytes)
 * wakes it. Otherwise an isolated event (this CPU's previous one was
 * wakeup_ns ago or more) wakes it at once, since at low rates latency is
 * what matters and wakeups are few; a busy CPU wakes it every 4 x wakeup_ns.
 */
static __always_inline void emit(struct nerrf_event *e, __u32 size)
{
	struct nerrf_kcounters *c = my_counters();
	__u64 wakeup_ns = bconf()->wakeup_ns;

	if (!c)
		return;
	if (size > NERRF_EVENT_MAX)
		size = NERRF_EVENT_MAX;
	e->hdr.size = size;
	e->seq = __sync_fetch_and_add(&c->seq, 1);
	__u64 flags = BPF_RB_NO_WAKEUP;
	__u64 gap = e->ts_ns - c->last_ts;
	c->last_ts = e->ts_ns;
	if ((!*(volatile __u32 *)&collector_sweeping &&
	     (gap >= wakeup_ns || e->ts_ns - c->last_wake >= 4 * wakeup_ns)) ||
	    /* every 16th event of a CPU: the query is a helper call, and 16 records
	     * are far below wakeup_bytes */
	    (!(e->seq & 15) && bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + size >= wakeup_bytes)) {
		c->last_wake = e->ts_ns;
		flags = BPF_RB_FORCE_WAKEUP;
	}
	if (bpf_ringbuf_output(&events, e, size, flags))
		__sync_fetch_and_add(&c->lost[e->op < NERRF_OP_MAX ? e->op : 0], 1);
}

#include "path.bpf.h"

struct cmp {
	struct scratch *s;
	__u32 a, b;   /* offsets in str */
	__u32 p;      /* has_prefix: which prefix */
	__u32 k;      /* has_prefix: which conf slot */
	bool differ;
};

static long cmp_step(__u32 i, struct cmp *c)
{
	struct scratch *s = c->s;

	if (!s)
		return 1;
	if (s->str[(c->a + i) & STR_MASK] != s->str[(c->b + i) & STR_MASK]) {
		c->differ = true;
		return 1;
	}
	return 0;
}

static __always_inline bool same_str(struct scratch *s, __u32 a, __u32 b, __u32 len)
{
	struct cmp c = { .s = s, .a = a, .b = b };

	bpf_loop(len & (NERRF_PATH_MAX - 1), cmp_step, &c, 0);
	return !c.differ;
}

static long prefix_step(__u32 i, struct cmp *c)
{
	struct scratch *s = c->s;

	if (!s)
		return 1;
	if (s->str[(c->a + i) & STR_MASK] != conf[c->k & 1].prefixes[c->p & (NERRF_MAX_PREFIXES - 1)]
					       [i & (NERRF_PREFIX_MAX - 1)]) {
		c->differ = true;
		return 1;
	}
	return 0;
}

/* Whether the path at str[off] (len with the NUL) starts with a prefix. */
static __always_inline bool has_prefix(struct scratch *s, __u32 k, __u32 off, __u32 len)
{
	const struct nerrf_bconf *cf = &conf[k & 1];

	for (__u32 p = 0; p < NERRF_MAX_PREFIXES; p++) {
		if (p >= cf->nprefixes)
			break;
		struct cmp c = { .s = s, .a = off, .p = p, .k = k };
		__u32 plen = cf->prefix_len[p];
		if (plen >= len)
			continue;
		bpf_loop(plen & (NERRF_PREFIX_MAX - 1), prefix_step, &c, 0);
		if (!c.differ)
			return true;
	}
	return false;
}

/* References to an open file: file_ref_t counts from 0 = one (6.13+). */
struct file___old {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

static __always_inline __s64 file_refs(struct file *f)
{
	if (bpf_core_field_exists(f->f_ref)) {
		__s64 v = KOBJ(struct file, f)->f_ref.refcnt.counter;
		return v < 0 ? 0 : v + 1;
	}
	return KOBJ(struct file___old, f)->f_count.counter;
}

static __always_inline void count_close(bool lost)
{
	struct nerrf_kcounters *c = my_counters();
	if (c)
		__sync_fetch_and_add(lost ? &c->close_lost : &c->close_unattributed, 1);
}

/*
 * The summaries' functions are global: verified once each, not once per
 * path through exit_common.
 */

/* An open of a regular file with write access: start its summary. */
__noinline int summary_open(struct scratch *s, __u64 file, __u64 flags)
{
	struct file *f = KOBJ(struct file, file);
	struct inode *ino = f->f_inode;
	__u32 fmode = f->f_mode;
	__u64 key = file;
	struct wsum *old, *w;

	if (!s || !(fmode & FMODE_WRITE) || (ino->i_mode & S_IFMT) != S_IFREG)
		return 0;
	w = &s->wsum;
	/* a struct file reused before its summary went: its release was not seen */
	old = bpf_map_lookup_elem(&wsum, &key);
	if (old && old->count)
		count_close(true);
	w->ino = ino->i_ino;
	w->dev = ino->i_sb->s_dev;
	w->cflags = (flags & O_TRUNC ? NERRF_CS_TRUNC : 0) |
		    (fmode & FMODE_CREATED ? NERRF_CS_CREATED : 0);
	w->open_flags = flags;
	w->bytes = w->count = 0;
	w->lo = w->hi = 0;
	w->tag = w->drops = 0;
	w->sample_len = 0;
	if (bpf_map_update_elem(&wsum, &key, w, BPF_ANY))
		count_close(true);
	return 0;
}

/*
 * A write of ret bytes through file, at pos (pwrite family; -1: at the file
 * position); its head sample is at str[sample & 0xffff], sample >> 16 bytes.
 */
__noinline int summary_write(struct scratch *s, __u64 file, __s64 ret, __s64 pos, __u32 sample)
{
	struct file *f = KOBJ(struct file, file);
	struct wsum *w = bpf_map_lookup_elem(&wsum, &file);
	__u32 soff = sample & 0xffff, slen = sample >> 16;
	__s64 start;

	if (!s)
		return 0;
	if (!w) {
		if ((f->f_inode->i_mode & S_IFMT) == S_IFREG)
			count_close(false);
		return 0;
	}
	/* where it landed: at the end, at pwrite's offset, or where the position was */
	if (f->f_flags & O_APPEND)
		start = f->f_inode->i_size - ret;
	else if (pos >= 0)
		start = pos;
	else
		start = f->f_pos - ret;
	if (!w->count || start < w->lo)
		w->lo = start;
	if (!w->count || start + ret > w->hi)
		w->hi = start + ret;
	__sync_fetch_and_add(&w->bytes, ret);
	__sync_fetch_and_add(&w->count, 1);
	/*
	 * The first bytes written: the head of each write until full. At most
	 * half the buffer, so that the verifier bounds have + n without knowing
	 * sample_bytes, which a reload may change.
	 */
	__u32 want = bconf()->sample_bytes, have = w->sample_len;
	if (want > NERRF_SUMMARY_SAMPLE)
		want = NERRF_SUMMARY_SAMPLE;
	if (have < want && slen) {
		__u32 n = want - have < slen ? want - have : slen;
		have &= NERRF_SUMMARY_SAMPLE - 1;
		if (n > NERRF_SUMMARY_SAMPLE)
			n = NERRF_SUMMARY_SAMPLE;
		if (!bpf_probe_read_kernel(&w->sample[have], n, &s->str[soff & STR_MASK]))
			w->sample_len = have + n;
	}
	return 0;
}

/*
 * The summary of file, whose last reference is going, as one close event;
 * the summary is removed either way. how: NERRF_CS_EXEC, NERRF_CS_EXIT or 0.
 */
__noinline int summary_emit(struct scratch *s, __u64 file, __s32 fd, __u32 how)
{
	struct nerrf_event *e;
	struct wsum *w;
	__u32 off, n;

	if (!s)
		return 0;
	w = bpf_map_lookup_elem(&wsum, &file);
	if (!w)
		return 0;
	if (!w->count)
		goto out;
	e = (void *)s->ev;
	fill_header(e, NERRF_OP_CLOSE, w->hi);
	e->fd = fd;
	e->ino = w->ino;
	e->dev = w->dev;
	e->bytes = w->bytes;
	e->count = w->count;
	e->offset = w->lo;
	e->arg_flags = w->open_flags;
	e->mode = w->cflags | how;
	off = put_file_path(s, 0, (void *)file, &e->flags, NERRF_EF_PATH_TRUNC);
	e->path_len = off;
	__u32 k = *(volatile __u32 *)&conf_slot & 1;
	if (conf[k].nprefixes && !has_prefix(s, k, 0, off)) {
		count_filtered();
		goto out;
	}
	n = w->sample_len & (NERRF_SAMPLE_MAX - 1);
	if (w->sample_len >= NERRF_SAMPLE_MAX)
		n = NERRF_SAMPLE_MAX;
	if (n && !bpf_probe_read_kernel(&s->str[off & STR_MASK], n, w->sample)) {
		e->data_len = n;
		off += n;
		if (w->bytes > n)
			e->flags |= NERRF_EF_DATA_TRUNC;
	}
	emit(e, sizeof(struct nerrf_event) + off);
out:
	bpf_map_delete_elem(&wsum, &file);
	return 0;
}

struct iov_walk {
	__u64 iov;
	__u64 sum;
	struct scratch *s; /* sampling: where, how much wanted, how much got */
	__u32 off, want, got;
};

static long sum_step(__u32 i, struct iov_walk *w)
{
	struct iovec v;

	if (bpf_probe_read_user(&v, sizeof(v), (void *)(w->iov + i * sizeof(v))))
		return 1;
	w->sum += v.iov_len;
	return 0;
}

/* Bytes a vectored write asks for: every iovec, up to NERRF_IOV_MAX of them. */
static __always_inline __u64 iov_sum(__u64 iov, __u32 vlen)
{
	struct iov_walk w = { .iov = iov };

	bpf_loop(vlen < NERRF_IOV_MAX ? vlen : NERRF_IOV_MAX, sum_step, &w, 0);
	return w.sum;
}

/* The head of what a vectored write wrote, across as many iovecs as it takes. */
static long sample_step(__u32 i, struct iov_walk *w)
{
	struct iovec v;
	__u32 n;

	if (w->got >= w->want ||
	    bpf_probe_read_user(&v, sizeof(v), (void *)(w->iov + i * sizeof(v))))
		return 1;
	n = w->want - w->got;
	if (v.iov_len < n)
		n = v.iov_len;
	n &= 511;
	if (n && bpf_probe_read_user(&w->s->str[(w->off + w->got) & STR_MASK], n, v.iov_base))
		return 1;
	w->got += n;
	return 0;
}

/* argv strings back to back, each with its NUL, at most NERRF_DATA_MAX bytes */
struct argv_walk {
	__u64 argv;
	struct scratch *s;
	__u32 off, got;
	bool trunc;
};

static long argv_step(__u32 i, struct argv_walk *w)
{
	__u64 p = 0;
	long n;

	if (bpf_probe_read_user(&p, sizeof(p), (void *)(w->argv + i * sizeof(p))) || !p)
		return 1;
	if (w->got >= NERRF_DATA_MAX) {
		w->trunc = true;
		return 1;
	}
	n = bpf_probe_read_user_str(&w->s->str[(w->off + w->got) & STR_MASK],
				    (NERRF_DATA_MAX - w->got) & (2 * NERRF_DATA_MAX - 1), (void *)p);
	if (n <= 0)
		return 1;
	w->got += n;
	/* a string cut short ends the head, as in the argv of a successful exec */
	if (w->got >= NERRF_DATA_MAX) {
		w->got = NERRF_DATA_MAX;
		w->trunc = true;
		return 1;
	}
	return 0;
}

static __always_inline int on_enter(struct inflight *a)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (task_filtered(id >> 32))
		return 0;
	if (a->kind == K_WRITE) {
		struct file *f = fd_file(a->fd);
		umode_t mode = KOBJ(struct file, f)->f_inode->i_mode;
		if (!f || (!bconf()->all_writes && (mode & S_IFMT) != S_IFREG)) {
			count_filtered();
			return 0;
		}
		a->file = (__u64)f;
	}
	struct inflight *slot = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
						     BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (slot)
		*slot = *a;
	return 0;
}

/*
 * An exit's start: its enter's arguments taken from `inflight` (freeing the
 * slot), and the event's header in the scratch buffer. NULL when this exit
 * has no enter of its own.
 */
static __always_inline struct scratch *take_inflight(__s32 nr, __s64 ret, struct inflight *a)
{
	struct inflight *ap = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
	struct nerrf_event *e;
	struct scratch *s;
	__u32 zero = 0;

	if (!ap || ap->op == NERRF_OP_NONE)
		return NULL;
	*a = *ap;
	ap->op = NERRF_OP_NONE;
	/* A successful execveat exits as execve. */
	if (a->nr != nr && a->kind != K_EXEC)
		return NULL;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return NULL;
	e = (void *)s->ev;
	fill_header(e, a->op, ret);
	e->fd = a->fd;
	e->arg_flags = a->flags;
	return s;
}

static __always_inline int on_exit(__s32 nr, __s64 ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct inflight a;
	struct scratch *s = take_inflight(nr, ret, &a);
	struct nerrf_event *e;
	struct exec_args *x = NULL;
	struct file *exe = NULL;
	__u32 off = 0, sample = 0;

	if (!s)
		return 0;
	e = (void *)s->ev;
	e->mode = a.mode;
	e->bytes = a.bytes;
	if (a.vlen > NERRF_IOV_MAX)
		e->flags |= NERRF_EF_IOV_CAPPED;
	e->offset = a.offset;

	switch (a.kind) {
	case K_OPEN:
		if (ret >= 0) {
			struct file *f = fd_file(ret);
			if (f) {
				e->fd = ret;
				summary_open(s, (__u64)f, a.flags);
				put_inode(e, f);
				off = put_file_path(s, 0, f, &e->flags, NERRF_EF_PATH_TRUNC);
				break;
			}
		}
		off = put_named(s, 0, a.fd, a.name, e, NERRF_EF_PATH_TRUNC);
		break;
	case K_FD: {
		struct file *f = fd_file(a.fd);
		if (f) {
			put_inode(e, f);
			off = put_file_path(s, 0, f, &e->flags, NERRF_EF_PATH_TRUNC);
		} else {
			e->flags |= NERRF_EF_PATH_UNRESOLVED;
		}
		break;
	}
	case K_WRITE:
		put_inode(e, (void *)a.file);
		off = put_file_path(s, 0, (void *)a.file, &e->flags, NERRF_EF_PATH_TRUNC);
		break;
	case K_NAME:
	case K_RENAME:
		off = put_named(s, 0, a.fd, a.name, e, NERRF_EF_PATH_TRUNC);
		break;
	case K_EXEC: {
		struct task_struct *t = (void *)bpf_get_current_task();
		exe = ret == 0 ? BPF_CORE_READ(t, mm, exe_file) : NULL;
		x = ret == 0 ? bpf_map_lookup_elem(&exec_inflight, &id) : NULL;
		/* what ran is the file named to exec, not its interpreter */
		struct file *f = x && x->interp ? (void *)x->named : exe;
		if (f) {
			put_inode(e, f);
			off = put_file_path(s, 0, f, &e->flags, NERRF_EF_PATH_TRUNC);
		} else if (x) {
			/* the named file is out of reach: the kernel's copy of its name */
			bpf_probe_read_kernel_str(s->exec.raw, sizeof(s->exec.raw), x->raw);
			off = put_named_from(s, 0, a.fd, 0, false, e, NERRF_EF_PATH_TRUNC);
		} else {
			off = put_named(s, 0, a.fd, a.name, e, NERRF_EF_PATH_TRUNC);
		}
		break;
	}
	}
	e->path_len = off;

	/* path2: the new name of a rename, or an xattr's attribute name. */
	if (a.kind == K_RENAME) {
		__u32 r = a.fd2 == a.fd ? put_sibling_path(s, off, a.name2) : 0;
		if (r & R_TRUNC)
			e->flags |= NERRF_EF_PATH2_TRUNC;
		e->path2_len = r ? r & R_LEN
				 : put_named(s, off, a.fd2, a.name2, e, NERRF_EF_PATH2_TRUNC);
	} else if (a.name2) {
		e->path2_len = put_user_str(s, off, 256, a.name2, &e->flags, NERRF_EF_PATH2_TRUNC);
	} else if (x && x->interp && exe) {
		/* exec through an interpreter: path2 is the interpreter that runs it */
		e->path2_len = put_file_path(s, off, exe, &e->flags, NERRF_EF_PATH2_TRUNC);
	}
	off += e->path2_len;

	/* One configuration for the whole event, though the collector may flip it. */
	__u32 k = *(volatile __u32 *)&conf_slot & 1;
	const struct nerrf_bconf *cf = &conf[k];
	if (cf->nprefixes && !has_prefix(s, k, 0, e->path_len) &&
	    !(a.kind == K_RENAME && has_prefix(s, k, e->path_len, e->path2_len))) {
		count_filtered();
		return 0;
	}

	/* raw: the caller's string, when it says something path does not. */
	if (a.kind == K_EXEC && ret == 0) {
		if (x) {
			__u32 rl = x->raw_len & (NERRF_RAW_MAX - 1), dl = x->data_len & 511;
			bpf_probe_read_kernel(&s->str[off & STR_MASK], rl, x->raw);
			if (rl && !(rl == e->path_len && same_str(s, 0, off, rl))) {
				e->raw_len = rl;
				off += rl;
			}
			if (dl > NERRF_DATA_MAX)
				dl = NERRF_DATA_MAX;
			bpf_probe_read_kernel(&s->str[off & STR_MASK], dl, x->data);
			e->data_len = dl;
			e->flags |= x->flags;
			off += dl;
			bpf_map_delete_elem(&exec_inflight, &id);
		}
	} else if (a.kind != K_FD && a.kind != K_WRITE) {
		/* A failed exec's name was just read by the kernel: it is in memory. */
		__u32 rl = put_user_str(s, off, NERRF_RAW_MAX, a.name, &e->flags,
					NERRF_EF_RAW_TRUNC);
		if (rl && !(rl == e->path_len && same_str(s, 0, off, rl))) {
			e->raw_len = rl;
			off += rl;
		}
	}

	/* A failed exec's argv: still in the caller's memory, which stays. */
	if (a.kind == K_EXEC && ret != 0 && a.argv) {
		struct argv_walk w = { .argv = a.argv, .s = s, .off = off };
		bpf_loop(NERRF_DATA_MAX / 2, argv_step, &w, 0);
		if (w.got) {
			e->data_len = w.got & (2 * NERRF_DATA_MAX - 1);
			e->flags |= NERRF_EF_ARGV_CALLER | (w.trunc ? NERRF_EF_DATA_TRUNC : 0);
			off += e->data_len;
		}
	}

	/* data: the head of what was written, for the encoder's entropy. */
	__u32 sample_bytes = cf->sample_bytes;
	if (a.kind == K_WRITE && sample_bytes && ret > 0) {
		__u64 avail = ret;
		__u32 n = avail < sample_bytes ? avail : sample_bytes;
		n &= 511;
		if (n > NERRF_SAMPLE_MAX)
			n = NERRF_SAMPLE_MAX;
		int bad;
		if (a.vectored) {
			struct iov_walk w = { .iov = a.name, .s = s, .off = off, .want = n };
			bpf_loop(a.vlen < 64 ? a.vlen : 64, sample_step, &w, 0);
			n = w.got & 511;
			bad = !n;
		} else {
			bad = bpf_probe_read_user(&s->str[off & STR_MASK], n, (void *)a.name);
		}
		if (!bad) {
			e->data_len = n;
			sample = (off & 0xffff) | n << 16;
			off += n;
			if ((__u64)ret > n)
				e->flags |= NERRF_EF_DATA_TRUNC;
		}
	}
	/* write/writev land at the file position; the pwrite family at its offset */
	if (a.kind == K_WRITE && ret > 0)
		summary_write(s, a.file, ret,
			      a.op == NERRF_OP_WRITE || a.op == NERRF_OP_WRITEV ? -1 : a.offset,
			      sample);

	emit(e, sizeof(struct nerrf_event) + off);
	return 0;
}

/*
 * Every exit program tail-calls this one: the work is the same for all, and
 * verifying it once instead of once per syscall cuts load time tenfold. All
 * sys_exit tracepoints share one context layout.
 */
SEC("tracepoint")
int exit_common(struct trace_event_raw_sys_exit *ctx)
{
	/* syscalls/sys_exit_* put a 4-byte __syscall_nr where the struct says id */
	return on_exit((__s32)ctx->id, ctx->ret);
}

/* net.bpf.h: the network syscalls' exits */
int exit_net(struct trace_event_raw_sys_exit *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, int(void *));
} exit_tail SEC(".maps") = {
	.values = { [0] = (void *)&exit_common, [1] = (void *)&exit_net },
};

#define ARG(i) (ctx->args[i])

/* The exit program tail-calls exit_tail[slot]: 0 exit_common, 1 exit_net. */
#define TRACE_TO(sc, slot, body)                                                         \
	SEC("tracepoint/syscalls/sys_enter_" #sc)                                        \
	int enter_##sc(struct trace_event_raw_sys_enter *ctx)                            \
	{                                                                                \
		struct inflight a = { .fd = AT_FDCWD, .fd2 = AT_FDCWD, .offset = -1,     \
				      .nr = (__s32)ctx->id };                            \
		body;                                                                    \
		return on_enter(&a);                                                     \
	}                                                                                \
	SEC("tracepoint/syscalls/sys_exit_" #sc)                                         \
	int exit_##sc(struct trace_event_raw_sys_exit *ctx)                              \
	{                                                                                \
		bpf_tail_call(ctx, &exit_tail, slot);                                    \
		return 0;                                                                \
	}
#define TRACE(sc, body) TRACE_TO(sc, 0, body)

/* open family */
TRACE(open, a.op = NERRF_OP_OPEN; a.kind = K_OPEN; a.name = ARG(0); a.flags = ARG(1);
      a.mode = ARG(2))
TRACE(openat, a.op = NERRF_OP_OPENAT; a.kind = K_OPEN; a.fd = ARG(0); a.name = ARG(1);
      a.flags = ARG(2); a.mode = ARG(3))
TRACE(openat2, struct open_how how = {};
      bpf_probe_read_user(&how, sizeof(how), (void *)ARG(2));
      a.op = NERRF_OP_OPENAT2; a.kind = K_OPEN; a.fd = ARG(0); a.name = ARG(1);
      a.flags = how.flags; a.mode = how.mode)
TRACE(creat, a.op = NERRF_OP_CREAT; a.kind = K_OPEN; a.name = ARG(0);
      a.flags = O_CREAT | O_WRONLY | O_TRUNC; a.mode = ARG(1))

/* write family */
TRACE(write, a.op = NERRF_OP_WRITE; a.kind = K_WRITE; a.fd = ARG(0); a.name = ARG(1);
      a.bytes = ARG(2))
TRACE(pwrite64, a.op = NERRF_OP_PWRITE64; a.kind = K_WRITE; a.fd = ARG(0); a.name = ARG(1);
      a.bytes = ARG(2); a.offset = ARG(3))
TRACE(writev, a.op = NERRF_OP_WRITEV; a.kind = K_WRITE; a.vectored = 1; a.fd = ARG(0);
      a.name = ARG(1); a.vlen = ARG(2); a.bytes = iov_sum(ARG(1), ARG(2)))
TRACE(pwritev, a.op = NERRF_OP_PWRITEV; a.kind = K_WRITE; a.vectored = 1; a.fd = ARG(0);
      a.name = ARG(1); a.vlen = ARG(2); a.bytes = iov_sum(ARG(1), ARG(2)); a.offset = ARG(3))
TRACE(pwritev2, a.op = NERRF_OP_PWRITEV2; a.kind = K_WRITE; a.vectored = 1; a.fd = ARG(0);
      a.name = ARG(1); a.vlen = ARG(2); a.bytes = iov_sum(ARG(1), ARG(2)); a.offset = ARG(3);
      a.flags = ARG(5))

/* rename family: path = old, path2 = new */
TRACE(rename, a.op = NERRF_OP_RENAME; a.kind = K_RENAME; a.name = ARG(0); a.name2 = ARG(1))
TRACE(renameat, a.op = NERRF_OP_RENAMEAT; a.kind = K_RENAME; a.fd = ARG(0); a.name = ARG(1);
      a.fd2 = ARG(2); a.name2 = ARG(3))
TRACE(renameat2, a.op = NERRF_OP_RENAMEAT2; a.kind = K_RENAME; a.fd = ARG(0); a.name = ARG(1);
      a.fd2 = ARG(2); a.name2 = ARG(3); a.flags = ARG(4))

/* removal */
TRACE(unlink, a.op = NERRF_OP_UNLINK; a.kind = K_NAME; a.name = ARG(0))
TRACE(unlinkat, a.op = NERRF_OP_UNLINKAT; a.kind = K_NAME; a.fd = ARG(0); a.name = ARG(1);
      a.flags = ARG(2))
TRACE(rmdir, a.op = NERRF_OP_RMDIR; a.kind = K_NAME; a.name = ARG(0))

/* mode and size */
TRACE(chmod, a.op = NERRF_OP_CHMOD; a.kind = K_NAME; a.name = ARG(0); a.mode = ARG(1))
TRACE(fchmod, a.op = NERRF_OP_FCHMOD; a.kind = K_FD; a.fd = ARG(0); a.mode = ARG(1))
TRACE(fchmodat, a.op = NERRF_OP_FCHMODAT; a.kind = K_NAME; a.fd = ARG(0); a.name = ARG(1);
      a.mode = ARG(2))
TRACE(fchmodat2, a.op = NERRF_OP_FCHMODAT2; a.kind = K_NAME; a.fd = ARG(0); a.name = ARG(1);
      a.mode = ARG(2); a.flags = ARG(3))
TRACE(truncate, a.op = NERRF_OP_TRUNCATE; a.kind = K_NAME; a.name = ARG(0); a.bytes = ARG(1))
TRACE(ftruncate, a.op = NERRF_OP_FTRUNCATE; a.kind = K_FD; a.fd = ARG(0); a.bytes = ARG(1))

/* extended attributes: path2 = attribute name */
TRACE(setxattr, a.op = NERRF_OP_SETXATTR; a.kind = K_NAME; a.name = ARG(0); a.name2 = ARG(1);
      a.bytes = ARG(3); a.flags = ARG(4))
TRACE(lsetxattr, a.op = NERRF_OP_LSETXATTR; a.kind = K_NAME; a.name = ARG(0);
      a.name2 = ARG(1); a.bytes = ARG(3); a.flags = ARG(4))
TRACE(fsetxattr, a.op = NERRF_OP_FSETXATTR; a.kind = K_FD; a.fd = ARG(0); a.name2 = ARG(1);
      a.bytes = ARG(3); a.flags = ARG(4))
TRACE(removexattr, a.op = NERRF_OP_REMOVEXATTR; a.kind = K_NAME; a.name = ARG(0);
      a.name2 = ARG(1))
TRACE(lremovexattr, a.op = NERRF_OP_LREMOVEXATTR; a.kind = K_NAME; a.name = ARG(0);
      a.name2 = ARG(1))
TRACE(fremovexattr, a.op = NERRF_OP_FREMOVEXATTR; a.kind = K_FD; a.fd = ARG(0);
      a.name2 = ARG(1))

#include "net.bpf.h"

#define __FMODE_EXEC 040 /* in f_flags: opened by exec */
/* fput()'s deferred release: a struct file queued with it on a task's
 * task_works has lost its last reference. 0 when kallsyms lacks it. */
extern const void ____fput __ksym __weak;

/*
 * Files whose last reference exec dropped: fput() queues their release on
 * task_works until the return to user space, so they are still whole here
 * and at sys_exit. The file exec was asked to run, when an interpreter
 * replaced it, is the earliest queued one opened for exec (a #! chain
 * queues each script in turn); the others were closed by O_CLOEXEC.
 */
struct released {
	struct callback_head *cb;
	struct scratch *s;
	__u64 named;
};

/* The next file on task_works whose last reference went, or 0. */
static __always_inline __u64 released_next(struct released *r)
{
	struct callback_head *cb = r->cb;

	r->cb = BPF_CORE_READ(cb, next);
	if ((__u64)BPF_CORE_READ(cb, func) != (__u64)&____fput)
		return 0;
	return (__u64)cb - bpf_core_field_offset(struct file, f_task_work);
}

static long named_step(__u32 i, struct released *r)
{
	__u64 f;

	if (!r->cb)
		return 1;
	f = released_next(r);
	if (f && (BPF_CORE_READ((struct file *)f, f_flags) & __FMODE_EXEC))
		r->named = f;
	return 0;
}

/* closed by O_CLOEXEC: their summaries */
static long cloexec_step(__u32 i, struct released *r)
{
	__u64 f;

	if (!r->cb)
		return 1;
	f = released_next(r);
	if (f && !(BPF_CORE_READ((struct file *)f, f_flags) & __FMODE_EXEC)) {
		summary_emit(r->s, f, -1, NERRF_CS_EXEC);
		sock_emit(r->s, f, -1, NERRF_CS_EXEC);
	}
	return 0;
}

/* The file exec was asked to run, when exec released it. */
static __always_inline __u64 exec_named(struct task_struct *t)
{
	struct released r = { .cb = BPF_CORE_READ(t, task_works) };

	if (!&____fput)
		return 0;
	bpf_loop(64, named_step, &r, 0);
	return r.named;
}

/*
 * exec's strings cannot be read at sys_enter (the caller's pages may not be
 * faulted in yet) nor at sys_exit (the old image is gone): take the kernel's
 * copy of the name and the argv the kernel placed in the new image, here,
 * after the point of no return.
 */
SEC("raw_tp/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *t, pid_t old_pid, struct linux_binprm *bprm)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 one = 1;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &one);
	struct exec_args *x;
	__u64 start, end;
	long n;

	struct inflight *a = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
	__u64 named;

	if (!s)
		return 0;
	named = exec_named(t);
	if (!a || a->op == NERRF_OP_NONE)
		return 0;
	x = &s->exec;
	x->flags = 0;
	n = bpf_probe_read_kernel_str(x->raw, sizeof(x->raw), BPF_CORE_READ(bprm, filename));
	x->raw_len = n > 0 ? n : 0;
	if (n >= (long)sizeof(x->raw))
		x->flags |= NERRF_EF_RAW_TRUNC;
	start = BPF_CORE_READ(t, mm, arg_start);
	end = BPF_CORE_READ(t, mm, arg_end);
	n = end > start ? end - start : 0;
	if (n > NERRF_DATA_MAX) {
		n = NERRF_DATA_MAX;
		x->flags |= NERRF_EF_DATA_TRUNC;
	}
	if (bpf_probe_read_user(x->data, n & (2 * NERRF_DATA_MAX - 1), (void *)start))
		n = 0;
	x->data_len = n;
	/* binfmt_script and binfmt_misc give bprm a new interp name */
	x->interp = BPF_CORE_READ(bprm, interp) != BPF_CORE_READ(bprm, filename);
	x->named = 0;
	if (x->interp)
		x->named = BPF_CORE_READ_BITFIELD_PROBED(bprm, have_execfd)
				   ? (__u64)fd_file(BPF_CORE_READ(bprm, execfd))
				   : named;
	bpf_map_update_elem(&exec_inflight, &id, x, BPF_ANY);
	return 0;
}

TRACE(execve, a.op = NERRF_OP_EXECVE; a.kind = K_EXEC; a.name = ARG(0); a.argv = ARG(1))
TRACE(execveat, a.op = NERRF_OP_EXECVEAT; a.kind = K_EXEC; a.fd = ARG(0); a.name = ARG(1);
      a.argv = ARG(2); a.flags = ARG(4))

/*
 * Where a file's last reference may go: the write summaries and the socket
 * summaries (net.bpf.h). close, dup2,
 * dup3, exec and exit leave what went in `closing` and tail-call one
 * program, so the summary code is verified once for all of them (it is most
 * of a program's verification: a path walk).
 */
enum { SUM_CLOSE = 1, SUM_EXEC, SUM_EXIT };

struct closing {
	__u32 what; /* SUM_* */
	__s32 fd;   /* SUM_CLOSE */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct closing);
} closing SEC(".maps");

static __always_inline void exit_files_summaries(struct task_struct *t, struct scratch *s);

SEC("tracepoint")
int summary_common(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	__u32 zero = 0;
	struct closing *c = bpf_map_lookup_elem(&closing, &zero);
	struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	struct file *f;
	__u64 key;

	if (!c || !s)
		return 0;
	if (c->what == SUM_CLOSE) {
		f = fd_file(c->fd);
		key = (__u64)f;
		if (f && file_refs(f) == 1) {
			summary_emit(s, key, c->fd, 0);
			sock_emit(s, key, c->fd, 0);
		}
	} else if (c->what == SUM_EXEC && &____fput) {
		struct released r = { .cb = BPF_CORE_READ(t, task_works), .s = s };
		bpf_loop(64, cloexec_step, &r, 0);
	} else if (c->what == SUM_EXIT) {
		exit_files_summaries(t, s);
	}
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, int(void *));
} close_tail SEC(".maps") = {
	.values = { [0] = (void *)&summary_common },
};

static __always_inline int summaries(void *ctx, __u32 what, __s32 fd)
{
	__u32 zero = 0;
	struct closing *c = bpf_map_lookup_elem(&closing, &zero);

	if (c) {
		c->what = what;
		c->fd = fd;
		bpf_tail_call(ctx, &close_tail, 0);
	}
	return 0;
}

/* fd is about to be closed (close, dup2/dup3 onto it): its last reference? */
static __always_inline int release_fd(void *ctx, __s32 fd)
{
	struct file *f = fd_file(fd);
	__u64 key = (__u64)f;

	if (!f || (!bpf_map_lookup_elem(&wsum, &key) && !bpf_map_lookup_elem(&net_socks, &key)))
		return 0;
	return summaries(ctx, SUM_CLOSE, fd);
}

/* exec released files: O_CLOEXEC ones among them (classic tracepoint, for the tail call) */
SEC("tracepoint/sched/sched_process_exec")
int exec_closes(void *ctx)
{
	return summaries(ctx, SUM_EXEC, -1);
}

/* the last thread of a process: the files its fd table still held, whoever it was */
SEC("tracepoint/sched/sched_process_exit")
int exit_closes(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	if (BPF_CORE_READ(t, signal, live.counter) != 0)
		return 0;
	return summaries(ctx, SUM_EXIT, -1);
}

SEC("tracepoint/syscalls/sys_enter_close")
int enter_close(struct trace_event_raw_sys_enter *ctx)
{
	return release_fd(ctx, ARG(0));
}

/* dup2/dup3 close newfd first when oldfd is valid and differs */
SEC("tracepoint/syscalls/sys_enter_dup2")
int enter_dup2(struct trace_event_raw_sys_enter *ctx)
{
	if (ARG(0) == ARG(1) || !fd_file(ARG(0)))
		return 0;
	return release_fd(ctx, ARG(1));
}

SEC("tracepoint/syscalls/sys_enter_dup3")
int enter_dup3(struct trace_event_raw_sys_enter *ctx)
{
	if (ARG(0) == ARG(1) || !fd_file(ARG(0)))
		return 0;
	return release_fd(ctx, ARG(1));
}

/* Process lifecycle: the tree the detector groups events by. */
static __always_inline struct nerrf_event *sched_event(__u16 op, __s64 ret)
{
	__u32 one = 1;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &one);

	if (!s)
		return NULL;
	fill_header((void *)s->ev, op, ret);
	return (void *)s->ev;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u32 cpid = BPF_CORE_READ(child, pid);
	struct nerrf_event *e;
	__u32 *tf;

	if (cpid != ctgid) /* a new thread, not a new process */
		return 0;
	tf = bpf_map_lookup_elem(&tgid_filter, &ptgid);
	if (tf && (*tf & NERRF_TF_FOLLOW)) {
		__u32 v = *tf;
		bpf_map_update_elem(&tgid_filter, &ctgid, &v, BPF_ANY);
	}
	if (task_filtered(ptgid))
		return 0;
	e = sched_event(NERRF_OP_FORK, 0);
	if (!e)
		return 0;
	e->tgid = ctgid;
	e->tid = cpid;
	e->ppid = ptgid;
	emit(e, sizeof(*e));
	return 0;
}

/*
 * The last process holding an fd table exits: its files lose one reference
 * per fd. A summarized file or followed socket whose references are all in
 * this table goes with it (the same file behind two fds counts twice).
 */
struct fdscan {
	struct scratch *s;
	struct fdtable *fdt;
	__u64 word;
	__u32 base, tag;
};

/* One more of f's references goes with the exiting table (tag): the last one? */
static __always_inline bool drops_last(__u32 *tag, __u32 *drops, __u32 now, struct file *f)
{
	if (*tag != now) {
		*tag = now;
		*drops = 0;
	}
	return ++*drops >= file_refs(f);
}

static long scan_bit(__u32 b, struct fdscan *c)
{
	struct file *f = NULL;
	struct fdtable *fdt = c->fdt;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct followed *fw;
	struct wsum *w;
	__u64 key;

	if (!(c->word & (1ull << (b & 63))))
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[(c->base + b) & 0xffffff]);
	key = (__u64)f;
	if (!f)
		return 0;
	w = bpf_map_lookup_elem(&wsum, &key);
	if (w) {
		if (drops_last(&w->tag, &w->drops, c->tag, f))
			summary_emit(c->s, key, -1, NERRF_CS_EXIT);
		return 0;
	}
	fw = bpf_map_lookup_elem(&net_socks, &key);
	if (fw && drops_last(&fw->tag, &fw->drops, c->tag, f))
		sock_emit(c->s, key, -1, NERRF_CS_EXIT);
	return 0;
}

static long scan_word(__u32 i, struct fdscan *c)
{
	struct fdtable *fdt = c->fdt;
	unsigned long *open_fds = BPF_CORE_READ(fdt, open_fds);

	c->word = 0;
	bpf_probe_read_kernel(&c->word, sizeof(c->word), &open_fds[i & 0x3ffff]);
	if (c->word) {
		c->base = i * 64;
		bpf_loop(64, scan_bit, c, 0);
	}
	return 0;
}

static __always_inline void exit_files_summaries(struct task_struct *t, struct scratch *s)
{
	struct files_struct *files = BPF_CORE_READ(t, files);
	struct fdscan c = { .s = s, .tag = (__u32)bpf_ktime_get_ns() | 1 };
	__u32 max;

	if (!files || BPF_CORE_READ(files, count.counter) != 1)
		return;
	struct fdtable *fdt = BPF_CORE_READ(files, fdt);
	c.fdt = fdt;
	max = BPF_CORE_READ(fdt, max_fds);
	bpf_loop((max + 63) / 64, scan_word, &c, 0);
}

/* Fires per thread; the process ends with its last thread. ret is the wait
 * status the parent will see. */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(on_exit_task)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct nerrf_event *e;
	bool filtered;

	if (BPF_CORE_READ(t, signal, live.counter) != 0)
		return 0;
	filtered = task_filtered(tgid);
	bpf_map_delete_elem(&tgid_filter, &tgid);
	if (!filtered) {
		e = sched_event(NERRF_OP_EXIT, BPF_CORE_READ(t, exit_code));
		if (e)
			emit(e, sizeof(*e));
	}
	return 0;
}
