# SPDX-License-Identifier: Apache-2.0
"""Subscriber.stats() yields the publisher's Stats: the encoder's, with the appended
publisher_seq and subscriber count; messages() interleaves them with batches."""
from harness import Feeder, check
import nerrf

with Feeder() as f, nerrf.Subscriber(f.url, topics=("stats",), recv_timeout=10) as sub:
    f.wait(1)
    f.batches(1, 2)
    f.stats(1234.0625)
    for st in sub.stats():
        check(type(st) is nerrf.trace_pb2.Stats, type(st))
        if st.events_per_sec == 1234.0625:
            break
    check(st.hostname == "testhost" and st.publisher_seq == 2 and st.subscribers == 2, st)
    try:
        sub.events()
        next(sub.events())
        check(False, "events() without the events topic")
    except ValueError as e:
        check("'events' topic" in str(e), e)

with Feeder() as f, nerrf.Subscriber(f.url, topics=("events", "stats"), recv_timeout=10) as sub:
    f.wait(1)
    f.batches(1, 1)
    f.stats(5.0)
    kinds = []
    for m in sub.messages():
        kinds.append(type(m).__name__)
        if getattr(m, "events_per_sec", 0) == 5.0:
            break
    check("EventBatch" in kinds and kinds[-1] == "Stats", kinds)
