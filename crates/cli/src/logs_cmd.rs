//! `netaudit logs …`: read the audit trail (flow logs, Client VPN and Site-to-Site VPN logs) and
//! answer questions over it.

use crate::{emit, Failure, EXIT_CLEAN, EXIT_FAILURES, EXIT_FAILURES_AND_INCOMPLETE, EXIT_INCOMPLETE};
use clap::{Args, Subcommand, ValueEnum};
use netaudit_logs::answers::{self, canonical_ip, Dialect};
use netaudit_logs::detect::{Detection, Thresholds};
use netaudit_logs::generate::{GenerateOptions, GeneratedFormat, Incident};
use netaudit_logs::sources::{list_files, parse_time};
use netaudit_logs::{FlowFormat, FlowReadOptions, Input, Issues, LogSession, LogSources, TimeRange};
use std::io::{self, Write};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct LogsArgs {
    #[command(subcommand)]
    command: LogsCommand,
    #[command(flatten)]
    sources: SourceArgs,
}

/// Where the logs are, and how to read them. Each source is a file, a directory (S3 key layout,
/// plain or Hive-style, pruned by --since/--until), `s3://bucket/prefix`, or `cloudwatch:GROUP`.
#[derive(Args, Debug, Default)]
struct SourceArgs {
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
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// For s3:// and cloudwatch: sources: the profile, region and endpoint to use.
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
    #[arg(long, global = true, value_name = "REGION")]
    region: Option<String>,
    #[arg(long, global = true, value_name = "URL")]
    endpoint_url: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
enum OutputFormat {
    #[default]
    Table,
    Json,
    Csv,
}

#[derive(Subcommand, Debug)]
enum LogsCommand {
    /// Run SQL over the tables flows, vpn_connections and tunnel_events.
    Sql {
        /// One SQL statement, e.g. "SELECT action, count(*) FROM flows GROUP BY action".
        query: String,
    },
    /// Every peer of a host: bytes, packets, ports, accepted/rejected, first and last seen.
    TalkedTo { ip: String },
    /// The source/destination pairs that moved the most bytes.
    TopTalkers {
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// Rejected traffic by source: distinct destination ports and hosts, SYN-only records.
    Rejects {
        #[arg(long, default_value_t = 50)]
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
        #[arg(long, default_value_t = 900, value_name = "SECONDS")]
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
    /// Print the Athena table (partition projection over the S3 layout) and the built-in queries.
    Athena {
        /// Where flow logs are delivered: s3://bucket[/prefix].
        #[arg(long, value_name = "S3_URL")]
        location: String,
        #[arg(long, value_name = "ID")]
        account: String,
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
        #[arg(long, default_value = "flows")]
        table: String,
        #[arg(long, default_value_t = 2020)]
        first_year: i32,
    },
    /// Write deterministic, realistic flow logs, optionally with planted incidents.
    Generate {
        #[arg(long, default_value_t = 20_000)]
        records: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 24)]
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
        #[arg(long, short, value_name = "FILE")]
        output: PathBuf,
    },
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
        #[arg(long, value_name = "TIME")]
        at: String,
    },
    /// Sessions, one per connection.
    Sessions {
        #[arg(long)]
        user: Option<String>,
    },
    /// Failed connection attempts by device IP.
    Failures,
}

fn time_arg(name: &str, value: Option<&String>) -> Result<Option<i64>, Failure> {
    value
        .map(|v| parse_time(v).ok_or_else(|| Failure::Usage(format!("{name} {v:?}: not a time"))))
        .transpose()
}

fn live_options(args: &SourceArgs) -> netaudit_aws::LiveOptions {
    netaudit_aws::LiveOptions {
        profile: args.profile.clone(),
        endpoint_url: args.endpoint_url.clone(),
        ..netaudit_aws::LiveOptions::default()
    }
}

/// Turn source arguments into inputs: local trees are listed (and pruned), S3 objects and
/// CloudWatch Logs events fetched.
fn inputs(
    args: &SourceArgs,
    sources: &[String],
    range: TimeRange,
    events_as_lines: bool,
) -> Result<Vec<Input>, Failure> {
    let mut out = vec![];
    for source in sources {
        if source.starts_with("s3://") {
            let keep = |key: &str| key_in_range(key, range);
            let objects =
                netaudit_aws::log_sources::fetch_s3_objects(&live_options(args), args.region.as_deref(), source, &keep)
                    .map_err(|e| Failure::Usage(e.to_string()))?;
            out.extend(objects.into_iter().map(|(name, bytes)| Input::Memory {
                name,
                bytes: bytes.into(),
            }));
        } else if let Some(group) = source.strip_prefix("cloudwatch:") {
            let events = netaudit_aws::log_sources::fetch_cloudwatch_events(
                &live_options(args),
                args.region.as_deref(),
                group,
                range.since.map(|s| s * 1000),
                range.until.map(|u| u * 1000),
            )
            .map_err(|e| Failure::Usage(e.to_string()))?;
            // One input per stream: its name carries the ENI or the tunnel.
            let mut streams: std::collections::BTreeMap<String, Vec<u8>> = Default::default();
            for event in events {
                let text = streams.entry(event.stream).or_default();
                if events_as_lines {
                    text.extend_from_slice(event.message.trim_end().as_bytes());
                } else {
                    text.extend_from_slice(event.message.replace('\n', " ").as_bytes());
                }
                text.push(b'\n');
            }
            out.extend(streams.into_iter().map(|(stream, bytes)| Input::Memory {
                name: format!("{group}/{stream}"),
                bytes: bytes.into(),
            }));
        } else {
            let files = list_files(std::path::Path::new(source), range).map_err(|e| Failure::Usage(e.to_string()))?;
            out.extend(files.into_iter().map(Input::File));
        }
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
    netaudit_logs::sources::path_in_range(&partition_path, range)
}

fn session(args: &SourceArgs) -> Result<(LogSession, Issues), Failure> {
    let range = TimeRange {
        since: time_arg("--since", args.since.as_ref())?,
        until: time_arg("--until", args.until.as_ref())?,
    };
    let format = match &args.log_format {
        Some(text) => FlowFormat::parse_aws(text).map_err(|e| Failure::Usage(format!("--log-format: {e}")))?,
        None => FlowFormat::default_v2(),
    };
    let sources = LogSources {
        flows: inputs(args, &args.flows, range, true)?,
        vpn: inputs(args, &args.vpn, TimeRange::default(), false)?,
        tunnels: inputs(args, &args.tunnels, TimeRange::default(), false)?,
        flow_options: FlowReadOptions {
            format,
            since: range.since,
            until: range.until,
            strict: args.strict,
            ..FlowReadOptions::default()
        },
    };
    let issues = Issues::new();
    let session = LogSession::new(sources, issues.clone()).map_err(|e| Failure::Usage(e.to_string()))?;
    Ok((session, issues))
}

/// Report bad input on stderr; true when there was any.
fn report_issues(issues: &Issues) -> bool {
    const SHOWN: usize = 20;
    let list = issues.list();
    for issue in list.iter().take(SHOWN) {
        eprintln!("netaudit: bad input: {issue}");
    }
    let count = issues.count();
    if count > SHOWN as u64 {
        eprintln!("netaudit: … {} more bad lines", count - SHOWN as u64);
    }
    if count > 0 {
        eprintln!("netaudit: {count} bad line(s) skipped; --strict makes them fatal");
    }
    count > 0
}

fn run_query(args: &SourceArgs, sql: &str) -> Result<u8, Failure> {
    let (session, issues) = session(args)?;
    let result = session.query(sql).map_err(|e| Failure::Usage(e.to_string()))?;
    emit(|out| write_result(args.format, &result, out))?;
    Ok(if report_issues(&issues) {
        EXIT_INCOMPLETE
    } else {
        EXIT_CLEAN
    })
}

fn write_result(format: OutputFormat, result: &netaudit_logs::QueryResult, out: &mut dyn Write) -> io::Result<()> {
    let written = match format {
        OutputFormat::Table => netaudit_logs::render::write_table(&result.schema, &result.batches, out, 60),
        OutputFormat::Json => netaudit_logs::render::write_json(&result.schema, &result.batches, out),
        OutputFormat::Csv => netaudit_logs::render::write_csv(&result.schema, &result.batches, out),
    };
    written.map_err(|e| match e {
        netaudit_logs::LogError::Io { source, .. } => source,
        other => io::Error::other(other.to_string()),
    })
}

pub fn run(args: LogsArgs) -> Result<u8, Failure> {
    let d = Dialect::DataFusion;
    let sources = &args.sources;
    match args.command {
        LogsCommand::Sql { query } => run_query(sources, &query),
        LogsCommand::TalkedTo { ip } => {
            let ip = canonical_ip(&ip).ok_or_else(|| Failure::Usage(format!("{ip:?} is not an IP address")))?;
            run_query(sources, &answers::talked_to(d, &ip))
        }
        LogsCommand::TopTalkers { limit } => run_query(sources, &answers::top_talkers(d, limit)),
        LogsCommand::Rejects { limit } => run_query(sources, &answers::rejects(d, limit)),
        LogsCommand::Vpn { command } => match command {
            VpnCommand::Who { at } => {
                let at = time_arg("--at", Some(&at))?.unwrap_or_default();
                run_query(sources, &answers::vpn_who(d, at))
            }
            VpnCommand::Sessions { user } => run_query(sources, &answers::vpn_sessions(d, user.as_deref())),
            VpnCommand::Failures => run_query(sources, &answers::vpn_failures(d)),
        },
        LogsCommand::Attribute { user } => run_query(sources, &answers::attribute(d, user.as_deref())),
        LogsCommand::Tunnels { summary } => {
            let sql = if summary {
                answers::tunnel_summary(d)
            } else {
                answers::tunnels(d)
            };
            run_query(sources, &sql)
        }
        LogsCommand::Gaps { max_silence } => run_query(sources, &answers::gaps(d, max_silence)),
        LogsCommand::Detect { set, only } => detect(sources, &set, &only),
        LogsCommand::Thresholds => {
            emit(|out| {
                serde_json::to_writer_pretty(&mut *out, &Thresholds::default()).map_err(io::Error::other)?;
                writeln!(out)
            })?;
            Ok(EXIT_CLEAN)
        }
        LogsCommand::Catalogue => catalogue(sources.format),
        LogsCommand::Athena {
            location,
            account,
            log_region,
            hive,
            hourly,
            parquet,
            ip,
            table,
            first_year,
        } => {
            if !location.starts_with("s3://") {
                return Err(Failure::Usage(format!(
                    "--location {location:?}: expected s3://bucket[/prefix]"
                )));
            }
            let ip = ip
                .map(|ip| canonical_ip(&ip).ok_or_else(|| Failure::Usage(format!("--ip {ip:?} is not an IP address"))))
                .transpose()?;
            let format = match &sources.log_format {
                Some(text) => FlowFormat::parse_aws(text).map_err(|e| Failure::Usage(format!("--log-format: {e}")))?,
                None => FlowFormat::default_v2(),
            };
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
            let statements = netaudit_logs::athena::statements(&options, &Thresholds::default(), ip.as_deref());
            emit(|out| out.write_all(netaudit_logs::athena::script(&statements).as_bytes()))?;
            Ok(EXIT_CLEAN)
        }
        LogsCommand::Generate {
            records,
            seed,
            hours,
            layout,
            incidents,
            gzip,
            output,
        } => generate(records, seed, hours, layout, &incidents, gzip, &output),
    }
}

fn catalogue(format: OutputFormat) -> Result<u8, Failure> {
    let catalogue = netaudit_logs::catalogue::CATALOGUE;
    emit(|out| match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, catalogue).map_err(io::Error::other)?;
            writeln!(out)
        }
        OutputFormat::Table | OutputFormat::Csv => {
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
    let mut detections = vec![];
    for id in only {
        let detection = Detection::ALL
            .into_iter()
            .find(|d| d.id().eq_ignore_ascii_case(id))
            .ok_or_else(|| Failure::Usage(format!("--only: unknown detection {id:?}")))?;
        detections.push(detection);
    }
    if detections.is_empty() {
        detections = Detection::ALL.to_vec();
    }
    let (session, issues) = session(sources)?;
    let findings =
        netaudit_logs::detect::run(&session, &detections, &thresholds).map_err(|e| Failure::Usage(e.to_string()))?;
    let incomplete = report_issues(&issues);
    let errors: Vec<String> = issues.list().iter().map(ToString::to_string).collect();
    let graph = netaudit_model::Graph::build(&netaudit_model::Inventory::default());
    let mut report = netaudit_report::ScanReport::new(&[], findings, &graph, errors);
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
                severity: d.severity().to_owned(),
                category: "detection".to_owned(),
                counts,
            }
        })
        .collect();
    let failures = report.totals.fail > 0;
    emit(|out| match sources.format {
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
    })?;
    Ok(match (failures, incomplete) {
        (false, false) => EXIT_CLEAN,
        (true, false) => EXIT_FAILURES,
        (false, true) => EXIT_INCOMPLETE,
        (true, true) => EXIT_FAILURES_AND_INCOMPLETE,
    })
}

fn generate(
    records: u64,
    seed: u64,
    hours: i64,
    layout: Layout,
    incidents: &[String],
    gzip: bool,
    output: &std::path::Path,
) -> Result<u8, Failure> {
    let mut planted = vec![];
    for name in incidents {
        if name == "all" {
            planted.extend(Incident::ALL);
            continue;
        }
        planted.push(Incident::parse(name).ok_or_else(|| Failure::Usage(format!("--incident {name:?}: unknown")))?);
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
    let file = std::fs::File::create(output).map_err(|e| Failure::Usage(format!("{}: {e}", output.display())))?;
    let mut buffered = io::BufWriter::with_capacity(1 << 20, file);
    let planted = if gzip {
        let mut encoder = flate2::write::GzEncoder::new(buffered, flate2::Compression::fast());
        let planted = netaudit_logs::generate::generate(&options, &mut encoder)?;
        encoder.finish()?.flush()?;
        planted
    } else {
        let planted = netaudit_logs::generate::generate(&options, &mut buffered)?;
        buffered.flush()?;
        planted
    };
    for p in planted {
        eprintln!(
            "netaudit: planted {} from {} {} at {}",
            p.detection.id(),
            p.subject,
            p.target,
            p.window_start
        );
    }
    Ok(EXIT_CLEAN)
}
