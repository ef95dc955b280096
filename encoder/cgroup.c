/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel gives each event the task's cgroup v2 id, which is the inode
 * number of the cgroup's directory. Container runtimes name those
 * directories after the container, so one walk of the cgroup tree with
 * stat() (no privilege needed) maps ids to container ids. The map is rebuilt
 * on a miss, at most once a second, so new containers show up promptly.
 *
 * A walk costs a few syscalls per cgroup (milliseconds on a busy node), so
 * an id a walk did not find is remembered and retried with a backoff of 1 s
 * doubling to 64 s: events from a cgroup already deleted (short-lived jobs)
 * do not buy a walk every second.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encoder.h"

#define RESCAN_NS 1000000000ull
#define MAX_DEPTH 32
#define NEG_SIZE 1024        /* remembered unknown ids; a power of two */
#define NEG_BACKOFF_MAX 64   /* seconds */

struct cg_entry {
	uint64_t id; /* 0 = empty slot */
	char cid[ENC_CONTAINER_ID_MAX + 1];
};

/* An id the last walks did not find, and when to look again. */
struct cg_neg {
	uint64_t id;
	uint64_t retry_ns;
	uint32_t backoff_s;
};

struct enc_cgroups {
	char root[256];
	struct cg_entry *tab; /* open addressing, power-of-two size */
	size_t mask, count;
	struct cg_neg neg[NEG_SIZE]; /* open addressing; emptied when half full */
	size_t neg_count;
	uint64_t last_scan_ns, scans;
	bool scanned;
	uint64_t last_id; /* one-entry cache: events come in runs from one task */
	const char *last_cid;
};

static size_t hex_run(const char *s)
{
	size_t n = 0;

	while ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))
		n++;
	return n;
}

/* "<prefix><hex>" then end of component or the suffix: the hex run, else 0. */
static size_t match_id(const char *comp, size_t len, const char *prefix, const char *suffix,
		       const char **id)
{
	size_t pl = strlen(prefix);

	if (len <= pl || strncmp(comp, prefix, pl) != 0)
		return 0;
	size_t h = hex_run(comp + pl);
	if (h < 12 || h > ENC_CONTAINER_ID_MAX)
		return 0;
	size_t rest = len - pl - h;
	if (rest != 0 && !(suffix && rest == strlen(suffix) &&
			   strncmp(comp + pl + h, suffix, rest) == 0))
		return 0;
	*id = comp + pl;
	return h;
}

static size_t component_id(const char *comp, size_t len, const char **id)
{
	static const char *const prefixed[] = {
		"docker-", "cri-containerd-", "crio-", "libpod-",
	};
	size_t h;

	for (size_t i = 0; i < sizeof(prefixed) / sizeof(prefixed[0]); i++)
		if ((h = match_id(comp, len, prefixed[i], ".scope", id)))
			return h;
	/* cgroupfs drivers: /docker/<id>, /kubepods/.../<id>: a bare full-length id */
	if (len == ENC_CONTAINER_ID_MAX && hex_run(comp) == len) {
		*id = comp;
		return len;
	}
	return 0;
}

bool enc_container_id(const char *cgpath, char out[ENC_CONTAINER_ID_MAX + 1])
{
	const char *p = cgpath, *found = NULL;
	size_t flen = 0;

	out[0] = '\0';
	while (*p) {
		while (*p == '/')
			p++;
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p), h;
		const char *id;

		if (len && (h = component_id(p, len, &id))) {
			found = id; /* keep going: the innermost container wins */
			flen = h;
		}
		p = end;
	}
	if (!found)
		return false;
	memcpy(out, found, flen);
	out[flen] = '\0';
	return true;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static struct cg_entry *slot(struct cg_entry *tab, size_t mask, uint64_t id)
{
	size_t i = mix(id) & mask;

	while (tab[i].id && tab[i].id != id)
		i = (i + 1) & mask;
	return &tab[i];
}

static int insert(struct enc_cgroups *cg, uint64_t id, const char *cid)
{
	if (!id)
		return 0;
	if ((cg->count + 1) * 2 > cg->mask + 1) {
		size_t nsize = (cg->mask + 1) * 2;
		struct cg_entry *nt = calloc(nsize, sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		for (size_t i = 0; i <= cg->mask; i++)
			if (cg->tab[i].id)
				*slot(nt, nsize - 1, cg->tab[i].id) = cg->tab[i];
		free(cg->tab);
		cg->tab = nt;
		cg->mask = nsize - 1;
	}
	struct cg_entry *e = slot(cg->tab, cg->mask, id);
	if (!e->id)
		cg->count++;
	e->id = id;
	snprintf(e->cid, sizeof(e->cid), "%s", cid);
	return 0;
}

/*
 * Depth-first over directories with openat/fstatat only, so the walk works
 * under a read-only, unprivileged view of /sys/fs/cgroup. cid is the
 * container id inherited from the parent (a container's sub-cgroups belong to it).
 */
static void walk(struct enc_cgroups *cg, int dfd, const char *name, const char *inherited,
		 int depth)
{
	char cid[ENC_CONTAINER_ID_MAX + 1];
	struct stat st;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return;
	}
	if (!enc_container_id(name, cid))
		snprintf(cid, sizeof(cid), "%s", inherited);
	if (insert(cg, st.st_ino, cid) < 0 || depth >= MAX_DEPTH) {
		close(fd);
		return;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		walk(cg, dirfd(d), de->d_name, cid, depth + 1);
	}
	closedir(d);
}

static void rescan(struct enc_cgroups *cg, uint64_t now_ns)
{
	memset(cg->tab, 0, (cg->mask + 1) * sizeof(*cg->tab));
	cg->count = 0;
	cg->last_id = 0;
	walk(cg, AT_FDCWD, cg->root, "", 0);
	cg->last_scan_ns = now_ns;
	cg->scanned = true;
	cg->scans++;
}

static struct cg_neg *neg_slot(struct enc_cgroups *cg, uint64_t id)
{
	size_t i = mix(id) & (NEG_SIZE - 1);

	while (cg->neg[i].id && cg->neg[i].id != id)
		i = (i + 1) & (NEG_SIZE - 1);
	return &cg->neg[i];
}

/* The walk did not find id: look again after the backoff. */
static void remember_unknown(struct enc_cgroups *cg, uint64_t id, uint64_t now_ns)
{
	struct cg_neg *n = neg_slot(cg, id);

	if (!n->id) {
		if (cg->neg_count >= NEG_SIZE / 2) {
			memset(cg->neg, 0, sizeof(cg->neg));
			cg->neg_count = 0;
			n = neg_slot(cg, id);
		}
		cg->neg_count++;
		n->id = id;
		n->backoff_s = 1;
	} else if (n->backoff_s < NEG_BACKOFF_MAX) {
		n->backoff_s *= 2;
	}
	n->retry_ns = now_ns + n->backoff_s * RESCAN_NS;
}

struct enc_cgroups *enc_cgroups_new(const char *root)
{
	struct enc_cgroups *cg = calloc(1, sizeof(*cg));

	if (!cg)
		return NULL;
	snprintf(cg->root, sizeof(cg->root), "%s", root ? root : "/sys/fs/cgroup");
	cg->mask = 255;
	cg->tab = calloc(cg->mask + 1, sizeof(*cg->tab));
	if (!cg->tab) {
		free(cg);
		return NULL;
	}
	return cg;
}

void enc_cgroups_free(struct enc_cgroups *cg)
{
	if (!cg)
		return;
	free(cg->tab);
	free(cg);
}

const char *enc_cgroups_lookup(struct enc_cgroups *cg, uint64_t id, uint64_t now_ns)
{
	if (!id)
		return "";
	if (id == cg->last_id)
		return cg->last_cid;
	struct cg_entry *e = slot(cg->tab, cg->mask, id);
	if (!e->id) {
		struct cg_neg *n = neg_slot(cg, id);

		if (n->id && now_ns < n->retry_ns)
			return "";
		if (cg->scanned && now_ns < cg->last_scan_ns + RESCAN_NS)
			return ""; /* walked less than a second ago: next time */
		rescan(cg, now_ns);
		e = slot(cg->tab, cg->mask, id);
		if (!e->id) {
			remember_unknown(cg, id, now_ns);
			return "";
		}
	}
	cg->last_id = id;
	cg->last_cid = e->cid;
	return e->cid;
}

uint64_t enc_cgroups_scans(const struct enc_cgroups *cg)
{
	return cg->scans;
}
