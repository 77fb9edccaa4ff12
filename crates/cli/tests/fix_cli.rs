//! Exceptions, fix plans, guardrails, diffs and the apply policy, through the binary, offline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use assert_cmd::Command;
use binary::run;
use std::path::{Path, PathBuf};

fn netaudit() -> Command {
    let mut cmd = Command::cargo_bin("netaudit").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn estate() -> PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../examples/estate")
}

const VPC2: &str = "arn:aws:ec2:us-east-1:111111111111:vpc/vpc-0a1b2c3d4e5f60002";

fn exceptions(text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::fs::write(file.path(), text).unwrap();
    file
}

fn scan_json(exceptions: &Path) -> (serde_json::Value, String, i32) {
    let (out, err, code) = run(netaudit()
        .args(["scan", "--evidence"])
        .arg(estate())
        .args(["--format", "json", "--exceptions"])
        .arg(exceptions));
    (serde_json::from_str(&out).unwrap_or(serde_json::Value::Null), err, code)
}

fn status_of<'a>(report: &'a serde_json::Value, control: &str, arn: &str) -> &'a serde_json::Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["control"] == control && f["resource_arn"] == arn)
        .unwrap()
}

fn validate(report: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default())
                .join("../../schemas/scan-report.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(report).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn an_active_exception_mutes_and_keeps_the_result_in_the_report() {
    let file = exceptions(&format!(
        r#"
[[exception]]
control = "EC2.6"
resource = "{VPC2}"
owner = "network-team@example.com"
reason = "lab VPC, torn down at quarter end"
ticket = "SEC-101"
expires = 2999-12-31
"#
    ));
    let (report, err, _) = scan_json(file.path());
    let f = status_of(&report, "EC2.6", VPC2);
    assert_eq!(f["status"], "MUTED", "{err}");
    assert_eq!(f["exception"]["owner"], "network-team@example.com");
    assert_eq!(f["exception"]["state"], "active");
    assert!(f["exception"]["source"].as_str().unwrap().ends_with(":2"));
    // Only the named control: CIS.VPC.FLOWLOGS on the same VPC still fails.
    assert_eq!(status_of(&report, "CIS.VPC.FLOWLOGS", VPC2)["status"], "FAIL");
    assert_eq!(report["exceptions"]["applied"].as_array().unwrap().len(), 1);
    assert_eq!(report["totals"]["MUTED"], 1);
    validate(&report);

    let (table, _, _) = run(netaudit()
        .args(["scan", "--evidence"])
        .arg(estate())
        .arg("--exceptions")
        .arg(file.path()));
    assert!(table.contains("MUTED"));
    assert!(table.contains("excepted until 2999-12-31 by network-team@example.com, SEC-101"));
}

#[test]
fn an_expired_exception_no_longer_mutes_and_says_so() {
    let file = exceptions(&format!(
        r#"[[exception]]
control = "EC2.6"
resource = "{VPC2}"
owner = "alice"
reason = "temporary"
ticket = "SEC-7"
expires = 2020-01-31
"#
    ));
    let (report, err, code) = scan_json(file.path());
    assert_eq!(code, 3);
    let f = status_of(&report, "EC2.6", VPC2);
    assert_eq!(f["status"], "FAIL");
    assert_eq!(f["exception"]["state"], "expired");
    assert!(err.contains("EXPIRED exception"), "{err}");
    assert!(err.contains("2020-01-31"));
    assert_eq!(report["exceptions"]["expired"][0]["ticket"], "SEC-7");
    validate(&report);
}

#[test]
fn a_pattern_is_anchored_and_an_exception_that_matches_nothing_is_stale() {
    let file = exceptions(
        r#"[[exception]]
control = "EC2.6"
resource = "arn:aws:ec2:*:111111111111:vpc/*"
owner = "alice"
reason = "account being decommissioned"
ticket = "SEC-8"
expires = "2999-01-01"

[[exception]]
control = "EC2.6"
resource = "vpc-0a1b2c3d4e5f6"
owner = "bob"
reason = "x"
ticket = "SEC-9"
expires = 2999-01-01
"#,
    );
    // A bare id is not an ARN: the whole file is refused, with the line.
    let (_, err, code) = scan_json(file.path());
    assert_eq!(code, 64);
    assert!(err.contains(".toml:11: `resource` must be an ARN"), "{err}");

    let file = exceptions(
        r#"[[exception]]
control = "EC2.6"
resource = "arn:aws:ec2:*:111111111111:vpc/*"
owner = "alice"
reason = "account being decommissioned"
ticket = "SEC-8"
expires = "2999-01-01"

[[exception]]
control = "EC2.6"
resource = "arn:aws:ec2:us-east-1:111111111111:vpc/vpc-0a1b2c3d4e5f6"
owner = "bob"
reason = "a prefix of real ids, which must not match them"
ticket = "SEC-9"
expires = 2999-01-01
"#,
    );
    let (report, err, _) = scan_json(file.path());
    for f in report["results"].as_array().unwrap() {
        if f["control"] == "EC2.6" && f["account_id"] == "111111111111" {
            assert_ne!(f["status"], "FAIL", "{f}");
        }
        // UNKNOWN is never muted.
        if f["status"] == "MUTED" {
            assert!(f["exception"].is_object());
        }
    }
    assert!(report["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["control"] == "EC2.6" && f["status"] == "UNKNOWN" && f["account_id"] == "111111111111"));
    assert_eq!(report["exceptions"]["stale"][0]["ticket"], "SEC-9");
    assert!(err.contains("stale exception"), "{err}");
}

#[test]
fn malformed_exception_files_name_the_line() {
    for (text, expected) in [
        (
            "[[exception]]\ncontrol = \"EC2.6\"\nresource = \"arn:x\"\nowner = \"a\"\nreason = \"r\"\nticket = \"t\"\nexpires = 2999-01-01\nexpiry = 2999-01-01\n",
            ":8: unknown field `expiry`",
        ),
        (
            "[[exception]]\ncontrol = \"EC2.99\"\nresource = \"arn:x\"\nowner = \"a\"\nreason = \"r\"\nticket = \"t\"\nexpires = 2999-01-01\n",
            ":2: unknown control `EC2.99`",
        ),
        (
            "[[exception]]\ncontrol = \"EC2.6\"\nresource = \"arn:x\"\nowner = \" \"\nreason = \"r\"\nticket = \"t\"\nexpires = 2999-01-01\n",
            ":4: `owner` must not be empty",
        ),
        (
            "[[exception]]\ncontrol = \"EC2.6\"\nresource = \"arn:x\"\nowner = \"a\"\nreason = \"r\"\nticket = \"t\"\nexpires = \"next year\"\n",
            ":7: `expires` must be a date",
        ),
        (
            "[[exception]]\ncontrol = \"EC2.6\"\nresource = \"arn:x\"\nowner = \"a\"\nreason = \"r\"\nexpires = 2999-01-01\n",
            "missing field `ticket`",
        ),
    ] {
        let file = exceptions(text);
        let (_, err, code) = scan_json(file.path());
        assert_eq!(code, 64, "{text}");
        assert!(err.contains(expected), "{expected}: {err}");
    }
}

#[test]
fn fix_plan_renders_every_format_and_refuses_bad_options() {
    for (format, needle) in [
        ("table", "create ALL flow log on vpc-0a1b2c3d4e5f60002"),
        ("json", "\"action\": \"create_flow_log\""),
        ("script", "na_flow_log us-east-1 vpc-0a1b2c3d4e5f60002 ALL"),
        ("terraform", "resource \"aws_flow_log\""),
        ("cloudformation", "AWS::EC2::FlowLog"),
    ] {
        let (out, err, code) = run(netaudit()
            .args(["fix", "plan", "--evidence"])
            .arg(estate())
            .args(["--format", format]));
        // Something to do, and the example's unread regions make the plan incomplete.
        assert_eq!(code, 3, "{format}: {err}");
        assert!(out.contains(needle), "{format}: {out}");
    }
    // The plan says what its new flow logs cost: staging's ACCEPT-only group measures its volume,
    // nothing measures vpc-0a1b2c3d4e5f60002's.
    let (table, _, _) = run(netaudit().args(["fix", "plan", "--evidence"]).arg(estate()));
    assert!(
        table.contains("111111111111 us-east-1 to cloud-watch-logs: 2 flow log(s): $")
            && table.contains("for 1; 1 volume unknown"),
        "{table}"
    );
    assert!(
        table.contains("each GB a day of flow-log text costs cloud-watch-logs $16.85 a month"),
        "{table}"
    );
    let (json, _, _) = run(netaudit()
        .args(["fix", "plan", "--evidence"])
        .arg(estate())
        .args(["--format", "json"]));
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    let estimate = &plan["cost_estimate"];
    assert_eq!(estimate["flow_logs"], 2, "{estimate}");
    assert_eq!(estimate["with_volume"], 1, "{estimate}");
    assert_eq!(estimate["volume_unknown"], serde_json::json!(["vpc-0a1b2c3d4e5f60002"]));
    assert!(estimate["monthly_usd"].as_f64().unwrap() > 0.0, "{estimate}");
    let (_, err, code) = run(netaudit()
        .args(["fix", "plan", "--evidence"])
        .arg(estate())
        .args(["--retention-days", "90"]));
    assert_eq!(code, 64);
    assert!(err.contains("--retention-days"), "{err}");
    let (_, err, code) = run(netaudit().args(["fix", "plan", "--report", "/nonexistent/report.json"]));
    assert_eq!(code, 64);
    assert!(err.contains("/nonexistent/report.json"), "{err}");
}

#[test]
fn a_cloudformation_plan_goes_to_a_file_when_one_is_named_and_to_a_directory_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    // One account and region: one template, written to the file named.
    let file = dir.path().join("cfn.json");
    let (_, err, _) = run(netaudit()
        .args(["fix", "plan", "--evidence"])
        .arg(estate())
        .args([
            "--regions",
            "us-east-1",
            "--checks",
            "EC2.6",
            "--format",
            "cloudformation",
            "-o",
        ])
        .arg(&file));
    assert!(file.is_file(), "{err}");
    let template: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(
        template["Resources"].to_string().contains("AWS::EC2::FlowLog"),
        "{template}"
    );
    // Several templates (eu-west-1's flow logs read, and none there): a file name is refused, a
    // directory gets one file each.
    let two_regions = dir.path().join("estate");
    copy_dir(&estate(), &two_regions);
    let eu = two_regions.join("111111111111/eu-west-1");
    std::fs::remove_file(eu.join("ec2-describe-flow-logs.error")).unwrap();
    std::fs::write(eu.join("ec2-describe-flow-logs.json"), r#"{"FlowLogs": []}"#).unwrap();
    let (_, err, code) = run(netaudit()
        .args(["fix", "plan", "--evidence"])
        .arg(&two_regions)
        .args(["--format", "cloudformation", "-o"])
        .arg(dir.path().join("all.json")));
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("give a directory"), "{err}");
    assert!(!dir.path().join("all.json").exists());
    let out = dir.path().join("templates");
    run(netaudit()
        .args(["fix", "plan", "--evidence"])
        .arg(&two_regions)
        .args(["--format", "cloudformation", "-o"])
        .arg(&out));
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 2);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn guardrails_print_one_or_write_all_never_both() {
    let dir = tempfile::tempdir().unwrap();
    let (_, err, code) = run(netaudit().args(["guardrails", "--print", "scp", "-o"]).arg(dir.path()));
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("--print") && err.contains("--output-dir"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn muted_results_are_not_planned() {
    let file = exceptions(&format!(
        "[[exception]]\ncontrol = \"EC2.6\"\nresource = \"{VPC2}\"\nowner = \"a\"\nreason = \"r\"\nticket = \"t\"\nexpires = 2999-01-01\n\n[[exception]]\ncontrol = \"CIS.VPC.FLOWLOGS\"\nresource = \"{VPC2}\"\nowner = \"a\"\nreason = \"r\"\nticket = \"t\"\nexpires = 2999-01-01\n"
    ));
    let (out, err, _) = run(netaudit()
        .args(["fix", "plan", "--evidence"])
        .arg(estate())
        .arg("--exceptions")
        .arg(file.path()));
    assert!(!out.contains("flow log on vpc-0a1b2c3d4e5f60002"), "{out}\n{err}");
    assert!(out.contains("flow log on vpc-0a1b2c3d4e5f60003"), "{out}");
}

#[test]
fn apply_refuses_what_is_not_a_plan() {
    let file = exceptions("{\"schema_version\": 1, \"batches\": 7}");
    let (_, err, code) = run(netaudit().args(["fix", "apply", "--yes"]).arg(file.path()));
    assert_eq!(code, 64);
    assert!(err.contains("not a netaudit plan"), "{err}");
    assert!(err.contains(&file.path().display().to_string()));
}

#[test]
fn diff_shows_new_resolved_and_still_open() {
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before.json");
    let after = dir.path().join("after.json");
    run(netaudit()
        .args(["scan", "--evidence"])
        .arg(estate())
        .args(["--format", "json", "-o"])
        .arg(&before));
    let file = exceptions(&format!(
        "[[exception]]\ncontrol = \"EC2.6\"\nresource = \"{VPC2}\"\nowner = \"a\"\nreason = \"r\"\nticket = \"t\"\nexpires = 2999-01-01\n"
    ));
    run(netaudit()
        .args(["scan", "--evidence"])
        .arg(estate())
        .args(["--format", "json", "-o"])
        .arg(&after)
        .arg("--exceptions")
        .arg(file.path()));
    let (out, _, code) = run(netaudit()
        .arg("diff")
        .arg(&before)
        .arg(&after)
        .args(["--format", "json"]));
    assert_eq!(code, 0);
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ec2_6 = d["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["control"] == "EC2.6")
        .unwrap();
    assert_eq!(ec2_6["resolved"].as_array().unwrap().len(), 1);
    assert_eq!(ec2_6["resolved"][0]["after"], "MUTED");
    assert!(ec2_6["new"].as_array().unwrap().is_empty());
    assert!(!ec2_6["still_open"].as_array().unwrap().is_empty());

    // The other way round, the muted result is new again: exit 1 for CI.
    let (out, _, code) = run(netaudit().arg("diff").arg(&after).arg(&before));
    assert_eq!(code, 1);
    // The entry names its priority after the kind of change.
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("NEW") && l.contains("  MUTED   -> FAIL")),
        "{out}"
    );
    let (_, err, code) = run(netaudit().arg("diff").arg(&before).arg(file.path()));
    assert_eq!(code, 64);
    assert!(err.contains("not a netaudit JSON report"), "{err}");
}

#[test]
fn guardrails_are_written_with_the_rollout_order() {
    let dir = tempfile::tempdir().unwrap();
    let (out, err, code) = run(netaudit().args(["guardrails", "-o"]).arg(dir.path()).args([
        "--admin-role",
        "NetworkBreakGlass",
        "--traffic-type",
        "ALL",
    ]));
    assert_eq!(code, 0, "{err}");
    let order: Vec<usize> = ["1. Contain", "2. Remediate", "3. Validate"]
        .iter()
        .map(|s| out.find(s).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]));
    let scp: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("scp.json")).unwrap()).unwrap();
    assert_eq!(
        scp["Statement"][0]["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
        "arn:aws:iam::*:role/NetworkBreakGlass"
    );
    let pack = std::fs::read_to_string(dir.path().join("conformance-pack.yaml")).unwrap();
    assert!(pack.contains("trafficType: \"ALL\""), "{pack}");
    assert!(pack.contains("MinRetentionTime: \"365\""), "{pack}");
    let (_, err, code) = run(netaudit().args(["guardrails", "--print", "scp", "--traffic-type", "ACCEPT"]));
    assert_eq!(code, 64);
    assert!(err.contains("--traffic-type"));
}

/// Every `netaudit …` line of ROLLOUT.txt runs as written, in order: the scans read the example
/// estate instead of AWS and `fix apply` goes to an address where nothing listens, so what is tested
/// is that each command parses and that each reads what the one before it wrote.
#[test]
fn the_rollout_commands_run_as_written() {
    let out_dir = tempfile::tempdir().unwrap();
    let (printed, err, code) = run(netaudit().args(["guardrails", "-o"]).arg(out_dir.path()));
    assert_eq!(code, 0, "{err}");
    let rollout = std::fs::read_to_string(out_dir.path().join("ROLLOUT.txt")).unwrap();
    assert!(printed.ends_with(&rollout), "{printed}");
    let commands: Vec<Vec<&str>> = rollout
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("netaudit "))
        .map(|l| l.split_whitespace().skip(1).collect())
        .collect();
    assert_eq!(commands.len(), 5, "{rollout}");
    let work = tempfile::tempdir().unwrap();
    for args in &commands {
        let mut cmd = netaudit();
        cmd.current_dir(work.path()).args(args);
        match args[..2] {
            ["scan", _] => {
                cmd.arg("--evidence").arg(estate());
            }
            ["fix", "apply"] => {
                cmd.args([
                    "--dry-run",
                    "--endpoint-url",
                    "http://127.0.0.1:9",
                    "--max-attempts",
                    "1",
                ])
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .env("AWS_REGION", "us-east-1")
                .env("AWS_EC2_METADATA_DISABLED", "true");
            }
            _ => {}
        }
        let (_, err, code) = run(&mut cmd);
        assert!(
            !err.contains("Usage:") && code != 70,
            "netaudit {}: exit {code}: {err}",
            args.join(" ")
        );
        if args[..2] == ["fix", "apply"] {
            // It read the plan and stopped only where AWS was needed.
            assert!(err.contains("cannot start"), "{err}");
        } else {
            assert!(matches!(code, 0..=3), "netaudit {}: exit {code}: {err}", args.join(" "));
        }
        if let Some(i) = args.iter().position(|a| *a == "-o") {
            assert!(
                work.path().join(args[i + 1]).is_file(),
                "{} was not written",
                args[i + 1]
            );
        }
    }
}

#[test]
fn the_apply_policy_covers_every_call_apply_makes() {
    let (out, _, code) = run(netaudit().args(["iam-policy", "--fix"]));
    assert_eq!(code, 0);
    let policy: serde_json::Value = serde_json::from_str(&out).unwrap();
    let text = policy.to_string();
    for action in netaudit_fix::APPLY_ACTIONS {
        assert!(text.contains(action), "{action}");
    }
    let pass = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Action"] == "iam:PassRole")
        .unwrap();
    assert_eq!(pass["Resource"], "arn:aws:iam::*:role/netaudit-flow-logs-delivery");
    let (plain, _, _) = run(netaudit().args(["iam-policy"]));
    assert!(!plain.contains("CreateFlowLogs"));
}

#[test]
fn the_readme_exceptions_example_applies_to_the_example_estate() {
    let root = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let example = std::fs::read_to_string(root.join("examples/exceptions.toml")).unwrap();
    let in_readme = readme
        .split("# netaudit-exceptions.toml, kept under version control\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    assert!(
        example.ends_with(in_readme),
        "examples/exceptions.toml is the README's example"
    );
    let (report, err, _) = scan_json(&root.join("examples/exceptions.toml"));
    assert_eq!(report["exceptions"]["applied"].as_array().unwrap().len(), 2, "{err}");
    assert!(report["exceptions"]["stale"].as_array().unwrap().is_empty());
    assert_eq!(report["totals"]["MUTED"], 2);
}

#[test]
fn a_plan_from_a_saved_report_matches_the_plan_from_the_scan_and_old_reports_are_refused() {
    let (out, err, _) = run(netaudit()
        .args(["scan", "--evidence"])
        .arg(estate())
        .args(["--format", "json"]));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    validate(&report);
    // Every FAIL carries its remedy; nothing else does.
    for r in report["results"].as_array().unwrap() {
        assert_eq!(r["status"] == "FAIL", r.get("remedy").is_some(), "{r}");
    }
    let saved = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(saved.path(), &out).unwrap();
    let plan_json = |source: &mut Command| -> serde_json::Value {
        let (out, err, code) = run(source.args(["--format", "json", "--ikev2-only"]));
        assert_eq!(code, 3, "{err}");
        serde_json::from_str(&out).unwrap()
    };
    let from_report = plan_json(netaudit().args(["fix", "plan", "--report"]).arg(saved.path()));
    let from_scan = plan_json(netaudit().args(["fix", "plan", "--evidence"]).arg(estate()));
    let actions = |p: &serde_json::Value| -> Vec<(String, String)> {
        let mut a: Vec<(String, String)> = p["batches"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|b| b["steps"].as_array().unwrap())
            // Without the graph a report cannot tell an existing group from a missing one.
            .filter(|s| s["action"] != "create_log_group" && s["action"] != "raise_retention")
            .map(|s| (s["action"].to_string(), s["fixes"].to_string()))
            .collect();
        a.sort();
        a
    };
    assert!(actions(&from_scan).len() >= 5);
    assert_eq!(actions(&from_report), actions(&from_scan));
    assert_eq!(from_report["not_planned"], from_scan["not_planned"]);

    // A version-1 report records no remedies: planning from it is refused, a diff still reads it.
    let mut old = report.clone();
    old["schema_version"] = 1.into();
    for r in old["results"].as_array_mut().unwrap() {
        r.as_object_mut().unwrap().remove("remedy");
    }
    let old_file = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(old_file.path(), old.to_string()).unwrap();
    let (_, err, code) = run(netaudit().args(["fix", "plan", "--report"]).arg(old_file.path()));
    assert_eq!(code, 64);
    assert!(err.contains("schema version 1") && err.contains("scan again"), "{err}");
    let (_, err, code) = run(netaudit().arg("diff").arg(old_file.path()).arg(saved.path()));
    assert_eq!(code, 0, "{err}");
}
