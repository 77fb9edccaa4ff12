//! The result of evaluating one control on one resource.

use netaudit_model::{Gap, GapKind};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Fail,
    Unknown,
    Pass,
    NotApplicable,
    /// Muted by an exception; reported, never hidden.
    Muted,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Fail,
        Status::Unknown,
        Status::Pass,
        Status::NotApplicable,
        Status::Muted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Unknown => "UNKNOWN",
            Status::NotApplicable => "NOT_APPLICABLE",
            Status::Muted => "MUTED",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A gap, as reported with an UNKNOWN finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GapRef {
    pub kind: GapKind,
    pub api: String,
    pub code: String,
    pub account: String,
    pub region: Option<String>,
    pub message: String,
    pub source: Option<String>,
}

impl From<&Gap> for GapRef {
    fn from(g: &Gap) -> GapRef {
        GapRef {
            kind: g.kind,
            api: g.api.clone(),
            code: g.code.clone(),
            account: g.account.clone(),
            region: g.region.clone(),
            message: g.message.clone(),
            source: g.source.clone(),
        }
    }
}

/// A result's identity, the same in every output: (control, resource, account, region). The ARN alone
/// is not enough: a shared VPC has one ARN (its owner's) but a result in the owner's account and
/// another in each participant's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResultKey {
    pub control: String,
    pub resource_arn: String,
    pub account_id: String,
    pub region: String,
}

impl fmt::Display for ResultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} (account {}, {})",
            self.control, self.resource_arn, self.account_id, self.region
        )
    }
}

/// One (control, resource) verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub control: String,
    pub status: Status,
    pub resource_type: String,
    /// The resource id; `*` for a finding that stands for a whole listing that could not be read.
    pub resource_id: String,
    /// The Name tag or the resource's own name, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    pub resource_arn: String,
    pub account_id: String,
    pub region: String,
    /// Why: the failure, the reason it does not apply, or what could not be read.
    pub reason: String,
    /// For FAIL: the values the query selected beyond the common asset fields, as evidence.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub evidence: serde_json::Map<String, serde_json::Value>,
    /// For UNKNOWN: the gaps that hid the answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<GapRef>,
    /// The exception that muted this result, or that would have and has expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<crate::exceptions::ExceptionRef>,
    /// For FAIL: what `netaudit fix` does about it, with the facts the fix needs, from the graph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<crate::remedy::Remedy>,
    /// Where infrastructure as code declares the resource; absent for deployed resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// For a scan of collected evidence: the evidence file and line the resource was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_from: Option<Location>,
    /// How urgently to fix it: internet exposure and production tags (see [`crate::Priority`]).
    #[serde(default)]
    pub priority: crate::priority::Priority,
    /// Why it has that priority: which internet gateway, which tag, what could not be read.
    #[serde(default)]
    pub priority_reasons: Vec<String>,
}

/// A source range: the file (relative to where the scan was asked) and its first and last line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub file: String,
    pub start_line: usize,
    pub end_line: usize,
    /// The CDK construct path (`Network/Vpc/Resource`), for templates CDK synthesized: the name
    /// the code that declares the resource knows it by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub construct_path: Option<String>,
}

impl Finding {
    /// This result's identity.
    pub fn key(&self) -> ResultKey {
        ResultKey {
            control: self.control.clone(),
            resource_arn: self.resource_arn.clone(),
            account_id: self.account_id.clone(),
            region: self.region.clone(),
        }
    }
}
