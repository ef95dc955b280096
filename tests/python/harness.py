# SPDX-License-Identifier: Apache-2.0
"""What the Python tests share: a real nerrf-publisher fed by python_feeder (feeder.c)."""
import os
import subprocess
import sys
import time

SKIP = 77


def skip(why):
    print("SKIP: " + why, file=sys.stderr)
    sys.exit(SKIP)


def check(cond, *what):
    if not cond:
        raise AssertionError(" ".join(str(w) for w in what) or "check failed")


class Feeder:
    """python_feeder as a context manager: .url, .replay_url, .dir, and its commands."""

    def __init__(self, *publisher_args):
        self.p = subprocess.Popen([os.environ["NERRF_FEEDER"], *publisher_args],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline().split()
        check(line and line[0] == "ready", "python_feeder did not start: %r" % line)
        self.url, self.replay_url, self.dir = line[1:4]

    def cmd(self, text):
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()
        reply = self.p.stdout.readline()
        check(reply == "ok\n", "python_feeder: %r answered %r" % (text, reply))

    def wait(self, subscribers):
        """Until the publisher counts this many subscribers besides the feeder's own."""
        self.cmd("wait %d" % (subscribers + 1))

    def batches(self, first, last, events=1, pid=7):
        """batch_seq first..last (publisher_seq too, from a fresh publisher); event i of
        batch s has bytes s * 1000 + i and ts 1700000000 + s seconds."""
        self.cmd("batches %d %d %d %d" % (first, last, events, pid))

    def stats(self, events_per_sec):
        self.cmd("stats %r" % events_per_sec)

    def stop(self):
        self.cmd("stop")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.p.stdin.close()
        self.p.wait(timeout=20)


def until(cond, seconds=10, what="condition"):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError("%s not met within %g s" % (what, seconds))
