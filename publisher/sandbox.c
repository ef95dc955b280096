/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The publisher's seccomp allowlist, installed once its listeners, journal
 * and replay thread are up and before it waits for ring #2; TSYNC binds
 * nng's threads too. What the publish loop, nng's pollers and timers, taking
 * ring #2 (again, when the encoder restarts), the journal, replay and the
 * exit path make, found by running the tests under the filter.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "nerrf_seccomp.h"
#include "sandbox.h"

static const struct nerrf_sc_rule publisher_rules[] = {
	/* Ring #2 waits, nng's condition variables and timers. */
	NERRF_SC_ALLOW(__NR_futex),
	NERRF_SC_ALLOW(__NR_clock_gettime),
	NERRF_SC_ALLOW(__NR_clock_nanosleep),
	NERRF_SC_ALLOW(__NR_nanosleep),
	/* The journal: segments made, written, synced through io_uring, cut back
	 * after a torn write, the oldest removed; read back for replay. Only in
	 * its own directory, which the journal holds open. */
	NERRF_SC_ALLOW(__NR_openat),
	NERRF_SC_ALLOW(__NR_io_uring_enter),
	NERRF_SC_ALLOW(__NR_pread64),
	NERRF_SC_ALLOW(__NR_pwrite64),
	NERRF_SC_ALLOW(__NR_ftruncate),
	NERRF_SC_ALLOW(__NR_unlinkat),
	NERRF_SC_ALLOW(__NR_getdents64),
	NERRF_SC_ALLOW(__NR_lseek),
	NERRF_SC_ALLOW(__NR_fstat),
	NERRF_SC_ALLOW(__NR_newfstatat),
	NERRF_SC_ALLOW(__NR_close),
	/* Ring mappings and malloc (nng's threads grow arenas). */
	NERRF_SC_MEMORY,
	/* nng's poller: subscribers connecting, sending and leaving. */
#ifdef __NR_epoll_wait
	NERRF_SC_ALLOW(__NR_epoll_wait),
#endif
	NERRF_SC_ALLOW(__NR_epoll_pwait),
	NERRF_SC_ALLOW(__NR_epoll_ctl),
	NERRF_SC_ALLOW(__NR_accept),
	NERRF_SC_ALLOW(__NR_accept4),
	NERRF_SC_ALLOW(__NR_read),
	NERRF_SC_ALLOW(__NR_write),
	NERRF_SC_ALLOW(__NR_readv),
	NERRF_SC_ALLOW(__NR_sendmsg),
	NERRF_SC_ALLOW(__NR_recvmsg),
	/* TCP_NODELAY on accepted tcp connections. */
	NERRF_SC_ALLOW(__NR_setsockopt),
	NERRF_SC_ALLOW(__NR_shutdown),
	/* Accepted connections made non-blocking; a ring memfd's seals checked. */
	NERRF_SC_ALLOW(__NR_fcntl),
	/* Pipe ids, and TLS: mbed TLS reseeds its generator. */
	NERRF_SC_ALLOW(__NR_getrandom),
	/* Ring #2 handed over as a sealed memfd on a unix socket (SCM_RIGHTS); recv
	 * peeks whether the encoder is gone. */
	NERRF_SC_ALLOW(__NR_recvfrom),
	NERRF_SC_ALLOW_EQ(__NR_socket, 0, AF_UNIX),
	NERRF_SC_ALLOW(__NR_connect),
	NERRF_SC_ALLOW(__NR_ppoll),
#ifdef __NR_poll
	NERRF_SC_ALLOW(__NR_poll),
#endif
	/* Readiness, watchdog and status (common/nerrf_notify.c): an AF_UNIX
	 * datagram socket, sendmsg above, close. */
	/* A thread nng started just before the filter may finish starting after it. */
	NERRF_SC_ALLOW(__NR_set_robust_list),
	NERRF_SC_ALLOW(__NR_rseq),
	/* pthread_getattr_np(), which the sanitizers' runtime calls as each thread starts */
	NERRF_SC_ALLOW(__NR_sched_getaffinity),
	NERRF_SC_ALLOW_EQ(__NR_prctl, 0, PR_SET_NAME),
	/*
	 * Not unlink: nng's removal of an ipc:// socket at exit fails, and the
	 * next start replaces the stale socket; a publisher that can unlink could
	 * delete the rings.
	 */
	/* Signals and leaving; nng's threads exit on their own. */
	NERRF_SC_ALLOW(__NR_rt_sigreturn),
	NERRF_SC_ALLOW(__NR_rt_sigprocmask),
	NERRF_SC_ALLOW(__NR_restart_syscall),
	NERRF_SC_ALLOW(__NR_getpid),
	NERRF_SC_ALLOW(__NR_gettid),
	NERRF_SC_ALLOW(__NR_exit),
	NERRF_SC_ALLOW(__NR_exit_group),
};

int pub_sandbox(char *err, size_t errlen)
{
	return nerrf_seccomp_install(publisher_rules,
				     sizeof(publisher_rules) / sizeof(publisher_rules[0]), err, errlen);
}
