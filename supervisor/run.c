/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf run: starts collector, encoder and publisher as three processes with
 * the privilege split of docs/ARCHITECTURE.md and supervises them.
 *
 * The collector starts as root and drops its own privileges after loading
 * the BPF programs; the encoder and publisher (and the --print subscriber)
 * never hold any: the child drops to --user before exec. A stage that dies is
 * restarted alone, with backoff; the rings are memfds held by both of their
 * sides, so the others carry on. The supervisor handles no signal asynchronously: it
 * blocks them and takes them with sigtimedwait in its loop. SIGHUP is passed
 * on to the stages, which read their configuration again.
 *
 * A stage has started once it says READY=1 the way it tells systemd
 * (sd_notify to $NOTIFY_SOCKET, here a socket of ours): a first start that
 * fails before that is a setup error and stops the pipeline, however long
 * the collector's loading took on a busy host; after it, a failure restarts
 * the stage.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nerrf_account.h"
#include "nerrf_journal.h"
#include "nerrf_log.h"
#include "nerrf_notify.h"
#include "nerrf_wire.h"
#include "supervisor.h"
#include "nerrf_time.h"

#define MAX_ARGS 128
/*
 * A stage that crashes after running a while comes back at once: the
 * collector's restart is a window the kernel buffer must bridge. Only one
 * that keeps dying young backs off.
 */
#define BACKOFF_MIN_MS 20
#define BACKOFF_MAX_MS 5000
#define STABLE_MS 1000	     /* a stage that ran this long restarts with the minimum backoff */
/*
 * A stage that never says READY (or without our notify socket): a first
 * start that exits non-zero this fast is a setup error.
 */
#define STARTUP_FAIL_MS 5000
#define STOP_GRACE_MS 5000

enum { COLLECTOR, ENCODER, PUBLISHER, PRINTER, EXPORTER, FORWARDER, NSTAGES };

struct stage {
	const char *name;
	bool privileged; /* keeps root at exec (the collector drops privileges itself) */
	bool enabled;
	bool prints; /* owns stdout (the --print subscriber) */
	bool notifies; /* says READY=1 once started (sd_notify) */
	bool ready;
	char path[PATH_MAX];
	char *argv[MAX_ARGS];
	int argc;
	pid_t pid;
	unsigned starts;
	uint64_t started_ms;
	uint64_t restart_at_ms;
	unsigned backoff_ms;
};

struct run_opts {
	const char *rundir;
	const char *user;
	bool print, json;
	bool no_pin;
	const char *journal; /* NULL: --no-journal */
	const char *metrics; /* --metrics ADDR:PORT: also run nerrf-exporter there */
	const char *forward; /* --forward nats://HOST:PORT: also run nerrf-forward to it */
	const char *listen[16];
	int nlisten;
};

static int push_arg(struct stage *s, const char *a)
{
	if (s->argc + 1 >= MAX_ARGS) {
		log_warnx("too many arguments for %s", s->name);
		return -1;
	}
	s->argv[s->argc++] = (char *)a;
	s->argv[s->argc] = NULL;
	return 0;
}

static void run_usage(FILE *f)
{
	fputs("Usage: nerrf run [options] [collector options]\n"
	      "Starts nerrf-collector, nerrf-encoder and nerrf-publisher and supervises them.\n"
	      "Run as root; works straight from the build directory.\n\n"
	      "  --print              also print live events (as `nerrf tail` would)\n"
	      "  --no-pin             do not keep capturing while the collector restarts\n"
	      "                       (the gap is then reported as a capture gap)\n"
	      "  --json               with --print: JSON lines instead of a table\n"
	      "  --rundir DIR         directory for the stages' sockets (default /run/nerrf)\n"
	      "  --user NAME          user the stages run as (default nerrf if it exists, else nobody)\n"
	      "  --listen URL         publisher listen address (repeatable)\n"
	      "  --journal DIR        the publisher's journal, for replay (default " NERRF_JOURNAL_DEFAULT_DIR ")\n"
	      "  --no-journal         live only: no journal, no replay\n"
	      "  --metrics ADDR:PORT  also serve Prometheus metrics there (nerrf-exporter)\n"
	      "  --forward URL        also forward every batch to NATS JetStream there\n"
	      "                       (nerrf-forward; nats://HOST:PORT or tls://HOST:PORT)\n"
	      "  --forward-arg ARG    pass ARG to nerrf-forward (repeatable)\n"
	      "  --encoder-arg ARG    pass ARG to nerrf-encoder (repeatable)\n"
	      "  --publisher-arg ARG  pass ARG to nerrf-publisher (repeatable)\n"
	      "  --help               this text\n\n"
	      "Any other option (e.g. --path-prefix /home) goes to nerrf-collector, with its\n"
	      "value. Stage binaries are looked up in $NERRF_LIBEXEC, beside this program, then\n"
	      "in the build tree (../collector, ../encoder, ../publisher), then in " NERRF_INSTALL_LIBEXEC ".\n",
	      f);
}

/*
 * Finds nerrf-<name>: $NERRF_LIBEXEC, beside us, ../<name>/ in the build
 * tree, then where `meson install` puts the stages.
 */
static int find_stage(const char *self_dir, const char *name, char *out, size_t len)
{
	const char *libexec = getenv("NERRF_LIBEXEC");
	if (libexec && *libexec) {
		snprintf(out, len, "%s/nerrf-%s", libexec, name);
		if (access(out, X_OK) == 0)
			return 0;
		log_warnx("%s is not an executable file: set NERRF_LIBEXEC to the "
			"directory holding the nerrf-* stage binaries",
			out);
		return -1;
	}
	snprintf(out, len, "%s/nerrf-%s", self_dir, name);
	if (access(out, X_OK) == 0)
		return 0;
	snprintf(out, len, "%s/../%s/nerrf-%s", self_dir, name, name);
	if (access(out, X_OK) == 0)
		return 0;
	snprintf(out, len, "%s/nerrf-%s", NERRF_INSTALL_LIBEXEC, name);
	if (access(out, X_OK) == 0)
		return 0;
	log_warnx("cannot find nerrf-%s beside %s, in %s/../%s or in %s: build it "
		"(ninja -C build) or set NERRF_LIBEXEC to where it is installed",
		name, self_dir, self_dir, name, NERRF_INSTALL_LIBEXEC);
	return -1;
}

/* This binary's path into self (PATH_MAX bytes), its folder into dir when not NULL. */
static int self_exe(char *self, char *dir)
{
	ssize_t n = readlink("/proc/self/exe", self, PATH_MAX - 1);

	if (n <= 0) {
		log_warn("cannot read /proc/self/exe");
		return -1;
	}
	self[n] = '\0';
	if (dir) {
		snprintf(dir, PATH_MAX, "%s", self);
		*strrchr(dir, '/') = '\0';
	}
	return 0;
}

int nerrf_stage_path(const char *name, char *out, size_t len)
{
	char self[PATH_MAX], dir[PATH_MAX];

	return self_exe(self, dir) < 0 ? -1 : find_stage(dir, name, out, len);
}

/* 0 ok, 1 --help, -1 error. Options nerrf run does not know go to the collector. */
static int parse_run(int argc, char **argv, struct run_opts *o, struct stage *st)
{
	static const char *const with_value[] = {"--rundir", "--user", "--listen", "--encoder-arg",
						 "--publisher-arg", "--journal", "--metrics",
						 "--forward", "--forward-arg"};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++) {
			if (strcmp(a, with_value[k]) != 0)
				continue;
			if (i + 1 == argc) {
				log_warnx("%s needs a value", a);
				return -1;
			}
			v = argv[++i];
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			return 1;
		} else if (strcmp(a, "--print") == 0) {
			o->print = true;
		} else if (strcmp(a, "--journal") == 0) {
			o->journal = v;
		} else if (strcmp(a, "--no-journal") == 0) {
			o->journal = NULL;
		} else if (strcmp(a, "--no-pin") == 0) {
			o->no_pin = true;
		} else if (strcmp(a, "--json") == 0) {
			o->print = o->json = true;
		} else if (strcmp(a, "--rundir") == 0) {
			o->rundir = v;
		} else if (strcmp(a, "--user") == 0) {
			o->user = v;
		} else if (strcmp(a, "--metrics") == 0) {
			o->metrics = v;
		} else if (strcmp(a, "--forward") == 0) {
			o->forward = v;
		} else if (strcmp(a, "--forward-arg") == 0) {
			if (push_arg(&st[FORWARDER], v))
				return -1;
		} else if (strcmp(a, "--listen") == 0) {
			if (o->nlisten == 16) {
				log_warnx("at most 16 --listen addresses");
				return -1;
			}
			o->listen[o->nlisten++] = v;
			if (push_arg(&st[PUBLISHER], "--listen") || push_arg(&st[PUBLISHER], v))
				return -1;
		} else if (strcmp(a, "--encoder-arg") == 0) {
			if (push_arg(&st[ENCODER], v))
				return -1;
		} else if (strcmp(a, "--publisher-arg") == 0) {
			if (push_arg(&st[PUBLISHER], v))
				return -1;
		} else if (strncmp(a, "--", 2) == 0 && a[2]) {
			/* No positional arguments: a non-option after an option is its value. */
			if (push_arg(&st[COLLECTOR], a))
				return -1;
			if (!strchr(a, '=') && i + 1 < argc && argv[i + 1][0] != '-' &&
			    push_arg(&st[COLLECTOR], argv[++i]))
				return -1;
		} else if (strcmp(a, "--") != 0) {
			log_warnx("unexpected argument '%s' (see nerrf run --help)", a);
			return -1;
		}
	}
	return 0;
}

/* A directory on the way to dir (fd, shown as at): root's or the stage user's, not others'. */
static bool trusted_dir(int fd, const char *at, uid_t uid, const char *dir, const char *opt)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0) {
		log_warnx("%s %s: cannot stat %s: %s", opt, dir, at,
			strerror(errno));
		return false;
	}
	if ((sb.st_uid != 0 && sb.st_uid != uid) ||
	    ((sb.st_mode & 022) && !(sb.st_mode & S_ISVTX))) {
		log_warnx("%s %s: %s on its way is owned by uid %u with mode %04o: "
			"another user could swap the directory root works in; choose a %s under "
			"directories that only root can change (such as /run)", opt, dir, at,
			(unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777), opt);
		return false;
	}
	return true;
}

/*
 * The directory dir will be made in, opened by a walk from / that follows no
 * symlink (the path is resolved once, by realpath, and every component of the
 * result must then be a real directory): root's next steps happen relative to
 * that fd, so nobody can redirect them elsewhere by renaming a component.
 * Every directory on the way must be root's or the stage user's, and not
 * writable by others unless sticky (/tmp): another user who could change an
 * entry on the way could swap in a directory of their choosing.
 * Returns the fd and the last component in leaf, or -1 having said why.
 */
static int open_parent(const char *dir, uid_t uid, const char *opt, char *leaf, size_t leaflen)
{
	char path[PATH_MAX], real[PATH_MAX], at[PATH_MAX] = "", *save = NULL;
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(path)) {
		log_warnx("%s '%s': not a directory name", opt, dir);
		return -1;
	}
	memcpy(path, dir, n);
	path[n] = '\0';
	char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strlen(name) >= leaflen) {
		log_warnx("%s '%s': name the directory itself, not / . or ..",
			opt, dir);
		return -1;
	}
	snprintf(leaf, leaflen, "%s", name);
	if (slash)
		*slash = '\0';
	if (!realpath(!slash ? "." : path[0] ? path : "/", real)) {
		log_warnx("%s %s: its parent does not resolve (%s); create it or "
			"choose another %s", opt, dir, strerror(errno), opt);
		return -1;
	}
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !trusted_dir(fd, "/", uid, dir, opt))
		goto fail;
	for (char *c = strtok_r(real, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int nfd = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		size_t l = strlen(at);
		snprintf(at + l, sizeof(at) - l, "/%s", c);
		close(fd);
		fd = nfd;
		if (fd < 0) {
			log_warnx("%s %s: cannot open %s (%s): it changed since it "
				"was resolved, or is not a directory", opt, dir, at,
				strerror(errno));
			return -1;
		}
		if (!trusted_dir(fd, at, uid, dir, opt))
			goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/*
 * The rundir belongs to the stage user: the stages create their sockets
 * there. Root works on it only through an fd of a directory it checked, so a
 * symlink or anything else placed at the name is refused, never followed:
 * the uid/mode change lands on the directory we looked at.
 */
static int make_rundir(const char *dir, uid_t uid, gid_t gid, const char *opt)
{
	char leaf[NAME_MAX + 1];
	struct stat sb;
	int fd, pfd = open_parent(dir, uid, opt, leaf, sizeof(leaf));

	if (pfd < 0)
		return -1;
	if (mkdirat(pfd, leaf, 0700) != 0 && errno != EEXIST) {
		log_warnx("cannot create %s: %s; create its parent or choose "
			"another %s",
			dir, strerror(errno), opt);
		close(pfd);
		return -1;
	}
	fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(pfd);
	if (fd < 0 || fstat(fd, &sb) != 0) {
		log_warnx("%s is not a directory (%s): remove it or choose another "
			"%s; a symlink there is refused",
			dir, strerror(errno), opt);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (sb.st_uid != 0 && sb.st_uid != uid) {
		log_warnx("%s belongs to uid %u, neither root nor the stage user: "
			"refusing to take it over; remove it or choose another %s",
			dir, (unsigned)sb.st_uid, opt);
		close(fd);
		return -1;
	}
	if (fchown(fd, uid, gid) != 0 || fchmod(fd, 0770) != 0) {
		log_warnx("cannot hand %s to the stage user: %s", dir,
			strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * An abstract datagram socket for the stages' READY=1; the kernel vouches
 * for each sender's pid (SCM_CREDENTIALS), so no one else can mark a stage
 * started. -1 if it cannot be had: then start-up is judged by time alone.
 */
static int notify_open(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char env[64];
	int one = 1, fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int n = snprintf(env, sizeof(env), "@nerrf-run-%d", (int)getpid());

	memcpy(a.sun_path + 1, env + 1, (size_t)n - 1);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
							 (size_t)n)) != 0) {
		log_warnx("warning: no socket for the stages' readiness (%s); "
			"a stage failing in its first %d s counts as a setup error",
			strerror(errno), STARTUP_FAIL_MS / 1000);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* The stages inherit it; no watchdog of ours for them to pet. */
	setenv("NOTIFY_SOCKET", env, 1);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return fd;
}

static void notify_drain(int fd, struct stage *st)
{
	char buf[512];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred))];
	} cm;

	for (;;) {
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &cm,
				   .msg_controllen = sizeof(cm)};
		ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
		if (n < 0)
			return;
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		struct ucred u;
		if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS ||
		    !nerrf_notify_is_ready(buf, (size_t)n))
			continue;
		memcpy(&u, CMSG_DATA(c), sizeof(u));
		for (int i = 0; i < NSTAGES; i++)
			if (st[i].pid > 0 && st[i].pid == u.pid)
				st[i].ready = true;
	}
}

static pid_t start_stage(struct stage *s, uid_t uid, gid_t gid, const char *user,
			 const sigset_t *oldmask)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		log_warnx("cannot fork %s: %s", s->name, strerror(errno));
		return -1;
	}
	if (pid > 0) {
		s->pid = pid;
		s->ready = false;
		s->starts++;
		s->started_ms = nerrf_mono_ms();
		return pid;
	}

	/*
	 * Child. Own process group: a terminal's Ctrl-C reaches only the
	 * supervisor, which stops the stages in order.
	 */
	setpgid(0, 0);
	if (!s->prints)
		dup2(STDERR_FILENO, STDOUT_FILENO); /* stdout carries --print output only */
	if (!s->privileged) {
		if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
		    setresuid(uid, uid, uid) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
			log_warnx("cannot drop %s to user %s: %s", s->name, user,
				strerror(errno));
			_exit(126);
		}
	}
	/* Set after the uid change, which clears it. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	execv(s->path, s->argv);
	log_warnx("cannot execute %s as %s: %s%s", s->path,
		s->privileged ? "root" : user, strerror(errno),
		errno == EACCES ? " (the stage user needs read and search access to the build "
				  "tree: chmod o+rX along its path, or use --user)"
				: "");
	_exit(127);
}

/* Stopping for good: detach what --pin kept attached across collector restarts. */
static void unpin(struct stage *c)
{
	pid_t pid;
	int status;

	if (push_arg(c, "--cleanup") < 0)
		return;
	pid = fork();
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execv(c->path, c->argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		log_warnx("removing the collector's pinned programs failed: run "
			"%s --cleanup --rundir <rundir> by hand", c->path);
}

static void describe_exit(const struct stage *s, int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "%s (pid %d) was killed by signal %d", s->name, s->pid,
			 WTERMSIG(status));
	else
		snprintf(buf, len, "%s (pid %d) exited with status %d", s->name, s->pid,
			 WEXITSTATUS(status));
}

static void stop_all(struct stage *st, const sigset_t *set)
{
	/* Printer first (nothing more to show), then the pipeline from its source. */
	static const int order[] = {PRINTER, EXPORTER, FORWARDER, COLLECTOR, ENCODER, PUBLISHER};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (st[order[i]].pid > 0)
			kill(st[order[i]].pid, SIGTERM);

	uint64_t deadline = nerrf_mono_ms() + STOP_GRACE_MS;
	for (;;) {
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (int i = 0; i < NSTAGES; i++)
				if (st[i].pid == pid)
					st[i].pid = 0;
		bool left = false;
		for (int i = 0; i < NSTAGES; i++)
			left |= st[i].pid > 0;
		if (!left)
			return;
		uint64_t t = nerrf_mono_ms();
		if (t >= deadline)
			break;
		struct timespec ts = {.tv_nsec = 50 * 1000000};
		sigtimedwait(set, NULL, &ts);
	}
	for (int i = 0; i < NSTAGES; i++) {
		if (st[i].pid > 0) {
			log_warnx("%s did not stop within %d s; killing it",
				st[i].name, STOP_GRACE_MS / 1000);
			kill(st[i].pid, SIGKILL);
			waitpid(st[i].pid, NULL, 0);
			st[i].pid = 0;
		}
	}
}

int cmd_run(int argc, char **argv)
{
	struct stage st[NSTAGES] = {
		[COLLECTOR] = {.name = "collector", .privileged = true, .enabled = true,
			       .notifies = true},
		[ENCODER] = {.name = "encoder", .enabled = true, .notifies = true},
		[PUBLISHER] = {.name = "publisher", .enabled = true, .notifies = true},
		[PRINTER] = {.name = "printer", .prints = true},
		[EXPORTER] = {.name = "exporter", .notifies = true},
		[FORWARDER] = {.name = "forward", .notifies = true},
	};
	struct run_opts o = {.rundir = NERRF_DEFAULT_RUNDIR, .user = NULL,
			     .journal = NERRF_JOURNAL_DEFAULT_DIR};
	char self[PATH_MAX], self_dir[PATH_MAX], pidbuf[32], urlbuf[PATH_MAX + 16], err[512];
	sigset_t set, oldmask;
	int ret = 1, notify_fd = -1;

	log_init("nerrf run", false);
	/* argv[0] of each stage first; the options parse appends after the fixed ones. */
	for (int i = 0; i < NSTAGES; i++)
		push_arg(&st[i], st[i].path);
	push_arg(&st[COLLECTOR], "--rundir");
	push_arg(&st[ENCODER], "--rundir");
	push_arg(&st[PUBLISHER], "--rundir");
	int rundir_at = st[COLLECTOR].argc;
	for (int i = COLLECTOR; i <= PUBLISHER; i++)
		push_arg(&st[i], NERRF_DEFAULT_RUNDIR);
	push_arg(&st[COLLECTOR], "--user");
	push_arg(&st[COLLECTOR], "nobody");
	push_arg(&st[COLLECTOR], "--exclude-tree");
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
	push_arg(&st[COLLECTOR], pidbuf);

	int rv = parse_run(argc, argv, &o, st);
	if (rv != 0) {
		run_usage(rv > 0 ? stdout : stderr);
		return rv > 0 ? 0 : 2;
	}
	/* A collector that crashes leaves capture running for its successor. */
	if (!o.no_pin && push_arg(&st[COLLECTOR], "--pin") < 0)
		return 2;
	for (int i = COLLECTOR; i <= PUBLISHER; i++)
		st[i].argv[rundir_at] = (char *)o.rundir;

	if (geteuid() != 0) {
		log_warnx("must run as root: the collector loads BPF programs "
			"(try: sudo %s run ...)",
			argv[0]);
		return 1;
	}
	if (!o.user) {
		/*
		 * Anything running as the stage user can write the rings, so a
		 * dedicated account beats the widely shared nobody.
		 */
		o.user = getpwnam("nerrf") ? "nerrf" : "nobody";
		if (strcmp(o.user, "nobody") == 0)
			log_warnx("no 'nerrf' account, running the stages as "
				"nobody; create one with: systemd-sysusers systemd/nerrf.sysusers");
	}
	st[COLLECTOR].argv[rundir_at + 2] = (char *)o.user;
	uid_t uid;
	gid_t gid;
	if (nerrf_account_lookup(o.user, NULL, &uid, &gid, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return 1;
	}

	if (self_exe(self, self_dir) < 0)
		return 1;
	if (find_stage(self_dir, "collector", st[COLLECTOR].path, PATH_MAX) ||
	    find_stage(self_dir, "encoder", st[ENCODER].path, PATH_MAX) ||
	    find_stage(self_dir, "publisher", st[PUBLISHER].path, PATH_MAX))
		return 1;
	if (make_rundir(o.rundir, uid, gid, "--rundir") != 0)
		return 1;
	if (o.journal) {
		/* /var/lib/nerrf is root's, as systemd's StateDirectory= makes it. */
		if (strcmp(o.journal, NERRF_JOURNAL_DEFAULT_DIR) == 0)
			mkdir("/var/lib/nerrf", 0755);
		if (make_rundir(o.journal, uid, gid, "--journal (or --no-journal)") != 0)
			return 1;
		push_arg(&st[PUBLISHER], "--journal");
		push_arg(&st[PUBLISHER], o.journal);
	} else {
		push_arg(&st[PUBLISHER], "--no-journal");
	}

	if (o.nlisten)
		snprintf(urlbuf, sizeof(urlbuf), "%s", o.listen[0]);
	else
		snprintf(urlbuf, sizeof(urlbuf), "ipc://%s/events.sock", o.rundir);
	if (o.metrics) {
		st[EXPORTER].enabled = true;
		if (find_stage(self_dir, "exporter", st[EXPORTER].path, PATH_MAX))
			return 1;
		push_arg(&st[EXPORTER], "--url");
		push_arg(&st[EXPORTER], urlbuf);
		push_arg(&st[EXPORTER], "--listen");
		push_arg(&st[EXPORTER], o.metrics);
	}
	if (o.forward) {
		/* Its position, the stage user's; resuming needs the journal's replay. */
		const char *state = "/var/lib/nerrf-forward";
		for (int i = 1; i < st[FORWARDER].argc; i++)
			if (strncmp(st[FORWARDER].argv[i], "--state-dir=", 12) == 0)
				state = st[FORWARDER].argv[i] + 12;
		st[FORWARDER].enabled = true;
		if (find_stage(self_dir, "forward", st[FORWARDER].path, PATH_MAX) ||
		    make_rundir(state, uid, gid, "--forward-arg --state-dir=DIR") != 0)
			return 1;
		if (!o.journal)
			log_warnx("warning: --forward with --no-journal: batches "
				"the broker misses during an outage cannot be sent again");
		if (push_arg(&st[FORWARDER], "--nats") || push_arg(&st[FORWARDER], o.forward) ||
		    push_arg(&st[FORWARDER], "--rundir") || push_arg(&st[FORWARDER], o.rundir) ||
		    push_arg(&st[FORWARDER], "--url") || push_arg(&st[FORWARDER], urlbuf))
			return 2;
	}
	if (o.print) {
		st[PRINTER].enabled = true;
		snprintf(st[PRINTER].path, PATH_MAX, "%s", self);
		push_arg(&st[PRINTER], "tail");
		push_arg(&st[PRINTER], "--wait"); /* it starts with the publisher, not after */
		push_arg(&st[PRINTER], "--url");
		push_arg(&st[PRINTER], urlbuf);
		if (o.json)
			push_arg(&st[PRINTER], "--json");
	}

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &oldmask);

	notify_fd = notify_open();
	for (int i = 0; i < NSTAGES; i++)
		if (st[i].enabled && start_stage(&st[i], uid, gid, o.user, &oldmask) < 0)
			goto stop;
	log_info("collector %d, encoder %d, publisher %d; rundir %s; Ctrl-C stops",
		st[COLLECTOR].pid, st[ENCODER].pid, st[PUBLISHER].pid, o.rundir);

	for (;;) {
		struct timespec ts = {.tv_nsec = 100 * 1000000};
		int sig = sigtimedwait(&set, NULL, &ts);
		/* Before the exits: a stage that said READY and then died has started. */
		if (notify_fd >= 0)
			notify_drain(notify_fd, st);
		if (sig == SIGINT || sig == SIGTERM) {
			ret = 0;
			break;
		}
		if (sig == SIGHUP) {
			/* Each stage reloads its own section; the printer has none. */
			log_info("SIGHUP: the stages read their configuration again");
			for (int i = 0; i < NSTAGES; i++)
				if (i != PRINTER && st[i].pid > 0)
					kill(st[i].pid, SIGHUP);
		}

		int status;
		pid_t pid;
		bool fatal = false;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			struct stage *s = NULL;
			for (int i = 0; i < NSTAGES; i++)
				if (st[i].pid == pid)
					s = &st[i];
			if (!s)
				continue;
			char what[128];
			uint64_t ran = nerrf_mono_ms() - s->started_ms;
			describe_exit(s, status, what, sizeof(what));
			s->pid = 0;
			if (s == &st[PRINTER]) {
				/* The reader went away (e.g. piped into head): stop. */
				ret = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
				fatal = true;
				continue;
			}
			bool started = s->ready || ((!s->notifies || notify_fd < 0) &&
						    ran >= STARTUP_FAIL_MS);
			if (s->starts == 1 && !started && WIFEXITED(status) &&
			    WEXITSTATUS(status) != 0) {
				log_warnx("%s at start; its message above says why. "
					"Stopping.",
					what);
				fatal = true;
				continue;
			}
			s->backoff_ms =
				ran >= STABLE_MS || !s->backoff_ms
					? BACKOFF_MIN_MS
					: (s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
									      : s->backoff_ms * 2);
			s->restart_at_ms = nerrf_mono_ms() + s->backoff_ms;
			log_warnx("%s; restarting it in %u ms", what,
				s->backoff_ms);
		}
		if (fatal)
			break;
		uint64_t t = nerrf_mono_ms();
		for (int i = 0; i < NSTAGES; i++) {
			if (st[i].enabled && st[i].pid == 0 && st[i].restart_at_ms &&
			    t >= st[i].restart_at_ms) {
				st[i].restart_at_ms = 0;
				if (start_stage(&st[i], uid, gid, o.user, &oldmask) > 0)
					log_info("%s restarted (pid %d)", st[i].name, st[i].pid);
				else
					st[i].restart_at_ms = t + BACKOFF_MAX_MS;
			}
		}
	}
stop:
	stop_all(st, &set);
	if (notify_fd >= 0)
		close(notify_fd);
	if (!o.no_pin)
		unpin(&st[COLLECTOR]);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	return ret;
}
