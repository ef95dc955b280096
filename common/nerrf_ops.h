/* SPDX-License-Identifier: Apache-2.0 */
/* Userspace names for enum nerrf_op (the syscall names subscribers see). */
#ifndef NERRF_OPS_H
#define NERRF_OPS_H

#include "nerrf_event.h"

/* The op's name, e.g. "openat"; NULL for values outside the enum. */
const char *nerrf_op_name(unsigned op);
/* The op for a name, or NERRF_OP_NONE. */
enum nerrf_op nerrf_op_by_name(const char *name);

#endif
