//! The query language end to end: parse, validate, bind parameters, evaluate in three values.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use netaudit_model::inventory::*;
use netaudit_model::{Gap, GapKind, Graph, Inventory, Kind, NodeId};
use netaudit_query::{compile, compile_filter, evaluate_filter, project, Truth};
use std::collections::BTreeMap;
use std::sync::Arc;

const SEED: &str =
    r#"vpcs(where: {OR: [{hasFlowLog: null}, {hasFlowLog_NONE: {flowLogStatus: "ACTIVE"}}]}){...AssetFragment}"#;

fn gap(api: &str) -> Arc<Gap> {
    Arc::new(Gap {
        kind: GapKind::ApiError,
        account: "111111111111".into(),
        region: Some("eu-west-1".into()),
        api: api.into(),
        code: "AccessDenied".into(),
        message: "not authorized".into(),
        source: None,
    })
}

fn vpc(id: &str) -> VpcRecord {
    VpcRecord {
        vpc_id: id.into(),
        owner_id: Some("111111111111".into()),
        ..Default::default()
    }
}

fn flow_log(id: &str, resource: &str, traffic: &str) -> FlowLogRecord {
    FlowLogRecord {
        flow_log_id: id.into(),
        flow_log_status: Some("ACTIVE".into()),
        resource_id: Some(resource.into()),
        traffic_type: Some(traffic.into()),
        deliver_logs_status: Some("SUCCESS".into()),
        log_destination_type: Some("cloud-watch-logs".into()),
        log_group_name: Some("/flow".into()),
        ..Default::default()
    }
}

/// us-east-1: vpc-a has an ACTIVE flow log, vpc-b none. eu-west-1: vpc-c, flow logs unreadable.
fn estate() -> Graph {
    let mut east = RegionInventory::empty("us-east-1");
    east.vpcs = Ok(vec![vpc("vpc-a"), vpc("vpc-b")]);
    east.flow_logs = Ok(vec![flow_log("fl-1", "vpc-a", "REJECT")]);
    let mut west = RegionInventory::empty("eu-west-1");
    west.vpcs = Ok(vec![vpc("vpc-c")]);
    west.flow_logs = Err(gap("ec2:DescribeFlowLogs"));
    Graph::build(&Inventory {
        accounts: vec![AccountInventory {
            account_id: "111111111111".into(),
            caller_arn: None,
            regions: Ok(vec![]),
            region_scope: Some(vec!["us-east-1".into(), "eu-west-1".into()]),
            region_data: vec![east, west],
            buckets: Ok(vec![]),
            other_gaps: vec![],
        }],
    })
}

fn verdicts(graph: &Graph, text: &str, params: &BTreeMap<String, serde_json::Value>) -> Vec<(String, String)> {
    let query = compile(text, params).expect("query compiles");
    let root = &query.roots[0];
    let filter = root.filter.as_ref().expect("has a where filter");
    let mut out: Vec<(String, String)> = graph
        .of_kind(root.kind)
        .iter()
        .map(|n| {
            let verdict = match evaluate_filter(graph, *n, filter) {
                Truth::True => "match".to_owned(),
                Truth::False => "no match".to_owned(),
                Truth::Unknown(gaps) => format!("unknown: {}", gaps[0].api),
            };
            (graph.asset(*n).id.clone(), verdict)
        })
        .collect();
    out.sort();
    out
}

fn vpc_nodes(graph: &Graph) -> Vec<NodeId> {
    let mut nodes = graph.of_kind(Kind::Vpc).to_vec();
    nodes.sort_by_key(|n| graph.asset(*n).id.clone());
    nodes
}

#[test]
fn the_stored_check_runs_verbatim_in_three_values() {
    let g = estate();
    assert_eq!(
        verdicts(&g, SEED, &BTreeMap::new()),
        vec![
            ("vpc-a".to_owned(), "no match".to_owned()),
            ("vpc-b".to_owned(), "match".to_owned()),
            ("vpc-c".to_owned(), "unknown: ec2:DescribeFlowLogs".to_owned()),
        ]
    );
}

#[test]
fn variables_take_defaults_and_parameters() {
    let g = estate();
    let text =
        r#"query($t: String = "ACCEPT") { vpcs(where: {hasFlowLog_NONE: {trafficType_IN: [$t, "ALL"]}}) { id } }"#;
    let by_default = verdicts(&g, text, &BTreeMap::new());
    assert_eq!(
        by_default[0],
        ("vpc-a".to_owned(), "match".to_owned()),
        "REJECT log does not capture ACCEPT"
    );
    let params = BTreeMap::from([("t".to_owned(), serde_json::json!("REJECT"))]);
    assert_eq!(
        verdicts(&g, text, &params)[0],
        ("vpc-a".to_owned(), "no match".to_owned())
    );
}

#[test]
fn unknown_parameter_and_wrong_type_are_errors() {
    let text = r#"query($days: Int = 365) { logGroups(where: {retentionInDays_LT: $days}) { id } }"#;
    let err = compile(text, &BTreeMap::from([("dayz".to_owned(), serde_json::json!(1))])).unwrap_err();
    assert!(err.message.contains("unknown parameter dayz"), "{err}");
    let err = compile(
        text,
        &BTreeMap::from([("days".to_owned(), serde_json::json!("a year"))]),
    )
    .unwrap_err();
    assert!(err.message.contains("expected an integer"), "{err}");
}

#[test]
fn a_misspelt_field_is_an_error_with_line_and_column() {
    let err = compile("vpcs(where: {hasFlowLogz: null}) { id }", &BTreeMap::new()).unwrap_err();
    // The position is that of the offending key's value.
    assert_eq!((err.line, err.column), (Some(1), Some(27)), "{err}");
    assert!(err.message.contains("hasFlowLogz"), "{err}");

    let err = compile(
        "query {\n  vpcs(where: {isDefault_LT: true}) { id }\n}",
        &BTreeMap::new(),
    )
    .unwrap_err();
    assert_eq!(err.line, Some(2), "{err}");
    assert!(err.message.contains("isDefault_LT"), "{err}");

    let err = compile("vpcs { id idd }", &BTreeMap::new()).unwrap_err();
    assert_eq!((err.line, err.column), (Some(1), Some(11)), "{err}");
}

#[test]
fn a_syntax_error_names_its_position() {
    let err = compile("vpcs(where: {OR: [}) { id }", &BTreeMap::new()).unwrap_err();
    assert_eq!(err.line, Some(1), "{err}");
    assert!(err.column.is_some(), "{err}");
}

#[test]
fn a_bad_regular_expression_is_an_error() {
    let err = compile(r#"vpcs(where: {id_MATCHES: "("}) { id }"#, &BTreeMap::new()).unwrap_err();
    assert!(err.message.contains("invalid regular expression"), "{err}");
    assert_eq!(err.line, Some(1));
}

#[test]
fn kleene_logic_lets_a_known_answer_win_over_unknown() {
    let g = estate();
    // vpc-c's flow logs are unknown, but its id is known: OR with a true branch is true,
    // AND with a false branch is false.
    let or = r#"vpcs(where: {OR: [{hasFlowLog: null}, {id: "vpc-c"}]}) { id }"#;
    assert_eq!(verdicts(&g, or, &BTreeMap::new())[2].1, "match");
    let and = r#"vpcs(where: {AND: [{hasFlowLog: null}, {id: "vpc-x"}]}) { id }"#;
    assert_eq!(verdicts(&g, and, &BTreeMap::new())[2].1, "no match");
    let not = r#"vpcs(where: {NOT: {hasFlowLog: null}}) { id }"#;
    assert_eq!(
        verdicts(&g, not, &BTreeMap::new())[2].1,
        "unknown: ec2:DescribeFlowLogs"
    );
}

#[test]
fn relationship_quantifiers() {
    let g = estate();
    let all = r#"vpcs(where: {hasFlowLog_ALL: {trafficType: "REJECT"}}) { id }"#;
    // vpc-b has no flow logs: ALL over nothing holds.
    assert_eq!(verdicts(&g, all, &BTreeMap::new())[1].1, "match");
    let single = r#"vpcs(where: {hasFlowLog_SINGLE: {}}) { id }"#;
    let v = verdicts(&g, single, &BTreeMap::new());
    assert_eq!((v[0].1.as_str(), v[1].1.as_str()), ("match", "no match"));
    let not_null = r#"vpcs(where: {hasFlowLog_NOT: null}) { id }"#;
    assert_eq!(verdicts(&g, not_null, &BTreeMap::new())[0].1, "match");
}

#[test]
fn projection_follows_edges_and_shows_unknowns() {
    let g = estate();
    let q = compile("vpcs { id hasFlowLog { id trafficType } }", &BTreeMap::new()).unwrap();
    let nodes = vpc_nodes(&g);
    assert_eq!(
        project(&g, nodes[0], &q.roots[0].selection),
        serde_json::json!({"id": "vpc-a", "hasFlowLog": [{"id": "fl-1", "trafficType": "REJECT"}]})
    );
    let unknown = project(&g, nodes[2], &q.roots[0].selection);
    assert!(unknown["hasFlowLog"]["unknown"]
        .as_str()
        .unwrap()
        .contains("ec2:DescribeFlowLogs AccessDenied"));
}

#[test]
fn a_bare_filter_compiles_for_a_kind() {
    let g = estate();
    let f = compile_filter(Kind::Vpc, r#"{id_STARTS_WITH: "vpc-b"}"#).unwrap();
    let truths: Vec<Truth> = vpc_nodes(&g).iter().map(|n| evaluate_filter(&g, *n, &f)).collect();
    assert_eq!(truths, vec![Truth::False, Truth::True, Truth::False]);
    let err = compile_filter(Kind::Vpc, "{nope: 1}").unwrap_err();
    assert!(err.message.contains("nope"), "{err}");
}

#[test]
fn the_schema_is_valid_sdl_that_names_every_kind() {
    let sdl = netaudit_query::schema_sdl();
    for kind in Kind::ALL {
        assert!(sdl.contains(&format!("type {} implements Asset", kind.def().type_name)));
        assert!(sdl.contains(&format!("input {}Where", kind.def().type_name)));
    }
    // Compiling anything validates the schema itself.
    compile("accounts { id }", &BTreeMap::new()).unwrap();
}

/// Account 222222222222's log group receives account 111111111111's flow log; account 333333333333's
/// flow logs in the same region could not be read, so the group's `flowLogs` edge is partial.
fn partial_estate() -> Graph {
    let mut a = RegionInventory::empty("us-east-1");
    a.vpcs = Ok(vec![vpc("vpc-a")]);
    let mut log = flow_log("fl-1", "vpc-a", "ALL");
    log.log_destination = Some("arn:aws:logs:us-east-1:222222222222:log-group:/central".into());
    a.flow_logs = Ok(vec![log]);
    let mut b = RegionInventory::empty("us-east-1");
    b.log_groups = Ok(vec![
        LogGroupRecord {
            log_group_name: "/central".into(),
            retention_in_days: Some(30),
            ..Default::default()
        },
        LogGroupRecord {
            log_group_name: "/other".into(),
            retention_in_days: Some(1),
            ..Default::default()
        },
    ]);
    let mut c = RegionInventory::empty("us-east-1");
    c.flow_logs = Err(gap("ec2:DescribeFlowLogs"));
    let account = |id: &str, region: RegionInventory| AccountInventory {
        account_id: id.into(),
        caller_arn: None,
        regions: Ok(vec![]),
        region_scope: Some(vec![region.region.clone()]),
        region_data: vec![region],
        buckets: Ok(vec![]),
        other_gaps: vec![],
    };
    Graph::build(&Inventory {
        accounts: vec![
            account("111111111111", a),
            account("222222222222", b),
            account("333333333333", c),
        ],
    })
}

#[test]
fn a_partial_edge_decides_only_what_its_known_members_decide() {
    let g = partial_estate();
    let check = |filter: &str| -> Vec<(String, String)> {
        let text = format!("logGroups(where: {filter}) {{ id }}");
        verdicts(&g, &text, &BTreeMap::new())
    };
    // /central has a known flow log: SOME is true, NONE and "no flow log" false, whatever is unlisted.
    assert_eq!(
        check("{flowLogs_SOME: {}}")[0],
        ("/central".to_owned(), "match".to_owned())
    );
    assert_eq!(
        check("{flowLogs_NONE: {}}")[0],
        ("/central".to_owned(), "no match".to_owned())
    );
    assert_eq!(
        check("{flowLogs: null}")[0],
        ("/central".to_owned(), "no match".to_owned())
    );
    // /other has none known: an unlisted flow log could point at it.
    assert_eq!(
        check("{flowLogs_SOME: {}}")[1],
        ("/other".to_owned(), "unknown: ec2:DescribeFlowLogs".to_owned())
    );
    assert_eq!(
        check("{flowLogs: null}")[1],
        ("/other".to_owned(), "unknown: ec2:DescribeFlowLogs".to_owned())
    );
    // ALL over a partial list is false only once a known member fails it.
    assert_eq!(check(r#"{flowLogs_ALL: {trafficType: "REJECT"}}"#)[0].1, "no match");
    assert_eq!(
        check(r#"{flowLogs_ALL: {trafficType: "ALL"}}"#)[0].1,
        "unknown: ec2:DescribeFlowLogs"
    );
}

#[test]
fn null_comparisons_and_not_null_are_errors() {
    let err = compile("logGroups(where: {retentionInDays_LT: null}) { id }", &BTreeMap::new()).unwrap_err();
    assert!(err.message.contains("compared with null it matches nothing"), "{err}");
    let text = r#"query($days: Int) { logGroups(where: {retentionInDays_LT: $days}) { id } }"#;
    let err = compile(text, &BTreeMap::new()).unwrap_err();
    assert!(
        err.message.contains("compared with null"),
        "an unset variable is null too: {err}"
    );
    let err = compile("vpcs(where: {NOT: null}) { id }", &BTreeMap::new()).unwrap_err();
    assert!(err.message.contains("NOT takes a filter object"), "{err}");
}

#[test]
fn comments_before_a_full_operation_are_ignored() {
    let q = compile("# stored check\n# second line\nquery { vpcs { id } }", &BTreeMap::new()).unwrap();
    assert_eq!(q.roots[0].kind, Kind::Vpc);
}
