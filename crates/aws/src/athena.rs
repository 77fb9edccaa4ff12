//! Amazon Athena as a query engine: start a query, wait for it with exponential backoff, read
//! every page of its result. Failures are typed and name the query id, so a user can look the
//! query up in the console or stop it.

use crate::collect::{sdk_config, LiveOptions};
use aws_config::{Region, SdkConfig};
use aws_sdk_athena::error::DisplayErrorContext;
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};
use aws_sdk_athena::Client;
use std::time::{Duration, Instant};

/// What Athena charges per TiB of data scanned, in US dollars.
pub const USD_PER_TIB_SCANNED: f64 = 5.0;
/// Athena bills at least this many bytes per query (10 MB), rounded up to whole megabytes.
pub const MIN_BILLED_BYTES: u64 = 10 * MIB;
const MIB: u64 = 1 << 20;
const TIB: f64 = (1u64 << 40) as f64;

/// The cost of a query that scanned `bytes`, as Athena bills it: whole megabytes, 10 MB at least.
pub fn query_cost_usd(bytes: u64) -> f64 {
    let billed = bytes.div_ceil(MIB).saturating_mul(MIB).max(MIN_BILLED_BYTES);
    billed as f64 / TIB * USD_PER_TIB_SCANNED
}

/// One statement and where it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryRequest {
    pub sql: String,
    /// The database unqualified table names are looked up in.
    pub database: Option<String>,
    /// The data catalog (`AwsDataCatalog` when `None`).
    pub catalog: Option<String>,
    /// The workgroup (`primary` when `None`).
    pub workgroup: Option<String>,
    /// Where Athena writes the result files (`s3://…`); `None`: the workgroup's setting.
    pub output_location: Option<String>,
}

/// How to wait for a query: the first pause, doubled after each look up to `max_delay`, and the
/// overall limit after which the query is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poll {
    pub first_delay: Duration,
    pub max_delay: Duration,
    pub timeout: Duration,
}

impl Default for Poll {
    fn default() -> Poll {
        Poll {
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// A result column: its name and Athena type (`varchar`, `bigint`, `array(varchar)`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AthenaColumn {
    pub name: String,
    pub athena_type: String,
}

/// A finished query: its columns and rows (cells as Athena returns them: text, or null).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AthenaAnswer {
    pub query_id: String,
    pub columns: Vec<AthenaColumn>,
    pub rows: Vec<Vec<Option<String>>>,
    pub data_scanned_bytes: u64,
    pub engine_time: Duration,
}

/// Why a query gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AthenaError {
    /// The query ran and failed (a syntax error, a missing table, a permission on S3).
    Failed { query_id: String, reason: String },
    /// Someone (or netaudit, after a timeout) stopped it.
    Cancelled { query_id: String, reason: String },
    /// Still `state` after `waited`; `stopped` says whether StopQueryExecution went through.
    TimedOut {
        query_id: String,
        state: String,
        waited: Duration,
        stopped: Result<(), String>,
    },
    /// No region was given and neither the environment nor the profile names one: Athena's
    /// tables live in one region, so netaudit does not guess.
    NoRegion,
    /// An API call failed (AccessDenied, throttling past the retries, no such workgroup).
    Api {
        api: &'static str,
        query_id: Option<String>,
        message: String,
    },
}

impl AthenaError {
    /// The query the error is about, once Athena gave it an id.
    pub fn query_id(&self) -> Option<&str> {
        match self {
            AthenaError::Failed { query_id, .. }
            | AthenaError::Cancelled { query_id, .. }
            | AthenaError::TimedOut { query_id, .. } => Some(query_id),
            AthenaError::Api { query_id, .. } => query_id.as_deref(),
            AthenaError::NoRegion => None,
        }
    }
}

impl std::fmt::Display for AthenaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AthenaError::Failed { query_id, reason } => write!(f, "athena query {query_id} failed: {reason}"),
            AthenaError::Cancelled { query_id, reason } => {
                write!(f, "athena query {query_id} was cancelled: {reason}")
            }
            AthenaError::TimedOut {
                query_id,
                state,
                waited,
                stopped,
            } => {
                write!(
                    f,
                    "athena query {query_id} was still {state} after {}s",
                    waited.as_secs()
                )?;
                match stopped {
                    Ok(()) => write!(f, "; it was stopped (athena:StopQueryExecution)"),
                    Err(e) => write!(
                        f,
                        "; stopping it failed, it may still run: athena:StopQueryExecution: {e}"
                    ),
                }
            }
            AthenaError::NoRegion => write!(
                f,
                "Athena needs a region and none is configured (AWS_REGION, AWS_DEFAULT_REGION or the profile's region)"
            ),
            AthenaError::Api {
                api,
                query_id: Some(id),
                message,
            } => write!(f, "{api} (query {id}): {message}"),
            AthenaError::Api {
                api,
                query_id: None,
                message,
            } => write!(f, "{api}: {message}"),
        }
    }
}

impl std::error::Error for AthenaError {}

fn api_error<E>(api: &'static str, query_id: Option<&str>, e: E) -> AthenaError
where
    E: std::error::Error + 'static,
{
    AthenaError::Api {
        api,
        query_id: query_id.map(str::to_owned),
        message: DisplayErrorContext(e).to_string(),
    }
}

/// Run one statement on `client` and read its whole result.
pub async fn run_query_with(client: &Client, request: &QueryRequest, poll: Poll) -> Result<AthenaAnswer, AthenaError> {
    let mut start = client.start_query_execution().query_string(&request.sql);
    if request.database.is_some() || request.catalog.is_some() {
        start = start.query_execution_context(
            QueryExecutionContext::builder()
                .set_database(request.database.clone())
                .set_catalog(request.catalog.clone())
                .build(),
        );
    }
    if let Some(workgroup) = &request.workgroup {
        start = start.work_group(workgroup);
    }
    if let Some(location) = &request.output_location {
        start = start.result_configuration(ResultConfiguration::builder().output_location(location).build());
    }
    let started = start
        .send()
        .await
        .map_err(|e| api_error("athena:StartQueryExecution", None, e))?;
    let query_id = started
        .query_execution_id()
        .ok_or_else(|| AthenaError::Api {
            api: "athena:StartQueryExecution",
            query_id: None,
            message: "the answer has no QueryExecutionId".into(),
        })?
        .to_owned();
    let (data_scanned_bytes, engine_time) = wait(client, &query_id, poll).await?;
    let (columns, rows) = results(client, &query_id).await?;
    Ok(AthenaAnswer {
        query_id,
        columns,
        rows,
        data_scanned_bytes,
        engine_time,
    })
}

/// Poll until the query finished; its bytes scanned and engine time once it succeeded.
async fn wait(client: &Client, query_id: &str, poll: Poll) -> Result<(u64, Duration), AthenaError> {
    let began = Instant::now();
    let mut delay = poll.first_delay;
    loop {
        let described = client
            .get_query_execution()
            .query_execution_id(query_id)
            .send()
            .await
            .map_err(|e| api_error("athena:GetQueryExecution", Some(query_id), e))?;
        let execution = described.query_execution();
        let status = execution.and_then(|e| e.status());
        let reason = || {
            let athena = status
                .and_then(|s| s.athena_error())
                .and_then(|e| e.error_message())
                .filter(|m| !m.is_empty());
            let change = status.and_then(|s| s.state_change_reason()).filter(|m| !m.is_empty());
            match (change, athena) {
                (Some(c), Some(a)) if c != a => format!("{c} ({a})"),
                (Some(c), _) => c.to_owned(),
                (None, Some(a)) => a.to_owned(),
                (None, None) => "Athena gave no reason".to_owned(),
            }
        };
        let state = status.and_then(|s| s.state()).cloned();
        match state {
            Some(QueryExecutionState::Succeeded) => {
                let statistics = execution.and_then(|e| e.statistics());
                let scanned = statistics.and_then(|s| s.data_scanned_in_bytes()).unwrap_or(0);
                let engine = statistics
                    .and_then(|s| s.engine_execution_time_in_millis())
                    .unwrap_or(0);
                return Ok((
                    u64::try_from(scanned).unwrap_or(0),
                    Duration::from_millis(u64::try_from(engine).unwrap_or(0)),
                ));
            }
            Some(QueryExecutionState::Failed) => {
                return Err(AthenaError::Failed {
                    query_id: query_id.to_owned(),
                    reason: reason(),
                })
            }
            Some(QueryExecutionState::Cancelled) => {
                return Err(AthenaError::Cancelled {
                    query_id: query_id.to_owned(),
                    reason: reason(),
                })
            }
            _ => {}
        }
        let waited = began.elapsed();
        if waited >= poll.timeout {
            let stopped = client
                .stop_query_execution()
                .query_execution_id(query_id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DisplayErrorContext(e).to_string());
            return Err(AthenaError::TimedOut {
                query_id: query_id.to_owned(),
                state: state.map_or_else(|| "in an unknown state".to_owned(), |s| s.as_str().to_owned()),
                waited,
                stopped,
            });
        }
        tokio::time::sleep(delay.min(poll.timeout.saturating_sub(waited))).await;
        delay = (delay * 2).min(poll.max_delay);
    }
}

type Rows = Vec<Vec<Option<String>>>;

/// Every page of a finished query's result. Athena repeats a SELECT's column names as the first
/// row of the first page: that row is dropped when it is exactly the names.
async fn results(client: &Client, query_id: &str) -> Result<(Vec<AthenaColumn>, Rows), AthenaError> {
    let mut columns: Vec<AthenaColumn> = vec![];
    let mut rows: Rows = vec![];
    let mut token: Option<String> = None;
    let mut first_page = true;
    loop {
        let page = client
            .get_query_results()
            .query_execution_id(query_id)
            .max_results(1000)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| api_error("athena:GetQueryResults", Some(query_id), e))?;
        if let Some(set) = page.result_set() {
            if first_page {
                columns = set
                    .result_set_metadata()
                    .map(|m| m.column_info())
                    .unwrap_or_default()
                    .iter()
                    .map(|c| AthenaColumn {
                        name: c.name().to_owned(),
                        athena_type: c.r#type().to_owned(),
                    })
                    .collect();
            }
            for (index, row) in set.rows().iter().enumerate() {
                let cells: Vec<Option<String>> = row
                    .data()
                    .iter()
                    .map(|d| d.var_char_value().map(str::to_owned))
                    .collect();
                let header = first_page
                    && index == 0
                    && !columns.is_empty()
                    && cells.len() == columns.len()
                    && cells
                        .iter()
                        .zip(&columns)
                        .all(|(c, col)| c.as_deref() == Some(col.name.as_str()));
                if !header {
                    rows.push(cells);
                }
            }
        }
        first_page = false;
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => return Ok((columns, rows)),
        }
    }
}

/// The region the environment or the profile names. Not the instance's (metadata), and not the
/// `us-east-1` the collector falls back to for global calls: the tables are in the region meant.
async fn configured_region(profile: Option<&str>) -> Option<Region> {
    use aws_config::meta::region::ProvideRegion;
    if let Some(region) = aws_config::environment::EnvironmentVariableRegionProvider::new()
        .region()
        .await
    {
        return Some(region);
    }
    let mut from_profile = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(name) = profile {
        from_profile = from_profile.profile_name(name);
    }
    from_profile.build().region().await
}

/// The SDK configuration for Athena calls: the options' profile and endpoint, in `region` when
/// given, else in the region the environment or the profile names.
pub async fn athena_config(options: &LiveOptions, region: Option<&str>) -> Result<SdkConfig, AthenaError> {
    let region = match region {
        Some(region) => Region::new(region.to_owned()),
        None => configured_region(options.profile.as_deref())
            .await
            .ok_or(AthenaError::NoRegion)?,
    };
    Ok(sdk_config(options).await.to_builder().region(region).build())
}

/// [`run_query_with`] with a client built from `config`.
pub async fn run_query(config: &SdkConfig, request: &QueryRequest, poll: Poll) -> Result<AthenaAnswer, AthenaError> {
    run_query_with(&Client::new(config), request, poll).await
}

/// Athena for a command-line caller: one runtime and client for every query it runs.
#[derive(Debug)]
pub struct AthenaSession {
    runtime: tokio::runtime::Runtime,
    client: Client,
}

impl AthenaSession {
    pub fn new(options: &LiveOptions, region: Option<&str>) -> Result<AthenaSession, AthenaError> {
        let runtime = crate::collect::runtime().map_err(|gap| AthenaError::Api {
            api: "netaudit:Runtime",
            query_id: None,
            message: gap.message.clone(),
        })?;
        let config = runtime.block_on(athena_config(options, region))?;
        Ok(AthenaSession {
            runtime,
            client: Client::new(&config),
        })
    }

    /// Run one statement and wait for its answer.
    pub fn run(&self, request: &QueryRequest, poll: Poll) -> Result<AthenaAnswer, AthenaError> {
        self.runtime.block_on(run_query_with(&self.client, request, poll))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_is_billed_by_the_megabyte_with_a_ten_megabyte_minimum() {
        let ten_mb = 10.0 * MIB as f64 / TIB * USD_PER_TIB_SCANNED;
        assert_eq!(query_cost_usd(0), ten_mb);
        assert_eq!(query_cost_usd(1), ten_mb);
        assert_eq!(
            query_cost_usd(10 * MIB + 1),
            11.0 * MIB as f64 / TIB * USD_PER_TIB_SCANNED
        );
        assert_eq!(query_cost_usd(1 << 40), USD_PER_TIB_SCANNED);
    }
}
