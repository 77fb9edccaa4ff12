//! The evidence loader against realistic AWS CLI output, and against every way evidence goes wrong.

mod common;

use common::{access_denied, account_files, empty, sample, ACCOUNT};
use netaudit_evidence::{load_dir, load_files, EvidenceError, Loaded, Operation, Scope, OPERATIONS};
use netaudit_model::inventory::{AccountInventory, RegionInventory};
use netaudit_model::{Gap, GapKind, Graph, Listing};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

fn account<'l>(loaded: &'l Loaded, id: &str) -> &'l AccountInventory {
    loaded
        .inventory
        .accounts
        .iter()
        .find(|a| a.account_id == id)
        .unwrap_or_else(|| panic!("account {id} not loaded: {loaded:#?}"))
}

fn region<'l>(loaded: &'l Loaded, id: &str, name: &str) -> &'l RegionInventory {
    account(loaded, id)
        .region_data
        .iter()
        .find(|r| r.region == name)
        .unwrap_or_else(|| panic!("region {name} not loaded: {loaded:#?}"))
}

fn ok<T: std::fmt::Debug>(listing: &Listing<T>) -> &[T] {
    match listing {
        Ok(items) => items,
        Err(gap) => panic!("expected records, got gap {gap:?}"),
    }
}

fn gap<T: std::fmt::Debug>(listing: &Listing<T>) -> &Arc<Gap> {
    match listing {
        Ok(items) => panic!("expected a gap, got {items:?}"),
        Err(gap) => gap,
    }
}

fn set(files: &mut BTreeMap<String, Vec<u8>>, path: &str, content: &str) {
    files.insert(path.to_owned(), content.as_bytes().to_vec());
}

fn messages(loaded: &Loaded) -> Vec<String> {
    loaded.errors.iter().map(ToString::to_string).collect()
}

#[test]
fn every_file_type_is_parsed_into_records() {
    let loaded = load_files(&account_files());
    assert_eq!(messages(&loaded), Vec::<String>::new());
    let acc = account(&loaded, ACCOUNT);
    assert_eq!(
        acc.caller_arn.as_deref(),
        Some("arn:aws:sts::111111111111:assumed-role/NetworkAuditor/auditor")
    );
    assert!(acc.other_gaps.is_empty(), "{:?}", acc.other_gaps);

    let regions: Vec<(&str, Option<&str>)> = ok(&acc.regions)
        .iter()
        .map(|r| (r.name.as_str(), r.opt_in_status.as_deref()))
        .collect();
    assert_eq!(
        regions,
        [
            ("ap-east-1", Some("not-opted-in")),
            ("me-south-1", Some("opted-in")),
            ("us-east-1", Some("opt-in-not-required")),
            ("us-west-2", Some("opt-in-not-required"))
        ]
    );

    let buckets = ok(&acc.buckets);
    assert_eq!(buckets.len(), 2);
    assert_eq!(buckets[0].name, "acme-flow-logs-111111111111");
    assert_eq!(buckets[0].region.as_deref(), Some("us-east-1"));
    assert_eq!(buckets[0].creation_date.as_deref(), Some("2023-11-02T09:14:52Z"));
    assert_eq!(buckets[1].region, None);

    let r = region(&loaded, ACCOUNT, "us-east-1");
    let vpcs = ok(&r.vpcs);
    assert_eq!(vpcs.len(), 3);
    assert_eq!(vpcs[0].vpc_id, "vpc-0d1e2f3a4b5c6d7e8");
    assert_eq!(vpcs[0].is_default, Some(true));
    assert_eq!(vpcs[0].name_tag(), None);
    assert_eq!(vpcs[1].name_tag(), Some("prod-core"));
    assert_eq!(vpcs[1].cidr_block.as_deref(), Some("10.20.0.0/16"));
    assert_eq!(vpcs[1].state.as_deref(), Some("available"));
    assert_eq!(vpcs[1].owner_id.as_deref(), Some("111111111111"));
    assert_eq!(vpcs[2].owner_id.as_deref(), Some("222222222222"));

    let subnets = ok(&r.subnets);
    assert_eq!(subnets.len(), 2);
    assert_eq!(subnets[0].subnet_id, "subnet-0123456789abcdef0");
    assert_eq!(subnets[0].vpc_id.as_deref(), Some("vpc-0a1b2c3d4e5f67890"));
    assert_eq!(subnets[0].availability_zone.as_deref(), Some("us-east-1a"));
    assert_eq!(subnets[0].cidr_block.as_deref(), Some("10.20.1.0/24"));
    assert_eq!(subnets[0].name_tag(), Some("prod-core-private-a"));
    assert_eq!(subnets[1].name_tag(), None);

    let enis = ok(&r.network_interfaces);
    assert_eq!(enis.len(), 1);
    assert_eq!(enis[0].network_interface_id, "eni-0a1b2c3d4e5f67890");
    assert_eq!(enis[0].vpc_id.as_deref(), Some("vpc-0a1b2c3d4e5f67890"));
    assert_eq!(enis[0].subnet_id.as_deref(), Some("subnet-0123456789abcdef0"));

    let flow_logs = ok(&r.flow_logs);
    assert_eq!(flow_logs.len(), 2);
    let cw = &flow_logs[0];
    assert_eq!(cw.flow_log_id, "fl-0a1b2c3d4e5f67890");
    assert_eq!(cw.flow_log_status.as_deref(), Some("ACTIVE"));
    assert_eq!(cw.resource_id.as_deref(), Some("vpc-0a1b2c3d4e5f67890"));
    assert_eq!(cw.traffic_type.as_deref(), Some("ALL"));
    assert_eq!(cw.deliver_logs_status.as_deref(), Some("SUCCESS"));
    assert_eq!(cw.deliver_logs_error_message, None);
    assert_eq!(
        cw.deliver_logs_permission_arn.as_deref(),
        Some("arn:aws:iam::111111111111:role/flow-logs-delivery")
    );
    assert_eq!(cw.log_destination_type.as_deref(), Some("cloud-watch-logs"));
    assert_eq!(
        cw.log_destination.as_deref(),
        Some("arn:aws:logs:us-east-1:111111111111:log-group:/aws/vpc/flow-logs/prod-core")
    );
    assert_eq!(cw.log_group_name.as_deref(), Some("/aws/vpc/flow-logs/prod-core"));
    assert_eq!(cw.max_aggregation_interval, Some(600));
    assert!(cw
        .log_format
        .as_deref()
        .is_some_and(|f| f.starts_with("${version} ${account-id}")));
    assert_eq!(cw.creation_time.as_deref(), Some("2024-06-10T06:13:20.123Z"));
    assert_eq!(cw.name_tag(), Some("prod-core-all"));
    let s3 = &flow_logs[1];
    assert_eq!(s3.deliver_logs_status.as_deref(), Some("FAILED"));
    assert_eq!(s3.deliver_logs_error_message.as_deref(), Some("Access error"));
    assert_eq!(s3.traffic_type.as_deref(), Some("REJECT"));
    assert_eq!(s3.log_destination_type.as_deref(), Some("s3"));
    assert_eq!(s3.log_group_name, None);
    assert_eq!(s3.max_aggregation_interval, Some(60));

    let endpoints = ok(&r.client_vpn_endpoints);
    assert_eq!(endpoints.len(), 2);
    let e = &endpoints[0];
    assert_eq!(e.endpoint_id, "cvpn-endpoint-0123456789abcdef0");
    assert_eq!(e.status_code(), Some("available"));
    assert_eq!(e.vpc_id.as_deref(), Some("vpc-0a1b2c3d4e5f67890"));
    assert_eq!(e.description.as_deref(), Some("Engineering remote access"));
    assert_eq!(e.name_tag(), Some("engineering-vpn"));
    let log = e.connection_log.as_ref().map(|l| {
        (
            l.enabled,
            l.cloudwatch_log_group.as_deref(),
            l.cloudwatch_log_stream.as_deref(),
        )
    });
    assert_eq!(
        log,
        Some((Some(true), Some("/aws/clientvpn/engineering"), Some("connections")))
    );
    let off = endpoints[1]
        .connection_log
        .as_ref()
        .map(|l| (l.enabled, l.cloudwatch_log_group.clone()));
    assert_eq!(off, Some((Some(false), None)));
    assert_eq!(endpoints[1].status_code(), Some("pending-associate"));

    let vpns = ok(&r.vpn_connections);
    assert_eq!(vpns.len(), 2);
    let v = &vpns[0];
    assert_eq!(v.vpn_connection_id, "vpn-0a1b2c3d4e5f67890");
    assert_eq!(v.state.as_deref(), Some("available"));
    assert_eq!(v.connection_type.as_deref(), Some("ipsec.1"));
    assert_eq!(v.customer_gateway_id.as_deref(), Some("cgw-0a1b2c3d4e5f67890"));
    assert_eq!(v.vpn_gateway_id.as_deref(), Some("vgw-0a1b2c3d4e5f67890"));
    assert_eq!(v.transit_gateway_id, None);
    assert_eq!(v.static_routes_only(), Some(false));
    assert_eq!(v.name_tag(), Some("site-a"));
    let tunnels = v.tunnel_options().unwrap_or_else(|| panic!("no tunnel options"));
    assert_eq!(tunnels.len(), 2);
    assert_eq!(tunnels[0].outside_ip_address.as_deref(), Some("203.0.113.10"));
    assert_eq!(tunnels[0].ike_versions(), Some(vec!["ikev2".to_owned()]));
    let t0 = tunnels[0].cloudwatch_log().unwrap_or_else(|| panic!("no log options"));
    assert_eq!(t0.log_enabled, Some(true));
    assert_eq!(
        t0.log_group_arn.as_deref(),
        Some("arn:aws:logs:us-east-1:111111111111:log-group:/aws/vendedlogs/vpn/site-a")
    );
    assert_eq!(t0.log_output_format.as_deref(), Some("json"));
    assert_eq!(t0.bgp_log_enabled, Some(true));
    assert_eq!(
        t0.bgp_log_group_arn.as_deref(),
        Some("arn:aws:logs:us-east-1:111111111111:log-group:/aws/vendedlogs/vpn/site-a-bgp")
    );
    assert_eq!(tunnels[1].ike_versions(), None);
    assert_eq!(
        tunnels[1]
            .cloudwatch_log()
            .map(|l| (l.log_enabled, l.log_group_arn.clone())),
        Some((Some(false), None))
    );
    let telemetry = v.telemetry().unwrap_or_else(|| panic!("no telemetry"));
    let telemetry: Vec<_> = telemetry
        .iter()
        .map(|t| {
            (
                t.outside_ip_address.as_deref(),
                t.status.as_deref(),
                t.last_status_change.as_deref(),
                t.status_message.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        telemetry,
        [
            (
                Some("203.0.113.10"),
                Some("UP"),
                Some("2024-06-09T22:41:07Z"),
                Some("3 BGP ROUTES")
            ),
            (
                Some("198.51.100.20"),
                Some("DOWN"),
                Some("2024-06-10T01:02:03Z"),
                Some("IPSEC IS DOWN")
            )
        ]
    );
    let pending = &vpns[1];
    assert_eq!(pending.state.as_deref(), Some("pending"));
    assert_eq!(pending.transit_gateway_id.as_deref(), Some("tgw-0a1b2c3d4e5f67890"));
    assert_eq!(pending.static_routes_only(), Some(true));
    assert!(
        pending.telemetry().is_none(),
        "no VgwTelemetry must stay None, not an empty list"
    );
    let pending_tunnels = pending.tunnel_options().unwrap_or_default();
    assert_eq!(pending_tunnels.len(), 2);
    assert!(pending_tunnels
        .iter()
        .all(|t| t.cloudwatch_log().is_none() && t.ike_versions().is_none()));

    let groups = ok(&r.log_groups);
    assert_eq!(groups.len(), 3);
    let g = &groups[0];
    assert_eq!(g.log_group_name, "/aws/clientvpn/engineering");
    assert_eq!(
        g.group_arn(),
        Some("arn:aws:logs:us-east-1:111111111111:log-group:/aws/clientvpn/engineering")
    );
    assert_eq!(g.retention_in_days, Some(30));
    assert_eq!(g.stored_bytes, Some(73_400_320));
    assert_eq!(g.creation_time, Some(1_705_312_964_000));
    assert_eq!(g.log_group_class.as_deref(), Some("STANDARD"));
    assert_eq!(g.kms_key_id, None);
    // Only `arn` (with its `:*`): the group's own ARN is that without the suffix.
    let never = &groups[1];
    assert_eq!(never.retention_in_days, None, "no retentionInDays means never expire");
    assert_eq!(
        never.group_arn(),
        Some("arn:aws:logs:us-east-1:111111111111:log-group:/aws/vendedlogs/vpn/site-a")
    );
    assert_eq!(
        groups[2].kms_key_id.as_deref(),
        Some("arn:aws:kms:us-east-1:111111111111:key/0a1b2c3d-4e5f-6789-0abc-def012345678")
    );
    assert_eq!(groups[2].stored_bytes, Some(35_184_372_088_832));

    let alarms = ok(&r.alarms);
    // A metric-math alarm reads one TunnelState metric per tunnel.
    let watched: Vec<_> = alarms
        .iter()
        .flat_map(|a| a.watched_metrics().into_iter().map(move |m| (a, m)))
        .collect();
    let alarms: Vec<_> = watched
        .iter()
        .map(|(a, m)| {
            (
                a.alarm_name.as_str(),
                m.namespace.as_deref(),
                m.metric_name.as_deref(),
                m.dimensions
                    .iter()
                    .map(|d| {
                        format!(
                            "{}={}",
                            d.name.as_deref().unwrap_or("?"),
                            d.value.as_deref().unwrap_or("?")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(","),
                a.actions_enabled,
                a.alarm_actions.len(),
                a.state_value.as_deref(),
            )
        })
        .collect();
    let dims = |ip: &str| format!("VpnId=vpn-0a1b2c3d4e5f67890,TunnelIpAddress={ip}");
    assert_eq!(
        alarms,
        [
            (
                "vpn-site-a-tunnel-1-down",
                Some("AWS/VPN"),
                Some("TunnelState"),
                dims("203.0.113.10"),
                Some(true),
                1,
                Some("OK")
            ),
            (
                "vpn-site-a-any-tunnel-down",
                Some("AWS/VPN"),
                Some("TunnelState"),
                dims("203.0.113.10"),
                Some(false),
                0,
                Some("INSUFFICIENT_DATA")
            ),
            (
                "vpn-site-a-any-tunnel-down",
                Some("AWS/VPN"),
                Some("TunnelState"),
                dims("198.51.100.20"),
                Some(false),
                0,
                Some("INSUFFICIENT_DATA")
            ),
        ]
    );
    assert_eq!(
        ok(&r.alarms)[0].alarm_arn.as_deref(),
        Some("arn:aws:cloudwatch:us-east-1:111111111111:alarm:vpn-site-a-tunnel-1-down")
    );

    let streams: Vec<&str> = ok(&r.delivery_streams).iter().map(|s| s.name.as_str()).collect();
    assert_eq!(streams, ["flow-logs-to-s3", "vpn-logs-to-siem"]);

    // Internet gateways with the VPCs they are attached to; one attached to nothing.
    let gateways = ok(&r.internet_gateways);
    let attached: Vec<(&str, Vec<&str>)> = gateways
        .iter()
        .map(|g| (g.internet_gateway_id.as_str(), g.attached_vpcs().collect()))
        .collect();
    assert_eq!(
        attached,
        [
            ("igw-0a1b2c3d4e5f60001", vec!["vpc-0d1e2f3a4b5c6d7e8"]),
            ("igw-0a1b2c3d4e5f60009", vec![])
        ]
    );

    // Empty listings are read as empty, not as gaps.
    let west = region(&loaded, ACCOUNT, "us-west-2");
    assert!(ok(&west.vpcs).is_empty() && ok(&west.flow_logs).is_empty() && ok(&west.delivery_streams).is_empty());
    assert!(ok(&west.alarms).is_empty() && ok(&west.log_groups).is_empty());
}

#[test]
fn the_loaded_inventory_builds_a_graph() {
    let loaded = load_files(&account_files());
    let graph = Graph::build(&loaded.inventory);
    assert!(!graph.is_empty());
    // me-south-1 is enabled but has no folder: the model, not the loader, makes that a gap.
    assert!(
        graph.gaps().iter().any(|g| g.region.as_deref() == Some("me-south-1")),
        "{:?}",
        graph.gaps()
    );
}

#[test]
fn an_error_file_is_an_api_error_gap() {
    let mut files = account_files();
    files.remove(&format!("{ACCOUNT}/us-east-1/ec2-describe-flow-logs.json"));
    set(
        &mut files,
        &format!("{ACCOUNT}/us-east-1/ec2-describe-flow-logs.error"),
        &access_denied("ec2:DescribeFlowLogs", "DescribeFlowLogs"),
    );
    let loaded = load_files(&files);
    let g = gap(&region(&loaded, ACCOUNT, "us-east-1").flow_logs);
    assert_eq!(g.kind, GapKind::ApiError);
    assert_eq!(g.code, "AccessDenied");
    assert_eq!(g.api, "ec2:DescribeFlowLogs");
    assert_eq!(g.account, ACCOUNT);
    assert_eq!(g.region.as_deref(), Some("us-east-1"));
    assert_eq!(
        g.source.as_deref(),
        Some("111111111111/us-east-1/ec2-describe-flow-logs.error")
    );
    assert_eq!(
        g.message,
        "User: arn:aws:sts::111111111111:assumed-role/NetworkAuditor/auditor is not authorized to perform: \
         ec2:DescribeFlowLogs with an explicit deny in a service control policy"
    );
    // Only that listing: the rest of the region still reads.
    assert_eq!(ok(&region(&loaded, ACCOUNT, "us-east-1").vpcs).len(), 3);
    assert_eq!(
        messages(&loaded),
        [format!(
            "111111111111/us-east-1/ec2-describe-flow-logs.error: ec2:DescribeFlowLogs failed: AccessDenied: {}",
            g.message
        )]
    );
}

#[test]
fn an_error_file_without_an_aws_error_is_call_failed() {
    let mut files = account_files();
    files.remove(&format!("{ACCOUNT}/s3api-list-buckets.json"));
    set(
        &mut files,
        &format!("{ACCOUNT}/s3api-list-buckets.error"),
        "\nCould not connect to the endpoint URL: \"https://s3.amazonaws.com/?list-type=2\"\n",
    );
    let loaded = load_files(&files);
    let g = gap(&account(&loaded, ACCOUNT).buckets);
    assert_eq!(
        (g.kind, g.code.as_str(), g.api.as_str()),
        (GapKind::ApiError, "CallFailed", "s3:ListBuckets")
    );
    assert_eq!(
        g.message,
        "Could not connect to the endpoint URL: \"https://s3.amazonaws.com/?list-type=2\""
    );
    assert_eq!(g.region, None);
    assert_eq!(g.source.as_deref(), Some("111111111111/s3api-list-buckets.error"));
}

#[test]
fn a_missing_file_is_a_missing_gap() {
    let mut files = account_files();
    files.remove(&format!("{ACCOUNT}/us-west-2/ec2-describe-vpn-connections.json"));
    let loaded = load_files(&files);
    let g = gap(&region(&loaded, ACCOUNT, "us-west-2").vpn_connections);
    assert_eq!((g.kind, g.code.as_str()), (GapKind::Missing, "MissingEvidence"));
    assert_eq!(g.api, "ec2:DescribeVpnConnections");
    assert_eq!(
        g.source.as_deref(),
        Some("111111111111/us-west-2/ec2-describe-vpn-connections.json")
    );
    assert_eq!(
        messages(&loaded),
        [
            "111111111111/us-west-2/ec2-describe-vpn-connections.json: missing (expected the output of \
          `aws ec2 describe-vpn-connections --region us-west-2 --output json`, or a .error file if the call failed)"
        ]
    );
}

#[test]
fn an_empty_region_folder_has_every_listing_missing() {
    let mut files = account_files();
    files.insert(format!("{ACCOUNT}/eu-west-1/"), Vec::new());
    let loaded = load_files(&files);
    let r = region(&loaded, ACCOUNT, "eu-west-1");
    let gaps = [
        gap(&r.vpcs),
        gap(&r.subnets),
        gap(&r.network_interfaces),
        gap(&r.flow_logs),
        gap(&r.client_vpn_endpoints),
        gap(&r.vpn_connections),
        gap(&r.log_groups),
        gap(&r.alarms),
        gap(&r.delivery_streams),
        gap(&r.internet_gateways),
    ];
    assert!(gaps
        .iter()
        .all(|g| g.kind == GapKind::Missing && g.code == "MissingEvidence"));
    let apis: Vec<&str> = gaps.iter().map(|g| g.api.as_str()).collect();
    let regional: Vec<&str> = OPERATIONS
        .iter()
        .filter(|o| o.scope == Scope::Regional)
        .map(|o| o.api)
        .collect();
    assert_eq!(apis, regional);
}

#[test]
fn malformed_json_names_file_line_and_column() {
    let mut files = account_files();
    set(
        &mut files,
        &format!("{ACCOUNT}/us-east-1/ec2-describe-vpcs.json"),
        "{\n    \"Vpcs\": [\n    {\"VpcId\":\"v\"}",
    );
    set(
        &mut files,
        &format!("{ACCOUNT}/us-east-1/ec2-describe-subnets.json"),
        "{\n  \"Subnets\": [\n    {}}\n",
    );
    let loaded = load_files(&files);
    let r = region(&loaded, ACCOUNT, "us-east-1");
    let g = gap(&r.vpcs);
    assert_eq!(
        (g.kind, g.code.as_str(), g.api.as_str()),
        (GapKind::Malformed, "MalformedEvidence", "ec2:DescribeVpcs")
    );
    assert_eq!(
        g.message,
        "111111111111/us-east-1/ec2-describe-vpcs.json:3:17: EOF while parsing a list"
    );
    assert_eq!(
        g.source.as_deref(),
        Some("111111111111/us-east-1/ec2-describe-vpcs.json")
    );
    let g = gap(&r.subnets);
    assert_eq!(
        g.message,
        "111111111111/us-east-1/ec2-describe-subnets.json:3:6: missing field `SubnetId`"
    );
    assert!(matches!(
        &loaded.errors[0],
        EvidenceError::Json { path, line: 3, column: 17, .. } if path == "111111111111/us-east-1/ec2-describe-vpcs.json"
    ));
}

#[test]
fn a_truncated_file_is_malformed_not_short() {
    let text = sample(&Operation::EC2_DESCRIBE_FLOW_LOGS);
    let cut = &text[..text.len() / 2];
    let line = cut.lines().count();
    let column = cut.lines().last().map_or(0, str::len);
    let mut files = account_files();
    set(
        &mut files,
        &format!("{ACCOUNT}/us-east-1/ec2-describe-flow-logs.json"),
        cut,
    );
    let loaded = load_files(&files);
    let g = gap(&region(&loaded, ACCOUNT, "us-east-1").flow_logs);
    assert_eq!(g.kind, GapKind::Malformed);
    assert!(
        g.message.starts_with(&format!(
            "111111111111/us-east-1/ec2-describe-flow-logs.json:{line}:{column}: EOF while parsing"
        )),
        "{}",
        g.message
    );
}

#[test]
fn an_empty_file_is_malformed() {
    let mut files = account_files();
    set(
        &mut files,
        &format!("{ACCOUNT}/us-east-1/logs-describe-log-groups.json"),
        "",
    );
    let loaded = load_files(&files);
    let g = gap(&region(&loaded, ACCOUNT, "us-east-1").log_groups);
    assert_eq!(
        g.message,
        "111111111111/us-east-1/logs-describe-log-groups.json:1:0: EOF while parsing a value"
    );
}

#[test]
fn the_wrong_top_level_key_is_malformed() {
    let mut files = account_files();
    // describe-subnets output saved under the describe-vpcs name.
    set(
        &mut files,
        &format!("{ACCOUNT}/us-east-1/ec2-describe-vpcs.json"),
        sample(&Operation::EC2_DESCRIBE_SUBNETS),
    );
    // CloudWatch Logs keys are camelCase: `LogGroups` is not the CLI's output.
    set(
        &mut files,
        &format!("{ACCOUNT}/us-east-1/logs-describe-log-groups.json"),
        r#"{"LogGroups": []}"#,
    );
    let loaded = load_files(&files);
    let r = region(&loaded, ACCOUNT, "us-east-1");
    assert_eq!(
        gap(&r.vpcs).message,
        "111111111111/us-east-1/ec2-describe-vpcs.json: no top-level `Vpcs` list"
    );
    assert_eq!(gap(&r.vpcs).code, "MalformedEvidence");
    assert_eq!(
        gap(&r.log_groups).message,
        "111111111111/us-east-1/logs-describe-log-groups.json: no top-level `logGroups` list"
    );
}

#[test]
fn bad_account_folders_are_reported_and_skipped() {
    let mut files = account_files();
    set(
        &mut files,
        "11111111111/us-east-1/ec2-describe-vpcs.json",
        empty(&Operation::EC2_DESCRIBE_VPCS),
    );
    set(
        &mut files,
        "evidence-2023/sts-get-caller-identity.json",
        sample(&Operation::STS_GET_CALLER_IDENTITY),
    );
    set(&mut files, "README.txt", "collected by alice");
    let loaded = load_files(&files);
    assert_eq!(loaded.inventory.accounts.len(), 1);
    assert_eq!(account(&loaded, ACCOUNT).region_data.len(), 2);
    assert_eq!(
        messages(&loaded),
        [
            "11111111111/: not an account folder: the name must be a 12-digit AWS account id",
            "README.txt: unexpected file outside an account folder",
            "evidence-2023/: not an account folder: the name must be a 12-digit AWS account id",
        ]
    );
}

#[test]
fn bad_region_folders_are_gaps_and_the_rest_loads() {
    let mut files = account_files();
    set(
        &mut files,
        &format!("{ACCOUNT}/global/ec2-describe-vpcs.json"),
        empty(&Operation::EC2_DESCRIBE_VPCS),
    );
    set(
        &mut files,
        &format!("{ACCOUNT}/us-east-1a/ec2-describe-vpcs.json"),
        empty(&Operation::EC2_DESCRIBE_VPCS),
    );
    let loaded = load_files(&files);
    let acc = account(&loaded, ACCOUNT);
    let regions: Vec<&str> = acc.region_data.iter().map(|r| r.region.as_str()).collect();
    assert_eq!(regions, ["us-east-1", "us-west-2"]);
    let gaps: Vec<(&str, &str, Option<&str>)> = acc
        .other_gaps
        .iter()
        .map(|g| (g.code.as_str(), g.message.as_str(), g.source.as_deref()))
        .collect();
    assert_eq!(
        gaps,
        [
            (
                "UnexpectedEvidence",
                "111111111111/global/: not a region folder: the name must be a region such as us-east-1",
                Some("111111111111/global/")
            ),
            (
                "UnexpectedEvidence",
                "111111111111/us-east-1a/: not a region folder: the name must be a region such as us-east-1",
                Some("111111111111/us-east-1a/")
            ),
        ]
    );
    assert!(acc
        .other_gaps
        .iter()
        .all(|g| g.kind == GapKind::Malformed && g.account == ACCOUNT && g.region.is_none()));
}

#[test]
fn unexpected_files_are_gaps_and_do_not_replace_evidence() {
    let mut files = account_files();
    set(&mut files, &format!("{ACCOUNT}/us-east-1/notes.txt"), "todo");
    set(
        &mut files,
        &format!("{ACCOUNT}/us-east-1/ec2-describe-vpcs.json.bak"),
        "{}",
    );
    set(
        &mut files,
        &format!("{ACCOUNT}/us-east-1/ec2-describe-instances.json"),
        r#"{"Reservations": []}"#,
    );
    // Right name, wrong place.
    set(
        &mut files,
        &format!("{ACCOUNT}/ec2-describe-vpcs.json"),
        empty(&Operation::EC2_DESCRIBE_VPCS),
    );
    set(
        &mut files,
        &format!("{ACCOUNT}/us-west-2/s3api-list-buckets.json"),
        r#"{"Buckets": []}"#,
    );
    set(
        &mut files,
        &format!("{ACCOUNT}/us-west-2/old/ec2-describe-vpcs.json"),
        empty(&Operation::EC2_DESCRIBE_VPCS),
    );
    let loaded = load_files(&files);
    let acc = account(&loaded, ACCOUNT);
    let gaps: Vec<(&str, Option<&str>, &str)> = acc
        .other_gaps
        .iter()
        .map(|g| (g.api.as_str(), g.region.as_deref(), g.source.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        gaps,
        [
            ("ec2:DescribeVpcs", None, "111111111111/ec2-describe-vpcs.json"),
            (
                "netaudit:LoadEvidence",
                Some("us-east-1"),
                "111111111111/us-east-1/ec2-describe-instances.json"
            ),
            (
                "netaudit:LoadEvidence",
                Some("us-east-1"),
                "111111111111/us-east-1/ec2-describe-vpcs.json.bak"
            ),
            (
                "netaudit:LoadEvidence",
                Some("us-east-1"),
                "111111111111/us-east-1/notes.txt"
            ),
            (
                "s3:ListBuckets",
                Some("us-west-2"),
                "111111111111/us-west-2/s3api-list-buckets.json"
            ),
            (
                "netaudit:LoadEvidence",
                Some("us-west-2"),
                "111111111111/us-west-2/old/"
            ),
        ]
    );
    assert!(acc.other_gaps.iter().all(|g| g.code == "UnexpectedEvidence"));
    assert_eq!(
        messages(&loaded)[0],
        "111111111111/ec2-describe-vpcs.json: unexpected file: ec2:DescribeVpcs is regional evidence; it belongs in \
         a region folder"
    );
    // The real evidence beside them still loads.
    assert_eq!(ok(&region(&loaded, ACCOUNT, "us-east-1").vpcs).len(), 3);
    assert_eq!(ok(&acc.buckets).len(), 2);
}

#[test]
fn json_and_error_for_one_call_make_the_listing_unknown() {
    let mut files = account_files();
    set(
        &mut files,
        &format!("{ACCOUNT}/us-east-1/ec2-describe-flow-logs.error"),
        &access_denied("ec2:DescribeFlowLogs", "DescribeFlowLogs"),
    );
    let loaded = load_files(&files);
    let g = gap(&region(&loaded, ACCOUNT, "us-east-1").flow_logs);
    assert_eq!((g.kind, g.code.as_str()), (GapKind::Malformed, "ConflictingEvidence"));
    assert_eq!(
        g.message,
        "111111111111/us-east-1/ec2-describe-flow-logs.json: both ec2-describe-flow-logs.json and \
         ec2-describe-flow-logs.error exist; cannot tell which is current"
    );
}

#[test]
fn an_sts_account_mismatch_is_flagged_but_loads_under_the_folder() {
    let mut files = account_files();
    let other = sample(&Operation::STS_GET_CALLER_IDENTITY).replace("111111111111", "999999999999");
    set(&mut files, &format!("{ACCOUNT}/sts-get-caller-identity.json"), &other);
    let loaded = load_files(&files);
    let acc = account(&loaded, ACCOUNT);
    assert_eq!(
        acc.caller_arn.as_deref(),
        Some("arn:aws:sts::999999999999:assumed-role/NetworkAuditor/auditor")
    );
    assert_eq!(ok(&region(&loaded, ACCOUNT, "us-east-1").vpcs).len(), 3);
    assert_eq!(acc.other_gaps.len(), 1);
    let g = &acc.other_gaps[0];
    assert_eq!(
        (g.kind, g.code.as_str(), g.api.as_str()),
        (GapKind::Malformed, "AccountMismatch", "sts:GetCallerIdentity")
    );
    assert_eq!(
        g.message,
        "111111111111/sts-get-caller-identity.json: the evidence was collected as account 999999999999, but the \
         folder is 111111111111"
    );
}

#[test]
fn a_missing_caller_identity_is_a_gap() {
    let mut files = account_files();
    files.remove(&format!("{ACCOUNT}/sts-get-caller-identity.json"));
    let loaded = load_files(&files);
    let acc = account(&loaded, ACCOUNT);
    assert_eq!(acc.caller_arn, None);
    let codes: Vec<(&str, &str)> = acc
        .other_gaps
        .iter()
        .map(|g| (g.api.as_str(), g.code.as_str()))
        .collect();
    assert_eq!(codes, [("sts:GetCallerIdentity", "MissingEvidence")]);
}

#[test]
fn a_truncated_firehose_listing_is_a_gap() {
    let mut files = account_files();
    set(
        &mut files,
        &format!("{ACCOUNT}/us-east-1/firehose-list-delivery-streams.json"),
        r#"{"DeliveryStreamNames": ["a", "b", "c"], "HasMoreDeliveryStreams": true}"#,
    );
    set(
        &mut files,
        &format!("{ACCOUNT}/us-west-2/firehose-list-delivery-streams.json"),
        r#"{"DeliveryStreamNames": ["a"]}"#,
    );
    let loaded = load_files(&files);
    let g = gap(&region(&loaded, ACCOUNT, "us-east-1").delivery_streams);
    assert_eq!(
        (g.kind, g.code.as_str(), g.api.as_str()),
        (GapKind::Malformed, "MalformedEvidence", "firehose:ListDeliveryStreams")
    );
    assert_eq!(
        g.message,
        "111111111111/us-east-1/firehose-list-delivery-streams.json: truncated: HasMoreDeliveryStreams is true \
         after 3 names (collect every page with --exclusive-start-delivery-stream-name)"
    );
    let g = gap(&region(&loaded, ACCOUNT, "us-west-2").delivery_streams);
    assert!(
        g.message
            .ends_with("no `HasMoreDeliveryStreams`: cannot tell whether the listing is complete"),
        "{}",
        g.message
    );
}

#[test]
fn one_bad_region_does_not_affect_another() {
    let mut files = account_files();
    for op in OPERATIONS.iter().filter(|o| o.scope == Scope::Regional) {
        set(
            &mut files,
            &format!("{ACCOUNT}/us-west-2/{}", op.json_file()),
            "{\"truncated\": ",
        );
    }
    let loaded = load_files(&files);
    let west = region(&loaded, ACCOUNT, "us-west-2");
    assert!(gap(&west.vpcs).region.as_deref() == Some("us-west-2"));
    assert!(gap(&west.delivery_streams).kind == GapKind::Malformed);
    let east = region(&loaded, ACCOUNT, "us-east-1");
    assert_eq!(ok(&east.vpcs).len(), 3);
    assert_eq!(ok(&east.flow_logs).len(), 2);
    assert_eq!(ok(&east.delivery_streams).len(), 2);
    assert_eq!(loaded.errors.len(), 10);
    assert!(loaded
        .errors
        .iter()
        .all(|e| e.path().starts_with("111111111111/us-west-2/")));
}

#[test]
fn one_bad_account_does_not_affect_another() {
    let mut files = account_files();
    set(
        &mut files,
        "222222222222/sts-get-caller-identity.json",
        "<!DOCTYPE html>",
    );
    set(&mut files, "222222222222/us-east-1/ec2-describe-vpcs.json", "[");
    let loaded = load_files(&files);
    assert_eq!(loaded.inventory.accounts.len(), 2);
    assert_eq!(ok(&region(&loaded, ACCOUNT, "us-east-1").vpcs).len(), 3);
    let bad = account(&loaded, "222222222222");
    assert_eq!(gap(&bad.regions).code, "MissingEvidence");
    assert_eq!(
        gap(&region(&loaded, "222222222222", "us-east-1").vpcs).code,
        "MalformedEvidence"
    );
    assert_eq!(
        bad.other_gaps[0].message,
        "222222222222/sts-get-caller-identity.json:1:1: expected value"
    );
}

#[test]
fn failed_describe_regions_still_loads_the_region_folders() {
    let mut files = account_files();
    files.remove(&format!("{ACCOUNT}/ec2-describe-regions.json"));
    set(
        &mut files,
        &format!("{ACCOUNT}/ec2-describe-regions.error"),
        "\nAn error occurred (UnauthorizedOperation) when calling the DescribeRegions operation: You are not \
         authorized to perform this operation.\n",
    );
    let loaded = load_files(&files);
    let acc = account(&loaded, ACCOUNT);
    let g = gap(&acc.regions);
    assert_eq!(
        (g.code.as_str(), g.api.as_str()),
        ("UnauthorizedOperation", "ec2:DescribeRegions")
    );
    assert_eq!(g.message, "You are not authorized to perform this operation.");
    assert_eq!(acc.region_data.len(), 2);
    assert_eq!(ok(&region(&loaded, ACCOUNT, "us-east-1").vpcs).len(), 3);
    assert!(acc.other_gaps.is_empty(), "{:?}", acc.other_gaps);
}

#[test]
fn a_region_folder_aws_does_not_list_is_flagged_but_loaded() {
    let mut files = account_files();
    for op in OPERATIONS.iter().filter(|o| o.scope == Scope::Regional) {
        set(
            &mut files,
            &format!("{ACCOUNT}/us-east-9/{}", op.json_file()),
            empty(op),
        );
    }
    let loaded = load_files(&files);
    let acc = account(&loaded, ACCOUNT);
    assert!(ok(&region(&loaded, ACCOUNT, "us-east-9").vpcs).is_empty());
    let gaps: Vec<(&str, Option<&str>, &str)> = acc
        .other_gaps
        .iter()
        .map(|g| (g.code.as_str(), g.region.as_deref(), g.message.as_str()))
        .collect();
    assert_eq!(
        gaps,
        [(
            "UnlistedRegion",
            Some("us-east-9"),
            "111111111111/us-east-9/: us-east-9 is not among the regions ec2 DescribeRegions lists for this account"
        )]
    );
}

/// Every operation in the table is read by the loader: a broken file for each becomes a gap naming it.
#[test]
fn every_operation_is_loaded() {
    for op in OPERATIONS {
        let mut files = account_files();
        let path = match op.scope {
            Scope::Account => format!("{ACCOUNT}/{}", op.json_file()),
            Scope::Regional => format!("{ACCOUNT}/us-west-2/{}", op.json_file()),
        };
        set(&mut files, &path, "{");
        let loaded = load_files(&files);
        let errors: Vec<&str> = loaded.errors.iter().map(EvidenceError::path).collect();
        assert_eq!(errors, [path.as_str()], "{op:?}");
        let acc = account(&loaded, ACCOUNT);
        let mut gaps: Vec<&Arc<Gap>> = acc.other_gaps.iter().collect();
        gaps.extend(acc.regions.as_ref().err());
        gaps.extend(acc.buckets.as_ref().err());
        let west = region(&loaded, ACCOUNT, "us-west-2");
        gaps.extend(west.vpcs.as_ref().err());
        gaps.extend(west.subnets.as_ref().err());
        gaps.extend(west.network_interfaces.as_ref().err());
        gaps.extend(west.flow_logs.as_ref().err());
        gaps.extend(west.client_vpn_endpoints.as_ref().err());
        gaps.extend(west.vpn_connections.as_ref().err());
        gaps.extend(west.log_groups.as_ref().err());
        gaps.extend(west.alarms.as_ref().err());
        gaps.extend(west.delivery_streams.as_ref().err());
        gaps.extend(west.internet_gateways.as_ref().err());
        let found: Vec<(&str, Option<&str>)> = gaps.iter().map(|g| (g.api.as_str(), g.source.as_deref())).collect();
        assert_eq!(found, [(op.api, Some(path.as_str()))], "{op:?}");
    }
}

fn write_tree(root: &Path, files: &BTreeMap<String, Vec<u8>>) {
    for (key, bytes) in files {
        let path = root.join(key);
        if key.ends_with('/') {
            std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("{key}: {e}"));
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{key}: {e}"));
        }
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{key}: {e}"));
    }
}

#[test]
fn load_dir_and_load_files_agree() {
    let mut files = account_files();
    set(
        &mut files,
        &format!("{ACCOUNT}/us-west-2/ec2-describe-vpcs.json"),
        "{\"Vpcs\": [}",
    );
    files.remove(&format!("{ACCOUNT}/us-west-2/ec2-describe-flow-logs.json"));
    set(
        &mut files,
        &format!("{ACCOUNT}/us-west-2/ec2-describe-flow-logs.error"),
        &access_denied("ec2:DescribeFlowLogs", "DescribeFlowLogs"),
    );
    set(&mut files, &format!("{ACCOUNT}/us-west-2/notes.txt"), "x");
    set(&mut files, &format!("{ACCOUNT}/global/x.json"), "{}");
    files.insert(format!("{ACCOUNT}/eu-west-1/"), Vec::new());
    set(
        &mut files,
        "222222222222/sts-get-caller-identity.json",
        sample(&Operation::STS_GET_CALLER_IDENTITY),
    );
    set(&mut files, "not-an-account/x.json", "{}");

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    write_tree(dir.path(), &files);
    let from_dir = load_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let from_files = load_files(&files);
    assert_eq!(
        format!("{:#?}", from_dir.inventory),
        format!("{:#?}", from_files.inventory)
    );
    assert_eq!(from_dir.errors, from_files.errors);
    assert_eq!(from_dir.inventory.accounts.len(), 2);
    // eu-west-1: unlisted + 10 missing; global/; notes.txt; bad JSON; denied; sts mismatch + 2 missing
    // account files for 222222222222; not-an-account/.
    assert_eq!(
        from_dir.errors.len(),
        11 + 1 + 1 + 1 + 1 + 3 + 1,
        "{:#?}",
        from_dir.errors
    );
}

#[cfg(unix)]
#[test]
fn load_dir_does_not_block_on_a_fifo() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    write_tree(dir.path(), &account_files());
    let fifo = dir
        .path()
        .join(ACCOUNT)
        .join("us-east-1")
        .join("ec2-describe-vpcs.json");
    std::fs::remove_file(&fifo).unwrap_or_else(|e| panic!("{e}"));
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap_or_else(|e| panic!("mkfifo: {e}"));
    assert!(status.success());
    let loaded = load_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let g = gap(&region(&loaded, ACCOUNT, "us-east-1").vpcs);
    assert_eq!(
        g.message,
        "111111111111/us-east-1/ec2-describe-vpcs.json: cannot read: not a regular file"
    );
}

#[test]
fn load_dir_fails_only_when_the_directory_is_unusable() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let root = dir.path();

    let missing = root.join("nope");
    let err = load_dir(&missing).err().map(|e| e.to_string());
    assert_eq!(err, Some(format!("{}: no such directory", missing.display())));

    let file = root.join("file.json");
    std::fs::write(&file, "{}").unwrap_or_else(|e| panic!("{e}"));
    let err = load_dir(&file).err().map(|e| e.to_string());
    assert_eq!(err, Some(format!("{}: not a directory", file.display())));

    let empty_dir = root.join("empty");
    std::fs::create_dir(&empty_dir).unwrap_or_else(|e| panic!("{e}"));
    let err = load_dir(&empty_dir).err().map(|e| e.to_string());
    assert_eq!(
        err,
        Some(format!(
            "{}: no account folders (expected <12-digit account id>/<region>/<service>-<operation>.json); it is empty",
            empty_dir.display()
        ))
    );

    // Pointing at one account's folder instead of its parent.
    write_tree(root, &account_files());
    let account_dir = root.join(ACCOUNT);
    let err = load_dir(&account_dir).err();
    assert!(
        matches!(&err, Some(EvidenceError::NoAccounts { hint, .. }) if hint.contains("one account's folder")),
        "{err:?}"
    );

    // Only a bad account folder: nothing to audit is an error, not an empty pass.
    let only_bad = root.join("only-bad");
    std::fs::create_dir_all(only_bad.join("1234")).unwrap_or_else(|e| panic!("{e}"));
    let err = load_dir(&only_bad).err().map(|e| e.to_string());
    assert!(err.as_deref().is_some_and(|e| e.ends_with("; found 1234")), "{err:?}");

    // The in-memory loader cannot fail, so it says so in the errors instead.
    let loaded = load_files(&BTreeMap::new());
    assert!(loaded.inventory.accounts.is_empty());
    assert!(matches!(loaded.errors.as_slice(), [EvidenceError::NoAccounts { .. }]));
}
