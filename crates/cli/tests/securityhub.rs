#![allow(clippy::unwrap_used, clippy::expect_used)]
//! ASFF and Security Hub: `--format asff` renders every result and the coverage it would otherwise
//! lose as findings Security Hub accepts (the AWS CLI validates them against the service model and
//! the moto emulator imports them with no failure); `securityhub import` sends a saved report, updates
//! the same findings with a later `UpdatedAt` each time, archives the ones no longer reported, retries
//! throttling and reports every refused finding with exit code 4. Reports without accounts and regions
//! (infrastructure as code) are refused with exit code 64.

#[path = "../../aws/tests/support/moto_server.rs"]
mod moto_server;

#[path = "support/binary.rs"]
mod binary;
#[path = "../../aws/tests/support/fault_proxy.rs"]
mod fault_proxy;

use binary::{estate, netaudit, run, with_emulator_keys};
use fault_proxy::{Fault, FaultProxy, Rule};
use moto_server::Moto;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const BATCH_IMPORT: &str = "BatchImportFindings";

fn exceptions() -> PathBuf {
    estate().join("../exceptions.toml")
}

/// The example estate's report (with its exceptions, so that some results are MUTED), saved in `dir`.
fn saved_report(dir: &Path) -> PathBuf {
    let saved = dir.join("scan.json");
    let (_, stderr, code) = run(netaudit()
        .args(["scan", "--format", "json", "--evidence"])
        .arg(estate())
        .arg("--exceptions")
        .arg(exceptions())
        .arg("-o")
        .arg(&saved));
    assert_eq!(code, 3, "{stderr}");
    saved
}

fn asff_of(saved: &Path) -> Vec<Value> {
    let (out, stderr, code) = run(netaudit().arg("report").arg(saved).args(["--format", "asff"]));
    assert_eq!(code, 3, "the exit code is the scan's: {stderr}");
    serde_json::from_str(&out).unwrap()
}

fn import(endpoint: &str, saved: &Path, args: &[&str]) -> (String, String, i32) {
    run(with_emulator_keys(&mut netaudit())
        .args(["securityhub", "import"])
        .arg(saved)
        .args(["--endpoint-url", endpoint, "--timeout", "10"])
        .args(args))
}

/// The AWS CLI of the emulator's virtualenv, with the emulator's keys.
fn aws(endpoint: &str, region: &str, args: &[&str]) -> Value {
    let cli = std::env::var("NETAUDIT_AWS_CLI").expect("NETAUDIT_AWS_CLI is not set: run `bash scripts/test.sh`");
    let mut cmd = assert_cmd::Command::new(cli);
    with_emulator_keys(&mut cmd)
        .args(args)
        .args(["--endpoint-url", endpoint, "--region", region, "--output", "json"]);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every finding Security Hub holds in these regions, by id (`GetFindings`, every page).
fn stored(endpoint: &str, regions: &BTreeSet<String>) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    for region in regions {
        let page = aws(endpoint, region, &["securityhub", "get-findings"]);
        for finding in page["Findings"].as_array().unwrap() {
            let id = finding["Id"].as_str().unwrap().to_owned();
            assert!(
                all.insert(id.clone(), finding.clone()).is_none(),
                "{id} is stored twice"
            );
        }
    }
    all
}

fn regions_of(findings: &[Value]) -> BTreeSet<String> {
    findings
        .iter()
        .map(|f| f["Region"].as_str().unwrap().to_owned())
        .collect()
}

/// The finding of a result of the saved report: same control, resource, account and region.
fn finding_for<'a>(findings: &'a [Value], result: &Value) -> &'a Value {
    findings
        .iter()
        .find(|f| {
            f["GeneratorId"] == format!("netaudit/{}", result["control"].as_str().unwrap())
                && f["Resources"][0]["Id"] == result["resource_arn"]
                && f["AwsAccountId"] == result["account_id"]
                && f["ProductFields"]["netaudit/Region"] == result["region"]
        })
        .unwrap_or_else(|| panic!("no finding for {result}"))
}

fn status_of(result: &Value) -> &str {
    result["status"].as_str().unwrap()
}

#[test]
fn every_result_and_every_uncarried_gap_is_a_finding_security_hub_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let saved = saved_report(dir.path());
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let findings = asff_of(&saved);
    // `scan --format asff` writes what `report --format asff` does.
    let (scanned, _, code) = run(netaudit()
        .args(["scan", "--format", "asff", "--evidence"])
        .arg(estate())
        .arg("--exceptions")
        .arg(exceptions()));
    assert_eq!(code, 3);
    assert_eq!(serde_json::from_str::<Vec<Value>>(&scanned).unwrap(), findings);

    let results = report["results"].as_array().unwrap();
    let carried: Vec<&Value> = results
        .iter()
        .flat_map(|r| r["gaps"].as_array().into_iter().flatten())
        .collect();
    let uncarried = report["coverage"]["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| !carried.contains(g))
        .count();
    let errors = report["coverage"]["errors"].as_array().unwrap().len();
    let disabled = report["coverage"]["disabled_regions"].as_array().unwrap().len();
    assert_eq!(findings.len(), results.len() + uncarried + errors + disabled);

    let ids: BTreeSet<&str> = findings.iter().map(|f| f["Id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), findings.len(), "one id per result identity");
    for f in &findings {
        assert_eq!(f["SchemaVersion"], "2018-10-08");
        assert!(f["Id"].as_str().unwrap().chars().count() <= 512);
        assert!(f["Title"].as_str().unwrap().chars().count() <= 256);
        assert!(f["Description"].as_str().unwrap().chars().count() <= 1024);
        assert!(f["Compliance"]["RelatedRequirements"].as_array().map_or(0, Vec::len) <= 32);
        let (account, region) = (f["AwsAccountId"].as_str().unwrap(), f["Region"].as_str().unwrap());
        assert_eq!(
            f["ProductArn"],
            format!("arn:aws:securityhub:{region}:{account}:product/{account}/default")
        );
        assert_eq!(f["CreatedAt"], "2025-12-03T08:00:00Z");
        assert_eq!(f["Resources"][0]["Region"], region);
    }

    // Each result is its own finding, with its status.
    let mut seen_statuses = BTreeSet::new();
    for result in results {
        let finding = finding_for(&findings, result);
        let expected = match status_of(result) {
            "PASS" => "PASSED",
            "FAIL" | "MUTED" => "FAILED",
            "UNKNOWN" => "WARNING",
            "NOT_APPLICABLE" => "NOT_AVAILABLE",
            other => panic!("status {other}"),
        };
        assert_eq!(finding["Compliance"]["Status"], expected, "{result}");
        assert_eq!(finding["ProductFields"]["netaudit/Status"], result["status"]);
        assert_eq!(finding["ProductFields"]["netaudit/Priority"], result["priority"]);
        seen_statuses.insert(status_of(result).to_owned());
        match status_of(result) {
            "UNKNOWN" => {
                let reasons = finding["Compliance"]["StatusReasons"].as_array().unwrap();
                assert_eq!(reasons[0]["ReasonCode"], "NETAUDIT_UNKNOWN");
                assert_eq!(reasons.len(), 1 + result["gaps"].as_array().map_or(0, Vec::len));
            }
            "NOT_APPLICABLE" => {
                assert_eq!(
                    finding["Compliance"]["StatusReasons"][0]["Description"],
                    result["reason"]
                );
            }
            "MUTED" => {
                assert_eq!(finding["Workflow"]["Status"], "SUPPRESSED");
                let exception = &result["exception"];
                let note = finding["Note"]["Text"].as_str().unwrap();
                for part in ["owner", "ticket", "expires"] {
                    assert!(note.contains(exception[part].as_str().unwrap()), "{note}");
                }
                assert_eq!(finding["ProductFields"]["netaudit/Exception/Owner"], exception["owner"]);
            }
            _ => assert!(finding.get("Workflow").is_none()),
        }
    }
    for status in ["PASS", "FAIL", "UNKNOWN", "MUTED"] {
        assert!(
            seen_statuses.contains(status),
            "the example estate has {status} results"
        );
    }
    let ec2_6 = findings.iter().find(|f| f["GeneratorId"] == "netaudit/EC2.6").unwrap();
    assert_eq!(ec2_6["Compliance"]["SecurityControlId"], "EC2.6");
    assert_eq!(ec2_6["Resources"][0]["Type"], "AwsEc2Vpc");
    assert!(ec2_6["Compliance"]["RelatedRequirements"]
        .as_array()
        .unwrap()
        .contains(&Value::from("NIST SP 800-53 Rev. 5 AU-12")));
    let own = findings
        .iter()
        .find(|f| f["GeneratorId"] == "netaudit/NETAUDIT.S2S.IKEV2")
        .unwrap();
    assert!(
        own["Compliance"].get("SecurityControlId").is_none(),
        "not a Security Hub control (it follows EC2.6)"
    );
    let disabled_regions: Vec<&Value> = findings
        .iter()
        .filter(|f| f["Compliance"]["StatusReasons"][0]["ReasonCode"] == "NETAUDIT_REGION_NOT_ENABLED")
        .collect();
    assert_eq!(disabled_regions.len(), disabled);
    assert!(disabled_regions
        .iter()
        .all(|f| f["Compliance"]["Status"] == "NOT_AVAILABLE"));

    // A gap no result carries (a listing no result depended on) is a WARNING finding of its own.
    let mut with_gap = report.clone();
    let mut gap = carried[0].clone();
    gap["api"] = "firehose:ListDeliveryStreams".into();
    gap["code"] = "AccessDenied".into();
    gap["region"] = "eu-west-1".into();
    with_gap["coverage"]["gaps"].as_array_mut().unwrap().push(gap);
    let gap_report = dir.path().join("gap.json");
    std::fs::write(&gap_report, with_gap.to_string()).unwrap();
    let more = asff_of(&gap_report);
    assert_eq!(more.len(), findings.len() + 1);
    let coverage = more.iter().find(|f| !findings.contains(f)).unwrap();
    assert_eq!(coverage["GeneratorId"], "netaudit/coverage");
    assert_eq!(coverage["Compliance"]["Status"], "WARNING");
    assert_eq!(coverage["Region"], "eu-west-1");
    assert_eq!(coverage["Compliance"]["StatusReasons"][0]["ReasonCode"], "AccessDenied");
    assert!(coverage["Description"]
        .as_str()
        .unwrap()
        .contains("firehose:ListDeliveryStreams AccessDenied"));

    // The consumer: the AWS CLI validates the findings against Security Hub's model, and the
    // emulator imports every one.
    let moto = Moto::start();
    for (n, chunk) in findings.chunks(100).enumerate() {
        let file = dir.path().join(format!("chunk-{n}.json"));
        std::fs::write(&file, serde_json::to_string(chunk).unwrap()).unwrap();
        let answer = aws(
            &moto.url,
            "us-east-1",
            &[
                "securityhub",
                "batch-import-findings",
                "--findings",
                &format!("file://{}", file.display()),
            ],
        );
        assert_eq!(answer["FailedCount"], 0, "{answer}");
        assert_eq!(answer["SuccessCount"], chunk.len());
    }
}

#[test]
fn reimports_update_the_same_findings_later_and_archive_the_ones_gone() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let saved = saved_report(dir.path());
    let findings = asff_of(&saved);
    let regions = regions_of(&findings);
    let ids: BTreeSet<String> = findings.iter().map(|f| f["Id"].as_str().unwrap().to_owned()).collect();

    let (out, stderr, code) = import(&moto.url, &saved, &[]);
    assert_eq!(code, 0, "{out}{stderr}");
    let mut previous = stored(&moto.url, &regions);
    assert_eq!(previous.keys().cloned().collect::<BTreeSet<_>>(), ids);
    assert!(previous.values().all(|f| f["RecordState"] == "ACTIVE"));

    for round in 0..2 {
        let (out, stderr, code) = import(&moto.url, &saved, &[]);
        assert_eq!(code, 0, "round {round}: {out}{stderr}");
        let now = stored(&moto.url, &regions);
        assert_eq!(now.len(), ids.len(), "round {round}: nothing duplicates");
        for (id, finding) in &now {
            let before = &previous[id];
            assert!(
                finding["UpdatedAt"].as_str().unwrap() > before["UpdatedAt"].as_str().unwrap(),
                "round {round}: {id}: {} after {}",
                finding["UpdatedAt"],
                before["UpdatedAt"]
            );
            assert_eq!(finding["CreatedAt"], before["CreatedAt"], "the first time stays");
        }
        previous = now;
    }

    // One FAIL is gone from the next report: its finding is archived, the rest stay active.
    let mut report: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let results = report["results"].as_array_mut().unwrap();
    let gone = results.iter().position(|r| status_of(r) == "FAIL").unwrap();
    let gone = results.remove(gone);
    let fewer = dir.path().join("fewer.json");
    std::fs::write(&fewer, report.to_string()).unwrap();
    let gone_id = finding_for(&findings, &gone)["Id"].as_str().unwrap().to_owned();
    let (out, stderr, code) = import(&moto.url, &fewer, &[]);
    assert_eq!(code, 0, "{out}{stderr}");
    assert!(out.contains(" 1 archived"), "{out}");
    let now = stored(&moto.url, &regions);
    assert_eq!(now.len(), ids.len());
    for (id, finding) in &now {
        let state = if *id == gone_id { "ARCHIVED" } else { "ACTIVE" };
        assert_eq!(finding["RecordState"], state, "{id}");
        assert!(finding["UpdatedAt"].as_str().unwrap() > previous[id]["UpdatedAt"].as_str().unwrap());
    }
    // Importing the same report again archives nothing more.
    let (out, _, code) = import(&moto.url, &fewer, &[]);
    assert_eq!(code, 0);
    assert!(!out.contains(" 1 archived") && out.contains(" 0 archived"), "{out}");
}

#[test]
fn throttling_is_retried_and_refused_findings_give_exit_code_4() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let saved = saved_report(dir.path());
    let findings = asff_of(&saved);
    let region = "eu-west-1";
    let in_region = findings.iter().filter(|f| f["Region"] == region).count();
    assert!(in_region > 0 && in_region <= 100, "one batch: {in_region}");

    // Security Hub answers TooManyRequestsException twice: the SDK backs off and retries.
    let proxy = FaultProxy::start(
        &moto.url,
        vec![Rule::first(
            2,
            BATCH_IMPORT,
            Fault::AwsError(429, "TooManyRequestsException"),
        )],
    );
    let (out, stderr, code) = import(&proxy.url, &saved, &["--region", region]);
    assert_eq!(code, 0, "{out}{stderr}");
    assert_eq!((proxy.failed(0), proxy.seen(BATCH_IMPORT)), (2, 3));
    assert!(
        out.contains(&format!("{region}: {in_region} imported, 0 archived, 0 failed")),
        "{out}"
    );
    assert_eq!(stored(&moto.url, &BTreeSet::from([region.to_owned()])).len(), in_region);

    // Throttled past the attempt budget: nothing imported, said so, exit 4.
    let proxy = FaultProxy::start(
        &moto.url,
        vec![Rule::always(
            BATCH_IMPORT,
            Fault::AwsError(429, "TooManyRequestsException"),
        )],
    );
    let (out, stderr, code) = import(&proxy.url, &saved, &["--region", region, "--max-attempts", "2"]);
    assert_eq!(code, 4, "{out}{stderr}");
    assert!(stderr.contains("TooManyRequestsException"), "{stderr}");
    assert!(out.contains(&format!("{in_region} failed")), "{out}");

    // Security Hub refuses one finding of the batch: its id, code and message, and exit 4.
    let refused = findings.iter().find(|f| f["Region"] == region).unwrap()["Id"]
        .as_str()
        .unwrap();
    let answer = serde_json::json!({
        "FailedCount": 1,
        "SuccessCount": in_region - 1,
        "FailedFindings": [{ "Id": refused, "ErrorCode": "InvalidInput", "ErrorMessage": "Finding does not adhere to ASFF" }],
    });
    let proxy = FaultProxy::start(
        &moto.url,
        vec![Rule::first(1, BATCH_IMPORT, Fault::Answer(answer.to_string()))],
    );
    let (out, stderr, code) = import(&proxy.url, &saved, &["--region", region]);
    assert_eq!(code, 4, "{out}{stderr}");
    assert!(
        stderr.contains(&format!(
            "refused finding {refused}: InvalidInput: Finding does not adhere to ASFF"
        )),
        "{stderr}"
    );
    assert!(
        out.contains(&format!("{region}: {} imported, 0 archived, 1 failed", in_region - 1)),
        "{out}"
    );
}

#[test]
fn a_report_without_accounts_and_regions_is_not_asff() {
    let dir = tempfile::tempdir().unwrap();
    let code_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/iac");
    let (out, stderr, code) = run(netaudit().args(["scan", "--format", "asff", "--iac"]).arg(&code_dir));
    assert_eq!(code, 64, "{stderr}");
    assert!(out.is_empty(), "nothing half-written: {out}");
    assert!(
        stderr.contains("--format asff: ASFF needs an AWS account id and region for every finding"),
        "{stderr}"
    );
    assert!(stderr.contains("infrastructure as code"), "{stderr}");

    let saved = dir.path().join("iac.json");
    run(netaudit()
        .args(["scan", "--format", "json", "-o"])
        .arg(&saved)
        .arg("--iac")
        .arg(&code_dir));
    let (_, stderr, code) = run(with_emulator_keys(&mut netaudit())
        .args(["securityhub", "import"])
        .arg(&saved)
        .args(["--endpoint-url", "http://127.0.0.1:9"]));
    assert_eq!(code, 64, "refused before any call: {stderr}");
    assert!(stderr.contains("iac.json: ASFF needs an AWS account id"), "{stderr}");
}

#[test]
fn iam_policy_adds_what_import_needs_when_asked() {
    let (plain, _, code) = run(netaudit().args(["iam-policy"]));
    assert_eq!(code, 0);
    assert!(!plain.contains("securityhub:"), "{plain}");
    let (out, _, code) = run(netaudit().args(["iam-policy", "--securityhub"]));
    assert_eq!(code, 0);
    let policy: Value = serde_json::from_str(&out).unwrap();
    let statement = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "NetauditImportToSecurityHub")
        .unwrap();
    assert_eq!(
        statement["Action"],
        serde_json::json!(["securityhub:GetFindings", "securityhub:BatchImportFindings"])
    );
    // The scan's own statement is still there.
    assert!(out.contains("ec2:DescribeFlowLogs"));
}
