//! `netaudit logs …`: read the audit trail (flow logs, Client VPN and Site-to-Site VPN logs) and
//! answer questions over it.

use crate::athena_engine::{AthenaEngine, Engine, EngineArgs};
use crate::output::write_to;
use crate::{Failure, EXIT_CLEAN, EXIT_FAILURES, EXIT_FAILURES_AND_INCOMPLETE, EXIT_INCOMPLETE};
use clap::{Args, Subcommand, ValueEnum};
use netaudit_aws::log_sources::{LogFetcher, StreamedLog};
use netaudit_logs::answers::{self, canonical_ip, Dialect, OptionalColumns};
use netaudit_logs::athena;
use netaudit_logs::detect::{Detection, Thresholds};
use netaudit_logs::generate::{GenerateOptions, GeneratedFormat, Incident};
use netaudit_logs::sources::{cloudwatch_window, list_files, parse_time, path_in_range};
use netaudit_logs::{
    EndpointScope, FlowFormat, FlowReadOptions, FoldedQuestion, Input, Issues, LogSession, LogSources, OpenInput,
    Table, TimeRange,
};
use std::io::{self, Write};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct LogsArgs {
    #[command(subcommand)]
    command: LogsCommand,
    #[command(flatten)]
    sources: SourceArgs,
}

impl LogsArgs {
    pub(crate) fn sources_mut(&mut self) -> &mut SourceArgs {
        &mut self.sources
    }
}

/// Where the logs are, and how to read them. Each source is a file, a directory (S3 key layout,
/// plain or Hive-style, pruned by --since/--until), `s3://bucket/prefix`, or `cloudwatch:GROUP`.
#[derive(Args, Debug, Default)]
pub(crate) struct SourceArgs {
    /// VPC flow logs (text, gzip or Parquet).
    #[arg(long, global = true, value_name = "SOURCE")]
    flows: Vec<String>,
    /// Client VPN connection logs (JSON, raw or CloudWatch export lines).
    #[arg(long, global = true, value_name = "SOURCE")]
    vpn: Vec<String>,
    /// Site-to-Site VPN tunnel activity and BGP logs (JSON or text); the file or stream name holds
    /// the connection id and tunnel outside IP (`vpn-…-203.0.113.10`).
    #[arg(long, global = true, value_name = "SOURCE")]
    tunnels: Vec<String>,
    /// Which VPCs or network interfaces a Client VPN endpoint's traffic crosses, as
    /// cvpn-endpoint-…=vpc-…|eni-…[,…]: ties flows to that endpoint's sessions when client CIDRs
    /// overlap across endpoints (the table vpn_endpoints).
    #[arg(long, global = true, value_name = "ENDPOINT=IDS")]
    vpn_endpoint: Vec<String>,
    /// The flow log format of files without a header line, as AWS writes it:
    /// '${version} ${account-id} …'. Default: the version 2 default format.
    #[arg(long, global = true, value_name = "FORMAT")]
    log_format: Option<String>,
    /// Only records that end at or after this time (epoch seconds, YYYY-MM-DD[ HH:MM[:SS]] UTC, RFC 3339).
    #[arg(long, global = true, value_name = "TIME")]
    since: Option<String>,
    /// Only records that start before this time.
    #[arg(long, global = true, value_name = "TIME")]
    until: Option<String>,
    /// Fail on the first bad line instead of reporting it and going on.
    #[arg(long, global = true)]
    strict: bool,
    /// Print on standard error what was listed and fetched from s3:// and cloudwatch: sources, the
    /// most fetched bytes held at once (within a fixed budget) and the process's peak memory.
    #[arg(long, global = true)]
    stats: bool,
    /// The answer's format [default: table].
    #[arg(long, global = true, value_enum)]
    pub(crate) format: Option<OutputFormat>,
    /// The format came from the environment or the config file: a command that writes one kind of
    /// output ignores it rather than refusing it.
    #[arg(skip)]
    pub(crate) format_configured: bool,
    /// For s3:// and cloudwatch: sources: the profile, region and endpoint to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) profile: Option<String>,
    /// The region of s3:// and cloudwatch: sources [default: the profile's or AWS_REGION].
    #[arg(long, global = true, value_name = "REGION")]
    region: Option<String>,
    /// Send the calls that read s3:// and cloudwatch: sources to this endpoint (an emulator, for example).
    #[arg(long, global = true, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Write the answer here instead of standard output (`-`: standard output); for `generate`, the
    /// flow logs (required).
    #[arg(long, short, global = true, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) engine: EngineArgs,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    #[default]
    Table,
    Json,
    Csv,
    /// OCSF 1.5.0 Detection Findings as JSON Lines (`logs detect` only).
    Ocsf,
}

#[derive(Subcommand, Debug)]
enum LogsCommand {
    /// Run SQL over the tables flows, vpn_connections and tunnel_events.
    Sql {
        /// One SQL statement, e.g. "SELECT action, count(*) FROM flows GROUP BY action".
        query: String,
    },
    /// Every peer of a host: bytes, packets, ports, accepted/rejected, first and last seen.
    TalkedTo {
        /// The host's IPv4 or IPv6 address.
        ip: String,
    },
    /// The source/destination pairs that moved the most bytes.
    TopTalkers {
        /// How many pairs to show.
        #[arg(long, default_value_t = 10, value_parser = crate::numbers::row_count)]
        limit: usize,
    },
    /// Rejected traffic by source: distinct destination ports and hosts, SYN-only records.
    Rejects {
        /// How many sources to show.
        #[arg(long, default_value_t = 50, value_parser = crate::numbers::row_count)]
        limit: usize,
    },
    /// Client VPN: who was connected, sessions, failed attempts.
    Vpn {
        #[command(subcommand)]
        command: VpnCommand,
    },
    /// Flows joined to the Client VPN user whose client IP and session window they fall in.
    Attribute {
        /// Only this user (username or common name).
        #[arg(long)]
        user: Option<String>,
    },
    /// Per Site-to-Site tunnel, the timeline of state changes and messages, each explained.
    Tunnels {
        /// One line per tunnel: events, downs, DPD timeouts, errors.
        #[arg(long)]
        summary: bool,
    },
    /// Holes in the audit trail per network interface: SKIPDATA, NODATA and silent stretches.
    Gaps {
        /// A stretch with no record longer than this many seconds is a gap.
        #[arg(long, default_value_t = 900, value_name = "SECONDS", value_parser = clap::value_parser!(i64).range(1..=2_592_000))]
        max_silence: i64,
    },
    /// Run the detections; findings in the scan report's format, exit code 1 when any.
    Detect {
        /// A threshold, as NAME=VALUE (see `netaudit logs thresholds`).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// Only these detections (comma-separated ids, e.g. NETAUDIT.LOGS.PORTSCAN).
        #[arg(long, value_delimiter = ',', value_name = "IDS")]
        only: Vec<String>,
    },
    /// Print the detection thresholds and their defaults as JSON.
    Thresholds,
    /// Print the Site-to-Site VPN message catalogue.
    Catalogue,
    /// Print the Athena table (partition projection over the S3 layout) and the built-in queries;
    /// `athena create` makes the database (--database) and the tables (--table, and those of
    /// --vpn-location and --tunnels-location) in Athena instead.
    Athena {
        /// `create`: run CREATE DATABASE IF NOT EXISTS and the tables' DDL in Athena.
        #[arg(value_enum, value_name = "ACTION")]
        action: Option<AthenaAction>,
        /// Where flow logs are delivered: s3://bucket[/prefix].
        #[arg(long, value_name = "S3_URL")]
        location: String,
        /// The account whose flow logs the location holds (the S3 layout's AWSLogs/<account> folder).
        #[arg(long, value_name = "ID")]
        account: String,
        /// The region whose flow logs the location holds (the S3 layout's region folder).
        #[arg(long = "log-region", value_name = "REGION")]
        log_region: String,
        /// Hive-compatible S3 prefixes.
        #[arg(long)]
        hive: bool,
        /// Per-hour partitions.
        #[arg(long)]
        hourly: bool,
        /// Parquet files.
        #[arg(long)]
        parquet: bool,
        /// Also the talked-to query for this address.
        #[arg(long, value_name = "IP")]
        ip: Option<String>,
        /// Also a table over Client VPN connection logs here (one JSON record a line) and the views
        /// vpn_connections and vpn_endpoints the vpn and attribute questions read: s3://bucket[/prefix].
        #[arg(long, value_name = "S3_URL")]
        vpn_location: Option<String>,
        /// Also a table over Site-to-Site VPN tunnel activity and BGP logs here (one JSON record a
        /// line, the key naming vpn-…-<outside ip>) and the view tunnel_events the tunnels questions
        /// read: s3://bucket[/prefix].
        #[arg(long, value_name = "S3_URL")]
        tunnels_location: Option<String>,
        /// The first year partition projection covers (flow logs began in 2015).
        #[arg(long, default_value_t = 2020, value_parser = clap::value_parser!(i32).range(2015..=2099))]
        first_year: i32,
    },
    /// Write deterministic, realistic flow logs, optionally with planted incidents.
    Generate {
        /// Records to write in all: normal traffic, the backup host's and the incidents'.
        #[arg(long, default_value_t = 20_000)]
        records: u64,
        /// The random seed: the same seed writes the same records.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The hours the records span.
        #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(i64).range(1..=8784))]
        hours: i64,
        /// v2: the default format without a header; v5: a custom format with its header line.
        #[arg(long = "layout", value_enum, default_value_t = Layout::V2)]
        layout: Layout,
        /// port-scan, lateral-movement, brute-force, exfiltration, off-hours-egress, or all.
        #[arg(long = "incident", value_name = "NAME")]
        incidents: Vec<String>,
        /// Gzip the output.
        #[arg(long)]
        gzip: bool,
        /// Write a folder in the S3 key layout AWS delivers flow logs in (-o is its root):
        /// AWSLogs/ACCOUNT/vpcflowlogs/REGION/YYYY/MM/DD/…, one or more files per hour.
        #[arg(long)]
        s3_layout: bool,
        /// With --s3-layout: files per hour of records.
        #[arg(long, default_value_t = 1, requires = "s3_layout", value_parser = clap::value_parser!(u32).range(1..=1000))]
        files_per_hour: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AthenaAction {
    /// Create the database, the tables and the views in Athena (with --athena-output, --region, …).
    Create,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Layout {
    V2,
    V5,
}

#[derive(Subcommand, Debug)]
enum VpnCommand {
    /// Who was connected at a time: session_start <= TIME < session_end (open sessions count).
    Who {
        /// The time: epoch seconds, YYYY-MM-DD, "YYYY-MM-DD HH:MM[:SS]" (UTC) or RFC 3339.
        #[arg(long, value_name = "TIME")]
        at: String,
    },
    /// Sessions, one per connection.
    Sessions {
        /// Only this user (username or common name).
        #[arg(long)]
        user: Option<String>,
    },
    /// Failed connection attempts by device IP.
    Failures,
}

fn time_arg(name: &str, value: Option<&String>) -> Result<Option<i64>, Failure> {
    value
        .map(|v| {
            parse_time(v).ok_or_else(|| {
                Failure::Usage(format!(
                    "{name} {v:?}: not a time; give epoch seconds, YYYY-MM-DD, \"YYYY-MM-DD HH:MM[:SS]\" (UTC) or RFC 3339"
                ))
            })
        })
        .transpose()
}

fn live_options(args: &SourceArgs) -> netaudit_aws::LiveOptions {
    netaudit_aws::LiveOptions {
        profile: args.profile.clone(),
        endpoint_url: args.endpoint_url.clone(),
        ..netaudit_aws::LiveOptions::default()
    }
}

/// An S3 object or CloudWatch Logs stream, opened by the logs crate's readers on each scan.
#[derive(Debug)]
struct Fetched(StreamedLog);

impl OpenInput for Fetched {
    fn open(&self) -> io::Result<Box<dyn io::Read + Send>> {
        Ok(self.0.open())
    }

    fn open_head(&self) -> io::Result<Box<dyn io::Read + Send>> {
        Ok(self.0.open_head())
    }

    fn may_have_header(&self) -> bool {
        !self.0.is_log_stream()
    }
}

fn streamed(log: StreamedLog) -> Input {
    Input::Stream {
        name: log.name.clone(),
        size: log.size,
        source: std::sync::Arc::new(Fetched(log)),
    }
}

/// Turn source arguments into inputs: local trees are listed (and pruned); S3 prefixes are listed
/// (pruned by their date folders) and CloudWatch Logs groups by their streams, each object or
/// stream read as a stream when a query scans it.
fn inputs(
    args: &SourceArgs,
    fetcher: &mut Option<LogFetcher>,
    option: &str,
    sources: &[String],
    range: TimeRange,
    events_as_lines: bool,
) -> Result<Vec<Input>, Failure> {
    let mut out = vec![];
    for source in sources {
        let remote = source.starts_with("s3://") || source.starts_with("cloudwatch:");
        if remote && fetcher.is_none() {
            *fetcher = Some(
                LogFetcher::new(&live_options(args), args.region.as_deref())
                    .map_err(|e| Failure::Usage(e.to_string()))?,
            );
        }
        let Some(fetcher) = fetcher.as_ref().filter(|_| remote) else {
            let root = std::path::Path::new(source);
            let files = list_files(root, range).map_err(|e| Failure::Usage(format!("{option}: {e}")))?;
            // Nothing in the time range is an answer; nothing at all is a mistake.
            if files.is_empty()
                && list_files(root, TimeRange::default())
                    .map_err(|e| Failure::Usage(format!("{option}: {e}")))?
                    .is_empty()
            {
                return Err(Failure::Usage(format!("{option} {source}: no file in this folder")));
            }
            out.extend(files.into_iter().map(Input::File));
            continue;
        };
        if let Some(group) = source.strip_prefix("cloudwatch:") {
            let (start, end) = cloudwatch_window(range);
            let streams = fetcher
                .log_streams(group, start, end, events_as_lines)
                .map_err(|e| Failure::Usage(e.to_string()))?;
            out.extend(streams.into_iter().map(streamed));
            continue;
        }
        let before = fetcher.counts();
        let bounded = range.since.is_some() || range.until.is_some();
        let prune = |folder: &str| path_in_range(std::path::Path::new(folder.trim_end_matches('/')), range);
        let objects = fetcher
            .s3_objects(source, bounded.then_some(&prune), &|key: &str| key_in_range(key, range))
            .map_err(|e| Failure::Usage(e.to_string()))?;
        let after = fetcher.counts();
        // Nothing in the time range is an answer; nothing at all is a mistake.
        if after.objects_listed == before.objects_listed && after.folders_pruned == before.folders_pruned {
            return Err(Failure::Usage(format!(
                "{option} {source}: no object under this prefix"
            )));
        }
        out.extend(objects.into_iter().map(streamed));
    }
    Ok(out)
}

/// Whether an S3 key's date partitions can hold records in the range (keys without them: yes).
fn key_in_range(key: &str, range: TimeRange) -> bool {
    if range.since.is_none() && range.until.is_none() {
        return true;
    }
    // The same rule as for local trees: build the path and ask the lister's pruning.
    let mut partition_path = std::path::PathBuf::new();
    for component in key.split('/').collect::<Vec<_>>().iter().rev().skip(1).rev() {
        partition_path.push(component);
    }
    path_in_range(&partition_path, range)
}

/// A session over the sources, its issues, and what fetches the remote ones (for `--stats`).
fn session(args: &SourceArgs) -> Result<(LogSession, Issues, Option<LogFetcher>), Failure> {
    let range = TimeRange {
        since: time_arg("--since", args.since.as_ref())?,
        until: time_arg("--until", args.until.as_ref())?,
    };
    let format = log_format(args)?;
    let mut vpn_endpoints = vec![];
    for text in &args.vpn_endpoint {
        vpn_endpoints.extend(EndpointScope::parse(text).map_err(|e| Failure::Usage(format!("--vpn-endpoint {e}")))?);
    }
    let mut fetcher = None;
    let sources = LogSources {
        flows: inputs(args, &mut fetcher, "--flows", &args.flows, range, true)?,
        vpn: inputs(args, &mut fetcher, "--vpn", &args.vpn, TimeRange::default(), false)?,
        tunnels: inputs(
            args,
            &mut fetcher,
            "--tunnels",
            &args.tunnels,
            TimeRange::default(),
            false,
        )?,
        flow_options: FlowReadOptions {
            format,
            since: range.since,
            until: range.until,
            strict: args.strict,
            ..FlowReadOptions::default()
        },
        vpn_endpoints,
    };
    let issues = Issues::new();
    let session = LogSession::new(sources, issues.clone()).map_err(|e| Failure::Usage(e.to_string()))?;
    for note in session.notes() {
        note!("netaudit: note: {note}");
    }
    Ok((session, issues, fetcher))
}

fn log_format(args: &SourceArgs) -> Result<FlowFormat, Failure> {
    match &args.log_format {
        Some(text) => FlowFormat::parse_aws(text).map_err(|e| Failure::Usage(format!("--log-format: {e}"))),
        None => Ok(FlowFormat::default_v2()),
    }
}

/// The tables whose sources were given on the command line (`vpn_endpoints` needs none).
fn tables_given(args: &SourceArgs) -> Vec<Table> {
    let mut given = vec![Table::VpnEndpoints];
    for (table, sources) in [
        (Table::Flows, &args.flows),
        (Table::VpnConnections, &args.vpn),
        (Table::TunnelEvents, &args.tunnels),
    ] {
        if !sources.is_empty() {
            given.push(table);
        }
    }
    given
}

/// What a table is read from, for messages.
fn source_option(table: Table) -> &'static str {
    match table {
        Table::Flows => "--flows (VPC flow logs)",
        Table::VpnConnections => "--vpn (Client VPN connection logs)",
        Table::TunnelEvents => "--tunnels (Site-to-Site VPN tunnel logs)",
        Table::VpnEndpoints => "--vpn-endpoint",
    }
}

/// A usage error unless every table `what` reads has a source.
fn require(args: &SourceArgs, what: &str, tables: &[Table]) -> Result<(), Failure> {
    let given = tables_given(args);
    let missing: Vec<&str> = tables
        .iter()
        .filter(|t| !given.contains(t))
        .map(|t| source_option(*t))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Failure::Usage(format!(
            "{what} reads logs that were not given: {}",
            missing.join(", ")
        )))
    }
}

/// `--stats`: what was fetched and the memory it took, on standard error.
fn print_stats(args: &SourceArgs, fetcher: Option<&LogFetcher>) {
    if !args.stats {
        return;
    }
    let counts = fetcher.map(LogFetcher::counts).unwrap_or_default();
    let rss = peak_rss_bytes().map_or_else(|| "unknown".to_owned(), |b| b.to_string());
    note!(
        "netaudit: stats: list_requests={} objects_listed={} folders_pruned={} fetch_requests={} objects_read={} \
         bytes_fetched={} peak_buffered_bytes={} buffer_budget_bytes={} peak_rss_bytes={rss}",
        counts.list_requests,
        counts.objects_listed,
        counts.folders_pruned,
        counts.fetch_requests,
        counts.objects_read,
        counts.bytes_fetched,
        counts.peak_buffered,
        netaudit_aws::log_sources::BUFFER_BUDGET_BYTES,
    );
}

/// The process's peak resident set (VmHWM), where the system says (Linux).
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    let kib: u64 = line.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

/// Report bad input on stderr; true when there was any.
fn report_issues(issues: &Issues) -> bool {
    const SHOWN: usize = 20;
    let list = issues.list();
    for issue in list.iter().take(SHOWN) {
        note!("netaudit: bad input: {issue}");
    }
    let count = issues.count();
    if count > SHOWN as u64 {
        note!("netaudit: … {} more bad lines", count - SHOWN as u64);
    }
    if count > 0 {
        note!("netaudit: {count} bad line(s) skipped; --strict makes them fatal");
    }
    count > 0
}

/// Run a built-in question over the tables it reads; `sql` writes it for the session's columns.
fn run_question(
    args: &SourceArgs,
    what: &str,
    tables: &[Table],
    sql: impl FnOnce(OptionalColumns) -> String,
) -> Result<u8, Failure> {
    if let Some(engine) = athena(args)? {
        let result = engine.builtin(&sql(athena_optional_columns(args)?))?;
        return finish_result(args, &result, None, false);
    }
    require(args, what, tables)?;
    let (session, issues, fetcher) = session(args)?;
    let sql = sql(OptionalColumns::of(session.flow_columns()));
    finish_query(args, &session, &issues, fetcher.as_ref(), &sql, false)
}

/// A question over every flow record: folded as the records are read on the local engine (the
/// rows of its SQL), its SQL on Athena.
fn run_folded(args: &SourceArgs, what: &str, question: FoldedQuestion, d: Dialect) -> Result<u8, Failure> {
    if args.engine.engine == Engine::Athena {
        return run_question(args, what, &[Table::Flows], |optional| match question {
            FoldedQuestion::TopTalkers { limit } => answers::top_talkers(d, limit),
            FoldedQuestion::Rejects { limit } => answers::rejects(d, limit, optional),
        });
    }
    athena(args)?;
    require(args, what, &[Table::Flows])?;
    query_format(args)?;
    let (session, issues, fetcher) = session(args)?;
    let result = session.fold(question).map_err(|e| Failure::Usage(e.to_string()))?;
    print_stats(args, fetcher.as_ref());
    finish_result(args, &result, Some(&issues), false)
}

/// The Athena engine with `--engine athena` (local sources are then a usage error); `None` on the
/// local engine (where Athena's options are one).
fn athena(args: &SourceArgs) -> Result<Option<AthenaEngine>, Failure> {
    match args.engine.engine {
        Engine::Local => {
            let given = args.engine.athena_only_given();
            if given.is_empty() {
                Ok(None)
            } else {
                Err(Failure::Usage(format!(
                    "{}: only with --engine athena",
                    given.join(", ")
                )))
            }
        }
        Engine::Athena => {
            let mut local = vec![];
            for (option, given) in [
                ("--flows", !args.flows.is_empty()),
                ("--vpn", !args.vpn.is_empty()),
                ("--tunnels", !args.tunnels.is_empty()),
                ("--vpn-endpoint", !args.vpn_endpoint.is_empty()),
                ("--since", args.since.is_some()),
                ("--until", args.until.is_some()),
                ("--strict", args.strict),
            ] {
                if given {
                    local.push(option);
                }
            }
            if !local.is_empty() {
                return Err(Failure::Usage(format!(
                    "--engine athena queries the tables in Athena; {} read(s) local sources: leave them out \
                     (filter by time with a WHERE on start and \"end\" in `logs sql`)",
                    local.join(", ")
                )));
            }
            AthenaEngine::new(&args.engine, &live_options(args), args.region.as_deref()).map(Some)
        }
    }
}

/// The optional `flows` columns the Athena table has: those of --log-format (the format the table
/// was created for, as `logs athena` does).
fn athena_optional_columns(args: &SourceArgs) -> Result<OptionalColumns, Failure> {
    let format = log_format(args)?;
    Ok(OptionalColumns::of(&netaudit_logs::FlowColumns::of_formats([&format])))
}

fn run_sql(args: &SourceArgs, sql: &str) -> Result<u8, Failure> {
    if let Some(engine) = athena(args)? {
        let result = engine.query(sql)?;
        return finish_result(args, &result, None, false);
    }
    // The usage check first, without reading anything: a statement names its tables.
    let probe = LogSession::new(LogSources::default(), Issues::new()).map_err(|e| Failure::Usage(e.to_string()))?;
    if let Ok(tables) = probe.tables_read(sql) {
        require(args, "the query", &tables)?;
    }
    let (session, issues, fetcher) = session(args)?;
    finish_query(args, &session, &issues, fetcher.as_ref(), sql, false)
}

fn finish_query(
    args: &SourceArgs,
    session: &LogSession,
    issues: &Issues,
    fetcher: Option<&LogFetcher>,
    sql: &str,
    attribution: bool,
) -> Result<u8, Failure> {
    query_format(args)?;
    let result = session.query(sql).map_err(|e| Failure::Usage(e.to_string()))?;
    print_stats(args, fetcher);
    finish_result(args, &result, Some(issues), attribution)
}

/// Write an answer; with `attribution`, note rows several Client VPN endpoints could own.
fn finish_result(
    args: &SourceArgs,
    result: &netaudit_logs::QueryResult,
    issues: Option<&Issues>,
    attribution: bool,
) -> Result<u8, Failure> {
    let format = query_format(args)?;
    write_to(args.output.as_deref(), |out| write_result(format, result, out))?;
    let mut incomplete = issues.is_some_and(report_issues);
    if attribution {
        let rows = netaudit_logs::render::rows_as_json(&result.schema, &result.batches)
            .map_err(|e| Failure::Internal(e.to_string()))?;
        let ambiguous = rows.iter().filter(|r| r["matched_by"] == "ambiguous").count();
        if ambiguous > 0 {
            note!(
                "netaudit: {ambiguous} row(s) match sessions of several Client VPN endpoints that gave the same \
                 client IP at the same time; --vpn-endpoint ENDPOINT=vpc-…|eni-… says which traffic is whose"
            );
            incomplete = true;
        }
    }
    Ok(if incomplete { EXIT_INCOMPLETE } else { EXIT_CLEAN })
}

/// A query answer's format: OCSF is for detections; configured, it leaves answers in a table.
fn query_format(args: &SourceArgs) -> Result<OutputFormat, Failure> {
    match args.format {
        Some(OutputFormat::Ocsf) if args.format_configured => Ok(OutputFormat::Table),
        Some(OutputFormat::Ocsf) => Err(Failure::Usage(
            "--format ocsf: only `logs detect` writes OCSF findings; answers are a table, JSON or CSV".into(),
        )),
        format => Ok(format.unwrap_or_default()),
    }
}

fn write_result(format: OutputFormat, result: &netaudit_logs::QueryResult, out: &mut dyn Write) -> io::Result<()> {
    let written = match format {
        // query_format never gives OCSF for an answer.
        OutputFormat::Table | OutputFormat::Ocsf => {
            netaudit_logs::render::write_table(&result.schema, &result.batches, out, 60)
        }
        OutputFormat::Json => netaudit_logs::render::write_json(&result.schema, &result.batches, out),
        OutputFormat::Csv => netaudit_logs::render::write_csv(&result.schema, &result.batches, out),
    };
    written.map_err(|e| match e {
        netaudit_logs::LogError::Io { source, .. } => source,
        other => io::Error::other(other.to_string()),
    })
}

pub fn run(args: LogsArgs) -> Result<u8, Failure> {
    let d = match args.sources.engine.engine {
        Engine::Local => Dialect::DataFusion,
        Engine::Athena => Dialect::Athena,
    };
    let sources = &args.sources;
    let flows = [Table::Flows];
    match args.command {
        LogsCommand::Sql { query } => run_sql(sources, &query),
        LogsCommand::TalkedTo { ip } => {
            let ip = canonical_ip(&ip).ok_or_else(|| Failure::Usage(format!("{ip:?} is not an IP address")))?;
            run_question(sources, "talked-to", &flows, |_| answers::talked_to(d, &ip))
        }
        LogsCommand::TopTalkers { limit } => {
            run_folded(sources, "top-talkers", FoldedQuestion::TopTalkers { limit }, d)
        }
        LogsCommand::Rejects { limit } => run_folded(sources, "rejects", FoldedQuestion::Rejects { limit }, d),
        LogsCommand::Vpn { command } => {
            let vpn = [Table::VpnConnections];
            match command {
                VpnCommand::Who { at } => {
                    let at = time_arg("--at", Some(&at))?.unwrap_or_default();
                    run_question(sources, "vpn who", &vpn, |_| answers::vpn_who(d, at))
                }
                VpnCommand::Sessions { user } => run_question(sources, "vpn sessions", &vpn, |_| {
                    answers::vpn_sessions(d, user.as_deref())
                }),
                VpnCommand::Failures => run_question(sources, "vpn failures", &vpn, |_| answers::vpn_failures(d)),
            }
        }
        LogsCommand::Attribute { user } => {
            if let Some(engine) = athena(sources)? {
                let sql = answers::attribute(d, user.as_deref(), athena_optional_columns(sources)?);
                return finish_result(sources, &engine.builtin(&sql)?, None, true);
            }
            require(sources, "attribute", &[Table::Flows, Table::VpnConnections])?;
            let (session, issues, fetcher) = session(sources)?;
            let sql = answers::attribute(d, user.as_deref(), OptionalColumns::of(session.flow_columns()));
            finish_query(sources, &session, &issues, fetcher.as_ref(), &sql, true)
        }
        LogsCommand::Tunnels { summary } => run_question(sources, "tunnels", &[Table::TunnelEvents], |_| {
            if summary {
                answers::tunnel_summary(d)
            } else {
                answers::tunnels(d)
            }
        }),
        LogsCommand::Gaps { max_silence } => run_question(sources, "gaps", &flows, |_| answers::gaps(d, max_silence)),
        LogsCommand::Detect { set, only } => detect(sources, &set, &only),
        LogsCommand::Thresholds => {
            refuse_format(
                sources,
                "logs thresholds",
                "JSON (the file `logs detect --thresholds` reads)",
                &[OutputFormat::Json],
            )?;
            write_to(sources.output.as_deref(), |out| {
                serde_json::to_writer_pretty(&mut *out, &Thresholds::default()).map_err(io::Error::from)?;
                writeln!(out)
            })?;
            Ok(EXIT_CLEAN)
        }
        LogsCommand::Catalogue => {
            refuse_format(
                sources,
                "logs catalogue",
                "a table or JSON",
                &[OutputFormat::Table, OutputFormat::Json],
            )?;
            catalogue(sources.format.unwrap_or_default(), sources.output.as_deref())
        }
        LogsCommand::Athena {
            action,
            location,
            account,
            log_region,
            hive,
            hourly,
            parquet,
            ip,
            vpn_location,
            tunnels_location,
            first_year,
        } => {
            refuse_format(sources, "logs athena", "SQL", &[])?;
            let table = sources.engine.table().to_owned();
            let ip = ip
                .map(|ip| canonical_ip(&ip).ok_or_else(|| Failure::Usage(format!("--ip {ip:?} is not an IP address"))))
                .transpose()?;
            let format = log_format(sources)?;
            let options = netaudit_logs::athena::AthenaOptions {
                location,
                account,
                region: log_region,
                hive,
                hourly,
                parquet,
                format,
                first_year,
                table,
            };
            options.check().map_err(Failure::Usage)?;
            let mut log_tables = log_tables_at("--vpn-location", vpn_location.as_deref(), athena::vpn_statements)?;
            log_tables.extend(log_tables_at(
                "--tunnels-location",
                tunnels_location.as_deref(),
                athena::tunnel_statements,
            )?);
            let mut script = netaudit_logs::athena::statements(&options, &Thresholds::default(), ip.as_deref());
            // Every table and view first, then the queries.
            script.statements.splice(1..1, log_tables);
            if action == Some(AthenaAction::Create) {
                let engine = AthenaEngine::new(&sources.engine, &live_options(sources), sources.region.as_deref())?;
                let tables: Vec<&str> = script
                    .statements
                    .iter()
                    .take_while(|s| s.sql.starts_with("CREATE "))
                    .map(|s| s.sql.as_str())
                    .collect();
                engine.create(&tables)?;
                return Ok(EXIT_CLEAN);
            }
            write_to(sources.output.as_deref(), |out| {
                out.write_all(netaudit_logs::athena::script(&script).as_bytes())
            })?;
            Ok(EXIT_CLEAN)
        }
        LogsCommand::Generate {
            records,
            seed,
            hours,
            layout,
            incidents,
            gzip,
            s3_layout,
            files_per_hour,
        } => {
            refuse_format(sources, "logs generate", "flow log records", &[])?;
            let output = sources.output.as_deref().ok_or_else(|| {
                Failure::Usage("logs generate writes flow logs: give -o FILE, or -o - for standard output".into())
            })?;
            let target = if s3_layout {
                if output == std::path::Path::new("-") {
                    return Err(Failure::Usage("--s3-layout writes a folder: give -o DIR".into()));
                }
                Target::Tree { files_per_hour }
            } else {
                Target::File
            };
            generate(records, seed, hours, layout, &incidents, gzip, output, target)
        }
    }
}

/// The Athena tables over logs at `location` (`s3://bucket[/prefix]`) that `statements` makes.
fn log_tables_at(
    option: &str,
    location: Option<&str>,
    statements: fn(&str) -> Vec<athena::Statement>,
) -> Result<Vec<athena::Statement>, Failure> {
    match location {
        Some(url) if netaudit_aws::log_sources::parse_s3_url(url).is_some() => Ok(statements(url)),
        Some(url) => Err(Failure::Usage(format!(
            "{option} {url:?}: expected s3://bucket[/prefix]"
        ))),
        None => Ok(vec![]),
    }
}

/// `--format` on a command that writes one kind of output: only the formats it writes.
fn refuse_format(sources: &SourceArgs, command: &str, writes: &str, accepted: &[OutputFormat]) -> Result<(), Failure> {
    match sources.format {
        Some(format) if !accepted.contains(&format) && !sources.format_configured => Err(Failure::Usage(format!(
            "--format {}: {command} writes {writes}",
            format
                .to_possible_value()
                .map(|v| v.get_name().to_owned())
                .unwrap_or_default()
        ))),
        _ => Ok(()),
    }
}

fn catalogue(format: OutputFormat, output: Option<&std::path::Path>) -> Result<u8, Failure> {
    let catalogue = netaudit_logs::catalogue::CATALOGUE;
    write_to(output, |out| match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, catalogue).map_err(io::Error::from)?;
            writeln!(out)
        }
        OutputFormat::Table | OutputFormat::Csv | OutputFormat::Ocsf => {
            for entry in catalogue {
                writeln!(out, "{}  [{}] ({})", entry.pattern, entry.category.as_str(), entry.ike)?;
                writeln!(out, "  means: {}", entry.explanation)?;
                writeln!(out, "  fix:   {}", entry.fix)?;
            }
            Ok(())
        }
    })?;
    Ok(EXIT_CLEAN)
}

fn detect(sources: &SourceArgs, set: &[String], only: &[String]) -> Result<u8, Failure> {
    let mut thresholds = Thresholds::default();
    for assignment in set {
        thresholds
            .set(assignment)
            .map_err(|e| Failure::Usage(format!("--set: {e}")))?;
    }
    let mut chosen = vec![];
    for id in only {
        let detection = Detection::ALL
            .into_iter()
            .find(|d| d.id().eq_ignore_ascii_case(id))
            .ok_or_else(|| {
                let ids: Vec<&str> = Detection::ALL.iter().map(|d| d.id()).collect();
                Failure::Usage(format!("--only: unknown detection {id:?}; one of: {}", ids.join(", ")))
            })?;
        chosen.push(detection);
    }
    if let Some(engine) = athena(sources)? {
        return detect_on_athena(sources, &engine, &thresholds, chosen);
    }
    let given = tables_given(sources);
    if chosen.is_empty() {
        // Every detection whose logs were given; at least one kind must be.
        chosen = Detection::ALL
            .into_iter()
            .filter(|d| given.contains(&d.table()))
            .collect();
        if chosen.is_empty() {
            return Err(Failure::Usage(format!(
                "detect reads logs and none were given: {}, {} or {}",
                source_option(Table::Flows),
                source_option(Table::VpnConnections),
                source_option(Table::TunnelEvents)
            )));
        }
    } else {
        for detection in &chosen {
            require(sources, detection.id(), &[detection.table()])?;
        }
    }
    let (session, issues, fetcher) = session(sources)?;
    let (detections, not_run) = netaudit_logs::detect::runnable(&chosen, &given, session.flow_columns());
    let findings =
        netaudit_logs::detect::run(&session, &detections, &thresholds).map_err(|e| Failure::Usage(e.to_string()))?;
    print_stats(sources, fetcher.as_ref());
    let incomplete = report_issues(&issues);
    let errors: Vec<String> = issues.list().iter().map(ToString::to_string).collect();
    detect_report(sources, &detections, &not_run, findings, errors, incomplete)
}

/// The detections in Athena (by default those over flows; the VPN and tunnel ones with `--only`),
/// each finding with its records read by the evidence query on Athena too.
fn detect_on_athena(
    sources: &SourceArgs,
    engine: &AthenaEngine,
    thresholds: &Thresholds,
    chosen: Vec<Detection>,
) -> Result<u8, Failure> {
    let chosen = if chosen.is_empty() {
        Detection::ALL
            .into_iter()
            .filter(|d| d.table() == Table::Flows)
            .collect()
    } else {
        chosen
    };
    let format = log_format(sources)?;
    let columns = netaudit_logs::FlowColumns::of_formats([&format]);
    // Asked for by name, the VPN and tunnel detections read the views `athena create
    // --vpn-location/--tunnels-location` makes.
    let tables = [Table::Flows, Table::VpnConnections, Table::TunnelEvents];
    let (detections, not_run) = netaudit_logs::detect::runnable(&chosen, &tables, &columns);
    let optional = OptionalColumns::of(&columns);
    let mut findings = vec![];
    let rows = |result: &netaudit_logs::QueryResult| {
        netaudit_logs::render::rows_as_json(&result.schema, &result.batches)
            .map_err(|e| Failure::Internal(e.to_string()))
    };
    for detection in &detections {
        let found = engine.builtin(&detection.sql(Dialect::Athena, thresholds, optional))?;
        for row in rows(&found)? {
            let (subject, target, window_start) = netaudit_logs::detect::row_key(&row);
            let sql = detection.evidence_sql(Dialect::Athena, thresholds, &subject, &target, window_start);
            let records = rows(&engine.builtin(&sql)?)?;
            findings.push(netaudit_logs::detect::finding(*detection, &row, Some(records)));
        }
    }
    detect_report(sources, &detections, &not_run, findings, vec![], false)
}

/// The detections' findings as a report in the chosen format; the exit code.
fn detect_report(
    sources: &SourceArgs,
    detections: &[Detection],
    not_run: &[(Detection, String)],
    findings: Vec<netaudit_checks::Finding>,
    mut errors: Vec<String>,
    mut incomplete: bool,
) -> Result<u8, Failure> {
    for (detection, why) in not_run {
        let message = format!("{} was not run: {why}", detection.id());
        note!("netaudit: {message}");
        errors.push(message);
        incomplete = true;
    }
    let graph = netaudit_model::Graph::build(&netaudit_model::Inventory::default());
    let mut report = netaudit_report::ScanReport::new(&[], findings, &graph, errors);
    if sources.format == Some(OutputFormat::Ocsf) {
        // OCSF events need a time; the other formats have always left it out.
        report.scanned_at = Some(crate::report_cmd::scan_time()?);
    }
    report.controls = detections
        .iter()
        .map(|d| {
            let mut counts = netaudit_report::Counts::default();
            for f in report.results.iter().filter(|f| f.control == d.id()) {
                counts.add(f.status);
            }
            netaudit_report::ControlSummary {
                id: d.id().to_owned(),
                title: d.title().to_owned(),
                severity: d.severity(),
                // netaudit's own advice beyond any standard: the report's advisory category.
                category: "advisory".to_owned(),
                counts,
                summary: d.title().to_owned(),
                resource_type: String::new(),
                aws_config_rule: None,
                frameworks: vec![],
                remediation: String::new(),
                references: vec![],
                help: String::new(),
            }
        })
        .collect();
    netaudit_report::sort_controls(&mut report.controls);
    let failures = report.totals.fail > 0;
    write_to(sources.output.as_deref(), |out| {
        match sources.format.unwrap_or_default() {
            OutputFormat::Table => {
                // The terminal table shows each finding's measures; the records are in JSON.
                let mut brief = report.clone();
                for f in &mut brief.results {
                    // Rebuilt rather than removed from: removal would reorder a map that keeps insertion order.
                    f.evidence = std::mem::take(&mut f.evidence)
                        .into_iter()
                        .filter(|(key, _)| key != "records")
                        .collect();
                }
                netaudit_report::table::render(&brief, out, netaudit_report::table::TableOptions::default())
            }
            OutputFormat::Json => netaudit_report::json::render(&report, out),
            OutputFormat::Csv => netaudit_report::csv::render(&report, out),
            OutputFormat::Ocsf => netaudit_report::ocsf::render_detections(&report, out),
        }
    })?;
    Ok(match (failures, incomplete) {
        (false, false) => EXIT_CLEAN,
        (true, false) => EXIT_FAILURES,
        (false, true) => EXIT_INCOMPLETE,
        (true, true) => EXIT_FAILURES_AND_INCOMPLETE,
    })
}

/// Where generated records go.
enum Target {
    File,
    /// A folder in the S3 key layout.
    Tree {
        files_per_hour: u32,
    },
}

#[allow(clippy::too_many_arguments)]
fn generate(
    records: u64,
    seed: u64,
    hours: i64,
    layout: Layout,
    incidents: &[String],
    gzip: bool,
    output: &std::path::Path,
    target: Target,
) -> Result<u8, Failure> {
    let mut planted = vec![];
    for name in incidents {
        if name == "all" {
            planted.extend(Incident::ALL);
            continue;
        }
        planted.push(Incident::parse(name).ok_or_else(|| {
            let names: Vec<&str> = Incident::ALL.iter().map(|i| i.name()).collect();
            Failure::Usage(format!(
                "--incident {name:?}: unknown; one of: {}, all",
                names.join(", ")
            ))
        })?);
    }
    let options = GenerateOptions {
        seed,
        records,
        hours,
        format: match layout {
            Layout::V2 => GeneratedFormat::DefaultV2,
            Layout::V5 => GeneratedFormat::CustomV5,
        },
        incidents: planted,
        ..GenerateOptions::default()
    };
    // --records counts every record written: the backup traffic and the incidents come out of it.
    let on_top = netaudit_logs::generate::records_on_top(&options)?;
    if records < on_top {
        return Err(Failure::Usage(format!(
            "--records {records}: the backup traffic of {hours} hour(s) and the incidents asked for take {on_top} \
             records; ask for at least that many"
        )));
    }
    let options = GenerateOptions {
        records: records - on_top,
        ..options
    };
    let write = |out: &mut dyn Write| -> io::Result<Vec<netaudit_logs::generate::Planted>> {
        // Larger than the shared buffer: millions of short records.
        let mut buffered = io::BufWriter::with_capacity(1 << 20, out);
        if gzip {
            let mut encoder = flate2::write::GzEncoder::new(&mut buffered, flate2::Compression::fast());
            let planted = netaudit_logs::generate::generate(&options, &mut encoder)?;
            encoder.finish()?;
            buffered.flush()?;
            Ok(planted)
        } else {
            let planted = netaudit_logs::generate::generate(&options, &mut buffered)?;
            buffered.flush()?;
            Ok(planted)
        }
    };
    let mut planted = vec![];
    match target {
        Target::File => write_to(Some(output), |out| {
            planted = write(out)?;
            Ok(())
        })?,
        Target::Tree { files_per_hour } => {
            let mut tree = netaudit_logs::generate::TreeWriter::new(output, "us-east-1", files_per_hour, gzip);
            let written = netaudit_logs::generate::generate(&options, &mut tree)
                .and_then(|p| {
                    planted = p;
                    tree.finish()
                })
                .map_err(|e| Failure::Usage(format!("{}: {e}", output.display())))?;
            note!("netaudit: wrote {written} files under {}", output.display());
        }
    }
    for p in planted {
        note!(
            "netaudit: planted {} from {} {} at {}",
            p.detection.id(),
            p.subject,
            p.target,
            p.window_start
        );
    }
    Ok(EXIT_CLEAN)
}
