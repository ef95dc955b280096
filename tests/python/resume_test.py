# SPDX-License-Identifier: Apache-2.0
"""resume_from: a Subscriber that starts at publisher_seq 100 of a journaling publisher gets
100.. from the journal and then the live stream, each batch exactly once and in order: those
published after it subscribed come both ways, and more keep coming during the catch-up; by time, it starts at the first batch
whose events are at or after that time."""
import datetime
import threading

from harness import Feeder, check, until
import nerrf
from nerrf import _nng, trace_pb2


def journaled(f):
    """The last publisher_seq the journal has completely written."""
    r = _nng.Socket("req0")
    try:
        r.set_ms("recv-timeout", 5000)
        r.dial(f.replay_url)
        r.send(trace_pb2.ReplayRequest(from_seq=1, max_bytes=1).SerializeToString())
        return trace_pb2.ReplayChunk.FromString(r.recv()).last_seq
    finally:
        r.close()

with Feeder("--journal", "--sendbuf", "4096") as f:
    f.batches(1, 300)
    with nerrf.Subscriber(f.url, resume_from=100, on_gap="raise", recv_timeout=10) as sub:
        f.wait(1)
        f.batches(301, 1000)  # both in the journal and waiting in the live queue
        until(lambda: journaled(f) >= 1000, what="the journal holding 1000 batches")
        feeding = threading.Thread(target=f.batches, args=(1001, 2000))
        feeding.start()
        seqs = []
        for b in sub.batches():
            seqs.append(b.publisher_seq)
            check(b.events[0].bytes == b.publisher_seq * 1000, b.publisher_seq)
            if b.publisher_seq == 2000:
                break
        feeding.join()
    check(seqs == list(range(100, 2001)), "not every batch once in order: %d batches, first "
          "%d, duplicates %d" % (len(seqs), seqs[0], len(seqs) - len(set(seqs))))

    # batch s holds events at 1700000000 + s seconds
    t = datetime.datetime.fromtimestamp(1700000000 + 1500, datetime.timezone.utc)
    with nerrf.Subscriber(f.url, resume_from=t, on_gap="raise", recv_timeout=10) as sub:
        first = next(sub.batches())
    check(first.publisher_seq == 1500, first.publisher_seq)

    # the journal holds nothing before 1: asking from 0 is from the oldest kept
    with nerrf.Subscriber(f.url, resume_from=0, on_gap="raise", recv_timeout=10) as sub:
        check(next(sub.batches()).publisher_seq == 1)
