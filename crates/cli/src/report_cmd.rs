//! How a scan report is shown: the options `scan` and `report` share, one renderer per format, and
//! `netaudit report`, which renders a saved JSON report again without AWS.

use crate::{
    output, table_width, Failure, FilterArgs, EXIT_CLEAN, EXIT_FAILURES, EXIT_FAILURES_AND_INCOMPLETE, EXIT_INCOMPLETE,
};
use clap::ValueEnum;
use netaudit_report::{Outcome, ScanReport};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// JUnit XML, for CI test reports: a suite per control, a case per resource.
    Junit,
    /// A short Markdown summary, for a pull-request comment or $GITHUB_STEP_SUMMARY.
    Markdown,
    /// AWS Security Finding Format: a JSON array of findings, as `securityhub import` sends them.
    Asff,
    /// One self-contained HTML page for auditors, read offline: charts, a filterable table of
    /// every result, each FAIL's evidence and remediation, the coverage gaps and the exceptions.
    Html,
    /// OCSF 1.5.0 Compliance Findings, one JSON event per line, for security data lakes.
    Ocsf,
    /// The OCSF events as Parquet in the Amazon Security Lake custom-source layout, under -o DIR.
    OcsfParquet,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Which results to show, and how.
#[derive(clap::Args, Debug)]
pub struct ViewArgs {
    /// The report's format: a table for people, JSON (the stable interface `report`, `diff`,
    /// `fix plan --report` and other tools read), CSV, SARIF, JUnit, Markdown, ASFF (AWS Security
    /// Hub findings), HTML, OCSF (JSON Lines) or OCSF as Parquet for Amazon Security Lake
    /// (ocsf-parquet, with -o DIR).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report here instead of standard output (`-`: standard output); for ocsf-parquet,
    /// the directory to write the partitions under.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// With --format sarif: the directory file URIs are relative to (the repository root); default:
    /// the current directory.
    #[arg(long, value_name = "DIR")]
    pub sarif_root: Option<PathBuf>,
    /// List PASS results in the table, not only their count.
    #[arg(long, conflicts_with = "quiet")]
    pub show_pass: bool,
    /// Only FAIL and UNKNOWN results (the coverage and totals stay).
    #[arg(long, short, conflicts_with = "filter_statuses")]
    pub quiet: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Only the controls mapped to this framework, with each of its requirements' status over the
    /// resources (`netaudit frameworks` lists them; a unique part of a name will do, e.g. 800-53).
    #[arg(long, value_name = "NAME")]
    pub framework: Option<String>,
    /// Colour the table: auto colours on a terminal unless NO_COLOR is set; always overrides NO_COLOR.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `netaudit report`: render a saved report in another format.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// A report written by `scan --format json` (a live, evidence or code scan).
    pub report: PathBuf,
    #[command(flatten)]
    pub view: ViewArgs,
}

/// Render a saved report; the exit code is the one its scan had, after the filters.
pub fn report(args: &ReportArgs) -> Result<u8, Failure> {
    let path = &args.report;
    let text = std::fs::read_to_string(path).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    let mut report = ScanReport::parse(&text).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    if report.scanned_at.is_none() && matches!(args.view.format, Format::Ocsf | Format::OcsfParquet) {
        // A schema version 2 report was not dated; OCSF events need a time: when they are written.
        report.scanned_at = Some(scan_time()?);
    }
    show(report, &args.view)
}

/// Filter the report as the view asks, write it, and return the exit code its outcome gives.
pub fn show(mut report: ScanReport, view: &ViewArgs) -> Result<u8, Failure> {
    let mut filter = view.filter.filter();
    if view.quiet {
        filter.statuses = vec![netaudit_checks::Status::Fail, netaudit_checks::Status::Unknown];
    }
    if let Some(framework) = &view.framework {
        // Requirements are decided over every status of the accounts, regions and severities
        // asked for; the status filter then selects which results are shown.
        let statuses = std::mem::take(&mut filter.statuses);
        report.retain(&filter);
        report
            .limit_to_framework(framework)
            .map_err(|e| Failure::Usage(format!("--framework: {e}")))?;
        filter = netaudit_report::ResultFilter {
            statuses,
            ..netaudit_report::ResultFilter::default()
        };
    }
    report.retain(&filter);
    if view.format == Format::OcsfParquet {
        let dir = parquet_dir(view)?;
        netaudit_report::ocsf_parquet::write(&report, dir)
            .map_err(|e| Failure::Internal(format!("--output {}: {e}", dir.display())))?;
        return Ok(exit_code(report.outcome));
    }
    let to_stdout = output::is_stdout(view.output.as_deref());
    let to_terminal = to_stdout && io::stdout().is_terminal();
    let color = match view.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let table = netaudit_report::table::TableOptions {
        color,
        show_pass: view.show_pass,
        width: table_width(to_terminal),
    };
    let sarif = match view.format {
        Format::Sarif => Some(sarif_options(view)?),
        _ => None,
    };
    // Checked before anything is written: a report that cannot be ASFF writes no partial output.
    let asff = match view.format {
        Format::Asff => {
            netaudit_report::asff::findings(&report).map_err(|e| Failure::Usage(format!("--format asff: {e}")))?
        }
        _ => vec![],
    };
    output::write_to(view.output.as_deref(), |out: &mut dyn Write| {
        match (view.format, &sarif) {
            (Format::Table, _) => netaudit_report::table::render(&report, out, table),
            (Format::Json, _) => netaudit_report::json::render(&report, out),
            (Format::Csv, _) => netaudit_report::csv::render(&report, out),
            (Format::Sarif, Some(options)) => netaudit_report::sarif::render(&report, options, out),
            (Format::Sarif, None) => Err(io::Error::other("SARIF options are missing")),
            (Format::Junit, _) => netaudit_report::junit::render(&report, out),
            (Format::Markdown, _) => netaudit_report::markdown::render(&report, out),
            (Format::Asff, _) => netaudit_report::asff::render(&asff, out),
            (Format::Html, _) => netaudit_report::html::render(&report, out),
            (Format::Ocsf, _) => netaudit_report::ocsf::render(&report, out),
            (Format::OcsfParquet, _) => Err(io::Error::other("Parquet is written to a directory")),
        }
    })?;
    Ok(exit_code(report.outcome))
}

/// Parquet files go in a directory: `-o DIR` is required, and standard output will not do.
fn parquet_dir(view: &ViewArgs) -> Result<&std::path::Path, Failure> {
    match view.output.as_deref() {
        Some(dir) if !output::is_stdout(Some(dir)) => Ok(dir),
        _ => Err(Failure::Usage(
            "--format ocsf-parquet writes Parquet files in the Security Lake layout: give -o DIR".into(),
        )),
    }
}

pub fn exit_code(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Clean => EXIT_CLEAN,
        Outcome::Failures => EXIT_FAILURES,
        Outcome::Incomplete => EXIT_INCOMPLETE,
        Outcome::FailuresAndIncomplete => EXIT_FAILURES_AND_INCOMPLETE,
    }
}

/// Where SARIF URIs start from.
fn sarif_options(view: &ViewArgs) -> Result<netaudit_report::sarif::SarifOptions, Failure> {
    let working_dir =
        std::env::current_dir().map_err(|e| Failure::Internal(format!("cannot read the current directory: {e}")))?;
    let root = match &view.sarif_root {
        Some(dir) => {
            std::fs::canonicalize(dir).map_err(|e| Failure::Usage(format!("--sarif-root {}: {e}", dir.display())))?
        }
        None => working_dir.clone(),
    };
    Ok(netaudit_report::sarif::SarifOptions { root, working_dir })
}

/// When the scan ran: `SOURCE_DATE_EPOCH` (seconds) when set, for reproducible reports; else now.
pub fn scan_time() -> Result<String, Failure> {
    let seconds = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) => text
            .trim()
            .parse::<i64>()
            .map_err(|_| Failure::Usage(format!("SOURCE_DATE_EPOCH={text:?}: expected whole seconds since 1970")))?,
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
    };
    if !(0..=253_402_300_799).contains(&seconds) {
        return Err(Failure::Usage(format!(
            "SOURCE_DATE_EPOCH={seconds}: out of range (1970 to 9999)"
        )));
    }
    let day = netaudit_checks::Date::from_days_since_epoch(seconds.div_euclid(86_400));
    let second_of_day = seconds.rem_euclid(86_400);
    Ok(format!(
        "{day}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    ))
}
