//! Detections: SQL whose rows become findings in netaudit's result model, each with the flow or
//! VPN records behind it as evidence.
//!
//! Every detection returns rows with `subject` (the source address, device IP or tunnel),
//! `target` (what it touched, or empty), `window_start` (epoch seconds, the start of the time bucket)
//! and its own measures. Time buckets are aligned to the epoch (`floor(start / window)`), so an
//! incident that straddles a bucket boundary counts in both halves.

use crate::answers::{literal, Dialect, OptionalColumns};
use crate::render::rows_as_json;
use crate::{LogError, LogSession, Table};
use netaudit_checks::{Finding, Severity, Status};
use serde::{Deserialize, Serialize};

/// The thresholds, all configurable (`--set name=value`, or a TOML/JSON file with these keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Port scan: distinct destination ports from one source to one host in one window.
    pub port_scan_ports: i64,
    pub port_scan_window: i64,
    /// Lateral movement: distinct internal hosts one internal source reaches in one window.
    pub lateral_hosts: i64,
    pub lateral_window: i64,
    /// SSH/RDP brute force: connection attempts (distinct source ports) to port 22 or 3389 of one host.
    pub brute_force_attempts: i64,
    pub brute_force_window: i64,
    /// Exfiltration: an hour's egress from an internal source to the internet above this many times
    /// the source's median hourly egress, and at least `exfil_min_bytes`.
    pub exfil_factor: f64,
    pub exfil_min_bytes: i64,
    /// Hours of egress a source needs before its baseline counts.
    pub exfil_baseline_hours: i64,
    /// Off-hours egress: bytes in one hour outside `[business_start_hour, business_end_hour)` UTC.
    /// A start after the end wraps midnight: 22 to 6 is a night shift.
    pub off_hours_bytes: i64,
    pub business_start_hour: i64,
    pub business_end_hour: i64,
    /// VPN brute force: failed connection attempts from one device IP in one window.
    pub vpn_failures: i64,
    pub vpn_window: i64,
    /// Tunnel flapping: phase 1 transitions into `down` plus DPD timeouts per tunnel in one window.
    pub tunnel_downs: i64,
    pub tunnel_window: i64,
    /// Evidence records kept per finding.
    pub evidence_rows: usize,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            port_scan_ports: 100,
            port_scan_window: 600,
            lateral_hosts: 25,
            lateral_window: 600,
            brute_force_attempts: 30,
            brute_force_window: 600,
            exfil_factor: 20.0,
            exfil_min_bytes: 500_000_000,
            exfil_baseline_hours: 3,
            off_hours_bytes: 200_000_000,
            business_start_hour: 7,
            business_end_hour: 20,
            vpn_failures: 10,
            vpn_window: 3600,
            tunnel_downs: 3,
            tunnel_window: 3600,
            evidence_rows: 20,
        }
    }
}

/// The threshold names `--set` takes.
fn threshold_names() -> Vec<String> {
    let doc = serde_json::to_value(Thresholds::default()).unwrap_or_default();
    let mut names: Vec<String> = doc.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    names.sort_unstable();
    names
}

impl Thresholds {
    /// Apply `name=value` (names as the fields above).
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (name, value) = assignment
            .split_once('=')
            .ok_or_else(|| format!("{assignment:?}: expected NAME=VALUE"))?;
        let mut doc = serde_json::to_value(&*self).map_err(|e| e.to_string())?;
        let slot = doc.get_mut(name.trim()).ok_or_else(|| {
            let names = threshold_names();
            format!("unknown threshold {name:?}; one of: {}", names.join(", "))
        })?;
        let parsed: serde_json::Value =
            serde_json::from_str(value.trim()).map_err(|_| format!("{name}: {value:?} is not a number"))?;
        if !parsed.is_number() {
            return Err(format!("{name}: {value:?} is not a number"));
        }
        *slot = parsed;
        let updated: Thresholds = serde_json::from_value(doc).map_err(|e| format!("{name}: {e}"))?;
        updated.check()?;
        *self = updated;
        Ok(())
    }

    /// Values that would make a detection meaningless: hours outside a day, empty windows.
    pub fn check(&self) -> Result<(), String> {
        for (name, hour) in [
            ("business_start_hour", self.business_start_hour),
            ("business_end_hour", self.business_end_hour),
        ] {
            if !(0..=24).contains(&hour) {
                return Err(format!("{name}: {hour} is not an hour of the day (0 to 24)"));
            }
        }
        for (name, window) in [
            ("port_scan_window", self.port_scan_window),
            ("lateral_window", self.lateral_window),
            ("brute_force_window", self.brute_force_window),
            ("vpn_window", self.vpn_window),
            ("tunnel_window", self.tunnel_window),
        ] {
            if window <= 0 {
                return Err(format!("{name}: {window} is not a number of seconds"));
            }
        }
        Ok(())
    }
}

/// One detection: its id (the finding's control), title, severity and queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    PortScan,
    LateralMovement,
    BruteForce,
    Exfiltration,
    OffHoursEgress,
    VpnBruteForce,
    TunnelFlapping,
}

impl Detection {
    pub const ALL: [Detection; 7] = [
        Detection::PortScan,
        Detection::LateralMovement,
        Detection::BruteForce,
        Detection::Exfiltration,
        Detection::OffHoursEgress,
        Detection::VpnBruteForce,
        Detection::TunnelFlapping,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Detection::PortScan => "NETAUDIT.LOGS.PORTSCAN",
            Detection::LateralMovement => "NETAUDIT.LOGS.LATERAL",
            Detection::BruteForce => "NETAUDIT.LOGS.BRUTEFORCE",
            Detection::Exfiltration => "NETAUDIT.LOGS.EXFIL",
            Detection::OffHoursEgress => "NETAUDIT.LOGS.OFFHOURS",
            Detection::VpnBruteForce => "NETAUDIT.LOGS.VPNBRUTEFORCE",
            Detection::TunnelFlapping => "NETAUDIT.LOGS.TUNNELFLAP",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Detection::PortScan => "Port scan: one source probing many ports of one host",
            Detection::LateralMovement => "Lateral movement: one internal source reaching many internal hosts",
            Detection::BruteForce => "SSH/RDP brute force: many connection attempts to port 22 or 3389",
            Detection::Exfiltration => "Exfiltration: egress far above the source's own baseline",
            Detection::OffHoursEgress => "Off-hours egress: large transfers to the internet outside business hours",
            Detection::VpnBruteForce => "Client VPN brute force: many failed connection attempts from one device",
            Detection::TunnelFlapping => "Site-to-Site tunnel flapping: repeated downs and DPD timeouts",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Detection::Exfiltration | Detection::LateralMovement => Severity::High,
            Detection::TunnelFlapping => Severity::Low,
            _ => Severity::Medium,
        }
    }

    /// The table the detection reads.
    pub fn table(self) -> Table {
        match self {
            Detection::VpnBruteForce => Table::VpnConnections,
            Detection::TunnelFlapping => Table::TunnelEvents,
            _ => Table::Flows,
        }
    }

    /// The `flows` columns the detection needs (`tcp-flags` only refines a port scan).
    pub fn flow_columns(self) -> &'static [&'static str] {
        match self {
            Detection::PortScan => &["srcaddr", "dstaddr", "dstport", "start", "action", "log_status"],
            Detection::LateralMovement => &["srcaddr", "dstaddr", "dstport", "start", "log_status"],
            Detection::BruteForce => &[
                "srcaddr",
                "dstaddr",
                "srcport",
                "dstport",
                "protocol",
                "start",
                "action",
                "log_status",
            ],
            Detection::Exfiltration | Detection::OffHoursEgress => {
                &["srcaddr", "dstaddr", "bytes", "start", "action", "log_status"]
            }
            Detection::VpnBruteForce | Detection::TunnelFlapping => &[],
        }
    }

    pub fn resource_type(self) -> &'static str {
        match self {
            Detection::VpnBruteForce => "ClientVpnDevice",
            Detection::TunnelFlapping => "VpnTunnel",
            _ => "IpAddress",
        }
    }

    /// The detection's query: rows with `subject`, `target`, `window_start` and measures.
    pub fn sql(self, d: Dialect, t: &Thresholds, optional: OptionalColumns) -> String {
        match self {
            Detection::PortScan => format!(
                "SELECT srcaddr AS subject, dstaddr AS target, {bucket} AS window_start, \
                 count(DISTINCT dstport) AS distinct_ports, count(*) AS records, \
                 sum(CASE WHEN action = 'REJECT' THEN 1 ELSE 0 END) AS rejected \
                 FROM flows WHERE log_status = 'OK' AND dstport IS NOT NULL{syn_only} \
                 GROUP BY srcaddr, dstaddr, {bucket} HAVING count(DISTINCT dstport) >= {n} \
                 ORDER BY distinct_ports DESC, subject, target, window_start",
                bucket = d.bucket("start", t.port_scan_window),
                n = t.port_scan_ports,
                // With flags, only SYN-only TCP records count: completed sessions are not probes.
                syn_only = if optional.tcp_flags {
                    " AND (tcp_flags IS NULL OR protocol IS NULL OR protocol <> 6 OR tcp_flags = 2)"
                } else {
                    ""
                },
            ),
            Detection::LateralMovement => format!(
                "SELECT srcaddr AS subject, '' AS target, {bucket} AS window_start, \
                 count(DISTINCT dstaddr) AS distinct_hosts, count(DISTINCT dstport) AS distinct_ports, \
                 count(*) AS records FROM flows \
                 WHERE log_status = 'OK' AND {src_private} AND {dst_private} \
                 GROUP BY srcaddr, {bucket} HAVING count(DISTINCT dstaddr) >= {n} \
                 ORDER BY distinct_hosts DESC, subject, window_start",
                bucket = d.bucket("start", t.lateral_window),
                src_private = d.is_private("srcaddr"),
                dst_private = d.is_private("dstaddr"),
                n = t.lateral_hosts,
            ),
            Detection::BruteForce => format!(
                "SELECT srcaddr AS subject, dstaddr AS target, {bucket} AS window_start, dstport, \
                 count(DISTINCT srcport) AS attempts, count(*) AS records, \
                 sum(CASE WHEN action = 'ACCEPT' THEN 1 ELSE 0 END) AS accepted FROM flows \
                 WHERE log_status = 'OK' AND protocol = 6 AND dstport IN (22, 3389) \
                 GROUP BY srcaddr, dstaddr, dstport, {bucket} HAVING count(DISTINCT srcport) >= {n} \
                 ORDER BY attempts DESC, subject, target, window_start",
                bucket = d.bucket("start", t.brute_force_window),
                n = t.brute_force_attempts,
            ),
            Detection::Exfiltration => format!(
                "WITH hourly AS (SELECT srcaddr, {hour} AS hour_start, sum(bytes) AS bytes FROM flows \
                 WHERE log_status = 'OK' AND action = 'ACCEPT' AND {src_private} AND NOT {dst_private} \
                 GROUP BY srcaddr, {hour}), \
                 baseline AS (SELECT srcaddr, {median} AS median_bytes, count(*) AS hours FROM hourly GROUP BY srcaddr) \
                 SELECT h.srcaddr AS subject, '' AS target, h.hour_start AS window_start, h.bytes AS bytes, \
                 b.median_bytes AS baseline_median_bytes, b.hours AS baseline_hours \
                 FROM hourly h JOIN baseline b ON h.srcaddr = b.srcaddr \
                 WHERE b.hours >= {min_hours} AND h.bytes >= {min_bytes} AND h.bytes > {factor} * b.median_bytes \
                 ORDER BY bytes DESC, subject, window_start",
                hour = d.bucket("start", 3600),
                src_private = d.is_private("srcaddr"),
                dst_private = d.is_private("dstaddr"),
                median = d.median("bytes"),
                min_hours = t.exfil_baseline_hours,
                min_bytes = t.exfil_min_bytes,
                factor = t.exfil_factor,
            ),
            Detection::OffHoursEgress => format!(
                "SELECT srcaddr AS subject, '' AS target, {hour} AS window_start, sum(bytes) AS bytes, \
                 count(DISTINCT dstaddr) AS destinations FROM flows \
                 WHERE log_status = 'OK' AND action = 'ACCEPT' AND {src_private} AND NOT {dst_private} \
                 AND {off_hours} \
                 GROUP BY srcaddr, {hour} HAVING sum(bytes) >= {n} ORDER BY bytes DESC, subject, window_start",
                hour = d.bucket("start", 3600),
                off_hours = off_hours(&d.hour_of_day("start"), t.business_start_hour, t.business_end_hour),
                src_private = d.is_private("srcaddr"),
                dst_private = d.is_private("dstaddr"),
                n = t.off_hours_bytes,
            ),
            Detection::VpnBruteForce => format!(
                "SELECT device_ip AS subject, max(client_vpn_endpoint_id) AS target, {bucket} AS window_start, \
                 count(*) AS failed_attempts, count(DISTINCT coalesce(username, common_name)) AS identities \
                 FROM vpn_connections WHERE connection_attempt_status = 'failed' AND device_ip IS NOT NULL \
                 GROUP BY device_ip, {bucket} HAVING count(*) >= {n} ORDER BY failed_attempts DESC, subject, window_start",
                bucket = d.bucket("coalesce(connection_start_time, connection_last_update_time)", t.vpn_window),
                n = t.vpn_failures,
            ),
            Detection::TunnelFlapping => format!(
                "SELECT concat(vpn_connection_id, ' ', tunnel_outside_ip) AS subject, vpn_connection_id AS target, \
                 {bucket} AS window_start, \
                 sum(CASE WHEN ike_phase1_state = 'down' AND prev1 IS NOT NULL AND prev1 <> 'down' THEN 1 ELSE 0 END) AS downs, \
                 sum(CASE WHEN category = 'dpd-timeout' THEN 1 ELSE 0 END) AS dpd_timeouts \
                 FROM (SELECT *, lag(ike_phase1_state) OVER (PARTITION BY vpn_connection_id, tunnel_outside_ip \
                 ORDER BY event_time_ms) AS prev1 FROM tunnel_events WHERE log_kind = 'tunnel') AS t \
                 GROUP BY vpn_connection_id, tunnel_outside_ip, {bucket} \
                 HAVING sum(CASE WHEN ike_phase1_state = 'down' AND prev1 IS NOT NULL AND prev1 <> 'down' THEN 1 ELSE 0 END) \
                 + sum(CASE WHEN category = 'dpd-timeout' THEN 1 ELSE 0 END) >= {n} \
                 ORDER BY subject, window_start",
                bucket = d.bucket("event_time", t.tunnel_window),
                n = t.tunnel_downs,
            ),
        }
    }

    /// The records behind one finding, in `d`'s SQL.
    pub fn evidence_sql(self, d: Dialect, t: &Thresholds, subject: &str, target: &str, window_start: i64) -> String {
        let within =
            |column: &str, window: i64| format!("{column} >= {window_start} AND {column} < {}", window_start + window);
        let (table, condition, order) = self.evidence_parts(d, t, &literal(subject), &literal(target), &within);
        format!(
            "SELECT * FROM {table} WHERE {condition} ORDER BY {order} LIMIT {limit}",
            limit = t.evidence_rows
        )
    }

    /// The records behind every finding of one run of the detection, in one query (one pass
    /// over the table, not one per finding): each record with `netaudit_finding`, the index of
    /// its finding in `keys`, and `netaudit_rank`, its place in that finding's evidence.
    fn evidence_batch_sql(self, t: &Thresholds, keys: &[(String, String, i64)]) -> String {
        let within =
            |column: &str, window: i64| format!("{column} >= k.window_start AND {column} < k.window_start + {window}");
        let (table, condition, order) = self.evidence_parts(Dialect::DataFusion, t, "k.subject", "k.target", &within);
        let values: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, (subject, target, window_start))| {
                format!(
                    "({i}, {}, {}, CAST({window_start} AS BIGINT))",
                    literal(subject),
                    literal(target)
                )
            })
            .collect();
        format!(
            "SELECT * FROM (SELECT e.*, k.finding AS netaudit_finding, \
             row_number() OVER (PARTITION BY k.finding ORDER BY {order}) AS netaudit_rank \
             FROM {table} AS e JOIN (VALUES {values}) AS k(finding, subject, target, window_start) ON {condition}) \
             AS ranked WHERE netaudit_rank <= {limit} ORDER BY netaudit_finding, netaudit_rank",
            values = values.join(", "),
            limit = t.evidence_rows
        )
    }

    /// The table the evidence is in, the condition a record meets for a finding (its subject and
    /// target as SQL expressions, `within(column, seconds)` its window), and the records' order.
    fn evidence_parts(
        self,
        d: Dialect,
        t: &Thresholds,
        s: &str,
        target: &str,
        within: &dyn Fn(&str, i64) -> String,
    ) -> (&'static str, String, &'static str) {
        match self {
            Detection::PortScan => (
                "flows",
                format!(
                    "srcaddr = {s} AND dstaddr = {target} AND {w}",
                    w = within("start", t.port_scan_window)
                ),
                "start, dstport",
            ),
            Detection::LateralMovement => (
                "flows",
                format!(
                    "srcaddr = {s} AND {dst} AND {w}",
                    dst = d.is_private("dstaddr"),
                    w = within("start", t.lateral_window),
                ),
                "start, dstaddr",
            ),
            Detection::BruteForce => (
                "flows",
                format!(
                    "srcaddr = {s} AND dstaddr = {target} AND dstport IN (22, 3389) AND {w}",
                    w = within("start", t.brute_force_window),
                ),
                "start, srcport",
            ),
            Detection::Exfiltration | Detection::OffHoursEgress => (
                "flows",
                format!(
                    "srcaddr = {s} AND NOT {dst} AND action = 'ACCEPT' AND {w}",
                    dst = d.is_private("dstaddr"),
                    w = within("start", 3600),
                ),
                "bytes DESC, start",
            ),
            Detection::VpnBruteForce => (
                "vpn_connections",
                format!(
                    "device_ip = {s} AND connection_attempt_status = 'failed' AND {w}",
                    w = within(
                        "coalesce(connection_start_time, connection_last_update_time)",
                        t.vpn_window
                    ),
                ),
                "connection_start_time",
            ),
            Detection::TunnelFlapping => (
                "tunnel_events",
                format!(
                    "concat(vpn_connection_id, ' ', tunnel_outside_ip) = {s} AND {w}",
                    w = within("event_time", t.tunnel_window),
                ),
                "event_time_ms",
            ),
        }
    }

    fn reason(self, row: &serde_json::Map<String, serde_json::Value>) -> String {
        let n = |k: &str| row.get(k).map(|v| v.to_string()).unwrap_or_default();
        let s = |k: &str| row.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let when = row
            .get("window_start")
            .and_then(serde_json::Value::as_i64)
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default();
        match self {
            Detection::PortScan => format!(
                "{} probed {} distinct ports of {} from {when}",
                s("subject"),
                n("distinct_ports"),
                s("target")
            ),
            Detection::LateralMovement => format!(
                "{} reached {} internal hosts on {} ports from {when}",
                s("subject"),
                n("distinct_hosts"),
                n("distinct_ports")
            ),
            Detection::BruteForce => format!(
                "{} made {} connection attempts to {} port {} from {when}",
                s("subject"),
                n("attempts"),
                s("target"),
                n("dstport")
            ),
            Detection::Exfiltration => format!(
                "{} sent {} bytes to the internet in the hour from {when}; its median hour is {} bytes",
                s("subject"),
                n("bytes"),
                n("baseline_median_bytes")
            ),
            Detection::OffHoursEgress => format!(
                "{} sent {} bytes to {} internet destinations in the hour from {when}",
                s("subject"),
                n("bytes"),
                n("destinations")
            ),
            Detection::VpnBruteForce => format!(
                "{} failed {} Client VPN connection attempts ({} identities) from {when}",
                s("subject"),
                n("failed_attempts"),
                n("identities")
            ),
            Detection::TunnelFlapping => format!(
                "tunnel {} went down {} times with {} DPD timeouts from {when}",
                s("subject"),
                n("downs"),
                n("dpd_timeouts")
            ),
        }
    }
}

/// Whether an hour of day lies outside business hours `[open, close)`; `open > close` wraps
/// midnight (business hours 22 to 6 leave 6 to 22 off).
fn off_hours(hour: &str, open: i64, close: i64) -> String {
    if open <= close {
        format!("({hour} < {open} OR {hour} >= {close})")
    } else {
        format!("({hour} >= {close} AND {hour} < {open})")
    }
}

/// Which detections the session's sources can answer, and why each other one cannot: a detection
/// over a table with no source, or over `flows` without a field it needs.
pub fn runnable(
    detections: &[Detection],
    tables_given: &[Table],
    columns: &crate::FlowColumns,
) -> (Vec<Detection>, Vec<(Detection, String)>) {
    let mut run = vec![];
    let mut not_run = vec![];
    for detection in detections {
        let table = detection.table();
        if !tables_given.contains(&table) {
            not_run.push((*detection, format!("no source for {}", table.name())));
            continue;
        }
        let missing: Vec<&str> = detection
            .flow_columns()
            .iter()
            .copied()
            .filter(|c| !columns.has(c))
            .collect();
        if missing.is_empty() {
            run.push(*detection);
        } else {
            not_run.push((
                *detection,
                format!("no flow log source has the field(s) {}", missing.join(", ")),
            ));
        }
    }
    (run, not_run)
}

/// What a detection row is about: its subject, target and window start.
pub fn row_key(row: &serde_json::Map<String, serde_json::Value>) -> (String, String, i64) {
    let text = |k: &str| row.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let window_start = row.get("window_start").and_then(serde_json::Value::as_i64).unwrap_or(0);
    (text("subject"), text("target"), window_start)
}

/// A detection row as a FAIL finding, with the records behind it as evidence; `records` is `None`
/// when the engine did not read them (the finding then says so in `records_omitted`).
pub fn finding(
    detection: Detection,
    row: &serde_json::Map<String, serde_json::Value>,
    records: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
) -> Finding {
    let (subject, _, _) = row_key(row);
    let first = |key: &str| {
        records
            .iter()
            .flatten()
            .find_map(|r| r.get(key).and_then(|v| v.as_str()))
            .unwrap_or_default()
            .to_owned()
    };
    let account = first("account_id");
    let region = first("region");
    // Keys in name order whether or not serde_json keeps insertion order, so every renderer
    // prints the same thing.
    let mut pairs: Vec<(String, serde_json::Value)> = row.clone().into_iter().collect();
    match records {
        Some(records) => pairs.push((
            "records".into(),
            serde_json::Value::Array(records.into_iter().map(serde_json::Value::Object).collect()),
        )),
        None => pairs.push(("records_omitted".into(), serde_json::Value::Bool(true))),
    }
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let evidence: serde_json::Map<String, serde_json::Value> = pairs.into_iter().collect();
    Finding {
        control: detection.id().to_owned(),
        status: Status::Fail,
        resource_type: detection.resource_type().to_owned(),
        resource_id: subject,
        resource_name: None,
        resource_arn: String::new(),
        account_id: account,
        region,
        reason: detection.reason(row),
        evidence,
        gaps: vec![],
        exception: None,
        remedy: None,
        location: None,
        read_from: None,
        priority: Default::default(),
        priority_reasons: vec![],
    }
}

/// Run detections and turn their rows into FAIL findings with evidence.
pub fn run(session: &LogSession, detections: &[Detection], t: &Thresholds) -> Result<Vec<Finding>, LogError> {
    let mut findings = vec![];
    for detection in detections {
        let optional = OptionalColumns::of(session.flow_columns());
        let result = session.query(&detection.sql(Dialect::DataFusion, t, optional))?;
        let rows = rows_as_json(&result.schema, &result.batches)?;
        if rows.is_empty() {
            continue;
        }
        // Every finding's records in one more pass over the table.
        let keys: Vec<(String, String, i64)> = rows.iter().map(row_key).collect();
        let evidence = session.query(&detection.evidence_batch_sql(t, &keys))?;
        let mut records: Vec<Vec<serde_json::Map<String, serde_json::Value>>> = vec![vec![]; rows.len()];
        for record in rows_as_json(&evidence.schema, &evidence.batches)? {
            let finding = record.get("netaudit_finding").and_then(serde_json::Value::as_u64);
            // Rebuilt rather than removed from: removal would reorder a map that keeps insertion order.
            let record: serde_json::Map<String, serde_json::Value> = record
                .into_iter()
                .filter(|(key, _)| key != "netaudit_finding" && key != "netaudit_rank")
                .collect();
            if let Some(list) = finding.and_then(|i| records.get_mut(usize::try_from(i).unwrap_or(usize::MAX))) {
                list.push(record);
            }
        }
        for (row, records) in rows.iter().zip(records) {
            findings.push(finding(*detection, row, Some(records)));
        }
    }
    Ok(findings)
}
