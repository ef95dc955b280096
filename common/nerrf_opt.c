/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nerrf_log.h"
#include "nerrf_opt.h"
#include "nerrf_parse.h"
#include "nerrf_version.h"

void nerrf_opt_longopts(const struct nerrf_opt *t, struct option *lo)
{
	int i;

	for (i = 0; t[i].name; i++) {
		enum nerrf_opt_kind k = t[i].kind;
		bool none = k == NERRF_OPT_FLAG || k == NERRF_OPT_COUNT || k >= NERRF_OPT_ACTION;

		lo[i] = (struct option){t[i].name, none ? no_argument : required_argument, NULL,
					256 + i};
	}
	lo[i] = (struct option){0};
}

static void store(char *at, size_t width, uint64_t v)
{
	switch (width) {
	case 1: *(uint8_t *)at = (uint8_t)v; break;
	case 2: *(uint16_t *)at = (uint16_t)v; break;
	case 4: *(uint32_t *)at = (uint32_t)v; break;
	default: *(uint64_t *)at = v; break;
	}
}

static uint64_t load(const char *at, size_t width)
{
	switch (width) {
	case 1: return *(const uint8_t *)at;
	case 2: return *(const uint16_t *)at;
	case 4: return *(const uint32_t *)at;
	default: return *(const uint64_t *)at;
	}
}

static const char *unit_suffix(uint64_t unit)
{
	return unit == NERRF_S ? "s" : unit == NERRF_MS ? "ms" : "us";
}

/* The option's name ends in its unit: "-us", "-ms", "-s". */
static bool named_unit(const char *name, uint64_t unit)
{
	size_t n = strlen(name), k = strlen(unit_suffix(unit));

	return n > k && name[n - k - 1] == '-' && strcmp(name + n - k, unit_suffix(unit)) == 0;
}

void nerrf_opt_print(FILE *f, const struct nerrf_opt *t, const void *o)
{
	for (const struct nerrf_opt *d = t; d->name; d++) {
		const char *at = (const char *)o + d->off;
		uint64_t v = d->kind >= NERRF_OPT_UINT && d->kind <= NERRF_OPT_MODE
				     ? load(at, d->width) : 0;

		switch (d->kind) {
		case NERRF_OPT_FLAG:
			if (strcmp(d->name, "check-config") != 0)
				fprintf(f, "%s = %s\n", d->name, *(const bool *)at ? "true" : "false");
			break;
		case NERRF_OPT_COUNT:
			fprintf(f, "%s = %s\n", d->name, *(const int *)at ? "true" : "false");
			break;
		case NERRF_OPT_STR:
			if (*(const char *const *)at)
				fprintf(f, "%s = %s\n", d->name, *(const char *const *)at);
			break;
		case NERRF_OPT_UINT:
		case NERRF_OPT_SIZE:
			if (v || !d->min) /* 0 below the minimum: not set */
				fprintf(f, "%s = %llu\n", d->name, (unsigned long long)v);
			break;
		case NERRF_OPT_DURATION:
		case NERRF_OPT_NS:
			if (d->kind == NERRF_OPT_NS)
				v /= d->unit;
			if (v || !d->min) /* latency-us = 1000, start-grace = 500ms */
				fprintf(f, "%s = %llu%s\n", d->name, (unsigned long long)v,
					named_unit(d->name, d->unit) ? "" : unit_suffix(d->unit));
			break;
		case NERRF_OPT_MODE:
			fprintf(f, "%s = %04llo\n", d->name, (unsigned long long)v);
			break;
		case NERRF_OPT_UINTS:
			for (unsigned i = 0; i < *(const unsigned *)((const char *)o + d->n_off); i++)
				fprintf(f, "%s = %llu\n", d->name,
					(unsigned long long)load(at + i * d->width, d->width));
			break;
		case NERRF_OPT_NAMES:
			v = load(at, d->width);
			if (!v) /* none: not set */
				break;
			fprintf(f, "%s = ", d->name);
			for (size_t i = 0, n = 0; i < d->unit; i++)
				if (v & (1ull << i))
					fprintf(f, "%s%s", n++ ? "," : "", d->names[i]);
			fprintf(f, "\n");
			break;
		default: /* options only, or a stage's own function: the stage prints those */
			break;
		}
	}
}

static int apply(const struct nerrf_opt *d, void *o, const char *arg, char *err, size_t errlen)
{
	char *at = (char *)o + d->off, flag[64];
	uint64_t v = 0;
	unsigned mode;
	int rc = 0;

	snprintf(flag, sizeof(flag), "--%s", d->name);
	switch (d->kind) {
	case NERRF_OPT_IGNORE:
		break;
	case NERRF_OPT_FLAG:
		*(bool *)at = true;
		break;
	case NERRF_OPT_COUNT:
		(*(int *)at)++;
		break;
	case NERRF_OPT_STR:
		*(const char **)at = arg;
		break;
	case NERRF_OPT_UINT:
		rc = nerrf_parse_uint(flag, arg, d->min, d->max, &v, err, errlen);
		if (rc == 0)
			store(at, d->width, v);
		break;
	case NERRF_OPT_SIZE:
		rc = nerrf_parse_size(flag, arg, d->min, d->max, d->pow2, &v, err, errlen);
		if (rc == 0)
			store(at, d->width, v);
		break;
	case NERRF_OPT_DURATION:
	case NERRF_OPT_NS:
		rc = nerrf_parse_duration(flag, arg, d->unit, d->min, d->max, &v, err, errlen);
		if (rc == 0)
			store(at, d->width, d->kind == NERRF_OPT_NS ? v * d->unit : v);
		break;
	case NERRF_OPT_MODE:
		rc = nerrf_parse_mode(flag, arg, (unsigned)d->max, &mode, err, errlen);
		if (rc == 0)
			store(at, d->width, mode);
		break;
	case NERRF_OPT_UINTS: {
		unsigned *n = (unsigned *)((char *)o + d->n_off);

		rc = nerrf_parse_uint(flag, arg, d->min, d->max, &v, err, errlen);
		if (rc == 0 && *n >= d->unit) {
			snprintf(err, errlen, "%s %s: at most %u of them", flag, arg, (unsigned)d->unit);
			rc = -1;
		}
		if (rc == 0)
			store(at + (*n)++ * d->width, d->width, v);
		break;
	}
	case NERRF_OPT_NAMES:
		rc = nerrf_parse_names(flag, arg, d->names, d->unit, &v, err, errlen);
		if (rc == 0)
			store(at, d->width, v);
		break;
	case NERRF_OPT_FN:
	case NERRF_OPT_ACTION:
		rc = d->fn(o, arg, err, errlen);
		break;
	case NERRF_OPT_HELP:
		d->usage(stdout);
		return 1;
	case NERRF_OPT_VERSION:
		printf("%s %s\n", d->prog, NERRF_VERSION);
		return 1;
	}
	return rc < 0 ? -1 : 0;
}

int nerrf_opt_parse(const struct nerrf_opt *t, const struct option *lo,
		    const struct nerrf_conf_argv *ca, void *o, char *err, size_t errlen)
{
	int c;

	optind = 0;
	while ((c = getopt_long(ca->argc, ca->argv, "", lo, NULL)) != -1) {
		if (c < 256)
			return -2;
		int rc = apply(&t[c - 256], o, optarg, err, errlen);
		if (rc != 0)
			return rc;
	}
	if (optind != ca->argc) {
		snprintf(err, errlen, "unexpected argument '%s'; see --help", ca->argv[optind]);
		return -3;
	}
	return 0;
}

int nerrf_opt_read(const struct nerrf_optset *s, int dirfd, void *o, struct nerrf_conf_argv *ca)
{
	const struct nerrf_opt *d;
	char err[512];
	int rc;

	memcpy(o, s->defaults, s->size);
	if ((dirfd == NERRF_OPT_NOFILE
		     ? nerrf_conf_cmdline(s->argc, s->argv, s->section, ca, err, sizeof(err))
		     : nerrf_conf_load_at(dirfd, s->argc, s->argv, s->section, s->lo,
					  s->trusted_only, ca, err, sizeof(err))) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	rc = nerrf_opt_parse(s->table, s->lo, ca, o, err, sizeof(err));
	if (rc == 1)
		exit(0);
	if (rc == -1) {
		log_warnx("%s", err);
		nerrf_conf_origin(ca, optind, s->section, err, sizeof(err));
		log_warnx("the value above is from %s", err);
	} else if (rc == -2) { /* getopt has named the option */
		for (d = s->table; d->name && d->kind != NERRF_OPT_HELP; d++)
			;
		if (d->name)
			d->usage(stderr);
	} else if (rc == -3) {
		log_warnx("%s", err);
	} else if (s->check) {
		rc = s->check(o);
	}
	if (rc < 0)
		nerrf_conf_free(ca);
	return rc < 0 ? -1 : 0;
}

int nerrf_opt_start(struct nerrf_optset *s, int argc, char **argv, void *o)
{
	size_t n = 0;

	while (s->table[n].name)
		n++;
	if (n > NERRF_OPT_MAX)
		fatalx(70, "%s: %zu options, more than NERRF_OPT_MAX", s->section, n);
	s->argc = argc;
	s->argv = argv;
	nerrf_opt_longopts(s->table, s->lo);
	return nerrf_opt_read(s, -1, o, &s->boot);
}

int nerrf_opt_reload(const struct nerrf_optset *s, int dirfd, void *n,
		     struct nerrf_conf_argv *next)
{
	if (nerrf_opt_read(s, dirfd, n, next) == 0)
		return 0;
	log_warnx("reload: the configuration is invalid (above): the one in force stays; "
		  "fix it and send SIGHUP again");
	return -1;
}

size_t nerrf_opt_take(struct nerrf_optset *s, struct nerrf_conf_argv *next)
{
	size_t live = nerrf_conf_report(&s->boot, s->cur.argv ? &s->cur : &s->boot, next, s->lo,
					s->live ? s->live : (const char *const[]){NULL});

	nerrf_conf_free(&s->cur);
	s->cur = *next;
	return live;
}

void nerrf_opt_show(const struct nerrf_optset *s, const void *o)
{
	printf("[%s]\n# changes at SIGHUP:", s->section);
	for (const char *const *k = s->live; k && *k; k++)
		printf(" %s", *k);
	printf(s->live ? "; the rest at a restart\n" : " nothing; every key at a restart\n");
	nerrf_opt_print(stdout, s->table, o);
}

void nerrf_opt_free(struct nerrf_optset *s)
{
	nerrf_conf_free(&s->cur);
	nerrf_conf_free(&s->boot);
}
