//! The asset graph and its construction from an [`Inventory`].
//!
//! [`Graph::build`] adds nodes account by account and region by region (`builder` for accounts and
//! regions, `nodes` for one function per asset kind), then joins them (`link`, one function per
//! relationship).

mod builder;
mod declared;
mod link;
mod nodes;
mod tunnels;

use crate::inventory::Inventory;
use crate::schema::{EdgeIx, FieldIx, Kind};
use crate::value::{Gap, Value};
use builder::Builder;
pub use declared::{declared_arn, DeclaredAsset, DeclaredException, ExceptionTerm, Link, SourcePoint, SourceRef};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

/// A relationship: the related assets, or why they are not known.
#[derive(Debug, Clone, PartialEq)]
pub enum Edge {
    Known(Vec<NodeId>),
    /// These related assets are certain, but there may be more: a listing that could add to them
    /// was not read.
    Partial(Vec<NodeId>, Arc<Gap>),
    Unknown(Arc<Gap>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub kind: Kind,
    pub id: String,
    pub arn: String,
    pub account_id: String,
    pub region: String,
    pub name: Option<String>,
    /// Kind-specific fields, indexed by the kind's `FieldIx` constants.
    pub fields: Vec<Value>,
    /// Edges, indexed by the kind's `EdgeIx` constants.
    pub edges: Vec<Edge>,
    /// Where infrastructure as code declares this asset; `None` for deployed assets.
    pub source: Option<Arc<SourceRef>>,
    /// Why a declared asset may not exist once deployed (`count` or `Condition` unknown before deploy).
    pub uncertain: Option<Arc<Gap>>,
    /// The resource's tags as (key, value), in the order AWS listed them; empty when it has none
    /// or its kind carries none.
    pub tags: Vec<(String, String)>,
}

impl Asset {
    pub fn field(&self, ix: FieldIx) -> &Value {
        &self.fields[ix.0]
    }
    pub fn edge(&self, ix: EdgeIx) -> &Edge {
        &self.edges[ix.0]
    }
}

/// A listing that could not be read: every asset of `kind` in that account and region is unknown.
#[derive(Debug, Clone)]
pub struct ListingGap {
    pub kind: Kind,
    pub account: String,
    pub region: String,
    pub gap: Arc<Gap>,
}

/// A region that is not enabled for an account: nothing there to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisabledRegion {
    pub account: String,
    pub region: String,
    pub opt_in_status: String,
}

#[derive(Debug, Default)]
pub struct Graph {
    assets: Vec<Asset>,
    by_kind: Vec<Vec<NodeId>>,
    listing_gaps: Vec<ListingGap>,
    gaps: Vec<Arc<Gap>>,
    region_list_gaps: Vec<Arc<Gap>>,
    disabled_regions: Vec<DisabledRegion>,
    region_scopes: Vec<(String, Vec<String>)>,
    /// Per (account, region): the internet gateways attached to each VPC id, or why the listing
    /// could not be read.
    internet_gateways: HashMap<(String, String), GatewaysByVpc>,
}

/// One region's internet gateways by the VPC they are attached to, or why they could not be listed.
type GatewaysByVpc = Result<HashMap<String, Vec<String>>, Arc<Gap>>;

impl Graph {
    pub fn asset(&self, id: NodeId) -> &Asset {
        &self.assets[id.0 as usize]
    }
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }
    pub fn of_kind(&self, kind: Kind) -> &[NodeId] {
        self.by_kind.get(kind.index()).map_or(&[], Vec::as_slice)
    }
    /// Listings of `kind` that could not be read.
    pub fn listing_gaps(&self, kind: Kind) -> impl Iterator<Item = &ListingGap> {
        self.listing_gaps.iter().filter(move |g| g.kind == kind)
    }
    /// Every distinct gap met while building the graph, for the coverage report.
    pub fn gaps(&self) -> &[Arc<Gap>] {
        &self.gaps
    }
    /// Accounts whose region list could not be read: a region may be missing without a trace.
    pub fn region_list_gaps(&self) -> &[Arc<Gap>] {
        &self.region_list_gaps
    }
    pub fn disabled_regions(&self) -> &[DisabledRegion] {
        &self.disabled_regions
    }
    /// (account, regions) of accounts whose scan was limited to some regions.
    pub fn region_scopes(&self) -> &[(String, Vec<String>)] {
        &self.region_scopes
    }
    /// The internet gateways attached to VPC `vpc_id` of `account` in `region` (empty: none), or
    /// the gap that hides them: the listing failed, or nothing was read for that region.
    pub fn internet_gateways(&self, account: &str, region: &str, vpc_id: &str) -> Result<Vec<String>, Arc<Gap>> {
        match self.internet_gateways.get(&(account.to_owned(), region.to_owned())) {
            Some(Ok(by_vpc)) => Ok(by_vpc.get(vpc_id).cloned().unwrap_or_default()),
            Some(Err(gap)) => Err(gap.clone()),
            None => Err(Arc::new(Gap {
                kind: crate::value::GapKind::NotCollected,
                account: account.to_owned(),
                region: Some(region.to_owned()),
                api: "ec2:DescribeInternetGateways".into(),
                code: "NotCollected".into(),
                message: "no internet gateway listing was read for this region".into(),
                source: None,
            })),
        }
    }
    pub fn len(&self) -> usize {
        self.assets.len()
    }
    pub fn is_empty(&self) -> bool {
        self.assets.is_empty()
    }

    /// Build the graph: nodes for every record, then every edge.
    pub fn build(inventory: &Inventory) -> Graph {
        let mut b = Builder::default();
        for account in &inventory.accounts {
            b.add_account(account);
        }
        b.link();
        b.finish()
    }
}

/// The regions of the `aws` partition enabled in every account (they cannot be turned off).
pub const ALWAYS_ENABLED_REGIONS: [&str; 17] = [
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// The retention periods CloudWatch Logs accepts, in days; absent means never expire.
pub const RETENTION_DAYS: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/// `arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]` → (region, account, name).
pub fn parse_log_group_arn(arn: &str) -> Option<(String, String, String)> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(6, ':');
    let _partition = parts.next()?;
    if parts.next()? != "logs" {
        return None;
    }
    let region = parts.next()?;
    let account = parts.next()?;
    let name = parts.next().filter(|p| *p == "log-group").and(parts.next())?;
    let name = name.strip_suffix(":*").unwrap_or(name);
    Some((region.to_owned(), account.to_owned(), name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_log_group_arns_with_and_without_wildcard() {
        assert_eq!(
            parse_log_group_arn("arn:aws:logs:us-east-1:111122223333:log-group:/aws/vpn/s2s:*"),
            Some(("us-east-1".into(), "111122223333".into(), "/aws/vpn/s2s".into()))
        );
        assert_eq!(
            parse_log_group_arn("arn:aws:logs:eu-west-1:1:log-group:a:b"),
            Some(("eu-west-1".into(), "1".into(), "a:b".into()))
        );
        assert_eq!(parse_log_group_arn("/aws/vpn/s2s"), None);
        assert_eq!(parse_log_group_arn("arn:aws:s3:::bucket"), None);
    }
}
