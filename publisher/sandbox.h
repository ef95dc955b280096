/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NERRF_PUB_SANDBOX_H
#define NERRF_PUB_SANDBOX_H

#include <stddef.h>

/* Installs the publisher's seccomp allowlist on every thread; 0 or -1 with err. */
int pub_sandbox(char *err, size_t errlen);

#endif /* NERRF_PUB_SANDBOX_H */
