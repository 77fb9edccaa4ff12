//! The `netaudit` command: argument parsing and glue between the library crates.

#![allow(clippy::print_stdout, clippy::print_stderr)]

/// A line on standard error. A closed or full standard error (`netaudit … 2>&1 | head`) loses the
/// line rather than ending the run: `eprintln!` would panic.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod athena_engine;
mod cost_cmd;
mod explain;
mod fix_cmd;
mod iac_cmd;
mod logs_cmd;
mod meta_cmd;
mod numbers;
mod output;
mod priority;
mod report_cmd;
mod securityhub_cmd;
mod settings;

use clap::{FromArgMatches, Parser, Subcommand, ValueEnum};
use netaudit_checks::{Catalogue, Control, Params};
use netaudit_evidence::EvidenceError;
use netaudit_model::Graph;
use netaudit_report::ScanReport;
use report_cmd::Format;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit codes; the README documents them.
const EXIT_CLEAN: u8 = 0;
const EXIT_FAILURES: u8 = 1;
const EXIT_INCOMPLETE: u8 = 2;
const EXIT_FAILURES_AND_INCOMPLETE: u8 = 3;
/// `securityhub import`: Security Hub refused a finding, or a call failed after its retries.
const EXIT_IMPORT_FAILED: u8 = 4;
/// `logs --engine athena`: a query failed, was cancelled or timed out, or an Athena call failed.
const EXIT_QUERY_FAILED: u8 = 5;
const EXIT_USAGE: u8 = 64;
const EXIT_INTERNAL: u8 = 70;

#[derive(Parser, Debug)]
#[command(
    name = "netaudit",
    version,
    about = "Makes sure an AWS estate keeps a network audit trail, and finds where it does not.",
    after_help = "Settings: ./netaudit.toml (or --config FILE) and NETAUDIT_REGIONS, NETAUDIT_PROFILE, \
                  NETAUDIT_EXCEPTIONS, NETAUDIT_FORMAT fill in what the command line leaves out."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    config: settings::ConfigArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Evaluate the controls over live AWS or offline evidence.
    Scan(Box<ScanArgs>),
    /// Render a saved JSON report in any format, without AWS.
    Report(Box<report_cmd::ReportArgs>),
    /// List the controls.
    Checks(CatalogueListArgs),
    /// List the compliance frameworks the controls map to, requirement by requirement (JSON names
    /// each mapping's source).
    Frameworks(CatalogueListArgs),
    /// Print a control's full documentation.
    Explain {
        /// The control id (case does not matter), e.g. EC2.51.
        id: String,
        /// Also load controls from this directory, to explain one of them.
        #[arg(long, value_name = "DIR")]
        checks_dir: Vec<PathBuf>,
        #[command(flatten)]
        output: output::OutputArg,
    },
    /// Print the asset graph's schema (GraphQL SDL), for writing queries and checks.
    Schema {
        #[command(flatten)]
        output: output::OutputArg,
    },
    /// Run a query over evidence and print the matching assets as JSON.
    Query {
        /// The query, e.g. 'vpcs(where: {hasFlowLog: null}) { ...AssetFragment }'.
        query: String,
        /// The offline evidence to query (the layout `scan --evidence` reads).
        #[arg(long, value_name = "DIR")]
        evidence: PathBuf,
        /// A query variable, as NAME=VALUE.
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        #[command(flatten)]
        output: output::OutputArg,
    },
    /// Print the bash script that collects evidence in the layout `scan --evidence` reads.
    EvidenceScript {
        #[command(flatten)]
        output: output::OutputArg,
    },
    /// Read the audit trail: flow logs, Client VPN and Site-to-Site VPN logs; SQL, answers, detections.
    Logs(Box<logs_cmd::LogsArgs>),
    /// Print the read-only IAM policy a live scan needs (with --fix: what `fix apply` needs too; with
    /// --securityhub: what `securityhub import` needs; with --athena: what `logs --engine athena` needs).
    IamPolicy {
        /// Include what --org needs (list accounts, assume the member role).
        #[arg(long)]
        org: bool,
        /// The role assumed in each member account with --org.
        #[arg(long, value_name = "NAME", default_value = "OrganizationAccountAccessRole")]
        org_role: String,
        /// Add the permissions `fix apply` needs.
        #[arg(long)]
        fix: bool,
        /// Add the permissions `securityhub import` needs.
        #[arg(long)]
        securityhub: bool,
        /// Add the permissions `logs --engine athena` and `logs athena create` need (Athena, the Glue
        /// catalog, S3 for the logs and the query results).
        #[arg(long)]
        athena: bool,
        /// The flow-log delivery role `fix apply` may pass (with --fix).
        #[arg(long, value_name = "NAME", default_value = "netaudit-flow-logs-delivery")]
        delivery_role: String,
        #[command(flatten)]
        output: output::OutputArg,
    },
    /// Estimate what flow logs on every VPC cost a month, per destination.
    Cost(Box<cost_cmd::CostArgs>),
    /// Plan and apply fixes for failing results.
    Fix {
        #[command(subcommand)]
        command: fix_cmd::FixCommand,
    },
    /// Write the guardrails that keep the trail on: a Config conformance pack, an SCP, the rollout order.
    Guardrails(fix_cmd::GuardrailsArgs),
    /// Print a shell's completion script, e.g. `netaudit completions bash > /etc/bash_completion.d/netaudit`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page netaudit(1) in roff, or write one page per command into a directory.
    Man {
        /// Write netaudit.1, netaudit-scan.1, … into this directory instead.
        #[arg(long, short, value_name = "DIR")]
        output: Option<PathBuf>,
    },
    /// Send a saved report's findings to AWS Security Hub.
    #[command(name = "securityhub")]
    SecurityHub {
        #[command(subcommand)]
        command: securityhub_cmd::SecurityHubCommand,
    },
    /// Compare two JSON reports: new, resolved and still-open results per control.
    Diff {
        /// The older report (`scan --format json`).
        old: PathBuf,
        /// The newer report.
        new: PathBuf,
        /// The diff's format.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Results of other controls, accounts or regions, and changes that involve none of the
        /// statuses asked for, are left out.
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        output: output::OutputArg,
    },
}

#[derive(clap::Args, Debug)]
struct ScanArgs {
    /// Scan offline evidence: DIR/<account-id>/<region>/<service>-<operation>.json. Without it,
    /// netaudit scans live AWS with the default credential chain.
    #[arg(long, value_name = "DIR")]
    evidence: Option<PathBuf>,
    #[command(flatten)]
    live: LiveArgs,
    #[command(flatten)]
    iac: iac_cmd::IacArgs,
    /// Exceptions (TOML): accepted failures with owner, reason, ticket and expiry; they become MUTED.
    #[arg(long, value_name = "FILE")]
    exceptions: Option<PathBuf>,
    /// Also write what was read in the evidence layout, to replay or audit the scan later.
    #[arg(long, value_name = "DIR")]
    save_evidence: Option<PathBuf>,
    /// Print the API calls made, per API, to standard error.
    #[arg(long)]
    stats: bool,
    /// Print each API call with its region, status and duration to standard error.
    #[arg(long, short)]
    verbose: bool,
    /// Only these controls (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS", value_parser = trimmed)]
    checks: Vec<String>,
    /// Skip these controls (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS", value_parser = trimmed)]
    skip: Vec<String>,
    /// Also load controls from this directory (`*.toml` or `<ID>/control.toml`).
    #[arg(long, value_name = "DIR")]
    checks_dir: Vec<PathBuf>,
    /// A control parameter, as ID.NAME=VALUE (e.g. EC2.6.trafficType=ALL).
    #[arg(long = "param", value_name = "ID.NAME=VALUE")]
    params: Vec<String>,
    #[arg(skip)]
    configured_params: settings::ConfigParams,
    #[command(flatten)]
    priority: priority::PriorityArgs,
    #[command(flatten)]
    view: report_cmd::ViewArgs,
}

/// How to reach AWS for a live scan.
#[derive(clap::Args, Debug)]
struct LiveArgs {
    /// The named profile to use.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Assume this role before scanning.
    #[arg(long, value_name = "ARN")]
    role_arn: Option<String>,
    /// The external id the role requires.
    #[arg(long, value_name = "ID", requires = "role_arn")]
    external_id: Option<String>,
    /// Only these regions (comma-separated); default: every region enabled for the account.
    #[arg(long, value_delimiter = ',', value_name = "REGIONS")]
    regions: Vec<String>,
    /// Scan every active account of the Organization (from the management or a delegated account).
    #[arg(long)]
    org: bool,
    /// The role to assume in each member account with --org [default: OrganizationAccountAccessRole].
    #[arg(long, value_name = "NAME")]
    org_role: Option<String>,
    /// Send every AWS call to this endpoint (an emulator, for example).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Attempts per call, with adaptive retry [default: 5].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    max_attempts: Option<u32>,
    /// Seconds one attempt of one call may take [default: 20].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: Option<u64>,
    /// Accounts collected at once with --org (each collects its regions at once too) [default: 4].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    account_concurrency: Option<u16>,
    /// Where the profile came from when it was not typed: the environment variable or the config
    /// file and line.
    #[arg(skip)]
    profile_origin: Option<String>,
}

/// How to reach AWS: the credentials' profile and role, the endpoint, and the patience per call
/// (attempts [default: 5] and seconds per attempt [default: 20]).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Connection {
    /// The named profile to use.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Assume this role before calling AWS.
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// The external id the role requires.
    #[arg(long, value_name = "ID", requires = "role_arn")]
    pub external_id: Option<String>,
    /// Send every AWS call to this endpoint (an emulator, for example).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Attempts per call, with adaptive retry [default: 5].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: Option<u32>,
    /// Seconds one attempt of one call may take [default: 20].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: Option<u64>,
}

impl Connection {
    fn options(self) -> netaudit_aws::LiveOptions {
        let timeout = std::time::Duration::from_secs(self.timeout.unwrap_or(20).max(1));
        let max_attempts = self.max_attempts.unwrap_or(5);
        netaudit_aws::LiveOptions {
            profile: self.profile,
            role_arn: self.role_arn,
            external_id: self.external_id,
            endpoint_url: self.endpoint_url,
            max_attempts,
            attempt_timeout: timeout,
            operation_timeout: timeout * max_attempts.max(1) * 2,
            ..netaudit_aws::LiveOptions::default()
        }
    }
}

impl LiveArgs {
    fn options(&self) -> netaudit_aws::LiveOptions {
        let connection = Connection {
            profile: self.profile.clone(),
            role_arn: self.role_arn.clone(),
            external_id: self.external_id.clone(),
            endpoint_url: self.endpoint_url.clone(),
            max_attempts: self.max_attempts,
            timeout: self.timeout,
        };
        netaudit_aws::LiveOptions {
            regions: (!self.regions.is_empty()).then(|| self.regions.clone()),
            org: self.org,
            org_role: self
                .org_role
                .clone()
                .unwrap_or_else(|| "OrganizationAccountAccessRole".into()),
            account_concurrency: usize::from(self.account_concurrency.unwrap_or(4).max(1)),
            ..connection.options()
        }
    }

    /// The options given that only a live scan uses.
    fn given_live_only(&self) -> Vec<&'static str> {
        [
            ("--profile", self.profile.is_some() && self.profile_origin.is_none()),
            ("--role-arn", self.role_arn.is_some()),
            ("--external-id", self.external_id.is_some()),
            ("--org", self.org),
            ("--org-role", self.org_role.is_some()),
            ("--endpoint-url", self.endpoint_url.is_some()),
            ("--max-attempts", self.max_attempts.is_some()),
            ("--timeout", self.timeout.is_some()),
            ("--account-concurrency", self.account_concurrency.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect()
    }

    /// Refuse live-only options when the input is `source` (offline evidence, a report, code).
    fn refuse_live_only(&self, source: &str) -> Result<(), Failure> {
        let given = self.given_live_only();
        if given.is_empty() {
            return Ok(());
        }
        Err(Failure::Usage(format!(
            "{} only apply to a live scan; {source} is read without AWS",
            given.join(", ")
        )))
    }
}

/// A list item as typed after a comma: `--checks 'EC2.6, EC2.51'` means EC2.51.
fn trimmed(item: &str) -> Result<String, String> {
    Ok(item.trim().to_owned())
}

/// Which results to show, as `--status`, `--severity`, `--region` and `--account` select them.
#[derive(clap::Args, Debug, Default)]
pub struct FilterArgs {
    /// Only results with these statuses (comma-separated).
    #[arg(
        long = "status",
        id = "filter_statuses",
        value_enum,
        value_delimiter = ',',
        value_name = "STATUSES"
    )]
    statuses: Vec<StatusArg>,
    /// Only controls of these severities (comma-separated).
    #[arg(
        long = "severity",
        id = "filter_severities",
        value_enum,
        value_delimiter = ',',
        value_name = "SEVERITIES"
    )]
    severities: Vec<SeverityArg>,
    /// Show only results in these regions (comma-separated; rows for every region, `*`, stay).
    /// `--regions` decides what is read; this, what is shown.
    #[arg(
        long = "region",
        id = "filter_regions",
        value_delimiter = ',',
        value_name = "REGIONS"
    )]
    regions: Vec<String>,
    /// Only results in these accounts (comma-separated).
    #[arg(
        long = "account",
        id = "filter_accounts",
        value_delimiter = ',',
        value_name = "ACCOUNTS"
    )]
    accounts: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StatusArg {
    Fail,
    Unknown,
    Pass,
    NotApplicable,
    Muted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SeverityArg {
    Critical,
    High,
    Medium,
    Low,
    Informational,
}

impl FilterArgs {
    pub fn filter(&self) -> netaudit_report::ResultFilter {
        use netaudit_checks::{Severity, Status};
        let trimmed = |list: &[String]| -> Vec<String> {
            list.iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        netaudit_report::ResultFilter {
            statuses: self
                .statuses
                .iter()
                .map(|s| match s {
                    StatusArg::Fail => Status::Fail,
                    StatusArg::Unknown => Status::Unknown,
                    StatusArg::Pass => Status::Pass,
                    StatusArg::NotApplicable => Status::NotApplicable,
                    StatusArg::Muted => Status::Muted,
                })
                .collect(),
            severities: self
                .severities
                .iter()
                .map(|s| match s {
                    SeverityArg::Critical => Severity::Critical,
                    SeverityArg::High => Severity::High,
                    SeverityArg::Medium => Severity::Medium,
                    SeverityArg::Low => Severity::Low,
                    SeverityArg::Informational => Severity::Informational,
                })
                .collect(),
            regions: trimmed(&self.regions),
            accounts: trimmed(&self.accounts),
        }
    }
}

/// The width to fit a table to: `COLUMNS` when set, else the terminal's when writing to one.
fn table_width(to_terminal: bool) -> Option<usize> {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
    {
        return (columns > 0).then_some(columns);
    }
    if to_terminal {
        return terminal_size::terminal_size().map(|(terminal_size::Width(w), _)| usize::from(w));
    }
    None
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ListFormat {
    Table,
    Json,
}

/// A failure that ends the command: a usage error or an internal one.
enum Failure {
    Usage(String),
    /// A remote query engine gave no answer (the message names the query).
    Query(String),
    Internal(String),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Internal(format!("cannot write the output: {e}"))
    }
}

fn main() -> ExitCode {
    // The matches say which options were typed: settings fill in only the others.
    let parsed = meta_cmd::command()
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)))
        .map_err(|e| e.format(&mut meta_cmd::command()));
    let (mut cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_CLEAN };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match settings::apply(&mut cli, &matches).and_then(|()| run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(Failure::Usage(message)) => {
            note!("netaudit: error: {message}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Query(message)) => {
            note!("netaudit: error: {message}");
            ExitCode::from(EXIT_QUERY_FAILED)
        }
        Err(Failure::Internal(message)) => {
            note!("netaudit: internal error: {message}");
            ExitCode::from(EXIT_INTERNAL)
        }
    }
}

/// Write to stdout; a closed pipe (`netaudit … | head`) is not an error.
fn emit(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), Failure> {
    let stdout = io::stdout();
    let mut lock = stdout.lock();
    match write(&mut lock).and_then(|()| lock.flush()) {
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => Ok(other?),
    }
}

/// A closed pipe, also when a serializer wrapped the error it met.
fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<io::Error>())
            .is_some_and(is_broken_pipe)
}

/// What `checks` and `frameworks` list from: the catalogue, and how to write the list.
#[derive(clap::Args, Debug)]
struct CatalogueListArgs {
    /// The list's format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
    /// Also load controls from this directory.
    #[arg(long, value_name = "DIR")]
    checks_dir: Vec<PathBuf>,
    #[command(flatten)]
    output: output::OutputArg,
}

/// Load the catalogue (built-in and `--checks-dir`) and write the table or JSON list; a control
/// file that does not load makes the exit code 2.
fn list_catalogue(
    args: &CatalogueListArgs,
    table: fn(&Catalogue, &mut dyn Write) -> io::Result<()>,
    json: fn(&Catalogue, &mut dyn Write) -> io::Result<()>,
) -> Result<u8, Failure> {
    let (catalogue, errors) = catalogue(&args.checks_dir)?;
    report_errors(&errors);
    args.output.write(|out| match args.format {
        ListFormat::Table => table(&catalogue, out),
        ListFormat::Json => json(&catalogue, out),
    })?;
    Ok(if errors.is_empty() { EXIT_CLEAN } else { EXIT_INCOMPLETE })
}

fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Scan(args) => scan(*args),
        Command::Report(args) => report_cmd::report(&args),
        Command::Checks(args) => list_catalogue(&args, explain::list, explain::list_json),
        Command::Frameworks(args) => list_catalogue(&args, explain::frameworks, explain::frameworks_json),
        Command::Explain { id, checks_dir, output } => {
            let (catalogue, errors) = catalogue(&checks_dir)?;
            report_errors(&errors);
            let control = catalogue
                .get(&id)
                .ok_or_else(|| Failure::Usage(format!("unknown control id {id:?}; `netaudit checks` lists them")))?;
            output.write(|out| explain::explain(control, out))?;
            Ok(if errors.is_empty() { EXIT_CLEAN } else { EXIT_INCOMPLETE })
        }
        Command::Schema { output } => {
            output.write(|out| out.write_all(netaudit_query::schema_sdl().as_bytes()))?;
            Ok(EXIT_CLEAN)
        }
        Command::Fix { command } => match command {
            fix_cmd::FixCommand::Plan(args) => fix_cmd::plan(&args),
            fix_cmd::FixCommand::Apply(args) => fix_cmd::apply(&args),
        },
        Command::Guardrails(args) => fix_cmd::guardrails(&args),
        Command::Cost(args) => cost_cmd::run(&args),
        Command::Diff {
            old,
            new,
            format,
            filter,
            output,
        } => fix_cmd::diff(
            &old,
            &new,
            matches!(format, ListFormat::Json),
            &filter.filter(),
            &output,
        ),
        Command::IamPolicy {
            org,
            org_role,
            fix,
            securityhub,
            athena,
            delivery_role,
            output,
        } => {
            let mut policy = netaudit_aws::read_only_policy(org, &org_role);
            if let Some(all) = policy["Statement"].as_array_mut() {
                if fix {
                    let apply = netaudit_fix::apply_policy(&delivery_role);
                    if let Some(more) = apply["Statement"].as_array() {
                        all.extend(more.iter().cloned());
                    }
                }
                if securityhub {
                    all.push(netaudit_aws::securityhub_import_policy());
                }
                if athena {
                    all.extend(netaudit_aws::athena_policy());
                }
            }
            output.write(|out| {
                serde_json::to_writer_pretty(&mut *out, &policy).map_err(io::Error::from)?;
                writeln!(out)
            })?;
            Ok(EXIT_CLEAN)
        }
        Command::EvidenceScript { output } => {
            output.write(|out| out.write_all(netaudit_evidence::collection_script().as_bytes()))?;
            Ok(EXIT_CLEAN)
        }
        Command::Logs(args) => logs_cmd::run(*args),
        Command::SecurityHub { command } => securityhub_cmd::run(&command),
        Command::Completions { shell } => meta_cmd::completions(shell),
        Command::Man { output } => meta_cmd::man(output.as_deref()),
        Command::Query {
            query,
            evidence,
            params,
            output,
        } => run_query(&query, &evidence, &params, &output),
    }
}

/// The built-in catalogue plus user directories. A bad user file is reported and skipped.
fn catalogue(dirs: &[PathBuf]) -> Result<(Catalogue, Vec<String>), Failure> {
    let (mut catalogue, builtin_errors) = netaudit_checks::builtin();
    if !builtin_errors.is_empty() {
        let list: Vec<String> = builtin_errors.iter().map(ToString::to_string).collect();
        return Err(Failure::Internal(format!(
            "the built-in catalogue is invalid: {}",
            list.join("; ")
        )));
    }
    let mut errors = vec![];
    for dir in dirs {
        let (controls, file_errors) = netaudit_checks::load_dir(dir).map_err(|e| Failure::Usage(e.to_string()))?;
        errors.extend(file_errors.iter().map(ToString::to_string));
        errors.extend(catalogue.extend(controls).iter().map(ToString::to_string));
    }
    Ok((catalogue, errors))
}

fn report_errors(errors: &[String]) {
    for e in errors {
        note!("netaudit: error: {e}");
    }
}

/// Progress of a live scan on a terminal: a spinner per region with its call count.
#[derive(Clone, Default)]
struct RegionProgress {
    lines: indicatif::MultiProgress,
    bars: std::sync::Arc<std::sync::Mutex<BTreeMap<String, (indicatif::ProgressBar, usize)>>>,
}

impl RegionProgress {
    fn record(&self, call: &netaudit_aws::Call) {
        let region = call.region.clone().unwrap_or_else(|| "account".to_owned());
        let Ok(mut bars) = self.bars.lock() else { return };
        let (bar, count) = bars.entry(region.clone()).or_insert_with(|| {
            let bar = self.lines.add(indicatif::ProgressBar::new_spinner());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            (bar, 0)
        });
        *count += 1;
        bar.set_message(format!("{region:<15} {count:>4} calls  {}", call.api));
    }

    fn finish(&self) {
        if let Ok(bars) = self.bars.lock() {
            for (bar, _) in bars.values() {
                bar.finish_and_clear();
            }
        }
        let _ = self.lines.clear();
    }
}

/// A call log that prints each call with its region, status and duration.
fn verbose_call_log() -> netaudit_aws::CallLog {
    netaudit_aws::CallLog::with_observer(|c| {
        let status = c.status.map_or_else(|| "no response".to_owned(), |s| s.to_string());
        note!(
            "netaudit: {} {} {status} {} ms",
            c.api,
            c.region.as_deref().unwrap_or("-"),
            c.duration.as_millis()
        );
    })
}

/// Collect every listing from live AWS, reporting calls as asked.
fn collect_live(live: &LiveArgs, verbose: Option<bool>, stats: bool) -> Result<netaudit_model::Inventory, Failure> {
    collect_live_with(&live.options(), live, verbose, stats)
}

/// Collect from live AWS with these options, reporting calls as asked. `verbose` is `None` for a
/// command without `--verbose`.
fn collect_live_with(
    options: &netaudit_aws::LiveOptions,
    live: &LiveArgs,
    verbose: Option<bool>,
    stats: bool,
) -> Result<netaudit_model::Inventory, Failure> {
    let verbose_flag = verbose.is_some();
    let verbose = verbose.unwrap_or(false);
    // On a terminal, one line per region counts its calls; in CI and pipes, nothing unless --verbose.
    let progress = (!verbose && io::stderr().is_terminal()).then(RegionProgress::default);
    let calls = if let Some(progress) = progress.clone() {
        netaudit_aws::CallLog::with_observer(move |c| progress.record(c))
    } else if verbose {
        verbose_call_log()
    } else {
        netaudit_aws::CallLog::new()
    };
    let collected = netaudit_aws::collect(options, &calls);
    if let Some(progress) = progress {
        progress.finish();
    }
    // Only missing credentials stop a scan (nothing was asked of AWS); an account that could not be
    // identified or entered is in the inventory, UNKNOWN, and the report says why.
    let inventory = collected.map_err(|e| match e {
        netaudit_aws::CollectError::NoCredentials(gap) => no_credentials(&gap, live, verbose_flag.then_some(verbose)),
        netaudit_aws::CollectError::Runtime(gap) => Failure::Internal(format!("cannot start the scan: {gap}")),
    })?;
    for account in inventory
        .accounts
        .iter()
        .filter(|a| a.account_id == netaudit_aws::UNKNOWN_ACCOUNT)
    {
        if let Err(gap) = &account.regions {
            note!("netaudit: warning: an account could not be identified; its coverage is UNKNOWN: {gap}");
        }
    }
    if stats {
        let counts = calls.counts();
        let total: usize = counts.values().sum();
        note!("netaudit: {total} API calls");
        for (api, n) in counts {
            note!("  {n:>6}  {api}");
        }
    }
    Ok(inventory)
}

/// No credentials: what to give instead of the SDK's provider chain (which `--verbose` adds, on a
/// command that has it).
fn no_credentials(gap: &netaudit_model::Gap, live: &LiveArgs, verbose: Option<bool>) -> Failure {
    let looked = match (&live.profile, &live.profile_origin) {
        (Some(profile), None) => {
            format!("profile {profile:?} gave none (is it in ~/.aws/config or ~/.aws/credentials?)")
        }
        (Some(profile), Some(origin)) => {
            format!("profile {profile:?} (set by {origin}) gave none (is it in ~/.aws/config or ~/.aws/credentials?)")
        }
        (None, _) => "none in the environment, the shared config and credentials files, web identity, the ECS \
                      container or instance metadata"
            .to_owned(),
    };
    let role = match &live.role_arn {
        Some(_) => "; --role-arn is assumed with credentials you already have, so it needs them too",
        None => "",
    };
    let give = match live.role_arn {
        Some(_) => "Give --profile NAME (a profile of ~/.aws/config, SSO included) or keys in the environment",
        None => {
            "Give --profile NAME (a profile of ~/.aws/config, SSO included), --role-arn ARN (assumed with the \
             credentials you have)"
        }
    };
    let detail = match verbose {
        Some(true) => format!("\nthe SDK said: {gap}"),
        Some(false) => "\n(--verbose shows what each credential provider said)".to_owned(),
        None => format!("\nthe SDK said: {gap}"),
    };
    Failure::Usage(format!(
        "no AWS credentials: {looked}{role}.\n{give}, or read collected evidence offline with --evidence DIR \
         (`netaudit evidence-script` collects it).{detail}"
    ))
}

fn load_evidence(dir: &std::path::Path) -> Result<(netaudit_model::Inventory, Vec<String>), Failure> {
    let loaded = netaudit_evidence::load_dir(dir).map_err(|e| Failure::Usage(e.to_string()))?;
    // Failed and missing calls are coverage gaps, not input errors; everything else is both.
    let errors = loaded
        .errors
        .iter()
        .filter(|e| !matches!(e, EvidenceError::Missing { .. } | EvidenceError::CallFailed { .. }))
        .map(|e| format!("{}: {e}", dir.display()))
        .collect();
    Ok((loaded.inventory, errors))
}

/// `ID.NAME=VALUE` → params[ID][NAME] = VALUE (JSON if it parses, else a string).
fn parse_params(raw: &[String], catalogue: &Catalogue) -> Result<Params, Failure> {
    let mut params: Params = BTreeMap::new();
    for p in raw {
        let (key, value) = p
            .split_once('=')
            .ok_or_else(|| Failure::Usage(format!("--param {p:?}: expected ID.NAME=VALUE")))?;
        let (id, name) = key
            .rsplit_once('.')
            .ok_or_else(|| Failure::Usage(format!("--param {p:?}: expected ID.NAME=VALUE")))?;
        let control = catalogue
            .get(id)
            .ok_or_else(|| Failure::Usage(format!("--param {p:?}: unknown control id {id:?}")))?;
        let json = serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
        params
            .entry(control.id().to_owned())
            .or_default()
            .insert(name.to_owned(), json);
    }
    for (id, values) in &params {
        if let Some(control) = catalogue.get(id) {
            control
                .check_params(values)
                .map_err(|e| Failure::Usage(format!("--param: {e}")))?;
        }
    }
    Ok(params)
}

fn scan(args: ScanArgs) -> Result<u8, Failure> {
    let (catalogue, mut errors) = catalogue(&args.checks_dir)?;
    let params = args
        .configured_params
        .under(parse_params(&args.params, &catalogue)?, &catalogue, false)?;
    for id in args.checks.iter().chain(&args.skip) {
        if catalogue.get(id).is_none() {
            errors.push(format!("unknown control id {id:?}; `netaudit checks` lists them"));
        }
    }
    let selected: Vec<&Control> = catalogue
        .controls()
        .iter()
        .filter(|c| args.checks.is_empty() || args.checks.iter().any(|id| id.eq_ignore_ascii_case(c.id())))
        .filter(|c| !args.skip.iter().any(|id| id.eq_ignore_ascii_case(c.id())))
        .collect();
    let selected = if args.iac.is_requested() {
        iac_cmd::applicable(selected)
    } else {
        selected
    };

    let offline = match (&args.evidence, args.iac.is_requested()) {
        (Some(dir), _) => Some(format!("--evidence {}", dir.display())),
        (None, true) => Some("--iac".to_owned()),
        (None, false) => None,
    };
    if let Some(source) = &offline {
        args.live.refuse_live_only(source)?;
        if args.stats || args.verbose {
            note!("netaudit: no API calls: {source} is read offline");
        }
    }
    let (inventory, evidence_errors) = match &args.evidence {
        Some(dir) => {
            let (mut inventory, errors) = load_evidence(dir)?;
            // As a live scan limited with --regions would have read it.
            if !args.live.regions.is_empty() {
                inventory.limit_to_regions(&args.live.regions);
            }
            (inventory, errors)
        }
        None if args.iac.is_requested() => (netaudit_model::Inventory::default(), vec![]),
        None => {
            let mut options = args.live.options();
            // Only the listings the selected controls read; when one of them does not compile
            // (evaluation reports it), nothing can be skipped.
            options.reads = netaudit_checks::controls_read(&selected).ok();
            (
                collect_live_with(&options, &args.live, Some(args.verbose), args.stats)?,
                vec![],
            )
        }
    };
    errors.extend(evidence_errors);
    if let Some(dir) = &args.save_evidence {
        let written = netaudit_evidence::write_dir(&inventory, dir)
            .map_err(|e| Failure::Usage(format!("--save-evidence: {e}")))?;
        if args.verbose {
            note!("netaudit: wrote {written} evidence files to {}", dir.display());
        }
    }
    let mut exceptions = match &args.exceptions {
        Some(path) => Some(fix_cmd::read_exceptions_file(path, &catalogue)?),
        None => None,
    };
    let graph = if args.iac.is_requested() {
        let (graph, inline) = iac_cmd::graph(&args.iac, &catalogue, &mut errors)?;
        if !inline.is_empty() {
            exceptions.get_or_insert_with(Vec::new).extend(inline);
        }
        graph
    } else {
        Graph::build(&inventory)
    };
    let (mut findings, eval_errors) = netaudit_checks::evaluate(&selected, &graph, &params);
    netaudit_checks::assign_priorities(&mut findings, &graph, &args.priority.production_tags()?);
    errors.extend(eval_errors.iter().map(ToString::to_string));
    report_errors(&errors);
    let exceptions = exceptions.map(|e| fix_cmd::apply_and_warn(&e, &mut findings));

    if let Some(dir) = &args.evidence {
        let locator = netaudit_evidence::RecordLocator::new(dir);
        for finding in &mut findings {
            finding.read_from = evidence_location(dir, &locator, finding);
        }
    }
    let mut report = ScanReport::new(&selected, findings, &graph, errors);
    drop_unselected_listings(&mut report);
    report.exceptions = exceptions;
    report.parameters = params;
    report.scanned_at = Some(report_cmd::scan_time()?);
    report.source = Some(scan_source(&args));
    report_cmd::show(report, &args.view)
}

/// What the scan read, in the words of its command line.
fn scan_source(args: &ScanArgs) -> netaudit_report::ScanSource {
    use netaudit_report::{ScanSource, SourceKind};
    if let Some(dir) = &args.evidence {
        return ScanSource {
            kind: SourceKind::Evidence,
            description: format!("evidence {}", dir.display()),
        };
    }
    if args.iac.is_requested() {
        return ScanSource {
            kind: SourceKind::Iac,
            description: args.iac.describe(),
        };
    }
    let mut parts = vec!["AWS".to_owned()];
    if let Some(profile) = &args.live.profile {
        parts.push(format!("profile {profile}"));
    }
    if let Some(role) = &args.live.role_arn {
        parts.push(format!("role {role}"));
    }
    if args.live.org {
        parts.push("the Organization's accounts".to_owned());
    }
    if !args.live.regions.is_empty() {
        parts.push(format!("regions {}", args.live.regions.join(",")));
    }
    if let Some(url) = &args.live.endpoint_url {
        parts.push(format!("endpoint {url}"));
    }
    ScanSource {
        kind: SourceKind::Aws,
        description: parts.join(", "),
    }
}

/// The evidence file (and line) a finding's resource was read from; for a listing that could not be
/// read, the file its gap names.
fn evidence_location(
    dir: &std::path::Path,
    locator: &netaudit_evidence::RecordLocator,
    f: &netaudit_checks::Finding,
) -> Option<netaudit_checks::Location> {
    let listing = netaudit_model::Kind::by_type_name(&f.resource_type).and_then(|kind| {
        let mut reads = netaudit_model::Reads::default();
        reads.add_kind(kind);
        netaudit_model::Collected::ALL.into_iter().find(|l| reads.needs(*l))
    });
    let gap_file = f
        .gaps
        .iter()
        .find_map(|g| g.source.as_deref())
        .map(|source| dir.join(source))
        .filter(|file| file.is_file());
    let (file, line) = match (f.resource_id.as_str(), gap_file) {
        ("*", Some(file)) => (file, 1),
        (id, _) => listing
            .and_then(|l| locator.locate(l.api(), &f.account_id, &f.region, id))
            // A region folder missing altogether: the account's region list names the region.
            .or_else(|| {
                let regions = netaudit_evidence::Operation::EC2_DESCRIBE_REGIONS.api;
                locator.locate(regions, &f.account_id, &f.region, &f.region)
            })?,
    };
    Some(netaudit_checks::Location {
        file: file.display().to_string(),
        start_line: line,
        end_line: line,
        construct_path: None,
    })
}

/// A listing the scan skipped because no selected control reads it is not a gap in this scan's
/// coverage; one that a result depends on still is listed.
fn drop_unselected_listings(report: &mut ScanReport) {
    let used: BTreeSet<netaudit_checks::GapRef> = report.results.iter().flat_map(|f| f.gaps.iter().cloned()).collect();
    report.coverage.gaps.retain(|g| {
        let skipped = g.kind == netaudit_model::GapKind::NotCollected && g.code == netaudit_model::reads::NOT_SELECTED;
        !skipped || used.contains(g)
    });
}

fn run_query(
    text: &str,
    evidence: &std::path::Path,
    raw: &[String],
    output: &output::OutputArg,
) -> Result<u8, Failure> {
    let mut params = BTreeMap::new();
    for p in raw {
        let (name, value) = p
            .split_once('=')
            .ok_or_else(|| Failure::Usage(format!("--param {p:?}: expected NAME=VALUE")))?;
        let json = serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_owned()));
        params.insert(name.to_owned(), json);
    }
    let query = netaudit_query::compile(text, &params).map_err(|e| Failure::Usage(format!("query: {e}")))?;
    let (inventory, errors) = load_evidence(evidence)?;
    let graph = Graph::build(&inventory);
    report_errors(&errors);
    let mut incomplete = !errors.is_empty();
    let mut doc = serde_json::Map::new();
    for root in &query.roots {
        let (mut matches, mut undetermined) = (vec![], vec![]);
        for &node in graph.of_kind(root.kind) {
            let truth = root.filter.as_ref().map_or(netaudit_query::Truth::True, |f| {
                netaudit_query::evaluate_filter(&graph, node, f)
            });
            match truth {
                netaudit_query::Truth::True => matches.push(netaudit_query::project(&graph, node, &root.selection)),
                netaudit_query::Truth::False => {}
                netaudit_query::Truth::Unknown(gaps) => {
                    let why: Vec<String> = gaps.iter().map(ToString::to_string).collect();
                    undetermined.push(serde_json::json!({
                        "asset": netaudit_query::project(&graph, node, &root.selection),
                        "why": why,
                    }));
                }
            }
        }
        let unlisted: Vec<String> = graph.listing_gaps(root.kind).map(|g| g.gap.to_string()).collect();
        incomplete |= !undetermined.is_empty() || !unlisted.is_empty();
        doc.insert(
            root.key.clone(),
            serde_json::json!({ "matches": matches, "undetermined": undetermined, "unlisted": unlisted }),
        );
    }
    output.write(|out| {
        serde_json::to_writer_pretty(&mut *out, &serde_json::Value::Object(doc)).map_err(io::Error::from)?;
        writeln!(out)
    })?;
    Ok(if incomplete { EXIT_INCOMPLETE } else { EXIT_CLEAN })
}
