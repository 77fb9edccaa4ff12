//! The report document.

use netaudit_checks::{Control, Finding, GapRef, Severity, Status};
use netaudit_model::Graph;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Bumped on any incompatible change to the JSON document.
pub const SCHEMA_VERSION: u32 = 4;

/// The oldest report version `diff` still reads (version 1 carries no remedies, so it cannot be planned from).
pub const OLDEST_READABLE_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub unknown: usize,
    pub not_applicable: usize,
    pub muted: usize,
}

impl Counts {
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Pass => self.pass += 1,
            Status::Fail => self.fail += 1,
            Status::Unknown => self.unknown += 1,
            Status::NotApplicable => self.not_applicable += 1,
            Status::Muted => self.muted += 1,
        }
    }
    pub fn get(&self, status: Status) -> usize {
        match status {
            Status::Pass => self.pass,
            Status::Fail => self.fail,
            Status::Unknown => self.unknown,
            Status::NotApplicable => self.not_applicable,
            Status::Muted => self.muted,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ControlSummary {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub category: String,
    pub counts: Counts,
    /// What passes and what fails, in one sentence.
    #[serde(default)]
    pub summary: String,
    /// The kind of resource the control evaluates (`AWS::EC2::VPC`).
    #[serde(default)]
    pub resource_type: String,
    /// The AWS Config managed rule the control follows, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_config_rule: Option<String>,
    /// The framework requirements the control maps to, each with its source.
    #[serde(default)]
    pub frameworks: Vec<netaudit_checks::Framework>,
    /// How to fix a FAIL in the console, in a few steps.
    #[serde(default)]
    pub remediation: String,
    #[serde(default)]
    pub references: Vec<String>,
    /// The control's documentation as `netaudit explain` prints it (Markdown).
    #[serde(default)]
    pub help: String,
}

impl ControlSummary {
    /// The control's summary with `counts` of its results.
    pub fn of(control: &Control, counts: Counts) -> ControlSummary {
        let file = &control.file;
        ControlSummary {
            id: control.id().to_owned(),
            title: file.title.clone(),
            severity: file.severity,
            category: file.category.as_str().to_owned(),
            counts,
            summary: file.summary.clone(),
            resource_type: control.kind.def().type_name.to_owned(),
            aws_config_rule: file.aws_config.as_ref().map(|rule| rule.rule.clone()),
            frameworks: file.frameworks.clone(),
            remediation: file.remediation.console.trim().to_owned(),
            references: file.references.clone(),
            help: netaudit_checks::explain(control),
        }
    }
}

/// A gap as the coverage section lists it: the same shape as a finding's gaps.
pub type CoverageGap = GapRef;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionScope {
    pub account: String,
    pub regions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisabledRegion {
    pub account: String,
    pub region: String,
    pub opt_in_status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Coverage {
    /// True when every result was decided, no error occurred and every account's region list was read.
    pub complete: bool,
    pub accounts: Vec<String>,
    /// Every read that failed or is missing, and every value AWS did not report.
    pub gaps: Vec<CoverageGap>,
    /// Regions not enabled for an account: nothing there to evaluate.
    #[serde(default)]
    pub disabled_regions: Vec<DisabledRegion>,
    /// Accounts whose scan was limited to some regions (`--regions`): the others were not part of it.
    #[serde(default)]
    pub region_scope: Vec<RegionScope>,
    /// Problems with the input or the controls themselves (bad files, bad queries, unknown ids).
    #[serde(default)]
    pub errors: Vec<String>,
}

/// What the scan found, as the exit code reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every result PASS, NOT_APPLICABLE or MUTED, and coverage complete.
    Clean,
    /// At least one FAIL; coverage complete.
    Failures,
    /// No FAIL, but something could not be read or evaluated.
    Incomplete,
    /// FAILs, and something could not be read or evaluated.
    FailuresAndIncomplete,
}

impl Outcome {
    pub fn of(failures: bool, complete: bool) -> Outcome {
        match (failures, complete) {
            (false, true) => Outcome::Clean,
            (true, true) => Outcome::Failures,
            (false, false) => Outcome::Incomplete,
            (true, false) => Outcome::FailuresAndIncomplete,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanReport {
    pub schema_version: u32,
    pub tool: Tool,
    /// When the scan ran (RFC 3339, UTC); absent from reports of schema version 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanned_at: Option<String>,
    /// What was scanned; absent from reports of schema version 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ScanSource>,
    pub outcome: Outcome,
    pub totals: Counts,
    pub controls: Vec<ControlSummary>,
    /// Control parameters set for this scan (`--param`), per control id; defaults are not listed.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub parameters: netaudit_checks::Params,
    pub results: Vec<Finding>,
    pub coverage: Coverage,
    /// What the exceptions did, when a file was given or the scanned code holds inline ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceptions: Option<netaudit_checks::ExceptionsSummary>,
    /// With `--framework`: the framework's requirements, each with its status over the resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<crate::rollup::FrameworkRollup>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
    /// The built-in catalogue: its number of controls and fingerprint (as `netaudit --version` shows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalogue: Option<String>,
}

/// What a scan read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanSource {
    pub kind: SourceKind,
    /// The input in the words of the command line (`--evidence examples/estate`, `--profile prod`).
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Live AWS APIs.
    Aws,
    /// Collected evidence files, read offline.
    Evidence,
    /// Infrastructure as code, before deploy.
    Iac,
}

impl ScanReport {
    /// Assemble the report. `errors` are input and control problems met along the way.
    pub fn new(controls: &[&Control], mut findings: Vec<Finding>, graph: &Graph, errors: Vec<String>) -> ScanReport {
        // What to fix first comes first; otherwise in the order the controls produced them.
        netaudit_checks::order_by_priority(&mut findings);
        let mut totals = Counts::default();
        let summaries = controls
            .iter()
            .map(|c| {
                let mut counts = Counts::default();
                for f in findings.iter().filter(|f| f.control == c.id()) {
                    counts.add(f.status);
                }
                ControlSummary::of(c, counts)
            })
            .collect::<Vec<ControlSummary>>();
        let mut summaries = summaries;
        sort_controls(&mut summaries);
        for f in &findings {
            totals.add(f.status);
        }
        // Every gap met while reading, and every gap that made a result UNKNOWN.
        let mut gaps: BTreeSet<CoverageGap> = graph.gaps().iter().map(|g| CoverageGap::from(g.as_ref())).collect();
        for f in &findings {
            gaps.extend(f.gaps.iter().cloned());
        }
        let accounts: BTreeSet<String> = graph
            .of_kind(netaudit_model::Kind::Account)
            .iter()
            .map(|n| graph.asset(*n).id.clone())
            .collect();
        // Complete: every result was decided, nothing went wrong, and every account's region list
        // was read (otherwise a whole region could be missing unseen). Gaps that decided nothing
        // are still listed.
        let complete = errors.is_empty() && totals.unknown == 0 && graph.region_list_gaps().is_empty();
        let outcome = Outcome::of(totals.fail > 0, complete);
        ScanReport {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "netaudit".to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                catalogue: Some(netaudit_checks::builtin_version()),
            },
            scanned_at: None,
            source: None,
            outcome,
            totals,
            controls: summaries,
            parameters: netaudit_checks::Params::new(),
            results: findings,
            coverage: Coverage {
                complete,
                accounts: accounts.into_iter().collect(),
                gaps: gaps.into_iter().collect(),
                disabled_regions: graph
                    .disabled_regions()
                    .iter()
                    .map(|d| DisabledRegion {
                        account: d.account.clone(),
                        region: d.region.clone(),
                        opt_in_status: d.opt_in_status.clone(),
                    })
                    .collect(),
                region_scope: graph
                    .region_scopes()
                    .iter()
                    .map(|(account, regions)| RegionScope {
                        account: account.clone(),
                        regions: regions.clone(),
                    })
                    .collect(),
                errors,
            },
            exceptions: None,
            framework: None,
        }
    }
}

/// Most severe first; within a severity by id in natural order (EC2.6, EC2.20, EC2.171).
pub fn sort_controls(controls: &mut [ControlSummary]) {
    controls.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| natural_key(&a.id).cmp(&natural_key(&b.id)))
    });
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Chunk {
    Number(u64),
    Text(String),
}

/// A key that orders ids and requirement numbers naturally (EC2.6 < EC2.20, AU-6(3) < AU-12).
pub fn natural_order_key(id: &str) -> impl Ord {
    natural_key(id)
}

/// An id as runs of digits (compared as numbers) and of other characters (compared without case).
pub(crate) fn natural_key(id: &str) -> Vec<Chunk> {
    let mut chunks = vec![];
    let mut rest = id;
    while let Some(first) = rest.chars().next() {
        let digits = first.is_ascii_digit();
        let end = rest.find(|c: char| c.is_ascii_digit() != digits).unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        chunks.push(match run.parse() {
            Ok(n) if digits => Chunk::Number(n),
            _ => Chunk::Text(run.to_lowercase()),
        });
        rest = tail;
    }
    chunks
}

/// Which results to show: each list empty means "any".
#[derive(Debug, Clone, Default)]
pub struct ResultFilter {
    pub statuses: Vec<Status>,
    pub severities: Vec<Severity>,
    pub regions: Vec<String>,
    pub accounts: Vec<String>,
}

impl ResultFilter {
    pub fn is_empty(&self) -> bool {
        self.statuses.is_empty() && self.severities.is_empty() && self.regions.is_empty() && self.accounts.is_empty()
    }

    /// Whether `f`, of a control with `severity`, is selected (statuses included).
    pub fn keeps(&self, f: &Finding, severity: Option<Severity>) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&f.status)) && self.keeps_scope(f, severity)
    }

    /// Whether `f` is selected by severity, account and region, whatever its status.
    pub fn keeps_scope(&self, f: &Finding, severity: Option<Severity>) -> bool {
        (self.severities.is_empty() || severity.is_some_and(|s| self.severities.contains(&s)))
            && self.keeps_place(&f.account_id, Some(f.region.as_str()))
    }

    /// A row for every region (`*`: the region list is unknown) may stand for the ones asked for.
    fn keeps_place(&self, account: &str, region: Option<&str>) -> bool {
        (self.accounts.is_empty() || self.accounts.iter().any(|a| a == account))
            && (self.regions.is_empty() || region.is_none_or(|r| r == "*" || self.regions.iter().any(|want| want == r)))
    }
}

impl ScanReport {
    /// Read a report written by `scan --format json` to render it again. Reports of schema version
    /// 2 lack the controls' documentation and the scan's time and source; they render without them.
    pub fn parse(text: &str) -> Result<ScanReport, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not a netaudit JSON report: {e}"))?;
        let version = value.get("schema_version").and_then(serde_json::Value::as_u64);
        match version {
            Some(v) if (2..=u64::from(SCHEMA_VERSION)).contains(&v) => {}
            Some(v) => {
                return Err(format!(
                    "report schema version {v} (this netaudit renders 2 to {SCHEMA_VERSION})"
                ))
            }
            None => return Err("not a netaudit JSON report: no schema_version".to_owned()),
        }
        serde_json::from_value(value).map_err(|e| format!("not a netaudit JSON report: {e}"))
    }

    /// The summary of the control with this id.
    pub fn control(&self, id: &str) -> Option<&ControlSummary> {
        self.controls.iter().find(|c| c.id == id)
    }

    /// Keep the results the filter selects, with counts and totals of what is kept. Coverage keeps
    /// its gaps in the accounts and regions selected, and stays incomplete if the scan was: a
    /// filter never makes an unread result look decided.
    pub fn retain(&mut self, filter: &ResultFilter) {
        if filter.is_empty() {
            return;
        }
        let controls = &self.controls;
        let severity_of = |id: &str| controls.iter().find(|c| c.id == id).map(|c| c.severity);
        self.results.retain(|f| filter.keeps(f, severity_of(&f.control)));
        if !filter.severities.is_empty() {
            self.controls.retain(|c| filter.severities.contains(&c.severity));
        }
        self.coverage
            .gaps
            .retain(|g| g.account.is_empty() || filter.keeps_place(&g.account, g.region.as_deref()));
        self.recount();
    }

    /// Counts, totals and outcome of the results kept.
    pub(crate) fn recount(&mut self) {
        self.totals = Counts::default();
        for c in &mut self.controls {
            c.counts = Counts::default();
        }
        for f in &self.results {
            self.totals.add(f.status);
            if let Some(c) = self.controls.iter_mut().find(|c| c.id == f.control) {
                c.counts.add(f.status);
            }
        }
        self.outcome = Outcome::of(self.totals.fail > 0, self.coverage.complete);
    }
}

#[cfg(test)]
mod tests {
    use super::natural_key;

    #[test]
    fn ids_sort_in_natural_order() {
        let mut ids = [
            "EC2.171",
            "EC2.20",
            "EC2.6",
            "CloudWatch.16",
            "ec2.51",
            "CIS.VPC.FLOWLOGS",
        ];
        ids.sort_by_key(|id| natural_key(id));
        assert_eq!(
            ids,
            [
                "CIS.VPC.FLOWLOGS",
                "CloudWatch.16",
                "EC2.6",
                "EC2.20",
                "ec2.51",
                "EC2.171"
            ]
        );
    }
}

/// The part of a saved JSON report that planning and diffs read back: its results, the
/// parameters they were judged with, and the input problems the scan met.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedReport {
    pub schema_version: u32,
    pub results: Vec<Finding>,
    #[serde(default)]
    pub parameters: netaudit_checks::Params,
    #[serde(default)]
    pub coverage: SavedCoverage,
    /// The controls the scan ran, for their severity.
    #[serde(default)]
    pub controls: Vec<SavedControl>,
}

/// A control as a saved report lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedControl {
    pub id: String,
    pub severity: Severity,
}

/// What a saved report's coverage says that planning needs.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SavedCoverage {
    #[serde(default)]
    pub errors: Vec<String>,
}

impl SavedReport {
    /// Keep the results the filter selects by severity, account and region, whatever their status
    /// (a diff selects statuses on both sides of a change, not on one report).
    pub fn retain_scope(&mut self, filter: &ResultFilter, severity_of: impl Fn(&str) -> Option<Severity>) {
        self.results.retain(|f| filter.keeps_scope(f, severity_of(&f.control)));
    }

    /// Parse a report written by `scan --format json`, refusing versions this netaudit cannot read.
    pub fn parse(text: &str) -> Result<SavedReport, String> {
        let report: SavedReport = serde_json::from_str(text).map_err(|e| format!("not a netaudit JSON report: {e}"))?;
        if !(OLDEST_READABLE_SCHEMA_VERSION..=SCHEMA_VERSION).contains(&report.schema_version) {
            return Err(format!(
                "report schema version {} (this netaudit reads {OLDEST_READABLE_SCHEMA_VERSION} to {SCHEMA_VERSION})",
                report.schema_version
            ));
        }
        Ok(report)
    }

    /// Whether the report records each FAIL's remedy (schema version 2 on), which planning needs.
    pub fn records_remedies(&self) -> bool {
        self.schema_version >= 2
    }
}
