//! The top talkers, folded: bytes, packets and records per (source, destination) pair of the
//! records whose `log-status` is `OK`.
//!
//! Pairs of IPv4 addresses (nearly all of them) are one integer, summed in partitioned tables all
//! readers share ([`super::partitioned`]). The answer's few rows are found on every core at once,
//! each taking the candidates of its partitions in one pass ([`TopCandidates`]).

use super::partitioned::{partition_of, Buffers, SharedTables};
use super::table::IntMap;
use super::{Address, Fold, Rows};
use crate::fold::scan::FastRecord;
use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

const BYTES_VALUED: u64 = 1 << 63;
const PACKETS_VALUED: u64 = 1 << 62;
const RECORDS: u64 = PACKETS_VALUED - 1;

/// The sums of one pair. `sum` is null over nulls only, so each sum says whether it has a value.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PairTotals {
    bytes: i64,
    packets: i64,
    /// The record count, and in the top bits whether bytes and packets have a value.
    records_and_valued: u64,
}

impl PairTotals {
    #[inline(always)]
    fn add(&mut self, bytes: Option<i64>, packets: Option<i64>) {
        if let Some(bytes) = bytes {
            self.bytes = self.bytes.wrapping_add(bytes);
            self.records_and_valued |= BYTES_VALUED;
        }
        if let Some(packets) = packets {
            self.packets = self.packets.wrapping_add(packets);
            self.records_and_valued |= PACKETS_VALUED;
        }
        self.records_and_valued += 1;
    }

    #[inline(always)]
    fn add_both(&mut self, bytes: i64, packets: i64) {
        self.bytes = self.bytes.wrapping_add(bytes);
        self.packets = self.packets.wrapping_add(packets);
        self.records_and_valued = (self.records_and_valued | BYTES_VALUED | PACKETS_VALUED) + 1;
    }

    fn merge(&mut self, other: &PairTotals) {
        self.bytes = self.bytes.wrapping_add(other.bytes);
        self.packets = self.packets.wrapping_add(other.packets);
        let valued = (self.records_and_valued | other.records_and_valued) & !RECORDS;
        let records = (self.records_and_valued & RECORDS) + (other.records_and_valued & RECORDS);
        self.records_and_valued = valued | records;
    }

    fn bytes(&self) -> Option<i64> {
        (self.records_and_valued & BYTES_VALUED != 0).then_some(self.bytes)
    }

    fn packets(&self) -> Option<i64> {
        (self.records_and_valued & PACKETS_VALUED != 0).then_some(self.packets)
    }

    fn records(&self) -> i64 {
        i64::try_from(self.records_and_valued & RECORDS).unwrap_or(i64::MAX)
    }

    /// `ORDER BY bytes DESC` with nulls first: larger ranks first.
    fn rank(&self) -> i128 {
        self.bytes().map_or(i128::MAX, i128::from)
    }
}

#[inline(always)]
fn pair_key(src: u32, dst: u32) -> u64 {
    (u64::from(src) << 32) | u64::from(dst)
}

/// One record with both sums, on its way to its partition.
type PairRecord = (u64, i64, i64);

fn add_record(table: &mut IntMap<PairTotals>, &(key, bytes, packets): &PairRecord) {
    table.entry(key).add_both(bytes, packets);
}

fn add_totals(table: &mut IntMap<PairTotals>, (key, totals): &(u64, PairTotals)) {
    table.entry(*key).merge(totals);
}

/// One reader's part of the top talkers.
#[derive(Debug)]
pub(crate) struct PairSums {
    /// Records with both sums: nearly all, so kept small.
    buffers: Buffers<PairRecord>,
    /// IPv4 pairs of records where bytes or packets is null, or from the general reader.
    partial: Buffers<(u64, PairTotals)>,
    /// Pairs where either address is not canonical IPv4 (or is null).
    others: HashMap<(Address, Address), PairTotals>,
}

impl PairSums {
    fn add(&mut self, shared: &SharedTables<PairTotals>, key: u64, bytes: Option<i64>, packets: Option<i64>) {
        let mut totals = PairTotals::default();
        totals.add(bytes, packets);
        if self.partial.push(partition_of(key), (key, totals)) {
            self.partial.flush(shared, add_totals);
        }
    }
}

/// The entries that can be among the `limit` highest ranks of those offered: every entry whose
/// rank reaches the `limit`-th highest, ties included. Taken in one pass: an entry is kept when it
/// reaches the running `limit`-th highest rank, which only rises.
#[derive(Debug)]
struct TopCandidates<T> {
    limit: usize,
    /// The `limit` highest ranks so far, the lowest on top.
    highest: BinaryHeap<Reverse<i128>>,
    kept: Vec<(i128, T)>,
}

impl<T> TopCandidates<T> {
    fn new(limit: usize) -> TopCandidates<T> {
        TopCandidates {
            limit,
            highest: BinaryHeap::with_capacity(limit.min(1 << 20) + 1),
            kept: vec![],
        }
    }

    /// The lowest rank an entry of the answer can have, as far as is known.
    fn threshold(&self) -> i128 {
        match self.highest.peek() {
            Some(Reverse(least)) if self.highest.len() >= self.limit => *least,
            _ => i128::MIN,
        }
    }

    fn offer(&mut self, rank: i128, entry: impl FnOnce() -> T) {
        if self.limit == 0 {
            return;
        }
        if self.highest.len() < self.limit {
            self.highest.push(Reverse(rank));
        } else {
            let least = self.threshold();
            if rank < least {
                return;
            }
            if rank > least {
                self.highest.pop();
                self.highest.push(Reverse(rank));
            }
        }
        self.kept.push((rank, entry()));
        // Entries fallen below the threshold are dropped now and then, so that input in rising
        // order does not keep every entry.
        if self.kept.len() > 2 * self.limit + 1024 {
            let threshold = self.threshold();
            self.kept.retain(|(rank, _)| *rank >= threshold);
        }
    }

    fn into_kept(mut self) -> Vec<(i128, T)> {
        let threshold = self.threshold();
        self.kept.retain(|(rank, _)| *rank >= threshold);
        self.kept
    }
}

/// The candidates of every shared table for the `limit` highest ranks, the tables spread over
/// `threads`.
fn table_candidates(shared: &SharedTables<PairTotals>, limit: usize, threads: usize) -> Vec<(i128, (u64, PairTotals))> {
    let found = shared.visit_in_parallel(
        threads,
        || TopCandidates::new(limit),
        |top, table| {
            for (key, totals) in table.iter() {
                top.offer(totals.rank(), || (key, *totals));
            }
        },
    );
    found.into_iter().flat_map(TopCandidates::into_kept).collect()
}

/// A pair's addresses as the answer shows them.
type PairText = (Option<String>, Option<String>);

/// `srcaddr` then `dstaddr` ascending, nulls last, as text.
fn by_text(a: &PairText, b: &PairText) -> Ordering {
    fn nulls_last(a: &Option<String>, b: &Option<String>) -> Ordering {
        match (a, b) {
            (Some(a), Some(b)) => a.cmp(b),
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
        }
    }
    nulls_last(&a.0, &b.0).then_with(|| nulls_last(&a.1, &b.1))
}

impl Fold for PairSums {
    type Shared = SharedTables<PairTotals>;

    fn shared() -> SharedTables<PairTotals> {
        SharedTables::new()
    }

    fn new(shared: &SharedTables<PairTotals>) -> PairSums {
        PairSums {
            buffers: Buffers::new(shared),
            partial: Buffers::new(shared),
            others: HashMap::new(),
        }
    }

    #[inline]
    fn record(&mut self, shared: &SharedTables<PairTotals>, record: &FastRecord) {
        if !record.ok {
            return;
        }
        let key = pair_key(record.src, record.dst);
        match (record.bytes, record.packets) {
            (Some(bytes), Some(packets)) => {
                if self.buffers.push(partition_of(key), (key, bytes, packets)) {
                    self.buffers.flush(shared, add_record);
                }
            }
            (bytes, packets) => self.add(shared, key, bytes, packets),
        }
    }

    fn rows(&mut self, shared: &SharedTables<PairTotals>, rows: &Rows<'_>) {
        for row in 0..rows.len {
            if rows.ok(row) {
                let (bytes, packets) = (rows.bytes(row), rows.packets(row));
                match (Address::of(rows.srcaddr(row)), Address::of(rows.dstaddr(row))) {
                    (Address::V4(src), Address::V4(dst)) => self.add(shared, pair_key(src, dst), bytes, packets),
                    pair => self.others.entry(pair).or_default().add(bytes, packets),
                }
            }
        }
    }

    fn done_reading(&mut self, shared: &SharedTables<PairTotals>) {
        self.buffers.flush(shared, add_record);
        self.partial.flush(shared, add_totals);
    }

    fn finish(
        readers: Vec<PairSums>,
        shared: SharedTables<PairTotals>,
        limit: usize,
        _tcp_flags: bool,
        threads: usize,
    ) -> Vec<ArrayRef> {
        let mut others: HashMap<(Address, Address), PairTotals> = HashMap::new();
        for reader in readers {
            for (pair, totals) in reader.others {
                others.entry(pair).or_default().merge(&totals);
            }
        }
        let mut top: TopCandidates<(PairText, PairTotals)> = TopCandidates::new(limit);
        for (rank, (key, totals)) in table_candidates(&shared, limit, threads) {
            let (src, dst) = (Address::V4((key >> 32) as u32), Address::V4(key as u32));
            top.offer(rank, || ((src.text(), dst.text()), totals));
        }
        for ((src, dst), totals) in &others {
            top.offer(totals.rank(), || ((src.text(), dst.text()), *totals));
        }
        let mut rows: Vec<(i128, PairText, PairTotals)> = top
            .into_kept()
            .into_iter()
            .map(|(rank, (text, totals))| (rank, text, totals))
            .collect();
        rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| by_text(&a.1, &b.1)));
        rows.truncate(limit);
        let srcaddr: StringArray = rows.iter().map(|r| r.1 .0.as_deref()).collect();
        let dstaddr: StringArray = rows.iter().map(|r| r.1 .1.as_deref()).collect();
        let bytes: Int64Array = rows.iter().map(|r| r.2.bytes()).collect();
        let packets: Int64Array = rows.iter().map(|r| r.2.packets()).collect();
        let records: Int64Array = rows.iter().map(|r| Some(r.2.records())).collect();
        vec![
            Arc::new(srcaddr),
            Arc::new(dstaddr),
            Arc::new(bytes),
            Arc::new(packets),
            Arc::new(records),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entries whose rank reaches the `limit`-th highest, by sorting all of them.
    fn by_sorting(ranks: &[i128], limit: usize) -> Vec<(i128, usize)> {
        let mut sorted = ranks.to_vec();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        let threshold = match sorted.get(limit.wrapping_sub(1)) {
            _ if limit == 0 => return vec![],
            Some(rank) => *rank,
            None => i128::MIN,
        };
        let mut kept: Vec<(i128, usize)> = ranks
            .iter()
            .enumerate()
            .filter(|(_, rank)| **rank >= threshold)
            .map(|(i, rank)| (*rank, i))
            .collect();
        kept.sort_unstable();
        kept
    }

    #[test]
    fn the_candidates_are_every_entry_that_reaches_the_limit_ties_included() {
        let mut state = 11u64;
        let mut random = || crate::fold::next_random(&mut state) >> 33;
        // Few distinct ranks (many ties), rising, falling and random orders, and nulls' rank.
        let shuffled: Vec<i128> = (0..20_000)
            .map(|_| match random() % 50 {
                0 => i128::MAX,
                r => i128::from(r),
            })
            .collect();
        let rising: Vec<i128> = (0..20_000).map(|i| i128::from(i / 3)).collect();
        let falling: Vec<i128> = rising.iter().rev().copied().collect();
        for ranks in [&shuffled, &rising, &falling] {
            for limit in [0, 1, 10, 399, 5000, 30_000] {
                let mut top = TopCandidates::new(limit);
                for (i, rank) in ranks.iter().enumerate() {
                    top.offer(*rank, || i);
                }
                let mut kept = top.into_kept();
                kept.sort_unstable();
                assert_eq!(kept, by_sorting(ranks, limit), "limit {limit}");
            }
        }
    }
}
