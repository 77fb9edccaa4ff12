//! What a set of queries reads from the graph, and which listings a collector must make for it.
//!
//! A scan limited to some controls (`--checks`, `--skip`) only needs the listings those controls'
//! queries read. A listing left out is recorded as a [`GapKind::NotCollected`] gap (see
//! [`Gap::not_selected`]), so anything that later reads it is UNKNOWN, never an empty, passing list.

use crate::schema::{self, FieldIx, Kind};
use crate::value::{Gap, GapKind};
use std::collections::{BTreeSet, HashSet};

/// The code of a listing a scan skipped because no selected control reads it.
pub const NOT_SELECTED: &str = "NotSelected";

/// The kinds of asset, and the kind-specific fields, some queries read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    kinds: BTreeSet<Kind>,
    fields: HashSet<(Kind, FieldIx)>,
}

impl Reads {
    pub fn add_kind(&mut self, kind: Kind) {
        self.kinds.insert(kind);
    }

    /// A field of `kind` is read (which reads `kind` too).
    pub fn add_field(&mut self, kind: Kind, field: FieldIx) {
        self.kinds.insert(kind);
        self.fields.insert((kind, field));
    }

    pub fn extend(&mut self, other: &Reads) {
        self.kinds.extend(other.kinds.iter().copied());
        self.fields.extend(other.fields.iter().copied());
    }

    pub fn kinds(&self) -> &BTreeSet<Kind> {
        &self.kinds
    }

    pub fn reads_kind(&self, kind: Kind) -> bool {
        self.kinds.contains(&kind)
    }

    pub fn reads_field(&self, kind: Kind, field: FieldIx) -> bool {
        self.fields.contains(&(kind, field))
    }

    /// Whether `listing` must be made for these reads.
    pub fn needs(&self, listing: Collected) -> bool {
        match listing {
            Collected::Vpcs => self.reads_kind(Kind::Vpc),
            Collected::Subnets => self.reads_kind(Kind::Subnet),
            // Only a VPC's interface count comes from this listing.
            Collected::NetworkInterfaces => self.reads_field(Kind::Vpc, schema::vpc::NETWORK_INTERFACE_COUNT),
            Collected::FlowLogs => self.reads_kind(Kind::FlowLog),
            Collected::ClientVpnEndpoints => self.reads_kind(Kind::ClientVpnEndpoint),
            // Tunnels are read from their connections.
            Collected::VpnConnections => self.reads_kind(Kind::VpnConnection) || self.reads_kind(Kind::VpnTunnel),
            Collected::LogGroups => self.reads_kind(Kind::LogGroup),
            Collected::Alarms => self.reads_kind(Kind::Alarm),
            Collected::DeliveryStreams => self.reads_kind(Kind::DeliveryStream),
            Collected::Buckets => self.reads_kind(Kind::Bucket),
            // Every result on a regional resource is ranked by the internet exposure of the VPCs it
            // concerns, whatever the control reads.
            Collected::InternetGateways => self.kinds.iter().any(|k| k.is_regional()),
        }
    }
}

/// A listing a collector can skip: every one but the account's identity and its region list,
/// which every scan needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Collected {
    Vpcs,
    Subnets,
    NetworkInterfaces,
    FlowLogs,
    ClientVpnEndpoints,
    VpnConnections,
    LogGroups,
    Alarms,
    DeliveryStreams,
    /// Account-wide.
    Buckets,
    InternetGateways,
}

impl Collected {
    pub const ALL: [Collected; 11] = [
        Collected::Vpcs,
        Collected::Subnets,
        Collected::NetworkInterfaces,
        Collected::FlowLogs,
        Collected::ClientVpnEndpoints,
        Collected::VpnConnections,
        Collected::LogGroups,
        Collected::Alarms,
        Collected::DeliveryStreams,
        Collected::Buckets,
        Collected::InternetGateways,
    ];

    /// The API behind the listing, as `service:Operation`.
    pub fn api(self) -> &'static str {
        match self {
            Collected::Vpcs => "ec2:DescribeVpcs",
            Collected::Subnets => "ec2:DescribeSubnets",
            Collected::NetworkInterfaces => "ec2:DescribeNetworkInterfaces",
            Collected::FlowLogs => "ec2:DescribeFlowLogs",
            Collected::ClientVpnEndpoints => "ec2:DescribeClientVpnEndpoints",
            Collected::VpnConnections => "ec2:DescribeVpnConnections",
            Collected::LogGroups => "logs:DescribeLogGroups",
            Collected::Alarms => "cloudwatch:DescribeAlarms",
            Collected::DeliveryStreams => "firehose:ListDeliveryStreams",
            Collected::Buckets => "s3:ListBuckets",
            Collected::InternetGateways => "ec2:DescribeInternetGateways",
        }
    }
}

impl Gap {
    /// The gap a listing leaves when the scan skipped it because no selected control reads it.
    pub fn not_selected(listing: Collected, account: &str, region: Option<&str>) -> Gap {
        Gap {
            kind: GapKind::NotCollected,
            account: account.to_owned(),
            region: region.map(str::to_owned),
            api: listing.api().into(),
            code: NOT_SELECTED.into(),
            message: "not collected: no control selected for the scan reads it".into(),
            source: None,
        }
    }

    /// Whether this is a listing the scan skipped on purpose ([`Gap::not_selected`]).
    pub fn is_not_selected(&self) -> bool {
        self.kind == GapKind::NotCollected && self.code == NOT_SELECTED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_read_needs_no_listing() {
        let reads = Reads::default();
        assert!(Collected::ALL.iter().all(|l| !reads.needs(*l)));
    }

    #[test]
    fn interfaces_are_listed_only_for_the_interface_count() {
        let mut reads = Reads::default();
        reads.add_field(Kind::Vpc, schema::vpc::IS_SHARED);
        assert!(reads.needs(Collected::Vpcs));
        assert!(!reads.needs(Collected::NetworkInterfaces));
        reads.add_field(Kind::Vpc, schema::vpc::NETWORK_INTERFACE_COUNT);
        assert!(reads.needs(Collected::NetworkInterfaces));
    }

    #[test]
    fn tunnels_need_the_connection_listing() {
        let mut reads = Reads::default();
        reads.add_kind(Kind::VpnTunnel);
        assert!(reads.needs(Collected::VpnConnections));
        assert!(!reads.needs(Collected::Alarms));
    }

    #[test]
    fn a_skipped_listing_is_recognised_and_keeps_its_place() {
        let gap = Gap::not_selected(Collected::ClientVpnEndpoints, "111111111111", Some("eu-west-1"));
        assert!(gap.is_not_selected());
        assert_eq!(gap.api, "ec2:DescribeClientVpnEndpoints");
        assert_eq!(gap.region.as_deref(), Some("eu-west-1"));
        let failed = Gap {
            kind: GapKind::ApiError,
            ..gap
        };
        assert!(!failed.is_not_selected());
    }
}
