//! SARIF 2.1.0, as GitHub code scanning ingests it (`github/codeql-action/upload-sarif`).
//!
//! One run. `tool.driver.rules` holds every control of the scan, with the same documentation
//! `netaudit explain ID` prints as its help, a `security-severity` GitHub maps to its severities and
//! tags (`security`, the category, the frameworks).
//!
//! What becomes a `result`:
//! - FAIL: `error` (critical, high) or `warning` (medium, low; `note` for informational).
//! - UNKNOWN: `note`, its message naming every gap that hid the answer. It stays a result (kind
//!   `fail`), so an unanswered question is never silently dropped.
//! - MUTED: the FAIL's level with an `external` suppression, `accepted`, whose justification carries
//!   the exception's owner, ticket and expiry; GitHub shows it as a dismissed alert.
//! - PASS and NOT_APPLICABLE are **not** results. SARIF has `kind: "pass"` and `"notApplicable"` with
//!   level `none` for them, but GitHub code scanning opens an alert for every result whatever its kind,
//!   so a passing VPC would show up as an open alert. They are kept in the run's property bag instead
//!   (`properties.notAlerted`: control, status, resource, ARN, account, region, file and lines,
//!   reason), next to the totals per status, so no verdict is lost.
//!
//! Locations: a finding declared in infrastructure as code has its file and lines; its `uri` is
//! relative to the SARIF root (`%SRCROOT%`, the current directory unless told otherwise), with
//! forward slashes, as GitHub requires. A finding without a source location (live or evidence scans)
//! gets the location the caller gives for it (for evidence, the evidence file it was read from), and
//! otherwise only a logical location (a live scan has no file to point at): valid SARIF, but GitHub
//! code scanning requires a physical location in every location, so upload IaC or evidence scans.
//! A file outside the root keeps an absolute `file:` URI (valid SARIF; GitHub cannot place it in the
//! repository).
//!
//! Every result carries a logical location (the address or ARN as fully qualified name, and the
//! resource type), and a `partialFingerprints` entry hashed from the result identity used everywhere
//! (control, resource ARN, account, region): stable across runs and when the resource moves in its
//! file.
//!
//! Coverage: `invocations[0].executionSuccessful` is false when the scan is incomplete; every coverage
//! gap, input error, disabled region and region scope is a `toolExecutionNotifications` entry.

use crate::text::gap_text;
use crate::{ControlSummary, ScanReport};
use netaudit_checks::{ExceptionState, Finding, Location, Severity, Status};
use serde_json::{json, Map, Value};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// Where the tool is documented, for `tool.driver.informationUri`.
pub const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");

/// The `partialFingerprints` key; bump the version if the identity's hash ever changes.
pub const FINGERPRINT_KEY: &str = "netauditResultIdentity/v1";

/// What the SARIF renderer needs beyond the report.
#[derive(Debug, Clone)]
pub struct SarifOptions {
    /// Absolute directory that `uri`s are relative to (`%SRCROOT%`), normally the repository root.
    pub root: PathBuf,
    /// Absolute directory that relative `Location.file`s are relative to (where the scan was asked).
    pub working_dir: PathBuf,
}

pub fn render(report: &ScanReport, options: &SarifOptions, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report, options)).map_err(io::Error::from)?;
    writeln!(out)
}

/// The SARIF log as a JSON value.
pub fn document(report: &ScanReport, options: &SarifOptions) -> Value {
    // Rules in the report's order of controls.
    let controls = &report.controls;
    let rules: Vec<Value> = controls.iter().map(rule).collect();
    let mut results = vec![];
    let mut not_alerted = vec![];
    for finding in &report.results {
        let rule_index = controls.iter().position(|c| c.id == finding.control);
        let severity = rule_index.map(|i| controls[i].severity);
        match finding.status {
            Status::Pass | Status::NotApplicable => not_alerted.push(not_alerted_entry(finding, options)),
            Status::Fail | Status::Unknown | Status::Muted => {
                results.push(result(finding, rule_index, severity, options));
            }
        }
    }
    let root_uri = format!(
        "file://{}/",
        encode_path(&normalise(&options.root)).trim_end_matches('/')
    );
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": report.tool.name,
                    "version": report.tool.version,
                    "semanticVersion": report.tool.version,
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                }
            },
            "invocations": [invocation(report)],
            "originalUriBaseIds": {
                "%SRCROOT%": { "uri": root_uri }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {
                "outcome": report.outcome,
                "totals": report.totals,
                "notAlerted": not_alerted,
            }
        }]
    })
}

/// GitHub's mapping: critical ≥ 9.0, high 7.0–8.9, medium 4.0–6.9, low 0.1–3.9; None for
/// informational, which has no security severity.
pub fn security_severity(severity: Severity) -> Option<&'static str> {
    match severity {
        Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("3.0"),
        Severity::Informational => None,
    }
}

/// The SARIF level of a failing result of this severity.
pub fn failure_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium | Severity::Low => "warning",
        Severity::Informational => "note",
    }
}

/// A PascalCase identifier from a title: "VPC flow logging should be enabled" → "VpcFlowLoggingShouldBeEnabled".
pub fn pascal_case(title: &str) -> String {
    let mut name = String::new();
    for word in title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'N');
    }
    name
}

fn text(s: &str) -> Value {
    json!({ "text": s })
}

/// A sentence as SARIF's style rules want message strings: ending with a period.
fn sentence(s: &str) -> String {
    let s = s.trim();
    if s.ends_with(['.', '!', '?']) {
        s.to_owned()
    } else {
        format!("{s}.")
    }
}

fn rule(control: &ControlSummary) -> Value {
    let help = &control.help;
    let mut tags = vec!["security".to_owned(), control.category.clone()];
    for framework in &control.frameworks {
        let tag = format!("{} {}", framework.framework, framework.requirement);
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let mut properties = Map::new();
    properties.insert("tags".into(), json!(tags));
    if let Some(score) = security_severity(control.severity) {
        properties.insert("security-severity".into(), json!(score));
    }
    // Verdicts are decided on the values read or declared, not guessed from patterns.
    let precision = if control.category == netaudit_checks::Category::Advisory.as_str() {
        "high"
    } else {
        "very-high"
    };
    properties.insert("precision".into(), json!(precision));
    properties.insert("resourceType".into(), json!(control.resource_type));
    json!({
        "id": control.id,
        "name": pascal_case(&control.title),
        "shortDescription": text(&sentence(&control.title)),
        "fullDescription": text(&sentence(&control.summary)),
        "help": { "text": help, "markdown": help },
        "defaultConfiguration": { "level": failure_level(control.severity) },
        "properties": properties,
    })
}

fn message(finding: &Finding) -> String {
    let mut message = sentence(&finding.reason);
    if finding.status == Status::Unknown {
        let gaps: Vec<String> = finding.gaps.iter().map(gap_text).collect();
        if gaps.is_empty() {
            message.push_str(" Not known: the answer could not be decided.");
        } else {
            message.push_str(&format!(" Not known: {}", sentence(&gaps.join("; "))));
        }
    }
    if let Some(exception) = &finding.exception {
        match exception.state {
            ExceptionState::Active => message.push_str(&format!(
                " Muted by the exception at {} (owner {}, ticket {}, expires {}).",
                exception.source, exception.owner, exception.ticket, exception.expires
            )),
            ExceptionState::Expired => message.push_str(&format!(
                " The exception at {} expired on {} and no longer mutes it (owner {}, ticket {}).",
                exception.source, exception.expires, exception.owner, exception.ticket
            )),
        }
    }
    message
}

fn result(finding: &Finding, rule_index: Option<usize>, severity: Option<Severity>, options: &SarifOptions) -> Value {
    let level = match finding.status {
        Status::Unknown => "note",
        _ => severity.map_or("warning", failure_level),
    };
    let mut result = Map::new();
    result.insert("ruleId".into(), json!(finding.control));
    if let Some(index) = rule_index {
        result.insert("ruleIndex".into(), json!(index));
    }
    result.insert("kind".into(), json!("fail"));
    result.insert("level".into(), json!(level));
    result.insert("message".into(), text(&message(finding)));
    result.insert("locations".into(), json!([location(finding, options)]));
    result.insert(
        "partialFingerprints".into(),
        json!({ FINGERPRINT_KEY: fingerprint(finding) }),
    );
    if let (Status::Muted, Some(exception)) = (finding.status, &finding.exception) {
        result.insert(
            "suppressions".into(),
            json!([{
                "kind": "external",
                "status": "accepted",
                "justification": format!(
                    "{} (owner {}, ticket {}, expires {}; {})",
                    exception.reason.trim(), exception.owner, exception.ticket, exception.expires, exception.source
                ),
                "properties": {
                    "owner": exception.owner,
                    "ticket": exception.ticket,
                    "expires": exception.expires.to_string(),
                    "source": exception.source,
                }
            }]),
        );
    }
    let mut properties = Map::new();
    properties.insert("status".into(), json!(finding.status));
    properties.insert("account".into(), json!(finding.account_id));
    properties.insert("region".into(), json!(finding.region));
    properties.insert("resourceId".into(), json!(finding.resource_id));
    properties.insert("resourceType".into(), json!(finding.resource_type));
    properties.insert("priority".into(), json!(finding.priority));
    if !finding.priority_reasons.is_empty() {
        properties.insert("priorityReasons".into(), json!(finding.priority_reasons));
    }
    if let Some(name) = &finding.resource_name {
        properties.insert("resourceName".into(), json!(name));
    }
    if !finding.gaps.is_empty() {
        properties.insert("gaps".into(), json!(finding.gaps));
    }
    if !finding.evidence.is_empty() {
        properties.insert("evidence".into(), Value::Object(finding.evidence.clone()));
    }
    if let Some(remedy) = &finding.remedy {
        properties.insert("remedy".into(), json!(remedy));
    }
    result.insert("properties".into(), Value::Object(properties));
    Value::Object(result)
}

fn logical_location(finding: &Finding) -> Value {
    json!({
        "name": finding.resource_id,
        "fullyQualifiedName": finding.resource_arn,
        "kind": "resource",
        "properties": { "resourceType": finding.resource_type },
    })
}

fn location(finding: &Finding, options: &SarifOptions) -> Value {
    let mut location = Map::new();
    if let Some(source) = finding.location.as_ref().or(finding.read_from.as_ref()) {
        location.insert("physicalLocation".into(), physical_location(source, options));
    }
    location.insert("logicalLocations".into(), json!([logical_location(finding)]));
    Value::Object(location)
}

fn physical_location(source: &Location, options: &SarifOptions) -> Value {
    let start = source.start_line.max(1);
    let end = source.end_line.max(start);
    json!({
        "artifactLocation": artifact_location(&source.file, options),
        "region": { "startLine": start, "endLine": end },
    })
}

/// The file relative to the root, with forward slashes; absolute `file:` when it lies outside.
fn artifact_location(file: &str, options: &SarifOptions) -> Value {
    let path = Path::new(file);
    let absolute = normalise(&options.working_dir.join(path));
    match absolute.strip_prefix(normalise(&options.root)) {
        Ok(relative) => json!({ "uri": encode_path(relative), "uriBaseId": "%SRCROOT%" }),
        Err(_) => json!({ "uri": format!("file://{}", encode_path(&absolute)) }),
    }
}

/// `a/./b/../c` → `a/c`, without touching the file system (the file may not exist any more).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A path as a URI path: components joined by `/`, every byte outside the unreserved set
/// percent-encoded.
fn encode_path(path: &Path) -> String {
    let mut parts = vec![];
    for component in path.components() {
        match component {
            Component::RootDir => parts.push(String::new()),
            Component::Normal(part) => parts.push(encode_segment(&part.to_string_lossy())),
            Component::Prefix(prefix) => parts.push(encode_segment(&prefix.as_os_str().to_string_lossy())),
            Component::CurDir | Component::ParentDir => {}
        }
    }
    if parts.len() == 1 && parts[0].is_empty() {
        return "/".into();
    }
    parts.join("/")
}

fn encode_segment(segment: &str) -> String {
    let mut out = String::new();
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// FNV-1a, 64 bits: a fixed algorithm, so the fingerprint is the same in every build and release
/// (std's hasher promises neither).
fn fnv1a(seed: u64, parts: &[&str]) -> u64 {
    let mut hash = seed;
    for part in parts {
        for byte in part.bytes().chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// The result identity (control, resource ARN, account, region) hashed: 128 bits, in hex.
pub fn fingerprint(finding: &Finding) -> String {
    let key = finding.key();
    identity_hash(&[
        key.control.as_str(),
        key.resource_arn.as_str(),
        key.account_id.as_str(),
        key.region.as_str(),
    ])
}

/// Identity parts hashed: 128 bits, in hex, the same in every build and release.
pub fn identity_hash(parts: &[&str]) -> String {
    format!(
        "{:016x}{:016x}",
        fnv1a(0xcbf2_9ce4_8422_2325, parts),
        fnv1a(0x6c62_272e_07bb_0142, parts)
    )
}

fn not_alerted_entry(finding: &Finding, options: &SarifOptions) -> Value {
    let mut entry = Map::new();
    entry.insert("ruleId".into(), json!(finding.control));
    entry.insert("status".into(), json!(finding.status));
    entry.insert("resourceId".into(), json!(finding.resource_id));
    entry.insert("resourceArn".into(), json!(finding.resource_arn));
    entry.insert("resourceType".into(), json!(finding.resource_type));
    entry.insert("account".into(), json!(finding.account_id));
    entry.insert("region".into(), json!(finding.region));
    entry.insert("priority".into(), json!(finding.priority));
    if let Some(source) = &finding.location {
        entry.insert("location".into(), physical_location(source, options));
    }
    entry.insert("reason".into(), json!(finding.reason));
    entry.insert("fingerprint".into(), json!(fingerprint(finding)));
    Value::Object(entry)
}

fn notification(level: &str, id: &str, message: &str, properties: Value) -> Value {
    json!({
        "level": level,
        "descriptor": { "id": id },
        "message": text(&sentence(message)),
        "properties": properties,
    })
}

fn invocation(report: &ScanReport) -> Value {
    let coverage = &report.coverage;
    let mut notifications = vec![];
    for error in &coverage.errors {
        notifications.push(notification("error", "input-error", error, json!({})));
    }
    for gap in &coverage.gaps {
        notifications.push(notification(
            "warning",
            "coverage-gap",
            &gap_text(gap),
            json!({ "gap": gap }),
        ));
    }
    for disabled in &coverage.disabled_regions {
        notifications.push(notification(
            "note",
            "region-not-enabled",
            &format!(
                "Region {} is not enabled for account {} ({}); nothing there to evaluate",
                disabled.region, disabled.account, disabled.opt_in_status
            ),
            json!({ "account": disabled.account, "region": disabled.region }),
        ));
    }
    for scope in &coverage.region_scope {
        notifications.push(notification(
            "note",
            "region-scope",
            &format!(
                "Account {} was scanned in {} only",
                scope.account,
                scope.regions.join(", ")
            ),
            json!({ "account": scope.account, "regions": scope.regions }),
        ));
    }
    json!({
        "executionSuccessful": coverage.complete,
        "toolExecutionNotifications": notifications,
        "properties": { "accounts": coverage.accounts },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pascal_case_makes_an_identifier_from_a_title() {
        assert_eq!(
            pascal_case("VPC flow logging should be enabled in all VPCs"),
            "VpcFlowLoggingShouldBeEnabledInAllVpcs"
        );
        assert_eq!(pascal_case("3 tunnels: log them"), "N3TunnelsLogThem");
    }

    #[test]
    fn security_severity_falls_in_githubs_bands() {
        let score = |s| security_severity(s).map(|v| v.parse::<f64>().unwrap_or(-1.0));
        assert!(score(Severity::Critical).is_some_and(|v| v >= 9.0));
        assert!(score(Severity::High).is_some_and(|v| (7.0..9.0).contains(&v)));
        assert!(score(Severity::Medium).is_some_and(|v| (4.0..7.0).contains(&v)));
        assert!(score(Severity::Low).is_some_and(|v| (0.1..4.0).contains(&v)));
        assert_eq!(score(Severity::Informational), None);
    }

    #[test]
    fn uris_are_relative_to_the_root_with_forward_slashes_and_encoded() {
        let options = SarifOptions {
            root: PathBuf::from("/repo"),
            working_dir: PathBuf::from("/repo/infra"),
        };
        assert_eq!(
            artifact_location("net/main file.tf", &options),
            json!({"uri": "infra/net/main%20file.tf", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact_location("../stacks/./a.yaml", &options),
            json!({"uri": "stacks/a.yaml", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact_location("/elsewhere/x.tf", &options),
            json!({"uri": "file:///elsewhere/x.tf"})
        );
    }
}
