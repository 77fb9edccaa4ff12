//! What a source read, before it becomes a graph: plain records per account and region.
//!
//! A [`Listing`] is either every record of one kind in one place, or the [`Gap`] that stopped the
//! read. There is no third state: a failed read can never look like an empty one.

use crate::value::Gap;
use serde::{Deserialize, Deserializer, Serialize};
use std::sync::Arc;

/// One paginated listing: all records, or why they could not be read.
pub type Listing<T> = Result<Vec<T>, Arc<Gap>>;

#[derive(Debug, Default)]
pub struct Inventory {
    pub accounts: Vec<AccountInventory>,
}

impl Inventory {
    /// Keep only these regions, as a scan limited with `--regions` would have read them: the
    /// other regions' records and gaps are dropped and each account's region scope becomes the
    /// regions it was scanned in and that are asked for. Account-wide data (buckets) stays.
    pub fn limit_to_regions(&mut self, regions: &[String]) {
        for account in &mut self.accounts {
            account.region_data.retain(|r| regions.contains(&r.region));
            account
                .other_gaps
                .retain(|g| g.region.as_ref().is_none_or(|r| regions.contains(r)));
            let scope = match account.region_scope.take() {
                Some(scanned) => scanned.into_iter().filter(|r| regions.contains(r)).collect(),
                None => regions.to_vec(),
            };
            account.region_scope = Some(scope);
        }
    }
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
    /// ec2 DescribeInternetGateways: which VPCs can reach the internet (for result priority).
    pub internet_gateways: Listing<InternetGatewayRecord>,
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
            internet_gateways: Err(gap.clone()),
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
            internet_gateways: Ok(vec![]),
        }
    }
}

// The records below are the AWS CLI's JSON shape (`aws … --output json`): their serde names are
// the one mapping between AWS and netaudit. Evidence files are read and written through them, and
// the live collector fills them field by field from the SDK's types. Fields AWS may leave out are
// `Option`s; lists AWS may leave out are empty `Vec`s, because the SDK cannot tell an absent list
// from an empty one either. Methods give the meaning netaudit reads from the raw shape.

/// A `Key`/`Value` tag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagRecord {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// The `Name` tag's value.
fn name_tag(tags: &[TagRecord]) -> Option<&str> {
    tags.iter()
        .find(|t| t.key.as_deref() == Some("Name"))
        .and_then(|t| t.value.as_deref())
}

/// ec2 DescribeRegions `Regions[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RegionRecord {
    #[serde(rename = "RegionName")]
    pub name: String,
    pub opt_in_status: Option<String>,
}

/// ec2 DescribeVpcs `Vpcs[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcRecord {
    pub vpc_id: String,
    pub owner_id: Option<String>,
    pub is_default: Option<bool>,
    pub state: Option<String>,
    pub cidr_block: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<TagRecord>,
}

impl VpcRecord {
    pub fn name_tag(&self) -> Option<&str> {
        name_tag(&self.tags)
    }
}

/// ec2 DescribeSubnets `Subnets[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubnetRecord {
    pub subnet_id: String,
    pub vpc_id: Option<String>,
    pub cidr_block: Option<String>,
    pub availability_zone: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<TagRecord>,
}

impl SubnetRecord {
    pub fn name_tag(&self) -> Option<&str> {
        name_tag(&self.tags)
    }
}

/// ec2 DescribeInternetGateways `InternetGateways[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InternetGatewayRecord {
    pub internet_gateway_id: String,
    pub owner_id: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub attachments: Vec<InternetGatewayAttachmentRecord>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<TagRecord>,
}

impl InternetGatewayRecord {
    /// The VPCs the gateway is attached to (`available` is what AWS reports for an attached
    /// internet gateway; `attached` is accepted too). Detaching or detached gateways route nothing.
    pub fn attached_vpcs(&self) -> impl Iterator<Item = &str> {
        self.attachments
            .iter()
            .filter(|a| matches!(a.state.as_deref(), Some("available" | "attached") | None))
            .filter_map(|a| a.vpc_id.as_deref())
    }
}

/// One `Attachments[]` entry of an internet gateway.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InternetGatewayAttachmentRecord {
    pub state: Option<String>,
    pub vpc_id: Option<String>,
}

/// ec2 DescribeNetworkInterfaces `NetworkInterfaces[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInterfaceRecord {
    pub network_interface_id: String,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
}

/// ec2 DescribeFlowLogs `FlowLogs[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
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
    #[serde(default, with = "crate::timestamp::optional")]
    pub creation_time: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<TagRecord>,
}

impl FlowLogRecord {
    pub fn name_tag(&self) -> Option<&str> {
        name_tag(&self.tags)
    }
}

/// ec2 DescribeClientVpnEndpoints `ClientVpnEndpoints[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClientVpnEndpointRecord {
    #[serde(rename = "ClientVpnEndpointId")]
    pub endpoint_id: String,
    pub status: Option<ClientVpnStatusRecord>,
    /// `None` when the response has no ConnectionLogOptions at all.
    #[serde(rename = "ConnectionLogOptions")]
    pub connection_log: Option<ConnectionLogRecord>,
    pub vpc_id: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<TagRecord>,
}

impl ClientVpnEndpointRecord {
    pub fn name_tag(&self) -> Option<&str> {
        name_tag(&self.tags)
    }
    /// `Status.Code`.
    pub fn status_code(&self) -> Option<&str> {
        self.status.as_ref()?.code.as_deref()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClientVpnStatusRecord {
    pub code: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectionLogRecord {
    pub enabled: Option<bool>,
    pub cloudwatch_log_group: Option<String>,
    pub cloudwatch_log_stream: Option<String>,
}

/// ec2 DescribeVpnConnections `VpnConnections[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpnConnectionRecord {
    pub vpn_connection_id: String,
    pub state: Option<String>,
    #[serde(rename = "Type")]
    pub connection_type: Option<String>,
    pub customer_gateway_id: Option<String>,
    pub vpn_gateway_id: Option<String>,
    pub transit_gateway_id: Option<String>,
    pub options: Option<VpnOptionsRecord>,
    #[serde(default, deserialize_with = "list")]
    pub vgw_telemetry: Vec<TelemetryRecord>,
    #[serde(default, deserialize_with = "list")]
    pub tags: Vec<TagRecord>,
}

impl VpnConnectionRecord {
    pub fn name_tag(&self) -> Option<&str> {
        name_tag(&self.tags)
    }
    pub fn static_routes_only(&self) -> Option<bool> {
        self.options.as_ref()?.static_routes_only
    }
    /// `Options.TunnelOptions`; `None` when not reported. An empty list is what AWS sends while
    /// nothing is reported yet: not reported, not "no tunnels".
    pub fn tunnel_options(&self) -> Option<&[TunnelOptionsRecord]> {
        let options = &self.options.as_ref()?.tunnel_options;
        (!options.is_empty()).then_some(options.as_slice())
    }
    /// `VgwTelemetry`; `None` when not reported (absent or empty).
    pub fn telemetry(&self) -> Option<&[TelemetryRecord]> {
        (!self.vgw_telemetry.is_empty()).then_some(self.vgw_telemetry.as_slice())
    }
}

/// A VPN connection's `Options`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpnOptionsRecord {
    pub static_routes_only: Option<bool>,
    #[serde(default, deserialize_with = "list")]
    pub tunnel_options: Vec<TunnelOptionsRecord>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TunnelOptionsRecord {
    pub outside_ip_address: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub ike_versions: Vec<IkeVersionRecord>,
    pub log_options: Option<TunnelLogOptionsRecord>,
}

impl TunnelOptionsRecord {
    /// The IKE versions allowed; `None` when unset (AWS then permits ikev1 and ikev2).
    pub fn ike_versions(&self) -> Option<Vec<String>> {
        let versions: Vec<String> = self.ike_versions.iter().filter_map(|v| v.value.clone()).collect();
        (!versions.is_empty()).then_some(versions)
    }
    /// `LogOptions.CloudWatchLogOptions`; `None` when the tunnel has none (logging off).
    pub fn cloudwatch_log(&self) -> Option<&TunnelLogRecord> {
        self.log_options.as_ref()?.cloud_watch_log_options.as_ref()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IkeVersionRecord {
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TunnelLogOptionsRecord {
    pub cloud_watch_log_options: Option<TunnelLogRecord>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TunnelLogRecord {
    pub log_enabled: Option<bool>,
    pub log_group_arn: Option<String>,
    pub log_output_format: Option<String>,
    pub bgp_log_enabled: Option<bool>,
    pub bgp_log_group_arn: Option<String>,
}

/// One `VgwTelemetry[]` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TelemetryRecord {
    pub outside_ip_address: Option<String>,
    pub status: Option<String>,
    #[serde(default, with = "crate::timestamp::optional")]
    pub last_status_change: Option<String>,
    pub status_message: Option<String>,
}

/// logs DescribeLogGroups `logGroups[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogGroupRecord {
    pub log_group_name: String,
    /// The group's ARN with `:*` appended (it names the streams too).
    pub arn: Option<String>,
    /// The group's own ARN (newer responses).
    pub log_group_arn: Option<String>,
    /// `None`: never expire.
    pub retention_in_days: Option<i64>,
    pub kms_key_id: Option<String>,
    pub log_group_class: Option<String>,
    pub stored_bytes: Option<i64>,
    /// Milliseconds since the epoch.
    pub creation_time: Option<i64>,
}

impl LogGroupRecord {
    /// The group's own ARN: `logGroupArn`, else `arn` without its `:*`.
    pub fn group_arn(&self) -> Option<&str> {
        self.log_group_arn
            .as_deref()
            .or_else(|| self.arn.as_deref().map(|a| a.strip_suffix(":*").unwrap_or(a)))
    }
}

/// s3api ListBuckets `Buckets[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketRecord {
    pub name: String,
    #[serde(rename = "BucketRegion")]
    pub region: Option<String>,
    #[serde(default, with = "crate::timestamp::optional")]
    pub creation_date: Option<String>,
}

/// cloudwatch DescribeAlarms `MetricAlarms[]`: a plain alarm names its metric; a metric-math alarm
/// reads several through `Metrics[].MetricStat.Metric`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmRecord {
    pub alarm_name: String,
    pub alarm_arn: Option<String>,
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub dimensions: Vec<DimensionRecord>,
    pub actions_enabled: Option<bool>,
    /// The ARNs notified on ALARM.
    #[serde(default, deserialize_with = "list")]
    pub alarm_actions: Vec<String>,
    pub state_value: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub metrics: Vec<MetricQueryRecord>,
}

impl AlarmRecord {
    /// Every metric the alarm reads: its own, and each `MetricStat` of a metric-math alarm. An alarm
    /// that reads no plain metric (a Metrics Insights query) still gets one, with nothing set, so it
    /// is never dropped.
    pub fn watched_metrics(&self) -> Vec<MetricRecord> {
        let mut metrics = Vec::new();
        if self.namespace.is_some() || self.metric_name.is_some() {
            metrics.push(MetricRecord {
                namespace: self.namespace.clone(),
                metric_name: self.metric_name.clone(),
                dimensions: self.dimensions.clone(),
            });
        }
        metrics.extend(
            self.metrics
                .iter()
                .filter_map(|q| q.metric_stat.as_ref()?.metric.clone()),
        );
        if metrics.is_empty() {
            metrics.push(MetricRecord::default());
        }
        metrics
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DimensionRecord {
    pub name: Option<String>,
    pub value: Option<String>,
}

/// One `Metrics[]` entry of a metric-math alarm (an expression has no `MetricStat`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricQueryRecord {
    pub id: Option<String>,
    pub metric_stat: Option<MetricStatRecord>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricStatRecord {
    pub metric: Option<MetricRecord>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricRecord {
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    #[serde(default, deserialize_with = "list")]
    pub dimensions: Vec<DimensionRecord>,
}

impl MetricRecord {
    /// The value of the dimension named `name`.
    pub fn dimension(&self, name: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|d| d.name.as_deref() == Some(name))
            .and_then(|d| d.value.as_deref())
    }
}

/// firehose ListDeliveryStreams `DeliveryStreamNames[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeliveryStreamRecord {
    pub name: String,
}

/// A list AWS may leave out, or that a hand-made file gives as `null`: empty either way.
fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}
