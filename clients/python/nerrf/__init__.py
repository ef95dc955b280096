# SPDX-License-Identifier: Apache-2.0
"""nerrf: subscribe to nerrf-tracker's live file-activity stream from Python.

    from nerrf import Subscriber
    with Subscriber() as sub:               # ipc:///run/nerrf/events.sock
        for ev in sub.events():             # nerrf.trace.Event protobuf messages
            print(ev.pid, ev.comm, ev.syscall, ev.path)

    df = nerrf.frame(10000)                 # or nerrf.frame(seconds=5): a pandas DataFrame

Messages are the classes protoc generates from proto/trace.proto (nerrf.trace_pb2, with
trace.proto beside it). Needs Debian's python3-protobuf and libnng1; frame() needs
python3-pandas.
"""
from .subscriber import (DEFAULT_URL, Gap, GapError, GapWarning, NerrfError, NoPermission,
                         NoPublisher, NoSocket, Subscriber)
from .frame import frame, to_frame
from . import trace_pb2

__all__ = ["Subscriber", "frame", "to_frame", "trace_pb2", "Gap", "GapError", "GapWarning",
           "NerrfError", "NoSocket", "NoPermission", "NoPublisher", "DEFAULT_URL"]
