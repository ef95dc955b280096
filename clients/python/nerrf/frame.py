# SPDX-License-Identifier: Apache-2.0
"""Events as a pandas DataFrame: one row per Event, one column per trace.proto field."""
import time

from . import trace_pb2
from .subscriber import Subscriber

_EventBatch = trace_pb2.EventBatch


def _pandas():
    try:
        import pandas
    except ImportError:
        raise ImportError("nerrf.frame needs pandas: apt-get install python3-pandas") from None
    return pandas


def to_frame(events):
    """A DataFrame of Event messages: columns named and ordered as Event's fields in
    trace.proto; ts as a UTC datetime64[ns]; repeated fields as lists."""
    pd = _pandas()
    events = list(events)
    cols = {}
    for f in trace_pb2.Event.DESCRIPTOR.fields:
        name = f.name
        if name == "ts":
            cols[name] = pd.to_datetime([e.ts.seconds * 1000000000 + e.ts.nanos
                                         for e in events], unit="ns", utc=True)
        elif f.label == f.LABEL_REPEATED:
            cols[name] = [list(getattr(e, name)) for e in events]
        else:
            cols[name] = [getattr(e, name) for e in events]
    return pd.DataFrame(cols, columns=list(cols))


def frame(n=None, seconds=None, **subscriber_args):
    """The next n live events, or those of the next seconds (whichever ends first when both
    are given), as a DataFrame (to_frame). subscriber_args go to Subscriber (url=,
    resume_from=, ...)."""
    if n is None and seconds is None:
        raise ValueError("frame() needs n (events) and/or seconds=")
    _pandas()  # say so before waiting for events
    deadline = None if seconds is None else time.monotonic() + seconds
    events = []
    with Subscriber(**subscriber_args) as sub:
        while n is None or len(events) < n:
            m = sub._take(deadline)
            if m is None:
                break
            if type(m) is _EventBatch:
                events.extend(m.events)
    return to_frame(events[:n] if n is not None else events)
