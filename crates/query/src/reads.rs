//! Which kinds of asset and which fields a compiled query reads.

use crate::compile::{FieldRef, Filter, Query, Selection};
use netaudit_model::{Kind, Reads};

/// What `query` reads: every root kind, every kind reached through an edge in a filter or a
/// selection, and every kind-specific field it tests or selects.
pub fn query_reads(query: &Query) -> Reads {
    let mut reads = Reads::default();
    for root in &query.roots {
        reads.add_kind(root.kind);
        if let Some(filter) = &root.filter {
            filter_reads(root.kind, filter, &mut reads);
        }
        selection_reads(root.kind, &root.selection, &mut reads);
    }
    reads
}

/// Add what `filter`, applied to assets of `kind`, reads.
pub fn filter_reads(kind: Kind, filter: &Filter, reads: &mut Reads) {
    reads.add_kind(kind);
    match filter {
        Filter::True => {}
        Filter::And(parts) | Filter::Or(parts) => {
            for part in parts {
                filter_reads(kind, part, reads);
            }
        }
        Filter::Not(inner) => filter_reads(kind, inner, reads),
        Filter::Field { field, .. } => field_reads(kind, *field, reads),
        Filter::EdgeEmpty { edge, .. } => reads.add_kind(kind.def().edges[edge.0].target),
        Filter::Edge { edge, filter, .. } => filter_reads(kind.def().edges[edge.0].target, filter, reads),
    }
}

fn field_reads(kind: Kind, field: FieldRef, reads: &mut Reads) {
    match field {
        FieldRef::Common(_) => reads.add_kind(kind),
        FieldRef::Own(ix) => reads.add_field(kind, ix),
    }
}

fn selection_reads(kind: Kind, selection: &[Selection], reads: &mut Reads) {
    for s in selection {
        match s {
            Selection::Field { field, .. } => field_reads(kind, *field, reads),
            Selection::Edge {
                edge,
                filter,
                selection,
                ..
            } => {
                let target = kind.def().edges[edge.0].target;
                reads.add_kind(target);
                if let Some(filter) = filter {
                    filter_reads(target, filter, reads);
                }
                selection_reads(target, selection, reads);
            }
            Selection::TypeName { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{compile, compile_filter};
    use netaudit_model::schema;
    use std::collections::BTreeMap;

    fn reads_of(text: &str) -> Reads {
        query_reads(&compile(text, &BTreeMap::new()).expect("the test query compiles"))
    }

    #[test]
    fn edges_in_filters_reach_their_targets() {
        let reads = reads_of(r#"vpcs(where: {hasFlowLog_NONE: {trafficType: "ALL"}}) { id }"#);
        assert_eq!(
            reads.kinds().iter().copied().collect::<Vec<_>>(),
            vec![Kind::Vpc, Kind::FlowLog]
        );
        assert!(reads.reads_field(Kind::FlowLog, schema::flow_log::TRAFFIC_TYPE));
        assert!(!reads.reads_field(Kind::Vpc, schema::vpc::NETWORK_INTERFACE_COUNT));
    }

    #[test]
    fn null_tests_and_nested_selections_reach_their_targets() {
        let reads = reads_of("flowLogs(where: {logGroup: null}) { id vpc { networkInterfaceCount subnets { id } } }");
        for kind in [Kind::FlowLog, Kind::LogGroup, Kind::Vpc, Kind::Subnet] {
            assert!(reads.reads_kind(kind), "{kind:?}");
        }
        assert!(!reads.reads_kind(Kind::Bucket));
        assert!(reads.reads_field(Kind::Vpc, schema::vpc::NETWORK_INTERFACE_COUNT));
    }

    #[test]
    fn a_filter_on_its_own_reads_its_kind_and_edges() {
        let filter = compile_filter(Kind::VpnTunnel, "{alarms_SOME: {actionsEnabled: true}}").expect("compiles");
        let mut reads = Reads::default();
        filter_reads(Kind::VpnTunnel, &filter, &mut reads);
        assert!(reads.reads_kind(Kind::VpnTunnel));
        assert!(reads.reads_field(Kind::Alarm, schema::alarm::ACTIONS_ENABLED));
        assert!(!reads.reads_kind(Kind::LogGroup));
    }
}
