# SPDX-License-Identifier: Apache-2.0
"""pip install --no-build-isolation of clients/python works offline (--no-index) with
Debian's setuptools: the installed package has the trace_pb2 generated from trace.proto,
and trace.proto beside it."""
import os
import shutil
import subprocess
import sys
import tempfile

from harness import check, skip

if subprocess.run([sys.executable, "-m", "pip", "--version"],
                  capture_output=True).returncode != 0:
    skip("pip is not installed (apt-get install python3-pip)")
src = os.environ["NERRF_PYTHON_SRC"]
with tempfile.TemporaryDirectory() as d:
    # A copy, so that setuptools' build files stay out of the source tree; NERRF_PROTO then
    # says where trace.proto is.
    shutil.copytree(src, d + "/src", ignore=shutil.ignore_patterns("build", "*.egg-info",
                                                                   "__pycache__"))
    env = dict(os.environ, NERRF_PROTO=os.environ["NERRF_PROTO_DIR"] + "/trace.proto",
               PIP_NO_CACHE_DIR="1", PYTHONPATH="")
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation",
                        "--no-index", "--no-deps", "--target", d + "/site", d + "/src"],
                       env=env, capture_output=True, text=True)
    check(r.returncode == 0, "pip install failed:", r.stdout, r.stderr)
    files = sorted(os.listdir(d + "/site/nerrf"))
    for f in ("__init__.py", "_nng.py", "subscriber.py", "frame.py", "trace_pb2.py",
              "trace.proto"):
        check(f in files, f, "not installed:", files)
    r = subprocess.run([sys.executable, "-c", "import nerrf; print(nerrf.__file__); "
                        "print(nerrf.trace_pb2.Event.DESCRIPTOR.fields_by_name['pid'].number)"],
                       env=dict(os.environ, PYTHONPATH=d + "/site"), capture_output=True,
                       text=True, cwd=d)
    check(r.returncode == 0 and r.stdout.split() == [d + "/site/nerrf/__init__.py", "2"],
          r.stdout, r.stderr)
