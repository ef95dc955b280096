// SPDX-License-Identifier: Apache-2.0
//! Proto3 JSON for Event and Stats, in the form the Python example prints (MessageToDict with
//! the proto field names, then json.dumps): fields in field-number order, defaults left out,
//! 64-bit integers as strings, bytes in base64, timestamps in RFC 3339, ASCII only.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::trace::{Event, LossCounters, Stats};

/// One JSON object under construction.
struct Obj {
    out: String,
}

impl Obj {
    fn new() -> Obj {
        Obj { out: String::from("{") }
    }

    fn key(&mut self, k: &str) {
        if self.out.len() > 1 {
            self.out.push_str(", ");
        }
        quote(&mut self.out, k);
        self.out.push_str(": ");
    }

    fn raw(&mut self, k: &str, json: &str) {
        self.key(k);
        self.out.push_str(json);
    }

    fn str(&mut self, k: &str, v: &str) {
        if !v.is_empty() {
            self.key(k);
            quote(&mut self.out, v);
        }
    }

    /// 32-bit integers are JSON numbers.
    fn int<T: Into<i64>>(&mut self, k: &str, v: T) {
        let v = v.into();
        if v != 0 {
            self.key(k);
            let _ = write!(self.out, "{}", v);
        }
    }

    /// 64-bit integers are strings: a JSON number loses precision beyond 2^53.
    fn int64<T: Into<i128>>(&mut self, k: &str, v: T) {
        let v = v.into();
        if v != 0 {
            self.key(k);
            let _ = write!(self.out, "\"{}\"", v);
        }
    }

    fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

/// A JSON string literal; everything outside printable ASCII is escaped, as json.dumps does.
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{:04x}", u);
                }
            }
        }
    }
    out.push('"');
}

/// A float as Python's repr() writes it: the shortest digits that read back to the same value,
/// in positional form with ".0" when integral, or in exponent form beyond 1e16 or below 1e-4.
/// `sci` is Rust's shortest scientific form of the value ("1.5e20", "-3e-7").
fn py_float(sci: &str) -> String {
    let (mant, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::from(if mant.starts_with('-') { "-" } else { "" });
    if !(-4..16).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    } else if exp < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat('0').take((-exp - 1) as usize));
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.extend(std::iter::repeat('0').take(int_len - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// Proto JSON spells the non-finite values as strings.
fn non_finite(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("\"NaN\"")
    } else if v.is_infinite() {
        Some(if v > 0.0 { "\"Infinity\"" } else { "\"-Infinity\"" })
    } else {
        None
    }
}

fn float(v: f32) -> String {
    non_finite(v.into()).map_or_else(|| py_float(&format!("{:e}", v)), String::from)
}

fn double(v: f64) -> String {
    non_finite(v).map_or_else(|| py_float(&format!("{:e}", v)), String::from)
}

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

/// RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits; outside years 1-9999 (which RFC 3339
/// cannot write) the raw seconds and nanos, so nothing is lost.
fn timestamp(ts: &prost_types::Timestamp) -> String {
    let secs = i128::from(ts.seconds) + i128::from(ts.nanos).div_euclid(1_000_000_000);
    let nanos = i64::from(ts.nanos).rem_euclid(1_000_000_000);
    let (year, month, day) = civil_date((secs.div_euclid(86_400)) as i64);
    if !(1..=9999).contains(&year) {
        let mut o = Obj::new();
        o.int64("seconds", ts.seconds);
        o.int("nanos", ts.nanos);
        return o.finish();
    }
    let sod = secs.rem_euclid(86_400);
    let mut s = format!(
        "\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        year,
        month,
        day,
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    let _ = match nanos {
        0 => Ok(()),
        n if n % 1_000_000 == 0 => write!(s, ".{:03}", n / 1_000_000),
        n if n % 1_000 == 0 => write!(s, ".{:06}", n / 1_000),
        n => write!(s, ".{:09}", n),
    };
    s.push_str("Z\"");
    s
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity((data.len() + 2) / 3 * 4 + 2);
    out.push('"');
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
    out.push('"');
    out
}

pub fn event(ev: &Event) -> String {
    let mut o = Obj::new();
    if let Some(ts) = &ev.ts {
        o.raw("ts", &timestamp(ts));
    }
    o.int("pid", ev.pid);
    o.int("tid", ev.tid);
    o.str("comm", &ev.comm);
    o.str("syscall", &ev.syscall);
    o.str("path", &ev.path);
    o.str("new_path", &ev.new_path);
    o.int64("ret_val", ev.ret_val);
    o.int64("bytes", ev.bytes);
    o.int("flags", ev.flags);
    o.int("ppid", ev.ppid);
    o.int("uid", ev.uid);
    o.int("gid", ev.gid);
    o.int("mode", ev.mode);
    o.int64("offset", ev.offset);
    o.int64("inode", ev.inode);
    o.int("dev", ev.dev);
    o.int64("cgroup_id", ev.cgroup_id);
    o.str("container_id", &ev.container_id);
    o.int("mnt_ns", ev.mnt_ns);
    o.int("fd", ev.fd);
    o.int64("seq", ev.seq);
    o.int("cpu", ev.cpu);
    o.int64("mono_ns", ev.mono_ns);
    o.str("raw_path", &ev.raw_path);
    o.int64("arg_flags", ev.arg_flags);
    o.str("xattr_name", &ev.xattr_name);
    if !ev.argv.is_empty() {
        let mut list = String::from("[");
        for (i, a) in ev.argv.iter().enumerate() {
            if i > 0 {
                list.push_str(", ");
            }
            quote(&mut list, a);
        }
        list.push(']');
        o.raw("argv", &list);
    }
    // proto3 treats only +0.0 as unset.
    if ev.write_entropy.to_bits() != 0 {
        o.raw("write_entropy", &float(ev.write_entropy));
    }
    o.int("sample_len", ev.sample_len);
    if !ev.sample.is_empty() {
        o.raw("sample", &base64(&ev.sample));
    }
    o.int("trunc_flags", ev.trunc_flags);
    o.finish()
}

/// A map's keys are strings in JSON, whatever their proto type.
fn counter_map<K: ToString>(m: &BTreeMap<K, u64>) -> String {
    let mut o = Obj::new();
    for (k, v) in m {
        o.raw(&k.to_string(), &format!("\"{}\"", v));
    }
    o.finish()
}

fn loss(l: &LossCounters) -> String {
    let mut o = Obj::new();
    o.int64("kernel_emitted", l.kernel_emitted);
    o.int64("kernel_lost", l.kernel_lost);
    o.int64("kernel_filtered", l.kernel_filtered);
    o.int64("ring1_dropped", l.ring1_dropped);
    o.int64("malformed", l.malformed);
    o.int64("ring1_corrupt_resets", l.ring1_corrupt_resets);
    o.int64("ring1_corrupt_bytes", l.ring1_corrupt_bytes);
    o.int64("encoder_events", l.encoder_events);
    o.int64("seq_gaps", l.seq_gaps);
    o.int64("ring2_dropped", l.ring2_dropped);
    o.int64("publish_errors", l.publish_errors);
    o.int64("publisher_batches", l.publisher_batches);
    if !l.kernel_lost_by_cpu.is_empty() {
        o.raw("kernel_lost_by_cpu", &counter_map(&l.kernel_lost_by_cpu));
    }
    if !l.kernel_lost_by_syscall.is_empty() {
        o.raw("kernel_lost_by_syscall", &counter_map(&l.kernel_lost_by_syscall));
    }
    o.finish()
}

/// {"stats": {...}}, telling stats lines from event lines.
pub fn stats(st: &Stats) -> String {
    let mut o = Obj::new();
    if let Some(ts) = &st.ts {
        o.raw("ts", &timestamp(ts));
    }
    o.str("hostname", &st.hostname);
    o.str("boot_id", &st.boot_id);
    if let Some(l) = &st.loss {
        o.raw("loss", &loss(l));
    }
    if st.events_per_sec.to_bits() != 0 {
        o.raw("events_per_sec", &double(st.events_per_sec));
    }
    if st.batches_per_sec.to_bits() != 0 {
        o.raw("batches_per_sec", &double(st.batches_per_sec));
    }
    o.int64("ring1_used", st.ring1_used);
    o.int64("ring1_capacity", st.ring1_capacity);
    o.int64("ring2_used", st.ring2_used);
    o.int64("ring2_capacity", st.ring2_capacity);
    o.int("subscribers", st.subscribers);
    o.int64("publisher_seq", st.publisher_seq);
    o.str("stage_state", &st.stage_state);
    let mut wrap = Obj::new();
    wrap.raw("stats", &o.finish());
    wrap.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_like_python_repr() {
        assert_eq!(double(0.5), "0.5");
        assert_eq!(double(5.0), "5.0");
        assert_eq!(double(1e16), "1e+16");
        assert_eq!(double(123456789012345.6), "123456789012345.6");
        assert_eq!(double(0.0001), "0.0001");
        assert_eq!(double(0.00001234), "1.234e-05");
        assert_eq!(double(-2.5e-300), "-2.5e-300");
        assert_eq!(float(7.9), "7.9");
        assert_eq!(double(f64::NAN), "\"NaN\"");
        assert_eq!(double(f64::NEG_INFINITY), "\"-Infinity\"");
    }

    #[test]
    fn timestamps_are_rfc3339() {
        let ts = |seconds, nanos| timestamp(&prost_types::Timestamp { seconds, nanos });
        assert_eq!(ts(0, 0), "\"1970-01-01T00:00:00Z\"");
        assert_eq!(ts(1_700_000_002, 1), "\"2023-11-14T22:13:22.000000001Z\"");
        assert_eq!(ts(951_782_400, 5_000_000), "\"2000-02-29T00:00:00.005Z\"");
        assert_eq!(ts(-1, 123_000), "\"1969-12-31T23:59:59.000123Z\"");
        assert_eq!(ts(253_402_300_799, 0), "\"9999-12-31T23:59:59Z\"");
        assert_eq!(ts(253_402_300_800, 7), "{\"seconds\": \"253402300800\", \"nanos\": 7}");
    }

    #[test]
    fn strings_escape_like_json_dumps() {
        let mut s = String::new();
        quote(&mut s, "a\"\\\n\u{1}\u{7f}é😀");
        assert_eq!(s, "\"a\\\"\\\\\\n\\u0001\\u007f\\u00e9\\ud83d\\ude00\"");
    }

    #[test]
    fn bytes_are_padded_base64() {
        assert_eq!(base64(b"M"), "\"TQ==\"");
        assert_eq!(base64(b"Ma"), "\"TWE=\"");
        assert_eq!(base64(b"Man"), "\"TWFu\"");
    }
}
