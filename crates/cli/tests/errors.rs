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

#[test]
fn a_control_parameter_outside_its_declared_range_is_refused() {
    let estate = examples().join("estate");
    for (command, value, says) in [
        ("scan", "-5", "not -5"),
        ("scan", "0", "not 0"),
        ("scan", "99999999", "not 99999999"),
        ("scan", "abc", "not \"abc\""),
        ("fix", "-1", "not -1"),
    ] {
        let param = format!("CloudWatch.16.minRetentionTime={value}");
        let mut cmd = netaudit();
        if command == "fix" {
            cmd.args(["fix", "plan"]);
        } else {
            cmd.arg("scan");
        }
        let (stdout, stderr, code) = run(cmd.args(["--param", &param, "--evidence"]).arg(&estate));
        assert_eq!(code, 64, "{command} {param}: {stderr}");
        assert!(stdout.is_empty(), "{command} {param}: nothing runs");
        assert!(
            stderr.contains("CloudWatch.16.minRetentionTime must be an integer from 1 to 3653")
                && stderr.contains(says),
            "{command} {param}: {stderr}"
        );
    }

    // In range, the scan runs with it and records it.
    let (stdout, stderr, code) = run(netaudit()
        .args([
            "scan",
            "--format",
            "json",
            "--param",
            "CloudWatch.16.minRetentionTime=400",
            "--evidence",
        ])
        .arg(&estate));
    assert!((0..=3).contains(&code), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["parameters"]["CloudWatch.16"]["minRetentionTime"], 400);
}

#[test]
fn a_user_control_declaring_a_range_gets_the_same_check() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(examples().join("../crates/checks/catalogue/CloudWatch.16/control.toml"))
        .unwrap()
        .replace("id = \"CloudWatch.16\"", "id = \"ACME.RET\"")
        .replace("maximum = 3653", "maximum = 731");
    std::fs::write(dir.path().join("acme.toml"), text).unwrap();
    let estate = examples().join("estate");
    let scan = |value: &str| {
        run(netaudit()
            .args(["scan", "--checks", "ACME.RET", "--checks-dir"])
            .arg(dir.path())
            .args(["--param", &format!("ACME.RET.minRetentionTime={value}"), "--evidence"])
            .arg(&estate))
    };
    let (_, stderr, code) = scan("1096");
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains("ACME.RET.minRetentionTime must be an integer from 1 to 731, not 1096"),
        "{stderr}"
    );
    let (stdout, stderr, code) = scan("731");
    assert!((0..=3).contains(&code), "{stderr}");
    assert!(stdout.contains("ACME.RET"), "{stdout}");
}

#[test]
fn numbers_out_of_range_on_the_command_line_are_usage_errors() {
    let estate = examples().join("estate");
    let estate = estate.to_str().unwrap();
    let flows = examples().join("logs/flows");
    let flows = flows.to_str().unwrap();
    for (args, says) in [
        (vec!["scan", "--max-attempts", "0"], vec!["--max-attempts", "1..=20"]),
        (vec!["scan", "--max-attempts", "21"], vec!["1..=20"]),
        (vec!["scan", "--timeout", "0"], vec!["--timeout", "1..=3600"]),
        // Large enough to overflow a retry budget (timeout × attempts × 2) once.
        (vec!["scan", "--timeout", "1000000000000000000"], vec!["1..=3600"]),
        (
            vec!["scan", "--account-concurrency", "0"],
            vec!["--account-concurrency", "1..=64"],
        ),
        (
            vec!["fix", "plan", "--evidence", estate, "--retention-days", "10"],
            vec!["--retention-days", "1, 3, 5, 7, 14, 30", "2557, 2922, 3288, 3653"],
        ),
        (
            vec!["fix", "plan", "--evidence", estate, "--aggregation-interval", "61"],
            vec!["60 or 600"],
        ),
        (
            vec!["fix", "apply", "plan.json", "--poll-interval", "0"],
            vec!["--poll-interval"],
        ),
        (vec!["guardrails", "--min-retention-days", "0"], vec!["1..=3653"]),
        (
            vec!["logs", "top-talkers", "--flows", flows, "--limit", "0"],
            vec!["--limit", "from 1 to 1000000"],
        ),
        (
            vec!["logs", "rejects", "--flows", flows, "--limit", "18446744073709551615"],
            vec!["--limit", "from 1 to 1000000"],
        ),
        (
            vec!["logs", "gaps", "--flows", flows, "--max-silence=-60"],
            vec!["--max-silence"],
        ),
        (vec!["logs", "generate", "--hours", "0", "-o", "-"], vec!["--hours"]),
        (
            vec!["logs", "generate", "--hours", "9223372036854775807", "-o", "-"],
            vec!["--hours", "1..=8784"],
        ),
        (
            vec!["fix", "apply", "plan.json", "--tunnel-wait", "99999999999999"],
            vec!["--tunnel-wait", "0..=86400"],
        ),
        // Too few records for the traffic asked for: refused by the generator, naming the least.
        (vec!["logs", "generate", "--records", "0", "-o", "-"], vec!["at least"]),
    ] {
        let (stdout, stderr, code) = run(netaudit().args(&args));
        assert_eq!(code, 64, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}");
        for s in says {
            assert!(stderr.contains(s), "{args:?} should say {s}: {stderr}");
        }
    }

    // The valid values still work.
    let (_, stderr, code) = run(netaudit().args([
        "fix",
        "plan",
        "--evidence",
        estate,
        "--retention-days",
        "400",
        "--aggregation-interval",
        "60",
    ]));
    assert!((0..=3).contains(&code), "{stderr}");
}

#[test]
fn a_control_file_reports_every_missing_and_unknown_key_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(examples().join("../crates/checks/catalogue/EC2.51/control.toml"))
        .unwrap()
        .replace("id = \"EC2.51\"", "id = \"ACME.CVPN\"")
        .replace("title = ", "# title = ")
        .replace("summary = ", "# summary = ")
        .replace("expect = \"eq []\"", "# expect")
        .replace("[remediation]\n", "[remediation]\nconsol = \"typo\"\n");
    let path = dir.path().join("acme.toml");
    std::fs::write(&path, &text).unwrap();
    let line_of = |needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
    let (stdout, stderr, code) = run(netaudit().args(["checks", "--checks-dir"]).arg(dir.path()));
    assert_eq!(code, 2, "{stderr}");
    let file = path.display();
    for expected in [
        format!("{file}:1: missing field \"title\" in the top-level table"),
        format!("{file}:1: missing field \"summary\" in the top-level table"),
        format!(
            "{file}:{}:1: [remediation] has unknown field \"consol\"",
            line_of("consol")
        ),
        format!("{file}:{}: [query] is missing field \"expect\"", line_of("[query]")),
    ] {
        assert!(stderr.contains(&expected), "{expected} in {stderr}");
    }
    // The bad control is left out; the built-in ones are listed.
    assert!(!stdout.contains("ACME.CVPN") && stdout.contains("EC2.51"), "{stdout}");
}
