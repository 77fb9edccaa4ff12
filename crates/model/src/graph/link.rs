//! Edges, once every node exists: one function per relationship, then the reverse edges'
//! completeness.

use super::builder::{place, Builder, Place, PlaceListings};
use super::nodes::destination_type;
use super::{parse_log_group_arn, Edge, NodeId};
use crate::inventory::TunnelOptionsRecord;
use crate::schema::{self, EdgeIx, Kind};
use crate::value::{Gap, GapKind, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Nodes by the (place, id) of a resource they point to.
type ByResource = HashMap<(Place, String), Vec<NodeId>>;

/// TunnelState alarms per place, with the VpnId and TunnelIpAddress dimensions they watch.
type AlarmsByPlace = HashMap<Place, Vec<(NodeId, Option<String>, Option<String>)>>;

impl Builder {
    pub(super) fn link(&mut self) {
        let flow_logs_by_resource = self.flow_logs_by_resource();
        let subnets_by_vpc = self.link_subnets(&flow_logs_by_resource);
        self.link_vpcs(&flow_logs_by_resource, &subnets_by_vpc);
        self.link_flow_logs();
        self.link_client_vpn_endpoints();
        self.link_tunnels();
        self.complete_reverse_edges();
    }

    fn place_of(&self, node: NodeId) -> Place {
        let asset = self.asset(node);
        place(&asset.account_id, &asset.region)
    }

    fn flow_logs_by_resource(&self) -> ByResource {
        let mut by_resource = ByResource::new();
        for (node, f) in &self.flow_logs {
            if let Some(res) = &f.resource_id {
                by_resource
                    .entry((self.place_of(*node), res.clone()))
                    .or_default()
                    .push(*node);
            }
        }
        by_resource
    }

    /// The VPC a record in `here` names: its node, none, or unknown when the VPC listing failed.
    fn vpc_edge(&self, here: &Place, vpc: &str) -> Edge {
        match (
            self.vpcs.get(&(here.clone(), vpc.to_owned())),
            self.places.get(here).and_then(|l| l.vpcs.clone()),
        ) {
            (Some(v), _) => Edge::Known(vec![*v]),
            (None, Some(gap)) => Edge::Unknown(gap),
            (None, None) => Edge::Known(vec![]),
        }
    }

    /// Subnets: their VPC and flow logs. Returns the subnets of each VPC.
    fn link_subnets(&mut self, flow_logs_by_resource: &ByResource) -> ByResource {
        let mut subnets_by_vpc = ByResource::new();
        for node in self.g.of_kind(Kind::Subnet).to_vec() {
            let here = self.place_of(node);
            let asset = self.asset(node);
            let id = asset.id.clone();
            if let Value::Str(vpc) = asset.field(schema::subnet::VPC_ID).clone() {
                subnets_by_vpc
                    .entry((here.clone(), vpc.clone()))
                    .or_default()
                    .push(node);
                let vpc_edge = self.vpc_edge(&here, &vpc);
                self.set_edge(node, schema::subnet::VPC, vpc_edge);
            }
            let edge = self.flow_log_edge(&here, flow_logs_by_resource, &id);
            self.set_edge(node, schema::subnet::HAS_FLOW_LOG, edge);
        }
        subnets_by_vpc
    }

    /// VPCs: flow logs, subnets, Client VPN endpoints and the count of network interfaces.
    fn link_vpcs(&mut self, flow_logs_by_resource: &ByResource, subnets_by_vpc: &ByResource) {
        let mut endpoints_by_vpc = ByResource::new();
        for (node, e) in &self.endpoints {
            if let Some(vpc) = &e.vpc_id {
                endpoints_by_vpc
                    .entry((self.place_of(*node), vpc.clone()))
                    .or_default()
                    .push(*node);
            }
        }
        for node in self.g.of_kind(Kind::Vpc).to_vec() {
            let here = self.place_of(node);
            let key = (here.clone(), self.asset(node).id.clone());
            let listings = self.places.get(&here);
            let flow = self.vpc_flow_log_edge(node, flow_logs_by_resource);
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
    }

    /// A shared VPC's flow logs belong to its owner: only the owner's view can show them.
    fn vpc_flow_log_edge(&self, node: NodeId, flow_logs_by_resource: &ByResource) -> Edge {
        let asset = self.asset(node);
        let here = place(&asset.account_id, &asset.region);
        let owner = match asset.field(schema::vpc::OWNER_ID) {
            Value::Str(o) if o != &asset.account_id => o.clone(),
            _ => return self.flow_log_edge(&here, flow_logs_by_resource, &asset.id),
        };
        let owner_place = place(&owner, &asset.region);
        if self.places.contains_key(&owner_place) {
            return self.flow_log_edge(&owner_place, flow_logs_by_resource, &asset.id);
        }
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

    /// Flow logs: the watched resource and the destination.
    fn link_flow_logs(&mut self) {
        let flow_logs = std::mem::take(&mut self.flow_logs);
        for (node, f) in &flow_logs {
            let here = self.place_of(*node);
            if let Some(res) = &f.resource_id {
                self.link_flow_log_resource(*node, &here, res);
            }
            let (a, r) = (&here.0, &here.1);
            match destination_type(f) {
                "cloud-watch-logs" => {
                    let target = f
                        .log_destination
                        .as_deref()
                        .or(f.log_group_name.as_deref())
                        .unwrap_or_default();
                    let edge = self.resolve_log_group(a, r, target);
                    self.add_reverse(&edge, schema::log_group::FLOW_LOGS, *node);
                    self.set_edge(*node, schema::flow_log::LOG_GROUP, edge);
                }
                "s3" => {
                    let edge = self.resolve_bucket(f.log_destination.as_deref().unwrap_or_default());
                    self.add_reverse(&edge, schema::bucket::FLOW_LOGS, *node);
                    self.set_edge(*node, schema::flow_log::BUCKET, edge);
                }
                "kinesis-data-firehose" => {
                    let edge = self.resolve_stream(a, r, f.log_destination.as_deref().unwrap_or_default());
                    self.add_reverse(&edge, schema::delivery_stream::FLOW_LOGS, *node);
                    self.set_edge(*node, schema::flow_log::DELIVERY_STREAM, edge);
                }
                _ => {}
            }
        }
    }

    /// The VPC or subnet a flow log watches (other resource types have no node).
    fn link_flow_log_resource(&mut self, node: NodeId, here: &Place, res: &str) {
        let listings = self.places.get(here);
        let (edge_ix, index, gap) = if res.starts_with("vpc-") {
            (schema::flow_log::VPC, &self.vpcs, listings.and_then(|l| l.vpcs.clone()))
        } else if res.starts_with("subnet-") {
            (
                schema::flow_log::SUBNET,
                &self.subnets,
                listings.and_then(|l| l.subnets.clone()),
            )
        } else {
            return;
        };
        let edge = match (index.get(&(here.clone(), res.to_owned())), gap) {
            (Some(n), _) => Edge::Known(vec![*n]),
            (None, Some(gap)) => Edge::Unknown(gap),
            (None, None) => Edge::Known(vec![]),
        };
        self.set_edge(node, edge_ix, edge);
    }

    /// Client VPN endpoints: their VPC and connection-log group.
    fn link_client_vpn_endpoints(&mut self) {
        let endpoints = std::mem::take(&mut self.endpoints);
        for (node, e) in &endpoints {
            let here = self.place_of(*node);
            if let Some(vpc) = &e.vpc_id {
                let edge = self.vpc_edge(&here, vpc);
                self.set_edge(*node, schema::client_vpn_endpoint::VPC, edge);
            }
            let log = e.connection_log.clone().unwrap_or_default();
            if let (Some(true), Some(group)) = (log.enabled, log.cloudwatch_log_group.as_deref()) {
                let edge = self.resolve_log_group(&here.0, &here.1, group);
                self.add_reverse(&edge, schema::log_group::CLIENT_VPN_ENDPOINTS, *node);
                self.set_edge(*node, schema::client_vpn_endpoint::LOG_GROUP, edge);
            }
        }
    }

    /// Tunnels: log groups and alarms. An alarm watches a tunnel through its VpnId dimension
    /// (alone: the whole connection), its TunnelIpAddress dimension, or both.
    fn link_tunnels(&mut self) {
        let mut alarms_by_place = AlarmsByPlace::new();
        for (node, metric) in &self.alarms {
            let vpn = metric.dimension("VpnId").map(str::to_owned);
            let tunnel_ip = metric.dimension("TunnelIpAddress").map(str::to_owned);
            if vpn.is_some() || tunnel_ip.is_some() {
                alarms_by_place
                    .entry(self.place_of(*node))
                    .or_default()
                    .push((*node, vpn, tunnel_ip));
            }
        }
        let tunnels = std::mem::take(&mut self.tunnels);
        self.tunnels_seen = tunnels.clone();
        for (node, options) in &tunnels {
            self.link_tunnel_log_groups(*node, options.as_ref());
            self.link_tunnel_alarms(*node, &alarms_by_place);
        }
    }

    fn link_tunnel_log_groups(&mut self, node: NodeId, options: Option<&TunnelOptionsRecord>) {
        let (a, r) = self.place_of(node);
        match options {
            Some(o) => {
                let log = o.cloudwatch_log().cloned().unwrap_or_default();
                if let (Some(true), Some(arn)) = (log.log_enabled, log.log_group_arn.as_deref()) {
                    let edge = self.resolve_log_group(&a, &r, arn);
                    self.add_reverse(&edge, schema::log_group::VPN_TUNNELS, node);
                    self.set_edge(node, schema::vpn_tunnel::LOG_GROUP, edge);
                }
                if let (Some(true), Some(arn)) = (log.bgp_log_enabled, log.bgp_log_group_arn.as_deref()) {
                    let edge = self.resolve_log_group(&a, &r, arn);
                    self.add_reverse(&edge, schema::log_group::VPN_TUNNELS, node);
                    self.set_edge(node, schema::vpn_tunnel::BGP_LOG_GROUP, edge);
                }
            }
            // Options not reported: where the tunnel logs is unknown, not "nowhere".
            None => {
                if let Value::Unknown(gap) = self.asset(node).field(schema::vpn_tunnel::LOG_ENABLED).clone() {
                    self.set_edge(node, schema::vpn_tunnel::LOG_GROUP, Edge::Unknown(gap.clone()));
                    self.set_edge(node, schema::vpn_tunnel::BGP_LOG_GROUP, Edge::Unknown(gap));
                }
            }
        }
    }

    fn link_tunnel_alarms(&mut self, node: NodeId, alarms_by_place: &AlarmsByPlace) {
        let here = self.place_of(node);
        let asset = self.asset(node);
        let conn = match asset.field(schema::vpn_tunnel::VPN_CONNECTION_ID) {
            Value::Str(s) => s.clone(),
            _ => String::new(),
        };
        let (ip, ip_gap) = match asset.field(schema::vpn_tunnel::OUTSIDE_IP_ADDRESS) {
            Value::Str(s) => (Some(s.clone()), None),
            Value::Unknown(gap) => (None, Some(gap.clone())),
            _ => (None, None),
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
                self.push_edge(*alarm, schema::alarm::TUNNELS, node);
            }
        }
        self.set_edge(node, schema::vpn_tunnel::ALARMS, edge);
    }

    /// A reverse edge lists what points here; it is complete only if every listing that could
    /// point here was read. Flow logs may deliver across accounts within a region (and to buckets
    /// anywhere), so any collected account's failed flow-log listing leaves those edges partial.
    fn complete_reverse_edges(&mut self) {
        let mut flow_gaps_by_region: HashMap<String, Arc<Gap>> = HashMap::new();
        let mut any_flow_gap: Option<Arc<Gap>> = None;
        // In a fixed order, so the same inventory always names the same gap.
        let mut places: Vec<(&Place, &PlaceListings)> = self.places.iter().collect();
        places.sort_by(|a, b| a.0.cmp(b.0));
        for ((_, region), l) in places {
            if let Some(gap) = &l.flow_logs {
                flow_gaps_by_region.entry(region.clone()).or_insert_with(|| gap.clone());
                any_flow_gap.get_or_insert_with(|| gap.clone());
            }
        }
        self.complete_log_group_edges(&flow_gaps_by_region);
        if let Some(gap) = any_flow_gap {
            for node in self.g.of_kind(Kind::Bucket).to_vec() {
                self.mark_partial(node, schema::bucket::FLOW_LOGS, &gap);
            }
        }
        for node in self.g.of_kind(Kind::DeliveryStream).to_vec() {
            let region = self.asset(node).region.clone();
            if let Some(gap) = flow_gaps_by_region.get(&region).cloned() {
                self.mark_partial(node, schema::delivery_stream::FLOW_LOGS, &gap);
            }
        }
        for node in self.g.of_kind(Kind::Alarm).to_vec() {
            let here = self.place_of(node);
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

    /// A log group's flow logs, Client VPN endpoints and tunnels.
    fn complete_log_group_edges(&mut self, flow_gaps_by_region: &HashMap<String, Arc<Gap>>) {
        // Tunnels whose options were not reported could log anywhere in their place.
        let mut unreported_tunnels: HashMap<Place, Arc<Gap>> = HashMap::new();
        for (node, options) in &self.tunnels_seen {
            if options.is_none() {
                if let Value::Unknown(gap) = self.asset(*node).field(schema::vpn_tunnel::LOG_ENABLED) {
                    unreported_tunnels
                        .entry(self.place_of(*node))
                        .or_insert_with(|| gap.clone());
                }
            }
        }
        for node in self.g.of_kind(Kind::LogGroup).to_vec() {
            let here = self.place_of(node);
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
    }

    fn add_reverse(&mut self, edge: &Edge, reverse: EdgeIx, from: NodeId) {
        if let Edge::Known(targets) = edge {
            for t in targets {
                self.push_edge(*t, reverse, from);
            }
        }
    }

    fn flow_log_edge(&self, here: &Place, by_resource: &ByResource, id: &str) -> Edge {
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

    fn resolve_log_group(&self, account: &str, region: &str, arn_or_name: &str) -> Edge {
        let (acc, reg, name) = match parse_log_group_arn(arn_or_name) {
            Some((reg, acc, name)) => (acc, reg, name),
            None => (account.to_owned(), region.to_owned(), arn_or_name.to_owned()),
        };
        self.resolve_named(
            &self.log_groups,
            (acc, reg),
            name,
            |l| l.log_groups.clone(),
            "logs:DescribeLogGroups",
            "log group",
        )
    }

    /// A resource named in some place: its node, none (that place's listing was read and does not
    /// have it), or unknown (the listing failed, or the place was not collected).
    fn resolve_named(
        &self,
        index: &HashMap<(Place, String), NodeId>,
        place: Place,
        name: String,
        listing_gap: fn(&PlaceListings) -> Option<Arc<Gap>>,
        api: &str,
        what: &str,
    ) -> Edge {
        let key = (place, name);
        if let Some(node) = index.get(&key) {
            return Edge::Known(vec![*node]);
        }
        let ((acc, reg), name) = key;
        match self.places.get(&(acc.clone(), reg.clone())) {
            Some(listings) => listing_gap(listings).map_or(Edge::Known(vec![]), Edge::Unknown),
            None => Edge::Unknown(Arc::new(Gap {
                kind: GapKind::NotCollected,
                account: acc.clone(),
                region: Some(reg.clone()),
                api: api.to_owned(),
                code: "NotCollected".into(),
                message: format!("{what} {name} is in {acc}/{reg}, which was not collected"),
                source: None,
            })),
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
        self.resolve_named(
            &self.streams,
            (acc, reg),
            name,
            |l| l.delivery_streams.clone(),
            "firehose:ListDeliveryStreams",
            "delivery stream",
        )
    }
}
