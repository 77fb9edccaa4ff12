//! Rejects by source, folded: per source of the records whose `action` is `REJECT`, the records,
//! the distinct destination ports and hosts, the SYN-only records (with `tcp-flags`), and the
//! first and last seen.
//!
//! IPv4 sources and the sets of (source, port) and (source, host) integers behind the distinct
//! counts are partitioned tables shared by every reader ([`super::partitioned`]): a scan from the
//! internet brings nearly one source per rejected record, so none of them is small. The sets are
//! partitioned by their source, so each partition's rows are counted on their own, on every core,
//! and ordered as integers; only the answer's rows become text.

use super::partitioned::{partition_of, partitions_in_parallel, Buffers, SharedTables};
use super::table::IntMap;
use super::{Address, Fold, Rows};
use crate::fold::scan::FastRecord;
use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray, TimestampSecondArray};
use std::cmp::{Ordering, Reverse};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

const FIRST_VALUED: u64 = 1 << 63;
const LAST_VALUED: u64 = 1 << 62;
const SYN_VALUED: u64 = 1 << 61;
const RECORDS: u64 = SYN_VALUED - 1;

/// The totals of one source: the record count, and in its top bits which of the other three have
/// a value (`min`, `max` and `sum` are null over nulls only). Kept small: a scan of the internet
/// has nearly a source per rejected record.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SourceTotals {
    records_and_valued: u64,
    first: i64,
    last: i64,
    /// SYN-only records among those with `tcp-flags`.
    syn_only: i64,
}

impl SourceTotals {
    #[inline(always)]
    fn add(&mut self, start: Option<i64>, end: Option<i64>, tcp_flags: Option<i64>) {
        self.merge(&SourceTotals::of(start, end, tcp_flags));
    }

    /// One record's totals.
    #[inline(always)]
    fn of(start: Option<i64>, end: Option<i64>, tcp_flags: Option<i64>) -> SourceTotals {
        let mut totals = SourceTotals {
            records_and_valued: 1,
            ..SourceTotals::default()
        };
        if let Some(start) = start {
            totals.first = start;
            totals.records_and_valued |= FIRST_VALUED;
        }
        if let Some(end) = end {
            totals.last = end;
            totals.records_and_valued |= LAST_VALUED;
        }
        if let Some(flags) = tcp_flags {
            totals.syn_only = i64::from(flags == 2);
            totals.records_and_valued |= SYN_VALUED;
        }
        totals
    }

    #[inline(always)]
    fn merge(&mut self, other: &SourceTotals) {
        let (mine, theirs) = (self.records_and_valued, other.records_and_valued);
        let both = mine & theirs;
        self.first = match (both & FIRST_VALUED != 0, theirs & FIRST_VALUED != 0) {
            (true, _) => self.first.min(other.first),
            (false, true) => other.first,
            (false, false) => self.first,
        };
        self.last = match (both & LAST_VALUED != 0, theirs & LAST_VALUED != 0) {
            (true, _) => self.last.max(other.last),
            (false, true) => other.last,
            (false, false) => self.last,
        };
        self.syn_only = self.syn_only.wrapping_add(other.syn_only);
        let records = (mine & RECORDS) + (theirs & RECORDS);
        self.records_and_valued = ((mine | theirs) & !RECORDS) | records;
    }

    fn records(&self) -> u64 {
        self.records_and_valued & RECORDS
    }

    fn valued(&self, flag: u64, value: i64) -> Option<i64> {
        (self.records_and_valued & flag != 0).then_some(value)
    }
}

/// One row of the answer before its source is text.
#[derive(Debug, Clone, Copy)]
struct SourceRow {
    totals: SourceTotals,
    ports: u64,
    hosts: u64,
}

#[inline(always)]
fn with_source(src: u32, value: u32) -> u64 {
    (u64::from(src) << 32) | u64::from(value)
}

/// The tables every reader adds to. The sets are partitioned by their source, as the sources
/// are, so that a source's ports and hosts are counted from its own partition.
#[derive(Debug)]
pub(crate) struct RejectSets {
    /// IPv4 sources.
    sources: SharedTables<SourceTotals>,
    /// (IPv4 source, destination port).
    ports: SharedTables<()>,
    /// (IPv4 source, IPv4 destination).
    hosts: SharedTables<()>,
}

fn insert(table: &mut IntMap<()>, key: &u64) {
    table.entry(*key);
}

fn add_source(table: &mut IntMap<SourceTotals>, (source, totals): &(u64, SourceTotals)) {
    table.entry(*source).merge(totals);
}

/// A (source, value) key's partition: its source's.
#[inline(always)]
fn partition_by_source(key: u64) -> usize {
    partition_of(key >> 32)
}

/// One reader's part of the rejects.
#[derive(Debug)]
pub(crate) struct RejectSums {
    sources: Buffers<(u64, SourceTotals)>,
    ports: Buffers<u64>,
    hosts: Buffers<u64>,
    /// Sources of any other text, or null.
    other_sources: HashMap<Address, SourceTotals>,
    /// (other source, destination port).
    other_ports: HashSet<(Address, i64)>,
    /// (any source, destination) where the pair is not two IPv4 addresses.
    other_hosts: HashSet<(Address, String)>,
}

impl RejectSums {
    #[inline(always)]
    fn add_source(&mut self, sets: &RejectSets, source: u32, totals: SourceTotals) {
        let key = u64::from(source);
        if self.sources.push(partition_of(key), (key, totals)) {
            self.sources.flush(&sets.sources, add_source);
        }
    }

    #[inline(always)]
    fn add_port(&mut self, sets: &RejectSets, key: u64) {
        if self.ports.push(partition_by_source(key), key) {
            self.ports.flush(&sets.ports, insert);
        }
    }

    #[inline(always)]
    fn add_host(&mut self, sets: &RejectSets, key: u64) {
        if self.hosts.push(partition_by_source(key), key) {
            self.hosts.flush(&sets.hosts, insert);
        }
    }

    fn add(&mut self, sets: &RejectSets, src: Address, dst: Option<&str>, row: &Rows<'_>, index: usize) {
        let (start, end, tcp_flags, port) = (
            row.start(index),
            row.end(index),
            row.tcp_flags(index),
            row.dstport(index),
        );
        match &src {
            Address::V4(source) => {
                self.add_source(sets, *source, SourceTotals::of(start, end, tcp_flags));
                if let Some(port) = port.and_then(|p| u32::try_from(p).ok()) {
                    self.add_port(sets, with_source(*source, port));
                }
            }
            other => {
                self.other_sources
                    .entry(other.clone())
                    .or_default()
                    .add(start, end, tcp_flags);
                if let Some(port) = port {
                    self.other_ports.insert((other.clone(), port));
                }
            }
        }
        match (&src, dst.map(|d| Address::of(Some(d)))) {
            (_, None) => {}
            (Address::V4(source), Some(Address::V4(destination))) => {
                self.add_host(sets, with_source(*source, destination));
            }
            (_, Some(_)) => {
                if let Some(dst) = dst {
                    self.other_hosts.insert((src, dst.to_owned()));
                }
            }
        }
    }
}

/// `ORDER BY distinct_dst_ports DESC, rejected_records DESC, srcaddr` (nulls last).
fn answer_order(a: &(Option<String>, SourceRow), b: &(Option<String>, SourceRow)) -> Ordering {
    b.1.ports
        .cmp(&a.1.ports)
        .then_with(|| b.1.totals.records().cmp(&a.1.totals.records()))
        .then_with(|| match (&a.0, &b.0) {
            (Some(x), Some(y)) => x.cmp(y),
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
        })
}

/// An IPv4 address as a number that sorts as its canonical text does. The text compares part by
/// part, each part's digits as text: a dot sorts before every digit and the end before anything, so
/// a part that is a prefix of another sorts first, as it does alone. Each part becomes its place
/// among "0".."255" sorted as text.
fn text_order(address: u32) -> u32 {
    static PLACES: std::sync::OnceLock<[u8; 256]> = std::sync::OnceLock::new();
    let places = PLACES.get_or_init(|| {
        let mut parts: Vec<u8> = (0..=255).collect();
        parts.sort_by_key(|part| part.to_string());
        let mut places = [0u8; 256];
        for (place, part) in (0..=255u8).zip(parts) {
            places[usize::from(part)] = place;
        }
        places
    });
    let place = |part: u8| u32::from(places[usize::from(part)]);
    let [a, b, c, d] = address.to_be_bytes();
    (place(a) << 24) | (place(b) << 16) | (place(c) << 8) | place(d)
}

/// Per partition of the shared tables, the rows of its sources with their distinct ports and
/// hosts (and `extra_hosts` for hosts that are not IPv4, counted apart).
fn partition_rows(sets: &RejectSets, p: usize, extra_hosts: &HashMap<u32, u64>) -> Vec<(u32, SourceRow)> {
    let mut counts: IntMap<(u64, u64)> = IntMap::new();
    if let Some(ports) = sets.ports.lock(p) {
        for (key, ()) in ports.iter() {
            counts.entry(key >> 32).0 += 1;
        }
    }
    if let Some(hosts) = sets.hosts.lock(p) {
        for (key, ()) in hosts.iter() {
            counts.entry(key >> 32).1 += 1;
        }
    }
    let Some(sources) = sets.sources.lock(p) else {
        return vec![];
    };
    sources
        .iter()
        .map(|(source, totals)| {
            // Sources are IPv4: their keys are 32 bits.
            let source = source as u32;
            let (ports, hosts) = counts.get(u64::from(source)).copied().unwrap_or_default();
            let extra = extra_hosts.get(&source).copied().unwrap_or(0);
            let row = SourceRow {
                totals: *totals,
                ports,
                hosts: hosts + extra,
            };
            (source, row)
        })
        .collect()
}

fn as_i64(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

impl Fold for RejectSums {
    type Shared = RejectSets;

    fn shared() -> RejectSets {
        RejectSets {
            sources: SharedTables::new(),
            ports: SharedTables::new(),
            hosts: SharedTables::new(),
        }
    }

    fn new(sets: &RejectSets) -> RejectSums {
        RejectSums {
            sources: Buffers::new(&sets.sources),
            ports: Buffers::new(&sets.ports),
            hosts: Buffers::new(&sets.hosts),
            other_sources: HashMap::new(),
            other_ports: HashSet::new(),
            other_hosts: HashSet::new(),
        }
    }

    #[inline]
    fn record(&mut self, sets: &RejectSets, record: &FastRecord) {
        if !record.rejected {
            return;
        }
        let totals = SourceTotals::of(record.start, record.end, record.tcp_flags);
        self.add_source(sets, record.src, totals);
        // A port is checked to fit 32 bits when it is read.
        if let Some(port) = record.dstport.and_then(|p| u32::try_from(p).ok()) {
            self.add_port(sets, with_source(record.src, port));
        }
        self.add_host(sets, with_source(record.src, record.dst));
    }

    fn rows(&mut self, sets: &RejectSets, rows: &Rows<'_>) {
        for row in 0..rows.len {
            if rows.rejected(row) {
                self.add(sets, Address::of(rows.srcaddr(row)), rows.dstaddr(row), rows, row);
            }
        }
    }

    fn done_reading(&mut self, sets: &RejectSets) {
        self.sources.flush(&sets.sources, add_source);
        self.ports.flush(&sets.ports, insert);
        self.hosts.flush(&sets.hosts, insert);
    }

    fn finish(
        readers: Vec<RejectSums>,
        sets: RejectSets,
        limit: usize,
        tcp_flags: bool,
        threads: usize,
    ) -> Vec<ArrayRef> {
        // Sources that are not IPv4 (or null), and hosts that are not IPv4 (or whose source is
        // not): few, kept by each reader apart.
        let mut other_rows: HashMap<Address, SourceRow> = HashMap::new();
        let mut other_ports: HashSet<(Address, i64)> = HashSet::new();
        let mut other_hosts: HashSet<(Address, String)> = HashSet::new();
        for reader in readers {
            for (source, totals) in reader.other_sources {
                let row = other_rows.entry(source).or_insert(SourceRow {
                    totals: SourceTotals::default(),
                    ports: 0,
                    hosts: 0,
                });
                row.totals.merge(&totals);
            }
            other_ports.extend(reader.other_ports);
            other_hosts.extend(reader.other_hosts);
        }
        let mut extra_hosts: HashMap<u32, u64> = HashMap::new();
        for (source, _) in &other_ports {
            if let Some(row) = other_rows.get_mut(source) {
                row.ports += 1;
            }
        }
        for (source, _) in &other_hosts {
            match source {
                Address::V4(source) => *extra_hosts.entry(*source).or_default() += 1,
                other => {
                    if let Some(row) = other_rows.get_mut(other) {
                        row.hosts += 1;
                    }
                }
            }
        }
        // The IPv4 sources' rows, counted partition by partition on every core, ordered by
        // integers (the address by its text's order), and only the answer's rows made text.
        let (sets, extra_hosts) = (&sets, &extra_hosts);
        let mut v4_rows: Vec<(u32, SourceRow)> = partitions_in_parallel(threads, Vec::new, |rows, p| {
            rows.extend(partition_rows(sets, p, extra_hosts));
        })
        .into_iter()
        .flatten()
        .collect();
        let order_key =
            |(source, row): &(u32, SourceRow)| (Reverse(row.ports), Reverse(row.totals.records()), text_order(*source));
        if v4_rows.len() > limit {
            if limit == 0 {
                v4_rows.clear();
            } else {
                v4_rows.select_nth_unstable_by_key(limit - 1, order_key);
                v4_rows.truncate(limit);
            }
        }
        // A row the IPv4 sources' first `limit` pass over cannot be in the answer.
        let mut rows: Vec<(Option<String>, SourceRow)> = v4_rows
            .into_iter()
            .map(|(source, row)| (Address::V4(source).text(), row))
            .chain(other_rows.into_iter().map(|(source, row)| (source.text(), row)))
            .collect();
        rows.sort_by(answer_order);
        rows.truncate(limit);
        let srcaddr: StringArray = rows.iter().map(|r| r.0.as_deref()).collect();
        let records: Int64Array = rows.iter().map(|r| Some(as_i64(r.1.totals.records()))).collect();
        let ports: Int64Array = rows.iter().map(|r| Some(as_i64(r.1.ports))).collect();
        let hosts: Int64Array = rows.iter().map(|r| Some(as_i64(r.1.hosts))).collect();
        // Without the column anywhere, the SQL's CAST(NULL AS BIGINT).
        let syn_only: Int64Array = rows
            .iter()
            .map(|r| r.1.totals.valued(SYN_VALUED, r.1.totals.syn_only).filter(|_| tcp_flags))
            .collect();
        let first: TimestampSecondArray = rows
            .iter()
            .map(|r| r.1.totals.valued(FIRST_VALUED, r.1.totals.first))
            .collect();
        let last: TimestampSecondArray = rows
            .iter()
            .map(|r| r.1.totals.valued(LAST_VALUED, r.1.totals.last))
            .collect();
        vec![
            Arc::new(srcaddr),
            Arc::new(records),
            Arc::new(ports),
            Arc::new(hosts),
            Arc::new(syn_only),
            Arc::new(first),
            Arc::new(last),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn addresses_sort_as_their_text() {
        let mut state = 5u64;
        let mut addresses: Vec<u32> = (0..5000)
            .map(|_| {
                let state = crate::fold::next_random(&mut state);
                // Small parts too, where one part's text is a prefix of another's.
                let part = |shift: u32| [1u8, 10, 100, 2, 25, 255, 0][((state >> shift) % 7) as usize];
                if state.is_multiple_of(3) {
                    (state >> 32) as u32
                } else {
                    u32::from_be_bytes([part(8), part(16), part(24), part(40)])
                }
            })
            .collect();
        addresses.extend([0, u32::MAX, 0x0a00_0001, 0x6400_0001, 0x0100_0001]);
        let mut by_text = addresses.clone();
        by_text.sort_by_key(|a| Ipv4Addr::from(*a).to_string());
        let mut by_order = addresses;
        by_order.sort_by_key(|a| (text_order(*a), *a));
        let text = |list: &[u32]| list.iter().map(|a| Ipv4Addr::from(*a).to_string()).collect::<Vec<_>>();
        assert_eq!(text(&by_order), text(&by_text));
    }

    #[test]
    fn totals_merge_as_the_sql_aggregates() {
        let mut totals = SourceTotals::of(None, None, None);
        assert_eq!((totals.records(), totals.valued(FIRST_VALUED, totals.first)), (1, None));
        totals.merge(&SourceTotals::of(Some(i64::MAX), Some(-5), None));
        totals.add(Some(7), None, Some(2));
        totals.add(None, Some(-9), Some(18));
        assert_eq!(totals.records(), 4);
        assert_eq!(totals.valued(FIRST_VALUED, totals.first), Some(7));
        assert_eq!(totals.valued(LAST_VALUED, totals.last), Some(-5));
        assert_eq!(totals.valued(SYN_VALUED, totals.syn_only), Some(1));
    }
}
