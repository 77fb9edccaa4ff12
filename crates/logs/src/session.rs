//! SQL over the logs with Apache DataFusion: tables `flows`, `vpn_connections`, `tunnel_events`.
//!
//! `flows` is streamed: every query is planned once against the full schema to learn which flow
//! fields it reads, and the readers then build only those columns. Files (and byte ranges of large
//! plain-text files) are spread over one partition per core; memory stays bounded by the batches in
//! flight and whatever the query itself keeps (its groups, its result).

use crate::flow_format::{flows_schema, FIELDS};
use crate::flow_reader::{read_parquet, FlowReadOptions, FlowTextReader};
use crate::issues::Issues;
use crate::sources::Input;
use crate::udf;
use crate::LogError;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::prelude::{SessionConfig, SessionContext};
use std::sync::Arc;

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct LogSources {
    pub flows: Vec<Input>,
    pub vpn: Vec<Input>,
    pub tunnels: Vec<Input>,
    pub flow_options: FlowReadOptions,
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
enum FlowUnit {
    Whole(Input),
    Range {
        path: std::path::PathBuf,
        start: u64,
        end: u64,
    },
}

/// Plain-text files past this size are read as several byte ranges at once.
const SPLIT_BYTES: u64 = 32 << 20;

/// A session over one set of sources.
pub struct LogSession {
    runtime: tokio::runtime::Runtime,
    ctx: SessionContext,
    sources: LogSources,
    issues: Issues,
    partitions: usize,
}

impl std::fmt::Debug for LogSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSession")
            .field("sources", &self.sources)
            .field("partitions", &self.partitions)
            .finish()
    }
}

impl LogSession {
    /// Read the VPN logs (small: held in memory) and prepare the streamed `flows` table.
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
            "vpn_connections",
            Arc::new(MemTable::try_new(vpn.schema(), vec![vec![vpn]])?),
        )?;
        let tunnels = crate::vpn::read_tunnels(&sources.tunnels, &issues, strict)?;
        ctx.register_table(
            "tunnel_events",
            Arc::new(MemTable::try_new(tunnels.schema(), vec![vec![tunnels]])?),
        )?;
        Ok(LogSession {
            runtime,
            ctx,
            sources,
            issues,
            partitions,
        })
    }

    pub fn issues(&self) -> &Issues {
        &self.issues
    }

    /// Run one SQL statement and collect its result.
    pub fn query(&self, sql: &str) -> Result<QueryResult, LogError> {
        self.runtime.block_on(self.query_async(sql))
    }

    async fn query_async(&self, sql: &str) -> Result<QueryResult, LogError> {
        // Plan against an empty `flows` with every column to learn which ones the query reads.
        self.ctx.deregister_table("flows")?;
        self.ctx
            .register_table("flows", Arc::new(MemTable::try_new(flows_schema(), vec![vec![]])?))?;
        let plan = self
            .ctx
            .sql(sql)
            .await
            .map_err(LogError::query)?
            .into_optimized_plan()?;
        let projection = flows_projection(&plan);
        let mut attempt = self.run_with_projection(sql, projection.clone()).await;
        if attempt.is_err() && projection.is_some() {
            // A plan shape the projection walk does not see through: read every column.
            attempt = self.run_with_projection(sql, None).await;
        }
        attempt
    }

    async fn run_with_projection(&self, sql: &str, projection: Option<Vec<usize>>) -> Result<QueryResult, LogError> {
        let mut options = self.sources.flow_options.clone();
        options.projection = projection;
        let schema = options.schema();
        let partitions = self.flow_partitions(&options, &schema)?;
        self.ctx.deregister_table("flows")?;
        self.ctx
            .register_table("flows", Arc::new(StreamingTable::try_new(schema, partitions)?))?;
        let frame = self.ctx.sql(sql).await.map_err(LogError::query)?;
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        let batches = frame.collect().await.map_err(LogError::query)?;
        Ok(QueryResult { schema, batches })
    }

    fn flow_partitions(
        &self,
        options: &FlowReadOptions,
        schema: &SchemaRef,
    ) -> Result<Vec<Arc<dyn PartitionStream>>, LogError> {
        let mut units = vec![];
        for input in &self.sources.flows {
            match input {
                Input::File(path) if !input.is_parquet() => {
                    let size = std::fs::metadata(path).map_err(|e| LogError::io(path, e))?.len();
                    if size > SPLIT_BYTES && self.partitions > 1 && !is_gzip(path)? {
                        let step = size.div_ceil(self.partitions as u64);
                        for i in 0..self.partitions as u64 {
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
                Input::Memory { bytes, .. } => units.push((bytes.len() as u64, FlowUnit::Whole(input.clone()))),
            }
        }
        // Largest first, each to the least loaded partition.
        units.sort_by_key(|unit| std::cmp::Reverse(unit.0));
        let count = self.partitions.max(1);
        let mut groups: Vec<(u64, Vec<FlowUnit>)> = vec![(0, vec![]); count];
        for (size, unit) in units {
            if let Some(group) = groups.iter_mut().min_by_key(|g| g.0) {
                group.0 += size;
                group.1.push(unit);
            }
        }
        Ok(groups
            .into_iter()
            .map(|(_, units)| {
                Arc::new(FlowPartition {
                    schema: schema.clone(),
                    units,
                    options: options.clone(),
                    issues: self.issues.clone(),
                }) as Arc<dyn PartitionStream>
            })
            .collect())
    }
}

fn is_gzip(path: &std::path::Path) -> Result<bool, LogError> {
    use std::io::Read;
    let mut head = [0u8; 2];
    let mut file = std::fs::File::open(path).map_err(|e| LogError::io(path, e))?;
    let n = file.read(&mut head).map_err(|e| LogError::io(path, e))?;
    Ok(n == 2 && head == [0x1f, 0x8b])
}

/// The `flows` columns a plan reads; `None` when it reads all of them (or cannot tell).
fn flows_projection(plan: &LogicalPlan) -> Option<Vec<usize>> {
    let mut used: Vec<usize> = vec![];
    let mut everything = false;
    let walk = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            if scan.table_name.table() == "flows" {
                match &scan.projection {
                    Some(columns) => used.extend(columns.iter().copied()),
                    None => everything = true,
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    if walk.is_err() || everything {
        return None;
    }
    used.sort_unstable();
    used.dedup();
    used.retain(|i| *i < FIELDS.len());
    if used.is_empty() {
        // `count(*)` reads no column; one cheap one keeps the row count.
        used.push(0);
    }
    Some(used)
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
    fn read_unit(
        unit: &FlowUnit,
        options: &FlowReadOptions,
        issues: &Issues,
        send: &mut dyn FnMut(RecordBatch) -> bool,
    ) -> Result<(), LogError> {
        match unit {
            FlowUnit::Range { path, start, end } => {
                let reader = FlowTextReader::byte_range(path, *start, *end, options.clone(), issues.clone())?;
                for batch in reader {
                    if !send(batch?) {
                        return Ok(());
                    }
                }
            }
            FlowUnit::Whole(input) if input.is_parquet() => {
                for batch in read_parquet(&input.name(), input.bytes()?, options)? {
                    if !send(batch) {
                        return Ok(());
                    }
                }
            }
            FlowUnit::Whole(input) => {
                let reader = FlowTextReader::new(input.name(), input.open()?, options.clone(), issues.clone())
                    .map_err(|e| LogError::Io {
                        path: input.name(),
                        source: e,
                    })?;
                for batch in reader {
                    if !send(batch?) {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
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
            for unit in &units {
                let mut send = |batch: RecordBatch| sender.blocking_send(Ok(batch)).is_ok();
                if let Err(e) = FlowPartition::read_unit(unit, &options, &issues, &mut send) {
                    return Err(DataFusionError::External(Box::new(e)));
                }
            }
            Ok(())
        });
        builder.build()
    }
}
