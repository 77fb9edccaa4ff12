//! One mapping, checked end to end: for every resource type, what a live scan makes of an SDK
//! response is what saving it as evidence and loading that back makes of it, record for record and
//! asset for asset. Each type is tried with every field netaudit reads set, and with them left out.

use crate::convert;
use aws_sdk_cloudwatch::types as cloudwatch;
use aws_sdk_ec2::types as ec2;
use aws_smithy_types::DateTime;
use netaudit_model::inventory::*;
use netaudit_model::{Graph, Inventory};

const ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-1";

fn inventory(region: RegionInventory, buckets: Vec<BucketRecord>, regions: Vec<RegionRecord>) -> Inventory {
    Inventory {
        accounts: vec![AccountInventory {
            account_id: ACCOUNT.into(),
            caller_arn: Some(format!("arn:aws:iam::{ACCOUNT}:user/auditor")),
            regions: Ok(regions),
            region_scope: Some(vec![REGION.into()]),
            region_data: vec![region],
            buckets: Ok(buckets),
            other_gaps: vec![],
        }],
    }
}

fn region_list() -> Vec<RegionRecord> {
    vec![RegionRecord {
        name: REGION.into(),
        opt_in_status: Some("opt-in-not-required".into()),
    }]
}

/// Save `live` as evidence, load it back, and hold the two to the same records and the same graph.
fn assert_round_trip(live: &Inventory) -> Inventory {
    let dir = tempfile::tempdir().expect("temp dir");
    netaudit_evidence::write_dir(live, dir.path()).expect("evidence written");
    let loaded = netaudit_evidence::load_dir(dir.path()).expect("evidence loads");
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let replayed = loaded.inventory;

    let (a, b) = (&live.accounts[0], &replayed.accounts[0]);
    assert_eq!(a.caller_arn, b.caller_arn);
    assert_eq!(a.regions, b.regions);
    assert_eq!(a.region_scope, b.region_scope);
    assert_eq!(a.buckets, b.buckets);
    let (r, s) = (&a.region_data[0], &b.region_data[0]);
    assert_eq!(r.vpcs, s.vpcs);
    assert_eq!(r.subnets, s.subnets);
    assert_eq!(r.network_interfaces, s.network_interfaces);
    assert_eq!(r.flow_logs, s.flow_logs);
    assert_eq!(r.client_vpn_endpoints, s.client_vpn_endpoints);
    assert_eq!(r.vpn_connections, s.vpn_connections);
    assert_eq!(r.log_groups, s.log_groups);
    assert_eq!(r.alarms, s.alarms);
    assert_eq!(r.delivery_streams, s.delivery_streams);

    let (live_graph, replayed_graph) = (Graph::build(live), Graph::build(&replayed));
    assert_eq!(live_graph.assets(), replayed_graph.assets());
    assert_eq!(live_graph.gaps(), replayed_graph.gaps());
    replayed
}

/// A region holding only what `fill` sets, round-tripped; returns the replayed region.
fn round_trip_region(fill: impl FnOnce(&mut RegionInventory)) -> RegionInventory {
    let mut region = RegionInventory::empty(REGION);
    fill(&mut region);
    let mut replayed = assert_round_trip(&inventory(region, vec![], region_list()));
    replayed.accounts.remove(0).region_data.remove(0)
}

fn time(secs: i64) -> DateTime {
    DateTime::from_secs(secs)
}

fn tag(key: &str, value: &str) -> ec2::Tag {
    ec2::Tag::builder().key(key).value(value).build()
}

#[test]
fn regions_and_buckets() {
    let regions: Vec<RegionRecord> = [
        ec2::Region::builder()
            .region_name(REGION)
            .opt_in_status("opt-in-not-required")
            .build(),
        ec2::Region::builder()
            .region_name("ap-east-1")
            .opt_in_status("not-opted-in")
            .build(),
        ec2::Region::builder().region_name("eu-west-1").build(),
    ]
    .iter()
    .filter_map(convert::region)
    .collect();
    let buckets: Vec<BucketRecord> = [
        aws_sdk_s3::types::Bucket::builder()
            .name("flow-logs")
            .bucket_region(REGION)
            .creation_date(DateTime::from_fractional_secs(1_700_000_000, 0.25))
            .build(),
        aws_sdk_s3::types::Bucket::builder().name("bare").build(),
    ]
    .iter()
    .filter_map(convert::bucket)
    .collect();
    assert_eq!(buckets[0].creation_date.as_deref(), Some("2023-11-14T22:13:20.25Z"));
    assert_round_trip(&inventory(RegionInventory::empty(REGION), buckets, regions));
}

#[test]
fn vpcs_subnets_and_network_interfaces() {
    let vpcs = [
        ec2::Vpc::builder()
            .vpc_id("vpc-1")
            .owner_id(ACCOUNT)
            .is_default(false)
            .state(ec2::VpcState::Available)
            .cidr_block("10.0.0.0/16")
            .tags(tag("Name", "prod"))
            .tags(tag("team", "network"))
            .build(),
        ec2::Vpc::builder().vpc_id("vpc-2").owner_id("222222222222").build(),
        ec2::Vpc::builder().vpc_id("vpc-3").build(),
    ];
    let subnets = [
        ec2::Subnet::builder()
            .subnet_id("subnet-1")
            .vpc_id("vpc-1")
            .cidr_block("10.0.1.0/24")
            .availability_zone("us-east-1a")
            .tags(tag("Name", "private-a"))
            .build(),
        ec2::Subnet::builder().subnet_id("subnet-2").build(),
    ];
    let enis = [
        ec2::NetworkInterface::builder()
            .network_interface_id("eni-1")
            .vpc_id("vpc-1")
            .subnet_id("subnet-1")
            .build(),
        ec2::NetworkInterface::builder().network_interface_id("eni-2").build(),
    ];
    let replayed = round_trip_region(|r| {
        r.vpcs = Ok(vpcs.iter().map(convert::vpc).collect());
        r.subnets = Ok(subnets.iter().map(convert::subnet).collect());
        r.network_interfaces = Ok(enis.iter().map(convert::network_interface).collect());
    });
    let vpcs = replayed.vpcs.unwrap_or_default();
    assert_eq!(vpcs[0].name_tag(), Some("prod"));
    assert_eq!(vpcs[0].tags.len(), 2, "every tag is kept, not only Name");
}

#[test]
fn flow_logs_to_each_destination() {
    let full = ec2::FlowLog::builder()
        .flow_log_id("fl-1")
        .flow_log_status("ACTIVE")
        .resource_id("vpc-1")
        .traffic_type(ec2::TrafficType::All)
        .deliver_logs_status("FAILED")
        .deliver_logs_error_message("Access error")
        .deliver_logs_permission_arn("arn:aws:iam::111111111111:role/flow-logs")
        .log_destination_type(ec2::LogDestinationType::CloudWatchLogs)
        .log_destination("arn:aws:logs:us-east-1:111111111111:log-group:/flow")
        .log_group_name("/flow")
        .max_aggregation_interval(60)
        .log_format("${version} ${account-id}")
        .creation_time(time(1_718_000_000))
        .tags(tag("Name", "all-traffic"))
        .build();
    let to_s3 = ec2::FlowLog::builder()
        .flow_log_id("fl-2")
        .resource_id("subnet-1")
        .traffic_type(ec2::TrafficType::Reject)
        .log_destination_type(ec2::LogDestinationType::S3)
        .log_destination("arn:aws:s3:::flow-logs/prefix")
        .build();
    let to_firehose = ec2::FlowLog::builder()
        .flow_log_id("fl-3")
        .log_destination_type(ec2::LogDestinationType::KinesisDataFirehose)
        .log_destination("arn:aws:firehose:us-east-1:111111111111:deliverystream/flows")
        .build();
    let bare = ec2::FlowLog::builder().flow_log_id("fl-4").build();
    let replayed = round_trip_region(|r| {
        r.vpcs = Ok(vec![convert::vpc(&ec2::Vpc::builder().vpc_id("vpc-1").build())]);
        r.flow_logs = Ok([full, to_s3, to_firehose, bare].iter().map(convert::flow_log).collect());
        r.log_groups = Ok(vec![convert::log_group(
            &aws_sdk_cloudwatchlogs::types::LogGroup::builder()
                .log_group_name("/flow")
                .build(),
        )]);
        r.delivery_streams = Ok(vec![convert::delivery_stream("flows")]);
    });
    let flow_logs = replayed.flow_logs.unwrap_or_default();
    assert_eq!(flow_logs[0].creation_time.as_deref(), Some("2024-06-10T06:13:20Z"));
}

#[test]
fn client_vpn_endpoints() {
    let logging = ec2::ClientVpnEndpoint::builder()
        .client_vpn_endpoint_id("cvpn-endpoint-1")
        .status(
            ec2::ClientVpnEndpointStatus::builder()
                .code(ec2::ClientVpnEndpointStatusCode::Available)
                .build(),
        )
        .connection_log_options(
            ec2::ConnectionLogResponseOptions::builder()
                .enabled(true)
                .cloudwatch_log_group("/aws/clientvpn")
                .cloudwatch_log_stream("connections")
                .build(),
        )
        .vpc_id("vpc-1")
        .description("remote access")
        .tags(tag("Name", "engineering"))
        .build();
    let off = ec2::ClientVpnEndpoint::builder()
        .client_vpn_endpoint_id("cvpn-endpoint-2")
        .connection_log_options(ec2::ConnectionLogResponseOptions::builder().enabled(false).build())
        .build();
    let bare = ec2::ClientVpnEndpoint::builder()
        .client_vpn_endpoint_id("cvpn-endpoint-3")
        .status(ec2::ClientVpnEndpointStatus::builder().build())
        .build();
    round_trip_region(|r| {
        r.client_vpn_endpoints = Ok([logging, off, bare].iter().map(convert::client_vpn_endpoint).collect());
        r.log_groups = Ok(vec![LogGroupRecord {
            log_group_name: "/aws/clientvpn".into(),
            ..Default::default()
        }]);
    });
}

fn tunnel(ip: &str, logs: bool) -> ec2::TunnelOption {
    ec2::TunnelOption::builder()
        .outside_ip_address(ip)
        .ike_versions(ec2::IkeVersionsListValue::builder().value("ikev2").build())
        .log_options(
            ec2::VpnTunnelLogOptions::builder()
                .cloud_watch_log_options(
                    ec2::CloudWatchLogOptions::builder()
                        .log_enabled(logs)
                        .log_group_arn("arn:aws:logs:us-east-1:111111111111:log-group:/aws/vendedlogs/vpn")
                        .log_output_format("json")
                        .bgp_log_enabled(logs)
                        .bgp_log_group_arn("arn:aws:logs:us-east-1:111111111111:log-group:/aws/vendedlogs/bgp")
                        .build(),
                )
                .build(),
        )
        .build()
}

fn telemetry(ip: &str, status: ec2::TelemetryStatus) -> ec2::VgwTelemetry {
    ec2::VgwTelemetry::builder()
        .outside_ip_address(ip)
        .status(status)
        .last_status_change(DateTime::from_secs_and_nanos(1_718_000_000, 123_456_000))
        .status_message("2 BGP ROUTES")
        .build()
}

#[test]
fn vpn_connections_with_tunnel_options_log_options_and_telemetry() {
    let reported = ec2::VpnConnection::builder()
        .vpn_connection_id("vpn-1")
        .state(ec2::VpnState::Available)
        .r#type(ec2::GatewayType::Ipsec1)
        .customer_gateway_id("cgw-1")
        .vpn_gateway_id("vgw-1")
        .transit_gateway_id("tgw-1")
        .options(
            ec2::VpnConnectionOptions::builder()
                .static_routes_only(false)
                .tunnel_options(tunnel("198.51.100.1", true))
                .tunnel_options(tunnel("198.51.100.2", false))
                .build(),
        )
        .vgw_telemetry(telemetry("198.51.100.1", ec2::TelemetryStatus::Up))
        .vgw_telemetry(telemetry("198.51.100.2", ec2::TelemetryStatus::Down))
        .tags(tag("Name", "site-a"))
        .build();
    // Provisioning: one tunnel without an IP, no log options, no IKE versions, one telemetry entry.
    let provisioning = ec2::VpnConnection::builder()
        .vpn_connection_id("vpn-2")
        .state(ec2::VpnState::Pending)
        .options(
            ec2::VpnConnectionOptions::builder()
                .tunnel_options(ec2::TunnelOption::builder().outside_ip_address("").build())
                .tunnel_options(ec2::TunnelOption::builder().build())
                .build(),
        )
        .vgw_telemetry(ec2::VgwTelemetry::builder().build())
        .build();
    // Options with an empty tunnel list, and nothing else reported.
    let unreported = ec2::VpnConnection::builder()
        .vpn_connection_id("vpn-3")
        .options(ec2::VpnConnectionOptions::builder().build())
        .build();
    let bare = ec2::VpnConnection::builder().vpn_connection_id("vpn-4").build();
    let replayed = round_trip_region(|r| {
        r.vpn_connections = Ok([reported, provisioning, unreported, bare]
            .iter()
            .map(convert::vpn_connection)
            .collect());
        r.log_groups = Ok(["/aws/vendedlogs/vpn", "/aws/vendedlogs/bgp"]
            .map(|name| LogGroupRecord {
                log_group_name: name.into(),
                ..Default::default()
            })
            .to_vec());
    });
    let connections = replayed.vpn_connections.unwrap_or_default();
    let telemetry = connections[0].telemetry().unwrap_or_default();
    assert_eq!(
        telemetry[0].last_status_change.as_deref(),
        Some("2024-06-10T06:13:20.123456Z")
    );
    assert!(
        connections[2].tunnel_options().is_none(),
        "an empty tunnel list is not reported"
    );
}

#[test]
fn log_groups() {
    let groups = [
        aws_sdk_cloudwatchlogs::types::LogGroup::builder()
            .log_group_name("/aws/vpc/flow-logs")
            .arn("arn:aws:logs:us-east-1:111111111111:log-group:/aws/vpc/flow-logs:*")
            .log_group_arn("arn:aws:logs:us-east-1:111111111111:log-group:/aws/vpc/flow-logs")
            .retention_in_days(365)
            .kms_key_id("arn:aws:kms:us-east-1:111111111111:key/k")
            .log_group_class(aws_sdk_cloudwatchlogs::types::LogGroupClass::Standard)
            .stored_bytes(1024)
            .creation_time(1_714_641_238_417)
            .build(),
        // Older responses: only `arn`, with its `:*`; no retention (never expire).
        aws_sdk_cloudwatchlogs::types::LogGroup::builder()
            .log_group_name("/old")
            .arn("arn:aws:logs:us-east-1:111111111111:log-group:/old:*")
            .build(),
        // A retention CloudWatch Logs does not allow is unknown, on both paths.
        aws_sdk_cloudwatchlogs::types::LogGroup::builder()
            .log_group_name("/odd")
            .retention_in_days(0)
            .build(),
    ];
    let replayed = round_trip_region(|r| r.log_groups = Ok(groups.iter().map(convert::log_group).collect()));
    let groups = replayed.log_groups.unwrap_or_default();
    assert_eq!(
        groups[1].group_arn(),
        Some("arn:aws:logs:us-east-1:111111111111:log-group:/old")
    );
}

fn dimension(name: &str, value: &str) -> cloudwatch::Dimension {
    cloudwatch::Dimension::builder().name(name).value(value).build()
}

fn tunnel_state(ip: &str) -> cloudwatch::Metric {
    cloudwatch::Metric::builder()
        .namespace("AWS/VPN")
        .metric_name("TunnelState")
        .dimensions(dimension("VpnId", "vpn-1"))
        .dimensions(dimension("TunnelIpAddress", ip))
        .build()
}

/// One tunnel's TunnelState, read by a metric-math alarm.
fn tunnel_state_query(id: &str, ip: &str) -> cloudwatch::MetricDataQuery {
    cloudwatch::MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            cloudwatch::MetricStat::builder()
                .metric(tunnel_state(ip))
                .period(60)
                .stat("Minimum")
                .build(),
        )
        .return_data(false)
        .build()
}

fn vpn_with_two_tunnels() -> VpnConnectionRecord {
    convert::vpn_connection(
        &ec2::VpnConnection::builder()
            .vpn_connection_id("vpn-1")
            .state(ec2::VpnState::Available)
            .options(
                ec2::VpnConnectionOptions::builder()
                    .tunnel_options(tunnel("198.51.100.1", true))
                    .tunnel_options(tunnel("198.51.100.2", true))
                    .build(),
            )
            .build(),
    )
}

#[test]
fn metric_alarms_plain_and_bare() {
    let plain = cloudwatch::MetricAlarm::builder()
        .alarm_name("tunnel-1-down")
        .alarm_arn("arn:aws:cloudwatch:us-east-1:111111111111:alarm:tunnel-1-down")
        .namespace("AWS/VPN")
        .metric_name("TunnelState")
        .dimensions(dimension("VpnId", "vpn-1"))
        .dimensions(dimension("TunnelIpAddress", "198.51.100.1"))
        .actions_enabled(true)
        .alarm_actions("arn:aws:sns:us-east-1:111111111111:on-call")
        .state_value(cloudwatch::StateValue::Ok)
        .build();
    let whole_connection = cloudwatch::MetricAlarm::builder()
        .alarm_name("vpn-1-down")
        .namespace("AWS/VPN")
        .metric_name("TunnelState")
        .dimensions(dimension("VpnId", "vpn-1"))
        .build();
    let other = cloudwatch::MetricAlarm::builder()
        .alarm_name("cpu")
        .namespace("AWS/EC2")
        .metric_name("CPUUtilization")
        .build();
    let bare = cloudwatch::MetricAlarm::builder().alarm_name("bare").build();
    round_trip_region(|r| {
        r.vpn_connections = Ok(vec![vpn_with_two_tunnels()]);
        r.alarms = Ok([plain, whole_connection, other, bare]
            .iter()
            .map(convert::alarm)
            .collect());
    });
}

/// A metric-math alarm over both tunnels is one alarm that reads two metrics. The evidence writer
/// used to flatten it into one alarm per metric, which is not what `describe-alarms` prints, while
/// the loader read `Metrics[].MetricStat.Metric`: both now go through the one declaration.
#[test]
fn metric_math_alarm_stays_one_alarm_reading_each_metric() {
    let math = cloudwatch::MetricAlarm::builder()
        .alarm_name("any-tunnel-down")
        .alarm_arn("arn:aws:cloudwatch:us-east-1:111111111111:alarm:any-tunnel-down")
        .actions_enabled(false)
        .state_value(cloudwatch::StateValue::InsufficientData)
        .metrics(tunnel_state_query("t1", "198.51.100.1"))
        .metrics(tunnel_state_query("t2", "198.51.100.2"))
        .metrics(
            cloudwatch::MetricDataQuery::builder()
                .id("both")
                .expression("MIN([t1, t2])")
                .build(),
        )
        .build();
    let live = convert::alarm(&math);
    let replayed = round_trip_region(|r| {
        r.vpn_connections = Ok(vec![vpn_with_two_tunnels()]);
        r.alarms = Ok(vec![live.clone()]);
    });
    assert_eq!(replayed.alarms, Ok(vec![live]), "one alarm in, one alarm out");

    let mut region = RegionInventory::empty(REGION);
    region.vpn_connections = Ok(vec![vpn_with_two_tunnels()]);
    region.alarms = replayed.alarms;
    let graph = Graph::build(&inventory(region, vec![], region_list()));
    let watched: Vec<(&str, &netaudit_model::Value)> = graph
        .of_kind(netaudit_model::Kind::Alarm)
        .iter()
        .map(|n| graph.asset(*n))
        .map(|a| (a.id.as_str(), a.field(netaudit_model::schema::alarm::TUNNEL_IP_ADDRESS)))
        .collect();
    let ip = |s: &str| netaudit_model::Value::Str(s.into());
    assert_eq!(
        watched,
        [
            ("any-tunnel-down", &ip("198.51.100.1")),
            ("any-tunnel-down", &ip("198.51.100.2"))
        ]
    );
}

#[test]
fn delivery_streams() {
    round_trip_region(|r| {
        r.delivery_streams = Ok(["flows", "vpn-logs"].map(convert::delivery_stream).to_vec());
    });
}
