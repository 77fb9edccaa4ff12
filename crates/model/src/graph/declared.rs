//! The graph of assets declared by infrastructure as code, before anything is deployed.
//!
//! Each declared asset lives in a *unit* (a Terraform root module folder or a template file) and is
//! known by its address there (`module.vpc.aws_vpc.this[0]`, a CloudFormation logical id). Links
//! name addresses in the same unit; [`Graph::from_declared`] resolves them and fills the reverse
//! edges. A link whose target is not certain makes the reverse edges it could reach partial, so a
//! question such as "has this VPC no flow log?" is unknown rather than answered by a guess.

use super::builder::Builder;
use super::{Edge, Graph, NodeId};
use crate::schema::{self, EdgeIx, FieldIx, Kind};
use crate::value::{Gap, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Where an asset is declared: file (relative to where the scan was asked), lines, address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceRef {
    pub file: String,
    pub line: usize,
    pub end_line: usize,
    pub address: String,
    /// The CDK construct path, for templates CDK synthesized.
    pub construct_path: Option<String>,
}

/// What a forward edge of a declared asset points at.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    /// The asset at this address in the same unit (none if the code declares no such asset: it
    /// will not exist).
    To(String),
    /// A value built from these addresses: the one of them that is an asset of the edge's kind,
    /// several candidates (the exact target unknown), or, when none is, somewhere outside the code.
    Among(Vec<String>, Arc<Gap>),
    /// A literal name, id or ARN: the asset of the edge's kind in the unit that has it, or else
    /// one outside the scanned code (the gap says so).
    Named(String, Arc<Gap>),
    /// Certainly outside the scanned code: a stack parameter, an imported value, a variable. (An
    /// identifier of a resource in the same code is only known after deploy, so it always comes
    /// as a reference.)
    Outside(Arc<Gap>),
}

/// One asset as infrastructure as code declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredAsset {
    pub kind: Kind,
    /// The address in its unit; also the asset's `id`.
    pub address: String,
    /// The root module folder or template file the address is relative to.
    pub unit: String,
    pub source: SourceRef,
    /// The name the asset will have, when the code sets it.
    pub name: Option<String>,
    /// Kind-specific fields; those not given are null.
    pub fields: Vec<(FieldIx, Value)>,
    pub links: Vec<(EdgeIx, Link)>,
    /// Why the asset may not exist once deployed.
    pub uncertain: Option<Arc<Gap>>,
}

/// The ARN a declared asset has in the graph: `<unit>#<address>`, unique across units.
pub fn declared_arn(unit: &str, address: &str) -> String {
    format!("{unit}#{address}")
}

/// A point in a source file: 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourcePoint {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for SourcePoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One `key=value` of an exception written in the code, where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionTerm {
    pub key: String,
    pub value: String,
    pub at: SourcePoint,
}

/// An exception written on a resource in the code (a comment, or the resource's metadata), as
/// written: the checks validate its terms. It applies to the assets the resource declares only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredException {
    /// The root module folder or template file the addresses are relative to.
    pub unit: String,
    /// The resource as the code names it: `aws_vpc.lab`, `module.vpc.aws_vpc.this`, a logical id.
    pub resource: String,
    /// Every asset the resource declares: each `count`/`for_each` instance, each tunnel. Empty when
    /// the resource declares none (`count = 0`, a false `Condition`, a kind no control reads).
    pub addresses: Vec<String>,
    /// Where the exception is written.
    pub at: SourcePoint,
    /// The terms in the order written; the control too (key `control`).
    pub terms: Vec<ExceptionTerm>,
}

/// For each forward edge, the reverse edge on its target.
fn reverse(kind: Kind, edge: EdgeIx) -> Option<EdgeIx> {
    use schema::*;
    Some(match (kind, edge) {
        (Kind::FlowLog, e) if e == flow_log::VPC => vpc::HAS_FLOW_LOG,
        (Kind::FlowLog, e) if e == flow_log::SUBNET => subnet::HAS_FLOW_LOG,
        (Kind::FlowLog, e) if e == flow_log::LOG_GROUP => log_group::FLOW_LOGS,
        (Kind::Subnet, e) if e == subnet::VPC => vpc::SUBNETS,
        (Kind::ClientVpnEndpoint, e) if e == client_vpn_endpoint::LOG_GROUP => log_group::CLIENT_VPN_ENDPOINTS,
        (Kind::ClientVpnEndpoint, e) if e == client_vpn_endpoint::VPC => vpc::CLIENT_VPN_ENDPOINTS,
        (Kind::VpnTunnel, e) if e == vpn_tunnel::LOG_GROUP || e == vpn_tunnel::BGP_LOG_GROUP => log_group::VPN_TUNNELS,
        (Kind::VpnTunnel, e) if e == vpn_tunnel::VPN_CONNECTION => vpn_connection::TUNNELS,
        _ => return None,
    })
}

/// Where a forward link lands: certain targets, targets it may reach, or why it is unknown.
enum Resolved {
    Known(Vec<NodeId>),
    Maybe(Vec<NodeId>, Arc<Gap>),
}

impl Graph {
    /// The graph of declared assets. Accounts and regions are not known before deploy: every
    /// asset has an empty account and its unit as its region, and its ARN is `<unit>#<address>`,
    /// unique across units.
    pub fn from_declared(declared: Vec<DeclaredAsset>) -> Graph {
        let mut b = Builder::default();
        let mut by_address: HashMap<(String, String), NodeId> = HashMap::new();
        let mut by_name: HashMap<(String, Kind, String), Vec<NodeId>> = HashMap::new();
        let mut pending = vec![];
        for d in declared {
            let arn = declared_arn(&d.unit, &d.address);
            let node = b.add(d.kind, &d.address, arn, "", &d.unit, d.name.clone());
            for (ix, value) in d.fields {
                b.set(node, ix, value);
            }
            {
                let asset = &mut b.g.assets[node.0 as usize];
                asset.source = Some(Arc::new(d.source));
                asset.uncertain = d.uncertain.clone();
            }
            if let Some(gap) = &d.uncertain {
                b.gap(gap);
            }
            by_address.insert((d.unit.clone(), d.address.clone()), node);
            if let Some(name) = &d.name {
                by_name
                    .entry((d.unit.clone(), d.kind, name.clone()))
                    .or_default()
                    .push(node);
            }
            pending.push((node, d.unit, d.kind, d.links, d.uncertain));
        }

        for (node, unit, kind, links, uncertain) in pending {
            for (edge, link) in links {
                let target_kind = kind.def().edges[edge.0].target;
                let of_kind = |n: &NodeId| b.asset(*n).kind == target_kind;
                let resolved = match &link {
                    Link::To(address) => Resolved::Known(
                        by_address
                            .get(&(unit.clone(), address.clone()))
                            .filter(|n| of_kind(n))
                            .into_iter()
                            .copied()
                            .collect(),
                    ),
                    Link::Among(addresses, gap) => {
                        let found: Vec<NodeId> = addresses
                            .iter()
                            .filter_map(|a| by_address.get(&(unit.clone(), a.clone())))
                            .filter(|n| of_kind(n))
                            .copied()
                            .collect();
                        if found.len() == 1 {
                            Resolved::Known(found)
                        } else {
                            Resolved::Maybe(found, gap.clone())
                        }
                    }
                    Link::Named(name, gap) => {
                        let key = (unit.clone(), target_kind, name.clone());
                        match by_name.get(&key) {
                            Some(found) if found.len() == 1 => Resolved::Known(found.clone()),
                            Some(found) => Resolved::Maybe(found.clone(), gap.clone()),
                            None => Resolved::Maybe(vec![], gap.clone()),
                        }
                    }
                    Link::Outside(gap) => Resolved::Maybe(vec![], gap.clone()),
                };
                let back = reverse(kind, edge);
                match resolved {
                    Resolved::Known(targets) => {
                        // A target that may not be deployed is no certain link.
                        let doubt = targets.iter().find_map(|t| b.asset(*t).uncertain.clone());
                        let forward = match doubt {
                            Some(gap) => Edge::Unknown(gap),
                            None => Edge::Known(targets.clone()),
                        };
                        b.set_edge(node, edge, forward);
                        for t in targets {
                            match (back, &uncertain) {
                                (Some(back), None) => b.push_edge(t, back, node),
                                // It may not exist: the target may have this one more.
                                (Some(back), Some(gap)) => b.mark_partial(t, back, gap),
                                (None, _) => {}
                            }
                        }
                    }
                    Resolved::Maybe(candidates, gap) => {
                        b.gap(&gap);
                        b.set_edge(node, edge, Edge::Unknown(gap.clone()));
                        if let Some(back) = back {
                            for t in candidates {
                                b.mark_partial(t, back, &gap);
                            }
                        }
                    }
                }
            }
        }
        b.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(why: &str) -> Arc<Gap> {
        Arc::new(Gap::not_known_before_deploy(why, None))
    }

    fn declared(kind: Kind, address: &str) -> DeclaredAsset {
        DeclaredAsset {
            kind,
            address: address.into(),
            unit: "infra".into(),
            source: SourceRef {
                file: "infra/main.tf".into(),
                line: 1,
                end_line: 3,
                address: address.into(),
                construct_path: None,
            },
            name: None,
            fields: vec![],
            links: vec![],
            uncertain: None,
        }
    }

    fn node(g: &Graph, address: &str) -> NodeId {
        NodeId(g.assets().iter().position(|a| a.id == address).expect("declared") as u32)
    }

    #[test]
    fn links_resolve_by_address_and_fill_reverse_edges() {
        let vpc = declared(Kind::Vpc, "aws_vpc.main");
        let mut flow_log = declared(Kind::FlowLog, "aws_flow_log.main");
        flow_log
            .links
            .push((schema::flow_log::VPC, Link::To("aws_vpc.main".into())));
        flow_log.links.push((
            schema::flow_log::LOG_GROUP,
            Link::To("aws_cloudwatch_log_group.absent".into()),
        ));
        let g = Graph::from_declared(vec![vpc, flow_log]);
        let (v, f) = (node(&g, "aws_vpc.main"), node(&g, "aws_flow_log.main"));
        assert_eq!(g.asset(v).edge(schema::vpc::HAS_FLOW_LOG), &Edge::Known(vec![f]));
        assert_eq!(g.asset(f).edge(schema::flow_log::LOG_GROUP), &Edge::Known(vec![]));
        assert_eq!(g.asset(v).arn, "infra#aws_vpc.main");
        assert_eq!(g.asset(v).source.as_ref().map(|s| s.end_line), Some(3));
    }

    #[test]
    fn uncertain_or_ambiguous_flow_logs_make_the_vpc_side_partial() {
        let vpc = declared(Kind::Vpc, "aws_vpc.main");
        let other = declared(Kind::Vpc, "aws_vpc.other");
        let mut maybe = declared(Kind::FlowLog, "aws_flow_log.maybe");
        maybe.uncertain = Some(gap("count is not known before apply"));
        maybe
            .links
            .push((schema::flow_log::VPC, Link::To("aws_vpc.main".into())));
        let mut anywhere = declared(Kind::FlowLog, "aws_flow_log.anywhere");
        anywhere.links.push((
            schema::flow_log::VPC,
            Link::Among(
                vec!["aws_vpc.main".into(), "aws_vpc.other".into()],
                gap("vpc_id: one of two VPCs"),
            ),
        ));
        let g = Graph::from_declared(vec![vpc, other, maybe, anywhere]);
        let v = node(&g, "aws_vpc.main");
        let Edge::Partial(list, _) = g.asset(v).edge(schema::vpc::HAS_FLOW_LOG) else {
            panic!("expected a partial edge");
        };
        assert!(list.is_empty());
        assert!(matches!(
            g.asset(node(&g, "aws_vpc.other")).edge(schema::vpc::HAS_FLOW_LOG),
            Edge::Partial(l, gap) if l.is_empty() && gap.message == "vpc_id: one of two VPCs"
        ));
        assert!(matches!(
            g.asset(node(&g, "aws_flow_log.anywhere")).edge(schema::flow_log::VPC),
            Edge::Unknown(_)
        ));
    }

    #[test]
    fn a_link_to_an_asset_that_may_not_exist_is_unknown() {
        let mut group = declared(Kind::LogGroup, "aws_cloudwatch_log_group.maybe");
        group.uncertain = Some(gap("count is not known before apply"));
        let mut endpoint = declared(Kind::ClientVpnEndpoint, "aws_ec2_client_vpn_endpoint.a");
        endpoint.links.push((
            schema::client_vpn_endpoint::LOG_GROUP,
            Link::To("aws_cloudwatch_log_group.maybe".into()),
        ));
        let g = Graph::from_declared(vec![group, endpoint]);
        assert!(matches!(
            g.asset(node(&g, "aws_ec2_client_vpn_endpoint.a")).edge(schema::client_vpn_endpoint::LOG_GROUP),
            Edge::Unknown(gap) if gap.message == "count is not known before apply"
        ));
        let lg = node(&g, "aws_cloudwatch_log_group.maybe");
        assert_eq!(
            g.asset(lg).edge(schema::log_group::CLIENT_VPN_ENDPOINTS),
            &Edge::Known(vec![node(&g, "aws_ec2_client_vpn_endpoint.a")])
        );
    }

    #[test]
    fn named_links_find_the_asset_with_that_name_or_point_outside() {
        let mut group = declared(Kind::LogGroup, "aws_cloudwatch_log_group.vpn");
        group.name = Some("/aws/vpn".into());
        let mut endpoint = declared(Kind::ClientVpnEndpoint, "aws_ec2_client_vpn_endpoint.a");
        endpoint.links.push((
            schema::client_vpn_endpoint::LOG_GROUP,
            Link::Named("/aws/vpn".into(), gap("outside")),
        ));
        let mut other = declared(Kind::ClientVpnEndpoint, "aws_ec2_client_vpn_endpoint.b");
        other.links.push((
            schema::client_vpn_endpoint::LOG_GROUP,
            Link::Named(
                "/elsewhere".into(),
                gap("log group /elsewhere is not in the scanned code"),
            ),
        ));
        let g = Graph::from_declared(vec![group, endpoint, other]);
        let lg = node(&g, "aws_cloudwatch_log_group.vpn");
        assert_eq!(
            g.asset(node(&g, "aws_ec2_client_vpn_endpoint.a"))
                .edge(schema::client_vpn_endpoint::LOG_GROUP),
            &Edge::Known(vec![lg])
        );
        assert!(matches!(
            g.asset(node(&g, "aws_ec2_client_vpn_endpoint.b")).edge(schema::client_vpn_endpoint::LOG_GROUP),
            Edge::Unknown(gap) if gap.message.contains("/elsewhere")
        ));
    }
}
