//! What the verdict tests share: scanning fixtures with the catalogue and reading the verdicts.

// Each test file uses what it needs of this module.
#![allow(dead_code)]

use netaudit_checks::{builtin, evaluate, Finding, Params};
use netaudit_iac::cloudformation::Options;
use netaudit_iac::inputs::{read, Declared};
use netaudit_iac::terraform::TfOptions;
use netaudit_model::Graph;
use std::path::{Path, PathBuf};

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default())
        .join("tests/fixtures")
        .join(rel)
}

pub fn scan(paths: &[PathBuf], cfn: &Options) -> (Declared, Vec<Finding>) {
    let declared = read(paths, &TfOptions::default(), cfn);
    let graph = Graph::from_declared(declared.assets.clone());
    let (catalogue, errors) = builtin();
    assert!(errors.is_empty(), "{errors:?}");
    let controls: Vec<_> = catalogue
        .controls()
        .iter()
        .filter(|c| c.before_deploy().is_ok())
        .collect();
    let (findings, errors) = evaluate(&controls, &graph, &Params::new());
    assert!(errors.is_empty(), "{errors:?}");
    (declared, findings)
}

/// `CONTROL ADDRESS STATUS` lines, sorted.
pub fn verdicts(findings: &[Finding]) -> Vec<String> {
    let mut lines: Vec<String> = findings
        .iter()
        .map(|f| format!("{} {} {}", f.control, f.resource_id, f.status))
        .collect();
    lines.sort();
    lines
}

pub fn expected(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

pub fn reason<'f>(findings: &'f [Finding], control: &str, address: &str) -> &'f str {
    &findings
        .iter()
        .find(|f| f.control == control && f.resource_id == address)
        .unwrap_or_else(|| panic!("no {control} result for {address}"))
        .reason
}
