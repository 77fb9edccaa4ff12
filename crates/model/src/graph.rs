//! The asset graph and its construction from an [`Inventory`].

use crate::inventory::*;
use crate::partition_for;
use crate::schema::{self, EdgeIx, FieldIx, Kind};
use crate::value::{Gap, GapKind, Value};
use std::collections::{BTreeMap, HashMap};
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

#[derive(Debug, Clone)]
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
}

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

type Place = (String, String); // (account, region)

/// TunnelState alarms per place, with the VpnId and TunnelIpAddress dimensions they watch.
type AlarmsByPlace = HashMap<Place, Vec<(NodeId, Option<String>, Option<String>)>>;

fn place(account: &str, region: &str) -> Place {
    (account.to_owned(), region.to_owned())
}

/// Per-place state of each listing the edges depend on.
#[derive(Default)]
struct PlaceListings {
    vpcs: Option<Arc<Gap>>,
    subnets: Option<Arc<Gap>>,
    flow_logs: Option<Arc<Gap>>,
    client_vpn_endpoints: Option<Arc<Gap>>,
    vpn_connections: Option<Arc<Gap>>,
    log_groups: Option<Arc<Gap>>,
    alarms: Option<Arc<Gap>>,
    delivery_streams: Option<Arc<Gap>>,
}

#[derive(Default)]
struct Builder {
    g: Graph,
    places: HashMap<Place, PlaceListings>,
    vpcs: HashMap<(Place, String), NodeId>,
    subnets: HashMap<(Place, String), NodeId>,
    log_groups: HashMap<(Place, String), NodeId>,
    streams: HashMap<(Place, String), NodeId>,
    buckets: HashMap<String, NodeId>,
    bucket_listing_gaps: Vec<Arc<Gap>>,
    bucket_accounts: Vec<String>,
    eni_counts: HashMap<(Place, String), i64>,
    eni_gaps: HashMap<Place, Arc<Gap>>,
    flow_logs: Vec<(NodeId, FlowLogRecord)>,
    endpoints: Vec<(NodeId, ClientVpnEndpointRecord)>,
    tunnels: Vec<(NodeId, Option<TunnelOptionsRecord>)>,
    alarms: Vec<(NodeId, AlarmRecord)>,
    region_nodes: HashMap<Place, NodeId>,
    account_nodes: HashMap<String, NodeId>,
    region_list_gaps_by_account: Vec<(String, Arc<Gap>)>,
    /// Every tunnel with its options, kept after linking for the reverse-edge pass.
    tunnels_seen: Vec<(NodeId, Option<TunnelOptionsRecord>)>,
}

impl Builder {
    fn add(&mut self, kind: Kind, id: &str, arn: String, account: &str, region: &str, name: Option<String>) -> NodeId {
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
        });
        if self.g.by_kind.len() < Kind::ALL.len() {
            self.g.by_kind.resize(Kind::ALL.len(), vec![]);
        }
        self.g.by_kind[kind.index()].push(node);
        node
    }

    fn set(&mut self, node: NodeId, field: FieldIx, value: Value) {
        self.g.assets[node.0 as usize].fields[field.0] = value;
    }

    fn set_edge(&mut self, node: NodeId, edge: EdgeIx, value: Edge) {
        self.g.assets[node.0 as usize].edges[edge.0] = value;
    }

    fn push_edge(&mut self, node: NodeId, edge: EdgeIx, target: NodeId) {
        match &mut self.g.assets[node.0 as usize].edges[edge.0] {
            Edge::Known(list) | Edge::Partial(list, _) => list.push(target),
            Edge::Unknown(_) => {}
        }
    }

    /// Mark an edge as possibly incomplete because of `gap` (an unknown edge stays unknown).
    fn mark_partial(&mut self, node: NodeId, edge: EdgeIx, gap: &Arc<Gap>) {
        let slot = &mut self.g.assets[node.0 as usize].edges[edge.0];
        if let Edge::Known(list) = slot {
            *slot = Edge::Partial(std::mem::take(list), gap.clone());
        }
    }

    fn gap(&mut self, gap: &Arc<Gap>) {
        self.g.gaps.push(gap.clone());
    }

    fn listing<'a, T>(
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

    fn add_account(&mut self, acc: &AccountInventory) {
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

        // Regions: what DescribeRegions says, plus any region evidence exists for.
        let mut regions: BTreeMap<String, Value> = BTreeMap::new();
        let scope = acc.region_scope.as_ref();
        if let Some(scope) = scope {
            self.g.region_scopes.push((a.to_owned(), scope.clone()));
        }
        let in_scope = |region: &str| scope.is_none_or(|s| s.iter().any(|r| r == region));
        // A list that names no region cannot be the account's: every account has regions enabled.
        let empty_list_gap = match &acc.regions {
            Ok(list) if list.is_empty() => Some(Arc::new(Gap {
                kind: GapKind::NotReported,
                account: a.to_owned(),
                region: None,
                api: "ec2:DescribeRegions".into(),
                code: "NotReported".into(),
                message: "the region list names no region: which regions are enabled is unknown".into(),
                source: None,
            })),
            _ => None,
        };
        let region_list = match (&acc.regions, &empty_list_gap) {
            (_, Some(gap)) | (Err(gap), None) => Err(gap.clone()),
            (Ok(list), None) => Ok(list),
        };
        // Regions enabled in every account that the list leaves out: it was filtered.
        let mut filtered_out: Vec<&str> = vec![];
        match &region_list {
            Ok(list) => {
                for r in list.iter() {
                    // Regions outside the scan's scope are left out, but those not enabled are
                    // still listed as such.
                    if in_scope(&r.name) || r.opt_in_status.as_deref() == Some("not-opted-in") {
                        regions.insert(r.name.clone(), Value::opt_str(r.opt_in_status.as_deref()));
                    }
                }
                if list.iter().any(|r| partition_for(&r.name) == "aws") {
                    for r in ALWAYS_ENABLED_REGIONS {
                        if in_scope(r) && !list.iter().any(|listed| listed.name == *r) {
                            filtered_out.push(r);
                            regions.insert((*r).to_owned(), Value::Str("opt-in-not-required".into()));
                        }
                    }
                }
            }
            Err(gap) => {
                self.gap(gap);
                self.g.region_list_gaps.push(gap.clone());
                self.region_list_gaps_by_account.push((a.to_owned(), gap.clone()));
            }
        }
        let data: HashMap<&str, &RegionInventory> = acc.region_data.iter().map(|r| (r.region.as_str(), r)).collect();
        for r in data.keys() {
            regions.entry((*r).to_owned()).or_insert_with(|| match &region_list {
                Err(gap) => Value::Unknown(gap.clone()),
                Ok(_) => Value::Null,
            });
        }

        for (region, opt_in) in regions {
            let enabled = match &opt_in {
                Value::Str(s) => Value::Bool(s != "not-opted-in"),
                Value::Unknown(g) => Value::Unknown(g.clone()),
                _ => Value::Bool(true),
            };
            let partition = partition_for(&region);
            let node = self.add(
                Kind::Region,
                &region,
                format!("arn:{partition}:ec2:{region}:{a}:region"),
                a,
                &region,
                None,
            );
            self.set(node, schema::region::OPT_IN_STATUS, opt_in.clone());
            self.set(node, schema::region::ENABLED, enabled.clone());
            self.push_edge(account_node, schema::account::REGIONS, node);
            self.region_nodes.insert(place(a, &region), node);
            match data.get(region.as_str()) {
                Some(inv) => self.add_region(a, inv),
                None if enabled == Value::Bool(false) => {
                    self.g.disabled_regions.push(DisabledRegion {
                        account: a.to_owned(),
                        region: region.clone(),
                        opt_in_status: match opt_in {
                            Value::Str(s) => s,
                            _ => String::new(),
                        },
                    });
                }
                None => {
                    let gap = if filtered_out.contains(&region.as_str()) {
                        Arc::new(Gap {
                            kind: GapKind::Missing,
                            account: a.to_owned(),
                            region: Some(region.clone()),
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
                            region: Some(region.clone()),
                            api: "netaudit:LoadEvidence".into(),
                            code: "MissingEvidence".into(),
                            message: "the region is enabled but no evidence was collected for it".into(),
                            source: None,
                        })
                    };
                    self.add_region(a, &RegionInventory::unreadable(&region, &gap));
                }
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

        match &acc.buckets {
            Ok(list) => {
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
            Err(gap) => {
                self.gap(gap);
                self.g.listing_gaps.push(ListingGap {
                    kind: Kind::Bucket,
                    account: a.to_owned(),
                    region: "global".into(),
                    gap: gap.clone(),
                });
                self.bucket_listing_gaps.push(gap.clone());
            }
        }
    }

    fn add_region(&mut self, a: &str, inv: &RegionInventory) {
        let r = inv.region.as_str();
        let p = partition_for(r);
        let here = place(a, r);
        let mut listings = PlaceListings::default();

        let (vpcs, gap) = self.listing(Kind::Vpc, a, r, &inv.vpcs);
        listings.vpcs = gap;
        let region_node = self.region_nodes.get(&here).copied();
        for v in vpcs {
            let owner = v.owner_id.clone().unwrap_or_else(|| a.to_owned());
            let node = self.add(
                Kind::Vpc,
                &v.vpc_id,
                format!("arn:{p}:ec2:{r}:{owner}:vpc/{}", v.vpc_id),
                a,
                r,
                v.name_tag.clone(),
            );
            use schema::vpc::*;
            self.set(node, OWNER_ID, Value::opt_str(v.owner_id.as_deref()));
            self.set(
                node,
                IS_SHARED,
                v.owner_id.as_ref().map_or(Value::Bool(false), |o| Value::Bool(o != a)),
            );
            self.set(node, IS_DEFAULT, Value::opt_bool(v.is_default));
            self.set(node, STATE, Value::opt_str(v.state.as_deref()));
            self.set(node, CIDR_BLOCK, Value::opt_str(v.cidr_block.as_deref()));
            self.vpcs.insert((here.clone(), v.vpc_id.clone()), node);
            if let Some(region_node) = region_node {
                self.push_edge(region_node, schema::region::VPCS, node);
            }
        }
        if let (Some(region_node), Some(gap)) = (region_node, &listings.vpcs) {
            self.set_edge(region_node, schema::region::VPCS, Edge::Unknown(gap.clone()));
        }

        let (subnets, gap) = self.listing(Kind::Subnet, a, r, &inv.subnets);
        listings.subnets = gap;
        for s in subnets {
            let node = self.add(
                Kind::Subnet,
                &s.subnet_id,
                format!("arn:{p}:ec2:{r}:{a}:subnet/{}", s.subnet_id),
                a,
                r,
                s.name_tag.clone(),
            );
            use schema::subnet::*;
            self.set(node, VPC_ID, Value::opt_str(s.vpc_id.as_deref()));
            self.set(node, CIDR_BLOCK, Value::opt_str(s.cidr_block.as_deref()));
            self.set(node, AVAILABILITY_ZONE, Value::opt_str(s.availability_zone.as_deref()));
            self.subnets.insert((here.clone(), s.subnet_id.clone()), node);
        }

        match &inv.network_interfaces {
            Ok(list) => {
                for eni in list {
                    if let Some(vpc) = &eni.vpc_id {
                        *self.eni_counts.entry((here.clone(), vpc.clone())).or_default() += 1;
                    }
                }
            }
            Err(gap) => {
                self.gap(gap);
                self.eni_gaps.insert(here.clone(), gap.clone());
            }
        }

        let (flow_logs, gap) = self.listing(Kind::FlowLog, a, r, &inv.flow_logs);
        listings.flow_logs = gap;
        for f in flow_logs {
            let node = self.add(
                Kind::FlowLog,
                &f.flow_log_id,
                format!("arn:{p}:ec2:{r}:{a}:vpc-flow-log/{}", f.flow_log_id),
                a,
                r,
                f.name_tag.clone(),
            );
            use schema::flow_log::*;
            // Fields DescribeFlowLogs always sends: absent means not reported, not "none".
            let flow_field = |value: Option<&str>, what: &str| {
                required(
                    value,
                    a,
                    r,
                    "ec2:DescribeFlowLogs",
                    format!("{} has no {what}", f.flow_log_id),
                )
            };
            self.set(
                node,
                FLOW_LOG_STATUS,
                flow_field(f.flow_log_status.as_deref(), "FlowLogStatus"),
            );
            self.set(node, RESOURCE_ID, Value::opt_str(f.resource_id.as_deref()));
            self.set(
                node,
                RESOURCE_TYPE,
                Value::opt_str(f.resource_id.as_deref().and_then(resource_type_of)),
            );
            self.set(node, TRAFFIC_TYPE, flow_field(f.traffic_type.as_deref(), "TrafficType"));
            self.set(
                node,
                DELIVER_LOGS_STATUS,
                flow_field(f.deliver_logs_status.as_deref(), "DeliverLogsStatus"),
            );
            self.set(
                node,
                DELIVER_LOGS_ERROR_MESSAGE,
                Value::opt_str(f.deliver_logs_error_message.as_deref()),
            );
            self.set(
                node,
                DELIVER_LOGS_PERMISSION_ARN,
                Value::opt_str(f.deliver_logs_permission_arn.as_deref()),
            );
            self.set(node, DESTINATION_TYPE, Value::Str(destination_type(f).into()));
            self.set(node, LOG_DESTINATION, Value::opt_str(f.log_destination.as_deref()));
            self.set(node, LOG_GROUP_NAME, Value::opt_str(f.log_group_name.as_deref()));
            self.set(
                node,
                MAX_AGGREGATION_INTERVAL,
                Value::opt_int(f.max_aggregation_interval),
            );
            self.set(node, LOG_FORMAT, Value::opt_str(f.log_format.as_deref()));
            self.set(node, CREATION_TIME, Value::opt_str(f.creation_time.as_deref()));
            self.flow_logs.push((node, f.clone()));
        }

        let (endpoints, gap) = self.listing(Kind::ClientVpnEndpoint, a, r, &inv.client_vpn_endpoints);
        listings.client_vpn_endpoints = gap;
        for e in endpoints {
            let node = self.add(
                Kind::ClientVpnEndpoint,
                &e.endpoint_id,
                format!("arn:{p}:ec2:{r}:{a}:client-vpn-endpoint/{}", e.endpoint_id),
                a,
                r,
                e.name_tag.clone(),
            );
            use schema::client_vpn_endpoint::*;
            self.set(
                node,
                STATUS,
                required(
                    e.status.as_deref(),
                    a,
                    r,
                    "ec2:DescribeClientVpnEndpoints",
                    format!("{} has no Status", e.endpoint_id),
                ),
            );
            let log = e.connection_log.clone().unwrap_or_default();
            // An endpoint created without logging options has logging off (the AWS default).
            self.set(node, CONNECTION_LOG_ENABLED, Value::Bool(log.enabled.unwrap_or(false)));
            self.set(
                node,
                CLOUDWATCH_LOG_GROUP,
                Value::opt_str(log.cloudwatch_log_group.as_deref()),
            );
            self.set(
                node,
                CLOUDWATCH_LOG_STREAM,
                Value::opt_str(log.cloudwatch_log_stream.as_deref()),
            );
            self.set(node, VPC_ID, Value::opt_str(e.vpc_id.as_deref()));
            self.set(node, DESCRIPTION, Value::opt_str(e.description.as_deref()));
            self.endpoints.push((node, e.clone()));
        }

        let (connections, gap) = self.listing(Kind::VpnConnection, a, r, &inv.vpn_connections);
        if let Some(gap) = &gap {
            self.g.listing_gaps.push(ListingGap {
                kind: Kind::VpnTunnel,
                account: a.into(),
                region: r.into(),
                gap: gap.clone(),
            });
        }
        listings.vpn_connections = gap;
        for c in connections {
            self.add_vpn_connection(a, r, c);
        }

        let (groups, gap) = self.listing(Kind::LogGroup, a, r, &inv.log_groups);
        listings.log_groups = gap;
        for lg in groups {
            let arn = lg
                .arn
                .as_deref()
                .map(|s| s.strip_suffix(":*").unwrap_or(s).to_owned())
                .unwrap_or_else(|| format!("arn:{p}:logs:{r}:{a}:log-group:{}", lg.log_group_name));
            let node = self.add(
                Kind::LogGroup,
                &lg.log_group_name,
                arn,
                a,
                r,
                Some(lg.log_group_name.clone()),
            );
            use schema::log_group::*;
            // AWS reports no retention for "never expire"; any value outside the list CloudWatch
            // Logs accepts (0, a negative number) is malformed, never "never expire".
            match lg.retention_in_days {
                None => {
                    self.set(node, RETENTION_IN_DAYS, Value::Null);
                    self.set(node, NEVER_EXPIRES, Value::Bool(true));
                }
                Some(days) if RETENTION_DAYS.contains(&days) => {
                    self.set(node, RETENTION_IN_DAYS, Value::Int(days));
                    self.set(node, NEVER_EXPIRES, Value::Bool(false));
                }
                Some(days) => {
                    let gap = Arc::new(Gap {
                        kind: GapKind::Malformed,
                        account: a.to_owned(),
                        region: Some(r.to_owned()),
                        api: "logs:DescribeLogGroups".into(),
                        code: "MalformedValue".into(),
                        message: format!(
                            "log group {} reports retentionInDays {days}, which CloudWatch Logs does not allow",
                            lg.log_group_name
                        ),
                        source: None,
                    });
                    self.gap(&gap);
                    self.set(node, RETENTION_IN_DAYS, Value::Unknown(gap.clone()));
                    self.set(node, NEVER_EXPIRES, Value::Unknown(gap));
                }
            }
            self.set(node, KMS_KEY_ID, Value::opt_str(lg.kms_key_id.as_deref()));
            self.set(node, LOG_GROUP_CLASS, Value::opt_str(lg.log_group_class.as_deref()));
            self.set(node, STORED_BYTES, Value::opt_int(lg.stored_bytes));
            self.set(node, CREATION_TIME, Value::opt_int(lg.creation_time));
            self.log_groups.insert((here.clone(), lg.log_group_name.clone()), node);
        }

        let (alarms, gap) = self.listing(Kind::Alarm, a, r, &inv.alarms);
        listings.alarms = gap;
        for al in alarms {
            if al.namespace.as_deref() != Some("AWS/VPN") || al.metric_name.as_deref() != Some("TunnelState") {
                continue;
            }
            let arn = al
                .alarm_arn
                .clone()
                .unwrap_or_else(|| format!("arn:{p}:cloudwatch:{r}:{a}:alarm:{}", al.alarm_name));
            let node = self.add(Kind::Alarm, &al.alarm_name, arn, a, r, Some(al.alarm_name.clone()));
            use schema::alarm::*;
            let dim = |k: &str| al.dimensions.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            self.set(node, NAMESPACE, Value::opt_str(al.namespace.as_deref()));
            self.set(node, METRIC_NAME, Value::opt_str(al.metric_name.as_deref()));
            self.set(node, VPN_ID, Value::opt_str(dim("VpnId")));
            self.set(node, TUNNEL_IP_ADDRESS, Value::opt_str(dim("TunnelIpAddress")));
            self.set(node, ACTIONS_ENABLED, Value::opt_bool(al.actions_enabled));
            self.set(node, ALARM_ACTION_COUNT, Value::Int(al.alarm_actions.len() as i64));
            self.set(node, STATE_VALUE, Value::opt_str(al.state_value.as_deref()));
            self.alarms.push((node, al.clone()));
        }

        let (streams, gap) = self.listing(Kind::DeliveryStream, a, r, &inv.delivery_streams);
        listings.delivery_streams = gap;
        for s in streams {
            let node = self.add(
                Kind::DeliveryStream,
                &s.name,
                format!("arn:{p}:firehose:{r}:{a}:deliverystream/{}", s.name),
                a,
                r,
                Some(s.name.clone()),
            );
            self.streams.insert((here.clone(), s.name.clone()), node);
        }

        self.places.insert(here, listings);
    }

    fn add_vpn_connection(&mut self, a: &str, r: &str, c: &VpnConnectionRecord) {
        let p = partition_for(r);
        let id = &c.vpn_connection_id;
        let conn_arn = format!("arn:{p}:ec2:{r}:{a}:vpn-connection/{id}");
        let node = self.add(Kind::VpnConnection, id, conn_arn.clone(), a, r, c.name_tag.clone());
        {
            use schema::vpn_connection::*;
            self.set(
                node,
                STATE,
                required(
                    c.state.as_deref(),
                    a,
                    r,
                    "ec2:DescribeVpnConnections",
                    format!("{id} has no State"),
                ),
            );
            self.set(node, TYPE, Value::opt_str(c.connection_type.as_deref()));
            self.set(
                node,
                CUSTOMER_GATEWAY_ID,
                Value::opt_str(c.customer_gateway_id.as_deref()),
            );
            self.set(node, VPN_GATEWAY_ID, Value::opt_str(c.vpn_gateway_id.as_deref()));
            self.set(
                node,
                TRANSIT_GATEWAY_ID,
                Value::opt_str(c.transit_gateway_id.as_deref()),
            );
            self.set(node, STATIC_ROUTES_ONLY, Value::opt_bool(c.static_routes_only));
            self.set(
                node,
                TELEMETRY_COUNT,
                Value::Int(c.telemetry.as_ref().map_or(0, |t| t.len() as i64)),
            );
        }

        // Join options and telemetry by outside IP; an entry with no IP yet (provisioning) fills the
        // first slot that has none.
        struct Slot {
            ip: Option<String>,
            options: Option<TunnelOptionsRecord>,
            telemetry: Option<TelemetryRecord>,
        }
        let ip_of = |s: &Option<String>| s.clone().filter(|ip| !ip.is_empty());
        let mut slots: Vec<Slot> = c
            .tunnel_options
            .iter()
            .flatten()
            .map(|o| Slot {
                ip: ip_of(&o.outside_ip_address),
                options: Some(o.clone()),
                telemetry: None,
            })
            .collect();
        // Entries that carry an IP first, so an IP-less one cannot take a slot another entry names.
        // An entry without an IP only fills a slot that has none either: which tunnel it describes
        // is otherwise a guess, and a guess must not decide a verdict.
        let mut telemetry: Vec<&TelemetryRecord> = c.telemetry.iter().flatten().collect();
        telemetry.sort_by_key(|t| ip_of(&t.outside_ip_address).is_none());
        for t in telemetry {
            let ip = ip_of(&t.outside_ip_address);
            let free = |s: &Slot| s.telemetry.is_none();
            let slot = match &ip {
                Some(ip) => slots
                    .iter()
                    .position(|s| free(s) && s.ip.as_deref() == Some(ip.as_str())),
                None => None,
            }
            .or_else(|| slots.iter().position(|s| free(s) && s.ip.is_none()));
            match slot {
                Some(i) => {
                    if slots[i].ip.is_none() {
                        slots[i].ip = ip;
                    }
                    slots[i].telemetry = Some(t.clone());
                }
                // A connection has two tunnels; an entry that fits neither is not attributed.
                None if slots.len() < 2 => slots.push(Slot {
                    ip,
                    options: None,
                    telemetry: Some(t.clone()),
                }),
                None => {}
            }
        }
        while slots.len() < 2 {
            slots.push(Slot {
                ip: None,
                options: None,
                telemetry: None,
            });
        }

        let options_count = c.tunnel_options.as_ref().map(Vec::len);
        let telemetry_count = c.telemetry.as_ref().map(Vec::len);
        let unreported = |what: &str, count: Option<usize>| {
            let message = match count {
                None => format!("{id}: DescribeVpnConnections returned no {what}"),
                Some(n) => format!("{id}: {what} lists {n} of 2 tunnels (a tunnel still provisioning reports none)"),
            };
            Value::Unknown(Arc::new(Gap {
                kind: GapKind::NotReported,
                account: a.to_owned(),
                region: Some(r.to_owned()),
                api: "ec2:DescribeVpnConnections".into(),
                code: "NotReported".into(),
                message,
                source: None,
            }))
        };

        for (i, slot) in slots.into_iter().enumerate() {
            let number = i + 1;
            let suffix = slot.ip.clone().unwrap_or_else(|| format!("tunnel-{number}"));
            let tunnel_id = format!("{id}/tunnel/{suffix}");
            let t = self.add(
                Kind::VpnTunnel,
                &tunnel_id,
                format!("{conn_arn}/tunnel/{suffix}"),
                a,
                r,
                None,
            );
            use schema::vpn_tunnel::*;
            self.set(t, VPN_CONNECTION_ID, Value::Str(id.clone()));
            self.set(
                t,
                CONNECTION_STATE,
                required(
                    c.state.as_deref(),
                    a,
                    r,
                    "ec2:DescribeVpnConnections",
                    format!("{id} has no State"),
                ),
            );
            self.set(t, TUNNEL_NUMBER, Value::Int(number as i64));
            self.set(
                t,
                OUTSIDE_IP_ADDRESS,
                slot.ip.clone().map_or_else(
                    || unreported("tunnel outside IP", telemetry_count.max(options_count)),
                    Value::Str,
                ),
            );
            match &slot.telemetry {
                Some(tel) => {
                    self.set(
                        t,
                        STATUS,
                        required(
                            tel.status.as_deref(),
                            a,
                            r,
                            "ec2:DescribeVpnConnections",
                            format!("{id}: a VgwTelemetry entry has no Status"),
                        ),
                    );
                    self.set(t, LAST_STATUS_CHANGE, Value::opt_str(tel.last_status_change.as_deref()));
                    self.set(t, STATUS_MESSAGE, Value::opt_str(tel.status_message.as_deref()));
                }
                None => {
                    let u = unreported("VgwTelemetry", telemetry_count);
                    self.set(t, STATUS, u.clone());
                    self.set(t, LAST_STATUS_CHANGE, u.clone());
                    self.set(t, STATUS_MESSAGE, u);
                }
            }
            match &slot.options {
                Some(o) => {
                    let versions = o
                        .ike_versions
                        .clone()
                        .unwrap_or_else(|| vec!["ikev1".into(), "ikev2".into()]);
                    self.set(t, IKE_VERSIONS, Value::List(versions));
                    let log = o.cloudwatch_log.clone().unwrap_or_default();
                    self.set(t, LOG_ENABLED, Value::Bool(log.log_enabled.unwrap_or(false)));
                    self.set(t, LOG_GROUP_ARN, Value::opt_str(log.log_group_arn.as_deref()));
                    self.set(t, LOG_OUTPUT_FORMAT, Value::opt_str(log.log_output_format.as_deref()));
                    self.set(t, BGP_LOG_ENABLED, Value::Bool(log.bgp_log_enabled.unwrap_or(false)));
                    self.set(t, BGP_LOG_GROUP_ARN, Value::opt_str(log.bgp_log_group_arn.as_deref()));
                }
                None => {
                    let u = unreported("Options.TunnelOptions", options_count);
                    for f in [
                        IKE_VERSIONS,
                        LOG_ENABLED,
                        LOG_GROUP_ARN,
                        LOG_OUTPUT_FORMAT,
                        BGP_LOG_ENABLED,
                        BGP_LOG_GROUP_ARN,
                    ] {
                        self.set(t, f, u.clone());
                    }
                }
            }
            self.set_edge(t, VPN_CONNECTION, Edge::Known(vec![node]));
            self.push_edge(node, schema::vpn_connection::TUNNELS, t);
            self.tunnels.push((t, slot.options));
        }
    }

    /// The log group an ARN or name points to: the node, none, or why we cannot tell.
    fn resolve_log_group(&self, account: &str, region: &str, arn_or_name: &str) -> Edge {
        let (acc, reg, name) = match parse_log_group_arn(arn_or_name) {
            Some((reg, acc, name)) => (acc, reg, name),
            None => (account.to_owned(), region.to_owned(), arn_or_name.to_owned()),
        };
        let p = (acc.clone(), reg.clone());
        if let Some(node) = self.log_groups.get(&(p.clone(), name.clone())) {
            return Edge::Known(vec![*node]);
        }
        match self.places.get(&p) {
            Some(PlaceListings {
                log_groups: Some(gap), ..
            }) => Edge::Unknown(gap.clone()),
            Some(_) => Edge::Known(vec![]),
            None => Edge::Unknown(Arc::new(Gap {
                kind: GapKind::NotCollected,
                account: acc.clone(),
                region: Some(reg.clone()),
                api: "logs:DescribeLogGroups".into(),
                code: "NotCollected".into(),
                message: format!("log group {name} is in {acc}/{reg}, which was not collected"),
                source: None,
            })),
        }
    }

    fn link(&mut self) {
        // VPCs: flow logs, subnets, interfaces, endpoints.
        let vpc_nodes: Vec<NodeId> = self.g.of_kind(Kind::Vpc).to_vec();
        let mut flow_logs_by_resource: HashMap<(Place, String), Vec<NodeId>> = HashMap::new();
        for (node, f) in &self.flow_logs {
            if let Some(res) = &f.resource_id {
                let asset = &self.g.assets[node.0 as usize];
                flow_logs_by_resource
                    .entry((place(&asset.account_id, &asset.region), res.clone()))
                    .or_default()
                    .push(*node);
            }
        }
        let mut subnets_by_vpc: HashMap<(Place, String), Vec<NodeId>> = HashMap::new();
        for node in self.g.of_kind(Kind::Subnet).to_vec() {
            let asset = &self.g.assets[node.0 as usize];
            let here = place(&asset.account_id, &asset.region);
            let id = asset.id.clone();
            if let Value::Str(vpc) = asset.field(schema::subnet::VPC_ID).clone() {
                subnets_by_vpc
                    .entry((here.clone(), vpc.clone()))
                    .or_default()
                    .push(node);
                let vpc_edge = match (
                    self.vpcs.get(&(here.clone(), vpc.clone())),
                    self.places.get(&here).and_then(|l| l.vpcs.clone()),
                ) {
                    (Some(v), _) => Edge::Known(vec![*v]),
                    (None, Some(gap)) => Edge::Unknown(gap),
                    (None, None) => Edge::Known(vec![]),
                };
                self.set_edge(node, schema::subnet::VPC, vpc_edge);
            }
            let edge = self.flow_log_edge(&here, &flow_logs_by_resource, &id);
            self.set_edge(node, schema::subnet::HAS_FLOW_LOG, edge);
        }
        let mut endpoints_by_vpc: HashMap<(Place, String), Vec<NodeId>> = HashMap::new();
        for (node, e) in &self.endpoints {
            let asset = &self.g.assets[node.0 as usize];
            if let Some(vpc) = &e.vpc_id {
                endpoints_by_vpc
                    .entry((place(&asset.account_id, &asset.region), vpc.clone()))
                    .or_default()
                    .push(*node);
            }
        }
        for node in vpc_nodes {
            let asset = &self.g.assets[node.0 as usize];
            let here = place(&asset.account_id, &asset.region);
            let key = (here.clone(), asset.id.clone());
            let listings = self.places.get(&here);
            // A shared VPC's flow logs belong to its owner: only the owner's view can show them.
            let owner = match asset.field(schema::vpc::OWNER_ID) {
                Value::Str(o) if o != &asset.account_id => Some(o.clone()),
                _ => None,
            };
            let flow = match owner {
                None => self.flow_log_edge(&here, &flow_logs_by_resource, &asset.id),
                Some(owner) => {
                    let owner_place = place(&owner, &asset.region);
                    if self.places.contains_key(&owner_place) {
                        self.flow_log_edge(&owner_place, &flow_logs_by_resource, &asset.id)
                    } else {
                        Edge::Unknown(Arc::new(Gap {
                            kind: GapKind::NotCollected,
                            account: owner.clone(),
                            region: Some(asset.region.clone()),
                            api: "ec2:DescribeFlowLogs".into(),
                            code: "NotCollected".into(),
                            message: format!(
                                "{} is shared from {owner}, whose flow logs only that account can see; it was not collected",
                                asset.id
                            ),
                            source: None,
                        }))
                    }
                }
            };
            let subnets = match listings.and_then(|l| l.subnets.clone()) {
                Some(gap) => Edge::Unknown(gap),
                None => Edge::Known(subnets_by_vpc.get(&key).cloned().unwrap_or_default()),
            };
            let endpoints = match listings.and_then(|l| l.client_vpn_endpoints.clone()) {
                Some(gap) => Edge::Unknown(gap),
                None => Edge::Known(endpoints_by_vpc.get(&key).cloned().unwrap_or_default()),
            };
            let enis = match self.eni_gaps.get(&here) {
                Some(gap) => Value::Unknown(gap.clone()),
                None => Value::Int(self.eni_counts.get(&key).copied().unwrap_or(0)),
            };
            self.set_edge(node, schema::vpc::HAS_FLOW_LOG, flow);
            self.set_edge(node, schema::vpc::SUBNETS, subnets);
            self.set_edge(node, schema::vpc::CLIENT_VPN_ENDPOINTS, endpoints);
            self.set(node, schema::vpc::NETWORK_INTERFACE_COUNT, enis);
        }

        // Flow logs: the watched resource and the destination.
        let flow_logs = std::mem::take(&mut self.flow_logs);
        for (node, f) in &flow_logs {
            let (a, r) = {
                let asset = &self.g.assets[node.0 as usize];
                (asset.account_id.clone(), asset.region.clone())
            };
            let here = place(&a, &r);
            if let Some(res) = &f.resource_id {
                let (edge_ix, index, gap) = if res.starts_with("vpc-") {
                    (
                        Some(schema::flow_log::VPC),
                        &self.vpcs,
                        self.places.get(&here).and_then(|l| l.vpcs.clone()),
                    )
                } else if res.starts_with("subnet-") {
                    (
                        Some(schema::flow_log::SUBNET),
                        &self.subnets,
                        self.places.get(&here).and_then(|l| l.subnets.clone()),
                    )
                } else {
                    (None, &self.vpcs, None)
                };
                if let Some(edge_ix) = edge_ix {
                    let edge = match (index.get(&(here.clone(), res.clone())), gap) {
                        (Some(n), _) => Edge::Known(vec![*n]),
                        (None, Some(gap)) => Edge::Unknown(gap),
                        (None, None) => Edge::Known(vec![]),
                    };
                    self.set_edge(*node, edge_ix, edge);
                }
            }
            match destination_type(f) {
                "cloud-watch-logs" => {
                    let target = f
                        .log_destination
                        .as_deref()
                        .or(f.log_group_name.as_deref())
                        .unwrap_or_default();
                    let edge = self.resolve_log_group(&a, &r, target);
                    self.add_reverse(&edge, schema::log_group::FLOW_LOGS, *node);
                    self.set_edge(*node, schema::flow_log::LOG_GROUP, edge);
                }
                "s3" => {
                    let edge = self.resolve_bucket(f.log_destination.as_deref().unwrap_or_default());
                    self.add_reverse(&edge, schema::bucket::FLOW_LOGS, *node);
                    self.set_edge(*node, schema::flow_log::BUCKET, edge);
                }
                "kinesis-data-firehose" => {
                    let edge = self.resolve_stream(&a, &r, f.log_destination.as_deref().unwrap_or_default());
                    self.add_reverse(&edge, schema::delivery_stream::FLOW_LOGS, *node);
                    self.set_edge(*node, schema::flow_log::DELIVERY_STREAM, edge);
                }
                _ => {}
            }
        }

        // Client VPN endpoints: their VPC and connection-log group.
        let endpoints = std::mem::take(&mut self.endpoints);
        for (node, e) in &endpoints {
            let (a, r) = {
                let asset = &self.g.assets[node.0 as usize];
                (asset.account_id.clone(), asset.region.clone())
            };
            let here = place(&a, &r);
            if let Some(vpc) = &e.vpc_id {
                let edge = match (
                    self.vpcs.get(&(here.clone(), vpc.clone())),
                    self.places.get(&here).and_then(|l| l.vpcs.clone()),
                ) {
                    (Some(v), _) => Edge::Known(vec![*v]),
                    (None, Some(gap)) => Edge::Unknown(gap),
                    (None, None) => Edge::Known(vec![]),
                };
                self.set_edge(*node, schema::client_vpn_endpoint::VPC, edge);
            }
            let log = e.connection_log.clone().unwrap_or_default();
            if let (Some(true), Some(group)) = (log.enabled, log.cloudwatch_log_group.as_deref()) {
                let edge = self.resolve_log_group(&a, &r, group);
                self.add_reverse(&edge, schema::log_group::CLIENT_VPN_ENDPOINTS, *node);
                self.set_edge(*node, schema::client_vpn_endpoint::LOG_GROUP, edge);
            }
        }

        // Tunnels: log groups and alarms. An alarm watches a tunnel through its VpnId dimension
        // (alone: the whole connection), its TunnelIpAddress dimension, or both.
        let mut alarms_by_place: AlarmsByPlace = HashMap::new();
        for (node, al) in &self.alarms {
            let asset = &self.g.assets[node.0 as usize];
            let dim = |k: &str| al.dimensions.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let (vpn, tunnel_ip) = (dim("VpnId"), dim("TunnelIpAddress"));
            if vpn.is_some() || tunnel_ip.is_some() {
                alarms_by_place
                    .entry(place(&asset.account_id, &asset.region))
                    .or_default()
                    .push((*node, vpn, tunnel_ip));
            }
        }
        let tunnels = std::mem::take(&mut self.tunnels);
        self.tunnels_seen = tunnels.clone();
        for (node, options) in &tunnels {
            let (a, r, conn, ip) = {
                let asset = &self.g.assets[node.0 as usize];
                let conn = match asset.field(schema::vpn_tunnel::VPN_CONNECTION_ID) {
                    Value::Str(s) => s.clone(),
                    _ => String::new(),
                };
                let ip = match asset.field(schema::vpn_tunnel::OUTSIDE_IP_ADDRESS) {
                    Value::Str(s) => Some(s.clone()),
                    _ => None,
                };
                (asset.account_id.clone(), asset.region.clone(), conn, ip)
            };
            match options {
                Some(o) => {
                    let log = o.cloudwatch_log.clone().unwrap_or_default();
                    if let (Some(true), Some(arn)) = (log.log_enabled, log.log_group_arn.as_deref()) {
                        let edge = self.resolve_log_group(&a, &r, arn);
                        self.add_reverse(&edge, schema::log_group::VPN_TUNNELS, *node);
                        self.set_edge(*node, schema::vpn_tunnel::LOG_GROUP, edge);
                    }
                    if let (Some(true), Some(arn)) = (log.bgp_log_enabled, log.bgp_log_group_arn.as_deref()) {
                        let edge = self.resolve_log_group(&a, &r, arn);
                        self.add_reverse(&edge, schema::log_group::VPN_TUNNELS, *node);
                        self.set_edge(*node, schema::vpn_tunnel::BGP_LOG_GROUP, edge);
                    }
                }
                // Options not reported: where the tunnel logs is unknown, not "nowhere".
                None => {
                    if let Value::Unknown(gap) = self.g.assets[node.0 as usize]
                        .field(schema::vpn_tunnel::LOG_ENABLED)
                        .clone()
                    {
                        self.set_edge(*node, schema::vpn_tunnel::LOG_GROUP, Edge::Unknown(gap.clone()));
                        self.set_edge(*node, schema::vpn_tunnel::BGP_LOG_GROUP, Edge::Unknown(gap));
                    }
                }
            }
            let here = place(&a, &r);
            let ip_gap = match self.g.assets[node.0 as usize].field(schema::vpn_tunnel::OUTSIDE_IP_ADDRESS) {
                Value::Unknown(gap) => Some(gap.clone()),
                _ => None,
            };
            let edge = match self.places.get(&here).and_then(|l| l.alarms.clone()) {
                Some(gap) => Edge::Unknown(gap),
                None => {
                    let (mut certain, mut undecided) = (vec![], false);
                    for (alarm, vpn, tunnel_ip) in alarms_by_place.get(&here).map_or(&[][..], Vec::as_slice) {
                        if vpn.as_deref().is_some_and(|v| v != conn) {
                            continue;
                        }
                        match (tunnel_ip, &ip) {
                            (None, _) => certain.push(*alarm),
                            (Some(t), Some(ip)) if t == ip => certain.push(*alarm),
                            (Some(_), Some(_)) => {}
                            (Some(_), None) => undecided = true,
                        }
                    }
                    match (undecided, ip_gap) {
                        (true, Some(gap)) => Edge::Partial(certain, gap),
                        _ => Edge::Known(certain),
                    }
                }
            };
            if let Edge::Known(list) | Edge::Partial(list, _) = &edge {
                for alarm in list {
                    self.push_edge(*alarm, schema::alarm::TUNNELS, *node);
                }
            }
            self.set_edge(*node, schema::vpn_tunnel::ALARMS, edge);
        }

        self.complete_reverse_edges();
    }

    /// A reverse edge lists what points here; it is complete only if every listing that could
    /// point here was read. Flow logs may deliver across accounts within a region (and to buckets
    /// anywhere), so any collected account's failed flow-log listing leaves those edges partial.
    fn complete_reverse_edges(&mut self) {
        let mut flow_gaps_by_region: HashMap<String, Arc<Gap>> = HashMap::new();
        let mut any_flow_gap: Option<Arc<Gap>> = None;
        for ((_, region), l) in &self.places {
            if let Some(gap) = &l.flow_logs {
                flow_gaps_by_region.entry(region.clone()).or_insert_with(|| gap.clone());
                any_flow_gap.get_or_insert_with(|| gap.clone());
            }
        }
        // Tunnels whose options were not reported could log anywhere in their place.
        let mut unreported_tunnels: HashMap<Place, Arc<Gap>> = HashMap::new();
        for (node, options) in &self.tunnels_seen {
            if options.is_none() {
                let asset = &self.g.assets[node.0 as usize];
                if let Value::Unknown(gap) = asset.field(schema::vpn_tunnel::LOG_ENABLED) {
                    unreported_tunnels
                        .entry(place(&asset.account_id, &asset.region))
                        .or_insert_with(|| gap.clone());
                }
            }
        }
        for node in self.g.of_kind(Kind::LogGroup).to_vec() {
            let here = {
                let asset = &self.g.assets[node.0 as usize];
                place(&asset.account_id, &asset.region)
            };
            if let Some(gap) = flow_gaps_by_region.get(&here.1).cloned() {
                self.mark_partial(node, schema::log_group::FLOW_LOGS, &gap);
            }
            let (cvpn_gap, vpn_gap) = match self.places.get(&here) {
                Some(l) => (l.client_vpn_endpoints.clone(), l.vpn_connections.clone()),
                None => (None, None),
            };
            if let Some(gap) = cvpn_gap {
                self.mark_partial(node, schema::log_group::CLIENT_VPN_ENDPOINTS, &gap);
            }
            let tunnel_gap = vpn_gap.or_else(|| unreported_tunnels.get(&here).cloned());
            if let Some(gap) = tunnel_gap {
                self.mark_partial(node, schema::log_group::VPN_TUNNELS, &gap);
            }
            match &mut self.g.assets[node.0 as usize].edges[schema::log_group::VPN_TUNNELS.0] {
                Edge::Known(list) | Edge::Partial(list, _) => list.dedup(),
                Edge::Unknown(_) => {}
            }
        }
        if let Some(gap) = any_flow_gap {
            for node in self.g.of_kind(Kind::Bucket).to_vec() {
                self.mark_partial(node, schema::bucket::FLOW_LOGS, &gap);
            }
        }
        for node in self.g.of_kind(Kind::DeliveryStream).to_vec() {
            let region = self.g.assets[node.0 as usize].region.clone();
            if let Some(gap) = flow_gaps_by_region.get(&region).cloned() {
                self.mark_partial(node, schema::delivery_stream::FLOW_LOGS, &gap);
            }
        }
        for node in self.g.of_kind(Kind::Alarm).to_vec() {
            let here = {
                let asset = &self.g.assets[node.0 as usize];
                place(&asset.account_id, &asset.region)
            };
            let gap = self.places.get(&here).and_then(|l| l.vpn_connections.clone());
            if let Some(gap) = gap {
                self.mark_partial(node, schema::alarm::TUNNELS, &gap);
            }
        }
        for (account, gap) in std::mem::take(&mut self.region_list_gaps_by_account) {
            if let Some(node) = self.account_nodes.get(&account).copied() {
                self.mark_partial(node, schema::account::REGIONS, &gap);
            }
        }
    }

    fn add_reverse(&mut self, edge: &Edge, reverse: EdgeIx, from: NodeId) {
        if let Edge::Known(targets) = edge {
            for t in targets {
                self.push_edge(*t, reverse, from);
            }
        }
    }

    fn flow_log_edge(&self, here: &Place, by_resource: &HashMap<(Place, String), Vec<NodeId>>, id: &str) -> Edge {
        match self.places.get(here).and_then(|l| l.flow_logs.clone()) {
            Some(gap) => Edge::Unknown(gap),
            None => Edge::Known(
                by_resource
                    .get(&(here.clone(), id.to_owned()))
                    .cloned()
                    .unwrap_or_default(),
            ),
        }
    }

    fn resolve_bucket(&self, destination: &str) -> Edge {
        let name = destination
            .strip_prefix("arn:aws:s3:::")
            .or_else(|| destination.split_once(":::").map(|(_, b)| b))
            .unwrap_or(destination);
        let name = name.split('/').next().unwrap_or_default();
        if let Some(node) = self.buckets.get(name) {
            return Edge::Known(vec![*node]);
        }
        let mut message = format!("bucket {name} is not in the bucket listing of any collected account");
        if !self.bucket_accounts.is_empty() {
            message.push_str(&format!(
                " ({} read); its owner was not collected, or it no longer exists",
                self.bucket_accounts.join(", ")
            ));
        }
        Edge::Unknown(self.bucket_listing_gaps.first().cloned().unwrap_or_else(|| {
            Arc::new(Gap {
                kind: GapKind::NotCollected,
                account: String::new(),
                region: None,
                api: "s3:ListBuckets".into(),
                code: "NotCollected".into(),
                message,
                source: None,
            })
        }))
    }

    fn resolve_stream(&self, account: &str, region: &str, destination: &str) -> Edge {
        // arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME
        let parts: Vec<&str> = destination.splitn(6, ':').collect();
        let (reg, acc, name) = match parts.as_slice() {
            [_, _, _, reg, acc, res] => (
                reg.to_string(),
                acc.to_string(),
                res.strip_prefix("deliverystream/").unwrap_or(res).to_string(),
            ),
            _ => (region.to_owned(), account.to_owned(), destination.to_owned()),
        };
        let p = (acc.clone(), reg.clone());
        if let Some(node) = self.streams.get(&(p.clone(), name.clone())) {
            return Edge::Known(vec![*node]);
        }
        match self.places.get(&p) {
            Some(PlaceListings {
                delivery_streams: Some(gap),
                ..
            }) => Edge::Unknown(gap.clone()),
            Some(_) => Edge::Known(vec![]),
            None => Edge::Unknown(Arc::new(Gap {
                kind: GapKind::NotCollected,
                account: acc.clone(),
                region: Some(reg.clone()),
                api: "firehose:ListDeliveryStreams".into(),
                code: "NotCollected".into(),
                message: format!("delivery stream {name} is in {acc}/{reg}, which was not collected"),
                source: None,
            })),
        }
    }

    fn finish(mut self) -> Graph {
        if self.g.by_kind.len() < Kind::ALL.len() {
            self.g.by_kind.resize(Kind::ALL.len(), vec![]);
        }
        self.g.gaps.sort();
        self.g.gaps.dedup();
        self.g
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

/// A value AWS always sends: absent means not reported, which is unknown, not "no value".
fn required(value: Option<&str>, account: &str, region: &str, api: &str, what: String) -> Value {
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

fn resource_type_of(id: &str) -> Option<&'static str> {
    if id.starts_with("vpc-") {
        Some("VPC")
    } else if id.starts_with("subnet-") {
        Some("Subnet")
    } else if id.starts_with("eni-") {
        Some("NetworkInterface")
    } else if id.starts_with("tgw-attach-") {
        Some("TransitGatewayAttachment")
    } else if id.starts_with("tgw-") {
        Some("TransitGateway")
    } else {
        None
    }
}

/// The destination type; older responses omit it for CloudWatch Logs.
fn destination_type(f: &FlowLogRecord) -> &str {
    match f.log_destination_type.as_deref() {
        Some(t) => t,
        None if f.log_group_name.is_some() => "cloud-watch-logs",
        None => match f.log_destination.as_deref() {
            Some(d) if d.starts_with("arn:aws:s3") => "s3",
            Some(d) if d.contains(":firehose:") => "kinesis-data-firehose",
            _ => "cloud-watch-logs",
        },
    }
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
