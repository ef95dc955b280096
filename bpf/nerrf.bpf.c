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

#define MAX_DEPTH 64            /* path components */
#define MAX_HOPS (MAX_DEPTH + 16) /* components plus mount crossings */
#define STR_MASK 0x3fff         /* string offsets stay below 16 KiB ... */
#define STR_AREA (STR_MASK + 1 + NERRF_PATH_MAX) /* ... so any read at one fits */
#define IOV_SUM_MAX 16

/* Set by the collector before load. */
const volatile __u32 sample_bytes = 64;
const volatile __u64 wakeup_bytes = 0;
const volatile __u64 wakeup_ns = 250000;
const volatile bool all_writes = false;
const volatile bool pid_include = false;
const volatile bool uid_on = false;
const volatile __u32 uid_val = 0;
const volatile __u64 cgroup_val = 0;
const volatile __u32 comm_mode = NERRF_COMM_OFF;
const volatile __u32 ncomms = 0;
const volatile char comms[NERRF_MAX_COMMS][NERRF_COMM_LEN] = {};
const volatile __u32 nprefixes = 0;
const volatile __u32 prefix_len[NERRF_MAX_PREFIXES] = {}; /* without the NUL */
const volatile char prefixes[NERRF_MAX_PREFIXES][NERRF_PREFIX_MAX] = {};

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
	__u32 _pad;
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
	__u16 _pad;
	char raw[NERRF_RAW_MAX];
	char data[2 * NERRF_DATA_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NERRF_EXEC_INFLIGHT_MAX);
	__type(key, __u64);
	__type(value, struct exec_args);
} exec_inflight SEC(".maps");

struct scratch {
	char ev[sizeof(struct nerrf_event)];
	char str[STR_AREA];
	__u64 comp[MAX_DEPTH]; /* dentry name pointers, leaf first */
	__u32 comp_len[MAX_DEPTH];
	__u64 mnt_root; /* walk: the current mount's root dentry, read once per mount */
	__u32 dir_off, dir_len; /* put_name_path: the directory prefix it built, "/" included */
	struct exec_args exec;
};

/* Slot 0 for syscall programs, 1 for sched programs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

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

static __always_inline bool comm_listed(const char *comm)
{
	for (__u32 i = 0; i < NERRF_MAX_COMMS; i++) {
		if (i >= ncomms)
			break;
		bool same = true;
		for (__u32 j = 0; j < NERRF_COMM_LEN; j++) {
			if (comm[j] != comms[i][j]) {
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

	if (v & NERRF_TF_EXCLUDE)
		goto out;
	if (pid_include && !(v & NERRF_TF_INCLUDE))
		goto out;
	if (uid_on && (__u32)bpf_get_current_uid_gid() != uid_val)
		goto out;
	if (cgroup_val && bpf_get_current_cgroup_id() != cgroup_val)
		goto out;
	if (comm_mode != NERRF_COMM_OFF) {
		char comm[NERRF_COMM_LEN];
		bpf_get_current_comm(comm, sizeof(comm));
		if (comm_listed(comm) != (comm_mode == NERRF_COMM_INCLUDE))
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
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ug = bpf_get_current_uid_gid();

	e->hdr.type = NERRF_REC_EVENT;
	e->cpu = bpf_get_smp_processor_id();
	e->op = op;
	e->flags = 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->ppid = t->real_parent->tgid;
	e->uid = (__u32)ug;
	e->gid = ug >> 32;
	e->mnt_ns = t->nsproxy->mnt_ns->ns.inum;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->ret = ret;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
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
	e->_pad = 0;
}

/*
 * When to wake the collector. The kernel's default (whenever the reader has
 * caught up) costs a wakeup per event while the reader keeps up, which was
 * most of the collector's CPU. Instead: an isolated event (this CPU's
 * previous one was wakeup_ns ago or more) wakes it at once, since at low
 * rates latency is what matters and wakeups are cheap; a busy CPU wakes it
 * when wakeup_bytes are waiting or every 4 x wakeup_ns, so a flood costs a
 * bounded number of wakeups. The collector also sweeps with a short poll
 * while events flow.
 */
static __always_inline void emit(struct nerrf_event *e, __u32 size)
{
	struct nerrf_kcounters *c = my_counters();

	if (!c)
		return;
	if (size > NERRF_EVENT_MAX)
		size = NERRF_EVENT_MAX;
	e->hdr.size = size;
	e->seq = __sync_fetch_and_add(&c->seq, 1);
	__u64 flags = BPF_RB_NO_WAKEUP;
	__u64 gap = e->ts_ns - c->last_ts;
	c->last_ts = e->ts_ns;
	if (gap >= wakeup_ns || e->ts_ns - c->last_wake >= 4 * wakeup_ns ||
	    bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + size >= wakeup_bytes) {
		c->last_wake = e->ts_ns;
		flags = BPF_RB_FORCE_WAKEUP;
	}
	if (bpf_ringbuf_output(&events, e, size, flags))
		__sync_fetch_and_add(&c->lost[e->op < NERRF_OP_MAX ? e->op : 0], 1);
}

static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = t->files->fdt;
	struct file *f = NULL;

	if (fd < 0 || !fdt || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]);
	return f;
}

/* put_path()/put_name_path() results: length with the NUL, plus these bits. */
#define R_LEN 0xffff
#define R_TRUNC (1 << 16)
#define R_UNRESOLVED (1 << 17)

/*
 * Writes the absolute path of (dentry, vfsmnt) at str[off]. Walks dentries up
 * to the mount root, then crosses to the parent mount, until the root of the
 * mount namespace. R_TRUNC when longer than NERRF_PATH_MAX or deeper than
 * MAX_DEPTH. Global (verified once, not per call site) to keep the
 * verifier's work linear.
 */
struct walk {
	struct scratch *s;
	struct mount *mnt;
	struct dentry *d;
	__u32 n;   /* components recorded */
	__u32 off; /* build: where the path starts in str */
	__u32 pos; /* build: bytes written */
	bool done; /* walk: reached the namespace root */
	bool trunc;
};

static long walk_step(__u32 i, struct walk *w)
{
	struct mount *mnt = w->mnt;
	struct dentry *d = w->d;
	struct scratch *s = w->s;
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	struct dentry *root;
	struct qstr name;
	__u32 n = w->n;

	if (!s)
		return 1;
	root = (struct dentry *)s->mnt_root;
	if (d == root || d == parent) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);
		if (d != root || up == mnt) {
			w->done = true;
			return 1;
		}
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		s->mnt_root = (__u64)BPF_CORE_READ(up, mnt.mnt_root);
		return 0;
	}
	if (n >= MAX_DEPTH)
		return 1;
	/* name and length in one copy: each copy from the kernel is a helper call */
	BPF_CORE_READ_INTO(&name, d, d_name);
	s->comp[n & (MAX_DEPTH - 1)] = (__u64)name.name;
	s->comp_len[n & (MAX_DEPTH - 1)] = name.len;
	w->n = n + 1;
	w->d = parent;
	return 0;
}

static long build_step(__u32 i, struct walk *w)
{
	struct scratch *s = w->s;
	__u32 c = (w->n - 1 - i) & (MAX_DEPTH - 1);
	__u32 len, pos = w->pos;

	if (!s)
		return 1;
	len = s->comp_len[c] & 255;
	if (pos + len + 2 > NERRF_PATH_MAX) {
		w->trunc = true;
		return 1;
	}
	s->str[(w->off + pos) & STR_MASK] = '/';
	pos++;
	bpf_probe_read_kernel(&s->str[(w->off + pos) & STR_MASK], len, (void *)s->comp[c]);
	w->pos = pos + len;
	return 0;
}

/*
 * Writes the absolute path of (dentry, vfsmnt) at str[off]. Walks dentries up
 * to the mount root, then crosses to the parent mount, until the root of the
 * mount namespace. R_TRUNC when longer than NERRF_PATH_MAX or deeper than
 * MAX_DEPTH. The loops run through bpf_loop() so the verifier checks each
 * body once instead of once per iteration.
 */
__noinline int put_path(struct scratch *s, __u32 off, __u64 dentry, __u64 vfsmnt)
{
	struct walk w = {
		.s = s,
		.mnt = container_of((struct vfsmount *)vfsmnt, struct mount, mnt),
		.d = (void *)dentry,
		.off = off,
	};
	__u32 pos;

	if (!s)
		return 0;
	struct mount *m = w.mnt; /* not w.mnt inside the macro: struct walk is not the kernel's */
	s->mnt_root = (__u64)BPF_CORE_READ(m, mnt.mnt_root);
	bpf_loop(MAX_HOPS, walk_step, &w, 0);
	if (w.n > MAX_DEPTH)
		w.n = MAX_DEPTH;
	bpf_loop(w.n, build_step, &w, 0);
	pos = w.pos;
	if (pos == 0)
		s->str[(off + pos++) & STR_MASK] = '/';
	s->str[(off + pos) & STR_MASK] = 0;
	return (w.done && !w.trunc ? 0 : R_TRUNC) | ((pos + 1) & R_LEN);
}

static __always_inline __u32 put_file_path(struct scratch *s, __u32 off, struct file *f,
					   __u16 *flags, __u16 trunc_flag)
{
	struct path p;
	__u32 r;

	BPF_CORE_READ_INTO(&p, f, f_path);
	r = put_path(s, off, (__u64)p.dentry, (__u64)p.mnt);
	if (r & R_TRUNC)
		*flags |= trunc_flag;
	return r & R_LEN;
}

/* A user string at str[off]; length with the NUL, 0 if unreadable. */
static __always_inline __u32 put_user_str(struct scratch *s, __u32 off, __u32 max, __u64 uptr,
					  __u16 *flags, __u16 trunc_flag)
{
	long n = bpf_probe_read_user_str(&s->str[off & STR_MASK], max & (NERRF_PATH_MAX * 2 - 1),
					 (void *)uptr);
	if (n <= 0)
		return 0;
	if ((__u32)n >= max)
		*flags |= trunc_flag;
	return n;
}

/* name appended at str[off + pos], after a directory prefix of pos bytes */
static __always_inline __u32 put_name_after(struct scratch *s, __u32 off, __u32 pos, __u64 name)
{
	__u32 res = 0;
	long n = bpf_probe_read_user_str(&s->str[(off + pos) & STR_MASK],
					 (NERRF_PATH_MAX - pos) & (NERRF_PATH_MAX - 1), (void *)name);

	if (n <= 0) {
		s->str[(off + pos) & STR_MASK] = 0;
		n = 1;
	} else if (n >= NERRF_PATH_MAX - pos) {
		res = R_TRUNC;
	}
	return res | ((pos + n) & R_LEN);
}

/*
 * The path an operation names by (dirfd, name) without opening it: name if
 * absolute, else the directory's path + "/" + name (not normalised: "./" and
 * "../" stay). R_UNRESOLVED when the directory is unknown and only the name
 * is there.
 */
__noinline int put_name_path(struct scratch *s, __u32 off, int dirfd, __u64 name)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct path dir;
	char first = 0;
	__u32 pos, r, res = 0;
	long n;

	if (!s)
		return 0;
	s->dir_len = 0;
	bpf_probe_read_user(&first, 1, (void *)name);
	if (first != '/') {
		if (dirfd == AT_FDCWD) {
			BPF_CORE_READ_INTO(&dir, t, fs, pwd);
		} else {
			struct file *f = fd_file(dirfd);
			if (!f) {
				res = R_UNRESOLVED;
				goto name_only;
			}
			BPF_CORE_READ_INTO(&dir, f, f_path);
		}
		r = put_path(s, off, (__u64)dir.dentry, (__u64)dir.mnt);
		res |= r & R_TRUNC;
		pos = (r & R_LEN) - 1;
		if (pos > 1)
			s->str[(off + pos++) & STR_MASK] = '/';
		else
			pos = 1; /* the root: "/" + name */
		if (!(res & R_TRUNC)) {
			s->dir_off = off;
			s->dir_len = pos;
		}
		if (pos >= NERRF_PATH_MAX - 1)
			return res | R_TRUNC | pos;
		return res | put_name_after(s, off, pos, name);
	}
name_only:
	n = bpf_probe_read_user_str(&s->str[off & STR_MASK], NERRF_PATH_MAX, (void *)name);
	if (n <= 0)
		return res;
	if (n >= NERRF_PATH_MAX)
		res |= R_TRUNC;
	return res | (n & R_LEN);
}

/*
 * The second name of a rename relative to the same directory as the first:
 * copies the directory prefix put_name_path just built instead of walking it
 * again (the walk is most of an event's cost). 0 when there is none to copy
 * or the name is absolute: the caller then resolves it in full.
 */
__noinline int put_sibling_path(struct scratch *s, __u32 off, __u64 name)
{
	char first = 0;
	__u32 len;

	if (!s)
		return 0;
	len = s->dir_len;
	if (!len || len >= NERRF_PATH_MAX - 1)
		return 0;
	bpf_probe_read_user(&first, 1, (void *)name);
	if (first == '/' ||
	    bpf_probe_read_kernel(&s->str[off & STR_MASK], len & (NERRF_PATH_MAX - 1),
				  &s->str[s->dir_off & STR_MASK]))
		return 0;
	return put_name_after(s, off, len, name);
}

static __always_inline __u32 put_named(struct scratch *s, __u32 off, int dirfd, __u64 name,
				       struct nerrf_event *e, __u16 trunc_flag)
{
	__u32 r = put_name_path(s, off, dirfd, name);

	e->flags |= NERRF_EF_PATH_FALLBACK;
	if (r & R_TRUNC)
		e->flags |= trunc_flag;
	if (r & R_UNRESOLVED)
		e->flags |= NERRF_EF_PATH_UNRESOLVED;
	return r & R_LEN;
}

static __always_inline void put_inode(struct nerrf_event *e, struct file *f)
{
	struct inode *ino = BPF_CORE_READ(f, f_inode);

	e->ino = BPF_CORE_READ(ino, i_ino);
	e->dev = BPF_CORE_READ(ino, i_sb, s_dev);
}

struct cmp {
	struct scratch *s;
	__u32 a, b;   /* offsets in str */
	__u32 p;      /* has_prefix: which prefix */
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
	if (s->str[(c->a + i) & STR_MASK] != prefixes[c->p & (NERRF_MAX_PREFIXES - 1)][i & (NERRF_PREFIX_MAX - 1)]) {
		c->differ = true;
		return 1;
	}
	return 0;
}

/* Whether the path at str[off] (len with the NUL) starts with a prefix. */
static __always_inline bool has_prefix(struct scratch *s, __u32 off, __u32 len)
{
	for (__u32 p = 0; p < NERRF_MAX_PREFIXES; p++) {
		if (p >= nprefixes)
			break;
		struct cmp c = { .s = s, .a = off, .p = p };
		if (prefix_len[p] >= len)
			continue;
		bpf_loop(prefix_len[p] & (NERRF_PREFIX_MAX - 1), prefix_step, &c, 0);
		if (!c.differ)
			return true;
	}
	return false;
}

static __always_inline __u64 iov_sum(__u64 iov, __u32 vlen)
{
	__u64 sum = 0;

	for (__u32 i = 0; i < IOV_SUM_MAX; i++) {
		struct iovec v;
		if (i >= vlen || bpf_probe_read_user(&v, sizeof(v), (void *)(iov + i * sizeof(v))))
			break;
		sum += v.iov_len;
	}
	return sum;
}

static __always_inline int on_enter(struct inflight *a)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (task_filtered(id >> 32))
		return 0;
	if (a->kind == K_WRITE) {
		struct file *f = fd_file(a->fd);
		umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
		if (!f || (!all_writes && (mode & S_IFMT) != S_IFREG)) {
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

static __always_inline int on_exit(__s32 nr, __s64 ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct inflight *ap = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
	struct inflight a;
	struct scratch *s;
	struct nerrf_event *e;
	__u32 zero = 0, off = 0;

	if (!ap || ap->op == NERRF_OP_NONE)
		return 0;
	a = *ap;
	ap->op = NERRF_OP_NONE;
	/* A successful execveat exits as execve. */
	if (a.nr != nr && a.kind != K_EXEC)
		return 0;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	e = (void *)s->ev;
	fill_header(e, a.op, ret);
	e->fd = a.fd;
	e->mode = a.mode;
	e->arg_flags = a.flags;
	e->bytes = a.bytes;
	e->offset = a.offset;

	switch (a.kind) {
	case K_OPEN:
		if (ret >= 0) {
			struct file *f = fd_file(ret);
			if (f) {
				e->fd = ret;
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
		struct file *f = ret == 0 ? BPF_CORE_READ(t, mm, exe_file) : NULL;
		if (f) {
			put_inode(e, f);
			off = put_file_path(s, 0, f, &e->flags, NERRF_EF_PATH_TRUNC);
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
	} else if (a.name2)
		e->path2_len = put_user_str(s, off, 256, a.name2, &e->flags, NERRF_EF_PATH2_TRUNC);
	off += e->path2_len;

	if (nprefixes && !has_prefix(s, 0, e->path_len) &&
	    !(a.kind == K_RENAME && has_prefix(s, e->path_len, e->path2_len))) {
		count_filtered();
		return 0;
	}

	/* raw: the caller's string, when it says something path does not. */
	if (a.kind == K_EXEC && ret == 0) {
		struct exec_args *x = bpf_map_lookup_elem(&exec_inflight, &id);
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

	/* data: the head of what was written, for the encoder's entropy. */
	if (a.kind == K_WRITE && sample_bytes && ret > 0) {
		__u64 buf = a.name, avail = ret;
		if (a.vectored) {
			struct iovec v = {};
			bpf_probe_read_user(&v, sizeof(v), (void *)a.name);
			buf = (__u64)v.iov_base;
			avail = v.iov_len < avail ? v.iov_len : avail;
		}
		__u32 n = avail < sample_bytes ? avail : sample_bytes;
		n &= 511;
		if (n > NERRF_SAMPLE_MAX)
			n = NERRF_SAMPLE_MAX;
		if (!bpf_probe_read_user(&s->str[off & STR_MASK], n, (void *)buf)) {
			e->data_len = n;
			off += n;
			if ((__u64)ret > n)
				e->flags |= NERRF_EF_DATA_TRUNC;
		}
	}

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

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, int(void *));
} exit_tail SEC(".maps") = {
	.values = { [0] = (void *)&exit_common },
};

#define ARG(i) (ctx->args[i])

#define TRACE(sc, body)                                                                  \
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
		bpf_tail_call(ctx, &exit_tail, 0);                                       \
		return 0;                                                                \
	}

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
      a.name = ARG(1); a.bytes = iov_sum(ARG(1), ARG(2)))
TRACE(pwritev, a.op = NERRF_OP_PWRITEV; a.kind = K_WRITE; a.vectored = 1; a.fd = ARG(0);
      a.name = ARG(1); a.bytes = iov_sum(ARG(1), ARG(2)); a.offset = ARG(3))
TRACE(pwritev2, a.op = NERRF_OP_PWRITEV2; a.kind = K_WRITE; a.vectored = 1; a.fd = ARG(0);
      a.name = ARG(1); a.bytes = iov_sum(ARG(1), ARG(2)); a.offset = ARG(3);
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

	if (!s || !a || a->op == NERRF_OP_NONE)
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
	bpf_map_update_elem(&exec_inflight, &id, x, BPF_ANY);
	return 0;
}

TRACE(execve, a.op = NERRF_OP_EXECVE; a.kind = K_EXEC; a.name = ARG(0))
TRACE(execveat, a.op = NERRF_OP_EXECVEAT; a.kind = K_EXEC; a.fd = ARG(0); a.name = ARG(1);
      a.flags = ARG(4))

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
	if (filtered)
		return 0;
	e = sched_event(NERRF_OP_EXIT, BPF_CORE_READ(t, exit_code));
	if (e)
		emit(e, sizeof(*e));
	return 0;
}
