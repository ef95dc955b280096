/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Paths resolved in the kernel, from the objects a syscall used: a file's
 * (dentry, vfsmount) walked up to the root of the mount namespace, or a
 * directory's path plus the name the caller passed. Results go into the
 * per-CPU scratch string area (struct scratch, STR_MASK) of nerrf.bpf.c,
 * which includes this file after defining them.
 */
#ifndef NERRF_PATH_BPF_H
#define NERRF_PATH_BPF_H

/*
 * A kernel object seen through its BTF type, from a pointer held as a number
 * (in a map, in a loop's state): its fields are then plain loads that the
 * kernel fixes up if they fault, where BPF_CORE_READ is one helper call per
 * field (~50 ns each here; the walk makes two per path component). The cast
 * itself is free: the verifier turns it into a register move. Linux 6.2+;
 * the collector checks for it before loading (kernel.c).
 */
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym;
#define KOBJ(type, p) ((type *)bpf_rdonly_cast((void *)(p), bpf_core_type_id_kernel(type)))

/*
 * Such a pointer as a plain number, for a global function's argument (which
 * takes no untrusted pointer): a number read back from a map value has no
 * pointer type.
 */
static __always_inline __u64 as_num(struct scratch *s, const void *p)
{
	*(volatile __u64 *)&s->num = (__u64)p;
	return *(volatile __u64 *)&s->num;
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

/* One path walk: the components found going up, then the path built from them. */
struct walk {
	struct scratch *s;
	__u64 mnt; /* struct mount *, as a number: see KOBJ */
	__u64 d;   /* struct dentry * */
	__u32 n;   /* components recorded */
	__u32 off; /* build: where the path starts in str */
	__u32 pos; /* build: bytes written */
	bool done; /* walk: reached the namespace root */
	bool trunc;
};

static long walk_step(__u32 i, struct walk *w)
{
	struct dentry *d = KOBJ(struct dentry, w->d);
	struct dentry *parent = d->d_parent;
	struct scratch *s = w->s;
	__u32 n = w->n;

	if (!s)
		return 1;
	if ((__u64)d == s->mnt_root || d == parent) {
		struct mount *mnt = KOBJ(struct mount, w->mnt);
		struct mount *up = mnt->mnt_parent;
		if ((__u64)d != s->mnt_root || up == mnt) {
			w->done = true;
			return 1;
		}
		w->d = as_num(s, mnt->mnt_mountpoint);
		w->mnt = as_num(s, up);
		s->mnt_root = as_num(s, KOBJ(struct mount, up)->mnt.mnt_root);
		return 0;
	}
	if (n >= MAX_DEPTH)
		return 1;
	s->comp[n & (MAX_DEPTH - 1)] = (__u64)d->d_name.name;
	s->comp_len[n & (MAX_DEPTH - 1)] = d->d_name.len;
	w->n = n + 1;
	w->d = as_num(s, parent);
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
/* Global (verified once, not per call site) to keep the verifier's work linear. */
__noinline int put_path(struct scratch *s, __u32 off, __u64 dentry, __u64 vfsmnt)
{
	struct mount *m = container_of((struct vfsmount *)vfsmnt, struct mount, mnt);
	struct walk w = { .s = s, .mnt = (__u64)m, .d = dentry, .off = off };
	__u32 pos;

	if (!s)
		return 0;
	s->mnt_root = as_num(s, KOBJ(struct mount, m)->mnt.mnt_root);
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
	struct file *kf = KOBJ(struct file, f);
	__u32 r = put_path(s, off, as_num(s, kf->f_path.dentry), as_num(s, kf->f_path.mnt));

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

/*
 * A name from the caller (user), or else the kernel's copy of it placed in
 * s->exec.raw (a global function takes no pointer into another map).
 */
static __always_inline long read_str(struct scratch *s, void *dst, __u32 size, __u64 name,
				     bool user)
{
	if (user)
		return bpf_probe_read_user_str(dst, size, (void *)name);
	return bpf_probe_read_kernel_str(dst, size, s->exec.raw);
}

/* name appended at str[off + pos], after a directory prefix of pos bytes */
static __always_inline __u32 put_name_after(struct scratch *s, __u32 off, __u32 pos, __u64 name,
					    bool user)
{
	__u32 res = 0;
	long n = read_str(s, &s->str[(off + pos) & STR_MASK],
			  (NERRF_PATH_MAX - pos) & (NERRF_PATH_MAX - 1), name, user);

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
__noinline int put_name_path(struct scratch *s, __u32 off, int dirfd, __u64 name, bool user)
{
	struct dentry *dir_d;
	struct vfsmount *dir_m;
	char first = 0;
	__u32 pos, r, res = 0;
	long n;

	if (!s)
		return 0;
	s->dir_len = 0;
	if (user)
		bpf_probe_read_user(&first, 1, (void *)name);
	else
		first = s->exec.raw[0];
	if (first != '/') {
		if (dirfd == AT_FDCWD) {
			struct task_struct *t = bpf_get_current_task_btf();
			dir_d = t->fs->pwd.dentry;
			dir_m = t->fs->pwd.mnt;
		} else {
			struct file *f = fd_file(dirfd);
			if (!f) {
				res = R_UNRESOLVED;
				goto name_only;
			}
			dir_d = KOBJ(struct file, f)->f_path.dentry;
			dir_m = KOBJ(struct file, f)->f_path.mnt;
		}
		r = put_path(s, off, as_num(s, dir_d), as_num(s, dir_m));
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
		return res | put_name_after(s, off, pos, name, user);
	}
name_only:
	n = read_str(s, &s->str[off & STR_MASK], NERRF_PATH_MAX, name, user);
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
	return put_name_after(s, off, len, name, true);
}

/* user: name is the caller's pointer; else the kernel's copy in s->exec.raw */
static __always_inline __u32 put_named_from(struct scratch *s, __u32 off, int dirfd, __u64 name,
					    bool user, struct nerrf_event *e, __u16 trunc_flag)
{
	__u32 r = put_name_path(s, off, dirfd, name, user);

	e->flags |= NERRF_EF_PATH_FALLBACK;
	if (r & R_TRUNC)
		e->flags |= trunc_flag;
	if (r & R_UNRESOLVED)
		e->flags |= NERRF_EF_PATH_UNRESOLVED;
	return r & R_LEN;
}

static __always_inline __u32 put_named(struct scratch *s, __u32 off, int dirfd, __u64 name,
				       struct nerrf_event *e, __u16 trunc_flag)
{
	return put_named_from(s, off, dirfd, name, true, e, trunc_flag);
}

static __always_inline void put_inode(struct nerrf_event *e, struct file *f)
{
	struct inode *ino = KOBJ(struct file, f)->f_inode;

	e->ino = ino->i_ino;
	e->dev = ino->i_sb->s_dev;
}

#endif /* NERRF_PATH_BPF_H */
