// SPDX-License-Identifier: Apache-2.0
//! The blocking subscriber: framing, sequence numbers and the replay hand-over of
//! docs/PROTOCOL.md, behind an iterator of decoded messages.

use std::collections::VecDeque;
use std::fmt;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prost::Message as _;

use crate::nng::{self, Socket};
use crate::trace::{Event, EventBatch, ReplayChunk, ReplayRequest, Stats};
use crate::wire;

/// Where nerrf-publisher listens by default.
pub const DEFAULT_URL: &str = "ipc:///run/nerrf/events.sock";
const TOPIC_EVENTS: &[u8] = b"EVB1";
const TOPIC_STATS: &[u8] = b"STS1";
const TOPIC_LEN: usize = 4;
/// How often a blocked receive looks at the clock (timeouts) while it waits.
const POLL: Duration = Duration::from_millis(200);

/// One message from the publisher.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    Batch(EventBatch),
    Stats(Stats),
}

/// Which sequence number says that batches went missing, and so where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapKind {
    /// publisher_seq: the publisher dropped batches for this subscriber (its send queue filled:
    /// the subscriber read too slowly), or a message above max_message_bytes closed the
    /// connection.
    Subscriber,
    /// batch_seq, within one encoder run, beyond what publisher_seq explains: batches lost
    /// between the encoder and the publisher (a publisher killed with batches in flight).
    Pipeline,
    /// With resume_from: batches neither the journal nor the live stream holds (the journal
    /// could not keep them, journal_dropped, or retention removed them).
    Journal,
}

/// Batches that never arrived: `missed` of them, numbered `first..=last` in the sequence that
/// `kind` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub kind: GapKind,
    pub first: u64,
    pub last: u64,
    pub missed: u64,
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            GapKind::Subscriber => write!(
                f,
                "missed {} batches (publisher_seq {} to {}): this subscriber read too slowly \
                 (read faster, or raise nerrf-publisher --sendbuf), or a message above \
                 --max-message-bytes closed the connection",
                self.missed, self.first, self.last
            ),
            GapKind::Pipeline => write!(
                f,
                "{} batches lost between the encoder and the publisher (batch_seq {} to {} \
                 without publisher_seq gaps); see nerrf stats",
                self.missed, self.first, self.last
            ),
            GapKind::Journal => write!(
                f,
                "batches publisher_seq {} to {} are not in the journal (journal_dropped, or \
                 removed by retention)",
                self.first, self.last
            ),
        }
    }
}

/// What the subscriber does about a gap.
pub enum OnGap {
    /// A line on stderr (the default).
    Warn,
    /// An `Err(Error::Gap)` from the iterator, before the batch that showed it; iterating on
    /// goes on with that batch.
    Error,
    /// A call, before the batch that showed it is returned.
    Callback(Box<dyn FnMut(&Gap) + Send>),
    /// Nothing.
    Ignore,
}

/// Where to start with `resume_from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResumeFrom {
    /// From this publisher_seq.
    Seq(u64),
    /// From the first batch whose newest event is at or after this time.
    Time(SystemTime),
}

/// Why a subscriber could not start, or what went wrong on the way. The iterator goes on after
/// the errors that are not [fatal](Error::is_fatal), and ends after one that is.
#[derive(Debug)]
pub enum Error {
    /// No socket file at an ipc:// address.
    NoSocket { path: String },
    /// The socket file is there, but this user may not connect to it.
    PermissionDenied { path: String },
    /// Nobody answers at the address (why says more).
    NoPublisher { url: String, why: String },
    /// Nothing arrived for recv_timeout.
    Timeout(Duration),
    /// Batches went missing (OnGap::Error).
    Gap(Gap),
    /// A batch of more events than max_events was dropped before decoding it.
    Dropped { publisher_seq: u64, events: u64, max_events: u64, batches: u64, total: u64 },
    /// A message that does not decode as what its topic says.
    Undecodable { what: &'static str, len: usize, error: prost::DecodeError },
    /// The publisher's replay endpoint could not serve resume_from.
    Replay { url: String, why: String },
    /// What nng said to a call that should not fail.
    Nng { what: String, error: String },
    /// The builder was given something it cannot use.
    Usage(String),
}

impl Error {
    /// Whether the subscriber is done: it cannot connect, or its socket failed.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            Error::Timeout(_) | Error::Gap(_) | Error::Dropped { .. } | Error::Undecodable { .. }
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const RUNNING: &str = "is nerrf running? (systemctl status nerrf.target, or nerrf run)";
        match self {
            Error::NoSocket { path } => write!(
                f,
                "no publisher socket at {}: {} Give another address as the URL \
                 (ipc:///path, tcp://host:port)",
                path, RUNNING
            ),
            Error::PermissionDenied { path } => write!(
                f,
                "permission denied on {}: add yourself to the socket's group (ls -l {}), \
                 then log in again, or run as root",
                path, path
            ),
            Error::NoPublisher { url, why } => {
                write!(f, "no publisher at {}: {}; is nerrf-publisher running? check the URL \
                           (ipc:///path or tcp://host:port)", url, why)
            }
            Error::Timeout(d) => write!(f, "nothing arrived for {:.1} s (recv_timeout)", d.as_secs_f64()),
            Error::Gap(g) => g.fmt(f),
            Error::Dropped { publisher_seq, events, max_events, batches, total } => write!(
                f,
                "dropped batch publisher_seq {} of {} events, more than --max-events {} \
                 ({} batches, {} events dropped so far)",
                publisher_seq, events, max_events, batches, total
            ),
            Error::Undecodable { what, len, error } => write!(
                f,
                "skipped a {}-byte {} that does not decode ({}): build this client from the \
                 proto/trace.proto the publisher was built from",
                len, what, error
            ),
            Error::Replay { url, why } => write!(
                f,
                "replay from {}: {}; is the publisher running with a journal (not \
                 --no-journal)? replay_url names another endpoint",
                url, why
            ),
            Error::Nng { what, error } => {
                write!(f, "{}: {}; is libnng1 installed and working?", what, error)
            }
            Error::Usage(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for Error {}

fn nng_error(what: &str) -> impl FnOnce(nng::Error) -> Error + '_ {
    move |e| Error::Nng { what: what.into(), error: e.to_string() }
}

/// How to subscribe; [`Subscriber::builder`] makes one.
pub struct Builder {
    url: String,
    replay_url: Option<String>,
    events: bool,
    stats: bool,
    recv_timeout: Option<Duration>,
    connect_timeout: Duration,
    wait: bool,
    on_gap: OnGap,
    resume_from: Option<ResumeFrom>,
    max_events: u64,
    max_message_bytes: usize,
}

impl Builder {
    /// Deliver event batches (default: yes).
    pub fn events(mut self, yes: bool) -> Self {
        self.events = yes;
        self
    }

    /// Deliver the once-a-second Stats too (default: no).
    pub fn stats(mut self, yes: bool) -> Self {
        self.stats = yes;
        self
    }

    /// With nothing delivered for this long, the iterator returns `Err(Error::Timeout)` (and
    /// goes on if asked again). Default: wait for ever.
    pub fn recv_timeout(mut self, d: Duration) -> Self {
        self.recv_timeout = Some(d);
        self
    }

    /// A publisher sends Stats every second: with nothing at all from it for this long after
    /// connecting, the iterator ends with Error::NoPublisher (not with wait). Default 5 s.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Wait for a publisher that is not there yet (nng dials until one listens) instead of
    /// failing at once. Default: no.
    pub fn wait(mut self, yes: bool) -> Self {
        self.wait = yes;
        self
    }

    /// What to do about gaps in publisher_seq or batch_seq. Default: OnGap::Warn.
    pub fn on_gap(mut self, g: OnGap) -> Self {
        self.on_gap = g;
        self
    }

    /// First the batches the publisher's journal keeps from there, then live, without a gap
    /// or a duplicate (docs/PROTOCOL.md, "Replay and catch-up").
    pub fn resume_from(mut self, r: ResumeFrom) -> Self {
        self.resume_from = Some(r);
        self
    }

    /// The replay endpoint; by default replay.sock beside an ipc:// events.sock.
    pub fn replay_url(mut self, url: impl Into<String>) -> Self {
        self.replay_url = Some(url.into());
        self
    }

    /// Batches of more events are dropped (and reported) before decoding, which allocates
    /// for every event. Default 131072, twice what nerrf-encoder allows.
    pub fn max_events(mut self, n: u64) -> Self {
        self.max_events = n;
        self
    }

    /// The largest message accepted; nng closes the connection on a larger one instead of
    /// allocating it. Default 4 MiB.
    pub fn max_message_bytes(mut self, n: usize) -> Self {
        self.max_message_bytes = n;
        self
    }

    /// Dials the publisher (and its replay endpoint, with resume_from).
    pub fn connect(self) -> Result<Subscriber, Error> {
        let replay_url = match self.resume_from {
            Some(_) => Some(Subscriber::replay_url(&self)?),
            None => None,
        };
        let s = Socket::sub().map_err(nng_error("cannot open an nng sub0 socket"))?;
        // The stats always: they say that a publisher is there, and how far it is.
        s.subscribe(TOPIC_STATS).map_err(nng_error("cannot subscribe"))?;
        if self.events || self.resume_from.is_some() {
            s.subscribe(TOPIC_EVENTS).map_err(nng_error("cannot subscribe"))?;
        }
        s.set_recv_max(self.max_message_bytes)
            .map_err(nng_error("cannot set the message size limit"))?;
        s.set_reconnect_ms(50, 1000).map_err(nng_error("cannot set the redial interval"))?;
        s.set_timeout_ms(POLL.as_millis() as i32).map_err(nng_error("cannot set a timeout"))?;
        if let Err(e) = s.dial(&self.url, self.wait) {
            return Err(match self.url.strip_prefix("ipc://") {
                Some(path) => explain_ipc(&self.url, path, e),
                None => Error::NoPublisher { url: self.url.clone(), why: e.to_string() },
            });
        }
        let mut sub = Subscriber {
            sock: s,
            replay: None,
            next: 0,
            seq: Seq::default(),
            pending: VecDeque::new(),
            dropped_batches: 0,
            dropped_events: 0,
            heard: false,
            done: false,
            since: Instant::now(),
            opts: self,
        };
        if let (Some(r), Some(u)) = (sub.opts.resume_from, replay_url) {
            sub.start_replay(r, u)?;
        }
        Ok(sub)
    }
}

/// Why dialling an ipc:// socket failed, as connect(2) tells (nng says "connection refused"
/// for a missing file too).
fn explain_ipc(url: &str, path: &str, e: nng::Error) -> Error {
    const ENOENT: i32 = 2;
    const EPERM: i32 = 1;
    const EACCES: i32 = 13;
    const ENOTDIR: i32 = 20;
    const ECONNREFUSED: i32 = 111;
    let err = std::os::unix::net::UnixStream::connect(path).err();
    match err.as_ref().and_then(std::io::Error::raw_os_error) {
        Some(ENOENT) | Some(ENOTDIR) => Error::NoSocket { path: path.into() },
        Some(EACCES) | Some(EPERM) => Error::PermissionDenied { path: path.into() },
        Some(ECONNREFUSED) => Error::NoPublisher {
            url: url.into(),
            why: "nothing listens on the socket (left by a publisher that stopped?)".into(),
        },
        _ => Error::NoPublisher { url: url.into(), why: e.to_string() },
    }
}

/// Where the stream stands, for gap detection.
#[derive(Default, Debug)]
struct Seq {
    publisher_seq: u64,
    batch_seq: u64,
    encoder_start_ns: u64,
}

impl Seq {
    /// The gaps a batch with these numbers shows (a publisher_seq that went back is a
    /// publisher restarted without a journal: no gap).
    fn check(&mut self, s: &wire::Scan) -> Vec<Gap> {
        let mut gaps = Vec::new();
        let mut explained = 0;
        if self.publisher_seq != 0 && s.publisher_seq > self.publisher_seq + 1 {
            explained = s.publisher_seq - self.publisher_seq - 1;
            gaps.push(Gap {
                kind: GapKind::Subscriber,
                first: self.publisher_seq + 1,
                last: s.publisher_seq - 1,
                missed: explained,
            });
        }
        let restarted = self.publisher_seq != 0 && s.publisher_seq <= self.publisher_seq;
        if !restarted
            && self.batch_seq != 0
            && s.encoder_start_ns == self.encoder_start_ns
            && s.batch_seq > self.batch_seq + 1
            && s.batch_seq - self.batch_seq - 1 > explained
        {
            gaps.push(Gap {
                kind: GapKind::Pipeline,
                first: self.batch_seq + 1,
                last: s.batch_seq - 1,
                missed: s.batch_seq - self.batch_seq - 1 - explained,
            });
        }
        self.publisher_seq = s.publisher_seq;
        self.batch_seq = s.batch_seq;
        self.encoder_start_ns = s.encoder_start_ns;
        gaps
    }
}

struct Replay {
    sock: Socket,
    url: String,
    from_ns: u64,
}

/// A blocking subscriber: an iterator of [`Message`]s, with [`events`](Subscriber::events),
/// [`batches`](Subscriber::batches) and [`stats`](Subscriber::stats) for one kind.
///
/// ```no_run
/// use nerrf_client::Subscriber;
/// for ev in Subscriber::connect(nerrf_client::DEFAULT_URL)?.events() {
///     let ev = ev?;
///     println!("{} {} {}", ev.pid, ev.syscall, ev.path);
/// }
/// # Ok::<(), nerrf_client::Error>(())
/// ```
pub struct Subscriber {
    sock: Socket,
    opts: Builder,
    replay: Option<Replay>,
    /// With resume_from: the next publisher_seq to deliver, from the journal or live.
    next: u64,
    seq: Seq,
    pending: VecDeque<Result<Message, Error>>,
    dropped_batches: u64,
    dropped_events: u64,
    heard: bool,
    done: bool,
    /// When the last message was delivered (or the subscriber connected).
    since: Instant,
}

impl Subscriber {
    /// Everything at its default but the address ([`DEFAULT_URL`] for the local pipeline).
    pub fn builder(url: impl Into<String>) -> Builder {
        Builder {
            url: url.into(),
            replay_url: None,
            events: true,
            stats: false,
            recv_timeout: None,
            connect_timeout: Duration::from_secs(5),
            wait: false,
            on_gap: OnGap::Warn,
            resume_from: None,
            max_events: 131_072,
            max_message_bytes: 4 << 20,
        }
    }

    /// Subscribes to the event batches at url with the defaults.
    pub fn connect(url: impl Into<String>) -> Result<Subscriber, Error> {
        Subscriber::builder(url).connect()
    }

    /// The events of every batch, one by one.
    pub fn events(self) -> Events {
        Events { sub: self, batch: Vec::new().into_iter() }
    }

    /// The event batches, with their sequence numbers and loss counters.
    pub fn batches(self) -> impl Iterator<Item = Result<EventBatch, Error>> {
        self.filter_map(|m| match m {
            Ok(Message::Batch(b)) => Some(Ok(b)),
            Ok(Message::Stats(_)) => None,
            Err(e) => Some(Err(e)),
        })
    }

    /// The Stats, once a second.
    pub fn stats(mut self) -> impl Iterator<Item = Result<Stats, Error>> {
        self.opts.stats = true;
        self.filter_map(|m| match m {
            Ok(Message::Stats(s)) => Some(Ok(s)),
            Ok(Message::Batch(_)) => None,
            Err(e) => Some(Err(e)),
        })
    }

    /// The replay endpoint: given, or replay.sock beside an ipc:// events.sock.
    fn replay_url(o: &Builder) -> Result<String, Error> {
        match (&o.replay_url, o.url.strip_prefix("ipc://")) {
            (Some(u), _) => Ok(u.clone()),
            (None, Some(p)) if p.ends_with("/events.sock") => {
                Ok(format!("ipc://{}/replay.sock", &p[..p.len() - "/events.sock".len()]))
            }
            _ => Err(Error::Usage(format!(
                "resume_from needs the replay endpoint of {}: give it with replay_url",
                o.url
            ))),
        }
    }

    fn start_replay(&mut self, r: ResumeFrom, url: String) -> Result<(), Error> {
        let sock = Socket::req().map_err(nng_error("cannot open an nng req0 socket"))?;
        sock.set_recv_max(64 << 20).map_err(nng_error("cannot set the message size limit"))?;
        sock.set_timeout_ms(5000).map_err(nng_error("cannot set a timeout"))?;
        sock.dial(&url, false).map_err(|e| Error::Replay { url: url.clone(), why: e.to_string() })?;
        let (next, from_ns) = match r {
            ResumeFrom::Seq(s) => (s.max(1), 0),
            ResumeFrom::Time(t) => {
                let ns = t.duration_since(UNIX_EPOCH).map_or(1, |d| d.as_nanos().max(1) as u64);
                (0, ns)
            }
        };
        self.next = next;
        self.replay = Some(Replay { sock, url, from_ns });
        // Subscribed already: what is published meanwhile waits in the socket.
        self.fill(0)
    }

    /// One replay request from self.next; the messages it brought are pending. Returns
    /// whether any came, and how far the journal is written.
    fn fetch(&mut self, until: u64) -> Result<(bool, u64), Error> {
        let r = self.replay.as_ref().expect("resuming");
        let req = ReplayRequest {
            from_seq: self.next,
            from_time_ns: if self.next == 0 { r.from_ns } else { 0 },
            until_seq: until,
            max_bytes: 0,
        };
        let failed = |why: String| Error::Replay { url: r.url.clone(), why };
        r.sock.send(&req.encode_to_vec()).map_err(|e| failed(e.to_string()))?;
        let reply = r.sock.recv().map_err(|e| failed(e.to_string()))?;
        let chunk = ReplayChunk::decode(&reply[..])
            .map_err(|e| failed(format!("undecodable reply ({})", e)))?;
        if !chunk.error.is_empty() {
            return Err(failed(format!("refused: {}", chunk.error)));
        }
        if chunk.next_seq > self.next {
            self.next = chunk.next_seq;
        }
        for m in &chunk.messages {
            if let Some(body) = m.strip_prefix(TOPIC_EVENTS) {
                self.batch(body);
            }
        }
        Ok((!chunk.messages.is_empty(), chunk.last_seq))
    }

    /// Everything the journal holds from self.next up to until (0: as far as written),
    /// retrying for up to 2 s while the publisher has not yet written up to until. What is
    /// still missing then was never journaled: a gap.
    fn fill(&mut self, until: u64) -> Result<(), Error> {
        let mut tries = 0;
        while until == 0 || self.next <= until {
            let (any, written) = self.fetch(until)?;
            if any {
                continue;
            }
            tries += 1;
            if until == 0 || written >= until || tries > 200 {
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        if until != 0 && self.next <= until {
            let g = Gap { kind: GapKind::Journal, first: self.next, last: until, missed: until + 1 - self.next };
            self.next = until + 1;
            self.seq.publisher_seq = until; // said: not a slow-reader gap
            self.seq.batch_seq = 0;
            self.gap(g);
        }
        Ok(())
    }

    fn gap(&mut self, g: Gap) {
        match &mut self.opts.on_gap {
            OnGap::Warn => eprintln!("nerrf-client: warning: {}", g),
            OnGap::Error => self.pending.push_back(Err(Error::Gap(g))),
            OnGap::Callback(f) => f(&g),
            OnGap::Ignore => {}
        }
    }

    /// An EventBatch body: checked, decoded, pending.
    fn batch(&mut self, body: &[u8]) {
        let scan = match wire::scan_batch(body) {
            Some(s) => s,
            None => {
                // prost says why.
                let error = EventBatch::decode(body).err().unwrap_or_else(|| {
                    prost::DecodeError::new("malformed fields")
                });
                self.pending.push_back(Err(Error::Undecodable { what: "EventBatch", len: body.len(), error }));
                return;
            }
        };
        for g in self.seq.check(&scan) {
            self.gap(g);
        }
        if scan.events > self.opts.max_events {
            self.dropped_batches += 1;
            self.dropped_events += scan.events;
            self.pending.push_back(Err(Error::Dropped {
                publisher_seq: scan.publisher_seq,
                events: scan.events,
                max_events: self.opts.max_events,
                batches: self.dropped_batches,
                total: self.dropped_events,
            }));
            return;
        }
        self.pending.push_back(match EventBatch::decode(body) {
            Ok(b) => Ok(Message::Batch(b)),
            Err(error) => Err(Error::Undecodable { what: "EventBatch", len: body.len(), error }),
        });
    }

    /// One message from the socket, handled; Err only for what ends the subscriber.
    fn receive(&mut self) -> Result<(), Error> {
        let msg = match self.sock.recv() {
            Ok(m) => m,
            Err(e) if e.0 == nng::NNG_ETIMEDOUT => {
                if !self.heard && !self.opts.wait && self.since.elapsed() >= self.opts.connect_timeout {
                    return Err(Error::NoPublisher {
                        url: self.opts.url.clone(),
                        why: format!(
                            "connected, but nothing arrived within {:.1} s (a publisher sends \
                             stats every second): is what listens there a nerrf-publisher, \
                             and is it running (not stopped)?",
                            self.opts.connect_timeout.as_secs_f64()
                        ),
                    });
                }
                if let Some(t) = self.opts.recv_timeout {
                    if self.since.elapsed() >= t {
                        self.since = Instant::now();
                        self.pending.push_back(Err(Error::Timeout(t)));
                    }
                }
                return Ok(());
            }
            Err(e) => return Err(nng_error("receive")(e)),
        };
        self.heard = true;
        let (topic, body) = msg.split_at(msg.len().min(TOPIC_LEN));
        if topic == TOPIC_STATS {
            let st = match Stats::decode(body) {
                Ok(st) => st,
                Err(error) => {
                    self.pending.push_back(Err(Error::Undecodable { what: "Stats", len: body.len(), error }));
                    return Ok(());
                }
            };
            // A quiet stream: the stats say how far the publisher is.
            if self.replay.is_some() && self.next != 0 && st.publisher_seq >= self.next {
                self.fill(st.publisher_seq)?;
            }
            if self.opts.stats {
                self.pending.push_back(Ok(Message::Stats(st)));
            }
        } else if topic == TOPIC_EVENTS {
            if self.replay.is_some() {
                if let Some(s) = wire::scan_batch(body) {
                    // Before it, what the journal holds; what it already gave, not again.
                    if self.next != 0 && s.publisher_seq > self.next {
                        self.fill(s.publisher_seq - 1)?;
                    }
                    if s.publisher_seq < self.next {
                        return Ok(());
                    }
                    self.next = s.publisher_seq + 1;
                }
            }
            if self.opts.events {
                self.batch(body);
            }
        }
        Ok(())
    }
}

impl Iterator for Subscriber {
    type Item = Result<Message, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(m) = self.pending.pop_front() {
                self.since = Instant::now();
                return Some(m);
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.receive() {
                self.done = true;
                return Some(Err(e));
            }
        }
    }
}

/// The events of a subscriber's batches (Subscriber::events).
pub struct Events {
    sub: Subscriber,
    batch: std::vec::IntoIter<Event>,
}

impl Iterator for Events {
    type Item = Result<Event, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(ev) = self.batch.next() {
                return Some(Ok(ev));
            }
            match self.sub.next()? {
                Ok(Message::Batch(b)) => self.batch = b.events.into_iter(),
                Ok(Message::Stats(_)) => {}
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(publisher_seq: u64, batch_seq: u64) -> wire::Scan {
        wire::Scan { events: 1, batch_seq, encoder_start_ns: 7, publisher_seq }
    }

    #[test]
    fn gaps_by_publisher_seq_and_by_batch_seq() {
        let mut s = Seq::default();
        assert!(s.check(&scan(1, 1)).is_empty());
        assert!(s.check(&scan(2, 2)).is_empty());
        // Two batches this subscriber missed: batch_seq jumps as far, nothing more.
        assert_eq!(
            s.check(&scan(5, 5)),
            vec![Gap { kind: GapKind::Subscriber, first: 3, last: 4, missed: 2 }]
        );
        // batch_seq jumps where publisher_seq does not: lost before the publisher.
        assert_eq!(
            s.check(&scan(6, 8)),
            vec![Gap { kind: GapKind::Pipeline, first: 6, last: 7, missed: 2 }]
        );
        // A publisher restarted without a journal, or a new encoder run: no gap.
        assert!(s.check(&scan(1, 9)).is_empty());
        let mut other = scan(2, 1);
        other.encoder_start_ns = 8;
        assert!(s.check(&other).is_empty());
    }
}
