//! The Athena script: it parses as SQL (the DDL with Hive's dialect, the queries with a generic
//! one), every table a query reads is one the script creates, and every column a query reads is
//! one of that table's for the chosen layout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use datafusion::sql::sqlparser::ast::{
    Expr, ObjectNamePart, Query, SelectItem, SetExpr, Statement, TableFactor, Visit, Visitor,
};
use datafusion::sql::sqlparser::dialect::{GenericDialect, HiveDialect};
use datafusion::sql::sqlparser::parser::Parser;
use netaudit_logs::athena::{ddl, statements, table_columns, AthenaOptions};
use netaudit_logs::detect::Thresholds;
use netaudit_logs::FlowFormat;
use std::collections::BTreeSet;
use std::ops::ControlFlow;

fn options(format: &str, hive: bool, hourly: bool, parquet: bool) -> AthenaOptions {
    AthenaOptions {
        location: "s3://my-flow-logs/prefix/".into(),
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        hive,
        hourly,
        parquet,
        format: FlowFormat::parse_aws(format).unwrap(),
        first_year: 2024,
        table: "flows".into(),
    }
}

fn v5() -> &'static str {
    netaudit_logs::generate::GENERATED_V5_FORMAT
}

/// Every name a statement uses: tables read, identifiers, and the names it defines itself (CTEs,
/// aliases of columns, tables and subqueries).
#[derive(Default, Debug)]
struct Names {
    tables: BTreeSet<String>,
    identifiers: BTreeSet<String>,
    defined: BTreeSet<String>,
}

impl Names {
    /// Column aliases of every SELECT of a query body, through UNION and the like.
    fn select_aliases(&mut self, body: &SetExpr) {
        match body {
            SetExpr::Select(select) => {
                for item in &select.projection {
                    if let SelectItem::ExprWithAlias { alias, .. } = item {
                        self.defined.insert(alias.value.to_lowercase());
                    }
                }
            }
            SetExpr::SetOperation { left, right, .. } => {
                self.select_aliases(left);
                self.select_aliases(right);
            }
            SetExpr::Query(query) => self.select_aliases(&query.body),
            _ => {}
        }
    }
}

impl Visitor for Names {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.defined.insert(cte.alias.name.value.to_lowercase());
            }
        }
        self.select_aliases(&query.body);
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        match factor {
            TableFactor::Table { name, alias, .. } => {
                let name: Vec<String> = name
                    .0
                    .iter()
                    .map(|p| match p {
                        ObjectNamePart::Identifier(i) => i.value.to_lowercase(),
                        other => other.to_string(),
                    })
                    .collect();
                self.tables.insert(name.join("."));
                if let Some(alias) = alias {
                    self.defined.insert(alias.name.value.to_lowercase());
                }
            }
            TableFactor::Derived { alias: Some(alias), .. } => {
                self.defined.insert(alias.name.value.to_lowercase());
                // `(VALUES …) AS c (id, category)` names its columns.
                for column in &alias.columns {
                    self.defined.insert(column.name.value.to_lowercase());
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Identifier(ident) => {
                self.identifiers.insert(ident.value.to_lowercase());
            }
            Expr::CompoundIdentifier(parts) => {
                if let Some(last) = parts.last() {
                    self.identifiers.insert(last.value.to_lowercase());
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// The columns of a `CREATE TABLE` (Hive's dialect) of the table `name`.
fn created_columns(sql: &str, name: &str) -> BTreeSet<String> {
    let parsed = Parser::parse_sql(&HiveDialect {}, sql).unwrap_or_else(|e| panic!("{e}\n{sql}"));
    match &parsed[0] {
        Statement::CreateTable(create) => {
            assert_eq!(create.name.to_string(), name);
            create.columns.iter().map(|c| c.name.value.to_lowercase()).collect()
        }
        other => panic!("not a CREATE TABLE: {other}"),
    }
}

/// A `CREATE VIEW`: its name, its output columns and every name its query uses.
fn view(sql: &str) -> (String, Vec<String>, Names) {
    let parsed = Parser::parse_sql(&GenericDialect {}, sql).unwrap_or_else(|e| panic!("{e}\n{sql}"));
    let Statement::CreateView(create) = &parsed[0] else {
        panic!("not a CREATE VIEW: {sql}")
    };
    let outputs: Vec<String> = match create.query.body.as_ref() {
        SetExpr::Select(select) => select
            .projection
            .iter()
            .map(|item| match item {
                SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
                SelectItem::UnnamedExpr(Expr::Identifier(i)) => i.value.clone(),
                SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => parts.last().unwrap().value.clone(),
                other => panic!("{other}"),
            })
            .collect(),
        other => panic!("{other}"),
    };
    let mut used = Names::default();
    let _ = create.query.visit(&mut used);
    (create.name.to_string(), outputs, used)
}

fn names(sql: &str) -> Names {
    let parsed = Parser::parse_sql(&GenericDialect {}, sql).unwrap_or_else(|e| panic!("{e}\n{sql}"));
    assert_eq!(parsed.len(), 1);
    let mut names = Names::default();
    let _ = parsed[0].visit(&mut names);
    names
}

/// Every layout: each query reads only the table the script creates, and only its columns.
#[test]
fn every_query_reads_only_the_created_table_and_its_columns() {
    let layouts = [
        (netaudit_logs::DEFAULT_FORMAT, false, false, false),
        (netaudit_logs::DEFAULT_FORMAT, true, true, false),
        (v5(), false, false, false),
        (v5(), true, true, false),
        (v5(), false, true, true),
        ("${srcaddr} ${dstaddr} ${action}", false, false, false),
    ];
    for (format, hive, hourly, parquet) in layouts {
        let o = options(format, hive, hourly, parquet);
        let columns: BTreeSet<String> = table_columns(&o).into_iter().collect();
        let script = statements(&o, &Thresholds::default(), Some("10.0.1.25"));
        let table = &script.statements[0];
        assert_eq!(table.title, "table");
        let created = Parser::parse_sql(&HiveDialect {}, &table.sql).unwrap_or_else(|e| panic!("{e}\n{}", table.sql));
        let created_name = match &created[0] {
            Statement::CreateTable(create) => create.name.to_string(),
            other => panic!("not a CREATE TABLE: {other}"),
        };
        for statement in &script.statements[1..] {
            let used = names(&statement.sql);
            for t in &used.tables {
                assert!(
                    *t == created_name || used.defined.contains(t),
                    "{format:?} {}: reads table {t}, which the script does not create",
                    statement.title
                );
            }
            for identifier in &used.identifiers {
                assert!(
                    columns.contains(identifier) || used.defined.contains(identifier),
                    "{format:?} {}: uses {identifier}, which table {created_name} ({columns:?}) lacks\n{}",
                    statement.title,
                    statement.sql
                );
            }
        }
        let titles: Vec<&str> = script.statements.iter().map(|s| s.title.as_str()).collect();
        let omitted: Vec<&str> = script.omitted.iter().map(|o| o.title.as_str()).collect();
        // Client VPN and tunnel questions are never emitted against a table that does not exist.
        assert!(omitted.contains(&"detect NETAUDIT.LOGS.VPNBRUTEFORCE"), "{omitted:?}");
        assert!(omitted.contains(&"detect NETAUDIT.LOGS.TUNNELFLAP"), "{omitted:?}");
        assert_eq!(
            titles.len() - 1 + omitted.len(),
            1 + 3 + 7,
            "{format:?}: {titles:?} {omitted:?}"
        );
    }
}

#[test]
fn the_default_layout_gets_rejects_and_port_scans_without_tcp_flags() {
    let o = options(netaudit_logs::DEFAULT_FORMAT, false, false, false);
    let script = statements(&o, &Thresholds::default(), None);
    let rejects = script.statements.iter().find(|s| s.title == "rejects").unwrap();
    assert!(!rejects.sql.contains("tcp_flags"), "{}", rejects.sql);
    let scan = script
        .statements
        .iter()
        .find(|s| s.title == "detect NETAUDIT.LOGS.PORTSCAN")
        .unwrap();
    assert!(!scan.sql.contains("tcp_flags"), "{}", scan.sql);
    // With the field in the format, SYN-only records count.
    let o = options(v5(), false, false, false);
    let script = statements(&o, &Thresholds::default(), None);
    let scan = script
        .statements
        .iter()
        .find(|s| s.title == "detect NETAUDIT.LOGS.PORTSCAN")
        .unwrap();
    assert!(scan.sql.contains("tcp_flags = 2"), "{}", scan.sql);
    // A layout without the fields a question needs leaves it out and says why.
    let o = options("${srcaddr} ${dstaddr} ${action}", false, false, false);
    let script = statements(&o, &Thresholds::default(), None);
    let gaps = script.omitted.iter().find(|o| o.title == "gaps").unwrap();
    assert!(gaps.reason.contains("interface-id"), "{}", gaps.reason);
    let text = netaudit_logs::athena::script(&script);
    assert!(
        text.contains("-- not here: gaps: the log format has no interface-id"),
        "{text}"
    );
}

#[test]
fn the_table_follows_the_format_and_the_layout() {
    let text = ddl(&options(v5(), false, false, false));
    assert!(text.contains("`tcp_flags` int"), "{text}");
    assert!(text.contains("`end` bigint"), "{text}");
    assert!(text.contains("'skip.header.line.count' = '1'"));
    assert!(text.contains(
        "'storage.location.template' = 's3://my-flow-logs/prefix/AWSLogs/123456789012/vpcflowlogs/eu-west-1/${year}/${month}/${day}'"
    ));
    let hive = ddl(&options(v5(), true, true, true));
    assert!(hive.contains("aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=${year}/month=${month}/day=${day}/hour=${hour}"), "{hive}");
    assert!(hive.contains("STORED AS PARQUET"));
    assert!(!hive.contains("skip.header"));
    // Column order is the format's: version first, traffic_path last.
    let first = text.find("`version`").unwrap();
    let last = text.find("`traffic_path`").unwrap();
    assert!(first < last);
}

#[test]
fn the_account_region_and_table_are_checked() {
    let good = options(netaudit_logs::DEFAULT_FORMAT, false, false, false);
    assert_eq!(good.check(), Ok(()));
    for region in ["us-gov-west-1", "eu-central-2", "ap-southeast-5", "il-central-1"] {
        let o = AthenaOptions {
            region: region.into(),
            ..good.clone()
        };
        assert_eq!(o.check(), Ok(()), "{region}");
    }
    let bad = |change: &dyn Fn(&mut AthenaOptions), needle: &str| {
        let mut o = good.clone();
        change(&mut o);
        let error = o.check().unwrap_err();
        assert!(error.contains(needle), "{error}");
    };
    bad(&|o| o.account = "1".into(), "--account");
    bad(&|o| o.account = "12345678901a".into(), "--account");
    bad(&|o| o.account = "1234567890123".into(), "--account");
    bad(&|o| o.region = "x".into(), "--log-region");
    bad(&|o| o.region = "US-EAST-1".into(), "--log-region");
    bad(&|o| o.region = "us-east-1'; DROP".into(), "--log-region");
    bad(&|o| o.region = "us-east".into(), "--log-region");
    bad(&|o| o.location = "/tmp".into(), "--location");
    bad(&|o| o.location = "s3://".into(), "--location");
    bad(&|o| o.table = "flows; DROP TABLE x".into(), "--table");
}

/// The evidence query `detect --engine athena` runs for each finding reads only the created table's
/// columns, for every detection the script emits.
#[test]
fn every_evidence_query_reads_only_the_created_table_and_its_columns() {
    use netaudit_logs::answers::Dialect;
    use netaudit_logs::detect::Detection;
    let t = Thresholds::default();
    for format in [netaudit_logs::DEFAULT_FORMAT, v5()] {
        let o = options(format, false, false, false);
        let columns: BTreeSet<String> = table_columns(&o).into_iter().collect();
        let script = statements(&o, &t, None);
        let mut checked = 0;
        for detection in Detection::ALL {
            let title = format!("detect {}", detection.id());
            if !script.statements.iter().any(|s| s.title == title) {
                continue;
            }
            let sql = detection.evidence_sql(Dialect::Athena, &t, "10.0.1.5", "10.0.2.9", 1_718_000_000);
            assert!(
                !sql.contains("is_private("),
                "DataFusion's function in Athena's SQL: {sql}"
            );
            let used = names(&sql);
            assert_eq!(used.tables, BTreeSet::from(["flows".to_owned()]), "{title}");
            for identifier in &used.identifiers {
                assert!(
                    columns.contains(identifier) || used.defined.contains(identifier),
                    "{format:?} {title}: uses {identifier}\n{sql}"
                );
            }
            checked += 1;
        }
        assert_eq!(checked, 5, "{format:?}: every flow detection");
    }
}

/// An Athena result becomes Arrow typed from Athena's column types, so numbers print as numbers.
#[test]
fn athena_results_are_typed_from_athena_s_column_types() {
    use netaudit_logs::athena::result_from_text;
    use netaudit_logs::render::rows_as_json;
    let columns: Vec<(String, String)> = [
        ("srcaddr", "varchar"),
        ("bytes", "bigint"),
        ("ratio", "double"),
        ("syn", "boolean"),
        ("ports", "array(integer)"),
        ("first_seen", "timestamp"),
    ]
    .iter()
    .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
    .collect();
    let text = |cells: &[Option<&str>]| cells.iter().map(|c| c.map(str::to_owned)).collect::<Vec<_>>();
    let rows = vec![
        text(&[
            Some("10.0.1.5"),
            Some("9000000000"),
            Some("0.25"),
            Some("true"),
            Some("[22, 443]"),
            Some("2024-06-10 06:40:00.000"),
        ]),
        text(&[None, None, None, None, None, None]),
    ];
    let result = result_from_text(&columns, &rows).unwrap();
    let json = rows_as_json(&result.schema, &result.batches).unwrap();
    assert_eq!(
        serde_json::Value::Object(json[0].clone()),
        serde_json::json!({"srcaddr": "10.0.1.5", "bytes": 9_000_000_000_i64, "ratio": 0.25, "syn": true,
            "ports": "[22, 443]", "first_seen": "2024-06-10 06:40:00.000"})
    );
    assert!(json[1].values().all(serde_json::Value::is_null));
    let bad = result_from_text(&columns[1..2], &[text(&[Some("many")])]).unwrap_err();
    assert_eq!(
        bad.to_string(),
        "query: Athena column bytes (bigint): \"many\" is not a bigint"
    );
    // No columns (a DDL statement's answer): no rows either.
    assert_eq!(result_from_text(&[], &[]).unwrap().num_rows(), 0);
}

/// The Client VPN table and views parse; the view has exactly the columns of netaudit's own
/// `vpn_connections` and reads only the raw table's; the `vpn` and `attribute` questions read only
/// columns those views and the flows table have.
#[test]
fn the_client_vpn_views_give_the_questions_every_column_they_read() {
    use netaudit_logs::answers::{self, Dialect, OptionalColumns};
    use netaudit_logs::athena::{vpn_statements, VPN_LOG_TABLE};
    let statements = vpn_statements("s3://my-vpn-logs/cvpn/");
    assert_eq!(statements.len(), 3);
    let raw_columns = created_columns(&statements[0].sql, VPN_LOG_TABLE);
    assert!(statements[0]
        .sql
        .contains("'mapping.connection_start_time' = 'connection-start-time'"));
    assert!(
        statements[0].sql.ends_with("LOCATION 's3://my-vpn-logs/cvpn/'"),
        "{}",
        statements[0].sql
    );
    let mut view_columns = BTreeSet::new();
    for statement in &statements[1..] {
        let (name, outputs, used) = view(&statement.sql);
        if name == "vpn_connections" {
            let local: Vec<String> = netaudit_logs::vpn::vpn_schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            assert_eq!(outputs, local, "the local engine's columns, in its order");
            assert_eq!(used.tables, BTreeSet::from([VPN_LOG_TABLE.to_owned()]));
            for identifier in &used.identifiers {
                assert!(
                    raw_columns.contains(identifier) || identifier == "$path",
                    "the view reads {identifier}"
                );
            }
        } else {
            assert_eq!(name, "vpn_endpoints");
            assert_eq!(outputs, ["client_vpn_endpoint_id", "scope_id"]);
        }
        view_columns.extend(outputs);
    }
    let flows: BTreeSet<String> = table_columns(&options(netaudit_logs::DEFAULT_FORMAT, false, false, false))
        .into_iter()
        .collect();
    let a = Dialect::Athena;
    let none = OptionalColumns {
        tcp_flags: false,
        vpc_id: false,
    };
    for sql in [
        answers::vpn_who(a, 1_718_001_600),
        answers::vpn_sessions(a, Some("alice")),
        answers::vpn_failures(a),
        answers::attribute(a, Some("alice"), none),
    ] {
        let used = names(&sql);
        for t in &used.tables {
            assert!(
                ["flows", "vpn_connections", "vpn_endpoints"].contains(&t.as_str()) || used.defined.contains(t),
                "reads {t}\n{sql}"
            );
        }
        for identifier in &used.identifiers {
            assert!(
                view_columns.contains(identifier) || flows.contains(identifier) || used.defined.contains(identifier),
                "uses {identifier}\n{sql}"
            );
        }
    }
}

/// The tunnel log table and view parse; the view has exactly the columns of netaudit's own
/// `tunnel_events`, and the `tunnels` questions read only columns it has.
#[test]
fn the_tunnel_view_gives_the_tunnels_questions_every_column_they_read() {
    use netaudit_logs::answers::{self, Dialect};
    use netaudit_logs::athena::{tunnel_statements, TUNNEL_LOG_TABLE};
    let statements = tunnel_statements("s3://my-vpn-logs/tunnels");
    assert_eq!(statements.len(), 2);
    let raw_columns = created_columns(&statements[0].sql, TUNNEL_LOG_TABLE);
    assert!(statements[0].sql.ends_with("LOCATION 's3://my-vpn-logs/tunnels/'"));
    let (name, outputs, used) = view(&statements[1].sql);
    assert_eq!(name, "tunnel_events");
    let local: Vec<String> = netaudit_logs::vpn::tunnel_schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(outputs, local, "the local engine's columns, in its order");
    assert_eq!(used.tables, BTreeSet::from([TUNNEL_LOG_TABLE.to_owned()]));
    for identifier in &used.identifiers {
        assert!(
            raw_columns.contains(identifier) || used.defined.contains(identifier) || identifier == "$path",
            "the view reads {identifier}"
        );
    }
    let view_columns: BTreeSet<String> = outputs.into_iter().collect();
    for sql in [
        answers::tunnels(Dialect::Athena),
        answers::tunnel_summary(Dialect::Athena),
    ] {
        let used = names(&sql);
        for t in &used.tables {
            assert!(t == "tunnel_events" || used.defined.contains(t), "reads {t}");
        }
        for identifier in &used.identifiers {
            assert!(
                view_columns.contains(identifier) || used.defined.contains(identifier),
                "uses {identifier}\n{sql}"
            );
        }
    }
}

/// The view's catalogue match, run as SQL, picks the entry the local reader's does: for a message
/// made from each documented pattern, with text after it, in other case, and for messages no
/// entry documents.
#[test]
fn the_catalogue_match_in_sql_agrees_with_the_local_reader() {
    use netaudit_logs::athena::catalogue_id_sql;
    use netaudit_logs::catalogue::{classify, CATALOGUE};
    use netaudit_logs::{Issues, LogSession, LogSources};
    let mut messages: Vec<String> = vec![];
    for entry in CATALOGUE {
        let message = entry.pattern.replace("{n}", "42");
        messages.push(format!("  {message}  "));
        messages.push(format!("{}. extra", message.to_uppercase()));
        // `{n}` takes at least one character.
        if entry.pattern.contains("{n}") {
            messages.push(entry.pattern.replace("{n}", ""));
        }
    }
    messages.extend([
        "AWS tunnel did something new".to_owned(),
        String::new(),
        "50% of_it".to_owned(),
    ]);
    let session = LogSession::new(LogSources::default(), Issues::new()).unwrap();
    let values: Vec<String> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| format!("({i}, {})", netaudit_logs::answers::literal(m)))
        .collect();
    let sql = format!(
        "SELECT i, {} AS id FROM (VALUES {}) AS v (i, m) ORDER BY i",
        catalogue_id_sql("m"),
        values.join(", ")
    );
    let result = session.query(&sql).unwrap();
    let rows = netaudit_logs::render::rows_as_json(&result.schema, &result.batches).unwrap();
    assert_eq!(rows.len(), messages.len());
    let mut matched = 0;
    for (row, message) in rows.iter().zip(&messages) {
        let expected = classify(message).map(|e| e.id);
        assert_eq!(row["id"].as_str(), expected, "{message:?}");
        matched += usize::from(expected.is_some());
    }
    assert!(matched >= 2 * CATALOGUE.len(), "{matched}");
}
