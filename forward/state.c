/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The forwarder's position, the last publisher_seq JetStream acknowledged,
 * in a small text file of its state directory:
 *
 *   nerrf-forward-state 1
 *   acked_seq 12345
 *
 * Replaced atomically (a temporary file written and synced, renamed over the
 * old one, the directory synced), all through the directory's fd, so a crash
 * or power cut leaves the old position or the new one, never a torn file. A
 * position a little old only means re-sends, which JetStream's duplicate
 * window absorbs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "forward.h"
#include "nerrf_parse.h"

#define MAGIC "nerrf-forward-state 1\n"
#define MAX_FILE 256
#define TMP_FILE FWD_STATE_FILE ".tmp"

int fwd_state_parse(const char *buf, size_t len, struct fwd_state *out, char *err, size_t errlen)
{
	const size_t ml = sizeof(MAGIC) - 1;
	static const char key[] = "acked_seq ";
	char num[32], shown[64];

	*out = (struct fwd_state){0};
	if (len < ml || memcmp(buf, MAGIC, ml) != 0) {
		nerrf_escape(shown, sizeof(shown), buf, len < 24 ? len : 24);
		snprintf(err, errlen, "does not start with \"nerrf-forward-state 1\" (it starts "
			 "\"%s\")", shown);
		return -1;
	}
	buf += ml;
	len -= ml;
	const char *nl = memchr(buf, '\n', len);
	if (len < sizeof(key) - 1 || memcmp(buf, key, sizeof(key) - 1) != 0 || !nl ||
	    (size_t)(nl + 1 - buf) != len) {
		nerrf_escape(shown, sizeof(shown), buf, len);
		snprintf(err, errlen, "want one line \"acked_seq N\" after the first, got \"%s\"",
			 shown);
		return -1;
	}
	size_t n = (size_t)(nl - buf) - (sizeof(key) - 1);
	if (n >= sizeof(num) || memchr(buf + sizeof(key) - 1, '\0', n)) {
		snprintf(err, errlen, "acked_seq is not a number");
		return -1;
	}
	memcpy(num, buf + sizeof(key) - 1, n);
	num[n] = '\0';
	return nerrf_parse_uint("acked_seq", num, 0, UINT64_MAX, &out->acked_seq, err, errlen);
}

int fwd_state_load(int dirfd, struct fwd_state *out, char *err, size_t errlen)
{
	char buf[MAX_FILE + 1], why[200];
	int fd = openat(dirfd, FWD_STATE_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	*out = (struct fwd_state){0};
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the state file: %s", strerror(errno));
		return -1;
	}
	ssize_t n = read(fd, buf, sizeof(buf));
	int e = errno;
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read the state file: %s", strerror(e));
		return -1;
	}
	if (n > MAX_FILE) {
		snprintf(err, errlen, "the state file is larger than %d bytes: not ours", MAX_FILE);
		return -1;
	}
	if (fwd_state_parse(buf, (size_t)n, out, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "the state file %s is damaged: %s; remove it to start "
			 "again from the live stream (batches since its position are then not "
			 "forwarded)", FWD_STATE_FILE, why);
		return -1;
	}
	return 0;
}

int fwd_state_save(int dirfd, const struct fwd_state *st, char *err, size_t errlen)
{
	char buf[MAX_FILE];
	int n = snprintf(buf, sizeof(buf), MAGIC "acked_seq %llu\n",
			 (unsigned long long)st->acked_seq);
	int fd = openat(dirfd, TMP_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
			0600);
	const char *what = "create";

	if (fd < 0)
		goto fail;
	what = "write";
	if (write(fd, buf, (size_t)n) != n)
		goto fail;
	what = "sync";
	if (fsync(fd) != 0)
		goto fail;
	close(fd);
	fd = -1;
	what = "rename";
	if (renameat(dirfd, TMP_FILE, dirfd, FWD_STATE_FILE) != 0)
		goto fail;
	what = "sync the directory of";
	if (fsync(dirfd) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot %s the state file: %s; is the state directory "
		 "(--state-dir) writable and its disk not full?", what,
		 errno ? strerror(errno) : "short write");
	if (fd >= 0)
		close(fd);
	return -1;
}
