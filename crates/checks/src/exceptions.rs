//! Exceptions: accepted failures, each with an owner, a reason, a ticket and an expiry date.
//!
//! The file is kept under version control next to the code it excuses and validated strictly:
//! unknown keys, unknown controls, empty owners and malformed dates are errors that name the line.
//! An exception matches one control and either one exact ARN or an anchored `*` pattern over the
//! whole ARN, never a substring. A matched FAIL becomes MUTED and stays in every report; an expired
//! exception no longer mutes and is reported; an exception that mutes nothing is stale. UNKNOWN is
//! never muted: an exception accepts a known failure, it does not excuse what could not be read.

use crate::catalogue::Catalogue;
use crate::results::{Finding, Status};
use netaudit_model::{declared_arn, DeclaredException, SourcePoint};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Range;

/// A calendar date (the expiry), compared as year, month, day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// Today in UTC, from the system clock.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_days_since_epoch((secs / 86_400) as i64)
    }

    /// The civil date `days` after 1970-01-01 (Howard Hinnant's algorithm).
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Date { year, month, day }
    }

    /// A date that exists on the calendar (`2027-02-31` does not).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days_in_month).contains(&day).then_some(Date { year, month, day })
    }

    /// Parse `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        let mut parts = text.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        if ![y, m, d].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) {
            return None;
        }
        Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a YYYY-MM-DD date")))
    }
}

/// Whether an exception still mutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionState {
    Active,
    Expired,
}

/// Where an exception is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionOrigin {
    /// In the `--exceptions` file.
    #[default]
    File,
    /// On the resource, in the infrastructure code (a comment or the resource's metadata).
    Inline,
}

impl ExceptionOrigin {
    pub fn is_file(&self) -> bool {
        *self == ExceptionOrigin::File
    }
}

/// The exception attached to a result it matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionRef {
    pub state: ExceptionState,
    pub owner: String,
    pub reason: String,
    pub ticket: String,
    pub expires: Date,
    /// `file:line` of the exception.
    pub source: String,
    #[serde(default, skip_serializing_if = "ExceptionOrigin::is_file")]
    pub origin: ExceptionOrigin,
}

/// One exception, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    pub control: String,
    pub resource: ResourceMatch,
    /// `all`: the pattern deliberately covers every resource of the control.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub covers_all: bool,
    pub owner: String,
    pub reason: String,
    pub ticket: String,
    pub expires: Date,
    /// `file:line`, for every message about it.
    pub source: String,
    #[serde(default, skip_serializing_if = "ExceptionOrigin::is_file")]
    pub origin: ExceptionOrigin,
}

/// How an exception names its resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceMatch {
    /// Exactly this ARN.
    Exact(String),
    /// The whole ARN matches; `*` stands for any run of characters.
    Pattern(String),
    /// The assets one resource declares in infrastructure code (each instance, each tunnel), for an
    /// exception written on that resource; shown as the resource.
    Declared { resource: String, arns: Vec<String> },
}

impl Serialize for ResourceMatch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResourceMatch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ResourceMatch, D::Error> {
        let text = String::deserialize(d)?;
        Ok(ResourceMatch::from_text(&text))
    }
}

impl ResourceMatch {
    /// An exact ARN, or a pattern when it holds `*`.
    pub fn from_text(text: &str) -> ResourceMatch {
        if text.contains('*') {
            ResourceMatch::Pattern(text.to_owned())
        } else {
            ResourceMatch::Exact(text.to_owned())
        }
    }

    pub fn matches(&self, arn: &str) -> bool {
        match self {
            ResourceMatch::Exact(a) => a == arn,
            ResourceMatch::Pattern(p) => glob_matches(p.as_bytes(), arn.as_bytes()),
            ResourceMatch::Declared { arns, .. } => arns.iter().any(|a| a == arn),
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            ResourceMatch::Exact(s) | ResourceMatch::Pattern(s) => s,
            ResourceMatch::Declared { resource, .. } => resource,
        }
    }
}

/// Anchored glob match with `*` only, in linear time (greedy with one backtrack point).
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// An error in an exceptions file, at a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionsError {
    pub file: String,
    pub line: Option<usize>,
    /// Given for exceptions written in infrastructure code.
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ExceptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "{}:{line}:{column}: {}", self.file, self.message),
            (Some(line), None) => write!(f, "{}:{line}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ExceptionsError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    exception: Vec<toml::Spanned<RawException>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    control: toml::Spanned<String>,
    resource: toml::Spanned<String>,
    owner: toml::Spanned<String>,
    reason: toml::Spanned<String>,
    ticket: toml::Spanned<String>,
    expires: toml::Spanned<toml::Value>,
    scope: Option<toml::Spanned<String>>,
}

fn line_of(text: &str, span: Range<usize>) -> usize {
    text.as_bytes()[..span.start.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A term as written, and where: every message about it names the place.
struct Written<'t> {
    text: &'t str,
    line: usize,
    column: Option<usize>,
}

/// The terms every exception has, wherever it is written.
struct TermsWritten<'t> {
    control: Written<'t>,
    owner: Written<'t>,
    reason: Written<'t>,
    ticket: Written<'t>,
    expires: Written<'t>,
}

struct Terms {
    control: String,
    owner: String,
    reason: String,
    ticket: String,
    expires: Date,
}

/// The rules every exception follows, in a file or in the code: a known control, a non-empty
/// owner, reason and ticket, an expiry that exists on the calendar. Each problem goes to `error`
/// (line, column, message); `None` when the control or the expiry is unusable.
fn validate_terms(
    written: TermsWritten,
    catalogue: &Catalogue,
    error: &mut dyn FnMut(usize, Option<usize>, String),
) -> Option<Terms> {
    let TermsWritten {
        control,
        owner,
        reason,
        ticket,
        expires,
    } = written;
    let Some(known) = catalogue.get(control.text) else {
        error(
            control.line,
            control.column,
            format!("unknown control `{}`", control.text),
        );
        return None;
    };
    for (name, value) in [("owner", &owner), ("reason", &reason), ("ticket", &ticket)] {
        if value.text.trim().is_empty() {
            error(value.line, value.column, format!("`{name}` must not be empty"));
        }
    }
    let Some(date) = Date::parse(expires.text) else {
        error(
            expires.line,
            expires.column,
            "`expires` must be a date that exists, e.g. expires = 2027-03-31".into(),
        );
        return None;
    };
    Some(Terms {
        control: known.id().to_owned(),
        owner: owner.text.to_owned(),
        reason: reason.text.to_owned(),
        ticket: ticket.text.to_owned(),
        expires: date,
    })
}

/// The keys an exception written in infrastructure code has; all are required.
const INLINE_KEYS: [&str; 5] = ["control", "owner", "ticket", "expires", "reason"];

/// Validate exceptions written on resources in infrastructure code, by the exceptions file's
/// rules. Each stands alone: an invalid one is an error at its file, line and column and mutes
/// nothing, the others still apply. A valid one matches exactly the assets its resource declares.
pub fn inline_exceptions(
    declared: &[DeclaredException],
    catalogue: &Catalogue,
) -> (Vec<Exception>, Vec<ExceptionsError>) {
    let mut out = vec![];
    let mut errors = vec![];
    for d in declared {
        let before = errors.len();
        let mut error = |at: &SourcePoint, message: String| {
            errors.push(ExceptionsError {
                file: at.file.clone(),
                line: Some(at.line),
                column: Some(at.column),
                message,
            });
        };
        for term in d.terms.iter().filter(|t| !INLINE_KEYS.contains(&t.key.as_str())) {
            error(
                &term.at,
                format!(
                    "unknown key `{}`: an exception has {}",
                    term.key,
                    INLINE_KEYS.join(", ")
                ),
            );
        }
        let term = |key: &str| d.terms.iter().find(|t| t.key == key);
        let missing: Vec<&str> = INLINE_KEYS.into_iter().filter(|k| term(k).is_none()).collect();
        if !missing.is_empty() {
            error(
                &d.at,
                format!("exception on {} lacks {}", d.resource, missing.join(", ")),
            );
        }
        let written = |key: &str| {
            term(key).map(|t| Written {
                text: &t.value,
                line: t.at.line,
                column: Some(t.at.column),
            })
        };
        let (Some(control), Some(owner), Some(reason), Some(ticket), Some(expires)) = (
            written("control"),
            written("owner"),
            written("reason"),
            written("ticket"),
            written("expires"),
        ) else {
            continue;
        };
        let terms = validate_terms(
            TermsWritten {
                control,
                owner,
                reason,
                ticket,
                expires,
            },
            catalogue,
            &mut |line, column, message| {
                errors.push(ExceptionsError {
                    file: d.at.file.clone(),
                    line: Some(line),
                    column,
                    message,
                })
            },
        );
        let Some(terms) = terms.filter(|_| errors.len() == before) else {
            continue;
        };
        out.push(Exception {
            control: terms.control,
            resource: ResourceMatch::Declared {
                resource: declared_arn(&d.unit, &d.resource),
                arns: d.addresses.iter().map(|a| declared_arn(&d.unit, a)).collect(),
            },
            covers_all: false,
            owner: terms.owner,
            reason: terms.reason,
            ticket: terms.ticket,
            expires: terms.expires,
            source: format!("{}:{}", d.at.file, d.at.line),
            origin: ExceptionOrigin::Inline,
        });
    }
    (out, errors)
}

/// Parse and validate an exceptions file. Every problem is reported, each with its line; any
/// problem rejects the whole file, so a typo can never silently mute or unmute a result.
pub fn parse_exceptions(file: &str, text: &str, catalogue: &Catalogue) -> Result<Vec<Exception>, Vec<ExceptionsError>> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        vec![ExceptionsError {
            file: file.to_owned(),
            line: Some(e.span().map_or(1, |s| line_of(text, s))),
            column: None,
            message: crate::catalogue::toml_message(&e),
        }]
    })?;
    let mut errors = vec![];
    let mut out = vec![];
    for entry in raw.exception {
        let start = line_of(text, entry.span());
        let raw = entry.into_inner();
        let expires_text = match raw.expires.get_ref() {
            toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt
                .date
                .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))
                .unwrap_or_default(),
            toml::Value::String(s) => s.clone(),
            _ => String::new(),
        };
        fn written<'t>(text: &str, value: &'t toml::Spanned<String>) -> Written<'t> {
            Written {
                text: value.get_ref().as_str(),
                line: line_of(text, value.span()),
                column: None,
            }
        }
        let terms = validate_terms(
            TermsWritten {
                control: written(text, &raw.control),
                owner: written(text, &raw.owner),
                reason: written(text, &raw.reason),
                ticket: written(text, &raw.ticket),
                expires: Written {
                    text: &expires_text,
                    line: line_of(text, raw.expires.span()),
                    column: None,
                },
            },
            catalogue,
            &mut |line, _, message| {
                errors.push(ExceptionsError {
                    file: file.to_owned(),
                    line: Some(line),
                    column: None,
                    message,
                })
            },
        );
        let Some(Terms {
            control,
            owner,
            reason,
            ticket,
            expires,
        }) = terms
        else {
            continue;
        };
        let mut error = |span: Range<usize>, message: String| {
            errors.push(ExceptionsError {
                file: file.to_owned(),
                line: Some(line_of(text, span)),
                column: None,
                message,
            });
        };
        let covers_all = match &raw.scope {
            None => false,
            Some(scope) if scope.get_ref() == "all" => true,
            Some(scope) => {
                error(
                    scope.span(),
                    format!("`scope` may only be \"all\", not `{}`", scope.get_ref()),
                );
                continue;
            }
        };
        let text_resource = raw.resource.get_ref().trim();
        // Infrastructure as code names a resource `<root folder or template>#<address>`.
        let declared_address = text_resource.rsplit_once('#').map(|(_, address)| address);
        let resource = if declared_address.is_some_and(|a| a.chars().all(|c| c == '*')) {
            error(
                raw.resource.span(),
                format!("`{text_resource}` names no address: write `<folder or template>#<address>`"),
            );
            continue;
        } else if !text_resource.starts_with("arn:") && declared_address.is_none() {
            error(
                raw.resource.span(),
                format!(
                    "`resource` must be an ARN, an ARN pattern or `<folder or template>#<address>`, not `{text_resource}`"
                ),
            );
            continue;
        } else {
            ResourceMatch::from_text(text_resource)
        };
        if !covers_all {
            if let Some(kind) = catalogue.get(&control).map(|c| c.kind) {
                if matches_every_resource(&resource, kind) {
                    error(
                        raw.resource.span(),
                        format!(
                            "`{text_resource}` matches every resource of {control} in every account and region: \
                             name the resources, or add scope = \"all\" to mean it"
                        ),
                    );
                    continue;
                }
            }
        }
        out.push(Exception {
            control,
            resource,
            covers_all,
            owner,
            reason,
            ticket,
            expires,
            source: format!("{file}:{start}"),
            origin: ExceptionOrigin::File,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// What happened to each exception in one scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionsSummary {
    /// Exceptions that muted at least one FAIL.
    pub applied: Vec<ExceptionUse>,
    /// Exceptions past their expiry date that matched a FAIL: those FAILs stand.
    pub expired: Vec<ExceptionUse>,
    /// Exceptions that matched no failing result: the gap was fixed, or the exception is wrong.
    pub stale: Vec<ExceptionUse>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionUse {
    pub control: String,
    pub resource: String,
    pub owner: String,
    pub ticket: String,
    pub expires: Date,
    pub source: String,
    #[serde(default, skip_serializing_if = "ExceptionOrigin::is_file")]
    pub origin: ExceptionOrigin,
    /// How many results it matched.
    pub matched: usize,
}

/// Whether a pattern matches any resource of `kind`, whatever its account, region and id.
fn matches_every_resource(resource: &ResourceMatch, kind: netaudit_model::Kind) -> bool {
    let ResourceMatch::Pattern(_) = resource else {
        return false;
    };
    [
        ("000000000000", "us-east-1", "sample-0"),
        ("999999999999", "eu-west-3", "other-9"),
    ]
    .iter()
    .all(|(account, region, id)| resource.matches(&crate::evaluate::sample_arn(kind, account, region, id)))
}

/// Apply exceptions to findings as of `today`: mute matched FAILs of live exceptions, mark the
/// FAILs of expired ones, and report which exceptions were used, expired or stale. An active
/// exception wins over an expired one for the same result, whatever their order in the file.
pub fn apply_exceptions(findings: &mut [Finding], exceptions: &[Exception], today: Date) -> ExceptionsSummary {
    let mut summary = ExceptionsSummary::default();
    let state_of = |ex: &Exception| {
        if today > ex.expires {
            ExceptionState::Expired
        } else {
            ExceptionState::Active
        }
    };
    // Active exceptions first, then expired ones; file order within each.
    let mut ordered: Vec<&Exception> = exceptions
        .iter()
        .filter(|e| state_of(e) == ExceptionState::Active)
        .collect();
    ordered.extend(exceptions.iter().filter(|e| state_of(e) == ExceptionState::Expired));
    for ex in ordered {
        let state = state_of(ex);
        let mut matched = 0;
        for f in findings.iter_mut() {
            if f.control != ex.control || !ex.resource.matches(&f.resource_arn) {
                continue;
            }
            match (f.status, &f.exception) {
                (Status::Fail, None) => {}
                // Already marked by an earlier exception: the first one that matches wins.
                (Status::Fail, Some(_)) => {
                    matched += 1;
                    continue;
                }
                (Status::Muted, _) if state == ExceptionState::Active => {
                    matched += 1;
                    continue;
                }
                // PASS, UNKNOWN (never muted), NOT_APPLICABLE, or muted by an active exception.
                _ => continue,
            }
            matched += 1;
            if state == ExceptionState::Active {
                f.status = Status::Muted;
            }
            f.exception = Some(ExceptionRef {
                state,
                owner: ex.owner.clone(),
                reason: ex.reason.clone(),
                ticket: ex.ticket.clone(),
                expires: ex.expires,
                source: ex.source.clone(),
                origin: ex.origin,
            });
        }
        let used = ExceptionUse {
            control: ex.control.clone(),
            resource: ex.resource.as_str().to_owned(),
            owner: ex.owner.clone(),
            ticket: ex.ticket.clone(),
            expires: ex.expires,
            source: ex.source.clone(),
            origin: ex.origin,
            matched,
        };
        match (matched, state) {
            (0, _) => summary.stale.push(used),
            (_, ExceptionState::Active) => summary.applied.push(used),
            (_, ExceptionState::Expired) => summary.expired.push(used),
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_is_anchored_at_both_ends() {
        let p = ResourceMatch::Pattern("arn:aws:ec2:*:111111111111:vpc/*".into());
        assert!(p.matches("arn:aws:ec2:us-east-1:111111111111:vpc/vpc-1"));
        assert!(!p.matches("arn:aws:ec2:us-east-1:222222222222:vpc/vpc-1"));
        assert!(!p.matches("xarn:aws:ec2:us-east-1:111111111111:vpc/vpc-1"));
        let exact_tail = ResourceMatch::Pattern("arn:aws:ec2:*:vpc/vpc-1".into());
        assert!(!exact_tail.matches("arn:aws:ec2:eu-west-1:1:vpc/vpc-12"));
        assert!(exact_tail.matches("arn:aws:ec2:eu-west-1:1:vpc/vpc-1"));
        assert!(!ResourceMatch::Exact("arn:aws:ec2:r:1:vpc/vpc-1".into()).matches("arn:aws:ec2:r:1:vpc/vpc-12"));
    }

    #[test]
    fn days_since_epoch_become_civil_dates() {
        assert_eq!(Date::from_days_since_epoch(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_days_since_epoch(19_782).to_string(), "2024-02-29");
        assert_eq!(Date::from_days_since_epoch(20_779).to_string(), "2026-11-22");
    }

    #[test]
    fn dates_parse_strictly() {
        assert_eq!(
            Date::parse("2027-03-31").map(|d| d.to_string()),
            Some("2027-03-31".into())
        );
        assert_eq!(Date::parse("2027-3-31"), None);
        assert_eq!(Date::parse("2027-13-01"), None);
        assert_eq!(Date::parse("2027-03-31T00:00:00"), None);
    }
}
