#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""ransom_watch: a live ransomware detector on the nerrf package.

Flags a process when, within a sliding window, it renames many files to new
extensions, or writes high-entropy data over many files and renames or deletes
many (the encrypt-then-replace pattern). For each flagged process it prints one
line that begins with ALERT, naming pid, comm, exe, container and the evidence
(counts per process and per directory, example paths, mean entropy), and goes
on watching. Nothing else it prints contains that word; notes go to stderr.

    sudo nerrf run &                                  # or the systemd units
    ./ransom_watch.py [--url ipc:///run/nerrf/events.sock] [options]

Thresholds (options), with defaults and where they come from:

  --window 30        seconds of activity considered per process. Fox-IT's
                     smb-ransomware Zeek script counts high-entropy files over
                     30 s (threshold_time = 30sec).
  --renames 20       renames to a new extension (name.doc -> name.doc.locked
                     or name.locked) that flag on their own. Sigma's
                     "Suspicious Appended Extension" (file_rename_win_ransomware)
                     fires on a single appended extension of a document; here
                     any file counts, so a burst is asked for. As in that rule,
                     renames to backup names (.bak .old .orig .tmp .temp) do
                     not count, nor do renames that only drop a suffix (the
                     atomic save of editors and package managers: x.tmp -> x).
  --encrypted 10     files written with high-entropy data that, with as many
                     renames to a new extension or deletions, flag. Fox-IT's
                     script alerts at 5 high-entropy files in 30 s; copying
                     compressed files (a documentation tree full of .gz) writes
                     high entropy too, hence 10, and the renames or deletions
                     that replacing the originals takes. Splunk's "Windows High
                     File Deletion Frequency" counts deletions per process the
                     same way (it alone needs 100).
  --entropy 0.94     a write sample is high-entropy when its Shannon entropy
                     is at least this fraction of what random bytes of the same
                     length average (short samples fall short of 8 bits/byte:
                     64 random bytes average 5.77). Fox-IT uses 7.5 of 8 bits.

write_entropy is the encoder's entropy of the head of each write (the
collector's --sample-bytes, 64 by default). Compressed data looks the same as
encrypted data to it; the renames and deletions tell them apart.
"""
import argparse
import collections
import math
import os
import random
import sys

try:
    import nerrf
except ImportError as e:
    sys.exit("ransom_watch: %s: install the nerrf package (clients/README.md), or set "
             "PYTHONPATH=<build>/clients/python" % e)

WRITES = {"write", "pwrite64", "writev", "pwritev", "pwritev2"}
RENAMES = {"rename", "renameat", "renameat2"}
UNLINKS = {"unlink", "unlinkat"}
EXECS = {"execve", "execveat"}
BACKUP_EXTS = {".bak", ".old", ".orig", ".tmp", ".temp", ".backup", ".swp", "~"}


def random_entropy(n, trials=300):
    """Mean Shannon entropy (bits/byte) of n random bytes."""
    rnd = random.Random(n)
    total = 0.0
    for _ in range(trials):
        counts = collections.Counter(rnd.getrandbits(8) for _ in range(n))
        total -= sum(c / n * math.log2(c / n) for c in counts.values())
    return total / trials


def new_extension(old, new):
    """The extension a rename gives a file, if it appends or replaces one (not a backup)."""
    ob, nb = os.path.basename(old), os.path.basename(new)
    ext = os.path.splitext(nb)[1]
    if not ext or ext.lower() in BACKUP_EXTS or nb.endswith("~"):
        return None
    if nb.startswith(ob + ".") or (os.path.splitext(ob)[0] == os.path.splitext(nb)[0]
                                   and os.path.splitext(ob)[1] != ext):
        return ext
    return None


def exe_of(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None


class Proc:
    """What one process did within the window."""

    def __init__(self, ev):
        self.comm, self.container, self.uid = ev.comm, ev.container_id, ev.uid
        # Read now, while it most likely runs; a child that has not exec'd (no execve seen)
        # runs its parent's.
        self.exe = exe_of(ev.pid) or exe_of(ev.ppid) or "?"
        self.acts = collections.deque()  # (mono_ns, kind, path, detail)

    def expire(self, now_ns, window_ns):
        while self.acts and self.acts[0][0] < now_ns - window_ns:
            self.acts.popleft()


class Watch:
    def __init__(self, args, out=sys.stdout):
        self.a, self.out = args, out
        self.window_ns = int(args.window * 1e9)
        self.procs, self.flagged, self.cutoff = {}, set(), {}

    def high(self, ev):
        n = min(ev.sample_len, 256)
        if n < 16:
            return False
        if n not in self.cutoff:
            self.cutoff[n] = self.a.entropy * random_entropy(n)
        return ev.write_entropy >= self.cutoff[n]

    def event(self, ev):
        sc = ev.syscall
        if sc == "exit" and ev.tid == ev.pid:
            self.procs.pop(ev.pid, None)
            self.flagged.discard(ev.pid)
            return
        if ev.ret_val < 0 or ev.pid in self.flagged:
            return
        if sc in WRITES:
            if not self.high(ev):
                return
            act = ("enc", ev.path, ev.write_entropy)
        elif sc in RENAMES:
            ext = new_extension(ev.path, ev.new_path)
            if not ext:
                return
            act = ("ren", ev.path, (ev.new_path, ext))
        elif sc in UNLINKS and not ev.arg_flags:  # AT_REMOVEDIR: a directory
            act = ("del", ev.path, None)
        elif sc in EXECS:
            p = self.procs.get(ev.pid)
            if p:
                p.exe, p.comm = ev.path, ev.comm
                p.acts.clear()  # another program now
            return
        else:
            return
        p = self.procs.get(ev.pid)
        if p is None:
            p = self.procs[ev.pid] = Proc(ev)
        p.comm = ev.comm or p.comm
        p.acts.append((ev.mono_ns, act[0], act[1], act[2]))
        p.expire(ev.mono_ns, self.window_ns)
        self.judge(ev.pid, p)

    def judge(self, pid, p):
        enc, ren, dele = {}, {}, set()
        for _, kind, path, detail in p.acts:
            if kind == "enc":
                enc.setdefault(path, []).append(detail)
            elif kind == "ren":
                ren[path] = detail
            else:
                dele.add(path)
        a = self.a
        if len(ren) < a.renames and not (len(enc) >= a.encrypted and
                                         len(ren) + len(dele) >= a.encrypted):
            return
        self.flagged.add(pid)
        self.alert(pid, p, enc, ren, dele)

    def alert(self, pid, p, enc, ren, dele):
        dirs = collections.Counter(os.path.dirname(x) for x in set(enc) | set(ren) | dele)
        exts = collections.Counter(e for _, e in ren.values())
        ents = [x for v in enc.values() for x in v]
        parts = ["ALERT pid=%d comm=%s exe=%s container=%s uid=%d:" % (
            pid, p.comm, p.exe, p.container or "-", p.uid)]
        parts.append("renamed %d files to new extensions (%s)" % (
            len(ren), " ".join("%s:%d" % e for e in exts.most_common(3)) or "-"))
        parts.append("wrote high-entropy data to %d files (mean %.2f bits/byte)" % (
            len(enc), sum(ents) / len(ents) if ents else 0.0))
        parts.append("deleted %d files" % len(dele))
        parts.append("in %d directories (%s) within %g s;" % (
            len(dirs), ", ".join("%s:%d" % d for d in dirs.most_common(3)), self.a.window))
        eg = ["%s -> %s" % (o, n) for o, (n, _) in list(ren.items())[:2]] or list(enc)[:2] \
            or sorted(dele)[:2]
        parts.append("e.g. " + ", ".join(eg))
        print(shown(" ".join(parts)), file=self.out, flush=True)


def shown(s):
    """Names come from the watched processes: control and format characters
    (escape sequences, bidirectional overrides) are written as escapes, so
    an alert cannot rewrite the terminal it is read on."""
    return "".join(c if c.isprintable() else
                   "\\x%02x" % ord(c) if ord(c) < 0x100 else "\\u%04x" % ord(c) for c in s)


def main():
    ap = argparse.ArgumentParser(description="Flag processes that behave like ransomware "
                                 "(see the docstring for the thresholds' sources).")
    ap.add_argument("--url", default=nerrf.DEFAULT_URL)
    ap.add_argument("--window", type=float, default=30.0)
    ap.add_argument("--renames", type=int, default=20)
    ap.add_argument("--encrypted", type=int, default=10)
    ap.add_argument("--entropy", type=float, default=0.94)
    ap.add_argument("--wait", action="store_true", help="wait for the publisher to start")
    args = ap.parse_args()
    watch = Watch(args)

    def note(gap):
        print("ransom_watch: note: %s; what those batches held was not judged" % (gap,),
              file=sys.stderr, flush=True)
    try:
        with nerrf.Subscriber(args.url, on_gap=note, wait=args.wait) as sub:
            print("ransom_watch: watching %s" % args.url, file=sys.stderr, flush=True)
            for ev in sub.events():
                watch.event(ev)
    except nerrf.NerrfError as e:
        sys.exit("ransom_watch: %s" % e)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
