//! The builder's state, its primitive operations, and the account and region level of the build.

use super::{Asset, DisabledRegion, Edge, Graph, ListingGap, NodeId, ALWAYS_ENABLED_REGIONS};
use crate::inventory::*;
use crate::partition_for;
use crate::schema::{self, EdgeIx, FieldIx, Kind};
use crate::value::{Gap, GapKind, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub(super) type Place = (String, String); // (account, region)

pub(super) fn place(account: &str, region: &str) -> Place {
    (account.to_owned(), region.to_owned())
}

/// Per-place state of each listing the edges depend on.
#[derive(Default)]
pub(super) struct PlaceListings {
    pub(super) vpcs: Option<Arc<Gap>>,
    pub(super) subnets: Option<Arc<Gap>>,
    pub(super) flow_logs: Option<Arc<Gap>>,
    pub(super) client_vpn_endpoints: Option<Arc<Gap>>,
    pub(super) vpn_connections: Option<Arc<Gap>>,
    pub(super) log_groups: Option<Arc<Gap>>,
    pub(super) alarms: Option<Arc<Gap>>,
    pub(super) delivery_streams: Option<Arc<Gap>>,
}

#[derive(Default)]
pub(super) struct Builder {
    pub(super) g: Graph,
    pub(super) places: HashMap<Place, PlaceListings>,
    pub(super) vpcs: HashMap<(Place, String), NodeId>,
    pub(super) subnets: HashMap<(Place, String), NodeId>,
    pub(super) log_groups: HashMap<(Place, String), NodeId>,
    pub(super) streams: HashMap<(Place, String), NodeId>,
    pub(super) buckets: HashMap<String, NodeId>,
    pub(super) bucket_listing_gaps: Vec<Arc<Gap>>,
    pub(super) bucket_accounts: Vec<String>,
    pub(super) eni_counts: HashMap<(Place, String), i64>,
    pub(super) eni_gaps: HashMap<Place, Arc<Gap>>,
    pub(super) flow_logs: Vec<(NodeId, FlowLogRecord)>,
    pub(super) endpoints: Vec<(NodeId, ClientVpnEndpointRecord)>,
    pub(super) tunnels: Vec<(NodeId, Option<TunnelOptionsRecord>)>,
    /// TunnelState alarms, one per metric they watch.
    pub(super) alarms: Vec<(NodeId, MetricRecord)>,
    pub(super) region_nodes: HashMap<Place, NodeId>,
    pub(super) account_nodes: HashMap<String, NodeId>,
    pub(super) region_list_gaps_by_account: Vec<(String, Arc<Gap>)>,
    /// Every tunnel with its options, kept after linking for the reverse-edge pass.
    pub(super) tunnels_seen: Vec<(NodeId, Option<TunnelOptionsRecord>)>,
}

impl Builder {
    pub(super) fn add(
        &mut self,
        kind: Kind,
        id: &str,
        arn: String,
        account: &str,
        region: &str,
        name: Option<String>,
    ) -> NodeId {
        let def = kind.def();
        let node = NodeId(self.g.assets.len() as u32);
        self.g.assets.push(Asset {
            kind,
            id: id.to_owned(),
            arn,
            account_id: account.to_owned(),
            region: region.to_owned(),
            name,
            fields: vec![Value::Null; def.fields.len()],
            edges: vec![Edge::Known(vec![]); def.edges.len()],
            source: None,
            uncertain: None,
            tags: vec![],
        });
        if self.g.by_kind.len() < Kind::ALL.len() {
            self.g.by_kind.resize(Kind::ALL.len(), vec![]);
        }
        self.g.by_kind[kind.index()].push(node);
        node
    }

    pub(super) fn asset(&self, node: NodeId) -> &Asset {
        &self.g.assets[node.0 as usize]
    }

    pub(super) fn set(&mut self, node: NodeId, field: FieldIx, value: Value) {
        self.g.assets[node.0 as usize].fields[field.0] = value;
    }

    /// Keep a resource's tags (a tag without a key carries nothing and is dropped).
    pub(super) fn set_tags(&mut self, node: NodeId, tags: &[TagRecord]) {
        self.g.assets[node.0 as usize].tags = tags
            .iter()
            .filter_map(|t| Some((t.key.clone()?, t.value.clone().unwrap_or_default())))
            .collect();
    }

    pub(super) fn set_edge(&mut self, node: NodeId, edge: EdgeIx, value: Edge) {
        self.g.assets[node.0 as usize].edges[edge.0] = value;
    }

    pub(super) fn push_edge(&mut self, node: NodeId, edge: EdgeIx, target: NodeId) {
        match &mut self.g.assets[node.0 as usize].edges[edge.0] {
            Edge::Known(list) | Edge::Partial(list, _) => list.push(target),
            Edge::Unknown(_) => {}
        }
    }

    /// Mark an edge as possibly incomplete because of `gap` (an unknown edge stays unknown).
    pub(super) fn mark_partial(&mut self, node: NodeId, edge: EdgeIx, gap: &Arc<Gap>) {
        let slot = &mut self.g.assets[node.0 as usize].edges[edge.0];
        if let Edge::Known(list) = slot {
            *slot = Edge::Partial(std::mem::take(list), gap.clone());
        }
    }

    pub(super) fn gap(&mut self, gap: &Arc<Gap>) {
        self.g.gaps.push(gap.clone());
    }

    /// The records of a listing, or none and its gap (recorded as a listing gap of `kind`).
    pub(super) fn listing<'a, T>(
        &mut self,
        kind: Kind,
        account: &str,
        region: &str,
        listing: &'a Listing<T>,
    ) -> (&'a [T], Option<Arc<Gap>>) {
        match listing {
            Ok(items) => (items, None),
            Err(gap) => {
                self.gap(gap);
                self.g.listing_gaps.push(ListingGap {
                    kind,
                    account: account.to_owned(),
                    region: region.to_owned(),
                    gap: gap.clone(),
                });
                (&[], Some(gap.clone()))
            }
        }
    }

    pub(super) fn add_account(&mut self, acc: &AccountInventory) {
        let a = acc.account_id.as_str();
        let account_node = self.add(Kind::Account, a, format!("arn:aws:iam::{a}:root"), a, "global", None);
        self.set(
            account_node,
            schema::account::CALLER_ARN,
            Value::opt_str(acc.caller_arn.as_deref()),
        );
        for gap in &acc.other_gaps {
            self.gap(gap);
        }
        let scope = acc.region_scope.as_ref();
        if let Some(scope) = scope {
            self.g.region_scopes.push((a.to_owned(), scope.clone()));
        }
        let region_list = region_list(acc);
        if let Err(gap) = &region_list {
            self.gap(gap);
            self.g.region_list_gaps.push(gap.clone());
            self.region_list_gaps_by_account.push((a.to_owned(), gap.clone()));
        }
        let (regions, filtered_out) = known_regions(acc, &region_list);
        let data: HashMap<&str, &RegionInventory> = acc.region_data.iter().map(|r| (r.region.as_str(), r)).collect();
        for (region, opt_in) in regions {
            self.add_region_node(a, account_node, &region, &opt_in);
            match data.get(region.as_str()) {
                Some(inv) => self.add_region(a, inv),
                None => self.add_unread_region(a, &region, &opt_in, filtered_out.contains(&region.as_str())),
            }
        }

        // Without a region list, regions other than those read may be enabled and unread: every
        // regional listing there is unknown, so every control reports it rather than falling silent.
        if let (Err(gap), None) = (&region_list, scope) {
            for kind in Kind::ALL.into_iter().filter(|k| k.is_regional()) {
                self.g.listing_gaps.push(ListingGap {
                    kind,
                    account: a.to_owned(),
                    region: "*".into(),
                    gap: gap.clone(),
                });
            }
        }
        self.add_buckets(a, &acc.buckets);
    }

    fn add_region_node(&mut self, a: &str, account_node: NodeId, region: &str, opt_in: &Value) {
        let partition = partition_for(region);
        let node = self.add(
            Kind::Region,
            region,
            format!("arn:{partition}:ec2:{region}:{a}:region"),
            a,
            region,
            None,
        );
        self.set(node, schema::region::OPT_IN_STATUS, opt_in.clone());
        self.set(node, schema::region::ENABLED, region_enabled(opt_in));
        self.push_edge(account_node, schema::account::REGIONS, node);
        self.region_nodes.insert(place(a, region), node);
    }

    /// A region with no evidence: not enabled (nothing to check), or enabled and unread.
    fn add_unread_region(&mut self, a: &str, region: &str, opt_in: &Value, filtered_out: bool) {
        if region_enabled(opt_in) == Value::Bool(false) {
            self.g.disabled_regions.push(DisabledRegion {
                account: a.to_owned(),
                region: region.to_owned(),
                opt_in_status: match opt_in {
                    Value::Str(s) => s.clone(),
                    _ => String::new(),
                },
            });
            return;
        }
        let gap = if filtered_out {
            Arc::new(Gap {
                kind: GapKind::Missing,
                account: a.to_owned(),
                region: Some(region.to_owned()),
                api: "ec2:DescribeRegions".into(),
                code: "FilteredRegionList".into(),
                message: "the region is enabled in every account, but the region list leaves it out \
                          and nothing was read there"
                    .into(),
                source: None,
            })
        } else {
            Arc::new(Gap {
                kind: GapKind::Missing,
                account: a.to_owned(),
                region: Some(region.to_owned()),
                api: "netaudit:LoadEvidence".into(),
                code: "MissingEvidence".into(),
                message: "the region is enabled but no evidence was collected for it".into(),
                source: None,
            })
        };
        self.add_region(a, &RegionInventory::unreadable(region, &gap));
    }

    fn add_buckets(&mut self, a: &str, buckets: &Listing<BucketRecord>) {
        let list = match buckets {
            Ok(list) => list,
            Err(gap) => {
                self.gap(gap);
                self.g.listing_gaps.push(ListingGap {
                    kind: Kind::Bucket,
                    account: a.to_owned(),
                    region: "global".into(),
                    gap: gap.clone(),
                });
                self.bucket_listing_gaps.push(gap.clone());
                return;
            }
        };
        self.bucket_accounts.push(a.to_owned());
        for b in list {
            let node = self.add(
                Kind::Bucket,
                &b.name,
                format!("arn:aws:s3:::{}", b.name),
                a,
                "global",
                Some(b.name.clone()),
            );
            self.set(node, schema::bucket::BUCKET_REGION, Value::opt_str(b.region.as_deref()));
            self.set(
                node,
                schema::bucket::CREATION_DATE,
                Value::opt_str(b.creation_date.as_deref()),
            );
            self.buckets.insert(b.name.clone(), node);
        }
    }

    /// One region's listings, kind by kind; then what each listing's gap means for the edges.
    pub(super) fn add_region(&mut self, a: &str, inv: &RegionInventory) {
        let r = inv.region.as_str();
        let vpcs = self.add_vpcs(a, r, &inv.vpcs);
        let subnets = self.add_subnets(a, r, &inv.subnets);
        self.count_network_interfaces(a, r, &inv.network_interfaces);
        let flow_logs = self.add_flow_logs(a, r, &inv.flow_logs);
        let client_vpn_endpoints = self.add_client_vpn_endpoints(a, r, &inv.client_vpn_endpoints);
        let vpn_connections = self.add_vpn_connections(a, r, &inv.vpn_connections);
        let log_groups = self.add_log_groups(a, r, &inv.log_groups);
        let alarms = self.add_alarms(a, r, &inv.alarms);
        let delivery_streams = self.add_delivery_streams(a, r, &inv.delivery_streams);
        self.add_internet_gateways(a, r, &inv.internet_gateways);
        let listings = PlaceListings {
            vpcs,
            subnets,
            flow_logs,
            client_vpn_endpoints,
            vpn_connections,
            log_groups,
            alarms,
            delivery_streams,
        };
        self.places.insert(place(a, r), listings);
    }

    /// Which VPCs have an internet gateway attached; each VPC of the place gets the list as its
    /// `internetGateways` field (unknown when the listing could not be read).
    fn add_internet_gateways(&mut self, a: &str, r: &str, listing: &Listing<InternetGatewayRecord>) {
        let here = place(a, r);
        let by_vpc = match listing {
            Ok(gateways) => {
                let mut by_vpc: HashMap<String, Vec<String>> = HashMap::new();
                for igw in gateways {
                    for vpc in igw.attached_vpcs() {
                        by_vpc
                            .entry(vpc.to_owned())
                            .or_default()
                            .push(igw.internet_gateway_id.clone());
                    }
                }
                Ok(by_vpc)
            }
            Err(gap) => {
                self.gap(gap);
                Err(gap.clone())
            }
        };
        let vpcs: Vec<(String, NodeId)> = self
            .vpcs
            .iter()
            .filter(|((p, _), _)| *p == here)
            .map(|((_, id), node)| (id.clone(), *node))
            .collect();
        for (vpc_id, node) in vpcs {
            let value = match &by_vpc {
                Ok(map) => Value::List(map.get(&vpc_id).cloned().unwrap_or_default()),
                Err(gap) => Value::Unknown(gap.clone()),
            };
            self.set(node, schema::vpc::INTERNET_GATEWAYS, value);
        }
        self.g.internet_gateways.insert(here, by_vpc);
    }

    pub(super) fn finish(mut self) -> Graph {
        if self.g.by_kind.len() < Kind::ALL.len() {
            self.g.by_kind.resize(Kind::ALL.len(), vec![]);
        }
        self.g.gaps.sort();
        self.g.gaps.dedup();
        self.g
    }
}

/// The account's region list; a list that names no region cannot be the account's (every account
/// has regions enabled), so it is unknown.
fn region_list(acc: &AccountInventory) -> Result<&[RegionRecord], Arc<Gap>> {
    match &acc.regions {
        Ok(list) if list.is_empty() => Err(Arc::new(Gap {
            kind: GapKind::NotReported,
            account: acc.account_id.clone(),
            region: None,
            api: "ec2:DescribeRegions".into(),
            code: "NotReported".into(),
            message: "the region list names no region: which regions are enabled is unknown".into(),
            source: None,
        })),
        Ok(list) => Ok(list),
        Err(gap) => Err(gap.clone()),
    }
}

/// Every region to add, with its opt-in status: what DescribeRegions says, plus any region evidence
/// exists for. Also the regions enabled in every account that the list leaves out (it was filtered).
fn known_regions(
    acc: &AccountInventory,
    region_list: &Result<&[RegionRecord], Arc<Gap>>,
) -> (BTreeMap<String, Value>, Vec<&'static str>) {
    let mut regions: BTreeMap<String, Value> = BTreeMap::new();
    let mut filtered_out: Vec<&'static str> = vec![];
    let scope = acc.region_scope.as_ref();
    let in_scope = |region: &str| scope.is_none_or(|s| s.iter().any(|r| r == region));
    if let Ok(list) = region_list {
        for r in list.iter() {
            // Regions outside the scan's scope are left out, but those not enabled are still
            // listed as such.
            if in_scope(&r.name) || r.opt_in_status.as_deref() == Some("not-opted-in") {
                regions.insert(r.name.clone(), Value::opt_str(r.opt_in_status.as_deref()));
            }
        }
        if list.iter().any(|r| partition_for(&r.name) == "aws") {
            for r in ALWAYS_ENABLED_REGIONS {
                if in_scope(r) && !list.iter().any(|listed| listed.name == r) {
                    filtered_out.push(r);
                    regions.insert(r.to_owned(), Value::Str("opt-in-not-required".into()));
                }
            }
        }
    }
    for r in &acc.region_data {
        regions.entry(r.region.clone()).or_insert_with(|| match region_list {
            Err(gap) => Value::Unknown(gap.clone()),
            Ok(_) => Value::Null,
        });
    }
    (regions, filtered_out)
}

fn region_enabled(opt_in: &Value) -> Value {
    match opt_in {
        Value::Str(s) => Value::Bool(s != "not-opted-in"),
        Value::Unknown(g) => Value::Unknown(g.clone()),
        _ => Value::Bool(true),
    }
}

/// A value AWS always sends: absent means not reported, which is unknown, not "no value".
pub(super) fn required(value: Option<&str>, account: &str, region: &str, api: &str, what: String) -> Value {
    match value {
        Some(v) => Value::Str(v.to_owned()),
        None => Value::Unknown(Arc::new(Gap {
            kind: GapKind::NotReported,
            account: account.to_owned(),
            region: Some(region.to_owned()),
            api: api.to_owned(),
            code: "NotReported".into(),
            message: what,
            source: None,
        })),
    }
}
