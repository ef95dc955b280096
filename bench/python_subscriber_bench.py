#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Events per second the Python Subscriber yields from a real nerrf-publisher.

python_feeder (tests/python/feeder.c) puts batches of 64 events into ring #2 as fast as
the publisher takes them; the Subscriber (clients/python/nerrf) reads them. A run times
from the first batch received to the last one sent, counting what the iterator yielded:
events() (Event messages, one by one) and, in the same run order, batches() (only the
EventBatch messages, to show what the per-event loop costs). A subscriber slower than the
publisher loses batches (counted as missed), so the rate is what it keeps up with. Two
rates: per wall-clock second, and per CPU second this process used (all its threads, nng's
included), which is what a shared machine's neighbours do not change.

    build/bench/python_subscriber_bench.py [--batches N] [--runs R]
with NERRF_FEEDER and NERRF_PUBLISHER set, and PYTHONPATH=build/clients/python (meson's
bench target sets them; see BENCHMARKS.md).
"""
import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

import nerrf

EVENTS_PER_BATCH = 64


def run(mode, nbatches):
    feeder = subprocess.Popen([os.environ["NERRF_FEEDER"]], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)

    def cmd(c):
        feeder.stdin.write(c + "\n")
        feeder.stdin.flush()
        if feeder.stdout.readline() != "ok\n":
            sys.exit("python_feeder failed on %r" % c)
    url = feeder.stdout.readline().split()[1]
    yielded = 0
    with nerrf.Subscriber(url, on_gap="ignore", recv_timeout=10) as sub:
        cmd("wait 2")
        t = threading.Thread(target=cmd, args=("batches 1 %d %d 7" % (nbatches,
                                                                     EVENTS_PER_BATCH),))
        t.start()
        start = cpu = None
        if mode == "events":
            for ev in sub.events():
                if start is None:
                    start, cpu = time.perf_counter(), time.process_time()
                yielded += 1
                if ev.bytes == nbatches * 1000 + EVENTS_PER_BATCH - 1:
                    break
        else:
            for b in sub.batches():
                if start is None:
                    start, cpu = time.perf_counter(), time.process_time()
                yielded += len(b.events)
                if b.publisher_seq == nbatches:
                    break
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        t.join()
        missed = sub.missed_batches
    feeder.stdin.close()
    feeder.wait()
    return yielded / elapsed, yielded / cpu, missed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batches", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    res = {"events": [], "batches": []}
    for _ in range(args.runs):
        for mode in res:
            res[mode].append(run(mode, args.batches))
    print("%d batches of %d events a run, %d runs" % (args.batches, EVENTS_PER_BATCH, args.runs))
    for mode, rs in res.items():
        wall, cpu = sorted(r[0] for r in rs), sorted(r[1] for r in rs)
        print("%-10s median %8.0f events/s wall (min %.0f, max %.0f), %8.0f events per CPU "
              "second (min %.0f, max %.0f); batches missed per run: %s"
              % (mode + "()", statistics.median(wall), wall[0], wall[-1],
                 statistics.median(cpu), cpu[0], cpu[-1], " ".join(str(r[2]) for r in rs)))
    if min(r[0] for r in res["events"]) <= 0:
        sys.exit("nothing received")


if __name__ == "__main__":
    main()
