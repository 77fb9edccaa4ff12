//! Everything a user sees, through the binary: reports, exit codes, errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use assert_cmd::Command;
use binary::netaudit;
use std::path::{Path, PathBuf};

fn estate() -> PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../examples/estate")
}

fn stdout_of(cmd: &mut Command) -> (String, String, i32) {
    let out = cmd.output().expect("netaudit runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// Write a small evidence tree: (relative path, contents). Like `scan --regions … --save-evidence`,
/// an account whose region list is given was scanned in those regions only: the scope file says so
/// (the filtered-list cases are in tests/trust.rs).
fn evidence(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(full, text).expect("write");
        if let Some(account) = path.strip_suffix("/ec2-describe-regions.json") {
            let listed: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
            let regions: Vec<&str> = listed["Regions"]
                .as_array()
                .map(|list| list.iter().filter_map(|r| r["RegionName"].as_str()).collect())
                .unwrap_or_default();
            let scope = dir.path().join(account).join("netaudit-region-scope.json");
            std::fs::write(scope, serde_json::json!({ "Regions": regions }).to_string()).expect("write");
        }
    }
    dir
}

const REGIONS: (&str, &str) = (
    "111111111111/ec2-describe-regions.json",
    r#"{"Regions": [{"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"}, {"RegionName": "eu-west-1", "OptInStatus": "opt-in-not-required"}]}"#,
);
const VPC_WITH_LOG: &[(&str, &str)] = &[
    REGIONS,
    (
        "111111111111/us-east-1/ec2-describe-vpcs.json",
        r#"{"Vpcs": [{"VpcId": "vpc-1", "OwnerId": "111111111111", "IsDefault": false}]}"#,
    ),
    (
        "111111111111/us-east-1/ec2-describe-flow-logs.json",
        r#"{"FlowLogs": [{"FlowLogId": "fl-1", "FlowLogStatus": "ACTIVE", "ResourceId": "vpc-1", "TrafficType": "ALL", "DeliverLogsStatus": "SUCCESS", "LogDestinationType": "cloud-watch-logs", "LogGroupName": "/flow"}]}"#,
    ),
];
const VPC_WITHOUT_LOG: &[(&str, &str)] = &[
    REGIONS,
    (
        "111111111111/us-east-1/ec2-describe-vpcs.json",
        r#"{"Vpcs": [{"VpcId": "vpc-1", "OwnerId": "111111111111", "IsDefault": true}]}"#,
    ),
    (
        "111111111111/us-east-1/ec2-describe-flow-logs.json",
        r#"{"FlowLogs": []}"#,
    ),
];

fn only_east_regions() -> (&'static str, &'static str) {
    (
        "111111111111/ec2-describe-regions.json",
        r#"{"Regions": [{"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"}]}"#,
    )
}

#[test]
fn scan_of_the_example_estate_table() {
    let (out, err, code) = stdout_of(
        netaudit()
            .args(["scan", "--evidence"])
            .arg(estate())
            .args(["--color", "never"]),
    );
    assert_eq!(code, 3, "failures and incomplete coverage: {err}");
    insta::assert_snapshot!("estate_table", out);
}

#[test]
fn scan_of_the_example_estate_csv() {
    let (out, _, code) = stdout_of(netaudit().args(["scan", "--format", "csv", "--evidence"]).arg(estate()));
    assert_eq!(code, 3);
    insta::assert_snapshot!("estate_csv", out);
}

#[test]
fn json_report_matches_its_schema_and_the_seed_verdicts() {
    let (out, _, code) = stdout_of(
        netaudit()
            .args(["scan", "--format", "json", "--evidence"])
            .arg(estate()),
    );
    assert_eq!(code, 3);
    let report: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default())
                .join("../../schemas/scan-report.schema.json"),
        )
        .expect("schema file"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // The stored CIS check, run verbatim: the default VPC fails, eu-west-1 is unknown (flow logs
    // denied), the shared VPC does not apply, and a region never collected is one unknown.
    let verdict = |id: &str| {
        report["results"]
            .as_array()
            .and_then(|r| {
                r.iter()
                    .find(|f| f["control"] == "CIS.VPC.FLOWLOGS" && f["resource_id"] == id)
            })
            .map(|f| f["status"].as_str().unwrap_or("").to_owned())
    };
    assert_eq!(verdict("vpc-0a1b2c3d4e5f60001").as_deref(), Some("PASS"));
    assert_eq!(verdict("vpc-0a1b2c3d4e5f60002").as_deref(), Some("FAIL"));
    assert_eq!(
        verdict("vpc-0a1b2c3d4e5f60003").as_deref(),
        Some("PASS"),
        "ACCEPT-only still satisfies CIS"
    );
    assert_eq!(verdict("vpc-0a1b2c3d4e5f60011").as_deref(), Some("UNKNOWN"));
    assert_eq!(verdict("vpc-0c9d8e7f6a5b40001").as_deref(), Some("NOT_APPLICABLE"));
    assert!(report["coverage"]["disabled_regions"]
        .as_array()
        .is_some_and(|d| d.len() == 2));
}

#[test]
fn exit_codes_tell_clean_failures_and_incomplete_apart() {
    let only_east = (
        "111111111111/ec2-describe-regions.json",
        r#"{"Regions": [{"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"}, {"RegionName": "af-south-1", "OptInStatus": "not-opted-in"}]}"#,
    );
    let clean = evidence(&[only_east, VPC_WITH_LOG[1], VPC_WITH_LOG[2]]);
    let (out, _, code) = stdout_of(
        netaudit()
            .args(["scan", "--checks", "EC2.6", "--evidence"])
            .arg(clean.path()),
    );
    assert_eq!(code, 0, "{out}");

    // Without the region list, a region could be missing unseen: incomplete.
    let unlisted = evidence(&VPC_WITH_LOG[1..]);
    let (out, _, code) = stdout_of(
        netaudit()
            .args(["scan", "--checks", "EC2.6", "--evidence"])
            .arg(unlisted.path()),
    );
    assert_eq!(code, 2, "{out}");

    let failing = evidence(&[only_east, VPC_WITHOUT_LOG[1], VPC_WITHOUT_LOG[2]]);
    let (out, _, code) = stdout_of(
        netaudit()
            .args(["scan", "--checks", "EC2.6", "--evidence"])
            .arg(failing.path()),
    );
    assert_eq!(code, 1, "{out}");

    let mut denied = VPC_WITH_LOG.to_vec();
    denied[0] = only_east;
    denied[2] = (
        "111111111111/us-east-1/ec2-describe-flow-logs.error",
        "An error occurred (AccessDenied) when calling the DescribeFlowLogs operation: denied",
    );
    let incomplete = evidence(&denied);
    let (out, _, code) = stdout_of(
        netaudit()
            .args(["scan", "--checks", "EC2.6", "--evidence"])
            .arg(incomplete.path()),
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("UNKNOWN") && out.contains("ec2:DescribeFlowLogs AccessDenied"),
        "{out}"
    );
    assert!(!out.contains("PASS  "), "a denied read is never PASS: {out}");

    let both = evidence(&[
        VPC_WITHOUT_LOG[0],
        VPC_WITHOUT_LOG[1],
        VPC_WITHOUT_LOG[2],
        (
            "111111111111/eu-west-1/ec2-describe-vpcs.error",
            "An error occurred (UnauthorizedOperation) when calling the DescribeVpcs operation: no",
        ),
    ]);
    let (_, _, code) = stdout_of(
        netaudit()
            .args(["scan", "--checks", "EC2.6", "--evidence"])
            .arg(both.path()),
    );
    assert_eq!(code, 3);
}

#[test]
fn usage_errors_exit_64_with_a_clear_message() {
    // A live scan with no credentials anywhere cannot start; it says why and touches no network
    // (the instance metadata service is off, no profile or key exists).
    let without_credentials = |extra: &[&str]| {
        stdout_of(binary::without_aws_credentials(
            netaudit().args(["scan", "--regions", "us-east-1"]).args(extra),
        ))
    };
    // It says what to give instead, not the SDK's provider chain (unless asked).
    let (_, err, code) = without_credentials(&[]);
    assert_eq!(code, 64, "{err}");
    assert!(
        err.starts_with("netaudit: error: no AWS credentials: none in the environment"),
        "{err}"
    );
    for remedy in [
        "--profile NAME",
        "--role-arn ARN",
        "--evidence DIR",
        "netaudit evidence-script",
    ] {
        assert!(err.contains(remedy), "{remedy}: {err}");
    }
    assert!(!err.contains("Ec2InstanceMetadata"), "{err}");
    let (_, err, code) = without_credentials(&["--verbose"]);
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("the SDK said: sts:GetCallerIdentity"), "{err}");
    let (_, err, code) = without_credentials(&["--profile", "auditor"]);
    assert_eq!(code, 64, "{err}");
    assert!(
        err.contains("no AWS credentials: profile \"auditor\" gave none"),
        "{err}"
    );
    // A profile nobody typed is named with where it was set.
    let (_, err, code) = stdout_of(
        binary::without_aws_credentials(netaudit().args(["scan", "--regions", "us-east-1", "--no-config"]))
            .env("NETAUDIT_PROFILE", "from-env"),
    );
    assert_eq!(code, 64, "{err}");
    assert!(
        err.contains("profile \"from-env\" (set by NETAUDIT_PROFILE) gave none"),
        "{err}"
    );
    // A role is assumed with credentials one already has: it is no way out of having none.
    let (_, err, code) = without_credentials(&["--role-arn", "arn:aws:iam::111111111111:role/Audit"]);
    assert_eq!(code, 64, "{err}");
    assert!(
        err.contains("--role-arn is assumed with credentials you already have"),
        "{err}"
    );
    assert!(!err.contains("--role-arn ARN (assumed"), "{err}");
    // fix plan has no --verbose: it does not point at one, and says what the SDK said.
    let (_, err, code) = stdout_of(binary::without_aws_credentials(netaudit().args([
        "fix",
        "plan",
        "--regions",
        "us-east-1",
    ])));
    assert_eq!(code, 64, "{err}");
    assert!(
        err.contains("no AWS credentials") && err.contains("the SDK said:"),
        "{err}"
    );
    assert!(!err.contains("--verbose"), "{err}");

    let (_, err, code) = stdout_of(netaudit().args(["scan", "--evidence", "/nonexistent/evidence"]));
    assert_eq!(code, 64);
    assert!(err.contains("/nonexistent/evidence"), "{err}");

    let (_, err, code) = stdout_of(netaudit().args(["explain", "EC2.999"]));
    assert_eq!(code, 64);
    assert!(err.contains("unknown control id \"EC2.999\""), "{err}");

    let (_, err, code) = stdout_of(
        netaudit()
            .args(["scan", "--param", "EC2.6.trafic=ALL", "--evidence"])
            .arg(estate()),
    );
    assert_eq!(code, 64);
    assert!(
        err.contains("EC2.6 has no parameter \"trafic\" (it has: trafficType)"),
        "{err}"
    );

    // A parameter value is checked before anything runs: never a silent flip of verdicts.
    for (param, says) in [
        (
            "EC2.6.trafficType=reject",
            "EC2.6.trafficType must be one of ACCEPT, REJECT, ALL, not \"reject\"",
        ),
        (
            "CloudWatch.16.minRetentionTime=null",
            "CloudWatch.16.minRetentionTime needs a value",
        ),
        (
            "CloudWatch.16.minRetentionTime=abc",
            "must be an integer from 1 to 3653, not \"abc\"",
        ),
    ] {
        let (_, err, code) = stdout_of(netaudit().args(["scan", "--param", param, "--evidence"]).arg(estate()));
        assert_eq!(code, 64, "{param}: {err}");
        assert!(err.contains(says), "{param}: {err}");
    }
}

#[test]
fn an_unknown_check_id_is_reported_and_the_rest_still_runs() {
    let dir = evidence(&[only_east_regions(), VPC_WITH_LOG[1], VPC_WITH_LOG[2]]);
    let (out, err, code) = stdout_of(
        netaudit()
            .args(["scan", "--checks", "EC2.6,EC2.66", "--evidence"])
            .arg(dir.path()),
    );
    assert!(err.contains("unknown control id \"EC2.66\""), "{err}");
    assert!(out.contains("EC2.6 ") && out.contains("1 PASS"), "{out}");
    assert_eq!(code, 2, "an error makes the scan incomplete");
}

#[test]
fn malformed_evidence_names_file_line_and_column_and_the_rest_still_runs() {
    let dir = evidence(&[
        VPC_WITH_LOG[0],
        VPC_WITH_LOG[1],
        (
            "111111111111/us-east-1/ec2-describe-flow-logs.json",
            "{\n  \"FlowLogs\": [\n    {\"FlowLogId\": \"fl-1\",",
        ),
        (
            "111111111111/eu-west-1/ec2-describe-vpcs.json",
            r#"{"Vpcs": [{"VpcId": "vpc-2", "OwnerId": "111111111111"}]}"#,
        ),
        (
            "111111111111/eu-west-1/ec2-describe-flow-logs.json",
            r#"{"FlowLogs": []}"#,
        ),
    ]);
    let (out, err, code) = stdout_of(
        netaudit()
            .args(["scan", "--checks", "EC2.6", "--evidence"])
            .arg(dir.path()),
    );
    assert!(
        err.contains("111111111111/us-east-1/ec2-describe-flow-logs.json:3:"),
        "{err}"
    );
    assert!(
        out.contains("FAIL") && out.contains("vpc-2"),
        "eu-west-1 is still evaluated: {out}"
    );
    assert!(out.contains("UNKNOWN") && out.contains("vpc-1"), "{out}");
    assert_eq!(code, 3);
}

#[test]
fn a_wrong_layout_is_named() {
    let dir = evidence(&[
        VPC_WITH_LOG[0],
        VPC_WITH_LOG[1],
        VPC_WITH_LOG[2],
        ("prod-account/us-east-1/ec2-describe-vpcs.json", r#"{"Vpcs": []}"#),
        ("111111111111/us-east-1/ec2-describe-vpc.json", r#"{"Vpcs": []}"#),
    ]);
    let (out, err, code) = stdout_of(
        netaudit()
            .args(["scan", "--checks", "EC2.6", "--evidence"])
            .arg(dir.path()),
    );
    assert!(err.contains("prod-account"), "{err}");
    assert!(err.contains("ec2-describe-vpc.json"), "{err}");
    assert!(out.contains("1 PASS"), "the good account still scans: {out}");
    assert_eq!(code, 2);
}

#[test]
fn a_bad_query_names_line_and_column() {
    let dir = evidence(&[only_east_regions(), VPC_WITH_LOG[1], VPC_WITH_LOG[2]]);
    let (_, err, code) = stdout_of(
        netaudit()
            .args(["query", "vpcs(where: {hasFlowLogz: null}) { id }", "--evidence"])
            .arg(dir.path()),
    );
    assert_eq!(code, 64);
    assert!(
        err.contains("line 1, column 27") && err.contains("hasFlowLogz"),
        "{err}"
    );
}

#[test]
fn query_prints_matches_and_what_it_could_not_decide() {
    let dir = evidence(&[
        VPC_WITHOUT_LOG[0],
        VPC_WITHOUT_LOG[1],
        VPC_WITHOUT_LOG[2],
        (
            "111111111111/eu-west-1/ec2-describe-vpcs.json",
            r#"{"Vpcs": [{"VpcId": "vpc-2", "OwnerId": "111111111111"}]}"#,
        ),
        (
            "111111111111/eu-west-1/ec2-describe-flow-logs.error",
            "An error occurred (AccessDenied) when calling the DescribeFlowLogs operation: x",
        ),
    ]);
    let seed =
        r#"vpcs(where: {OR: [{hasFlowLog: null}, {hasFlowLog_NONE: {flowLogStatus: "ACTIVE"}}]}){...AssetFragment}"#;
    let (out, _, code) = stdout_of(netaudit().args(["query", seed, "--evidence"]).arg(dir.path()));
    assert_eq!(code, 2);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(doc["vpcs"]["matches"][0]["id"], "vpc-1");
    assert_eq!(
        doc["vpcs"]["matches"][0]["arn"],
        "arn:aws:ec2:us-east-1:111111111111:vpc/vpc-1"
    );
    assert_eq!(doc["vpcs"]["undetermined"][0]["asset"]["id"], "vpc-2");
}

#[test]
fn user_checks_load_and_a_broken_one_is_named_while_the_rest_run() {
    let checks = tempfile::tempdir().expect("dir");
    let good = std::fs::read_to_string(
        Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default())
            .join("../checks/catalogue/EC2.6/control.toml"),
    )
    .expect("EC2.6 exists")
    .replace("id = \"EC2.6\"", "id = \"ACME.1\"");
    std::fs::write(checks.path().join("acme-1.toml"), good.clone()).expect("write");
    let broken = good
        .replace("id = \"ACME.1\"", "id = \"ACME.2\"")
        .replace("hasFlowLog_NONE", "hasFlowLog_NEVER");
    std::fs::write(checks.path().join("acme-2.toml"), broken).expect("write");
    let dir = evidence(&[only_east_regions(), VPC_WITH_LOG[1], VPC_WITH_LOG[2]]);
    let (out, err, code) = stdout_of(
        netaudit()
            .args(["scan", "--checks", "ACME.1", "--checks-dir"])
            .arg(checks.path())
            .arg("--evidence")
            .arg(dir.path()),
    );
    assert!(
        err.contains("acme-2.toml:") && err.contains("hasFlowLog_NEVER"),
        "{err}"
    );
    assert!(out.contains("ACME.1") && out.contains("1 PASS"), "{out}");
    assert_eq!(code, 2);
}

#[test]
fn checks_list_and_explain() {
    let (out, _, code) = stdout_of(netaudit().args(["checks"]));
    assert_eq!(code, 0);
    insta::assert_snapshot!("checks", out);
    let (out, _, code) = stdout_of(netaudit().args(["explain", "ec2.51"]));
    assert_eq!(code, 0);
    insta::assert_snapshot!("explain_ec2_51", out);
}

#[test]
fn schema_is_printed() {
    let (out, _, code) = stdout_of(netaudit().args(["schema"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("type Vpc implements Asset") && out.contains("hasFlowLog_NONE: FlowLogWhere"),
        "{out}"
    );
}

#[test]
fn evidence_script_is_valid_bash() {
    let (out, _, code) = stdout_of(netaudit().args(["evidence-script"]));
    assert_eq!(code, 0);
    assert!(out.starts_with("#!"), "{out}");
    let dir = tempfile::tempdir().expect("dir");
    let script = dir.path().join("collect.sh");
    std::fs::write(&script, &out).expect("write");
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .expect("bash runs");
    assert!(status.success());
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let dir = evidence(VPC_WITHOUT_LOG);
    let (plain, _, _) = stdout_of(
        netaudit()
            .args(["scan", "--checks", "EC2.6", "--evidence"])
            .arg(dir.path()),
    );
    assert!(!plain.contains('\x1b'), "not a terminal: no colour");
    let (coloured, _, _) = stdout_of(
        netaudit()
            .args(["scan", "--checks", "EC2.6", "--color", "always", "--evidence"])
            .arg(dir.path()),
    );
    assert!(coloured.contains("\x1b[1;31mFAIL"), "{coloured}");
    // An explicit request wins over NO_COLOR (no-color.org); `auto` never colours with NO_COLOR set.
    let (asked, _, _) = stdout_of(
        netaudit()
            .env("NO_COLOR", "1")
            .args(["scan", "--checks", "EC2.6", "--color", "always", "--evidence"])
            .arg(dir.path()),
    );
    assert!(asked.contains("\x1b[1;31mFAIL"), "{asked}");
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let bin = assert_cmd::cargo::cargo_bin("netaudit");
    let mut child = std::process::Command::new(bin)
        .args(["scan", "--show-pass", "--evidence"])
        .arg(estate())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Read one byte and close the pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut byte = [0u8; 1];
    std::io::Read::read_exact(&mut stdout, &mut byte).expect("one byte");
    drop(stdout);
    let out = child.wait_with_output().expect("exits");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("internal error") && !err.contains("panicked"), "{err}");
}

#[test]
fn output_file_gets_the_report() {
    let dir = evidence(&[only_east_regions(), VPC_WITHOUT_LOG[1], VPC_WITHOUT_LOG[2]]);
    let out_dir = tempfile::tempdir().expect("dir");
    let file = out_dir.path().join("report.csv");
    let (stdout, _, code) = stdout_of(
        netaudit()
            .args(["scan", "--checks", "EC2.6", "--format", "csv", "-o"])
            .arg(&file)
            .arg("--evidence")
            .arg(dir.path()),
    );
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    let csv = std::fs::read_to_string(file).expect("written");
    assert!(
        csv.starts_with("control,status,severity,account_id,region,resource_type,resource_id"),
        "{csv}"
    );
    assert!(
        csv.contains("EC2.6,FAIL,medium,111111111111,us-east-1,Vpc,vpc-1"),
        "{csv}"
    );
}

#[test]
fn a_shared_vpc_takes_its_flow_logs_from_its_owner() {
    // 111111111111 sees vpc-0c9d8e7f6a5b40001 shared from 222222222222, whose view has its flow log.
    let query = r#"vpcs(where: {isShared: true}) { id accountId hasFlowLog { id trafficType } }"#;
    let (out, _, _) = stdout_of(netaudit().args(["query", query, "--evidence"]).arg(estate()));
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let shared = &doc["vpcs"]["matches"][0];
    assert_eq!(shared["id"], "vpc-0c9d8e7f6a5b40001");
    assert_eq!(shared["accountId"], "111111111111");
    assert_eq!(shared["hasFlowLog"][0]["trafficType"], "ALL", "{out}");
}

#[test]
fn the_example_readme_lists_exactly_what_a_scan_gives() {
    let (out, _, _) = stdout_of(
        netaudit()
            .args(["scan", "--format", "json", "--evidence"])
            .arg(estate()),
    );
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let readme = std::fs::read_to_string(estate().join("../README.md")).expect("examples/README.md");
    let results = report["results"].as_array().expect("results");
    for control in report["controls"].as_array().expect("controls") {
        let id = control["id"].as_str().expect("id");
        let cells: Vec<String> = ["PASS", "FAIL", "UNKNOWN", "NOT_APPLICABLE"]
            .iter()
            .map(|status| {
                let items: Vec<String> = results
                    .iter()
                    .filter(|f| f["control"] == id && f["status"] == *status)
                    .map(|f| {
                        let rid = f["resource_id"].as_str().unwrap_or("");
                        if rid == "*" {
                            let account = f["account_id"].as_str().unwrap_or("");
                            format!(
                                "`*` ({}…/{})",
                                &account[..3.min(account.len())],
                                f["region"].as_str().unwrap_or("")
                            )
                        } else {
                            format!("`{rid}`")
                        }
                    })
                    .collect();
                if items.is_empty() {
                    "—".to_owned()
                } else {
                    items.join(", ")
                }
            })
            .collect();
        let row = format!("| {id} | {} |", cells.join(" | "));
        assert!(
            readme.contains(&row),
            "examples/README.md is missing or has a stale row:\n{row}"
        );
    }
}

#[test]
fn iam_policy_is_read_only_and_complete() {
    let (out, _, code) = stdout_of(netaudit().args(["iam-policy", "--org"]));
    assert_eq!(code, 0);
    let policy: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let actions: Vec<&str> = policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .flat_map(|s| match &s["Action"] {
            serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>(),
            serde_json::Value::String(a) => vec![a.as_str()],
            _ => vec![],
        })
        .collect();
    for needed in [
        "ec2:DescribeFlowLogs",
        "s3:ListAllMyBuckets",
        "organizations:ListAccounts",
        "sts:AssumeRole",
    ] {
        assert!(actions.contains(&needed), "{needed} missing: {actions:?}");
    }
    let writes: Vec<&&str> = actions
        .iter()
        .filter(|a| {
            !["Describe", "List", "Get"]
                .iter()
                .any(|p| a.split(':').nth(1).is_some_and(|op| op.starts_with(p)))
        })
        .filter(|a| **a != "sts:AssumeRole")
        .collect();
    assert!(writes.is_empty(), "not read-only: {writes:?}");
}
