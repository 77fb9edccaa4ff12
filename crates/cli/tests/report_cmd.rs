//! `netaudit report`: a saved JSON report rendered again, in every format, without AWS.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use binary::{estate, netaudit, run};

/// Every format `scan --format` and `report --format` write.
const FORMATS: [&str; 9] = [
    "table", "json", "csv", "sarif", "junit", "markdown", "asff", "html", "ocsf",
];

fn scan(args: &[&str]) -> (String, String, i32) {
    run(netaudit().env("COLUMNS", "120").arg("scan").args(args))
}

fn report(saved: &std::path::Path, args: &[&str]) -> (String, String, i32) {
    run(netaudit().env("COLUMNS", "120").arg("report").arg(saved).args(args))
}

fn saved_report(dir: &std::path::Path, scan_args: &[&str]) -> std::path::PathBuf {
    let (json, stderr, _) = scan(&[scan_args, &["--format", "json"]].concat());
    assert!(json.starts_with('{'), "no JSON report: {stderr}");
    let path = dir.join("saved.json");
    std::fs::write(&path, json).unwrap();
    path
}

#[test]
fn a_saved_evidence_report_renders_as_the_scan_did_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = estate();
    let evidence = evidence.to_str().unwrap();
    let saved = saved_report(dir.path(), &["--evidence", evidence]);
    for format in FORMATS {
        let (scanned, _, scan_code) = scan(&["--evidence", evidence, "--format", format]);
        let (rendered, stderr, report_code) = report(&saved, &["--format", format]);
        assert_eq!(
            rendered, scanned,
            "report --format {format} differs from scan --format {format}: {stderr}"
        );
        assert_eq!(report_code, scan_code, "{format}");
        assert_eq!(report_code, 3, "the example estate has FAILs and UNKNOWNs");
    }
    // The saved report records what was scanned, when, and where each resource was read from.
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(json["scanned_at"], "2025-12-03T08:00:00Z");
    assert_eq!(json["source"]["kind"], "evidence");
    let read_from = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["read_from"]["file"].as_str())
        .collect::<Vec<_>>();
    assert!(
        read_from.iter().any(|f| f.ends_with("ec2-describe-vpcs.json")),
        "{read_from:?}"
    );
    let ec2_6 = json["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "EC2.6")
        .unwrap();
    assert!(ec2_6["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["requirement"] == "AU-12"));
    assert!(ec2_6["help"].as_str().unwrap().contains("DescribeFlowLogs"));
}

/// Every file under `dir`, by its path below it, with its bytes.
fn files_under(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                files.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[test]
fn a_saved_report_writes_the_parquet_files_the_scan_did() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = estate();
    let evidence = evidence.to_str().unwrap();
    let saved = saved_report(dir.path(), &["--evidence", evidence]);
    let scanned = dir.path().join("scanned");
    let rendered = dir.path().join("rendered");
    let (_, stderr, scan_code) = scan(&[
        "--evidence",
        evidence,
        "--format",
        "ocsf-parquet",
        "-o",
        scanned.to_str().unwrap(),
    ]);
    let (_, _, report_code) = report(&saved, &["--format", "ocsf-parquet", "-o", rendered.to_str().unwrap()]);
    assert_eq!((scan_code, report_code), (3, 3), "{stderr}");
    let scanned = files_under(&scanned);
    assert!(scanned.len() > 1, "a file per partition: {:?}", scanned.keys());
    assert!(scanned.keys().all(|name| name.ends_with(".parquet")));
    assert_eq!(files_under(&rendered), scanned);
}

#[test]
fn a_saved_code_report_keeps_its_source_locations() {
    let dir = tempfile::tempdir().unwrap();
    let code = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/iac");
    let code = code.to_str().unwrap();
    let saved = saved_report(dir.path(), &["--iac", code]);
    for format in FORMATS {
        let (scanned, _, scan_code) = scan(&["--iac", code, "--format", format]);
        let (rendered, stderr, report_code) = report(&saved, &["--format", format]);
        assert_eq!(rendered, scanned, "{format}: {stderr}");
        assert_eq!(report_code, scan_code, "{format}");
    }
    let (sarif, _, _) = report(&saved, &["--format", "sarif"]);
    assert!(sarif.contains("\"startLine\""), "IaC locations reach SARIF");
}

#[test]
fn report_filters_as_scan_does_and_never_looks_complete() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = estate();
    let evidence = evidence.to_str().unwrap();
    let saved = saved_report(dir.path(), &["--evidence", evidence]);
    let filters: [&[&str]; 4] = [
        &["--status", "pass"],
        &["--severity", "low"],
        &["--quiet"],
        &["--region", "eu-west-1", "--status", "fail,unknown"],
    ];
    for filter in filters {
        let args = [filter, &["--format", "json"]].concat();
        let (scanned, _, scan_code) = scan(&[&["--evidence", evidence], args.as_slice()].concat());
        let (rendered, _, report_code) = report(&saved, &args);
        assert_eq!(rendered, scanned, "{filter:?}");
        assert_eq!(report_code, scan_code, "{filter:?}");
        let json: serde_json::Value = serde_json::from_str(&rendered).unwrap();
        assert_eq!(
            json["coverage"]["complete"], false,
            "{filter:?}: the scan was incomplete"
        );
        assert!(report_code >= 2, "{filter:?}: exit {report_code}");
    }
}

#[test]
fn a_report_that_cannot_be_read_is_a_usage_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("missing.json", None, "No such file"),
        ("not-json.json", Some("scan output\n"), "not a netaudit JSON report"),
        ("future.json", Some(r#"{"schema_version": 99}"#), "schema version 99"),
        ("no-version.json", Some(r#"{"results": []}"#), "no schema_version"),
        (
            "truncated.json",
            Some(r#"{"schema_version": 3, "tool": {"name": "netaudit", "version": "0.1.0"}}"#),
            "missing field",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        if let Some(text) = text {
            std::fs::write(&path, text).unwrap();
        }
        let (stdout, stderr, code) = report(&path, &[]);
        assert_eq!(code, 64, "{name}: {stderr}");
        assert!(stdout.is_empty(), "{name}");
        assert!(stderr.contains(name) && stderr.contains(expected), "{name}: {stderr}");
    }
}

#[test]
fn a_report_of_the_previous_schema_version_still_renders() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = estate();
    let saved = saved_report(dir.path(), &["--evidence", evidence.to_str().unwrap()]);
    // Version 2 had no scan time, source, read_from or control documentation.
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    json["schema_version"] = 2.into();
    let object = json.as_object_mut().unwrap();
    object.remove("scanned_at");
    object.remove("source");
    for control in json["controls"].as_array_mut().unwrap() {
        let control = control.as_object_mut().unwrap();
        for key in [
            "summary",
            "resource_type",
            "aws_config_rule",
            "frameworks",
            "remediation",
            "references",
            "help",
        ] {
            control.remove(key);
        }
    }
    for result in json["results"].as_array_mut().unwrap() {
        result.as_object_mut().unwrap().remove("read_from");
    }
    let old = dir.path().join("v2.json");
    std::fs::write(&old, json.to_string()).unwrap();
    // ASFF needs the scan's time, which version 2 did not record.
    for format in FORMATS.iter().filter(|f| **f != "asff") {
        let (out, stderr, code) = report(&old, &["--format", format]);
        assert_eq!(code, 3, "{format}: {stderr}");
        assert!(!out.is_empty(), "{format}");
    }
    let (out, stderr, code) = report(&old, &["--format", "asff"]);
    assert_eq!((out.as_str(), code), ("", 64), "{stderr}");
    assert!(stderr.contains("ASFF needs the scan's time"), "{stderr}");
}

#[test]
fn a_report_is_dated_now_unless_source_date_epoch_says_otherwise() {
    let evidence = estate();
    let (json, _, _) = run(netaudit()
        .env_remove("SOURCE_DATE_EPOCH")
        .args(["scan", "--format", "json", "--evidence"])
        .arg(&evidence));
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let scanned_at = json["scanned_at"].as_str().unwrap();
    assert!(scanned_at.len() == 20 && scanned_at.ends_with('Z'), "{scanned_at}");
    assert!(scanned_at[..4] >= *"2026", "{scanned_at}");
    let (_, stderr, code) = run(netaudit()
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .args(["scan", "--evidence"])
        .arg(&evidence));
    assert_eq!(code, 64);
    assert!(stderr.contains("SOURCE_DATE_EPOCH"), "{stderr}");
}
