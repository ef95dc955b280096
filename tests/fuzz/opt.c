/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The option tables (nerrf_opt) on arbitrary [forward] sections: the input is
 * the file, loaded with one table holding every kind of option and parsed
 * into a struct. Whatever the file says: no crash, no write outside the
 * struct (ASan; guards around it), a failure leaves a NUL-terminated message
 * within errlen, and a success leaves every number in its range and every
 * list within its length, and what nerrf_opt_print makes of it (the section
 * --check-config prints) parses back to the same values.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"
#include "harness.h"
#include "nerrf_opt.h"
#include "nerrf_parse.h"

struct all {
	uint64_t guard0;
	const char *str;
	bool flag;
	int count;
	unsigned u32;
	uint16_t u16;
	size_t size, pow2;
	unsigned dur, wait_ms;
	uint64_t ns;
	unsigned mode;
	unsigned pids[3], npids;
	uint16_t ports[2];
	unsigned nports;
	uint8_t names;
	unsigned fn_calls;
	uint64_t guard1;
};

static int fn(void *o, const char *arg, char *err, size_t errlen)
{
	((struct all *)o)->fn_calls++;
	if (strcmp(arg, "no") == 0) {
		snprintf(err, errlen, "--fn %s: refused", arg);
		return -1;
	}
	return 0;
}

static const char *const name_list[] = { "a", "bb", "all2" };

#define O struct all
static const struct nerrf_opt table[] = {
	NOPT_IGNORE("config"),
	NOPT_STR("str", O, str),
	NOPT_FLAG("flag", O, flag),
	NOPT_COUNT("count", O, count),
	NOPT_UINT("u32", O, u32, 5, 70000),
	NOPT_UINT("u16", O, u16, 1, 65535),
	NOPT_SIZE("size", O, size, 4096, 1ull << 40, false),
	NOPT_SIZE("pow2", O, pow2, 4096, 1u << 30, true),
	NOPT_DURATION("dur", O, dur, NERRF_MS, 1, 3600000),
	/* printed without a suffix: its name says the unit */
	NOPT_DURATION("wait-ms", O, wait_ms, NERRF_MS, 0, 60000),
	NOPT_NS("ns", O, ns, NERRF_S, 1, 86400),
	NOPT_MODE("mode", O, mode, 0007),
	NOPT_UINTS("pid", O, pids, npids, 1, 4194304),
	NOPT_UINTS("port", O, ports, nports, 1, 65535),
	NOPT_NAMES("names", O, names, name_list),
	NOPT_FN("fn", fn),
	NOPT_END,
};
#undef O
static struct option lo[sizeof(table) / sizeof(table[0])];

static char dir[256], path[300], path2[300];

static void cleanup(void)
{
	unlink(path);
	unlink(path2);
	rmdir(dir);
}

/* nerrf_opt_print's section for a, loaded and parsed again: the same values. */
static void round_trip(const struct all *a)
{
	char *argv[] = {"prog", "--config", path2, NULL}, err[512];
	struct nerrf_conf_argv ca;
	struct all b = {0};
	FILE *f = fopen(path2, "w");

	FUZZ_CHECK(f, "cannot write %s", path2);
	fputs("[forward]\n", f);
	nerrf_opt_print(f, table, a);
	FUZZ_CHECK(fclose(f) == 0, "cannot write %s", path2);
	FUZZ_CHECK(nerrf_conf_load(3, argv, "forward", lo, false, &ca, err, sizeof(err)) == 0 &&
			   nerrf_opt_parse(table, lo, &ca, &b, err, sizeof(err)) == 0,
		   "the printed section does not parse: %s", err);
	FUZZ_CHECK(!a->str == !b.str && (!a->str || strcmp(a->str, b.str) == 0),
		   "str '%s' came back as '%s'", a->str ? a->str : "(none)",
		   b.str ? b.str : "(none)");
	FUZZ_CHECK(a->flag == b.flag && !a->count == !b.count && a->u32 == b.u32 &&
			   a->u16 == b.u16 && a->size == b.size && a->pow2 == b.pow2 &&
			   a->dur == b.dur && a->wait_ms == b.wait_ms && a->ns == b.ns &&
			   a->mode == b.mode && a->npids == b.npids && !memcmp(a->pids, b.pids, sizeof(a->pids)) &&
			   a->nports == b.nports && !memcmp(a->ports, b.ports, sizeof(a->ports)) &&
			   a->names == b.names,
		   "a value printed by nerrf_opt_print parsed back differently");
	nerrf_conf_free(&ca);
}

static void parse(size_t errlen)
{
	char *argv[] = {"prog", "--config", path, NULL};
	struct nerrf_conf_argv ca;
	struct all a = {.guard0 = 0x5a5a5a5a5a5a5a5aull, .guard1 = 0xa5a5a5a5a5a5a5a5ull};
	char *err = malloc(errlen);

	FUZZ_CHECK(err, "out of memory");
	memset(err, 0x7f, errlen);
	if (nerrf_conf_load(3, argv, "forward", lo, false, &ca, err, errlen) != 0) {
		free(err);
		return;
	}
	memset(err, 0x7f, errlen);
	int rc = nerrf_opt_parse(table, lo, &ca, &a, err, errlen);
	FUZZ_CHECK(a.guard0 == 0x5a5a5a5a5a5a5a5aull && a.guard1 == 0xa5a5a5a5a5a5a5a5ull,
		   "a value went outside its field");
	FUZZ_CHECK(rc == 0 || rc == -1 || rc == -2 || rc == -3, "rc %d", rc);
	if (rc == -1 || rc == -3)
		FUZZ_CHECK(memchr(err, '\0', errlen), "message not terminated within %zu", errlen);
	if (rc == 0) {
		FUZZ_CHECK(!a.u32 || (a.u32 >= 5 && a.u32 <= 70000), "u32 %u", a.u32);
		FUZZ_CHECK(!a.size || (a.size >= 4096 && a.size <= (1ull << 40)), "size %zu", a.size);
		FUZZ_CHECK(!a.pow2 || (a.pow2 >= 4096 && !(a.pow2 & (a.pow2 - 1))), "pow2 %zu", a.pow2);
		FUZZ_CHECK(a.dur <= 3600000, "dur %u", a.dur);
		FUZZ_CHECK(a.wait_ms <= 60000, "wait-ms %u", a.wait_ms);
		FUZZ_CHECK(!a.ns || (a.ns >= NERRF_S && a.ns <= 86400 * NERRF_S), "ns %llu",
			   (unsigned long long)a.ns);
		FUZZ_CHECK(!(a.mode & 0007) && a.mode <= 07777, "mode %o", a.mode);
		FUZZ_CHECK(a.npids <= 3, "%u pids", a.npids);
		for (unsigned i = 0; i < a.npids; i++)
			FUZZ_CHECK(a.pids[i] >= 1 && a.pids[i] <= 4194304, "pid %u", a.pids[i]);
		FUZZ_CHECK(a.nports <= 2, "%u ports", a.nports);
		for (unsigned i = 0; i < a.nports; i++)
			FUZZ_CHECK(a.ports[i] >= 1, "port %u", a.ports[i]);
		FUZZ_CHECK(a.names <= 7, "names %#x", a.names);
		if (errlen == 512)
			round_trip(&a);
	}
	free(err);
	nerrf_conf_free(&ca);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "%s", test_tmpdir("fuzz-opt"));
		snprintf(path, sizeof(path), "%s/tracker.conf", dir);
		snprintf(path2, sizeof(path2), "%s/printed.conf", dir);
		atexit(cleanup);
		nerrf_opt_longopts(table, lo);
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0, "cannot write %s", path);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size, "short write to %s", path);
	close(fd);
	parse(1);
	parse(16);
	parse(512);
	return 0;
}
