//! Client VPN connection logs and Site-to-Site VPN tunnel activity and BGP logs, into Arrow.
//!
//! Both arrive as one JSON object per CloudWatch Logs event. A line may be the raw object, or a
//! CloudWatch export line (`2024-06-10T07:13:20.000Z {…}`): the object starts at the first `{`.
//! Site-to-Site logs may also be in the text output format: `<timestamp> <message>` per line.

use crate::catalogue;
use crate::issues::{Issue, Issues};
use crate::sources::Input;
use crate::LogError;
use datafusion::arrow::array::{ArrayRef, BooleanBuilder, Int32Builder, Int64Builder, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde_json::Value;
use std::sync::Arc;

/// Report a bad line, or fail in strict mode.
fn bad_line(issues: &Issues, strict: bool, source: &str, line: u64, message: String) -> Result<(), LogError> {
    let issue = Issue {
        source: source.to_owned(),
        line: Some(line),
        message,
    };
    if strict {
        return Err(LogError::BadInput(issue));
    }
    issues.report(issue);
    Ok(())
}

/// A handler for a line that holds no JSON object.
type TextLine<'a> = &'a mut dyn FnMut(u64, &str) -> Result<(), String>;

/// Each line of an input that holds a JSON object, with its line number; other lines are handed
/// to `text` (for formats that have a text form) or reported.
fn for_each_line(
    input: &Input,
    issues: &Issues,
    strict: bool,
    mut json: impl FnMut(u64, serde_json::Map<String, Value>, Option<&str>) -> Result<(), String>,
    mut text: Option<TextLine<'_>>,
) -> Result<(), LogError> {
    let (mut bytes, cut) = input.read_to_vec()?;
    let source = input.name();
    // The last line read before a cut may be incomplete: it goes with the rest, reported after
    // the complete lines so that strict mode stops at the first bad line.
    let cut = cut.map(|e| {
        let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |at| at + 1);
        bytes.truncate(complete);
        let line = bytes.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        (line, format!("the input ends early or is corrupt: {e}"))
    });
    for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let number = index as u64 + 1;
        let Ok(line) = std::str::from_utf8(raw) else {
            bad_line(issues, strict, &source, number, "the line is not UTF-8".into())?;
            continue;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let outcome = match line.find('{') {
            Some(at) => {
                // A CloudWatch export prefixes the event time.
                let prefix = line[..at].trim();
                match serde_json::from_str::<Value>(&line[at..]) {
                    Ok(Value::Object(map)) => json(number, map, (!prefix.is_empty()).then_some(prefix)),
                    Ok(_) => Err("not a JSON object".to_owned()),
                    Err(e) => Err(format!("bad JSON: {e}")),
                }
            }
            None => match text.as_mut() {
                Some(handle) => handle(number, line),
                None => Err("not a JSON object".to_owned()),
            },
        };
        if let Err(message) = outcome {
            bad_line(issues, strict, &source, number, message)?;
        }
    }
    if let Some((line, message)) = cut {
        bad_line(issues, strict, &source, line, message)?;
    }
    Ok(())
}

/// A string, number or boolean as text; `NA`, `-`, empty and null are absent.
fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if s.is_empty() || s == "NA" || s == "-" => None,
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// A whole number that may arrive as a string; a fraction or a number past 64 bits is an error,
/// never a rounded or saturated value.
fn number_of(value: Option<&Value>, key: &str) -> Result<Option<i64>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("{key}: {n} is not a whole number that fits 64 bits")),
        Some(Value::String(s)) if s.is_empty() || s == "NA" || s == "-" => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| format!("{key}: {s:?} is not a number")),
        Some(other) => Err(format!("{key}: {other} is not a number")),
    }
}

/// A boolean that may arrive as a string (`"True"`, `"false"`).
fn bool_of(value: Option<&Value>, key: &str) -> Result<Option<bool>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" => Ok(Some(true)),
            "false" | "no" => Ok(Some(false)),
            "" | "na" | "-" => Ok(None),
            _ => Err(format!("{key}: {s:?} is not a boolean")),
        },
        Some(other) => Err(format!("{key}: {other} is not a boolean")),
    }
}

/// `YYYY-MM-DD HH:MM:SS` (UTC, as Client VPN writes it) to epoch seconds; `NA` is absent.
fn vpn_time(value: Option<&Value>, key: &str) -> Result<Option<i64>, String> {
    let Some(text) = text_of(value) else {
        return Ok(None);
    };
    crate::sources::parse_time(&text)
        .map(Some)
        .ok_or_else(|| format!("{key}: {text:?} is not a time"))
}

// ---------------------------------------------------------------------------------------------
// Client VPN

/// Text columns of `vpn_connections`, in order; the JSON key is the name with `-`.
const VPN_TEXT_BEFORE: &[&str] = &[
    "connection_log_type",
    "connection_attempt_status",
    "connection_reset_status",
    "connection_attempt_failure_reason",
    "connection_id",
    "client_vpn_endpoint_id",
    "transport_protocol",
];
/// The `vpn_connections` columns that are times (`YYYY-MM-DD HH:MM:SS` UTC in the logs, epoch seconds in the table).
pub const VPN_TIMES: &[&str] = &[
    "connection_start_time",
    "connection_last_update_time",
    "connection_end_time",
];
const VPN_TEXT_AFTER: &[&str] = &["client_ip", "client_ip_v6", "common_name", "device_type", "device_ip"];
const VPN_NUMBERS: &[&str] = &[
    "ingress_bytes",
    "egress_bytes",
    "ingress_packets",
    "egress_packets",
    "connection_duration_seconds",
];
const VPN_TEXT_LAST: &[&str] = &[
    "username",
    "posture_compliance_statuses",
    "authorization_policy_evaluation",
];

/// The `vpn_connections` schema. Times are epoch seconds (UTC); `connection_end_time` is null
/// while the connection is open.
pub fn vpn_schema() -> SchemaRef {
    let mut fields = vec![];
    let text = |n: &str| Field::new(n, DataType::Utf8, true);
    fields.extend(VPN_TEXT_BEFORE.iter().map(|n| text(n)));
    fields.extend(VPN_TIMES.iter().map(|n| Field::new(*n, DataType::Int64, true)));
    fields.extend(VPN_TEXT_AFTER.iter().map(|n| text(n)));
    fields.push(Field::new("port", DataType::Int32, true));
    fields.extend(VPN_NUMBERS.iter().map(|n| Field::new(*n, DataType::Int64, true)));
    fields.extend(VPN_TEXT_LAST.iter().map(|n| text(n)));
    fields.push(text("source"));
    Arc::new(Schema::new(fields))
}

/// Read Client VPN connection logs.
pub fn read_vpn(inputs: &[Input], issues: &Issues, strict: bool) -> Result<RecordBatch, LogError> {
    let new_text = || StringBuilder::new();
    let mut text_before: Vec<StringBuilder> = VPN_TEXT_BEFORE.iter().map(|_| new_text()).collect();
    let mut times: Vec<Int64Builder> = VPN_TIMES.iter().map(|_| Int64Builder::new()).collect();
    let mut text_after: Vec<StringBuilder> = VPN_TEXT_AFTER.iter().map(|_| new_text()).collect();
    let mut port = Int32Builder::new();
    let mut numbers: Vec<Int64Builder> = VPN_NUMBERS.iter().map(|_| Int64Builder::new()).collect();
    let mut text_last: Vec<StringBuilder> = VPN_TEXT_LAST.iter().map(|_| new_text()).collect();
    let mut source = StringBuilder::new();

    for input in inputs {
        let name = input.name();
        let mut row = |number: u64, map: serde_json::Map<String, Value>, _prefix: Option<&str>| -> Result<(), String> {
            let get = |column: &str| map.get(&column.replace('_', "-"));
            if get("connection_log_type").is_none() && get("connection_id").is_none() {
                return Err("not a Client VPN connection log record (no connection-log-type)".into());
            }
            // Check everything before appending anything.
            let time_values = VPN_TIMES
                .iter()
                .map(|c| vpn_time(get(c), c))
                .collect::<Result<Vec<_>, _>>()?;
            let number_values = VPN_NUMBERS
                .iter()
                .map(|c| number_of(get(c), c))
                .collect::<Result<Vec<_>, _>>()?;
            let port_value = number_of(get("port"), "port")?
                .map(|p| i32::try_from(p).map_err(|_| format!("port: {p} does not fit its column")))
                .transpose()?;
            for (builder, column) in text_before.iter_mut().zip(VPN_TEXT_BEFORE) {
                builder.append_option(text_of(get(column)));
            }
            for (builder, value) in times.iter_mut().zip(time_values) {
                builder.append_option(value);
            }
            for (builder, column) in text_after.iter_mut().zip(VPN_TEXT_AFTER) {
                builder.append_option(text_of(get(column)));
            }
            port.append_option(port_value);
            for (builder, value) in numbers.iter_mut().zip(number_values) {
                builder.append_option(value);
            }
            for (builder, column) in text_last.iter_mut().zip(VPN_TEXT_LAST) {
                builder.append_option(text_of(get(column)));
            }
            source.append_value(format!("{name}:{number}"));
            Ok(())
        };
        for_each_line(input, issues, strict, &mut row, None)?;
    }
    let mut arrays: Vec<ArrayRef> = vec![];
    arrays.extend(text_before.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    arrays.extend(times.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    arrays.extend(text_after.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    arrays.push(Arc::new(port.finish()));
    arrays.extend(numbers.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    arrays.extend(text_last.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    arrays.push(Arc::new(source.finish()));
    Ok(RecordBatch::try_new(vpn_schema(), arrays)?)
}

// ---------------------------------------------------------------------------------------------
// Site-to-Site VPN

/// The `tunnel_events` schema: tunnel activity and BGP events of every tunnel, each message
/// matched to the catalogue.
pub fn tunnel_schema() -> SchemaRef {
    let text = |n: &str| Field::new(n, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        text("vpn_connection_id"),
        text("tunnel_outside_ip"),
        // `tunnel` (activity) or `bgp`.
        text("log_kind"),
        Field::new("event_time", DataType::Int64, true),
        Field::new("event_time_ms", DataType::Int64, true),
        text("details"),
        Field::new("dpd_enabled", DataType::Boolean, true),
        Field::new("nat_t_detected", DataType::Boolean, true),
        text("ike_phase1_state"),
        text("ike_phase2_state"),
        text("bgp_type"),
        text("bgp_status"),
        text("bgp_prefix"),
        text("bgp_as_path"),
        text("bgp_next_hop_ip"),
        text("message_id"),
        text("category"),
        text("explanation"),
        text("fix"),
        text("source"),
    ]))
}

/// The connection id and tunnel outside IP in a log stream or file name: `vpn-…-<ip>`,
/// `vpn-…_<ip>` or a path whose components hold them.
pub fn tunnel_from_name(name: &str) -> (Option<String>, Option<String>) {
    let mut connection = None;
    let mut ip = None;
    for part in name.split(['/', '\\']) {
        let Some(at) = part.find("vpn-") else { continue };
        let rest = &part[at..];
        let id_len = 4 + rest[4..].bytes().take_while(|b| b.is_ascii_hexdigit()).count();
        if id_len <= 4 {
            continue;
        }
        connection = Some(rest[..id_len].to_owned());
        let tail = rest[id_len..].trim_start_matches(['-', '_']);
        let candidate: String = tail
            .chars()
            .take_while(|c| c.is_ascii_hexdigit() || *c == '.' || *c == ':')
            .collect();
        let candidate = candidate.trim_end_matches('.');
        if candidate.parse::<std::net::IpAddr>().is_ok() {
            ip = Some(candidate.to_owned());
        }
    }
    (connection, ip)
}

/// Seconds and milliseconds of a time in seconds; `None` past what milliseconds can hold.
fn with_millis(seconds: i64) -> Option<(i64, i64)> {
    seconds.checked_mul(1000).map(|millis| (seconds, millis))
}

/// Seconds from a timestamp given in seconds or milliseconds (or as a string of either).
fn epoch_seconds(value: Option<&Value>, key: &str) -> Result<Option<(i64, i64)>, String> {
    let Some(raw) = (match value {
        Some(Value::String(s)) => match s.trim().parse::<f64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return crate::sources::parse_time(s)
                    .and_then(with_millis)
                    .map(Some)
                    .ok_or_else(|| format!("{key}: {s:?} is not a time"))
            }
        },
        Some(Value::Number(n)) => n.as_f64(),
        None | Some(Value::Null) => None,
        Some(other) => return Err(format!("{key}: {other} is not a time")),
    }) else {
        return Ok(None);
    };
    // Past 10^11 a value is in milliseconds (10^11 seconds is in the year 5138).
    let millis = if raw.abs() >= 1e11 { raw } else { raw * 1000.0 };
    // Inside ±2^62 ms (146 million years): no saturated or rounded-away value.
    if !millis.is_finite() || millis.abs() > 4.6e18 {
        return Err(format!("{key}: {raw} is not a time"));
    }
    let millis = millis.round() as i64;
    Ok(Some((millis.div_euclid(1000), millis)))
}

struct TunnelRow {
    connection: Option<String>,
    ip: Option<String>,
    kind: &'static str,
    time: Option<(i64, i64)>,
    details: Option<String>,
    dpd: Option<bool>,
    nat_t: Option<bool>,
    phase1: Option<String>,
    phase2: Option<String>,
    bgp_type: Option<String>,
    bgp_status: Option<String>,
    bgp_prefix: Option<String>,
    bgp_as_path: Option<String>,
    bgp_next_hop: Option<String>,
    source: String,
}

fn tunnel_row_from_json(
    map: &serde_json::Map<String, Value>,
    prefix: Option<&str>,
    from_name: &(Option<String>, Option<String>),
    source: String,
) -> Result<TunnelRow, String> {
    let get = |k: &str| map.get(k);
    let is_bgp = map.contains_key("resource_id") || map.contains_key("asPath") || get("type").is_some();
    let (mut connection, mut ip) = from_name.clone();
    if let Some(resource) = text_of(get("resource_id")) {
        let (c, i) = tunnel_from_name(&resource);
        connection = c.or(connection);
        ip = i.or(ip);
    }
    let time = match epoch_seconds(get("event_timestamp"), "event_timestamp")? {
        Some(t) => Some(t),
        None => match epoch_seconds(get("timestamp"), "timestamp")? {
            Some(t) => Some(t),
            None => prefix.and_then(crate::sources::parse_time).and_then(with_millis),
        },
    };
    if time.is_none() {
        return Err("no event_timestamp or timestamp".into());
    }
    let message = get("message");
    let nested = |k: &str| message.and_then(|m| m.get(k));
    let details = text_of(get("details")).or_else(|| match message {
        Some(Value::Object(_)) => text_of(nested("details")),
        other => text_of(other),
    });
    let lower = |v: Option<String>| v.map(|s| s.to_ascii_lowercase());
    Ok(TunnelRow {
        connection,
        ip,
        kind: if is_bgp { "bgp" } else { "tunnel" },
        time,
        details,
        dpd: bool_of(get("dpd_enabled"), "dpd_enabled")?,
        nat_t: bool_of(get("nat_t_detected"), "nat_t_detected")?,
        phase1: lower(text_of(get("ike_phase1_state"))),
        phase2: lower(text_of(get("ike_phase2_state"))),
        bgp_type: text_of(get("type")),
        bgp_status: text_of(get("status")),
        bgp_prefix: text_of(nested("prefix")),
        bgp_as_path: text_of(nested("asPath")),
        bgp_next_hop: text_of(nested("nextHopIp")),
        source,
    })
}

/// The text output format: `<time> <message>`, the time ISO 8601 or `YYYY-MM-DD HH:MM:SS[.fff]`.
fn tunnel_row_from_text(
    line: &str,
    from_name: &(Option<String>, Option<String>),
    source: String,
) -> Result<TunnelRow, String> {
    let mut words = line.splitn(3, ' ');
    let first = words.next().unwrap_or_default();
    let (time, details) = match crate::sources::parse_time(first.trim_end_matches('Z')) {
        Some(t) if first.contains('T') || first.parse::<i64>().is_ok() => (Some(t), line[first.len()..].trim()),
        _ => {
            let second = words.next().unwrap_or_default();
            let both = format!("{first} {}", second.split('.').next().unwrap_or_default());
            match crate::sources::parse_time(&both) {
                Some(t) => (Some(t), words.next().unwrap_or_default().trim()),
                None => return Err("a text tunnel log line starts with its time".into()),
            }
        }
    };
    let time = time
        .and_then(with_millis)
        .ok_or_else(|| "the time at the start of the line is out of range".to_owned())?;
    Ok(TunnelRow {
        connection: from_name.0.clone(),
        ip: from_name.1.clone(),
        kind: "tunnel",
        time: Some(time),
        details: (!details.is_empty()).then(|| details.to_owned()),
        dpd: None,
        nat_t: None,
        phase1: None,
        phase2: None,
        bgp_type: None,
        bgp_status: None,
        bgp_prefix: None,
        bgp_as_path: None,
        bgp_next_hop: None,
        source,
    })
}

/// Read Site-to-Site VPN tunnel activity and BGP logs (JSON or text), sorted by time per tunnel.
pub fn read_tunnels(inputs: &[Input], issues: &Issues, strict: bool) -> Result<RecordBatch, LogError> {
    let mut rows: Vec<TunnelRow> = vec![];
    for input in inputs {
        let name = input.name();
        let from_name = tunnel_from_name(&name);
        let mut json_rows = vec![];
        let mut text_rows = vec![];
        {
            let mut json = |number: u64, map: serde_json::Map<String, Value>, prefix: Option<&str>| {
                json_rows.push(tunnel_row_from_json(
                    &map,
                    prefix,
                    &from_name,
                    format!("{name}:{number}"),
                )?);
                Ok(())
            };
            let mut text = |number: u64, line: &str| {
                text_rows.push(tunnel_row_from_text(line, &from_name, format!("{name}:{number}"))?);
                Ok(())
            };
            for_each_line(input, issues, strict, &mut json, Some(&mut text))?;
        }
        rows.extend(json_rows);
        rows.extend(text_rows);
    }
    rows.sort_by(|a, b| (&a.connection, &a.ip, a.time).cmp(&(&b.connection, &b.ip, b.time)));

    let schema = tunnel_schema();
    let texts = |get: &dyn Fn(&TunnelRow) -> Option<String>| -> ArrayRef {
        let mut b = StringBuilder::new();
        for r in &rows {
            b.append_option(get(r));
        }
        Arc::new(b.finish())
    };
    let ints = |get: &dyn Fn(&TunnelRow) -> Option<i64>| -> ArrayRef {
        let mut b = Int64Builder::new();
        for r in &rows {
            b.append_option(get(r));
        }
        Arc::new(b.finish())
    };
    let bools = |get: &dyn Fn(&TunnelRow) -> Option<bool>| -> ArrayRef {
        let mut b = BooleanBuilder::new();
        for r in &rows {
            b.append_option(get(r));
        }
        Arc::new(b.finish())
    };
    let entry = |r: &TunnelRow| r.details.as_deref().and_then(catalogue::classify);
    let arrays = vec![
        texts(&|r| r.connection.clone()),
        texts(&|r| r.ip.clone()),
        texts(&|r| Some(r.kind.to_owned())),
        ints(&|r| r.time.map(|t| t.0)),
        ints(&|r| r.time.map(|t| t.1)),
        texts(&|r| r.details.clone()),
        bools(&|r| r.dpd),
        bools(&|r| r.nat_t),
        texts(&|r| r.phase1.clone()),
        texts(&|r| r.phase2.clone()),
        texts(&|r| r.bgp_type.clone()),
        texts(&|r| r.bgp_status.clone()),
        texts(&|r| r.bgp_prefix.clone()),
        texts(&|r| r.bgp_as_path.clone()),
        texts(&|r| r.bgp_next_hop.clone()),
        texts(&|r| entry(r).map(|e| e.id.to_owned())),
        texts(&|r| entry(r).map(|e| e.category.as_str().to_owned())),
        texts(&|r| entry(r).map(|e| e.explanation.to_owned())),
        texts(&|r| entry(r).map(|e| e.fix.to_owned())),
        texts(&|r| Some(r.source.clone())),
    ];
    Ok(RecordBatch::try_new(schema, arrays)?)
}
