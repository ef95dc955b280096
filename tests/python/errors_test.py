# SPDX-License-Identifier: Apache-2.0
"""Clear errors: no socket, a socket nothing listens on, a publisher that goes silent, a
replay endpoint that is not there; and bad arguments."""
import os
import socket
import tempfile

from harness import Feeder, check
import nerrf


def error(kind, **args):
    try:
        nerrf.Subscriber(**args).close()
    except kind as e:
        return str(e)
    raise AssertionError("no %s for %r" % (kind.__name__, args))


with tempfile.TemporaryDirectory() as d:
    msg = error(nerrf.NoSocket, url="ipc://%s/events.sock" % d)
    check("no publisher socket at %s/events.sock" % d in msg and "nerrf run" in msg, msg)
    check(issubclass(nerrf.NoSocket, FileNotFoundError))

    # a stale socket: the file of a publisher that died
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(d + "/stale.sock")
    stale.close()
    msg = error(nerrf.NoPublisher, url="ipc://%s/stale.sock" % d)
    check("no publisher is listening at ipc://%s/stale.sock" % d in msg, msg)
    msg = error(nerrf.NoPublisher, url="tcp://127.0.0.1:1")
    check("no publisher is listening" in msg, msg)

    # wait=True: no error now, the dial goes on in the background
    nerrf.Subscriber(url="ipc://%s/later.sock" % d, wait=True).close()

for bad, args in (("topics", {"topics": ("evnts",)}), ("on_gap", {"on_gap": "shout"}),
                  ("resume_from", {"resume_from": "yesterday"}),
                  ("replay_url", {"url": "tcp://127.0.0.1:1", "resume_from": 1})):
    try:
        nerrf.Subscriber(**args)
        check(False, "accepted", args)
    except ValueError as e:
        check(bad in str(e), e)

with Feeder() as f:
    # --no-journal: no replay endpoint
    msg = error(nerrf.NoPublisher, url=f.url, resume_from=1)
    check("cannot reach the replay endpoint" in msg and "--no-journal" in msg, msg)
    with nerrf.Subscriber(f.url, recv_timeout=1.5) as sub:
        f.wait(1)
        f.batches(1, 1)
        check(next(sub.events()).bytes == 1000)
        f.stop()
        try:
            next(sub.events())
            check(False, "no error from a silent publisher")
        except nerrf.NoPublisher as e:
            check("nothing from the publisher at %s for 1.5 s" % f.url in str(e), e)
