# SPDX-License-Identifier: Apache-2.0
"""Subscriber: nerrf's live stream (and its journal) as protobuf messages.

Framing, sequence numbers and the replay hand-over are in docs/PROTOCOL.md.
"""
import collections
import datetime
import os
import time
import warnings

from google.protobuf.message import DecodeError

from . import _nng
from . import trace_pb2

TOPIC_EVENTS = b"EVB1"
TOPIC_STATS = b"STS1"
DEFAULT_URL = "ipc:///run/nerrf/events.sock"
# What a publisher may make a subscriber allocate, as nerrf tail: a message well above the
# largest batch of an encoder with default options, twice the events nerrf-encoder allows.
MAX_MESSAGE_BYTES = 4 << 20
MAX_EVENTS = 131072
# How often a blocked receive comes back to Python (Ctrl-C, deadlines, recv_timeout).
_POLL_MS = 200
# Messages nng queues for a reader that falls behind (recv_buffer=), on top of the
# publisher's --sendbuf; a catch-up takes nng's largest, for what arrives while it reads the
# journal.
RECV_BUFFER = 1024
_CATCHUP_RECV_BUFFER = 8192

_EventBatch, _Stats = trace_pb2.EventBatch, trace_pb2.Stats


class NerrfError(Exception):
    """Anything that stops a Subscriber; the message says what to do."""


class NoSocket(NerrfError, FileNotFoundError):
    """The publisher's ipc:// socket does not exist."""


class NoPermission(NerrfError, PermissionError):
    """The publisher's socket exists but this user may not connect to it."""


class NoPublisher(NerrfError, ConnectionError):
    """Nothing listens at the address, or it fell silent for recv_timeout."""


class GapWarning(UserWarning):
    """Batches this subscriber will never see (on_gap="warn")."""


# Every gap is news: not only the first from a given line.
warnings.filterwarnings("always", category=GapWarning)

_GAP_WHY = {
    "publisher_seq": "this subscriber read too slowly (raise nerrf-publisher --sendbuf), or "
                     "a message above max_message_bytes closed the connection",
    "batch_seq": "lost between encoder and publisher (a publisher restart)",
    "not_journaled": "not in the journal (journal_dropped, or removed by retention)",
    "too_many_events": "dropped undecoded: more events than max_events",
    "undecodable": "dropped: the batch does not decode (a publisher from another version?)",
}


class Gap(collections.namedtuple("Gap", "kind first last events")):
    """Batches lost to this subscriber: publisher_seq (batch_seq for kind "batch_seq") first
    to last inclusive; events: how many events they held, when known (else None)."""

    @property
    def count(self):
        return self.last - self.first + 1

    def __str__(self):
        what = "batch_seq" if self.kind == "batch_seq" else "publisher_seq"
        held = "" if self.events is None else " (%d events)" % self.events
        return "missed %d batches (%s %d to %d)%s: %s" % (
            self.count, what, self.first, self.last, held, _GAP_WHY[self.kind])


class GapError(NerrfError):
    """on_gap="raise": the gap is in .gap; iterating again goes on after it."""

    def __init__(self, gap):
        super().__init__(str(gap))
        self.gap = gap


def scan_batch(body):
    """(events, publisher_seq) from an EventBatch's top-level fields, or None if they are
    malformed. Decoding allocates an object per event, so they are counted first."""
    events = seq = i = 0
    n = len(body)
    while i < n:
        # An Event under 128 bytes (1-byte key and length): most of a hostile batch.
        if body[i] == 0x0A and i + 1 < n and body[i + 1] < 0x80:
            i += 2 + body[i + 1]
            events += 1
            continue
        key, i = _varint(body, i, n)
        if key is None or key >> 3 == 0:
            return None
        wire = key & 7
        if wire in (0, 2):
            v, i = _varint(body, i, n)
            if v is None:
                return None
            if wire == 2:
                i += v
            elif key >> 3 == 7:
                seq = v
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
        else:
            return None
        events += key >> 3 == 1
    return (events, seq) if i == n else None


def _varint(b, i, n):
    x = shift = 0
    while i < n and shift < 70:
        c = b[i]
        i += 1
        x |= (c & 0x7F) << shift
        if c < 0x80:
            return x, i
        shift += 7
    return None, i


def _time_ns(t):
    """A datetime as wall-clock ns since the epoch (naive: local time, as timestamp())."""
    return int(t.timestamp()) * 1000000000 + t.microsecond * 1000


class Subscriber:
    """A live nerrf stream, as the messages generated from proto/trace.proto.

        with Subscriber() as sub:
            for ev in sub.events():          # nerrf.trace.Event messages
                print(ev.pid, ev.syscall, ev.path)

    url: the publisher's address (default ipc:///run/nerrf/events.sock).
    topics: "events" and/or "stats": what events(), batches(), stats() and messages() get.
    recv_timeout: seconds without any message (the publisher sends stats every second)
        before NoPublisher is raised; None waits forever.
    resume_from: a publisher_seq (int; 0 for the oldest batch kept) or a datetime: first
        every batch the publisher's journal holds from there, then the live stream, with no
        gap and no duplicate (docs/PROTOCOL.md, "Replay and catch-up"); live gaps of a slow
        reader are filled from the journal too. Needs a publisher with a journal;
        replay_url defaults to replay.sock beside an ipc:// url.
    on_gap: what to do about batches that will never arrive (a Gap): "warn" (GapWarning),
        "raise" (GapError), "ignore", or a callable taking the Gap.
    wait: dial in the background until a publisher appears, instead of raising NoSocket /
        NoPublisher at once.
    max_events, max_message_bytes: bound what a publisher can make this process allocate:
        a batch of more events is dropped undecoded (a "too_many_events" gap); nng closes the
        connection on a larger message and redials (a "publisher_seq" gap).
    recv_buffer: messages queued here for a reader that falls behind (at most 8192; with
        resume_from, 8192), beyond the publisher's own queue (nerrf-publisher --sendbuf).
    tls_ca, tls_cert, tls_key, tls_server_name: for tls+tcp:// (PEM file names).

    Counters: received_batches, dropped_batches, dropped_events, missed_batches.
    """

    def __init__(self, url=None, topics=("events",), recv_timeout=None, resume_from=None,
                 on_gap="warn", replay_url=None, wait=False, max_events=MAX_EVENTS,
                 max_message_bytes=MAX_MESSAGE_BYTES, recv_buffer=RECV_BUFFER, tls_ca=None,
                 tls_cert=None, tls_key=None, tls_server_name=None):
        self.url = url or DEFAULT_URL
        if isinstance(topics, str):
            topics = (topics,)
        if not topics or set(topics) - {"events", "stats"}:
            raise ValueError("topics: 'events' and/or 'stats', not %r" % (topics,))
        if not (callable(on_gap) or on_gap in ("warn", "raise", "ignore")):
            raise ValueError("on_gap: 'warn', 'raise', 'ignore' or a callable, not %r"
                             % (on_gap,))
        self._events, self._stats = "events" in topics, "stats" in topics
        self.recv_timeout, self.on_gap, self.max_events = recv_timeout, on_gap, max_events
        self.received_batches = self.dropped_batches = self.dropped_events = 0
        self.missed_batches = 0
        self._queue = collections.deque()
        self._last_pub = self._last_batch = self._enc_start = 0
        self._sock = self._rq = None
        self._resume = resume_from is not None
        self._next = self._from_ns = 0  # with resume_from: the next publisher_seq to deliver
        if self._resume:
            if isinstance(resume_from, datetime.datetime):
                self._from_ns = _time_ns(resume_from)
            elif isinstance(resume_from, int) and not isinstance(resume_from, bool) \
                    and resume_from >= 0:
                self._next = resume_from
                self._last_pub = max(resume_from - 1, 0)
            else:
                raise ValueError("resume_from: a publisher_seq (int >= 0) or a datetime, "
                                 "not %r" % (resume_from,))
            if not self._events:
                raise ValueError("resume_from needs the 'events' topic")
            replay_url = replay_url or self._replay_url()
        try:
            self._sock = self._open_sub(wait, max_message_bytes, recv_buffer,
                                        (tls_ca, tls_cert, tls_key, tls_server_name))
            if self._resume:
                self._rq = self._open_replay(replay_url)
        except BaseException:
            self.close()
            raise
        self._heard = time.monotonic()
        self._catchup = self._resume

    # ---- connecting ----

    def _replay_url(self):
        if self.url.startswith("ipc://") and self.url.endswith("/events.sock"):
            return self.url[:-len("events.sock")] + "replay.sock"
        raise ValueError("resume_from: give replay_url= (the publisher's --replay-listen) "
                         "for %s" % self.url)

    def _check_ipc(self):
        path = self.url[len("ipc://"):]
        try:
            os.stat(path)
        except FileNotFoundError:
            raise NoSocket("no publisher socket at %s: start the pipeline (nerrf run, or "
                           "systemctl start nerrf-publisher), or give its address as url= "
                           "(wait=True waits for it)" % path) from None
        except PermissionError:
            raise NoPermission("cannot reach %s: a directory above it is closed to this user; "
                               "run as a member of the stage user's group" % path) from None
        if not os.access(path, os.R_OK | os.W_OK):
            raise NoPermission("%s: permission denied: the publisher's socket is open to its "
                               "group only (nerrf-publisher --ipc-mode); add this user to that "
                               "group (usermod -aG GROUP USER) or run as root" % path)

    def _dial_error(self, e):
        if e.errno == _nng.ECONNREFUSED:
            return NoPublisher("no publisher is listening at %s: start it (nerrf run, or "
                               "systemctl start nerrf-publisher), or wait=True to wait for it"
                               % self.url)
        if e.errno == _nng.ENOENT:
            return NoSocket("no publisher socket at %s: start the pipeline, or give its "
                            "address as url=" % self.url)
        if e.errno == _nng.EPERM:
            return NoPermission("%s: permission denied: join the publisher's group, or run "
                                "as root" % self.url)
        if self.url.startswith("tls+") or e.errno in (_nng.ECRYPTO, _nng.EPEERAUTH):
            return NerrfError("TLS dial %s: %s (check that tls_ca signed the publisher's "
                              "certificate, that it carries the server name, and that the "
                              "publisher accepts tls_cert)" % (self.url, e.strerror))
        return NerrfError("cannot dial %s: %s" % (self.url, e.strerror))

    def _open_sub(self, wait, max_message_bytes, recv_buffer, tls):
        s = _nng.Socket("sub0")
        try:
            if self._events:
                s.set("sub:subscribe", TOPIC_EVENTS)
            # Always: a publisher sends stats every second, so silence means it is gone.
            s.set("sub:subscribe", TOPIC_STATS)
            s.set_ms("recv-timeout", _POLL_MS)
            s.set_ms("reconnect-time-min", 20)
            # nng closes the connection on a larger message (and redials), instead of
            # allocating it.
            s.set_size("recv-size-max", max_message_bytes)
            s.set_int("recv-buffer", _CATCHUP_RECV_BUFFER if self._resume else recv_buffer)
            if self.url.startswith("tls+"):
                self._dial_tls(s, wait, *tls)
            else:
                if self.url.startswith("ipc://") and not wait:
                    self._check_ipc()
                try:
                    s.dial(self.url, block=not wait)
                except _nng.NngError as e:
                    raise self._dial_error(e) from None
        except BaseException:
            s.close()
            raise
        return s

    def _dial_tls(self, s, wait, ca, cert, key, server_name):
        if not ca or bool(cert) != bool(key):
            raise ValueError("%s needs tls_ca (the CA that signed the publisher's "
                             "certificate), and tls_cert with tls_key if it requires them"
                             % self.url)

        def pem(path):
            try:
                with open(path, "rb") as f:
                    return f.read()
            except OSError as e:
                raise NerrfError("cannot read %s: %s" % (path, e.strerror)) from None
        name = server_name or self.url.split("://", 1)[1].rsplit(":", 1)[0].strip("[]")
        certs = (pem(cert), pem(key)) if cert else (None, None)
        try:
            # The first dial is made at once, so that a refused certificate is reported;
            # a publisher not listening yet is redialled in the background.
            s.dial_tls(self.url, pem(ca), certs[0], certs[1], name, block=True)
        except _nng.NngError as e:
            if e.errno == _nng.ECONNREFUSED and wait:
                s.dial_tls(self.url, pem(ca), certs[0], certs[1], name, block=False)
            elif e.errno == _nng.ECONNREFUSED:
                raise NoPublisher("no publisher is listening at %s (wait=True waits for it)"
                                  % self.url) from None
            else:
                raise self._dial_error(e) from None

    def _open_replay(self, url):
        r = _nng.Socket("req0")
        try:
            r.set_size("recv-size-max", 64 << 20)
            r.set_ms("recv-timeout", 5000)
            r.dial(url)
        except _nng.NngError as e:
            r.close()
            raise NoPublisher("cannot reach the replay endpoint %s: %s; is the publisher "
                              "running with a journal (not --no-journal)? replay_url= names "
                              "another" % (url, e.strerror)) from None
        return r

    def close(self):
        """Closes the sockets; iterating afterwards raises NerrfError."""
        for s in (self._sock, self._rq):
            if s is not None:
                s.close()
        self._sock = self._rq = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- iterating ----

    def messages(self):
        """EventBatch and Stats messages as they come (the topics asked for)."""
        while True:
            yield self._take()

    def batches(self):
        """EventBatch messages, each with the publisher's appended fields (publisher_seq...)."""
        return self._only(_EventBatch, self._events, "batches", "events")

    def events(self):
        """Event messages, batch after batch."""
        for b in self.batches():
            yield from b.events

    __iter__ = events

    def stats(self):
        """Stats messages, one a second."""
        return self._only(_Stats, self._stats, "stats", "stats")

    def _only(self, cls, wanted, name, topic):
        if not wanted:
            raise ValueError("%s(): this Subscriber has no '%s' topic" % (name, topic))
        while True:
            m = self._take()
            if type(m) is cls:
                yield m

    def _take(self, deadline=None):
        """The next message to deliver; None once time.monotonic() passes deadline."""
        q = self._queue
        while not q:
            if self._catchup:
                self._catchup = False
                self._fill(0)
                continue
            raw = self._recv(deadline)
            if raw is None:
                return None
            if raw[:4] == TOPIC_EVENTS:
                self._take_batch(raw[4:], True)
            elif raw[:4] == TOPIC_STATS:
                self._take_stats(raw[4:])
        return q.popleft()

    def _recv(self, deadline):
        if self._sock is None:
            raise NerrfError("this Subscriber is closed")
        while True:
            try:
                raw = self._sock.recv()
                self._heard = time.monotonic()
                return raw
            except _nng.NngError as e:
                if e.errno != _nng.ETIMEDOUT:
                    raise NerrfError("receiving from %s: %s" % (self.url, e.strerror)) from None
            now = time.monotonic()
            if self.recv_timeout is not None and now - self._heard >= self.recv_timeout:
                raise NoPublisher("nothing from the publisher at %s for %g s, not even its "
                                  "once-a-second stats: is it still running? (nerrf stats)"
                                  % (self.url, self.recv_timeout))
            if deadline is not None and now >= deadline:
                return None

    def _take_stats(self, body):
        st = _Stats()
        try:
            st.ParseFromString(body)
        except DecodeError as e:
            warnings.warn("nerrf: skipped an undecodable Stats (%d bytes): %s" % (len(body), e))
            return
        # A quiet stream: the stats say how far the publisher is.
        if self._resume and self._next and st.publisher_seq >= self._next:
            self._fill(st.publisher_seq)
        if self._stats:
            self._queue.append(st)

    def _take_batch(self, body, live):
        """Checks, decodes and queues one batch; live: from the stream, not the journal."""
        batch, events = None, None
        # An Event takes at least 2 bytes: only a large message can hold too many.
        scan = scan_batch(body) if len(body) > 2 * self.max_events else None
        if scan and scan[0] > self.max_events:
            events, seq = scan
        else:
            batch = _EventBatch()
            try:
                batch.ParseFromString(body)
            except DecodeError:
                scan = scan_batch(body)
                seq = scan[1] if scan and scan[1] else self._last_pub + 1
                self._check_seq(seq, None, live)
                self._gap(Gap("undecodable", seq, seq, None))
                return
            seq = batch.publisher_seq
        if live and self._resume:
            # docs/PROTOCOL.md: what the journal already gave, not again; before it, what the
            # journal holds.
            if self._next and seq > self._next:
                self._fill(seq - 1)
            if seq < self._next:
                return
            self._next = seq + 1
        gap = self._check_seq(seq, batch, live)
        if batch is None:
            self.dropped_batches += 1
            self.dropped_events += events
        else:
            self.received_batches += 1
            self._queue.append(batch)
        # After queueing: with on_gap="raise", iterating again still delivers this batch.
        if gap:
            self._gap(gap)
        if batch is None:
            self._gap(Gap("too_many_events", seq, seq, events))

    def _check_seq(self, seq, batch, live):
        """The Gap that seq (and batch_seq) show before this batch, if any."""
        last, gap = self._last_pub, None
        if last and seq > last + 1:
            gap = Gap("publisher_seq" if live else "not_journaled", last + 1, seq - 1, None)
        elif batch is not None and last and seq == last + 1 and \
                batch.encoder_start_ns == self._enc_start and \
                batch.batch_seq > self._last_batch + 1:
            gap = Gap("batch_seq", self._last_batch + 1, batch.batch_seq - 1, None)
        self._last_pub = seq
        if batch is not None:
            self._last_batch, self._enc_start = batch.batch_seq, batch.encoder_start_ns
        return gap

    def _gap(self, gap):
        self.missed_batches += gap.count
        if callable(self.on_gap):
            self.on_gap(gap)
        elif self.on_gap == "warn":
            warnings.warn("nerrf: " + str(gap), GapWarning, stacklevel=4)
        elif self.on_gap == "raise":
            raise GapError(gap)

    # ---- the journal (docs/PROTOCOL.md, "Replay and catch-up") ----

    def _fill(self, until):
        """Queues what the journal holds from self._next up to until (0: all written),
        retrying for up to 2 s while the publisher has not yet written up to until. What is
        still missing then was never journaled: a gap, skipped."""
        tries = 0
        while not until or self._next <= until:
            got, written = self._fetch(until)
            if got:
                continue
            tries += 1
            if not until or written >= until or tries > 200:
                break
            time.sleep(0.01)
        if until and self._next <= until:
            gap = Gap("not_journaled", self._next, until, None)
            self._next = until + 1
            self._last_pub = until
            self._gap(gap)

    def _fetch(self, until):
        req = trace_pb2.ReplayRequest(from_seq=self._next, until_seq=until,
                                      from_time_ns=0 if self._next else self._from_ns)
        try:
            self._rq.send(req.SerializeToString())
            reply = self._rq.recv()
        except _nng.NngError as e:
            raise NerrfError("replay request to the publisher failed: %s" % e.strerror) from None
        chunk = trace_pb2.ReplayChunk()
        try:
            chunk.ParseFromString(reply)
        except DecodeError:
            raise NerrfError("undecodable replay reply; is the publisher from another "
                             "version?") from None
        if chunk.error:
            raise NerrfError("replay refused: %s" % chunk.error)
        for m in chunk.messages:
            if m[:4] == TOPIC_EVENTS:
                self._take_batch(m[4:], False)
        if chunk.next_seq > self._next:
            self._next = chunk.next_seq
        return len(chunk.messages) > 0, chunk.last_seq
