# SPDX-License-Identifier: Apache-2.0
"""Gaps are surfaced as chosen: a GapWarning, a callback, or a GapError, with the exact
batches. A reader that stops reading while 3000 batches pass loses some (nng drops for a
slow subscriber): what it receives and the gaps it is told of add up to every batch. A
batch_seq gap that publisher_seq does not explain (lost before the publisher) is told too."""
import warnings

from harness import Feeder, check
import nerrf

TOTAL = 3000

with Feeder("--sendbuf", "16") as f:
    gaps = []
    with nerrf.Subscriber(f.url, on_gap=gaps.append, recv_timeout=10) as sub:
        f.wait(1)
        f.batches(1, 1)
        check(next(sub.batches()).publisher_seq == 1)
        f.batches(2, TOTAL)  # not read meanwhile: queues overflow
        got = [1]
        for b in sub.batches():
            got.append(b.publisher_seq)
            if b.publisher_seq == TOTAL:
                break
        check(gaps, "no gap reported for a reader that stopped for %d batches" % TOTAL)
        missed = {s for g in gaps for s in range(g.first, g.last + 1)}
        check(all(g.kind == "publisher_seq" for g in gaps), gaps)
        check(sorted(got + sorted(missed)) == list(range(1, TOTAL + 1)),
              "received and missed do not add up", gaps)
        check(sub.missed_batches == len(missed))
        check("read too slowly" in str(gaps[0]), gaps[0])

with Feeder() as f, nerrf.Subscriber(f.url, recv_timeout=10) as sub:
    f.wait(1)
    f.batches(1, 2)
    f.batches(4, 4)  # batch 3 never reaches the publisher
    with warnings.catch_warnings(record=True) as w:
        seqs = [b.batch_seq for _, b in zip(range(3), sub.batches())]
    check(seqs == [1, 2, 4], seqs)
    check(len(w) == 1 and w[0].category is nerrf.GapWarning, [str(x.message) for x in w])
    check("missed 1 batches (batch_seq 3 to 3)" in str(w[0].message), w[0].message)

with Feeder() as f, nerrf.Subscriber(f.url, on_gap="raise", recv_timeout=10) as sub:
    f.wait(1)
    f.batches(1, 1)
    f.batches(3, 3)
    it = sub.batches()
    check(next(it).batch_seq == 1)
    try:
        next(it)
        check(False, "no GapError")
    except nerrf.GapError as e:
        check(e.gap.kind == "batch_seq" and (e.gap.first, e.gap.last) == (2, 2), e.gap)
    check(next(sub.batches()).batch_seq == 3, "the batch after the gap is still delivered")
