# SPDX-License-Identifier: Apache-2.0
"""The ctypes binding of libnng (nerrf._nng) against a real publisher: sub0 receives
topics as subscribed, a receive times out with ETIMEDOUT, req0 gets a reply from the
replay endpoint, errors carry nng's number and text, close is idempotent."""
from harness import Feeder, check
from nerrf import _nng, trace_pb2

try:
    _nng.Socket("sub0").dial("ipc:///nonexistent/events.sock")
    check(False, "dialled a missing socket")
except _nng.NngError as e:
    check(e.errno in (_nng.ENOENT, _nng.ECONNREFUSED) and e.strerror, e.errno, e.strerror)

with Feeder("--journal") as f:
    s = _nng.Socket("sub0")
    s.set("sub:subscribe", b"EVB1")
    s.set_ms("recv-timeout", 300)
    s.set_size("recv-size-max", 1 << 20)
    s.dial(f.url)
    f.wait(1)
    f.batches(1, 1, events=3)
    m = s.recv()
    check(m[:4] == b"EVB1", m[:4])
    b = trace_pb2.EventBatch.FromString(m[4:])
    check(len(b.events) == 3 and b.publisher_seq == 1, b)
    try:
        s.recv()  # no stats: not subscribed
        check(False, "received without a message sent")
    except _nng.NngError as e:
        check(e.errno == _nng.ETIMEDOUT, e)
    s.close()
    s.close()

    r = _nng.Socket("req0")
    r.set_ms("recv-timeout", 5000)
    r.dial(f.replay_url)
    r.send(trace_pb2.ReplayRequest(from_seq=1).SerializeToString())
    c = trace_pb2.ReplayChunk.FromString(r.recv())
    check(list(c.messages) == [m] and c.next_seq == 2, c)
    r.close()
