//! Field values, and the gaps that make a value unknown.

use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// Why something could not be read. Shared (`Arc`) by every value it made unknown.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Gap {
    pub kind: GapKind,
    /// Account the read was for; empty when not tied to one account.
    pub account: String,
    /// Region the read was for; `None` for account-wide reads.
    pub region: Option<String>,
    /// The API call, as `service:Operation` (e.g. `ec2:DescribeFlowLogs`).
    pub api: String,
    /// The AWS error code (`AccessDenied`, `UnauthorizedOperation`, …) or netaudit's own
    /// (`MissingEvidence`, `MalformedEvidence`, `NotCollected`, `NotReported`).
    pub code: String,
    pub message: String,
    /// The evidence file the gap was found in, when there is one.
    pub source: Option<String>,
}

/// Broad classes of gap, for grouping in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// The API call failed (its error was recorded).
    ApiError,
    /// The evidence for this call is not there.
    Missing,
    /// The evidence is there but could not be parsed.
    Malformed,
    /// A reference points into an account or region that was not collected.
    NotCollected,
    /// AWS answered, but left this value out (e.g. tunnel telemetry while provisioning).
    NotReported,
    /// Infrastructure as code: the value is decided by the deploy (an id, a variable without a
    /// value, a `count` that depends on another resource). The message names the expression.
    NotKnownBeforeDeploy,
}

impl Gap {
    /// A value or an existence that only the deploy decides; `why` names the expression, `source`
    /// is where it is written (`file:line`).
    pub fn not_known_before_deploy(why: impl Into<String>, source: Option<String>) -> Gap {
        Gap {
            kind: GapKind::NotKnownBeforeDeploy,
            account: String::new(),
            region: None,
            api: "iac".into(),
            code: "UnknownBeforeDeploy".into(),
            message: why.into(),
            source,
        }
    }
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.api, self.code)?;
        match (&self.account.is_empty(), &self.region) {
            (false, Some(r)) => write!(f, " in {}/{}", self.account, r)?,
            (false, None) => write!(f, " in {}", self.account)?,
            (true, Some(r)) => write!(f, " in {r}")?,
            (true, None) => {}
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

/// A field value. `Null` is a known absence; `Unknown` is a value that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Unknown(Arc<Gap>),
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<String>),
}

impl Value {
    pub fn opt_str(v: Option<&str>) -> Value {
        v.map_or(Value::Null, |s| Value::Str(s.to_owned()))
    }
    pub fn opt_int(v: Option<i64>) -> Value {
        v.map_or(Value::Null, Value::Int)
    }
    pub fn opt_bool(v: Option<bool>) -> Value {
        v.map_or(Value::Null, Value::Bool)
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }
}
