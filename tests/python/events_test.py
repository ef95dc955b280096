# SPDX-License-Identifier: Apache-2.0
"""Subscriber.events() and batches() yield the generated protobuf messages of a live
publisher, in order, with the publisher's appended publisher_seq."""
from harness import Feeder, check
import nerrf

with Feeder() as f, nerrf.Subscriber(f.url, on_gap="raise", recv_timeout=10) as sub:
    f.wait(1)
    f.batches(1, 3, events=4, pid=4242)
    evs = []
    for ev in sub.events():
        check(type(ev) is nerrf.trace_pb2.Event, type(ev))
        evs.append(ev)
        if len(evs) == 12:
            break
    check([e.bytes for e in evs] == [s * 1000 + i for s in (1, 2, 3) for i in range(4)],
          [e.bytes for e in evs])
    check(all(e.pid == 4242 and e.comm == "pubtest" for e in evs))
    check(evs[1].syscall == "write" and evs[1].ret_val == 4096, evs[1])
    check(evs[0].ts.seconds == 1700000001, evs[0].ts)

    f.batches(4, 5, events=2)
    seqs = []
    for b in sub.batches():
        check(type(b) is nerrf.trace_pb2.EventBatch)
        seqs.append((b.publisher_seq, b.batch_seq, len(b.events)))
        if len(seqs) == 2:
            break
    check(seqs == [(4, 4, 2), (5, 5, 2)], seqs)
    check(sub.received_batches == 5 and sub.missed_batches == 0)
# closed by the with: iterating again says so
try:
    next(sub.events())
    check(False, "a closed Subscriber yielded")
except nerrf.NerrfError as e:
    check("closed" in str(e), e)
