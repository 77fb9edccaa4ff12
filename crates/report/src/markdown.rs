//! A short Markdown summary for a pull-request comment or `$GITHUB_STEP_SUMMARY`: the counts, each
//! control's, the most severe failures, the coverage (never left out, so an incomplete scan does not
//! read as clean) and the exceptions. Bounded in size: lists stop at [`LISTED`] items and say how
//! many more there are, well under GitHub's 65,536 characters for a comment.

use crate::text::gap_text;
use crate::{Counts, ScanReport};
use netaudit_checks::{Severity, Status};
use std::io::{self, Write};

/// The most items one list shows.
pub const LISTED: usize = 10;

pub fn render(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let totals = &report.totals;
    let verdict = match (totals.fail > 0, report.coverage.complete) {
        (false, true) => "no failures".to_owned(),
        (true, true) => format!("{} failing", totals.fail),
        (false, false) => "no failures found, but the scan is incomplete".to_owned(),
        (true, false) => format!("{} failing, and the scan is incomplete", totals.fail),
    };
    writeln!(out, "## netaudit: {verdict}\n")?;
    let mut about = vec![];
    if let Some(source) = &report.source {
        about.push(format!("Scanned {}", escape(&source.description)));
    }
    if let Some(at) = &report.scanned_at {
        about.push(format!("at {}", escape(at)));
    }
    about.push(format!("with netaudit {}.", escape(&report.tool.version)));
    writeln!(out, "{}\n", about.join(" "))?;
    writeln!(out, "| FAIL | UNKNOWN | PASS | NOT_APPLICABLE | MUTED |")?;
    writeln!(out, "|---:|---:|---:|---:|---:|")?;
    writeln!(out, "{}\n", counts_row(totals))?;

    let shown: Vec<_> = report
        .controls
        .iter()
        .filter(|c| c.counts != Counts::default())
        .collect();
    if !shown.is_empty() {
        writeln!(out, "### Controls\n")?;
        writeln!(
            out,
            "| Control | Severity | FAIL | UNKNOWN | PASS | NOT_APPLICABLE | MUTED |"
        )?;
        writeln!(out, "|---|---|---:|---:|---:|---:|---:|")?;
        for control in shown {
            writeln!(
                out,
                "| {} {} | {} {}",
                escape(&control.id),
                escape(&control.title),
                control.severity.as_str(),
                counts_row(&control.counts)
            )?;
        }
        writeln!(out)?;
    }

    failures(report, out)?;
    coverage(report, out)?;
    exceptions(report, out)
}

fn counts_row(c: &Counts) -> String {
    format!(
        "| {} | {} | {} | {} | {} |",
        c.fail, c.unknown, c.pass, c.not_applicable, c.muted
    )
}

/// FAILs, most urgent priority first, then most severe control, with each result's identity.
fn failures(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let severity = |id: &str| report.control(id).map_or(Severity::Informational, |c| c.severity);
    let mut failing: Vec<_> = report.results.iter().filter(|f| f.status == Status::Fail).collect();
    if failing.is_empty() {
        return Ok(());
    }
    // What to fix first: by priority, then in the report's order of controls (most severe first,
    // natural id order); stable within one.
    let position = |id: &str| report.controls.iter().position(|c| c.id == id).unwrap_or(usize::MAX);
    failing.sort_by_key(|f| (f.priority, position(&f.control)));
    writeln!(out, "### Top failures\n")?;
    writeln!(
        out,
        "| Priority | Control | Severity | Resource | Account | Region | Reason |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|")?;
    for f in failing.iter().take(LISTED) {
        let resource = match &f.resource_name {
            Some(name) => format!("{} ({name})", f.resource_id),
            None => f.resource_id.clone(),
        };
        let resource = match f.location.as_ref() {
            Some(at) => format!("{resource} at {}:{}", at.file, at.start_line),
            None => resource,
        };
        let priority = match f.priority_reasons.as_slice() {
            [] => f.priority.as_str().to_owned(),
            reasons => format!("{} ({})", f.priority, reasons.join("; ")),
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            escape(&priority),
            escape(&f.control),
            severity(&f.control).as_str(),
            escape(&resource),
            escape(&f.account_id),
            escape(&f.region),
            escape(&f.reason)
        )?;
    }
    more(out, failing.len(), "failures")?;
    writeln!(out)
}

fn coverage(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let coverage = &report.coverage;
    writeln!(out, "### Coverage\n")?;
    if coverage.complete {
        writeln!(
            out,
            "Complete: every result was decided and every account's regions were read."
        )?;
    } else {
        writeln!(
            out,
            "**Incomplete**: {} result(s) UNKNOWN, {} gap(s), {} input error(s). Nothing unread is reported as PASS.",
            report.totals.unknown,
            coverage.gaps.len(),
            coverage.errors.len()
        )?;
    }
    let lines: Vec<String> = coverage
        .errors
        .iter()
        .map(|e| format!("- error: {}", escape(e)))
        .chain(coverage.gaps.iter().map(|g| format!("- {}", escape(&gap_text(g)))))
        .collect();
    if !lines.is_empty() {
        writeln!(out)?;
        for line in lines.iter().take(LISTED) {
            writeln!(out, "{line}")?;
        }
        more(out, lines.len(), "gaps and errors")?;
    }
    writeln!(out)
}

fn exceptions(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let Some(summary) = &report.exceptions else {
        return Ok(());
    };
    writeln!(out, "### Exceptions\n")?;
    writeln!(
        out,
        "{} applied, {} expired, {} stale.\n",
        summary.applied.len(),
        summary.expired.len(),
        summary.stale.len()
    )?;
    let listed = summary
        .applied
        .iter()
        .map(|e| ("applied", e))
        .chain(summary.expired.iter().map(|e| ("expired", e)))
        .chain(summary.stale.iter().map(|e| ("stale", e)))
        .collect::<Vec<_>>();
    if listed.is_empty() {
        return Ok(());
    }
    writeln!(out, "| State | Control | Resource | Owner | Ticket | Expires |")?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    for (state, e) in listed.iter().take(LISTED) {
        writeln!(
            out,
            "| {state} | {} | {} | {} | {} | {} |",
            escape(&e.control),
            escape(&e.resource),
            escape(&e.owner),
            escape(&e.ticket),
            e.expires
        )?;
    }
    more(out, listed.len(), "exceptions")?;
    writeln!(out)
}

fn more(out: &mut dyn Write, total: usize, what: &str) -> io::Result<()> {
    if total > LISTED {
        writeln!(
            out,
            "\n…and {} more {what}: the full report has them (`netaudit report SAVED.json`).",
            total - LISTED
        )?;
    }
    Ok(())
}

/// Text as Markdown shows it literally, on one line, inside or outside a table cell: punctuation
/// that Markdown or HTML would act on anywhere in a line is escaped (no value starts a line, so
/// marks that act only there, `#`, `-`, `1.`, stay as they are).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_in_values_is_escaped_and_kept_on_one_line() {
        assert_eq!(escape("a|b <script>\nx_y"), r"a\|b \<script\> x\_y");
    }
}
