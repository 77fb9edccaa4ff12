#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A scan limited to some controls (`--checks`, `--skip`) makes only the calls those controls need,
//! and what it did not collect can never pass later: saved evidence of a narrowed scan, evaluated
//! with every control, is UNKNOWN wherever a skipped listing is read.

#[path = "../../aws/tests/support/moto_server.rs"]
mod moto_server;

use assert_cmd::Command;
use moto_server::{venv_bin, Moto};
use std::collections::BTreeMap;
use std::path::Path;

const REGIONS: &str = "us-east-1,eu-west-1";

/// One region of each: a VPC with an ACTIVE ALL flow log to a kept group, a VPC without one, a
/// group kept 30 days, and a Site-to-Site VPN connection.
const SEED: &str = r#"
import boto3, sys
for region in ["us-east-1", "eu-west-1"]:
    kw = dict(region_name=region, endpoint_url=sys.argv[1],
              aws_access_key_id="testing", aws_secret_access_key="testing")
    ec2, logs = boto3.client("ec2", **kw), boto3.client("logs", **kw)
    logs.create_log_group(logGroupName="/net/kept")
    logs.put_retention_policy(logGroupName="/net/kept", retentionInDays=365)
    logs.create_log_group(logGroupName="/net/short")
    logs.put_retention_policy(logGroupName="/net/short", retentionInDays=30)
    logged = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    ec2.create_vpc(CidrBlock="10.2.0.0/16")
    ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[logged], TrafficType="ALL",
                         LogDestinationType="cloud-watch-logs", LogGroupName="/net/kept",
                         DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/flow")
    cgw = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="203.0.113.10", BgpAsn=65000)
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")
    ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw["CustomerGateway"]["CustomerGatewayId"],
                              VpnGatewayId=vgw["VpnGateway"]["VpnGatewayId"])
"#;

fn seeded() -> Moto {
    let moto = Moto::start();
    let out = std::process::Command::new(venv_bin("python"))
        .args(["-c", SEED, &moto.url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    moto
}

fn netaudit(moto: &Moto, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("netaudit")
        .unwrap()
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env("NO_COLOR", "1")
        .args(args)
        .args(["--endpoint-url", &moto.url, "--regions", REGIONS, "--max-attempts", "1"])
        .output()
        .unwrap()
}

/// `--stats` output: the total, and the count per API.
fn stats(stderr: &[u8]) -> (usize, BTreeMap<String, usize>) {
    let text = String::from_utf8_lossy(stderr);
    let total = text
        .lines()
        .find_map(|l| l.strip_prefix("netaudit: ")?.strip_suffix(" API calls")?.parse().ok())
        .unwrap_or_else(|| panic!("no call count in {text}"));
    let per_api = text
        .lines()
        .filter_map(|l| {
            let (n, api) = l.trim().split_once(char::is_whitespace)?;
            Some((api.trim().to_owned(), n.parse().ok()?))
        })
        .collect();
    (total, per_api)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// (control, status) → how many results.
fn statuses(report: &serde_json::Value) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for r in report["results"].as_array().unwrap() {
        let key = (
            r["control"].as_str().unwrap().to_owned(),
            r["status"].as_str().unwrap().to_owned(),
        );
        *counts.entry(key).or_default() += 1;
    }
    counts
}

#[test]
fn checks_shrink_the_calls_to_what_the_controls_read() {
    let moto = seeded();
    let full = netaudit(&moto, &["scan", "--stats", "--format", "json"]);
    let (full_total, full_apis) = stats(&full.stderr);
    let narrow = netaudit(&moto, &["scan", "--checks", "EC2.6", "--stats", "--format", "json"]);
    let (narrow_total, narrow_apis) = stats(&narrow.stderr);

    assert!(
        full_apis.contains_key("ec2:DescribeClientVpnEndpoints"),
        "{full_apis:?}"
    );
    assert!(
        narrow_total < full_total,
        "EC2.6 alone made {narrow_total} calls, every control {full_total}"
    );
    // EC2.6 reads VPCs (whether they are shared) and their flow logs; every scan ranks its results
    // by internet exposure. Nothing else.
    let read: Vec<&str> = narrow_apis.keys().map(String::as_str).collect();
    assert_eq!(
        read,
        [
            "ec2:DescribeFlowLogs",
            "ec2:DescribeInternetGateways",
            "ec2:DescribeRegions",
            "ec2:DescribeVpcs",
            "sts:GetCallerIdentity"
        ]
    );
    assert_eq!(narrow_apis["ec2:DescribeVpcs"], 2, "one listing per region");

    // The narrowed report is whole for EC2.6, and the listings it skipped are no coverage gap of it.
    let report: serde_json::Value = serde_json::from_slice(&narrow.stdout).unwrap();
    let counts = statuses(&report);
    assert_eq!(counts.get(&("EC2.6".into(), "PASS".into())), Some(&2), "{counts:?}");
    // The unlogged VPC and the emulator's default VPC, in each region.
    assert_eq!(counts.get(&("EC2.6".into(), "FAIL".into())), Some(&4), "{counts:?}");
    assert!(!counts.keys().any(|(c, _)| c != "EC2.6"), "{counts:?}");
    assert_eq!(
        narrow.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&narrow.stderr)
    );
    let gaps = report["coverage"]["gaps"].as_array().unwrap();
    assert!(
        !gaps.iter().any(|g| g["code"] == "NotSelected"),
        "skipped listings listed as coverage gaps: {gaps:?}"
    );
}

#[test]
fn skipping_every_control_that_reads_client_vpn_endpoints_skips_their_call() {
    let moto = seeded();
    let apis = |skip: &str| stats(&netaudit(&moto, &["scan", "--skip", skip, "--stats"]).stderr).1;
    // The retention chain still reads endpoints (a group is in its scope when an endpoint logs there).
    let partly = apis("EC2.51,NETAUDIT.CVPN.LOGGROUP");
    assert_eq!(partly.get("ec2:DescribeClientVpnEndpoints"), Some(&2), "{partly:?}");
    let none = apis("EC2.51,NETAUDIT.CVPN.LOGGROUP,NETAUDIT.RETENTION.CHAIN");
    assert!(!none.contains_key("ec2:DescribeClientVpnEndpoints"), "{none:?}");
    for api in [
        "ec2:DescribeVpnConnections",
        "logs:DescribeLogGroups",
        "cloudwatch:DescribeAlarms",
        "ec2:DescribeFlowLogs",
    ] {
        assert_eq!(none.get(api), Some(&2), "{api} in {none:?}");
    }
}

#[test]
fn saved_evidence_of_a_narrowed_scan_never_passes_what_it_skipped() {
    let moto = seeded();
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("evidence");
    let narrow = netaudit(
        &moto,
        &[
            "scan",
            "--checks",
            "EC2.6",
            "--format",
            "json",
            "--save-evidence",
            evidence.to_str().unwrap(),
        ],
    );
    assert_eq!(
        narrow.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&narrow.stderr)
    );

    let report_path = dir.path().join("all.json");
    let replay = Command::cargo_bin("netaudit")
        .unwrap()
        .args([
            "scan",
            "--evidence",
            evidence.to_str().unwrap(),
            "--format",
            "json",
            "-o",
        ])
        .arg(&report_path)
        .output()
        .unwrap();
    // Failures (EC2.6) and incomplete (everything it skipped).
    assert_eq!(
        replay.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let report = json(&report_path);
    let counts = statuses(&report);

    // What was collected is judged as before.
    assert_eq!(counts.get(&("EC2.6".into(), "PASS".into())), Some(&2), "{counts:?}");
    // Log groups, VPN connections, Client VPN endpoints and alarms were not collected: their controls
    // are UNKNOWN in every region, never PASS (nor FAIL, which would be as wrong).
    for control in [
        "CloudWatch.16",
        "EC2.51",
        "EC2.171",
        "EC2.20",
        "NETAUDIT.CVPN.LOGGROUP",
        "NETAUDIT.RETENTION.CHAIN",
        "NETAUDIT.S2S.ALARM",
        "NETAUDIT.S2S.IKEV2",
        "NETAUDIT.S2S.LOGGROUP",
        "NETAUDIT.S2S.VENDEDLOGS",
    ] {
        let unknown = counts.get(&(control.into(), "UNKNOWN".into())).copied().unwrap_or(0);
        assert!(unknown >= 2, "{control}: {unknown} UNKNOWN in {counts:?}");
        for status in ["PASS", "FAIL", "NOT_APPLICABLE"] {
            assert_eq!(counts.get(&(control.into(), status.into())), None, "{control} {status}");
        }
    }
    // The flow log delivers to a group whose listing was skipped: whether it exists is unknown.
    assert_eq!(
        counts.get(&("NETAUDIT.FLOWLOG.DELIVERY".into(), "UNKNOWN".into())),
        Some(&2),
        "{counts:?}"
    );
    assert_eq!(counts.get(&("NETAUDIT.FLOWLOG.DELIVERY".into(), "PASS".into())), None);
    // And the report says why: the listing was not collected for this scan.
    let reasons: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["control"] == "CloudWatch.16")
        .filter_map(|r| r["reason"].as_str())
        .collect();
    assert!(
        reasons.iter().all(|r| r.contains("logs:DescribeLogGroups NotSelected")),
        "{reasons:?}"
    );
}
