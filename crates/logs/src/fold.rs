//! The built-in flow answers folded while the records are parsed, without building Arrow columns
//! or grouping by strings: addresses are kept as integers (IPv4 pairs as one `u64`), and each
//! worker thread folds into its own tables, merged at the end.
//!
//! Not yet what the command line runs: on the 10 M-record benchmark the fold takes more CPU than
//! DataFusion's vectorised aggregation (random access into tables of ~3 M groups), so the answers
//! stay on SQL until the fold partitions its groups to fit the caches (BENCHMARKS.md).
//!
//! The answer is the same as the SQL of [`crate::answers`] over the `flows` table, row for row:
//! same columns and types (taken from planning that SQL), same NULL rules (`sum` of nothing is
//! NULL, `count(DISTINCT …)` skips NULLs), same order (`DESC` puts NULLs first, `ASC` last;
//! addresses order as text). The tests hold the two side by side.

use crate::answers::OptionalColumns;
use crate::chunks::fold_inputs;
use crate::flow_format::FlowFormat;
use crate::flow_reader::RecordSink;
use crate::session::{LogSession, QueryResult};
use crate::LogError;
use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampSecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::SchemaRef;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// A built-in answer that can be folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldedAnswer {
    /// [`crate::answers::top_talkers`].
    TopTalkers { limit: usize },
    /// [`crate::answers::rejects`].
    Rejects { limit: usize, optional: OptionalColumns },
}

impl LogSession {
    /// The answer folded as the flow sources are parsed, on every core. `None` when the sources
    /// cannot be folded (Parquet, or strict mode, which stops at the first bad line in source
    /// order): then ask the SQL.
    pub fn folded(&self, answer: FoldedAnswer, sql: &str) -> Result<Option<QueryResult>, LogError> {
        let (inputs, options) = self.flow_sources();
        if options.strict || inputs.iter().any(|input| input.is_parquet()) {
            return Ok(None);
        }
        let schema = self.planned_schema(sql)?;
        let workers = std::thread::available_parallelism().map_or(2, usize::from);
        let batch = match answer {
            FoldedAnswer::TopTalkers { limit } => {
                let sinks = (0..workers).map(|_| PairTotals::new(workers)).collect();
                let folded = fold_inputs(inputs, options, self.issues(), sinks)?;
                top_talkers(PairTotals::merge(folded), limit, &schema)?
            }
            FoldedAnswer::Rejects { limit, optional } => {
                let sinks = (0..workers).map(|_| RejectTotals::new(optional.tcp_flags)).collect();
                let folded = fold_inputs(inputs, options, self.issues(), sinks)?;
                rejects(RejectTotals::merge(folded), limit, &schema)?
            }
        };
        Ok(Some(QueryResult {
            schema,
            batches: vec![batch],
        }))
    }
}

/// A 64-bit mixer (MurmurHash3's finaliser) for integer keys: hash tables use both the high and
/// the low bits.
#[derive(Default)]
struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(29) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_i32(&mut self, n: i32) {
        self.write_u64(u64::from(n as u32));
    }
}

type Mixed = BuildHasherDefault<MixHasher>;

fn shard_of(key: u64, shards: usize) -> usize {
    let mut hasher = MixHasher(key);
    hasher.write_u64(0x5bd1_e995);
    (hasher.finish() >> 40) as usize % shards
}

/// An IPv4 address written the one way AWS writes it (no leading zeros), as an integer; anything
/// else is kept as text.
#[inline]
fn canonical_v4(text: &[u8]) -> Option<u32> {
    let mut value: u32 = 0;
    let mut octets = 0;
    let mut digits = 0;
    let mut octet: u32 = 0;
    for &b in text {
        if b == b'.' {
            if digits == 0 || octets == 3 {
                return None;
            }
            value = (value << 8) | octet;
            octets += 1;
            digits = 0;
            octet = 0;
        } else {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 || (digits > 0 && octet == 0) || digits == 3 {
                return None;
            }
            octet = octet * 10 + u32::from(digit);
            if octet > 255 {
                return None;
            }
            digits += 1;
        }
    }
    (octets == 3 && digits > 0).then_some((value << 8) | octet)
}

/// An address for grouping: IPv4 and IPv6 as integers when their text is the canonical one,
/// any other text as itself, and NULL (`-`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Address {
    V4(u32),
    V6(u128),
    Text(Box<str>),
    Null,
}

impl Address {
    fn parse(text: &str) -> Address {
        if text == "-" {
            return Address::Null;
        }
        if let Some(v4) = canonical_v4(text.as_bytes()) {
            return Address::V4(v4);
        }
        if text.contains(':') {
            if let Ok(v6) = text.parse::<Ipv6Addr>() {
                if v6.to_string() == text {
                    return Address::V6(u128::from(v6));
                }
            }
        }
        Address::Text(text.into())
    }

    fn text(&self) -> Option<String> {
        match self {
            Address::V4(v4) => Some(Ipv4Addr::from(*v4).to_string()),
            Address::V6(v6) => Some(Ipv6Addr::from(*v6).to_string()),
            Address::Text(text) => Some(text.to_string()),
            Address::Null => None,
        }
    }
}

/// `ORDER BY x ASC` on text: NULLs last.
fn ascending_nulls_last(a: &Option<String>, b: &Option<String>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(b),
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
    }
}

/// `ORDER BY x DESC` on numbers: NULLs first.
fn descending_nulls_first(a: Option<i64>, b: Option<i64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.cmp(&a),
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
    }
}

/// A `sum` that stays NULL until a value comes.
#[derive(Debug, Clone, Copy, Default)]
struct Sum(Option<i64>);

impl Sum {
    #[inline]
    fn add(&mut self, value: Option<i64>) {
        if let Some(v) = value {
            self.0 = Some(self.0.map_or(v, |s| s.wrapping_add(v)));
        }
    }

    fn merge(&mut self, other: Sum) {
        self.add(other.0);
    }
}

/// The positions of the fields a fold reads in the current format.
#[derive(Debug, Clone, Copy, Default)]
struct Positions {
    srcaddr: Option<usize>,
    dstaddr: Option<usize>,
    bytes: Option<usize>,
    packets: Option<usize>,
    log_status: Option<usize>,
    action: Option<usize>,
    dstport: Option<usize>,
    start: Option<usize>,
    end: Option<usize>,
    tcp_flags: Option<usize>,
}

impl Positions {
    fn of(format: &FlowFormat) -> Positions {
        Positions {
            srcaddr: format.position_of("srcaddr"),
            dstaddr: format.position_of("dstaddr"),
            bytes: format.position_of("bytes"),
            packets: format.position_of("packets"),
            log_status: format.position_of("log-status"),
            action: format.position_of("action"),
            dstport: format.position_of("dstport"),
            start: format.position_of("start"),
            end: format.position_of("end"),
            tcp_flags: format.position_of("tcp-flags"),
        }
    }
}

#[inline]
fn field<'a>(text: &'a str, spans: &[(usize, usize)], position: Option<usize>) -> &'a str {
    match position.and_then(|p| spans.get(p)) {
        Some(&(a, b)) => &text[a..b],
        None => "-",
    }
}

#[inline]
fn number(numbers: &[Option<i64>], position: Option<usize>) -> Option<i64> {
    position.and_then(|p| numbers.get(p).copied().flatten())
}

/// Per pair: `sum(bytes)`, `sum(packets)`, `count(*)`.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    bytes: Sum,
    packets: Sum,
    records: i64,
}

impl Totals {
    fn merge(&mut self, other: &Totals) {
        self.bytes.merge(other.bytes);
        self.packets.merge(other.packets);
        self.records += other.records;
    }
}

/// Top talkers: totals per (srcaddr, dstaddr) of records with `log_status = 'OK'`. IPv4 pairs,
/// nearly all of them, go into shards keyed by one `u64`; the rest by their addresses.
struct PairTotals {
    at: Positions,
    v4: Vec<HashMap<u64, Totals, Mixed>>,
    other: HashMap<(Address, Address), Totals, Mixed>,
}

impl PairTotals {
    fn new(shards: usize) -> PairTotals {
        PairTotals {
            at: Positions::default(),
            v4: (0..shards.max(1)).map(|_| HashMap::default()).collect(),
            other: HashMap::default(),
        }
    }

    /// Every worker's totals in one: shard by shard, in parallel.
    fn merge(mut folded: Vec<PairTotals>) -> PairTotals {
        let Some(mut first) = folded.pop() else {
            return PairTotals::new(1);
        };
        let mut rest_v4: Vec<Vec<HashMap<u64, Totals, Mixed>>> =
            (0..first.v4.len()).map(|_| Vec::with_capacity(folded.len())).collect();
        for worker in folded {
            for (shard, map) in worker.v4.into_iter().enumerate() {
                if let Some(maps) = rest_v4.get_mut(shard) {
                    maps.push(map);
                }
            }
            for (key, totals) in worker.other {
                first.other.entry(key).or_default().merge(&totals);
            }
        }
        std::thread::scope(|scope| {
            for (target, sources) in first.v4.iter_mut().zip(rest_v4) {
                scope.spawn(move || {
                    for source in sources {
                        for (key, totals) in source {
                            target.entry(key).or_default().merge(&totals);
                        }
                    }
                });
            }
        });
        first
    }
}

impl RecordSink for PairTotals {
    fn set_format(&mut self, format: &FlowFormat) {
        self.at = Positions::of(format);
    }

    #[inline]
    fn append(&mut self, text: &str, spans: &[(usize, usize)], numbers: &[Option<i64>]) {
        let at = self.at;
        if field(text, spans, at.log_status) != "OK" {
            return;
        }
        let src = field(text, spans, at.srcaddr);
        let dst = field(text, spans, at.dstaddr);
        let totals = match (canonical_v4(src.as_bytes()), canonical_v4(dst.as_bytes())) {
            (Some(s), Some(d)) => {
                let key = (u64::from(s) << 32) | u64::from(d);
                let shards = self.v4.len();
                self.v4[shard_of(key, shards)].entry(key).or_default()
            }
            _ => self
                .other
                .entry((Address::parse(src), Address::parse(dst)))
                .or_default(),
        };
        totals.bytes.add(number(numbers, at.bytes));
        totals.packets.add(number(numbers, at.packets));
        totals.records += 1;
    }
}

/// The order of `ORDER BY bytes DESC` alone, as one integer: NULL first.
fn bytes_rank(bytes: Sum) -> i128 {
    bytes.0.map_or(i128::MIN, |b| -i128::from(b))
}

fn top_talkers(totals: PairTotals, limit: usize, schema: &SchemaRef) -> Result<RecordBatch, LogError> {
    // Only the pairs that can be in the answer become text: those ranked by bytes at or before
    // the limit-th (ties included, as the tie-break is by address text).
    let mut ranks: Vec<i128> = totals
        .v4
        .iter()
        .flat_map(|shard| shard.values())
        .chain(totals.other.values())
        .map(|t| bytes_rank(t.bytes))
        .collect();
    let rows: Vec<(Option<String>, Option<String>, Totals)> = if limit == 0 || ranks.is_empty() {
        vec![]
    } else {
        let nth = limit.min(ranks.len()) - 1;
        let (_, threshold, _) = ranks.select_nth_unstable(nth);
        let threshold = *threshold;
        drop(ranks);
        let mut rows: Vec<(Option<String>, Option<String>, Totals)> = vec![];
        for shard in &totals.v4 {
            for (key, t) in shard {
                if bytes_rank(t.bytes) <= threshold {
                    let (src, dst) = ((key >> 32) as u32, *key as u32);
                    rows.push((
                        Some(Ipv4Addr::from(src).to_string()),
                        Some(Ipv4Addr::from(dst).to_string()),
                        *t,
                    ));
                }
            }
        }
        for ((src, dst), t) in &totals.other {
            if bytes_rank(t.bytes) <= threshold {
                rows.push((src.text(), dst.text(), *t));
            }
        }
        rows.sort_by(|a, b| {
            descending_nulls_first(a.2.bytes.0, b.2.bytes.0)
                .then_with(|| ascending_nulls_last(&a.0, &b.0))
                .then_with(|| ascending_nulls_last(&a.1, &b.1))
        });
        rows.truncate(limit);
        rows
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter(rows.iter().map(|r| r.0.as_deref()))),
        Arc::new(StringArray::from_iter(rows.iter().map(|r| r.1.as_deref()))),
        Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.2.bytes.0))),
        Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.2.packets.0))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.2.records))),
    ];
    batch(schema, columns)
}

/// Per source of rejected records: `count(*)`, the SYN-only sum, `min(start)`, `max("end")`.
#[derive(Debug, Clone, Default)]
struct RejectSource {
    records: i64,
    syn_only: Sum,
    first: Option<i64>,
    last: Option<i64>,
}

/// Rejects: per source of records with `action = 'REJECT'`, its totals and its distinct
/// destination ports and hosts (as (source, value) sets, so a source's sets cost nothing until
/// it has values).
struct RejectTotals {
    at: Positions,
    with_tcp_flags: bool,
    sources: HashMap<Address, RejectSource, Mixed>,
    ports: HashSet<(Address, i64), Mixed>,
    hosts: HashSet<(Address, Address), Mixed>,
}

impl RejectTotals {
    fn new(with_tcp_flags: bool) -> RejectTotals {
        RejectTotals {
            at: Positions::default(),
            with_tcp_flags,
            sources: HashMap::default(),
            ports: HashSet::default(),
            hosts: HashSet::default(),
        }
    }

    fn merge(mut folded: Vec<RejectTotals>) -> RejectTotals {
        let Some(mut first) = folded.pop() else {
            return RejectTotals::new(false);
        };
        for worker in folded {
            for (source, totals) in worker.sources {
                let into = first.sources.entry(source).or_default();
                into.records += totals.records;
                into.syn_only.merge(totals.syn_only);
                into.first = min_option(into.first, totals.first);
                into.last = max_option(into.last, totals.last);
            }
            first.ports.extend(worker.ports);
            first.hosts.extend(worker.hosts);
        }
        first
    }
}

fn min_option(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_option(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

impl RecordSink for RejectTotals {
    fn set_format(&mut self, format: &FlowFormat) {
        self.at = Positions::of(format);
    }

    #[inline]
    fn append(&mut self, text: &str, spans: &[(usize, usize)], numbers: &[Option<i64>]) {
        let at = self.at;
        if field(text, spans, at.action) != "REJECT" {
            return;
        }
        let source = Address::parse(field(text, spans, at.srcaddr));
        let totals = self.sources.entry(source.clone()).or_default();
        totals.records += 1;
        if self.with_tcp_flags {
            // sum(CASE WHEN tcp_flags IS NULL THEN NULL WHEN tcp_flags = 2 THEN 1 ELSE 0 END)
            totals
                .syn_only
                .add(number(numbers, at.tcp_flags).map(|flags| i64::from(flags == 2)));
        }
        totals.first = min_option(totals.first, number(numbers, at.start));
        totals.last = max_option(totals.last, number(numbers, at.end));
        if let Some(port) = number(numbers, at.dstport) {
            self.ports.insert((source.clone(), port));
        }
        let host = Address::parse(field(text, spans, at.dstaddr));
        if host != Address::Null {
            self.hosts.insert((source, host));
        }
    }
}

fn rejects(totals: RejectTotals, limit: usize, schema: &SchemaRef) -> Result<RecordBatch, LogError> {
    let mut ports: HashMap<&Address, i64, Mixed> = HashMap::default();
    for (source, _) in &totals.ports {
        *ports.entry(source).or_default() += 1;
    }
    let mut hosts: HashMap<&Address, i64, Mixed> = HashMap::default();
    for (source, _) in &totals.hosts {
        *hosts.entry(source).or_default() += 1;
    }
    let mut rows: Vec<(Option<String>, &RejectSource, i64, i64)> = totals
        .sources
        .iter()
        .map(|(source, t)| {
            (
                source.text(),
                t,
                ports.get(source).copied().unwrap_or(0),
                hosts.get(source).copied().unwrap_or(0),
            )
        })
        .collect();
    // ORDER BY distinct_dst_ports DESC, rejected_records DESC, srcaddr
    rows.sort_by(|a, b| {
        b.2.cmp(&a.2)
            .then_with(|| b.1.records.cmp(&a.1.records))
            .then_with(|| ascending_nulls_last(&a.0, &b.0))
    });
    rows.truncate(limit);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter(rows.iter().map(|r| r.0.as_deref()))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1.records))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.2))),
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.3))),
        Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.1.syn_only.0))),
        Arc::new(TimestampSecondArray::from_iter(rows.iter().map(|r| r.1.first))),
        Arc::new(TimestampSecondArray::from_iter(rows.iter().map(|r| r.1.last))),
    ];
    batch(schema, columns)
}

/// The columns as the planned SQL types them.
fn batch(schema: &SchemaRef, columns: Vec<ArrayRef>) -> Result<RecordBatch, LogError> {
    if columns.len() != schema.fields().len() {
        return Err(LogError::Internal(format!(
            "the folded answer has {} columns where its SQL has {}",
            columns.len(),
            schema.fields().len()
        )));
    }
    let typed = columns
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| cast(column, field.data_type()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), typed)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_ipv4_text_becomes_an_integer() {
        assert_eq!(canonical_v4(b"10.0.0.1"), Some(0x0a00_0001));
        assert_eq!(canonical_v4(b"255.255.255.255"), Some(u32::MAX));
        assert_eq!(canonical_v4(b"0.0.0.0"), Some(0));
        for text in [
            "010.0.0.1",
            "10.0.0",
            "10.0.0.1.2",
            "256.0.0.1",
            "10..0.1",
            "10.0.0.",
            "1000.0.0.1",
            "-",
            "",
        ] {
            assert_eq!(canonical_v4(text.as_bytes()), None, "{text}");
        }
        for text in ["10.1.2.3", "2001:db8::1", "2001:DB8::1", "010.0.0.1", "host"] {
            assert_eq!(Address::parse(text).text().as_deref(), Some(text), "{text}");
        }
        assert_eq!(Address::parse("-").text(), None);
    }
}
