//! What `netaudit fix` can do about a FAIL, as a type.
//!
//! Each control declares its remedy in its catalogue file (`[remediation] automatic = "…"` or
//! `manual = "why"`). When a control fails, the facts the fix needs are read from the asset graph
//! (not from the query's selection, which only documents the failure), so editing a control's
//! query can never turn a planned fix into "not planned".

use netaudit_model::schema::{client_vpn_endpoint, flow_log, log_group, vpn_connection, vpn_tunnel};
use netaudit_model::{parse_log_group_arn, Asset, Edge, Graph, Kind, NodeId, Value};
use serde::{Deserialize, Serialize};

/// The automatic fixes, as named in a catalogue file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemedyKind {
    /// A flow log on the VPC, to a destination with retention.
    CreateFlowLog,
    /// The missing destination log group of a flow log (buckets and streams are not created).
    RestoreFlowLogDestination,
    /// Connection logging on a Client VPN endpoint.
    EnableConnectionLogging,
    /// The log group a Client VPN endpoint names but that does not exist.
    CreateConnectionLogGroup,
    /// Activity logging on each tunnel of a connection that has it off, one tunnel at a time.
    EnableTunnelLogging,
    /// The log groups a tunnel names but that do not exist.
    CreateTunnelLogGroups,
    /// A log group's retention, raised (never lowered).
    RaiseRetention,
    /// A tunnel's IKE versions restricted to IKEv2.
    RestrictTunnelToIkev2,
    /// A TunnelState alarm that notifies a topic.
    CreateTunnelAlarm,
}

impl RemedyKind {
    pub const ALL: [RemedyKind; 9] = [
        RemedyKind::CreateFlowLog,
        RemedyKind::RestoreFlowLogDestination,
        RemedyKind::EnableConnectionLogging,
        RemedyKind::CreateConnectionLogGroup,
        RemedyKind::EnableTunnelLogging,
        RemedyKind::CreateTunnelLogGroups,
        RemedyKind::RaiseRetention,
        RemedyKind::RestrictTunnelToIkev2,
        RemedyKind::CreateTunnelAlarm,
    ];

    /// The kind of asset the fix changes: a control may declare this remedy only if its query lists
    /// that kind.
    pub fn resource_kind(self) -> Kind {
        match self {
            RemedyKind::CreateFlowLog => Kind::Vpc,
            RemedyKind::RestoreFlowLogDestination => Kind::FlowLog,
            RemedyKind::EnableConnectionLogging | RemedyKind::CreateConnectionLogGroup => Kind::ClientVpnEndpoint,
            RemedyKind::EnableTunnelLogging => Kind::VpnConnection,
            RemedyKind::CreateTunnelLogGroups | RemedyKind::RestrictTunnelToIkev2 | RemedyKind::CreateTunnelAlarm => {
                Kind::VpnTunnel
            }
            RemedyKind::RaiseRetention => Kind::LogGroup,
        }
    }

    /// The name a catalogue file uses.
    pub fn name(self) -> &'static str {
        match self {
            RemedyKind::CreateFlowLog => "create-flow-log",
            RemedyKind::RestoreFlowLogDestination => "restore-flow-log-destination",
            RemedyKind::EnableConnectionLogging => "enable-connection-logging",
            RemedyKind::CreateConnectionLogGroup => "create-connection-log-group",
            RemedyKind::EnableTunnelLogging => "enable-tunnel-logging",
            RemedyKind::CreateTunnelLogGroups => "create-tunnel-log-groups",
            RemedyKind::RaiseRetention => "raise-retention",
            RemedyKind::RestrictTunnelToIkev2 => "restrict-tunnel-to-ikev2",
            RemedyKind::CreateTunnelAlarm => "create-tunnel-alarm",
        }
    }

    /// The facts this fix needs about one asset, read from the graph.
    pub fn facts(self, graph: &Graph, node: NodeId) -> Remedy {
        let asset = graph.asset(node);
        match self {
            RemedyKind::CreateFlowLog => Remedy::CreateFlowLog {
                vpc_id: asset.id.clone(),
            },
            RemedyKind::RestoreFlowLogDestination => Remedy::RestoreFlowLogDestination {
                deliver_logs_status: text(asset.field(flow_log::DELIVER_LOGS_STATUS)),
                deliver_logs_error_message: text(asset.field(flow_log::DELIVER_LOGS_ERROR_MESSAGE)),
                destination: flow_log_target(asset),
            },
            RemedyKind::EnableConnectionLogging => Remedy::EnableConnectionLogging {
                client_vpn_endpoint_id: asset.id.clone(),
            },
            RemedyKind::CreateConnectionLogGroup => Remedy::CreateConnectionLogGroup {
                log_group: text(asset.field(client_vpn_endpoint::CLOUDWATCH_LOG_GROUP)).map(|name| LogGroupRef {
                    account_id: asset.account_id.clone(),
                    region: asset.region.clone(),
                    name,
                }),
            },
            RemedyKind::EnableTunnelLogging => Remedy::EnableTunnelLogging {
                vpn_connection_id: asset.id.clone(),
                tunnels_without_logging: related(asset.edge(vpn_connection::TUNNELS))
                    .filter(|t| graph.asset(*t).field(vpn_tunnel::LOG_ENABLED) == &Value::Bool(false))
                    .map(|t| tunnel_ref(graph.asset(t)))
                    .collect(),
            },
            RemedyKind::CreateTunnelLogGroups => {
                let mut log_groups: Vec<LogGroupRef> = [vpn_tunnel::LOG_GROUP_ARN, vpn_tunnel::BGP_LOG_GROUP_ARN]
                    .into_iter()
                    .filter_map(|f| text(asset.field(f)))
                    .filter_map(|arn| LogGroupRef::from_arn(&arn))
                    .collect();
                log_groups.sort();
                log_groups.dedup();
                Remedy::CreateTunnelLogGroups { log_groups }
            }
            RemedyKind::RaiseRetention => Remedy::RaiseRetention {
                log_group: asset.id.clone(),
                current_days: match asset.field(log_group::RETENTION_IN_DAYS) {
                    Value::Int(days) => Some(*days),
                    _ => None,
                },
            },
            RemedyKind::RestrictTunnelToIkev2 => Remedy::RestrictTunnelToIkev2 {
                tunnel: tunnel_ref(asset),
            },
            RemedyKind::CreateTunnelAlarm => Remedy::CreateTunnelAlarm {
                tunnel: tunnel_ref(asset),
            },
        }
    }
}

impl std::fmt::Display for RemedyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A log group, by the account and region it lives in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LogGroupRef {
    pub account_id: String,
    pub region: String,
    pub name: String,
}

impl LogGroupRef {
    pub fn from_arn(arn: &str) -> Option<LogGroupRef> {
        let (region, account_id, name) = parse_log_group_arn(arn)?;
        Some(LogGroupRef {
            account_id,
            region,
            name,
        })
    }
}

/// A tunnel: its connection and, when AWS reported it, its outside address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TunnelRef {
    pub vpn_connection_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside_ip: Option<String>,
}

/// Where a flow log delivers, as far as the scan could tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum FlowLogTarget {
    /// A log group; None when the flow log names neither a group ARN nor a group name.
    CloudWatchLogs { log_group: Option<LogGroupRef> },
    S3 {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        arn: Option<String>,
    },
    KinesisDataFirehose {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        arn: Option<String>,
    },
    /// AWS did not say (or said something this version does not know).
    NotReported,
}

/// A FAIL's fix, with the facts it needs. Travels with the result through the JSON report, so a plan
/// made from a saved report is the plan made from the scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "remedy")]
pub enum Remedy {
    CreateFlowLog {
        vpc_id: String,
    },
    RestoreFlowLogDestination {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deliver_logs_status: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deliver_logs_error_message: Option<String>,
        destination: FlowLogTarget,
    },
    EnableConnectionLogging {
        client_vpn_endpoint_id: String,
    },
    CreateConnectionLogGroup {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        log_group: Option<LogGroupRef>,
    },
    EnableTunnelLogging {
        vpn_connection_id: String,
        tunnels_without_logging: Vec<TunnelRef>,
    },
    CreateTunnelLogGroups {
        log_groups: Vec<LogGroupRef>,
    },
    RaiseRetention {
        log_group: String,
        /// None: never expires, or not reported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        current_days: Option<i64>,
    },
    RestrictTunnelToIkev2 {
        tunnel: TunnelRef,
    },
    CreateTunnelAlarm {
        tunnel: TunnelRef,
    },
    /// The control's catalogue file says a person must fix it, and why.
    Manual {
        why: String,
    },
}

impl Remedy {
    /// The remedy kind, None for a manual one.
    pub fn kind(&self) -> Option<RemedyKind> {
        Some(match self {
            Remedy::CreateFlowLog { .. } => RemedyKind::CreateFlowLog,
            Remedy::RestoreFlowLogDestination { .. } => RemedyKind::RestoreFlowLogDestination,
            Remedy::EnableConnectionLogging { .. } => RemedyKind::EnableConnectionLogging,
            Remedy::CreateConnectionLogGroup { .. } => RemedyKind::CreateConnectionLogGroup,
            Remedy::EnableTunnelLogging { .. } => RemedyKind::EnableTunnelLogging,
            Remedy::CreateTunnelLogGroups { .. } => RemedyKind::CreateTunnelLogGroups,
            Remedy::RaiseRetention { .. } => RemedyKind::RaiseRetention,
            Remedy::RestrictTunnelToIkev2 { .. } => RemedyKind::RestrictTunnelToIkev2,
            Remedy::CreateTunnelAlarm { .. } => RemedyKind::CreateTunnelAlarm,
            Remedy::Manual { .. } => return None,
        })
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The assets an edge certainly reaches (a partial edge's known ones included).
fn related(edge: &Edge) -> impl Iterator<Item = NodeId> + '_ {
    let nodes: &[NodeId] = match edge {
        Edge::Known(nodes) | Edge::Partial(nodes, _) => nodes,
        Edge::Unknown(_) => &[],
    };
    nodes.iter().copied()
}

fn tunnel_ref(tunnel: &Asset) -> TunnelRef {
    let vpn_connection_id = text(tunnel.field(vpn_tunnel::VPN_CONNECTION_ID))
        .or_else(|| tunnel.id.split_once("/tunnel/").map(|(vpn, _)| vpn.to_owned()))
        .unwrap_or_default();
    TunnelRef {
        vpn_connection_id,
        outside_ip: text(tunnel.field(vpn_tunnel::OUTSIDE_IP_ADDRESS))
            .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok()),
    }
}

fn flow_log_target(asset: &Asset) -> FlowLogTarget {
    let arn = text(asset.field(flow_log::LOG_DESTINATION));
    match text(asset.field(flow_log::DESTINATION_TYPE)).as_deref() {
        Some("cloud-watch-logs") => FlowLogTarget::CloudWatchLogs {
            // The ARN names the group's account and region; some responses carry only its name.
            log_group: arn.as_deref().and_then(LogGroupRef::from_arn).or_else(|| {
                text(asset.field(flow_log::LOG_GROUP_NAME)).map(|name| LogGroupRef {
                    account_id: asset.account_id.clone(),
                    region: asset.region.clone(),
                    name,
                })
            }),
        },
        Some("s3") => FlowLogTarget::S3 { arn },
        Some("kinesis-data-firehose") => FlowLogTarget::KinesisDataFirehose { arn },
        _ => FlowLogTarget::NotReported,
    }
}
