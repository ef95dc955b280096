#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Example nerrf subscriber: prints events as JSON lines.

Uses Debian's python3-protobuf and libnng through ctypes (Debian has no
pynng). trace_pb2 is generated from proto/trace.proto:

    protoc --python_out=DIR -I proto proto/trace.proto
    PYTHONPATH=DIR ./nerrf_subscribe.py --url ipc:///run/nerrf/events.sock

The build does this into build/clients/python. Framing: docs/PROTOCOL.md.
"""
import argparse
import ctypes
import ctypes.util
import json
import sys

try:
    import trace_pb2
    from google.protobuf import json_format
except ImportError as e:
    sys.exit("nerrf_subscribe: %s: install python3-protobuf and generate trace_pb2.py "
             "(protoc --python_out=DIR -I proto proto/trace.proto; PYTHONPATH=DIR)" % e)

TOPIC_EVENTS = b"EVB1"
TOPIC_STATS = b"STS1"
NNG_FLAG_ALLOC = 1
NNG_FLAG_NONBLOCK = 2
NNG_ETIMEDOUT = 5


class Nng:
    """The handful of libnng calls a subscriber needs."""

    def __init__(self):
        name = ctypes.util.find_library("nng") or "libnng.so.1"
        try:
            self.lib = ctypes.CDLL(name)
        except OSError as e:
            sys.exit("nerrf_subscribe: cannot load libnng (%s): apt-get install libnng1" % e)
        lib = self.lib
        # nng_socket is a struct holding one uint32: passed like a uint32.
        lib.nng_sub0_open.argtypes = [ctypes.POINTER(ctypes.c_uint32)]
        lib.nng_socket_set.argtypes = [ctypes.c_uint32, ctypes.c_char_p, ctypes.c_void_p,
                                       ctypes.c_size_t]
        lib.nng_socket_set_ms.argtypes = [ctypes.c_uint32, ctypes.c_char_p, ctypes.c_int32]
        lib.nng_dial.argtypes = [ctypes.c_uint32, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
        lib.nng_recv.argtypes = [ctypes.c_uint32, ctypes.c_void_p,
                                 ctypes.POINTER(ctypes.c_size_t), ctypes.c_int]
        lib.nng_free.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        lib.nng_close.argtypes = [ctypes.c_uint32]
        lib.nng_strerror.restype = ctypes.c_char_p

    def check(self, rv, what):
        if rv != 0:
            sys.exit("nerrf_subscribe: %s: %s" % (what, self.lib.nng_strerror(rv).decode()))

    def subscribe(self, url, topics):
        s = ctypes.c_uint32()
        self.check(self.lib.nng_sub0_open(ctypes.byref(s)), "nng_sub0_open")
        self.sock = s.value
        for t in topics:
            self.check(self.lib.nng_socket_set(self.sock, b"sub:subscribe", t, len(t)),
                       "subscribe")
        self.check(self.lib.nng_socket_set_ms(self.sock, b"recv-timeout", 500), "recv-timeout")
        # Non-blocking dial: nng keeps retrying until the publisher listens.
        self.check(self.lib.nng_dial(self.sock, url.encode(), None, NNG_FLAG_NONBLOCK),
                   "dial %s (give the publisher's address with --url)" % url)

    def recv(self):
        """One message as bytes, or None on timeout."""
        buf = ctypes.c_void_p()
        size = ctypes.c_size_t()
        rv = self.lib.nng_recv(self.sock, ctypes.byref(buf), ctypes.byref(size), NNG_FLAG_ALLOC)
        if rv == NNG_ETIMEDOUT:
            return None
        self.check(rv, "receive")
        data = ctypes.string_at(buf, size.value)
        self.lib.nng_free(buf, size)
        return data

    def close(self):
        self.lib.nng_close(self.sock)


def main():
    ap = argparse.ArgumentParser(description="Print nerrf events as JSON lines.")
    ap.add_argument("--url", default="ipc:///run/nerrf/events.sock")
    ap.add_argument("--pid", type=int, help="only events of this process")
    ap.add_argument("--count", type=int, default=0, help="exit after this many events")
    ap.add_argument("--stats", action="store_true", help="also print stats messages")
    args = ap.parse_args()

    nng = Nng()
    nng.subscribe(args.url, [TOPIC_EVENTS] + ([TOPIC_STATS] if args.stats else []))
    printed, last_seq = 0, 0
    try:
        while not args.count or printed < args.count:
            msg = nng.recv()
            if msg is None:
                continue
            topic, body = msg[:4], msg[4:]
            if topic == TOPIC_STATS:
                st = trace_pb2.Stats()
                st.ParseFromString(body)
                print(json.dumps({"stats": json_format.MessageToDict(
                    st, preserving_proto_field_name=True)}), flush=True)
                continue
            if topic != TOPIC_EVENTS:
                continue
            batch = trace_pb2.EventBatch()
            batch.ParseFromString(body)
            if last_seq and batch.publisher_seq > last_seq + 1:
                print("nerrf_subscribe: missed %d batches" % (batch.publisher_seq - last_seq - 1),
                      file=sys.stderr, flush=True)
            last_seq = batch.publisher_seq
            for ev in batch.events:
                if args.pid is not None and ev.pid != args.pid:
                    continue
                d = json_format.MessageToDict(ev, preserving_proto_field_name=True)
                print(json.dumps(d), flush=True)
                printed += 1
                if args.count and printed >= args.count:
                    break
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:
        pass
    nng.close()


if __name__ == "__main__":
    main()
