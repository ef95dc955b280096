/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Network capture: connect, accept, accept4, bind and listen, paired like
 * the file syscalls (the enter program stashes the arguments in `inflight`),
 * and a summary of each followed TCP socket when its fd is closed.
 *
 * Addresses come from the kernel's socket after the syscall (struct file ->
 * struct socket -> struct sock), so a caller that changes its sockaddr
 * while connect runs cannot make the record lie. Only what the socket no
 * longer holds (the target of a failed connect, the address of a failed
 * bind) is read from the caller's sockaddr, and flagged.
 *
 * Byte counts are not gathered per send: TCP keeps them in the socket
 * (write_seq, bytes_received), so the summary reads them once, at close, and
 * costs nothing on the data path. A socket is followed from a traced connect
 * or accept that passed the filters (net_socks, keyed by its struct file like
 * a write summary) to where its last reference goes: sock_emit is called by
 * the write summaries' hooks (close, dup2/dup3 over it, exec for
 * SOCK_CLOEXEC, exit of the last process holding it), so a socket with
 * several fds gives one summary, with its totals. A release those hooks do
 * not see (close_range, a socket passed away over a unix socket) leaves
 * the entry to the LRU; it holds the socket inode's number, so a struct file
 * reused after such an end is not taken for the one followed.
 *
 * Included by nerrf.bpf.c before the summaries' hooks.
 */
#ifndef NERRF_NET_BPF_H
#define NERRF_NET_BPF_H

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define S_IFSOCK 0140000
#define SOCK_STREAM 1
#define IPPROTO_TCP 6
#define UNIX_PATH_MAX 108


struct followed {
	__u64 first_ns;   /* when connect or accept returned */
	__u64 ino;        /* the socket's inode number */
	__u32 tag, drops; /* exit: the exiting fd table's references seen so far */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NERRF_NET_SOCKS_MAX);
	__type(key, __u64); /* struct file * */
	__type(value, struct followed);
} net_socks SEC(".maps");

/* The socket behind f and its inode number, or NULL when f is no socket. */
static __always_inline struct socket *file_socket(struct file *f, __u64 *ino)
{
	struct inode *i = f ? BPF_CORE_READ(f, f_inode) : NULL;

	if (!i || (BPF_CORE_READ(i, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	*ino = BPF_CORE_READ(i, i_ino);
	return BPF_CORE_READ(f, private_data);
}

static __always_inline void sock_addrs(struct nerrf_net *n, struct socket *so, struct sock *sk)
{
	struct inet_sock *inet = (void *)sk;

	n->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	n->type = BPF_CORE_READ(so, type);
	n->protocol = n->family == AF_UNIX ? 0 : BPF_CORE_READ(sk, sk_protocol);
	if (n->family != AF_INET && n->family != AF_INET6)
		return;
	/* as getsockname(2) sees them: a connect that failed unhashed the port
	 * (skc_num), not inet_sport; an unbound address falls back to the source */
	n->local_port = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
	n->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (n->family == AF_INET) {
		bpf_core_read(n->local_addr, 4, &sk->__sk_common.skc_rcv_saddr);
		if (!*(__u32 *)n->local_addr)
			bpf_core_read(n->local_addr, 4, &inet->inet_saddr);
		bpf_core_read(n->remote_addr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(n->local_addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		if (!((__u64 *)n->local_addr)[0] && !((__u64 *)n->local_addr)[1]) {
			struct ipv6_pinfo *np = BPF_CORE_READ(inet, pinet6);
			if (np)
				bpf_core_read(n->local_addr, 16, &np->saddr);
		}
		bpf_core_read(n->remote_addr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

/* An inet or inet6 address and port from the caller's sockaddr: false if it holds none. */
static __always_inline bool user_addr(__u64 uaddr, __u32 ulen, __u16 family, __u8 addr[16],
				      __u16 *port)
{
	struct sockaddr_in6 sa = {};

	if (!uaddr || ulen < sizeof(struct sockaddr_in) ||
	    bpf_probe_read_user(&sa, ulen < sizeof(sa) ? sizeof(struct sockaddr_in) : sizeof(sa),
				(void *)uaddr) ||
	    sa.sin6_family != family)
		return false;
	*port = bpf_ntohs(sa.sin6_port);
	if (family == AF_INET) {
		__builtin_memcpy(addr, &((struct sockaddr_in *)&sa)->sin_addr, 4);
		return true;
	}
	if (ulen < sizeof(sa))
		return false;
	__builtin_memcpy(addr, &sa.sin6_addr, 16);
	return true;
}

static __always_inline bool is_loopback(__u16 family, const __u8 *a)
{
	if (family == AF_INET)
		return a[0] == 127;
	__u64 hi, lo;
	__builtin_memcpy(&hi, a, 8);
	__builtin_memcpy(&lo, a + 8, 8);
	if (hi)
		return false;
	/* ::1, or ::ffff:127.x.y.z (an IPv4 peer of an IPv6 socket) */
	return lo == bpf_cpu_to_be64(1) ||
	       (a[8] == 0 && a[9] == 0 && a[10] == 0xff && a[11] == 0xff && a[12] == 127);
}

/* The filters are in the configuration slot a reload (SIGHUP) rewrites. */
static __always_inline bool net_wanted(__u16 op, const struct nerrf_net *n)
{
	const struct nerrf_bconf *cf = bconf();
	__u32 fam = n->family == AF_INET    ? NERRF_NF_INET :
		    n->family == AF_INET6   ? NERRF_NF_INET6 :
		    n->family == AF_UNIX    ? NERRF_NF_UNIX : 0;

	if (!(cf->net_families & fam))
		return false;
	if (fam == NERRF_NF_UNIX)
		return true;
	/* bind and listen have no peer: their own address says where they listen */
	bool peer = op != NERRF_OP_BIND && op != NERRF_OP_LISTEN;
	if (!cf->net_loopback && is_loopback(n->family, peer ? n->remote_addr : n->local_addr))
		return false;
	if (!cf->nports)
		return true;
	for (__u32 i = 0; i < NERRF_MAX_PORTS; i++) {
		if (i >= cf->nports)
			break;
		if (cf->ports[i] == n->remote_port || cf->ports[i] == n->local_port)
			return true;
	}
	return false;
}

/*
 * A unix socket's name at str[off]: sun_path from the kernel's unix_address
 * (or, with uaddr, from the caller's sockaddr_un), an abstract name's
 * leading NUL shown as '@'. Returns the length with the NUL, 0 if unnamed.
 */
static __always_inline __u32 put_unix(struct scratch *s, __u32 off, struct sock *sk, __u64 uaddr,
				      __u32 ulen)
{
	char *dst = &s->str[off & STR_MASK];
	const char *src;
	long len;

	if (uaddr) {
		src = (const char *)uaddr + sizeof(__u16);
		len = (long)ulen - (long)sizeof(__u16);
	} else {
		struct unix_address *ua = BPF_CORE_READ((struct unix_sock *)sk, addr);
		if (!ua)
			return 0;
		src = (const char *)ua->name[0].sun_path;
		len = BPF_CORE_READ(ua, len) - (long)sizeof(__u16);
	}
	if (len <= 0)
		return 0;
	if (len > UNIX_PATH_MAX)
		len = UNIX_PATH_MAX;
	if (uaddr ? bpf_probe_read_user(dst, len & 127, src) : bpf_probe_read_kernel(dst, len & 127, src))
		return 0;
	if (dst[0] == '\0')
		dst[0] = '@';
	/* a pathname's own NUL, or the end of an abstract name */
	dst[len & 127] = '\0';
	len = bpf_probe_read_kernel_str(dst, (len + 1) & 255, dst);
	return len > 0 ? len : 0;
}

SEC("tracepoint")
int exit_net(struct trace_event_raw_sys_exit *ctx)
{
	struct nerrf_net n = {};
	struct inflight a;
	__s64 ret = ctx->ret;
	struct scratch *s = take_inflight((__s32)ctx->id, ret, &a);
	struct nerrf_event *e;
	struct socket *so;
	struct sock *sk;
	struct file *f;
	__u32 off = 0;
	__u64 ino = 0;
	bool accepted;

	if (!s)
		return 0;
	e = (void *)s->ev;

	accepted = (a.op == NERRF_OP_ACCEPT || a.op == NERRF_OP_ACCEPT4) && ret >= 0;
	f = fd_file(accepted ? ret : a.fd);
	so = file_socket(f, &ino);
	sk = so ? BPF_CORE_READ(so, sk) : NULL;
	if (!sk) {
		/* not a socket (ENOTSOCK, EBADF): nothing to say where */
		count_filtered();
		return 0;
	}
	sock_addrs(&n, so, sk);
	if (a.op == NERRF_OP_CONNECT && !n.remote_port && n.family != AF_UNIX &&
	    user_addr(a.name, a.bytes, n.family, n.remote_addr, &n.remote_port))
		e->flags |= NERRF_EF_REMOTE_USER;
	if (a.op == NERRF_OP_BIND && ret < 0 && n.family != AF_UNIX &&
	    user_addr(a.name, a.bytes, n.family, n.local_addr, &n.local_port))
		e->flags |= NERRF_EF_LOCAL_USER;
	if (!net_wanted(a.op, &n)) {
		count_filtered();
		return 0;
	}

	if (n.family == AF_UNIX) {
		/* a failed bind or connect named a path the socket does not hold */
		bool bind_user = a.op == NERRF_OP_BIND && ret < 0;
		bool conn_user = a.op == NERRF_OP_CONNECT && ret < 0;
		e->path_len = put_unix(s, 0, sk, bind_user ? a.name : 0, a.bytes);
		off = e->path_len;
		if (bind_user)
			e->flags |= NERRF_EF_LOCAL_USER;
		if (conn_user) {
			e->path2_len = put_unix(s, off, sk, a.name, a.bytes);
			e->flags |= NERRF_EF_REMOTE_USER;
		} else {
			struct sock *peer = BPF_CORE_READ((struct unix_sock *)sk, peer);
			e->path2_len = peer ? put_unix(s, off, peer, 0, 0) : 0;
		}
		off += e->path2_len;
	}

	/* TCP: followed to its close, for the summary */
	if ((accepted || (a.op == NERRF_OP_CONNECT && (ret == 0 || ret == -115 /* EINPROGRESS */))) &&
	    n.family != AF_UNIX && n.protocol == IPPROTO_TCP) {
		__u64 key = (__u64)f;
		struct followed v = { .first_ns = e->ts_ns, .ino = ino };
		bpf_map_update_elem(&net_socks, &key, &v, BPF_ANY);
	}

	bpf_probe_read_kernel(&s->str[off & STR_MASK], sizeof(n), &n);
	e->data_len = sizeof(n);
	emit(e, sizeof(struct nerrf_event) + off + sizeof(n));
	return 0;
}

#define NET_TRACE(sc, body) TRACE_TO(sc, 1, a.fd = ARG(0); body)

/* name: the caller's sockaddr; bytes: its length (accept: the caller's length word) */
NET_TRACE(connect, a.op = NERRF_OP_CONNECT; a.name = ARG(1); a.bytes = ARG(2))
NET_TRACE(accept, a.op = NERRF_OP_ACCEPT)
NET_TRACE(accept4, a.op = NERRF_OP_ACCEPT4; a.flags = ARG(3))
NET_TRACE(bind, a.op = NERRF_OP_BIND; a.name = ARG(1); a.bytes = ARG(2))
NET_TRACE(listen, a.op = NERRF_OP_LISTEN; a.flags = ARG(1))

/*
 * The summary of file, a followed TCP socket whose last reference is going,
 * as one sock_close event; the entry is removed either way. Before the
 * release, while the socket is whole (so ret is 0). how: NERRF_CS_EXEC,
 * NERRF_CS_EXIT or 0, as for a write summary. Global: verified once.
 */
__noinline int sock_emit(struct scratch *s, __u64 file, __s32 fd, __u32 how)
{
	struct followed *fw = bpf_map_lookup_elem(&net_socks, &file);
	struct nerrf_net n = {};
	struct nerrf_event *e;
	struct socket *so;
	struct tcp_sock *tp;
	struct sock *sk;
	__u64 ino = 0;

	if (!s || !fw)
		return 0;
	n.first_ns = fw->first_ns;
	so = file_socket((struct file *)file, &ino);
	sk = so && ino == fw->ino ? BPF_CORE_READ(so, sk) : NULL;
	bpf_map_delete_elem(&net_socks, &file);
	if (!sk)
		return 0;
	tp = (void *)sk;
	e = (void *)s->ev;
	fill_header(e, NERRF_OP_SOCK_CLOSE, 0);
	e->fd = fd;
	e->mode = how;
	sock_addrs(&n, so, sk);
	/* write_seq counts from the initial sequence number + 1 (the SYN) */
	e->bytes = (__u32)(BPF_CORE_READ(tp, write_seq) - BPF_CORE_READ(tp, snd_nxt)) +
		   BPF_CORE_READ(tp, bytes_sent) - BPF_CORE_READ(tp, bytes_retrans);
	/* bytes_received counts the peer's FIN too (SOCK_DONE: it came) */
	n.rx_bytes = BPF_CORE_READ(tp, bytes_received) -
		     !!(BPF_CORE_READ(sk, __sk_common.skc_flags) & (1ul << bpf_core_enum_value(enum sock_flags, SOCK_DONE)));
	n.last_ns = BPF_CORE_READ(tp, tcp_mstamp) * 1000;
	bpf_probe_read_kernel(s->str, sizeof(n), &n);
	e->data_len = sizeof(n);
	emit(e, sizeof(struct nerrf_event) + sizeof(n));
	return 0;
}

#endif /* NERRF_NET_BPF_H */
