/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Names are bytes, not text: a process creates, writes, renames and unlinks
 * files whose names hold bytes that are not UTF-8, control bytes, a newline
 * and a 255-byte component. For every event, the name as the subscriber can
 * recover it (path_bytes when set, else path; likewise new_path) equals the
 * name the process used, byte for byte; two names that differ only in bytes
 * that are not UTF-8 stay two names; trunc_flags bit 6 marks exactly the
 * events whose names needed the bytes fields. The same for the other names
 * a process chooses: its comm, an xattr's name, and a failed exec's path and
 * arguments (comm_bytes, xattr_name_bytes, path_bytes, argv_bytes).
 */
#include "e2e.h"

#include <sys/xattr.h>

#define NNAMES 5

static const char *const names[NNAMES] = {
	"inv\xff\xfe" "alid.doc",      /* not UTF-8 */
	"inv\xff\xfd" "alid.doc",      /* differs from the one above in a byte '?' would hide */
	"ctl\x01\x1b[31m.txt",         /* control bytes: UTF-8, so the string holds them */
	"new\nline.txt",
	NULL, /* 255 bytes, filled in main() */
};
static char longname[256];

#define COMM "nm\xff\xfe"		 /* the child's comm after the names, for the last two */
#define XATTR "user.t\xff\xfeg"	 /* set on a file of its own */
#define EXEC_PATH "/nonexistent/\xfe" /* an exec that fails with ENOENT */
static char *const exec_argv[] = {"x\xff", "plain", NULL};

static const char *name_of(int i)
{
	return i == NNAMES - 1 ? longname : names[i];
}

/* Renamed with a byte that is not UTF-8 appended; the 255-byte name gets cut to fit. */
static void new_name(char *out, size_t len, const char *dir, int i)
{
	if (i == NNAMES - 1)
		snprintf(out, len, "%s/%.250s.lck", dir, name_of(i));
	else
		snprintf(out, len, "%s/%s.\xff", dir, name_of(i));
}

static void work(const struct e2e *e, int report_fd, void *arg)
{
	char a[PATH_MAX + 300], b[PATH_MAX + 300];
	uint64_t ok = 0;
	(void)arg;
	for (int i = 0; i < NNAMES; i++) {
		snprintf(a, sizeof(a), "%s/%s", e->work, name_of(i));
		new_name(b, sizeof(b), e->work, i);
		int fd = open(a, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		ok += fd >= 0 && write(fd, "data", 4) == 4 && close(fd) == 0 && rename(a, b) == 0 &&
		      unlink(b) == 0;
	}
	prctl(PR_SET_NAME, COMM);
	snprintf(a, sizeof(a), "%s/xattr", e->work);
	int fd = open(a, O_CREAT | O_WRONLY, 0644);
	ok += fd >= 0 && fsetxattr(fd, XATTR, "v", 1, 0) == 0 && close(fd) == 0;
	ok += execve(EXEC_PATH, exec_argv, environ) == -1 && errno == ENOENT;
	if (write(report_fd, &ok, sizeof(ok)) != sizeof(ok))
		_exit(1);
}

/* The name as a subscriber can recover it: exact bytes when set, else the string. */
static bool same(const char *str, ProtobufCBinaryData exact, const char *want)
{
	if (exact.len)
		return exact.len == strlen(want) && memcmp(exact.data, want, exact.len) == 0;
	return strcmp(str, want) == 0;
}

static bool utf8_ok(const char *s)
{
	/* what the encoder keeps as is: strict UTF-8 */
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
		if (!n)
			return false;
		for (int i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += n;
	}
	return true;
}

int main(void)
{
	struct e2e e = {0};
	char want[NNAMES][2][PATH_MAX + 300];
	unsigned seen[NNAMES][4] = {{0}}; /* open, write, rename, unlink */
	uint64_t ok = 0;

	e2e_require("the exact names test", true);
	memset(longname, 'L', 255);
	e2e_dirs(&e, "e2e-names");
	char xattr_file[PATH_MAX + 16];
	snprintf(xattr_file, sizeof(xattr_file), "%s/xattr", e.work);
	for (int i = 0; i < NNAMES; i++) {
		snprintf(want[i][0], sizeof(want[i][0]), "%s/%s", e.work, name_of(i));
		new_name(want[i][1], sizeof(want[i][1]), e.work, i);
	}
	e2e_child(&e, work, NULL);
	e2e_run(&e, NULL);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	e2e_go(&e, e.sub, 1);
	CHECK(read(e.done_fd, &ok, sizeof(ok)) == sizeof(ok) && ok == NNAMES + 2,
	      "the child managed %llu of %d names, the xattr and the exec",
	      (unsigned long long)ok, NNAMES);

	unsigned total = 0, xattrs = 0, execs = 0;
	Nerrf__Trace__EventBatch *b;
	for (uint64_t end = nerrf_mono_ms() + 20000;
	     (total < 4 * NNAMES || !xattrs || !execs) &&
	     (b = e2e_next_batch(&e, e.sub, end));) {
		for (size_t k = 0; k < b->n_events; k++) {
			const Nerrf__Trace__Event *ev = b->events[k];
			int kind = !strncmp(ev->syscall, "open", 4) || !strcmp(ev->syscall, "creat") ? 0
				 : !strncmp(ev->syscall, "write", 5) || !strncmp(ev->syscall, "pwrite", 6) ? 1
				 : !strncmp(ev->syscall, "rename", 6) ? 2
				 : !strncmp(ev->syscall, "unlink", 6) ? 3 : -1;
			if (e2e_is_probe(&e, ev))
				continue;
			/* After the names the child renames itself: these events carry the new comm. */
			bool named = !strcmp(ev->syscall, "fsetxattr") || !strcmp(ev->syscall, "execve") ||
				     !strcmp(ev->syscall, "exit") || !strcmp(ev->path, xattr_file);
			CHECK(!named || (same(ev->comm, ev->comm_bytes, COMM) && ev->comm_bytes.len &&
					 strcmp(ev->comm, "nm?\?") == 0 && ev->trunc_flags & (1u << 6)),
			      "%s: comm '%s' (%zu exact bytes, trunc_flags %#x), want " COMM
			      " as bytes and 'nm?\?'", ev->syscall, ev->comm, ev->comm_bytes.len,
			      ev->trunc_flags);
			CHECK(named || ev->comm_bytes.len == 0, "%s: comm_bytes for a UTF-8 comm",
			      ev->syscall);
			if (!strcmp(ev->syscall, "fsetxattr")) {
				CHECK(same(ev->xattr_name, ev->xattr_name_bytes, XATTR) &&
				      ev->xattr_name_bytes.len, "xattr name '%s'", ev->xattr_name);
				xattrs++;
			}
			if (!strcmp(ev->syscall, "execve")) {
				CHECK(ev->ret_val == -ENOENT && ev->n_argv == 2 && ev->n_argv_bytes == 2,
				      "failed execve: ret %lld, %zu argv, %zu argv_bytes",
				      (long long)ev->ret_val,
				      ev->n_argv, ev->n_argv_bytes);
				for (int i = 0; i < 2; i++)
					CHECK(same("", ev->argv_bytes[i], exec_argv[i]), "argv[%d]", i);
				CHECK(same(ev->path, ev->path_bytes, EXEC_PATH) && ev->path_bytes.len,
				      "path '%s' (%zu exact bytes)", ev->path, ev->path_bytes.len);
				execs++;
			}
			if (kind < 0)
				continue;
			for (int i = 0; i < NNAMES; i++) {
				const char *w = want[i][kind == 3];
				if (!same(ev->path, ev->path_bytes, w))
					continue;
				if (kind == 2)
					CHECK(same(ev->new_path, ev->new_path_bytes, want[i][1]),
					      "rename of name %d: new name differs", i);
				bool needs = !utf8_ok(w) || (kind == 2 && !utf8_ok(want[i][1]));
				CHECK(!!(ev->trunc_flags & (1u << 6)) == needs,
				      "name %d, %s: trunc_flags %#x", i, ev->syscall, ev->trunc_flags);
				CHECK(ev->path_bytes.len == 0 || !utf8_ok(w),
				      "path_bytes set for a UTF-8 name");
				seen[i][kind]++;
				total++;
			}
		}
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
	CHECK(xattrs == 1 && execs == 1, "%u fsetxattr and %u execve events, want 1 each", xattrs,
	      execs);
	for (int i = 0; i < NNAMES; i++)
		for (int k = 0; k < 4; k++)
			CHECK(seen[i][k] == 1, "name %d: %u events of kind %d, want exactly 1", i,
			      seen[i][k], k);
	e2e_finish(&e);
	return 0;
}
