/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The forwarder's seccomp allowlist, installed once its sockets, the state
 * directory and the first NATS connection (or its background retry) are set
 * up; TSYNC binds libnats' and nng's threads too, and threads they start
 * later inherit it. libnats reconnects from a thread it starts then, resolves
 * the server's name again (the NSS modules are loaded by the first
 * connection) and speaks TLS through OpenSSL, whose files were read at
 * start. What they make was found by running the forward tests under
 * strace -f; a call not listed fails with EPERM (logged), it does not kill.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "forward.h"
#include "nerrf_seccomp.h"

static const struct nerrf_sc_rule forward_rules[] = {
	/* Condition variables, timers, the loop's waits. */
	NERRF_SC_ALLOW(__NR_futex),
	NERRF_SC_ALLOW(__NR_clock_gettime),
	NERRF_SC_ALLOW(__NR_clock_nanosleep),
	NERRF_SC_ALLOW(__NR_nanosleep),
	NERRF_SC_ALLOW(__NR_sched_yield),
	/* The state file: a temporary file in the state directory (held open), synced, renamed. */
	NERRF_SC_ALLOW(__NR_openat),
	NERRF_SC_ALLOW(__NR_fsync),
	NERRF_SC_ALLOW(__NR_renameat),
	NERRF_SC_ALLOW(__NR_renameat2),
	NERRF_SC_ALLOW(__NR_fstat),
	NERRF_SC_ALLOW(__NR_newfstatat),
	NERRF_SC_ALLOW(__NR_lseek),
	NERRF_SC_ALLOW(__NR_close),
	/* malloc, thread stacks (libnats starts its reconnect thread after the filter). */
	NERRF_SC_MEMORY,
	NERRF_SC_ALLOW(__NR_clone),
#ifdef __NR_clone3
	NERRF_SC_ALLOW(__NR_clone3),
#endif
	NERRF_SC_ALLOW(__NR_set_robust_list),
	NERRF_SC_ALLOW(__NR_rseq),
	NERRF_SC_ALLOW(__NR_sched_getaffinity),
	NERRF_SC_ALLOW_EQ(__NR_prctl, 0, PR_SET_NAME),
	/* nng's pollers and libnats' sockets: the publisher over ipc, the NATS server over
	 * TCP (again after each outage), DNS over UDP when the server is named. */
#ifdef __NR_epoll_wait
	NERRF_SC_ALLOW(__NR_epoll_wait),
#endif
	NERRF_SC_ALLOW(__NR_epoll_pwait),
	NERRF_SC_ALLOW(__NR_epoll_ctl),
	NERRF_SC_ALLOW_EQ(__NR_socket, 0, AF_UNIX),
	NERRF_SC_ALLOW_EQ(__NR_socket, 0, AF_INET),
	NERRF_SC_ALLOW_EQ(__NR_socket, 0, AF_INET6),
	NERRF_SC_ALLOW(__NR_connect),
	NERRF_SC_ALLOW(__NR_accept),
	NERRF_SC_ALLOW(__NR_accept4),
	NERRF_SC_ALLOW(__NR_bind),
	NERRF_SC_ALLOW(__NR_getsockname),
	NERRF_SC_ALLOW(__NR_getpeername),
	NERRF_SC_ALLOW(__NR_getsockopt),
	NERRF_SC_ALLOW(__NR_setsockopt),
	NERRF_SC_ALLOW(__NR_shutdown),
	NERRF_SC_ALLOW(__NR_fcntl),
	NERRF_SC_ALLOW(__NR_ioctl),
	NERRF_SC_ALLOW(__NR_read),
	NERRF_SC_ALLOW(__NR_write),
	NERRF_SC_ALLOW(__NR_readv),
	NERRF_SC_ALLOW(__NR_writev),
	NERRF_SC_ALLOW(__NR_sendto),
	NERRF_SC_ALLOW(__NR_recvfrom),
	NERRF_SC_ALLOW(__NR_sendmsg),
	NERRF_SC_ALLOW(__NR_recvmsg),
	NERRF_SC_ALLOW(__NR_sendmmsg),
	NERRF_SC_ALLOW(__NR_ppoll),
#ifdef __NR_poll
	NERRF_SC_ALLOW(__NR_poll),
#endif
	NERRF_SC_ALLOW(__NR_pipe2),
	NERRF_SC_ALLOW(__NR_getrandom),
	NERRF_SC_ALLOW(__NR_getpid),
	NERRF_SC_ALLOW(__NR_gettid),
	NERRF_SC_ALLOW(__NR_uname),
	/* Signals and leaving. */
	NERRF_SC_ALLOW(__NR_rt_sigreturn),
	NERRF_SC_ALLOW(__NR_rt_sigprocmask),
	NERRF_SC_ALLOW(__NR_restart_syscall),
	NERRF_SC_ALLOW(__NR_exit),
	NERRF_SC_ALLOW(__NR_exit_group),
};

int fwd_sandbox(char *err, size_t errlen)
{
	return nerrf_seccomp_install(forward_rules, sizeof(forward_rules) / sizeof(forward_rules[0]),
				     err, errlen);
}
