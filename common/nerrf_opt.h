/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A stage's options as a table: name, kind of argument (with its range),
 * and where the value goes in the stage's options struct. One table gives
 * getopt's long options (so also the keys of the stage's section of the
 * configuration file, nerrf_conf.h) and parses the merged argv: numbers,
 * sizes, durations and modes through nerrf_parse.h, the rest by a function
 * of the stage's. Values go straight into the struct, so the stage's own
 * code keeps only what is particular to it.
 */
#ifndef NERRF_OPT_H
#define NERRF_OPT_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nerrf_conf.h"

enum nerrf_opt_kind {
	NERRF_OPT_IGNORE,   /* takes an argument someone else read (--config) */
	NERRF_OPT_FLAG,     /* no argument: the bool at off becomes true */
	NERRF_OPT_COUNT,    /* no argument: the int at off goes up by one */
	NERRF_OPT_STR,      /* the const char * at off points at the argument */
	NERRF_OPT_UINT,     /* min..max */
	NERRF_OPT_SIZE,     /* bytes with K/M/G/T, min..max, a power of two if pow2 */
	NERRF_OPT_DURATION, /* in unit (NERRF_US ...) with suffixes, min..max */
	NERRF_OPT_NS,       /* the same, kept in nanoseconds */
	NERRF_OPT_MODE,     /* a file mode; the bits in max are refused */
	NERRF_OPT_UINTS,    /* repeatable: an array of unit numbers at off, its count
			       (unsigned) at n_off, min..max */
	NERRF_OPT_NAMES,    /* names out of names[0..unit): their bits, 1 << index, at off */
	NERRF_OPT_FN,       /* fn(o, arg, ...) */
	NERRF_OPT_ACTION,   /* no argument: fn(o, NULL, ...) */
	NERRF_OPT_HELP,     /* no argument: usage(stdout), and the parse stops */
	NERRF_OPT_VERSION,  /* no argument: "prog VERSION", and the parse stops */
};

struct nerrf_opt {
	const char *name;
	enum nerrf_opt_kind kind;
	size_t off, width; /* where the value goes: a 1, 2, 4 or 8-byte unsigned for numbers */
	uint64_t min, max;
	uint64_t unit;     /* DURATION, NS: the unit; UINTS: the array's length; NAMES: names' */
	bool pow2;         /* SIZE */
	size_t n_off;      /* UINTS: where the count (unsigned) is */
	const char *const *names; /* NAMES */
	/* FN, ACTION: 0, or -1 with a message in err naming the option. */
	int (*fn)(void *o, const char *arg, char *err, size_t errlen);
	void (*usage)(FILE *f); /* HELP */
	const char *prog;       /* VERSION */
};

/* Table rows; T is the stage's options struct, f a field of it. */
#define NERRF_OPT_AT_(T, f) .off = offsetof(T, f), .width = sizeof(((T *)0)->f)
#define NOPT_IGNORE(n) { .name = n, .kind = NERRF_OPT_IGNORE }
#define NOPT_FLAG(n, T, f) { .name = n, .kind = NERRF_OPT_FLAG, NERRF_OPT_AT_(T, f) }
#define NOPT_COUNT(n, T, f) { .name = n, .kind = NERRF_OPT_COUNT, NERRF_OPT_AT_(T, f) }
#define NOPT_STR(n, T, f) { .name = n, .kind = NERRF_OPT_STR, NERRF_OPT_AT_(T, f) }
#define NOPT_UINT(n, T, f, lo, hi) \
	{ .name = n, .kind = NERRF_OPT_UINT, NERRF_OPT_AT_(T, f), .min = lo, .max = hi }
#define NOPT_SIZE(n, T, f, lo, hi, p2) \
	{ .name = n, .kind = NERRF_OPT_SIZE, NERRF_OPT_AT_(T, f), .min = lo, .max = hi, .pow2 = p2 }
#define NOPT_DURATION(n, T, f, u, lo, hi) \
	{ .name = n, .kind = NERRF_OPT_DURATION, NERRF_OPT_AT_(T, f), .min = lo, .max = hi, .unit = u }
#define NOPT_NS(n, T, f, u, lo, hi) \
	{ .name = n, .kind = NERRF_OPT_NS, NERRF_OPT_AT_(T, f), .min = lo, .max = hi, .unit = u }
#define NOPT_MODE(n, T, f, deny) \
	{ .name = n, .kind = NERRF_OPT_MODE, NERRF_OPT_AT_(T, f), .max = deny }
#define NOPT_UINTS(n, T, f, count, lo, hi) \
	{ .name = n, .kind = NERRF_OPT_UINTS, .off = offsetof(T, f), .width = sizeof(((T *)0)->f[0]), \
	  .min = lo, .max = hi, .unit = sizeof(((T *)0)->f) / sizeof(((T *)0)->f[0]), \
	  .n_off = offsetof(T, count) }
/* list: an array of the names, by bit */
#define NOPT_NAMES(n, T, f, list) \
	{ .name = n, .kind = NERRF_OPT_NAMES, NERRF_OPT_AT_(T, f), .names = list, \
	  .unit = sizeof(list) / sizeof(list[0]) }
#define NOPT_FN(n, f) { .name = n, .kind = NERRF_OPT_FN, .fn = f }
#define NOPT_ACTION(n, f) { .name = n, .kind = NERRF_OPT_ACTION, .fn = f }
#define NOPT_HELP(u) { .name = "help", .kind = NERRF_OPT_HELP, .usage = u }
#define NOPT_VERSION(p) { .name = "version", .kind = NERRF_OPT_VERSION, .prog = p }
#define NOPT_END { .name = NULL }

/* The long options of t (ended by a NULL name) into lo, which has room for all and the end. */
void nerrf_opt_longopts(const struct nerrf_opt *t, struct option *lo);

/*
 * Applies every option of the merged argv ca to o, in order. Returns 0;
 * 1 after --help or --version; -1 on a bad value (message in err; nerrf_conf_origin says where it came
 * from); -2 on an option not in the table (getopt has said so); -3 on an
 * argument that is no option (message in err).
 */
int nerrf_opt_parse(const struct nerrf_opt *t, const struct option *lo,
		    const struct nerrf_conf_argv *ca, void *o, char *err, size_t errlen);

/*
 * The values in o as "key = value" lines that the same table parses back:
 * --check-config's section. Options only (help, version, config,
 * check-config) and FN/ACTION rows are the stage's to print; a number left
 * at 0 below its minimum is not set and not printed.
 */
void nerrf_opt_print(FILE *f, const struct nerrf_opt *t, const void *o);

/* rows of a stage's table at most */
#define NERRF_OPT_MAX 48

/*
 * A stage's options over its life: read at start, again at each SIGHUP.
 * The merged argvs are kept, for the values' strings point into them.
 */
struct nerrf_optset {
	const char *section;       /* the file's [section] */
	const struct nerrf_opt *table;
	const void *defaults;      /* the options struct before any option ... */
	size_t size;               /* ... and its size */
	const char *const *live;   /* keys a reload puts in force at once, NULL-ended; NULL: none */
	bool trusted_only;         /* read as root: the file must be root's alone */
	int (*check)(void *o);     /* across options, or NULL: 0, or -1 after logging */
	/* nerrf_opt_start's */
	int argc;
	char **argv;
	struct option lo[NERRF_OPT_MAX + 1];
	struct nerrf_conf_argv boot, cur; /* the start's; the last reload taken (argv NULL: none) */
};

/* nerrf_opt_read's dirfd for the command line alone, no file */
#define NERRF_OPT_NOFILE (-2)

/*
 * s's command line merged with the file's [section] (the file opened through
 * dirfd when >= 0, by name when -1), parsed into o, which starts as the
 * defaults whatever happens, and checked. 0 with ca holding the strings o
 * points into, or -1 after logging what is wrong and where it came from (ca
 * freed). --help and --version print, then exit(0).
 */
int nerrf_opt_read(const struct nerrf_optset *s, int dirfd, void *o, struct nerrf_conf_argv *ca);

/* At start: nerrf_opt_read by the file's name, kept in s->boot. 0 or -1. */
int nerrf_opt_start(struct nerrf_optset *s, int argc, char **argv, void *o);

/*
 * At SIGHUP: the file read again with the start's command line into n and
 * next. -1 after logging that the configuration in force stays.
 */
int nerrf_opt_reload(const struct nerrf_optset *s, int dirfd, void *n,
		     struct nerrf_conf_argv *next);

/*
 * The stage takes the reload: what changed is logged (nerrf_conf_report)
 * and next becomes s->cur. Returns how many live keys changed.
 */
size_t nerrf_opt_take(struct nerrf_optset *s, struct nerrf_conf_argv *next);

/* --check-config: "[section]", what a SIGHUP changes, then nerrf_opt_print. */
void nerrf_opt_show(const struct nerrf_optset *s, const void *o);

void nerrf_opt_free(struct nerrf_optset *s);

#endif /* NERRF_OPT_H */
