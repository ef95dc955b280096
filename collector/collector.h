/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's parts, by phase: options.c reads the command line and the
 * root-owned configuration; kernel.c does everything with root's powers on
 * the BPF side (load or reopen, filters, attach, pin); collector.c drops the
 * privileges; drain.c is the loop that runs after that. Beside it only a
 * SIGHUP's reload_opts and kernel_apply (map writes through fds already
 * open) and, at the end, kernel_detach and kernel_close run unprivileged.
 */
#ifndef NERRF_COLLECTOR_H
#define NERRF_COLLECTOR_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "nerrf_bpf.h"
#include "nerrf_event.h"
#include "nerrf_ops.h"
#include "nerrf_time.h"
#include "pin.h"

#define PROG "nerrf-collector"
#define MAX_PIDS 64

/* The traced syscalls are the ops from open to execveat, then from connect
 * to listen, by tracepoint name. */
#define FIRST_SYSCALL NERRF_OP_OPEN
#define NR_FILE_SYSCALLS (NERRF_OP_EXECVEAT - NERRF_OP_OPEN + 1)
#define NR_NET_SYSCALLS (NERRF_OP_LISTEN - NERRF_OP_CONNECT + 1)
#define NR_SYSCALLS (NR_FILE_SYSCALLS + NR_NET_SYSCALLS)
_Static_assert(NR_SYSCALLS < 64, "struct opts keeps the traced syscalls as bits");
#define syscall_op(i) ((unsigned)(i) < NR_FILE_SYSCALLS ? FIRST_SYSCALL + (unsigned)(i) :      \
		       NERRF_OP_CONNECT + (unsigned)(i) - NR_FILE_SYSCALLS)
#define syscall_name(i) nerrf_op_name(syscall_op(i))

struct opts {
	const char *rundir;
	size_t ring1_size;
	size_t ringbuf_size;
	mode_t ring_mode;
	const char *ring_group;
	const char *user;
	unsigned long long syscalls; /* bit i: syscall_op(i) is traced */
	unsigned pids[MAX_PIDS], npids;
	unsigned xpids[MAX_PIDS], nxpids;
	unsigned trees[MAX_PIDS], ntrees;
	bool follow;
	/*
	 * What a reload changes in the running programs, copied whole: a key
	 * added here cannot be left out of the reload (the network filters once
	 * were).
	 */
	struct live_opts {
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
		unsigned net_families; /* NERRF_NF_* */
		bool net_loopback;
		unsigned short ports[NERRF_MAX_PORTS];
		unsigned nports;
	} live;
	bool verbose;
	bool pin;
	bool cleanup;
	bool check; /* --check-config */
};

/* options.c */
int parse_opts(int argc, char **argv, struct opts *o);
/* --check-config: the options in force, as a [collector] section. */
void print_opts(const struct opts *o);
/*
 * SIGHUP: reads the [collector] section again (through conf_dir, the
 * directory held since the start; -1: none) and copies the keys that can
 * change live into o. 1 when one changed, 0 when none did, -1 when the file
 * is invalid (o untouched; the message names file, line and key).
 */
int reload_opts(int conf_dir, struct opts *o);

/* kernel.c */
struct nerrf_bpf;
struct nerrf_bpf__bss;
struct kernel {
	struct nerrf_bpf *skel;
	struct pin_fds fds;
	bool fresh;            /* we loaded and attached the programs (not reopened pins) */
	unsigned long long attached_ns;
	struct nerrf_bpf__bss *bss; /* the programs' live filters, mapped */
	size_t bss_len;        /* when we mapped it ourselves (reopened pins) */
	unsigned *sweeping;    /* the programs' collector_sweeping; NULL in pins older than it */
	unsigned long long flipped_ns; /* the last kernel_apply() */
};
/* BTF, capabilities, tracefs; then the programs loaded and attached, or their pins reopened. */
int kernel_setup(struct kernel *k, const struct opts *o);
/*
 * Puts o's live filters (comm, uid, cgroup, path prefixes, sample size,
 * wakeup, all-writes) in force in the running programs; a program sees the
 * old set or the new one, whole. Memory writes only: works after the drop.
 */
void kernel_apply(struct kernel *k, const struct opts *o);
/* --wakeup-us as the programs have it now, in ns */
unsigned long long kernel_wakeup_ns(const struct kernel *k);
/* So that a final count covers exactly what reached ring #1 (pins stay attached). */
void kernel_detach(void);
void kernel_close(struct kernel *k);

/* drain.c */
struct nerrf_ring_prod;
struct nerrf_ring_server;
struct drain;
/* Everything the loop needs, set up while we still hold privileges. */
struct drain *drain_new(const struct kernel *k, struct nerrf_ring_prod *ring,
			struct nerrf_ring_server *srv);
/* Copies kernel records into ring #1 until *stop (0), or *reload (1): call it again after. */
int drain_run(struct drain *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);
/* After kernel_detach(): the last records and the final stats record. */
void drain_finish(struct drain *d);
void drain_free(struct drain *d);

#endif /* NERRF_COLLECTOR_H */
