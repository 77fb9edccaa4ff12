//! The fast path: one flow record read straight from its bytes into the few values the folded
//! answers use, with every other field checked as the general reader checks it.
//!
//! A line is taken only when the general reader would read it the same way and without an issue:
//! ASCII, one space between fields, the format's field count, numbers that fit their columns,
//! addresses in their canonical IPv4 text (so that the integer and the text are the same group).
//! Anything else (IPv6, a `-` address, tabs, a bad line) is declined and goes to the general reader.

use crate::flow_format::{FieldKind, FlowFormat, FIELDS};

/// What the scanner does with one position of a format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// A text field no answer reads: checked to be ASCII without tabs, then skipped.
    Text,
    /// A numeric field no answer reads: checked to be a number that fits, or `-`.
    Number {
        limit: u64,
    },
    Src,
    Dst,
    Packets,
    Bytes,
    Start,
    End,
    DstPort,
    TcpFlags,
    Action,
    LogStatus,
}

const INT32_LIMIT: u64 = i32::MAX as u64;
const INT64_LIMIT: u64 = i64::MAX as u64;

/// Where the values the folded answers read sit in one format.
#[derive(Debug, Clone)]
pub(crate) struct RecordLayout {
    slots: Vec<Slot>,
}

impl RecordLayout {
    /// Where the answers' fields sit in `format`; `None` when it lacks one or names one twice
    /// (the general reader then reads its records).
    pub(crate) fn of(format: &FlowFormat) -> Option<RecordLayout> {
        let slots: Vec<Slot> = format
            .positions
            .iter()
            .map(|position| {
                let Some(field) = position.and_then(|f| FIELDS.get(f)) else {
                    return Slot::Text;
                };
                match field.name {
                    "srcaddr" => Slot::Src,
                    "dstaddr" => Slot::Dst,
                    "packets" => Slot::Packets,
                    "bytes" => Slot::Bytes,
                    "start" => Slot::Start,
                    "end" => Slot::End,
                    "dstport" => Slot::DstPort,
                    "tcp-flags" => Slot::TcpFlags,
                    "action" => Slot::Action,
                    "log-status" => Slot::LogStatus,
                    _ => match field.kind {
                        FieldKind::Int32 => Slot::Number { limit: INT32_LIMIT },
                        FieldKind::Int64 => Slot::Number { limit: INT64_LIMIT },
                        FieldKind::Text => Slot::Text,
                    },
                }
            })
            .collect();
        let needed = [
            Slot::Src,
            Slot::Dst,
            Slot::Packets,
            Slot::Bytes,
            Slot::Start,
            Slot::End,
            Slot::DstPort,
            Slot::Action,
            Slot::LogStatus,
        ];
        let count = |slot: Slot| slots.iter().filter(|s| **s == slot).count();
        let usable = needed.into_iter().all(|slot| count(slot) == 1) && count(Slot::TcpFlags) <= 1;
        usable.then_some(RecordLayout { slots })
    }
}

/// The values of one record the folded answers read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FastRecord {
    pub src: u32,
    pub dst: u32,
    pub packets: Option<i64>,
    pub bytes: Option<i64>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub dstport: Option<i64>,
    pub tcp_flags: Option<i64>,
    /// `log-status` is `OK`.
    pub ok: bool,
    /// `action` is `REJECT`.
    pub rejected: bool,
}

/// A number field from `at` to the next space (or the line's end): `Some(None)` for `-`, `None`
/// for anything the general reader would not read as a number that fits `limit`. Moves `at` past
/// the field.
#[inline(always)]
fn number(line: &[u8], at: &mut usize, limit: u64) -> Option<Option<i64>> {
    let start = *at;
    let mut i = start;
    let mut value: u64 = 0;
    while let Some(&b) = line.get(i) {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
        i += 1;
    }
    let digits = i - start;
    if digits == 0 {
        if line.get(i) == Some(&b'-') && matches!(line.get(i + 1), None | Some(&b' ')) {
            *at = i + 1;
            return Some(None);
        }
        return None;
    }
    if digits > 19 || value > limit || !matches!(line.get(i), None | Some(&b' ')) {
        return None;
    }
    *at = i;
    // At most i64::MAX: every limit is.
    Some(Some(value as i64))
}

/// A text field from `at` to the next space (or the line's end); `None` when it is empty or
/// holds a byte the fast path leaves to the general reader (tab, carriage return, non-ASCII).
/// Moves `at` past the field.
#[inline(always)]
fn text<'a>(line: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let start = *at;
    let mut i = start;
    while let Some(&b) = line.get(i) {
        if b == b' ' {
            break;
        }
        if b == b'\t' || b == b'\r' || b >= 0x80 {
            return None;
        }
        i += 1;
    }
    if i == start {
        return None;
    }
    *at = i;
    line.get(start..i)
}

/// An IPv4 address field in canonical text (no leading zeros, each part at most 255) from `at`.
/// Moves `at` past the field.
#[inline(always)]
fn ipv4(line: &[u8], at: &mut usize) -> Option<u32> {
    let mut i = *at;
    let mut address: u32 = 0;
    for part in 0..4 {
        if part > 0 {
            if line.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let first = line.get(i)?.wrapping_sub(b'0');
        if first > 9 {
            return None;
        }
        i += 1;
        let mut value = u32::from(first);
        // A leading zero is only the part "0".
        if first != 0 {
            for _ in 0..2 {
                match line.get(i).map(|b| b.wrapping_sub(b'0')) {
                    Some(d) if d <= 9 => {
                        value = value * 10 + u32::from(d);
                        i += 1;
                    }
                    _ => break,
                }
            }
        }
        if value > 255 {
            return None;
        }
        address = (address << 8) | value;
    }
    if !matches!(line.get(i), None | Some(&b' ')) {
        return None;
    }
    *at = i;
    Some(address)
}

/// Text that is an IPv4 address in canonical form, as its integer.
pub(crate) fn canonical_ipv4(text: &[u8]) -> Option<u32> {
    let mut at = 0;
    ipv4(text, &mut at).filter(|_| at == text.len())
}

/// A CloudWatch Logs export line starts with the event's ISO time; the general reader strips it.
fn has_export_timestamp(line: &[u8]) -> bool {
    line.len() > 20 && line[4] == b'-' && line[7] == b'-' && line[10] == b'T' && line[0].is_ascii_digit()
}

/// Read one line (without its newline) into `record`; `false` declines it. Kept out of line: its
/// loop is tight only with the registers to itself.
#[inline(never)]
pub(crate) fn scan(line: &[u8], layout: &RecordLayout, record: &mut FastRecord) -> bool {
    if has_export_timestamp(line) || layout.slots.is_empty() {
        return false;
    }
    let mut at = 0;
    for (position, slot) in layout.slots.iter().enumerate() {
        if position > 0 {
            if line.get(at) != Some(&b' ') {
                return false;
            }
            at += 1;
        }
        let read = match slot {
            Slot::Text => text(line, &mut at).is_some(),
            Slot::Number { limit } => number(line, &mut at, *limit).is_some(),
            Slot::Src => ipv4(line, &mut at).map(|a| record.src = a).is_some(),
            Slot::Dst => ipv4(line, &mut at).map(|a| record.dst = a).is_some(),
            Slot::Packets => number(line, &mut at, INT64_LIMIT).map(|n| record.packets = n).is_some(),
            Slot::Bytes => number(line, &mut at, INT64_LIMIT).map(|n| record.bytes = n).is_some(),
            Slot::Start => number(line, &mut at, INT64_LIMIT).map(|n| record.start = n).is_some(),
            Slot::End => number(line, &mut at, INT64_LIMIT).map(|n| record.end = n).is_some(),
            Slot::DstPort => number(line, &mut at, INT32_LIMIT).map(|n| record.dstport = n).is_some(),
            Slot::TcpFlags => number(line, &mut at, INT32_LIMIT)
                .map(|n| record.tcp_flags = n)
                .is_some(),
            Slot::Action => text(line, &mut at).map(|t| record.rejected = t == b"REJECT").is_some(),
            Slot::LogStatus => text(line, &mut at).map(|t| record.ok = t == b"OK").is_some(),
        };
        if !read {
            return false;
        }
    }
    at == line.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2() -> RecordLayout {
        RecordLayout::of(&FlowFormat::default_v2()).unwrap_or(RecordLayout { slots: vec![] })
    }

    fn read(line: &str) -> Option<FastRecord> {
        let mut record = FastRecord::default();
        scan(line.as_bytes(), &v2(), &mut record).then_some(record)
    }

    #[test]
    fn a_default_record_is_read() {
        let r = read("2 123456789012 eni-1 10.0.1.5 172.31.0.9 443 49152 6 10 8400 1718025660 1718025720 REJECT OK");
        let r = r.unwrap_or_default();
        assert_eq!(r.src, u32::from(std::net::Ipv4Addr::new(10, 0, 1, 5)));
        assert_eq!(r.dst, u32::from(std::net::Ipv4Addr::new(172, 31, 0, 9)));
        assert_eq!((r.packets, r.bytes), (Some(10), Some(8400)));
        assert_eq!(
            (r.start, r.end, r.dstport),
            (Some(1718025660), Some(1718025720), Some(49152))
        );
        assert!(r.rejected && r.ok);
    }

    #[test]
    fn dashes_are_nulls() {
        let r = read("2 123456789012 eni-1 10.0.1.5 10.0.0.1 - - - - - 1718025660 1718025720 ACCEPT SKIPDATA");
        let r = r.unwrap_or_default();
        assert_eq!((r.packets, r.bytes, r.dstport), (None, None, None));
        assert!(!r.rejected && !r.ok);
    }

    #[test]
    fn what_the_general_reader_reads_differently_is_declined() {
        let base = "2 123456789012 eni-1 10.0.1.5 10.0.0.1 443 80 6 1 2 3 4 ACCEPT OK";
        assert!(read(base).is_some());
        for line in [
            "2 123456789012 eni-1 010.0.1.5 10.0.0.1 443 80 6 1 2 3 4 ACCEPT OK",
            "2 123456789012 eni-1 10.0.1.256 10.0.0.1 443 80 6 1 2 3 4 ACCEPT OK",
            "2 123456789012 eni-1 10.0.1 10.0.0.1 443 80 6 1 2 3 4 ACCEPT OK",
            "2 123456789012 eni-1 2001:db8::1 10.0.0.1 443 80 6 1 2 3 4 ACCEPT OK",
            "2 123456789012 eni-1 - 10.0.0.1 443 80 6 1 2 3 4 ACCEPT OK",
            "2 123456789012 eni-1 10.0.1.5  10.0.0.1 443 80 6 1 2 3 4 ACCEPT OK",
            "2 123456789012\teni-1 10.0.1.5 10.0.0.1 443 80 6 1 2 3 4 ACCEPT OK",
            "2 123456789012 eni-1 10.0.1.5 10.0.0.1 443 80 6 1 2 3 4 ACCEPT OK\r",
            "2 123456789012 eni-1 10.0.1.5 10.0.0.1 443 80 6 1 2 3 4 ACCEPT OK ",
            "2 123456789012 eni-1 10.0.1.5 10.0.0.1 443 80 6 1 2 3 4 ACCEPT",
            "2 123456789012 eni-1 10.0.1.5 10.0.0.1 443 80 6 1 2 3 4 ACCEPT OK extra",
            "2 123456789012 eni-é 10.0.1.5 10.0.0.1 443 80 6 1 2 3 4 ACCEPT OK",
            "2 123456789012 eni-1 10.0.1.5 10.0.0.1 443 2147483648 6 1 2 3 4 ACCEPT OK",
            "2 123456789012 eni-1 10.0.1.5 10.0.0.1 443 80 6 1 99999999999999999999 3 4 ACCEPT OK",
            "2 123456789012 eni-1 10.0.1.5 10.0.0.1 443 80 6 1 -2 3 4 ACCEPT OK",
            "2 123456789012 eni-1 10.0.1.5 10.0.0.1 443 80 6 1 2x 3 4 ACCEPT OK",
            " 2 123456789012 eni-1 10.0.1.5 10.0.0.1 443 80 6 1 2 3 4 ACCEPT OK",
            "",
            "2024-06-10T06:13:20.000Z 2 123456789012 eni-1 10.0.1.5 10.0.0.1 443 80 6 1 2 3 4 ACCEPT OK",
        ] {
            assert!(read(line).is_none(), "{line:?} was taken");
        }
    }

    #[test]
    fn formats_without_the_answers_fields_are_left_to_the_general_reader() {
        assert!(RecordLayout::of(&FlowFormat::from_field_names(vec!["srcaddr".into(), "dstaddr".into()])).is_none());
        let twice = FlowFormat::from_field_names(
            FlowFormat::default_v2()
                .names
                .into_iter()
                .chain(["bytes".to_owned()])
                .collect(),
        );
        assert!(RecordLayout::of(&twice).is_none());
        let v3 = FlowFormat::from_field_names(
            FlowFormat::default_v2()
                .names
                .into_iter()
                .chain(["vpc-id".to_owned(), "tcp-flags".to_owned()])
                .collect(),
        );
        let layout = RecordLayout::of(&v3);
        assert!(layout.as_ref().is_some_and(|l| l.slots.contains(&Slot::TcpFlags)));
        let mut record = FastRecord::default();
        let line = b"2 123456789012 eni-1 10.0.1.5 10.0.0.1 443 80 6 1 2 3 4 REJECT OK vpc-1 2";
        assert!(layout.is_some_and(|l| scan(line, &l, &mut record)));
        assert_eq!(record.tcp_flags, Some(2));
    }

    #[test]
    fn canonical_addresses_round_trip() {
        for text in [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.0.1",
            "192.168.100.7",
            "1.20.199.250",
        ] {
            let address = ipv4(text.as_bytes(), &mut 0).map(std::net::Ipv4Addr::from);
            assert_eq!(address.map(|a| a.to_string()).as_deref(), Some(text));
        }
        for text in [
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            "01.2.3.4",
            "1.2.3.00",
            "1.2.3.1000",
            "256.1.1.1",
            ".1.2.3",
            "1.2.3.",
        ] {
            assert_eq!(ipv4(text.as_bytes(), &mut 0), None, "{text}");
        }
    }
}
