#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/.

Run once when an input format changes, and commit the output; libFuzzer
grows its own corpus from these in a scratch copy (scripts/fuzz). The
layouts mirror common/nerrf_event.h, tests/fuzz/encoder.c and ring.c.
"""
import base64
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- encoder: a config byte, then records as u32 length + bytes ----

OPS = ["none", "open", "openat", "openat2", "creat", "write", "pwrite64", "writev",
       "pwritev", "pwritev2", "rename", "renameat", "renameat2", "unlink", "unlinkat",
       "rmdir", "chmod", "fchmod", "fchmodat", "fchmodat2", "truncate", "ftruncate",
       "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr",
       "fremovexattr", "execve", "execveat", "fork", "exit", "connect", "accept", "accept4",
       "bind", "listen", "sock_close"]
OP = {name: i for i, name in enumerate(OPS)}
EVENT_FIXED = 160  # sizeof(struct nerrf_event)


def event(op, path=b"", path2=b"", raw=b"", data=b"", cpu=0, seq=1, comm=b"cat",
          cgroup=0, ts=1_000_000_000, size=None, nul=True, flags=0):
    """One NERRF_REC_EVENT; strings get their NUL unless nul is False."""
    strs = [s + b"\0" if s and nul else s for s in (path, path2, raw)]
    body = struct.pack("<IHHQQIIIIIIQq16siIQQqQIHHHHIIIII",
                       cpu, OP[op] if isinstance(op, str) else op, flags, seq, ts,
                       4242, 4243, 1, 1000, 1000, 4026531841, cgroup, 3,
                       comm.ljust(16, b"\0")[:16], 3, 0o644, 0o101, len(data), -1,
                       123456, 0x800001, len(strs[0]), len(strs[1]), len(strs[2]),
                       len(data), 1000, 1000, 1000, 0, 0)
    rec = body + b"".join(strs) + data
    total = 8 + len(rec)
    assert 8 + len(body) == EVENT_FIXED
    return struct.pack("<II", 1, total if size is None else size) + rec


def stats(nr_cpus=4, lost=None, emitted=1000):
    lost = lost or [0] * len(OPS)
    cpus = [i * 3 for i in range(nr_cpus)]
    body = struct.pack("<QQQQQ", 2_000_000_000, 1, 5, emitted, 7)
    body += struct.pack("<%dQ" % len(OPS), *lost) + struct.pack("<IIQ", nr_cpus, 0, 0)
    body += struct.pack("<%dQ" % nr_cpus, *cpus)
    return struct.pack("<II", 2, 8 + len(body)) + body


NET_OPS = ("connect", "accept", "accept4", "bind", "listen", "sock_close")


def net(family=2, local=b"\x0a\x00\x00\x05", lport=40000, remote=b"\x5d\xb8\xd8\x22",
        rport=443, rx=1256):
    """struct nerrf_net: family, type, protocol, ports, addresses, summary."""
    return struct.pack("<HHHHH6x16s16sQQQ", family, 1, 6, lport, rport, local.ljust(16, b"\0"),
                       remote.ljust(16, b"\0"), rx, 1_000_000, 2_000_000)


def framed(config, records):
    return bytes([config]) + b"".join(struct.pack("<I", len(r)) + r for r in records)


def encoder_seeds():
    every_op = [event(name, path=b"/srv/data/f%d" % i, seq=i + 1, cpu=i % 4,
                      data=net() if name in NET_OPS else b"")
                for i, name in enumerate(OPS) if i]
    yield "every-op", framed(3, every_op)
    # found by the fuzzer: a kernel time near 2^63 overflowed the wall-clock sum
    yield "ts-overflow", framed(0, [event("openat", path=b"/a", ts=0x7fffffffffffffff),
                                    event("openat", path=b"/b", ts=0xe000000000000000)])
    yield "net", framed(3, [
        event("connect", data=net()),
        event("connect", data=net(family=10, local=b"\0" * 15 + b"\1", remote=b"\0" * 15 + b"\1"),
              seq=2),
        event("bind", path=b"/run/app.sock", data=net(family=1, lport=0, rport=0), seq=3),
        event("sock_close", data=net(), seq=4),
        event("connect", data=net()[:40], seq=5),  # too short: malformed
    ])
    yield "exec-argv", framed(0, [
        event("execve", path=b"/usr/bin/ls", raw=b"ls", data=b"ls\0-l\0/tmp\0"),
        event("execveat", path=b"/usr/bin/env", data=b"env\0\0\0VAR=1\0sh\0-c\0trunc", seq=2),
        event("execve", path=b"/bin/true", data=b"\0" * 16, seq=3)])
    yield "write-sample", framed(1, [
        event("write", path=b"/var/log/app.log", data=b"hello world\n" * 4),
        event("pwrite64", path=b"/srv/db", data=bytes(range(256)), seq=2),
        event("writev", path=b"/srv/db", data=b"\0" * 100, seq=3),
        event("pwritev2", path=b"/srv/enc", data=bytes((i * 37) & 255 for i in range(200)), seq=4)])
    yield "xattr-rename", framed(3, [
        event("setxattr", path=b"/srv/f", path2=b"user.tag", seq=1),
        event("fremovexattr", path=b"/srv/f", path2=b"security.selinux", seq=2),
        event("renameat2", path=b"/srv/a", path2=b"/srv/b", raw=b"a", seq=3),
        event("rename", path=b"/srv/b", path2=b"/srv/c", raw=b"../b", seq=4, flags=0x10)])
    yield "utf8", framed(0, [
        event("openat", path="/srv/caf\u00e9/\u65e5\u672c/\U0001f600".encode(), comm=b"\xe9t\xe9"),
        event("openat", path=b"/srv/bad\xff\xfe/\xc0\xaf/\xed\xa0\x80/\xf4\x90\x80\x80", seq=2),
        event("unlink", path=b"/srv/cut\xe2\x82", raw=b"\xf0\x9f\x98", seq=3)])
    yield "containers", framed(3, [
        event("openat", path=b"/app/x", cgroup=1), event("openat", path=b"/app/y", cgroup=2, seq=2),
        event("openat", path=b"/host", cgroup=3, seq=3), event("openat", path=b"/gone", cgroup=999999, seq=4),
        event("openat", path=b"/app/x", cgroup=1, seq=5)])
    yield "stats", framed(1, [
        stats(), event("openat", path=b"/a"),
        stats(nr_cpus=2, lost=list(range(len(OPS))), emitted=5000), event("exit", seq=2),
        stats(nr_cpus=0)])
    yield "malformed", framed(3, [
        b"", b"\x01\x00", event("openat", path=b"/a", size=999),
        event(0, path=b"/a"), event(32, path=b"/a"), event("openat", cpu=8192),
        event("openat", comm=b"x" * 16), event("openat", path=b"/a", nul=False),
        struct.pack("<II", 3, 8), stats()[:-1], struct.pack("<II", 2, 16) + b"\0" * 8,
        event("openat", path=b"/ok", seq=9)])
    yield "seq-gaps", framed(2, [
        event("write", seq=s, cpu=c, path=b"/x", data=b"ab") for c, s in
        [(0, 1), (0, 2), (0, 5), (1, 100), (0, 6), (0, 1), (1, 90), (8191, 7)]])
    long_path = b"/srv/" + b"d" * 1500
    yield "batch-bytes", framed(2, [event("openat", path=long_path, seq=i + 1) for i in range(4)])
    yield "largest", framed(0, [event("renameat2", path=b"/" + b"a" * 4094, path2=b"/" + b"b" * 4094,
                                      raw=b"c" * 511, data=b"\xff" * 256)])


# ---- ring: a script of operations (enum op in ring.c) ----

HDR_SET, HDR_NUDGE, DATA_BYTES, REC_HDR, PRODUCE, PUBLISH, WAIT_SPACE, PROD_REOPEN, \
    PEEK, CONS_PUBLISH, RESYNC, WAIT, CONS_REOPEN, STATS = range(14)
F_MAGIC, F_VERSION, F_HDR_SIZE, F_CAPACITY, F_GENERATION, F_HEAD, F_PRODUCED, \
    F_PROD_WANT, F_PROD_SLEEPING, F_TAIL, F_CONSUMED, F_CONS_SLEEPING = range(12)


def produce(*lens):
    return bytes([PRODUCE, len(lens) - 1]) + b"".join(struct.pack("<H", n) for n in lens)


def peek(n=255):
    return bytes([PEEK, n])


def hdr_set(field, value):
    return bytes([HDR_SET, field]) + struct.pack("<Q", value & (2**64 - 1))


def nudge(field, delta8):
    return bytes([HDR_NUDGE, field, delta8 & 255])


def rec_hdr(how, length, seq_delta=0):
    return bytes([REC_HDR, how]) + struct.pack("<H", length) + bytes([seq_delta & 255])


def data_bytes(off, raw):
    return bytes([DATA_BYTES]) + struct.pack("<H", off) + bytes([len(raw)]) + raw


P, C, R, W = bytes([PUBLISH]), bytes([CONS_PUBLISH]), bytes([RESYNC]), bytes([STATS])


def wait(ms):
    return bytes([WAIT, ms])


def wait_space(length, ms):
    return bytes([WAIT_SPACE]) + struct.pack("<H", length) + bytes([ms])


def ring_seeds():
    # found by the fuzzer: a garbage tail made the consumer start at an unaligned head
    yield "unaligned-head-after-bad-tail", base64.b64decode(
        "BALoA+gD6AMFCP8JBADoAwUI/wkEAOgDBQj/CQAF/Q8AAAAAAAAMBQgB")
    # found by the fuzzer: a consumer past the producer and a producer that counts the
    # ring full waited on each other until the producer said which tail it refused
    yield "tail-past-head-standoff", base64.b64decode(
        "BALoA+gD6AMF/wkIBADoAwUI/wkEAOgDBQj/CQAF/Q8AAAAAAAAMBQgB")
    yield "roundtrip", produce(1, 8, 100, 0) + P + peek(9) + C + W
    # four 1000-byte records fill most of 4 KiB: the next ones wrap behind a PAD
    fill = produce(1000, 1000, 1000) + P + peek(7) + C
    yield "wrap-pad", fill + produce(1000, 1000, 500) + P + peek(255) + C + produce(600) + P + peek() + W
    yield "full-wait-space", produce(1016, 1016, 1016, 1016, 1016) + P + wait_space(1016, 1) + \
        peek(3) + C + wait_space(1016, 2) + produce(1016) + P + peek()
    yield "wait-empty", wait(2) + wait(1) + produce(10) + P + wait(2) + peek() + wait(0)
    yield "generation-change", produce(50, 50) + P + hdr_set(F_GENERATION, 0xdead) + peek() + R + \
        produce(20) + P + peek() + C
    yield "reinit-bigger", produce(100, 100) + P + bytes([PROD_REOPEN, 1]) + produce(3000) + P + \
        peek() + C + W
    yield "producer-restart", produce(100) + P + peek(1) + bytes([PROD_REOPEN, 0]) + produce(40, 40) + P + peek()
    yield "consumer-restart", produce(100, 200) + P + peek(1) + bytes([CONS_REOPEN]) + peek() + C
    yield "bad-magic-reopen", hdr_set(F_MAGIC, 0) + bytes([CONS_REOPEN]) + P + bytes([CONS_REOPEN]) + \
        produce(8) + P + peek()
    yield "head-out-of-range", produce(64) + P + hdr_set(F_HEAD, 1 << 40) + peek() + R + peek() + R + \
        P + peek()
    yield "head-unaligned", produce(64) + P + nudge(F_HEAD, 1) + hdr_set(F_HEAD, 13) + peek() + R + P + peek()
    yield "tail-bad", produce(64) + P + peek() + hdr_set(F_TAIL, 1 << 50) + produce(64) + P + C + produce(64) + P + peek()
    yield "hostile-records", rec_hdr(4, 40) + rec_hdr(4, 16, 1) + peek() + rec_hdr(4 | 2, 24, 7) + \
        peek() + rec_hdr(4, 3000) + peek() + R
    yield "hostile-pad", produce(1000, 1000, 1000) + P + peek() + C + rec_hdr(1 | 4 | 8, 0) + \
        rec_hdr(4, 32) + peek() + rec_hdr(1 | 4, 100) + peek() + R
    # the head at 3504: a hostile 1000-byte record there would run past the end
    yield "record-past-end", produce(1000, 1000, 1000, 472) + P + peek() + C + rec_hdr(4, 1000) + \
        peek() + R + produce(8) + P + peek()
    yield "scribbled-length", produce(100, 100) + P + data_bytes(0, b"\xff\xff\x00\x00") + peek() + R + \
        data_bytes(8, b"\x01\x02\x03") + produce(30) + P + peek()
    yield "seq-out-of-order", produce(16, 16) + P + data_bytes(4, b"\x09\x00\x00\x00") + peek() + R + peek()
    yield "identity-scribble", hdr_set(F_VERSION, 7) + hdr_set(F_CAPACITY, 8192) + hdr_set(F_HDR_SIZE, 1) + \
        peek() + R + P + peek() + produce(9) + P + peek()
    yield "sleep-flags", hdr_set(F_CONS_SLEEPING, 1) + produce(8) + P + hdr_set(F_PROD_SLEEPING, 1) + \
        hdr_set(F_PROD_WANT, 10) + peek() + C + W
    yield "counters", nudge(F_PRODUCED, 5) + produce(8) + P + peek() + nudge(F_CONSUMED, -3) + C + W


# ---- conf: file contents ----

def conf_seeds():
    every = (b"# every section, every kind of value\n"
             b"[collector]\nringbuf-size = 16777216\npath-prefix = /home\npath-prefix = \"/srv/data dir\"\n"
             b"all-writes = yes\nverbose = off\n"
             b"[encoder]\nlatency-us = 500\nraw-sample = true\n"
             b"[publisher]\nlisten = tcp://127.0.0.1:5555\nverbose = 1\n"
             b"[nerrf]\nverbose = false\n")
    yield "every-section", every
    yield "whitespace-comments", b"\n  ; comment\n\t# another\n [collector] \n\tpath-prefix\t=\t/x  \n\n"
    yield "crlf", every.replace(b"\n", b"\r\n")
    yield "no-final-newline", b"[encoder]\nlatency-us = 1"
    yield "empty", b""
    yield "unknown-key", b"[collector]\nringbuff-size = 1\n"
    yield "config-key", b"[publisher]\nconfig = /etc/other.conf\n"
    yield "unknown-section", b"[colector]\nverbose = true\n"
    yield "malformed-section", b"[collector\n[encoder]x\n"
    yield "outside-section", b"verbose = true\n"
    yield "no-equals", b"[nerrf]\nverbose\n"
    yield "missing-value", b"[collector]\npath-prefix =\n"
    yield "bad-bool", b"[collector]\nall-writes = maybe\n"
    yield "quotes", b"[collector]\npath-prefix = \"\"\npath-prefix = \"\npath-prefix = \"a\"b\"\n"
    yield "long-line", b"[collector]\npath-prefix = /" + b"x" * 4100 + b"\n"
    yield "nul-byte", b"[collector]\npath-prefix = /a\0b\nverbose = yes\n"


def pb_varint(v):
    v &= (1 << 64) - 1
    out = b""
    while True:
        if v < 0x80:
            return out + bytes([v])
        out += bytes([v & 0x7F | 0x80])
        v >>= 7


def pb(field, value):
    """One protobuf field: ints as varints, bytes/str length-delimited."""
    if isinstance(value, int):
        return pb_varint(field << 3) + pb_varint(value)
    if isinstance(value, str):
        value = value.encode()
    return pb_varint(field << 3 | 2) + pb_varint(len(value)) + value


def pb_event(path, comm=b"cat", syscall="openat", **extra):
    ev = pb(1, pb(1, 1700000000) + pb(2, 5)) + pb(2, 4242) + pb(4, comm) + pb(5, syscall)
    ev += pb(6, path) + pb(8, 3)
    for field, value in extra.items():
        ev += pb(int(field[1:]), value)
    return ev


def tail_seeds():
    """nng messages as a subscriber gets them: topic, then the protobuf."""
    yield "batch", b"EVB1" + pb(1, pb_event("/srv/a.doc")) + pb(2, 1) + pb(7, 1)
    yield "names", b"EVB1" + pb(1, pb_event("/srv/\x1b[31mred\nfake row", comm=b"ev\x07il")) + \
        pb(1, pb_event("/srv/inv??alid", f32=64, f33=b"/srv/inv\xff\xfealid",
                       f7="/srv/\u202eexe.doc", f25="../x", f28="a\x00b")) + pb(7, 2)
    yield "exec", b"EVB1" + pb(1, pb_event("/usr/bin/ls", syscall="execve", f28="ls",
                                           f38=b"\xff")) + pb(7, 3)
    yield "empty-events", b"EVB1" + pb(1, b"") * 50
    # a JSON line past the printer's line buffer, escapes across its edge
    yield "long-line", b"EVB1" + pb(1, pb_event("/srv/" + "\"\x01\u00e9" * 4000)) + pb(7, 5)
    gap = pb(20, 1) + pb(21, 5000000000) + pb(22, pb(1, 1) + pb(2, 2) + pb(5, "collector died"))
    yield "stats", b"STS1" + pb(2, "host\x1b]0;title\x07") + pb(4, pb(2, 7) + gap) + \
        pb(13, "collector=down encoder=up") + pb(14, 3)
    yield "stats-maps", b"STS1" + pb(4, pb(13, pb(1, 1) + pb(2, 9)) +
                                     pb(14, pb(1, "open\x00at") + pb(2, 2)))
    # what proto3 JSON spells apart: non-finite floats, Timestamps outside RFC 3339's years
    # or with nanos out of range, 64-bit values past 2^53
    f32 = lambda field, v: pb_varint(field << 3 | 5) + struct.pack("<f", v)
    f64 = lambda field, v: pb_varint(field << 3 | 1) + struct.pack("<d", v)
    yield "floats-times", b"EVB1" + \
        pb(1, pb(1, pb(1, -62135596801) + pb(2, -5)) + pb(2, 1) + f32(29, float("nan"))) + \
        pb(1, pb(1, pb(1, 253402300799) + pb(2, 1999999999)) + f32(29, 7.9) + pb(8, -2) +
           pb(9, (1 << 64) - 1)) + pb(7, 4)
    yield "stats-floats", b"STS1" + pb(1, pb(1, 1 << 62)) + f64(5, float("inf")) + \
        f64(6, float("-inf")) + pb(4, pb(22, pb(3, pb(2, -1)) + pb(4, b"")))


def r2(kind, payload, batch_seq=1, nevents=1):
    """A ring #2 record: struct nerrf_r2_hdr, then the protobuf."""
    return struct.pack("<IIQIIQ", kind, len(payload), batch_seq, nevents, 0, 0) + payload


def publisher_seeds():
    """The publisher's counters to append (struct pub_tail), then a ring #2 record."""
    tail = struct.pack("<10Q", 7, 1, 0, 2, 3, 300, 4, 4096, 65536, 2)
    batch = pb(1, pb_event("/srv/a.doc")) + pb(2, 1) + pb(5, pb(1, 10) + pb(8, 9))
    yield "batch", tail + r2(1, batch)
    yield "stats", tail + r2(2, pb(2, "host") + pb(4, pb(1, 5)) + pb(13, "collector=up"))
    yield "empty-batch", tail + r2(1, b"")
    yield "len-past-end", tail + struct.pack("<IIQIIQ", 1, 1000, 1, 1, 0, 0) + batch
    yield "unknown-kind", tail + r2(9, batch)
    yield "short", tail + b"\x01\x00\x00"
    yield "big-tail", struct.pack("<10Q", *([(1 << 64) - 1] * 10)) + r2(1, batch)


def replay_request_seeds():
    """A ReplayRequest as a client sends it: from_seq 1, from_time_ns 2, until_seq 3, max_bytes 4."""
    yield "from-1", pb(1, 1)
    yield "from-100-until-120", pb(1, 100) + pb(3, 120)
    yield "by-time", pb(2, 50 * 10**9)
    yield "oldest", b""
    yield "small-max", pb(1, 10) + pb(4, 100)
    yield "past-done", pb(1, 280)
    yield "until-before-from", pb(1, 50) + pb(3, 10)
    yield "huge-max", pb(1, 5) + pb(4, (1 << 64) - 1)
    yield "not-protobuf", b"\xff\xff\xff"


# Seeds checked in that this script does not make (by hand, or by an earlier
# version of it): a rewrite keeps them.
KEPT = {"encoder": ("close-summary-sample", "embedded-nul-dotdot", "exec-interpreter",
                    "normalized-path")}


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if name not in KEPT.get(target, ()):
            os.remove(os.path.join(d, name))
    for name, blob in seeds:
        with open(os.path.join(d, name), "wb") as f:
            f.write(blob)


write("encoder", encoder_seeds())
write("ring", ring_seeds())
write("conf", conf_seeds())
write("tail", tail_seeds())
write("publisher", publisher_seeds())
write("replay_request", replay_request_seeds())
