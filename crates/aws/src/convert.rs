//! SDK types → inventory records (the same records offline evidence produces).

use aws_sdk_ec2::types as ec2;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use netaudit_model::inventory::*;

fn name_tag(tags: &[ec2::Tag]) -> Option<String> {
    tags.iter()
        .find(|t| t.key() == Some("Name"))
        .and_then(|t| t.value())
        .map(str::to_owned)
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

fn time(t: Option<&DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(Format::DateTime).ok())
}

pub(crate) fn region(r: &ec2::Region) -> Option<RegionRecord> {
    Some(RegionRecord {
        name: r.region_name()?.to_owned(),
        opt_in_status: owned(r.opt_in_status()),
    })
}

pub(crate) fn vpc(v: &ec2::Vpc) -> VpcRecord {
    VpcRecord {
        vpc_id: v.vpc_id().unwrap_or_default().to_owned(),
        owner_id: owned(v.owner_id()),
        is_default: v.is_default(),
        state: v.state().map(|s| s.as_str().to_owned()),
        cidr_block: owned(v.cidr_block()),
        name_tag: name_tag(v.tags()),
    }
}

pub(crate) fn subnet(s: &ec2::Subnet) -> SubnetRecord {
    SubnetRecord {
        subnet_id: s.subnet_id().unwrap_or_default().to_owned(),
        vpc_id: owned(s.vpc_id()),
        cidr_block: owned(s.cidr_block()),
        availability_zone: owned(s.availability_zone()),
        name_tag: name_tag(s.tags()),
    }
}

pub(crate) fn network_interface(n: &ec2::NetworkInterface) -> NetworkInterfaceRecord {
    NetworkInterfaceRecord {
        network_interface_id: n.network_interface_id().unwrap_or_default().to_owned(),
        vpc_id: owned(n.vpc_id()),
        subnet_id: owned(n.subnet_id()),
    }
}

pub(crate) fn flow_log(f: &ec2::FlowLog) -> FlowLogRecord {
    FlowLogRecord {
        flow_log_id: f.flow_log_id().unwrap_or_default().to_owned(),
        flow_log_status: owned(f.flow_log_status()),
        resource_id: owned(f.resource_id()),
        traffic_type: f.traffic_type().map(|t| t.as_str().to_owned()),
        deliver_logs_status: owned(f.deliver_logs_status()),
        deliver_logs_error_message: owned(f.deliver_logs_error_message()),
        deliver_logs_permission_arn: owned(f.deliver_logs_permission_arn()),
        log_destination_type: f.log_destination_type().map(|t| t.as_str().to_owned()),
        log_destination: owned(f.log_destination()),
        log_group_name: owned(f.log_group_name()),
        max_aggregation_interval: f.max_aggregation_interval().map(i64::from),
        log_format: owned(f.log_format()),
        creation_time: time(f.creation_time()),
        name_tag: name_tag(f.tags()),
    }
}

pub(crate) fn client_vpn_endpoint(e: &ec2::ClientVpnEndpoint) -> ClientVpnEndpointRecord {
    ClientVpnEndpointRecord {
        endpoint_id: e.client_vpn_endpoint_id().unwrap_or_default().to_owned(),
        status: e.status().and_then(|s| s.code()).map(|c| c.as_str().to_owned()),
        connection_log: e.connection_log_options().map(|o| ConnectionLogRecord {
            enabled: o.enabled(),
            cloudwatch_log_group: owned(o.cloudwatch_log_group()),
            cloudwatch_log_stream: owned(o.cloudwatch_log_stream()),
        }),
        vpc_id: owned(e.vpc_id()),
        description: owned(e.description()),
        name_tag: name_tag(e.tags()),
    }
}

pub(crate) fn vpn_connection(c: &ec2::VpnConnection) -> VpnConnectionRecord {
    let options = c.options();
    // An empty list is what AWS sends while nothing is reported yet: not reported, not "no tunnels".
    let tunnel_options = options.map(|o| o.tunnel_options()).filter(|t| !t.is_empty()).map(|t| {
        t.iter()
            .map(|o| TunnelOptionsRecord {
                outside_ip_address: owned(o.outside_ip_address()),
                ike_versions: Some(
                    o.ike_versions()
                        .iter()
                        .filter_map(|v| owned(v.value()))
                        .collect::<Vec<_>>(),
                )
                .filter(|v| !v.is_empty()),
                cloudwatch_log: o
                    .log_options()
                    .and_then(|l| l.cloud_watch_log_options())
                    .map(|l| TunnelLogRecord {
                        log_enabled: l.log_enabled(),
                        log_group_arn: owned(l.log_group_arn()),
                        log_output_format: owned(l.log_output_format()),
                        bgp_log_enabled: l.bgp_log_enabled(),
                        bgp_log_group_arn: owned(l.bgp_log_group_arn()),
                    }),
            })
            .collect()
    });
    let telemetry = Some(c.vgw_telemetry()).filter(|t| !t.is_empty()).map(|t| {
        t.iter()
            .map(|t| TelemetryRecord {
                outside_ip_address: owned(t.outside_ip_address()),
                status: t.status().map(|s| s.as_str().to_owned()),
                last_status_change: time(t.last_status_change()),
                status_message: owned(t.status_message()),
            })
            .collect()
    });
    VpnConnectionRecord {
        vpn_connection_id: c.vpn_connection_id().unwrap_or_default().to_owned(),
        state: c.state().map(|s| s.as_str().to_owned()),
        connection_type: c.r#type().map(|t| t.as_str().to_owned()),
        customer_gateway_id: owned(c.customer_gateway_id()),
        vpn_gateway_id: owned(c.vpn_gateway_id()),
        transit_gateway_id: owned(c.transit_gateway_id()),
        static_routes_only: options.and_then(|o| o.static_routes_only()),
        tunnel_options,
        telemetry,
        name_tag: name_tag(c.tags()),
    }
}

pub(crate) fn log_group(g: &aws_sdk_cloudwatchlogs::types::LogGroup) -> LogGroupRecord {
    LogGroupRecord {
        log_group_name: g.log_group_name().unwrap_or_default().to_owned(),
        arn: owned(g.log_group_arn().or(g.arn())),
        retention_in_days: g.retention_in_days().map(i64::from),
        kms_key_id: owned(g.kms_key_id()),
        log_group_class: g.log_group_class().map(|c| c.as_str().to_owned()),
        stored_bytes: g.stored_bytes(),
        creation_time: g.creation_time(),
    }
}

/// One record per metric the alarm reads (metric-math alarms read several).
pub(crate) fn alarms(a: &aws_sdk_cloudwatch::types::MetricAlarm) -> Vec<AlarmRecord> {
    let base = AlarmRecord {
        alarm_name: a.alarm_name().unwrap_or_default().to_owned(),
        alarm_arn: owned(a.alarm_arn()),
        actions_enabled: a.actions_enabled(),
        alarm_actions: a.alarm_actions().to_vec(),
        state_value: a.state_value().map(|s| s.as_str().to_owned()),
        ..Default::default()
    };
    let dims = |d: &[aws_sdk_cloudwatch::types::Dimension]| {
        d.iter()
            .filter_map(|d| Some((d.name()?.to_owned(), d.value()?.to_owned())))
            .collect::<Vec<_>>()
    };
    if a.metric_name().is_some() {
        return vec![AlarmRecord {
            namespace: owned(a.namespace()),
            metric_name: owned(a.metric_name()),
            dimensions: dims(a.dimensions()),
            ..base
        }];
    }
    let from_math: Vec<AlarmRecord> = a
        .metrics()
        .iter()
        .filter_map(|q| q.metric_stat()?.metric())
        .map(|m| AlarmRecord {
            namespace: owned(m.namespace()),
            metric_name: owned(m.metric_name()),
            dimensions: dims(m.dimensions()),
            ..base.clone()
        })
        .collect();
    if from_math.is_empty() {
        vec![base]
    } else {
        from_math
    }
}

pub(crate) fn bucket(b: &aws_sdk_s3::types::Bucket) -> Option<BucketRecord> {
    Some(BucketRecord {
        name: b.name()?.to_owned(),
        region: owned(b.bucket_region()),
        creation_date: time(b.creation_date()),
    })
}
