//! What to fix first: every result's priority, from the internet exposure and the production tags
//! of the assets it concerns.
//!
//! A result's resource reaches VPCs through the graph: a VPC itself, a subnet's or a Client VPN
//! endpoint's VPC, a flow log's VPC or subnet, a tunnel's connection, and the flow logs, endpoints
//! and tunnels a log group, bucket, delivery stream or alarm serves. A VPC is internet-exposed when
//! an internet gateway is attached to it. A resource is production when it, or an asset it reaches,
//! carries a production tag. The rules, in the order results are sorted:
//!
//! | priority   | when                                                                    |
//! |------------|-------------------------------------------------------------------------|
//! | `critical` | internet-exposed and production                                         |
//! | `high`     | internet-exposed                                                        |
//! | `unknown`  | exposure could not be told (internet gateways unread, VPC not known)    |
//! | `elevated` | production, not exposed                                                 |
//! | `normal`   | neither                                                                 |

use crate::results::Finding;
use netaudit_model::schema::{self, Kind};
use netaudit_model::{Asset, Edge, Graph, NodeId, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// How urgently a result deserves attention; the variants are in the order results are shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Internet-exposed and production.
    Critical,
    /// Internet-exposed.
    High,
    /// Whether it is internet-exposed could not be told. Also what a report written before
    /// priorities existed reads as.
    #[default]
    Unknown,
    /// Production, not internet-exposed.
    Elevated,
    /// Neither internet-exposed nor production.
    Normal,
}

impl Priority {
    pub const ALL: [Priority; 5] = [
        Priority::Critical,
        Priority::High,
        Priority::Unknown,
        Priority::Elevated,
        Priority::Normal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::High => "high",
            Priority::Unknown => "unknown",
            Priority::Elevated => "elevated",
            Priority::Normal => "normal",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The tags that mark an asset as production: a tag matches when its key equals one of `keys`
/// and its value one of `values`, both ignoring case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductionTags {
    pub pairs: Vec<(String, String)>,
}

impl Default for ProductionTags {
    /// `Environment`, `env` or `stage` set to `prod` or `production`.
    fn default() -> Self {
        let mut pairs = vec![];
        for key in ["Environment", "env", "stage"] {
            for value in ["prod", "production"] {
                pairs.push((key.to_owned(), value.to_owned()));
            }
        }
        ProductionTags { pairs }
    }
}

impl ProductionTags {
    /// Parse `KEY=VALUE` (as `--production-tag` and the `[priority]` section give it).
    pub fn parse_pair(text: &str) -> Result<(String, String), String> {
        match text.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() && !value.trim().is_empty() => {
                Ok((key.trim().to_owned(), value.trim().to_owned()))
            }
            _ => Err(format!("{text:?}: expected KEY=VALUE, e.g. Environment=prod")),
        }
    }

    fn matches(&self, key: &str, value: &str) -> bool {
        self.pairs
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case(key) && v.eq_ignore_ascii_case(value))
    }
}

/// What the walk from one resource found.
#[derive(Default)]
struct Reach {
    exposed: BTreeSet<String>,
    unknown: BTreeSet<String>,
    contained: BTreeSet<String>,
    production: BTreeSet<String>,
}

/// Set every finding's priority and the reasons for it, from the graph the findings came from.
/// Results that stand for a whole unread listing (`*`) or name no asset of the graph are unknown.
pub fn assign_priorities(findings: &mut [Finding], graph: &Graph, production: &ProductionTags) {
    let mut by_identity: HashMap<(&str, &str, &str), NodeId> = HashMap::new();
    for (ix, asset) in graph.assets().iter().enumerate() {
        let node = NodeId(u32::try_from(ix).unwrap_or(u32::MAX));
        by_identity
            .entry((asset.arn.as_str(), asset.account_id.as_str(), asset.region.as_str()))
            .or_insert(node);
    }
    for finding in findings.iter_mut() {
        let node = by_identity
            .get(&(
                finding.resource_arn.as_str(),
                finding.account_id.as_str(),
                finding.region.as_str(),
            ))
            .copied();
        let (priority, reasons) = match node {
            Some(node) => rank(&reach(graph, node, production)),
            None if finding.resource_id == "*" => (
                Priority::Unknown,
                vec!["stands for resources that could not be listed: their exposure is unknown".to_owned()],
            ),
            None => (
                Priority::Unknown,
                vec!["the resource is not among the assets read: its exposure is unknown".to_owned()],
            ),
        };
        finding.priority = priority;
        finding.priority_reasons = reasons;
    }
}

/// Most urgent first; the order among results of one priority is kept.
pub fn order_by_priority(findings: &mut [Finding]) {
    findings.sort_by_key(|f| f.priority);
}

fn rank(reach: &Reach) -> (Priority, Vec<String>) {
    let production = !reach.production.is_empty();
    let exposure: &BTreeSet<String> = if !reach.exposed.is_empty() {
        &reach.exposed
    } else if !reach.unknown.is_empty() {
        &reach.unknown
    } else {
        &reach.contained
    };
    let priority = match (!reach.exposed.is_empty(), !reach.unknown.is_empty(), production) {
        (true, _, true) => Priority::Critical,
        (true, _, false) => Priority::High,
        (false, true, _) => Priority::Unknown,
        (false, false, true) => Priority::Elevated,
        (false, false, false) => Priority::Normal,
    };
    let reasons = exposure.iter().chain(&reach.production).cloned().collect();
    (priority, reasons)
}

/// Walk from `start` to every asset it concerns and the VPCs it reaches.
fn reach(graph: &Graph, start: NodeId, production: &ProductionTags) -> Reach {
    let mut found = Reach::default();
    let mut seen: BTreeSet<NodeId> = BTreeSet::new();
    let mut todo = vec![start];
    while let Some(node) = todo.pop() {
        if !seen.insert(node) {
            continue;
        }
        let asset = graph.asset(node);
        for (key, value) in &asset.tags {
            if production.matches(key, value) {
                found.production.insert(format!("tag {key}={value} on {}", asset.id));
            }
        }
        for edge in followed_edges(asset) {
            match asset.edge(*edge) {
                Edge::Known(targets) => todo.extend(targets),
                Edge::Partial(targets, gap) => {
                    todo.extend(targets);
                    found
                        .unknown
                        .insert(format!("{} may reach more: {} {}", asset.id, gap.api, gap.code));
                }
                Edge::Unknown(gap) => {
                    found.unknown.insert(format!(
                        "what {} reaches is unknown: {} {}",
                        asset.id, gap.api, gap.code
                    ));
                }
            }
        }
        // The VPC itself, for its tags; its exposure is known from the VPC id either way, so an
        // unread VPC listing hides nothing here.
        if let Some(edge) = vpc_edge(asset.kind) {
            if let Edge::Known(targets) | Edge::Partial(targets, _) = asset.edge(edge) {
                todo.extend(targets);
            }
        }
        match vpc_of(asset) {
            VpcOf::Vpc(owner, vpc_id) => internet_exposure(graph, asset, &owner, &vpc_id, &mut found),
            VpcOf::Unknown(why) => {
                found.unknown.insert(why);
            }
            VpcOf::Through => {}
        }
    }
    found
}

/// The edges that lead from an asset to what it concerns (towards VPCs).
fn followed_edges(asset: &Asset) -> &'static [schema::EdgeIx] {
    match asset.kind {
        Kind::Region => &[schema::region::VPCS],
        Kind::FlowLog if matches!(asset.field(schema::flow_log::RESOURCE_ID), Value::Str(id) if id.starts_with("subnet-")) => {
            &[schema::flow_log::SUBNET]
        }
        Kind::VpnTunnel => &[schema::vpn_tunnel::VPN_CONNECTION],
        Kind::LogGroup => &[
            schema::log_group::FLOW_LOGS,
            schema::log_group::CLIENT_VPN_ENDPOINTS,
            schema::log_group::VPN_TUNNELS,
        ],
        Kind::Bucket => &[schema::bucket::FLOW_LOGS],
        Kind::DeliveryStream => &[schema::delivery_stream::FLOW_LOGS],
        Kind::Alarm => &[schema::alarm::TUNNELS],
        Kind::Account | Kind::Vpc | Kind::Subnet | Kind::FlowLog | Kind::ClientVpnEndpoint | Kind::VpnConnection => &[],
    }
}

/// The edge to the VPC an asset sits in or reaches directly, when it has one.
fn vpc_edge(kind: Kind) -> Option<schema::EdgeIx> {
    match kind {
        Kind::Subnet => Some(schema::subnet::VPC),
        Kind::ClientVpnEndpoint => Some(schema::client_vpn_endpoint::VPC),
        Kind::FlowLog => Some(schema::flow_log::VPC),
        _ => None,
    }
}

/// The VPC an asset sits in or reaches directly.
enum VpcOf {
    /// (account whose internet gateways to read, VPC id).
    Vpc(String, String),
    /// It concerns a VPC, but which one is not known.
    Unknown(String),
    /// It reaches VPCs only through the assets its edges lead to (or none at all).
    Through,
}

fn vpc_of(asset: &Asset) -> VpcOf {
    let string = |value: &Value| match value {
        Value::Str(s) => Some(s.clone()),
        _ => None,
    };
    let same_account = |vpc_id: String| VpcOf::Vpc(asset.account_id.clone(), vpc_id);
    match asset.kind {
        Kind::Vpc => {
            // A shared VPC's internet gateways belong to its owner.
            let owner = string(asset.field(schema::vpc::OWNER_ID)).unwrap_or_else(|| asset.account_id.clone());
            VpcOf::Vpc(owner, asset.id.clone())
        }
        Kind::Subnet => string(asset.field(schema::subnet::VPC_ID)).map_or_else(
            || VpcOf::Unknown(format!("the VPC of {} is not reported", asset.id)),
            same_account,
        ),
        // An endpoint with no target network reaches no VPC.
        Kind::ClientVpnEndpoint => {
            string(asset.field(schema::client_vpn_endpoint::VPC_ID)).map_or(VpcOf::Through, same_account)
        }
        Kind::FlowLog => match string(asset.field(schema::flow_log::RESOURCE_ID)) {
            Some(id) if id.starts_with("vpc-") => same_account(id),
            // A subnet's VPC is found through the subnet edge.
            Some(id) if id.starts_with("subnet-") => VpcOf::Through,
            Some(id) => VpcOf::Unknown(format!("{} watches {id}, whose VPC is not read", asset.id)),
            None => VpcOf::Unknown(format!("the resource {} watches is not reported", asset.id)),
        },
        Kind::VpnConnection => vpn_connection_vpc(asset),
        _ => VpcOf::Through,
    }
}

/// A Site-to-Site VPN connection reaches the VPCs behind its virtual private gateway or transit
/// gateway; their attachments are not collected, so which VPCs those are is unknown.
fn vpn_connection_vpc(asset: &Asset) -> VpcOf {
    use schema::vpn_connection::{TRANSIT_GATEWAY_ID, VPN_GATEWAY_ID};
    let gateway = match (asset.field(VPN_GATEWAY_ID), asset.field(TRANSIT_GATEWAY_ID)) {
        (Value::Str(vgw), _) => format!("virtual private gateway {vgw}"),
        (_, Value::Str(tgw)) => format!("transit gateway {tgw}"),
        _ => {
            return VpcOf::Unknown(format!(
                "{} names no gateway: the VPCs it reaches are unknown",
                asset.id
            ))
        }
    };
    VpcOf::Unknown(format!(
        "{} reaches the VPCs attached to {gateway}, whose attachments are not read",
        asset.id
    ))
}

fn internet_exposure(graph: &Graph, asset: &Asset, account: &str, vpc_id: &str, found: &mut Reach) {
    match graph.internet_gateways(account, &asset.region, vpc_id) {
        Ok(gateways) if gateways.is_empty() => {
            found
                .contained
                .insert(format!("no internet gateway attached to {vpc_id}"));
        }
        Ok(gateways) => {
            for igw in gateways {
                found
                    .exposed
                    .insert(format!("internet gateway {igw} attached to {vpc_id}"));
            }
        }
        Err(gap) => {
            found.unknown.insert(format!(
                "internet gateways of {vpc_id} could not be read: {} {}",
                gap.api, gap.code
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::results::Status;
    use std::collections::BTreeMap;

    const A: &str = "111111111111";

    /// A graph from evidence files of account A in us-east-1 (`name` → JSON); every other listing
    /// of the region is empty.
    fn graph(files: &[(&str, &str)]) -> Graph {
        let mut all: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        all.insert(
            format!("{A}/ec2-describe-regions.json"),
            br#"{"Regions": [{"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"}]}"#.to_vec(),
        );
        all.insert(format!("{A}/s3api-list-buckets.json"), br#"{"Buckets": []}"#.to_vec());
        let empty = [
            ("ec2-describe-vpcs.json", r#"{"Vpcs": []}"#),
            ("ec2-describe-subnets.json", r#"{"Subnets": []}"#),
            ("ec2-describe-network-interfaces.json", r#"{"NetworkInterfaces": []}"#),
            ("ec2-describe-flow-logs.json", r#"{"FlowLogs": []}"#),
            (
                "ec2-describe-client-vpn-endpoints.json",
                r#"{"ClientVpnEndpoints": []}"#,
            ),
            ("ec2-describe-vpn-connections.json", r#"{"VpnConnections": []}"#),
            ("logs-describe-log-groups.json", r#"{"logGroups": []}"#),
            (
                "cloudwatch-describe-alarms.json",
                r#"{"MetricAlarms": [], "CompositeAlarms": []}"#,
            ),
            (
                "firehose-list-delivery-streams.json",
                r#"{"DeliveryStreamNames": [], "HasMoreDeliveryStreams": false}"#,
            ),
            ("ec2-describe-internet-gateways.json", r#"{"InternetGateways": []}"#),
        ];
        for (name, text) in empty {
            all.insert(format!("{A}/us-east-1/{name}"), text.as_bytes().to_vec());
        }
        for (name, text) in files {
            let path = format!("{A}/us-east-1/{name}");
            // An empty text removes the file: that evidence was not collected.
            if text.is_empty() {
                all.remove(&path);
            } else {
                all.insert(path, text.as_bytes().to_vec());
            }
        }
        Graph::build(&netaudit_evidence::load_files(&all).inventory)
    }

    const VPCS: &str = r#"{"Vpcs": [
        {"VpcId": "vpc-prodweb", "OwnerId": "111111111111", "Tags": [{"Key": "Environment", "Value": "Production"}]},
        {"VpcId": "vpc-web", "OwnerId": "111111111111"},
        {"VpcId": "vpc-prodcore", "OwnerId": "111111111111", "Tags": [{"Key": "env", "Value": "prod"}]},
        {"VpcId": "vpc-lab", "OwnerId": "111111111111", "Tags": [{"Key": "team", "Value": "live"}]}
    ]}"#;
    const IGWS: &str = r#"{"InternetGateways": [
        {"InternetGatewayId": "igw-1", "Attachments": [{"State": "available", "VpcId": "vpc-prodweb"}]},
        {"InternetGatewayId": "igw-2", "Attachments": [{"State": "available", "VpcId": "vpc-web"}]},
        {"InternetGatewayId": "igw-3", "Attachments": [{"State": "detached", "VpcId": "vpc-prodcore"}]},
        {"InternetGatewayId": "igw-4", "Attachments": []}
    ]}"#;

    /// A FAIL for the asset `id` of the graph, as evaluation would make it.
    fn finding_for(graph: &Graph, id: &str) -> Finding {
        let asset = graph.assets().iter().find(|a| a.id == id).expect("asset in graph");
        Finding {
            control: "TEST.1".into(),
            status: Status::Fail,
            resource_type: asset.kind.def().type_name.into(),
            resource_id: asset.id.clone(),
            resource_name: None,
            resource_arn: asset.arn.clone(),
            account_id: asset.account_id.clone(),
            region: asset.region.clone(),
            reason: String::new(),
            evidence: serde_json::Map::new(),
            gaps: vec![],
            exception: None,
            remedy: None,
            location: None,
            read_from: None,
            priority: Priority::Normal,
            priority_reasons: vec![],
        }
    }

    fn ranked(graph: &Graph, ids: &[&str], production: &ProductionTags) -> Vec<Finding> {
        let mut findings: Vec<Finding> = ids.iter().map(|id| finding_for(graph, id)).collect();
        assign_priorities(&mut findings, graph, production);
        findings
    }

    fn priority_of(findings: &[Finding], id: &str) -> (Priority, Vec<String>) {
        let f = findings.iter().find(|f| f.resource_id == id).expect("finding");
        (f.priority, f.priority_reasons.clone())
    }

    #[test]
    fn exposed_and_production_is_critical_with_the_gateway_and_tag_as_reasons() {
        let g = graph(&[
            ("ec2-describe-vpcs.json", VPCS),
            ("ec2-describe-internet-gateways.json", IGWS),
        ]);
        let found = ranked(&g, &["vpc-prodweb"], &ProductionTags::default());
        assert_eq!(
            priority_of(&found, "vpc-prodweb"),
            (
                Priority::Critical,
                vec![
                    "internet gateway igw-1 attached to vpc-prodweb".to_owned(),
                    "tag Environment=Production on vpc-prodweb".to_owned()
                ]
            )
        );
    }

    #[test]
    fn exposed_alone_is_high_production_alone_elevated_neither_normal() {
        let g = graph(&[
            ("ec2-describe-vpcs.json", VPCS),
            ("ec2-describe-internet-gateways.json", IGWS),
        ]);
        let found = ranked(&g, &["vpc-web", "vpc-prodcore", "vpc-lab"], &ProductionTags::default());
        assert_eq!(
            priority_of(&found, "vpc-web"),
            (
                Priority::High,
                vec!["internet gateway igw-2 attached to vpc-web".to_owned()]
            )
        );
        // A detached gateway routes nothing.
        assert_eq!(
            priority_of(&found, "vpc-prodcore"),
            (
                Priority::Elevated,
                vec![
                    "no internet gateway attached to vpc-prodcore".to_owned(),
                    "tag env=prod on vpc-prodcore".to_owned()
                ]
            )
        );
        assert_eq!(priority_of(&found, "vpc-lab").0, Priority::Normal);
    }

    #[test]
    fn production_tags_are_configurable_and_replace_the_defaults() {
        let g = graph(&[
            ("ec2-describe-vpcs.json", VPCS),
            ("ec2-describe-internet-gateways.json", IGWS),
        ]);
        let custom = ProductionTags {
            pairs: vec![ProductionTags::parse_pair("Team=LIVE").unwrap()],
        };
        let found = ranked(&g, &["vpc-lab", "vpc-prodcore"], &custom);
        assert_eq!(priority_of(&found, "vpc-lab").0, Priority::Elevated);
        assert!(priority_of(&found, "vpc-lab")
            .1
            .contains(&"tag team=live on vpc-lab".to_owned()));
        assert_eq!(priority_of(&found, "vpc-prodcore").0, Priority::Normal);
        assert!(ProductionTags::parse_pair("Environment").is_err());
        assert!(ProductionTags::parse_pair("=prod").is_err());
    }

    #[test]
    fn unreadable_or_missing_internet_gateways_make_priority_unknown_never_low() {
        let denied = "\nAn error occurred (UnauthorizedOperation) when calling the DescribeInternetGateways \
                      operation: You are not authorized to perform this operation.\n";
        for files in [
            vec![
                ("ec2-describe-vpcs.json", VPCS),
                ("ec2-describe-internet-gateways.json", ""),
            ],
            vec![
                ("ec2-describe-vpcs.json", VPCS),
                ("ec2-describe-internet-gateways.json", ""),
                ("ec2-describe-internet-gateways.error", denied),
            ],
        ] {
            let g = graph(&files);
            let found = ranked(&g, &["vpc-lab", "vpc-prodcore"], &ProductionTags::default());
            let (priority, reasons) = priority_of(&found, "vpc-lab");
            assert_eq!(priority, Priority::Unknown);
            assert_eq!(reasons.len(), 1, "{reasons:?}");
            assert!(
                reasons[0].starts_with("internet gateways of vpc-lab could not be read: ec2:DescribeInternetGateways"),
                "{reasons:?}"
            );
            // Production does not outrank unknown exposure: it may well be critical.
            let (priority, reasons) = priority_of(&found, "vpc-prodcore");
            assert_eq!(priority, Priority::Unknown);
            assert!(
                reasons.contains(&"tag env=prod on vpc-prodcore".to_owned()),
                "{reasons:?}"
            );
        }
    }

    #[test]
    fn client_vpn_endpoints_inherit_their_vpcs_exposure() {
        let endpoints = r#"{"ClientVpnEndpoints": [
            {"ClientVpnEndpointId": "cvpn-endpoint-web", "VpcId": "vpc-prodweb"},
            {"ClientVpnEndpointId": "cvpn-endpoint-core", "VpcId": "vpc-prodcore"},
            {"ClientVpnEndpointId": "cvpn-endpoint-none"}
        ]}"#;
        let g = graph(&[
            ("ec2-describe-vpcs.json", VPCS),
            ("ec2-describe-internet-gateways.json", IGWS),
            ("ec2-describe-client-vpn-endpoints.json", endpoints),
        ]);
        let found = ranked(
            &g,
            &["cvpn-endpoint-web", "cvpn-endpoint-core", "cvpn-endpoint-none"],
            &ProductionTags::default(),
        );
        // The VPC's tag makes the endpoint that reaches it production.
        assert_eq!(priority_of(&found, "cvpn-endpoint-web").0, Priority::Critical);
        assert_eq!(priority_of(&found, "cvpn-endpoint-core").0, Priority::Elevated);
        assert_eq!(priority_of(&found, "cvpn-endpoint-none").0, Priority::Normal);

        // Its VPC's gateways unread: unknown.
        let g = graph(&[
            ("ec2-describe-vpcs.json", VPCS),
            ("ec2-describe-internet-gateways.json", ""),
            ("ec2-describe-client-vpn-endpoints.json", endpoints),
        ]);
        let found = ranked(&g, &["cvpn-endpoint-core"], &ProductionTags::default());
        assert_eq!(priority_of(&found, "cvpn-endpoint-core").0, Priority::Unknown);
    }

    #[test]
    fn vpn_connections_and_their_tunnels_are_unknown_since_gateway_attachments_are_not_read() {
        let connections = r#"{"VpnConnections": [{
            "VpnConnectionId": "vpn-1", "State": "available", "VpnGatewayId": "vgw-1",
            "Tags": [{"Key": "stage", "Value": "prod"}],
            "Options": {"TunnelOptions": [{"OutsideIpAddress": "203.0.113.1"}]}
        }]}"#;
        let g = graph(&[
            ("ec2-describe-vpcs.json", VPCS),
            ("ec2-describe-internet-gateways.json", IGWS),
            ("ec2-describe-vpn-connections.json", connections),
        ]);
        let tunnel = g
            .assets()
            .iter()
            .find(|a| a.kind == Kind::VpnTunnel)
            .map(|a| a.id.clone())
            .expect("a tunnel");
        let found = ranked(&g, &["vpn-1", &tunnel], &ProductionTags::default());
        for id in ["vpn-1", tunnel.as_str()] {
            let (priority, reasons) = priority_of(&found, id);
            assert_eq!(priority, Priority::Unknown, "{id}");
            assert!(
                reasons.contains(
                    &"vpn-1 reaches the VPCs attached to virtual private gateway vgw-1, whose attachments are not read"
                        .to_owned()
                ),
                "{id}: {reasons:?}"
            );
            assert!(reasons.contains(&"tag stage=prod on vpn-1".to_owned()), "{reasons:?}");
        }
    }

    #[test]
    fn log_groups_inherit_from_the_flow_logs_they_hold() {
        let flow_logs = r#"{"FlowLogs": [{
            "FlowLogId": "fl-1", "FlowLogStatus": "ACTIVE", "ResourceId": "vpc-web", "TrafficType": "ALL",
            "DeliverLogsStatus": "SUCCESS", "LogDestinationType": "cloud-watch-logs", "LogGroupName": "/flow/web"
        }]}"#;
        let groups = r#"{"logGroups": [{"logGroupName": "/flow/web"}, {"logGroupName": "/other"}]}"#;
        let g = graph(&[
            ("ec2-describe-vpcs.json", VPCS),
            ("ec2-describe-internet-gateways.json", IGWS),
            ("ec2-describe-flow-logs.json", flow_logs),
            ("logs-describe-log-groups.json", groups),
        ]);
        let found = ranked(&g, &["/flow/web", "/other", "fl-1"], &ProductionTags::default());
        assert_eq!(priority_of(&found, "/flow/web").0, Priority::High);
        assert_eq!(priority_of(&found, "fl-1").0, Priority::High);
        assert_eq!(priority_of(&found, "/other"), (Priority::Normal, vec![]));
    }

    #[test]
    fn results_for_unlisted_resources_are_unknown_and_ordering_is_stable() {
        let g = graph(&[
            ("ec2-describe-vpcs.json", VPCS),
            ("ec2-describe-internet-gateways.json", IGWS),
        ]);
        let mut wildcard = finding_for(&g, "vpc-web");
        wildcard.resource_id = "*".into();
        wildcard.resource_arn = "arn:aws:ec2:us-east-1:111111111111:vpc/*".into();
        let mut findings = vec![
            finding_for(&g, "vpc-lab"),
            wildcard,
            finding_for(&g, "vpc-prodcore"),
            finding_for(&g, "vpc-web"),
            finding_for(&g, "vpc-prodweb"),
        ];
        findings[0].control = "TEST.first".into();
        let mut second_normal = finding_for(&g, "vpc-lab");
        second_normal.control = "TEST.second".into();
        findings.push(second_normal);
        assign_priorities(&mut findings, &g, &ProductionTags::default());
        order_by_priority(&mut findings);
        let order: Vec<(Priority, &str, &str)> = findings
            .iter()
            .map(|f| (f.priority, f.resource_id.as_str(), f.control.as_str()))
            .collect();
        assert_eq!(
            order,
            vec![
                (Priority::Critical, "vpc-prodweb", "TEST.1"),
                (Priority::High, "vpc-web", "TEST.1"),
                (Priority::Unknown, "*", "TEST.1"),
                (Priority::Elevated, "vpc-prodcore", "TEST.1"),
                (Priority::Normal, "vpc-lab", "TEST.first"),
                (Priority::Normal, "vpc-lab", "TEST.second"),
            ]
        );
    }
}
