#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `--format script` output run for real: the pinned AWS CLI against one moto emulator, `fix
//! apply` against another seeded the same way. Both must end in the same state and the same
//! results, and a second run of the script must change nothing.

#[path = "../../aws/tests/support/moto_server.rs"]
mod moto_server;

use assert_cmd::Command;
use moto_server::{venv_bin, Moto};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const REGIONS: &str = "us-east-1,eu-west-1";

/// The AWS CLI `scripts/test.sh` installs next to moto. Missing is a failure, not a skip.
fn aws_cli() -> PathBuf {
    let cli = std::env::var("NETAUDIT_AWS_CLI").expect(
        "NETAUDIT_AWS_CLI is not set: run the tests with `bash scripts/test.sh`, which installs the pinned AWS CLI",
    );
    let version = std::process::Command::new(&cli)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("NETAUDIT_AWS_CLI={cli} does not run: {e}"));
    let version = format!("{}{}", text(&version.stdout), text(&version.stderr));
    assert!(version.starts_with("aws-cli/1."), "NETAUDIT_AWS_CLI={cli}: {version}");
    PathBuf::from(cli)
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// The fix loop's seed (a VPC without a flow log, a group kept 30 days, a flow log whose group was
/// deleted, in two regions), and 55 never-expiring groups under `/net/short/` so that the group
/// the plan raises shares its name prefix with more than a page of others.
fn seed(moto: &Moto) {
    let script =
        Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../examples/fix-loop/seed.py");
    let seeded = std::process::Command::new(venv_bin("python"))
        .arg(script)
        .arg(&moto.url)
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let padding = std::process::Command::new(venv_bin("python"))
        .args(["-c", PADDING, &moto.url])
        .output()
        .unwrap();
    assert!(padding.status.success(), "{}", text(&padding.stderr));
}

const PADDING: &str = r#"
import boto3, sys
logs = boto3.client("logs", region_name="us-east-1", endpoint_url=sys.argv[1],
                    aws_access_key_id="testing", aws_secret_access_key="testing")
for i in range(55):
    logs.create_log_group(logGroupName=f"/net/short/{i:02d}")
"#;

/// Everything the fixes could touch, with the emulator's random ids replaced by stable names
/// (VPCs by region and CIDR, flow logs by what they watch and where they deliver): log groups with
/// retention, key and tags; flow logs; IAM roles with their trust and inline policies. Prints
/// {"state": …, "names": {id: name}}.
const SNAPSHOT: &str = r#"
import boto3, json, sys
kw = dict(endpoint_url=sys.argv[1], aws_access_key_id="testing", aws_secret_access_key="testing")
names = {}
def norm(s):
    for raw in sorted(names, key=len, reverse=True):
        s = s.replace(raw, names[raw])
    return s
groups, flow_logs = [], []
for region in ["us-east-1", "eu-west-1"]:
    ec2 = boto3.client("ec2", region_name=region, **kw)
    logs = boto3.client("logs", region_name=region, **kw)
    for page in ec2.get_paginator("describe_vpcs").paginate():
        for v in page["Vpcs"]:
            names[v["VpcId"]] = f"vpc[{region} {v['CidrBlock']}]"
    for page in ec2.get_paginator("describe_flow_logs").paginate():
        for f in page["FlowLogs"]:
            dest = f.get("LogGroupName") or f.get("LogDestination")
            names[f["FlowLogId"]] = f"flow-log[{region} {norm(f['ResourceId'])} -> {norm(dest)}]"
            flow_logs.append({
                "region": region, "resource": norm(f["ResourceId"]), "status": f["FlowLogStatus"],
                "trafficType": f["TrafficType"], "destinationType": f.get("LogDestinationType"),
                "logGroupName": norm(f.get("LogGroupName", "")), "logDestination": norm(f.get("LogDestination", "")),
                "role": f.get("DeliverLogsPermissionArn"), "interval": f.get("MaxAggregationInterval"),
            })
    for page in logs.get_paginator("describe_log_groups").paginate():
        for g in page["logGroups"]:
            tags = logs.list_tags_log_group(logGroupName=g["logGroupName"]).get("tags", {})
            groups.append({
                "region": region, "name": norm(g["logGroupName"]), "retentionInDays": g.get("retentionInDays"),
                "kmsKeyId": g.get("kmsKeyId"), "tags": tags,
            })
iam = boto3.client("iam", region_name="us-east-1", **kw)
roles = []
for page in iam.get_paginator("list_roles").paginate():
    for r in page["Roles"]:
        policies = {
            p: iam.get_role_policy(RoleName=r["RoleName"], PolicyName=p)["PolicyDocument"]
            for p in iam.list_role_policies(RoleName=r["RoleName"])["PolicyNames"]
        }
        roles.append({
            "name": r["RoleName"], "description": r.get("Description"),
            "trust": r["AssumeRolePolicyDocument"], "policies": policies,
        })
key = lambda d: json.dumps(d, sort_keys=True)
state = {"log_groups": sorted(groups, key=key), "flow_logs": sorted(flow_logs, key=key), "roles": sorted(roles, key=key)}
print(json.dumps({"state": state, "names": names}, sort_keys=True))
"#;

/// (state, id → stable name) of one emulator.
fn snapshot(moto: &Moto) -> (serde_json::Value, BTreeMap<String, String>) {
    let out = std::process::Command::new(venv_bin("python"))
        .args(["-c", SNAPSHOT, &moto.url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names = serde_json::from_value(doc["names"].clone()).unwrap();
    (doc["state"].clone(), names)
}

/// netaudit with emulator credentials, against the emulator.
fn netaudit(moto: &Moto, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::cargo_bin("netaudit").unwrap();
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env("NO_COLOR", "1")
        .args(args);
    // A plan from a saved report reads no AWS and refuses the endpoint.
    if !args.contains(&"--report") {
        cmd.args(["--endpoint-url", &moto.url]);
    }
    cmd.output().unwrap()
}

fn scan(moto: &Moto, report: &Path) {
    let out = netaudit(
        moto,
        &[
            "scan",
            "--regions",
            REGIONS,
            "--format",
            "json",
            "-o",
            &report.display().to_string(),
        ],
    );
    // 2 and 3 say incomplete: the emulator has no Client VPN, so that coverage is a gap.
    assert!(
        matches!(out.status.code(), Some(0..=3)),
        "{:?} {}",
        out.status,
        text(&out.stderr)
    );
}

/// (control, resource ARN with stable names) → status of every result of a report.
fn statuses(report: &Path, names: &BTreeMap<String, String>) -> BTreeMap<(String, String), String> {
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    let mut ids: Vec<(&String, &String)> = names.iter().collect();
    ids.sort_by_key(|(raw, _)| std::cmp::Reverse(raw.len()));
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut arn = r["resource_arn"].as_str().unwrap().to_owned();
            for (raw, name) in &ids {
                arn = arn.replace(raw.as_str(), name);
            }
            (
                (r["control"].as_str().unwrap().to_owned(), arn),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Run the script with the pinned AWS CLI first on PATH, pointed at the emulator.
fn run_script(cli: &Path, script: &Path, moto: &Moto, scratch: &Path) -> std::process::Output {
    let path = format!(
        "{}:{}",
        cli.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::process::Command::new("bash")
        .arg(script)
        .env("PATH", path)
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", scratch.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", scratch.join("no-aws-credentials"))
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .unwrap()
}

/// The results whose status differs between the script's emulator and apply's.
fn assert_same(
    when: &str,
    by_script: &BTreeMap<(String, String), String>,
    by_apply: &BTreeMap<(String, String), String>,
) {
    let keys: std::collections::BTreeSet<_> = by_script.keys().chain(by_apply.keys()).collect();
    let differ: Vec<String> = keys
        .into_iter()
        .filter(|k| by_script.get(*k) != by_apply.get(*k))
        .map(|k| {
            format!(
                "{} {}: script {:?}, apply {:?}",
                k.0,
                k.1,
                by_script.get(k),
                by_apply.get(k)
            )
        })
        .collect();
    assert!(differ.is_empty(), "{when}: {differ:#?}");
}

fn changes(stdout: &[u8]) -> Vec<String> {
    text(stdout)
        .lines()
        .filter(|l| l.starts_with("netaudit: changed:"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_script_ends_where_apply_ends_and_a_second_run_changes_nothing() {
    let cli = aws_cli();
    let (by_script, by_apply) = (Moto::start(), Moto::start());
    seed(&by_script);
    seed(&by_apply);
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);

    scan(&by_script, &p("script-before.json"));
    scan(&by_apply, &p("apply-before.json"));
    let (_, script_names) = snapshot(&by_script);
    let (_, apply_names) = snapshot(&by_apply);
    assert_same(
        "before (the two emulators start alike)",
        &statuses(&p("script-before.json"), &script_names),
        &statuses(&p("apply-before.json"), &apply_names),
    );

    for (report, format, out) in [
        ("script-before.json", "script", "fix.sh"),
        ("apply-before.json", "json", "plan.json"),
    ] {
        let planned = netaudit(
            &by_script,
            &[
                "fix",
                "plan",
                "--report",
                &p(report).display().to_string(),
                "--create-delivery-role",
                "--format",
                format,
                "-o",
                &p(out).display().to_string(),
            ],
        );
        // Something to do, and incomplete: the emulator cannot list Client VPN endpoints.
        assert_eq!(planned.status.code(), Some(3), "{}", text(&planned.stderr));
    }

    let applied = netaudit(
        &by_apply,
        &["fix", "apply", &p("plan.json").display().to_string(), "--yes"],
    );
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied.stdout));

    let ran = run_script(&cli, &p("fix.sh"), &by_script, dir.path());
    assert_eq!(
        ran.status.code(),
        Some(0),
        "{}\n{}",
        text(&ran.stdout),
        text(&ran.stderr)
    );
    let first_changes = changes(&ran.stdout);
    assert!(
        first_changes.iter().any(|c| c.contains("created a ALL flow log")),
        "{first_changes:#?}"
    );

    // The same results after, per control and resource.
    scan(&by_script, &p("script-after.json"));
    scan(&by_apply, &p("apply-after.json"));
    let (script_state, script_names) = snapshot(&by_script);
    let (apply_state, apply_names) = snapshot(&by_apply);
    let after = statuses(&p("script-after.json"), &script_names);
    assert_same("after", &after, &statuses(&p("apply-after.json"), &apply_names));
    let still_failing: Vec<&(String, String)> = after.iter().filter(|(_, s)| *s == "FAIL").map(|(k, _)| k).collect();
    assert_eq!(still_failing, Vec::<&(String, String)>::new());

    // Every group the script created keeps what the plan says, from the start.
    let groups = script_state["log_groups"].as_array().unwrap();
    let retention = |region: &str, name: &str| {
        groups
            .iter()
            .find(|g| g["region"] == region && g["name"] == name)
            .map(|g| g["retentionInDays"].clone())
    };
    for region in ["us-east-1", "eu-west-1"] {
        assert_eq!(retention(region, "/net/gone"), Some(serde_json::json!(365)));
        assert_eq!(retention(region, "/net/short"), Some(serde_json::json!(365)));
        let default_vpc = format!("/aws/vpc/flow-logs/vpc[{region} 172.31.0.0/16]");
        assert_eq!(
            retention(region, &default_vpc),
            Some(serde_json::json!(365)),
            "{groups:#?}"
        );
    }
    // The same log groups, flow logs and roles as apply left.
    assert_eq!(script_state, apply_state);

    // A second run finds everything done: it announces no change and the emulator is unchanged.
    let again = run_script(&cli, &p("fix.sh"), &by_script, dir.path());
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(changes(&again.stdout), Vec::<String>::new());
    assert_eq!(snapshot(&by_script).0, script_state);
}
