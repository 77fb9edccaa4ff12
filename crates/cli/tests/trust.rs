//! Results never lost on the way out: a result's identity is (control, resource, account, region)
//! everywhere, unread regions are rows, CSV cannot carry a formula, controls and exceptions never go
//! missing in silence, and `fix plan` says what it could not read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use binary::{netaudit, run};
use std::path::Path;

/// Write a small evidence tree: (relative path, contents).
fn evidence(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(full, text).expect("write");
    }
    dir
}

/// An account scanned in us-east-1 only: its region list and the scope that says so.
fn one_region(account: &str) -> Vec<(String, String)> {
    vec![
        (
            format!("{account}/ec2-describe-regions.json"),
            r#"{"Regions": [{"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"}]}"#.to_owned(),
        ),
        (
            format!("{account}/netaudit-region-scope.json"),
            r#"{"Regions": ["us-east-1"]}"#.to_owned(),
        ),
    ]
}

fn files(list: &[(String, String)]) -> Vec<(&str, String)> {
    list.iter().map(|(p, t)| (p.as_str(), t.clone())).collect()
}

/// A shared VPC seen from its owner (111…) and from a participant (222…).
fn shared_vpc(owner_logs: bool) -> tempfile::TempDir {
    let vpc = r#"{"Vpcs": [{"VpcId": "vpc-0shared", "OwnerId": "111111111111", "IsDefault": false, "State": "available", "Tags": [{"Key": "Name", "Value": "shared"}]}]}"#;
    let owner_flow = if owner_logs {
        r#"{"FlowLogs": [{"FlowLogId": "fl-1", "FlowLogStatus": "ACTIVE", "ResourceId": "vpc-0shared", "TrafficType": "ALL", "DeliverLogsStatus": "SUCCESS", "LogDestinationType": "cloud-watch-logs", "LogGroupName": "/flow"}]}"#
    } else {
        r#"{"FlowLogs": []}"#
    };
    let mut list = one_region("111111111111");
    list.extend(one_region("222222222222"));
    list.extend([
        (
            "111111111111/us-east-1/ec2-describe-vpcs.json".to_owned(),
            vpc.to_owned(),
        ),
        (
            "222222222222/us-east-1/ec2-describe-vpcs.json".to_owned(),
            vpc.to_owned(),
        ),
        (
            "111111111111/us-east-1/ec2-describe-flow-logs.json".to_owned(),
            owner_flow.to_owned(),
        ),
        (
            "222222222222/us-east-1/ec2-describe-flow-logs.json".to_owned(),
            r#"{"FlowLogs": []}"#.to_owned(),
        ),
    ]);
    evidence(&files(&list))
}

fn scan_json(dir: &Path, extra: &[&str]) -> (serde_json::Value, String, i32) {
    let (out, err, code) = run(netaudit()
        .args(["scan", "--checks", "EC2.6", "--format", "json", "--evidence"])
        .arg(dir)
        .args(extra));
    (serde_json::from_str(&out).unwrap_or(serde_json::Value::Null), err, code)
}

#[test]
fn diff_never_lets_a_participants_not_applicable_stand_for_the_owners_fail() {
    let (before_dir, after_dir) = (shared_vpc(true), shared_vpc(false));
    let (before, _, _) = scan_json(before_dir.path(), &[]);
    let (after, _, code) = scan_json(after_dir.path(), &[]);
    assert_eq!(code, 1, "the owner's VPC fails: {after}");
    let statuses: Vec<(String, String)> = after["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["account_id"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&("111111111111".into(), "FAIL".into())),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&("222222222222".into(), "NOT_APPLICABLE".into())),
        "{statuses:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old.json"), dir.path().join("new.json"));
    std::fs::write(&old, before.to_string()).unwrap();
    std::fs::write(&new, after.to_string()).unwrap();
    let (out, err, code) = run(netaudit().args(["diff", "--format", "json"]).arg(&old).arg(&new));
    assert_eq!(code, 1, "a newly open result fails the diff: {out}{err}");
    let diff: serde_json::Value = serde_json::from_str(&out).unwrap();
    let new_entries = diff["controls"][0]["new"].as_array().unwrap();
    assert_eq!(new_entries.len(), 1, "{diff}");
    assert_eq!(new_entries[0]["account_id"], "111111111111");
    assert_eq!(new_entries[0]["after"], "FAIL");
}

#[test]
fn csv_cells_cannot_become_formulas_and_muted_rows_carry_their_exception() {
    let mut list = one_region("111111111111");
    list.extend([
        (
            "111111111111/us-east-1/ec2-describe-vpcs.json".to_owned(),
            r#"{"Vpcs": [
                {"VpcId": "vpc-0a", "OwnerId": "111111111111", "IsDefault": false, "Tags": [{"Key": "Name", "Value": "=HYPERLINK(\"http://example.invalid\",\"x\")"}]},
                {"VpcId": "vpc-0b", "OwnerId": "111111111111", "IsDefault": false, "Tags": [{"Key": "Name", "Value": "@SUM(1+1)"}]}
            ]}"#
            .to_owned(),
        ),
        (
            "111111111111/us-east-1/ec2-describe-flow-logs.json".to_owned(),
            r#"{"FlowLogs": []}"#.to_owned(),
        ),
    ]);
    let dir = evidence(&files(&list));
    let outside = tempfile::tempdir().unwrap();
    let exceptions = outside.path().join("exceptions.toml");
    std::fs::write(
        &exceptions,
        r#"[[exception]]
control = "EC2.6"
resource = "arn:aws:ec2:us-east-1:111111111111:vpc/vpc-0b"
owner = "network-team@example.com"
reason = "lab VPC"
ticket = "SEC-7"
expires = 2099-12-31
"#,
    )
    .unwrap();
    let (out, err, code) = run(netaudit()
        .args(["scan", "--checks", "EC2.6", "--format", "csv", "--evidence"])
        .arg(dir.path())
        .arg("--exceptions")
        .arg(&exceptions));
    assert_eq!(code, 1, "{err}");
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    for row in &rows {
        for cell in row.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a cell a spreadsheet would run: {cell:?}"
            );
        }
    }
    let a = rows.iter().find(|r| &r[col("resource_id")] == "vpc-0a").unwrap();
    assert_eq!(
        &a[col("resource_name")],
        "'=HYPERLINK(\"http://example.invalid\",\"x\")"
    );
    let b = rows.iter().find(|r| &r[col("resource_id")] == "vpc-0b").unwrap();
    assert_eq!(&b[col("status")], "MUTED");
    assert_eq!(&b[col("resource_name")], "'@SUM(1+1)");
    assert_eq!(&b[col("exception_owner")], "network-team@example.com");
    assert_eq!(&b[col("exception_ticket")], "SEC-7");
    assert_eq!(&b[col("exception_expires")], "2099-12-31");
    assert_eq!(&b[col("exception_state")], "active");
}

#[test]
fn regions_that_were_never_read_are_unknown_rows_in_every_format() {
    // The region list could not be read and only us-east-1 was: every other region may hold VPCs.
    let dir = evidence(&[
        (
            "111111111111/ec2-describe-regions.error",
            "\nAn error occurred (UnauthorizedOperation) when calling the DescribeRegions operation: denied\n".into(),
        ),
        (
            "111111111111/us-east-1/ec2-describe-vpcs.json",
            r#"{"Vpcs": []}"#.into(),
        ),
        (
            "111111111111/us-east-1/ec2-describe-flow-logs.json",
            r#"{"FlowLogs": []}"#.into(),
        ),
    ]);
    let (out, _, code) = run(netaudit()
        .args(["scan", "--checks", "EC2.6", "--format", "csv", "--evidence"])
        .arg(dir.path()));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("EC2.6,UNKNOWN,") && l.contains(",*,") && l.contains("vpc/*")),
        "a row stands for the unread regions: {out}"
    );

    // A filtered region list: the default regions it leaves out are enabled, and unread.
    let dir = evidence(&[
        (
            "111111111111/ec2-describe-regions.json",
            r#"{"Regions": [{"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"}]}"#.into(),
        ),
        (
            "111111111111/us-east-1/ec2-describe-vpcs.json",
            r#"{"Vpcs": []}"#.into(),
        ),
        (
            "111111111111/us-east-1/ec2-describe-flow-logs.json",
            r#"{"FlowLogs": []}"#.into(),
        ),
    ]);
    let (report, _, code) = scan_json(dir.path(), &[]);
    assert_eq!(code, 2);
    assert_eq!(report["coverage"]["complete"], false);
    let unknown_regions: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "UNKNOWN")
        .map(|r| r["region"].as_str().unwrap())
        .collect();
    assert!(
        unknown_regions.contains(&"eu-west-1") && unknown_regions.contains(&"us-west-2"),
        "{unknown_regions:?}"
    );

    // An empty region list is not a complete one.
    let dir = evidence(&[
        ("111111111111/ec2-describe-regions.json", r#"{"Regions": []}"#.into()),
        (
            "111111111111/us-east-1/ec2-describe-vpcs.json",
            r#"{"Vpcs": []}"#.into(),
        ),
        (
            "111111111111/us-east-1/ec2-describe-flow-logs.json",
            r#"{"FlowLogs": []}"#.into(),
        ),
    ]);
    let (report, _, code) = scan_json(dir.path(), &[]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(report["coverage"]["complete"], false);
    assert!(report["results"].as_array().unwrap().iter().any(|r| r["region"] == "*"));
}

#[test]
fn a_checks_dir_never_loses_a_control_in_silence() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(
        Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default())
            .join("../checks/catalogue/EC2.51/control.toml"),
    )
    .unwrap()
    .replace("id = \"EC2.51\"", "id = \"ACME.CVPN\"");
    // The control's file under the wrong name, and a control whose id is not its folder's.
    std::fs::create_dir_all(dir.path().join("ACME.CVPN")).unwrap();
    std::fs::write(dir.path().join("ACME.CVPN/controls.toml"), &good).unwrap();
    std::fs::create_dir_all(dir.path().join("ACME.OTHER")).unwrap();
    std::fs::write(dir.path().join("ACME.OTHER/control.toml"), &good).unwrap();
    let (_, err, code) = run(netaudit().args(["checks", "--checks-dir"]).arg(dir.path()));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("ACME.CVPN") && err.contains("control.toml, which is missing"),
        "{err}"
    );
    assert!(err.contains("does not match its folder ACME.OTHER"), "{err}");
}

fn exceptions_file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
    f
}

fn exception(resource: &str, expires: &str, extra: &str) -> String {
    format!(
        "[[exception]]\ncontrol = \"EC2.6\"\nresource = \"{resource}\"\nowner = \"o@example.com\"\nreason = \"r\"\nticket = \"T-1\"\nexpires = {expires}\n{extra}\n"
    )
}

#[test]
fn exceptions_are_strict_and_an_active_one_wins_whatever_the_order() {
    let dir = shared_vpc(false);
    let arn = "arn:aws:ec2:us-east-1:111111111111:vpc/vpc-0shared";
    let expired = exception(arn, "2020-01-31", "");
    let active = exception(arn, "2099-01-31", "");
    for text in [format!("{expired}{active}"), format!("{active}{expired}")] {
        let f = exceptions_file(&text);
        let (report, err, code) = scan_json(dir.path(), &["--exceptions", f.path().to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let owner = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["account_id"] == "111111111111")
            .unwrap();
        assert_eq!(owner["status"], "MUTED", "{text}");
        assert_eq!(owner["exception"]["state"], "active");
    }

    // A date that does not exist, written as a TOML date or as a string.
    for expires in ["2027-02-31", "\"2027-02-31\"", "\"2027-04-31\"", "\"2026-02-29\""] {
        let f = exceptions_file(&exception(arn, expires, ""));
        let (_, err, code) = scan_json(dir.path(), &["--exceptions", f.path().to_str().unwrap()]);
        assert_eq!(code, 64, "{expires}: {err}");
        assert!(err.contains(":7:"), "{expires}: {err}");
    }
    let f = exceptions_file(&exception(arn, "\"2028-02-29\"", ""));
    let (_, err, code) = scan_json(dir.path(), &["--exceptions", f.path().to_str().unwrap()]);
    assert_eq!(code, 0, "a leap day exists: {err}");

    for everything in ["arn:*", "arn:aws:ec2:*", "arn:aws:ec2:*:*:vpc/*"] {
        let f = exceptions_file(&exception(everything, "2099-01-31", ""));
        let (_, err, code) = scan_json(dir.path(), &["--exceptions", f.path().to_str().unwrap()]);
        assert_eq!(code, 64, "{everything}");
        assert!(
            err.contains("every resource of EC2.6") && err.contains("scope = \"all\""),
            "{err}"
        );
        let f = exceptions_file(&exception(everything, "2099-01-31", "scope = \"all\""));
        let (report, err, code) = scan_json(dir.path(), &["--exceptions", f.path().to_str().unwrap()]);
        assert_eq!(code, 0, "{everything}: {err}");
        assert_eq!(report["totals"]["MUTED"], 1);
    }
    // One account's VPCs is a choice, not everything.
    let f = exceptions_file(&exception("arn:aws:ec2:*:111111111111:vpc/*", "2099-01-31", ""));
    let (_, err, code) = scan_json(dir.path(), &["--exceptions", f.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn fix_plan_lists_what_it_could_not_read_and_says_incomplete() {
    let denied = "\nAn error occurred (UnauthorizedOperation) when calling the DescribeFlowLogs operation: You are not authorized to perform this operation.\n";
    let mut list = one_region("111111111111");
    list.extend([
        (
            "111111111111/us-east-1/ec2-describe-vpcs.json".to_owned(),
            r#"{"Vpcs": [{"VpcId": "vpc-0a", "OwnerId": "111111111111", "IsDefault": true}]}"#.to_owned(),
        ),
        (
            "111111111111/us-east-1/ec2-describe-flow-logs.error".to_owned(),
            denied.to_owned(),
        ),
    ]);
    let dir = evidence(&files(&list));
    let (out, err, code) = run(netaudit()
        .args(["fix", "plan", "--checks", "EC2.6", "--format", "json", "--evidence"])
        .arg(dir.path()));
    assert_eq!(code, 2, "nothing to do, but not clean: {out}{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(plan["batches"].as_array().unwrap().is_empty());
    let unreadable = plan["unreadable"].as_array().unwrap();
    assert_eq!(unreadable.len(), 1, "{plan}");
    assert_eq!(unreadable[0]["control"], "EC2.6");
    assert_eq!(
        unreadable[0]["resource_arn"],
        "arn:aws:ec2:us-east-1:111111111111:vpc/vpc-0a"
    );
    assert_eq!(unreadable[0]["gaps"][0]["code"], "UnauthorizedOperation");
    assert!(err.contains("could not be read"), "{err}");

    let (out, _, code) = run(netaudit()
        .args(["fix", "plan", "--checks", "EC2.6", "--evidence"])
        .arg(dir.path()));
    assert_eq!(code, 2);
    assert!(out.contains("could not be read"), "the table says so too: {out}");
}

#[test]
fn an_unknown_result_names_only_the_gaps_that_hid_it() {
    // In 111111111111/eu-west-1 of the example estate two unrelated listings failed: flow logs
    // (AccessDenied) and Client VPN endpoints (UnauthorizedOperation). Each UNKNOWN names its own.
    let estate = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap()).join("../../examples/estate");
    let (out, _, code) = run(netaudit().args(["scan", "--format", "json", "--evidence"]).arg(&estate));
    assert_eq!(code, 3);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let unknown: Vec<&serde_json::Value> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "UNKNOWN")
        .collect();
    let apis = |control: &str, resource: &str| -> Vec<String> {
        let result = unknown
            .iter()
            .find(|r| r["control"] == control && r["resource_id"] == resource && r["region"] == "eu-west-1")
            .unwrap_or_else(|| panic!("no UNKNOWN {control} {resource}"));
        result["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["api"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(apis("EC2.6", "vpc-0a1b2c3d4e5f60011"), ["ec2:DescribeFlowLogs"]);
    assert_eq!(apis("EC2.51", "*"), ["ec2:DescribeClientVpnEndpoints"]);
    assert_eq!(apis("NETAUDIT.FLOWLOG.DELIVERY", "*"), ["ec2:DescribeFlowLogs"]);
    // And no UNKNOWN anywhere cites a gap of another account or region (account-wide reads aside).
    for r in &unknown {
        let gaps = r["gaps"].as_array().unwrap();
        assert!(!gaps.is_empty(), "{r}");
        for g in gaps {
            let same_place = g["account"] == "" || (g["account"] == r["account_id"] && g["region"] == r["region"]);
            assert!(same_place, "{} {} cites {g}", r["control"], r["resource_id"]);
        }
        let reason = r["reason"].as_str().unwrap();
        assert!(reason.contains(gaps[0]["api"].as_str().unwrap()), "{reason}");
    }
}
