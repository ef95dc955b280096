/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf run: starts collector, encoder and publisher as three processes with
 * the privilege split of docs/ARCHITECTURE.md and supervises them.
 *
 * The collector starts as root and drops its own privileges after loading
 * the BPF programs; the encoder and publisher (and the --print subscriber)
 * never hold any: the child drops to --user before exec. A stage that dies is
 * restarted alone, with backoff; the rings under the rundir keep their state,
 * so the others carry on. The supervisor handles no signal asynchronously: it
 * blocks them and takes them with sigtimedwait in its loop.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nerrf.h"
#include "nerrf_ring.h"
#include "nerrf_wire.h"

#define MAX_ARGS 128
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define STABLE_MS 10000	     /* a stage that ran this long restarts with the minimum backoff */
#define STARTUP_FAIL_MS 2000 /* a first start that exits non-zero this fast is a setup error */
#define STOP_GRACE_MS 5000

enum { COLLECTOR, ENCODER, PUBLISHER, PRINTER, NSTAGES };

struct stage {
	const char *name;
	bool privileged; /* keeps root at exec (the collector drops privileges itself) */
	bool enabled;
	bool prints; /* owns stdout (the --print subscriber) */
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
	const char *listen[16];
	int nlisten;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int push_arg(struct stage *s, const char *a)
{
	if (s->argc + 1 >= MAX_ARGS) {
		fprintf(stderr, "nerrf run: too many arguments for %s\n", s->name);
		return -1;
	}
	s->argv[s->argc++] = (char *)a;
	s->argv[s->argc] = NULL;
	return 0;
}

/*
 * The rings must live in memory: on a disk filesystem their writeback stalls
 * the pipeline for tens of ms at a time (/run is not always a tmpfs). So an
 * on-disk rundir gets a tmpfs of its own for as long as we run.
 */
static bool mount_rundir(const char *dir, uid_t uid, gid_t gid)
{
	char opts[64];

	if (nerrf_ring_dir_in_memory(dir))
		return false;
	snprintf(opts, sizeof(opts), "mode=0770,uid=%u,gid=%u", (unsigned)uid, (unsigned)gid);
	if (mount("nerrf", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) != 0) {
		fprintf(stderr,
			"nerrf run: warning: %s is on a disk filesystem and mounting a tmpfs "
			"there failed (%s): the rings will stall on writeback; choose a --rundir "
			"on tmpfs\n",
			dir, strerror(errno));
		return false;
	}
	fprintf(stderr, "nerrf run: %s is on a disk filesystem: mounted a tmpfs there\n", dir);
	return true;
}

static void run_usage(FILE *f)
{
	fputs("Usage: nerrf run [options] [collector options]\n"
	      "Starts nerrf-collector, nerrf-encoder and nerrf-publisher and supervises them.\n"
	      "Run as root; works straight from the build directory.\n\n"
	      "  --print              also print live events (as `nerrf tail` would)\n"
	      "  --json               with --print: JSON lines instead of a table\n"
	      "  --rundir DIR         directory for the rings and the socket (default /run/nerrf)\n"
	      "  --user NAME          user the stages run as (default nerrf if it exists, else nobody)\n"
	      "  --listen URL         publisher listen address (repeatable)\n"
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
		fprintf(stderr,
			"nerrf run: %s is not an executable file: set NERRF_LIBEXEC to the "
			"directory holding the nerrf-* stage binaries\n",
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
	fprintf(stderr,
		"nerrf run: cannot find nerrf-%s beside %s, in %s/../%s or in %s: build it "
		"(ninja -C build) or set NERRF_LIBEXEC to where it is installed\n",
		name, self_dir, self_dir, name, NERRF_INSTALL_LIBEXEC);
	return -1;
}

/* 0 ok, 1 --help, -1 error. Options nerrf run does not know go to the collector. */
static int parse_run(int argc, char **argv, struct run_opts *o, struct stage *st)
{
	static const char *const with_value[] = {"--rundir", "--user", "--listen", "--encoder-arg",
						 "--publisher-arg"};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++) {
			if (strcmp(a, with_value[k]) != 0)
				continue;
			if (i + 1 == argc) {
				fprintf(stderr, "nerrf run: %s needs a value\n", a);
				return -1;
			}
			v = argv[++i];
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			return 1;
		} else if (strcmp(a, "--print") == 0) {
			o->print = true;
		} else if (strcmp(a, "--json") == 0) {
			o->print = o->json = true;
		} else if (strcmp(a, "--rundir") == 0) {
			o->rundir = v;
		} else if (strcmp(a, "--user") == 0) {
			o->user = v;
		} else if (strcmp(a, "--listen") == 0) {
			if (o->nlisten == 16) {
				fprintf(stderr, "nerrf run: at most 16 --listen addresses\n");
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
			fprintf(stderr,
				"nerrf run: unexpected argument '%s' (see nerrf run --help)\n", a);
			return -1;
		}
	}
	return 0;
}

/* The rundir belongs to the stage user: the unprivileged stages create ring2 and the socket. */
static int make_rundir(const char *dir, uid_t uid, gid_t gid)
{
	struct stat sb;
	if (mkdir(dir, 0770) != 0 && errno != EEXIST) {
		fprintf(stderr,
			"nerrf run: cannot create %s: %s; create its parent or choose "
			"another --rundir\n",
			dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr,
			"nerrf run: %s is not a directory: remove it or choose another "
			"--rundir\n",
			dir);
		return -1;
	}
	if (chown(dir, uid, gid) != 0 || chmod(dir, 0770) != 0) {
		fprintf(stderr, "nerrf run: cannot hand %s to the stage user: %s\n", dir,
			strerror(errno));
		return -1;
	}
	return 0;
}

static pid_t start_stage(struct stage *s, uid_t uid, gid_t gid, const char *user,
			 const sigset_t *oldmask)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "nerrf run: cannot fork %s: %s\n", s->name, strerror(errno));
		return -1;
	}
	if (pid > 0) {
		s->pid = pid;
		s->starts++;
		s->started_ms = now_ms();
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
			fprintf(stderr, "nerrf run: cannot drop %s to user %s: %s\n", s->name, user,
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
	fprintf(stderr, "nerrf run: cannot execute %s as %s: %s%s\n", s->path,
		s->privileged ? "root" : user, strerror(errno),
		errno == EACCES ? " (the stage user needs read and search access to the build "
				  "tree: chmod o+rX along its path, or use --user)"
				: "");
	_exit(127);
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
	static const int order[] = {PRINTER, COLLECTOR, ENCODER, PUBLISHER};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (st[order[i]].pid > 0)
			kill(st[order[i]].pid, SIGTERM);

	uint64_t deadline = now_ms() + STOP_GRACE_MS;
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
		uint64_t t = now_ms();
		if (t >= deadline)
			break;
		struct timespec ts = {.tv_nsec = 50 * 1000000};
		sigtimedwait(set, NULL, &ts);
	}
	for (int i = 0; i < NSTAGES; i++) {
		if (st[i].pid > 0) {
			fprintf(stderr, "nerrf run: %s did not stop within %d s; killing it\n",
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
		[COLLECTOR] = {.name = "collector", .privileged = true, .enabled = true},
		[ENCODER] = {.name = "encoder", .enabled = true},
		[PUBLISHER] = {.name = "publisher", .enabled = true},
		[PRINTER] = {.name = "printer", .prints = true},
	};
	struct run_opts o = {.rundir = NERRF_DEFAULT_RUNDIR, .user = NULL};
	char self[PATH_MAX], self_dir[PATH_MAX], pidbuf[32], urlbuf[PATH_MAX + 16];
	sigset_t set, oldmask;
	int ret = 1;

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
	for (int i = COLLECTOR; i <= PUBLISHER; i++)
		st[i].argv[rundir_at] = (char *)o.rundir;

	if (geteuid() != 0) {
		fprintf(stderr,
			"nerrf run: must run as root: the collector loads BPF programs "
			"(try: sudo %s run ...)\n",
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
			fprintf(stderr, "nerrf run: no 'nerrf' account, running the stages as "
				"nobody; create one with: systemd-sysusers systemd/nerrf.sysusers\n");
	}
	st[COLLECTOR].argv[rundir_at + 2] = (char *)o.user;
	struct passwd *pw = getpwnam(o.user);
	if (!pw) {
		fprintf(stderr, "nerrf run: no user '%s': create it or choose one with --user\n",
			o.user);
		return 1;
	}
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	if (uid == 0) {
		fprintf(stderr, "nerrf run: --user %s is root: choose an unprivileged user\n",
			o.user);
		return 1;
	}

	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		fprintf(stderr, "nerrf run: cannot read /proc/self/exe: %s\n", strerror(errno));
		return 1;
	}
	self[n] = '\0';
	snprintf(self_dir, sizeof(self_dir), "%s", self);
	*strrchr(self_dir, '/') = '\0';
	if (find_stage(self_dir, "collector", st[COLLECTOR].path, PATH_MAX) ||
	    find_stage(self_dir, "encoder", st[ENCODER].path, PATH_MAX) ||
	    find_stage(self_dir, "publisher", st[PUBLISHER].path, PATH_MAX))
		return 1;
	if (make_rundir(o.rundir, uid, gid) != 0)
		return 1;
	bool mounted = mount_rundir(o.rundir, uid, gid);

	if (o.print) {
		st[PRINTER].enabled = true;
		snprintf(st[PRINTER].path, PATH_MAX, "%s", self);
		if (o.nlisten)
			snprintf(urlbuf, sizeof(urlbuf), "%s", o.listen[0]);
		else
			snprintf(urlbuf, sizeof(urlbuf), "ipc://%s/events.sock", o.rundir);
		push_arg(&st[PRINTER], "tail");
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

	for (int i = 0; i < NSTAGES; i++)
		if (st[i].enabled && start_stage(&st[i], uid, gid, o.user, &oldmask) < 0)
			goto stop;
	fprintf(stderr,
		"nerrf run: collector %d, encoder %d, publisher %d; rundir %s; Ctrl-C "
		"stops\n",
		st[COLLECTOR].pid, st[ENCODER].pid, st[PUBLISHER].pid, o.rundir);

	for (;;) {
		struct timespec ts = {.tv_nsec = 100 * 1000000};
		int sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
			ret = 0;
			break;
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
			uint64_t ran = now_ms() - s->started_ms;
			describe_exit(s, status, what, sizeof(what));
			s->pid = 0;
			if (s == &st[PRINTER]) {
				/* The reader went away (e.g. piped into head): stop. */
				ret = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
				fatal = true;
				continue;
			}
			if (s->starts == 1 && ran < STARTUP_FAIL_MS && WIFEXITED(status) &&
			    WEXITSTATUS(status) != 0) {
				fprintf(stderr,
					"nerrf run: %s at start; its message above says why. "
					"Stopping.\n",
					what);
				fatal = true;
				continue;
			}
			s->backoff_ms =
				ran >= STABLE_MS || !s->backoff_ms
					? BACKOFF_MIN_MS
					: (s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
									      : s->backoff_ms * 2);
			s->restart_at_ms = now_ms() + s->backoff_ms;
			fprintf(stderr, "nerrf run: %s; restarting it in %u ms\n", what,
				s->backoff_ms);
		}
		if (fatal)
			break;
		uint64_t t = now_ms();
		for (int i = 0; i < NSTAGES; i++) {
			if (st[i].enabled && st[i].pid == 0 && st[i].restart_at_ms &&
			    t >= st[i].restart_at_ms) {
				st[i].restart_at_ms = 0;
				if (start_stage(&st[i], uid, gid, o.user, &oldmask) > 0)
					fprintf(stderr, "nerrf run: %s restarted (pid %d)\n",
						st[i].name, st[i].pid);
				else
					st[i].restart_at_ms = t + BACKOFF_MAX_MS;
			}
		}
	}
stop:
	stop_all(st, &set);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	if (mounted)
		umount2(o.rundir, MNT_DETACH);
	return ret;
}
