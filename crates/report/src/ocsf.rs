//! OCSF 1.5.0 events, as JSON Lines (one event per line), for security data lakes (Amazon Security
//! Lake, SIEMs that read OCSF).
//!
//! A scan report becomes Compliance Findings (class 2003, activity Create, type 200301), one per
//! result, with the `cloud` profile:
//! - `compliance.status_id`: PASS is Pass, FAIL is Fail, UNKNOWN is Warning (its reason and every gap
//!   that hid the answer in `compliance.status_details`), NOT_APPLICABLE is Other with status
//!   "Not applicable", MUTED keeps its real compliance status (Fail: only FAILs are muted).
//! - The finding's own `status_id` is New, except MUTED, which is Suppressed; the exception's owner,
//!   reason, ticket and expiry are in `comment` and, field by field, in `unmapped.exception` (OCSF 1.5.0
//!   has no suppression object). An expired exception stays on its FAIL the same way.
//! - `status_code` is netaudit's status (PASS, FAIL, UNKNOWN, NOT_APPLICABLE, MUTED), so every result
//!   keeps its exact verdict.
//! - `finding_info.uid` is the result identity (control, resource ARN, account, region) hashed as SARIF's
//!   fingerprint is: stable between runs.
//! - Infrastructure as code has no account or region: `cloud.account` and `cloud.region` are left out
//!   and the file and lines are in `resources[].data.location`.
//!
//! What no result carries is an event too, so nothing of the coverage is lost: each coverage gap that
//! no result lists (status_code COVERAGE_GAP, compliance Warning, the API, account and region in the
//! event), each input or control error (SCAN_ERROR, Warning) and each region not enabled
//! (REGION_DISABLED, Other "Not applicable"). These events have no `compliance.control`.
//!
//! `logs detect` findings become Detection Findings (class 2004, type 200401) with [`render_detections`].

use crate::text::gap_text;
use crate::{ControlSummary, CoverageGap, DisabledRegion, ScanReport};
use netaudit_checks::{ExceptionRef, ExceptionState, Finding, Location, Priority, Severity, Status};
use serde::{Deserialize, Serialize};
use std::io::{self, Write};

/// The OCSF schema version every event states in `metadata.version`.
pub const OCSF_VERSION: &str = "1.5.0";

/// The Findings category.
const CATEGORY_FINDINGS: u32 = 2;
const CLASS_COMPLIANCE_FINDING: u32 = 2003;
const CLASS_DETECTION_FINDING: u32 = 2004;
/// Activity Create: the finding is reported for the first time by this scan.
const ACTIVITY_CREATE: u32 = 1;
/// `account.type_id` 10: an AWS account.
const ACCOUNT_TYPE_AWS: u32 = 10;

/// Write one Compliance Finding per result, then one event per coverage gap no result carries,
/// input error and disabled region: JSON Lines.
pub fn render(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    for event in compliance_findings(report)? {
        serde_json::to_writer(&mut *out, &event).map_err(io::Error::from)?;
        writeln!(out)?;
    }
    Ok(())
}

/// Write one Detection Finding per `logs detect` finding: JSON Lines.
pub fn render_detections(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    for event in detection_findings(report)? {
        serde_json::to_writer(&mut *out, &event).map_err(io::Error::from)?;
        writeln!(out)?;
    }
    Ok(())
}

/// Every Compliance Finding of the report, in result order, then the coverage events.
pub fn compliance_findings(report: &ScanReport) -> io::Result<Vec<ComplianceFinding>> {
    let time = scan_time_ms(report)?;
    let mut events: Vec<ComplianceFinding> = report
        .results
        .iter()
        .map(|finding| result_event(report, finding, time))
        .collect();
    let carried: Vec<&CoverageGap> = report.results.iter().flat_map(|f| &f.gaps).collect();
    for gap in report.coverage.gaps.iter().filter(|gap| !carried.contains(gap)) {
        events.push(gap_event(report, gap, time));
    }
    for error in &report.coverage.errors {
        events.push(error_event(report, error, time));
    }
    for region in &report.coverage.disabled_regions {
        events.push(disabled_region_event(report, region, time));
    }
    Ok(events)
}

/// Every Detection Finding of a `logs detect` report.
pub fn detection_findings(report: &ScanReport) -> io::Result<Vec<DetectionFinding>> {
    let time = scan_time_ms(report)?;
    Ok(report
        .results
        .iter()
        .map(|finding| detection_event(report, finding, time))
        .collect())
}

/// The attributes every event of the Findings category has, with the cloud profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingEvent {
    pub activity_id: u32,
    pub activity_name: String,
    pub category_uid: u32,
    pub category_name: String,
    pub class_uid: u32,
    pub class_name: String,
    pub type_uid: u32,
    pub type_name: String,
    pub severity_id: u32,
    pub severity: String,
    /// The finding's workflow status: New, or Suppressed for a muted result.
    pub status_id: u32,
    pub status: String,
    pub message: String,
    /// Epoch milliseconds: when the scan ran.
    pub time: i64,
    pub metadata: Metadata,
    pub cloud: Cloud,
    pub finding_info: FindingInfo,
    pub resources: Vec<Resource>,
}

/// A Compliance Finding (class 2003).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplianceFinding {
    #[serde(flatten)]
    pub event: FindingEvent,
    /// netaudit's own status of the result (PASS, FAIL, UNKNOWN, NOT_APPLICABLE, MUTED), or the kind
    /// of coverage event (COVERAGE_GAP, SCAN_ERROR, REGION_DISABLED).
    pub status_code: String,
    pub status_detail: String,
    /// For a result with an exception: who accepted it, why, and until when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub compliance: Compliance,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<Remediation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmapped: Option<Unmapped>,
}

/// A Detection Finding (class 2004).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionFinding {
    #[serde(flatten)]
    pub event: FindingEvent,
}

/// An event's class and what it says of its severity and status; the rest comes from the report.
struct Heading {
    class_uid: u32,
    class_name: &'static str,
    severity: (u32, &'static str),
    status: (u32, &'static str),
    message: String,
}

impl FindingEvent {
    fn new(
        report: &ScanReport,
        heading: Heading,
        time: i64,
        cloud: Cloud,
        finding_info: FindingInfo,
        resources: Vec<Resource>,
    ) -> FindingEvent {
        FindingEvent {
            activity_id: ACTIVITY_CREATE,
            activity_name: "Create".to_owned(),
            category_uid: CATEGORY_FINDINGS,
            category_name: "Findings".to_owned(),
            class_uid: heading.class_uid,
            class_name: heading.class_name.to_owned(),
            type_uid: heading.class_uid * 100 + ACTIVITY_CREATE,
            type_name: format!("{}: Create", heading.class_name),
            severity_id: heading.severity.0,
            severity: heading.severity.1.to_owned(),
            status_id: heading.status.0,
            status: heading.status.1.to_owned(),
            message: heading.message,
            time,
            metadata: metadata(report),
            cloud,
            finding_info,
            resources,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The OCSF schema version.
    pub version: String,
    pub product: Product,
    pub profiles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub name: String,
    pub vendor_name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cloud {
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub uid: String,
    /// AWS accounts have no name a scan reads: the id.
    pub name: String,
    pub type_id: u32,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compliance {
    /// The control id; absent from coverage events, which no control decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// The frameworks the control maps to, and `AWS Security Hub EC2.6` for a Security Hub control.
    pub standards: Vec<String>,
    /// The framework requirement ids (`AU-12`, `3.7`).
    pub requirements: Vec<String>,
    pub status_id: u32,
    pub status: String,
    /// Why: the reason, and for UNKNOWN every gap that hid the answer.
    pub status_details: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingInfo {
    /// The result identity, hashed: stable between runs.
    pub uid: String,
    pub title: String,
    pub desc: String,
    /// Epoch milliseconds.
    pub created_time: i64,
    pub types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// The ARN where known, else the resource id (an IaC address, a detection's subject).
    pub uid: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_partition: Option<String>,
    pub data: ResourceData,
}

/// What OCSF has no attribute for about the resource: its id, where it is declared or was read
/// from, and the values behind a FAIL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceData {
    pub resource_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_from: Option<Location>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub evidence: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    pub desc: String,
    pub references: Vec<String>,
}

/// netaudit facts OCSF 1.5.0 has no attribute for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmapped {
    /// The exception that muted the result, or that matched it and has expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<ExceptionRef>,
    /// For a coverage gap: the gap as the JSON report lists it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<CoverageGap>,
    /// What to fix first: the result's priority (internet exposure, production tags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Why the result has that priority.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub priority_reasons: Vec<String>,
}

fn scan_time_ms(report: &ScanReport) -> io::Result<i64> {
    let Some(text) = report.scanned_at.as_deref() else {
        return Err(io::Error::other(
            "the report has no scanned_at (schema version 2): OCSF events need the scan time",
        ));
    };
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|time| time.timestamp_millis())
        .map_err(|e| io::Error::other(format!("scanned_at {text:?}: {e}")))
}

fn metadata(report: &ScanReport) -> Metadata {
    Metadata {
        version: OCSF_VERSION.to_owned(),
        product: Product {
            name: report.tool.name.clone(),
            vendor_name: report.tool.name.clone(),
            version: report.tool.version.clone(),
        },
        profiles: vec!["cloud".to_owned()],
    }
}

fn cloud(account: &str, region: Option<&str>) -> Cloud {
    Cloud {
        provider: "AWS".to_owned(),
        account: (!account.is_empty()).then(|| Account {
            uid: account.to_owned(),
            name: account.to_owned(),
            type_id: ACCOUNT_TYPE_AWS,
            kind: "AWS Account".to_owned(),
        }),
        region: region.filter(|r| !r.is_empty()).map(str::to_owned),
    }
}

/// OCSF `severity_id` and its caption.
fn severity(severity: Option<Severity>) -> (u32, &'static str) {
    match severity {
        None => (0, "Unknown"),
        Some(Severity::Informational) => (1, "Informational"),
        Some(Severity::Low) => (2, "Low"),
        Some(Severity::Medium) => (3, "Medium"),
        Some(Severity::High) => (4, "High"),
        Some(Severity::Critical) => (5, "Critical"),
    }
}

const COMPLIANCE_PASS: (u32, &str) = (1, "Pass");
const COMPLIANCE_WARNING: (u32, &str) = (2, "Warning");
const COMPLIANCE_FAIL: (u32, &str) = (3, "Fail");
const COMPLIANCE_NOT_APPLICABLE: (u32, &str) = (99, "Not applicable");

/// The compliance status of a result: a muted one is still a FAIL.
fn compliance_status(status: Status) -> (u32, &'static str) {
    match status {
        Status::Pass => COMPLIANCE_PASS,
        Status::Fail | Status::Muted => COMPLIANCE_FAIL,
        Status::Unknown => COMPLIANCE_WARNING,
        Status::NotApplicable => COMPLIANCE_NOT_APPLICABLE,
    }
}

const FINDING_NEW: (u32, &str) = (1, "New");
const FINDING_SUPPRESSED: (u32, &str) = (3, "Suppressed");

/// The Security Hub control id, for a control the Security Hub user guide documents under its id.
fn security_hub_control(control: &ControlSummary) -> Option<&str> {
    let anchor = format!("-controls.html#{}", control.id.to_lowercase().replace('.', "-"));
    control
        .references
        .iter()
        .any(|url| url.contains("docs.aws.amazon.com/securityhub/") && url.ends_with(&anchor))
        .then_some(control.id.as_str())
}

fn standards(control: Option<&ControlSummary>) -> (Vec<String>, Vec<String>) {
    let Some(control) = control else {
        return (vec![], vec![]);
    };
    let mut standards: Vec<String> = vec![];
    let mut requirements: Vec<String> = vec![];
    for mapping in &control.frameworks {
        if !standards.contains(&mapping.framework) {
            standards.push(mapping.framework.clone());
        }
        if !requirements.contains(&mapping.requirement) {
            requirements.push(mapping.requirement.clone());
        }
    }
    if let Some(id) = security_hub_control(control) {
        standards.push(format!("AWS Security Hub {id}"));
    }
    (standards, requirements)
}

fn exception_comment(exception: &ExceptionRef) -> String {
    let state = match exception.state {
        ExceptionState::Active => "Muted by an exception",
        ExceptionState::Expired => "An expired exception matched (the FAIL stands)",
    };
    format!(
        "{state}: {} (owner {}, ticket {}, expires {}, {})",
        exception.reason.trim(),
        exception.owner,
        exception.ticket,
        exception.expires,
        exception.source
    )
}

fn resource(finding: &Finding) -> Resource {
    let uid = if finding.resource_arn.is_empty() {
        finding.resource_id.clone()
    } else {
        finding.resource_arn.clone()
    };
    let partition = finding
        .resource_arn
        .strip_prefix("arn:")
        .and_then(|rest| rest.split(':').next())
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    Resource {
        uid,
        kind: finding.resource_type.clone(),
        name: finding.resource_name.clone(),
        region: Some(finding.region.clone()).filter(|r| !r.is_empty()),
        cloud_partition: partition,
        data: ResourceData {
            resource_id: finding.resource_id.clone(),
            location: finding.location.clone(),
            read_from: finding.read_from.clone(),
            evidence: finding.evidence.clone(),
        },
    }
}

fn result_event(report: &ScanReport, finding: &Finding, time: i64) -> ComplianceFinding {
    let control = report.control(&finding.control);
    let (compliance_id, compliance_name) = compliance_status(finding.status);
    let mut details = vec![finding.reason.clone()];
    details.extend(finding.gaps.iter().map(gap_text));
    let (standards, requirements) = standards(control);
    let title = control.map_or_else(|| finding.control.clone(), |c| c.title.clone());
    let resource_label = finding.resource_name.as_deref().unwrap_or(&finding.resource_id);
    let heading = Heading {
        class_uid: CLASS_COMPLIANCE_FINDING,
        class_name: "Compliance Finding",
        severity: severity(control.map(|c| c.severity)),
        status: match finding.status {
            Status::Muted => FINDING_SUPPRESSED,
            _ => FINDING_NEW,
        },
        message: format!("{} {}: {}", finding.control, finding.status, finding.reason),
    };
    let finding_info = FindingInfo {
        uid: format!("netaudit-{}", crate::sarif::fingerprint(finding)),
        title: format!("{}: {title} ({resource_label})", finding.control),
        desc: finding.reason.clone(),
        created_time: time,
        types: vec![finding.control.clone()],
    };
    ComplianceFinding {
        event: FindingEvent::new(
            report,
            heading,
            time,
            cloud(&finding.account_id, Some(&finding.region)),
            finding_info,
            vec![resource(finding)],
        ),
        status_code: finding.status.as_str().to_owned(),
        status_detail: finding.reason.clone(),
        comment: finding.exception.as_ref().map(exception_comment),
        compliance: Compliance {
            control: Some(finding.control.clone()),
            standards,
            requirements,
            status_id: compliance_id,
            status: compliance_name.to_owned(),
            status_details: details,
            desc: control.map(|c| c.summary.clone()).filter(|s| !s.is_empty()),
        },
        remediation: control.filter(|c| !c.remediation.is_empty()).map(|c| Remediation {
            desc: c.remediation.clone(),
            references: c.references.clone(),
        }),
        unmapped: Some(Unmapped {
            exception: finding.exception.clone(),
            gap: None,
            priority: Some(finding.priority),
            priority_reasons: finding.priority_reasons.clone(),
        }),
    }
}

/// A coverage event: no control, no resource of a control, a status and a sentence.
struct Notice<'a> {
    code: &'static str,
    compliance: (u32, &'static str),
    title: String,
    detail: String,
    account: &'a str,
    region: Option<&'a str>,
    resource_type: &'static str,
    gap: Option<CoverageGap>,
}

fn notice_event(report: &ScanReport, notice: Notice<'_>, time: i64) -> ComplianceFinding {
    let identity = [
        notice.code,
        notice.detail.as_str(),
        notice.account,
        notice.region.unwrap_or(""),
    ];
    let place = match notice.region {
        Some(region) => format!("{}/{region}", notice.account),
        None => notice.account.to_owned(),
    };
    let heading = Heading {
        class_uid: CLASS_COMPLIANCE_FINDING,
        class_name: "Compliance Finding",
        severity: severity(None),
        status: FINDING_NEW,
        message: notice.detail.clone(),
    };
    let finding_info = FindingInfo {
        uid: format!("netaudit-{}", crate::sarif::identity_hash(&identity)),
        title: notice.title,
        desc: notice.detail.clone(),
        created_time: time,
        types: vec![notice.code.to_owned()],
    };
    let resource = Resource {
        uid: if place.is_empty() {
            "-".to_owned()
        } else {
            place.clone()
        },
        kind: notice.resource_type.to_owned(),
        name: None,
        region: notice.region.map(str::to_owned),
        cloud_partition: None,
        data: ResourceData {
            resource_id: place,
            location: None,
            read_from: None,
            evidence: serde_json::Map::new(),
        },
    };
    ComplianceFinding {
        event: FindingEvent::new(
            report,
            heading,
            time,
            cloud(notice.account, notice.region),
            finding_info,
            vec![resource],
        ),
        status_code: notice.code.to_owned(),
        status_detail: notice.detail.clone(),
        comment: None,
        compliance: Compliance {
            control: None,
            standards: vec![],
            requirements: vec![],
            status_id: notice.compliance.0,
            status: notice.compliance.1.to_owned(),
            status_details: vec![notice.detail],
            desc: None,
        },
        remediation: None,
        unmapped: notice.gap.map(|gap| Unmapped {
            exception: None,
            gap: Some(gap),
            priority: None,
            priority_reasons: Vec::new(),
        }),
    }
}

fn gap_event(report: &ScanReport, gap: &CoverageGap, time: i64) -> ComplianceFinding {
    let detail = gap_text(gap);
    notice_event(
        report,
        Notice {
            code: "COVERAGE_GAP",
            compliance: COMPLIANCE_WARNING,
            title: format!("Coverage gap: {} {}", gap.api, gap.code),
            detail,
            account: &gap.account,
            region: gap.region.as_deref(),
            resource_type: "AWS::API",
            gap: Some(gap.clone()),
        },
        time,
    )
}

fn error_event(report: &ScanReport, error: &str, time: i64) -> ComplianceFinding {
    notice_event(
        report,
        Notice {
            code: "SCAN_ERROR",
            compliance: COMPLIANCE_WARNING,
            title: "Scan error: a problem with the input or the controls".to_owned(),
            detail: error.to_owned(),
            account: "",
            region: None,
            resource_type: "netaudit::Input",
            gap: None,
        },
        time,
    )
}

fn disabled_region_event(report: &ScanReport, region: &DisabledRegion, time: i64) -> ComplianceFinding {
    notice_event(
        report,
        Notice {
            code: "REGION_DISABLED",
            compliance: COMPLIANCE_NOT_APPLICABLE,
            title: format!("Region {} not enabled in account {}", region.region, region.account),
            detail: format!(
                "region {} is not enabled for account {} (opt-in status {}): nothing there to evaluate",
                region.region, region.account, region.opt_in_status
            ),
            account: &region.account,
            region: Some(&region.region),
            resource_type: "AWS::Region",
            gap: None,
        },
        time,
    )
}

fn detection_event(report: &ScanReport, finding: &Finding, time: i64) -> DetectionFinding {
    let control = report.control(&finding.control);
    let title = control.map_or_else(|| finding.control.clone(), |c| c.title.clone());
    // A detection has no ARN: its subject, target and window tell one finding from another.
    let evidence_text = |key: &str| finding.evidence.get(key).map(ToString::to_string).unwrap_or_default();
    let identity = [
        finding.control.as_str(),
        finding.resource_id.as_str(),
        &evidence_text("target"),
        &evidence_text("window_start"),
        finding.account_id.as_str(),
        finding.region.as_str(),
    ];
    let heading = Heading {
        class_uid: CLASS_DETECTION_FINDING,
        class_name: "Detection Finding",
        severity: severity(control.map(|c| c.severity)),
        status: FINDING_NEW,
        message: finding.reason.clone(),
    };
    let finding_info = FindingInfo {
        uid: format!("netaudit-{}", crate::sarif::identity_hash(&identity)),
        title: format!("{}: {title} ({})", finding.control, finding.resource_id),
        desc: finding.reason.clone(),
        created_time: time,
        types: vec![finding.control.clone()],
    };
    DetectionFinding {
        event: FindingEvent::new(
            report,
            heading,
            time,
            cloud(&finding.account_id, Some(&finding.region)),
            finding_info,
            vec![resource(finding)],
        ),
    }
}
