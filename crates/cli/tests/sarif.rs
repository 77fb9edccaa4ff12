//! `scan --format sarif`: validated by Microsoft's SARIF Multitool with GitHub's ingestion rules, and
//! its content as code scanning shows it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use binary::{netaudit, run};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const FINGERPRINT: &str = "netauditResultIdentity/v1";

fn repo() -> PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../..")
}

/// The Multitool binary `scripts/test.sh` installs.
fn multitool() -> PathBuf {
    let tool = std::env::var("NETAUDIT_SARIF_MULTITOOL").expect(
        "NETAUDIT_SARIF_MULTITOOL is not set: run the tests with `bash scripts/test.sh`, which installs the pinned SARIF Multitool",
    );
    PathBuf::from(tool)
}

/// What the Multitool reports at level warning or error, with SARIF's and GitHub's rules, as
/// `RULE: message arguments` lines.
fn validate(sarif: &Path) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("validation.sarif");
    let out = std::process::Command::new(multitool())
        .args([
            "validate",
            "--rule-kind",
            "Sarif;Gh",
            "--level",
            "Error;Warning",
            "--output",
        ])
        .arg(&log)
        .arg(sarif)
        .output()
        .unwrap_or_else(|e| panic!("the SARIF Multitool does not run: {e}"));
    let console = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the Multitool failed: {console}");
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&log).expect("the Multitool wrote its log"))
        .expect("the Multitool's log is JSON");
    let run = &log["runs"][0];
    let mut problems: Vec<String> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !matches!(r["level"].as_str(), Some("note" | "none")))
        .map(|r| format!("{}: {}", r["ruleId"], r["message"]))
        .collect();
    // A file it could not read or parse is a tool notification, not a result.
    for invocation in run["invocations"].as_array().unwrap() {
        for n in invocation["toolExecutionNotifications"]
            .as_array()
            .into_iter()
            .flatten()
        {
            problems.push(format!("tool: {}", n["message"]));
        }
    }
    problems
}

/// `netaudit scan ARGS --format sarif` run in the repository, written to a file: (document, path, exit code).
fn scan_sarif(dir: &Path, args: &[&str]) -> (Value, PathBuf, i32) {
    let path = dir.join(format!("{}.sarif", args.join("_").replace(['/', '.'], "-")));
    let (out, err, code) = run(netaudit()
        .current_dir(repo())
        .arg("scan")
        .args(args)
        .args(["--format", "sarif", "--output"])
        .arg(&path));
    assert!(out.is_empty(), "{out}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("no SARIF written ({e}): {err}"));
    (serde_json::from_str(&text).expect("SARIF is JSON"), path, code)
}

fn results(doc: &Value) -> &Vec<Value> {
    doc["runs"][0]["results"].as_array().unwrap()
}

fn result<'d>(doc: &'d Value, rule: &str, resource: &str, region: &str) -> &'d Value {
    results(doc)
        .iter()
        .find(|r| {
            r["ruleId"] == rule && r["properties"]["resourceId"] == resource && r["properties"]["region"] == region
        })
        .unwrap_or_else(|| panic!("no {rule} result for {resource} in {region}"))
}

fn fingerprints(doc: &Value) -> BTreeMap<String, String> {
    results(doc)
        .iter()
        .map(|r| {
            let logical = &r["locations"][0]["logicalLocations"][0];
            let identity = format!(
                "{} {} {} {}",
                r["ruleId"], logical["fullyQualifiedName"], r["properties"]["account"], r["properties"]["region"]
            );
            (
                identity,
                r["partialFingerprints"][FINGERPRINT].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn iac_and_estate_sarif_pass_the_multitool_with_githubs_rules() {
    let dir = tempfile::tempdir().unwrap();
    let (iac, iac_path, code) = scan_sarif(dir.path(), &["--iac", "examples/iac"]);
    assert_eq!(code, 1);
    let (estate, estate_path, code) = scan_sarif(
        dir.path(),
        &[
            "--evidence",
            "examples/estate",
            "--exceptions",
            "examples/exceptions.toml",
        ],
    );
    assert_eq!(code, 3);
    for (doc, path) in [(&iac, &iac_path), (&estate, &estate_path)] {
        assert!(!results(doc).is_empty());
        let problems = validate(path);
        assert!(problems.is_empty(), "{}: {problems:#?}", path.display());
    }

    // The validator does check: a rule without a short description breaks GitHub's rules.
    let mut broken = iac.clone();
    broken["runs"][0]["tool"]["driver"]["rules"][0]
        .as_object_mut()
        .unwrap()
        .remove("shortDescription");
    let broken_path = dir.path().join("broken.sarif");
    std::fs::write(&broken_path, serde_json::to_string_pretty(&broken).unwrap()).unwrap();
    let problems = validate(&broken_path);
    assert!(
        problems.iter().any(|p| p.contains("MissingShortDescription")),
        "{problems:#?}"
    );
}

#[test]
fn iac_sarif_places_a_fail_at_its_file_and_lines_and_documents_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let (doc, _, _) = scan_sarif(dir.path(), &["--iac", "examples/iac"]);
    let (json, _, _) = run(netaudit()
        .current_dir(repo())
        .args(["scan", "--iac", "examples/iac", "--format", "json"]));
    let json: Value = serde_json::from_str(&json).unwrap();
    let sarif_run = &doc["runs"][0];
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(sarif_run["tool"]["driver"]["name"], "netaudit");
    assert_eq!(
        sarif_run["tool"]["driver"]["semanticVersion"],
        env!("CARGO_PKG_VERSION")
    );

    // EC2.6 (medium) fails on the ACCEPT-only VPC: a warning at main.tf's resource block.
    let fail = result(&doc, "EC2.6", "aws_vpc.app", "examples/iac/terraform");
    assert_eq!(fail["level"], "warning");
    assert_eq!(
        fail["message"]["text"],
        "no ACTIVE VPC-level flow log capturing REJECT traffic."
    );
    let physical = &fail["locations"][0]["physicalLocation"];
    assert_eq!(
        physical["artifactLocation"],
        serde_json::json!({"uri": "examples/iac/terraform/main.tf", "uriBaseId": "%SRCROOT%"})
    );
    assert_eq!(physical["region"], serde_json::json!({"startLine": 5, "endLine": 10}));
    let declared = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["control"] == "EC2.6" && r["resource_id"] == "aws_vpc.app")
        .unwrap();
    assert_eq!(declared["location"]["start_line"], 5);
    assert_eq!(declared["location"]["end_line"], 10);
    assert_eq!(
        fail["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "examples/iac/terraform#aws_vpc.app"
    );
    let rules = sarif_run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules[fail["ruleIndex"].as_u64().unwrap() as usize]["id"], "EC2.6");

    // One rule per control of the scan, its help exactly what `netaudit explain` prints.
    let controls: Vec<&str> = json["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(rule_ids, controls);
    let rule = &rules[fail["ruleIndex"].as_u64().unwrap() as usize];
    let (explained, _, code) = run(netaudit().args(["explain", "EC2.6"]));
    assert_eq!(code, 0);
    assert_eq!(rule["help"]["text"], explained.as_str());
    assert_eq!(rule["help"]["markdown"], explained.as_str());
    assert_eq!(rule["name"], "VpcFlowLoggingShouldBeEnabledInAllVpcs");
    assert_eq!(
        rule["shortDescription"]["text"],
        "VPC flow logging should be enabled in all VPCs."
    );
    assert_eq!(rule["defaultConfiguration"]["level"], "warning");
    assert_eq!(rule["properties"]["security-severity"], "5.5");
    let tags: Vec<&str> = rule["properties"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(&tags[..2], ["security", "control"]);
    assert!(tags.contains(&"CIS AWS Foundations Benchmark v1.4.0 3.9"), "{tags:?}");

    // PASS results are not alerts, and not lost either.
    let passes = json["totals"]["PASS"].as_u64().unwrap();
    assert!(passes > 0);
    assert!(results(&doc).iter().all(|r| r["properties"]["status"] != "PASS"));
    let not_alerted = sarif_run["properties"]["notAlerted"].as_array().unwrap();
    assert_eq!(
        not_alerted.iter().filter(|r| r["status"] == "PASS").count() as u64,
        passes
    );
    // FAIL and UNKNOWN are alerts; MUTED ones are there too, suppressed.
    let count = |status: &str| json["totals"][status].as_u64().unwrap_or(0);
    assert_eq!(
        results(&doc).len() as u64,
        count("FAIL") + count("UNKNOWN") + count("MUTED")
    );
    assert_eq!(
        results(&doc).iter().filter(|r| r["suppressions"].is_array()).count() as u64,
        count("MUTED")
    );
    assert_eq!(sarif_run["invocations"][0]["executionSuccessful"], true);

    // --sarif-root: URIs relative to another directory.
    let (rooted, _, _) = scan_sarif(dir.path(), &["--iac", "examples/iac", "--sarif-root", "examples/iac"]);
    let fail = result(&rooted, "EC2.6", "aws_vpc.app", "examples/iac/terraform");
    assert_eq!(
        fail["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "terraform/main.tf"
    );
}

#[test]
fn estate_sarif_keeps_unknowns_as_notes_suppresses_muted_and_reports_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--evidence",
        "examples/estate",
        "--exceptions",
        "examples/exceptions.toml",
    ];
    let (doc, _, _) = scan_sarif(dir.path(), &args);

    // The flow-log listing was denied in eu-west-1: the VPC's EC2.6 is a note naming the gap, placed
    // at the VPC's record in the evidence.
    let unknown = results(&doc)
        .iter()
        .find(|r| {
            r["ruleId"] == "EC2.6" && r["properties"]["status"] == "UNKNOWN" && r["properties"]["region"] == "eu-west-1"
        })
        .expect("an UNKNOWN EC2.6 in eu-west-1");
    assert_eq!(unknown["level"], "note");
    let text = unknown["message"]["text"].as_str().unwrap();
    assert!(text.contains("ec2:DescribeFlowLogs AccessDenied"), "{text}");
    let physical = &unknown["locations"][0]["physicalLocation"];
    assert_eq!(
        physical["artifactLocation"]["uri"],
        "examples/estate/111111111111/eu-west-1/ec2-describe-vpcs.json"
    );
    let line = physical["region"]["startLine"].as_u64().unwrap() as usize;
    let evidence =
        std::fs::read_to_string(repo().join("examples/estate/111111111111/eu-west-1/ec2-describe-vpcs.json")).unwrap();
    let vpc = unknown["properties"]["resourceId"].as_str().unwrap();
    assert!(evidence.lines().nth(line - 1).unwrap().contains(vpc), "line {line}");

    // Every UNKNOWN of the JSON report is in the SARIF.
    let (json, _, _) = run(netaudit()
        .current_dir(repo())
        .args(["scan", "--format", "json"])
        .args(args));
    let json: Value = serde_json::from_str(&json).unwrap();
    let unknowns = results(&doc).iter().filter(|r| r["properties"]["status"] == "UNKNOWN");
    assert!(unknowns.clone().all(|r| r["level"] == "note"));
    assert_eq!(unknowns.count() as u64, json["totals"]["UNKNOWN"].as_u64().unwrap());

    // The lab VPC's EC2.6 is muted by examples/exceptions.toml: suppressed, with owner, ticket, expiry.
    let muted = result(&doc, "EC2.6", "vpc-0a1b2c3d4e5f60002", "us-east-1");
    assert_eq!(muted["properties"]["status"], "MUTED");
    let suppression = &muted["suppressions"][0];
    assert_eq!(suppression["kind"], "external");
    assert_eq!(suppression["status"], "accepted");
    let justification = suppression["justification"].as_str().unwrap();
    for part in ["network-team@example.com", "SEC-101", "2027-03-31"] {
        assert!(justification.contains(part), "{justification}");
    }
    assert!(results(&doc)
        .iter()
        .filter(|r| r["properties"]["status"] != "MUTED")
        .all(|r| r.get("suppressions").is_none()));

    // The scan is incomplete: not successful, each gap a notification.
    let invocation = &doc["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notifications = invocation["toolExecutionNotifications"].as_array().unwrap();
    let gaps = json["coverage"]["gaps"].as_array().unwrap();
    assert!(!gaps.is_empty());
    for gap in gaps {
        assert!(
            notifications.iter().any(|n| n["properties"]["gap"] == *gap),
            "no notification for {gap}"
        );
    }

    // Fingerprints: one per result identity, the same in a second run.
    let first = fingerprints(&doc);
    assert_eq!(first.len(), results(&doc).len());
    let distinct: BTreeSet<&String> = first.values().collect();
    assert_eq!(distinct.len(), first.len());
    let (again, _, _) = scan_sarif(dir.path(), &args);
    assert_eq!(fingerprints(&again), first);
}

#[test]
fn a_fingerprint_survives_its_resource_moving_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let tf = "resource \"aws_vpc\" \"app\" {\n  cidr_block = \"10.0.0.0/16\"\n}\n";
    std::fs::create_dir(dir.path().join("net")).unwrap();
    let scan = |text: &str| {
        std::fs::write(dir.path().join("net/main.tf"), text).unwrap();
        let (out, err, _) = run(netaudit()
            .current_dir(dir.path())
            .args(["scan", "--iac", "net", "--format", "sarif"]));
        let doc: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
        let fail = result(&doc, "EC2.6", "aws_vpc.app", "net").clone();
        (fail, fingerprints(&doc))
    };
    let (before, before_prints) = scan(tf);
    let (after, after_prints) = scan(&format!("# moved down\n\n\n{tf}"));
    assert_eq!(before["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
    assert_eq!(after["locations"][0]["physicalLocation"]["region"]["startLine"], 4);
    assert_eq!(
        after["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "net/main.tf"
    );
    assert_eq!(before_prints, after_prints);
}
