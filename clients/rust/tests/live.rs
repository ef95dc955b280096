// SPDX-License-Identifier: Apache-2.0
//! nerrf-client against a real nerrf-publisher with a journal, which
//! tests/clients/rust_cargo_test.c starts and feeds (batch s: publisher_seq s, batch_seq s,
//! two events of pid 7, comm "pubtest", ts 1700000000 + s seconds, bytes s * 1000 + i), then
//! runs `cargo test -- --include-ignored` with NERRF_LIVE_URL set. Ignored by a plain
//! `cargo test`: run them with `meson test -C build --suite rust`.

use std::env;
use std::time::{Duration, Instant, UNIX_EPOCH};

use nerrf_client::json::{self, Fields};
use nerrf_client::{Error, EventBatch, OnGap, ResumeFrom, Subscriber};

const WHY: &str = "needs a live publisher: meson test -C build --suite rust";

fn url() -> String {
    env::var("NERRF_LIVE_URL").unwrap_or_else(|_| panic!("NERRF_LIVE_URL unset: this test {}", WHY))
}

fn batches(sub: Subscriber, n: usize) -> Vec<EventBatch> {
    sub.batches().take(n).map(|b| b.unwrap_or_else(|e| panic!("{}", e))).collect()
}

#[test]
#[ignore = "needs a live publisher: meson test -C build --suite rust"]
fn live_batches_decode_and_print_as_proto3_json() {
    let sub = Subscriber::builder(url()).recv_timeout(Duration::from_secs(10)).on_gap(OnGap::Error);
    let got = batches(sub.connect().unwrap(), 20);
    for w in got.windows(2) {
        assert_eq!(w[1].publisher_seq, w[0].publisher_seq + 1, "consecutive, no gap");
    }
    for b in &got {
        assert_eq!(b.events.len(), 2);
        assert_eq!(b.batch_seq, b.publisher_seq);
        for (i, ev) in b.events.iter().enumerate() {
            assert_eq!((ev.pid, ev.comm.as_str()), (7, "pubtest"));
            assert_eq!(ev.bytes, b.batch_seq * 1000 + i as u64);
            let v: serde_json::Value = serde_json::from_str(&json::to_string(ev, Fields::Set)).unwrap();
            assert_eq!(v["bytes"], serde_json::Value::String(ev.bytes.to_string()));
            assert_eq!(v["pid"], 7);
            let ts = v["ts"].as_str().unwrap();
            assert!(ts.starts_with("2023-11-1") && ts.ends_with(["Z", ".000000001Z"][i]), "{}", ts);
            assert!(v.get("new_path").is_none(), "empty fields are left out: {}", v);
        }
    }
}

#[test]
#[ignore = "needs a live publisher: meson test -C build --suite rust"]
fn resume_from_seq_catches_up_from_the_journal_then_goes_on_live() {
    // Let the stream run ahead first, so that the catch-up has something to do.
    let first_live = batches(Subscriber::connect(url()).unwrap(), 1)[0].publisher_seq;
    assert!(first_live > 1, "the feeder started before this test");
    let sub = Subscriber::builder(url())
        .resume_from(ResumeFrom::Seq(1))
        .recv_timeout(Duration::from_secs(10))
        .on_gap(OnGap::Error);
    let want = first_live as usize + 40; // well past the hand-over
    let got = batches(sub.connect().unwrap(), want);
    for (i, b) in got.iter().enumerate() {
        assert_eq!(b.publisher_seq, i as u64 + 1, "every batch once, in order");
    }
}

#[test]
#[ignore = "needs a live publisher: meson test -C build --suite rust"]
fn resume_from_time_starts_at_the_first_batch_of_then() {
    // Batch s carries events at 1700000000 + s seconds.
    let at = UNIX_EPOCH + Duration::from_secs(1_700_000_010);
    let sub = Subscriber::builder(url()).resume_from(ResumeFrom::Time(at)).on_gap(OnGap::Error);
    let got = batches(sub.connect().unwrap(), 5);
    let seqs: Vec<u64> = got.iter().map(|b| b.publisher_seq).collect();
    assert_eq!(seqs, vec![10, 11, 12, 13, 14]);
}

#[test]
#[ignore = "needs a live publisher: meson test -C build --suite rust"]
fn recv_timeout_says_when_nothing_arrives() {
    // Stats only come, and they are not asked for: nothing is delivered.
    let mut sub = Subscriber::builder(url())
        .events(false)
        .recv_timeout(Duration::from_secs(1))
        .connect()
        .unwrap();
    let t = Instant::now();
    match sub.next() {
        Some(Err(Error::Timeout(d))) => assert_eq!(d, Duration::from_secs(1)),
        other => panic!("want a timeout, got {:?}", other.map(|r| r.map(|_| ()))),
    }
    assert!(t.elapsed() >= Duration::from_millis(900), "{:?}", t.elapsed());
    // Not fatal: the subscriber goes on.
    assert!(matches!(sub.next(), Some(Err(Error::Timeout(_)))));
}

#[test]
#[ignore = "needs a live publisher: meson test -C build --suite rust"]
fn clear_errors_for_a_missing_socket_and_no_publisher() {
    let dir = env::var("NERRF_LIVE_DIR").unwrap_or_else(|_| panic!("NERRF_LIVE_DIR unset: {}", WHY));
    let missing = format!("{}/nobody.sock", dir);
    match Subscriber::connect(format!("ipc://{}", missing)) {
        Err(e @ Error::NoSocket { .. }) => {
            let s = e.to_string();
            assert!(s.contains(&missing) && s.contains("is nerrf running?"), "{}", s);
        }
        other => panic!("want NoSocket, got {:?}", other.err()),
    }
    // A socket file nobody listens on: what a stopped publisher leaves.
    let stale = format!("{}/stale.sock", dir);
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    match Subscriber::connect(format!("ipc://{}", stale)) {
        Err(e @ Error::NoPublisher { .. }) => {
            assert!(e.to_string().contains("nothing listens"), "{}", e);
        }
        other => panic!("want NoPublisher, got {:?}", other.err()),
    }
    // resume_from with no replay endpoint to ask.
    match Subscriber::builder("tcp://127.0.0.1:9").resume_from(ResumeFrom::Seq(1)).connect() {
        Err(e @ Error::Usage(_)) => assert!(e.to_string().contains("replay_url"), "{}", e),
        other => panic!("want a usage error, got {:?}", other.err()),
    }
}
