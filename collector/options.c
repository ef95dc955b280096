/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's options: from the command line and the [collector]
 * section of a configuration file that only root can write, read before
 * anything else happens. Numbers go through the shared parser.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collector.h"
#include "nerrf_conf.h"
#include "nerrf_log.h"
#include "nerrf_opt.h"
#include "nerrf_parse.h"
#include "nerrf_version.h"
#include "nerrf_wire.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [options]\n"
"Loads the nerrf BPF programs, drops privileges and copies events into shm ring #1.\n"
"  --config FILE         configuration file ([collector] section; root-owned)\n"
"  --rundir DIR          where ring1.sock is served (default " NERRF_DEFAULT_RUNDIR ";\n"
"                        must exist, owned by the --user)\n"
"  --ring1-size BYTES    ring #1 data size, power of two, 4K..1G (default 64M)\n"
"  --ringbuf-size BYTES  BPF ring buffer size, power of two >= 4K (default 8M)\n"
"  --ring-mode MODE      ring1.sock mode, octal (default 0660)\n"
"  --ring-group NAME     ring1.sock group (default: the --user's group)\n"
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
"  --net-family LIST     network events for these socket families: inet, inet6,\n"
"                        unix (paths of unix sockets); default inet,inet6\n"
"  --net-port PORT       network events only where the local or remote port is\n"
"                        one of these (repeatable, up to %d)\n"
"  --net-loopback        also network events with loopback peers (127.0.0.0/8,\n"
"                        ::1), left out by default\n"
"  --pin                 keep the programs attached and their maps pinned in bpffs\n"
"                        when the collector dies, and reopen them at restart:\n"
"                        capture goes on in between (see --cleanup)\n"
"  --cleanup             remove what --pin left for --rundir (detaching the\n"
"                        programs), then exit; for whoever stops us for good\n"
"  --verbose             more messages\n"
"  --check-config        print the configuration in force (file and flags), then exit\n"
"  --version             the version, then exit\n"
"  --help                this text\n",
		NERRF_MAX_COMMS, NERRF_MAX_PREFIXES, NERRF_MAX_PORTS);
}

/* --syscalls by index (collector.h), filled before the first parse */
static const char *syscall_names[NR_SYSCALLS];
/* by bit: NERRF_NF_INET, NERRF_NF_INET6, NERRF_NF_UNIX */
static const char *const families[] = { "inet", "inet6", "unix" };

static int parse_rundir(void *p, const char *arg, char *err, size_t errlen)
{
	if (arg[0] != '/' || strlen(arg) > PATH_MAX - 16) {
		snprintf(err, errlen, "--rundir %s: want an absolute directory path", arg);
		return -1;
	}
	((struct opts *)p)->rundir = arg;
	return 0;
}

static int parse_uid(void *p, const char *arg, char *err, size_t errlen)
{
	struct opts *o = p;
	uint64_t v;

	if (nerrf_parse_uint("--uid", arg, 0, 0xfffffffeu, &v, err, errlen) < 0)
		return -1;
	o->live.uid_on = true;
	o->live.uid = (unsigned)v;
	return 0;
}

static int add_comm(struct opts *o, int mode, const char *arg, char *err, size_t errlen)
{
	if (o->live.comm_mode && o->live.comm_mode != mode) {
		snprintf(err, errlen, "--comm and --exclude-comm cannot be mixed; use one of them");
		return -1;
	}
	if (!*arg || strlen(arg) >= NERRF_COMM_LEN || o->live.ncomms >= NERRF_MAX_COMMS) {
		snprintf(err, errlen, "%s %s: want a name of 1..%d characters, at most %d names",
			 mode == NERRF_COMM_INCLUDE ? "--comm" : "--exclude-comm", arg,
			 NERRF_COMM_LEN - 1, NERRF_MAX_COMMS);
		return -1;
	}
	o->live.comm_mode = mode;
	strcpy(o->live.comms[o->live.ncomms++], arg);
	return 0;
}

static int parse_comm(void *p, const char *arg, char *err, size_t errlen)
{
	return add_comm(p, NERRF_COMM_INCLUDE, arg, err, errlen);
}

static int parse_xcomm(void *p, const char *arg, char *err, size_t errlen)
{
	return add_comm(p, NERRF_COMM_EXCLUDE, arg, err, errlen);
}

static int parse_cgroup(void *p, const char *arg, char *err, size_t errlen)
{
	struct opts *o = p;
	struct stat st;
	uint64_t v;

	if (arg[0] == '/') {
		/* A cgroup v2 directory's inode number is its id. */
		if (stat(arg, &st) < 0 || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "--cgroup %s: not a cgroup directory (%s); give its id or "
				 "a path under /sys/fs/cgroup", arg, strerror(errno));
			return -1;
		}
		o->live.cgroup = st.st_ino;
	} else if (nerrf_parse_uint("--cgroup", arg, 1, UINT64_MAX, &v, err, errlen) < 0) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, " (or a cgroup directory)");
		return -1;
	} else {
		o->live.cgroup = v;
	}
	return 0;
}

static int parse_prefix(void *p, const char *arg, char *err, size_t errlen)
{
	struct opts *o = p;

	if (arg[0] != '/' || strlen(arg) >= NERRF_PREFIX_MAX || o->live.nprefixes >= NERRF_MAX_PREFIXES) {
		snprintf(err, errlen, "--path-prefix %s: want an absolute path shorter than %d bytes, "
			 "at most %d prefixes", arg, NERRF_PREFIX_MAX, NERRF_MAX_PREFIXES);
		return -1;
	}
	strcpy(o->live.prefixes[o->live.nprefixes++], arg);
	return 0;
}

/* An action of the command line, not a setting: --check-config does not show it. */
static int opt_cleanup(void *p, const char *arg, char *err, size_t errlen)
{
	(void)arg, (void)err, (void)errlen;
	((struct opts *)p)->cleanup = true;
	return 0;
}

#define O struct opts
/* The options; also the [collector] keys. */
static const struct nerrf_opt table[] = {
	NOPT_IGNORE("config"),
	NOPT_FN("rundir", parse_rundir),
	NOPT_SIZE("ring1-size", O, ring1_size, 4096, 1u << 30, true),
	NOPT_SIZE("ringbuf-size", O, ringbuf_size, 4096, 1u << 30, true),
	/* Others' bits would hand every local user the event stream. */
	NOPT_MODE("ring-mode", O, ring_mode, 0007),
	NOPT_STR("ring-group", O, ring_group),
	NOPT_STR("user", O, user),
	NOPT_NAMES("syscalls", O, syscalls, syscall_names),
	NOPT_UINTS("pid", O, pids, npids, 1, 4194304),
	NOPT_UINTS("exclude-pid", O, xpids, nxpids, 1, 4194304),
	NOPT_FLAG("follow", O, follow),
	NOPT_FN("uid", parse_uid),
	NOPT_FN("comm", parse_comm),
	NOPT_FN("exclude-comm", parse_xcomm),
	NOPT_FN("cgroup", parse_cgroup),
	NOPT_FN("path-prefix", parse_prefix),
	NOPT_UINT("sample-bytes", O, live.sample_bytes, 0, NERRF_DATA_MAX),
	NOPT_DURATION("wakeup-us", O, live.wakeup_us, NERRF_US, 0, 100000),
	NOPT_UINTS("exclude-tree", O, trees, ntrees, 1, 4194304),
	NOPT_FLAG("all-writes", O, live.all_writes),
	NOPT_NAMES("net-family", O, live.net_families, families),
	NOPT_UINTS("net-port", O, live.ports, live.nports, 1, 65535),
	NOPT_FLAG("net-loopback", O, live.net_loopback),
	NOPT_FLAG("verbose", O, verbose),
	NOPT_FLAG("pin", O, pin),
	NOPT_ACTION("cleanup", opt_cleanup),
	NOPT_HELP(usage),
	NOPT_VERSION(PROG),
	NOPT_FLAG("check-config", O, check),
	NOPT_END,
};
#undef O

/* What a reload changes in the running programs (kernel_apply); the rest takes a restart. */
static const char *const live_keys[] = {
	"comm", "exclude-comm", "uid", "cgroup", "path-prefix", "sample-bytes", "wakeup-us",
	"all-writes", "net-family", "net-port", "net-loopback", "verbose", NULL,
};

static int check(void *p)
{
	const struct opts *o = p;

	if (o->follow && !o->npids) {
		log_warnx("--follow needs --pid");
		return -1;
	}
	return 0;
}

static const struct opts defaults = {
	.rundir = NERRF_DEFAULT_RUNDIR,
	.ring1_size = 64u << 20,
	.ringbuf_size = 8u << 20,
	.ring_mode = 0660,
	.user = "nobody",
	.syscalls = (1ull << NR_SYSCALLS) - 1,
	.live.sample_bytes = 64,
	.live.wakeup_us = 250,
	.live.net_families = NERRF_NF_INET | NERRF_NF_INET6,
};

/* The file is read as root: it must be root's alone. */
static struct nerrf_optset set = {
	.section = "collector", .table = table, .defaults = &defaults, .size = sizeof(defaults),
	.live = live_keys, .trusted_only = true, .check = check,
};

int parse_opts(int argc, char **argv, struct opts *o)
{
	for (size_t i = 0; i < NR_SYSCALLS; i++)
		syscall_names[i] = syscall_name(i);
	if (nerrf_opt_start(&set, argc, argv, o) == 0)
		return 0;
	/*
	 * Stopping for good must not depend on the file: nerrf run's --cleanup
	 * after a SIGHUP that brought an invalid file would leave every program
	 * attached. The command line names the rundir.
	 */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--cleanup") == 0) {
			log_warnx("--cleanup: going on with the command line alone");
			return nerrf_opt_read(&set, NERRF_OPT_NOFILE, o, &set.boot);
		}
	return -1;
}

/* The table's own kinds by nerrf_opt_show; the options parsed by our functions here. */
void print_opts(const struct opts *o)
{
	nerrf_opt_show(&set, o);
	printf("rundir = %s\n", o->rundir);
	if (o->live.uid_on)
		printf("uid = %u\n", o->live.uid);
	for (unsigned i = 0; i < o->live.ncomms; i++)
		printf("%s = %s\n", o->live.comm_mode == NERRF_COMM_INCLUDE ? "comm" : "exclude-comm",
		       o->live.comms[i]);
	if (o->live.cgroup)
		printf("cgroup = %llu\n", o->live.cgroup);
	for (unsigned i = 0; i < o->live.nprefixes; i++)
		printf("path-prefix = %s\n", o->live.prefixes[i]);
}

int reload_opts(int conf_dir, struct opts *o)
{
	struct nerrf_conf_argv next;
	struct opts n;

	if (nerrf_opt_reload(&set, conf_dir, &n, &next) < 0)
		return -1;
	/* By value only: what points into next (rundir, user ...) takes a restart. */
	o->live = n.live;
	o->verbose = n.verbose;
	return nerrf_opt_take(&set, &next) > 0;
}
