//! Options read offline do what they say, and options that only a live scan uses are refused
//! rather than silently ignored.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use binary::{netaudit, run};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn estate() -> PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
        .join("../../examples/estate")
}

fn json_scan(extra: &[&str]) -> serde_json::Value {
    let (stdout, stderr, _) = run(netaudit()
        .args(["scan", "--format", "json", "--evidence"])
        .arg(estate())
        .args(extra));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"))
}

fn regions_of(report: &serde_json::Value) -> BTreeSet<String> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["region"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn regions_limit_an_offline_scan_as_they_limit_a_live_one() {
    let all = json_scan(&[]);
    assert!(regions_of(&all).len() > 1, "the example estate spans several regions");

    let limited = json_scan(&["--regions", "us-east-1"]);
    assert_eq!(regions_of(&limited), BTreeSet::from(["us-east-1".to_owned()]));
    // The same results for that region, nothing else.
    let in_region = |r: &&serde_json::Value| r["region"] == "us-east-1";
    let expected: Vec<_> = all["results"].as_array().unwrap().iter().filter(in_region).collect();
    let got: Vec<_> = limited["results"].as_array().unwrap().iter().collect();
    assert_eq!(got, expected);
    // The regions left out are out of scope, not unread.
    let scope = limited["coverage"]["region_scope"].to_string();
    assert!(scope.contains("us-east-1") && !scope.contains("eu-west-1"), "{scope}");
    assert!(
        !limited["coverage"]["gaps"].to_string().contains("eu-west-1"),
        "{}",
        limited["coverage"]["gaps"]
    );
}

#[test]
fn live_only_options_are_refused_offline_and_named() {
    for (args, named) in [
        (vec!["scan", "--profile", "prod"], "--profile"),
        (vec!["scan", "--max-attempts", "2", "--org"], "--org, --max-attempts"),
        (vec!["scan", "--endpoint-url", "http://127.0.0.1:1"], "--endpoint-url"),
        (
            vec!["fix", "plan", "--role-arn", "arn:aws:iam::111111111111:role/x"],
            "--role-arn",
        ),
        (vec!["fix", "plan", "--timeout", "5"], "--timeout"),
    ] {
        let (stdout, stderr, code) = run(netaudit().args(&args).arg("--evidence").arg(estate()));
        assert_eq!(code, 64, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(
            stderr.contains(named) && stderr.contains("only apply to a live scan"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn stats_and_verbose_say_an_offline_scan_makes_no_calls() {
    for flag in ["--stats", "--verbose"] {
        let (_, stderr, code) = run(netaudit().args(["scan", flag, "--evidence"]).arg(estate()));
        assert_eq!(code, 3, "{stderr}");
        assert!(stderr.contains("no API calls"), "{flag}: {stderr}");
    }
}
