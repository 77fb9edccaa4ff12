//! Rejects by source, folded: per source of the records whose `action` is `REJECT`, the records,
//! the distinct destination ports and hosts, the SYN-only records (with `tcp-flags`), and the
//! first and last seen.
//!
//! Distinct values are counted from sets of (source, value) integers; sources, ports and hosts
//! are far fewer than records, so the sets are small.

use super::table::IntMap;
use super::{Address, Fold, Rows};
use crate::fold::scan::FastRecord;
use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray, TimestampSecondArray};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The totals of one source.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SourceTotals {
    records: u64,
    first: Option<i64>,
    last: Option<i64>,
    /// SYN-only records among those with `tcp-flags` (null when none has it).
    syn_only: Option<i64>,
    ports: u64,
    hosts: u64,
}

fn min_of(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_of(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn sum_of(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.wrapping_add(b)),
        (a, b) => a.or(b),
    }
}

impl SourceTotals {
    #[inline(always)]
    fn add(&mut self, start: Option<i64>, end: Option<i64>, tcp_flags: Option<i64>) {
        self.records += 1;
        self.first = min_of(self.first, start);
        self.last = max_of(self.last, end);
        self.syn_only = sum_of(self.syn_only, tcp_flags.map(|flags| i64::from(flags == 2)));
    }

    fn merge(&mut self, other: &SourceTotals) {
        self.records += other.records;
        self.first = min_of(self.first, other.first);
        self.last = max_of(self.last, other.last);
        self.syn_only = sum_of(self.syn_only, other.syn_only);
        self.ports += other.ports;
        self.hosts += other.hosts;
    }
}

#[inline(always)]
fn with_source(src: u32, value: u32) -> u64 {
    (u64::from(src) << 32) | u64::from(value)
}

#[derive(Debug)]
pub(crate) struct RejectSums {
    /// Sources in canonical IPv4.
    sources: IntMap<SourceTotals>,
    /// (IPv4 source, destination port).
    ports: IntMap<()>,
    /// (IPv4 source, IPv4 destination).
    hosts: IntMap<()>,
    /// Sources of any other text, or null.
    other_sources: HashMap<Address, SourceTotals>,
    /// (other source, destination port).
    other_ports: HashSet<(Address, i64)>,
    /// (any source, destination) where the pair is not two IPv4 addresses.
    other_hosts: HashSet<(Address, String)>,
}

impl RejectSums {
    fn add(&mut self, src: Address, dst: Option<&str>, row: &Rows<'_>, index: usize) {
        let (start, end, tcp_flags, port) = (
            row.start(index),
            row.end(index),
            row.tcp_flags(index),
            row.dstport(index),
        );
        match &src {
            Address::V4(source) => {
                self.sources.entry(u64::from(*source)).add(start, end, tcp_flags);
                if let Some(port) = port.and_then(|p| u32::try_from(p).ok()) {
                    self.ports.entry(with_source(*source, port));
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
                self.hosts.entry(with_source(*source, destination));
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
fn answer_order(a: &(Option<String>, SourceTotals), b: &(Option<String>, SourceTotals)) -> Ordering {
    b.1.ports
        .cmp(&a.1.ports)
        .then_with(|| b.1.records.cmp(&a.1.records))
        .then_with(|| match (&a.0, &b.0) {
            (Some(x), Some(y)) => x.cmp(y),
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
        })
}

fn as_i64(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

impl Fold for RejectSums {
    fn new() -> RejectSums {
        RejectSums {
            sources: IntMap::new(),
            ports: IntMap::new(),
            hosts: IntMap::new(),
            other_sources: HashMap::new(),
            other_ports: HashSet::new(),
            other_hosts: HashSet::new(),
        }
    }

    #[inline]
    fn record(&mut self, record: &FastRecord) {
        if !record.rejected {
            return;
        }
        self.sources
            .entry(u64::from(record.src))
            .add(record.start, record.end, record.tcp_flags);
        // A port is checked to fit 32 bits when it is read.
        if let Some(port) = record.dstport.and_then(|p| u32::try_from(p).ok()) {
            self.ports.entry(with_source(record.src, port));
        }
        self.hosts.entry(with_source(record.src, record.dst));
    }

    fn rows(&mut self, rows: &Rows<'_>) {
        for row in 0..rows.len {
            if rows.rejected(row) {
                self.add(Address::of(rows.srcaddr(row)), rows.dstaddr(row), rows, row);
            }
        }
    }

    fn merge(states: Vec<RejectSums>, threads: usize) -> RejectSums {
        let mut states = states.into_iter();
        let mut merged = states.next().unwrap_or_else(RejectSums::new);
        for state in states {
            let RejectSums {
                sources,
                ports,
                hosts,
                other_sources,
                other_ports,
                other_hosts,
            } = &mut merged;
            let mut merge_sets = || {
                ports.merge(&state.ports, |_, _| {});
                hosts.merge(&state.hosts, |_, _| {});
            };
            // The tables are independent: merged side by side when there are cores for it.
            if threads > 1 {
                std::thread::scope(|scope| {
                    scope.spawn(merge_sets);
                    sources.merge(&state.sources, SourceTotals::merge);
                });
            } else {
                merge_sets();
                sources.merge(&state.sources, SourceTotals::merge);
            }
            for (source, totals) in state.other_sources {
                other_sources.entry(source).or_default().merge(&totals);
            }
            other_ports.extend(state.other_ports);
            other_hosts.extend(state.other_hosts);
        }
        merged
    }

    fn finish(mut self, limit: usize, tcp_flags: bool) -> Vec<ArrayRef> {
        for (key, ()) in self.ports.iter() {
            self.sources.entry(key >> 32).ports += 1;
        }
        for (key, ()) in self.hosts.iter() {
            self.sources.entry(key >> 32).hosts += 1;
        }
        for (source, _) in &self.other_ports {
            self.other_sources.entry(source.clone()).or_default().ports += 1;
        }
        for (source, _) in &self.other_hosts {
            match source {
                Address::V4(source) => self.sources.entry(u64::from(*source)).hosts += 1,
                other => self.other_sources.entry(other.clone()).or_default().hosts += 1,
            }
        }
        let mut rows: Vec<(Option<String>, SourceTotals)> = self
            .sources
            .iter()
            .map(|(source, totals)| (Address::V4(source as u32).text(), *totals))
            .chain(
                self.other_sources
                    .iter()
                    .map(|(source, totals)| (source.text(), *totals)),
            )
            .collect();
        rows.sort_by(answer_order);
        rows.truncate(limit);
        let srcaddr: StringArray = rows.iter().map(|r| r.0.as_deref()).collect();
        let records: Int64Array = rows.iter().map(|r| Some(as_i64(r.1.records))).collect();
        let ports: Int64Array = rows.iter().map(|r| Some(as_i64(r.1.ports))).collect();
        let hosts: Int64Array = rows.iter().map(|r| Some(as_i64(r.1.hosts))).collect();
        // Without the column anywhere, the SQL's CAST(NULL AS BIGINT).
        let syn_only: Int64Array = rows.iter().map(|r| r.1.syn_only.filter(|_| tcp_flags)).collect();
        let first: TimestampSecondArray = rows.iter().map(|r| r.1.first).collect();
        let last: TimestampSecondArray = rows.iter().map(|r| r.1.last).collect();
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
