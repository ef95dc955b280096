// SPDX-License-Identifier: Apache-2.0
//! nerrf-subscribe: prints the nerrf event stream as JSON lines, one per event, in the dialect
//! of nerrf tail --json (docs/PROTOCOL.md, "JSON"). An example of the nerrf-client library.

use std::env;
use std::io::{self, Write};
use std::process;
use std::time::{Duration, UNIX_EPOCH};

use nerrf_client::json::{self, Fields};
use nerrf_client::{Error, Message, OnGap, ResumeFrom, Subscriber, DEFAULT_URL};

const PROG: &str = "nerrf-subscribe";

const USAGE: &str = "usage: nerrf-subscribe [--url URL] [--stats] [--count N] [--pid PID]
                       [--all-fields] [--from SEQ|@UNIX-SECONDS] [--replay-url URL]
                       [--timeout S] [--wait] [--max-events N] [--max-message-bytes N]
Prints the events nerrf-publisher sends as JSON lines (proto3 JSON, proto field names).
  --url URL    publisher address (default ipc:///run/nerrf/events.sock; tcp://host:port)
  --stats      also print the once-a-second stats, as {\"stats\": {...}} lines
  --count N    exit after printing N events
  --pid PID    only events of this process
  --all-fields also the fields at 0 or empty
  --from SEQ|@UNIX-SECONDS  first what the publisher's journal keeps from this publisher_seq
               or time, then live, without a gap or a duplicate
  --replay-url URL  the replay endpoint (default: replay.sock beside an ipc:// --url)
  --timeout S  exit (status 3) when no event arrives for S seconds
  --wait       wait for a publisher that is not there yet
  --max-events N  drop (and report) batches of more events (default 131072)
  --max-message-bytes N  largest message accepted; nng closes the connection on a larger
               one (default 4194304)
Exit status: 0 done, 1 error, 2 usage, 3 no publisher (or --timeout), 4 permission denied.";

struct Opts {
    url: String,
    stats: bool,
    count: u64,
    pid: Option<u32>,
    fields: Fields,
    from: Option<ResumeFrom>,
    replay_url: Option<String>,
    timeout: Option<Duration>,
    wait: bool,
    max_events: u64,
    max_message_bytes: usize,
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
    let mut o = Opts {
        url: DEFAULT_URL.into(),
        stats: false,
        count: 0,
        pid: None,
        fields: Fields::Set,
        from: None,
        replay_url: None,
        timeout: None,
        wait: false,
        max_events: 131_072,
        max_message_bytes: 4 << 20,
    };
    let mut args = env::args().skip(1);
    while let Some(a) = args.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| args.next());
        match flag.as_str() {
            "--url" => o.url = value().unwrap_or_else(|| usage_error("--url needs a value")),
            "--stats" => o.stats = true,
            "--count" => o.count = number("--count", value()),
            "--pid" => o.pid = Some(number("--pid", value())),
            "--all-fields" => o.fields = Fields::All,
            "--from" => {
                let v = value().unwrap_or_else(|| usage_error("--from needs a value"));
                o.from = Some(match v.strip_prefix('@') {
                    Some(secs) => ResumeFrom::Time(
                        UNIX_EPOCH + Duration::from_secs(number("--from @", Some(secs.into()))),
                    ),
                    None => ResumeFrom::Seq(number("--from", Some(v))),
                });
            }
            "--replay-url" => {
                o.replay_url =
                    Some(value().unwrap_or_else(|| usage_error("--replay-url needs a value")))
            }
            "--timeout" => o.timeout = Some(Duration::from_secs(number("--timeout", value()))),
            "--wait" => o.wait = true,
            "--max-events" => o.max_events = number("--max-events", value()),
            "--max-message-bytes" => o.max_message_bytes = number("--max-message-bytes", value()),
            "-h" | "--help" => {
                println!("{}", USAGE);
                process::exit(0);
            }
            _ => usage_error(&format!("unknown argument {}", a)),
        }
    }
    o
}

/// The exit status for an error that ends the subscriber.
fn status(e: &Error) -> i32 {
    match e {
        Error::NoSocket { .. } | Error::NoPublisher { .. } | Error::Timeout(_) => 3,
        Error::PermissionDenied { .. } => 4,
        Error::Usage(_) => 2,
        _ => 1,
    }
}

fn main() {
    let o = parse_args();
    let mut b = Subscriber::builder(o.url.clone())
        .stats(o.stats)
        .wait(o.wait)
        .max_events(o.max_events)
        .max_message_bytes(o.max_message_bytes)
        .on_gap(OnGap::Callback(Box::new(|g| eprintln!("{}: warning: {}", PROG, g))));
    if let Some(t) = o.timeout {
        b = b.recv_timeout(t);
    }
    if let Some(r) = o.from {
        b = b.resume_from(r);
    }
    if let Some(u) = &o.replay_url {
        b = b.replay_url(u.clone());
    }
    let sub = b.connect().unwrap_or_else(|e| {
        eprintln!("{}: {}", PROG, e);
        process::exit(status(&e));
    });
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut printed = 0u64;
    let mut print = |m: Message, out: &mut io::BufWriter<io::StdoutLock>| -> io::Result<bool> {
        match m {
            Message::Stats(st) => {
                out.write_all(b"{\"stats\":")?;
                json::write(&mut *out, &st, o.fields)?;
                out.write_all(b"}\n")?;
            }
            Message::Batch(b) => {
                for ev in b.events.iter().filter(|ev| o.pid.map_or(true, |p| ev.pid == p)) {
                    json::write(&mut *out, ev, o.fields)?;
                    out.write_all(b"\n")?;
                    printed += 1;
                    if printed == o.count {
                        return Ok(false);
                    }
                }
            }
        }
        // A batch's lines go out together, as soon as it has arrived.
        out.flush()?;
        Ok(true)
    };
    let mut code = 0;
    let mut sub = sub;
    for m in sub.by_ref() {
        let m = match m {
            Ok(m) => m,
            Err(e) if e.is_fatal() || matches!(e, Error::Timeout(_)) => {
                eprintln!("{}: {}", PROG, e);
                code = status(&e);
                break;
            }
            Err(e) => {
                eprintln!("{}: warning: {}", PROG, e);
                continue;
            }
        };
        match print(m, &mut out) {
            Ok(true) => continue,
            Ok(false) => break,
            // The reader went away (| head): nothing more to do.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => break,
            Err(e) => {
                eprintln!("{}: cannot write the events to stdout: {}", PROG, e);
                code = 1;
                break;
            }
        }
    }
    let _ = out.flush();
    // No nng_close(): it can hang on a busy pipe (nng 1.5.2), and exit closes the socket.
    process::exit(code);
}
