/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seccomp allowlists for the stages. Each stage keeps its own table of the
 * syscalls it makes once started, with the reason beside each rule; this
 * module turns a table into a filter and installs it on every thread of the
 * process (TSYNC), so threads a library started earlier (nng's) are bound too.
 *
 * A syscall no rule allows fails with EPERM instead of killing the process:
 * a missed rare path then shows up as an error the stage reports, not as a
 * dead stage and a blind pipeline. A call from a foreign architecture or the
 * x32 ABI kills: no legitimate path makes one.
 *
 * Rules test the low 32 bits of one argument, which covers flags, commands
 * and protections, or of two (an fd and flags, say). Sanitizer builds add
 * what their runtimes need to report.
 */
#ifndef NERRF_SECCOMP_H
#define NERRF_SECCOMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

enum nerrf_sc_check {
	NERRF_SC_ANY,	   /* any arguments */
	NERRF_SC_ARG_EQ,   /* argument arg equals val */
	NERRF_SC_ARG_NONE, /* argument arg has none of the bits in val */
};

struct nerrf_sc_rule {
	int nr;
	uint8_t check;
	uint8_t arg;
	uint32_t val;
	uint8_t check2; /* NERRF_SC_ANY, or a second test that must hold too */
	uint8_t arg2;
	uint32_t val2;
};

#define NERRF_SC_ALLOW(n) { .nr = (n), .check = NERRF_SC_ANY }
#define NERRF_SC_ALLOW_EQ(n, a, v) { .nr = (n), .check = NERRF_SC_ARG_EQ, .arg = (a), \
				      .val = (uint32_t)(v) }
#define NERRF_SC_ALLOW_NONE(n, a, bits) { .nr = (n), .check = NERRF_SC_ARG_NONE, .arg = (a), \
					   .val = (uint32_t)(bits) }
/* Memory for malloc, thread stacks and ring mappings; never executable. */
#define NERRF_SC_MEMORY                                                                   \
	NERRF_SC_ALLOW_NONE(__NR_mmap, 2, PROT_EXEC),                                     \
	NERRF_SC_ALLOW_NONE(__NR_mprotect, 2, PROT_EXEC), NERRF_SC_ALLOW(__NR_munmap),    \
	NERRF_SC_ALLOW(__NR_madvise), NERRF_SC_ALLOW(__NR_brk)
/* argument a equals v, and argument a2 has none of bits */
#define NERRF_SC_ALLOW_EQ_NONE(n, a, v, a2, bits)                                         \
	{ .nr = (n), .check = NERRF_SC_ARG_EQ, .arg = (a), .val = (uint32_t)(v),           \
	  .check2 = NERRF_SC_ARG_NONE, .arg2 = (a2), .val2 = (uint32_t)(bits) }

/*
 * Sets no_new_privs (the kernel requires it of an unprivileged caller) and
 * installs the filter built from rules on all threads. Returns 0, or -1 with
 * err saying why; the caller must then exit rather than run unconfined.
 */
int nerrf_seccomp_install(const struct nerrf_sc_rule *rules, size_t n, char *err, size_t errlen);

#endif /* NERRF_SECCOMP_H */
