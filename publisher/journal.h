/* SPDX-License-Identifier: Apache-2.0 */
/* The publisher's journal and replay endpoint: options, appending, serving (journal.c, replay.c). */
#ifndef NERRF_PUBLISHER_JOURNAL_H
#define NERRF_PUBLISHER_JOURNAL_H

#include <stdio.h>

#include "nerrf_journal.h"

struct pj_opts {
	struct nerrf_journal_opts j;
	bool off;
	const char *replay_url; /* NULL: ipc://<rundir>/replay.sock */
};

void pj_usage(FILE *f);

/* Journals one published message (topic and all). */
void pj_append(struct nerrf_journal *j, uint64_t seq, const uint8_t *msg, size_t len);

/* The replay endpoint, a thread reading only the journal directory. */
int replay_start(const char *url, int ipc_mode, const char *dir, struct nerrf_journal *j);
void replay_stop(void);

#endif
