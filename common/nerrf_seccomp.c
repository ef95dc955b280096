/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "nerrf_seccomp.h"

#if defined(__x86_64__)
#define NERRF_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NERRF_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "nerrf_seccomp.c: add this architecture's AUDIT_ARCH_* value"
#endif
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nerrf_seccomp.c: an argument's low 32 bits are at args[i] + 4 on big-endian"
#endif

#define MAX_INSNS 1024
#define NRULES(t) (sizeof(t) / sizeof((t)[0]))

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/*
 * A sanitizer build's runtime at exit and when it reports: LeakSanitizer
 * stops the world from a clone()d task that ptrace()s each thread listed in
 * /proc/self/task, and reports are symbolised by reading the binary. Never
 * in a build that ships, nor in a stage that turns LeakSanitizer off (the
 * collector), which keeps the filter it ships with.
 */
#ifdef __SANITIZE_ADDRESS__
int __lsan_is_turned_off(void) __attribute__((weak));
#define SANITIZER_RULES_WANTED (!__lsan_is_turned_off || !__lsan_is_turned_off())
#else
#define SANITIZER_RULES_WANTED 1
#endif
#define NOT_READ_ONLY (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | (O_TMPFILE & ~O_DIRECTORY))

static const struct nerrf_sc_rule sanitizer_rules[] = {
	NERRF_SC_ALLOW(__NR_clone),
	NERRF_SC_ALLOW(__NR_ptrace),
	NERRF_SC_ALLOW(__NR_wait4),
	NERRF_SC_ALLOW(__NR_sched_yield),
	NERRF_SC_ALLOW(__NR_prctl),
	NERRF_SC_ALLOW(__NR_getppid),
	NERRF_SC_ALLOW(__NR_gettid),
	NERRF_SC_ALLOW(__NR_getpid),
	NERRF_SC_ALLOW(__NR_tgkill),
	NERRF_SC_ALLOW(__NR_sigaltstack),
	NERRF_SC_ALLOW(__NR_rt_sigaction),
	NERRF_SC_ALLOW_NONE(__NR_openat, 2, NOT_READ_ONLY),
	NERRF_SC_ALLOW(__NR_getdents64),
#ifdef __x86_64__
	NERRF_SC_ALLOW_NONE(__NR_open, 1, NOT_READ_ONLY),
	NERRF_SC_ALLOW(__NR_getdents),
#endif
	NERRF_SC_ALLOW(__NR_read),
	NERRF_SC_ALLOW(__NR_pread64),
	NERRF_SC_ALLOW(__NR_lseek),
	NERRF_SC_ALLOW(__NR_readlink),
	NERRF_SC_ALLOW(__NR_fstat),
	NERRF_SC_ALLOW(__NR_newfstatat),
	NERRF_SC_ALLOW(__NR_mmap),
	NERRF_SC_ALLOW(__NR_mprotect),
	NERRF_SC_ALLOW(__NR_munmap),
	NERRF_SC_ALLOW(__NR_close),
	NERRF_SC_ALLOW(__NR_exit),
};
#endif
#define LD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define RET(action) BPF_STMT(BPF_RET | BPF_K, (action))
#define LD_ARG(i) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, \
			   (uint32_t)(offsetof(struct seccomp_data, args) + 8 * (i)))

/*
 * A rule tests nr and falls through to the next rule with nr back in A, so
 * several rules may name one syscall (an ioctl with two commands, say).
 * With k argument tests: JEQ nr, k x (LD arg, test), RET ALLOW, LD nr.
 */
static size_t emit_rule(struct sock_filter *f, const struct nerrf_sc_rule *r)
{
	const struct { uint8_t check, arg; uint32_t val; } t[2] = {
		{ r->check, r->arg, r->val }, { r->check2, r->arg2, r->val2 } };
	unsigned k = r->check == NERRF_SC_ANY ? 0 : r->check2 == NERRF_SC_ANY ? 1 : 2;
	size_t n = 0;

	if (!k) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r->nr, 0, 1);
		f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
		return n;
	}
	/* not this syscall: on to the next rule, A still nr */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r->nr, 0,
					      (uint8_t)(2 * k + 2));
	for (unsigned j = 0; j < k; j++) {
		/* a failed test jumps to the LD nr at the end */
		uint8_t fail = (uint8_t)(2 * k - 2 * j - 1);
		f[n++] = (struct sock_filter)LD_ARG(t[j].arg);
		if (t[j].check == NERRF_SC_ARG_EQ)
			f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, t[j].val, 0,
							      fail);
		else
			f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, t[j].val,
							      fail, 0);
	}
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)LD(nr);
	return n;
}

static int emit_rules(struct sock_filter *f, size_t *n, const struct nerrf_sc_rule *rules,
		      size_t nrules, char *err, size_t errlen)
{
	for (size_t i = 0; i < nrules; i++) {
		if (*n + 8 > MAX_INSNS || rules[i].arg > 5 || rules[i].arg2 > 5) {
			snprintf(err, errlen, "seccomp rule %zu (syscall %d) is out of range: "
				 "a bug in the stage's allowlist", i, rules[i].nr);
			return -1;
		}
		*n += emit_rule(f + *n, &rules[i]);
	}
	return 0;
}

int nerrf_seccomp_install(const struct nerrf_sc_rule *rules, size_t nrules, char *err,
			  size_t errlen)
{
	static const struct sock_filter head[] = {
		LD(arch),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NERRF_AUDIT_ARCH, 1, 0),
		RET(SECCOMP_RET_KILL_PROCESS),
		LD(nr),
#ifdef __x86_64__
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000 /* __X32_SYSCALL_BIT */, 0, 1),
		RET(SECCOMP_RET_KILL_PROCESS),
#endif
	};
	struct sock_filter f[MAX_INSNS];
	size_t n = sizeof(head) / sizeof(head[0]);

	memcpy(f, head, sizeof(head));
	if (emit_rules(f, &n, rules, nrules, err, errlen) < 0)
		return -1;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	if (SANITIZER_RULES_WANTED &&
	    emit_rules(f, &n, sanitizer_rules, NRULES(sanitizer_rules), err, errlen) < 0)
		return -1;
#endif
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | EPERM);

	struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "setting no_new_privs: %s", strerror(errno));
		return -1;
	}
	long rc = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
	if (rc > 0) {
		snprintf(err, errlen, "installing the seccomp filter: thread %ld has a filter of "
			 "its own and cannot take this one", rc);
		return -1;
	}
	if (rc < 0) {
		snprintf(err, errlen, "installing the seccomp filter: %s; the kernel needs "
			 "CONFIG_SECCOMP_FILTER=y", strerror(errno));
		return -1;
	}
	return 0;
}
