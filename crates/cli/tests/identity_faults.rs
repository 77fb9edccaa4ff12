#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A scan always ends with a report. Through a fault-injecting proxy in front of the moto emulator,
//! sts:GetCallerIdentity fails — HTTP 500 or a dropped connection, a few times or for good — and the
//! scan still writes its report: retried failures leave no trace, an account named another way is
//! scanned as usual, and an account nothing names is in every format as `unknown`, every listing
//! UNKNOWN with the STS error, exit 2 (3 with FAILs). Exit 64 stays for usage errors.

#[path = "../../aws/tests/support/moto_server.rs"]
mod moto_server;

#[path = "support/binary.rs"]
mod binary;
#[path = "../../aws/tests/support/fault_proxy.rs"]
mod fault_proxy;

use assert_cmd::Command;
use fault_proxy::{Fault, FaultProxy, Rule};
use moto_server::{venv_bin, Moto};
use serde_json::Value;
use std::path::Path;

const ACCOUNT: &str = "123456789012";
const GET_CALLER_IDENTITY: &str = "GetCallerIdentity";

/// `netaudit scan` of us-east-1 through `endpoint`, with the emulator's keys and nothing else from
/// the environment (no profile, no instance metadata).
fn scan(endpoint: &str, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::cargo_bin("netaudit").unwrap();
    binary::with_emulator_keys(&mut cmd)
        .env("NO_COLOR", "1")
        .args(["scan", "--regions", "us-east-1", "--checks", "EC2.6", "--timeout", "10"])
        .args(["--endpoint-url", endpoint])
        .args(args);
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&out.stdout), text(&out.stderr)))
}

fn valid_report(report: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default())
                .join("../../schemas/scan-report.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(report).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// (status, account, resource ARN) of every result, sorted.
fn verdicts(report: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap().to_owned(),
                r["account_id"].as_str().unwrap().to_owned(),
                r["resource_arn"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn accounts(report: &Value) -> Vec<&str> {
    report["coverage"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect()
}

/// The report of an account nothing could name: `unknown`, every result UNKNOWN because of
/// sts:GetCallerIdentity failing with `code`.
fn assert_unknown_account(report: &Value, code: &str) {
    valid_report(report);
    assert_eq!(accounts(report), ["unknown"]);
    assert_eq!(report["coverage"]["complete"], false);
    assert_eq!(report["outcome"], "incomplete");
    let results = report["results"].as_array().unwrap();
    assert!(!results.is_empty(), "the unread account is reported, not left out");
    for result in results {
        assert_eq!(result["status"], "UNKNOWN", "{result:#}");
        assert_eq!(result["account_id"], "unknown", "{result:#}");
        let gaps = result["gaps"].as_array().unwrap();
        assert!(
            gaps.iter()
                .any(|g| g["api"] == "sts:GetCallerIdentity" && g["code"] == code && g["account"] == "unknown"),
            "{result:#}"
        );
    }
    assert!(
        report["coverage"]["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["api"] == "sts:GetCallerIdentity" && g["code"] == code),
        "{:#}",
        report["coverage"]
    );
}

#[test]
fn transient_failures_of_get_caller_identity_are_retried_and_leave_no_trace() {
    let moto = Moto::start();
    let direct = scan(&moto.url, &["--format", "json"]);
    assert_eq!(direct.status.code(), Some(1), "{}", text(&direct.stderr));
    let expected = json(&direct);
    assert_eq!(accounts(&expected), [ACCOUNT]);

    for fault in [Fault::ServerError, Fault::Drop] {
        let proxy = FaultProxy::start(&moto.url, vec![Rule::first(2, GET_CALLER_IDENTITY, fault.clone())]);
        let out = scan(&proxy.url, &["--format", "json"]);
        assert_eq!(out.status.code(), Some(1), "{fault:?}: {}", text(&out.stderr));
        let report = json(&out);
        assert_eq!(verdicts(&report), verdicts(&expected), "{fault:?}");
        assert_eq!(report["coverage"], expected["coverage"], "{fault:?}");
        // Failed twice, then answered: the SDK retried it like any other call.
        assert_eq!((proxy.failed(0), proxy.seen(GET_CALLER_IDENTITY)), (2, 3), "{fault:?}");
    }
}

#[test]
fn when_sts_keeps_failing_the_credentials_or_the_default_vpc_name_the_account() {
    let moto = Moto::start();
    let direct = scan(&moto.url, &["--format", "json"]);
    let expected = json(&direct);

    // Plain access keys name no account; the owner of the home region's default VPC does.
    let proxy = FaultProxy::start(&moto.url, vec![Rule::always(GET_CALLER_IDENTITY, Fault::ServerError)]);
    let out = scan(&proxy.url, &["--format", "json", "--max-attempts", "3"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json(&out);
    assert_eq!(verdicts(&report), verdicts(&expected));
    assert_eq!(proxy.seen(GET_CALLER_IDENTITY), 3, "retried to the attempt budget");

    // An assumed role's credentials carry the role's account, whatever STS's GetCallerIdentity does.
    let member = "210987654321";
    let role = format!("arn:aws:iam::{member}:role/audit");
    let proxy = FaultProxy::start(
        &moto.url,
        vec![
            Rule::always(GET_CALLER_IDENTITY, Fault::ServerError),
            // Not the default VPC either: the role alone must name the account.
            Rule::always("DescribeVpcs", Fault::ServerError).when("is-default"),
        ],
    );
    let out = scan(
        &proxy.url,
        &["--format", "json", "--max-attempts", "2", "--role-arn", &role],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json(&out);
    valid_report(&report);
    assert_eq!(accounts(&report), [member]);
    assert!(verdicts(&report)
        .iter()
        .any(|(status, account, _)| status == "FAIL" && account == member));
    assert_eq!(proxy.failed(1), 0, "the default VPC was not needed");
}

#[test]
fn a_permanent_server_error_still_writes_the_report_with_the_account_unknown() {
    let moto = Moto::start();
    // STS answers 500 to every attempt, and no default VPC can be read to name the account.
    let rules = || {
        vec![
            Rule::always(GET_CALLER_IDENTITY, Fault::ServerError),
            Rule::always("DescribeVpcs", Fault::ServerError),
        ]
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.json");
    let proxy = FaultProxy::start(&moto.url, rules());
    let out = scan(
        &proxy.url,
        &["--format", "json", "--max-attempts", "3", "-o", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "the report went to the file");
    assert!(
        !text(&out.stderr).contains("cannot start the scan"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(proxy.seen(GET_CALLER_IDENTITY), 3, "retried to the attempt budget");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_unknown_account(&report, "InternalFailure");

    // Every format carries the unknown account and why.
    for format in ["table", "csv"] {
        let proxy = FaultProxy::start(&moto.url, rules());
        let out = scan(&proxy.url, &["--format", format, "--max-attempts", "2"]);
        assert_eq!(out.status.code(), Some(2), "{format}: {}", text(&out.stderr));
        let shown = text(&out.stdout);
        for needle in ["unknown", "sts:GetCallerIdentity", "InternalFailure", "UNKNOWN"] {
            assert!(shown.contains(needle), "{format} lacks {needle}:\n{shown}");
        }
    }
}

#[test]
fn a_dropped_connection_still_writes_the_report_with_the_account_unknown() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(
        &moto.url,
        vec![
            Rule::always(GET_CALLER_IDENTITY, Fault::Drop),
            Rule::always("DescribeVpcs", Fault::Drop),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.txt");
    let out = scan(
        &proxy.url,
        &["--format", "table", "--max-attempts", "3", "-o", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(proxy.seen(GET_CALLER_IDENTITY), 3, "retried to the attempt budget");
    let table = std::fs::read_to_string(&file).unwrap();
    for needle in ["unknown", "sts:GetCallerIdentity", "DispatchFailure"] {
        assert!(table.contains(needle), "the table lacks {needle}:\n{table}");
    }

    let proxy = FaultProxy::start(
        &moto.url,
        vec![
            Rule::always(GET_CALLER_IDENTITY, Fault::Drop),
            Rule::always("DescribeVpcs", Fault::Drop),
        ],
    );
    let out = scan(&proxy.url, &["--format", "json", "--max-attempts", "2"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_unknown_account(&json(&out), "DispatchFailure");
}

/// An Organization in the emulator: the management account and two members.
fn organization(moto: &Moto) -> Vec<String> {
    let script = r#"
import boto3, json, sys
org = boto3.client("organizations", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
org.create_organization(FeatureSet="ALL")
ids = [org.create_account(AccountName=n, Email=n + "@example.com")["CreateAccountStatus"]["AccountId"]
       for n in ("workloads", "network")]
print(json.dumps(ids))
"#;
    let out = std::process::Command::new(venv_bin("python"))
        .args(["-c", script, &moto.url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn an_organization_scan_reports_what_it_could_not_identify_and_exits_3_with_failures() {
    let moto = Moto::start();
    let members = organization(&moto);

    // STS is down for everyone; the management credentials (plain keys) name no account and cannot
    // read a default VPC; the management account has no OrganizationAccountAccessRole, as in AWS.
    let proxy = FaultProxy::start(
        &moto.url,
        vec![
            Rule::always(GET_CALLER_IDENTITY, Fault::ServerError),
            Rule::always("DescribeVpcs", Fault::ServerError).when("Credential=testing/"),
            Rule::always("AssumeRole", Fault::AwsError(403, "AccessDenied")).when(ACCOUNT),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.json");
    let out = scan(
        &proxy.url,
        &[
            "--org",
            "--format",
            "json",
            "--max-attempts",
            "2",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    valid_report(&report);
    let mut expected: Vec<&str> = members.iter().map(String::as_str).chain([ACCOUNT]).collect();
    expected.sort();
    assert_eq!(accounts(&report), expected);
    // The members were entered through the role and scanned: their default VPCs fail.
    let verdicts = verdicts(&report);
    for member in &members {
        assert!(
            verdicts.iter().any(|(s, a, _)| s == "FAIL" && a == member),
            "{member}: {verdicts:?}"
        );
    }
    // The management account could be entered neither directly nor through the role: UNKNOWN.
    let own: Vec<_> = verdicts.iter().filter(|(_, a, _)| a == ACCOUNT).collect();
    assert!(!own.is_empty() && own.iter().all(|(s, _, _)| s == "UNKNOWN"), "{own:?}");
    let reason = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["account_id"] == ACCOUNT)
        .map(|r| r["gaps"].to_string())
        .unwrap();
    assert!(reason.contains("AccessDenied"), "{reason}");
    assert!(reason.contains("could not be identified"), "{reason}");
}

#[test]
fn an_organization_whose_accounts_cannot_be_listed_still_scans_the_callers_account() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.url, vec![Rule::always("ListAccounts", Fault::ServerError)]);
    let out = scan(&proxy.url, &["--org", "--format", "json", "--max-attempts", "2"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let report = json(&out);
    valid_report(&report);
    assert_eq!(accounts(&report), [ACCOUNT, "unknown"]);
    let verdicts = verdicts(&report);
    assert!(
        verdicts.iter().any(|(s, a, _)| s == "FAIL" && a == ACCOUNT),
        "{verdicts:?}"
    );
    assert!(
        verdicts.iter().any(|(s, a, _)| s == "UNKNOWN" && a == "unknown"),
        "{verdicts:?}"
    );
    assert!(report["coverage"]["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["api"] == "organizations:ListAccounts" && g["account"] == "unknown"));
}

#[test]
fn missing_credentials_stay_a_usage_error() {
    // Nothing was asked of AWS: no report could say anything, and how netaudit was run must change.
    let out = binary::without_aws_credentials(&mut Command::cargo_bin("netaudit").unwrap())
        .args([
            "scan",
            "--org",
            "--regions",
            "us-east-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("no AWS credentials"),
        "{}",
        text(&out.stderr)
    );
}
