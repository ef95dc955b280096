/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-subscribe warns on stderr, with the count, for every publisher_seq
 * gap: frozen (SIGSTOP) while far more batches arrive than its queues hold,
 * then thawed, it prints whole batches, and the batches it printed plus the
 * ones it says it missed are exactly the batches sent. The encoder's
 * batch_seq counts by twos here, so only publisher_seq gives that sum; what
 * batch_seq says (a batch lost before the publisher each time) is a warning
 * of its own.
 */
#include "rusttest.h"

#define NBATCH 400
#define NEV 48

/* Batch s goes out with batch_seq 2s; pt_make_batch gives its event i bytes = 2000s + i. */
#define BATCH_SEQ(s) (2 * (s))

/* Batches seen in the output. */
static unsigned count_batches(const char *path, unsigned *lines, bool seen[NBATCH + 2])
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	unsigned batches = 0;

	CHECK(f != NULL);
	*lines = 0;
	memset(seen, 0, (NBATCH + 2) * sizeof(bool));
	/* A last line without its newline is still being written. */
	for (ssize_t len; (len = getline(&line, &cap, f)) > 0 && line[len - 1] == '\n';) {
		json_object *o = tj_parse(line);
		const char *b = tj_get(o, "bytes");
		CHECK(b != NULL, "event line without bytes: %s", line);
		unsigned long s = strtoul(b, NULL, 10) / 2000;
		json_object_put(o);
		CHECK(s >= 1 && s <= NBATCH + 1, "batch %lu: %s", s, line);
		batches += !seen[s];
		seen[s] = true;
		(*lines)++;
	}
	free(line);
	fclose(f);
	return batches;
}

int main(void)
{
	const char *bin = rt_build();
	struct pt_env env;
	char out[600], serr[600];
	static uint8_t rec[1 << 16];
	bool seen[NBATCH + 2];
	unsigned lines;

	pt_env_init(&env, "rust-gap");
	snprintf(out, sizeof(out), "%s/sub.out", env.dir);
	snprintf(serr, sizeof(serr), "%s/sub.err", env.dir);
	pid_t pub = pt_publisher(env.dir, env.err, "--sendbuf", "4", NULL);
	nng_socket st = pt_sub(env.url, NERRF_TOPIC_STATS);
	/* nerrf-subscribe's first dial fails unless the publisher already listens. */
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 1), NULL);
	pid_t sub = rt_subscriber(bin, out, serr, "--url", env.url, NULL);
	nerrf__trace__stats__free_unpacked(pt_wait_subscribers(st, 2), NULL);

	size_t n = pt_make_batch(rec, sizeof(rec), BATCH_SEQ(1), 1, 5, 8);
	CHECK(pt_put(env.r2, rec, n) == 0);
	for (uint64_t end = nerrf_mono_ms() + 10000; nerrf_mono_ms() < end; usleep(10000))
		if (count_batches(out, &lines, seen) == 1)
			break;
	CHECK(seen[1], "the first batch was printed");

	kill(sub, SIGSTOP);
	/* 48 KiB batches, far more than 4 queued messages plus socket buffers hold. */
	for (uint64_t s = 2; s <= NBATCH; s++) {
		n = pt_make_batch(rec, sizeof(rec), BATCH_SEQ(s), NEV, 5, 1000);
		CHECK(pt_put(env.r2, rec, n) == 0);
	}
	usleep(300 * 1000);
	kill(sub, SIGCONT);
	/* A last batch that arrives after the thaw, so the end is known. */
	n = pt_make_batch(rec, sizeof(rec), BATCH_SEQ(NBATCH + 1), 1, 5, 8);
	CHECK(pt_put(env.r2, rec, n) == 0);
	for (uint64_t end = nerrf_mono_ms() + 15000; nerrf_mono_ms() < end; usleep(20000))
		if (count_batches(out, &lines, seen) && seen[NBATCH + 1])
			break;
	CHECK(seen[NBATCH + 1], "the batch sent after the thaw was printed");
	kill(sub, SIGTERM);
	CHECK(pt_wait_exit(sub, 5000) >= 0, "nerrf-subscribe ends on SIGTERM");

	unsigned printed = count_batches(out, &lines, seen);
	CHECK_EQ_U64(lines, 1 + (printed - 2) * NEV + 1); /* only whole batches */
	unsigned long missed = 0;
	const char *e = pt_slurp(env.err), *w = pt_slurp(serr);
	for (const char *p = w; (p = strstr(p, "nerrf-subscribe: warning: missed ")); p++)
		missed += strtoul(p + strlen("nerrf-subscribe: warning: missed "), NULL, 10);
	CHECK(missed > 0, "no gap warning: %s (publisher: %s)", w, e);
	CHECK_EQ_U64(printed + missed, NBATCH + 1);
	/* batch_seq counts by twos: a batch lost before the publisher every time, said apart. */
	CHECK(strstr(w, "batches lost between the encoder and the publisher (batch_seq ") != NULL,
	      "%s", w);

	pt_stop(pub);
	nng_close(st);
	pt_env_free(&env);
	return 0;
}
