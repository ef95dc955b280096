/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network records: the struct nerrf_net in an event's data (checked for its
 * size by enc_rec_check) into Event's family .. last_mono_ns fields.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "encoder.h"

bool enc_is_net_op(unsigned op)
{
	return (op >= NERRF_OP_CONNECT && op <= NERRF_OP_LISTEN) || op == NERRF_OP_SOCK_CLOSE;
}

static void endpoint(struct encoder *e, int i, uint16_t family, const uint8_t addr[16],
		     char **str, ProtobufCBinaryData *bytes)
{
	size_t len = family == AF_INET ? 4 : 16;

	memcpy(e->net_addr[i], addr, len);
	*bytes = (ProtobufCBinaryData){ .data = e->net_addr[i], .len = len };
	/* inet_ntop cannot fail on these families and this buffer size */
	*str = (char *)inet_ntop(family, addr, e->net_str[i], sizeof(e->net_str[i]));
}

void enc_net(struct encoder *e, const struct nerrf_event *r, const void *data)
{
	Nerrf__Trace__Event *ev = &e->ev;
	struct nerrf_net n;
	static const uint8_t zero[16];

	ev->family = ev->sock_type = ev->protocol = 0;
	ev->local_port = ev->remote_port = 0;
	ev->local_addr = ev->remote_addr = (char *)protobuf_c_empty_string;
	ev->local_addr_bytes.len = ev->remote_addr_bytes.len = 0;
	ev->bytes_received = ev->first_mono_ns = ev->last_mono_ns = 0;
	if (!enc_is_net_op(r->op))
		return;
	/* how its last reference went: a write summary's bits (exec 2, exit 3) */
	if (r->op == NERRF_OP_SOCK_CLOSE) {
		ev->close_flags = r->mode;
		ev->mode = 0;
	}
	memcpy(&n, data, sizeof(n));
	ev->family = n.family;
	ev->sock_type = n.type;
	ev->protocol = n.protocol;
	ev->bytes_received = n.rx_bytes;
	ev->first_mono_ns = n.first_ns;
	ev->last_mono_ns = n.last_ns;
	if (n.family != AF_INET && n.family != AF_INET6)
		return;
	ev->local_port = n.local_port;
	ev->remote_port = n.remote_port;
	endpoint(e, 0, n.family, n.local_addr, &ev->local_addr, &ev->local_addr_bytes);
	/* bind and listen have no peer; neither has a socket a connect did not reach */
	if (n.remote_port || memcmp(n.remote_addr, zero, n.family == AF_INET ? 4 : 16))
		endpoint(e, 1, n.family, n.remote_addr, &ev->remote_addr, &ev->remote_addr_bytes);
}
