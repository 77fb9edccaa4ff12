//! Built-in answers folded as the records are read, without building a table first: the top
//! talkers and the rejects by source, the two questions that read every record of a busy estate.
//!
//! Each answer is still defined by its SQL in [`crate::answers`], and gives the same rows: the
//! SQL's plan gives the columns, records are read by the same readers with the same issues, and
//! the tests hold the two to each other. What differs is the work per record:
//! - a line in the usual shape is read by [`scan`] straight into integers (addresses included);
//!   any other line (IPv6, `-`, a bad line, a header) goes through the general reader, and its rows
//!   are folded from Arrow;
//! - groups are spread over partitions by hash, shared by every reader, and gathered a batch at a
//!   time, so each partition's table stays in the caches while it is filled ([`partitioned`]);
//! - readers take the units (files, objects, ranges of a large file) from one queue as each is
//!   done, so none idles while another has several left;
//! - what little each reader keeps for itself (addresses that are not IPv4) is merged at the end.

mod pairs;
mod partitioned;
mod rejects;
pub(crate) mod scan;
pub(crate) mod table;

use crate::answers::{self, Dialect, OptionalColumns};
use crate::flow_reader::FlowReadOptions;
use crate::issues::Issues;
use crate::session::{for_each_claimed_unit, open_unit, FlowUnit, UnitQueue, UnitReader};
use crate::LogError;
use datafusion::arrow::array::{Array, ArrayRef, Int32Array, Int64Array, PrimitiveArray, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::ArrowPrimitiveType;
use datafusion::arrow::datatypes::SchemaRef;
use scan::{FastRecord, RecordLayout};
use std::net::Ipv4Addr;

/// A built-in answer that can be folded as the records are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldedQuestion {
    /// [`answers::top_talkers`].
    TopTalkers { limit: usize },
    /// [`answers::rejects`].
    Rejects { limit: usize },
}

impl FoldedQuestion {
    /// The SQL that defines the answer.
    pub fn sql(self, optional: OptionalColumns) -> String {
        match self {
            FoldedQuestion::TopTalkers { limit } => answers::top_talkers(Dialect::DataFusion, limit),
            FoldedQuestion::Rejects { limit } => answers::rejects(Dialect::DataFusion, limit, optional),
        }
    }
}

/// The `flows` columns the folded answers read from rows of the general reader.
const COLUMNS: &[&str] = &[
    "srcaddr",
    "dstaddr",
    "bytes",
    "packets",
    "log_status",
    "action",
    "dstport",
    "start",
    "end",
    "tcp_flags",
];

/// One answer's running state: the tables every reader adds to, and each reader's own part.
pub(crate) trait Fold: Send + Sized {
    /// What every reader adds to.
    type Shared: Sync;
    fn shared() -> Self::Shared;
    /// A reader's own part.
    fn new(shared: &Self::Shared) -> Self;
    /// A record of the fast path, inside the time range.
    fn record(&mut self, shared: &Self::Shared, record: &FastRecord);
    /// Rows of the general reader (already inside the time range).
    fn rows(&mut self, shared: &Self::Shared, rows: &Rows<'_>);
    /// The reader has read its last record: what it holds for the shared tables goes there.
    fn done_reading(&mut self, shared: &Self::Shared);
    /// The answer's columns, in the order of its SQL, from the shared tables and what each reader
    /// kept for itself.
    fn finish(readers: Vec<Self>, shared: Self::Shared, limit: usize, tcp_flags: bool, threads: usize)
        -> Vec<ArrayRef>;
}

/// The next of a deterministic pseudo-random sequence for the tests (a 64-bit linear congruential
/// generator: use its high bits).
#[cfg(test)]
pub(crate) fn next_random(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state
}

/// An address as a group key: canonical IPv4 text as its integer, any other text as itself.
/// The two never meet: a text is only kept as text when it is not canonical IPv4.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Address {
    V4(u32),
    Text(String),
    Null,
}

impl Address {
    pub(crate) fn of(text: Option<&str>) -> Address {
        match text {
            None => Address::Null,
            Some(text) => match scan::canonical_ipv4(text.as_bytes()) {
                Some(address) => Address::V4(address),
                None => Address::Text(text.to_owned()),
            },
        }
    }

    pub(crate) fn text(&self) -> Option<String> {
        match self {
            Address::V4(address) => Some(Ipv4Addr::from(*address).to_string()),
            Address::Text(text) => Some(text.clone()),
            Address::Null => None,
        }
    }
}

/// The columns of a batch of the general reader the answers read; a column the table lacks is
/// null throughout.
pub(crate) struct Rows<'a> {
    pub len: usize,
    srcaddr: Option<&'a StringArray>,
    dstaddr: Option<&'a StringArray>,
    log_status: Option<&'a StringArray>,
    action: Option<&'a StringArray>,
    bytes: Option<&'a Int64Array>,
    packets: Option<&'a Int64Array>,
    start: Option<&'a Int64Array>,
    end: Option<&'a Int64Array>,
    dstport: Option<&'a Int32Array>,
    tcp_flags: Option<&'a Int32Array>,
}

fn text_at(column: Option<&StringArray>, row: usize) -> Option<&str> {
    column.filter(|c| c.is_valid(row)).map(|c| c.value(row))
}

fn number_at<T: ArrowPrimitiveType>(column: Option<&PrimitiveArray<T>>, row: usize) -> Option<i64>
where
    T::Native: Into<i64>,
{
    column.filter(|c| c.is_valid(row)).map(|c| c.value(row).into())
}

impl<'a> Rows<'a> {
    fn of(batch: &'a RecordBatch) -> Rows<'a> {
        let text = |name: &str| batch.column_by_name(name)?.as_any().downcast_ref::<StringArray>();
        let int64 = |name: &str| batch.column_by_name(name)?.as_any().downcast_ref::<Int64Array>();
        let int32 = |name: &str| batch.column_by_name(name)?.as_any().downcast_ref::<Int32Array>();
        Rows {
            len: batch.num_rows(),
            srcaddr: text("srcaddr"),
            dstaddr: text("dstaddr"),
            log_status: text("log_status"),
            action: text("action"),
            bytes: int64("bytes"),
            packets: int64("packets"),
            start: int64("start"),
            end: int64("end"),
            dstport: int32("dstport"),
            tcp_flags: int32("tcp_flags"),
        }
    }

    pub fn srcaddr(&self, row: usize) -> Option<&str> {
        text_at(self.srcaddr, row)
    }

    pub fn dstaddr(&self, row: usize) -> Option<&str> {
        text_at(self.dstaddr, row)
    }

    pub fn ok(&self, row: usize) -> bool {
        text_at(self.log_status, row) == Some("OK")
    }

    pub fn rejected(&self, row: usize) -> bool {
        text_at(self.action, row) == Some("REJECT")
    }

    pub fn bytes(&self, row: usize) -> Option<i64> {
        number_at(self.bytes, row)
    }

    pub fn packets(&self, row: usize) -> Option<i64> {
        number_at(self.packets, row)
    }

    pub fn start(&self, row: usize) -> Option<i64> {
        number_at(self.start, row)
    }

    pub fn end(&self, row: usize) -> Option<i64> {
        number_at(self.end, row)
    }

    pub fn dstport(&self, row: usize) -> Option<i64> {
        number_at(self.dstport, row)
    }

    pub fn tcp_flags(&self, row: usize) -> Option<i64> {
        number_at(self.tcp_flags, row)
    }
}

/// Where the lines of one text source go: taken by the fast path, or read by the general reader.
pub(crate) trait LineSink {
    /// Take `line`, or decline it (`false`) for the general reader.
    fn fast(&mut self, line: &[u8], layout: &RecordLayout) -> bool;
    /// Rows the general reader read.
    fn slow(&mut self, batch: RecordBatch) -> Result<(), LogError>;
}

struct FoldSink<'a, F: Fold> {
    state: &'a mut F,
    shared: &'a F::Shared,
    since: Option<i64>,
    until: Option<i64>,
    record: FastRecord,
}

impl<F: Fold> LineSink for FoldSink<'_, F> {
    #[inline]
    fn fast(&mut self, line: &[u8], layout: &RecordLayout) -> bool {
        if !scan::scan(line, layout, &mut self.record) {
            return false;
        }
        // The general reader's time range: a record outside it is read, and left out.
        let record = &self.record;
        let before = self
            .since
            .is_some_and(|since| record.end.is_some_and(|end| end < since));
        let after = self
            .until
            .is_some_and(|until| record.start.is_some_and(|start| start >= until));
        if !before && !after {
            self.state.record(self.shared, record);
        }
        true
    }

    fn slow(&mut self, batch: RecordBatch) -> Result<(), LogError> {
        self.state.rows(self.shared, &Rows::of(&batch));
        Ok(())
    }
}

/// The options the fold's readers use: the columns the answers read, nothing else built.
fn fold_options(options: &FlowReadOptions) -> FlowReadOptions {
    let mut options = options.clone();
    options.projection = Some(COLUMNS.iter().filter_map(|c| options.columns.index_of(c)).collect());
    options
}

fn fold_unit<F: Fold>(
    unit: &FlowUnit,
    opened: Option<Result<Box<dyn std::io::Read + Send>, LogError>>,
    options: &FlowReadOptions,
    issues: &Issues,
    state: &mut F,
    shared: &F::Shared,
) -> Result<(), LogError> {
    let mut sink = FoldSink {
        state,
        shared,
        since: options.since,
        until: options.until,
        record: FastRecord::default(),
    };
    match open_unit(unit, opened, options, issues)? {
        Some(UnitReader::Text(mut reader)) => reader.fold_lines(&mut sink),
        Some(UnitReader::Batches(batches)) => batches.into_iter().try_for_each(|batch| sink.slow(batch)),
        None => Ok(()),
    }
}

/// Fold the units of `queue` into one state, with as many readers as it asks for.
fn fold_units<F: Fold>(
    queue: &UnitQueue,
    options: &FlowReadOptions,
    issues: &Issues,
) -> Result<(Vec<F>, F::Shared), LogError> {
    let options = fold_options(options);
    let shared = F::shared();
    let states: Vec<Result<F, LogError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..queue.readers)
            .map(|_| {
                let (options, shared) = (&options, &shared);
                scope.spawn(move || {
                    let mut state = F::new(shared);
                    for_each_claimed_unit(queue, |unit, opened| {
                        fold_unit(unit, opened, options, issues, &mut state, shared)
                    })?;
                    // What the reader still holds goes to the shared tables now, beside the others.
                    state.done_reading(shared);
                    Ok(state)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err(LogError::Internal("a reader of the flow logs stopped".into())))
            })
            .collect()
    });
    let states = states.into_iter().collect::<Result<Vec<F>, LogError>>()?;
    Ok((states, shared))
}

/// The answer to `question` over the flow units of `queue`, in `schema` (the columns of the
/// question's SQL plan).
pub(crate) fn answer(
    question: FoldedQuestion,
    queue: &UnitQueue,
    options: &FlowReadOptions,
    issues: &Issues,
    threads: usize,
    schema: SchemaRef,
) -> Result<RecordBatch, LogError> {
    let tcp_flags = options.columns.has("tcp-flags");
    let columns = match question {
        FoldedQuestion::TopTalkers { limit } => {
            let (readers, shared) = fold_units::<pairs::PairSums>(queue, options, issues)?;
            pairs::PairSums::finish(readers, shared, limit, tcp_flags, threads)
        }
        FoldedQuestion::Rejects { limit } => {
            let (readers, shared) = fold_units::<rejects::RejectSums>(queue, options, issues)?;
            rejects::RejectSums::finish(readers, shared, limit, tcp_flags, threads)
        }
    };
    if columns.len() != schema.fields().len() {
        return Err(LogError::Internal(format!(
            "the folded answer has {} columns where its SQL has {}",
            columns.len(),
            schema.fields().len()
        )));
    }
    let columns = columns
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| cast(column, field.data_type()))
        .collect::<Result<Vec<ArrayRef>, _>>()?;
    Ok(RecordBatch::try_new(schema, columns)?)
}
