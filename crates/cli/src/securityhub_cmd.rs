//! `netaudit securityhub import`: a saved report's findings into AWS Security Hub, as ASFF.

use crate::{Failure, EXIT_CLEAN, EXIT_IMPORT_FAILED};
use netaudit_report::ScanReport;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum SecurityHubCommand {
    /// Import a saved report's findings (`--format asff`) into Security Hub, in each finding's
    /// region; earlier netaudit findings that are no longer in the report are archived. Exit code 4
    /// when Security Hub refused a finding or a call failed.
    Import(Box<ImportArgs>),
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// A report written by `scan --format json` (of live AWS or of evidence: every result needs its
    /// account and region).
    pub report: PathBuf,
    /// Only the findings in these regions (comma-separated or repeated); default: every region.
    #[arg(long = "region", value_delimiter = ',', value_name = "REGION")]
    pub regions: Vec<String>,
    #[command(flatten)]
    pub connection: crate::Connection,
}

pub fn run(command: &SecurityHubCommand) -> Result<u8, Failure> {
    match command {
        SecurityHubCommand::Import(args) => import(args),
    }
}

fn import(args: &ImportArgs) -> Result<u8, Failure> {
    let path = &args.report;
    let text = std::fs::read_to_string(path).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    let report = ScanReport::parse(&text).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    let mut findings =
        netaudit_report::asff::findings(&report).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    if !args.regions.is_empty() {
        findings.retain(|f| args.regions.iter().any(|r| r.trim() == f.region));
    }
    let regions = netaudit_aws::securityhub::import_findings(&args.connection.clone().options(), findings)
        .map_err(Failure::Internal)?;
    let mut complete = true;
    for region in &regions {
        println!(
            "netaudit: Security Hub {}: {} imported, {} archived, {} failed",
            region.region,
            region.imported,
            region.archived,
            region.failed.len() + region.not_sent
        );
        for failed in &region.failed {
            note!(
                "netaudit: error: Security Hub {} refused finding {}: {}: {}",
                region.region,
                failed.id,
                failed.code,
                failed.message
            );
        }
        for error in &region.errors {
            note!("netaudit: error: {error}");
        }
        complete &= region.is_complete();
    }
    Ok(if complete { EXIT_CLEAN } else { EXIT_IMPORT_FAILED })
}
