/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A batch the publisher cannot send is counted where it was lost. Its
 * address space is capped from outside (prlimit RLIMIT_AS) just above what
 * it uses, so it cannot allocate the message for a large batch: it says so,
 * counts it in publisher_publish_errors and goes on. With the cap lifted,
 * the next batch reaches the subscriber with publish_errors 1 and a
 * publisher_seq two past the batch before it: the one missing batch is the
 * one counted.
 */
#include "lib/fixture.h"
#include "lib/spawn.h"
#include "lib/subscribe.h"

#include <sys/resource.h>

#define BIG_PATH (200u << 10) /* well above the cap's slack, below ring #2's largest record */

static uint8_t rec[BIG_PATH + 4096];

/* A ring #2 batch record of one event with a path of pathlen bytes. */
static size_t big_batch(uint64_t batch_seq, size_t pathlen)
{
	static char path[BIG_PATH + 1];
	Nerrf__Trace__EventBatch b = NERRF__TRACE__EVENT_BATCH__INIT;
	Nerrf__Trace__Event ev = NERRF__TRACE__EVENT__INIT, *evp = &ev;
	struct nerrf_r2_hdr h = {.kind = NERRF_R2_BATCH, .batch_seq = batch_seq, .nevents = 1};

	memset(path, 'p', pathlen);
	path[0] = '/';
	path[pathlen] = '\0';
	ev.pid = 6;
	ev.syscall = (char *)"openat";
	ev.path = path;
	b.n_events = 1;
	b.events = &evp;
	b.batch_seq = batch_seq;
	size_t len = nerrf__trace__event_batch__get_packed_size(&b);
	h.len = (uint32_t)len;
	memcpy(rec, &h, sizeof(h));
	nerrf__trace__event_batch__pack(&b, rec + sizeof(h));
	return sizeof(h) + len;
}

static Nerrf__Trace__EventBatch *next_batch(nng_socket sub)
{
	uint64_t end = nerrf_mono_ms() + 10000;

	while (nerrf_mono_ms() < end) {
		nng_msg *m = pt_recv(sub, 200);
		if (!m)
			continue;
		if (memcmp(nng_msg_body(m), NERRF_TOPIC_EVENTS, NERRF_TOPIC_LEN) == 0) {
			Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
			nng_msg_free(m);
			return b;
		}
		nng_msg_free(m);
	}
	FAIL("no batch within 10 s");
}

static unsigned long long vm_size(pid_t pid)
{
	char path[64], line[256];
	unsigned long long kb = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %llu kB", &kb) == 1)
			break;
	fclose(f);
	CHECK(kb > 0, "no VmSize in %s", path);
	return kb << 10;
}

int main(void)
{
	struct pt_env env;
	struct rlimit old, cap;
	struct nerrf_ring_stats rs;

	if (scale_sanitize())
		test_skip("a sanitizer's allocator reserves its memory up front, so RLIMIT_AS "
			  "cannot make the publisher's allocations fail; run the normal build");
	pt_env_init(&env, "publish-errors");
	pid_t pub = pt_publisher(env.dir, env.err, NULL);
	nng_socket sub = pt_sub(env.url, NULL);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(sub, 1), NULL);

	CHECK(pt_put(env.r2, rec, big_batch(1, 8)) == 0);
	Nerrf__Trace__EventBatch *b = next_batch(sub);
	CHECK_EQ_U64(b->publisher_seq, 1);
	CHECK_EQ_U64(b->publisher_publish_errors, 0);
	nerrf__trace__event_batch__free_unpacked(b, NULL);

	/* Room for what the publisher does between batches, not for a 200 KiB message. */
	CHECK(prlimit(pub, RLIMIT_AS, NULL, &old) == 0);
	cap = (struct rlimit){vm_size(pub) + (64u << 10), old.rlim_max};
	CHECK(prlimit(pub, RLIMIT_AS, &cap, NULL) == 0, "prlimit: %s", strerror(errno));
	CHECK(pt_put(env.r2, rec, big_batch(2, BIG_PATH)) == 0);
	uint64_t end = nerrf_mono_ms() + 10000;
	do {
		usleep(10000);
		nerrf_ring_prod_stats(env.r2, &rs);
	} while (rs.consumed < 2 && nerrf_mono_ms() < end);
	CHECK(prlimit(pub, RLIMIT_AS, &old, NULL) == 0);
	CHECK_EQ_U64(rs.consumed, 2);
	const char *e = pt_slurp(env.err);
	CHECK(strstr(e, "nerrf-publisher: send failed: ") &&
		      strstr(e, "counted in publisher_publish_errors"),
	      "the publisher did not say the send failed: %s", e);

	CHECK(pt_put(env.r2, rec, big_batch(3, 8)) == 0);
	b = next_batch(sub);
	fprintf(stderr, "batch %llu: publisher_seq %llu, publish_errors %llu\n",
		(unsigned long long)b->batch_seq, (unsigned long long)b->publisher_seq,
		(unsigned long long)b->publisher_publish_errors);
	CHECK_EQ_U64(b->batch_seq, 3);
	CHECK_EQ_U64(b->publisher_seq, 3);
	CHECK_EQ_U64(b->publisher_publish_errors, 1);
	nerrf__trace__event_batch__free_unpacked(b, NULL);
	CHECK(pt_wait_exit(pub, 0) < 0, "the publisher died: %s", pt_slurp(env.err));

	pt_stop(pub);
	nng_close(sub);
	pt_env_free(&env);
	return 0;
}
