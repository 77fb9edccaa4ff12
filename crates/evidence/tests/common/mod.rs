//! Realistic AWS CLI output (tests/data) and helpers shared by the test files.

#![allow(dead_code)]

use netaudit_evidence::{Operation, Scope, OPERATIONS};
use std::collections::BTreeMap;

pub const ACCOUNT: &str = "111111111111";

/// One sample per operation, as `aws <service> <operation> --output json` prints it.
pub fn sample(op: &Operation) -> &'static str {
    let samples: [(&Operation, &str); 13] = [
        (
            &Operation::STS_GET_CALLER_IDENTITY,
            include_str!("../data/sts-get-caller-identity.json"),
        ),
        (
            &Operation::EC2_DESCRIBE_REGIONS,
            include_str!("../data/ec2-describe-regions.json"),
        ),
        (
            &Operation::S3API_LIST_BUCKETS,
            include_str!("../data/s3api-list-buckets.json"),
        ),
        (
            &Operation::EC2_DESCRIBE_VPCS,
            include_str!("../data/ec2-describe-vpcs.json"),
        ),
        (
            &Operation::EC2_DESCRIBE_SUBNETS,
            include_str!("../data/ec2-describe-subnets.json"),
        ),
        (
            &Operation::EC2_DESCRIBE_NETWORK_INTERFACES,
            include_str!("../data/ec2-describe-network-interfaces.json"),
        ),
        (
            &Operation::EC2_DESCRIBE_FLOW_LOGS,
            include_str!("../data/ec2-describe-flow-logs.json"),
        ),
        (
            &Operation::EC2_DESCRIBE_CLIENT_VPN_ENDPOINTS,
            include_str!("../data/ec2-describe-client-vpn-endpoints.json"),
        ),
        (
            &Operation::EC2_DESCRIBE_VPN_CONNECTIONS,
            include_str!("../data/ec2-describe-vpn-connections.json"),
        ),
        (
            &Operation::LOGS_DESCRIBE_LOG_GROUPS,
            include_str!("../data/logs-describe-log-groups.json"),
        ),
        (
            &Operation::CLOUDWATCH_DESCRIBE_ALARMS,
            include_str!("../data/cloudwatch-describe-alarms.json"),
        ),
        (
            &Operation::FIREHOSE_LIST_DELIVERY_STREAMS,
            include_str!("../data/firehose-list-delivery-streams.json"),
        ),
        (
            &Operation::EC2_DESCRIBE_INTERNET_GATEWAYS,
            include_str!("../data/ec2-describe-internet-gateways.json"),
        ),
    ];
    samples
        .iter()
        .find(|(o, _)| *o == op)
        .map_or_else(|| panic!("no sample for {op:?}"), |(_, s)| s)
}

/// What the CLI prints for a regional listing with nothing in it.
pub fn empty(op: &Operation) -> &'static str {
    match op.operation {
        "describe-vpcs" => r#"{"Vpcs": []}"#,
        "describe-subnets" => r#"{"Subnets": []}"#,
        "describe-network-interfaces" => r#"{"NetworkInterfaces": []}"#,
        "describe-flow-logs" => r#"{"FlowLogs": []}"#,
        "describe-client-vpn-endpoints" => r#"{"ClientVpnEndpoints": []}"#,
        "describe-vpn-connections" => r#"{"VpnConnections": []}"#,
        "describe-log-groups" => r#"{"logGroups": []}"#,
        "describe-alarms" => r#"{"MetricAlarms": [], "CompositeAlarms": []}"#,
        "list-delivery-streams" => r#"{"DeliveryStreamNames": [], "HasMoreDeliveryStreams": false}"#,
        "describe-internet-gateways" => r#"{"InternetGateways": []}"#,
        other => panic!("no empty document for {other}"),
    }
}

/// One account: the account-level samples, us-east-1 with every regional sample, us-west-2 with
/// every listing empty.
pub fn account_files() -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for op in OPERATIONS {
        match op.scope {
            Scope::Account => {
                files.insert(format!("{ACCOUNT}/{}", op.json_file()), sample(op).as_bytes().to_vec());
            }
            Scope::Regional => {
                files.insert(
                    format!("{ACCOUNT}/us-east-1/{}", op.json_file()),
                    sample(op).as_bytes().to_vec(),
                );
                files.insert(
                    format!("{ACCOUNT}/us-west-2/{}", op.json_file()),
                    empty(op).as_bytes().to_vec(),
                );
            }
        }
    }
    files
}

/// The CLI's stderr for a denied call (it starts with an empty line).
pub fn access_denied(action: &str, operation: &str) -> String {
    format!(
        "\nAn error occurred (AccessDenied) when calling the {operation} operation: User: \
         arn:aws:sts::{ACCOUNT}:assumed-role/NetworkAuditor/auditor is not authorized to perform: {action} \
         with an explicit deny in a service control policy\n"
    )
}
