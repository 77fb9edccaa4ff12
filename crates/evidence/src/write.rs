//! Writing an inventory back out in the evidence layout, so a live scan can be replayed and audited.
//!
//! Each listing becomes the JSON the AWS CLI would print for it (the fields netaudit reads), and a
//! failed listing becomes a `.error` file in the CLI's own words, so loading the directory gives the
//! same inventory. A listing whose evidence was simply missing is not written.

use crate::operations::Operation;
use crate::EvidenceError;
use netaudit_model::inventory::*;
use netaudit_model::{Gap, GapKind, Inventory};
use serde_json::{json, Value};
use std::path::Path;

fn tags(name: &Option<String>) -> Value {
    match name {
        Some(n) => json!([{ "Key": "Name", "Value": n }]),
        None => json!([]),
    }
}

/// Drop null members so the files read like the CLI's (which omits absent keys).
fn compact(mut v: Value) -> Value {
    if let Value::Object(map) = &mut v {
        map.retain(|_, x| !x.is_null());
        for x in map.values_mut() {
            *x = compact(std::mem::take(x));
        }
    } else if let Value::Array(items) = &mut v {
        for x in items.iter_mut() {
            *x = compact(std::mem::take(x));
        }
    }
    v
}

struct Writer<'a> {
    root: &'a Path,
    written: usize,
}

impl Writer<'_> {
    fn put(&mut self, rel: &str, bytes: &[u8]) -> Result<(), EvidenceError> {
        let path = self.root.join(rel);
        let unwritable = |e: std::io::Error| EvidenceError::Unreadable {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(unwritable)?;
        }
        std::fs::write(&path, bytes).map_err(unwritable)?;
        self.written += 1;
        Ok(())
    }

    fn listing<T>(
        &mut self,
        dir: &str,
        op: &Operation,
        listing: &Listing<T>,
        doc: impl Fn(&[T]) -> Value,
    ) -> Result<(), EvidenceError> {
        match listing {
            Ok(items) => {
                let text = serde_json::to_vec_pretty(&compact(doc(items))).map_err(|e| EvidenceError::Malformed {
                    path: format!("{dir}{}", op.json_file()),
                    message: e.to_string(),
                })?;
                self.put(&format!("{dir}{}", op.json_file()), &text)
            }
            Err(gap) if gap.kind == GapKind::Missing => Ok(()),
            Err(gap) => self.put(&format!("{dir}{}", op.error_file()), error_text(gap).as_bytes()),
        }
    }
}

/// The AWS CLI's wording for a failed call, which the loader reads back into the same gap.
fn error_text(gap: &Gap) -> String {
    let operation = gap.api.split_once(':').map_or(gap.api.as_str(), |(_, op)| op);
    format!(
        "\nAn error occurred ({}) when calling the {operation} operation: {}\n",
        gap.code, gap.message
    )
}

/// Write `inventory` under `dir` in the evidence layout; returns how many files were written.
pub fn write_dir(inventory: &Inventory, dir: &Path) -> Result<usize, EvidenceError> {
    let mut w = Writer { root: dir, written: 0 };
    for account in &inventory.accounts {
        let a = format!("{}/", account.account_id);
        if let Some(arn) = &account.caller_arn {
            let doc = json!({ "UserId": "", "Account": account.account_id, "Arn": arn });
            w.put(
                &format!("{a}{}", Operation::STS_GET_CALLER_IDENTITY.json_file()),
                doc.to_string().as_bytes(),
            )?;
        }
        w.listing(&a, &Operation::EC2_DESCRIBE_REGIONS, &account.regions, |rs| {
            json!({ "Regions": rs.iter().map(|r| json!({ "RegionName": r.name, "OptInStatus": r.opt_in_status })).collect::<Vec<_>>() })
        })?;
        if let Some(scope) = &account.region_scope {
            let doc = json!({ "Regions": scope });
            w.put(&format!("{a}{}", crate::REGION_SCOPE_FILE), doc.to_string().as_bytes())?;
        }
        w.listing(&a, &Operation::S3API_LIST_BUCKETS, &account.buckets, |bs| {
            json!({ "Buckets": bs.iter().map(|b| json!({ "Name": b.name, "CreationDate": b.creation_date, "BucketRegion": b.region })).collect::<Vec<_>>() })
        })?;
        for region in &account.region_data {
            write_region(&mut w, &format!("{a}{}/", region.region), region)?;
        }
    }
    Ok(w.written)
}

fn write_region(w: &mut Writer<'_>, d: &str, r: &RegionInventory) -> Result<(), EvidenceError> {
    w.listing(d, &Operation::EC2_DESCRIBE_VPCS, &r.vpcs, |vs| {
        json!({ "Vpcs": vs.iter().map(|v| json!({
            "VpcId": v.vpc_id, "OwnerId": v.owner_id, "IsDefault": v.is_default, "State": v.state,
            "CidrBlock": v.cidr_block, "Tags": tags(&v.name_tag),
        })).collect::<Vec<_>>() })
    })?;
    w.listing(d, &Operation::EC2_DESCRIBE_SUBNETS, &r.subnets, |ss| {
        json!({ "Subnets": ss.iter().map(|s| json!({
            "SubnetId": s.subnet_id, "VpcId": s.vpc_id, "CidrBlock": s.cidr_block,
            "AvailabilityZone": s.availability_zone, "Tags": tags(&s.name_tag),
        })).collect::<Vec<_>>() })
    })?;
    w.listing(
        d,
        &Operation::EC2_DESCRIBE_NETWORK_INTERFACES,
        &r.network_interfaces,
        |ns| {
            json!({ "NetworkInterfaces": ns.iter().map(|n| json!({
            "NetworkInterfaceId": n.network_interface_id, "VpcId": n.vpc_id, "SubnetId": n.subnet_id,
        })).collect::<Vec<_>>() })
        },
    )?;
    w.listing(d, &Operation::EC2_DESCRIBE_FLOW_LOGS, &r.flow_logs, |fs| {
        json!({ "FlowLogs": fs.iter().map(|f| json!({
            "FlowLogId": f.flow_log_id, "FlowLogStatus": f.flow_log_status, "ResourceId": f.resource_id,
            "TrafficType": f.traffic_type, "DeliverLogsStatus": f.deliver_logs_status,
            "DeliverLogsErrorMessage": f.deliver_logs_error_message,
            "DeliverLogsPermissionArn": f.deliver_logs_permission_arn,
            "LogDestinationType": f.log_destination_type, "LogDestination": f.log_destination,
            "LogGroupName": f.log_group_name, "MaxAggregationInterval": f.max_aggregation_interval,
            "LogFormat": f.log_format, "CreationTime": f.creation_time, "Tags": tags(&f.name_tag),
        })).collect::<Vec<_>>() })
    })?;
    w.listing(
        d,
        &Operation::EC2_DESCRIBE_CLIENT_VPN_ENDPOINTS,
        &r.client_vpn_endpoints,
        |es| {
            json!({ "ClientVpnEndpoints": es.iter().map(|e| json!({
            "ClientVpnEndpointId": e.endpoint_id,
            "Status": e.status.as_ref().map(|c| json!({ "Code": c })),
            "ConnectionLogOptions": e.connection_log.as_ref().map(|l| json!({
                "Enabled": l.enabled, "CloudwatchLogGroup": l.cloudwatch_log_group,
                "CloudwatchLogStream": l.cloudwatch_log_stream,
            })),
            "VpcId": e.vpc_id, "Description": e.description, "Tags": tags(&e.name_tag),
        })).collect::<Vec<_>>() })
        },
    )?;
    w.listing(d, &Operation::EC2_DESCRIBE_VPN_CONNECTIONS, &r.vpn_connections, |cs| {
        json!({ "VpnConnections": cs.iter().map(|c| json!({
            "VpnConnectionId": c.vpn_connection_id, "State": c.state, "Type": c.connection_type,
            "CustomerGatewayId": c.customer_gateway_id, "VpnGatewayId": c.vpn_gateway_id,
            "TransitGatewayId": c.transit_gateway_id,
            "Options": {
                "StaticRoutesOnly": c.static_routes_only,
                "TunnelOptions": c.tunnel_options.as_ref().map(|ts| ts.iter().map(|t| json!({
                    "OutsideIpAddress": t.outside_ip_address,
                    "IkeVersions": t.ike_versions.as_ref().map(|vs| vs.iter().map(|v| json!({ "Value": v })).collect::<Vec<_>>()),
                    "LogOptions": t.cloudwatch_log.as_ref().map(|l| json!({ "CloudWatchLogOptions": {
                        "LogEnabled": l.log_enabled, "LogGroupArn": l.log_group_arn,
                        "LogOutputFormat": l.log_output_format, "BgpLogEnabled": l.bgp_log_enabled,
                        "BgpLogGroupArn": l.bgp_log_group_arn,
                    }})),
                })).collect::<Vec<_>>()),
            },
            "VgwTelemetry": c.telemetry.as_ref().map(|ts| ts.iter().map(|t| json!({
                "OutsideIpAddress": t.outside_ip_address, "Status": t.status,
                "LastStatusChange": t.last_status_change, "StatusMessage": t.status_message,
            })).collect::<Vec<_>>()),
            "Tags": tags(&c.name_tag),
        })).collect::<Vec<_>>() })
    })?;
    w.listing(d, &Operation::LOGS_DESCRIBE_LOG_GROUPS, &r.log_groups, |gs| {
        json!({ "logGroups": gs.iter().map(|g| json!({
            "logGroupName": g.log_group_name, "logGroupArn": g.arn, "retentionInDays": g.retention_in_days,
            "kmsKeyId": g.kms_key_id, "logGroupClass": g.log_group_class, "storedBytes": g.stored_bytes,
            "creationTime": g.creation_time,
        })).collect::<Vec<_>>() })
    })?;
    w.listing(d, &Operation::CLOUDWATCH_DESCRIBE_ALARMS, &r.alarms, |als| {
        json!({ "MetricAlarms": als.iter().map(|a| json!({
            "AlarmName": a.alarm_name, "AlarmArn": a.alarm_arn, "Namespace": a.namespace,
            "MetricName": a.metric_name,
            "Dimensions": a.dimensions.iter().map(|(n, v)| json!({ "Name": n, "Value": v })).collect::<Vec<_>>(),
            "ActionsEnabled": a.actions_enabled, "AlarmActions": a.alarm_actions, "StateValue": a.state_value,
        })).collect::<Vec<_>>(), "CompositeAlarms": [] })
    })?;
    w.listing(d, &Operation::FIREHOSE_LIST_DELIVERY_STREAMS, &r.delivery_streams, |ss| {
        json!({ "DeliveryStreamNames": ss.iter().map(|s| s.name.clone()).collect::<Vec<_>>(), "HasMoreDeliveryStreams": false })
    })?;
    Ok(())
}
