//! What the emulator cannot show: Client VPN endpoints, tunnel options and telemetry, and faults
//! (AccessDenied, throttling past the retry budget, a server error, a slow endpoint). EC2 answers
//! come from `aws-smithy-mocks`; the other services point at a closed loopback port or a local
//! listener that never answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::error::ErrorMetadata;
use aws_sdk_ec2::operation::{
    describe_client_vpn_endpoints::DescribeClientVpnEndpointsOutput, describe_flow_logs::DescribeFlowLogsError,
    describe_flow_logs::DescribeFlowLogsOutput, describe_internet_gateways::DescribeInternetGatewaysOutput,
    describe_network_interfaces::DescribeNetworkInterfacesOutput, describe_subnets::DescribeSubnetsOutput,
    describe_vpcs::DescribeVpcsError, describe_vpcs::DescribeVpcsOutput,
    describe_vpn_connections::DescribeVpnConnectionsOutput,
};
use aws_sdk_ec2::types::*;
use aws_sdk_ec2::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use netaudit_aws::{collect_region, RegionClients};
use netaudit_checks::{builtin, evaluate_control, Status};
use netaudit_model::inventory::{AccountInventory, RegionInventory};
use netaudit_model::{Graph, Inventory};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::time::{Duration, Instant};

const ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-1";

/// Real clients for the services not under test, aimed at `url` with one short attempt.
async fn config(url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(aws_sdk_ec2::config::Credentials::new("k", "s", None, None, "test"))
        .region(Region::new(REGION))
        .endpoint_url(url)
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(1))
                .build(),
        )
        .load()
        .await
}

async fn clients_with(ec2: Client) -> RegionClients {
    // Port 9 (discard) is closed here: those listings fail at once, on loopback.
    let others = RegionClients::new(
        &config("http://127.0.0.1:9").await,
        REGION,
        &netaudit_aws::CallLog::new(),
    );
    RegionClients { ec2, ..others }
}

fn empty_ec2_rules() -> Vec<Rule> {
    vec![
        mock!(Client::describe_vpcs).then_output(|| DescribeVpcsOutput::builder().build()),
        mock!(Client::describe_subnets).then_output(|| DescribeSubnetsOutput::builder().build()),
        mock!(Client::describe_network_interfaces).then_output(|| DescribeNetworkInterfacesOutput::builder().build()),
        mock!(Client::describe_flow_logs).then_output(|| DescribeFlowLogsOutput::builder().build()),
        mock!(Client::describe_client_vpn_endpoints)
            .then_output(|| DescribeClientVpnEndpointsOutput::builder().build()),
        mock!(Client::describe_vpn_connections).then_output(|| DescribeVpnConnectionsOutput::builder().build()),
        mock!(Client::describe_internet_gateways).then_output(|| DescribeInternetGatewaysOutput::builder().build()),
    ]
}

fn graph_of(region: RegionInventory) -> Graph {
    Graph::build(&Inventory {
        accounts: vec![AccountInventory {
            account_id: ACCOUNT.into(),
            caller_arn: None,
            regions: Ok(vec![]),
            // A scan limited to the one region collected.
            region_scope: Some(vec![region.region.clone()]),
            region_data: vec![region],
            buckets: Ok(vec![]),
            other_gaps: vec![],
        }],
    })
}

fn verdicts(graph: &Graph, control: &str) -> BTreeMap<String, Status> {
    let (catalogue, _) = builtin();
    let control = catalogue.get(control).expect("control exists");
    evaluate_control(control, graph, &BTreeMap::new())
        .expect("evaluates")
        .into_iter()
        .map(|f| {
            (
                if f.resource_id == "*" {
                    f.resource_arn
                } else {
                    f.resource_id
                },
                f.status,
            )
        })
        .collect()
}

fn tunnel(ip: &str, logging: bool) -> TunnelOption {
    TunnelOption::builder()
        .outside_ip_address(ip)
        .ike_versions(IkeVersionsListValue::builder().value("ikev2").build())
        .log_options(
            VpnTunnelLogOptions::builder()
                .cloud_watch_log_options(
                    CloudWatchLogOptions::builder()
                        .log_enabled(logging)
                        .log_group_arn(format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/vendedlogs/vpn"))
                        .log_output_format("json")
                        .build(),
                )
                .build(),
        )
        .build()
}

fn telemetry(ip: &str, status: TelemetryStatus) -> VgwTelemetry {
    VgwTelemetry::builder()
        .outside_ip_address(ip)
        .status(status)
        .status_message("")
        .build()
}

#[tokio::test]
async fn client_vpn_endpoints_and_tunnels_become_records_and_verdicts() {
    let mut rules = empty_ec2_rules();
    rules[4] = mock!(Client::describe_client_vpn_endpoints).then_output(|| {
        let endpoint = |id: &str, enabled: bool| {
            ClientVpnEndpoint::builder()
                .client_vpn_endpoint_id(id)
                .status(
                    ClientVpnEndpointStatus::builder()
                        .code(ClientVpnEndpointStatusCode::Available)
                        .build(),
                )
                .connection_log_options(
                    ConnectionLogResponseOptions::builder()
                        .enabled(enabled)
                        .set_cloudwatch_log_group(enabled.then(|| "/aws/clientvpn/prod".to_owned()))
                        .build(),
                )
                .build()
        };
        DescribeClientVpnEndpointsOutput::builder()
            .client_vpn_endpoints(endpoint("cvpn-endpoint-1", true))
            .client_vpn_endpoints(endpoint("cvpn-endpoint-2", false))
            .build()
    });
    rules[5] = mock!(Client::describe_vpn_connections).then_output(|| {
        let connection = |id: &str, second_logs: bool, second: TelemetryStatus| {
            VpnConnection::builder()
                .vpn_connection_id(id)
                .state(VpnState::Available)
                .r#type(GatewayType::Ipsec1)
                .options(
                    VpnConnectionOptions::builder()
                        .tunnel_options(tunnel("3.5.140.10", true))
                        .tunnel_options(tunnel("3.5.140.11", second_logs))
                        .build(),
                )
                .vgw_telemetry(telemetry("3.5.140.10", TelemetryStatus::Up))
                .vgw_telemetry(telemetry("3.5.140.11", second))
                .build()
        };
        DescribeVpnConnectionsOutput::builder()
            .vpn_connections(connection("vpn-good", true, TelemetryStatus::Up))
            .vpn_connections(connection("vpn-half", false, TelemetryStatus::Down))
            .build()
    });
    let refs: Vec<&Rule> = rules.iter().collect();
    let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, &refs);
    let region = collect_region(&clients_with(ec2).await, ACCOUNT, REGION).await;

    let endpoints = region.client_vpn_endpoints.as_ref().expect("endpoints listed");
    assert_eq!(endpoints.len(), 2);
    assert_eq!(endpoints[0].status_code(), Some("available"));
    let log = endpoints[0].connection_log.as_ref().expect("log options");
    assert_eq!(
        (log.enabled, log.cloudwatch_log_group.as_deref()),
        (Some(true), Some("/aws/clientvpn/prod"))
    );
    let connections = region.vpn_connections.as_ref().expect("connections listed");
    let options = connections[1].tunnel_options().expect("tunnel options");
    assert_eq!(options[0].ike_versions(), Some(vec!["ikev2".to_owned()]));
    assert_eq!(connections[1].telemetry().map(<[_]>::len), Some(2));
    // The other services were unreachable: gaps, not empty lists.
    assert!(region.log_groups.is_err() && region.alarms.is_err() && region.delivery_streams.is_err());

    let graph = graph_of(region);
    let ec2_51 = verdicts(&graph, "EC2.51");
    assert_eq!(ec2_51["cvpn-endpoint-1"], Status::Pass);
    assert_eq!(ec2_51["cvpn-endpoint-2"], Status::Fail);
    let ec2_171 = verdicts(&graph, "EC2.171");
    assert_eq!(
        (ec2_171["vpn-good"], ec2_171["vpn-half"]),
        (Status::Pass, Status::Fail),
        "one logging tunnel is a FAIL"
    );
    let ec2_20 = verdicts(&graph, "EC2.20");
    assert_eq!((ec2_20["vpn-good"], ec2_20["vpn-half"]), (Status::Pass, Status::Fail));
}

#[tokio::test]
async fn access_denied_hides_exactly_what_it_denies() {
    let mut rules = empty_ec2_rules();
    rules[0] = mock!(Client::describe_vpcs).then_output(|| {
        DescribeVpcsOutput::builder()
            .vpcs(Vpc::builder().vpc_id("vpc-1").owner_id(ACCOUNT).build())
            .build()
    });
    rules[3] = mock!(Client::describe_flow_logs).then_error(|| {
        DescribeFlowLogsError::generic(
            ErrorMetadata::builder()
                .code("AccessDenied")
                .message("explicit deny in a service control policy")
                .build(),
        )
    });
    let refs: Vec<&Rule> = rules.iter().collect();
    let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, &refs);
    let region = collect_region(&clients_with(ec2).await, ACCOUNT, REGION).await;
    let gap = region.flow_logs.as_ref().expect_err("flow logs are a gap");
    assert_eq!(
        (gap.api.as_str(), gap.code.as_str()),
        ("ec2:DescribeFlowLogs", "AccessDenied")
    );
    assert_eq!(gap.message, "explicit deny in a service control policy");
    assert!(region.vpcs.is_ok() && region.subnets.is_ok() && region.vpn_connections.is_ok());
    assert_eq!(
        verdicts(&graph_of(region), "EC2.6")["vpc-1"],
        Status::Unknown,
        "a denied read is never PASS or FAIL"
    );
}

#[tokio::test]
async fn throttling_past_the_retry_budget_is_a_gap_not_an_empty_list() {
    let mut rules = empty_ec2_rules();
    rules[0] = mock!(Client::describe_vpcs)
        .sequence()
        .error(|| {
            DescribeVpcsError::generic(
                ErrorMetadata::builder()
                    .code("RequestLimitExceeded")
                    .message("slow down")
                    .build(),
            )
        })
        .times(10)
        .build();
    let refs: Vec<&Rule> = rules.iter().collect();
    let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, &refs, |c| c.retry_config(
        RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(1))
    ));
    let region = collect_region(&clients_with(ec2).await, ACCOUNT, REGION).await;
    let gap = region.vpcs.as_ref().expect_err("VPCs are a gap");
    assert_eq!(gap.code, "RequestLimitExceeded");
    assert_eq!(rules[0].num_calls(), 3, "retried up to the budget, then given up");
    let findings = verdicts(&graph_of(region), "EC2.6");
    assert_eq!(
        findings[&format!("arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/*")],
        Status::Unknown
    );
}

#[tokio::test]
async fn a_server_error_is_a_gap() {
    let mut rules = empty_ec2_rules();
    rules[5] = mock!(Client::describe_vpn_connections)
        .sequence()
        .http_status(503, None)
        .times(5)
        .build();
    let refs: Vec<&Rule> = rules.iter().collect();
    let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, &refs, |c| c.retry_config(
        RetryConfig::standard()
            .with_max_attempts(2)
            .with_initial_backoff(Duration::from_millis(1))
    ));
    let region = collect_region(&clients_with(ec2).await, ACCOUNT, REGION).await;
    let gap = region.vpn_connections.as_ref().expect_err("connections are a gap");
    assert_eq!(gap.api, "ec2:DescribeVpnConnections");
    assert!(gap.code.contains("503") || gap.code == "ServiceUnavailable", "{gap:?}");
    assert!(region.vpcs.is_ok());
}

#[tokio::test]
async fn a_slow_endpoint_times_out_into_gaps() {
    // A listener that accepts and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").expect("listener");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        let mut held = vec![];
        let start = Instant::now();
        for stream in listener.incoming() {
            held.push(stream);
            if start.elapsed() > Duration::from_secs(30) {
                break;
            }
        }
    });
    let config = config(&url).await;
    let clients = RegionClients::new(&config, REGION, &netaudit_aws::CallLog::new());
    let started = Instant::now();
    let region = collect_region(&clients, ACCOUNT, REGION).await;
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the timeout bounds the scan"
    );
    for (name, listing) in [
        ("vpcs", region.vpcs.as_ref().map(|_| ())),
        ("flow logs", region.flow_logs.as_ref().map(|_| ())),
    ] {
        let gap = listing.expect_err(name);
        assert_eq!(gap.code, "Timeout", "{name}: {gap:?}");
    }
}
