//! The one description of the graph: asset kinds, their fields and their edges.
//!
//! Each kind is declared once with [`asset_kind!`]; the macro yields the field and edge tables the
//! query language validates against and the index constants the graph builder writes through, so a
//! name and its position can never drift apart.

use serde::Serialize;

/// The scalar type of a field, as the query language sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ScalarType {
    String,
    Int,
    Boolean,
    /// A list of strings (e.g. a tunnel's IKE versions).
    StringList,
}

#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    pub name: &'static str,
    pub ty: ScalarType,
    pub doc: &'static str,
}

#[derive(Debug, Clone, Copy)]
pub struct EdgeDef {
    pub name: &'static str,
    pub target: Kind,
    /// `true` for a list of related assets, `false` for at most one.
    pub many: bool,
    pub doc: &'static str,
}

/// Index of a kind-specific field in [`crate::Asset::fields`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldIx(pub usize);

/// Index of an edge in [`crate::Asset::edges`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EdgeIx(pub usize);

/// Fields every asset has; the built-in `AssetFragment` selects them.
pub const COMMON_FIELDS: &[FieldDef] = &[
    FieldDef {
        name: "id",
        ty: ScalarType::String,
        doc: "The resource id (vpc-…, fl-…, the log group name, …).",
    },
    FieldDef {
        name: "arn",
        ty: ScalarType::String,
        doc: "The resource ARN (tunnels: the connection ARN with /tunnel/<outside IP>).",
    },
    FieldDef {
        name: "accountId",
        ty: ScalarType::String,
        doc: "The account whose view this asset was read from.",
    },
    FieldDef {
        name: "region",
        ty: ScalarType::String,
        doc: "The region (`global` for account-wide assets).",
    },
    FieldDef {
        name: "name",
        ty: ScalarType::String,
        doc: "The Name tag, or the resource's own name.",
    },
];

macro_rules! asset_kind {
    (
        $module:ident, $variant:ident, $type_name:literal, $root:literal, $doc:literal,
        fields { $( $fconst:ident $fname:literal : $fty:ident = $fdoc:literal ),* $(,)? }
        edges { $( $econst:ident $ename:literal -> $etarget:ident $emany:ident = $edoc:literal ),* $(,)? }
    ) => {
        #[doc = $doc]
        pub mod $module {
            use super::*;

            #[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
            enum FieldOrder { $( $fconst ),* }
            #[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
            enum EdgeOrder { $( $econst ),* }

            $( pub const $fconst: FieldIx = FieldIx(FieldOrder::$fconst as usize); )*
            $( pub const $econst: EdgeIx = EdgeIx(EdgeOrder::$econst as usize); )*

            pub const DEF: KindDef = KindDef {
                kind: Kind::$variant,
                type_name: $type_name,
                root_field: $root,
                doc: $doc,
                fields: &[ $( FieldDef { name: $fname, ty: ScalarType::$fty, doc: $fdoc } ),* ],
                edges: &[ $( EdgeDef { name: $ename, target: Kind::$etarget, many: edge_many!($emany), doc: $edoc } ),* ],
            };
        }
    };
}

macro_rules! edge_many {
    (many) => {
        true
    };
    (one) => {
        false
    };
}

/// Everything the query language needs to know about one asset kind.
#[derive(Debug)]
pub struct KindDef {
    pub kind: Kind,
    /// The GraphQL type name (`Vpc`).
    pub type_name: &'static str,
    /// The root query field listing every asset of this kind (`vpcs`).
    pub root_field: &'static str,
    pub doc: &'static str,
    pub fields: &'static [FieldDef],
    pub edges: &'static [EdgeDef],
}

impl KindDef {
    pub fn field(&self, name: &str) -> Option<FieldIx> {
        self.fields.iter().position(|f| f.name == name).map(FieldIx)
    }
    pub fn edge(&self, name: &str) -> Option<EdgeIx> {
        self.edges.iter().position(|e| e.name == name).map(EdgeIx)
    }
}

/// The asset kinds of the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Kind {
    Account,
    Region,
    Vpc,
    Subnet,
    FlowLog,
    ClientVpnEndpoint,
    VpnConnection,
    VpnTunnel,
    LogGroup,
    Bucket,
    DeliveryStream,
    Alarm,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Account,
        Kind::Region,
        Kind::Vpc,
        Kind::Subnet,
        Kind::FlowLog,
        Kind::ClientVpnEndpoint,
        Kind::VpnConnection,
        Kind::VpnTunnel,
        Kind::LogGroup,
        Kind::Bucket,
        Kind::DeliveryStream,
        Kind::Alarm,
    ];

    pub fn def(self) -> &'static KindDef {
        match self {
            Kind::Account => &account::DEF,
            Kind::Region => &region::DEF,
            Kind::Vpc => &vpc::DEF,
            Kind::Subnet => &subnet::DEF,
            Kind::FlowLog => &flow_log::DEF,
            Kind::ClientVpnEndpoint => &client_vpn_endpoint::DEF,
            Kind::VpnConnection => &vpn_connection::DEF,
            Kind::VpnTunnel => &vpn_tunnel::DEF,
            Kind::LogGroup => &log_group::DEF,
            Kind::Bucket => &bucket::DEF,
            Kind::DeliveryStream => &delivery_stream::DEF,
            Kind::Alarm => &alarm::DEF,
        }
    }

    /// Listed per region (everything but accounts, regions and account-wide buckets).
    pub fn is_regional(self) -> bool {
        !matches!(self, Kind::Account | Kind::Region | Kind::Bucket)
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn by_type_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.def().type_name == name)
    }

    pub fn by_root_field(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.def().root_field == name)
    }
}

asset_kind!(account, Account, "Account", "accounts", "An AWS account whose estate was read.",
fields {
    CALLER_ARN "callerArn": String = "The identity the evidence was collected as (sts get-caller-identity).",
}
edges {
    REGIONS "regions" -> Region many = "The regions of the account, enabled or not.",
});

asset_kind!(region, Region, "Region", "regions", "A region of an account, with its opt-in status.",
fields {
    OPT_IN_STATUS "optInStatus": String = "opt-in-not-required, opted-in or not-opted-in.",
    ENABLED "enabled": Boolean = "Whether the region is enabled for the account.",
}
edges {
    VPCS "vpcs" -> Vpc many = "The VPCs of the region.",
});

asset_kind!(vpc, Vpc, "Vpc", "vpcs", "A VPC, as seen from one account (a shared VPC appears in its owner's and each participant's view).",
fields {
    OWNER_ID "ownerId": String = "The account that owns the VPC.",
    IS_SHARED "isShared": Boolean = "The VPC is owned by another account and shared into this one.",
    IS_DEFAULT "isDefault": Boolean = "The region's default VPC.",
    STATE "state": String = "pending or available.",
    CIDR_BLOCK "cidrBlock": String = "The primary IPv4 CIDR block.",
    NETWORK_INTERFACE_COUNT "networkInterfaceCount": Int = "How many network interfaces the VPC has.",
    INTERNET_GATEWAYS "internetGateways": StringList = "The internet gateways attached to the VPC (empty: none; the VPC is not internet-facing through one).",
}
edges {
    HAS_FLOW_LOG "hasFlowLog" -> FlowLog many = "Flow logs whose resource is this VPC (not its subnets or interfaces).",
    SUBNETS "subnets" -> Subnet many = "The VPC's subnets.",
    CLIENT_VPN_ENDPOINTS "clientVpnEndpoints" -> ClientVpnEndpoint many = "Client VPN endpoints associated with the VPC.",
});

asset_kind!(subnet, Subnet, "Subnet", "subnets", "A subnet.",
fields {
    VPC_ID "vpcId": String = "The subnet's VPC.",
    CIDR_BLOCK "cidrBlock": String = "The IPv4 CIDR block.",
    AVAILABILITY_ZONE "availabilityZone": String = "The availability zone.",
}
edges {
    VPC "vpc" -> Vpc one = "The subnet's VPC.",
    HAS_FLOW_LOG "hasFlowLog" -> FlowLog many = "Flow logs whose resource is this subnet.",
});

asset_kind!(flow_log, FlowLog, "FlowLog", "flowLogs", "A VPC flow log (on a VPC, subnet, network interface or transit gateway).",
fields {
    FLOW_LOG_STATUS "flowLogStatus": String = "ACTIVE (the only value AWS reports).",
    RESOURCE_ID "resourceId": String = "The resource the flow log watches.",
    RESOURCE_TYPE "resourceType": String = "VPC, Subnet, NetworkInterface, TransitGateway or TransitGatewayAttachment (from the resource id).",
    TRAFFIC_TYPE "trafficType": String = "ACCEPT, REJECT or ALL.",
    DELIVER_LOGS_STATUS "deliverLogsStatus": String = "SUCCESS or FAILED.",
    DELIVER_LOGS_ERROR_MESSAGE "deliverLogsErrorMessage": String = "Rate limited, Access error or Unknown error, when delivery failed.",
    DELIVER_LOGS_PERMISSION_ARN "deliverLogsPermissionArn": String = "The IAM role used to deliver to CloudWatch Logs.",
    DESTINATION_TYPE "destinationType": String = "cloud-watch-logs, s3 or kinesis-data-firehose.",
    LOG_DESTINATION "logDestination": String = "The destination ARN.",
    LOG_GROUP_NAME "logGroupName": String = "The destination log group name (cloud-watch-logs).",
    MAX_AGGREGATION_INTERVAL "maxAggregationInterval": Int = "60 or 600 seconds.",
    LOG_FORMAT "logFormat": String = "The record format.",
    CREATION_TIME "creationTime": String = "When the flow log was created.",
}
edges {
    VPC "vpc" -> Vpc one = "The VPC, when the flow log's resource is a VPC.",
    SUBNET "subnet" -> Subnet one = "The subnet, when the flow log's resource is a subnet.",
    LOG_GROUP "logGroup" -> LogGroup one = "The destination log group, if it exists (cloud-watch-logs).",
    BUCKET "bucket" -> Bucket one = "The destination bucket, if it exists (s3).",
    DELIVERY_STREAM "deliveryStream" -> DeliveryStream one = "The destination delivery stream, if it exists (kinesis-data-firehose).",
});

asset_kind!(client_vpn_endpoint, ClientVpnEndpoint, "ClientVpnEndpoint", "clientVpnEndpoints", "An AWS Client VPN endpoint.",
fields {
    STATUS "status": String = "pending-associate, available, deleting or deleted.",
    CONNECTION_LOG_ENABLED "connectionLogEnabled": Boolean = "ConnectionLogOptions.Enabled.",
    CLOUDWATCH_LOG_GROUP "cloudwatchLogGroup": String = "ConnectionLogOptions.CloudwatchLogGroup.",
    CLOUDWATCH_LOG_STREAM "cloudwatchLogStream": String = "ConnectionLogOptions.CloudwatchLogStream.",
    VPC_ID "vpcId": String = "The VPC the endpoint is associated with.",
    DESCRIPTION "description": String = "The endpoint's description.",
}
edges {
    LOG_GROUP "logGroup" -> LogGroup one = "The connection-log group, if it exists.",
    VPC "vpc" -> Vpc one = "The associated VPC.",
});

asset_kind!(vpn_connection, VpnConnection, "VpnConnection", "vpnConnections", "An AWS Site-to-Site VPN connection.",
fields {
    STATE "state": String = "pending, available, deleting or deleted.",
    TYPE "type": String = "ipsec.1.",
    CUSTOMER_GATEWAY_ID "customerGatewayId": String = "The customer gateway.",
    VPN_GATEWAY_ID "vpnGatewayId": String = "The virtual private gateway, if any.",
    TRANSIT_GATEWAY_ID "transitGatewayId": String = "The transit gateway, if any.",
    STATIC_ROUTES_ONLY "staticRoutesOnly": Boolean = "Static routing rather than BGP.",
    TELEMETRY_COUNT "telemetryCount": Int = "How many VgwTelemetry entries AWS reported (two once both tunnels exist).",
}
edges {
    TUNNELS "tunnels" -> VpnTunnel many = "The connection's two tunnels.",
});

asset_kind!(vpn_tunnel, VpnTunnel, "VpnTunnel", "vpnTunnels", "One tunnel of a Site-to-Site VPN connection (options and telemetry joined by outside IP).",
fields {
    VPN_CONNECTION_ID "vpnConnectionId": String = "The tunnel's connection.",
    CONNECTION_STATE "connectionState": String = "The connection's state.",
    TUNNEL_NUMBER "tunnelNumber": Int = "1 or 2.",
    OUTSIDE_IP_ADDRESS "outsideIpAddress": String = "The tunnel's AWS-side outside IP address.",
    STATUS "status": String = "UP or DOWN (VgwTelemetry).",
    LAST_STATUS_CHANGE "lastStatusChange": String = "When the status last changed.",
    STATUS_MESSAGE "statusMessage": String = "AWS's status message.",
    IKE_VERSIONS "ikeVersions": StringList = "Permitted IKE versions (AWS default when unset: ikev1 and ikev2).",
    LOG_ENABLED "logEnabled": Boolean = "Tunnel activity logging to CloudWatch Logs.",
    LOG_GROUP_ARN "logGroupArn": String = "The activity-log group ARN.",
    LOG_OUTPUT_FORMAT "logOutputFormat": String = "json or text.",
    BGP_LOG_ENABLED "bgpLogEnabled": Boolean = "BGP logging to CloudWatch Logs.",
    BGP_LOG_GROUP_ARN "bgpLogGroupArn": String = "The BGP-log group ARN.",
}
edges {
    VPN_CONNECTION "vpnConnection" -> VpnConnection one = "The tunnel's connection.",
    LOG_GROUP "logGroup" -> LogGroup one = "The activity-log group, if it exists.",
    BGP_LOG_GROUP "bgpLogGroup" -> LogGroup one = "The BGP-log group, if it exists.",
    ALARMS "alarms" -> Alarm many = "CloudWatch alarms on AWS/VPN TunnelState that watch this tunnel (by VpnId and TunnelIpAddress, or VpnId alone).",
});

asset_kind!(log_group, LogGroup, "LogGroup", "logGroups", "A CloudWatch Logs log group.",
fields {
    RETENTION_IN_DAYS "retentionInDays": Int = "Days kept; null means never expire.",
    NEVER_EXPIRES "neverExpires": Boolean = "No retention policy: events are kept forever.",
    KMS_KEY_ID "kmsKeyId": String = "The KMS key encrypting the group, if any.",
    LOG_GROUP_CLASS "logGroupClass": String = "STANDARD or INFREQUENT_ACCESS.",
    STORED_BYTES "storedBytes": Int = "Bytes stored.",
    CREATION_TIME "creationTime": Int = "Creation time, milliseconds since the epoch.",
}
edges {
    FLOW_LOGS "flowLogs" -> FlowLog many = "Flow logs delivering here.",
    CLIENT_VPN_ENDPOINTS "clientVpnEndpoints" -> ClientVpnEndpoint many = "Client VPN endpoints logging connections here.",
    VPN_TUNNELS "vpnTunnels" -> VpnTunnel many = "Site-to-Site tunnels logging activity or BGP here.",
});

asset_kind!(bucket, Bucket, "Bucket", "buckets", "An S3 bucket (collected to prove flow-log destinations exist).",
fields {
    BUCKET_REGION "bucketRegion": String = "The bucket's region, when reported.",
    CREATION_DATE "creationDate": String = "When the bucket was created.",
}
edges {
    FLOW_LOGS "flowLogs" -> FlowLog many = "Flow logs delivering here.",
});

asset_kind!(delivery_stream, DeliveryStream, "DeliveryStream", "deliveryStreams", "An Amazon Data Firehose delivery stream.",
fields {}
edges {
    FLOW_LOGS "flowLogs" -> FlowLog many = "Flow logs delivering here.",
});

asset_kind!(alarm, Alarm, "Alarm", "alarms", "A CloudWatch metric alarm on AWS/VPN TunnelState.",
fields {
    NAMESPACE "namespace": String = "AWS/VPN.",
    METRIC_NAME "metricName": String = "TunnelState.",
    VPN_ID "vpnId": String = "The VpnId dimension.",
    TUNNEL_IP_ADDRESS "tunnelIpAddress": String = "The TunnelIpAddress dimension; null when the alarm watches the whole connection.",
    ACTIONS_ENABLED "actionsEnabled": Boolean = "Whether the alarm's actions run.",
    ALARM_ACTION_COUNT "alarmActionCount": Int = "How many actions fire on ALARM.",
    STATE_VALUE "stateValue": String = "OK, ALARM or INSUFFICIENT_DATA.",
}
edges {
    TUNNELS "tunnels" -> VpnTunnel many = "Tunnels this alarm watches.",
});
