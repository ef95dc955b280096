/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nerrf-collector: the only privileged stage. Loads and attaches the BPF
 * programs, creates shm ring #1, drops every privilege, then copies records
 * from the BPF ring buffer into ring #1 verbatim and, once a second, the
 * kernel's loss counters as a stats record. It never waits for the encoder:
 * a full ring #1 is a counted drop.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "collector.h"
#include "nerrf_account.h"
#include "nerrf_conf.h"
#include "nerrf_log.h"
#include "nerrf_notify.h"
#include "nerrf_ring.h"
#include "nerrf_signal.h"
#include "nerrf_wire.h"
#include "privdrop.h"

/* One collector per rundir: two would share pinned programs and split their events. */
static int lock_rundir(void *arg)
{
	const char *rundir = arg;
	int fd = open(rundir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		log_warnx("--rundir %s: %s; create it (owned by the --user) or choose another", rundir,
		    strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		log_warnx("--rundir %s: another nerrf-collector serves it (%s); stop that one first",
		    rundir, strerror(errno));
		close(fd);
		return -1;
	}
	return 0; /* the fd stays open, and the lock held, for our lifetime */
}

static int cleanup(const struct opts *o)
{
	int n = pin_remove(o->rundir, NULL);

	if (n > 0)
		log_info("removed %d pinned program set(s) for %s", n, o->rundir);
	return 0;
}

/*
 * The run directory belongs to the stage user, who can place anything in it.
 * So root does not work there at all: the directory is opened and the socket
 * bound with the stage user's effective ids (and --ring-group), and the
 * kernel's permission checks stand between whatever was placed there and
 * root's powers. Root needs no capability to read others' directories for
 * it either (the systemd unit grants none). The ring itself is a memfd,
 * never a name.
 */
static int as_stage_user(uid_t uid, gid_t gid, int (*fn)(void *), void *arg)
{
	gid_t groups[NGROUPS_MAX];
	int ngroups = getgroups(NGROUPS_MAX, groups), pdeath = 0;
	int rc;

	/* any id change clears a supervisor's parent-death signal: put it back after */
	prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);

	if (ngroups < 0 || setgroups(1, &gid) < 0 || setegid(gid) < 0 || seteuid(uid) < 0) {
		log_warnx("taking the stage user's ids to work in the run directory: %s",
			  strerror(errno));
		return -1;
	}
	rc = fn(arg);
	if (seteuid(0) < 0 || setegid(0) < 0 || setgroups(ngroups, groups) < 0 ||
	    (pdeath && prctl(PR_SET_PDEATHSIG, pdeath, 0, 0, 0) < 0)) {
		log_warnx("returning to root after working in the run directory: %s",
			  strerror(errno));
		return -1;
	}
	return rc;
}

struct listen_ctx {
	const struct opts *o;
	struct nerrf_ring_prod *ring;
	struct nerrf_ring_server **srv;
};

static int listen_ring1(void *arg)
{
	struct listen_ctx *c = arg;
	const char *msg = NULL;
	int e = nerrf_ring_listen(c->o->rundir, NERRF_RING1_NAME, c->o->ring_mode, c->ring, c->srv,
				  &msg);

	if (e < 0) {
		log_warnx("serving ring #1 at %s/%s: %s; %s", c->o->rundir, NERRF_RING1_NAME,
			  strerror(-e), msg ? msg : "check --rundir");
		return -1;
	}
	return 0;
}

#ifdef __SANITIZE_ADDRESS__
/*
 * LeakSanitizer's check at exit stops the world with syscalls the seccomp
 * filter refuses (clone, ptrace, mprotect) and then hangs in its own error
 * path; the sanitizer builds check the collector's memory with ASan alone.
 */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return 1;
}
#endif

int main(int argc, char **argv)
{
	struct opts o;
	struct kernel k = { 0 };
	struct nerrf_ring_prod *ring = NULL;
	struct nerrf_ring_server *srv = NULL;
	struct drain *d = NULL;
	char msg[512];
	const char *rmsg = NULL;
	uid_t uid;
	gid_t gid;
	int rc = 1, e, conf_dir;

	nerrf_catch_reload();
	log_init(PROG, false);
	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	log_init(PROG, o.verbose);
	if (o.check) {
		print_opts(&o);
		return 0;
	}
	if (o.cleanup)
		return cleanup(&o);
	nerrf_catch_stop();
	/* Held for reloads: after the drop, the file is opened only through it. */
	conf_dir = nerrf_conf_dir(argc, argv, msg, sizeof(msg));
	if (conf_dir == -2) {
		log_warnx("%s", msg);
		goto out;
	}

	if (nerrf_account_lookup(o.user, o.ring_group, &uid, &gid, msg, sizeof(msg)) < 0) {
		log_warnx("%s", msg);
		goto out;
	}
	if (as_stage_user(uid, gid, lock_rundir, (void *)o.rundir) < 0 ||
	    kernel_setup(&k, &o) < 0)
		goto out;
	e = nerrf_ring_create("nerrf-ring1", o.ring1_size, &ring, &rmsg);
	if (e < 0) {
		log_warnx("creating ring #1: %s; %s", strerror(-e),
			  rmsg ? rmsg : "check --ring1-size");
		goto out;
	}
	struct listen_ctx lc = { .o = &o, .ring = ring, .srv = &srv };
	if (as_stage_user(uid, gid, listen_ring1, &lc) < 0 || !(d = drain_new(&k, ring, srv)))
		goto out;

	if (nerrf_privdrop(uid, gid, conf_dir, msg, sizeof(msg)) < 0) {
		log_warnx("dropping privileges: %s", msg);
		goto out;
	}
	log_info("ready: pid %d, ring %s/%s, uid %u", getpid(), o.rundir, NERRF_RING1_NAME,
		 (unsigned)uid);
	nerrf_notify_ready("capturing into %s/%s", o.rundir, NERRF_RING1_NAME);
	while ((e = drain_run(d, &nerrf_stop, &nerrf_reload)) > 0) {
		nerrf_reload = 0;
		if (reload_opts(conf_dir, &o) > 0) {
			log_init(PROG, o.verbose);
			kernel_apply(&k, &o);
		}
	}
	if (e < 0)
		goto out;
	kernel_detach();
	drain_finish(d);
	rc = 0;
out:
	drain_free(d);
	kernel_close(&k);
	nerrf_ring_server_close(srv);
	if (ring)
		nerrf_ring_prod_close(ring);
	return rc;
}
