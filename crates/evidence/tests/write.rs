//! Writing evidence back out: what the writer makes of loaded evidence lists the same resources
//! the AWS CLI printed, and loads back into the same graph.

mod common;

use common::{account_files, ACCOUNT};
use netaudit_evidence::{load_dir, load_files, write_dir, Operation};
use netaudit_model::Graph;
use serde_json::Value;
use std::path::Path;

/// The top-level list of an evidence document and the key naming each item (`None`: the items are
/// names themselves).
fn listed(op: &Operation) -> (&'static str, Option<&'static str>) {
    match *op {
        Operation::EC2_DESCRIBE_REGIONS => ("Regions", Some("RegionName")),
        Operation::S3API_LIST_BUCKETS => ("Buckets", Some("Name")),
        Operation::EC2_DESCRIBE_VPCS => ("Vpcs", Some("VpcId")),
        Operation::EC2_DESCRIBE_SUBNETS => ("Subnets", Some("SubnetId")),
        Operation::EC2_DESCRIBE_NETWORK_INTERFACES => ("NetworkInterfaces", Some("NetworkInterfaceId")),
        Operation::EC2_DESCRIBE_FLOW_LOGS => ("FlowLogs", Some("FlowLogId")),
        Operation::EC2_DESCRIBE_CLIENT_VPN_ENDPOINTS => ("ClientVpnEndpoints", Some("ClientVpnEndpointId")),
        Operation::EC2_DESCRIBE_VPN_CONNECTIONS => ("VpnConnections", Some("VpnConnectionId")),
        Operation::LOGS_DESCRIBE_LOG_GROUPS => ("logGroups", Some("logGroupName")),
        Operation::CLOUDWATCH_DESCRIBE_ALARMS => ("MetricAlarms", Some("AlarmName")),
        Operation::FIREHOSE_LIST_DELIVERY_STREAMS => ("DeliveryStreamNames", None),
        Operation::EC2_DESCRIBE_INTERNET_GATEWAYS => ("InternetGateways", Some("InternetGatewayId")),
        _ => panic!("{op:?} is not a listing"),
    }
}

fn names(doc: &Value, op: &Operation) -> Vec<String> {
    let (list, key) = listed(op);
    let items = doc[list].as_array().unwrap_or_else(|| panic!("no {list} in {doc}"));
    items
        .iter()
        .map(|item| match key {
            Some(key) => item[key].as_str().unwrap_or_default().to_owned(),
            None => item.as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// A metric-math alarm reads several metrics but is one alarm: written back, it must not turn
/// into one alarm per metric.
#[test]
fn each_written_listing_names_the_resources_the_cli_printed() {
    let files = account_files();
    let loaded = load_files(&files);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let dir = tempfile::tempdir().unwrap();
    write_dir(&loaded.inventory, dir.path()).unwrap();
    let mut compared = 0;
    for (path, bytes) in &files {
        let Some(op) = Path::new(path)
            .file_stem()
            .and_then(|s| Operation::by_stem(&s.to_string_lossy()))
        else {
            continue;
        };
        if *op == Operation::STS_GET_CALLER_IDENTITY {
            continue;
        }
        let printed: Value = serde_json::from_slice(bytes).unwrap();
        let written: Value = serde_json::from_slice(&std::fs::read(dir.path().join(path)).unwrap()).unwrap();
        assert_eq!(names(&written, op), names(&printed, op), "{path}");
        compared += 1;
    }
    assert_eq!(compared, 22, "every listing of both regions and the account");

    let alarms = dir
        .path()
        .join(ACCOUNT)
        .join("us-east-1/cloudwatch-describe-alarms.json");
    let alarms: Value = serde_json::from_slice(&std::fs::read(alarms).unwrap()).unwrap();
    let math = &alarms["MetricAlarms"][1];
    let metric_stats = math["Metrics"]
        .as_array()
        .map_or(0, |m| m.iter().filter(|q| q.get("MetricStat").is_some()).count());
    assert_eq!(metric_stats, 2, "{math}");
}

/// The example estate, saved again and reloaded, is the same graph.
#[test]
fn the_example_estate_replays_to_the_same_graph() {
    let estate = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../examples/estate");
    let original = load_dir(&estate).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_dir(&original.inventory, dir.path()).unwrap();
    let replayed = load_dir(dir.path()).unwrap();
    assert_eq!(replayed.errors.len(), original.errors.len(), "{:?}", replayed.errors);
    let (before, after) = (Graph::build(&original.inventory), Graph::build(&replayed.inventory));
    assert!(before.len() > 20, "the estate has assets");
    for (b, a) in before.assets().iter().zip(after.assets()) {
        assert_eq!(b, a);
    }
    assert_eq!(before.len(), after.len());
}
