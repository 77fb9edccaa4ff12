//! One function per asset kind: the nodes and fields of one region's listing. Each returns the
//! listing's gap, if it could not be read, for the edges that depend on it.

use super::builder::{place, required, Builder};
use super::{Edge, ListingGap, RETENTION_DAYS};
use crate::inventory::*;
use crate::partition_for;
use crate::schema::{self, Kind};
use crate::value::{Gap, GapKind, Value};
use std::sync::Arc;

impl Builder {
    pub(super) fn add_vpcs(&mut self, a: &str, r: &str, listing: &Listing<VpcRecord>) -> Option<Arc<Gap>> {
        let p = partition_for(r);
        let here = place(a, r);
        let (vpcs, gap) = self.listing(Kind::Vpc, a, r, listing);
        let region_node = self.region_nodes.get(&here).copied();
        for v in vpcs {
            let owner = v.owner_id.clone().unwrap_or_else(|| a.to_owned());
            let node = self.add(
                Kind::Vpc,
                &v.vpc_id,
                format!("arn:{p}:ec2:{r}:{owner}:vpc/{}", v.vpc_id),
                a,
                r,
                v.name_tag().map(str::to_owned),
            );
            use schema::vpc::*;
            self.set(node, OWNER_ID, Value::opt_str(v.owner_id.as_deref()));
            self.set(
                node,
                IS_SHARED,
                v.owner_id.as_ref().map_or(Value::Bool(false), |o| Value::Bool(o != a)),
            );
            self.set(node, IS_DEFAULT, Value::opt_bool(v.is_default));
            self.set(node, STATE, Value::opt_str(v.state.as_deref()));
            self.set(node, CIDR_BLOCK, Value::opt_str(v.cidr_block.as_deref()));
            self.set_tags(node, &v.tags);
            self.vpcs.insert((here.clone(), v.vpc_id.clone()), node);
            if let Some(region_node) = region_node {
                self.push_edge(region_node, schema::region::VPCS, node);
            }
        }
        if let (Some(region_node), Some(gap)) = (region_node, &gap) {
            self.set_edge(region_node, schema::region::VPCS, Edge::Unknown(gap.clone()));
        }
        gap
    }

    pub(super) fn add_subnets(&mut self, a: &str, r: &str, listing: &Listing<SubnetRecord>) -> Option<Arc<Gap>> {
        let p = partition_for(r);
        let (subnets, gap) = self.listing(Kind::Subnet, a, r, listing);
        for s in subnets {
            let node = self.add(
                Kind::Subnet,
                &s.subnet_id,
                format!("arn:{p}:ec2:{r}:{a}:subnet/{}", s.subnet_id),
                a,
                r,
                s.name_tag().map(str::to_owned),
            );
            use schema::subnet::*;
            self.set(node, VPC_ID, Value::opt_str(s.vpc_id.as_deref()));
            self.set(node, CIDR_BLOCK, Value::opt_str(s.cidr_block.as_deref()));
            self.set(node, AVAILABILITY_ZONE, Value::opt_str(s.availability_zone.as_deref()));
            self.set_tags(node, &s.tags);
            self.subnets.insert((place(a, r), s.subnet_id.clone()), node);
        }
        gap
    }

    /// Network interfaces are not nodes: each VPC counts its own.
    pub(super) fn count_network_interfaces(&mut self, a: &str, r: &str, listing: &Listing<NetworkInterfaceRecord>) {
        let here = place(a, r);
        match listing {
            Ok(list) => {
                for eni in list {
                    if let Some(vpc) = &eni.vpc_id {
                        *self.eni_counts.entry((here.clone(), vpc.clone())).or_default() += 1;
                    }
                }
            }
            Err(gap) => {
                self.gap(gap);
                self.eni_gaps.insert(here, gap.clone());
            }
        }
    }

    pub(super) fn add_flow_logs(&mut self, a: &str, r: &str, listing: &Listing<FlowLogRecord>) -> Option<Arc<Gap>> {
        let p = partition_for(r);
        let (flow_logs, gap) = self.listing(Kind::FlowLog, a, r, listing);
        for f in flow_logs {
            let node = self.add(
                Kind::FlowLog,
                &f.flow_log_id,
                format!("arn:{p}:ec2:{r}:{a}:vpc-flow-log/{}", f.flow_log_id),
                a,
                r,
                f.name_tag().map(str::to_owned),
            );
            use schema::flow_log::*;
            self.set_tags(node, &f.tags);
            // Fields DescribeFlowLogs always sends: absent means not reported, not "none".
            let flow_field = |value: Option<&str>, what: &str| {
                required(
                    value,
                    a,
                    r,
                    "ec2:DescribeFlowLogs",
                    format!("{} has no {what}", f.flow_log_id),
                )
            };
            self.set(
                node,
                FLOW_LOG_STATUS,
                flow_field(f.flow_log_status.as_deref(), "FlowLogStatus"),
            );
            self.set(node, RESOURCE_ID, Value::opt_str(f.resource_id.as_deref()));
            self.set(
                node,
                RESOURCE_TYPE,
                Value::opt_str(f.resource_id.as_deref().and_then(resource_type_of)),
            );
            self.set(node, TRAFFIC_TYPE, flow_field(f.traffic_type.as_deref(), "TrafficType"));
            self.set(
                node,
                DELIVER_LOGS_STATUS,
                flow_field(f.deliver_logs_status.as_deref(), "DeliverLogsStatus"),
            );
            self.set(
                node,
                DELIVER_LOGS_ERROR_MESSAGE,
                Value::opt_str(f.deliver_logs_error_message.as_deref()),
            );
            self.set(
                node,
                DELIVER_LOGS_PERMISSION_ARN,
                Value::opt_str(f.deliver_logs_permission_arn.as_deref()),
            );
            self.set(node, DESTINATION_TYPE, Value::Str(destination_type(f).into()));
            self.set(node, LOG_DESTINATION, Value::opt_str(f.log_destination.as_deref()));
            self.set(node, LOG_GROUP_NAME, Value::opt_str(f.log_group_name.as_deref()));
            self.set(
                node,
                MAX_AGGREGATION_INTERVAL,
                Value::opt_int(f.max_aggregation_interval),
            );
            self.set(node, LOG_FORMAT, Value::opt_str(f.log_format.as_deref()));
            self.set(node, CREATION_TIME, Value::opt_str(f.creation_time.as_deref()));
            self.flow_logs.push((node, f.clone()));
        }
        gap
    }

    pub(super) fn add_client_vpn_endpoints(
        &mut self,
        a: &str,
        r: &str,
        listing: &Listing<ClientVpnEndpointRecord>,
    ) -> Option<Arc<Gap>> {
        let p = partition_for(r);
        let (endpoints, gap) = self.listing(Kind::ClientVpnEndpoint, a, r, listing);
        for e in endpoints {
            let node = self.add(
                Kind::ClientVpnEndpoint,
                &e.endpoint_id,
                format!("arn:{p}:ec2:{r}:{a}:client-vpn-endpoint/{}", e.endpoint_id),
                a,
                r,
                e.name_tag().map(str::to_owned),
            );
            use schema::client_vpn_endpoint::*;
            self.set_tags(node, &e.tags);
            self.set(
                node,
                STATUS,
                required(
                    e.status_code(),
                    a,
                    r,
                    "ec2:DescribeClientVpnEndpoints",
                    format!("{} has no Status", e.endpoint_id),
                ),
            );
            let log = e.connection_log.clone().unwrap_or_default();
            // An endpoint created without logging options has logging off (the AWS default).
            self.set(node, CONNECTION_LOG_ENABLED, Value::Bool(log.enabled.unwrap_or(false)));
            self.set(
                node,
                CLOUDWATCH_LOG_GROUP,
                Value::opt_str(log.cloudwatch_log_group.as_deref()),
            );
            self.set(
                node,
                CLOUDWATCH_LOG_STREAM,
                Value::opt_str(log.cloudwatch_log_stream.as_deref()),
            );
            self.set(node, VPC_ID, Value::opt_str(e.vpc_id.as_deref()));
            self.set(node, DESCRIPTION, Value::opt_str(e.description.as_deref()));
            self.endpoints.push((node, e.clone()));
        }
        gap
    }

    pub(super) fn add_vpn_connections(
        &mut self,
        a: &str,
        r: &str,
        listing: &Listing<VpnConnectionRecord>,
    ) -> Option<Arc<Gap>> {
        let (connections, gap) = self.listing(Kind::VpnConnection, a, r, listing);
        if let Some(gap) = &gap {
            self.g.listing_gaps.push(ListingGap {
                kind: Kind::VpnTunnel,
                account: a.into(),
                region: r.into(),
                gap: gap.clone(),
            });
        }
        for c in connections {
            self.add_vpn_connection(a, r, c);
        }
        gap
    }

    pub(super) fn add_log_groups(&mut self, a: &str, r: &str, listing: &Listing<LogGroupRecord>) -> Option<Arc<Gap>> {
        let p = partition_for(r);
        let (groups, gap) = self.listing(Kind::LogGroup, a, r, listing);
        for lg in groups {
            let arn = lg
                .group_arn()
                .map(|s| s.strip_suffix(":*").unwrap_or(s).to_owned())
                .unwrap_or_else(|| format!("arn:{p}:logs:{r}:{a}:log-group:{}", lg.log_group_name));
            let node = self.add(
                Kind::LogGroup,
                &lg.log_group_name,
                arn,
                a,
                r,
                Some(lg.log_group_name.clone()),
            );
            use schema::log_group::*;
            let (retention, never_expires) = self.retention(a, r, lg);
            self.set(node, RETENTION_IN_DAYS, retention);
            self.set(node, NEVER_EXPIRES, never_expires);
            self.set(node, KMS_KEY_ID, Value::opt_str(lg.kms_key_id.as_deref()));
            self.set(node, LOG_GROUP_CLASS, Value::opt_str(lg.log_group_class.as_deref()));
            self.set(node, STORED_BYTES, Value::opt_int(lg.stored_bytes));
            self.set(node, CREATION_TIME, Value::opt_int(lg.creation_time));
            self.log_groups.insert((place(a, r), lg.log_group_name.clone()), node);
        }
        gap
    }

    /// (retentionInDays, neverExpires). AWS reports no retention for "never expire"; any value
    /// outside the list CloudWatch Logs accepts (0, a negative number) is malformed, never "never
    /// expire".
    fn retention(&mut self, a: &str, r: &str, lg: &LogGroupRecord) -> (Value, Value) {
        match lg.retention_in_days {
            None => (Value::Null, Value::Bool(true)),
            Some(days) if RETENTION_DAYS.contains(&days) => (Value::Int(days), Value::Bool(false)),
            Some(days) => {
                let gap = Arc::new(Gap {
                    kind: GapKind::Malformed,
                    account: a.to_owned(),
                    region: Some(r.to_owned()),
                    api: "logs:DescribeLogGroups".into(),
                    code: "MalformedValue".into(),
                    message: format!(
                        "log group {} reports retentionInDays {days}, which CloudWatch Logs does not allow",
                        lg.log_group_name
                    ),
                    source: None,
                });
                self.gap(&gap);
                (Value::Unknown(gap.clone()), Value::Unknown(gap))
            }
        }
    }

    /// TunnelState alarms only, one node per TunnelState metric they read.
    pub(super) fn add_alarms(&mut self, a: &str, r: &str, listing: &Listing<AlarmRecord>) -> Option<Arc<Gap>> {
        let p = partition_for(r);
        let (alarms, gap) = self.listing(Kind::Alarm, a, r, listing);
        for al in alarms {
            for metric in al.watched_metrics() {
                if metric.namespace.as_deref() != Some("AWS/VPN")
                    || metric.metric_name.as_deref() != Some("TunnelState")
                {
                    continue;
                }
                let arn = al
                    .alarm_arn
                    .clone()
                    .unwrap_or_else(|| format!("arn:{p}:cloudwatch:{r}:{a}:alarm:{}", al.alarm_name));
                let node = self.add(Kind::Alarm, &al.alarm_name, arn, a, r, Some(al.alarm_name.clone()));
                use schema::alarm::*;
                self.set(node, NAMESPACE, Value::opt_str(metric.namespace.as_deref()));
                self.set(node, METRIC_NAME, Value::opt_str(metric.metric_name.as_deref()));
                self.set(node, VPN_ID, Value::opt_str(metric.dimension("VpnId")));
                self.set(
                    node,
                    TUNNEL_IP_ADDRESS,
                    Value::opt_str(metric.dimension("TunnelIpAddress")),
                );
                self.set(node, ACTIONS_ENABLED, Value::opt_bool(al.actions_enabled));
                self.set(node, ALARM_ACTION_COUNT, Value::Int(al.alarm_actions.len() as i64));
                self.set(node, STATE_VALUE, Value::opt_str(al.state_value.as_deref()));
                self.alarms.push((node, metric));
            }
        }
        gap
    }

    pub(super) fn add_delivery_streams(
        &mut self,
        a: &str,
        r: &str,
        listing: &Listing<DeliveryStreamRecord>,
    ) -> Option<Arc<Gap>> {
        let p = partition_for(r);
        let (streams, gap) = self.listing(Kind::DeliveryStream, a, r, listing);
        for s in streams {
            let node = self.add(
                Kind::DeliveryStream,
                &s.name,
                format!("arn:{p}:firehose:{r}:{a}:deliverystream/{}", s.name),
                a,
                r,
                Some(s.name.clone()),
            );
            self.streams.insert((place(a, r), s.name.clone()), node);
        }
        gap
    }
}

fn resource_type_of(id: &str) -> Option<&'static str> {
    if id.starts_with("vpc-") {
        Some("VPC")
    } else if id.starts_with("subnet-") {
        Some("Subnet")
    } else if id.starts_with("eni-") {
        Some("NetworkInterface")
    } else if id.starts_with("tgw-attach-") {
        Some("TransitGatewayAttachment")
    } else if id.starts_with("tgw-") {
        Some("TransitGateway")
    } else {
        None
    }
}

/// The destination type; older responses omit it for CloudWatch Logs.
pub(super) fn destination_type(f: &FlowLogRecord) -> &str {
    match f.log_destination_type.as_deref() {
        Some(t) => t,
        None if f.log_group_name.is_some() => "cloud-watch-logs",
        None => match f.log_destination.as_deref() {
            Some(d) if d.starts_with("arn:aws:s3") => "s3",
            Some(d) if d.contains(":firehose:") => "kinesis-data-firehose",
            _ => "cloud-watch-logs",
        },
    }
}
