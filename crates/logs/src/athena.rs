//! For logs that outgrow one machine: the `flows` table in Athena, with partition projection over
//! the S3 key layout, and the built-in questions and detections in Athena's SQL.
//!
//! The table's columns are the delivered format's fields in order (Athena reads text by position),
//! named as in netaudit's `flows` table, so the queries are the same text on both engines but for
//! the few functions [`Dialect`] translates.

use crate::answers::{self, Dialect};
use crate::detect::{Detection, Thresholds};
use crate::flow_format::{column_name, FieldKind, FlowFormat, FIELDS};

/// Where the logs are and how they are laid out.
#[derive(Debug, Clone)]
pub struct AthenaOptions {
    /// The bucket and prefix flow logs are delivered to: `s3://bucket[/prefix]`.
    pub location: String,
    pub account: String,
    pub region: String,
    /// Hive-compatible S3 prefixes (`aws-account-id=…/…/year=…/month=…/day=…`).
    pub hive: bool,
    /// Per-hour partitions (`…/dd/HH/` or `hour=HH`).
    pub hourly: bool,
    /// Parquet files instead of text.
    pub parquet: bool,
    /// The delivered format (text: columns are read by position).
    pub format: FlowFormat,
    /// The first day partition projection knows (`yyyy/MM/dd` is not needed: a year).
    pub first_year: i32,
    pub table: String,
}

/// A statement and what it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub title: String,
    pub sql: String,
}

fn athena_type(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Int32 => "int",
        FieldKind::Int64 => "bigint",
        FieldKind::Text => "string",
    }
}

/// The `CREATE EXTERNAL TABLE` statement.
pub fn ddl(o: &AthenaOptions) -> String {
    let base = o.location.trim_end_matches('/');
    let mut columns = vec![];
    for (position, name) in o.format.names.iter().enumerate() {
        let kind = o.format.positions[position].map_or(FieldKind::Text, |i| FIELDS[i].kind);
        columns.push(format!("  `{}` {}", column_name(name), athena_type(kind)));
    }
    let (template, hour_part) = if o.hive {
        (
            format!(
                "{base}/AWSLogs/aws-account-id={}/aws-service=vpcflowlogs/aws-region={}/year=${{year}}/month=${{month}}/day=${{day}}",
                o.account, o.region
            ),
            "/hour=${hour}",
        )
    } else {
        (
            format!(
                "{base}/AWSLogs/{}/vpcflowlogs/{}/${{year}}/${{month}}/${{day}}",
                o.account, o.region
            ),
            "/${hour}",
        )
    };
    let template = if o.hourly {
        format!("{template}{hour_part}")
    } else {
        template
    };
    let mut partitions = vec!["`year` int", "`month` int", "`day` int"];
    let mut properties = vec![
        "'projection.enabled' = 'true'".to_owned(),
        format!("'projection.year.type' = 'integer'"),
        format!("'projection.year.range' = '{},2099'", o.first_year),
        "'projection.month.type' = 'integer'".to_owned(),
        "'projection.month.range' = '1,12'".to_owned(),
        "'projection.month.digits' = '2'".to_owned(),
        "'projection.day.type' = 'integer'".to_owned(),
        "'projection.day.range' = '1,31'".to_owned(),
        "'projection.day.digits' = '2'".to_owned(),
    ];
    if o.hourly {
        partitions.push("`hour` int");
        properties.extend([
            "'projection.hour.type' = 'integer'".to_owned(),
            "'projection.hour.range' = '0,23'".to_owned(),
            "'projection.hour.digits' = '2'".to_owned(),
        ]);
    }
    properties.push(format!("'storage.location.template' = '{template}'"));
    let storage = if o.parquet {
        "STORED AS PARQUET".to_owned()
    } else {
        properties.push("'skip.header.line.count' = '1'".to_owned());
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ' '".to_owned()
    };
    let root = if o.hive {
        format!(
            "{base}/AWSLogs/aws-account-id={}/aws-service=vpcflowlogs/aws-region={}/",
            o.account, o.region
        )
    } else {
        format!("{base}/AWSLogs/{}/vpcflowlogs/{}/", o.account, o.region)
    };
    format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS {table} (\n{columns}\n)\nPARTITIONED BY ({partitions})\n{storage}\n\
         LOCATION '{root}'\nTBLPROPERTIES (\n  {properties}\n)",
        table = o.table,
        columns = columns.join(",\n"),
        partitions = partitions.join(", "),
        properties = properties.join(",\n  "),
    )
}

/// The built-in questions and detections over flows, in Athena's SQL. Questions over
/// `vpn_connections` and `tunnel_events` are included for tables of those names with netaudit's
/// column layout.
pub fn statements(o: &AthenaOptions, thresholds: &Thresholds, ip: Option<&str>) -> Vec<Statement> {
    let d = Dialect::Athena;
    let rename = |sql: String| {
        if o.table == "flows" {
            sql
        } else {
            sql.replace("FROM flows", &format!("FROM {}", o.table))
        }
    };
    let mut out = vec![Statement {
        title: "table".into(),
        sql: ddl(o),
    }];
    if let Some(ip) = ip {
        out.push(Statement {
            title: format!("talked-to {ip}"),
            sql: rename(answers::talked_to(d, ip)),
        });
    }
    let questions = [
        ("top-talkers", answers::top_talkers(d, 10)),
        ("rejects", answers::rejects(d, 100)),
        ("gaps", answers::gaps(d, 900)),
        ("vpn sessions", answers::vpn_sessions(d, None)),
        ("vpn failures", answers::vpn_failures(d)),
        ("attribute", answers::attribute(d, None)),
        ("tunnels", answers::tunnels(d)),
    ];
    for (title, sql) in questions {
        out.push(Statement {
            title: title.into(),
            sql: rename(sql),
        });
    }
    for detection in Detection::ALL {
        out.push(Statement {
            title: format!("detect {}", detection.id()),
            sql: rename(detection.sql(d, thresholds)),
        });
    }
    out
}

/// All statements as one script, each headed by a comment and ended by `;`.
pub fn script(statements: &[Statement]) -> String {
    let mut out = String::new();
    for s in statements {
        out.push_str(&format!("-- {}\n{};\n\n", s.title, s.sql));
    }
    out
}
