// SPDX-License-Identifier: Apache-2.0
//! nerrf-client: subscribe to a nerrf-tracker pipeline from Rust.
//!
//! nerrf-publisher sends `EventBatch`es (every file and process event the kernel saw, with the
//! pipeline's loss counters) and once-a-second `Stats` over nng pub/sub (docs/PROTOCOL.md).
//! [`Subscriber`] is a blocking iterator of those messages, decoded with prost into the types of
//! [`trace`] (generated from proto/trace.proto at build time). It
//!
//! - bounds what a publisher can make it allocate (`max_message_bytes`, `max_events`),
//! - watches `publisher_seq` and `batch_seq` and reports gaps as a warning, an `Err` or a call
//!   ([`OnGap`]),
//! - says why it cannot connect ([`Error::NoSocket`], [`Error::PermissionDenied`],
//!   [`Error::NoPublisher`]) and, if asked, when nothing arrives ([`Error::Timeout`]),
//! - with [`Builder::resume_from`], catches up from the publisher's journal and goes on live
//!   without a gap or a duplicate.
//!
//! [`json`] prints any message in the proto3 JSON that `nerrf tail --json` and the Python
//! package print.
//!
//! ```no_run
//! use nerrf_client::{Subscriber, DEFAULT_URL};
//! for ev in Subscriber::connect(DEFAULT_URL)?.events() {
//!     let ev = ev?;
//!     if ev.syscall == "renameat2" {
//!         println!("{} renamed {} to {}", ev.pid, ev.path, ev.new_path);
//!     }
//! }
//! # Ok::<(), nerrf_client::Error>(())
//! ```

pub mod json;
mod nng;
mod subscriber;
mod wire;

/// The wire types of proto/trace.proto (`package nerrf.trace`), as prost generates them.
#[allow(clippy::all)]
pub mod trace {
    include!(concat!(env!("OUT_DIR"), "/nerrf.trace.rs"));
}

pub use subscriber::{
    Builder, Error, Events, Gap, GapKind, Message, OnGap, ResumeFrom, Subscriber, DEFAULT_URL,
};
pub use trace::{Event, EventBatch, Stats};
