//! CSV: one row per finding, for spreadsheets and SIEM imports. Every cell a spreadsheet could take
//! for a formula (one starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with
//! `'`, so a resource name or tag can never run as a formula. MUTED rows carry their exception and
//! where it is written (`file:line` of the exceptions file, or of the infrastructure code).

use crate::ScanReport;
use std::io::{self, Write};

pub const HEADER: [&str; 19] = [
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
    "exception_state",
    "exception_owner",
    "exception_ticket",
    "exception_expires",
    "exception_reason",
    "exception_source",
    "priority",
    "priority_reasons",
];

/// A cell as a spreadsheet will read it: never a formula.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => std::borrow::Cow::Owned(format!("'{cell}")),
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

/// The writer's own error, so a closed pipe stays recognisable as one.
fn write_error(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => io::Error::other(format!("{other:?}")),
    }
}

pub fn render(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    // With --framework, each row also names the framework requirements its control maps to.
    let rollup = report.framework.as_ref();
    let mut header: Vec<&str> = HEADER.to_vec();
    if rollup.is_some() {
        header.push("requirements");
    }
    w.write_record(&header).map_err(write_error)?;
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
        let exception = f.exception.as_ref();
        let expires = exception.map(|e| e.expires.to_string()).unwrap_or_default();
        let state = exception.map_or("", |e| match e.state {
            netaudit_checks::ExceptionState::Active => "active",
            netaudit_checks::ExceptionState::Expired => "expired",
        });
        let gaps = gaps.join("; ");
        let priority_reasons = f.priority_reasons.join("; ");
        let requirements = rollup
            .map(|r| {
                r.requirements
                    .iter()
                    .filter(|q| q.controls.contains(&f.control))
                    .map(|q| q.requirement.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        let mut cells = vec![
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
            gaps.as_str(),
            state,
            exception.map_or("", |e| e.owner.as_str()),
            exception.map_or("", |e| e.ticket.as_str()),
            expires.as_str(),
            exception.map_or("", |e| e.reason.as_str()),
            exception.map_or("", |e| e.source.as_str()),
            f.priority.as_str(),
            priority_reasons.as_str(),
        ];
        if rollup.is_some() {
            cells.push(requirements.as_str());
        }
        w.write_record(cells.iter().map(|c| neutralise(c).into_owned()))
            .map_err(write_error)?;
    }
    w.flush()
}
