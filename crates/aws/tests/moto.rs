//! The live collector against a real AWS emulator: moto in server mode on a loopback port.
//!
//! `scripts/test.sh` installs a pinned `moto[server]` and sets `NETAUDIT_MOTO_SERVER` to its
//! `moto_server`; each test starts its own server on a free port, seeds it through the AWS SDK, scans
//! it with the collector, and evaluates the built-in controls on what was collected.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::types::{FlowLogsResourceType, LogDestinationType, TrafficType};
use netaudit_aws::{collect_account, CallLog, LiveOptions};
use netaudit_checks::{builtin, evaluate, Finding, Status};
use netaudit_model::{Graph, Inventory};
use std::collections::BTreeMap;

const ACCOUNT: &str = "123456789012";
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

#[path = "support/moto_server.rs"]
mod moto_server;
use moto_server::Moto;

async fn config(url: &str, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .region(Region::new(region.to_owned()))
        .endpoint_url(url)
        // One attempt: the emulator's HTTP 500s are final, and the call count stays exact.
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await
}

struct Seeded {
    vpc_all_to_group: String,
    vpc_reject_to_deleted_group: String,
    vpc_accept_only: String,
    vpc_subnet_log_only: String,
    vpc_to_bucket: String,
    vpn: String,
}

async fn vpc(ec2: &aws_sdk_ec2::Client, cidr: &str) -> String {
    let out = ec2.create_vpc().cidr_block(cidr).send().await.expect("create VPC");
    out.vpc().and_then(|v| v.vpc_id()).expect("VPC id").to_owned()
}

async fn flow_log(
    ec2: &aws_sdk_ec2::Client,
    resource: &str,
    kind: FlowLogsResourceType,
    traffic: TrafficType,
    group: &str,
) {
    let out = ec2
        .create_flow_logs()
        .resource_type(kind)
        .resource_ids(resource)
        .traffic_type(traffic)
        .log_destination_type(LogDestinationType::CloudWatchLogs)
        .log_group_name(group)
        .deliver_logs_permission_arn(format!("arn:aws:iam::{ACCOUNT}:role/flow-logs"))
        .send()
        .await
        .expect("create flow log");
    assert!(out.unsuccessful().is_empty(), "{:?}", out.unsuccessful());
}

/// Three regions: us-east-1 holds the hard cases, eu-west-1 an S3 destination, ap-southeast-2 only
/// its default VPC.
async fn seed(url: &str) -> Seeded {
    let east = config(url, "us-east-1").await;
    let ec2 = aws_sdk_ec2::Client::new(&east);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&east);
    for (name, days) in [
        ("/aws/vpc/all", Some(365)),
        ("/aws/lambda/x", None),
        ("/aws/short", Some(30)),
    ] {
        logs.create_log_group()
            .log_group_name(name)
            .send()
            .await
            .expect("create log group");
        if let Some(days) = days {
            logs.put_retention_policy()
                .log_group_name(name)
                .retention_in_days(days)
                .send()
                .await
                .expect("retention");
        }
    }
    let vpc_all_to_group = vpc(&ec2, "10.1.0.0/16").await;
    flow_log(
        &ec2,
        &vpc_all_to_group,
        FlowLogsResourceType::Vpc,
        TrafficType::All,
        "/aws/vpc/all",
    )
    .await;
    let vpc_reject_to_deleted_group = vpc(&ec2, "10.2.0.0/16").await;
    flow_log(
        &ec2,
        &vpc_reject_to_deleted_group,
        FlowLogsResourceType::Vpc,
        TrafficType::Reject,
        "/aws/vpc/deleted",
    )
    .await;
    let vpc_accept_only = vpc(&ec2, "10.3.0.0/16").await;
    flow_log(
        &ec2,
        &vpc_accept_only,
        FlowLogsResourceType::Vpc,
        TrafficType::Accept,
        "/aws/vpc/all",
    )
    .await;
    let vpc_subnet_log_only = vpc(&ec2, "10.4.0.0/16").await;
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc_subnet_log_only)
        .cidr_block("10.4.1.0/24")
        .send()
        .await
        .expect("create subnet");
    let subnet_id = subnet
        .subnet()
        .and_then(|s| s.subnet_id())
        .expect("subnet id")
        .to_owned();
    flow_log(
        &ec2,
        &subnet_id,
        FlowLogsResourceType::Subnet,
        TrafficType::All,
        "/aws/vpc/all",
    )
    .await;

    let cgw = ec2
        .create_customer_gateway()
        .r#type(aws_sdk_ec2::types::GatewayType::Ipsec1)
        .bgp_asn(65000)
        .public_ip("198.51.100.1")
        .send()
        .await
        .expect("customer gateway");
    let vgw = ec2
        .create_vpn_gateway()
        .r#type(aws_sdk_ec2::types::GatewayType::Ipsec1)
        .send()
        .await
        .expect("vgw");
    let vpn = ec2
        .create_vpn_connection()
        .r#type("ipsec.1")
        .customer_gateway_id(
            cgw.customer_gateway()
                .and_then(|c| c.customer_gateway_id())
                .expect("cgw id"),
        )
        .vpn_gateway_id(vgw.vpn_gateway().and_then(|v| v.vpn_gateway_id()).expect("vgw id"))
        .send()
        .await
        .expect("VPN connection");
    let vpn = vpn
        .vpn_connection()
        .and_then(|v| v.vpn_connection_id())
        .expect("vpn id")
        .to_owned();
    aws_sdk_cloudwatch::Client::new(&east)
        .put_metric_alarm()
        .alarm_name("vpn-down")
        .namespace("AWS/VPN")
        .metric_name("TunnelState")
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("VpnId")
                .value(&vpn)
                .build(),
        )
        .statistic(aws_sdk_cloudwatch::types::Statistic::Minimum)
        .period(300)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::LessThanThreshold)
        .alarm_actions(format!("arn:aws:sns:us-east-1:{ACCOUNT}:oncall"))
        .send()
        .await
        .expect("alarm");

    let west = config(url, "eu-west-1").await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&west).force_path_style(true).build());
    s3.create_bucket()
        .bucket("flow-archive")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("bucket");
    let ec2_west = aws_sdk_ec2::Client::new(&west);
    let vpc_to_bucket = vpc(&ec2_west, "10.5.0.0/16").await;
    ec2_west
        .create_flow_logs()
        .resource_type(FlowLogsResourceType::Vpc)
        .resource_ids(&vpc_to_bucket)
        .traffic_type(TrafficType::Reject)
        .log_destination_type(LogDestinationType::S3)
        // The emulator takes everything after `:::` as the bucket name, so no key prefix here.
        .log_destination("arn:aws:s3:::flow-archive")
        .send()
        .await
        .expect("S3 flow log");

    Seeded {
        vpc_all_to_group,
        vpc_reject_to_deleted_group,
        vpc_accept_only,
        vpc_subnet_log_only,
        vpc_to_bucket,
        vpn,
    }
}

fn options() -> LiveOptions {
    LiveOptions {
        regions: Some(REGIONS.iter().map(|r| (*r).to_owned()).collect()),
        max_attempts: 1,
        ..LiveOptions::default()
    }
}

async fn scan(url: &str, calls: &CallLog) -> Inventory {
    let config = config(url, "us-east-1").await;
    let account = collect_account(&config, &options(), calls)
        .await
        .expect("the account is identified");
    Inventory {
        accounts: vec![account],
    }
}

fn verdicts(inventory: &Inventory) -> Vec<Finding> {
    let (catalogue, errors) = builtin();
    assert!(errors.is_empty(), "{errors:?}");
    let controls: Vec<_> = catalogue.controls().iter().collect();
    let graph = Graph::build(inventory);
    let (findings, errors) = evaluate(&controls, &graph, &BTreeMap::new());
    assert!(errors.is_empty(), "{errors:?}");
    findings
}

fn status(findings: &[Finding], control: &str, resource: &str) -> Status {
    let matching: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.control == control && (f.resource_id == resource || f.resource_arn == resource))
        .collect();
    assert_eq!(matching.len(), 1, "{control} {resource}: {matching:#?}");
    matching[0].status
}

fn flow_log_of(inventory: &Inventory, vpc: &str) -> String {
    inventory.accounts[0]
        .region_data
        .iter()
        .flat_map(|r| r.flow_logs.as_ref().map(Vec::as_slice).unwrap_or_default())
        .find(|f| f.resource_id.as_deref() == Some(vpc))
        .map(|f| f.flow_log_id.clone())
        .expect("the flow log was collected")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_of_the_emulator_gives_the_documented_verdicts() {
    let moto = Moto::start();
    let seeded = seed(&moto.url).await;
    let calls = CallLog::new();
    let inventory = scan(&moto.url, &calls).await;
    let findings = verdicts(&inventory);

    // EC2.6: ALL and REJECT pass; ACCEPT-only, subnet-only and the default VPCs (one per region,
    // none with interfaces) fail.
    assert_eq!(status(&findings, "EC2.6", &seeded.vpc_all_to_group), Status::Pass);
    assert_eq!(
        status(&findings, "EC2.6", &seeded.vpc_reject_to_deleted_group),
        Status::Pass
    );
    assert_eq!(status(&findings, "EC2.6", &seeded.vpc_accept_only), Status::Fail);
    assert_eq!(status(&findings, "EC2.6", &seeded.vpc_subnet_log_only), Status::Fail);
    assert_eq!(status(&findings, "EC2.6", &seeded.vpc_to_bucket), Status::Pass);
    assert_eq!(
        status(&findings, "CIS.VPC.FLOWLOGS", &seeded.vpc_accept_only),
        Status::Pass
    );
    let default_failures = findings
        .iter()
        .filter(|f| f.control == "EC2.6" && f.status == Status::Fail)
        .filter(|f| !f.resource_id.starts_with(&seeded.vpc_accept_only) && f.resource_id != seeded.vpc_subnet_log_only)
        .count();
    assert_eq!(default_failures, 3, "one default VPC per region fails");

    // The chain: a flow log to a log group that does not exist is not an audit trail; one to a
    // bucket that the account lists is.
    let deleted = flow_log_of(&inventory, &seeded.vpc_reject_to_deleted_group);
    assert_eq!(status(&findings, "NETAUDIT.FLOWLOG.DELIVERY", &deleted), Status::Fail);
    let to_group = flow_log_of(&inventory, &seeded.vpc_all_to_group);
    assert_eq!(status(&findings, "NETAUDIT.FLOWLOG.DELIVERY", &to_group), Status::Pass);
    let to_bucket = flow_log_of(&inventory, &seeded.vpc_to_bucket);
    assert_eq!(status(&findings, "NETAUDIT.FLOWLOG.DELIVERY", &to_bucket), Status::Pass);

    // Retention: never-expire passes, 30 days fails; the flow-log group is in the chain.
    assert_eq!(status(&findings, "CloudWatch.16", "/aws/lambda/x"), Status::Pass);
    assert_eq!(status(&findings, "CloudWatch.16", "/aws/short"), Status::Fail);
    assert_eq!(
        status(&findings, "NETAUDIT.RETENTION.CHAIN", "/aws/vpc/all"),
        Status::Pass
    );

    // The emulator answers HTTP 500 to DescribeClientVpnEndpoints: UNKNOWN in every region.
    for region in REGIONS {
        let arn = format!("arn:aws:ec2:{region}:{ACCOUNT}:client-vpn-endpoint/*");
        assert_eq!(status(&findings, "EC2.51", &arn), Status::Unknown, "{region}");
    }
    // It reports no tunnel options or telemetry for VPN connections: UNKNOWN, never PASS.
    assert_eq!(status(&findings, "EC2.171", &seeded.vpn), Status::Unknown);
    assert_eq!(status(&findings, "EC2.20", &seeded.vpn), Status::Unknown);
    // The connection-wide TunnelState alarm with an action watches both tunnels.
    let alarm_passes = findings
        .iter()
        .filter(|f| f.control == "NETAUDIT.S2S.ALARM" && f.resource_id.starts_with(&seeded.vpn))
        .filter(|f| f.status == Status::Pass)
        .count();
    assert_eq!(alarm_passes, 2);

    // Every call the scan made is in the least-privilege policy.
    for call in calls.calls() {
        assert!(
            netaudit_aws::action_for(&call.api).is_some(),
            "{} is missing from the IAM policy",
            call.api
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_calls_do_not_grow_with_the_number_of_vpcs() {
    let moto = Moto::start();
    seed(&moto.url).await;
    let before = CallLog::new();
    scan(&moto.url, &before).await;
    let ec2 = aws_sdk_ec2::Client::new(&config(&moto.url, "us-east-1").await);
    for i in 0..25 {
        let id = vpc(&ec2, &format!("10.{}.0.0/16", 100 + i)).await;
        flow_log(&ec2, &id, FlowLogsResourceType::Vpc, TrafficType::All, "/aws/vpc/all").await;
    }
    let after = CallLog::new();
    let inventory = scan(&moto.url, &after).await;
    assert!(inventory.accounts[0]
        .region_data
        .iter()
        .any(|r| r.vpcs.as_ref().is_ok_and(|v| v.len() > 25)));
    assert_eq!(before.counts(), after.counts(), "25 more VPCs, the same calls");
    // A few listings per region, and three account-wide calls.
    assert_eq!(after.calls().len(), 3 + 10 * REGIONS.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_evidence_replays_to_the_same_results() {
    let moto = Moto::start();
    seed(&moto.url).await;
    let inventory = scan(&moto.url, &CallLog::new()).await;
    let live = verdicts(&inventory);
    let dir = tempfile::tempdir().expect("temp dir");
    netaudit_evidence::write_dir(&inventory, dir.path()).expect("evidence written");
    let replayed = netaudit_evidence::load_dir(dir.path()).expect("evidence loads");
    let offline = verdicts(&replayed.inventory);
    let key = |f: &Finding| {
        (
            f.control.clone(),
            f.resource_arn.clone(),
            f.account_id.clone(),
            f.status,
            f.reason.clone(),
        )
    };
    let live: Vec<_> = live.iter().map(key).collect();
    let offline: Vec<_> = offline.iter().map(key).collect();
    assert_eq!(live, offline);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_organization_in_one_run() {
    let moto = Moto::start();
    let management = config(&moto.url, "us-east-1").await;
    let org = aws_sdk_organizations::Client::new(&management);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("organization");
    let mut members = vec![];
    for name in ["workloads", "network"] {
        let created = org
            .create_account()
            .account_name(name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .expect("member account");
        members.push(
            created
                .create_account_status()
                .and_then(|s| s.account_id())
                .expect("account id")
                .to_owned(),
        );
    }
    // A VPC with no flow log inside the first member, created through the role netaudit will use.
    let role = format!("arn:aws:iam::{}:role/OrganizationAccountAccessRole", members[0]);
    let provider = aws_config::sts::AssumeRoleProvider::builder(role)
        .session_name("seed")
        .configure(&management)
        .build()
        .await;
    let member = management
        .to_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
        .build();
    let member_vpc = vpc(&aws_sdk_ec2::Client::new(&member), "10.9.0.0/16").await;

    let calls = CallLog::new();
    let options = LiveOptions { org: true, ..options() };
    let inventory = netaudit_aws::collect_org(&management, &options, &calls)
        .await
        .expect("organization listed");
    let ids: Vec<&str> = inventory.accounts.iter().map(|a| a.account_id.as_str()).collect();
    for account in members.iter().map(String::as_str).chain([ACCOUNT]) {
        assert!(ids.contains(&account), "{account} missing from {ids:?}");
    }
    let findings = verdicts(&inventory);
    let member_finding = findings
        .iter()
        .find(|f| f.control == "EC2.6" && f.resource_id == member_vpc)
        .expect("the member's VPC is evaluated");
    assert_eq!(
        (member_finding.account_id.as_str(), member_finding.status),
        (members[0].as_str(), Status::Fail)
    );
    assert!(calls.counts().contains_key("organizations:ListAccounts"));
}
