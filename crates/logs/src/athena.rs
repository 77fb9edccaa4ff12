//! For logs that outgrow one machine: the `flows` table in Athena, with partition projection over
//! the S3 key layout, and the built-in questions and detections in Athena's SQL.
//!
//! The table's columns are the delivered format's fields in order (Athena reads text by position),
//! named as in netaudit's `flows` table, so the queries are the same text on both engines but for
//! the few functions [`Dialect`] translates.

use crate::answers::{self, Dialect, OptionalColumns};
use crate::detect::{Detection, Thresholds};
use crate::flow_format::{column_name, FieldKind, FlowFormat, FIELDS};
use crate::{LogError, QueryResult};
use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use std::sync::Arc;

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

/// A flows question or detection that was left out of the script, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Omitted {
    pub title: String,
    pub reason: String,
}

/// The table and every question and detection its columns can answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The `CREATE EXTERNAL TABLE` first, then the queries.
    pub statements: Vec<Statement>,
    pub omitted: Vec<Omitted>,
}

impl AthenaOptions {
    /// Options that would make a table Athena cannot use, as the message to show.
    pub fn check(&self) -> Result<(), String> {
        let bucket = self
            .location
            .strip_prefix("s3://")
            .map(|rest| rest.split('/').next().unwrap_or_default());
        if bucket.is_none_or(str::is_empty) {
            return Err(format!("--location {:?}: expected s3://bucket[/prefix]", self.location));
        }
        if self.account.len() != 12 || !self.account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("--account {:?}: an AWS account id is 12 digits", self.account));
        }
        if !is_region_name(&self.region) {
            return Err(format!(
                "--log-region {:?}: not an AWS region name (like us-east-1)",
                self.region
            ));
        }
        let identifier = |part: &str| {
            part.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        };
        let parts: Vec<&str> = self.table.split('.').collect();
        if parts.len() > 2 || !parts.iter().all(|p| identifier(p)) {
            return Err(format!(
                "--table {:?}: expected [database.]table (letters, digits, _)",
                self.table
            ));
        }
        if !(2015..=2099).contains(&self.first_year) {
            return Err(format!("--first-year {}: expected a year from 2015", self.first_year));
        }
        Ok(())
    }
}

/// `us-east-1`, `us-gov-west-1`, `eu-central-2`: two letters, words, a number.
fn is_region_name(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let letters = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    parts.len() >= 3
        && parts[0].len() == 2
        && letters(&parts[0])
        && parts[1..parts.len() - 1].iter().all(letters)
        && parts
            .last()
            .is_some_and(|n| (1..=2).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The columns of the table [`ddl`] creates.
pub fn table_columns(o: &AthenaOptions) -> Vec<String> {
    o.format.names.iter().map(|n| column_name(n)).collect()
}

/// The built-in questions and detections over flows, in Athena's SQL, each only when the table
/// has every column it reads. The Client VPN and Site-to-Site questions read the views
/// [`vpn_statements`] and [`tunnel_statements`] make; they are not in this script.
pub fn statements(o: &AthenaOptions, thresholds: &Thresholds, ip: Option<&str>) -> Script {
    let d = Dialect::Athena;
    let columns = table_columns(o);
    let has = |c: &str| columns.iter().any(|n| n == c);
    let optional = OptionalColumns {
        tcp_flags: has("tcp_flags"),
        vpc_id: has("vpc_id"),
    };
    let rename = |sql: String| on_table(&sql, &o.table);
    let mut script = Script {
        statements: vec![Statement {
            title: "table".into(),
            sql: ddl(o),
        }],
        omitted: vec![],
    };
    let mut questions: Vec<(String, &[&str], String)> = vec![];
    if let Some(ip) = ip {
        questions.push((
            format!("talked-to {ip}"),
            answers::TALKED_TO_COLUMNS,
            answers::talked_to(d, ip),
        ));
    }
    questions.extend([
        (
            "top-talkers".to_owned(),
            answers::TOP_TALKERS_COLUMNS,
            answers::top_talkers(d, 10),
        ),
        (
            "rejects".to_owned(),
            answers::REJECTS_COLUMNS,
            answers::rejects(d, 100, optional),
        ),
        ("gaps".to_owned(), answers::GAPS_COLUMNS, answers::gaps(d, 900)),
    ]);
    for detection in Detection::ALL {
        let title = format!("detect {}", detection.id());
        if detection.table() != crate::Table::Flows {
            script.omitted.push(Omitted {
                title,
                reason: format!(
                    "reads {}: `netaudit logs detect --only {}` runs it, on the logs themselves or with \
                     --engine athena over the view --vpn-location or --tunnels-location makes",
                    detection.table().name(),
                    detection.id()
                ),
            });
            continue;
        }
        questions.push((title, detection.flow_columns(), detection.sql(d, thresholds, optional)));
    }
    for (title, needed, sql) in questions {
        let missing: Vec<&str> = needed.iter().copied().filter(|c| !has(c)).collect();
        if missing.is_empty() {
            script.statements.push(Statement {
                title,
                sql: rename(sql),
            });
        } else {
            script.omitted.push(Omitted {
                title,
                reason: format!(
                    "the log format has no {}",
                    missing
                        .iter()
                        .map(|c| c.replace('_', "-"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    script
}

/// The script: each statement headed by a comment and ended by `;`, then what was left out.
pub fn script(script: &Script) -> String {
    let mut out = String::new();
    for s in &script.statements {
        out.push_str(&format!("-- {}\n{};\n\n", s.title, s.sql));
    }
    for o in &script.omitted {
        out.push_str(&format!("-- not here: {}: {}\n", o.title, o.reason));
    }
    out
}

/// The Arrow type a result column of Athena type `athena_type` is read as: whole numbers as
/// Int64, fractions as Float64, booleans, and the rest (text, arrays, timestamps) as the text
/// Athena returns.
fn arrow_type(athena_type: &str) -> DataType {
    match athena_type.to_ascii_lowercase().as_str() {
        "tinyint" | "smallint" | "integer" | "int" | "bigint" => DataType::Int64,
        "double" | "float" | "real" => DataType::Float64,
        t if t.starts_with("decimal") => DataType::Float64,
        "boolean" => DataType::Boolean,
        _ => DataType::Utf8,
    }
}

/// An Athena result (columns as (name, Athena type), cells as Athena's text) as a query result
/// the renderers print like the local engine's.
pub fn result_from_text(columns: &[(String, String)], rows: &[Vec<Option<String>>]) -> Result<QueryResult, LogError> {
    let mut fields = vec![];
    let mut arrays: Vec<ArrayRef> = vec![];
    for (index, (name, athena_type)) in columns.iter().enumerate() {
        let data_type = arrow_type(athena_type);
        let cells = rows.iter().map(|row| row.get(index).cloned().flatten());
        let bad = |value: &str| {
            LogError::Query(format!(
                "Athena column {name} ({athena_type}): {value:?} is not a {athena_type}"
            ))
        };
        let array: ArrayRef = match data_type {
            DataType::Int64 => Arc::new(
                cells
                    .map(|c| c.map(|v| v.trim().parse::<i64>().map_err(|_| bad(&v))).transpose())
                    .collect::<Result<Int64Array, _>>()?,
            ),
            DataType::Float64 => Arc::new(
                cells
                    .map(|c| c.map(|v| v.trim().parse::<f64>().map_err(|_| bad(&v))).transpose())
                    .collect::<Result<Float64Array, _>>()?,
            ),
            DataType::Boolean => Arc::new(
                cells
                    .map(|c| {
                        c.map(|v| match v.trim() {
                            "true" => Ok(true),
                            "false" => Ok(false),
                            _ => Err(bad(&v)),
                        })
                        .transpose()
                    })
                    .collect::<Result<BooleanArray, _>>()?,
            ),
            _ => Arc::new(cells.collect::<StringArray>()),
        };
        fields.push(Field::new(name, data_type, true));
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = if columns.is_empty() {
        RecordBatch::new_empty(schema.clone())
    } else {
        RecordBatch::try_new(schema.clone(), arrays)?
    };
    Ok(QueryResult {
        schema,
        batches: vec![batch],
    })
}

/// Point a statement written for the `flows` table at `table` (`[database.]name`).
pub fn on_table(sql: &str, table: &str) -> String {
    if table == "flows" {
        sql.to_owned()
    } else {
        sql.replace("FROM flows", &format!("FROM {table}"))
    }
}

/// A text column of a raw log table, with `NA`, `-` and empty text as null (as the local readers
/// take them).
fn absent(column: &str) -> String {
    format!("NULLIF(NULLIF(NULLIF({column}, 'NA'), '-'), '')")
}

/// The raw Client VPN connection log table `athena create --vpn-location` makes.
pub const VPN_LOG_TABLE: &str = "vpn_connection_log";

/// Client VPN connection logs in S3 as Athena tables: the records as they are (one JSON object a
/// line, keys with `-`, every value text; a line that is not JSON fails the query rather than
/// being skipped unseen), then the views `vpn_connections` (the columns and types
/// of netaudit's own table: `NA` and `-` are null, times are epoch seconds, the file is `source`)
/// and `vpn_endpoints` (empty: no endpoint declares its VPCs, as without `--vpn-endpoint`). The
/// `vpn` and `attribute` questions then read them as they read netaudit's own tables.
pub fn vpn_statements(location: &str) -> Vec<Statement> {
    let base = location.trim_end_matches('/');
    let schema = crate::vpn::vpn_schema();
    let logged: Vec<&str> = schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .filter(|n| *n != "source")
        .collect();
    let columns: Vec<String> = logged.iter().map(|n| format!("  `{n}` string")).collect();
    let mappings: Vec<String> = logged
        .iter()
        .map(|n| format!("  'mapping.{n}' = '{}'", n.replace('_', "-")))
        .collect();
    let table = format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS {VPN_LOG_TABLE} (\n{}\n)\n\
         ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\nWITH SERDEPROPERTIES (\n{}\n)\n\
         LOCATION '{base}/'",
        columns.join(",\n"),
        mappings.join(",\n"),
    );
    let mut selected = vec![];
    for field in schema.fields() {
        let n = field.name();
        selected.push(match field.data_type() {
            _ if n == "source" => "\"$path\" AS source".to_owned(),
            _ if crate::vpn::VPN_TIMES.contains(&n.as_str()) => format!(
                "CAST(to_unixtime(parse_datetime({}, 'yyyy-MM-dd HH:mm:ss')) AS BIGINT) AS {n}",
                absent(n)
            ),
            DataType::Int64 => format!("TRY_CAST({} AS BIGINT) AS {n}", absent(n)),
            DataType::Int32 => format!("TRY_CAST({} AS INTEGER) AS {n}", absent(n)),
            _ => format!("{} AS {n}", absent(n)),
        });
    }
    let view = format!(
        "CREATE OR REPLACE VIEW vpn_connections AS SELECT {} FROM {VPN_LOG_TABLE}",
        selected.join(", ")
    );
    let endpoints = "CREATE OR REPLACE VIEW vpn_endpoints AS SELECT client_vpn_endpoint_id, scope_id FROM \
                     (VALUES (CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR))) AS none (client_vpn_endpoint_id, scope_id) \
                     WHERE client_vpn_endpoint_id IS NOT NULL"
        .to_owned();
    vec![
        Statement {
            title: "Client VPN connection logs".into(),
            sql: table,
        },
        Statement {
            title: "vpn_connections".into(),
            sql: view,
        },
        Statement {
            title: "vpn_endpoints".into(),
            sql: endpoints,
        },
    ]
}

/// The raw Site-to-Site VPN log table `athena create --tunnels-location` makes.
pub const TUNNEL_LOG_TABLE: &str = "tunnel_log";

/// A catalogue pattern as a `LIKE` pattern (escape `\`): `{n}` is one character or more, and
/// text may follow the documented message, as [`crate::catalogue::classify`] matches.
fn like_pattern(pattern: &str) -> String {
    let escaped = pattern
        .to_ascii_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
        .replace("{n}", "_%");
    format!("{escaped}%")
}

/// The id of the first catalogue entry `column` (a message) matches, as SQL; null when none.
pub fn catalogue_id_sql(column: &str) -> String {
    let cases: Vec<String> = crate::catalogue::CATALOGUE
        .iter()
        .map(|e| {
            format!(
                "WHEN lower(trim({column})) LIKE {} ESCAPE '\\' THEN {}",
                answers::literal(&like_pattern(e.pattern)),
                answers::literal(e.id)
            )
        })
        .collect();
    format!("CASE {} END", cases.join(" "))
}

/// Site-to-Site VPN tunnel activity and BGP logs in S3 (JSON, one record a line; the object's
/// key names the connection and tunnel as `vpn-…-<outside ip>` unless the record's `resource_id`
/// does) as the raw table, then the view `tunnel_events` with the columns and types of netaudit's
/// own table, each message matched to the catalogue as the local engine does.
pub fn tunnel_statements(location: &str) -> Vec<Statement> {
    let base = location.trim_end_matches('/');
    let raw = [
        "resource_id",
        "event_timestamp",
        "timestamp",
        "details",
        "dpd_enabled",
        "nat_t_detected",
        "ike_phase1_state",
        "ike_phase2_state",
        "type",
        "status",
        "message",
    ];
    let columns: Vec<String> = raw.iter().map(|n| format!("  `{n}` string")).collect();
    let table = format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS {TUNNEL_LOG_TABLE} (\n{}\n)\n\
         ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\nLOCATION '{base}/'",
        columns.join(",\n")
    );
    let named = |from: &str| format!("regexp_extract({from}, 'vpn-[0-9a-f]+')");
    let outside_ip = |from: &str| {
        format!("regexp_extract({from}, 'vpn-[0-9a-f]+[-_]((?:[0-9]{{1,3}}\\.){{3}}[0-9]{{1,3}}|[0-9a-fA-F]*:[0-9a-fA-F:]+)', 1)")
    };
    // Seconds or milliseconds (past 10^11 a value is milliseconds), else the `timestamp` text.
    let millis = "CASE WHEN abs(raw_time) >= 1e11 THEN raw_time ELSE raw_time * 1000 END";
    let parsed = format!(
        "SELECT coalesce({id_r}, {id_p}) AS vpn_connection_id, coalesce({ip_r}, {ip_p}) AS tunnel_outside_ip, \
         CASE WHEN {resource} IS NOT NULL OR {kind} IS NOT NULL THEN 'bgp' ELSE 'tunnel' END AS log_kind, \
         coalesce(TRY_CAST({event} AS DOUBLE), TRY_CAST({stamp} AS DOUBLE), \
         to_unixtime(TRY(parse_datetime(replace({stamp}, 'Z', ''), 'yyyy-MM-dd HH:mm:ss.SSS')))) AS raw_time, \
         coalesce({details}, {message_details}, CASE WHEN {message} NOT LIKE '{{%' THEN {message} END) AS details, \
         TRY_CAST({dpd} AS BOOLEAN) AS dpd_enabled, TRY_CAST({nat} AS BOOLEAN) AS nat_t_detected, \
         lower({phase1}) AS ike_phase1_state, lower({phase2}) AS ike_phase2_state, {kind} AS bgp_type, \
         {status} AS bgp_status, json_extract_scalar(message, '$.prefix') AS bgp_prefix, \
         json_extract_scalar(message, '$.asPath') AS bgp_as_path, \
         json_extract_scalar(message, '$.nextHopIp') AS bgp_next_hop_ip, \"$path\" AS source FROM {TUNNEL_LOG_TABLE}",
        id_r = named("resource_id"),
        id_p = named("\"$path\""),
        ip_r = outside_ip("resource_id"),
        ip_p = outside_ip("\"$path\""),
        resource = absent("resource_id"),
        kind = absent("type"),
        event = absent("event_timestamp"),
        stamp = absent("timestamp"),
        details = absent("details"),
        message_details = "json_extract_scalar(message, '$.details')",
        message = absent("message"),
        dpd = absent("dpd_enabled"),
        nat = absent("nat_t_detected"),
        phase1 = absent("ike_phase1_state"),
        phase2 = absent("ike_phase2_state"),
        status = absent("status"),
    );
    let catalogue: Vec<String> = crate::catalogue::CATALOGUE
        .iter()
        .map(|e| {
            format!(
                "({}, {}, {}, {})",
                answers::literal(e.id),
                answers::literal(e.category.as_str()),
                answers::literal(e.explanation),
                answers::literal(e.fix)
            )
        })
        .collect();
    let view = format!(
        "CREATE OR REPLACE VIEW tunnel_events AS SELECT t.vpn_connection_id, t.tunnel_outside_ip, t.log_kind, \
         CAST(floor(t.event_millis / 1000) AS BIGINT) AS event_time, CAST(t.event_millis AS BIGINT) AS event_time_ms, \
         t.details, t.dpd_enabled, t.nat_t_detected, t.ike_phase1_state, t.ike_phase2_state, t.bgp_type, \
         t.bgp_status, t.bgp_prefix, t.bgp_as_path, t.bgp_next_hop_ip, t.message_id, c.category, c.explanation, \
         c.fix, t.source \
         FROM (SELECT p.*, round({millis}) AS event_millis, {id} AS message_id FROM ({parsed}) AS p) AS t \
         LEFT JOIN (VALUES {entries}) AS c (id, category, explanation, fix) ON c.id = t.message_id",
        id = catalogue_id_sql("details"),
        entries = catalogue.join(", "),
    );
    vec![
        Statement {
            title: "Site-to-Site VPN tunnel logs".into(),
            sql: table,
        },
        Statement {
            title: "tunnel_events".into(),
            sql: view,
        },
    ]
}
