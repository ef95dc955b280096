#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Prints nerrf events as JSON lines: a small command over the nerrf package.

The JSON is protobuf's own proto3 mapping with trace.proto's field names
(json_format, preserving_proto_field_name=True): zero values left out,
64-bit integers as strings, bytes as base64. Stats lines are {"stats": {...}}.

    ./nerrf_subscribe.py --url ipc:///run/nerrf/events.sock --count 10

The nerrf package must be importable: installed (meson install, or pip install
clients/python), or from a build tree (PYTHONPATH=build/clients/python, where
the build puts the package with its generated trace_pb2). Framing:
docs/PROTOCOL.md. A tls+tcp:// publisher takes --tls-ca, and --tls-cert with
--tls-key.
"""
import argparse
import datetime
import json
import sys

try:
    import nerrf
    from google.protobuf import json_format
except ImportError as e:
    sys.exit("nerrf_subscribe: %s: install python3-protobuf and the nerrf package "
             "(meson install, or pip install --no-build-isolation clients/python), or set "
             "PYTHONPATH=<build>/clients/python" % e)

from nerrf.subscriber import MAX_EVENTS, MAX_MESSAGE_BYTES


def warn(text):
    print("nerrf_subscribe: " + text, file=sys.stderr, flush=True)


def resume_point(s):
    """SEQ, @UNIX-SECONDS or an ISO 8601 / RFC 3339 time, as nerrf tail --from."""
    if s.isdigit():
        return int(s)
    try:
        if s.startswith("@"):
            return datetime.datetime.fromtimestamp(float(s[1:]), datetime.timezone.utc)
        return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            "want a publisher_seq (a number), @unix-seconds or an RFC 3339 time such as "
            "2025-01-31T22:00:00Z, not %r" % s) from None


def main():
    ap = argparse.ArgumentParser(description="Print nerrf events as JSON lines.")
    ap.add_argument("--url", default=nerrf.DEFAULT_URL)
    ap.add_argument("--pid", type=int, help="only events of this process")
    ap.add_argument("--count", type=int, default=0, help="exit after this many events")
    ap.add_argument("--stats", action="store_true", help="also print stats messages")
    ap.add_argument("--wait", action="store_true",
                    help="wait for a publisher that is not there yet")
    ap.add_argument("--from", dest="resume_from", type=resume_point, metavar="SEQ|@S|TIME",
                    help="first what the publisher's journal holds from this publisher_seq "
                    "or time, then live, without a gap or a duplicate")
    ap.add_argument("--replay-url", help="the publisher's replay endpoint (default: "
                    "replay.sock beside an ipc:// --url)")
    ap.add_argument("--max-events", type=int, default=MAX_EVENTS,
                    help="drop (and count) batches of more events (default %(default)s)")
    ap.add_argument("--max-message-bytes", type=int, default=MAX_MESSAGE_BYTES,
                    help="largest message accepted; nng closes the connection on a larger "
                    "one (default %(default)s)")
    ap.add_argument("--tls-ca", help="tls+tcp://: PEM CA that signed the publisher's certificate")
    ap.add_argument("--tls-cert", help="tls+tcp://: this subscriber's PEM certificate")
    ap.add_argument("--tls-key", help="tls+tcp://: its unencrypted PEM private key")
    ap.add_argument("--tls-server-name", help="name the publisher's certificate must carry "
                    "(default: the host in --url)")
    args = ap.parse_args()

    def on_gap(gap):
        if gap.kind == "too_many_events":
            warn("dropped batch publisher_seq %d of %d events, more than --max-events %d "
                 "(%d batches, %d events dropped so far)"
                 % (gap.first, gap.events, args.max_events, sub.dropped_batches,
                    sub.dropped_events))
        elif gap.kind == "publisher_seq":
            warn("missed %d batches: this subscriber read too slowly, or a message above "
                 "--max-message-bytes closed the connection" % gap.count)
        else:
            warn(str(gap))

    topics = ("events", "stats") if args.stats else ("events",)
    try:
        sub = nerrf.Subscriber(args.url, topics, resume_from=args.resume_from,
                               replay_url=args.replay_url, on_gap=on_gap, wait=args.wait,
                               max_events=args.max_events,
                               max_message_bytes=args.max_message_bytes,
                               tls_ca=args.tls_ca, tls_cert=args.tls_cert,
                               tls_key=args.tls_key, tls_server_name=args.tls_server_name)
    except (nerrf.NerrfError, ValueError) as e:
        sys.exit("nerrf_subscribe: %s" % e)
    printed = 0
    try:
        for m in sub.messages():
            if isinstance(m, nerrf.trace_pb2.Stats):
                print(json.dumps({"stats": json_format.MessageToDict(
                    m, preserving_proto_field_name=True)}), flush=True)
                continue
            for ev in m.events:
                if args.pid is not None and ev.pid != args.pid:
                    continue
                print(json.dumps(json_format.MessageToDict(ev, preserving_proto_field_name=True)),
                      flush=True)
                printed += 1
                if printed == args.count:
                    return
    except nerrf.NerrfError as e:
        sys.exit("nerrf_subscribe: %s" % e)
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    finally:
        sub.close()


if __name__ == "__main__":
    main()
