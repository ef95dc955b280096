/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nerrf_seccomp.h"
#include "privdrop.h"

/*
 * What the drain loop and the exit path make, found with strace: polling the
 * ring buffer, reading the counter maps, waking the encoder, handing it
 * ring #1, writing to stderr, freeing memory and leaving.
 */
static const struct nerrf_sc_rule collector_rules[] = {
#ifdef __x86_64__
	NERRF_SC_ALLOW(__NR_epoll_wait),
#endif
	NERRF_SC_ALLOW(__NR_epoll_pwait),
	NERRF_SC_ALLOW(__NR_epoll_pwait2),
	NERRF_SC_ALLOW(__NR_futex),
	NERRF_SC_ALLOW(__NR_write),
	NERRF_SC_ALLOW(__NR_clock_gettime),
	NERRF_SC_ALLOW(__NR_clock_nanosleep),
	NERRF_SC_ALLOW(__NR_nanosleep),
	NERRF_SC_ALLOW(__NR_close),
	NERRF_SC_ALLOW(__NR_munmap),
	NERRF_SC_ALLOW(__NR_madvise),
	NERRF_SC_ALLOW(__NR_brk),
	NERRF_SC_ALLOW(__NR_exit),
	NERRF_SC_ALLOW(__NR_exit_group),
	NERRF_SC_ALLOW(__NR_rt_sigreturn),
	NERRF_SC_ALLOW(__NR_rt_sigprocmask),
	NERRF_SC_ALLOW(__NR_restart_syscall),
	NERRF_SC_ALLOW(__NR_getpid),
	NERRF_SC_ALLOW(__NR_gettid),
	/* Handing ring #1's memfd to an encoder: accept, send it, watch the peer. */
	NERRF_SC_ALLOW(__NR_accept4),
	NERRF_SC_ALLOW(__NR_sendmsg),
	NERRF_SC_ALLOW(__NR_recvfrom),
	/*
	 * Readiness, watchdog and status for systemd or nerrf run
	 * (common/nerrf_notify.c): a datagram socket, sent to $NOTIFY_SOCKET,
	 * closed.
	 */
	NERRF_SC_ALLOW_EQ(__NR_socket, 0, AF_UNIX),
	/*
	 * Reading counters is the only bpf() use after the drop: a reload writes
	 * the new filters into the programs' .bss, which stays mapped, so no
	 * map-update command is needed.
	 */
	NERRF_SC_ALLOW_EQ(__NR_bpf, 0, BPF_MAP_LOOKUP_ELEM),
	/*
	 * SIGHUP: the configuration read again (openat: see nerrf_privdrop),
	 * checked (fstat) as root's alone; fcntl as open and fdopen use it;
	 * stat for a --cgroup directory.
	 */
	NERRF_SC_ALLOW(__NR_read),
	NERRF_SC_ALLOW(__NR_fstat),
	NERRF_SC_ALLOW(__NR_newfstatat),
	NERRF_SC_ALLOW_EQ(__NR_fcntl, 1, F_GETFL),
	NERRF_SC_ALLOW_EQ(__NR_fcntl, 1, F_SETFL),
	/* libbpf disables each perf-event tracepoint before closing it. */
	NERRF_SC_ALLOW_EQ(__NR_ioctl, 1, PERF_EVENT_IOC_DISABLE),
	/* Anonymous memory for malloc, never executable. */
	NERRF_SC_ALLOW_NONE(__NR_mmap, 2, PROT_EXEC),
};

static int last_cap(void)
{
	int cap = CAP_LAST_CAP;

	/* The running kernel may know more capabilities than these headers. */
	while (prctl(PR_CAPBSET_READ, cap + 1, 0, 0, 0) >= 0)
		cap++;
	return cap;
}

int nerrf_privdrop(uid_t uid, gid_t gid, int conf_dir, char *err, size_t errlen)
{
	struct nerrf_sc_rule rules[sizeof(collector_rules) / sizeof(collector_rules[0]) + 1];
	size_t nrules = sizeof(collector_rules) / sizeof(collector_rules[0]);
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	int top = last_cap();

	/* The bounding set can only shrink while CAP_SETPCAP is still held. */
	for (int cap = 0; cap <= top; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
			snprintf(err, errlen, "dropping capability %d from the bounding set: %s; "
				 "run as root or with CAP_SETPCAP", cap, strerror(errno));
			return -1;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		snprintf(err, errlen, "clearing ambient capabilities: %s", strerror(errno));
		return -1;
	}
	int pdeath = 0;
	pid_t parent = getppid();
	prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		snprintf(err, errlen, "switching to uid %u gid %u: %s; run as root or with "
			 "CAP_SETUID and CAP_SETGID", (unsigned)uid, (unsigned)gid, strerror(errno));
		return -1;
	}
	/* The uid change clears a supervisor's parent-death signal: without it we outlive it. */
	if (pdeath && (prctl(PR_SET_PDEATHSIG, pdeath, 0, 0, 0) < 0 || getppid() != parent)) {
		snprintf(err, errlen, "the supervisor that started us exited (or the parent-death "
			 "signal cannot be restored); stopping");
		return -1;
	}
	memset(data, 0, sizeof(data));
	if (syscall(__NR_capset, &hdr, data) < 0) {
		snprintf(err, errlen, "clearing capabilities: %s", strerror(errno));
		return -1;
	}
	if (setresuid(-1, 0, -1) == 0) {
		snprintf(err, errlen, "uid 0 could be regained after the drop; refusing to run");
		return -1;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "prctl(DUMPABLE/NO_NEW_PRIVS): %s", strerror(errno));
		return -1;
	}
	memcpy(rules, collector_rules, sizeof(collector_rules));
	/*
	 * The configuration read again at SIGHUP: opened read-only through the
	 * directory fd held since the start, and no other way.
	 */
	if (conf_dir >= 0)
		rules[nrules++] = (struct nerrf_sc_rule)NERRF_SC_ALLOW_EQ_NONE(
			__NR_openat, 0, conf_dir, 2,
			O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | (O_TMPFILE & ~O_DIRECTORY));
	return nerrf_seccomp_install(rules, nrules, err, errlen);
}
