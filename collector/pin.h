/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Capture that outlives the collector (--pin). The attached programs' links
 * and the maps userspace needs are pinned in bpffs, under
 * /sys/fs/bpf/nerrf/<instance>-<stamp>/ (root's alone, mode 0700):
 * <instance> names the rundir, <stamp> the BPF object and everything loaded
 * into it (read-only config, chosen programs, ring buffer size, filters). A
 * collector that dies leaves the programs attached; what they emit waits in
 * the ring buffer, and what does not fit is counted in the kernel's loss
 * counters, which live in the pinned maps too. The next collector with the
 * same stamp reopens the pins as root instead of loading anything, then
 * drops privileges exactly as at first start. Pins of another stamp for the
 * same rundir are stale (an upgrade, a new configuration): replaced, with a
 * message. The collector cannot unpin after its privilege drop: whoever
 * stops it for good runs `nerrf-collector --cleanup` (nerrf run and the
 * systemd unit do).
 */
#ifndef NERRF_PIN_H
#define NERRF_PIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PIN_ROOT "/sys/fs/bpf/nerrf"

struct bpf_link;
struct nerrf_bpf;

/* The maps the drain loop uses, loaded now or reopened from pins. */
struct pin_fds {
	int events, counters, filter, conf; /* conf: the programs' .bss, their live filters */
};

/* bpffs mounted at /sys/fs/bpf and PIN_ROOT present, root's alone. */
int pin_prepare(char *err, size_t errlen);
/* dir for this rundir and stamp; the stamp covers what was configured so far. */
void pin_dir(char *out, size_t len, const char *rundir, uint64_t stamp);
uint64_t pin_stamp(const struct nerrf_bpf *skel, const void *extra, size_t extra_len);
/* Removes this rundir's pins other than keep (NULL: all). Returns how many went. */
int pin_remove(const char *rundir, const char *keep);
/*
 * 1 and fds when dir holds a complete set with nlinks attached programs; 0
 * when there is none (an incomplete one is removed, and err says why); -1
 * on error.
 */
int pin_reopen(const char *dir, size_t nlinks, struct pin_fds *fds, char *err, size_t errlen);
/* Pins maps and links into dir; the set counts as complete only at the end. */
int pin_save(const char *dir, const struct nerrf_bpf *skel, struct bpf_link *const *links,
	     size_t nlinks, char *err, size_t errlen);

#endif /* NERRF_PIN_H */
