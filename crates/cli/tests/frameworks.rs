//! Compliance views: `netaudit frameworks` lists what is mapped, and `--framework NAME` limits a
//! report to one framework with each requirement's status over the resources.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use binary::{estate, netaudit, run};
use serde_json::Value;

fn scan_json(args: &[&str]) -> (Value, i32) {
    let (out, stderr, code) = run(netaudit()
        .args(["scan", "--format", "json", "--evidence"])
        .arg(estate())
        .args(args));
    assert!(out.starts_with('{'), "{stderr}");
    (serde_json::from_str(&out).unwrap(), code)
}

fn requirement<'a>(json: &'a Value, id: &str) -> &'a Value {
    json["framework"]["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["requirement"] == id)
        .unwrap_or_else(|| panic!("no requirement {id}"))
}

#[test]
fn frameworks_lists_every_mapping_of_the_catalogue_with_its_source() {
    let (checks, _, _) = run(netaudit().args(["checks", "--format", "json"]));
    let checks: Value = serde_json::from_str(&checks).unwrap();
    let (listed, stderr, code) = run(netaudit().args(["frameworks", "--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let listed: Value = serde_json::from_str(&listed).unwrap();
    let mut from_list = vec![];
    for framework in listed.as_array().unwrap() {
        for requirement in framework["requirements"].as_array().unwrap() {
            for control in requirement["controls"].as_array().unwrap() {
                assert!(control["source"].as_str().unwrap().starts_with("https://"));
                from_list.push(format!(
                    "{} | {} | {}",
                    framework["framework"].as_str().unwrap(),
                    requirement["requirement"].as_str().unwrap(),
                    control["control"].as_str().unwrap()
                ));
            }
        }
    }
    let mut from_controls = vec![];
    for control in checks.as_array().unwrap() {
        for mapping in control["frameworks"].as_array().unwrap() {
            from_controls.push(format!(
                "{} | {} | {}",
                mapping["framework"].as_str().unwrap(),
                mapping["requirement"].as_str().unwrap(),
                control["id"].as_str().unwrap()
            ));
        }
    }
    from_list.sort();
    from_controls.sort();
    assert_eq!(from_list, from_controls);

    let (table, _, code) = run(netaudit().arg("frameworks"));
    assert_eq!(code, 0);
    assert!(table.contains("NIST SP 800-53 Rev. 5  (24 requirements)"), "{table}");
    // Requirements in natural order: AU-6(3) before AU-12.
    let au6 = table.find("  AU-6(3) ").unwrap();
    assert!(au6 < table.find("  AU-12 ").unwrap());
}

#[test]
fn a_framework_report_rolls_each_requirement_up_over_its_resources() {
    let (all, _) = scan_json(&[]);
    let (json, code) = scan_json(&["--framework", "800-53"]);
    assert_eq!(code, 3);
    assert_eq!(json["framework"]["framework"], "NIST SP 800-53 Rev. 5");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/scan-report.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // Only mapped controls stay: NETAUDIT.* controls map to no NIST requirement.
    let ids: Vec<&str> = json["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["CloudWatch.16", "EC2.6", "EC2.20", "EC2.51"]);
    assert!(json["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| ids.contains(&r["control"].as_str().unwrap())));
    assert_eq!(json["coverage"]["complete"], false, "coverage stays as the scan had it");

    // AU-11 has one control: its counts are that control's.
    let au11 = requirement(&json, "AU-11");
    assert_eq!(au11["controls"], serde_json::json!(["CloudWatch.16"]));
    let cloudwatch = all["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "CloudWatch.16")
        .unwrap();
    assert_eq!(au11["counts"], cloudwatch["counts"]);
    assert_eq!(au11["status"], "FAIL");
    // SI-7(8) has two: its resources are both controls' (VPCs and endpoints), each once.
    let si78 = requirement(&json, "SI-7(8)");
    assert_eq!(si78["controls"], serde_json::json!(["EC2.6", "EC2.51"]));
    let results_of = |control: &str| {
        all["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["control"] == control)
            .count()
    };
    assert_eq!(
        si78["resources"].as_array().unwrap().len(),
        results_of("EC2.6") + results_of("EC2.51")
    );
}

#[test]
fn a_resource_two_controls_judge_takes_the_worst_status_and_names_the_control() {
    // CIS v1.2.0 2.9 maps both EC2.6 and CIS.VPC.FLOWLOGS, over the same VPCs.
    let (json, _) = scan_json(&["--framework", "cis aws foundations benchmark v1.2.0"]);
    let req = requirement(&json, "2.9");
    assert_eq!(req["controls"], serde_json::json!(["CIS.VPC.FLOWLOGS", "EC2.6"]));
    let resources = req["resources"].as_array().unwrap();
    let vpc = |id: &str| resources.iter().find(|r| r["resource_id"] == id).unwrap();
    // Staging captures only ACCEPT: CIS passes it, EC2.6 (REJECT required) fails it.
    assert_eq!(vpc("vpc-0a1b2c3d4e5f60003")["status"], "FAIL");
    assert_eq!(vpc("vpc-0a1b2c3d4e5f60003")["controls"], serde_json::json!(["EC2.6"]));
    // Each VPC counted once, worst first.
    let statuses: Vec<&str> = resources.iter().map(|r| r["status"].as_str().unwrap()).collect();
    let counted: u64 = ["FAIL", "UNKNOWN", "PASS", "NOT_APPLICABLE", "MUTED"]
        .iter()
        .map(|s| req["counts"][*s].as_u64().unwrap())
        .sum();
    assert_eq!(counted as usize, resources.len());
    let weight = |s: &str| {
        ["NOT_APPLICABLE", "MUTED", "PASS", "UNKNOWN", "FAIL"]
            .iter()
            .position(|x| *x == s)
    };
    assert!(
        statuses.windows(2).all(|w| weight(w[0]) >= weight(w[1])),
        "{statuses:?}"
    );
    // Identity is (ARN, account, region): a shared VPC is seen from its owner and a participant.
    let mut ids: Vec<String> = resources
        .iter()
        .map(|r| format!("{} {} {}", r["resource_arn"], r["account_id"], r["region"]))
        .collect();
    let before = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), before);
}

#[test]
fn a_framework_name_must_name_one_framework() {
    let cases = [
        ("CIS", "names 4 frameworks"),
        (
            "ISO 27001",
            "no control of this report maps to a framework named \"ISO 27001\"",
        ),
    ];
    for (name, expected) in cases {
        let (out, stderr, code) = run(netaudit()
            .args(["scan", "--framework", name, "--evidence"])
            .arg(estate()));
        assert_eq!(code, 64, "{name}: {stderr}");
        assert!(out.is_empty());
        assert!(stderr.contains(expected) && stderr.contains("--framework"), "{stderr}");
    }
}

#[test]
fn every_format_carries_the_rollup_and_report_renders_it_as_scan_did() {
    let dir = tempfile::tempdir().unwrap();
    let (json, _, _) = run(netaudit()
        .args(["scan", "--format", "json", "--evidence"])
        .arg(estate()));
    let saved = dir.path().join("saved.json");
    std::fs::write(&saved, json).unwrap();
    for format in ["table", "json", "csv", "junit", "markdown", "sarif"] {
        let (scanned, _, scan_code) = run(netaudit()
            .args(["scan", "--framework", "800-53", "--format", format, "--evidence"])
            .arg(estate()));
        let (rendered, stderr, code) = run(netaudit()
            .args(["report", "--framework", "800-53", "--format", format])
            .arg(&saved));
        assert_eq!(rendered, scanned, "{format}: {stderr}");
        assert_eq!(code, scan_code);
    }
    let (table, _, _) = run(netaudit()
        .env("COLUMNS", "200")
        .args(["report", "--framework", "800-53"])
        .arg(&saved));
    assert!(table.contains("Framework: NIST SP 800-53 Rev. 5"), "{table}");
    assert!(
        table.lines().any(|l| l.starts_with("  AU-11 ") && l.contains("FAIL")),
        "{table}"
    );
    assert!(
        table.contains("FAIL /aws/vpn/s2s-legacy 111111111111/us-east-1 (CloudWatch.16)"),
        "{table}"
    );
    let (csv, _, _) = run(netaudit()
        .args(["report", "--framework", "800-53", "--format", "csv"])
        .arg(&saved));
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = header.iter().position(|h| h == "requirements").unwrap();
    let cloudwatch = reader
        .records()
        .map(Result::unwrap)
        .find(|r| &r[0] == "CloudWatch.16")
        .unwrap();
    assert_eq!(&cloudwatch[column], "AU-6(3); AU-6(4); AU-10; AU-11; CA-7; SI-12");
    // A status filter selects what is shown, not what the requirements are decided on.
    let (failing, _, _) = run(netaudit()
        .args([
            "report",
            "--framework",
            "800-53",
            "--status",
            "fail",
            "--format",
            "json",
        ])
        .arg(&saved));
    let failing: Value = serde_json::from_str(&failing).unwrap();
    let (unfiltered, _) = scan_json(&["--framework", "800-53"]);
    assert_eq!(failing["framework"], unfiltered["framework"]);
    assert!(failing["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "FAIL"));
}
