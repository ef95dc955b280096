/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The encoder's seccomp allowlist, installed once ring #2 is served and
 * before it waits for ring #1: what the encode loop, taking ring #1 (again,
 * when the collector restarts), serving ring #2, the cgroup walk and the exit
 * path make, found by running the tests under the filter.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "encoder.h"
#include "nerrf_seccomp.h"

/* Opening never creates or truncates a file. */
#define OPEN_NEVER (O_CREAT | O_TRUNC | (O_TMPFILE & ~O_DIRECTORY))

static const struct nerrf_sc_rule encoder_rules[] = {
	/* The rings: waits and wake-ups, time for batching and stats. */
	NERRF_SC_ALLOW(__NR_futex),
	NERRF_SC_ALLOW(__NR_clock_gettime),
	NERRF_SC_ALLOW(__NR_clock_nanosleep),
	NERRF_SC_ALLOW(__NR_nanosleep),
	/* Walking the cgroup tree to name containers: opens of existing
	 * directories and files. */
	NERRF_SC_ALLOW_NONE(__NR_openat, 2, OPEN_NEVER),
	NERRF_SC_ALLOW(__NR_fstat),
	NERRF_SC_ALLOW(__NR_newfstatat),
	NERRF_SC_ALLOW(__NR_getdents64),
	NERRF_SC_ALLOW(__NR_close),
	/* fdopendir() reads a directory's flags; a ring memfd gets its seals. */
	NERRF_SC_ALLOW(__NR_fcntl),
	/* Ring mappings and malloc. */
	NERRF_SC_MEMORY,
	/* Messages on stderr. */
	NERRF_SC_ALLOW(__NR_write),
	/* SIGHUP: the configuration read again (opened as above, never written). */
	NERRF_SC_ALLOW(__NR_read),
	/* Rings handed over as sealed memfds on unix sockets (SCM_RIGHTS): taking
	 * ring #1 (socket, connect, recvmsg; recv peeks whether the collector is
	 * gone; SIGIO to this thread says so at once) and handing ring #2 to a
	 * publisher (accept4, sendmsg). */
	NERRF_SC_ALLOW_EQ(__NR_socket, 0, AF_UNIX),
	NERRF_SC_ALLOW(__NR_accept4),
	NERRF_SC_ALLOW(__NR_connect),
	NERRF_SC_ALLOW(__NR_sendmsg),
	NERRF_SC_ALLOW(__NR_recvmsg),
	NERRF_SC_ALLOW(__NR_recvfrom),
	NERRF_SC_ALLOW(__NR_gettid),
	NERRF_SC_ALLOW(__NR_ppoll),
#ifdef __NR_poll
	NERRF_SC_ALLOW(__NR_poll),
#endif
	/* Readiness, watchdog and status (common/nerrf_notify.c): an AF_UNIX
	 * datagram socket, sendmsg above, close. */
	/* Signals and leaving. */
	NERRF_SC_ALLOW(__NR_rt_sigreturn),
	NERRF_SC_ALLOW(__NR_rt_sigprocmask),
	NERRF_SC_ALLOW(__NR_restart_syscall),
	NERRF_SC_ALLOW(__NR_getpid),
	NERRF_SC_ALLOW(__NR_exit),
	NERRF_SC_ALLOW(__NR_exit_group),
};

int enc_sandbox(char *err, size_t errlen)
{
	return nerrf_seccomp_install(encoder_rules, sizeof(encoder_rules) / sizeof(encoder_rules[0]),
				     err, errlen);
}
