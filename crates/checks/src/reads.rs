//! What a control reads from the graph, so a live scan collects only what the selected controls need.

use crate::catalogue::Control;
use netaudit_model::{Kind, Reads};
use netaudit_query::{compile, compile_filter, filter_reads, query_reads, QueryError};
use std::collections::{BTreeMap, BTreeSet};

impl Control {
    /// Everything the control's query, scope and not-applicable filters read. Parameter values
    /// never change what is read, so the query is compiled with its defaults.
    pub fn reads(&self) -> Result<Reads, QueryError> {
        let query = compile(&self.file.query.text, &BTreeMap::new())?;
        let mut reads = query_reads(&query);
        let query = &self.file.query;
        for filter in query
            .not_applicable
            .iter()
            .chain(&query.fail_reason)
            .chain(&query.scope)
        {
            filter_reads(self.kind, &compile_filter(self.kind, &filter.where_)?, &mut reads);
        }
        Ok(reads)
    }

    /// The asset kinds the control reads.
    pub fn kinds_read(&self) -> Result<BTreeSet<Kind>, QueryError> {
        self.reads().map(|r| r.kinds().clone())
    }
}

/// What `controls` read together; `Err` when one of them does not compile, so nothing can be skipped.
pub fn controls_read(controls: &[&Control]) -> Result<Reads, QueryError> {
    let mut all = Reads::default();
    for control in controls {
        all.extend(&control.reads()?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::builtin;
    use netaudit_model::schema;
    use netaudit_model::Collected;
    use Kind::*;

    fn kinds(id: &str) -> Vec<Kind> {
        let (catalogue, errors) = builtin();
        assert!(errors.is_empty(), "{errors:?}");
        let control = catalogue.get(id).unwrap_or_else(|| panic!("no built-in control {id}"));
        control
            .kinds_read()
            .unwrap_or_else(|e| panic!("{id}: {e}"))
            .into_iter()
            .collect()
    }

    /// Every built-in control, with the kinds it reads; a control missing here fails the last test.
    const EXPECTED: &[(&str, &[Kind])] = &[
        ("CIS.VPC.FLOWLOGS", &[Vpc, FlowLog]),
        ("CloudWatch.16", &[LogGroup]),
        ("EC2.171", &[VpnConnection, VpnTunnel]),
        ("EC2.183", &[VpnConnection, VpnTunnel]),
        ("EC2.20", &[VpnConnection, VpnTunnel]),
        ("EC2.51", &[ClientVpnEndpoint]),
        ("EC2.6", &[Vpc, FlowLog]),
        ("NETAUDIT.CVPN.LOGGROUP", &[ClientVpnEndpoint, LogGroup]),
        (
            "NETAUDIT.FLOWLOG.DELIVERY",
            &[FlowLog, LogGroup, Bucket, DeliveryStream],
        ),
        (
            "NETAUDIT.RETENTION.CHAIN",
            &[FlowLog, ClientVpnEndpoint, VpnTunnel, LogGroup],
        ),
        ("NETAUDIT.S2S.ALARM", &[VpnTunnel, Alarm]),
        ("NETAUDIT.S2S.IKEV2", &[VpnTunnel]),
        ("NETAUDIT.S2S.LOGGROUP", &[VpnTunnel, LogGroup]),
        ("NETAUDIT.S2S.VENDEDLOGS", &[VpnTunnel]),
    ];

    #[test]
    fn each_builtin_control_reads_exactly_its_kinds() {
        for (id, expected) in EXPECTED {
            let mut expected = expected.to_vec();
            expected.sort();
            assert_eq!(kinds(id), expected, "{id}");
        }
    }

    #[test]
    fn every_builtin_control_is_listed_above() {
        let (catalogue, _) = builtin();
        let ids: Vec<&str> = catalogue.controls().iter().map(|c| c.id()).collect();
        let listed: Vec<&str> = EXPECTED.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids.len(), listed.len(), "built-in {ids:?}, listed {listed:?}");
        for id in ids {
            assert!(listed.contains(&id), "{id} has no expected kinds");
        }
    }

    #[test]
    fn ec2_6_needs_vpcs_flow_logs_and_internet_gateways_only() {
        let (catalogue, _) = builtin();
        let control = catalogue.get("EC2.6").expect("EC2.6 is built in");
        let reads = controls_read(&[control]).expect("EC2.6 compiles");
        let needed: Vec<Collected> = Collected::ALL.into_iter().filter(|l| reads.needs(*l)).collect();
        // Internet gateways rank every result by exposure.
        assert_eq!(
            needed,
            vec![Collected::Vpcs, Collected::FlowLogs, Collected::InternetGateways]
        );
        // The not-applicable filter reads whether the VPC is shared.
        assert!(reads.reads_field(Vpc, schema::vpc::IS_SHARED));
    }

    #[test]
    fn the_whole_catalogue_needs_every_listing_but_interfaces() {
        let (catalogue, _) = builtin();
        let all: Vec<&Control> = catalogue.controls().iter().collect();
        let reads = controls_read(&all).expect("the catalogue compiles");
        let skipped: Vec<Collected> = Collected::ALL.into_iter().filter(|l| !reads.needs(*l)).collect();
        assert_eq!(skipped, vec![Collected::Subnets, Collected::NetworkInterfaces]);
    }
}
