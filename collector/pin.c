/* SPDX-License-Identifier: Apache-2.0 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "nerrf_bpf.h"
/* The skeleton embeds the BPF object as one long string literal. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverlength-strings"
#include "nerrf.skel.h"
#pragma GCC diagnostic pop
#include "pin.h"

#define BPFFS "/sys/fs/bpf"
/* Pinned last: its presence says the set is complete. */
#define READY "ready"
#define LINK_PREFIX "link_"

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

int pin_prepare(char *err, size_t errlen)
{
	struct statfs sf;
	struct stat st;

	if (statfs(BPFFS, &sf) < 0 || sf.f_type != BPF_FS_MAGIC) {
		if (mount("bpf", BPFFS, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0) {
			snprintf(err, errlen, "--pin: no bpf filesystem at " BPFFS " and mounting "
				 "one failed: %s; mount it (mount -t bpf bpf " BPFFS ") or run "
				 "without --pin", strerror(errno));
			return -1;
		}
	}
	if (mkdir(PIN_ROOT, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "--pin: cannot create " PIN_ROOT ": %s", strerror(errno));
		return -1;
	}
	/* Pins are programs running in the kernel: only root may place or remove them. */
	if (lstat(PIN_ROOT, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 0077)) {
		snprintf(err, errlen, "--pin: " PIN_ROOT " is not a directory of root's alone "
			 "(mode 0700): remove it and start again");
		return -1;
	}
	return 0;
}

static uint64_t instance(const char *rundir)
{
	return fnv(0xcbf29ce484222325ULL, rundir, strlen(rundir));
}

void pin_dir(char *out, size_t len, const char *rundir, uint64_t stamp)
{
	snprintf(out, len, PIN_ROOT "/%016llx-%016llx", (unsigned long long)instance(rundir),
		 (unsigned long long)stamp);
}

uint64_t pin_stamp(const struct nerrf_bpf *skel, const void *extra, size_t extra_len)
{
	size_t sz = 0;
	const void *elf = nerrf_bpf__elf_bytes(&sz);
	uint64_t h = fnv(0xcbf29ce484222325ULL, elf, sz);
	struct bpf_program *p;

	h = fnv(h, (const void *)skel->rodata, sizeof(*skel->rodata));
	bpf_object__for_each_program(p, skel->obj) {
		char on = bpf_program__autoload(p);
		h = fnv(h, &on, 1);
	}
	return fnv(h, extra, extra_len);
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	/* Unpinning a link detaches its program once no fd holds it. */
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	rmdir(dir);
}

int pin_remove(const char *rundir, const char *keep)
{
	char prefix[32], path[512];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(PIN_ROOT);

	if (!d)
		return 0;
	snprintf(prefix, sizeof(prefix), "%016llx-", (unsigned long long)instance(rundir));
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), PIN_ROOT "/%s", de->d_name);
		if (keep && strcmp(path, keep) == 0)
			continue;
		remove_dir(path);
		n++;
	}
	closedir(d);
	return n;
}

static int get(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		snprintf(err, errlen, "reopening pinned %s: %s", path, strerror(errno));
	return fd;
}

static size_t count_links(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += strncmp(de->d_name, LINK_PREFIX, strlen(LINK_PREFIX)) == 0;
	closedir(d);
	return n;
}

int pin_reopen(const char *dir, size_t nlinks, struct pin_fds *fds, char *err, size_t errlen)
{
	char path[512];
	struct stat st;
	size_t n;

	err[0] = 0;
	snprintf(path, sizeof(path), "%s/" READY, dir);
	if (stat(path, &st) < 0) {
		/* absent, or a collector died while pinning: start over */
		remove_dir(dir);
		return 0;
	}
	if ((n = count_links(dir)) != nlinks) {
		/* someone unpinned programs: what they missed is a capture gap, reported */
		snprintf(err, errlen, "the pinned set at %s has %zu of %zu programs", dir, n,
			 nlinks);
		remove_dir(dir);
		return 0;
	}
	fds->events = get(dir, "events", err, errlen);
	fds->counters = get(dir, "counters", err, errlen);
	fds->filter = get(dir, "tgid_filter", err, errlen);
	fds->conf = get(dir, "conf", err, errlen);
	if (fds->events < 0 || fds->counters < 0 || fds->filter < 0 || fds->conf < 0)
		return -1;
	return 1;
}

static int pin_one(int fd, const char *dir, const char *name, char *err, size_t errlen)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (bpf_obj_pin(fd, path) < 0) {
		snprintf(err, errlen, "--pin: pinning %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int pin_save(const char *dir, const struct nerrf_bpf *skel, struct bpf_link *const *links,
	     size_t nlinks, char *err, size_t errlen)
{
	char name[128];

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "--pin: cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	/*
	 * exit_tail and close_tail too: the kernel empties a program array
	 * when its last user reference goes, and the exit programs and the
	 * write summaries' hooks tail-call through them.
	 */
	if (pin_one(bpf_map__fd(skel->maps.events), dir, "events", err, errlen) < 0 ||
	    pin_one(bpf_map__fd(skel->maps.counters), dir, "counters", err, errlen) < 0 ||
	    pin_one(bpf_map__fd(skel->maps.tgid_filter), dir, "tgid_filter", err, errlen) < 0 ||
	    pin_one(bpf_map__fd(skel->maps.bss), dir, "conf", err, errlen) < 0 ||
	    pin_one(bpf_map__fd(skel->maps.exit_tail), dir, "exit_tail", err, errlen) < 0 ||
	    pin_one(bpf_map__fd(skel->maps.close_tail), dir, "close_tail", err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < nlinks; i++) {
		if (!links[i])
			continue;
		snprintf(name, sizeof(name), LINK_PREFIX "%zu", i);
		if (pin_one(bpf_link__fd(links[i]), dir, name, err, errlen) < 0)
			goto fail;
	}
	if (pin_one(bpf_map__fd(skel->maps.counters), dir, READY, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	remove_dir(dir);
	return -1;
}
