//! Compliance rollups: a report limited to one framework, with each of its requirements' status
//! over the resources its controls evaluated.

use crate::model::natural_key;
use crate::{Counts, ScanReport};
use netaudit_checks::Status;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One framework's requirements, as a scan decided them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkRollup {
    pub framework: String,
    pub requirements: Vec<RequirementRollup>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementRollup {
    pub requirement: String,
    /// FAIL when any resource fails it, else UNKNOWN when any is unknown, else PASS when any passes;
    /// NOT_APPLICABLE or MUTED when that is all there is.
    pub status: Status,
    /// The controls mapped to it, in the report's order.
    pub controls: Vec<String>,
    /// Resources per status (a resource's status is the worst its controls gave it).
    pub counts: Counts,
    pub resources: Vec<RequirementResource>,
}

/// A resource under a requirement: its identity, and the controls that decided its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementResource {
    pub resource_arn: String,
    pub resource_id: String,
    pub account_id: String,
    pub region: String,
    pub status: Status,
    pub controls: Vec<String>,
}

/// Worst first: what decides a requirement or a resource under it.
fn weight(status: Status) -> u8 {
    match status {
        Status::Fail => 4,
        Status::Unknown => 3,
        Status::Pass => 2,
        Status::Muted => 1,
        Status::NotApplicable => 0,
    }
}

/// The frameworks a report's controls map to, each once, in name order.
pub fn frameworks(report: &ScanReport) -> Vec<String> {
    let mut names: Vec<String> = report
        .controls
        .iter()
        .flat_map(|c| c.frameworks.iter().map(|f| f.framework.clone()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The framework `asked` names: its full name (any case), or a part of one name only
/// (`800-53`, `cis v5`). Words of the part may be in any order.
pub fn resolve(asked: &str, known: &[String]) -> Result<String, String> {
    let asked_lower = asked.trim().to_lowercase();
    if let Some(exact) = known.iter().find(|k| k.to_lowercase() == asked_lower) {
        return Ok(exact.clone());
    }
    let words: Vec<&str> = asked_lower.split_whitespace().collect();
    let matching: Vec<&String> = known
        .iter()
        .filter(|k| {
            let name = k.to_lowercase();
            !words.is_empty() && words.iter().all(|w| name.contains(w))
        })
        .collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!(
            "no control of this report maps to a framework named {asked:?}; known: {}",
            known.join("; ")
        )),
        many => Err(format!(
            "{asked:?} names {} frameworks: {}; give more of the name",
            many.len(),
            many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; ")
        )),
    }
}

impl ScanReport {
    /// Keep the controls mapped to `framework` (as [`resolve`] names it) and their results, and
    /// add the per-requirement rollup. Coverage stays as it was: gaps may hide any requirement.
    pub fn limit_to_framework(&mut self, asked: &str) -> Result<(), String> {
        let framework = resolve(asked, &frameworks(self))?;
        let mut requirements: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for control in &self.controls {
            for mapping in control.frameworks.iter().filter(|f| f.framework == framework) {
                let controls = requirements.entry(mapping.requirement.clone()).or_default();
                if !controls.contains(&control.id) {
                    controls.push(control.id.clone());
                }
            }
        }
        self.controls
            .retain(|c| requirements.values().any(|ids| ids.contains(&c.id)));
        let kept: Vec<&str> = self.controls.iter().map(|c| c.id.as_str()).collect();
        self.results.retain(|f| kept.contains(&f.control.as_str()));
        self.recount();

        let mut rollups: Vec<RequirementRollup> = requirements
            .into_iter()
            .map(|(requirement, controls)| self.requirement(requirement, controls))
            .collect();
        rollups.sort_by_key(|r| natural_key(&r.requirement));
        self.framework = Some(FrameworkRollup {
            framework,
            requirements: rollups,
        });
        Ok(())
    }

    fn requirement(&self, requirement: String, controls: Vec<String>) -> RequirementRollup {
        // Per resource identity: the worst status its controls gave it, and which controls did.
        let mut resources: BTreeMap<(String, String, String), RequirementResource> = BTreeMap::new();
        for f in self.results.iter().filter(|f| controls.contains(&f.control)) {
            let key = (f.resource_arn.clone(), f.account_id.clone(), f.region.clone());
            let entry = resources.entry(key).or_insert_with(|| RequirementResource {
                resource_arn: f.resource_arn.clone(),
                resource_id: f.resource_id.clone(),
                account_id: f.account_id.clone(),
                region: f.region.clone(),
                status: f.status,
                controls: vec![],
            });
            match weight(f.status).cmp(&weight(entry.status)) {
                std::cmp::Ordering::Greater => {
                    entry.status = f.status;
                    entry.controls = vec![f.control.clone()];
                }
                std::cmp::Ordering::Equal => {
                    if !entry.controls.contains(&f.control) {
                        entry.controls.push(f.control.clone());
                    }
                }
                std::cmp::Ordering::Less => {}
            }
        }
        let mut counts = Counts::default();
        let mut resources: Vec<RequirementResource> = resources.into_values().collect();
        resources.sort_by(|a, b| {
            weight(b.status).cmp(&weight(a.status)).then_with(|| {
                (&a.account_id, &a.region, &a.resource_id).cmp(&(&b.account_id, &b.region, &b.resource_id))
            })
        });
        for r in &resources {
            counts.add(r.status);
        }
        let status = resources
            .iter()
            .map(|r| r.status)
            .max_by_key(|s| weight(*s))
            .unwrap_or(Status::NotApplicable);
        // The report's order of controls.
        let mut controls = controls;
        controls.sort_by_key(|id| self.controls.iter().position(|c| &c.id == id));
        RequirementRollup {
            requirement,
            status,
            controls,
            counts,
            resources,
        }
    }
}
