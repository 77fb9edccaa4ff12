//! SDK types → inventory records, field by field. The records are the AWS CLI's JSON shape, so a
//! live scan gives exactly what loading the same response from an evidence file gives; the
//! round-trip tests hold the two to that.

use aws_sdk_cloudwatch::types as cloudwatch;
use aws_sdk_ec2::types as ec2;
use aws_smithy_types::DateTime;
use netaudit_model::inventory::*;
use netaudit_model::timestamp;

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

fn time(t: Option<&DateTime>) -> Option<String> {
    t.map(|t| timestamp::from_epoch(t.secs(), t.subsec_nanos()))
}

fn tags(tags: &[ec2::Tag]) -> Vec<TagRecord> {
    tags.iter()
        .map(|t| TagRecord {
            key: owned(t.key()),
            value: owned(t.value()),
        })
        .collect()
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
        tags: tags(v.tags()),
    }
}

pub(crate) fn internet_gateway(g: &ec2::InternetGateway) -> InternetGatewayRecord {
    InternetGatewayRecord {
        internet_gateway_id: g.internet_gateway_id().unwrap_or_default().to_owned(),
        owner_id: owned(g.owner_id()),
        attachments: g
            .attachments()
            .iter()
            .map(|a| InternetGatewayAttachmentRecord {
                state: a.state().map(|s| s.as_str().to_owned()),
                vpc_id: owned(a.vpc_id()),
            })
            .collect(),
        tags: tags(g.tags()),
    }
}

pub(crate) fn subnet(s: &ec2::Subnet) -> SubnetRecord {
    SubnetRecord {
        subnet_id: s.subnet_id().unwrap_or_default().to_owned(),
        vpc_id: owned(s.vpc_id()),
        cidr_block: owned(s.cidr_block()),
        availability_zone: owned(s.availability_zone()),
        tags: tags(s.tags()),
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
        tags: tags(f.tags()),
    }
}

pub(crate) fn client_vpn_endpoint(e: &ec2::ClientVpnEndpoint) -> ClientVpnEndpointRecord {
    ClientVpnEndpointRecord {
        endpoint_id: e.client_vpn_endpoint_id().unwrap_or_default().to_owned(),
        status: e.status().map(|s| ClientVpnStatusRecord {
            code: s.code().map(|c| c.as_str().to_owned()),
        }),
        connection_log: e.connection_log_options().map(|o| ConnectionLogRecord {
            enabled: o.enabled(),
            cloudwatch_log_group: owned(o.cloudwatch_log_group()),
            cloudwatch_log_stream: owned(o.cloudwatch_log_stream()),
        }),
        vpc_id: owned(e.vpc_id()),
        description: owned(e.description()),
        tags: tags(e.tags()),
    }
}

fn tunnel_options(o: &ec2::TunnelOption) -> TunnelOptionsRecord {
    TunnelOptionsRecord {
        outside_ip_address: owned(o.outside_ip_address()),
        ike_versions: o
            .ike_versions()
            .iter()
            .map(|v| IkeVersionRecord {
                value: owned(v.value()),
            })
            .collect(),
        log_options: o.log_options().map(|l| TunnelLogOptionsRecord {
            cloud_watch_log_options: l.cloud_watch_log_options().map(|c| TunnelLogRecord {
                log_enabled: c.log_enabled(),
                log_group_arn: owned(c.log_group_arn()),
                log_output_format: owned(c.log_output_format()),
                bgp_log_enabled: c.bgp_log_enabled(),
                bgp_log_group_arn: owned(c.bgp_log_group_arn()),
            }),
        }),
    }
}

pub(crate) fn vpn_connection(c: &ec2::VpnConnection) -> VpnConnectionRecord {
    VpnConnectionRecord {
        vpn_connection_id: c.vpn_connection_id().unwrap_or_default().to_owned(),
        state: c.state().map(|s| s.as_str().to_owned()),
        connection_type: c.r#type().map(|t| t.as_str().to_owned()),
        customer_gateway_id: owned(c.customer_gateway_id()),
        vpn_gateway_id: owned(c.vpn_gateway_id()),
        transit_gateway_id: owned(c.transit_gateway_id()),
        options: c.options().map(|o| VpnOptionsRecord {
            static_routes_only: o.static_routes_only(),
            tunnel_options: o.tunnel_options().iter().map(tunnel_options).collect(),
        }),
        vgw_telemetry: c
            .vgw_telemetry()
            .iter()
            .map(|t| TelemetryRecord {
                outside_ip_address: owned(t.outside_ip_address()),
                status: t.status().map(|s| s.as_str().to_owned()),
                last_status_change: time(t.last_status_change()),
                status_message: owned(t.status_message()),
            })
            .collect(),
        tags: tags(c.tags()),
    }
}

pub(crate) fn log_group(g: &aws_sdk_cloudwatchlogs::types::LogGroup) -> LogGroupRecord {
    LogGroupRecord {
        log_group_name: g.log_group_name().unwrap_or_default().to_owned(),
        arn: owned(g.arn()),
        log_group_arn: owned(g.log_group_arn()),
        retention_in_days: g.retention_in_days().map(i64::from),
        kms_key_id: owned(g.kms_key_id()),
        log_group_class: g.log_group_class().map(|c| c.as_str().to_owned()),
        stored_bytes: g.stored_bytes(),
        creation_time: g.creation_time(),
    }
}

fn dimensions(d: &[cloudwatch::Dimension]) -> Vec<DimensionRecord> {
    d.iter()
        .map(|d| DimensionRecord {
            name: owned(d.name()),
            value: owned(d.value()),
        })
        .collect()
}

pub(crate) fn alarm(a: &cloudwatch::MetricAlarm) -> AlarmRecord {
    AlarmRecord {
        alarm_name: a.alarm_name().unwrap_or_default().to_owned(),
        alarm_arn: owned(a.alarm_arn()),
        namespace: owned(a.namespace()),
        metric_name: owned(a.metric_name()),
        dimensions: dimensions(a.dimensions()),
        actions_enabled: a.actions_enabled(),
        alarm_actions: a.alarm_actions().to_vec(),
        state_value: a.state_value().map(|s| s.as_str().to_owned()),
        metrics: a
            .metrics()
            .iter()
            .map(|q| MetricQueryRecord {
                id: owned(q.id()),
                metric_stat: q.metric_stat().map(|s| MetricStatRecord {
                    metric: s.metric().map(|m| MetricRecord {
                        namespace: owned(m.namespace()),
                        metric_name: owned(m.metric_name()),
                        dimensions: dimensions(m.dimensions()),
                    }),
                }),
            })
            .collect(),
    }
}

pub(crate) fn bucket(b: &aws_sdk_s3::types::Bucket) -> Option<BucketRecord> {
    Some(BucketRecord {
        name: b.name()?.to_owned(),
        region: owned(b.bucket_region()),
        creation_date: time(b.creation_date()),
    })
}

/// ListDeliveryStreams names only the streams.
pub(crate) fn delivery_stream(name: &str) -> DeliveryStreamRecord {
    DeliveryStreamRecord { name: name.to_owned() }
}
