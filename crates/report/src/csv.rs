//! CSV: one row per finding, for spreadsheets and SIEM imports.

use crate::ScanReport;
use std::io::{self, Write};

pub const HEADER: [&str; 11] = [
    "control",
    "status",
    "severity",
    "account_id",
    "region",
    "resource_type",
    "resource_id",
    "resource_name",
    "resource_arn",
    "reason",
    "gaps",
];

pub fn render(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER).map_err(io::Error::other)?;
    for f in &report.results {
        let severity = report
            .controls
            .iter()
            .find(|c| c.id == f.control)
            .map_or("", |c| c.severity.as_str());
        let gaps: Vec<String> = f
            .gaps
            .iter()
            .map(|g| {
                format!(
                    "{} {} {}/{}",
                    g.api,
                    g.code,
                    g.account,
                    g.region.as_deref().unwrap_or("-")
                )
            })
            .collect();
        w.write_record([
            f.control.as_str(),
            f.status.as_str(),
            severity,
            f.account_id.as_str(),
            f.region.as_str(),
            f.resource_type.as_str(),
            f.resource_id.as_str(),
            f.resource_name.as_deref().unwrap_or(""),
            f.resource_arn.as_str(),
            f.reason.as_str(),
            gaps.join("; ").as_str(),
        ])
        .map_err(io::Error::other)?;
    }
    w.flush()
}
