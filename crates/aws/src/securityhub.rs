//! Importing ASFF findings into AWS Security Hub with `BatchImportFindings`.
//!
//! Each region's findings go to that region's Security Hub (the product ARN names the region the
//! client must call), in batches of at most 100 findings and 6 MB; a finding over 240 KB is refused
//! here, as Security Hub would. Throttling (10 requests a second per account and region) is retried
//! with backoff by the SDK's retry policy the scan uses too.
//!
//! Security Hub ignores an update whose `UpdatedAt` is not later than the finding's, so the earlier
//! netaudit findings of the product are read first (`GetFindings` by product ARN and generator id
//! prefix, either record state) and each finding is sent with `UpdatedAt` = max(now, previous + 1 ms),
//! keeping its first `CreatedAt`. An earlier finding that is ACTIVE and no longer in the report is sent
//! again ARCHIVED: its resource is gone or no longer evaluated.

use crate::collect::{runtime, sdk_config, LiveOptions};
use crate::errors::gap_from_sdk;
use aws_config::{Region, SdkConfig};
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, Compliance, ComplianceStatus, FindingProviderFields,
    FindingProviderSeverity, Note, Recommendation, RecordState, Remediation, Resource, Severity, SeverityLabel,
    StatusReason, StringFilter, StringFilterComparison, Workflow, WorkflowStatus,
};
use aws_sdk_securityhub::Client;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use netaudit_report::asff::{self, AsffFinding};
use std::collections::{BTreeMap, BTreeSet};

/// At most this many findings per `BatchImportFindings` request.
pub const MAX_BATCH_FINDINGS: usize = 100;
/// At most this many bytes per request.
pub const MAX_BATCH_BYTES: usize = 6 * 1024 * 1024;
/// At most this many bytes per finding.
pub const MAX_FINDING_BYTES: usize = 240 * 1024;

/// A finding Security Hub (or the size limit) refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedFinding {
    pub id: String,
    pub code: String,
    pub message: String,
}

/// What happened in one region.
#[derive(Debug, Clone, Default)]
pub struct RegionImport {
    pub region: String,
    /// Findings of the report Security Hub accepted.
    pub imported: usize,
    /// Earlier findings no longer in the report, archived.
    pub archived: usize,
    pub failed: Vec<FailedFinding>,
    /// A call that failed after its retries: the findings it carried were not imported.
    pub errors: Vec<String>,
    /// Findings not sent because a call failed.
    pub not_sent: usize,
}

impl RegionImport {
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && self.errors.is_empty() && self.not_sent == 0
    }
}

/// Send the findings to Security Hub, region by region (in the order of the region names).
pub fn import_findings(options: &LiveOptions, findings: Vec<AsffFinding>) -> Result<Vec<RegionImport>, String> {
    let mut by_region: BTreeMap<String, Vec<AsffFinding>> = BTreeMap::new();
    for finding in findings {
        by_region.entry(finding.region.clone()).or_default().push(finding);
    }
    let runtime = runtime().map_err(|gap| gap.to_string())?;
    runtime.block_on(async {
        let config = sdk_config(options).await;
        let mut out = vec![];
        for (region, findings) in by_region {
            out.push(import_region(&config, &region, findings, now_millis()).await);
        }
        Ok(out)
    })
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The client of the region's Security Hub.
fn client(config: &SdkConfig, region: &str) -> Client {
    let conf = aws_sdk_securityhub::config::Builder::from(config)
        .region(Region::new(region.to_owned()))
        .build();
    Client::from_conf(conf)
}

async fn import_region(config: &SdkConfig, region: &str, findings: Vec<AsffFinding>, now: i64) -> RegionImport {
    let client = client(config, region);
    let mut result = RegionImport {
        region: region.to_owned(),
        ..RegionImport::default()
    };
    let products: BTreeSet<String> = findings.iter().map(|f| f.product_arn.clone()).collect();
    let mut earlier: BTreeMap<String, AwsSecurityFinding> = BTreeMap::new();
    for product in &products {
        match earlier_findings(&client, product).await {
            Ok(found) => earlier.extend(found.into_iter().filter_map(|f| Some((f.id.clone()?, f)))),
            Err(e) => {
                result.errors.push(format!("securityhub:GetFindings in {region}: {e}"));
                result.not_sent = findings.len();
                return result;
            }
        }
    }
    let present: BTreeSet<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    let mut outgoing = vec![];
    for finding in &findings {
        let previous = earlier.get(&finding.id);
        let mut sdk = to_sdk(finding);
        sdk.updated_at = Some(next_update(now, previous));
        if let Some(created) = previous.and_then(|p| p.created_at.clone()) {
            sdk.created_at = Some(created);
        }
        outgoing.push((sdk, false));
    }
    for (id, previous) in &earlier {
        let active = previous.record_state.as_ref().is_none_or(|s| *s == RecordState::Active);
        if active && !present.contains(id.as_str()) {
            outgoing.push((archived(previous, next_update(now, Some(previous))), true));
        }
    }
    let mut batch: Vec<(AwsSecurityFinding, bool)> = vec![];
    let mut batch_bytes = 0;
    for (finding, archiving) in outgoing {
        let size = approximate_size(&finding);
        if size > MAX_FINDING_BYTES {
            result.failed.push(FailedFinding {
                id: finding.id.clone().unwrap_or_default(),
                code: "FindingTooLarge".to_owned(),
                message: format!("about {size} bytes; Security Hub takes at most {MAX_FINDING_BYTES} per finding"),
            });
            continue;
        }
        if batch.len() == MAX_BATCH_FINDINGS || batch_bytes + size > MAX_BATCH_BYTES {
            send(&client, region, std::mem::take(&mut batch), &mut result).await;
            batch_bytes = 0;
        }
        batch_bytes += size;
        batch.push((finding, archiving));
    }
    if !batch.is_empty() {
        send(&client, region, batch, &mut result).await;
    }
    result
}

/// Every earlier netaudit finding of the product, in either record state.
async fn earlier_findings(client: &Client, product_arn: &str) -> Result<Vec<AwsSecurityFinding>, String> {
    let filters = AwsSecurityFindingFilters::builder()
        .product_arn(
            StringFilter::builder()
                .value(product_arn)
                .comparison(StringFilterComparison::Equals)
                .build(),
        )
        .generator_id(
            StringFilter::builder()
                .value(asff::GENERATOR_PREFIX)
                .comparison(StringFilterComparison::Prefix)
                .build(),
        )
        .build();
    let mut pages = client
        .get_findings()
        .filters(filters)
        .max_results(100)
        .into_paginator()
        .send();
    let mut found = vec![];
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            let gap = gap_from_sdk(&e, "", None, "securityhub:GetFindings");
            format!("{}: {}", gap.code, gap.message)
        })?;
        // The filters again, for a service that does not apply them.
        found.extend(page.findings.unwrap_or_default().into_iter().filter(|f| {
            f.product_arn.as_deref() == Some(product_arn)
                && f.generator_id
                    .as_deref()
                    .is_some_and(|g| g.starts_with(asff::GENERATOR_PREFIX))
        }));
    }
    Ok(found)
}

async fn send(client: &Client, region: &str, batch: Vec<(AwsSecurityFinding, bool)>, result: &mut RegionImport) {
    let count = batch.len();
    let archiving: BTreeSet<String> = batch
        .iter()
        .filter(|(_, archiving)| *archiving)
        .filter_map(|(f, _)| f.id.clone())
        .collect();
    let findings: Vec<AwsSecurityFinding> = batch.into_iter().map(|(f, _)| f).collect();
    match client.batch_import_findings().set_findings(Some(findings)).send().await {
        Ok(output) => {
            let failed: Vec<FailedFinding> = output
                .failed_findings()
                .iter()
                .map(|f| FailedFinding {
                    id: f.id.clone().unwrap_or_default(),
                    code: f.error_code.clone().unwrap_or_default(),
                    message: f.error_message.clone().unwrap_or_default(),
                })
                .collect();
            let failed_archives = failed.iter().filter(|f| archiving.contains(&f.id)).count();
            result.archived += archiving.len().saturating_sub(failed_archives);
            result.imported += count
                .saturating_sub(archiving.len())
                .saturating_sub(failed.len().saturating_sub(failed_archives));
            result.failed.extend(failed);
        }
        Err(e) => {
            let gap = gap_from_sdk(&e, "", Some(region), "securityhub:BatchImportFindings");
            result.errors.push(format!(
                "securityhub:BatchImportFindings in {region}: {}: {}",
                gap.code, gap.message
            ));
            result.not_sent += count;
        }
    }
}

/// max(now, previous + 1 ms), as Security Hub writes times.
fn next_update(now: i64, previous: Option<&AwsSecurityFinding>) -> String {
    let after_previous = previous
        .and_then(|p| p.updated_at.as_deref())
        .and_then(|t| DateTime::from_str(t, Format::DateTimeWithOffset).ok())
        .and_then(|t| t.to_millis().ok())
        .map_or(i64::MIN, |ms| ms.saturating_add(1));
    format_millis(now.max(after_previous))
}

/// RFC 3339 with milliseconds, in UTC.
fn format_millis(ms: i64) -> String {
    let time = DateTime::from_millis(ms);
    let seconds = DateTime::from_secs(time.secs());
    let text = seconds.fmt(Format::DateTime).unwrap_or_default();
    format!("{}.{:03}Z", text.trim_end_matches('Z'), ms.rem_euclid(1000))
}

/// The finding's JSON size, estimated from its debug form (the same fields and values).
fn approximate_size(finding: &AwsSecurityFinding) -> usize {
    format!("{finding:?}").len()
}

/// An earlier finding sent again ARCHIVED, with what identifies and describes it.
fn archived(previous: &AwsSecurityFinding, updated_at: String) -> AwsSecurityFinding {
    AwsSecurityFinding::builder()
        .set_schema_version(previous.schema_version.clone())
        .set_id(previous.id.clone())
        .set_product_arn(previous.product_arn.clone())
        .set_product_name(previous.product_name.clone())
        .set_company_name(previous.company_name.clone())
        .set_generator_id(previous.generator_id.clone())
        .set_aws_account_id(previous.aws_account_id.clone())
        .set_region(previous.region.clone())
        .set_types(previous.types.clone())
        .set_created_at(previous.created_at.clone())
        .updated_at(updated_at)
        .set_severity(previous.severity.clone())
        .set_title(previous.title.clone())
        .set_description(previous.description.clone())
        .set_remediation(previous.remediation.clone())
        .set_product_fields(previous.product_fields.clone())
        .set_resources(previous.resources.clone())
        .set_compliance(previous.compliance.clone())
        .record_state(RecordState::Archived)
        .build()
}

fn severity_label(label: asff::SeverityLabel) -> SeverityLabel {
    match label {
        asff::SeverityLabel::Informational => SeverityLabel::Informational,
        asff::SeverityLabel::Low => SeverityLabel::Low,
        asff::SeverityLabel::Medium => SeverityLabel::Medium,
        asff::SeverityLabel::High => SeverityLabel::High,
        asff::SeverityLabel::Critical => SeverityLabel::Critical,
    }
}

/// The SDK's form of a finding, field for field.
pub fn to_sdk(f: &AsffFinding) -> AwsSecurityFinding {
    let compliance_status = match f.compliance.status {
        asff::ComplianceStatus::Passed => ComplianceStatus::Passed,
        asff::ComplianceStatus::Warning => ComplianceStatus::Warning,
        asff::ComplianceStatus::Failed => ComplianceStatus::Failed,
        asff::ComplianceStatus::NotAvailable => ComplianceStatus::NotAvailable,
    };
    let mut compliance = Compliance::builder().status(compliance_status);
    for requirement in &f.compliance.related_requirements {
        compliance = compliance.related_requirements(requirement);
    }
    for reason in &f.compliance.status_reasons {
        compliance = compliance.status_reasons(
            StatusReason::builder()
                .reason_code(&reason.reason_code)
                .description(&reason.description)
                .build(),
        );
    }
    if let Some(id) = &f.compliance.security_control_id {
        compliance = compliance.security_control_id(id);
    }
    let provider = &f.finding_provider_fields;
    let mut finding = AwsSecurityFinding::builder()
        .schema_version(&f.schema_version)
        .id(&f.id)
        .product_arn(&f.product_arn)
        .product_name(&f.product_name)
        .company_name(&f.company_name)
        .generator_id(&f.generator_id)
        .aws_account_id(&f.aws_account_id)
        .region(&f.region)
        .set_types(Some(f.types.clone()))
        .created_at(&f.created_at)
        .updated_at(&f.updated_at)
        .severity(
            Severity::builder()
                .label(severity_label(f.severity.label))
                .original(&f.severity.original)
                .build(),
        )
        .finding_provider_fields(
            FindingProviderFields::builder()
                .severity(
                    FindingProviderSeverity::builder()
                        .label(severity_label(provider.severity.label))
                        .original(&provider.severity.original)
                        .build(),
                )
                .set_types(Some(provider.types.clone()))
                .build(),
        )
        .title(&f.title)
        .description(&f.description)
        .set_resources(Some(
            f.resources
                .iter()
                .map(|r| {
                    Resource::builder()
                        .r#type(&r.r#type)
                        .id(&r.id)
                        .partition(r.partition.as_str().into())
                        .region(&r.region)
                        .build()
                })
                .collect(),
        ))
        .compliance(compliance.build())
        .record_state(match f.record_state {
            asff::RecordState::Active => RecordState::Active,
            asff::RecordState::Archived => RecordState::Archived,
        });
    if !f.product_fields.is_empty() {
        finding = finding.set_product_fields(Some(f.product_fields.clone().into_iter().collect()));
    }
    if let Some(remediation) = &f.remediation {
        let recommendation = Recommendation::builder()
            .text(&remediation.recommendation.text)
            .set_url(remediation.recommendation.url.clone())
            .build();
        finding = finding.remediation(Remediation::builder().recommendation(recommendation).build());
    }
    if let Some(workflow) = &f.workflow {
        let status = match workflow.status {
            asff::WorkflowStatus::New => WorkflowStatus::New,
            asff::WorkflowStatus::Notified => WorkflowStatus::Notified,
            asff::WorkflowStatus::Suppressed => WorkflowStatus::Suppressed,
            asff::WorkflowStatus::Resolved => WorkflowStatus::Resolved,
        };
        finding = finding.workflow(Workflow::builder().status(status).build());
    }
    if let Some(note) = &f.note {
        finding = finding.note(
            Note::builder()
                .text(&note.text)
                .updated_by(&note.updated_by)
                .updated_at(&note.updated_at)
                .build(),
        );
    }
    finding.build()
}

#[cfg(test)]
mod tests {
    use super::{format_millis, next_update};
    use aws_sdk_securityhub::types::AwsSecurityFinding;

    #[test]
    fn an_update_is_later_than_the_finding_it_updates() {
        let now = 1_764_748_800_000;
        assert_eq!(next_update(now, None), "2025-12-03T08:00:00.000Z");
        let later = AwsSecurityFinding::builder()
            .updated_at("2025-12-03T08:00:05.250Z")
            .build();
        assert_eq!(next_update(now, Some(&later)), "2025-12-03T08:00:05.251Z");
        let earlier = AwsSecurityFinding::builder().updated_at("2025-12-01T00:00:00Z").build();
        assert_eq!(next_update(now, Some(&earlier)), "2025-12-03T08:00:00.000Z");
        assert_eq!(format_millis(now + 7), "2025-12-03T08:00:00.007Z");
    }
}
