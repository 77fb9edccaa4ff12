//! JUnit XML, for CI systems that show test reports (GitLab, Jenkins, Azure DevOps, GitHub test
//! reporters).
//!
//! A `testsuite` per control (classname = the control id) and a `testcase` per resource, named by
//! resource id, account and region so that a result's identity survives: FAIL is a `failure`,
//! UNKNOWN an `error` carrying the gaps, NOT_APPLICABLE and MUTED are `skipped` with their reason or
//! exception (owner, ticket, expiry), PASS is a plain testcase. A last `coverage` suite has an
//! `error` per input problem and per coverage gap no result carries, so an incomplete scan never
//! looks green.

use crate::text::gap_text;
use crate::ScanReport;
use netaudit_checks::{ExceptionState, Finding, Status};
use std::fmt::Write as _;
use std::io::{self, Write};

pub fn render(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let mut suites = vec![];
    for control in &report.controls {
        let cases: Vec<String> = report
            .results
            .iter()
            .filter(|f| f.control == control.id)
            .map(|f| testcase(f, &control.title))
            .collect();
        let mut properties = vec![
            ("severity", control.severity.as_str().to_owned()),
            ("category", control.category.clone()),
        ];
        for framework in &control.frameworks {
            properties.push((
                "requirement",
                format!("{} {}", framework.framework, framework.requirement),
            ));
        }
        suites.push(Suite {
            name: format!("{} {}", control.id, control.title),
            tests: cases.len(),
            failures: control.counts.fail,
            errors: control.counts.unknown,
            skipped: control.counts.not_applicable + control.counts.muted,
            properties,
            cases,
        });
    }
    suites.push(coverage_suite(report));

    let timestamp = report.scanned_at.as_deref().map(|t| t.trim_end_matches('Z').to_owned());
    let total = |count: fn(&Suite) -> usize| suites.iter().map(count).sum::<usize>();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="netaudit" tests="{}" failures="{}" errors="{}" skipped="{}" time="0">"#,
        total(|s| s.tests),
        total(|s| s.failures),
        total(|s| s.errors),
        total(|s| s.skipped)
    )?;
    let mut common = vec![
        ("netaudit.version", report.tool.version.clone()),
        (
            "outcome",
            serde_json::to_value(report.outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        ),
        ("coverage.complete", report.coverage.complete.to_string()),
    ];
    if let Some(source) = &report.source {
        common.push(("source", source.description.clone()));
    }
    if let Some(catalogue) = &report.tool.catalogue {
        common.push(("netaudit.catalogue", catalogue.clone()));
    }
    for (id, suite) in suites.iter().enumerate() {
        let mut head = format!(
            r#"  <testsuite id="{id}" name="{}" package="netaudit" tests="{}" failures="{}" errors="{}" skipped="{}" time="0""#,
            escape(&suite.name),
            suite.tests,
            suite.failures,
            suite.errors,
            suite.skipped
        );
        if let Some(timestamp) = &timestamp {
            let _ = write!(head, r#" timestamp="{}""#, escape(timestamp));
        }
        writeln!(out, "{head}>")?;
        writeln!(out, "    <properties>")?;
        for (name, value) in common.iter().chain(&suite.properties) {
            writeln!(
                out,
                r#"      <property name="{}" value="{}"/>"#,
                escape(name),
                escape(value)
            )?;
        }
        writeln!(out, "    </properties>")?;
        for case in &suite.cases {
            out.write_all(case.as_bytes())?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

struct Suite {
    name: String,
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    properties: Vec<(&'static str, String)>,
    cases: Vec<String>,
}

/// The result's identity, as a testcase name: resource, account and region (the suite names the control).
fn case_name(f: &Finding) -> String {
    let resource = match &f.resource_name {
        Some(name) => format!("{} ({name})", f.resource_id),
        None => f.resource_id.clone(),
    };
    format!("{resource} in {}/{}", f.account_id, f.region)
}

fn testcase(f: &Finding, title: &str) -> String {
    let mut case = format!(
        r#"    <testcase name="{}" classname="{}" time="0""#,
        escape(&case_name(f)),
        escape(&f.control)
    );
    let mut detail = vec![format!("resource: {}", f.resource_arn)];
    if let Some(location) = f.location.as_ref().or(f.read_from.as_ref()) {
        detail.push(format!("file: {}:{}", location.file, location.start_line));
        case.push_str(&format!(
            r#" file="{}" line="{}""#,
            escape(&location.file),
            location.start_line
        ));
    }
    case.push('>');
    case.push('\n');
    // Per-testcase properties, as pytest's record_property writes them.
    case.push_str("      <properties>\n");
    case.push_str(&format!(
        "        <property name=\"priority\" value=\"{}\"/>\n",
        f.priority.as_str()
    ));
    for reason in &f.priority_reasons {
        case.push_str(&format!(
            "        <property name=\"priority_reason\" value=\"{}\"/>\n",
            escape(reason)
        ));
    }
    case.push_str("      </properties>\n");
    detail.push(format!("priority: {}", f.priority));
    let body = |tag: &str, kind: &str, message: &str, lines: &[String]| {
        format!(
            "      <{tag} message=\"{}\" type=\"{kind}\">{}</{tag}>\n",
            escape(message),
            escape(&lines.join("\n"))
        )
    };
    match f.status {
        Status::Pass => {}
        Status::Fail => {
            let mut lines = vec![format!("{title}: {}", f.reason)];
            lines.extend(
                f.evidence
                    .iter()
                    .map(|(key, value)| format!("{key}: {}", crate::text::plain(value))),
            );
            if let Some(ExceptionState::Expired) = f.exception.as_ref().map(|e| e.state) {
                lines.extend(exception_lines(f));
            }
            case.push_str(&body("failure", "FAIL", &f.reason, &lines));
        }
        Status::Unknown => {
            let mut lines = vec![f.reason.clone()];
            lines.extend(f.gaps.iter().map(gap_text));
            case.push_str(&body("error", "UNKNOWN", &f.reason, &lines));
        }
        Status::NotApplicable => {
            case.push_str(&format!(
                "      <skipped message=\"{}\"/>\n",
                escape(&format!("not applicable: {}", f.reason))
            ));
        }
        Status::Muted => {
            let lines = exception_lines(f);
            case.push_str(&format!(
                "      <skipped message=\"{}\"/>\n",
                escape(&format!("muted: {}", lines.join("; ")))
            ));
        }
    }
    case.push_str(&format!(
        "      <system-out>{}</system-out>\n",
        escape(&detail.join("\n"))
    ));
    case.push_str("    </testcase>\n");
    case
}

fn exception_lines(f: &Finding) -> Vec<String> {
    f.exception
        .iter()
        .map(|e| {
            format!(
                "exception {} (owner {}, ticket {}, expires {}): {}",
                e.source,
                e.owner,
                e.ticket,
                e.expires,
                e.reason.trim()
            )
        })
        .collect()
}

/// Input problems, and gaps that no result carries (a region that could not be listed at all).
fn coverage_suite(report: &ScanReport) -> Suite {
    let carried: std::collections::BTreeSet<&netaudit_checks::GapRef> =
        report.results.iter().flat_map(|f| &f.gaps).collect();
    let mut cases = vec![];
    for error in &report.coverage.errors {
        cases.push(format!(
            "    <testcase name=\"{}\" classname=\"coverage\" time=\"0\">\n      <error message=\"{}\" type=\"INPUT\"/>\n    </testcase>\n",
            escape(error),
            escape(error)
        ));
    }
    for gap in report.coverage.gaps.iter().filter(|g| !carried.contains(g)) {
        let text = gap_text(gap);
        cases.push(format!(
            "    <testcase name=\"{}\" classname=\"coverage\" time=\"0\">\n      <error message=\"{}\" type=\"GAP\"/>\n    </testcase>\n",
            escape(&format!("{} in {}/{}", gap.api, gap.account, gap.region.as_deref().unwrap_or("-"))),
            escape(&text)
        ));
    }
    Suite {
        name: "coverage".to_owned(),
        tests: cases.len(),
        failures: 0,
        errors: cases.len(),
        skipped: 0,
        properties: vec![],
        cases,
    }
}

/// Text safe in XML content and attributes; characters XML 1.0 cannot carry become U+FFFD.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push_str(&format!("&#{};", u32::from(c))),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn text_is_escaped_and_what_xml_cannot_carry_is_replaced() {
        assert_eq!(
            escape("a<b>&\"c' \u{1}\u{FFFF}"),
            "a&lt;b&gt;&amp;&quot;c&apos; \u{FFFD}\u{FFFD}"
        );
        assert_eq!(escape("one\ntwo"), "one&#10;two");
    }
}
