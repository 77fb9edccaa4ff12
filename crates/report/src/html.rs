//! One self-contained HTML page for auditors, opened offline: what was scanned and when, a card per
//! status, a chart per control and per framework, every result in a table that filters by status,
//! control, account, region and framework and searches text, each FAIL's evidence and remediation,
//! every coverage gap and every exception. Nothing is fetched: the style, the script and the charts
//! are inline, and a Content-Security-Policy (`default-src 'none'`, the script and style allowed by
//! their SHA-256) proves it. Every value is escaped, in text and attributes; the script's data is a
//! JSON block in which `<`, `>` and `&` are escaped, so no value can close it.

use crate::rollup::{self, FrameworkRollup};
use crate::text::{gap_text, plain};
use crate::{ControlSummary, Counts, Outcome, ScanReport, SourceKind};
use base64::Engine;
use netaudit_checks::{Finding, Status};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::{self, Write};

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

pub fn render(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let rows = ordered_results(report);
    let mut page = String::with_capacity(64 * 1024 + rows.len() * 1024);
    head(report, &mut page);
    page.push_str("<main>\n");
    cards(&report.totals, &mut page);
    charts(report, &mut page);
    if let Some(framework) = &report.framework {
        requirements(framework, &mut page);
    }
    findings(report, &rows, &mut page);
    coverage(report, &mut page);
    exceptions(report, &mut page);
    controls(report, &mut page);
    page.push_str("</main>\n");
    page.push_str("<script type=\"application/json\" id=\"netaudit-data\">");
    page.push_str(&script_data(report, &rows));
    page.push_str("</script>\n<script>");
    page.push_str(SCRIPT);
    page.push_str("</script>\n</body>\n</html>\n");
    out.write_all(page.as_bytes())
}

/// Text as HTML shows it literally, in an element or a quoted attribute. Control characters other
/// than line breaks and tabs become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// JSON that can sit inside `<script type="application/json">`: `<`, `>` and `&` only occur in
/// JSON strings, where their `\u` escapes mean the same, so `</script>` and `<!--` cannot appear.
pub fn json_for_script(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The CSP source for an inline block: its SHA-256, base64.
fn csp_hash(content: &str) -> String {
    let digest = Sha256::digest(content.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
}

/// The policy that allows nothing but the page's own style and script.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; script-src {}; base-uri 'none'; form-action 'none'",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    )
}

/// The class a status is drawn with.
fn class(status: Status) -> &'static str {
    match status {
        Status::Fail => "st-fail",
        Status::Unknown => "st-unknown",
        Status::Pass => "st-pass",
        Status::NotApplicable => "st-not-applicable",
        Status::Muted => "st-muted",
    }
}

fn badge(status: Status) -> String {
    format!("<span class=\"badge {}\">{}</span>", class(status), status.as_str())
}

/// Results as the table lists them: by status (FAIL first), then most urgent first, then in the
/// report's order of controls.
fn ordered_results(report: &ScanReport) -> Vec<&Finding> {
    let position = |id: &str| report.controls.iter().position(|c| c.id == id).unwrap_or(usize::MAX);
    let rank = |s: Status| Status::ALL.iter().position(|a| *a == s).unwrap_or(usize::MAX);
    let mut rows: Vec<&Finding> = report.results.iter().collect();
    rows.sort_by_key(|f| (rank(f.status), f.priority, position(&f.control)));
    rows
}

fn head(report: &ScanReport, page: &mut String) {
    let title = match &report.source {
        Some(source) => format!("netaudit report: {}", source.description),
        None => "netaudit report".to_owned(),
    };
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n",
        escape(&content_security_policy())
    ));
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str(&format!("<title>{}</title>\n", escape(&title)));
    page.push_str("<style>");
    page.push_str(STYLE);
    page.push_str("</style>\n</head>\n<body>\n<header>\n<h1>netaudit scan report</h1>\n");
    let totals = &report.totals;
    let (verdict, tone) = match report.outcome {
        Outcome::Clean => ("No failures, and every result was decided.".to_owned(), "good"),
        Outcome::Failures => (format!("{} failing result(s).", totals.fail), "bad"),
        Outcome::Incomplete => (
            "No failures found, but the scan is incomplete: nothing unread is reported as PASS.".to_owned(),
            "partial",
        ),
        Outcome::FailuresAndIncomplete => (
            format!(
                "{} failing result(s), and the scan is incomplete: nothing unread is reported as PASS.",
                totals.fail
            ),
            "bad",
        ),
    };
    page.push_str(&format!(
        "<p class=\"verdict {tone}\" id=\"verdict\">{}</p>\n",
        escape(&verdict)
    ));
    let mut about: Vec<(&str, String)> = vec![];
    if let Some(source) = &report.source {
        let kind = match source.kind {
            SourceKind::Aws => "live AWS",
            SourceKind::Evidence => "collected evidence",
            SourceKind::Iac => "infrastructure as code",
        };
        about.push(("Scanned", format!("{kind}: {}", source.description)));
    }
    if let Some(at) = &report.scanned_at {
        about.push(("At", at.clone()));
    }
    about.push(("netaudit", format!("{} {}", report.tool.name, report.tool.version)));
    if let Some(catalogue) = &report.tool.catalogue {
        about.push(("Catalogue", catalogue.clone()));
    }
    if let Some(framework) = &report.framework {
        about.push(("Framework", framework.framework.clone()));
    }
    let coverage = &report.coverage;
    about.push(("Accounts", list_or_none(coverage.accounts.iter().cloned())));
    about.push(("Regions", list_or_none(regions(report).into_iter())));
    for scope in &coverage.region_scope {
        about.push((
            "Limited to",
            format!("{}: {} (--regions)", scope.account, scope.regions.join(", ")),
        ));
    }
    if !coverage.disabled_regions.is_empty() {
        about.push((
            "Not enabled",
            coverage
                .disabled_regions
                .iter()
                .map(|d| format!("{}/{} ({})", d.account, d.region, d.opt_in_status))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    about.push((
        "Coverage",
        if coverage.complete {
            "complete: every result was decided and every account's regions were read".to_owned()
        } else {
            format!(
                "incomplete: {} result(s) UNKNOWN, {} read(s) that could not be made, {} input error(s) (see Coverage)",
                totals.unknown,
                coverage.gaps.len(),
                coverage.errors.len()
            )
        },
    ));
    page.push_str("<dl class=\"about\" id=\"about\">\n");
    for (term, value) in about {
        page.push_str(&format!("<dt>{}</dt><dd>{}</dd>\n", escape(term), escape(&value)));
    }
    page.push_str("</dl>\n</header>\n");
}

fn list_or_none(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// The regions results and gaps name (`*`, a listing that could not be read, is not one).
fn regions(report: &ScanReport) -> BTreeSet<String> {
    report
        .results
        .iter()
        .map(|f| f.region.clone())
        .chain(report.coverage.gaps.iter().filter_map(|g| g.region.clone()))
        .filter(|r| r != "*" && !r.is_empty())
        .collect()
}

fn cards(totals: &Counts, page: &mut String) {
    page.push_str("<section id=\"summary\" aria-label=\"Results per status\">\n<div class=\"cards\">\n");
    for status in Status::ALL {
        page.push_str(&format!(
            "<button type=\"button\" class=\"card {}\" data-filter-status=\"{status}\" title=\"Show the {status} results\">\
             <span class=\"count\" id=\"count-{status}\">{}</span><span class=\"label\">{status}</span></button>\n",
            class(status),
            totals.get(status),
        ));
    }
    page.push_str("</div>\n</section>\n");
}

fn legend(page: &mut String) {
    page.push_str("<ul class=\"legend\">");
    for status in Status::ALL {
        page.push_str(&format!("<li class=\"{}\">{status}</li>", class(status)));
    }
    page.push_str("</ul>\n");
}

/// One bar of a chart: its label, its tooltip and its counts.
struct Bar {
    label: String,
    title: String,
    counts: Counts,
}

const LABEL_WIDTH: usize = 190;
const BAR_WIDTH: usize = 360;
const ROW_HEIGHT: usize = 22;

/// Horizontal stacked bars, one per row, on one scale: the largest total fills the width.
fn bar_chart(id: &str, caption: &str, bars: &[Bar], page: &mut String) {
    let total = |c: &Counts| Status::ALL.iter().map(|s| c.get(*s)).sum::<usize>();
    let largest = bars.iter().map(|b| total(&b.counts)).max().unwrap_or(0).max(1);
    let width = LABEL_WIDTH + BAR_WIDTH + 50;
    let height = bars.len().max(1) * ROW_HEIGHT;
    page.push_str(&format!(
        "<svg class=\"bars\" id=\"{}\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">\n",
        escape(id),
        escape(caption)
    ));
    for (row, bar) in bars.iter().enumerate() {
        let y = row * ROW_HEIGHT;
        page.push_str(&format!(
            "<g><title>{}</title><text x=\"0\" y=\"{}\">{}</text><rect class=\"track\" x=\"{LABEL_WIDTH}\" y=\"{}\" width=\"{BAR_WIDTH}\" height=\"14\"/>",
            escape(&bar.title),
            y + 15,
            escape(&bar.label),
            y + 4
        ));
        let mut x = LABEL_WIDTH as f64;
        for status in Status::ALL {
            let count = bar.counts.get(status);
            if count == 0 {
                continue;
            }
            let w = count as f64 * BAR_WIDTH as f64 / largest as f64;
            page.push_str(&format!(
                "<rect class=\"{}\" x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"14\"><title>{} {status}: {count}</title></rect>",
                class(status),
                y + 4,
                escape(&bar.label)
            ));
            x += w;
        }
        page.push_str(&format!(
            "<text class=\"total\" x=\"{}\" y=\"{}\">{}</text></g>\n",
            LABEL_WIDTH + BAR_WIDTH + 6,
            y + 15,
            total(&bar.counts)
        ));
    }
    page.push_str("</svg>\n");
}

/// A label that fits the chart's label column: long ones keep their start and their end (where
/// framework versions and control suffixes differ).
fn short(text: &str) -> String {
    const MOST: usize = 26;
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= MOST {
        return text.to_owned();
    }
    let head: String = chars[..MOST / 2].iter().collect();
    let tail: String = chars[chars.len() - (MOST / 2 - 1)..].iter().collect();
    format!("{head}…{tail}")
}

fn charts(report: &ScanReport, page: &mut String) {
    page.push_str(
        "<section id=\"charts\">\n<div class=\"charts\">\n<div class=\"panel\">\n<h2>Results per control</h2>\n",
    );
    legend(page);
    let bars: Vec<Bar> = report
        .controls
        .iter()
        .map(|c| Bar {
            label: short(&c.id),
            title: format!("{} {} ({})", c.id, c.title, c.severity.as_str()),
            counts: c.counts.clone(),
        })
        .collect();
    bar_chart("chart-controls", "Results per control and status", &bars, page);
    page.push_str("</div>\n<div class=\"panel\">\n<h2>Requirements per framework</h2>\n");
    let bars: Vec<Bar> = rollup::frameworks(report)
        .into_iter()
        .filter_map(|name| {
            let mut limited = report.clone();
            limited.limit_to_framework(&name).ok()?;
            let rollup = limited.framework?;
            let mut counts = Counts::default();
            for requirement in &rollup.requirements {
                counts.add(requirement.status);
            }
            Some(Bar {
                label: short(&name),
                title: format!("{name}: {} requirement(s)", rollup.requirements.len()),
                counts,
            })
        })
        .collect();
    if bars.is_empty() {
        page.push_str("<p class=\"note\">No control of this report maps to a framework.</p>\n");
    } else {
        page.push_str(
            "<p class=\"note\">Each requirement counts once, with the worst status of the resources its controls evaluated.</p>\n",
        );
        legend(page);
        bar_chart("chart-frameworks", "Requirements per framework and status", &bars, page);
    }
    page.push_str("</div>\n</div>\n</section>\n");
}

fn requirements(framework: &FrameworkRollup, page: &mut String) {
    page.push_str(&format!(
        "<section id=\"requirements\">\n<div class=\"panel\">\n<h2>{}: requirements</h2>\n",
        escape(&framework.framework)
    ));
    page.push_str("<table>\n<thead><tr><th>Requirement</th><th>Status</th><th>Controls</th>");
    for status in Status::ALL {
        page.push_str(&format!("<th class=\"num\">{status}</th>"));
    }
    page.push_str("<th>Failing and unknown resources</th></tr></thead>\n<tbody>\n");
    for requirement in &framework.requirements {
        page.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td>",
            escape(&requirement.requirement),
            badge(requirement.status),
            escape(&requirement.controls.join(", "))
        ));
        for status in Status::ALL {
            page.push_str(&format!("<td class=\"num\">{}</td>", requirement.counts.get(status)));
        }
        let open: Vec<String> = requirement
            .resources
            .iter()
            .filter(|r| matches!(r.status, Status::Fail | Status::Unknown))
            .map(|r| {
                format!(
                    "{} {} ({}, {}) by {}",
                    badge(r.status),
                    escape(&r.resource_id),
                    escape(&r.account_id),
                    escape(&r.region),
                    escape(&r.controls.join(", "))
                )
            })
            .collect();
        page.push_str(&format!("<td>{}</td></tr>\n", open.join("<br>")));
    }
    page.push_str("</tbody>\n</table>\n</div>\n</section>\n");
}

/// A filter's `<select>`: every value once, with how many results have it.
fn select(field: &str, label: &str, values: &[(String, usize)], page: &mut String) {
    page.push_str(&format!(
        "<label>{label}<select id=\"filter-{field}\"><option value=\"\">All</option>"
    ));
    for (value, count) in values {
        page.push_str(&format!(
            "<option value=\"{}\">{} ({count})</option>",
            escape(value),
            escape(value)
        ));
    }
    page.push_str("</select></label>\n");
}

/// Each distinct value and its number of results, in first-seen order or sorted.
fn tally<'a>(values: impl Iterator<Item = &'a str>, sorted: bool) -> Vec<(String, usize)> {
    let mut tally: Vec<(String, usize)> = vec![];
    for value in values {
        match tally.iter_mut().find(|(v, _)| v == value) {
            Some((_, n)) => *n += 1,
            None => tally.push((value.to_owned(), 1)),
        }
    }
    if sorted {
        tally.sort();
    }
    tally
}

/// The frameworks a result's control maps to.
fn frameworks_of<'a>(report: &'a ScanReport, control: &str) -> Vec<&'a str> {
    let mut names: Vec<&str> = report
        .control(control)
        .map(|c| c.frameworks.iter().map(|f| f.framework.as_str()).collect())
        .unwrap_or_default();
    names.sort_unstable();
    names.dedup();
    names
}

fn findings(report: &ScanReport, rows: &[&Finding], page: &mut String) {
    page.push_str("<section id=\"findings\">\n<div class=\"panel\">\n<h2>Results</h2>\n<div class=\"filters\">\n");
    let statuses: Vec<(String, usize)> = Status::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), report.totals.get(*s)))
        .filter(|(_, n)| *n > 0)
        .collect();
    select("status", "Status", &statuses, page);
    select(
        "control",
        "Control",
        &tally(rows.iter().map(|f| f.control.as_str()), false),
        page,
    );
    select(
        "account",
        "Account",
        &tally(rows.iter().map(|f| f.account_id.as_str()), true),
        page,
    );
    select(
        "region",
        "Region",
        &tally(rows.iter().map(|f| f.region.as_str()), true),
        page,
    );
    select(
        "framework",
        "Framework",
        &tally(rows.iter().flat_map(|f| frameworks_of(report, &f.control)), true),
        page,
    );
    page.push_str(
        "<label>Search<input type=\"search\" id=\"filter-search\" placeholder=\"resource, reason, evidence…\"></label>\n",
    );
    page.push_str(&format!(
        "<span id=\"shown-count\">{0} of {0} results</span>\n</div>\n",
        rows.len()
    ));
    page.push_str("<table id=\"findings-table\">\n<thead><tr><th>Status</th><th>Control</th><th>Resource</th><th>Account</th><th>Region</th><th>Reason</th></tr></thead>\n<tbody id=\"findings-rows\">\n");
    for f in rows {
        let control = report.control(&f.control);
        let title = control.map_or(String::new(), |c| format!("{} ({})", c.title, c.severity.as_str()));
        page.push_str(&format!(
            "<tr class=\"finding {}\"><td>{}<span class=\"sub\" title=\"What to fix first\">{}</span></td><td class=\"nowrap\"><span title=\"{}\">{}</span></td><td>{}",
            class(f.status),
            badge(f.status),
            f.priority.as_str(),
            escape(&title),
            escape(&f.control),
            escape(&f.resource_id)
        ));
        if let Some(name) = &f.resource_name {
            page.push_str(&format!("<span class=\"sub\">{}</span>", escape(name)));
        }
        page.push_str(&format!(
            "</td><td class=\"nowrap\">{}</td><td class=\"nowrap\">{}</td><td>{}",
            escape(&f.account_id),
            escape(&f.region),
            escape(&f.reason)
        ));
        details(f, control, page);
        page.push_str("</td></tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
    if rows.is_empty() {
        page.push_str("<p class=\"note\">No results.</p>\n");
    }
    page.push_str("</div>\n</section>\n");
}

/// What stands behind a result: what was read and from where, the gaps, the exception, the fix.
fn details(f: &Finding, control: Option<&ControlSummary>, page: &mut String) {
    let mut facts: Vec<(String, String)> = vec![("ARN".to_owned(), f.resource_arn.clone())];
    let mut priority = f.priority.as_str().to_owned();
    if !f.priority_reasons.is_empty() {
        priority.push_str(&format!(": {}", f.priority_reasons.join("; ")));
    }
    facts.push(("Priority".to_owned(), priority));
    for (key, value) in &f.evidence {
        facts.push((key.clone(), plain(value)));
    }
    if let Some(at) = &f.read_from {
        facts.push(("Read from".to_owned(), format!("{}:{}", at.file, at.start_line)));
    }
    if let Some(at) = &f.location {
        let mut place = format!("{}:{}-{}", at.file, at.start_line, at.end_line);
        if let Some(path) = &at.construct_path {
            place.push_str(&format!(" ({path})"));
        }
        facts.push(("Declared at".to_owned(), place));
    }
    for gap in &f.gaps {
        facts.push(("Not read".to_owned(), gap_text(gap)));
    }
    if let Some(e) = &f.exception {
        let state = match e.state {
            netaudit_checks::ExceptionState::Active => "Exception",
            netaudit_checks::ExceptionState::Expired => "Expired exception",
        };
        facts.push((
            state.to_owned(),
            format!(
                "owner {}, expires {}, ticket {}: {} ({})",
                e.owner, e.expires, e.ticket, e.reason, e.source
            ),
        ));
    }
    let summary = match f.status {
        Status::Fail => "Evidence and remediation",
        Status::Unknown => "What could not be read",
        Status::Muted => "Evidence and exception",
        Status::Pass | Status::NotApplicable => "Evidence",
    };
    page.push_str(&format!("<details><summary>{summary}</summary><dl class=\"facts\">"));
    for (term, value) in facts {
        page.push_str(&format!("<dt>{}</dt><dd>{}</dd>", escape(&term), escape(&value)));
    }
    page.push_str("</dl>");
    if let Some(c) = control.filter(|c| matches!(f.status, Status::Fail | Status::Muted) && !c.remediation.is_empty()) {
        page.push_str(&format!(
            "<h3>Remediation</h3><pre class=\"remediation\">{}</pre>",
            escape(&c.remediation)
        ));
    }
    page.push_str("</details>");
}

fn coverage(report: &ScanReport, page: &mut String) {
    let coverage = &report.coverage;
    page.push_str("<section id=\"coverage\">\n<div class=\"panel\">\n<h2>Coverage</h2>\n");
    if coverage.complete {
        page.push_str("<p>Complete: every result was decided and every account's regions were read.</p>\n");
    } else {
        page.push_str(&format!(
            "<p class=\"warn\">Incomplete: {} result(s) UNKNOWN, {} gap(s), {} input error(s). Nothing unread is reported as PASS.</p>\n",
            report.totals.unknown,
            coverage.gaps.len(),
            coverage.errors.len()
        ));
    }
    if !coverage.errors.is_empty() {
        page.push_str("<h3>Input errors</h3>\n<ul class=\"plain\" id=\"coverage-errors\">\n");
        for error in &coverage.errors {
            page.push_str(&format!("<li>{}</li>\n", escape(error)));
        }
        page.push_str("</ul>\n");
    }
    if !coverage.gaps.is_empty() {
        page.push_str("<h3>What could not be read</h3>\n<table id=\"gaps\">\n<thead><tr><th>API</th><th>Error</th><th>Account</th><th>Region</th><th>Message</th><th>Evidence</th></tr></thead>\n<tbody>\n");
        for gap in &coverage.gaps {
            page.push_str(&format!(
                "<tr class=\"gap\"><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>\n",
                escape(&gap.api),
                escape(&gap.code),
                escape(&gap.account),
                escape(gap.region.as_deref().unwrap_or("-")),
                escape(gap.message.trim()),
                escape(gap.source.as_deref().unwrap_or(""))
            ));
        }
        page.push_str("</tbody>\n</table>\n");
    }
    if !coverage.disabled_regions.is_empty() {
        page.push_str("<h3>Regions not enabled</h3>\n<ul class=\"plain\">\n");
        for d in &coverage.disabled_regions {
            page.push_str(&format!(
                "<li>{} {} ({})</li>\n",
                escape(&d.account),
                escape(&d.region),
                escape(&d.opt_in_status)
            ));
        }
        page.push_str("</ul>\n");
    }
    page.push_str("</div>\n</section>\n");
}

fn exceptions(report: &ScanReport, page: &mut String) {
    page.push_str("<section id=\"exceptions\">\n<div class=\"panel\">\n<h2>Exceptions</h2>\n");
    let muted: Vec<&Finding> = report.results.iter().filter(|f| f.exception.is_some()).collect();
    match &report.exceptions {
        None if muted.is_empty() => page.push_str("<p class=\"note\">No exceptions were given.</p>\n"),
        None => {}
        Some(summary) => {
            page.push_str(&format!(
                "<p>{} applied, {} expired (their FAILs stand), {} stale (matched no failing result).</p>\n",
                summary.applied.len(),
                summary.expired.len(),
                summary.stale.len()
            ));
            let listed: Vec<_> = summary
                .applied
                .iter()
                .map(|e| ("applied", e))
                .chain(summary.expired.iter().map(|e| ("expired", e)))
                .chain(summary.stale.iter().map(|e| ("stale", e)))
                .collect();
            if !listed.is_empty() {
                page.push_str("<table id=\"exception-uses\">\n<thead><tr><th>State</th><th>Control</th><th>Resource</th><th>Owner</th><th>Ticket</th><th>Expires</th><th class=\"num\">Matched</th><th>Written at</th></tr></thead>\n<tbody>\n");
                for (state, e) in listed {
                    page.push_str(&format!(
                        "<tr><td>{state}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"mono\">{}</td></tr>\n",
                        escape(&e.control),
                        escape(&e.resource),
                        escape(&e.owner),
                        escape(&e.ticket),
                        e.expires,
                        e.matched,
                        escape(&e.source)
                    ));
                }
                page.push_str("</tbody>\n</table>\n");
            }
        }
    }
    if !muted.is_empty() {
        page.push_str("<h3>Results under an exception</h3>\n<table id=\"muted\">\n<thead><tr><th>Status</th><th>Control</th><th>Resource</th><th>Account</th><th>Region</th><th>Owner</th><th>Expires</th><th>Reason</th><th>Ticket</th></tr></thead>\n<tbody>\n");
        for f in muted {
            let Some(e) = &f.exception else { continue };
            page.push_str(&format!(
                "<tr class=\"muted-result\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                badge(f.status),
                escape(&f.control),
                escape(&f.resource_id),
                escape(&f.account_id),
                escape(&f.region),
                escape(&e.owner),
                e.expires,
                escape(&e.reason),
                escape(&e.ticket)
            ));
        }
        page.push_str("</tbody>\n</table>\n");
    }
    page.push_str("</div>\n</section>\n");
}

/// Each control's documentation, as `netaudit explain` prints it.
fn controls(report: &ScanReport, page: &mut String) {
    page.push_str("<section id=\"controls\">\n<div class=\"panel\">\n<h2>Controls</h2>\n<table>\n<thead><tr><th>Control</th><th>Severity</th><th>What it checks</th>");
    for status in Status::ALL {
        page.push_str(&format!("<th class=\"num\">{status}</th>"));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for c in &report.controls {
        page.push_str(&format!(
            "<tr><td>{}<span class=\"sub\">{}</span></td><td>{}</td><td>{}",
            escape(&c.id),
            escape(&c.resource_type),
            c.severity.as_str(),
            escape(&c.title)
        ));
        if !c.summary.is_empty() {
            page.push_str(&format!("<span class=\"sub\">{}</span>", escape(&c.summary)));
        }
        if !c.help.is_empty() {
            page.push_str(&format!(
                "<details><summary>netaudit explain {}</summary><pre>{}</pre></details>",
                escape(&c.id),
                escape(&c.help)
            ));
        }
        page.push_str("</td>");
        for status in Status::ALL {
            page.push_str(&format!("<td class=\"num\">{}</td>", c.counts.get(status)));
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n</div>\n</section>\n");
}

/// What the script filters on, a row per result in the table's order.
fn script_data(report: &ScanReport, rows: &[&Finding]) -> String {
    let rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|f| {
            let mut text = vec![
                f.control.clone(),
                f.status.as_str().to_owned(),
                f.resource_id.clone(),
                f.resource_arn.clone(),
                f.account_id.clone(),
                f.region.clone(),
                f.reason.clone(),
            ];
            text.extend(f.resource_name.clone());
            text.extend(f.evidence.values().map(plain));
            serde_json::json!({
                "status": f.status.as_str(),
                "control": f.control,
                "account": f.account_id,
                "region": f.region,
                "frameworks": frameworks_of(report, &f.control),
                "text": text.join(" ").to_lowercase(),
            })
        })
        .collect();
    json_for_script(&serde_json::json!({ "rows": rows }))
}

#[cfg(test)]
mod tests {
    use super::{escape, json_for_script};

    #[test]
    fn markup_and_quotes_in_values_are_escaped_for_text_and_attributes() {
        assert_eq!(
            escape("<script>alert(1)</script> \"q\" 'a' & b\u{1}"),
            "&lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; &#39;a&#39; &amp; b\u{FFFD}"
        );
    }

    #[test]
    fn script_data_cannot_close_its_script_element_and_reads_back_the_same() {
        let value = serde_json::json!({ "name": "</script><script>alert(1)</script> <!-- & \"q\"" });
        let embedded = json_for_script(&value);
        assert!(
            !embedded.contains('<') && !embedded.contains('>') && !embedded.contains('&'),
            "{embedded}"
        );
        let read: serde_json::Value = serde_json::from_str(&embedded).unwrap_or_default();
        assert_eq!(read, value);
    }
}
