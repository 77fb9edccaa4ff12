//! The Athena script parses as SQL: the DDL with Hive's dialect, the queries with a generic one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use datafusion::sql::sqlparser::dialect::{GenericDialect, HiveDialect};
use datafusion::sql::sqlparser::parser::Parser;
use netaudit_logs::athena::{ddl, statements, AthenaOptions};
use netaudit_logs::detect::Thresholds;
use netaudit_logs::FlowFormat;

fn options(hive: bool, hourly: bool, parquet: bool) -> AthenaOptions {
    AthenaOptions {
        location: "s3://my-flow-logs/prefix/".into(),
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        hive,
        hourly,
        parquet,
        format: FlowFormat::parse_aws(netaudit_logs::generate::GENERATED_V5_FORMAT).unwrap(),
        first_year: 2024,
        table: "flows".into(),
    }
}

#[test]
fn every_statement_parses() {
    for (hive, hourly, parquet) in [(false, false, false), (true, true, false), (false, true, true)] {
        let o = options(hive, hourly, parquet);
        let all = statements(&o, &Thresholds::default(), Some("10.0.1.25"));
        assert_eq!(all.len(), 1 + 1 + 7 + 7);
        for statement in &all {
            let parsed = if statement.title == "table" {
                Parser::parse_sql(&HiveDialect {}, &statement.sql)
            } else {
                Parser::parse_sql(&GenericDialect {}, &statement.sql)
            };
            let parsed = parsed.unwrap_or_else(|e| panic!("{}: {e}\n{}", statement.title, statement.sql));
            assert_eq!(parsed.len(), 1, "{}", statement.title);
        }
    }
}

#[test]
fn the_table_follows_the_format_and_the_layout() {
    let text = ddl(&options(false, false, false));
    assert!(text.contains("`tcp_flags` int"), "{text}");
    assert!(text.contains("`end` bigint"), "{text}");
    assert!(text.contains("'skip.header.line.count' = '1'"));
    assert!(text.contains(
        "'storage.location.template' = 's3://my-flow-logs/prefix/AWSLogs/123456789012/vpcflowlogs/eu-west-1/${year}/${month}/${day}'"
    ));
    let hive = ddl(&options(true, true, true));
    assert!(hive.contains("aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=${year}/month=${month}/day=${day}/hour=${hour}"), "{hive}");
    assert!(hive.contains("STORED AS PARQUET"));
    assert!(!hive.contains("skip.header"));
    // Column order is the format's: version first, traffic_path last.
    let first = text.find("`version`").unwrap();
    let last = text.find("`traffic_path`").unwrap();
    assert!(first < last);
}
