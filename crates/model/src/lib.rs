//! The netaudit asset graph.
//!
//! Every source (offline evidence, live AWS, infrastructure as code) produces an [`Inventory`]: plain
//! records per account and region, where each listing is either what the source read or the [`Gap`]
//! that stopped it. [`Graph::build`] turns an inventory into one graph of assets joined by named edges
//! (`Vpc.hasFlowLog`, `FlowLog.logGroup`, `VpnConnection.tunnels`, …). Any field or edge may be
//! *unknown*, carrying the gap that made it so; unknown is a value, never a default.
//!
//! The [`schema`] module is the single description of asset kinds, fields and edges that the query
//! language validates against and that `netaudit schema` prints.

pub mod graph;
pub mod inventory;
pub mod reads;
pub mod schema;
pub mod timestamp;
pub mod value;

pub use graph::{
    declared_arn, parse_log_group_arn, Asset, DeclaredAsset, DeclaredException, Edge, ExceptionTerm, Graph, Link,
    ListingGap, NodeId, SourcePoint, SourceRef, RETENTION_DAYS,
};
pub use inventory::{AccountInventory, Inventory, Listing, RegionInventory};
pub use reads::{Collected, Reads};
pub use schema::{EdgeDef, FieldDef, Kind, KindDef, ScalarType};
pub use value::{Gap, GapKind, Value};

/// The AWS partition a region belongs to, for building ARNs.
pub fn partition_for(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    }
}
