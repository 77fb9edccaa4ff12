//! AWS CLI JSON output → inventory records, one document type per evidence file.
//!
//! Fields AWS may leave out are `Option`s; an id field that is missing makes the whole file malformed,
//! because a record without its id cannot be checked. Fields netaudit does not use are ignored, so new
//! AWS fields never break a load.

use netaudit_model::inventory::{
    AlarmRecord, BucketRecord, ClientVpnEndpointRecord, ConnectionLogRecord, DeliveryStreamRecord, FlowLogRecord,
    LogGroupRecord, NetworkInterfaceRecord, RegionRecord, SubnetRecord, TelemetryRecord, TunnelLogRecord,
    TunnelOptionsRecord, VpcRecord, VpnConnectionRecord,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::borrow::Cow;

/// Why a file's bytes are not the expected document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParseError {
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    Malformed(String),
}

impl ParseError {
    fn missing_key(key: &str) -> ParseError {
        ParseError::Malformed(format!("no top-level `{key}` list"))
    }
}

/// A page that still carries a pagination token is not the whole listing (`--max-items` or
/// `--no-paginate` output): taking it as complete would hide everything on later pages.
fn complete_listing(token: Option<serde_json::Value>) -> Result<(), ParseError> {
    match token {
        None | Some(serde_json::Value::Null) => Ok(()),
        Some(_) => Err(ParseError::Malformed(
            "truncated: the listing carries a pagination token (NextToken), so later pages are missing; \
             collect without --max-items or --no-paginate"
                .into(),
        )),
    }
}

/// One evidence document: its top-level key and how it becomes records.
pub(crate) trait Doc: DeserializeOwned {
    type Record;
    fn records(self) -> Result<Vec<Self::Record>, ParseError>;
}

/// Parse a whole evidence file.
pub(crate) fn parse<D: Doc>(bytes: &[u8]) -> Result<Vec<D::Record>, ParseError> {
    let text = decode(bytes)?;
    let doc: D = serde_json::from_slice(&text).map_err(|e| {
        let full = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        let message = full.strip_suffix(&position).unwrap_or(&full).to_owned();
        ParseError::Json {
            line: e.line(),
            column: e.column(),
            message,
        }
    })?;
    doc.records()
}

/// Strip a byte-order mark; re-encode UTF-16 (what Windows PowerShell 5 writes for `>`) as UTF-8.
fn decode(bytes: &[u8]) -> Result<Cow<'_, [u8]>, ParseError> {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        if !rest.len().is_multiple_of(2) {
            return Err(ParseError::Malformed("UTF-16 text with an odd number of bytes".into()));
        }
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| from([c[0], c[1]])).collect();
        String::from_utf16(&units)
            .map(|s| Cow::Owned(s.into_bytes()))
            .map_err(|_| ParseError::Malformed("invalid UTF-16 text".into()))
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => Ok(Cow::Borrowed(rest)),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => Ok(Cow::Borrowed(bytes)),
    }
}

/// A document whose records sit in one top-level list, one record per item.
macro_rules! list_doc {
    ($doc:ident, $key:literal, $expecting:literal, $raw:ty => $record:ty) => {
        #[derive(Deserialize)]
        #[serde(expecting = $expecting)]
        pub(crate) struct $doc {
            #[serde(rename = $key)]
            items: Option<Vec<$raw>>,
            #[serde(
                rename = "NextToken",
                alias = "nextToken",
                alias = "ContinuationToken",
                default
            )]
            next_token: Option<serde_json::Value>,
        }

        impl Doc for $doc {
            type Record = $record;
            fn records(self) -> Result<Vec<$record>, ParseError> {
                let items = self.items.ok_or_else(|| ParseError::missing_key($key))?;
                complete_listing(self.next_token)?;
                Ok(items.into_iter().map(<$record>::from).collect())
            }
        }
    };
}

list_doc!(VpcsDoc, "Vpcs", "an object with a `Vpcs` list", RawVpc => VpcRecord);
list_doc!(SubnetsDoc, "Subnets", "an object with a `Subnets` list", RawSubnet => SubnetRecord);
list_doc!(
    NetworkInterfacesDoc,
    "NetworkInterfaces",
    "an object with a `NetworkInterfaces` list",
    RawNetworkInterface => NetworkInterfaceRecord
);
list_doc!(FlowLogsDoc, "FlowLogs", "an object with a `FlowLogs` list", RawFlowLog => FlowLogRecord);
list_doc!(
    ClientVpnEndpointsDoc,
    "ClientVpnEndpoints",
    "an object with a `ClientVpnEndpoints` list",
    RawClientVpnEndpoint => ClientVpnEndpointRecord
);
list_doc!(
    VpnConnectionsDoc,
    "VpnConnections",
    "an object with a `VpnConnections` list",
    RawVpnConnection => VpnConnectionRecord
);
list_doc!(LogGroupsDoc, "logGroups", "an object with a `logGroups` list", RawLogGroup => LogGroupRecord);
list_doc!(RegionsDoc, "Regions", "an object with a `Regions` list", RawRegion => RegionRecord);
list_doc!(BucketsDoc, "Buckets", "an object with a `Buckets` list", RawBucket => BucketRecord);

#[derive(Deserialize)]
#[serde(expecting = "an object with a `MetricAlarms` list")]
pub(crate) struct AlarmsDoc {
    #[serde(rename = "MetricAlarms")]
    items: Option<Vec<RawAlarm>>,
    #[serde(rename = "NextToken", default)]
    next_token: Option<serde_json::Value>,
}

impl Doc for AlarmsDoc {
    type Record = AlarmRecord;
    fn records(self) -> Result<Vec<AlarmRecord>, ParseError> {
        let items = self.items.ok_or_else(|| ParseError::missing_key("MetricAlarms"))?;
        complete_listing(self.next_token)?;
        Ok(items.into_iter().flat_map(RawAlarm::into_records).collect())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", expecting = "an object with a `DeliveryStreamNames` list")]
pub(crate) struct DeliveryStreamsDoc {
    delivery_stream_names: Option<Vec<String>>,
    has_more_delivery_streams: Option<bool>,
}

impl Doc for DeliveryStreamsDoc {
    type Record = DeliveryStreamRecord;
    fn records(self) -> Result<Vec<DeliveryStreamRecord>, ParseError> {
        let names = self
            .delivery_stream_names
            .ok_or_else(|| ParseError::missing_key("DeliveryStreamNames"))?;
        // The CLI does not paginate this call: a first page alone must not pass for the whole list.
        match self.has_more_delivery_streams {
            Some(false) => Ok(names.into_iter().map(|name| DeliveryStreamRecord { name }).collect()),
            Some(true) => Err(ParseError::Malformed(format!(
                "truncated: HasMoreDeliveryStreams is true after {} names (collect every page with \
                 --exclusive-start-delivery-stream-name)",
                names.len()
            ))),
            None => Err(ParseError::Malformed(
                "no `HasMoreDeliveryStreams`: cannot tell whether the listing is complete".into(),
            )),
        }
    }
}

/// `sts get-caller-identity`: a single object, read as a one-record "listing".
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", expecting = "an object with an `Account` key")]
pub(crate) struct CallerIdentityDoc {
    account: Option<String>,
    arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallerIdentity {
    pub account: String,
    pub arn: Option<String>,
}

impl Doc for CallerIdentityDoc {
    type Record = CallerIdentity;
    fn records(self) -> Result<Vec<CallerIdentity>, ParseError> {
        let account = self
            .account
            .ok_or_else(|| ParseError::Malformed("no top-level `Account` key".into()))?;
        Ok(vec![CallerIdentity { account, arn: self.arn }])
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawTag {
    key: String,
    value: Option<String>,
}

fn name_tag(tags: Option<Vec<RawTag>>) -> Option<String> {
    tags?.into_iter().find(|t| t.key == "Name").and_then(|t| t.value)
}

/// A timestamp as the CLI prints it: an ISO string (v2, and v1 for XML services) or epoch number
/// (`cli_timestamp_format` set otherwise); kept as text.
#[derive(Deserialize)]
#[serde(untagged, expecting = "a timestamp string or number")]
enum RawTime {
    Text(String),
    Number(serde_json::Number),
}

impl RawTime {
    fn text(t: Option<RawTime>) -> Option<String> {
        t.map(|t| match t {
            RawTime::Text(s) => s,
            RawTime::Number(n) => n.to_string(),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawVpc {
    vpc_id: String,
    owner_id: Option<String>,
    is_default: Option<bool>,
    state: Option<String>,
    cidr_block: Option<String>,
    tags: Option<Vec<RawTag>>,
}

impl From<RawVpc> for VpcRecord {
    fn from(r: RawVpc) -> Self {
        VpcRecord {
            vpc_id: r.vpc_id,
            owner_id: r.owner_id,
            is_default: r.is_default,
            state: r.state,
            cidr_block: r.cidr_block,
            name_tag: name_tag(r.tags),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawSubnet {
    subnet_id: String,
    vpc_id: Option<String>,
    cidr_block: Option<String>,
    availability_zone: Option<String>,
    tags: Option<Vec<RawTag>>,
}

impl From<RawSubnet> for SubnetRecord {
    fn from(r: RawSubnet) -> Self {
        SubnetRecord {
            subnet_id: r.subnet_id,
            vpc_id: r.vpc_id,
            cidr_block: r.cidr_block,
            availability_zone: r.availability_zone,
            name_tag: name_tag(r.tags),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawNetworkInterface {
    network_interface_id: String,
    vpc_id: Option<String>,
    subnet_id: Option<String>,
}

impl From<RawNetworkInterface> for NetworkInterfaceRecord {
    fn from(r: RawNetworkInterface) -> Self {
        NetworkInterfaceRecord {
            network_interface_id: r.network_interface_id,
            vpc_id: r.vpc_id,
            subnet_id: r.subnet_id,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawFlowLog {
    flow_log_id: String,
    flow_log_status: Option<String>,
    resource_id: Option<String>,
    traffic_type: Option<String>,
    deliver_logs_status: Option<String>,
    deliver_logs_error_message: Option<String>,
    deliver_logs_permission_arn: Option<String>,
    log_destination_type: Option<String>,
    log_destination: Option<String>,
    log_group_name: Option<String>,
    max_aggregation_interval: Option<i64>,
    log_format: Option<String>,
    creation_time: Option<RawTime>,
    tags: Option<Vec<RawTag>>,
}

impl From<RawFlowLog> for FlowLogRecord {
    fn from(r: RawFlowLog) -> Self {
        FlowLogRecord {
            flow_log_id: r.flow_log_id,
            flow_log_status: r.flow_log_status,
            resource_id: r.resource_id,
            traffic_type: r.traffic_type,
            deliver_logs_status: r.deliver_logs_status,
            deliver_logs_error_message: r.deliver_logs_error_message,
            deliver_logs_permission_arn: r.deliver_logs_permission_arn,
            log_destination_type: r.log_destination_type,
            log_destination: r.log_destination,
            log_group_name: r.log_group_name,
            max_aggregation_interval: r.max_aggregation_interval,
            log_format: r.log_format,
            creation_time: RawTime::text(r.creation_time),
            name_tag: name_tag(r.tags),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawCode {
    code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawConnectionLog {
    enabled: Option<bool>,
    cloudwatch_log_group: Option<String>,
    cloudwatch_log_stream: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawClientVpnEndpoint {
    client_vpn_endpoint_id: String,
    status: Option<RawCode>,
    connection_log_options: Option<RawConnectionLog>,
    vpc_id: Option<String>,
    description: Option<String>,
    tags: Option<Vec<RawTag>>,
}

impl From<RawClientVpnEndpoint> for ClientVpnEndpointRecord {
    fn from(r: RawClientVpnEndpoint) -> Self {
        ClientVpnEndpointRecord {
            endpoint_id: r.client_vpn_endpoint_id,
            status: r.status.and_then(|s| s.code),
            connection_log: r.connection_log_options.map(|c| ConnectionLogRecord {
                enabled: c.enabled,
                cloudwatch_log_group: c.cloudwatch_log_group,
                cloudwatch_log_stream: c.cloudwatch_log_stream,
            }),
            vpc_id: r.vpc_id,
            description: r.description,
            name_tag: name_tag(r.tags),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawIkeVersion {
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawCloudWatchLogOptions {
    log_enabled: Option<bool>,
    log_group_arn: Option<String>,
    log_output_format: Option<String>,
    bgp_log_enabled: Option<bool>,
    bgp_log_group_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawLogOptions {
    cloud_watch_log_options: Option<RawCloudWatchLogOptions>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawTunnelOptions {
    outside_ip_address: Option<String>,
    ike_versions: Option<Vec<RawIkeVersion>>,
    log_options: Option<RawLogOptions>,
}

impl From<RawTunnelOptions> for TunnelOptionsRecord {
    fn from(r: RawTunnelOptions) -> Self {
        // An empty list means the same as none: AWS then permits ikev1 and ikev2.
        let ike_versions = r
            .ike_versions
            .map(|v| v.into_iter().filter_map(|v| v.value).collect::<Vec<_>>())
            .filter(|v| !v.is_empty());
        TunnelOptionsRecord {
            outside_ip_address: r.outside_ip_address,
            ike_versions,
            cloudwatch_log: r
                .log_options
                .and_then(|l| l.cloud_watch_log_options)
                .map(|c| TunnelLogRecord {
                    log_enabled: c.log_enabled,
                    log_group_arn: c.log_group_arn,
                    log_output_format: c.log_output_format,
                    bgp_log_enabled: c.bgp_log_enabled,
                    bgp_log_group_arn: c.bgp_log_group_arn,
                }),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawVpnOptions {
    static_routes_only: Option<bool>,
    tunnel_options: Option<Vec<RawTunnelOptions>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawTelemetry {
    outside_ip_address: Option<String>,
    status: Option<String>,
    last_status_change: Option<RawTime>,
    status_message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawVpnConnection {
    vpn_connection_id: String,
    state: Option<String>,
    #[serde(rename = "Type")]
    connection_type: Option<String>,
    customer_gateway_id: Option<String>,
    vpn_gateway_id: Option<String>,
    transit_gateway_id: Option<String>,
    options: Option<RawVpnOptions>,
    vgw_telemetry: Option<Vec<RawTelemetry>>,
    tags: Option<Vec<RawTag>>,
}

impl From<RawVpnConnection> for VpnConnectionRecord {
    fn from(r: RawVpnConnection) -> Self {
        let (static_routes_only, tunnel_options) = match r.options {
            Some(o) => (o.static_routes_only, o.tunnel_options),
            None => (None, None),
        };
        VpnConnectionRecord {
            vpn_connection_id: r.vpn_connection_id,
            state: r.state,
            connection_type: r.connection_type,
            customer_gateway_id: r.customer_gateway_id,
            vpn_gateway_id: r.vpn_gateway_id,
            transit_gateway_id: r.transit_gateway_id,
            static_routes_only,
            tunnel_options: tunnel_options.map(|t| t.into_iter().map(TunnelOptionsRecord::from).collect()),
            telemetry: r.vgw_telemetry.map(|t| {
                t.into_iter()
                    .map(|t| TelemetryRecord {
                        outside_ip_address: t.outside_ip_address,
                        status: t.status,
                        last_status_change: RawTime::text(t.last_status_change),
                        status_message: t.status_message,
                    })
                    .collect()
            }),
            name_tag: name_tag(r.tags),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogGroup {
    log_group_name: String,
    arn: Option<String>,
    log_group_arn: Option<String>,
    retention_in_days: Option<i64>,
    kms_key_id: Option<String>,
    stored_bytes: Option<i64>,
    creation_time: Option<i64>,
    log_group_class: Option<String>,
}

impl From<RawLogGroup> for LogGroupRecord {
    fn from(r: RawLogGroup) -> Self {
        // `arn` ends in `:*` (it names the streams too); `logGroupArn` is the group's own ARN.
        let arn = r
            .log_group_arn
            .or_else(|| r.arn.map(|a| a.strip_suffix(":*").map_or(a.clone(), str::to_owned)));
        LogGroupRecord {
            log_group_name: r.log_group_name,
            arn,
            retention_in_days: r.retention_in_days,
            kms_key_id: r.kms_key_id,
            log_group_class: r.log_group_class,
            stored_bytes: r.stored_bytes,
            creation_time: r.creation_time,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawDimension {
    name: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawMetric {
    namespace: Option<String>,
    metric_name: Option<String>,
    dimensions: Option<Vec<RawDimension>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawMetricStat {
    metric: Option<RawMetric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawMetricQuery {
    metric_stat: Option<RawMetricStat>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawAlarm {
    alarm_name: String,
    alarm_arn: Option<String>,
    namespace: Option<String>,
    metric_name: Option<String>,
    dimensions: Option<Vec<RawDimension>>,
    actions_enabled: Option<bool>,
    alarm_actions: Option<Vec<String>>,
    state_value: Option<String>,
    metrics: Option<Vec<RawMetricQuery>>,
}

impl RawAlarm {
    /// One record per metric the alarm reads: its own metric, or each `MetricStat` of a metric-math
    /// alarm. An alarm that reads no plain metric (a Metrics Insights query) still gets one record, with
    /// no metric, so it is never dropped.
    fn into_records(self) -> Vec<AlarmRecord> {
        let mut metrics = Vec::new();
        if self.namespace.is_some() || self.metric_name.is_some() {
            metrics.push(RawMetric {
                namespace: self.namespace,
                metric_name: self.metric_name,
                dimensions: self.dimensions,
            });
        }
        metrics.extend(self.metrics.into_iter().flatten().filter_map(|m| m.metric_stat?.metric));
        if metrics.is_empty() {
            metrics.push(RawMetric {
                namespace: None,
                metric_name: None,
                dimensions: None,
            });
        }
        let actions = self.alarm_actions.clone().unwrap_or_default();
        metrics
            .into_iter()
            .map(|m| AlarmRecord {
                alarm_name: self.alarm_name.clone(),
                alarm_arn: self.alarm_arn.clone(),
                namespace: m.namespace,
                metric_name: m.metric_name,
                dimensions: m
                    .dimensions
                    .unwrap_or_default()
                    .into_iter()
                    .map(|d| (d.name, d.value))
                    .collect(),
                actions_enabled: self.actions_enabled,
                alarm_actions: actions.clone(),
                state_value: self.state_value.clone(),
            })
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawRegion {
    region_name: String,
    opt_in_status: Option<String>,
}

impl From<RawRegion> for RegionRecord {
    fn from(r: RawRegion) -> Self {
        RegionRecord {
            name: r.region_name,
            opt_in_status: r.opt_in_status,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawBucket {
    name: String,
    creation_date: Option<RawTime>,
    bucket_region: Option<String>,
}

impl From<RawBucket> for BucketRecord {
    fn from(r: RawBucket) -> Self {
        BucketRecord {
            name: r.name,
            region: r.bucket_region,
            creation_date: RawTime::text(r.creation_date),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_keep_line_and_column_apart_from_the_message() {
        let err = parse::<VpcsDoc>(b"{\n  \"Vpcs\": [\n    {\"VpcId\": \"vpc-1\"}").err();
        assert_eq!(
            err,
            Some(ParseError::Json {
                line: 3,
                column: 22,
                message: "EOF while parsing a list".into()
            })
        );
    }

    #[test]
    fn a_record_without_its_id_is_malformed() {
        let err = parse::<VpcsDoc>(br#"{"Vpcs": [{"State": "available"}]}"#).err();
        assert!(
            matches!(&err, Some(ParseError::Json { message, .. }) if message == "missing field `VpcId`"),
            "{err:?}"
        );
    }

    #[test]
    fn a_top_level_array_says_what_was_expected() {
        let err = parse::<VpcsDoc>(b"[]").err();
        assert!(
            matches!(&err, Some(ParseError::Json { message, .. }) if message.contains("an object with a `Vpcs` list")),
            "{err:?}"
        );
    }

    #[test]
    fn byte_order_marks_and_utf16_are_read() {
        let doc = r#"{"Vpcs": [{"VpcId": "vpc-1"}]}"#;
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(doc.as_bytes());
        let mut le = vec![0xFF, 0xFE];
        le.extend(doc.encode_utf16().flat_map(u16::to_le_bytes));
        let mut be = vec![0xFE, 0xFF];
        be.extend(doc.encode_utf16().flat_map(u16::to_be_bytes));
        for bytes in [bom, le, be] {
            let vpcs = parse::<VpcsDoc>(&bytes).map(|v| v.into_iter().map(|v| v.vpc_id).collect::<Vec<_>>());
            assert_eq!(vpcs, Ok(vec!["vpc-1".to_owned()]));
        }
    }

    #[test]
    fn timestamps_may_be_numbers() {
        let buckets = parse::<BucketsDoc>(br#"{"Buckets": [{"Name": "b", "CreationDate": 1718000000}]}"#);
        assert_eq!(
            buckets.map(|b| b[0].creation_date.clone()),
            Ok(Some("1718000000".to_owned()))
        );
    }
}
