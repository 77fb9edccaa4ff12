//! Two reports compared, per control: what is newly open, what was resolved, what is still open.
//! Open means FAIL or UNKNOWN. A result missing from the newer report is listed as such, never as
//! resolved: the resource may be gone, or the newer scan may not have covered it. Results are matched
//! by their whole identity (control, resource, account, region), so a shared VPC's result in its
//! owner's account and the one in a participant's account never stand for each other.

use netaudit_checks::{Finding, Priority, ResultKey, Status};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffEntry {
    pub resource_arn: String,
    pub account_id: String,
    pub region: String,
    /// The status in the older report, if it had this result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Status>,
    /// The status in the newer report, if it has this result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Status>,
    /// The priority in the newer report, or in the older one when the newer lacks the result.
    pub priority: Priority,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ControlDiff {
    pub control: String,
    /// Open now, and not open before.
    pub new: Vec<DiffEntry>,
    /// Open before; now PASS, NOT_APPLICABLE or MUTED.
    pub resolved: Vec<DiffEntry>,
    /// Open in both.
    pub still_open: Vec<DiffEntry>,
    /// Open before, and absent from the newer report.
    pub missing: Vec<DiffEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReportDiff {
    pub controls: Vec<ControlDiff>,
}

impl ReportDiff {
    pub fn new_count(&self) -> usize {
        self.controls.iter().map(|c| c.new.len()).sum()
    }
    pub fn resolved_count(&self) -> usize {
        self.controls.iter().map(|c| c.resolved.len()).sum()
    }
    pub fn still_open_count(&self) -> usize {
        self.controls.iter().map(|c| c.still_open.len()).sum()
    }
    pub fn missing_count(&self) -> usize {
        self.controls.iter().map(|c| c.missing.len()).sum()
    }

    /// Keep the entries with a status the filter selects, before or after; an empty control goes.
    pub fn retain_statuses(&mut self, statuses: &[Status]) {
        if statuses.is_empty() {
            return;
        }
        let keeps = |e: &DiffEntry| [e.before, e.after].into_iter().flatten().any(|s| statuses.contains(&s));
        for c in &mut self.controls {
            for entries in [&mut c.new, &mut c.resolved, &mut c.still_open, &mut c.missing] {
                entries.retain(keeps);
            }
        }
        self.controls.retain(|c| !c.is_empty());
    }
}

impl ControlDiff {
    /// No entry in any list: nothing to show for the control.
    fn is_empty(&self) -> bool {
        self.new.is_empty() && self.resolved.is_empty() && self.still_open.is_empty() && self.missing.is_empty()
    }
}

fn is_open(s: Status) -> bool {
    matches!(s, Status::Fail | Status::Unknown)
}

/// Compare `old` with `new`, keyed by each result's identity.
pub fn diff(old: &[Finding], new: &[Finding]) -> ReportDiff {
    let before: BTreeMap<ResultKey, &Finding> = old.iter().map(|f| (f.key(), f)).collect();
    let after: BTreeMap<ResultKey, &Finding> = new.iter().map(|f| (f.key(), f)).collect();
    let mut controls: BTreeMap<String, ControlDiff> = BTreeMap::new();
    let entry = |f: &Finding, b: Option<&Finding>, a: Option<&Finding>| DiffEntry {
        resource_arn: f.resource_arn.clone(),
        account_id: f.account_id.clone(),
        region: f.region.clone(),
        before: b.map(|x| x.status),
        after: a.map(|x| x.status),
        priority: a.unwrap_or(f).priority,
        reason: a.unwrap_or(f).reason.clone(),
    };
    for (k, b) in &before {
        let a = after.get(k).copied();
        let d = controls.entry(k.control.clone()).or_insert_with(|| ControlDiff {
            control: k.control.clone(),
            ..ControlDiff::default()
        });
        match a {
            _ if !is_open(b.status) => {}
            None => d.missing.push(entry(b, Some(b), None)),
            Some(a) if is_open(a.status) => d.still_open.push(entry(b, Some(b), Some(a))),
            Some(a) => d.resolved.push(entry(b, Some(b), Some(a))),
        }
    }
    for (k, a) in &after {
        let b = before.get(k).copied();
        if is_open(a.status) && !b.is_some_and(|b| is_open(b.status)) {
            let d = controls.entry(k.control.clone()).or_insert_with(|| ControlDiff {
                control: k.control.clone(),
                ..ControlDiff::default()
            });
            d.new.push(entry(a, b, Some(a)));
        }
    }
    // What to fix first comes first within each list; otherwise in identity order.
    for c in controls.values_mut() {
        for entries in [&mut c.new, &mut c.resolved, &mut c.still_open, &mut c.missing] {
            entries.sort_by_key(|e| e.priority);
        }
    }
    ReportDiff {
        controls: controls.into_values().filter(|c| !c.is_empty()).collect(),
    }
}

fn status_text(s: Option<Status>) -> &'static str {
    s.map_or("-", Status::as_str)
}

/// The diff for a terminal.
pub fn render_table(d: &ReportDiff, out: &mut dyn Write) -> io::Result<()> {
    for c in &d.controls {
        writeln!(
            out,
            "{}  new {} · resolved {} · still open {} · missing {}",
            c.control,
            c.new.len(),
            c.resolved.len(),
            c.still_open.len(),
            c.missing.len()
        )?;
        for (label, entries) in [
            ("NEW", &c.new),
            ("RESOLVED", &c.resolved),
            ("OPEN", &c.still_open),
            ("MISSING", &c.missing),
        ] {
            for e in entries {
                writeln!(
                    out,
                    "  {label:<8}  {:<8}  {:<7} -> {:<14}  {}  (account {}, {})  {}",
                    e.priority.as_str(),
                    status_text(e.before),
                    status_text(e.after),
                    e.resource_arn,
                    e.account_id,
                    e.region,
                    e.reason
                )?;
            }
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "Totals: new {} · resolved {} · still open {} · missing from the newer report {}",
        d.new_count(),
        d.resolved_count(),
        d.still_open_count(),
        d.missing_count()
    )
}
