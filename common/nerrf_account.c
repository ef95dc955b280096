/* SPDX-License-Identifier: Apache-2.0 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>

#include "nerrf_account.h"

int nerrf_account_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid,
			 char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(user);
	struct group *gr;

	if (!pw) {
		snprintf(err, errlen, "--user %s: no such user; create it (e.g. useradd --system %s) "
			 "or name another unprivileged account", user, user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "--user %s has uid 0: the stages must not run as root; "
			 "name an unprivileged account", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (group) {
		gr = getgrnam(group);
		if (!gr) {
			snprintf(err, errlen, "--ring-group %s: no such group; create it or name "
				 "another", group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	if (*gid == 0) {
		snprintf(err, errlen, "the group of --user %s is gid 0; give the account an "
			 "unprivileged group%s", user, group ? "" : ", or pass --ring-group");
		return -1;
	}
	return 0;
}
