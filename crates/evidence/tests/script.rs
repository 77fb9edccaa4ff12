//! The collection script: valid bash, and end to end against a fake `aws` whose output `load_dir`
//! then reads back.

mod common;

use common::{access_denied, sample, ACCOUNT};
use netaudit_evidence::{collection_script, load_dir, Operation, OPERATIONS};
use netaudit_model::GapKind;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

/// Stands in for the AWS CLI: canned output per operation from `$FAKE_AWS/<service>-<operation>.json`,
/// every call logged, and a few calls failing the way the real CLI fails.
const FAKE_AWS: &str = r#"#!/usr/bin/env bash
set -u
echo "$*" >>"$FAKE_AWS/calls.log"
case " $* " in
  *" --output json "*) ;;
  "configure get region") ;;
  *) echo "fake aws: called without --output json: $*" >&2; exit 252 ;;
esac
service=$1 operation=$2
shift 2
region="" start=""
while [ $# -gt 0 ]; do
  case $1 in
    --region) region=$2; shift 2 ;;
    --exclusive-start-delivery-stream-name) start=$2; shift 2 ;;
    *) shift ;;
  esac
done
case "$service $operation $region" in
  "configure get "*) exit 1 ;;
  "sts get-caller-identity "*)
    if [ -n "${FAKE_STS_FAIL:-}" ]; then
      printf '\nUnable to locate credentials. You can configure credentials by running "aws configure".\n' >&2
      exit 253
    fi ;;
  "ec2 describe-regions "*)
    if [ -n "${FAKE_REGIONS_FAIL:-}" ]; then
      printf '\nAn error occurred (UnauthorizedOperation) when calling the DescribeRegions operation: You are not authorized to perform this operation.\n' >&2
      exit 254
    fi ;;
  "ec2 describe-flow-logs us-west-2")
    cat "$FAKE_AWS/denied.txt" >&2
    exit 255 ;;
  "logs describe-log-groups us-west-2")
    # Output already started when the connection dropped.
    printf '{\n    "logGroups": [\n'
    printf '\nConnection was closed before we received a valid response from endpoint URL: "https://logs.us-west-2.amazonaws.com/".\n' >&2
    exit 255 ;;
  "firehose list-delivery-streams us-east-1")
    if [ -z "$start" ]; then
      echo '{"DeliveryStreamNames": ["flow-logs-to-s3", "vpn-logs-to-siem"], "HasMoreDeliveryStreams": true}'
    elif [ "$start" = "vpn-logs-to-siem" ]; then
      echo '{"DeliveryStreamNames": ["zz-archive"], "HasMoreDeliveryStreams": false}'
    else
      echo "fake aws: unexpected start $start" >&2; exit 254
    fi
    exit 0 ;;
esac
cat "$FAKE_AWS/$service-$operation.json"
"#;

/// The only reason to skip: no bash to run the script with. Said on stderr, and in each test's name.
#[allow(clippy::print_stderr)]
fn skipped_without_bash() -> bool {
    let found = Command::new("bash")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: bash is not installed");
    }
    !found
}

fn write(path: &Path, content: &str) {
    std::fs::write(path, content).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Run the collection script with the fake CLI first on PATH.
fn run_script(work: &Path, out: &Path, fake_env: &[&str]) -> Output {
    let fake = work.join("fake");
    std::fs::create_dir_all(&fake).unwrap_or_else(|e| panic!("{e}"));
    for op in OPERATIONS {
        write(&fake.join(op.json_file()), sample(op));
    }
    write(
        &fake.join("denied.txt"),
        &access_denied("ec2:DescribeFlowLogs", "DescribeFlowLogs"),
    );
    let aws = fake.join("aws");
    write(&aws, FAKE_AWS);
    let chmod = Command::new("chmod")
        .arg("+x")
        .arg(&aws)
        .status()
        .unwrap_or_else(|e| panic!("chmod: {e}"));
    assert!(chmod.success());
    let script = work.join("collect-evidence.sh");
    write(&script, &collection_script());

    let path = format!("{}:{}", fake.display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .arg(out)
        .env("PATH", path)
        .env("FAKE_AWS", &fake)
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE");
    for var in fake_env {
        cmd.env(var, "1");
    }
    cmd.output().unwrap_or_else(|e| panic!("bash: {e}"))
}

fn files_under(root: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{e}")) {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                found.insert(rel.display().to_string());
            }
        }
    }
    found
}

#[test]
fn collection_script_is_valid_bash_skipped_without_bash() {
    if skipped_without_bash() {
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let script = dir.path().join("collect-evidence.sh");
    write(&script, &collection_script());
    let out = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(collection_script().starts_with("#!/usr/bin/env bash\n"));
}

#[test]
fn collection_script_end_to_end_with_fake_aws_cli_skipped_without_bash() {
    if skipped_without_bash() {
        return;
    }
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = work.path().join("evidence");
    let run = run_script(work.path(), &out, &[]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    // Two calls failed, the run went on, and says so in its exit status.
    assert_eq!(run.status.code(), Some(3), "stderr:\n{stderr}");
    assert!(
        stderr.contains("111111111111/us-west-2/ec2-describe-flow-logs.error: An error occurred (AccessDenied)"),
        "{stderr}"
    );

    let calls = std::fs::read_to_string(work.path().join("fake/calls.log")).unwrap_or_default();
    assert!(
        calls.contains("sts get-caller-identity --region us-east-1 --output json"),
        "{calls}"
    );
    assert!(
        calls.contains("ec2 describe-regions --region us-east-1 --all-regions --output json"),
        "{calls}"
    );
    assert!(
        !calls.contains("ap-east-1"),
        "a region that is not opted in was called:\n{calls}"
    );
    assert!(calls.contains("firehose list-delivery-streams --region us-east-1 --exclusive-start-delivery-stream-name vpn-logs-to-siem --output json"));

    // Exactly the layout, with no temporary or partial files left behind.
    let mut expected = BTreeSet::new();
    for op in OPERATIONS
        .iter()
        .filter(|o| o.scope == netaudit_evidence::Scope::Account)
    {
        expected.insert(format!("{ACCOUNT}/{}", op.json_file()));
    }
    for region in ["me-south-1", "us-east-1", "us-west-2"] {
        for op in OPERATIONS
            .iter()
            .filter(|o| o.scope == netaudit_evidence::Scope::Regional)
        {
            expected.insert(format!("{ACCOUNT}/{region}/{}", op.json_file()));
        }
    }
    for failed in [&Operation::EC2_DESCRIBE_FLOW_LOGS, &Operation::LOGS_DESCRIBE_LOG_GROUPS] {
        expected.remove(&format!("{ACCOUNT}/us-west-2/{}", failed.json_file()));
        expected.insert(format!("{ACCOUNT}/us-west-2/{}", failed.error_file()));
    }
    assert_eq!(files_under(&out), expected);

    let loaded = load_dir(&out).unwrap_or_else(|e| panic!("{e}"));
    let errors: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    let acc = &loaded.inventory.accounts[0];
    assert_eq!(acc.account_id, ACCOUNT);
    assert_eq!(
        acc.caller_arn.as_deref(),
        Some("arn:aws:sts::111111111111:assumed-role/NetworkAuditor/auditor")
    );
    assert!(acc.other_gaps.is_empty(), "{:?}", acc.other_gaps);
    assert_eq!(acc.regions.as_ref().map(Vec::len).ok(), Some(4));
    assert_eq!(acc.buckets.as_ref().map(Vec::len).ok(), Some(2));
    let regions: Vec<&str> = acc.region_data.iter().map(|r| r.region.as_str()).collect();
    assert_eq!(regions, ["me-south-1", "us-east-1", "us-west-2"]);

    let east = &acc.region_data[1];
    assert_eq!(east.vpcs.as_ref().map(Vec::len).ok(), Some(3));
    assert_eq!(east.flow_logs.as_ref().map(Vec::len).ok(), Some(2));
    assert_eq!(east.vpn_connections.as_ref().map(Vec::len).ok(), Some(2));
    // Two alarms, one of them metric math over both tunnels: three metrics watched.
    assert_eq!(east.alarms.as_ref().map(Vec::len).ok(), Some(2));
    let watched = east
        .alarms
        .as_ref()
        .map(|alarms| alarms.iter().map(|a| a.watched_metrics().len()).sum::<usize>());
    assert_eq!(watched.ok(), Some(3));
    // Both Firehose pages, merged.
    let streams: Option<Vec<&str>> = east
        .delivery_streams
        .as_ref()
        .ok()
        .map(|s| s.iter().map(|s| s.name.as_str()).collect());
    assert_eq!(streams, Some(vec!["flow-logs-to-s3", "vpn-logs-to-siem", "zz-archive"]));

    let west = &acc.region_data[2];
    assert_eq!(west.vpcs.as_ref().map(Vec::len).ok(), Some(3));
    let denied = west
        .flow_logs
        .as_ref()
        .err()
        .unwrap_or_else(|| panic!("denied flow logs read as a listing"));
    assert_eq!(denied.kind, GapKind::ApiError);
    assert_eq!(denied.code, "AccessDenied");
    assert_eq!(denied.api, "ec2:DescribeFlowLogs");
    assert_eq!(
        denied.source.as_deref(),
        Some("111111111111/us-west-2/ec2-describe-flow-logs.error")
    );
    let dropped = west
        .log_groups
        .as_ref()
        .err()
        .unwrap_or_else(|| panic!("a partial listing was read"));
    assert_eq!((dropped.kind, dropped.code.as_str()), (GapKind::ApiError, "CallFailed"));
    assert!(dropped
        .message
        .starts_with("Connection was closed before we received a valid response"));
}

#[test]
fn collection_script_collects_nothing_without_an_identity_skipped_without_bash() {
    if skipped_without_bash() {
        return;
    }
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = work.path().join("evidence");
    let run = run_script(work.path(), &out, &["FAKE_STS_FAIL"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Unable to locate credentials"), "{stderr}");
    assert!(files_under(&out).is_empty());
}

#[test]
fn collection_script_without_a_region_list_collects_the_home_region_skipped_without_bash() {
    if skipped_without_bash() {
        return;
    }
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = work.path().join("evidence");
    let run = run_script(work.path(), &out, &["FAKE_REGIONS_FAIL"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("collecting us-east-1 only"), "{stderr}");
    let loaded = load_dir(&out).unwrap_or_else(|e| panic!("{e}"));
    let acc = &loaded.inventory.accounts[0];
    let gap = acc
        .regions
        .as_ref()
        .err()
        .unwrap_or_else(|| panic!("a failed region list read as a listing"));
    assert_eq!(
        (gap.code.as_str(), gap.api.as_str()),
        ("UnauthorizedOperation", "ec2:DescribeRegions")
    );
    let regions: Vec<&str> = acc.region_data.iter().map(|r| r.region.as_str()).collect();
    assert_eq!(regions, ["us-east-1"]);
    assert_eq!(acc.region_data[0].vpcs.as_ref().map(Vec::len).ok(), Some(3));
}
