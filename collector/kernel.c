/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's privileged half on the BPF side: check what the kernel
 * offers, then load and attach the programs with the options in their
 * read-only data, fill the pid filter, and pin them (--pin), or reopen the
 * pins an earlier collector with the same configuration left. The filters a
 * reload may change live in the programs' .bss, which stays mapped here, so
 * kernel_apply() needs no privilege and no syscall.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
/* The skeleton embeds the BPF object as one long string literal. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverlength-strings"
#include "nerrf.skel.h"
#pragma GCC diagnostic pop
#include "nerrf_log.h"

#define TRACEFS "/sys/kernel/tracing"
#define BTF_PATH "/sys/kernel/btf/vmlinux"
/*
 * Whatever else the wakeup policy says (emit() in nerrf.bpf.c, drain.c), the
 * kernel wakes the collector when 1/WAKEUP_FRACTION of the ring buffer waits.
 */
#define WAKEUP_FRACTION 16

/* The tail of libbpf's output (the verifier log), shown when loading fails. */
static char bpf_log[16384];
static size_t bpf_log_len;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (log_verbose() && level != LIBBPF_DEBUG)
		fputs(line, stderr);
	if ((size_t)n > sizeof(bpf_log) / 2)
		n = sizeof(bpf_log) / 2;
	if (bpf_log_len + n >= sizeof(bpf_log)) {
		size_t keep = sizeof(bpf_log) / 2;
		memmove(bpf_log, bpf_log + bpf_log_len - keep, keep);
		bpf_log_len = keep;
	}
	memcpy(bpf_log + bpf_log_len, line, n);
	bpf_log_len += n;
	return n;
}

static void print_log_tail(void)
{
	size_t from = bpf_log_len > 4096 ? bpf_log_len - 4096 : 0;

	fprintf(stderr, "---- libbpf/verifier log (tail) ----\n%.*s\n------------------------------------\n",
		(int)(bpf_log_len - from), bpf_log + from);
}

static bool has_cap(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

static int ensure_tracefs(void)
{
	if (access(TRACEFS "/events/syscalls", F_OK) == 0)
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) < 0 && errno != EBUSY) {
		log_warnx("tracefs is not mounted at " TRACEFS " and mounting it failed: %s; mount it "
		    "(mount -t tracefs tracefs " TRACEFS ") or run with CAP_SYS_ADMIN", strerror(errno));
		return -1;
	}
	if (access(TRACEFS "/events/syscalls", F_OK) < 0) {
		log_warnx(TRACEFS "/events/syscalls missing: this kernel lacks CONFIG_FTRACE_SYSCALLS; "
		    "boot a kernel with syscall tracepoints");
		return -1;
	}
	return 0;
}

/* Syscalls not chosen, or without a tracepoint on this kernel, are not loaded. */
static int choose_programs(struct nerrf_bpf *skel, const struct opts *o)
{
	unsigned n = 0;

	for (size_t i = 0; i < NR_SYSCALLS; i++) {
		char path[256], name[64];
		bool on = o->syscalls >> i & 1;
		snprintf(path, sizeof(path), TRACEFS "/events/syscalls/sys_enter_%s", syscall_name(i));
		if (on && access(path, F_OK) < 0) {
			log_warnx("warning: tracepoint syscalls/sys_enter_%s missing on this kernel; "
			    "%s is not traced", syscall_name(i), syscall_name(i));
			on = false;
		}
		for (int exit = 0; exit < 2; exit++) {
			snprintf(name, sizeof(name), "%s_%s", exit ? "exit" : "enter", syscall_name(i));
			struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, name);
			if (!p) {
				log_warnx("BPF program %s missing from the object; rebuild", name);
				return -1;
			}
			bpf_program__set_autoload(p, on);
		}
		n += on;
	}
	if (!n) {
		log_warnx("no syscall left to trace; check --syscalls");
		return -1;
	}
	/* A successful execveat returns through sys_exit_execve. */
	if (bpf_program__autoload(skel->progs.enter_execveat))
		bpf_program__set_autoload(skel->progs.exit_execve, true);
	return 0;
}

static void configure(struct nerrf_bpf *skel, const struct opts *o)
{
	struct nerrf_bpf__rodata *r = skel->rodata;

	r->wakeup_bytes = o->ringbuf_size / WAKEUP_FRACTION;
	r->pid_include = o->npids > 0;
}

/*
 * A program that read the slot in force before a flip is done with it long
 * before this: the slot is rewritten only that long after.
 */
#define REUSE_SLOT_NS 10000000ull

void kernel_apply(struct kernel *k, const struct opts *o)
{
	struct nerrf_bpf__bss *b = k->bss;
	unsigned next = (__atomic_load_n(&b->conf_slot, __ATOMIC_ACQUIRE) & 1) ^ 1;
	struct nerrf_bconf *c = &b->conf[next];
	unsigned long long since = nerrf_mono_ns() - k->flipped_ns;

	if (k->flipped_ns && since < REUSE_SLOT_NS) {
		struct timespec ts = { 0, (long)(REUSE_SLOT_NS - since) };
		nanosleep(&ts, NULL);
	}
	memset(c, 0, sizeof(*c));
	c->sample_bytes = o->live.sample_bytes;
	c->wakeup_ns = (__u64)o->live.wakeup_us * 1000;
	c->all_writes = o->live.all_writes;
	c->uid_on = o->live.uid_on;
	c->uid_val = o->live.uid;
	c->cgroup_val = o->live.cgroup;
	c->comm_mode = o->live.comm_mode;
	c->ncomms = o->live.ncomms;
	memcpy(c->comms, o->live.comms, sizeof(c->comms));
	c->nprefixes = o->live.nprefixes;
	for (unsigned i = 0; i < o->live.nprefixes; i++)
		c->prefix_len[i] = strlen(o->live.prefixes[i]);
	memcpy(c->prefixes, o->live.prefixes, sizeof(c->prefixes));
	c->net_families = o->live.net_families;
	c->net_loopback = o->live.net_loopback;
	c->nports = o->live.nports;
	for (unsigned i = 0; i < o->live.nports; i++)
		c->ports[i] = o->live.ports[i];
	/* the slot is whole before the programs can choose it */
	__atomic_store_n(&b->conf_slot, next, __ATOMIC_RELEASE);
	k->flipped_ns = nerrf_mono_ns();
}

unsigned long long kernel_wakeup_ns(const struct kernel *k)
{
	const struct nerrf_bpf__bss *b = k->bss;

	return b->conf[__atomic_load_n(&b->conf_slot, __ATOMIC_ACQUIRE) & 1].wakeup_ns;
}

/* The pinned .bss of running programs, mapped as the skeleton maps its own. */
static int map_bss(struct kernel *k)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	size_t page = (size_t)sysconf(_SC_PAGESIZE), sz;
	void *m;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(k->fds.conf, &info, &len) < 0) {
		log_warn("reading the pinned configuration map's size");
		return -1;
	}
	/* the section is the struct less its tail padding */
	if (info.value_size < offsetof(struct nerrf_bpf__bss, conf_slot) + sizeof(__u32) ||
	    info.value_size > sizeof(struct nerrf_bpf__bss)) {
		log_warnx("the pinned configuration map holds %u bytes, this build %zu; remove the "
			  "pins with --cleanup and start again", info.value_size,
			  sizeof(struct nerrf_bpf__bss));
		return -1;
	}
	sz = (info.value_size + page - 1) / page * page;
	m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, k->fds.conf, 0);
	if (m == MAP_FAILED) {
		log_warn("mapping the pinned configuration map");
		return -1;
	}
	k->bss = m;
	k->bss_len = sz;
	if (info.value_size >= offsetof(struct nerrf_bpf__bss, collector_sweeping) + sizeof(__u32))
		k->sweeping = &k->bss->collector_sweeping;
	return 0;
}

static int set_tgid(int fd, unsigned tgid, __u32 flags)
{
	__u32 old = 0;

	bpf_map_lookup_elem(fd, &tgid, &old);
	flags |= old;
	return bpf_map_update_elem(fd, &tgid, &flags, BPF_ANY);
}

/* Processes already forked under an --exclude-tree root: the fork hook only
 * sees later ones. */
static void exclude_descendants(int fd, unsigned root)
{
	bool grew = true;

	while (grew) {
		DIR *d = opendir("/proc");
		struct dirent *de;
		grew = false;
		if (!d)
			return;
		while ((de = readdir(d))) {
			char path[64], buf[512], *p;
			unsigned pid, ppid;
			__u32 v = 0;
			FILE *f;
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			pid = strtoul(de->d_name, NULL, 10);
			snprintf(path, sizeof(path), "/proc/%u/stat", pid);
			if (!(f = fopen(path, "r")))
				continue;
			p = fgets(buf, sizeof(buf), f);
			fclose(f);
			if (!p || !(p = strrchr(buf, ')')) || sscanf(p, ") %*c %u", &ppid) != 1)
				continue;
			if (pid == root || bpf_map_lookup_elem(fd, &ppid, &v) < 0 ||
			    !(v & NERRF_TF_FOLLOW) || !(v & NERRF_TF_EXCLUDE))
				continue;
			if (bpf_map_lookup_elem(fd, &pid, &v) == 0 && (v & NERRF_TF_EXCLUDE))
				continue;
			set_tgid(fd, pid, NERRF_TF_EXCLUDE | NERRF_TF_FOLLOW);
			grew = true;
		}
		closedir(d);
	}
}

static int fill_filters(int fd, const struct opts *o)
{
	int rc = 0;

	/* Never trace ourselves: our own activity would feed back into the ring. */
	rc |= set_tgid(fd, getpid(), NERRF_TF_EXCLUDE);
	for (unsigned i = 0; i < o->npids; i++)
		rc |= set_tgid(fd, o->pids[i], NERRF_TF_INCLUDE | (o->follow ? NERRF_TF_FOLLOW : 0));
	for (unsigned i = 0; i < o->nxpids; i++)
		rc |= set_tgid(fd, o->xpids[i], NERRF_TF_EXCLUDE);
	for (unsigned i = 0; i < o->ntrees; i++)
		rc |= set_tgid(fd, o->trees[i], NERRF_TF_EXCLUDE | NERRF_TF_FOLLOW);
	for (unsigned i = 0; i < o->ntrees; i++)
		exclude_descendants(fd, o->trees[i]);
	if (rc) {
		log_warnx("filling the pid filter map: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* An enter and an exit per syscall, the fork, exec and exit hooks, and the
 * close, dup2, dup3, exec and exit hooks of the write and socket summaries. */
static struct bpf_link *links[2 * NR_SYSCALLS + 3 + 5];

/* Loaded and on a tracepoint of its own, not reached through tail calls. */
static bool attached(const struct nerrf_bpf *skel, const struct bpf_program *p)
{
	return bpf_program__autoload(p) && p != skel->progs.exit_common &&
	       p != skel->progs.exit_net && p != skel->progs.summary_common;
}

static int attach_all(struct nerrf_bpf *skel)
{
	struct bpf_program *p;
	unsigned n = 0;

	bpf_object__for_each_program(p, skel->obj) {
		if (!attached(skel, p))
			continue;
		if (n == sizeof(links) / sizeof(links[0])) {
			log_warnx("more programs to attach than links[] holds (%s); rebuild with a "
			    "larger table", bpf_program__name(p));
			return -1;
		}
		links[n] = bpf_program__attach(p);
		if (!links[n]) {
			log_warnx("attaching %s (%s): %s; is tracefs mounted and the tracepoint present?",
			    bpf_program__name(p), bpf_program__section_name(p), strerror(errno));
			return -1;
		}
		n++;
	}
	return 0;
}

void kernel_detach(void)
{
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		bpf_link__destroy(links[i]);
		links[i] = NULL;
	}
}

static const char *load_hint(int e)
{
	switch (e) {
	case EPERM:
	case EACCES:
		return "run as root or with CAP_BPF and CAP_PERFMON";
	case ENOMEM:
		return "the ring buffer or a map could not be created; try a smaller "
		       "--ringbuf-size or raise the memlock limit";
	case E2BIG:
		return "the verifier gave up on a program as too complex (log above); "
		       "report it with the kernel version";
	default:
		return "the verifier rejected a program (log above); report it with the kernel version";
	}
}

static size_t attached_programs(const struct nerrf_bpf *skel)
{
	struct bpf_program *p;
	size_t n = 0;

	bpf_object__for_each_program(p, skel->obj)
		n += attached(skel, p);
	return n;
}

/*
 * With --pin: 1 and fds if the pins of a collector with this very
 * configuration are there (nothing to load), 0 if we load afresh, -1 on error.
 */
static int reopen_pins(const struct nerrf_bpf *skel, const struct opts *o, char *pdir,
		       size_t len, struct pin_fds *fds)
{
	/* Everything loaded into the maps besides rodata, and the program count. */
	struct {
		size_t ringbuf_size, nprogs;
		unsigned pids[MAX_PIDS], xpids[MAX_PIDS], trees[MAX_PIDS];
		unsigned npids, nxpids, ntrees;
		bool follow;
	} extra;
	char msg[512] = "";
	int r;

	memset(&extra, 0, sizeof(extra));
	extra.ringbuf_size = o->ringbuf_size;
	extra.nprogs = attached_programs(skel);
	memcpy(extra.pids, o->pids, sizeof(extra.pids));
	memcpy(extra.xpids, o->xpids, sizeof(extra.xpids));
	memcpy(extra.trees, o->trees, sizeof(extra.trees));
	extra.npids = o->npids;
	extra.nxpids = o->nxpids;
	extra.ntrees = o->ntrees;
	extra.follow = o->follow;
	pin_dir(pdir, len, o->rundir, pin_stamp(skel, &extra, sizeof(extra)));
	if (pin_remove(o->rundir, pdir) > 0)
		log_info("removed programs pinned by an earlier collector of another version or "
		    "configuration for %s; loading afresh", o->rundir);
	r = pin_reopen(pdir, extra.nprogs, fds, msg, sizeof(msg));
	if (r < 0)
		log_warnx("%s; remove them with --cleanup and start again", msg);
	else if (r == 0 && msg[0])
		log_warnx("%s; loading afresh", msg);
	else if (r == 1)
		log_info("reopened the programs pinned at %s: capture went on while no collector ran",
		    pdir);
	return r;
}

/*
 * What the programs need beyond BTF, asked of the kernel's BTF before
 * loading, so that a kernel without it gets an answer instead of a verifier
 * log: the path walk reads the kernel's objects through bpf_rdonly_cast.
 */
static int check_features(void)
{
	struct btf *vm = btf__load_vmlinux_btf();
	int id;

	if (!vm) {
		log_warn("reading " BTF_PATH);
		return -1;
	}
	id = btf__find_by_name_kind(vm, "bpf_rdonly_cast", BTF_KIND_FUNC);
	btf__free(vm);
	if (id < 0) {
		log_warnx("this kernel lacks the BPF kfunc bpf_rdonly_cast (Linux 6.2 and later "
			  "have it), which the path resolution needs; run nerrf on Linux 6.2 or later");
		return -1;
	}
	return 0;
}

int kernel_setup(struct kernel *k, const struct opts *o)
{
	char msg[512], pdir[256];
	int e = 0;

	memset(k, 0, sizeof(*k));
	k->fds = (struct pin_fds){ -1, -1, -1, -1 };
	libbpf_set_print(libbpf_print);
	if (access(BTF_PATH, R_OK) < 0) {
		log_warnx(BTF_PATH " missing: this kernel has no BTF; boot a kernel with "
			  "CONFIG_DEBUG_INFO_BTF=y");
		return -1;
	}
	/* 38, 39: CAP_PERFMON, CAP_BPF (older headers lack the names) */
	if (!has_cap(38) || !has_cap(39) || !has_cap(CAP_SETUID) || !has_cap(CAP_SETGID)) {
		log_warnx("missing privileges: loading needs CAP_BPF and CAP_PERFMON, dropping them "
			  "needs CAP_SETUID, CAP_SETGID and CAP_SETPCAP; run as root (or under the "
			  "systemd unit)");
		return -1;
	}
	if (check_features() < 0 || ensure_tracefs() < 0)
		return -1;
	if (o->pin && pin_prepare(msg, sizeof(msg)) < 0) {
		log_warnx("%s", msg);
		return -1;
	}
	k->skel = nerrf_bpf__open();
	if (!k->skel) {
		log_warn("opening the BPF object");
		return -1;
	}
	configure(k->skel, o);
	if (bpf_map__set_max_entries(k->skel->maps.events, o->ringbuf_size) < 0 ||
	    choose_programs(k->skel, o) < 0)
		return -1;
	if (o->pin && (e = reopen_pins(k->skel, o, pdir, sizeof(pdir), &k->fds)) < 0)
		return -1;
	if (e == 1) {
		/* This configuration's filters, in the programs that went on running. */
		if (map_bss(k) < 0)
			return -1;
		kernel_apply(k, o);
		return fill_filters(k->fds.filter, o);
	}

	if (nerrf_bpf__load(k->skel) < 0) {
		e = errno;
		print_log_tail();
		log_warnx("loading the BPF programs: %s; %s", strerror(e), load_hint(e));
		return -1;
	}
	k->fds = (struct pin_fds){ .events = bpf_map__fd(k->skel->maps.events),
				   .counters = bpf_map__fd(k->skel->maps.counters),
				   .filter = bpf_map__fd(k->skel->maps.tgid_filter),
				   .conf = bpf_map__fd(k->skel->maps.bss) };
	/* loaded, the skeleton's bss is the map's own memory */
	k->bss = k->skel->bss;
	k->sweeping = &k->bss->collector_sweeping;
	kernel_apply(k, o);
	if (fill_filters(k->fds.filter, o) < 0 || attach_all(k->skel) < 0)
		return -1;
	k->fresh = true;
	k->attached_ns = nerrf_mono_ns();
	if (o->pin && pin_save(pdir, k->skel, links, sizeof(links) / sizeof(links[0]), msg,
			       sizeof(msg)) < 0) {
		log_warnx("%s", msg);
		return -1;
	}
	return 0;
}

void kernel_close(struct kernel *k)
{
	kernel_detach();
	if (k->bss_len)
		munmap(k->bss, k->bss_len);
	nerrf_bpf__destroy(k->skel);
}
