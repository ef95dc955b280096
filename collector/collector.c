/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-collector: the only privileged stage. Loads and attaches the BPF
 * programs, creates shm ring #1, drops every privilege, then copies records
 * from the BPF ring buffer into ring #1 verbatim and, once a second, the
 * kernel's loss counters as a stats record. It never waits for the encoder:
 * a full ring #1 is a counted drop.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The skeleton embeds the BPF object as one long string literal. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverlength-strings"
#include "nerrf.skel.h"
#pragma GCC diagnostic pop
#include "nerrf_bpf.h"
#include "nerrf_conf.h"
#include "nerrf_ops.h"
#include "nerrf_ring.h"
#include "nerrf_wire.h"
#include "privdrop.h"

#define PROG "nerrf-collector"
#define TRACEFS "/sys/kernel/tracing"
#define BTF_PATH "/sys/kernel/btf/vmlinux"
#define MAX_PIDS 64
/*
 * The kernel wakes us for an isolated event (see emit() in nerrf.bpf.c), and
 * for a busy CPU when 1/WAKEUP_FRACTION of the ring buffer is waiting or every
 * 4 x --wakeup-us. What arrives between two wakeups is swept by a
 * POLL_BUSY_MS poll while events flow; idle, we sleep POLL_IDLE_MS between
 * stats ticks.
 */
#define WAKEUP_FRACTION 16
#define POLL_BUSY_MS 1
#define POLL_IDLE_MS 250

/* The syscalls that can be traced, by their tracepoint name. */
static const char *const syscall_names[] = {
	"open", "openat", "openat2", "creat",
	"write", "pwrite64", "writev", "pwritev", "pwritev2",
	"rename", "renameat", "renameat2",
	"unlink", "unlinkat", "rmdir",
	"chmod", "fchmod", "fchmodat", "fchmodat2",
	"truncate", "ftruncate",
	"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
	"execve", "execveat",
};
#define NR_SYSCALLS (sizeof(syscall_names) / sizeof(syscall_names[0]))

struct opts {
	const char *rundir;
	size_t ring1_size;
	size_t ringbuf_size;
	mode_t ring_mode;
	const char *ring_group;
	const char *user;
	bool syscall_on[NR_SYSCALLS];
	unsigned pids[MAX_PIDS], npids;
	unsigned xpids[MAX_PIDS], nxpids;
	unsigned trees[MAX_PIDS], ntrees;
	bool follow;
	bool uid_on;
	unsigned uid;
	char comms[NERRF_MAX_COMMS][NERRF_COMM_LEN];
	unsigned ncomms;
	int comm_mode;
	unsigned long long cgroup;
	char prefixes[NERRF_MAX_PREFIXES][NERRF_PREFIX_MAX];
	unsigned nprefixes;
	unsigned sample_bytes;
	unsigned wakeup_us;
	bool all_writes;
	bool verbose;
};

static volatile sig_atomic_t stop;
static bool verbose;

/* The tail of libbpf's output (the verifier log), shown when loading fails. */
static char bpf_log[16384];
static size_t bpf_log_len;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static __attribute__((format(printf, 1, 2))) void err(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (verbose && level != LIBBPF_DEBUG)
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

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [options]\n"
"Loads the nerrf BPF programs, drops privileges and copies events into shm ring #1.\n"
"  --config FILE         configuration file ([collector] section; root-owned)\n"
"  --rundir DIR          where ring1 is created (default " NERRF_DEFAULT_RUNDIR ")\n"
"  --ring1-size BYTES    ring #1 data size, power of two, 4K..1G (default 64M)\n"
"  --ringbuf-size BYTES  BPF ring buffer size, power of two >= 4K (default 8M)\n"
"  --ring-mode MODE      ring1 file mode, octal (default 0660)\n"
"  --ring-group NAME     ring1 group (default: the --user's group)\n"
"  --user NAME           account to run as after loading (default nobody)\n"
"  --syscalls LIST       comma-separated syscalls to trace (default all)\n"
"  --pid PID             trace only these processes (repeatable)\n"
"  --exclude-pid PID     never trace this process (repeatable)\n"
"  --follow              --pid also covers children forked later\n"
"  --exclude-tree PID    never trace this process and its descendants (repeatable)\n"
"  --uid UID             trace only this uid\n"
"  --comm NAME           trace only these command names (repeatable, up to %d)\n"
"  --exclude-comm NAME   never trace these command names (repeatable)\n"
"  --cgroup ID|PATH      trace only this cgroup (v2 id or directory)\n"
"  --path-prefix PATH    trace only paths under these prefixes (repeatable, up to %d)\n"
"  --sample-bytes N      bytes of each write to sample, 0..256 (default 64)\n"
"  --wakeup-us N         an event this long after its CPU's previous one wakes us\n"
"                        at once; busy CPUs every 4x this. 0..100000 (default 250;\n"
"                        lower: less latency, more collector CPU)\n"
"  --all-writes          also trace writes to sockets, pipes and ttys\n"
"  --verbose             more messages\n"
"  --help                this text\n",
		NERRF_MAX_COMMS, NERRF_MAX_PREFIXES);
}

static int parse_uint(const char *flag, const char *s, unsigned long long max,
		      unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!isdigit((unsigned char)*s))
		goto bad;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	err("%s %s: not a number in 0..%llu", flag, s, max);
	return -1;
}

/* BYTES with an optional K, M or G suffix; a power of two in [min, max]. */
static int parse_pow2(const char *flag, const char *s, size_t min, size_t max, size_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = isdigit((unsigned char)*s) ? strtoull(s, &end, 10) : 0;
	if (v && (*end == 'K' || *end == 'k'))
		shift = 10, end++;
	else if (v && (*end == 'M' || *end == 'm'))
		shift = 20, end++;
	else if (v && (*end == 'G' || *end == 'g'))
		shift = 30, end++;
	if (!v || errno || *end || v > (max >> shift) || (v << shift) < min ||
	    ((v << shift) & ((v << shift) - 1))) {
		err("%s %s: want a power of two between %zu and %zu bytes (K/M/G suffixes allowed)",
		    flag, s, min, max);
		return -1;
	}
	*out = (size_t)(v << shift);
	return 0;
}

static int add_pid(const char *flag, const char *s, unsigned *arr, unsigned *n)
{
	unsigned long long v;

	if (parse_uint(flag, s, 4194304, &v) < 0)
		return -1;
	if (v == 0 || *n >= MAX_PIDS) {
		err("%s %s: want a pid > 0, at most %d of them", flag, s, MAX_PIDS);
		return -1;
	}
	arr[(*n)++] = (unsigned)v;
	return 0;
}

static int parse_syscalls(const char *list, bool *on)
{
	char buf[1024], *save = NULL;

	if (strlen(list) >= sizeof(buf)) {
		err("--syscalls: list too long");
		return -1;
	}
	strcpy(buf, list);
	memset(on, 0, NR_SYSCALLS * sizeof(*on));
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t i;
		if (strcmp(t, "all") == 0) {
			memset(on, 1, NR_SYSCALLS * sizeof(*on));
			continue;
		}
		for (i = 0; i < NR_SYSCALLS && strcmp(t, syscall_names[i]); i++)
			;
		if (i == NR_SYSCALLS) {
			err("--syscalls: unknown syscall '%s'; known: all, open, openat, openat2, "
			    "creat, write, pwrite64, writev, pwritev, pwritev2, rename, renameat, "
			    "renameat2, unlink, unlinkat, rmdir, chmod, fchmod, fchmodat, fchmodat2, "
			    "truncate, ftruncate, setxattr, lsetxattr, fsetxattr, removexattr, "
			    "lremovexattr, fremovexattr, execve, execveat", t);
			return -1;
		}
		on[i] = true;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_RUNDIR = 256, O_RING1, O_RINGBUF, O_MODE, O_GROUP, O_USER, O_SYSCALLS, O_PID,
	       O_XPID, O_FOLLOW, O_UID, O_COMM, O_XCOMM, O_CGROUP, O_PREFIX, O_SAMPLE, O_WAKEUP, O_TREE,
	       O_ALLW, O_VERBOSE, O_HELP, O_CONFIG };
	static const struct option lo[] = {
		{ "config", required_argument, 0, O_CONFIG },
		{ "rundir", required_argument, 0, O_RUNDIR },
		{ "ring1-size", required_argument, 0, O_RING1 },
		{ "ringbuf-size", required_argument, 0, O_RINGBUF },
		{ "ring-mode", required_argument, 0, O_MODE },
		{ "ring-group", required_argument, 0, O_GROUP },
		{ "user", required_argument, 0, O_USER },
		{ "syscalls", required_argument, 0, O_SYSCALLS },
		{ "pid", required_argument, 0, O_PID },
		{ "exclude-pid", required_argument, 0, O_XPID },
		{ "follow", no_argument, 0, O_FOLLOW },
		{ "uid", required_argument, 0, O_UID },
		{ "comm", required_argument, 0, O_COMM },
		{ "exclude-comm", required_argument, 0, O_XCOMM },
		{ "cgroup", required_argument, 0, O_CGROUP },
		{ "path-prefix", required_argument, 0, O_PREFIX },
		{ "sample-bytes", required_argument, 0, O_SAMPLE },
		{ "wakeup-us", required_argument, 0, O_WAKEUP },
		{ "exclude-tree", required_argument, 0, O_TREE },
		{ "all-writes", no_argument, 0, O_ALLW },
		{ "verbose", no_argument, 0, O_VERBOSE },
		{ "help", no_argument, 0, O_HELP },
		{ 0, 0, 0, 0 },
	};
	struct nerrf_conf_argv ca;
	char cerr[512];
	unsigned long long v;
	struct stat st;
	int c, rc = -1;

	*o = (struct opts){
		.rundir = NERRF_DEFAULT_RUNDIR,
		.ring1_size = 64u << 20,
		.ringbuf_size = 8u << 20,
		.ring_mode = 0660,
		.user = "nobody",
		.sample_bytes = 64,
		.wakeup_us = 250,
	};
	memset(o->syscall_on, 1, sizeof(o->syscall_on));

	/* The file is read as root: it must be root's alone (trusted_only). */
	if (nerrf_conf_load(argc, argv, "collector", lo, true, &ca, cerr, sizeof(cerr)) < 0) {
		err("%s", cerr);
		return -1;
	}
	optind = 1;
	while ((c = getopt_long(ca.argc, ca.argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_CONFIG:
			break;
		case O_RUNDIR:
			if (optarg[0] != '/' || strlen(optarg) > PATH_MAX - 16) {
				err("--rundir %s: want an absolute directory path", optarg);
				goto out;
			}
			o->rundir = optarg;
			break;
		case O_RING1:
			if (parse_pow2("--ring1-size", optarg, 4096, 1u << 30, &o->ring1_size) < 0)
				goto out;
			break;
		case O_RINGBUF:
			if (parse_pow2("--ringbuf-size", optarg, 4096, 1u << 30, &o->ringbuf_size) < 0)
				goto out;
			break;
		case O_MODE: {
			char *end;
			unsigned long m = strtoul(optarg, &end, 8);
			if (!*optarg || *end || m > 0777 || (m & 0007)) {
				err("--ring-mode %s: want an octal mode like 0660, without access for "
				    "others", optarg);
				goto out;
			}
			o->ring_mode = m;
			break;
		}
		case O_GROUP:
			o->ring_group = optarg;
			break;
		case O_USER:
			o->user = optarg;
			break;
		case O_SYSCALLS:
			if (parse_syscalls(optarg, o->syscall_on) < 0)
				goto out;
			break;
		case O_PID:
			if (add_pid("--pid", optarg, o->pids, &o->npids) < 0)
				goto out;
			break;
		case O_XPID:
			if (add_pid("--exclude-pid", optarg, o->xpids, &o->nxpids) < 0)
				goto out;
			break;
		case O_TREE:
			if (add_pid("--exclude-tree", optarg, o->trees, &o->ntrees) < 0)
				goto out;
			break;
		case O_FOLLOW:
			o->follow = true;
			break;
		case O_UID:
			if (parse_uint("--uid", optarg, 0xfffffffeu, &v) < 0)
				goto out;
			o->uid_on = true;
			o->uid = (unsigned)v;
			break;
		case O_COMM:
		case O_XCOMM: {
			int mode = c == O_COMM ? NERRF_COMM_INCLUDE : NERRF_COMM_EXCLUDE;
			if (o->comm_mode && o->comm_mode != mode) {
				err("--comm and --exclude-comm cannot be mixed; use one of them");
				goto out;
			}
			if (!*optarg || strlen(optarg) >= NERRF_COMM_LEN || o->ncomms >= NERRF_MAX_COMMS) {
				err("%s %s: want a name of 1..%d characters, at most %d names",
				    c == O_COMM ? "--comm" : "--exclude-comm", optarg,
				    NERRF_COMM_LEN - 1, NERRF_MAX_COMMS);
				goto out;
			}
			o->comm_mode = mode;
			strcpy(o->comms[o->ncomms++], optarg);
			break;
		}
		case O_CGROUP:
			if (optarg[0] == '/') {
				/* A cgroup v2 directory's inode number is its id. */
				if (stat(optarg, &st) < 0 || !S_ISDIR(st.st_mode)) {
					err("--cgroup %s: not a cgroup directory (%s); give its id or "
					    "a path under /sys/fs/cgroup", optarg, strerror(errno));
					goto out;
				}
				o->cgroup = st.st_ino;
			} else if (parse_uint("--cgroup", optarg, ~0ull, &o->cgroup) < 0 ||
				   !o->cgroup) {
				err("--cgroup %s: want a cgroup id > 0 or a directory", optarg);
				goto out;
			}
			break;
		case O_PREFIX:
			if (optarg[0] != '/' || strlen(optarg) >= NERRF_PREFIX_MAX ||
			    o->nprefixes >= NERRF_MAX_PREFIXES) {
				err("--path-prefix %s: want an absolute path shorter than %d bytes, "
				    "at most %d prefixes", optarg, NERRF_PREFIX_MAX, NERRF_MAX_PREFIXES);
				goto out;
			}
			strcpy(o->prefixes[o->nprefixes++], optarg);
			break;
		case O_SAMPLE:
			if (parse_uint("--sample-bytes", optarg, NERRF_DATA_MAX, &v) < 0)
				goto out;
			o->sample_bytes = (unsigned)v;
			break;
		case O_WAKEUP:
			if (parse_uint("--wakeup-us", optarg, 100000, &v) < 0)
				goto out;
			o->wakeup_us = (unsigned)v;
			break;
		case O_ALLW:
			o->all_writes = true;
			break;
		case O_VERBOSE:
			o->verbose = true;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind != ca.argc) {
		err("unexpected argument '%s'; see --help", ca.argv[optind]);
		goto out;
	}
	if (o->follow && !o->npids) {
		err("--follow needs --pid");
		goto out;
	}
	rc = 0;
out:
	/* optarg strings point into ca: keep them for the process's lifetime. */
	if (rc < 0)
		nerrf_conf_free(&ca);
	return rc;
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
		err("tracefs is not mounted at " TRACEFS " and mounting it failed: %s; mount it "
		    "(mount -t tracefs tracefs " TRACEFS ") or run with CAP_SYS_ADMIN", strerror(errno));
		return -1;
	}
	if (access(TRACEFS "/events/syscalls", F_OK) < 0) {
		err(TRACEFS "/events/syscalls missing: this kernel lacks CONFIG_FTRACE_SYSCALLS; "
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
		bool on = o->syscall_on[i];
		snprintf(path, sizeof(path), TRACEFS "/events/syscalls/sys_enter_%s", syscall_names[i]);
		if (on && access(path, F_OK) < 0) {
			err("warning: tracepoint syscalls/sys_enter_%s missing on this kernel; "
			    "%s is not traced", syscall_names[i], syscall_names[i]);
			on = false;
		}
		for (int exit = 0; exit < 2; exit++) {
			snprintf(name, sizeof(name), "%s_%s", exit ? "exit" : "enter", syscall_names[i]);
			struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, name);
			if (!p) {
				err("BPF program %s missing from the object; rebuild", name);
				return -1;
			}
			bpf_program__set_autoload(p, on);
		}
		n += on;
	}
	if (!n) {
		err("no syscall left to trace; check --syscalls");
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

	r->sample_bytes = o->sample_bytes;
	r->wakeup_bytes = o->ringbuf_size / WAKEUP_FRACTION;
	r->wakeup_ns = (__u64)o->wakeup_us * 1000;
	r->all_writes = o->all_writes;
	r->pid_include = o->npids > 0;
	r->uid_on = o->uid_on;
	r->uid_val = o->uid;
	r->cgroup_val = o->cgroup;
	r->comm_mode = o->comm_mode;
	r->ncomms = o->ncomms;
	memcpy((void *)r->comms, o->comms, sizeof(o->comms));
	r->nprefixes = o->nprefixes;
	for (unsigned i = 0; i < o->nprefixes; i++)
		r->prefix_len[i] = strlen(o->prefixes[i]);
	memcpy((void *)r->prefixes, o->prefixes, sizeof(o->prefixes));
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

static int fill_filters(struct nerrf_bpf *skel, const struct opts *o)
{
	int fd = bpf_map__fd(skel->maps.tgid_filter);
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
		err("filling the pid filter map: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static struct bpf_link *links[2 * NR_SYSCALLS + 2];

static int attach_all(struct nerrf_bpf *skel)
{
	struct bpf_program *p;
	unsigned n = 0;

	bpf_object__for_each_program(p, skel->obj) {
		/* exit_common runs through a tail call, not a tracepoint. */
		if (!bpf_program__autoload(p) || p == skel->progs.exit_common ||
		    n >= sizeof(links) / sizeof(links[0]))
			continue;
		links[n] = bpf_program__attach(p);
		if (!links[n]) {
			err("attaching %s (%s): %s; is tracefs mounted and the tracepoint present?",
			    bpf_program__name(p), bpf_program__section_name(p), strerror(errno));
			return -1;
		}
		n++;
	}
	return 0;
}

static void detach_all(void)
{
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		bpf_link__destroy(links[i]);
		links[i] = NULL;
	}
}

struct drain {
	struct nerrf_ring *ring;
	__u64 dropped;   /* records ring #1 had no room for */
	__u64 malformed; /* records from the kernel that failed the size checks */
};

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
	return 0;
}

struct stats {
	int fd;
	int ncpu;
	struct nerrf_kcounters *percpu; /* ncpu entries */
	struct nerrf_kstats *rec;
	size_t rec_size;
	__u64 seq;
};

static int stats_init(struct stats *s, struct nerrf_bpf *skel)
{
	s->fd = bpf_map__fd(skel->maps.counters);
	s->ncpu = libbpf_num_possible_cpus();
	if (s->ncpu <= 0) {
		err("cannot count possible CPUs: %s", strerror(-s->ncpu));
		return -1;
	}
	s->percpu = calloc(s->ncpu, sizeof(*s->percpu));
	s->rec_size = sizeof(*s->rec) + s->ncpu * sizeof(__u64);
	s->rec = calloc(1, s->rec_size);
	if (!s->percpu || !s->rec) {
		err("out of memory");
		return -1;
	}
	return 0;
}

static void stats_emit(struct stats *s, struct drain *d)
{
	struct nerrf_kstats *k = s->rec;
	struct timespec ts;
	__u32 zero = 0;
	void *dst;

	if (bpf_map_lookup_elem(s->fd, &zero, s->percpu) < 0) {
		err("reading the kernel counters: %s", strerror(errno));
		return;
	}
	memset(k, 0, s->rec_size);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	k->hdr.type = NERRF_REC_STATS;
	k->hdr.size = s->rec_size;
	k->ts_ns = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	k->seq = s->seq++;
	k->ring1_dropped = d->dropped + d->malformed;
	k->nr_cpus = s->ncpu;
	for (int c = 0; c < s->ncpu; c++) {
		const struct nerrf_kcounters *pc = &s->percpu[c];
		k->kernel_emitted += pc->seq;
		k->kernel_filtered += pc->filtered;
		for (int op = 0; op < NERRF_OP_MAX; op++) {
			k->kernel_lost[op] += pc->lost[op];
			k->lost_by_cpu[c] += pc->lost[op];
		}
	}
	dst = nerrf_ring_reserve(d->ring, s->rec_size);
	if (!dst) {
		/*
		 * Not counted: ring1_dropped counts events, like kernel_emitted, so
		 * that emitted = delivered + lost holds exactly; and the next stats
		 * record carries these cumulative counters anyway.
		 */
		return;
	}
	memcpy(dst, k, s->rec_size);
	nerrf_ring_commit(d->ring);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
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

#ifdef __SANITIZE_ADDRESS__
/*
 * LeakSanitizer's check at exit stops the world with syscalls the seccomp
 * filter refuses (clone, ptrace, mprotect) and then hangs in its own error
 * path; the sanitizer builds check the collector's memory with ASan alone.
 */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return 1;
}
#endif

int main(int argc, char **argv)
{
	struct opts o;
	struct nerrf_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct drain d = { 0 };
	struct stats st = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	char path[PATH_MAX], msg[512];
	const char *rmsg = NULL;
	uid_t uid;
	gid_t gid;
	__u64 next_stats;
	int rc = 1, e;

	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	verbose = o.verbose;
	libbpf_set_print(libbpf_print);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (access(BTF_PATH, R_OK) < 0) {
		err(BTF_PATH " missing: this kernel has no BTF; boot a kernel with "
		    "CONFIG_DEBUG_INFO_BTF=y");
		goto out;
	}
	/* 38, 39: CAP_PERFMON, CAP_BPF (older headers lack the names) */
	if (!has_cap(38) || !has_cap(39) || !has_cap(CAP_SETUID) || !has_cap(CAP_SETGID)) {
		err("missing privileges: loading needs CAP_BPF and CAP_PERFMON, dropping them needs "
		    "CAP_SETUID, CAP_SETGID and CAP_SETPCAP; run as root (or under the systemd unit)");
		goto out;
	}
	if (nerrf_privdrop_lookup(o.user, o.ring_group, &uid, &gid, msg, sizeof(msg)) < 0) {
		err("%s", msg);
		goto out;
	}
	if (ensure_tracefs() < 0)
		goto out;

	skel = nerrf_bpf__open();
	if (!skel) {
		err("opening the BPF object: %s", strerror(errno));
		goto out;
	}
	configure(skel, &o);
	if (bpf_map__set_max_entries(skel->maps.events, o.ringbuf_size) < 0 ||
	    choose_programs(skel, &o) < 0)
		goto out;
	if (nerrf_bpf__load(skel) < 0) {
		e = errno;
		print_log_tail();
		err("loading the BPF programs: %s; %s", strerror(e), load_hint(e));
		goto out;
	}
	if (fill_filters(skel, &o) < 0 || attach_all(skel) < 0)
		goto out;

	if (mkdir(o.rundir, 0750) < 0 && errno != EEXIST) {
		err("--rundir %s: %s; create it or choose another", o.rundir, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", o.rundir, NERRF_RING1_NAME);
	e = nerrf_ring_open_producer(path, o.ring1_size, o.ring_mode, &d.ring, &rmsg);
	if (e < 0) {
		err("creating %s: %s; %s", path, strerror(-e), rmsg ? rmsg : "check --rundir");
		goto out;
	}
	if (!nerrf_ring_dir_in_memory(o.rundir))
		err("warning: %s is on a disk filesystem: writeback of the rings stalls the "
		    "pipeline for tens of ms at a time; use a tmpfs --rundir (e.g. under /run or "
		    "/dev/shm)", o.rundir);
	if (chown(path, uid, gid) < 0 || chmod(path, o.ring_mode) < 0) {
		err("giving %s to uid %u gid %u: %s", path, (unsigned)uid, (unsigned)gid,
		    strerror(errno));
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_record, &d, NULL);
	if (!rb) {
		err("setting up the ring buffer reader: %s", strerror(errno));
		goto out;
	}
	if (stats_init(&st, skel) < 0)
		goto out;

	if (nerrf_privdrop(uid, gid, msg, sizeof(msg)) < 0) {
		err("dropping privileges: %s", msg);
		goto out;
	}
	fprintf(stderr, PROG ": ready: pid %d, ring %s, uid %u\n", getpid(), path, (unsigned)uid);

	next_stats = now_ns();
	int timeout = POLL_IDLE_MS;
	while (!stop) {
		/* poll() only reads after a wakeup; consume() takes what waits below
		 * the wakeup threshold. */
		int n = ring_buffer__poll(rb, timeout);
		if (n >= 0) {
			int m = ring_buffer__consume(rb);
			n = m < 0 ? m : n + m;
		}
		timeout = n > 0 ? POLL_BUSY_MS : POLL_IDLE_MS;
		if (n < 0 && n != -EINTR) {
			err("polling the ring buffer: %s", strerror(-n));
			goto out;
		}
		if (now_ns() >= next_stats) {
			stats_emit(&st, &d);
			next_stats += 1000000000ull;
		}
		nerrf_ring_publish(d.ring);
	}
	/* Detach first, so the totals below count exactly what reached ring #1. */
	detach_all();
	ring_buffer__consume(rb);
	stats_emit(&st, &d);
	nerrf_ring_publish(d.ring);
	rc = 0;
out:
	ring_buffer__free(rb);
	detach_all();
	nerrf_bpf__destroy(skel);
	if (d.ring)
		nerrf_ring_close(d.ring);
	free(st.percpu);
	free(st.rec);
	return rc;
}
