//! `--format ocsf` and `--format ocsf-parquet` (scan, report) and `logs detect --format ocsf`: every
//! event is validated by py-ocsf-models (OCSF 1.5.0), through scripts/ocsf_validate.py in the
//! virtualenv scripts/test.sh installs (NETAUDIT_OCSF_PYTHON); Parquet is read back with pyarrow.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use binary::{estate, netaudit, run};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn exceptions() -> PathBuf {
    repository().join("examples/exceptions.toml")
}

/// What scripts/ocsf_validate.py says of a JSON Lines file or a Parquet directory; panics when an
/// event is not valid OCSF 1.5.0.
fn validate(target: &Path) -> Value {
    let python = std::env::var("NETAUDIT_OCSF_PYTHON").expect(
        "NETAUDIT_OCSF_PYTHON is not set: run the tests with `bash scripts/test.sh`, which installs py-ocsf-models",
    );
    let out = std::process::Command::new(python)
        .arg(repository().join("scripts/ocsf_validate.py"))
        .arg(target)
        .output()
        .expect("the OCSF validator runs");
    assert!(
        out.status.success(),
        "{} is not valid OCSF: {}",
        target.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn events(jsonl: &str) -> Vec<Value> {
    jsonl.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

/// The estate with its exceptions: PASS, FAIL, UNKNOWN with gaps, NOT_APPLICABLE and MUTED.
fn estate_scan(extra: &[&str]) -> (String, String, i32) {
    let mut cmd = netaudit();
    cmd.arg("scan")
        .arg("--evidence")
        .arg(estate())
        .arg("--exceptions")
        .arg(exceptions())
        .args(extra);
    run(&mut cmd)
}

fn estate_report() -> Value {
    let (json, stderr, _) = estate_scan(&["--format", "json"]);
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {stderr}"))
}

const STATUSES: [&str; 5] = ["PASS", "FAIL", "UNKNOWN", "NOT_APPLICABLE", "MUTED"];

/// How many coverage gaps no result lists.
fn loose_gaps(report: &Value) -> usize {
    let carried: Vec<&Value> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["gaps"].as_array().into_iter().flatten())
        .collect();
    report["coverage"]["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| !carried.contains(g))
        .count()
}

fn event_of<'a>(events: &'a [Value], status: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["status_code"] == status)
        .unwrap_or_else(|| panic!("no {status} event"))
}

#[test]
fn the_example_estate_is_one_valid_compliance_finding_per_result() {
    let dir = tempfile::tempdir().unwrap();
    let report = estate_report();
    let (jsonl, stderr, code) = estate_scan(&["--format", "ocsf"]);
    assert_eq!(code, 3, "FAILs and UNKNOWNs: {stderr}");
    let file = dir.path().join("estate.ocsf.jsonl");
    std::fs::write(&file, &jsonl).unwrap();
    let summary = validate(&file);

    // Every status is there, as many events of each as the report counts.
    let totals = &report["totals"];
    for status in STATUSES {
        let expected = totals[status].as_u64().unwrap();
        assert!(expected > 0, "the estate with exceptions has {status} results");
        assert_eq!(summary["status_codes"][status], expected, "{status}: {summary}");
    }
    let results = report["results"].as_array().unwrap().len();
    let gaps = loose_gaps(&report);
    assert_eq!(
        summary["status_codes"]["COVERAGE_GAP"].as_u64().unwrap_or(0),
        gaps as u64
    );
    let disabled = report["coverage"]["disabled_regions"].as_array().unwrap().len();
    assert!(disabled > 0, "the estate has regions that are not enabled");
    assert_eq!(summary["status_codes"]["REGION_DISABLED"], disabled as u64, "{summary}");
    assert_eq!(
        summary["classes"]["2003"],
        (results + gaps + disabled) as u64,
        "{summary}"
    );

    // One identity per result, the same in a second run.
    let uids: BTreeSet<&str> = summary["uids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    assert_eq!(
        uids.len(),
        summary["events"].as_u64().unwrap() as usize,
        "finding uids are unique"
    );
    let (again, _, _) = estate_scan(&["--format", "ocsf"]);
    assert_eq!(again, jsonl, "two scans of one input write the same events");

    let events = events(&jsonl);
    // Each result's priority travels, in the report's order (most urgent first).
    let priorities: Vec<&Value> = events
        .iter()
        .filter(|e| STATUSES.iter().any(|s| e["status_code"] == *s))
        .map(|e| &e["unmapped"]["priority"])
        .collect();
    let expected: Vec<&Value> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["priority"])
        .collect();
    assert_eq!(priorities, expected);
    let first = &events[0];
    assert_eq!(first["metadata"]["version"], "1.5.0");
    assert_eq!(first["metadata"]["product"]["name"], "netaudit");
    assert_eq!(first["type_uid"], 200_301);
    assert_eq!(first["cloud"]["provider"], "AWS");
    let scanned_at = report["scanned_at"].as_str().unwrap();
    assert_eq!(scanned_at, "2025-12-03T08:00:00Z");
    assert!(
        events.iter().all(|e| e["time"] == 1_764_748_800_000_i64),
        "time is the scan's"
    );

    // FAIL: its frameworks, requirements, Security Hub id, remediation, resource.
    let fail = events
        .iter()
        .find(|e| e["status_code"] == "FAIL" && e["compliance"]["control"] == "EC2.6")
        .expect("an EC2.6 FAIL");
    assert_eq!(fail["compliance"]["status_id"], 3);
    let standards = fail["compliance"]["standards"].as_array().unwrap();
    assert!(standards.contains(&"NIST SP 800-53 Rev. 5".into()), "{standards:?}");
    assert!(standards.contains(&"AWS Security Hub EC2.6".into()), "{standards:?}");
    assert!(fail["compliance"]["requirements"]
        .as_array()
        .unwrap()
        .contains(&"AU-12".into()));
    assert!(fail["remediation"]["desc"].as_str().unwrap().len() > 10);
    assert!(fail["resources"][0]["uid"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:ec2:"));
    assert_eq!(fail["status_id"], 1, "New");

    // UNKNOWN: Warning, its reason and every gap.
    let unknown = event_of(&events, "UNKNOWN");
    assert_eq!(unknown["compliance"]["status_id"], 2);
    let details = unknown["compliance"]["status_details"].as_array().unwrap();
    assert!(details.len() >= 2, "the reason and the gaps: {details:?}");

    // NOT_APPLICABLE: said so.
    let not_applicable = event_of(&events, "NOT_APPLICABLE");
    assert_eq!(not_applicable["compliance"]["status_id"], 99);
    assert_eq!(not_applicable["compliance"]["status"], "Not applicable");

    // MUTED: still a failure, but the finding is suppressed, with the exception's facts.
    let muted = event_of(&events, "MUTED");
    assert_eq!(muted["compliance"]["status_id"], 3);
    assert_eq!(muted["status_id"], 3);
    assert_eq!(muted["status"], "Suppressed");
    let exception = &muted["unmapped"]["exception"];
    assert!(exception["owner"].as_str().unwrap().contains('@'));
    assert!(exception["expires"].as_str().unwrap().starts_with("2027-"));
    assert!(!exception["reason"].as_str().unwrap().is_empty());
    let comment = muted["comment"].as_str().unwrap();
    assert!(comment.contains(exception["owner"].as_str().unwrap()), "{comment}");
}

/// The estate's report with an input error and a gap no result carries.
fn report_with_loose_coverage(dir: &Path) -> PathBuf {
    let mut json = estate_report();
    json["coverage"]["errors"] = serde_json::json!(["controls/EXTRA.toml:3: unknown key `severty`"]);
    json["coverage"]["gaps"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "kind": "api_error",
            "api": "ec2:DescribeVpcs",
            "code": "UnauthorizedOperation",
            "account": "222222222222",
            "region": "ap-south-1",
            "message": "denied by an SCP",
            "source": null
        }));
    let path = dir.join("loose.json");
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

#[test]
fn coverage_gaps_and_input_errors_no_result_carries_are_events_too() {
    let dir = tempfile::tempdir().unwrap();
    let saved = report_with_loose_coverage(dir.path());
    let (jsonl, stderr, _) = run(netaudit().args(["report", "--format", "ocsf"]).arg(&saved));
    let file = dir.path().join("loose.jsonl");
    std::fs::write(&file, &jsonl).unwrap();
    let summary = validate(&file);
    assert_eq!(summary["status_codes"]["SCAN_ERROR"], 1, "{stderr}");
    let events = events(&jsonl);
    let gap = events
        .iter()
        .find(|e| e["status_code"] == "COVERAGE_GAP" && e["cloud"]["region"] == "ap-south-1")
        .expect("the loose gap is an event");
    assert_eq!(gap["compliance"]["status_id"], 2, "Warning");
    assert_eq!(gap["cloud"]["account"]["uid"], "222222222222");
    assert_eq!(gap["unmapped"]["gap"]["api"], "ec2:DescribeVpcs");
    assert!(gap["message"].as_str().unwrap().contains("UnauthorizedOperation"));
    let error = event_of(&events, "SCAN_ERROR");
    assert!(error["message"].as_str().unwrap().contains("severty"));
}

#[test]
fn hostile_resource_names_survive_as_the_text_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let mut json = estate_report();
    let mut names = vec![];
    for (i, result) in json["results"].as_array_mut().unwrap().iter_mut().enumerate() {
        let name = format!("<script>alert({i})</script> \"q\" 'a' & | \n\u{1} \u{2028} ../../x");
        result["resource_name"] = name.clone().into();
        names.push(name);
    }
    let saved = dir.path().join("hostile.json");
    std::fs::write(&saved, json.to_string()).unwrap();
    let (jsonl, stderr, _) = run(netaudit().args(["report", "--format", "ocsf"]).arg(&saved));
    let file = dir.path().join("hostile.jsonl");
    std::fs::write(&file, &jsonl).unwrap();
    validate(&file);
    let events = events(&jsonl);
    assert_eq!(jsonl.lines().count(), events.len(), "one line per event: {stderr}");
    let got: Vec<&str> = events
        .iter()
        .filter(|e| STATUSES.contains(&e["status_code"].as_str().unwrap()))
        .map(|e| e["resources"][0]["name"].as_str().unwrap())
        .collect();
    assert_eq!(got, names);

    // And in Parquet, whose partitions stay under the directory.
    let out = dir.path().join("lake");
    let (_, stderr, _) = run(netaudit()
        .args(["report", "--format", "ocsf-parquet", "-o"])
        .arg(&out)
        .arg(&saved));
    let summary = validate(&out);
    assert_eq!(summary["events"], events.len() as u64, "{stderr}");
}

#[test]
fn code_scans_are_valid_events_with_their_file_and_lines() {
    let dir = tempfile::tempdir().unwrap();
    let code = repository().join("examples/iac");
    let (jsonl, stderr, _) = run(netaudit().args(["scan", "--format", "ocsf", "--iac"]).arg(&code));
    let file = dir.path().join("iac.jsonl");
    std::fs::write(&file, &jsonl).unwrap();
    let summary = validate(&file);
    assert!(summary["events"].as_u64().unwrap() > 0, "{stderr}");
    for event in events(&jsonl).iter().filter(|e| e["status_code"] != "SCAN_ERROR") {
        let location = &event["resources"][0]["data"]["location"];
        assert!(location["file"].as_str().is_some(), "{event}");
        assert!(location["start_line"].as_u64().unwrap() >= 1, "{event}");
    }
}

#[test]
fn parquet_is_laid_out_for_security_lake_with_a_row_per_event() {
    let dir = tempfile::tempdir().unwrap();
    let report = estate_report();
    let out = dir.path().join("lake");
    let (stdout, stderr, code) = estate_scan(&["--format", "ocsf-parquet", "-o", out.to_str().unwrap()]);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(stdout, "", "Parquet goes to the directory only");
    let summary = validate(&out);

    // The same events as JSON Lines.
    let (jsonl, _, _) = estate_scan(&["--format", "ocsf"]);
    let events = events(&jsonl);
    assert_eq!(summary["events"], events.len() as u64);
    let results: u64 = STATUSES
        .iter()
        .map(|s| summary["status_codes"][s].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        results,
        report["results"].as_array().unwrap().len() as u64,
        "a row per result"
    );
    let json_uids: BTreeSet<&str> = events
        .iter()
        .map(|e| e["finding_info"]["uid"].as_str().unwrap())
        .collect();
    let parquet_uids: BTreeSet<&str> = summary["uids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    assert_eq!(parquet_uids, json_uids);

    // region=…/accountId=…/eventDay=YYYYMMDD, as many rows in each as events there.
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for event in &events {
        let region = match event["cloud"]["region"].as_str() {
            None => "global",
            Some("*") => "all",
            Some(region) => region,
        };
        let account = event["cloud"]["account"]["uid"].as_str().unwrap_or("none");
        *expected
            .entry(format!("region={region}/accountId={account}/eventDay=20251203"))
            .or_default() += 1;
    }
    let partitions: BTreeMap<String, u64> = summary["partitions"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(partitions, expected);
    assert!(partitions
        .keys()
        .any(|p| p.starts_with("region=us-east-1/accountId=111111111111/")));
}

#[test]
fn parquet_needs_a_directory() {
    for args in [
        &["--format", "ocsf-parquet"][..],
        &["--format", "ocsf-parquet", "-o", "-"],
    ] {
        let (stdout, stderr, code) = estate_scan(args);
        assert_eq!(code, 64, "{args:?}: {stderr}");
        assert_eq!(stdout, "");
        assert!(stderr.contains("-o DIR"), "{stderr}");
    }
}

#[test]
fn logs_detect_findings_are_valid_detection_findings() {
    let dir = tempfile::tempdir().unwrap();
    let logs = repository().join("examples/logs");
    let detect = |format: &str| {
        let mut cmd = netaudit();
        cmd.current_dir(&logs).args([
            "logs",
            "detect",
            "--flows",
            "flows",
            "--vpn",
            "vpn",
            "--tunnels",
            "tunnels",
            "--format",
            format,
        ]);
        run(&mut cmd)
    };
    let (jsonl, stderr, code) = detect("ocsf");
    assert_eq!(code, 1, "findings exit 1: {stderr}");
    let file = dir.path().join("detect.jsonl");
    std::fs::write(&file, &jsonl).unwrap();
    let summary = validate(&file);
    let (json, _, _) = detect("json");
    let report: Value = serde_json::from_str(&json).unwrap();
    let findings = report["results"].as_array().unwrap();
    assert!(!findings.is_empty());
    assert_eq!(summary["classes"]["2004"], findings.len() as u64, "{summary}");
    let uids: BTreeSet<&str> = summary["uids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    assert_eq!(uids.len(), findings.len(), "detection uids are unique");
    let events = events(&jsonl);
    for (event, finding) in events.iter().zip(findings) {
        assert_eq!(event["type_uid"], 200_401);
        assert_eq!(event["finding_info"]["types"][0], finding["control"]);
        assert_eq!(event["resources"][0]["data"]["resource_id"], finding["resource_id"]);
    }
    // Answers are not findings.
    let mut cmd = netaudit();
    cmd.current_dir(&logs)
        .args(["logs", "top-talkers", "--flows", "flows", "--format", "ocsf"]);
    let (_, stderr, code) = run(&mut cmd);
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("logs detect"), "{stderr}");
}
