//! Errors that help: a wrong value lists the right ones, and lists typed as people type them work.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use binary::{netaudit, run};
use std::path::{Path, PathBuf};

fn examples() -> PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../examples")
}

#[test]
fn a_wrong_value_lists_the_valid_ones() {
    let flows = examples().join("logs/flows");
    let vpn = examples().join("logs/vpn");
    let flows = flows.to_str().unwrap();
    let vpn = vpn.to_str().unwrap();
    for (args, valid) in [
        (
            vec!["logs", "generate", "--incident", "portscan", "-o", "-"],
            vec!["port-scan", "off-hours-egress", "all"],
        ),
        (
            vec!["logs", "detect", "--flows", flows, "--only", "PORTSCAN"],
            vec!["NETAUDIT.LOGS.PORTSCAN"],
        ),
        (
            vec!["logs", "detect", "--flows", flows, "--set", "ports=5"],
            vec!["port_scan_ports"],
        ),
        (
            vec!["logs", "vpn", "who", "--vpn", vpn, "--at", "yesterday"],
            vec!["epoch seconds", "RFC 3339"],
        ),
        (
            vec!["scan", "--severity", "severe", "--evidence", "x"],
            vec!["critical", "informational"],
        ),
    ] {
        let (stdout, stderr, code) = run(netaudit().args(&args));
        assert_eq!(code, 64, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}");
        for v in valid {
            assert!(stderr.contains(v), "{args:?} should name {v}: {stderr}");
        }
    }
}

#[test]
fn control_lists_are_trimmed_as_typed() {
    let estate = examples().join("estate");
    let (stdout, stderr, code) = run(netaudit()
        .args([
            "scan",
            "--format",
            "json",
            "--checks",
            "EC2.6, EC2.51",
            "--skip",
            " EC2.51",
            "--evidence",
        ])
        .arg(&estate));
    assert!(!stderr.contains("unknown control"), "{stderr}");
    assert_eq!(code, 3, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let ids: Vec<&str> = report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["EC2.6"]);
    let (_, stderr, code) = run(netaudit()
        .args(["fix", "plan", "--checks", "EC2.6, EC2.51", "--evidence"])
        .arg(&estate));
    assert!(!stderr.contains("unknown control"), "{stderr}");
    assert_ne!(code, 64, "{stderr}");
}
