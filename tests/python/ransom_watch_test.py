# SPDX-License-Identifier: Apache-2.0
"""clients/python/examples/ransom_watch.py on the real pipeline (nerrf run: BPF, collector,
encoder, publisher): a process that encrypts a tree in place and renames every file to
.locked is flagged within 2 s, by its pid, once; copying a documentation tree (compressed
files: high entropy), compiling a C program and untarring an archive are not."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from harness import check, skip
import nerrf

if os.geteuid() != 0:
    skip("needs root: it runs the real pipeline (nerrf run loads BPF programs)")
build = os.environ["NERRF_BUILD_ROOT"]
for stage in ("collector", "encoder", "publisher"):
    if not os.access("%s/%s/nerrf-%s" % (build, stage, stage), os.X_OK):
        skip("this build has no nerrf-%s" % stage)
docs = max((d for d in ("/usr/share/doc/" + x for x in os.listdir("/usr/share/doc"))
            if os.path.isdir(d) and sum(len(f) for _, _, f in os.walk(d)) <= 400),
           key=lambda d: sum(len(f) for _, _, f in os.walk(d)), default=None)
if not docs or sum(len(f) for _, _, f in os.walk(docs)) < 20 or not shutil.which("cc"):
    skip("needs a documentation tree in /usr/share/doc and cc")

top = os.path.realpath(tempfile.mkdtemp(prefix="nerrf-ransom-"))
os.chmod(top, 0o755)  # the stages run as nobody and must reach the rundir
work, rundir = top + "/work", top + "/run"
os.mkdir(work)
conf = top + "/tracker.conf"
open(conf, "w").close()
env = dict(os.environ, NERRF_CONFIG=conf)
url = "ipc://%s/events.sock" % rundir
run = watch = None
alerts, lines = [], []


def read_watch():
    for line in watch.stdout:
        lines.append(line)
        if line.startswith("ALERT"):
            alerts.append((time.monotonic(), line))


def sh(*argv, **kw):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, **kw)


try:
    # Only this test process and what it starts: nothing else on the host is judged.
    run = subprocess.Popen([os.environ["NERRF_CLI"], "run", "--no-journal", "--rundir", rundir,
                            "--pid", str(os.getpid()), "--follow"],
                           env=env, stderr=open(top + "/run.err", "w"))
    watch = subprocess.Popen([sys.executable, os.environ["NERRF_RANSOM_WATCH"], "--url", url,
                              "--wait"], stdout=subprocess.PIPE, text=True,
                             stderr=open(top + "/watch.err", "w"))
    threading.Thread(target=read_watch, daemon=True).start()

    # Probe until an event of ours has come through the whole pipeline, and the watch is
    # connected (the publisher counts this subscriber and the watch).
    with nerrf.Subscriber(url, topics=("events", "stats"), wait=True, on_gap="ignore") as sub:
        end, seen, subs, n = time.monotonic() + 60, False, 0, 0
        while not (seen and subs >= 2):
            check(time.monotonic() < end, "the pipeline never delivered a probe:",
                  open(top + "/run.err").read())
            check(run.poll() is None, "nerrf run exited:", open(top + "/run.err").read())
            n += 1
            open("%s/probe%d" % (work, n), "w").close()
            m = sub._take(time.monotonic() + 0.1)
            if isinstance(m, nerrf.trace_pb2.Stats):
                subs = m.subscribers
            elif m is not None:
                seen |= any(e.path.startswith(work + "/probe") for e in m.events)

    # Benign: copy a documentation tree, compile, untar.
    sh("cp", "-r", docs, work + "/doc")
    with open(work + "/hello.c", "w") as f:
        f.write('#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n')
    sh("cc", "-O2", "-o", work + "/hello", work + "/hello.c")
    sh("tar", "-czf", work + "/doc.tar.gz", "-C", work, "doc")
    os.mkdir(work + "/untar")
    sh("tar", "-xzf", work + "/doc.tar.gz", "-C", work + "/untar")
    time.sleep(3)
    check(not alerts, "benign activity flagged:", alerts)
    check("missed" not in open(top + "/watch.err").read(), "the watch did not see all the "
          "benign activity:", open(top + "/watch.err").read())

    # Ransomware: 60 files encrypted in place and renamed, by a child of its own, in a
    # directory whose name sets the terminal's title if printed as it is.
    victims = work + "/victims\x1b]0;owned\x07"
    os.mkdir(victims)
    for i in range(60):
        with open("%s/report%02d.txt" % (victims, i), "w") as f:
            f.write("quarterly report %d\n" % i * 200)
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        for name in sorted(os.listdir(victims)):
            p = victims + "/" + name
            with open(p, "r+b") as f:
                size = len(f.read())
                f.seek(0)
                f.write(os.urandom(size))
            os.rename(p, p + ".locked")
        os._exit(0)
    os.waitpid(pid, 0)
    while not alerts and time.monotonic() < start + 2:
        time.sleep(0.02)
    check(alerts, "no ALERT within 2 s; the watch printed:", lines,
          open(top + "/watch.err").read())
    when, line = alerts[0]
    check("ALERT pid=%d comm=python3 exe=%s container=- uid=0:"
          % (pid, os.path.realpath(sys.executable)) in line, "not the process that did it:", line)
    check("to new extensions (.locked:" in line and "in 1 directories (%s:" %
          victims.replace("\x1b", "\\x1b").replace("\x07", "\\x07") in line, line)
    check("\x1b" not in line and "\x07" not in line, "an escape sequence printed raw:", repr(line))
    print("flagged after %.2f s: %s" % (when - start, line.strip()))
    print("the watch's stderr:", open(top + "/watch.err").read())
    time.sleep(1)
    check(len(alerts) == 1, "more than one ALERT:", alerts)
    check(not any("ALERT" in x for x in lines if not x.startswith("ALERT")), lines)
finally:
    for p in (watch, run):
        if p and p.poll() is None:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    shutil.rmtree(top, ignore_errors=True)
