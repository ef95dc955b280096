// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* An empty program on the bench's tracepoint: what kernel.bpf_stats_enabled
 * reports for doing nothing is the floor under every other measurement. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tracepoint/syscalls/sys_enter_pwrite64")
int floor_prog(void *ctx)
{
	return 0;
}
