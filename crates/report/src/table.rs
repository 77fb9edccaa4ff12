//! The terminal report: findings grouped by control with counts, then coverage and totals.

use crate::text::plain;
use crate::{Counts, ScanReport};
use netaudit_checks::{ExceptionOrigin, ExceptionState, ExceptionsSummary, Finding, Status};
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, Default)]
pub struct TableOptions {
    /// ANSI colour (the caller decides: a TTY, and NO_COLOR unset).
    pub color: bool,
    /// List PASS rows too, not only their count.
    pub show_pass: bool,
    /// The terminal's width: reasons wrap to fit it. `None`: one line per result, however long.
    pub width: Option<usize>,
}

/// Narrowest room for a reason beside its row; with less, the reason goes on the lines below.
const MIN_REASON_WIDTH: usize = 32;
/// The indent of a reason on the lines below its row.
const REASON_INDENT: usize = 6;

/// `text` in lines of at most `width` characters, broken at spaces (a longer word is cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = vec![];
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        let used = line.chars().count();
        if used > 0 && used + 1 + word.len() <= width {
            line.push(' ');
            line.extend(word.iter());
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut line));
        }
        while word.len() > width {
            lines.push(word.drain(..width).collect());
        }
        line = word.into_iter().collect();
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// A row: `head` (of `head_width` visible characters, colour codes aside) and then `text`, wrapped
/// to `width` beside the head when there is room, else on indented lines below it.
fn write_row(out: &mut dyn Write, head: &str, head_width: usize, text: &str, width: Option<usize>) -> io::Result<()> {
    let Some(width) = width else {
        return writeln!(out, "{head}{text}");
    };
    if width >= head_width + MIN_REASON_WIDTH {
        let lines = wrap(text, width - head_width);
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                writeln!(out, "{head}{line}")?;
            } else {
                writeln!(out, "{:head_width$}{line}", "")?;
            }
        }
        return Ok(());
    }
    writeln!(out, "{}", head.trim_end())?;
    for line in wrap(text, width.saturating_sub(REASON_INDENT)) {
        writeln!(out, "{:REASON_INDENT$}{line}", "")?;
    }
    Ok(())
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
fn reason(f: &Finding) -> String {
    let exception = match &f.exception {
        Some(e) if e.state == ExceptionState::Active && e.origin == ExceptionOrigin::Inline => {
            format!(
                " [excepted at {} until {} by {}, {}: {}]",
                e.source, e.expires, e.owner, e.ticket, e.reason
            )
        }
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

    for control in &report.controls {
        write_row(
            out,
            &format!("{}  ", paint.bold(&control.id)),
            control.id.chars().count() + 2,
            &format!("{}  [{}]", control.title, control.severity.as_str()),
            options.width,
        )?;
        writeln!(out, "  {}", counts_line(&paint, &control.counts))?;
        let mut rows: Vec<&Finding> = report
            .results
            .iter()
            .filter(|f| f.control == control.id)
            .filter(shown)
            .collect();
        // What to fix first: by priority, then by status.
        rows.sort_by_key(|f| (f.priority, f.status));
        // Columns as wide as this control's rows need: status, priority and resource first.
        let column = |get: fn(&Finding) -> usize| rows.iter().map(|f| get(f)).max().unwrap_or(0);
        let (w_status, w_priority, w_resource, w_account, w_region) = (
            column(|f| f.status.as_str().len()),
            column(|f| f.priority.as_str().len()),
            column(|f| resource(f).chars().count()),
            column(|f| place(f).0.len()),
            column(|f| place(f).1.len()),
        );
        for f in rows {
            let status = format!("{:<w_status$}", f.status.as_str());
            let lead = format!(
                "  {}  {:<w_priority$}  {:<w_resource$}  ",
                paint.status(f.status, &status),
                f.priority.as_str(),
                resource(f)
            );
            let lead_width = 2 + w_status + 2 + w_priority + 2 + w_resource + 2;
            let (account, region) = place(f);
            let (where_, where_width) = if w_account + w_region > 0 {
                (
                    format!("{account:<w_account$}  {region:<w_region$}  "),
                    w_account + 2 + w_region + 2,
                )
            } else {
                (String::new(), 0)
            };
            let fits = options
                .width
                .is_none_or(|w| w >= lead_width + where_width + MIN_REASON_WIDTH);
            if fits {
                write_row(
                    out,
                    &format!("{lead}{where_}"),
                    lead_width + where_width,
                    &reason(f),
                    options.width,
                )?;
            } else {
                // Status and resource on the row; where and why on the lines below.
                let place_text = [account, region]
                    .iter()
                    .filter(|p| !p.is_empty())
                    .cloned()
                    .collect::<Vec<_>>();
                let text = if place_text.is_empty() {
                    reason(f)
                } else {
                    format!("{}: {}", place_text.join(" "), reason(f))
                };
                write_row(out, &lead, usize::MAX / 2, &text, options.width)?;
            }
        }
        writeln!(out)?;
    }

    if let Some(rollup) = &report.framework {
        framework_section(&paint, rollup, out, options.width)?;
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
        let head = format!(
            "  {:<w_acc$}  {:<w_reg$}  {:<w_api$}  {:<w_code$}  ",
            if g.account.is_empty() { "-" } else { g.account.as_str() },
            g.region.as_deref().unwrap_or("-"),
            g.api,
            g.code,
        );
        let head_width = head.chars().count();
        let mut text = g.message.clone();
        if let Some(source) = g.source.as_ref().filter(|s| !g.message.contains(s.as_str())) {
            text.push_str(&format!(" [{source}]"));
        }
        if options.width.is_none_or(|w| w >= head_width + MIN_REASON_WIDTH) {
            write_row(out, &head, head_width, &text, options.width)?;
        } else {
            let lead = format!(
                "  {:<w_acc$}  {}",
                if g.account.is_empty() { "-" } else { g.account.as_str() },
                g.region.as_deref().unwrap_or("-")
            );
            write_row(
                out,
                &lead,
                usize::MAX / 2,
                &format!("{} {}: {text}", g.api, g.code),
                options.width,
            )?;
        }
    }
    if !coverage.disabled_regions.is_empty() {
        let list: Vec<String> = coverage
            .disabled_regions
            .iter()
            .map(|d| format!("{}/{} ({})", d.account, d.region, d.opt_in_status))
            .collect();
        let text = format!("Not enabled, nothing to evaluate: {}", list.join(", "));
        write_row(out, "  ", 2, &text, options.width)?;
    }
    for scope in &coverage.region_scope {
        let text = format!(
            "Account {} was scanned in {} only (its region scope): other regions are not part of this report",
            scope.account,
            scope.regions.join(", ")
        );
        write_row(out, "  ", 2, &text, options.width)?;
    }
    if !coverage.errors.is_empty() {
        writeln!(out, "{}", paint.bold("Errors:"))?;
        for e in &coverage.errors {
            write_row(out, "  ", 2, e, options.width)?;
        }
    }
    if let Some(ex) = &report.exceptions {
        exceptions_section(&paint, ex, out)?;
    }
    writeln!(out)?;
    writeln!(out, "{} {}", paint.bold("Totals:"), counts_line(&paint, &report.totals))?;
    Ok(())
}

/// Each requirement's status and counts over resources, with the resources that fail it or are
/// unknown under it.
fn framework_section(
    paint: &Paint,
    rollup: &crate::rollup::FrameworkRollup,
    out: &mut dyn Write,
    width: Option<usize>,
) -> io::Result<()> {
    writeln!(out, "{} {}", paint.bold("Framework:"), rollup.framework)?;
    let w_requirement = rollup
        .requirements
        .iter()
        .map(|r| r.requirement.chars().count())
        .max()
        .unwrap_or(0);
    for r in &rollup.requirements {
        let status = format!("{:<7}", r.status.as_str());
        let head = format!(
            "  {:<w_requirement$}  {}  ",
            r.requirement,
            paint.status(r.status, &status)
        );
        let text = format!("{}  ({})", counts_line(paint, &r.counts), r.controls.join(", "));
        write_row(out, &head, 2 + w_requirement + 2 + 7 + 2, &text, width)?;
        for resource in r
            .resources
            .iter()
            .filter(|x| matches!(x.status, Status::Fail | Status::Unknown))
        {
            let text = format!(
                "{} {} {}/{} ({})",
                resource.status.as_str(),
                resource.resource_id,
                resource.account_id,
                resource.region,
                resource.controls.join(", ")
            );
            write_row(out, "      ", 6, &text, width)?;
        }
    }
    writeln!(out)
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
