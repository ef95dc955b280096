// SPDX-License-Identifier: Apache-2.0
//! nerrf-subscribe: prints the nerrf event stream as JSON lines, one per event.
//! Framing and sequence numbers: docs/PROTOCOL.md.

use std::env;
use std::io::{self, Write};
use std::process;

use prost::Message;

mod json;
mod nng;

#[allow(clippy::all)]
mod trace {
    include!(concat!(env!("OUT_DIR"), "/nerrf.trace.rs"));
}

const PROG: &str = "nerrf-subscribe";
const DEFAULT_URL: &str = "ipc:///run/nerrf/events.sock";
const TOPIC_EVENTS: &[u8] = b"EVB1";
const TOPIC_STATS: &[u8] = b"STS1";

const USAGE: &str = "usage: nerrf-subscribe [--url URL] [--stats] [--count N] [--pid PID]
Prints the events nerrf-publisher sends as JSON lines (proto field names).
  --url URL    publisher address (default ipc:///run/nerrf/events.sock; tcp://host:port)
  --stats      also print the once-a-second stats, as {\"stats\": {...}} lines
  --count N    exit after printing N events
  --pid PID    only events of this process";

struct Opts {
    url: String,
    stats: bool,
    count: u64,
    pid: Option<u32>,
}

fn usage_error(msg: &str) -> ! {
    eprintln!("{}: {}\n{}", PROG, msg, USAGE);
    process::exit(2);
}

fn number<T: std::str::FromStr>(flag: &str, v: Option<String>) -> T {
    let v = v.unwrap_or_else(|| usage_error(&format!("{} needs a value", flag)));
    v.parse()
        .unwrap_or_else(|_| usage_error(&format!("{} {}: not a non-negative integer", flag, v)))
}

fn parse_args() -> Opts {
    let mut o = Opts { url: DEFAULT_URL.into(), stats: false, count: 0, pid: None };
    let mut args = env::args().skip(1);
    while let Some(a) = args.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next());
        match flag.as_str() {
            "--url" => {
                o.url = value().unwrap_or_else(|| usage_error("--url needs a value"));
            }
            "--stats" => o.stats = true,
            "--count" => o.count = number("--count", value()),
            "--pid" => o.pid = Some(number("--pid", value())),
            "-h" | "--help" => {
                println!("{}", USAGE);
                process::exit(0);
            }
            _ => usage_error(&format!("unknown argument {}", a)),
        }
    }
    o
}

fn subscribe(o: &Opts) -> nng::SubSocket {
    let setup = || -> Result<nng::SubSocket, (&str, nng::Error)> {
        let s = nng::SubSocket::open().map_err(|e| ("cannot open an nng sub0 socket", e))?;
        s.subscribe(TOPIC_EVENTS).map_err(|e| ("cannot subscribe", e))?;
        if o.stats {
            s.subscribe(TOPIC_STATS).map_err(|e| ("cannot subscribe", e))?;
        }
        // The encoder bounds a batch's size; accept whatever it chose.
        s.set_recv_max(0).map_err(|e| ("cannot lift the message size limit", e))?;
        s.set_reconnect_ms(50, 1000).map_err(|e| ("cannot set the redial interval", e))?;
        Ok(s)
    };
    let s = setup().unwrap_or_else(|(what, e)| {
        eprintln!("{}: {}: {}; is libnng1 installed and working?", PROG, what, e);
        process::exit(1);
    });
    if let Err(e) = s.dial(&o.url) {
        eprintln!(
            "{}: cannot dial {}: {}: is nerrf-publisher running? check the URL \
             (--url ipc:///path or tcp://host:port)",
            PROG, o.url, e
        );
        process::exit(1);
    }
    s
}

/// Where the stream stands: events printed, and the last publisher_seq seen.
#[derive(Default)]
struct Progress {
    printed: u64,
    last_seq: u64,
}

impl Progress {
    /// Tells the reader on stderr what publisher_seq says this subscriber missed.
    fn check_gap(&mut self, seq: u64) {
        let last = self.last_seq;
        if last != 0 && seq > last + 1 {
            eprintln!(
                "{}: warning: missed {} batches (publisher_seq {} to {}): this subscriber read \
                 too slowly; read faster, or raise nerrf-publisher --sendbuf",
                PROG,
                seq - last - 1,
                last + 1,
                seq - 1
            );
        } else if last != 0 && seq <= last {
            eprintln!("{}: note: the publisher restarted (publisher_seq {} after {})", PROG, seq,
                      last);
        }
        self.last_seq = seq;
    }

    /// Prints what msg holds; Ok(false) once --count events are out.
    fn handle(&mut self, o: &Opts, msg: &[u8], out: &mut impl Write) -> io::Result<bool> {
        if msg.len() < TOPIC_EVENTS.len() {
            eprintln!("{}: warning: skipped a {}-byte message, shorter than a topic", PROG,
                      msg.len());
            return Ok(true);
        }
        let (topic, body) = msg.split_at(TOPIC_EVENTS.len());
        if topic == TOPIC_STATS {
            match trace::Stats::decode(body) {
                Ok(st) => writeln!(out, "{}", json::stats(&st))?,
                Err(e) => undecodable("Stats", body.len(), &e),
            }
        } else if topic == TOPIC_EVENTS {
            let batch = match trace::EventBatch::decode(body) {
                Ok(b) => b,
                Err(e) => {
                    undecodable("EventBatch", body.len(), &e);
                    return Ok(true);
                }
            };
            self.check_gap(batch.publisher_seq);
            for ev in batch.events.iter().filter(|ev| o.pid.map_or(true, |p| ev.pid == p)) {
                writeln!(out, "{}", json::event(ev))?;
                self.printed += 1;
                if self.printed == o.count {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }
}

fn undecodable(what: &str, len: usize, e: &prost::DecodeError) {
    eprintln!(
        "{}: warning: skipped a {}-byte {} that does not decode ({}): build this client from \
         the proto/trace.proto the publisher was built from",
        PROG, len, what, e
    );
}

fn main() {
    let o = parse_args();
    let sock = subscribe(&o);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut progress = Progress::default();
    let status = loop {
        let msg = match sock.recv() {
            Ok(m) => m,
            Err(e) => {
                eprintln!("{}: receive from {}: {}", PROG, o.url, e);
                break 1;
            }
        };
        // A batch's lines go out together, as soon as it has arrived.
        match progress.handle(&o, &msg, &mut out).and_then(|more| {
            out.flush()?;
            Ok(more)
        }) {
            Ok(true) => continue,
            Ok(false) => break 0,
            // The reader went away (| head): nothing more to do.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => break 0,
            Err(e) => {
                eprintln!("{}: cannot write the events to stdout: {}", PROG, e);
                break 1;
            }
        }
    };
    // No nng_close(): it can hang on a busy pipe (nng 1.5.2), and exit closes the socket.
    std::mem::forget(sock);
    process::exit(status);
}
