//! Every control's fixtures: evidence in, the exact verdict per resource out.
//!
//! A fixture is `catalogue/<ID>/fixtures/<name>.toml`:
//!
//! ```toml
//! description = "what the case shows"
//! [params]                      # optional parameter values
//! trafficType = "ALL"
//! [files]                       # evidence files (the offline layout), path → content
//! "111111111111/us-east-1/ec2-describe-vpcs.json" = '''{"Vpcs": [...]}'''
//! [expect]                      # resource id (or ARN, for whole-listing findings) → status
//! "vpc-0a1b2c3d4e5f60001" = "PASS"
//! [reasons]                     # optional: resource → text its reason must contain
//! "vpc-0a1b2c3d4e5f60002" = "no ACTIVE VPC-level flow log"
//! ```
//!
//! The findings of the control must equal `expect` exactly: nothing missing, nothing extra. Every
//! control must have fixtures that make it PASS, FAIL and UNKNOWN, and every fixture folder must
//! belong to a control, so a misspelt folder cannot pass unnoticed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use netaudit_checks::{builtin, evaluate_control, Status};
use netaudit_model::Graph;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    description: String,
    #[serde(default)]
    params: BTreeMap<String, serde_json::Value>,
    files: BTreeMap<String, String>,
    expect: BTreeMap<String, String>,
    #[serde(default)]
    reasons: BTreeMap<String, String>,
}

fn catalogue_dir() -> PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("catalogue")
}

fn fixtures_of(control_dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(control_dir.join("fixtures"))
        .map(|r| {
            r.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn status(name: &str) -> Status {
    match name {
        "PASS" => Status::Pass,
        "FAIL" => Status::Fail,
        "UNKNOWN" => Status::Unknown,
        "NOT_APPLICABLE" => Status::NotApplicable,
        other => panic!("unknown status {other:?} in a fixture"),
    }
}

/// Run one fixture; return the statuses it expects, or a description of the mismatch.
/// A fixture is evidence for a few regions, not a whole account: an account without a region list
/// gets one naming exactly its region folders, and a scope limited to them (as `scan --regions`
/// would record), so the regions it leaves out are outside the scan rather than unread. Fixtures
/// about the region list itself carry their own `ec2-describe-regions` file.
fn with_region_scope(files: &mut BTreeMap<String, Vec<u8>>) {
    let mut regions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in files.keys() {
        let parts: Vec<&str> = path.split('/').collect();
        if let [account, rest @ ..] = parts.as_slice() {
            let set = regions.entry((*account).to_owned()).or_default();
            if let [region, _file] = rest {
                set.insert((*region).to_owned());
            }
        }
    }
    for (account, set) in regions {
        let has_list = ["json", "error"]
            .iter()
            .any(|ext| files.contains_key(&format!("{account}/ec2-describe-regions.{ext}")));
        if has_list || set.is_empty() {
            continue;
        }
        let list: Vec<serde_json::Value> = set
            .iter()
            .map(|r| serde_json::json!({"RegionName": r, "OptInStatus": "opt-in-not-required"}))
            .collect();
        files.insert(
            format!("{account}/ec2-describe-regions.json"),
            serde_json::json!({ "Regions": list }).to_string().into_bytes(),
        );
        files.insert(
            format!("{account}/{}", netaudit_evidence::REGION_SCOPE_FILE),
            serde_json::json!({ "Regions": set }).to_string().into_bytes(),
        );
    }
}

fn run(id: &str, path: &Path) -> Result<BTreeSet<Status>, String> {
    let (catalogue, _) = builtin();
    let control = catalogue.get(id).ok_or_else(|| format!("no control {id}"))?;
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let fixture: Fixture = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    assert!(
        !fixture.description.trim().is_empty(),
        "{}: needs a description",
        path.display()
    );
    let mut files: BTreeMap<String, Vec<u8>> = fixture
        .files
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
        .collect();
    with_region_scope(&mut files);
    let loaded = netaudit_evidence::load_files(&files);
    let graph = Graph::build(&loaded.inventory);
    let findings = evaluate_control(control, &graph, &fixture.params).map_err(|e| e.to_string())?;

    let mut actual: BTreeMap<String, Status> = BTreeMap::new();
    for f in &findings {
        let key = if f.resource_id == "*"
            || !fixture.expect.contains_key(&f.resource_id) && fixture.expect.contains_key(&f.resource_arn)
        {
            f.resource_arn.clone()
        } else {
            f.resource_id.clone()
        };
        if actual.insert(key.clone(), f.status).is_some() {
            return Err(format!("two findings for {key}"));
        }
    }
    let expected: BTreeMap<String, Status> = fixture.expect.iter().map(|(k, v)| (k.clone(), status(v))).collect();
    if actual != expected {
        let detail: Vec<String> = findings
            .iter()
            .map(|f| format!("  {} {} {}: {}", f.status, f.resource_id, f.resource_arn, f.reason))
            .collect();
        return Err(format!(
            "{}\n  expected {expected:?}\n  got      {actual:?}\n{}",
            path.display(),
            detail.join("\n")
        ));
    }
    for (key, text) in &fixture.reasons {
        let finding = findings
            .iter()
            .find(|f| &f.resource_id == key || &f.resource_arn == key)
            .ok_or_else(|| format!("{}: [reasons] names {key}, which has no result", path.display()))?;
        if !finding.reason.contains(text.as_str()) {
            return Err(format!(
                "{}: the reason for {key} is {:?}, which does not say {text:?}",
                path.display(),
                finding.reason
            ));
        }
    }
    Ok(expected.into_values().collect())
}

#[test]
fn every_fixture_gives_exactly_its_expected_verdicts() {
    let (catalogue, errors) = builtin();
    assert!(errors.is_empty(), "built-in catalogue errors: {errors:?}");
    let mut failures = vec![];
    let mut count = 0;
    for control in catalogue.controls() {
        for path in fixtures_of(&catalogue_dir().join(control.id())) {
            count += 1;
            if let Err(e) = run(control.id(), &path) {
                failures.push(e);
            }
        }
    }
    assert!(count > 0, "no fixtures ran");
    assert!(
        failures.is_empty(),
        "{} of {count} fixtures failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_control_has_pass_fail_and_unknown_fixtures() {
    let (catalogue, _) = builtin();
    let mut missing = vec![];
    for control in catalogue.controls() {
        let mut seen = BTreeSet::new();
        for path in fixtures_of(&catalogue_dir().join(control.id())) {
            if let Ok(statuses) = run(control.id(), &path) {
                seen.extend(statuses);
            }
        }
        for needed in [Status::Pass, Status::Fail, Status::Unknown] {
            if !seen.contains(&needed) {
                missing.push(format!("{} has no passing fixture that shows {needed}", control.id()));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn every_catalogue_folder_is_a_control() {
    let (catalogue, _) = builtin();
    let mut strays = vec![];
    for entry in std::fs::read_dir(catalogue_dir()).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if catalogue.get(&name).is_none_or(|c| c.id() != name) {
            strays.push(name);
        }
    }
    assert!(
        strays.is_empty(),
        "catalogue folders without a valid control.toml: {strays:?}"
    );
}
