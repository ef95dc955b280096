/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network events through the whole pipeline: a process that listens on
 * 127.0.0.1, connects to itself, sends a known number of bytes and closes.
 * The subscriber sees connect with the addresses and ports the process saw
 * (as strings and bytes) and the client socket's summary with the byte
 * counts; `nerrf tail` shows `connect 0 127.0.0.1:PORT`, and its JSON the
 * fields by their proto names. Four more clients end otherwise, each with
 * exactly one summary, at its last reference, with all it sent: one dup'ed
 * and closed twice, one dup2'ed over, one close-on-exec that the process
 * execs away, one left open when the exec'ed program exits.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "e2e.h"
#include "tjson.h"

#define SENT 1000
#define BACK 77
#define DUP1 300 /* before the first of two closes */
#define DUP2 200 /* after it */
#define OVER 150 /* dup2 over it */
#define LEFT 120 /* open at exit */
#define EXEC 90  /* close-on-exec */

enum { DUPED, DUP2ED, EXITED, EXECED, NENDS };
static const unsigned sent_of[NENDS] = { DUP1 + DUP2, OVER, LEFT, EXEC };
/* close_flags: bit 2 released by exec, bit 3 by the exit of the last holder */
static const unsigned how_of[NENDS] = { 0, 0, 1u << 3, 1u << 2 };

struct report {
	long ok;
	unsigned lport, cport;	      /* the listener's port, the client's own */
	unsigned port[NENDS];	      /* the other clients' own ports */
	int fd[NENDS];		      /* the fd whose release makes the summary */
};

/* A client of the listener ls at sa that sent n bytes (the accepted end in
 * *as has read them); its own port in *port. -1 on failure. */
static int client(int ls, const struct sockaddr_in *sa, unsigned n, int *as, unsigned *port)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	char buf[SENT] = {0};
	int cs = socket(AF_INET, SOCK_STREAM, 0);

	*as = -1;
	if (connect(cs, (const void *)sa, sizeof(*sa)) || (*as = accept(ls, NULL, NULL)) < 0 ||
	    getsockname(cs, (void *)&me, &len) || write(cs, buf, n) != (ssize_t)n ||
	    recv(*as, buf, n, MSG_WAITALL) != (ssize_t)n) {
		close(cs);
		return -1;
	}
	*port = ntohs(me.sin_port);
	return cs;
}

/* The clients that end otherwise; the last two accepted ends stay open too. */
static bool other_ends(int ls, const struct sockaddr_in *sa, struct report *r)
{
	char buf[DUP2] = {0};
	int as, cs = client(ls, sa, DUP1, &as, &r->port[DUPED]), d = dup(cs);
	bool ok = cs >= 0 && d >= 0 && close(cs) == 0 && write(d, buf, DUP2) == DUP2 &&
		  recv(as, buf, DUP2, MSG_WAITALL) == DUP2 && close(d) == 0;
	r->fd[DUPED] = d;
	close(as);

	cs = client(ls, sa, OVER, &as, &r->port[DUP2ED]);
	int nul = open("/dev/null", O_RDONLY);
	ok = ok && cs >= 0 && nul >= 0 && dup2(nul, cs) == cs;
	r->fd[DUP2ED] = cs;
	close(nul);
	close(cs);

	r->fd[EXITED] = r->fd[EXECED] = -1;
	ok = ok && client(ls, sa, LEFT, &as, &r->port[EXITED]) >= 0;
	cs = client(ls, sa, EXEC, &as, &r->port[EXECED]);
	return ok && cs >= 0 && fcntl(cs, F_SETFD, FD_CLOEXEC) == 0;
}

static void work(const struct e2e *e, int report_fd, void *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct report r = {0};
	char buf[SENT] = {0};
	(void)e;
	(void)arg;
	int ls = socket(AF_INET, SOCK_STREAM, 0), cs = socket(AF_INET, SOCK_STREAM, 0), as;
	if (bind(ls, (void *)&sa, sizeof(sa)) == 0 && listen(ls, 1) == 0 &&
	    getsockname(ls, (void *)&sa, &len) == 0 && connect(cs, (void *)&sa, sizeof(sa)) == 0 &&
	    (as = accept(ls, NULL, NULL)) >= 0) {
		r.lport = ntohs(sa.sin_port);
		len = sizeof(sa);
		r.ok = getsockname(cs, (void *)&sa, &len) == 0 && write(cs, buf, SENT) == SENT &&
		       recv(as, buf, SENT, MSG_WAITALL) == SENT && write(as, buf, BACK) == BACK &&
		       recv(cs, buf, BACK, MSG_WAITALL) == BACK;
		r.cport = ntohs(sa.sin_port);
		close(cs);
		close(as);
		sa.sin_port = htons(r.lport); /* sa held the client's own address */
		r.ok = r.ok && other_ends(ls, &sa, &r);
	}
	close(ls);
	if (write(report_fd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	execl("/bin/true", "true", (char *)NULL);
}

static void check_ep(const char *addr, ProtobufCBinaryData bytes, uint32_t port, unsigned want)
{
	CHECK_STR(addr, "127.0.0.1");
	CHECK(bytes.len == 4 && bytes.data[0] == 127 && bytes.data[3] == 1, "addr bytes");
	CHECK_EQ_U64(port, want);
}

int main(void)
{
	struct e2e e = {0};
	char table[PATH_MAX + 16], json[PATH_MAX + 16], terr[PATH_MAX + 16], pidbuf[16],
		want[256];
	struct report r;
	bool connect_seen = false, close_seen = false;
	unsigned ends[NENDS] = {0}, nends = 0;

	e2e_require("the network pipeline test", true);
	e2e_dirs(&e, "e2e-net");
	snprintf(table, sizeof(table), "%s/tail.out", e.dir);
	snprintf(json, sizeof(json), "%s/tail.json", e.dir);
	snprintf(terr, sizeof(terr), "%s/tail.err", e.dir);
	e2e_child(&e, work, NULL);
	char *extra[] = {"--net-loopback", NULL};
	e2e_run(&e, extra);
	snprintf(pidbuf, sizeof(pidbuf), "%d", e.child);
	char *targv[] = {(char *)pt_bin("NERRF_CLI"), "tail", "--wait", "--url", e.url,
			 "--syscall", "connect", "--pid", pidbuf, "--count", "1", NULL};
	pid_t tail = pt_spawn_io(targv, terr, table);
	char *jargv[] = {(char *)pt_bin("NERRF_CLI"), "tail", "--wait", "--url", e.url, "--json",
			 "--syscall", "sock_close", "--pid", pidbuf, "--count", "1", NULL};
	pid_t jtail = pt_spawn_io(jargv, terr, json);
	e.sub = pt_sub(e.url, NERRF_TOPIC_EVENTS);
	e2e_go(&e, e.sub, 3);
	CHECK(read(e.done_fd, &r, sizeof(r)) == sizeof(r) && r.ok, "the child's own connection failed");

	Nerrf__Trace__EventBatch *b;
	for (uint64_t end = nerrf_mono_ms() + 20000;
	     !(connect_seen && close_seen && nends == NENDS) &&
	     (b = e2e_next_batch(&e, e.sub, end));) {
		for (size_t k = 0; k < b->n_events; k++) {
			const Nerrf__Trace__Event *ev = b->events[k];
			if (ev->pid != (uint32_t)e.child)
				continue;
			for (unsigned i = 0; i < NENDS; i++) {
				if (strcmp(ev->syscall, "sock_close") || ev->local_port != r.port[i])
					continue;
				CHECK(!ends[i]++, "a second summary of client %u (fd %d, %llu bytes)", i,
				      ev->fd, (unsigned long long)ev->bytes);
				nends++;
				check_ep(ev->remote_addr, ev->remote_addr_bytes, ev->remote_port,
					 r.lport);
				CHECK_EQ_U64(ev->bytes, sent_of[i]);
				CHECK_EQ_U64(ev->fd, r.fd[i]);
				CHECK_EQ_U64(ev->close_flags, how_of[i]);
			}
			bool conn = strcmp(ev->syscall, "connect") == 0 && ev->local_port == r.cport;
			bool clos = strcmp(ev->syscall, "sock_close") == 0 && ev->local_port == r.cport;
			if (!conn && !clos)
				continue;
			CHECK_EQ_U64(ev->family, AF_INET);
			CHECK_EQ_U64(ev->sock_type, SOCK_STREAM);
			CHECK_EQ_U64(ev->protocol, IPPROTO_TCP);
			check_ep(ev->local_addr, ev->local_addr_bytes, ev->local_port, r.cport);
			check_ep(ev->remote_addr, ev->remote_addr_bytes, ev->remote_port, r.lport);
			CHECK_EQ_U64(ev->ret_val, 0);
			if (conn) {
				connect_seen = true;
				continue;
			}
			CHECK_EQ_U64(ev->bytes, SENT);
			CHECK_EQ_U64(ev->bytes_received, BACK);
			CHECK(ev->first_mono_ns && ev->last_mono_ns >= ev->first_mono_ns &&
			      ev->mono_ns >= ev->last_mono_ns, "activity times %llu..%llu, close %llu",
			      (unsigned long long)ev->first_mono_ns,
			      (unsigned long long)ev->last_mono_ns, (unsigned long long)ev->mono_ns);
			close_seen = true;
		}
		nerrf__trace__event_batch__free_unpacked(b, NULL);
	}
	CHECK(connect_seen, "no connect arrived");
	CHECK(close_seen, "no sock_close of the client socket arrived");
	CHECK(ends[DUPED], "no sock_close of the dup'ed client arrived");
	CHECK(ends[DUP2ED], "no sock_close of the client dup2 went over arrived");
	CHECK(ends[EXITED], "no sock_close of the client open at exit arrived");
	CHECK(ends[EXECED], "no sock_close of the close-on-exec client arrived");

	int rc = pt_wait_exit(tail, 15000);
	if (rc < 0)
		kill(tail, SIGKILL);
	CHECK(rc == 0, "nerrf tail exit %d: %s", rc, pt_slurp(terr));
	snprintf(want, sizeof(want), " %-10s %5d 127.0.0.1:%u\n", "connect", 0, r.lport);
	CHECK(strstr(pt_slurp(table), want) != NULL, "want '%s' in: %s", want, pt_slurp(table));

	rc = pt_wait_exit(jtail, 15000);
	if (rc < 0)
		kill(jtail, SIGKILL);
	CHECK(rc == 0, "nerrf tail --json exit %d: %s", rc, pt_slurp(terr));
	/* The connect, as proto3 JSON values (bytes_received is 64-bit: a string). */
	json_object *l = tj_file_lines(json), *c = NULL;
	char lport[16], cport[16], back[16];
	snprintf(lport, sizeof(lport), "%u", r.lport);
	snprintf(cport, sizeof(cport), "%u", r.cport);
	snprintf(back, sizeof(back), "%d", BACK);
	for (size_t i = 0; i < json_object_array_length(l); i++)
		if (tj_is(tj_line(l, i), "remote_port", lport) && tj_is(tj_line(l, i), "family", "2"))
			c = tj_line(l, i);
	CHECK(c && tj_is(c, "sock_type", "1") && tj_is(c, "protocol", "6") &&
		      tj_is(c, "local_addr", "127.0.0.1") && tj_is(c, "local_port", cport) &&
		      tj_is(c, "remote_addr", "127.0.0.1") && tj_is(c, "bytes_received", back),
	      "no connect to port %u with %d bytes back in: %s", r.lport, BACK, pt_slurp(json));
	json_object_put(l);

	e2e_finish(&e);
	return 0;
}
