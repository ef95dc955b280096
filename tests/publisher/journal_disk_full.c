/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The journal on a full file system (a 2 MiB tmpfs, mostly taken by a file
 * the test made): publishing goes on, every batch reaches the subscriber,
 * journal_dropped rises, the log says so once; once the file is removed the
 * journal resumes by itself and keeps the new batches.
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "lib/fixture.h"
#include "lib/records.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"
#include "nerrf_journal.h"

#define FULL 200  /* batches while the disk is full */
#define AFTER 150 /* after space came back */

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Batches from..to, each checked at the subscriber; the last one's journal_dropped. */
static uint64_t publish(struct pt_env *t, nng_socket ev, unsigned from, unsigned to, int gap_us)
{
	static uint8_t rec[16384];
	uint64_t dropped = 0;
	for (unsigned i = from; i <= to; i++) {
		CHECK(pt_put(t->r2, rec, pt_make_batch(rec, sizeof(rec), i, 8, 7, 900)) == 0);
		nng_msg *m = pt_recv(ev, 5000);
		CHECK(m != NULL, "batch %u never reached the subscriber: publishing stopped", i);
		Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
		CHECK_EQ_U64(b->publisher_seq, i);
		dropped = b->journal_dropped;
		nerrf__trace__event_batch__free_unpacked(b, NULL);
		nng_msg_free(m);
		usleep(gap_us);
	}
	return dropped;
}

int main(void)
{
	struct pt_env t;
	char mnt[700], jdir[720], filler[720];

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: mounting a small tmpfs as the journal directory needs root\n");
		return 77;
	}
	pt_env_init(&t, "pub-jfull");
	snprintf(mnt, sizeof(mnt), "%s/mnt", t.dir);
	snprintf(jdir, sizeof(jdir), "%s/journal", mnt);
	snprintf(filler, sizeof(filler), "%s/filler", mnt);
	CHECK(mkdir(mnt, 0755) == 0);
	/* In a mount namespace of our own, so a failed test leaves no mount behind. */
	CHECK(unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0,
	      "a private mount namespace: %s", strerror(errno));
	CHECK(mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=2m") == 0,
	      "mount a tmpfs on %s: %s", mnt, strerror(errno));

	/* All but ~400 KiB taken: the journal fills it after some 50 batches. */
	int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	static uint8_t zero[64 << 10];
	CHECK(fd >= 0);
	for (int i = 0; i < 26; i++)
		CHECK(write(fd, zero, sizeof(zero)) == (ssize_t)sizeof(zero));
	close(fd);

	pid_t pub = pt_publisher(t.dir, t.err, "--journal", jdir, "--journal-sync-ms", "50",
				 NULL);
	nng_socket stats = pt_sub(t.url, NERRF_TOPIC_STATS);
	nng_socket ev = pt_sub(t.url, NERRF_TOPIC_EVENTS);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(stats, 2), NULL);

	uint64_t d1 = publish(&t, ev, 1, FULL, 2000);
	CHECK(d1 > 0, "the disk is full, yet journal_dropped is 0 after %d batches", FULL);
	CHECK(count(pt_slurp(t.err), "journal paused") == 1, "one log line for the pause: %s",
	      pt_slurp(t.err));

	CHECK(unlink(filler) == 0);
	usleep(1500000); /* the journal retries once a second */
	uint64_t d2 = publish(&t, ev, FULL + 1, FULL + AFTER, 20000);
	CHECK(strstr(pt_slurp(t.err), "journal resumed"), "never said it resumed: %s",
	      pt_slurp(t.err));
	CHECK(count(pt_slurp(t.err), "journal paused") == 1, "paused again: %s", pt_slurp(t.err));
	pt_stop(pub);

	/* The batches after the resumption are kept, and nothing dropped is served. */
	int dfd = open(jdir, O_RDONLY | O_DIRECTORY);
	struct nerrf_jseg *v;
	size_t n;
	uint64_t kept = 0, last = 0, kept_after = 0;
	CHECK(dfd >= 0 && nerrf_journal_list(dfd, &v, &n) == 0);
	for (size_t i = 0; i < n; i++) {
		int sfd = openat(dfd, v[i].name, O_RDONLY);
		struct nerrf_jreader rd;
		struct nerrf_jrec r;
		int rv;
		nerrf_jreader_init(&rd, sfd, 0);
		while ((rv = nerrf_jreader_next(&rd, UINT64_MAX, &r)) == NERRF_JREAD_RECORD) {
			CHECK(r.h.seq > last);
			last = r.h.seq;
			kept++;
			kept_after += r.h.seq > FULL;
		}
		CHECK(rv == NERRF_JREAD_END, "segment %s: %d %s", v[i].name, rv, rd.why);
		nerrf_jreader_free(&rd);
		close(sfd);
	}
	free(v);
	close(dfd);
	CHECK_EQ_U64(last, FULL + AFTER);
	/* Every batch is kept or counted; after the pause ended, nearly all are kept. */
	CHECK_EQ_U64(kept + d2, FULL + AFTER);
	CHECK(kept_after >= AFTER - 60,
	      "after space came back %llu of %d kept, journal_dropped %llu -> %llu",
	      (unsigned long long)kept_after, AFTER, (unsigned long long)d1,
	      (unsigned long long)d2);

	CHECK(umount2(mnt, MNT_DETACH) == 0, "umount %s: %s", mnt, strerror(errno));
	pt_env_free(&t);
	return 0;
}
