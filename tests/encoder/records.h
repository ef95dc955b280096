/* SPDX-License-Identifier: Apache-2.0 */
/* Synthetic ring #1 records, built with the real ABI layout (common/nerrf_event.h). */
#ifndef NERRF_TEST_RECORDS_H
#define NERRF_TEST_RECORDS_H

#include <stdint.h>
#include <string.h>

#include "nerrf_event.h"

/* Room for any record the tests build. */
#define REC_BUF (NERRF_EVENT_MAX + 64)

/*
 * An event record in buf with fixed, recognisable header values; strings are
 * NULL for absent. Returns the record size (also in hdr.size).
 */
static inline size_t build_event(void *buf, unsigned op, const char *path, const char *path2,
				 const char *raw, const void *data, unsigned data_len)
{
	struct nerrf_event *ev = buf;
	char *s = ev->strings;

	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = NERRF_REC_EVENT;
	ev->cpu = 1;
	ev->op = (uint16_t)op;
	ev->seq = 1;
	ev->tgid = 4242;
	ev->tid = 4243;
	ev->ppid = 1;
	ev->uid = 1000;
	ev->gid = 1001;
	ev->mnt_ns = 4026531841u;
	ev->cgroup_id = 0;
	ev->ret = 3;
	memcpy(ev->comm, "victim", 7);
	ev->fd = 3;
	ev->offset = -1;
#define PUT(str, field)                                                                 \
	do {                                                                            \
		ev->field = (str) ? (uint16_t)(strlen(str) + 1) : 0;                    \
		if (str)                                                                \
			memcpy(s, (str), ev->field);                                    \
		s += ev->field;                                                         \
	} while (0)
	PUT(path, path_len);
	PUT(path2, path2_len);
	PUT(raw, raw_len);
#undef PUT
	ev->data_len = (uint16_t)data_len;
	if (data_len)
		memcpy(s, data, data_len);
	s += data_len;
	ev->hdr.size = (uint32_t)(s - (char *)buf);
	return ev->hdr.size;
}

#endif
