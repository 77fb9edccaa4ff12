//! SQL over the logs with Apache DataFusion: tables `flows`, `vpn_connections`, `tunnel_events`
//! and `vpn_endpoints`.
//!
//! `flows` is streamed. Its columns are the fields the sources carry, learnt from their header
//! lines (or Parquet footers) before any query: a query that names a field no source has fails
//! naming it, instead of reading a column of nulls. Each scan builds only the columns it reads,
//! but every value of every line is checked, so what is a bad line never depends on the query.
//! Files (and byte ranges of large plain-text files) are spread over one partition per core;
//! memory stays bounded by the batches in flight and whatever the query itself keeps.

use crate::answers::OptionalColumns;
use crate::flow_format::{column_name, field_index, FlowColumns, FlowFormat};
use crate::flow_reader::{maybe_gunzip, parquet_format, read_parquet, FlowReadOptions, FlowTextReader};
use crate::fold::FoldedQuestion;
use crate::issues::{Issue, Issues};
use crate::sources::Input;
use crate::udf;
use crate::LogError;
use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::SchemaError;
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, LogicalPlan, TableType};
use datafusion::physical_expr::LexOrdering;
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use datafusion::prelude::{SessionConfig, SessionContext};
use std::sync::Arc;

/// A Client VPN endpoint and one VPC or network interface its clients' traffic crosses: what
/// ties a flow record to that endpoint's sessions when client CIDRs overlap across endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointScope {
    /// `cvpn-endpoint-…`
    pub endpoint: String,
    /// `vpc-…` (matched against `flows.vpc_id`) or `eni-…` (against `flows.interface_id`).
    pub scope: String,
}

impl EndpointScope {
    /// `cvpn-endpoint-…=vpc-…|eni-…[,…]`, as given on the command line.
    pub fn parse(text: &str) -> Result<Vec<EndpointScope>, String> {
        let (endpoint, scopes) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?}: expected cvpn-endpoint-…=vpc-…|eni-…"))?;
        let endpoint = endpoint.trim();
        let id_like = |id: &str, prefix: &str| {
            id.strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_hexdigit()))
        };
        if !id_like(endpoint, "cvpn-endpoint-") {
            return Err(format!(
                "{endpoint:?} is not a Client VPN endpoint id (cvpn-endpoint-…)"
            ));
        }
        let mut out = vec![];
        for scope in scopes.split(',').map(str::trim) {
            if !id_like(scope, "vpc-") && !id_like(scope, "eni-") {
                return Err(format!(
                    "{scope:?} is not a VPC (vpc-…) or network interface (eni-…) id"
                ));
            }
            out.push(EndpointScope {
                endpoint: endpoint.to_owned(),
                scope: scope.to_owned(),
            });
        }
        Ok(out)
    }
}

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct LogSources {
    pub flows: Vec<Input>,
    pub vpn: Vec<Input>,
    pub tunnels: Vec<Input>,
    pub flow_options: FlowReadOptions,
    /// The table `vpn_endpoints`: which VPCs and interfaces belong to which Client VPN endpoint.
    pub vpn_endpoints: Vec<EndpointScope>,
}

/// A table of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    Flows,
    VpnConnections,
    TunnelEvents,
    VpnEndpoints,
}

impl Table {
    pub const ALL: [Table; 4] = [
        Table::Flows,
        Table::VpnConnections,
        Table::TunnelEvents,
        Table::VpnEndpoints,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Flows => "flows",
            Table::VpnConnections => "vpn_connections",
            Table::TunnelEvents => "tunnel_events",
            Table::VpnEndpoints => "vpn_endpoints",
        }
    }
}

/// A query's result.
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl QueryResult {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// One piece of flow input a partition reads.
#[derive(Debug, Clone)]
pub(crate) enum FlowUnit {
    Whole(Input),
    Range {
        path: std::path::PathBuf,
        start: u64,
        end: u64,
    },
}

impl FlowUnit {
    /// A streamed text input, opened: its fetch starts now.
    fn open_stream(&self) -> Option<Result<Box<dyn std::io::Read + Send>, LogError>> {
        match self {
            FlowUnit::Whole(input) if input.is_stream() && !input.is_parquet() => Some(input.open()),
            _ => None,
        }
    }

    /// Reading order: by source name, then by place in the file.
    fn order(&self) -> (String, u64) {
        match self {
            FlowUnit::Whole(input) => (input.name(), 0),
            FlowUnit::Range { path, start, .. } => (path.display().to_string(), *start),
        }
    }
}

/// Plain-text files past this size are read as several byte ranges at once.
const SPLIT_BYTES: u64 = 32 << 20;
/// A large file is split into this many ranges per reader, none smaller than [`MIN_RANGE_BYTES`].
const RANGES_PER_READER: u64 = 4;
const MIN_RANGE_BYTES: u64 = 16 << 20;

/// A session over one set of sources.
pub struct LogSession {
    runtime: tokio::runtime::Runtime,
    ctx: SessionContext,
    columns: FlowColumns,
    /// The `flows` table, also read by the folded answers.
    flows: Arc<FlowsTable>,
    formats: Vec<(String, FlowFormat)>,
    issues: Issues,
    notes: Vec<String>,
}

impl std::fmt::Debug for LogSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSession").field("columns", &self.columns).finish()
    }
}

impl LogSession {
    /// Read the VPN logs (small: held in memory), learn the flow sources' formats and prepare
    /// the streamed `flows` table.
    pub fn new(sources: LogSources, issues: Issues) -> Result<LogSession, LogError> {
        let partitions = std::thread::available_parallelism().map_or(2, usize::from);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(partitions)
            .enable_all()
            .build()
            .map_err(|e| LogError::Internal(format!("cannot start the query runtime: {e}")))?;
        let config = SessionConfig::new()
            .with_target_partitions(partitions)
            .with_information_schema(true);
        let ctx = SessionContext::new_with_config(config);
        udf::register(&ctx);
        let strict = sources.flow_options.strict;
        let vpn = crate::vpn::read_vpn(&sources.vpn, &issues, strict)?;
        ctx.register_table(
            Table::VpnConnections.name(),
            Arc::new(MemTable::try_new(vpn.schema(), vec![vec![vpn]])?),
        )?;
        let tunnels = crate::vpn::read_tunnels(&sources.tunnels, &issues, strict)?;
        ctx.register_table(
            Table::TunnelEvents.name(),
            Arc::new(MemTable::try_new(tunnels.schema(), vec![vec![tunnels]])?),
        )?;
        let endpoints = endpoints_batch(&sources.vpn_endpoints)?;
        ctx.register_table(
            Table::VpnEndpoints.name(),
            Arc::new(MemTable::try_new(endpoints.schema(), vec![vec![endpoints]])?),
        )?;

        let mut formats = vec![];
        let mut readable = vec![];
        let probed = source_formats(&sources.flows, &sources.flow_options);
        for (input, format) in sources.flows.iter().zip(probed) {
            match format {
                Ok(format) => {
                    formats.push((input.name(), format));
                    readable.push(input.clone());
                }
                // An unreadable Parquet footer: the file is reported and left out.
                Err(LogError::BadInput(issue)) if !strict => issues.report(issue),
                Err(e) => return Err(e),
            }
        }
        let columns = if sources.flows.is_empty() {
            FlowColumns::all_documented()
        } else {
            FlowColumns::of_formats(formats.iter().map(|(_, f)| f))
        };
        let mut notes = vec![];
        for name in columns.undocumented() {
            let first = formats
                .iter()
                .find(|(_, f)| f.names.iter().any(|n| n == name))
                .map_or(String::new(), |(source, _)| source.clone());
            notes.push(format!(
                "{first}: {name:?} is not a documented flow log field; it is the text column {:?} of flows",
                column_name(name)
            ));
        }
        let units = flow_units(&readable, partitions)?;
        let mut options = sources.flow_options.clone();
        options.columns = columns.clone();
        options.projection = None;
        let flows = Arc::new(FlowsTable {
            units,
            options,
            issues: issues.clone(),
            partitions,
        });
        ctx.register_table(Table::Flows.name(), flows.clone())?;
        Ok(LogSession {
            runtime,
            ctx,
            columns,
            flows,
            formats,
            issues,
            notes,
        })
    }

    pub fn issues(&self) -> &Issues {
        &self.issues
    }

    /// What the reader noticed without it being bad input: fields netaudit does not document,
    /// each once.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The columns of `flows`: the fields the sources carry.
    pub fn flow_columns(&self) -> &FlowColumns {
        &self.columns
    }

    /// The tables a statement reads.
    pub fn tables_read(&self, sql: &str) -> Result<Vec<Table>, LogError> {
        let plan = self
            .runtime
            .block_on(async { self.ctx.state().create_logical_plan(sql).await })
            .map_err(|e| self.explain(e))?;
        let mut read = vec![];
        let walk = plan.apply_with_subqueries(|node| {
            if let LogicalPlan::TableScan(scan) = node {
                if let Some(table) = Table::ALL.into_iter().find(|t| t.name() == scan.table_name.table()) {
                    read.push(table);
                }
            }
            Ok(TreeNodeRecursion::Continue)
        });
        walk.map_err(|e| self.explain(e))?;
        read.sort();
        read.dedup();
        Ok(read)
    }

    /// Run one SQL statement and collect its result. A failing query reports its first error.
    pub fn query(&self, sql: &str) -> Result<QueryResult, LogError> {
        self.runtime.block_on(async {
            let frame = self.ctx.sql(sql).await.map_err(|e| self.explain(e))?;
            let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
            let batches = frame.collect().await.map_err(|e| self.explain(e))?;
            Ok(QueryResult { schema, batches })
        })
    }

    /// A built-in answer folded as the records are read ([`crate::fold`]): the rows of its SQL,
    /// in the columns of its SQL's plan, with the same issues reported.
    pub fn fold(&self, question: FoldedQuestion) -> Result<QueryResult, LogError> {
        let sql = question.sql(OptionalColumns::of(&self.columns));
        // The plan gives the columns, and the same error as the SQL for a column no source has.
        let schema: SchemaRef = self.runtime.block_on(async {
            let frame = self.ctx.sql(&sql).await.map_err(|e| self.explain(e))?;
            Ok::<SchemaRef, LogError>(Arc::new(frame.schema().as_arrow().clone()))
        })?;
        let flows = &self.flows;
        let batch = crate::fold::answer(
            question,
            &flows.unit_queue(),
            &flows.options,
            &flows.issues,
            flows.partitions,
            schema.clone(),
        )?;
        Ok(QueryResult {
            schema,
            batches: vec![batch],
        })
    }

    /// A DataFusion error as a [`LogError`]; a documented flow field that no source carries is
    /// named as such.
    fn explain(&self, e: DataFusionError) -> LogError {
        if let DataFusionError::SchemaError(schema_error, _) = e.find_root() {
            if let SchemaError::FieldNotFound { field, .. } = schema_error.as_ref() {
                let in_flows = field.relation.as_ref().is_none_or(|r| r.table() == Table::Flows.name());
                if let Some(index) = field_index(&field.name) {
                    if in_flows && !self.columns.has(&field.name) {
                        let formats: Vec<String> = self
                            .formats
                            .iter()
                            .map(|(source, f)| format!("{source}: {}", f.names.join(" ")))
                            .collect();
                        return LogError::MissingColumn {
                            column: field.name.clone(),
                            field: crate::flow_format::FIELDS[index].name.to_owned(),
                            formats,
                        };
                    }
                }
            }
        }
        LogError::query(e)
    }
}

fn endpoints_batch(scopes: &[EndpointScope]) -> Result<RecordBatch, LogError> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("client_vpn_endpoint_id", DataType::Utf8, false),
        Field::new("scope_id", DataType::Utf8, false),
    ]));
    let endpoints = StringArray::from_iter_values(scopes.iter().map(|s| s.endpoint.as_str()));
    let ids = StringArray::from_iter_values(scopes.iter().map(|s| s.scope.as_str()));
    Ok(RecordBatch::try_new(schema, vec![Arc::new(endpoints), Arc::new(ids)])?)
}

/// Streamed sources probed for their header line at once: each probe waits for a fetch.
const PROBES_AT_ONCE: usize = 8;

/// [`source_format`] of every input, in order; streamed inputs (a request each) several at once.
fn source_formats(inputs: &[Input], options: &FlowReadOptions) -> Vec<Result<FlowFormat, LogError>> {
    if !inputs.iter().any(Input::is_stream) {
        return inputs.iter().map(|input| source_format(input, options)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<FlowFormat, LogError>>>> =
        inputs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..PROBES_AT_ONCE.min(inputs.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let (Some(input), Some(slot)) = (inputs.get(i), results.get(i)) else {
                    break;
                };
                let format = source_format(input, options);
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(format);
                }
            });
        }
    });
    results
        .into_iter()
        .zip(inputs)
        .map(|(slot, input)| {
            slot.into_inner().ok().flatten().unwrap_or_else(|| {
                Err(LogError::Internal(format!(
                    "{}: the header probe stopped",
                    input.name()
                )))
            })
        })
        .collect()
}

/// The format a flow source is read with: its header line or Parquet footer, else the
/// configured one.
fn source_format(input: &Input, options: &FlowReadOptions) -> Result<FlowFormat, LogError> {
    use std::io::{BufRead, BufReader, Read};
    if input.is_parquet() {
        let bytes = match input.bytes() {
            Ok(bytes) => bytes,
            Err(e) => return Err(unreadable_stream(input, e)),
        };
        return parquet_format(&input.name(), bytes);
    }
    if !input.may_have_header() {
        return Ok(options.format.clone());
    }
    // A source that cannot be opened or decompressed here is reported when it is read.
    let Ok(reader) = input.open_head().and_then(|r| {
        maybe_gunzip(r).map_err(|e| LogError::Io {
            path: input.name(),
            source: e,
        })
    }) else {
        return Ok(options.format.clone());
    };
    let mut lines = BufReader::new(reader.take(1 << 20));
    let mut line = vec![];
    loop {
        line.clear();
        match lines.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return Ok(options.format.clone()),
            Ok(_) => {}
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if line.iter().all(|b| *b == b' ' || *b == b'\t') {
            continue;
        }
        return Ok(FlowFormat::from_header(&line).unwrap_or_else(|| options.format.clone()));
    }
}

fn flow_units(inputs: &[Input], partitions: usize) -> Result<Vec<(u64, FlowUnit)>, LogError> {
    let mut units = vec![];
    for input in inputs {
        match input {
            Input::File(path) if !input.is_parquet() => {
                let size = std::fs::metadata(path).map_err(|e| LogError::io(path, e))?.len();
                if size > SPLIT_BYTES && partitions > 1 && !is_gzip(path)? {
                    // Several ranges per reader, so that a reader that is done early takes
                    // another rather than waiting (see UnitQueue).
                    let ranges = (partitions as u64 * RANGES_PER_READER)
                        .min(size / MIN_RANGE_BYTES)
                        .max(2);
                    let step = size.div_ceil(ranges);
                    for i in 0..ranges {
                        let (start, end) = (i * step, ((i + 1) * step).min(size));
                        if start < end {
                            units.push((
                                end - start,
                                FlowUnit::Range {
                                    path: path.clone(),
                                    start,
                                    end,
                                },
                            ));
                        }
                    }
                    continue;
                }
                units.push((size, FlowUnit::Whole(input.clone())));
            }
            Input::File(path) => {
                let size = std::fs::metadata(path).map_err(|e| LogError::io(path, e))?.len();
                units.push((size, FlowUnit::Whole(input.clone())));
            }
            Input::Stream { size, .. } => units.push((size.unwrap_or(0), FlowUnit::Whole(input.clone()))),
            Input::Memory { bytes, .. } => units.push((bytes.len() as u64, FlowUnit::Whole(input.clone()))),
        }
    }
    // Largest first, so that spreading them over partitions balances.
    units.sort_by_key(|unit| std::cmp::Reverse(unit.0));
    Ok(units)
}

/// The `flows` table: each scan reads the sources again, building only the columns it projects.
#[derive(Debug)]
struct FlowsTable {
    units: Vec<(u64, FlowUnit)>,
    options: FlowReadOptions,
    issues: Issues,
    partitions: usize,
}

#[async_trait::async_trait]
impl TableProvider for FlowsTable {
    fn schema(&self) -> SchemaRef {
        self.options.columns.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let mut options = self.options.clone();
        options.projection = projection.cloned();
        let schema = options.schema();
        let groups = unit_groups(&self.units, self.partitions, options.strict);
        let partitions = groups
            .into_iter()
            .map(|units| {
                Arc::new(FlowPartition {
                    schema: schema.clone(),
                    units,
                    options: options.clone(),
                    issues: self.issues.clone(),
                }) as Arc<dyn PartitionStream>
            })
            .collect();
        let exec = StreamingTableExec::try_new(schema, partitions, None, Vec::<LexOrdering>::new(), false, limit)?;
        Ok(Arc::new(exec))
    }
}

/// Strict runs read with one reader, the sources in name order, so that the error is the first
/// bad line.
fn in_name_order(units: &[(u64, FlowUnit)]) -> Vec<FlowUnit> {
    let mut units: Vec<FlowUnit> = units.iter().map(|(_, unit)| unit.clone()).collect();
    units.sort_by_key(FlowUnit::order);
    units
}

/// The units each reader takes: strict, one reader in name order; otherwise each unit to the
/// least loaded reader. Fixed groups, so that a partition reads the same units however often the
/// plan runs it.
fn unit_groups(units: &[(u64, FlowUnit)], partitions: usize, strict: bool) -> Vec<Vec<FlowUnit>> {
    if strict {
        return vec![in_name_order(units)];
    }
    let mut groups: Vec<(u64, Vec<FlowUnit>)> = vec![(0, vec![]); partitions.max(1)];
    for (size, unit) in units {
        if let Some(group) = groups.iter_mut().min_by_key(|g| g.0) {
            group.0 += size;
            group.1.push(unit.clone());
        }
    }
    groups.into_iter().map(|(_, units)| units).collect()
}

/// Flow units that readers take one at a time as each finishes the one before, so that none waits
/// while another still has several to read.
#[derive(Debug)]
pub(crate) struct UnitQueue {
    units: Vec<FlowUnit>,
    next: std::sync::atomic::AtomicUsize,
    /// How many readers take from it.
    pub readers: usize,
}

impl UnitQueue {
    fn new(units: Vec<FlowUnit>, readers: usize) -> UnitQueue {
        UnitQueue {
            units,
            next: std::sync::atomic::AtomicUsize::new(0),
            readers,
        }
    }

    fn claim(&self) -> Option<&FlowUnit> {
        self.units
            .get(self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

impl FlowsTable {
    /// The flow units in one queue for every reader: largest first over every core, or strict,
    /// one reader in name order.
    fn unit_queue(&self) -> UnitQueue {
        if self.options.strict {
            UnitQueue::new(in_name_order(&self.units), 1)
        } else {
            let units = self.units.iter().map(|(_, unit)| unit.clone()).collect();
            UnitQueue::new(units, self.partitions.max(1))
        }
    }
}

/// Take units from `queue` and read each with `read` until none is left. A streamed input's
/// fetch starts while the one before it is read: at most two per reader.
pub(crate) fn for_each_claimed_unit<R>(queue: &UnitQueue, mut read: R) -> Result<(), LogError>
where
    R: FnMut(&FlowUnit, Option<Result<Box<dyn std::io::Read + Send>, LogError>>) -> Result<(), LogError>,
{
    let claim = || queue.claim().map(|unit| (unit, unit.open_stream()));
    let mut ahead = None;
    while let Some((unit, opened)) = ahead.take().or_else(claim) {
        // A file is claimed only when it is to be read; a stream's successor is fetched ahead.
        if opened.is_some() {
            ahead = claim();
        }
        read(unit, opened)?;
    }
    Ok(())
}

fn is_gzip(path: &std::path::Path) -> Result<bool, LogError> {
    use std::io::Read;
    let mut head = [0u8; 2];
    let mut file = std::fs::File::open(path).map_err(|e| LogError::io(path, e))?;
    let n = file.read(&mut head).map_err(|e| LogError::io(path, e))?;
    Ok(n == 2 && head == [0x1f, 0x8b])
}

/// A streamed input (an S3 object, a log stream) whose fetch failed: a bad input, not the end of
/// the run; other errors, and every error in strict mode, stay errors.
fn unreadable_stream(input: &Input, e: LogError) -> LogError {
    match e {
        LogError::Io { source, .. } if input.is_stream() => LogError::BadInput(Issue {
            source: input.name(),
            line: None,
            message: format!("cannot be read: {source}"),
        }),
        e => e,
    }
}

/// [`unreadable_stream`] reported: the partition goes on with its next input.
fn report_unreadable(input: &Input, e: LogError, strict: bool, issues: &Issues) -> Result<(), LogError> {
    match unreadable_stream(input, e) {
        LogError::BadInput(issue) if !strict => {
            issues.report(issue);
            Ok(())
        }
        e => Err(e),
    }
}

/// One partition of `flows`: its files read one after the other on a blocking thread.
#[derive(Debug)]
struct FlowPartition {
    schema: SchemaRef,
    units: Vec<FlowUnit>,
    options: FlowReadOptions,
    issues: Issues,
}

impl FlowPartition {
    /// Read `unit`; `opened`: its stream, already opened (and fetching).
    fn read_unit(
        unit: &FlowUnit,
        opened: Option<Result<Box<dyn std::io::Read + Send>, LogError>>,
        options: &FlowReadOptions,
        issues: &Issues,
        send: &mut dyn FnMut(RecordBatch) -> bool,
    ) -> Result<(), LogError> {
        match open_unit(unit, opened, options, issues)? {
            Some(UnitReader::Text(reader)) => {
                for batch in *reader {
                    if !send(batch?) {
                        break;
                    }
                }
            }
            Some(UnitReader::Batches(batches)) => {
                for batch in batches {
                    if !send(batch) {
                        break;
                    }
                }
            }
            None => {}
        }
        Ok(())
    }
}

/// A flow unit opened: text read line by line, or a Parquet file's batches.
pub(crate) enum UnitReader {
    Text(Box<FlowTextReader>),
    Batches(Vec<RecordBatch>),
}

/// Open `unit` (`opened`: its stream, already opened and fetching). `None`: it could not be read,
/// and that was reported as bad input; the reader goes on with its next unit.
pub(crate) fn open_unit(
    unit: &FlowUnit,
    opened: Option<Result<Box<dyn std::io::Read + Send>, LogError>>,
    options: &FlowReadOptions,
    issues: &Issues,
) -> Result<Option<UnitReader>, LogError> {
    match unit {
        FlowUnit::Range { path, start, end } => {
            let reader = FlowTextReader::byte_range(path, *start, *end, options.clone(), issues.clone())?;
            Ok(Some(UnitReader::Text(Box::new(reader))))
        }
        FlowUnit::Whole(input) if input.is_parquet() => {
            let bytes = match input.bytes() {
                Ok(bytes) => bytes,
                Err(e) => return report_unreadable(input, e, options.strict, issues).map(|()| None),
            };
            match read_parquet(&input.name(), bytes, options, issues) {
                Ok(batches) => Ok(Some(UnitReader::Batches(batches))),
                // One unreadable file is reported; the rest are read.
                Err(LogError::BadInput(issue)) if !options.strict => {
                    issues.report(issue);
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        }
        FlowUnit::Whole(input) => {
            let opened = opened.unwrap_or_else(|| input.open()).and_then(|r| {
                FlowTextReader::new(input.name(), r, options.clone(), issues.clone()).map_err(|e| LogError::Io {
                    path: input.name(),
                    source: e,
                })
            });
            match opened {
                Ok(reader) => Ok(Some(UnitReader::Text(Box::new(reader)))),
                Err(e) => report_unreadable(input, e, options.strict, issues).map(|()| None),
            }
        }
    }
}

impl PartitionStream for FlowPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let mut builder = RecordBatchReceiverStream::builder(self.schema.clone(), 4);
        let sender = builder.tx();
        let units = self.units.clone();
        let options = self.options.clone();
        let issues = self.issues.clone();
        builder.spawn_blocking(move || {
            let mut send = |batch: RecordBatch| sender.blocking_send(Ok(batch)).is_ok();
            // The partition's own units, one after the other.
            let queue = UnitQueue::new(units, 1);
            for_each_claimed_unit(&queue, |unit, opened| {
                FlowPartition::read_unit(unit, opened, &options, &issues, &mut send)
            })
            .map_err(|e| DataFusionError::External(Box::new(e)))
        });
        builder.build()
    }
}
