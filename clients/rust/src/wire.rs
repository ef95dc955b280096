// SPDX-License-Identifier: Apache-2.0
//! A look at an EventBatch's top-level fields before decoding it: decoding allocates an Event
//! for every field 1, about 150 times the two bytes an empty one takes on the wire.

/// What the walk found: occurrences of field 1 (Event), and the sequence numbers (fields 2
/// batch_seq, 6 encoder_start_ns, 7 publisher_seq), the last of each as a decoder takes it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scan {
    pub events: u64,
    pub batch_seq: u64,
    pub encoder_start_ns: u64,
    pub publisher_seq: u64,
}

/// The varint at the start of b and the bytes it took; None if it does not end in 10 bytes.
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x = 0u64;
    for (i, &c) in b.iter().take(10).enumerate() {
        x |= u64::from(c & 0x7f) << (7 * i);
        if c < 0x80 {
            return Some((x, i + 1));
        }
    }
    None
}

/// None when body is not a well-formed sequence of protobuf fields (a varint that does not
/// end, a length past the end, a group or unknown wire type, field 0).
pub fn scan_batch(body: &[u8]) -> Option<Scan> {
    let mut s = Scan::default();
    let mut rest = body;
    while !rest.is_empty() {
        let (key, n) = varint(rest)?;
        rest = &rest[n..];
        let field = key >> 3;
        if field == 0 {
            return None;
        }
        let skip = match key & 7 {
            0 => {
                let (v, n) = varint(rest)?;
                match field {
                    2 => s.batch_seq = v,
                    6 => s.encoder_start_ns = v,
                    7 => s.publisher_seq = v,
                    _ => {}
                }
                n
            }
            1 => 8,
            2 => {
                let (len, n) = varint(rest)?;
                usize::try_from(len).ok()?.checked_add(n)?
            }
            5 => 4,
            _ => return None,
        };
        rest = rest.get(skip..)?;
        if field == 1 {
            s.events += 1;
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_events_and_reads_publisher_seq() {
        let mut b = b"\x0a\x00".repeat(3);
        b.extend_from_slice(b"\x10\x05\x1a\x02hi\x38\x96\x01");
        b.extend_from_slice(b"\x30\x2a\x10\x06");
        let want = Scan { events: 3, batch_seq: 6, encoder_start_ns: 42, publisher_seq: 150 };
        assert_eq!(scan_batch(&b), Some(want));
        assert_eq!(scan_batch(b""), Some(Scan::default()));
    }

    #[test]
    fn rejects_what_does_not_parse() {
        assert_eq!(scan_batch(b"\x0a\x05abc"), None); // length past the end
        assert_eq!(scan_batch(b"\x38\xff"), None); // varint cut short
        assert_eq!(scan_batch(b"\x38\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), None);
        assert_eq!(scan_batch(b"\x0b\x00"), None); // group
        assert_eq!(scan_batch(b"\x00\x00"), None); // field 0
        assert_eq!(scan_batch(b"\x09\x00"), None); // 64-bit cut short
        assert_eq!(scan_batch(b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f"), None);
    }
}
