//! What a source read, before it becomes a graph: plain records per account and region.
//!
//! A [`Listing`] is either every record of one kind in one place, or the [`Gap`] that stopped the
//! read. There is no third state: a failed read can never look like an empty one.

use crate::value::Gap;
use std::sync::Arc;

/// One paginated listing: all records, or why they could not be read.
pub type Listing<T> = Result<Vec<T>, Arc<Gap>>;

#[derive(Debug, Default)]
pub struct Inventory {
    pub accounts: Vec<AccountInventory>,
}

#[derive(Debug)]
pub struct AccountInventory {
    pub account_id: String,
    /// The ARN from sts get-caller-identity, when read.
    pub caller_arn: Option<String>,
    /// ec2 DescribeRegions with opt-in status.
    pub regions: Listing<RegionRecord>,
    /// The regions the scan was deliberately limited to (`--regions`); `None`: every enabled region.
    /// Regions outside it are not part of the scan, rather than unread.
    pub region_scope: Option<Vec<String>>,
    pub region_data: Vec<RegionInventory>,
    /// s3 ListBuckets (account-wide).
    pub buckets: Listing<BucketRecord>,
    /// Problems that are not tied to one listing (an unexpected file, a region folder AWS does not
    /// list); they are reported as coverage gaps.
    pub other_gaps: Vec<Arc<Gap>>,
}

#[derive(Debug, Clone)]
pub struct RegionRecord {
    pub name: String,
    pub opt_in_status: Option<String>,
}

#[derive(Debug)]
pub struct RegionInventory {
    pub region: String,
    pub vpcs: Listing<VpcRecord>,
    pub subnets: Listing<SubnetRecord>,
    pub network_interfaces: Listing<NetworkInterfaceRecord>,
    pub flow_logs: Listing<FlowLogRecord>,
    pub client_vpn_endpoints: Listing<ClientVpnEndpointRecord>,
    pub vpn_connections: Listing<VpnConnectionRecord>,
    pub log_groups: Listing<LogGroupRecord>,
    pub alarms: Listing<AlarmRecord>,
    pub delivery_streams: Listing<DeliveryStreamRecord>,
}

impl RegionInventory {
    /// A region none of whose listings could be read, all for the same reason.
    pub fn unreadable(region: &str, gap: &Arc<Gap>) -> RegionInventory {
        RegionInventory {
            region: region.to_owned(),
            vpcs: Err(gap.clone()),
            subnets: Err(gap.clone()),
            network_interfaces: Err(gap.clone()),
            flow_logs: Err(gap.clone()),
            client_vpn_endpoints: Err(gap.clone()),
            vpn_connections: Err(gap.clone()),
            log_groups: Err(gap.clone()),
            alarms: Err(gap.clone()),
            delivery_streams: Err(gap.clone()),
        }
    }

    /// A region whose every listing was read and found empty.
    pub fn empty(region: &str) -> RegionInventory {
        RegionInventory {
            region: region.to_owned(),
            vpcs: Ok(vec![]),
            subnets: Ok(vec![]),
            network_interfaces: Ok(vec![]),
            flow_logs: Ok(vec![]),
            client_vpn_endpoints: Ok(vec![]),
            vpn_connections: Ok(vec![]),
            log_groups: Ok(vec![]),
            alarms: Ok(vec![]),
            delivery_streams: Ok(vec![]),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct VpcRecord {
    pub vpc_id: String,
    pub owner_id: Option<String>,
    pub is_default: Option<bool>,
    pub state: Option<String>,
    pub cidr_block: Option<String>,
    pub name_tag: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SubnetRecord {
    pub subnet_id: String,
    pub vpc_id: Option<String>,
    pub cidr_block: Option<String>,
    pub availability_zone: Option<String>,
    pub name_tag: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NetworkInterfaceRecord {
    pub network_interface_id: String,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct FlowLogRecord {
    pub flow_log_id: String,
    pub flow_log_status: Option<String>,
    pub resource_id: Option<String>,
    pub traffic_type: Option<String>,
    pub deliver_logs_status: Option<String>,
    pub deliver_logs_error_message: Option<String>,
    pub deliver_logs_permission_arn: Option<String>,
    pub log_destination_type: Option<String>,
    pub log_destination: Option<String>,
    pub log_group_name: Option<String>,
    pub max_aggregation_interval: Option<i64>,
    pub log_format: Option<String>,
    pub creation_time: Option<String>,
    pub name_tag: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ClientVpnEndpointRecord {
    pub endpoint_id: String,
    pub status: Option<String>,
    /// `None` when the response has no ConnectionLogOptions at all.
    pub connection_log: Option<ConnectionLogRecord>,
    pub vpc_id: Option<String>,
    pub description: Option<String>,
    pub name_tag: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ConnectionLogRecord {
    pub enabled: Option<bool>,
    pub cloudwatch_log_group: Option<String>,
    pub cloudwatch_log_stream: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct VpnConnectionRecord {
    pub vpn_connection_id: String,
    pub state: Option<String>,
    pub connection_type: Option<String>,
    pub customer_gateway_id: Option<String>,
    pub vpn_gateway_id: Option<String>,
    pub transit_gateway_id: Option<String>,
    pub static_routes_only: Option<bool>,
    /// `Options.TunnelOptions`; `None` when the response has none.
    pub tunnel_options: Option<Vec<TunnelOptionsRecord>>,
    /// `VgwTelemetry`; `None` when the response has none.
    pub telemetry: Option<Vec<TelemetryRecord>>,
    pub name_tag: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct TunnelOptionsRecord {
    pub outside_ip_address: Option<String>,
    /// `None` when unset (AWS then permits ikev1 and ikev2).
    pub ike_versions: Option<Vec<String>>,
    /// `None` when the tunnel has no LogOptions (logging off).
    pub cloudwatch_log: Option<TunnelLogRecord>,
}

#[derive(Debug, Clone, Default)]
pub struct TunnelLogRecord {
    pub log_enabled: Option<bool>,
    pub log_group_arn: Option<String>,
    pub log_output_format: Option<String>,
    pub bgp_log_enabled: Option<bool>,
    pub bgp_log_group_arn: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct TelemetryRecord {
    pub outside_ip_address: Option<String>,
    pub status: Option<String>,
    pub last_status_change: Option<String>,
    pub status_message: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct LogGroupRecord {
    pub log_group_name: String,
    pub arn: Option<String>,
    /// `None`: never expire.
    pub retention_in_days: Option<i64>,
    pub kms_key_id: Option<String>,
    pub log_group_class: Option<String>,
    pub stored_bytes: Option<i64>,
    pub creation_time: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct BucketRecord {
    pub name: String,
    pub region: Option<String>,
    pub creation_date: Option<String>,
}

/// A CloudWatch metric alarm, reduced to the metric it watches. Metric-math alarms are listed once
/// per metric they read.
#[derive(Debug, Clone, Default)]
pub struct AlarmRecord {
    pub alarm_name: String,
    pub alarm_arn: Option<String>,
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub dimensions: Vec<(String, String)>,
    pub actions_enabled: Option<bool>,
    /// The ARNs notified on ALARM.
    pub alarm_actions: Vec<String>,
    pub state_value: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DeliveryStreamRecord {
    pub name: String,
}
