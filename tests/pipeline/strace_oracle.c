/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf against `strace -ff -y` over real programs (sh, tar, gzip, cp, mv,
 * sed -i, chmod, rm, git, a #! script, TCP over 127.0.0.1 and ::1): for every traced
 * syscall strace saw, per thread and in order, the same syscall with the same
 * return value and the same absolute path(s); for the network calls the same
 * fd, address and port. Writes to what is not a regular file and unix sockets
 * are left out (nerrf filters them by default). Prints the match percentage
 * and every class of mismatch; fails below MIN_MATCH.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <string.h>
#include <sys/wait.h>

#include "e2e.h"

#define MIN_MATCH 99.0
#define MAXREC 20000
#define NCLASS 64

static const char *const traced[] = {
	"open", "openat", "openat2", "creat", "write", "pwrite64", "writev", "pwritev",
	"pwritev2", "rename", "renameat", "renameat2", "unlink", "unlinkat", "rmdir", "chmod",
	"fchmod", "fchmodat", "truncate", "ftruncate", "setxattr", "lsetxattr", "fsetxattr",
	"removexattr", "lremovexattr", "fremovexattr", "execve", "execveat", "connect", "accept",
	"accept4", "bind", "listen",
};

/* One syscall, from either side; paths absolute and canonical ("" when none). */
struct rec {
	unsigned tid;
	char sc[16];
	long long ret;
	char path[PATH_MAX], path2[PATH_MAX];
	/* network calls: the socket, and the address strace decodes (connect and
	 * accept: the peer; bind and listen: the socket's own); port -1: any but 0 */
	int fd;
	char addr[INET6_ADDRSTRLEN];
	long port;
	bool used;
};

static struct rec *st_rec, *nf_rec;
static size_t st_n, nf_n;

static void work(const struct e2e *e, int report_fd, void *arg)
{
	char script[4096], out[PATH_MAX + 8], list[1024] = "";
	uint64_t ok = 0;

	for (size_t i = 0; i < sizeof(traced) / sizeof(traced[0]); i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? "," : "",
			 traced[i]);
	snprintf(out, sizeof(out), "%s/st", e->dir);
	snprintf(script, sizeof(script),
		 "set -e; cd '%s'; mkdir src x; printf 'hello\\n' > src/a.txt; "
		 "seq 1 3000 > src/b.txt; tar -cf t.tar src; gzip -k t.tar; cp t.tar.gz c.gz; "
		 "mv c.gz ./d.gz; sed -i s/hello/bye/ src/a.txt; chmod 600 src/b.txt; rm d.gz; "
		 "gzip -d -c t.tar.gz > u.tar; tar -xf u.tar -C ./src/../x; "
		 "git init -q repo; cd repo; cp ../src/b.txt .; git add b.txt; "
		 "git -c user.name=t -c user.email=t@example.org commit -qm m; rm -r ../x; "
		 "printf '#!/bin/sh\\necho x > out\\n' > ../s.sh; chmod +x ../s.sh; ../s.sh; "
		 /* LeakSanitizer cannot run under ptrace: an ASan build's own net step without it */
		 "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" '%s' net",
		 e->work, (const char *)arg);
	pid_t pid = fork();
	if (pid == 0) {
		execlp("strace", "strace", "-ff", "-y", "-qq", "-o", out, "-e", list, "--", "/bin/sh",
		       "-c", script, (char *)NULL);
		_exit(127);
	}
	int st;
	ok = pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	/* the end marker: an open the test waits for */
	snprintf(out, sizeof(out), "%s/END", e->work);
	int fd = open(out, O_CREAT | O_WRONLY, 0644);
	if (fd >= 0)
		close(fd);
	if (write(report_fd, &ok, sizeof(ok)) != sizeof(ok))
		_exit(1);
}

/*
 * The network step: TCP over addr (a listener on a port the kernel picks, a
 * client, an accept with the peer's address), a bind refused on the
 * listener's address, and a connect refused once the listener is gone.
 */
static bool tcp_step(int family, const char *addr, bool four)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family }, peer;
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	socklen_t plen = sizeof(peer);
	void *where = family == AF_INET ? (void *)&((struct sockaddr_in *)&ss)->sin_addr
					: (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
	int ls = socket(family, SOCK_STREAM, 0), cs = socket(family, SOCK_STREAM, 0);
	int xs = socket(family, SOCK_STREAM, 0), rs = socket(family, SOCK_STREAM, 0), as = -1;
	bool ok = inet_pton(family, addr, where) == 1 && bind(ls, (void *)&ss, len) == 0 &&
		  listen(ls, 3) == 0 && getsockname(ls, (void *)&ss, &len) == 0 &&
		  bind(xs, (void *)&ss, len) == -1 && errno == EADDRINUSE &&
		  connect(cs, (void *)&ss, len) == 0 &&
		  (as = four ? accept4(ls, (void *)&peer, &plen, SOCK_CLOEXEC)
			     : accept(ls, (void *)&peer, &plen)) >= 0;
	close(as);
	close(cs);
	close(ls);
	ok = ok && connect(rs, (void *)&ss, len) == -1 && errno == ECONNREFUSED;
	close(rs);
	close(xs);
	return ok;
}

static bool net_call(const char *sc)
{
	return !strcmp(sc, "connect") || !strcmp(sc, "accept") || !strcmp(sc, "accept4") ||
	       !strcmp(sc, "bind") || !strcmp(sc, "listen");
}

static bool is_traced(const char *sc)
{
	for (size_t i = 0; i < sizeof(traced) / sizeof(traced[0]); i++)
		if (!strcmp(sc, traced[i]))
			return true;
	return false;
}

/* "." and ".." folded, lexically (what the encoder does to a walked dir + name). */
static void canon(char *p)
{
	char out[PATH_MAX];
	size_t o = 0;
	for (char *s = p; *s;) {
		while (*s == '/')
			s++;
		char *c = s;
		while (*s && *s != '/')
			s++;
		size_t n = (size_t)(s - c);
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			continue;
		}
		out[o++] = '/';
		memcpy(out + o, c, n);
		o += n;
	}
	if (!o)
		out[o++] = '/';
	out[o] = '\0';
	strcpy(p, out);
}

/* A quoted string argument at *s (strace escapes undone); advances past it. */
static bool take_str(const char **s, char *dst, size_t len)
{
	const char *p = *s;
	size_t n = 0;
	if (*p != '"')
		return false;
	for (p++; *p && *p != '"'; p++) {
		char c = *p;
		if (c == '\\' && p[1]) {
			p++;
			if (*p == 'x' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
				char h[3] = { p[1], p[2], 0 };
				c = (char)strtol(h, NULL, 16);
				p += 2;
			} else {
				c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
			}
		}
		if (n + 1 < len)
			dst[n++] = c;
	}
	dst[n] = '\0';
	*s = *p ? p + 1 : p;
	return true;
}

/* An fd argument "N</path>" or "AT_FDCWD</path>": the path, or "" */
static void take_fd(const char **s, char *dst, size_t len)
{
	const char *p = *s, *lt = p;
	while (*lt && *lt != '<' && *lt != ',' && *lt != ')')
		lt++;
	dst[0] = '\0';
	if (*lt == '<') {
		const char *gt = strstr(lt, ">,");
		if (!gt)
			gt = strstr(lt, ">)");
		if (gt && (size_t)(gt - lt - 1) < len) {
			memcpy(dst, lt + 1, (size_t)(gt - lt - 1));
			dst[gt - lt - 1] = '\0';
		}
		p = gt ? gt + 1 : lt + 1;
	} else {
		p = lt;
	}
	*s = p;
}

static void skip_arg(const char **s)
{
	while (**s == ',' || **s == ' ')
		(*s)++;
}

/* dir + "/" + name made absolute and canonical; name as is when absolute. */
static void join(char *dst, const char *dir, const char *name)
{
	int n = name[0] == '/' || !dir[0] ? snprintf(dst, PATH_MAX, "%s", name)
					  : snprintf(dst, PATH_MAX, "%s/%s", dir, name);
	CHECK(n > 0 && n < PATH_MAX, "path too long: %s/%s", dir, name);
	canon(dst);
}

static int errno_of(const char *name)
{
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);
		if (n && !strcmp(n, name))
			return e;
	}
	return 0;
}

/* Sockets bound so far, by strace's "socket:[inode]": what listen says of them. */
static struct bound {
	char sock[32];
	char addr[INET6_ADDRSTRLEN];
	long port;
} bound[64];
static unsigned nbound;

/* The inet or inet6 address and port of a sockaddr strace decoded; false for another family. */
static bool take_sockaddr(const char *s, struct rec *r)
{
	const char *port = strstr(s, "_port=htons("), *a4 = strstr(s, "inet_addr(\""),
		   *a6 = strstr(s, "inet_pton(AF_INET6, \"");
	const char *a = a4   ? a4 + strlen("inet_addr(\"")
			: a6 ? a6 + strlen("inet_pton(AF_INET6, \"")
			     : NULL;

	if (!strstr(s, "sa_family=AF_INET") || !port || !a)
		return false;
	size_t n = strcspn(a, "\"");
	if (n >= sizeof(r->addr))
		return false;
	memcpy(r->addr, a, n);
	r->addr[n] = '\0';
	r->port = strtol(port + strlen("_port=htons("), NULL, 10);
	return true;
}

/*
 * A network call: the fd, and the address strace decoded (connect, accept:
 * the peer; bind: its own, a port 0 being any the kernel picked; listen:
 * its bind's). False for a socket not inet or inet6.
 */
static bool parse_net(const char *s, struct rec *r)
{
	char sock[PATH_MAX];

	r->fd = (int)strtol(s, NULL, 10);
	take_fd(&s, sock, sizeof(sock));
	if (!strcmp(r->sc, "listen")) {
		for (unsigned i = nbound; i-- > 0;)
			if (!strcmp(bound[i].sock, sock)) {
				strcpy(r->addr, bound[i].addr);
				r->port = bound[i].port;
				return true;
			}
		return false;
	}
	if (!take_sockaddr(s, r))
		return false;
	if (!strcmp(r->sc, "bind")) {
		if (!r->port)
			r->port = -1;
		if (r->ret == 0 && nbound < sizeof(bound) / sizeof(bound[0]) &&
		    strlen(sock) < sizeof(bound[0].sock)) {
			strcpy(bound[nbound].sock, sock);
			strcpy(bound[nbound].addr, r->addr);
			bound[nbound++].port = r->port;
		}
	}
	return true;
}

/* One strace line into r; false when it is no traced syscall to compare. */
static bool parse_line(const char *line, unsigned tid, char *cwd, struct rec *r)
{
	const char *open = strchr(line, '('), *eq = strrchr(line, '=');
	char a[PATH_MAX], b[PATH_MAX], d1[PATH_MAX], d2[PATH_MAX];

	if (!open || !eq || (size_t)(open - line) >= sizeof(r->sc) || eq < open)
		return false;
	memset(r, 0, sizeof(*r));
	r->tid = tid;
	memcpy(r->sc, line, (size_t)(open - line));
	if (!is_traced(r->sc))
		return false;
	const char *rs = eq + 1;
	while (*rs == ' ')
		rs++;
	if (*rs == '?')
		return false; /* a successful exec in a thread that was replaced */
	r->ret = strtoll(rs, (char **)&rs, 10);
	if (r->ret == -1) {
		char en[32] = "";
		sscanf(rs, " %31s", en);
		r->ret = -errno_of(en);
	}
	const char *s = open + 1;
	const char *sc = r->sc;
	if (net_call(sc))
		return parse_net(s, r);
	if (strstr(sc, "write") || !strcmp(sc, "fchmod") || !strcmp(sc, "ftruncate") ||
	    !strcmp(sc, "fsetxattr") || !strcmp(sc, "fremovexattr")) {
		take_fd(&s, r->path, sizeof(r->path));
		/* not a regular file: a pipe, a socket, a tty, /dev/null ... */
		if (strstr(sc, "write") && (r->path[0] != '/' || !strncmp(r->path, "/dev/", 5)))
			return false;
		return true;
	}
	bool at = !strcmp(sc, "openat") || !strcmp(sc, "openat2") || !strcmp(sc, "renameat") ||
		  !strcmp(sc, "renameat2") || !strcmp(sc, "unlinkat") || !strcmp(sc, "fchmodat") ||
		  !strcmp(sc, "execveat");
	strcpy(d1, cwd);
	if (at) {
		take_fd(&s, d1, sizeof(d1));
		skip_arg(&s);
	}
	if (!take_str(&s, a, sizeof(a)))
		return false;
	join(r->path, d1, a);
	if (!strcmp(sc, "rename") || !strcmp(sc, "renameat") || !strcmp(sc, "renameat2")) {
		skip_arg(&s);
		strcpy(d2, cwd);
		if (at) {
			take_fd(&s, d2, sizeof(d2));
			skip_arg(&s);
		}
		if (take_str(&s, b, sizeof(b)))
			join(r->path2, d2, b);
	}
	/* a successful open: the file it opened, as the kernel names it */
	const char *lt = strchr(eq, '<');
	if (r->ret >= 0 && lt && strstr(sc, "open")) {
		snprintf(r->path, sizeof(r->path), "%s", lt + 1);
		char *gt = strrchr(r->path, '>');
		if (gt)
			*gt = '\0';
	}
	/* a successful exec: the executable, symlinks resolved */
	if (r->ret == 0 && strstr(sc, "exec") && realpath(r->path, a))
		strcpy(r->path, a);
	return true;
}

static void load_strace(const struct e2e *e)
{
	DIR *dir = opendir(e->dir);
	struct dirent *de;
	char p[PATH_MAX * 2], line[16384];

	CHECK(dir);
	while ((de = readdir(dir))) {
		unsigned tid;
		if (sscanf(de->d_name, "st.%u", &tid) != 1)
			continue;
		snprintf(p, sizeof(p), "%s/%s", e->dir, de->d_name);
		FILE *f = fopen(p, "r");
		CHECK(f, "open %s", p);
		/*
		 * The cwd, from the last AT_FDCWD decoration; before the first one
		 * (the exec that starts the file), from the first one: a new
		 * program opens its libraries before it could chdir.
		 */
		char cwd[PATH_MAX] = "";
		for (int pass = 0; pass < 2; pass++) {
			rewind(f);
			while (fgets(line, sizeof(line), f) && st_n < MAXREC) {
				const char *c = strstr(line, "AT_FDCWD<");
				const char *gt = c ? strstr(c, ">,") : NULL;
				if (gt && gt - c - 9 < PATH_MAX) {
					memcpy(cwd, c + 9, (size_t)(gt - c - 9));
					cwd[gt - c - 9] = '\0';
					if (!pass)
						break;
				}
				line[strcspn(line, "\n")] = '\0';
				if (pass && parse_line(line, tid, cwd, &st_rec[st_n]))
					st_n++;
			}
		}
		fclose(f);
	}
	closedir(dir);
}

static void take_events(const Nerrf__Trace__EventBatch *b)
{
	for (size_t i = 0; i < b->n_events && nf_n < MAXREC; i++) {
		const Nerrf__Trace__Event *ev = b->events[i];
		struct rec *r = &nf_rec[nf_n];
		if (!is_traced(ev->syscall))
			continue;
		memset(r, 0, sizeof(*r));
		r->tid = ev->tid;
		snprintf(r->sc, sizeof(r->sc), "%s", ev->syscall);
		r->ret = ev->ret_val;
		snprintf(r->path, sizeof(r->path), "%s", ev->path);
		snprintf(r->path2, sizeof(r->path2), "%s", ev->new_path);
		if (net_call(ev->syscall)) {
			bool peer = !strcmp(ev->syscall, "connect") || !strncmp(ev->syscall, "accept", 6);
			r->fd = ev->fd;
			snprintf(r->addr, sizeof(r->addr), "%s", peer ? ev->remote_addr : ev->local_addr);
			r->port = peer ? ev->remote_port : ev->local_port;
		}
		nf_n++;
	}
}

static struct {
	char what[96];
	unsigned n;
	char example[4 * PATH_MAX + 256];
} cls[NCLASS];

/* What a record says beside its return value: paths, or a socket's fd and address. */
static const char *args_of(const struct rec *r, char *buf, size_t len)
{
	if (!r)
		snprintf(buf, len, "-");
	else if (net_call(r->sc))
		snprintf(buf, len, "fd %d %s port %ld", r->fd, r->addr, r->port);
	else
		snprintf(buf, len, "%s -> %s", r->path, r->path2);
	return buf;
}

static void mismatch(const char *kind, const struct rec *s, const struct rec *n)
{
	char what[96];
	unsigned i;
	snprintf(what, sizeof(what), "%s %s", kind, s ? s->sc : n->sc);
	for (i = 0; i < NCLASS && cls[i].n && strcmp(cls[i].what, what); i++)
		;
	if (i == NCLASS)
		return;
	if (!cls[i].n++) {
		char sa[2 * PATH_MAX + 8], na[2 * PATH_MAX + 8];
		snprintf(cls[i].what, sizeof(cls[i].what), "%s", what);
		snprintf(cls[i].example, sizeof(cls[i].example),
			 "strace: %s = %lld [%s]  nerrf: %s = %lld [%s]", s ? s->sc : "-",
			 s ? s->ret : 0, args_of(s, sa, sizeof(sa)), n ? n->sc : "-", n ? n->ret : 0,
			 args_of(n, na, sizeof(na)));
	}
}

int main(int argc, char **argv)
{
	struct e2e e = {0};
	uint64_t ok = 0;
	char *extra[] = { "--follow", "--net-loopback", NULL };
	char self[PATH_MAX];
	ssize_t sn;

	if (argc == 2 && !strcmp(argv[1], "net"))
		return tcp_step(AF_INET, "127.0.0.1", false) && tcp_step(AF_INET6, "::1", true) ? 0 : 1;

	e2e_require("the strace oracle test", true);
	if (system("strace -V >/dev/null 2>&1 && git --version >/dev/null 2>&1") != 0)
		test_skip("strace and git are needed (scripts/install-deps installs them)");
	st_rec = calloc(MAXREC, sizeof(*st_rec));
	nf_rec = calloc(MAXREC, sizeof(*nf_rec));
	CHECK(st_rec && nf_rec);
	e2e_dirs(&e, "e2e-strace");
	char end[PATH_MAX + 8];
	snprintf(end, sizeof(end), "%s/END", e.work);

	sn = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(sn > 0 && sn < (ssize_t)sizeof(self) - 1, "readlink /proc/self/exe: %s", strerror(errno));
	self[sn] = '\0';
	e2e_child(&e, work, self);
	e2e_run(&e, extra);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	e2e_go(&e, e.sub, 1);
	bool seen_end = false;
	for (uint64_t stop = nerrf_mono_ms() + 90000; !seen_end && nerrf_mono_ms() < stop;) {
		nng_msg *m = pt_recv(e.sub, 200);
		if (!m)
			continue;
		Nerrf__Trace__EventBatch *b = pt_decode_batch(m);
		nng_msg_free(m);
		take_events(b);
		for (size_t k = 0; k < b->n_events; k++)
			seen_end |= !strcmp(b->events[k]->path, end);
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
	CHECK(read(e.done_fd, &ok, sizeof(ok)) == sizeof(ok) && ok == 1,
	      "the programs under strace failed");
	CHECK(seen_end, "the end marker never arrived");
	load_strace(&e);
	CHECK(st_n > 100, "strace saw only %zu syscalls", st_n);

	/* per thread, in order: each strace record takes the next nerrf one of its syscall */
	size_t match = 0, net = 0, net_match = 0;
	for (size_t i = 0; i < st_n; i++) {
		struct rec *s = &st_rec[i], *n = NULL;
		net += net_call(s->sc);
		for (size_t j = 0; j < nf_n && !n; j++)
			if (!nf_rec[j].used && nf_rec[j].tid == s->tid && !strcmp(nf_rec[j].sc, s->sc))
				n = &nf_rec[j];
		if (!n) {
			mismatch("missing from nerrf:", s, NULL);
			continue;
		}
		n->used = true;
		if (n->ret != s->ret)
			mismatch("return value:", s, n);
		else if (strcmp(n->path, s->path))
			mismatch("path:", s, n);
		else if (strcmp(n->path2, s->path2))
			mismatch("new path:", s, n);
		else if (n->fd != s->fd)
			mismatch("fd:", s, n);
		else if (strcmp(n->addr, s->addr) || (s->port < 0 ? !n->port : n->port != s->port))
			mismatch("address:", s, n);
		else {
			match++;
			net_match += net_call(s->sc);
		}
	}
	/* nerrf records of the threads strace traced that strace did not have */
	for (size_t j = 0; j < nf_n; j++) {
		bool thread = false;
		for (size_t i = 0; i < st_n && !thread; i++)
			thread = st_rec[i].tid == nf_rec[j].tid;
		if (thread && !nf_rec[j].used)
			mismatch("only in nerrf:", NULL, &nf_rec[j]);
	}
	/* what was compared, by syscall */
	char by[1024] = "";
	for (size_t k = 0; k < sizeof(traced) / sizeof(traced[0]); k++) {
		size_t c = 0;
		for (size_t i = 0; i < st_n; i++)
			c += !strcmp(st_rec[i].sc, traced[k]);
		if (c)
			snprintf(by + strlen(by), sizeof(by) - strlen(by), " %s %zu", traced[k], c);
	}
	fprintf(stderr, "strace oracle: compared:%s\n", by);
	double pct = 100.0 * (double)match / (double)st_n;
	fprintf(stderr, "strace oracle: %zu of %zu syscalls match (%.2f%%); %zu nerrf events\n",
		match, st_n, pct, nf_n);
	for (unsigned i = 0; i < NCLASS && cls[i].n; i++)
		fprintf(stderr, "  %u x %s\n    e.g. %s\n", cls[i].n, cls[i].what, cls[i].example);
	CHECK(pct >= MIN_MATCH, "match %.2f%% below %.1f%%", pct, MIN_MATCH);
	/* the network step is one program of our own: nothing in it may differ */
	CHECK(net >= 12 && net_match == net, "%zu of %zu network calls match", net_match, net);
	e2e_finish(&e);
	return 0;
}
