//! Writing an inventory back out in the evidence layout, so a live scan can be replayed and audited.
//!
//! Each listing becomes the JSON the AWS CLI would print for it, through the same document types
//! the loader reads (the fields netaudit reads), and a failed listing becomes a `.error` file in the
//! CLI's own words, so loading the directory gives the same inventory. A listing whose evidence was
//! simply missing is not written.

use crate::load::RegionScopeDoc;
use crate::operations::Operation;
use crate::parse::{
    AlarmsDoc, BucketsDoc, CallerIdentityDoc, ClientVpnEndpointsDoc, DeliveryStreamsDoc, FlowLogsDoc,
    InternetGatewaysDoc, LogGroupsDoc, NetworkInterfacesDoc, RegionsDoc, SubnetsDoc, VpcsDoc, VpnConnectionsDoc,
};
use crate::EvidenceError;
use netaudit_model::inventory::*;
use netaudit_model::{Gap, GapKind, Inventory};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// Drop null members so the files read like the CLI's (which omits absent keys).
fn compact(mut v: Value) -> Value {
    if let Value::Object(map) = &mut v {
        map.retain(|_, x| !x.is_null());
        for x in map.values_mut() {
            *x = compact(std::mem::take(x));
        }
    } else if let Value::Array(items) = &mut v {
        for x in items.iter_mut() {
            *x = compact(std::mem::take(x));
        }
    }
    v
}

struct Writer<'a> {
    root: &'a Path,
    written: usize,
}

impl Writer<'_> {
    fn put(&mut self, rel: &str, bytes: &[u8]) -> Result<(), EvidenceError> {
        let path = self.root.join(rel);
        let unwritable = |e: std::io::Error| EvidenceError::Unreadable {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(unwritable)?;
        }
        std::fs::write(&path, bytes).map_err(unwritable)?;
        self.written += 1;
        Ok(())
    }

    fn document(&mut self, rel: &str, doc: &impl Serialize) -> Result<(), EvidenceError> {
        let malformed = |e: serde_json::Error| EvidenceError::Malformed {
            path: rel.to_owned(),
            message: e.to_string(),
        };
        let value = serde_json::to_value(doc).map_err(malformed)?;
        let text = serde_json::to_vec_pretty(&compact(value)).map_err(malformed)?;
        self.put(rel, &text)
    }

    fn listing<T, D: Serialize>(
        &mut self,
        dir: &str,
        op: &Operation,
        listing: &Listing<T>,
        doc: impl Fn(&[T]) -> D,
    ) -> Result<(), EvidenceError> {
        match listing {
            Ok(items) => self.document(&format!("{dir}{}", op.json_file()), &doc(items)),
            Err(gap) if gap.kind == GapKind::Missing => Ok(()),
            Err(gap) => self.put(&format!("{dir}{}", op.error_file()), error_text(gap).as_bytes()),
        }
    }
}

/// The AWS CLI's wording for a failed call, which the loader reads back into the same gap.
fn error_text(gap: &Gap) -> String {
    let operation = gap.api.split_once(':').map_or(gap.api.as_str(), |(_, op)| op);
    format!(
        "\nAn error occurred ({}) when calling the {operation} operation: {}\n",
        gap.code, gap.message
    )
}

/// Write `inventory` under `dir` in the evidence layout; returns how many files were written.
pub fn write_dir(inventory: &Inventory, dir: &Path) -> Result<usize, EvidenceError> {
    let mut w = Writer { root: dir, written: 0 };
    for account in &inventory.accounts {
        let a = format!("{}/", account.account_id);
        if let Some(arn) = &account.caller_arn {
            let doc = CallerIdentityDoc::of(&account.account_id, arn);
            w.document(&format!("{a}{}", Operation::STS_GET_CALLER_IDENTITY.json_file()), &doc)?;
        }
        w.listing(&a, &Operation::EC2_DESCRIBE_REGIONS, &account.regions, RegionsDoc::of)?;
        if let Some(scope) = &account.region_scope {
            let doc = RegionScopeDoc { regions: scope.clone() };
            w.document(&format!("{a}{}", crate::REGION_SCOPE_FILE), &doc)?;
        }
        w.listing(&a, &Operation::S3API_LIST_BUCKETS, &account.buckets, BucketsDoc::of)?;
        for region in &account.region_data {
            write_region(&mut w, &format!("{a}{}/", region.region), region)?;
        }
    }
    Ok(w.written)
}

fn write_region(w: &mut Writer<'_>, d: &str, r: &RegionInventory) -> Result<(), EvidenceError> {
    w.listing(d, &Operation::EC2_DESCRIBE_VPCS, &r.vpcs, VpcsDoc::of)?;
    w.listing(d, &Operation::EC2_DESCRIBE_SUBNETS, &r.subnets, SubnetsDoc::of)?;
    w.listing(
        d,
        &Operation::EC2_DESCRIBE_NETWORK_INTERFACES,
        &r.network_interfaces,
        NetworkInterfacesDoc::of,
    )?;
    w.listing(d, &Operation::EC2_DESCRIBE_FLOW_LOGS, &r.flow_logs, FlowLogsDoc::of)?;
    w.listing(
        d,
        &Operation::EC2_DESCRIBE_CLIENT_VPN_ENDPOINTS,
        &r.client_vpn_endpoints,
        ClientVpnEndpointsDoc::of,
    )?;
    w.listing(
        d,
        &Operation::EC2_DESCRIBE_VPN_CONNECTIONS,
        &r.vpn_connections,
        VpnConnectionsDoc::of,
    )?;
    w.listing(d, &Operation::LOGS_DESCRIBE_LOG_GROUPS, &r.log_groups, LogGroupsDoc::of)?;
    w.listing(d, &Operation::CLOUDWATCH_DESCRIBE_ALARMS, &r.alarms, AlarmsDoc::of)?;
    w.listing(
        d,
        &Operation::FIREHOSE_LIST_DELIVERY_STREAMS,
        &r.delivery_streams,
        DeliveryStreamsDoc::of,
    )?;
    w.listing(
        d,
        &Operation::EC2_DESCRIBE_INTERNET_GATEWAYS,
        &r.internet_gateways,
        InternetGatewaysDoc::of,
    )?;
    Ok(())
}
