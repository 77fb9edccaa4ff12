//! Scale benchmark: generated evidence estates of growing size, loaded, built into the graph and
//! evaluated with every built-in control. Prints time per phase, peak memory, and the ratio between
//! sizes (linear evaluation keeps the time ratio close to the size ratio).
//!
//! `cargo run --release -p netaudit-bench -- [ASSETS…]` (default: 10000 100000).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use netaudit_model::Graph;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

const ACCOUNTS: usize = 2;
const REGIONS: [&str; 5] = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"];
/// Assets generated per VPC: the VPC, a subnet, a flow log, a log group, and an interface-less
/// share of VPN connections (with two tunnels) and alarms.
const ASSETS_PER_VPC: usize = 5;

fn write(path: &Path, value: &serde_json::Value) -> std::io::Result<()> {
    std::fs::create_dir_all(path.parent().unwrap_or(path))?;
    std::fs::write(path, serde_json::to_vec(value).map_err(std::io::Error::other)?)
}

/// Generate an estate of about `assets` assets; returns the exact count of asset records written.
fn generate(dir: &Path, assets: usize) -> std::io::Result<usize> {
    let places = ACCOUNTS * REGIONS.len();
    let vpcs_per_place = (assets / ASSETS_PER_VPC / places).max(1);
    let mut written = 0;
    for a in 0..ACCOUNTS {
        let account = format!("{:012}", 100_000_000_000u64 + a as u64);
        let base = dir.join(&account);
        let regions: Vec<_> = REGIONS
            .iter()
            .map(|r| json!({"RegionName": r, "OptInStatus": "opt-in-not-required"}))
            .collect();
        write(&base.join("ec2-describe-regions.json"), &json!({ "Regions": regions }))?;
        write(
            &base.join("s3api-list-buckets.json"),
            &json!({ "Buckets": [{"Name": "central-flow-logs"}] }),
        )?;
        write(
            &base.join("sts-get-caller-identity.json"),
            &json!({"Account": account, "Arn": format!("arn:aws:iam::{account}:user/bench"), "UserId": "AIDA"}),
        )?;
        for region in REGIONS {
            let r = base.join(region);
            let (mut vpcs, mut subnets, mut flow_logs, mut groups, mut enis) = (vec![], vec![], vec![], vec![], vec![]);
            let (mut vpns, mut alarms) = (vec![], vec![]);
            for v in 0..vpcs_per_place {
                let vpc = format!("vpc-{v:017x}");
                let subnet = format!("subnet-{v:017x}");
                let group = format!("/aws/vpc/flow-logs/{v}");
                vpcs.push(json!({"VpcId": vpc, "OwnerId": account, "IsDefault": v == 0, "State": "available", "CidrBlock": "10.0.0.0/16"}));
                subnets.push(json!({"SubnetId": subnet, "VpcId": vpc, "CidrBlock": "10.0.1.0/24", "AvailabilityZone": format!("{region}a")}));
                enis.push(json!({"NetworkInterfaceId": format!("eni-{v:017x}"), "VpcId": vpc, "SubnetId": subnet}));
                // Every tenth VPC has no flow log; every seventh log group keeps too little.
                if v % 10 != 0 {
                    flow_logs.push(json!({
                        "FlowLogId": format!("fl-{v:017x}"), "FlowLogStatus": "ACTIVE", "ResourceId": vpc,
                        "TrafficType": if v % 3 == 0 { "ALL" } else { "REJECT" }, "DeliverLogsStatus": "SUCCESS",
                        "LogDestinationType": "cloud-watch-logs", "LogGroupName": group,
                    }));
                }
                groups.push(json!({"logGroupName": group, "retentionInDays": if v % 7 == 0 { 30 } else { 365 }}));
                written += 5;
                if v % 5 == 0 {
                    let vpn = format!("vpn-{v:017x}");
                    let tunnel = |i: usize| {
                        json!({"OutsideIpAddress": format!("3.5.{}.{}", v % 250, i), "IkeVersions": [{"Value": "ikev2"}],
                               "LogOptions": {"CloudWatchLogOptions": {"LogEnabled": true, "LogGroupArn": format!("arn:aws:logs:{region}:{account}:log-group:{group}")}}})
                    };
                    let telemetry =
                        |i: usize| json!({"OutsideIpAddress": format!("3.5.{}.{}", v % 250, i), "Status": "UP"});
                    vpns.push(json!({"VpnConnectionId": vpn, "State": "available", "Type": "ipsec.1",
                        "Options": {"TunnelOptions": [tunnel(1), tunnel(2)]}, "VgwTelemetry": [telemetry(1), telemetry(2)]}));
                    alarms.push(json!({"AlarmName": format!("{vpn}-down"), "Namespace": "AWS/VPN", "MetricName": "TunnelState",
                        "Dimensions": [{"Name": "VpnId", "Value": vpn}], "ActionsEnabled": true, "AlarmActions": ["arn:aws:sns:x"]}));
                    written += 4; // connection, two tunnels, alarm
                }
            }
            write(&r.join("ec2-describe-vpcs.json"), &json!({ "Vpcs": vpcs }))?;
            write(&r.join("ec2-describe-subnets.json"), &json!({ "Subnets": subnets }))?;
            write(
                &r.join("ec2-describe-network-interfaces.json"),
                &json!({ "NetworkInterfaces": enis }),
            )?;
            write(
                &r.join("ec2-describe-flow-logs.json"),
                &json!({ "FlowLogs": flow_logs }),
            )?;
            write(
                &r.join("logs-describe-log-groups.json"),
                &json!({ "logGroups": groups }),
            )?;
            write(
                &r.join("ec2-describe-vpn-connections.json"),
                &json!({ "VpnConnections": vpns }),
            )?;
            write(
                &r.join("cloudwatch-describe-alarms.json"),
                &json!({ "MetricAlarms": alarms, "CompositeAlarms": [] }),
            )?;
            write(
                &r.join("ec2-describe-client-vpn-endpoints.json"),
                &json!({ "ClientVpnEndpoints": [] }),
            )?;
            write(
                &r.join("firehose-list-delivery-streams.json"),
                &json!({ "DeliveryStreamNames": [], "HasMoreDeliveryStreams": false }),
            )?;
        }
    }
    Ok(written)
}

/// Peak resident memory of this process so far (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

struct Run {
    assets: usize,
    graph_nodes: usize,
    load: Duration,
    build: Duration,
    evaluate: Duration,
    findings: usize,
}

fn run(assets: usize) -> Result<Run, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let written = generate(dir.path(), assets).map_err(|e| e.to_string())?;
    let (catalogue, errors) = netaudit_checks::builtin();
    if !errors.is_empty() {
        return Err(format!("catalogue: {errors:?}"));
    }
    let start = Instant::now();
    let loaded = netaudit_evidence::load_dir(dir.path()).map_err(|e| e.to_string())?;
    let load = start.elapsed();
    let start = Instant::now();
    let graph = Graph::build(&loaded.inventory);
    let build = start.elapsed();
    let controls: Vec<_> = catalogue.controls().iter().collect();
    let start = Instant::now();
    let (findings, errors) = netaudit_checks::evaluate(&controls, &graph, &Default::default());
    let evaluate = start.elapsed();
    if !errors.is_empty() {
        return Err(format!("evaluation: {errors:?}"));
    }
    Ok(Run {
        assets: written,
        graph_nodes: graph.len(),
        load,
        build,
        evaluate,
        findings: findings.len(),
    })
}

fn main() -> std::process::ExitCode {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![10_000, 100_000] } else { sizes };
    println!(
        "{:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "assets", "nodes", "load ms", "build ms", "eval ms", "total ms", "findings", "peak MiB"
    );
    let mut runs = vec![];
    for size in sizes {
        match run(size) {
            Ok(r) => {
                let total = r.load + r.build + r.evaluate;
                println!(
                    "{:>9} {:>9} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9} {:>10.1}",
                    r.assets,
                    r.graph_nodes,
                    r.load.as_secs_f64() * 1e3,
                    r.build.as_secs_f64() * 1e3,
                    r.evaluate.as_secs_f64() * 1e3,
                    total.as_secs_f64() * 1e3,
                    r.findings,
                    peak_rss_mib().unwrap_or(f64::NAN)
                );
                runs.push(r);
            }
            Err(e) => {
                eprintln!("bench failed at {size} assets: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    if let (Some(first), Some(last)) = (runs.first(), runs.last()) {
        if runs.len() > 1 {
            let t = |r: &Run| (r.load + r.build + r.evaluate).as_secs_f64();
            println!(
                "size ratio {:.1}x, time ratio {:.1}x, evaluation ratio {:.1}x (linear: about equal)",
                last.assets as f64 / first.assets as f64,
                t(last) / t(first),
                last.evaluate.as_secs_f64() / first.evaluate.as_secs_f64()
            );
        }
    }
    std::process::ExitCode::SUCCESS
}
