//! The terminal report: findings grouped by control with counts, then coverage and totals.

use crate::{Counts, ScanReport};
use netaudit_checks::{ExceptionState, ExceptionsSummary, Finding, Status};
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, Default)]
pub struct TableOptions {
    /// ANSI colour (the caller decides: a TTY, and NO_COLOR unset).
    pub color: bool,
    /// List PASS rows too, not only their count.
    pub show_pass: bool,
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn status(&self, status: Status, text: &str) -> String {
        let code = match status {
            Status::Fail => "1;31",
            Status::Unknown => "1;33",
            Status::Pass => "32",
            Status::NotApplicable | Status::Muted => "2",
        };
        self.wrap(code, text)
    }
    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }
}

fn counts_line(paint: &Paint, counts: &Counts) -> String {
    let parts: Vec<String> = Status::ALL
        .iter()
        .filter(|s| counts.get(**s) > 0)
        .map(|s| paint.status(*s, &format!("{} {}", counts.get(*s), s)))
        .collect();
    if parts.is_empty() {
        "no resources".to_owned()
    } else {
        parts.join(" · ")
    }
}

/// Account and region; a declared resource has neither before deploy, its file says where it is.
fn place(f: &Finding) -> (&str, &str) {
    if f.location.is_some() {
        ("", "")
    } else {
        (&f.account_id, &f.region)
    }
}

fn resource(f: &Finding) -> String {
    let id = match &f.resource_name {
        Some(name) => format!("{} ({name})", f.resource_id),
        None => f.resource_id.clone(),
    };
    match &f.location {
        Some(at) => match &at.construct_path {
            Some(path) => format!("{}:{} {id} [{path}]", at.file, at.start_line),
            None => format!("{}:{} {id}", at.file, at.start_line),
        },
        None => id,
    }
}

/// The reason, with a FAIL's evidence as `key=value` pairs.
/// Evidence for a terminal: strings unquoted, objects as `{key=value …}`.
fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => format!("[{}]", items.iter().map(plain).collect::<Vec<_>>().join(", ")),
        serde_json::Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{k}={}", plain(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        other => other.to_string(),
    }
}

fn reason(f: &Finding) -> String {
    let exception = match &f.exception {
        Some(e) if e.state == ExceptionState::Active => {
            format!(
                " [excepted until {} by {}, {}: {}]",
                e.expires, e.owner, e.ticket, e.reason
            )
        }
        Some(e) => format!(
            " [EXCEPTION EXPIRED {} ({}, {}, {})]",
            e.expires, e.owner, e.ticket, e.source
        ),
        None => String::new(),
    };
    if f.evidence.is_empty() {
        return format!("{}{exception}", f.reason);
    }
    let pairs: Vec<String> = f
        .evidence
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| format!("{k}={}", plain(v)))
        .collect();
    format!("{} ({}){exception}", f.reason, pairs.join(", "))
}

pub fn render(report: &ScanReport, out: &mut dyn Write, options: TableOptions) -> io::Result<()> {
    let paint = Paint(options.color);
    let shown = |f: &&Finding| options.show_pass || f.status != Status::Pass;
    let rows: Vec<&Finding> = report.results.iter().filter(shown).collect();
    let width = |get: fn(&Finding) -> usize| rows.iter().map(|f| get(f)).max().unwrap_or(0);
    let (w_status, w_account, w_region, w_resource) = (
        width(|f| f.status.as_str().len()),
        width(|f| place(f).0.len()),
        width(|f| place(f).1.len()),
        width(|f| resource(f).chars().count()),
    );

    for control in &report.controls {
        writeln!(
            out,
            "{}  {}  [{}]",
            paint.bold(&control.id),
            control.title,
            control.severity
        )?;
        writeln!(out, "  {}", counts_line(&paint, &control.counts))?;
        let mut findings: Vec<&&Finding> = rows.iter().filter(|f| f.control == control.id).collect();
        findings.sort_by_key(|f| f.status);
        for f in findings {
            let status = format!("{:<w_status$}", f.status.as_str());
            writeln!(
                out,
                "  {}  {:<w_account$}  {:<w_region$}  {:<w_resource$}  {}",
                paint.status(f.status, &status),
                place(f).0,
                place(f).1,
                resource(f),
                reason(f)
            )?;
        }
        writeln!(out)?;
    }

    let coverage = &report.coverage;
    // Findings read from logs come with no accounts and no gaps: there is no coverage to report.
    let nothing_collected = coverage.accounts.is_empty()
        && coverage.gaps.is_empty()
        && coverage.disabled_regions.is_empty()
        && coverage.errors.is_empty();
    if coverage.complete && !nothing_collected {
        let unused = if coverage.gaps.is_empty() {
            String::new()
        } else {
            format!("; the {} gap(s) below decided none of them", coverage.gaps.len())
        };
        writeln!(
            out,
            "{} complete: every result in {} account(s) was decided{unused}",
            paint.bold("Coverage:"),
            coverage.accounts.len()
        )?;
    } else if !coverage.complete {
        writeln!(
            out,
            "{} {} — {} gap(s), {} error(s)",
            paint.bold("Coverage:"),
            paint.status(Status::Unknown, "INCOMPLETE"),
            coverage.gaps.len(),
            coverage.errors.len()
        )?;
    }
    let w_acc = coverage.gaps.iter().map(|g| g.account.len().max(1)).max().unwrap_or(0);
    let w_reg = coverage
        .gaps
        .iter()
        .map(|g| g.region.as_deref().unwrap_or("-").len())
        .max()
        .unwrap_or(0);
    let w_api = coverage.gaps.iter().map(|g| g.api.len()).max().unwrap_or(0);
    let w_code = coverage.gaps.iter().map(|g| g.code.len()).max().unwrap_or(0);
    for g in &coverage.gaps {
        let mut line = format!(
            "  {:<w_acc$}  {:<w_reg$}  {:<w_api$}  {:<w_code$}  {}",
            if g.account.is_empty() { "-" } else { g.account.as_str() },
            g.region.as_deref().unwrap_or("-"),
            g.api,
            g.code,
            g.message
        );
        if let Some(source) = g.source.as_ref().filter(|s| !g.message.contains(s.as_str())) {
            line.push_str(&format!(" [{source}]"));
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    if !coverage.disabled_regions.is_empty() {
        let list: Vec<String> = coverage
            .disabled_regions
            .iter()
            .map(|d| format!("{}/{} ({})", d.account, d.region, d.opt_in_status))
            .collect();
        writeln!(out, "  Not enabled, nothing to evaluate: {}", list.join(", "))?;
    }
    for scope in &coverage.region_scope {
        writeln!(
            out,
            "  Account {} was scanned in {} only (its region scope): other regions are not part of this report",
            scope.account,
            scope.regions.join(", ")
        )?;
    }
    if !coverage.errors.is_empty() {
        writeln!(out, "{}", paint.bold("Errors:"))?;
        for e in &coverage.errors {
            writeln!(out, "  {e}")?;
        }
    }
    if let Some(ex) = &report.exceptions {
        exceptions_section(&paint, ex, out)?;
    }
    writeln!(out)?;
    writeln!(out, "{} {}", paint.bold("Totals:"), counts_line(&paint, &report.totals))?;
    Ok(())
}

fn exceptions_section(paint: &Paint, ex: &ExceptionsSummary, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{} {} applied, {} expired, {} stale",
        paint.bold("Exceptions:"),
        ex.applied.len(),
        ex.expired.len(),
        ex.stale.len()
    )?;
    for e in &ex.expired {
        writeln!(
            out,
            "  {} {} {} expired {} ({}, {}; {}): its {} result(s) FAIL again",
            paint.status(Status::Fail, "EXPIRED"),
            e.control,
            e.resource,
            e.expires,
            e.owner,
            e.ticket,
            e.source,
            e.matched
        )?;
    }
    for e in &ex.stale {
        writeln!(
            out,
            "  STALE   {} {} ({}, {}; {}): matches no failing result; remove it",
            e.control, e.resource, e.owner, e.ticket, e.source
        )?;
    }
    Ok(())
}
