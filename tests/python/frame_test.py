# SPDX-License-Identifier: Apache-2.0
"""nerrf.frame(n) and frame(seconds=): a DataFrame with one column per Event field, in
trace.proto's order, ts as UTC datetimes."""
import threading
import time

from harness import Feeder, check, skip
import nerrf

try:
    import pandas
except ImportError:
    skip("python3-pandas is not installed (scripts/install-deps)")

with Feeder() as f:
    feeding = threading.Thread(target=lambda: (f.wait(1), f.batches(1, 3, events=5)))
    feeding.start()
    df = nerrf.frame(12, url=f.url, recv_timeout=10)
    feeding.join()
    check(list(df.columns) == [x.name for x in nerrf.trace_pb2.Event.DESCRIPTOR.fields],
          list(df.columns))
    check(len(df) == 12, len(df))
    check(list(df["bytes"]) == [s * 1000 + i for s in (1, 2, 3) for i in range(5)][:12])
    check(str(df["ts"].dtype) == "datetime64[ns, UTC]", df["ts"].dtype)
    check(df["ts"][0] == pandas.Timestamp(1700000001, unit="s", tz="UTC"), df["ts"][0])
    check(df["argv"][0] == [] and df["path"][0] == "/ppppppppppp", df.iloc[0])

    t = time.monotonic()
    df = nerrf.frame(seconds=1, url=f.url, recv_timeout=10)
    check(0.9 < time.monotonic() - t < 3 and len(df) == 0, len(df))
