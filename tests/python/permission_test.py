# SPDX-License-Identifier: Apache-2.0
"""A user outside the publisher's group is told it may not connect, and how to fix it."""
import os
import pwd

from harness import Feeder, check, skip
import nerrf

if os.geteuid() != 0:
    skip("needs root, to try the socket as another user")
with Feeder() as f:
    os.chmod(f.dir, 0o755)
    os.chmod(f.url[len("ipc://"):], 0o660)
    pid = os.fork()
    if pid == 0:
        try:
            nobody = pwd.getpwnam("nobody")
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            try:
                nerrf.Subscriber(f.url).close()
                os._exit(2)
            except nerrf.NoPermission as e:
                ok = "permission denied" in str(e) and "group" in str(e)
                print(e)
                os._exit(0 if ok else 3)
        except BaseException as e:
            print("child:", repr(e))
            os._exit(4)
    _, st = os.waitpid(pid, 0)
    check(os.WEXITSTATUS(st) == 0, "child status", os.WEXITSTATUS(st))
