/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privdrop.h"

#if defined(__x86_64__)
#define NERRF_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NERRF_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "privdrop.c: add this architecture's AUDIT_ARCH_* value"
#endif

int nerrf_privdrop_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid,
			  char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "--user %s: no such user; create it (e.g. useradd --system %s) "
			 "or name another unprivileged account", user, user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "--user %s has uid 0: the collector must drop root; "
			 "name an unprivileged account", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (group) {
		gr = getgrnam(group);
		if (!gr) {
			snprintf(err, errlen, "--ring-group %s: no such group; create it or name "
				 "another", group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	if (*gid == 0) {
		snprintf(err, errlen, "group of --user %s is gid 0; pass --ring-group with an "
			 "unprivileged group", user);
		return -1;
	}
	return 0;
}

#define ALLOW_NR(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
		     BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
/* Allow nr only when its argument arg (low 32 bits) equals val. */
#define ALLOW_ARG(nr, arg, val)                                                        \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4),                               \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[arg])),  \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (val), 0, 1),                              \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),                                  \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)

/*
 * What the drain loop and the exit path make, found with strace: polling the
 * ring buffer, reading the counter maps, waking the encoder, writing to
 * stderr, freeing memory and leaving. Unlisted syscalls fail with EPERM
 * rather than killing the process: the process is already powerless, and a
 * kill would turn a missed rare path into a blind tracer, which is what an
 * attacker wants. A foreign architecture or x32 call kills: no legitimate
 * path makes one.
 */
static int install_seccomp(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NERRF_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef __x86_64__
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000 /* __X32_SYSCALL_BIT */, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		ALLOW_NR(__NR_epoll_wait),
#endif
		ALLOW_NR(__NR_epoll_pwait),
		ALLOW_NR(__NR_epoll_pwait2),
		ALLOW_NR(__NR_futex),
		ALLOW_NR(__NR_write),
		ALLOW_NR(__NR_clock_gettime),
		ALLOW_NR(__NR_clock_nanosleep),
		ALLOW_NR(__NR_nanosleep),
		ALLOW_NR(__NR_close),
		ALLOW_NR(__NR_munmap),
		ALLOW_NR(__NR_madvise),
		ALLOW_NR(__NR_brk),
		ALLOW_NR(__NR_exit),
		ALLOW_NR(__NR_exit_group),
		ALLOW_NR(__NR_rt_sigreturn),
		ALLOW_NR(__NR_rt_sigprocmask),
		ALLOW_NR(__NR_restart_syscall),
		ALLOW_NR(__NR_getpid),
		ALLOW_NR(__NR_gettid),
		/* Reading counters is the only bpf() use after the drop. */
		ALLOW_ARG(__NR_bpf, 0, BPF_MAP_LOOKUP_ELEM),
		/* libbpf disables each perf-event tracepoint before closing it. */
		ALLOW_ARG(__NR_ioctl, 1, PERF_EVENT_IOC_DISABLE),
		/* Anonymous memory for malloc, never executable. */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static int last_cap(void)
{
	int cap = CAP_LAST_CAP;

	/* The running kernel may know more capabilities than these headers. */
	while (prctl(PR_CAPBSET_READ, cap + 1, 0, 0, 0) >= 0)
		cap++;
	return cap;
}

int nerrf_privdrop(uid_t uid, gid_t gid, char *err, size_t errlen)
{
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
	if (install_seccomp() < 0) {
		snprintf(err, errlen, "installing the seccomp filter: %s; the kernel needs "
			 "CONFIG_SECCOMP_FILTER=y", strerror(errno));
		return -1;
	}
	return 0;
}
