/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nerrf_conf.h"

#define LINE_MAX_LEN 4096

static const char *const sections[] = {"collector", "encoder", "publisher", "nerrf"};

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *config_path(int argc, char **argv, bool *explicit)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			*explicit = true;
			return argv[i + 1];
		}
		if (strncmp(argv[i], "--config=", 9) == 0) {
			*explicit = true;
			return argv[i] + 9;
		}
	}
	const char *env = getenv("NERRF_CONFIG");
	*explicit = env && *env;
	return *explicit ? env : NERRF_CONF_DEFAULT;
}

/* A root-run stage must not take orders from a file another user can edit. */
static int check_trusted(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char dir[4096];

	if (fstat(fd, &st) != 0)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return fail(err, errlen,
			    "%s: must be owned by root and writable only by root, since a privileged "
			    "stage reads it (fix with: chown root %s && chmod go-w %s)",
			    path, path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	const char *d = dirname(dir);
	if (stat(d, &st) != 0)
		return fail(err, errlen, "%s: %s", d, strerror(errno));
	if (st.st_uid != 0 || ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)))
		return fail(err, errlen,
			    "%s: the directory holding the configuration must be owned by root and "
			    "writable only by root (fix with: chown root %s && chmod go-w %s)",
			    d, d, d);
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_bool(const char *v)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

static int push(struct nerrf_conf_argv *a, size_t *cap, char *s)
{
	if (!s)
		return -1;
	if ((size_t)a->argc + 1 >= *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		char **n = realloc(a->argv, ncap * sizeof(*n));
		if (!n) {
			free(s);
			return -1;
		}
		a->argv = n;
		*cap = ncap;
	}
	a->argv[a->argc++] = s;
	a->argv[a->argc] = NULL;
	return 0;
}

static int parse_file(FILE *f, const char *path, const char *section, const struct option *opts,
		      struct nerrf_conf_argv *out, size_t *cap, char *err, size_t errlen)
{
	char line[LINE_MAX_LEN + 2];
	const char *cur = NULL;
	int lineno = 0;

	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f))
			return fail(err, errlen, "%s:%d: line longer than %d bytes", path, lineno,
				    LINE_MAX_LEN);
		char *s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end || end[1] != '\0')
				return fail(err, errlen, "%s:%d: malformed section header '%s' (write "
					    "[collector], [encoder], [publisher] or [nerrf])", path, lineno, s);
			*end = '\0';
			cur = NULL;
			for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
				if (strcmp(s + 1, sections[i]) == 0)
					cur = sections[i];
			if (!cur)
				return fail(err, errlen, "%s:%d: unknown section [%s] (known: collector, "
					    "encoder, publisher, nerrf)", path, lineno, s + 1);
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq)
			return fail(err, errlen, "%s:%d: expected 'key = value', got '%s'", path,
				    lineno, s);
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		size_t vlen = strlen(val);
		if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
			val[vlen - 1] = '\0';
			val++;
		}
		if (!cur)
			return fail(err, errlen, "%s:%d: key '%s' is outside any section (put it "
				    "under [collector], [encoder], [publisher] or [nerrf])", path, lineno, key);
		if (strcmp(cur, section) != 0)
			continue;

		const struct option *o = opts;
		while (o->name && strcmp(o->name, key) != 0)
			o++;
		if (!o->name || strcmp(key, "config") == 0)
			return fail(err, errlen, "%s:%d: [%s] has no key '%s' (the keys are the "
				    "long options listed by --help)", path, lineno, cur, key);
		char *arg;
		if (o->has_arg == no_argument) {
			int b = parse_bool(val);
			if (b < 0)
				return fail(err, errlen, "%s:%d: [%s] %s: '%s' is not a boolean "
					    "(use true or false)", path, lineno, cur, key, val);
			if (!b)
				continue;
			arg = malloc(strlen(key) + 3);
			if (arg)
				sprintf(arg, "--%s", key);
		} else {
			if (*val == '\0')
				return fail(err, errlen, "%s:%d: [%s] %s: missing value", path, lineno,
					    cur, key);
			arg = malloc(strlen(key) + strlen(val) + 4);
			if (arg)
				sprintf(arg, "--%s=%s", key, val);
		}
		if (push(out, cap, arg) != 0)
			return fail(err, errlen, "out of memory reading %s", path);
	}
	if (ferror(f))
		return fail(err, errlen, "%s: read error: %s", path, strerror(errno));
	return 0;
}

int nerrf_conf_load(int argc, char **argv, const char *section, const struct option *opts,
		    bool trusted_only, struct nerrf_conf_argv *out, char *err, size_t errlen)
{
	size_t cap = 0;
	bool explicit = false;
	const char *path = config_path(argc, argv, &explicit);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (push(out, &cap, strdup(argc > 0 ? argv[0] : section)) != 0)
		return fail(err, errlen, "out of memory");

	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT && !explicit)
			goto cmdline;
		fail(err, errlen, "cannot read configuration %s: %s%s", path, strerror(errno),
		     errno == ENOENT ? " (check --config or NERRF_CONFIG)" : "");
		goto out;
	}
	if (trusted_only && check_trusted(fd, path, err, errlen) != 0) {
		close(fd);
		goto out;
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		fail(err, errlen, "cannot read configuration %s: %s", path, strerror(errno));
		goto out;
	}
	rc = parse_file(f, path, section, opts, out, &cap, err, errlen);
	fclose(f);
	if (rc != 0)
		goto out;
cmdline:
	rc = -1;
	for (int i = 1; i < argc; i++)
		if (push(out, &cap, strdup(argv[i])) != 0) {
			fail(err, errlen, "out of memory");
			goto out;
		}
	rc = 0;
out:
	if (rc != 0)
		nerrf_conf_free(out);
	return rc;
}

void nerrf_conf_free(struct nerrf_conf_argv *a)
{
	for (int i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	a->argv = NULL;
	a->argc = 0;
}
