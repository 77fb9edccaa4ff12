//! AWS Security Finding Format (ASFF, schema 2018-10-08), as `securityhub:BatchImportFindings` takes it.
//!
//! One finding per result, sent to the default product of the result's account in its region
//! (`arn:<partition>:securityhub:<region>:<account>:product/<account>/default`). Its `Id` is the
//! result's identity (control, resource, account, region), so a later scan updates the same finding.
//!
//! - `Compliance.Status`: PASS is `PASSED`, FAIL `FAILED`, UNKNOWN `WARNING` (its reason and every gap
//!   that hid the answer in `StatusReasons`), NOT_APPLICABLE `NOT_AVAILABLE` (with its reason). MUTED
//!   keeps the FAIL's `FAILED` with `Workflow.Status` `SUPPRESSED` and the exception's owner, ticket,
//!   expiry and reason in `Note` and `ProductFields`.
//! - The documented `StatusReasons` codes (`CONFIG_ACCESS_DENIED`, `CONFIG_RETURNS_NOT_APPLICABLE`,
//!   `CLOUDWATCH_ALARMS_NOT_PRESENT`, …) name states of AWS Config and Security Hub's own evaluations;
//!   the API takes any non-blank code, so netaudit's codes say what netaudit decided: `NETAUDIT_UNKNOWN`
//!   and `NETAUDIT_NOT_APPLICABLE`, and per gap the AWS error code the read failed with.
//! - Framework mappings become `Compliance.RelatedRequirements` (at most 32) and an "Industry and
//!   Regulatory Standards" type per framework; a control that is a Security Hub control carries its id
//!   in `Compliance.SecurityControlId`.
//! - A coverage gap no result carries is a `WARNING` finding of its own on the account (generator
//!   `netaudit/coverage`), an input error one too (on the first account), and a region not enabled for
//!   an account a `NOT_AVAILABLE` one: an incomplete scan never looks complete in Security Hub.
//! - Results for every region (`*`) or account-wide ones (`global`) are placed in the account's home
//!   region (the first region its results name, else the partition's first region); their `Id` keeps
//!   the region they were reported for.
//!
//! ASFF needs an AWS account id and a region for every finding: a scan of infrastructure as code (not
//! deployed anywhere yet) or of an account that could not be identified cannot be rendered
//! ([`NotAsff`]).

use crate::text::gap_text;
use crate::{ControlSummary, ScanReport};
use netaudit_checks::{ExceptionState, Finding, GapRef, Severity, Status};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

pub const SCHEMA_VERSION: &str = "2018-10-08";
/// The prefix of every generator id netaudit writes; an import finds its earlier findings by it.
pub const GENERATOR_PREFIX: &str = "netaudit";
const BEST_PRACTICES_TYPE: &str = "Software and Configuration Checks/AWS Security Best Practices";
const STANDARDS_TYPE: &str = "Software and Configuration Checks/Industry and Regulatory Standards";

// Field limits of the ASFF reference.
const MAX_ID: usize = 512;
const MAX_TITLE: usize = 256;
const MAX_DESCRIPTION: usize = 1024;
const MAX_RECOMMENDATION: usize = 512;
const MAX_NOTE: usize = 512;
const MAX_REASON: usize = 2048;
const MAX_REQUIREMENTS: usize = 32;
const MAX_REQUIREMENT: usize = 256;
const MAX_TYPES: usize = 50;
const MAX_FIELD_KEY: usize = 128;
const MAX_FIELD_VALUE: usize = 2048;

/// One ASFF finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    pub schema_version: String,
    pub id: String,
    pub product_arn: String,
    pub product_name: String,
    pub company_name: String,
    pub generator_id: String,
    pub aws_account_id: String,
    pub region: String,
    pub types: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub severity: AsffSeverity,
    /// Severity and types again: after a finding is created, Security Hub takes a provider's updates
    /// of them only from here.
    pub finding_provider_fields: AsffProviderFields,
    pub title: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<AsffRemediation>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub product_fields: BTreeMap<String, String>,
    pub resources: Vec<AsffResource>,
    pub compliance: AsffCompliance,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<AsffWorkflow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<AsffNote>,
    pub record_state: RecordState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffSeverity {
    pub label: SeverityLabel,
    /// The control's own severity, whatever the label of this result.
    pub original: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffProviderFields {
    pub severity: AsffSeverity,
    pub types: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SeverityLabel {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRemediation {
    pub recommendation: AsffRecommendation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffRecommendation {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    pub r#type: String,
    pub id: String,
    pub partition: String,
    pub region: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffCompliance {
    pub status: ComplianceStatus,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_requirements: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_reasons: Vec<AsffStatusReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_control_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ComplianceStatus {
    Passed,
    Warning,
    Failed,
    NotAvailable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffStatusReason {
    pub reason_code: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffWorkflow {
    pub status: WorkflowStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WorkflowStatus {
    New,
    Notified,
    Suppressed,
    Resolved,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffNote {
    pub text: String,
    pub updated_by: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordState {
    Active,
    Archived,
}

/// Why a report cannot be ASFF: results or a report without what every finding needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAsff {
    /// Results without an AWS account id or region: `(control, resource, account, region)` of each.
    Unplaced(Vec<(String, String, String, String)>),
    /// A report of schema version 2 records no scan time, which `CreatedAt` and `UpdatedAt` need.
    NoScanTime,
}

impl std::fmt::Display for NotAsff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotAsff::Unplaced(results) => {
                let shown: Vec<String> = results
                    .iter()
                    .take(3)
                    .map(|(control, resource, account, region)| {
                        format!("{control} {resource} (account {account:?}, region {region:?})")
                    })
                    .collect();
                let more = results.len().saturating_sub(shown.len());
                write!(
                    f,
                    "ASFF needs an AWS account id and region for every finding, and {} result(s) have none \
                     (a scan of infrastructure as code is not deployed anywhere yet; an account that could not \
                     be identified has no id): {}{}",
                    results.len(),
                    shown.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                )
            }
            NotAsff::NoScanTime => write!(
                f,
                "ASFF needs the scan's time, and this report (schema version 2) does not record it; scan again"
            ),
        }
    }
}

impl std::error::Error for NotAsff {}

/// Every finding of the report, results first, then the coverage it would otherwise lose.
pub fn findings(report: &ScanReport) -> Result<Vec<AsffFinding>, NotAsff> {
    let unplaced: Vec<(String, String, String, String)> = report
        .results
        .iter()
        .filter(|f| !is_account_id(&f.account_id) || f.region.trim().is_empty())
        .map(|f| {
            (
                f.control.clone(),
                f.resource_arn.clone(),
                f.account_id.clone(),
                f.region.clone(),
            )
        })
        .collect();
    if !unplaced.is_empty() {
        return Err(NotAsff::Unplaced(unplaced));
    }
    let time = report.scanned_at.clone().ok_or(NotAsff::NoScanTime)?;
    let homes = home_regions(report);
    let mut out: Vec<AsffFinding> = report
        .results
        .iter()
        .map(|f| result_finding(f, report.control(&f.control), &homes, &time))
        .collect();
    let carried: BTreeSet<&GapRef> = report.results.iter().flat_map(|f| f.gaps.iter()).collect();
    for gap in report.coverage.gaps.iter().filter(|g| !carried.contains(g)) {
        if is_account_id(&gap.account) {
            out.push(gap_finding(gap, &homes, &time));
        }
    }
    // Input errors name no account: they go to the first account the scan read.
    if let Some(account) = report.coverage.accounts.iter().find(|a| is_account_id(a)) {
        for error in &report.coverage.errors {
            out.push(error_finding(error, account, &homes, &time));
        }
    }
    for disabled in &report.coverage.disabled_regions {
        if is_account_id(&disabled.account) {
            out.push(disabled_region_finding(disabled, &time));
        }
    }
    Ok(out)
}

/// The findings as a JSON array.
pub fn render(findings: &[AsffFinding], out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, findings).map_err(io::Error::from)?;
    writeln!(out)
}

fn is_account_id(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

/// A real region name (not `*`, `global` or empty).
fn is_region(region: &str) -> bool {
    !region.is_empty() && region != "*" && region != "global"
}

/// Per account, the region findings without one of their own go to.
fn home_regions(report: &ScanReport) -> BTreeMap<String, String> {
    let mut homes = BTreeMap::new();
    for f in report.results.iter().filter(|f| is_region(&f.region)) {
        homes.entry(f.account_id.clone()).or_insert_with(|| f.region.clone());
    }
    homes
}

fn place(region: &str, account: &str, partition: &str, homes: &BTreeMap<String, String>) -> String {
    if is_region(region) {
        return region.to_owned();
    }
    homes
        .get(account)
        .cloned()
        .unwrap_or_else(|| first_region(partition).to_owned())
}

fn first_region(partition: &str) -> &'static str {
    match partition {
        "aws-cn" => "cn-north-1",
        "aws-us-gov" => "us-gov-west-1",
        _ => "us-east-1",
    }
}

/// The partition an ARN names, else the one a region belongs to.
fn partition(arn: &str, region: &str) -> String {
    if let Some(p) = arn.strip_prefix("arn:").and_then(|rest| rest.split(':').next()) {
        if !p.is_empty() {
            return p.to_owned();
        }
    }
    if region.starts_with("cn-") {
        "aws-cn".to_owned()
    } else if region.starts_with("us-gov-") {
        "aws-us-gov".to_owned()
    } else {
        "aws".to_owned()
    }
}

fn product_arn(partition: &str, region: &str, account: &str) -> String {
    format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default")
}

/// At most `max` characters (not bytes), ending in `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// An id of at most 512 characters: as readable as it fits, else cut with a hash of the whole.
fn finding_id(readable: &str) -> String {
    if readable.chars().count() <= MAX_ID {
        return readable.to_owned();
    }
    let hash = crate::sarif::identity_hash(&[readable]);
    let head: String = readable.chars().take(MAX_ID - hash.len() - 1).collect();
    format!("{head}/{hash}")
}

fn label(severity: Severity) -> SeverityLabel {
    match severity {
        Severity::Critical => SeverityLabel::Critical,
        Severity::High => SeverityLabel::High,
        Severity::Medium => SeverityLabel::Medium,
        Severity::Low => SeverityLabel::Low,
        Severity::Informational => SeverityLabel::Informational,
    }
}

/// The Security Hub control id, when the control is one: its reference to the Security Hub control
/// page names its own id (`ec2-controls.html#ec2-6` for EC2.6).
pub fn security_control_id(control: &ControlSummary) -> Option<String> {
    let anchor = format!("#{}", control.id.to_ascii_lowercase().replace('.', "-"));
    control
        .references
        .iter()
        .any(|r| r.contains("docs.aws.amazon.com/securityhub/") && r.ends_with(&anchor))
        .then(|| control.id.clone())
}

/// The ASFF resource type of a netaudit asset kind.
fn resource_type(kind: &str) -> &'static str {
    match kind {
        "Vpc" => "AwsEc2Vpc",
        "Subnet" => "AwsEc2Subnet",
        "ClientVpnEndpoint" => "AwsEc2ClientVpnEndpoint",
        "VpnConnection" => "AwsEc2VpnConnection",
        "LogGroup" => "AwsLogsLogGroup",
        "Bucket" => "AwsS3Bucket",
        "Alarm" => "AwsCloudWatchAlarm",
        "Account" => "AwsAccount",
        _ => "Other",
    }
}

fn status_label(status: Status) -> &'static str {
    match status {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Unknown => "UNKNOWN",
        Status::NotApplicable => "NOT_APPLICABLE",
        Status::Muted => "MUTED",
    }
}

fn field(fields: &mut BTreeMap<String, String>, key: &str, value: &str) {
    if !value.trim().is_empty() {
        fields.insert(truncate(key, MAX_FIELD_KEY), truncate(value, MAX_FIELD_VALUE));
    }
}

fn result_finding(
    f: &Finding,
    control: Option<&ControlSummary>,
    homes: &BTreeMap<String, String>,
    time: &str,
) -> AsffFinding {
    let partition = partition(&f.resource_arn, &f.region);
    let region = place(&f.region, &f.account_id, &partition, homes);
    let severity = control.map_or(Severity::Medium, |c| c.severity);
    let compliance_status = match f.status {
        Status::Pass => ComplianceStatus::Passed,
        Status::Fail | Status::Muted => ComplianceStatus::Failed,
        Status::Unknown => ComplianceStatus::Warning,
        Status::NotApplicable => ComplianceStatus::NotAvailable,
    };
    // Security Hub's own control findings are informational when they pass or do not apply.
    let severity_label = match f.status {
        Status::Pass | Status::NotApplicable => SeverityLabel::Informational,
        _ => label(severity),
    };
    let mut status_reasons = vec![];
    match f.status {
        Status::Unknown => {
            status_reasons.push(AsffStatusReason {
                reason_code: "NETAUDIT_UNKNOWN".to_owned(),
                description: truncate(&f.reason, MAX_REASON),
            });
            status_reasons.extend(f.gaps.iter().map(|g| AsffStatusReason {
                reason_code: if g.code.trim().is_empty() {
                    "NETAUDIT_GAP".to_owned()
                } else {
                    g.code.clone()
                },
                description: truncate(&gap_text(g), MAX_REASON),
            }));
        }
        Status::NotApplicable => status_reasons.push(AsffStatusReason {
            reason_code: "NETAUDIT_NOT_APPLICABLE".to_owned(),
            description: truncate(&f.reason, MAX_REASON),
        }),
        _ => {}
    }
    let mut types = vec![BEST_PRACTICES_TYPE.to_owned()];
    let mut requirements = vec![];
    if let Some(control) = control {
        for mapping in &control.frameworks {
            let kind = format!("{STANDARDS_TYPE}/{}", mapping.framework);
            if !types.contains(&kind) && types.len() < MAX_TYPES {
                types.push(kind);
            }
            let requirement = truncate(
                &format!("{} {}", mapping.framework, mapping.requirement),
                MAX_REQUIREMENT,
            );
            if !requirements.contains(&requirement) && requirements.len() < MAX_REQUIREMENTS {
                requirements.push(requirement);
            }
        }
    }
    let mut description = f.reason.trim().to_owned();
    if f.region == "*" {
        description.push_str(" (this result stands for every region of the account)");
    }
    let mut fields = BTreeMap::new();
    field(&mut fields, "netaudit/Status", status_label(f.status));
    field(&mut fields, "netaudit/Control", &f.control);
    field(&mut fields, "netaudit/ResourceId", &f.resource_id);
    field(&mut fields, "netaudit/Region", &f.region);
    if let Some(name) = &f.resource_name {
        field(&mut fields, "netaudit/ResourceName", name);
    }
    if let Some(read_from) = &f.read_from {
        field(
            &mut fields,
            "netaudit/ReadFrom",
            &format!("{}:{}", read_from.file, read_from.start_line),
        );
    }
    field(&mut fields, "netaudit/Priority", f.priority.as_str());
    if !f.priority_reasons.is_empty() {
        field(&mut fields, "netaudit/PriorityReasons", &f.priority_reasons.join("; "));
    }
    let mut note = None;
    let mut workflow = None;
    if let Some(exception) = &f.exception {
        let (state, sentence) = match exception.state {
            ExceptionState::Active => ("active", "Muted by the exception"),
            ExceptionState::Expired => ("expired", "The exception expired and no longer mutes it"),
        };
        let text = format!(
            "{sentence} at {}: owner {}, ticket {}, expires {}; {}",
            exception.source,
            exception.owner,
            exception.ticket,
            exception.expires,
            exception.reason.trim()
        );
        description.push_str(&format!(" {text}."));
        field(&mut fields, "netaudit/Exception/State", state);
        field(&mut fields, "netaudit/Exception/Owner", &exception.owner);
        field(&mut fields, "netaudit/Exception/Ticket", &exception.ticket);
        field(
            &mut fields,
            "netaudit/Exception/Expires",
            &exception.expires.to_string(),
        );
        field(&mut fields, "netaudit/Exception/Reason", exception.reason.trim());
        field(&mut fields, "netaudit/Exception/Source", &exception.source);
        if f.status == Status::Muted {
            workflow = Some(AsffWorkflow {
                status: WorkflowStatus::Suppressed,
            });
            note = Some(AsffNote {
                text: truncate(&text, MAX_NOTE),
                updated_by: "netaudit".to_owned(),
                updated_at: time.to_owned(),
            });
        }
    }
    let account = &f.account_id;
    AsffFinding {
        schema_version: SCHEMA_VERSION.to_owned(),
        id: finding_id(&format!(
            "{GENERATOR_PREFIX}/{account}/{}/{}/{}",
            f.region, f.control, f.resource_arn
        )),
        product_arn: product_arn(&partition, &region, account),
        product_name: "netaudit".to_owned(),
        company_name: "netaudit".to_owned(),
        generator_id: format!("{GENERATOR_PREFIX}/{}", f.control),
        aws_account_id: account.clone(),
        region: region.clone(),
        finding_provider_fields: AsffProviderFields {
            severity: AsffSeverity {
                label: severity_label,
                original: severity.as_str().to_ascii_uppercase(),
            },
            types: types.clone(),
        },
        types,
        created_at: time.to_owned(),
        updated_at: time.to_owned(),
        severity: AsffSeverity {
            label: severity_label,
            original: severity.as_str().to_ascii_uppercase(),
        },
        title: truncate(
            &format!(
                "{}: {}",
                f.control,
                control.map_or(f.control.as_str(), |c| c.title.as_str())
            ),
            MAX_TITLE,
        ),
        description: truncate(&description, MAX_DESCRIPTION),
        remediation: control
            .filter(|c| !c.remediation.trim().is_empty())
            .map(|c| AsffRemediation {
                recommendation: AsffRecommendation {
                    text: truncate(c.remediation.trim(), MAX_RECOMMENDATION),
                    url: c.references.first().filter(|u| u.len() <= MAX_ID).cloned(),
                },
            }),
        product_fields: fields,
        resources: vec![AsffResource {
            r#type: resource_type(&f.resource_type).to_owned(),
            id: truncate(&f.resource_arn, MAX_ID),
            partition,
            region,
        }],
        compliance: AsffCompliance {
            status: compliance_status,
            related_requirements: requirements,
            status_reasons,
            security_control_id: control.and_then(security_control_id),
        },
        workflow,
        note,
        record_state: RecordState::Active,
    }
}

/// A finding about the account itself (coverage), with a resource of type `AwsAccount`.
struct AccountFinding<'a> {
    id: String,
    generator: &'a str,
    account: &'a str,
    region: String,
    status: ComplianceStatus,
    label: SeverityLabel,
    title: String,
    description: String,
    reasons: Vec<AsffStatusReason>,
}

impl AccountFinding<'_> {
    fn build(self, time: &str) -> AsffFinding {
        let partition = partition("", &self.region);
        let severity = AsffSeverity {
            label: self.label,
            original: format!("{:?}", self.label).to_ascii_uppercase(),
        };
        let types = vec![BEST_PRACTICES_TYPE.to_owned()];
        AsffFinding {
            schema_version: SCHEMA_VERSION.to_owned(),
            id: finding_id(&self.id),
            product_arn: product_arn(&partition, &self.region, self.account),
            product_name: "netaudit".to_owned(),
            company_name: "netaudit".to_owned(),
            generator_id: format!("{GENERATOR_PREFIX}/{}", self.generator),
            aws_account_id: self.account.to_owned(),
            region: self.region.clone(),
            finding_provider_fields: AsffProviderFields {
                severity: severity.clone(),
                types: types.clone(),
            },
            types,
            created_at: time.to_owned(),
            updated_at: time.to_owned(),
            severity,
            title: truncate(&self.title, MAX_TITLE),
            description: truncate(&self.description, MAX_DESCRIPTION),
            remediation: None,
            product_fields: BTreeMap::new(),
            resources: vec![AsffResource {
                r#type: "AwsAccount".to_owned(),
                id: format!("AWS::::Account:{}", self.account),
                partition,
                region: self.region,
            }],
            compliance: AsffCompliance {
                status: self.status,
                related_requirements: vec![],
                status_reasons: self.reasons,
                security_control_id: None,
            },
            workflow: None,
            note: None,
            record_state: RecordState::Active,
        }
    }
}

fn gap_finding(gap: &GapRef, homes: &BTreeMap<String, String>, time: &str) -> AsffFinding {
    let scope = gap.region.as_deref().unwrap_or("global");
    let region = place(scope, &gap.account, "aws", homes);
    let text = gap_text(gap);
    AccountFinding {
        id: format!(
            "{GENERATOR_PREFIX}/{}/{scope}/coverage/{}/{}",
            gap.account, gap.api, gap.code
        ),
        generator: "coverage",
        account: &gap.account,
        region,
        status: ComplianceStatus::Warning,
        label: SeverityLabel::Medium,
        title: format!("Coverage gap: {} was not read ({scope})", gap.api),
        description: format!("What depends on this read is not known. {text}"),
        reasons: vec![AsffStatusReason {
            reason_code: if gap.code.trim().is_empty() {
                "NETAUDIT_GAP".to_owned()
            } else {
                gap.code.clone()
            },
            description: truncate(&text, MAX_REASON),
        }],
    }
    .build(time)
}

fn error_finding(error: &str, account: &str, homes: &BTreeMap<String, String>, time: &str) -> AsffFinding {
    AccountFinding {
        id: format!(
            "{GENERATOR_PREFIX}/{account}/input-error/{}",
            crate::sarif::identity_hash(&[error])
        ),
        generator: "coverage",
        account,
        region: place("global", account, "aws", homes),
        status: ComplianceStatus::Warning,
        label: SeverityLabel::Medium,
        title: "Scan input error: some results may be missing".to_owned(),
        description: error.to_owned(),
        reasons: vec![AsffStatusReason {
            reason_code: "NETAUDIT_INPUT_ERROR".to_owned(),
            description: truncate(error, MAX_REASON),
        }],
    }
    .build(time)
}

fn disabled_region_finding(disabled: &crate::DisabledRegion, time: &str) -> AsffFinding {
    let text = format!(
        "Region {} is not enabled for account {} ({}): nothing there to evaluate.",
        disabled.region, disabled.account, disabled.opt_in_status
    );
    AccountFinding {
        id: format!(
            "{GENERATOR_PREFIX}/{}/{}/region-not-enabled",
            disabled.account, disabled.region
        ),
        generator: "coverage",
        account: &disabled.account,
        region: disabled.region.clone(),
        status: ComplianceStatus::NotAvailable,
        label: SeverityLabel::Informational,
        title: format!("Region {} is not enabled", disabled.region),
        description: text.clone(),
        reasons: vec![AsffStatusReason {
            reason_code: "NETAUDIT_REGION_NOT_ENABLED".to_owned(),
            description: text,
        }],
    }
    .build(time)
}

#[cfg(test)]
mod tests {
    use super::{finding_id, truncate};

    #[test]
    fn truncation_counts_characters_and_never_splits_one() {
        let text = "é".repeat(300);
        let cut = truncate(&text, 256);
        assert_eq!(cut.chars().count(), 256);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("short", 256), "short");
    }

    #[test]
    fn long_ids_keep_their_head_and_a_hash_of_the_whole() {
        let a = finding_id(&format!("netaudit/{}", "a".repeat(600)));
        let b = finding_id(&format!("netaudit/{}b", "a".repeat(600)));
        assert_eq!(a.chars().count(), 512);
        assert_ne!(a, b);
        assert!(a.starts_with("netaudit/aaa"));
    }
}
