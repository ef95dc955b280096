/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nerrf_conf.h"
#include "nerrf_log.h"
#include "nerrf_parse.h"

#define LINE_MAX_LEN 4096
/* Room for a bad key or line repeated in a message: about 60 bytes of it. */
#define SHOWN_LEN 64

static const char *const sections[] = {"collector", "encoder", "publisher", "exporter", "nerrf",
					"forward"};

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

/*
 * A root-run stage must not take orders from a file another user can edit.
 * Both checks look at what was opened (dfd holds the file's directory, fd
 * was opened through it), not at whatever the names point to by now.
 */
static int check_trusted(int dfd, const char *dir, const struct stat *st, const char *path,
			 char *err, size_t errlen)
{
	struct stat dst;

	if (st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH)))
		return fail(err, errlen,
			    "%s: must be owned by root and writable only by root, since a privileged "
			    "stage reads it (fix with: chown root %s && chmod go-w %s)",
			    path, path, path);
	if (fstat(dfd, &dst) != 0)
		return fail(err, errlen, "%s: %s", dir, strerror(errno));
	if (dst.st_uid != 0 || ((dst.st_mode & (S_IWGRP | S_IWOTH)) && !(dst.st_mode & S_ISVTX)))
		return fail(err, errlen,
			    "%s: the directory holding the configuration must be owned by root and "
			    "writable only by root (fix with: chown root %s && chmod go-w %s)",
			    dir, dir, dir);
	return 0;
}

static const char *file_type(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" :
	       S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" :
	       S_ISSOCK(m) ? "a socket" : "not a regular file";
}

/*
 * Opens the configuration: 1 with *fd, 0 when the default file is absent,
 * -1 with a message. O_NONBLOCK keeps a FIFO from stalling the start until
 * fstat has refused it; for a regular file it changes nothing and is cleared.
 */
static int open_conf(const char *path, bool explicit, bool trusted_only, int held_dfd, int *fd,
		     char *err, size_t errlen)
{
	const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	char dir[4096], base[4096];
	struct stat st;
	int dfd = AT_FDCWD, rc = -1, e;

	*fd = -1;
	if (!*path)
		return fail(err, errlen, "--config: empty file name; give the configuration file's "
			    "path");
	if (strlen(path) >= sizeof(dir))
		return fail(err, errlen, "configuration path too long (%zu bytes)", strlen(path));
	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(base, sizeof(base), "%s", path);
	const char *d = dirname(dir), *b = basename(base);
	if (held_dfd >= 0)
		dfd = held_dfd;
	else if (trusted_only && (dfd = open(d, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto failed;
	*fd = openat(dfd, dfd != AT_FDCWD ? b : path, flags);
	if (*fd < 0)
		goto failed;
	if (fstat(*fd, &st) != 0) {
		fail(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	/* /dev/null (1:3) is the usual way to say "no configuration". */
	if (!S_ISREG(st.st_mode) && !(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))) {
		fail(err, errlen, "configuration %s is %s; --config and NERRF_CONFIG take a "
		     "regular file", path, file_type(st.st_mode));
		goto out;
	}
	if (trusted_only && check_trusted(dfd, d, &st, path, err, errlen) != 0)
		goto out;
	if (fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		fail(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 1;
	goto out;
failed:
	e = errno;
	if (e == ENOENT && !explicit) {
		rc = 0;
		goto out;
	}
	fail(err, errlen, "cannot read configuration %s: %s%s", path, strerror(e),
	     e == ENOENT ? " (check --config or NERRF_CONFIG)" : "");
out:
	if (rc != 1 && *fd >= 0)
		close(*fd);
	if (dfd >= 0 && dfd != held_dfd)
		close(dfd);
	return rc;
}

/* Text from the file as a message may show it: escaped, cut short. */
static const char *escaped(char shown[SHOWN_LEN], const char *s)
{
	nerrf_escape(shown, SHOWN_LEN, s, strlen(s));
	return shown;
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

/* Appends s, which came from the file's line (0: the command line). */
static int push(struct nerrf_conf_argv *a, size_t *cap, char *s, int line)
{
	if (!s)
		return -1;
	if ((size_t)a->argc + 1 >= *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		char **n = realloc(a->argv, ncap * sizeof(*n));
		if (n)
			a->argv = n;
		int *l = n ? realloc(a->line, ncap * sizeof(*l)) : NULL;
		if (!l) {
			free(s);
			return -1;
		}
		a->line = l;
		*cap = ncap;
	}
	a->line[a->argc] = line;
	a->argv[a->argc++] = s;
	a->argv[a->argc] = NULL;
	return 0;
}

/* One line without its newline: 1, 0 at the end, -1 on a NUL byte, -2 if too long. */
static int read_line(FILE *f, char *line)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (c == '\0')
			return -1;
		if (n == LINE_MAX_LEN)
			return -2;
		line[n++] = (char)c;
	}
	line[n] = '\0';
	return c != EOF || n ? 1 : 0;
}

static int parse_file(FILE *f, const char *path, const char *section, const struct option *opts,
		      struct nerrf_conf_argv *out, size_t *cap, char *err, size_t errlen)
{
	char line[LINE_MAX_LEN + 1], shown[SHOWN_LEN];
	const char *cur = NULL;
	int lineno = 0, rc;

	while ((rc = read_line(f, line)) > 0) {
		lineno++;
		if (lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
			return fail(err, errlen, "%s:1: the file starts with a UTF-8 byte order mark; "
				    "save it as UTF-8 without one", path);
		char *s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end || end[1] != '\0')
				return fail(err, errlen, "%s:%d: malformed section header '%s' (write "
					    "[collector], [encoder], [publisher] or [nerrf])", path, lineno,
					    escaped(shown, s));
			*end = '\0';
			cur = NULL;
			for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
				if (strcmp(s + 1, sections[i]) == 0)
					cur = sections[i];
			if (!cur)
				return fail(err, errlen, "%s:%d: unknown section [%s] (known: collector, "
					    "encoder, publisher, exporter, nerrf, forward)", path, lineno,
					    escaped(shown, s + 1));
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq)
			return fail(err, errlen, "%s:%d: expected 'key = value', got '%s'", path,
				    lineno, escaped(shown, s));
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		size_t vlen = strlen(val);
		if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
			val[vlen - 1] = '\0';
			val++;
		}
		if (!cur)
			return fail(err, errlen, "%s:%d: key '%s' is outside any section (put it "
				    "under [collector], [encoder], [publisher] or [nerrf])", path, lineno,
				    escaped(shown, key));
		if (strcmp(cur, section) != 0)
			continue;

		const struct option *o = opts;
		while (o->name && strcmp(o->name, key) != 0)
			o++;
		/* --help, --version, --check-config would make a stage print and exit, at a reload too */
		if (!o->name || strcmp(key, "config") == 0 || strcmp(key, "help") == 0 ||
		    strcmp(key, "version") == 0 || strcmp(key, "check-config") == 0)
			return fail(err, errlen, "%s:%d: [%s] has no key '%s' (the keys are the "
				    "long options listed by --help)", path, lineno, cur,
				    escaped(shown, key));
		char *arg;
		if (o->has_arg == no_argument) {
			int b = parse_bool(val);
			if (b < 0)
				return fail(err, errlen, "%s:%d: [%s] %s: '%s' is not a boolean "
					    "(use true or false)", path, lineno, cur, key,
					    escaped(shown, val));
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
		if (push(out, cap, arg, lineno) != 0)
			return fail(err, errlen, "out of memory reading %s", path);
	}
	if (rc == -1)
		return fail(err, errlen, "%s:%d: NUL byte in the line; is this a text file? (give "
			    "--config the configuration file)", path, lineno + 1);
	if (rc == -2)
		return fail(err, errlen, "%s:%d: line longer than %d bytes", path, lineno + 1,
			    LINE_MAX_LEN);
	if (ferror(f))
		return fail(err, errlen, "%s: read error: %s", path, strerror(errno));
	return 0;
}

int nerrf_conf_dir(int argc, char **argv, char *err, size_t errlen)
{
	bool explicit = false;
	const char *path = config_path(argc, argv, &explicit);
	char dir[4096];

	int fd = -1;

	if (strlen(path) >= sizeof(dir)) {
		fail(err, errlen, "configuration path too long (%zu bytes)", strlen(path));
		return -2;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	fd = open(dirname(dir), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && (errno != ENOENT || explicit)) {
		fail(err, errlen, "cannot open the directory of configuration %s: %s", path,
		     strerror(errno));
		return -2;
	}
	return fd;
}

int nerrf_conf_load(int argc, char **argv, const char *section, const struct option *opts,
		    bool trusted_only, struct nerrf_conf_argv *out, char *err, size_t errlen)
{
	return nerrf_conf_load_at(-1, argc, argv, section, opts, trusted_only, out, err, errlen);
}

int nerrf_conf_load_at(int dirfd, int argc, char **argv, const char *section,
		       const struct option *opts, bool trusted_only, struct nerrf_conf_argv *out,
		       char *err, size_t errlen)
{
	size_t cap = 0;
	bool explicit = false;
	const char *path = config_path(argc, argv, &explicit);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (push(out, &cap, strdup(argc > 0 ? argv[0] : section), 0) != 0)
		return fail(err, errlen, "out of memory");

	int fd;
	switch (open_conf(path, explicit, trusted_only, dirfd, &fd, err, errlen)) {
	case 0:
		goto cmdline;
	case -1:
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
	rc = -1;
	if (!(out->path = strdup(path))) {
		fail(err, errlen, "out of memory");
		goto out;
	}
cmdline:
	rc = -1;
	for (int i = 1; i < argc; i++)
		if (push(out, &cap, strdup(argv[i]), 0) != 0) {
			fail(err, errlen, "out of memory");
			goto out;
		}
	rc = 0;
out:
	if (rc != 0)
		nerrf_conf_free(out);
	return rc;
}

int nerrf_conf_cmdline(int argc, char **argv, const char *section, struct nerrf_conf_argv *out,
		       char *err, size_t errlen)
{
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < (argc > 0 ? argc : 1); i++)
		if (push(out, &cap, strdup(i < argc ? argv[i] : section), 0) != 0) {
			nerrf_conf_free(out);
			return fail(err, errlen, "out of memory");
		}
	return 0;
}

void nerrf_conf_free(struct nerrf_conf_argv *a)
{
	for (int i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	free(a->line);
	free(a->path);
	memset(a, 0, sizeof(*a));
}

void nerrf_conf_origin(const struct nerrf_conf_argv *a, int optind, const char *section,
		       char *buf, size_t len)
{
	/* getopt is past the option's value: one entry for --key=value, two for --key value */
	int i = optind - 1;
	if (i > 1 && i < a->argc && strncmp(a->argv[i], "--", 2) != 0)
		i--;
	if (i < 1 || i >= a->argc || !a->line[i] || !a->path) {
		snprintf(buf, len, "the command line");
		return;
	}
	const char *key = a->argv[i] + 2;
	size_t klen = strcspn(key, "=");
	snprintf(buf, len, "%s:%d: [%s] %.*s", a->path, a->line[i], section, (int)klen, key);
}

/* Whether key's values (in order; "" for a flag) are the same in a and b. */
static bool same_values(const struct nerrf_conf_argv *a, const struct nerrf_conf_argv *b,
			const struct option *o)
{
	const struct nerrf_conf_argv *v[2] = {a, b};
	int at[2] = {1, 1};
	size_t klen = strlen(o->name);

	for (;;) {
		const char *val[2] = {NULL, NULL};
		for (int s = 0; s < 2; s++) {
			for (; at[s] < v[s]->argc && !val[s]; at[s]++) {
				const char *x = v[s]->argv[at[s]];
				if (strcmp(x, "--") == 0) {
					at[s] = v[s]->argc;
					break;
				}
				if (strncmp(x, "--", 2) != 0 || strncmp(x + 2, o->name, klen) != 0)
					continue;
				if (x[2 + klen] == '=')
					val[s] = x + 3 + klen;
				else if (x[2 + klen] == '\0')
					val[s] = o->has_arg == no_argument || at[s] + 1 >= v[s]->argc
							 ? "" : v[s]->argv[++at[s]];
			}
		}
		if (!val[0] || !val[1])
			return !val[0] && !val[1];
		if (strcmp(val[0], val[1]) != 0)
			return false;
	}
}

size_t nerrf_conf_changed(const struct nerrf_conf_argv *a, const struct nerrf_conf_argv *b,
			  const struct option *opts, const char **changed, size_t max)
{
	size_t n = 0;

	for (const struct option *o = opts; o->name; o++)
		if (strcmp(o->name, "config") != 0 && !same_values(a, b, o) && n < max)
			changed[n++] = o->name;
	return n;
}

static bool listed(const char *key, const char *const *keys)
{
	for (; *keys; keys++)
		if (strcmp(*keys, key) == 0)
			return true;
	return false;
}

size_t nerrf_conf_report(const struct nerrf_conf_argv *boot, const struct nerrf_conf_argv *cur,
			 const struct nerrf_conf_argv *next, const struct option *opts,
			 const char *const *live)
{
	const char *changed[128];
	size_t n, applied = 0;

	n = nerrf_conf_changed(cur, next, opts, changed, 128);
	for (size_t i = 0; i < n; i++)
		if (listed(changed[i], live)) {
			log_info("reload: %s changed: in force now", changed[i]);
			applied++;
		}
	/* Against the start: a key changed at an earlier reload still waits for the restart. */
	n = nerrf_conf_changed(boot, next, opts, changed, 128);
	for (size_t i = 0; i < n; i++)
		if (!listed(changed[i], live))
			log_warnx("reload: %s changed: needs restart (the value it started with "
				  "stays in force until then)", changed[i]);
	if (!applied)
		log_info("reload: read %s: nothing changes live",
			 next->path ? next->path : "no configuration file");
	return applied;
}
