// SPDX-License-Identifier: Apache-2.0
//! The proto3 JSON mapping with trace.proto's field names, the one JSON dialect of nerrf tail
//! --json, the Python package and this crate (docs/PROTOCOL.md, "JSON"): 64-bit integers as
//! strings, bytes in base64, Timestamps in RFC 3339, fields at their default left out unless
//! [`Fields::All`]. The messages derive `serde::Serialize` with attributes build.rs takes from
//! trace.proto's descriptors; this module holds what those attributes name, and a serde_json
//! formatter that escapes what would not show as itself on a terminal, as nerrf tail does.
//!
//! ```no_run
//! # fn show(ev: &nerrf_client::trace::Event) {
//! println!("{}", nerrf_client::json::to_string(ev, nerrf_client::json::Fields::Set));
//! # }
//! ```

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io;

use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

/// Which fields a message prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fields {
    /// Those not at their default (0, "", empty), as protobuf's printers do by default.
    Set,
    /// Every field, zeros too (nerrf tail --all-fields); an absent message stays absent.
    All,
}

thread_local! {
    static ALL_FIELDS: Cell<bool> = Cell::new(false);
}

/// The proto3 JSON of msg, one line.
pub fn to_string<T: Serialize>(msg: &T, fields: Fields) -> String {
    let mut out = Vec::with_capacity(512);
    write(&mut out, msg, fields).expect("a Vec takes every write");
    // The formatter writes UTF-8 only: serde_json's strings are valid, and escapes are ASCII.
    String::from_utf8(out).expect("JSON text is UTF-8")
}

/// Writes the proto3 JSON of msg (no newline) to w.
pub fn write<W: io::Write, T: Serialize>(w: W, msg: &T, fields: Fields) -> io::Result<()> {
    let was = ALL_FIELDS.with(|a| a.replace(fields == Fields::All));
    let mut ser = serde_json::Serializer::with_formatter(w, Terminal);
    let r = msg.serialize(&mut ser);
    ALL_FIELDS.with(|a| a.set(was));
    r.map_err(io::Error::from)
}

/// skip_serializing_if for fields without presence: at their default, unless Fields::All.
pub(crate) fn skip<T: Default + PartialEq>(v: &T) -> bool {
    !ALL_FIELDS.with(Cell::get) && *v == T::default()
}

/// skip for floats: a -0.0 is a value (no bit set is the default), as protobuf's printers
/// and nerrf tail tell.
pub(crate) fn skip_float<T: Into<f64> + Copy>(v: &T) -> bool {
    !ALL_FIELDS.with(Cell::get) && (*v).into().to_bits() == 0
}

/// serde_json's compact form, with the string escapes of nerrf tail --json: besides JSON's own
/// (quote, backslash, C0 controls), DEL, the C1 controls and the bidirectional overrides and
/// isolates go out as \uXXXX, so a name cannot reach a terminal's control sequences or show its
/// characters in another order. \n and \t keep their short forms; other C0 controls are \u00XX.
struct Terminal;

fn shows_as_itself(c: char) -> bool {
    !matches!(c, '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

impl serde_json::ser::Formatter for Terminal {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, w: &mut W, s: &str) -> io::Result<()> {
        let mut run = 0;
        for (i, c) in s.char_indices() {
            if !shows_as_itself(c) {
                w.write_all(s[run..i].as_bytes())?;
                write!(w, "\\u{:04x}", c as u32)?;
                run = i + c.len_utf8();
            }
        }
        w.write_all(s[run..].as_bytes())
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        e: serde_json::ser::CharEscape,
    ) -> io::Result<()> {
        use serde_json::ser::CharEscape::*;
        match e {
            Quote => w.write_all(b"\\\""),
            ReverseSolidus => w.write_all(b"\\\\"),
            Solidus => w.write_all(b"\\/"),
            LineFeed => w.write_all(b"\\n"),
            Tab => w.write_all(b"\\t"),
            Backspace => w.write_all(b"\\u0008"),
            FormFeed => w.write_all(b"\\u000c"),
            CarriageReturn => w.write_all(b"\\u000d"),
            AsciiControl(b) => write!(w, "\\u{:04x}", b),
        }
    }
}

/// A value whose proto3 JSON form is not serde's own.
pub trait Proto3 {
    fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
}

/// serialize_with for the fields build.rs marks (json::Proto3 types, and containers of them).
pub(crate) fn proto3<T: Proto3, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    v.ser(s)
}

/// 64-bit integers are strings: a JSON number loses precision beyond 2^53.
impl Proto3 for i64 {
    fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Proto3 for u64 {
    fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Proto JSON spells the non-finite values as strings (serde_json would write null).
fn non_finite<S: Serializer>(v: f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    })
}

/// The shortest decimal that reads back as the same float (ryu).
impl Proto3 for f32 {
    fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.is_finite() {
            s.serialize_f32(*self)
        } else {
            non_finite(f64::from(*self), s)
        }
    }
}

impl Proto3 for f64 {
    fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.is_finite() {
            s.serialize_f64(*self)
        } else {
            non_finite(*self, s)
        }
    }
}

/// Bytes are standard base64 with padding.
impl Proto3 for Vec<u8> {
    fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64(self))
    }
}

impl<T: Proto3> Proto3 for Option<T> {
    fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Some(v) => v.ser(s),
            None => s.serialize_none(),
        }
    }
}

/// Wraps a Proto3 value for serde's collection serializers.
struct P<'a, T>(&'a T);

impl<T: Proto3> Serialize for P<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.ser(s)
    }
}

impl<T: Proto3> Proto3 for Vec<T> {
    fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for v in self {
            seq.serialize_element(&P(v))?;
        }
        seq.end()
    }
}

/// A map's keys are strings in JSON whatever their proto type (serde_json quotes integers).
impl<K: Serialize, V: Proto3> Proto3 for BTreeMap<K, V> {
    fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            map.serialize_entry(k, &P(v))?;
        }
        map.end()
    }
}

/// RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits; outside years 1-9999 (which RFC 3339
/// cannot write) the raw seconds and nanos, so nothing is lost.
impl Proto3 for prost_types::Timestamp {
    fn ser<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match rfc3339(self) {
            Some(t) => s.serialize_str(&t),
            None => {
                let all = ALL_FIELDS.with(Cell::get);
                let mut st = s.serialize_struct("Timestamp", 2)?;
                if all || self.seconds != 0 {
                    st.serialize_field("seconds", &P(&self.seconds))?;
                }
                if all || self.nanos != 0 {
                    st.serialize_field("nanos", &self.nanos)?;
                }
                st.end()
            }
        }
    }
}

/// What an enum field holds (i32, repeated, optional, map values), by its values' names.
pub(crate) trait EnumValues {
    fn names<S: Serializer>(&self, name: fn(i32) -> Option<&'static str>, s: S)
        -> Result<S::Ok, S::Error>;
}

/// A value this build does not know goes out as its number, as protobuf's printers do.
struct E(i32, fn(i32) -> Option<&'static str>);

impl Serialize for E {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self.1)(self.0) {
            Some(n) => s.serialize_str(n),
            None => s.serialize_i32(self.0),
        }
    }
}

impl EnumValues for i32 {
    fn names<S: Serializer>(&self, name: fn(i32) -> Option<&'static str>, s: S)
        -> Result<S::Ok, S::Error> {
        E(*self, name).serialize(s)
    }
}

impl EnumValues for Option<i32> {
    fn names<S: Serializer>(&self, name: fn(i32) -> Option<&'static str>, s: S)
        -> Result<S::Ok, S::Error> {
        self.map(|v| E(v, name)).serialize(s)
    }
}

impl EnumValues for Vec<i32> {
    fn names<S: Serializer>(&self, name: fn(i32) -> Option<&'static str>, s: S)
        -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(|v| E(*v, name)))
    }
}

impl<K: Serialize> EnumValues for BTreeMap<K, i32> {
    fn names<S: Serializer>(&self, name: fn(i32) -> Option<&'static str>, s: S)
        -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter().map(|(k, v)| (k, E(*v, name))))
    }
}

// enum_N: one per enum type of trace.proto, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/json_enums.rs"));

/// Year, month, day of a day count since 1970-01-01 (proleptic Gregorian calendar).
fn civil_date(days: i64) -> (i64, u32, u32) {
    // Count from 0000-03-01 so that leap days end each 4-, 100- and 400-year cycle.
    let d = days + 719_468;
    let era = d.div_euclid(146_097);
    let doe = d.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = era * 400 + yoe + i64::from(month <= 2);
    (year, month, day)
}

/// ts in RFC 3339 (UTC), or None outside years 1-9999.
pub fn rfc3339(ts: &prost_types::Timestamp) -> Option<String> {
    let secs = i128::from(ts.seconds) + i128::from(ts.nanos).div_euclid(1_000_000_000);
    let nanos = i64::from(ts.nanos).rem_euclid(1_000_000_000);
    if !(-62_135_596_800..=253_402_300_799).contains(&secs) {
        return None;
    }
    let (year, month, day) = civil_date((secs.div_euclid(86_400)) as i64);
    let sod = secs.rem_euclid(86_400);
    let frac = match nanos {
        0 => String::new(),
        n if n % 1_000_000 == 0 => format!(".{:03}", n / 1_000_000),
        n if n % 1_000 == 0 => format!(".{:06}", n / 1_000),
        n => format!(".{:09}", n),
    };
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}Z",
        year,
        month,
        day,
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        frac
    ))
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity((data.len() + 2) / 3 * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Event, LossCounters, Stats};

    fn ts(seconds: i64, nanos: i32) -> Option<String> {
        rfc3339(&prost_types::Timestamp { seconds, nanos })
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(ts(0, 0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(ts(1_700_000_002, 1).unwrap(), "2023-11-14T22:13:22.000000001Z");
        assert_eq!(ts(951_782_400, 5_000_000).unwrap(), "2000-02-29T00:00:00.005Z");
        assert_eq!(ts(-1, 123_000).unwrap(), "1969-12-31T23:59:59.000123Z");
        assert_eq!(ts(253_402_300_799, 0).unwrap(), "9999-12-31T23:59:59Z");
        assert_eq!(ts(-62_135_596_800, 0).unwrap(), "0001-01-01T00:00:00Z");
        assert_eq!(ts(253_402_300_800, 7), None);
    }

    #[test]
    fn bytes_are_padded_base64() {
        assert_eq!(base64(b"M"), "TQ==");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"Man"), "TWFu");
    }

    /// Byte for byte what nerrf tail --json prints for the same event (clients/print.c).
    #[test]
    fn event_as_nerrf_tail_prints_it() {
        let ev = Event {
            ts: Some(prost_types::Timestamp { seconds: 1_700_000_003, nanos: 5_000_000 }),
            pid: 4242,
            comm: "ev\u{1b}[31mil".into(),
            path: "/a\"b\\c\u{e9}\r\u{7f}\u{9b}\u{202e}".into(),
            ret_val: -2,
            bytes: 1 << 40,
            fd: -100,
            argv: vec!["sh".into(), "-c".into(), "echo\t1".into()],
            write_entropy: 7.9,
            sample: b"Man".to_vec(),
            ..Default::default()
        };
        assert_eq!(
            to_string(&ev, Fields::Set),
            "{\"ts\":\"2023-11-14T22:13:23.005Z\",\"pid\":4242,\"comm\":\"ev\\u001b[31mil\",\
             \"path\":\"/a\\\"b\\\\c\u{e9}\\u000d\\u007f\\u009b\\u202e\",\"ret_val\":\"-2\",\
             \"bytes\":\"1099511627776\",\"fd\":-100,\"argv\":[\"sh\",\"-c\",\"echo\\t1\"],\
             \"write_entropy\":7.9,\"sample\":\"TWFu\"}"
        );
        let all = to_string(&Event::default(), Fields::All);
        assert!(all.starts_with("{\"pid\":0,\"tid\":0,\"comm\":\"\","), "{}", all);
        assert!(all.contains("\"ret_val\":\"0\",") && all.contains("\"argv_bytes\":[],"), "{}", all);
        assert!(!all.contains("\"ts\""), "an absent message stays absent: {}", all);
        let neg = Event { write_entropy: -0.0, ..Default::default() };
        assert_eq!(to_string(&neg, Fields::Set), "{\"write_entropy\":-0.0}", "a value, not the default");
    }

    #[test]
    fn stats_maps_and_doubles() {
        let mut loss = LossCounters::default();
        loss.kernel_lost_by_cpu.insert(3, 9);
        loss.kernel_lost_by_syscall.insert("write".into(), 0);
        let st = Stats {
            loss: Some(loss),
            events_per_sec: 5.0,
            batches_per_sec: f64::NAN,
            ring1_used: u64::MAX,
            ts: Some(prost_types::Timestamp { seconds: 253_402_300_800, nanos: 0 }),
            ..Default::default()
        };
        assert_eq!(
            to_string(&st, Fields::Set),
            "{\"ts\":{\"seconds\":\"253402300800\"},\"loss\":{\"kernel_lost_by_cpu\":{\"3\":\"9\"},\
             \"kernel_lost_by_syscall\":{\"write\":\"0\"}},\"events_per_sec\":5.0,\
             \"batches_per_sec\":\"NaN\",\"ring1_used\":\"18446744073709551615\"}"
        );
    }
}
