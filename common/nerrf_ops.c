/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "nerrf_ops.h"

static const char *const names[NERRF_OP_MAX] = {
	[NERRF_OP_OPEN] = "open",
	[NERRF_OP_OPENAT] = "openat",
	[NERRF_OP_OPENAT2] = "openat2",
	[NERRF_OP_CREAT] = "creat",
	[NERRF_OP_WRITE] = "write",
	[NERRF_OP_PWRITE64] = "pwrite64",
	[NERRF_OP_WRITEV] = "writev",
	[NERRF_OP_PWRITEV] = "pwritev",
	[NERRF_OP_PWRITEV2] = "pwritev2",
	[NERRF_OP_RENAME] = "rename",
	[NERRF_OP_RENAMEAT] = "renameat",
	[NERRF_OP_RENAMEAT2] = "renameat2",
	[NERRF_OP_UNLINK] = "unlink",
	[NERRF_OP_UNLINKAT] = "unlinkat",
	[NERRF_OP_RMDIR] = "rmdir",
	[NERRF_OP_CHMOD] = "chmod",
	[NERRF_OP_FCHMOD] = "fchmod",
	[NERRF_OP_FCHMODAT] = "fchmodat",
	[NERRF_OP_FCHMODAT2] = "fchmodat2",
	[NERRF_OP_TRUNCATE] = "truncate",
	[NERRF_OP_FTRUNCATE] = "ftruncate",
	[NERRF_OP_SETXATTR] = "setxattr",
	[NERRF_OP_LSETXATTR] = "lsetxattr",
	[NERRF_OP_FSETXATTR] = "fsetxattr",
	[NERRF_OP_REMOVEXATTR] = "removexattr",
	[NERRF_OP_LREMOVEXATTR] = "lremovexattr",
	[NERRF_OP_FREMOVEXATTR] = "fremovexattr",
	[NERRF_OP_EXECVE] = "execve",
	[NERRF_OP_EXECVEAT] = "execveat",
	[NERRF_OP_FORK] = "fork",
	[NERRF_OP_EXIT] = "exit",
	[NERRF_OP_CONNECT] = "connect",
	[NERRF_OP_ACCEPT] = "accept",
	[NERRF_OP_ACCEPT4] = "accept4",
	[NERRF_OP_BIND] = "bind",
	[NERRF_OP_LISTEN] = "listen",
	[NERRF_OP_SOCK_CLOSE] = "sock_close",
	[NERRF_OP_CLOSE] = "close",
};

const char *nerrf_op_name(unsigned op)
{
	return op < NERRF_OP_MAX ? names[op] : NULL;
}

enum nerrf_op nerrf_op_by_name(const char *name)
{
	for (unsigned op = 1; op < NERRF_OP_MAX; op++)
		if (names[op] && strcmp(names[op], name) == 0)
			return op;
	return NERRF_OP_NONE;
}
