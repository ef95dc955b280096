#!/usr/bin/python3
"""The runtime image of deploy/Containerfile has every shared library the
installed binaries link: each library ldd resolves on this (Debian 12) build
machine belongs to a package the runtime stage installs, or to one of their
dependencies, or to the base image's essential set. A binary that cannot
start in the image fails here, not in a cluster.
   image_libs.py SRCDIR BINARY..."""
import os
import re
import subprocess
import sys

src, bins = sys.argv[1], sys.argv[2:]
with open(f"{src}/deploy/Containerfile", encoding="utf-8") as f:
    cf = f.read()
runtime = cf[cf.rindex("\nFROM "):]
m = re.search(r"apt-get install[^\n]*?--no-install-recommends \\\n(.*?)\n \&\&", runtime, re.S)
if not m:
    sys.exit("FAIL: no 'apt-get install ... --no-install-recommends' in the runtime stage")
listed = m[1].replace("\\", " ").split()


def run(*cmd):
    try:
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"SKIP: {cmd[0]} did not run ({e}); this test needs a Debian build machine")
        sys.exit(77)


# What the listed packages bring (Depends and Pre-Depends, recursively), and
# what every Debian image has (Essential: yes, e.g. libc6).
have = set()
for line in run("apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
                *listed).splitlines():
    have.add(line.strip().split(":")[-1].strip().strip("<>").split(":")[0])
for p in run("dpkg-query", "-W", "-f", "${Package} ${Essential}\\n").splitlines():
    name, _, ess = p.partition(" ")
    if ess == "yes":
        have.add(name)

# Every library each binary links, by the path ldd resolved it to.
links = {}
for b in bins:
    for line in run("ldd", b).splitlines():
        lm = re.match(r"\s*(\S+) => (/\S+)", line)
        if lm:
            links.setdefault(lm[2], set()).add((b.rsplit("/", 1)[-1], lm[1]))

# dpkg knows a file by the path its package ships: /usr/lib or /lib (merged /usr).
# One query for all of them: a call per library takes seconds.
cands = {lib: list(dict.fromkeys([lib, os.path.realpath(lib),
                                  os.path.realpath(lib).removeprefix("/usr"),
                                  "/usr" + os.path.realpath(lib)])) for lib in links}
r = subprocess.run(["dpkg-query", "-S", *{c for v in cands.values() for c in v}],
                   capture_output=True, text=True)
owner_of = {}
for line in r.stdout.splitlines():
    pkg, _, path = line.partition(": ")
    owner_of[path] = pkg.split(":")[0]

failures = []
for lib, users in links.items():
    owner = next((owner_of[c] for c in cands[lib] if c in owner_of), None)
    for b, name in users:
        if owner is None:
            failures.append(f"{b} links {name} ({lib}), which no Debian package owns")
        elif owner not in have:
            failures.append(f"{b} links {name} from {owner}, which the runtime image does "
                            f"not install: add {owner} to deploy/Containerfile")
for f in sorted(set(failures)):
    print("FAIL:", f)
if not failures:
    print(f"{len(bins)} binaries: every library they link is in the runtime image "
          f"({len(listed)} packages listed)")
sys.exit(1 if failures else 0)
