//! Tables every reader adds to: a busy estate has millions of groups, so a table of them is far
//! larger than the caches and each record would wait on memory, and a table per reader would hold
//! most groups once per reader.
//!
//! Instead the groups are split by hash into [`PARTITIONS`] tables shared by all readers. A reader
//! buffers its records per partition ([`Buffers`]) and, when the buffers are full, adds them one
//! partition at a time under that partition's lock: the partition's table stays in the caches
//! while its buffer is added, and readers start at different partitions, so they rarely wait on
//! each other. Memory is the tables (the answer's groups) and a fixed number of buffered records
//! per reader; there is nothing to merge at the end.

use super::table::{mix, IntMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

pub(crate) const PARTITIONS: usize = 256;

/// Records a reader holds before it adds them to the tables.
const BUFFERED: usize = 1 << 18;

/// The partition of a key. The low bits of its hash pick the partition; the tables use the high
/// bits of the same hash.
#[inline(always)]
pub(crate) fn partition_of(key: u64) -> usize {
    (mix(key) as usize) & (PARTITIONS - 1)
}

/// [`PARTITIONS`] tables from keys to `V`, shared by the readers.
#[derive(Debug)]
pub(crate) struct SharedTables<V> {
    parts: Vec<Mutex<IntMap<V>>>,
    readers: AtomicUsize,
}

impl<V: Copy + Default> SharedTables<V> {
    pub(crate) fn new() -> SharedTables<V> {
        SharedTables {
            parts: (0..PARTITIONS).map(|_| Mutex::new(IntMap::new())).collect(),
            readers: AtomicUsize::new(0),
        }
    }

    /// Partition `p`'s table. A reader that panicked holding a lock has already failed the
    /// answer, so a poisoned lock is taken as it is.
    pub(crate) fn lock(&self, p: usize) -> Option<MutexGuard<'_, IntMap<V>>> {
        self.parts
            .get(p)
            .map(|part| part.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Where the next reader starts adding its buffers: readers spread around the partitions.
    fn first_partition(&self) -> usize {
        // 157 is odd, so every reader count spreads; it is near the golden ratio of 256.
        self.readers.fetch_add(1, Ordering::Relaxed).wrapping_mul(157) % PARTITIONS
    }

    /// Every table, in turn, passed to `each` (no lock is held in between).
    #[cfg(test)]
    pub(crate) fn for_each_table(&self, mut each: impl FnMut(&IntMap<V>)) {
        for p in 0..PARTITIONS {
            if let Some(table) = self.lock(p) {
                each(&table);
            }
        }
    }

    /// Every table passed to `visit` with an accumulator, the tables spread over `threads` with
    /// an accumulator each (made by `start`); the accumulators.
    pub(crate) fn visit_in_parallel<R: Send>(
        &self,
        threads: usize,
        start: impl Fn() -> R + Sync,
        visit: impl Fn(&mut R, &IntMap<V>) + Sync,
    ) -> Vec<R>
    where
        V: Send,
    {
        partitions_in_parallel(threads, start, |accumulator, p| {
            if let Some(table) = self.lock(p) {
                visit(accumulator, &table);
            }
        })
    }
}

/// Every partition number passed to `visit` with an accumulator, the partitions spread over
/// `threads` with an accumulator each (made by `start`); the accumulators.
pub(crate) fn partitions_in_parallel<R: Send>(
    threads: usize,
    start: impl Fn() -> R + Sync,
    visit: impl Fn(&mut R, usize) + Sync,
) -> Vec<R> {
    let threads = threads.clamp(1, PARTITIONS);
    let chunk = PARTITIONS.div_ceil(threads);
    let (start, visit) = (&start, &visit);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                scope.spawn(move || {
                    let mut accumulator = start();
                    for p in (worker * chunk..(worker + 1) * chunk).take_while(|p| *p < PARTITIONS) {
                        visit(&mut accumulator, p);
                    }
                    accumulator
                })
            })
            .collect();
        // A worker that panicked fails the answer rather than leaving its partitions out.
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

/// One reader's records on their way to a [`SharedTables`]: `E` is what one record adds.
#[derive(Debug)]
pub(crate) struct Buffers<E> {
    buffers: Vec<Vec<E>>,
    len: usize,
    first: usize,
}

impl<E> Buffers<E> {
    pub(crate) fn new<V: Copy + Default>(tables: &SharedTables<V>) -> Buffers<E> {
        Buffers {
            buffers: (0..PARTITIONS).map(|_| Vec::new()).collect(),
            len: 0,
            first: tables.first_partition(),
        }
    }

    /// Hold `entry` for partition `p`; `true` when the buffers are full and want a [`flush`].
    ///
    /// [`flush`]: Buffers::flush
    #[inline(always)]
    pub(crate) fn push(&mut self, p: usize, entry: E) -> bool {
        if let Some(buffer) = self.buffers.get_mut(p) {
            buffer.push(entry);
            self.len += 1;
        }
        self.len >= BUFFERED
    }

    /// Add every held entry to its partition's table with `add`. A partition another reader is
    /// adding to is left for later rather than waited on.
    pub(crate) fn flush<V: Copy + Default>(&mut self, tables: &SharedTables<V>, add: impl Fn(&mut IntMap<V>, &E)) {
        let mut busy = vec![];
        let add_buffer = |buffer: &mut Vec<E>, table: &mut IntMap<V>| {
            for entry in buffer.iter() {
                add(table, entry);
            }
            buffer.clear();
        };
        for i in 0..PARTITIONS {
            let p = (self.first + i) % PARTITIONS;
            let (Some(buffer), Some(part)) = (self.buffers.get_mut(p), tables.parts.get(p)) else {
                continue;
            };
            if buffer.is_empty() {
                continue;
            }
            match part.try_lock() {
                Ok(mut table) => add_buffer(buffer, &mut table),
                Err(TryLockError::Poisoned(poisoned)) => add_buffer(buffer, &mut poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => busy.push(p),
            }
        }
        for p in busy {
            if let (Some(buffer), Some(mut table)) = (self.buffers.get_mut(p), tables.lock(p)) {
                add_buffer(buffer, &mut table);
            }
        }
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn readers_adding_at_once_count_every_record_once() {
        let tables: SharedTables<u64> = SharedTables::new();
        let readers = 4u64;
        let per_reader = 3 * BUFFERED as u64 + 12_345;
        std::thread::scope(|scope| {
            for reader in 0..readers {
                let tables = &tables;
                scope.spawn(move || {
                    let mut buffers: Buffers<(u64, u64)> = Buffers::new(tables);
                    let add = |table: &mut IntMap<u64>, &(key, n): &(u64, u64)| *table.entry(key) += n;
                    for i in 0..per_reader {
                        // Keys shared by all readers, and the empty-slot marker among them.
                        let key = if i % 100_000 == 0 { u64::MAX } else { i % 50_000 };
                        if buffers.push(partition_of(key), (key, reader + 1)) {
                            buffers.flush(tables, add);
                        }
                    }
                    buffers.flush(tables, add);
                });
            }
        });
        let mut expected: HashMap<u64, u64> = HashMap::new();
        for reader in 0..readers {
            for i in 0..per_reader {
                let key = if i % 100_000 == 0 { u64::MAX } else { i % 50_000 };
                *expected.entry(key).or_default() += reader + 1;
            }
        }
        let mut got: HashMap<u64, u64> = HashMap::new();
        tables.for_each_table(|table| {
            for (key, n) in table.iter() {
                assert!(got.insert(key, *n).is_none(), "{key} is in two partitions");
            }
        });
        assert_eq!(got, expected);
    }
}
