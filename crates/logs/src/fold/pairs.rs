//! The top talkers, folded: bytes, packets and records per (source, destination) pair of the
//! records whose `log-status` is `OK`.
//!
//! Pairs of IPv4 addresses (nearly all of them) are one integer. A busy estate has millions of
//! pairs, so a table of them is far larger than the caches, and each record would wait on memory.
//! Instead each record goes to one of [`PARTITIONS`] buffers by the hash of its pair, and a full
//! set of buffers is added to the partitions' tables one partition at a time: a partition's table
//! is small enough to stay in the caches while its buffer is added. Memory is the tables (the
//! answer's groups) and a fixed [`BUFFERED`] records.

use super::table::{mix, IntMap};
use super::{Address, Fold, Rows};
use crate::fold::scan::FastRecord;
use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

const PARTITIONS: usize = 256;
/// Records held in the buffers before they are added to the tables.
const BUFFERED: usize = 1 << 18;

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

#[inline(always)]
fn partition_of(key: u64) -> usize {
    // The low bits pick the partition; the tables use the high bits of the same hash.
    (mix(key) as usize) & (PARTITIONS - 1)
}

#[derive(Debug)]
pub(crate) struct PairSums {
    /// Per partition: pairs with both sums, not yet in its table.
    buffers: Vec<Vec<(u64, i64, i64)>>,
    buffered: usize,
    tables: Vec<IntMap<PairTotals>>,
    /// Pairs where either address is not canonical IPv4 (or is null).
    others: HashMap<(Address, Address), PairTotals>,
}

impl PairSums {
    fn flush(&mut self) {
        for (buffer, table) in self.buffers.iter_mut().zip(&mut self.tables) {
            for &(key, bytes, packets) in buffer.iter() {
                table.entry(key).add_both(bytes, packets);
            }
            buffer.clear();
        }
        self.buffered = 0;
    }

    fn add(&mut self, src: Address, dst: Address, bytes: Option<i64>, packets: Option<i64>) {
        match (src, dst) {
            (Address::V4(src), Address::V4(dst)) => {
                let key = pair_key(src, dst);
                self.tables[partition_of(key)].entry(key).add(bytes, packets);
            }
            pair => self.others.entry(pair).or_default().add(bytes, packets),
        }
    }
}

/// Partition `p` of every state's tables, merged; partitions spread over `threads`.
fn merge_partitions(states: Vec<Vec<IntMap<PairTotals>>>, threads: usize) -> Vec<IntMap<PairTotals>> {
    let mut by_partition: Vec<Vec<IntMap<PairTotals>>> = (0..PARTITIONS).map(|_| vec![]).collect();
    for tables in states {
        for (p, table) in tables.into_iter().enumerate() {
            if let Some(list) = by_partition.get_mut(p) {
                list.push(table);
            }
        }
    }
    let merge = |tables: Vec<IntMap<PairTotals>>| -> IntMap<PairTotals> {
        let mut tables = tables.into_iter();
        let mut merged = tables.next().unwrap_or_else(IntMap::new);
        for table in tables {
            merged.merge(&table, PairTotals::merge);
        }
        merged
    };
    let threads = threads.clamp(1, PARTITIONS);
    let chunk = PARTITIONS.div_ceil(threads);
    std::thread::scope(|scope| {
        let mut lists = by_partition.into_iter();
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let part: Vec<Vec<IntMap<PairTotals>>> = lists.by_ref().take(chunk).collect();
                scope.spawn(move || part.into_iter().map(merge).collect::<Vec<_>>())
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
    })
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
    fn new() -> PairSums {
        PairSums {
            buffers: (0..PARTITIONS).map(|_| Vec::new()).collect(),
            buffered: 0,
            tables: (0..PARTITIONS).map(|_| IntMap::new()).collect(),
            others: HashMap::new(),
        }
    }

    #[inline]
    fn record(&mut self, record: &FastRecord) {
        if !record.ok {
            return;
        }
        let key = pair_key(record.src, record.dst);
        match (record.bytes, record.packets) {
            (Some(bytes), Some(packets)) => {
                self.buffers[partition_of(key)].push((key, bytes, packets));
                self.buffered += 1;
                if self.buffered >= BUFFERED {
                    self.flush();
                }
            }
            (bytes, packets) => self.tables[partition_of(key)].entry(key).add(bytes, packets),
        }
    }

    fn rows(&mut self, rows: &Rows<'_>) {
        for row in 0..rows.len {
            if rows.ok(row) {
                let src = Address::of(rows.srcaddr(row));
                let dst = Address::of(rows.dstaddr(row));
                self.add(src, dst, rows.bytes(row), rows.packets(row));
            }
        }
    }

    fn merge(mut states: Vec<PairSums>, threads: usize) -> PairSums {
        for state in &mut states {
            state.flush();
        }
        let mut others: HashMap<(Address, Address), PairTotals> = HashMap::new();
        let mut tables = vec![];
        for state in states {
            for (pair, totals) in state.others {
                others.entry(pair).or_default().merge(&totals);
            }
            tables.push(state.tables);
        }
        PairSums {
            buffers: (0..PARTITIONS).map(|_| Vec::new()).collect(),
            buffered: 0,
            tables: merge_partitions(tables, threads),
            others,
        }
    }

    fn finish(self, limit: usize, _tcp_flags: bool) -> Vec<ArrayRef> {
        let fast = self
            .tables
            .iter()
            .flat_map(|t| t.iter())
            .map(|(_, totals)| totals.rank());
        let all_ranks = fast.chain(self.others.values().map(PairTotals::rank));
        // The limit-th largest rank: every row of the answer ranks at least that.
        let mut smallest_kept: BinaryHeap<Reverse<i128>> = BinaryHeap::with_capacity(limit.min(1 << 20) + 1);
        for rank in all_ranks {
            if smallest_kept.len() < limit {
                smallest_kept.push(Reverse(rank));
            } else if smallest_kept.peek().is_some_and(|Reverse(least)| rank > *least) {
                smallest_kept.pop();
                smallest_kept.push(Reverse(rank));
            }
        }
        let threshold = if smallest_kept.len() < limit {
            i128::MIN
        } else {
            smallest_kept.peek().map_or(i128::MIN, |Reverse(least)| *least)
        };
        let mut rows: Vec<(i128, PairText, PairTotals)> = vec![];
        if limit > 0 {
            for table in &self.tables {
                for (key, totals) in table.iter() {
                    if totals.rank() >= threshold {
                        let (src, dst) = (Address::V4((key >> 32) as u32), Address::V4(key as u32));
                        rows.push((totals.rank(), (src.text(), dst.text()), *totals));
                    }
                }
            }
            for ((src, dst), totals) in &self.others {
                if totals.rank() >= threshold {
                    rows.push((totals.rank(), (src.text(), dst.text()), *totals));
                }
            }
        }
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
