/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The account the stages run as, resolved by root while files can still be
 * read: by nerrf run before it starts them, by the collector before its
 * privilege drop.
 */
#ifndef NERRF_ACCOUNT_H
#define NERRF_ACCOUNT_H

#include <stddef.h>
#include <sys/types.h>

/*
 * user's uid, and the gid of group (--ring-group), or the user's primary
 * group when NULL. Refuses uid 0 and gid 0: a stage that is root in either
 * way has dropped nothing. Returns 0, or -1 with err saying what to do.
 */
int nerrf_account_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid,
			 char *err, size_t errlen);

#endif /* NERRF_ACCOUNT_H */
