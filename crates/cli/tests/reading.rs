//! Reading a report at a glance: the table fits the terminal, `--quiet` and the filters show what
//! was asked, and controls come most severe first in natural id order.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use binary::{netaudit, run};
use std::path::{Path, PathBuf};

fn estate() -> PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
        .join("../../examples/estate")
}

fn scan(extra: &[&str], columns: Option<usize>) -> (String, i32) {
    let mut cmd = netaudit();
    cmd.env_remove("COLUMNS");
    if let Some(c) = columns {
        cmd.env("COLUMNS", c.to_string());
    }
    let (stdout, stderr, code) = run(cmd.arg("scan").arg("--evidence").arg(estate()).args(extra));
    assert!(!stdout.is_empty(), "{stderr}");
    (stdout, code)
}

fn json(extra: &[&str]) -> serde_json::Value {
    let (stdout, _) = scan(&[&["--format", "json"][..], extra].concat(), None);
    serde_json::from_str(&stdout).unwrap()
}

/// The characters a reader sees (colons aside), in order of value: wrapping must lose none.
fn visible(text: &str) -> Vec<char> {
    let mut chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
    chars.sort_unstable();
    chars
}

#[test]
fn the_table_fits_80_and_120_columns_and_loses_no_word() {
    let (unwrapped, code) = scan(&["--show-pass"], None);
    assert_eq!(code, 3);
    assert!(
        unwrapped.lines().any(|l| l.chars().count() > 120),
        "the example has long rows"
    );
    for columns in [80, 120] {
        let (table, code) = scan(&["--show-pass"], Some(columns));
        assert_eq!(code, 3);
        for line in table.lines() {
            assert!(line.chars().count() <= columns, "{columns} columns: {line:?}");
        }
        // Wrapping only moves characters; rows too narrow for their place say "account region:".
        assert_eq!(visible(&table), visible(&unwrapped), "{columns} columns");
    }
    // Status first, then the resource.
    let row = unwrapped.lines().find(|l| l.contains("vpc-0a1b2c3d4e5f60002")).unwrap();
    assert!(
        row.trim_start().starts_with("FAIL") || row.trim_start().starts_with("PASS"),
        "{row}"
    );
    assert!(row.find("vpc-0a1b2c3d4e5f60002") < row.find("111111111111"), "{row}");
    // One closing line counting each status.
    let last = unwrapped.lines().last().unwrap();
    assert!(
        last.starts_with("Totals: 24 FAIL · 36 UNKNOWN · 73 PASS · 19 NOT_APPLICABLE"),
        "{last}"
    );
}

#[test]
fn quiet_shows_only_failures_and_unknowns_and_keeps_coverage_and_the_exit_code() {
    let (table, code) = scan(&["--quiet"], None);
    assert_eq!(code, 3);
    for status in ["PASS ", "NOT_APPLICABLE "] {
        assert!(
            !table.lines().any(|l| l.trim_start().starts_with(status)),
            "{status}: {table}"
        );
    }
    assert!(table.contains("Coverage: INCOMPLETE"), "{table}");
    let report = json(&["--quiet"]);
    let statuses: std::collections::BTreeSet<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["FAIL", "UNKNOWN"].into_iter().collect());
    assert_eq!(report["totals"]["FAIL"], 24);
    assert_eq!(report["totals"]["UNKNOWN"], 36);
}

#[test]
fn filters_select_results_by_status_severity_region_and_account() {
    let all = json(&[]);
    let count = |report: &serde_json::Value, keep: &dyn Fn(&serde_json::Value) -> bool| {
        report["results"].as_array().unwrap().iter().filter(|r| keep(r)).count()
    };
    let low: Vec<String> = all["controls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["severity"] == "low")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!low.is_empty());

    let filtered = json(&[
        "--status",
        "fail,unknown",
        "--severity",
        "low",
        "--region",
        "us-east-1",
        "--account",
        "111111111111",
    ]);
    let expected = count(&all, &|r| {
        ["FAIL", "UNKNOWN"].contains(&r["status"].as_str().unwrap())
            && low.iter().any(|id| r["control"] == id.as_str())
            && (r["region"] == "us-east-1" || r["region"] == "*")
            && r["account_id"] == "111111111111"
    });
    assert!(expected > 0);
    assert_eq!(filtered["results"].as_array().unwrap().len(), expected);
    assert!(filtered["controls"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["severity"] == "low"));
    // The scan was incomplete; a filter does not make it complete.
    assert_eq!(filtered["coverage"]["complete"], false);

    // A status that is not one lists the valid ones.
    let (_, stderr, code) = run(netaudit()
        .args(["scan", "--status", "failed", "--evidence"])
        .arg(estate()));
    assert_eq!(code, 64);
    assert!(stderr.contains("fail") && stderr.contains("not-applicable"), "{stderr}");
}

#[test]
fn controls_come_most_severe_first_in_natural_id_order() {
    let report = json(&[]);
    let controls: Vec<(&str, &str)> = report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["severity"].as_str().unwrap(), c["id"].as_str().unwrap()))
        .collect();
    let rank = |s: &str| {
        ["critical", "high", "medium", "low", "informational"]
            .iter()
            .position(|x| *x == s)
    };
    assert!(
        controls.windows(2).all(|w| rank(w[0].0) <= rank(w[1].0)),
        "{controls:?}"
    );
    let ec2: Vec<&str> = controls
        .iter()
        .filter(|(s, id)| *s == "medium" && id.starts_with("EC2."))
        .map(|(_, id)| *id)
        .collect();
    assert_eq!(ec2, ["EC2.6", "EC2.20", "EC2.171", "EC2.183"]);
    let (table, _) = scan(&[], None);
    let at = |id: &str| table.find(&format!("\n{id}  ")).unwrap();
    assert!(at("EC2.6") < at("EC2.20") && at("EC2.20") < at("EC2.171"));
}
