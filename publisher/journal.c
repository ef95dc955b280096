/* SPDX-License-Identifier: Apache-2.0 */
/* The publisher's journal usage and what it journals of a published message. */
#include <string.h>

#include "journal.h"
#include "nerrf_wire.h"

void pj_usage(FILE *f)
{
	fprintf(f,
		"  --journal DIR     keep every published batch in a journal there, for replay\n"
		"                    (default %s; see docs/JOURNAL.md)\n"
		"  --no-journal      live only: no journal, no replay endpoint\n"
		"  --journal-segment-bytes N  roll segments at this size (default 64M)\n"
		"  --journal-sync-ms MS       fdatasync at least this often (default 1000)\n"
		"  --journal-sync-bytes N     ... and after this many bytes (default 4M)\n"
		"  --journal-max-bytes N      keep at most this much, oldest segments go first\n"
		"                    (default 1G)\n"
		"  --journal-max-age S        ... and nothing older, in seconds (default 604800)\n"
		"  --replay-listen URL        replay endpoint (default ipc://<rundir>/replay.sock)\n",
		NERRF_JOURNAL_DEFAULT_DIR);
}

void pj_append(struct nerrf_journal *j, uint64_t seq, const uint8_t *msg, size_t len)
{
	uint64_t first, last;

	/* The publisher's appended fields have no field 1: the whole message scans the same. */
	nerrf_journal_time_range(msg + NERRF_TOPIC_LEN, len - NERRF_TOPIC_LEN, &first, &last);
	nerrf_journal_append(j, seq, msg, len, first, last);
}
