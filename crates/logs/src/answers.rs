//! The built-in questions, as SQL over `flows`, `vpn_connections` and `tunnel_events`.
//!
//! Every question is written once and rendered for two engines: DataFusion here, and Athena
//! (Trino) for logs that outgrow one machine ([`Dialect`]). The differences are a handful of
//! functions (timestamps, IP ranges), so the meaning is the same on both.
//!
//! Time windows:
//! - A Client VPN session is `[session_start, session_end)`: connected at its start second, gone at
//!   its end second. A session whose end is `NA` (no reset record yet) is open.
//! - A flow record covers `[start, end]` (both inclusive, as AWS reports the capture window). It is
//!   attributed to a session when the two overlap: `start < session_end AND end >= session_start`.

use std::net::IpAddr;

/// The SQL engine a query is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    DataFusion,
    Athena,
}

impl Dialect {
    /// Epoch seconds as a timestamp.
    pub fn ts(self, column: &str) -> String {
        match self {
            Dialect::DataFusion => format!("to_timestamp_seconds({column})"),
            Dialect::Athena => format!("from_unixtime({column})"),
        }
    }

    /// Whether an address column is in a private range (see [`crate::udf`]).
    pub fn is_private(self, column: &str) -> String {
        match self {
            Dialect::DataFusion => format!("is_private({column})"),
            Dialect::Athena => {
                let ranges = [
                    "10.0.0.0/8",
                    "172.16.0.0/12",
                    "192.168.0.0/16",
                    "100.64.0.0/10",
                    "fc00::/7",
                ];
                let tests: Vec<String> = ranges
                    .iter()
                    .map(|r| format!("contains('{r}', TRY_CAST({column} AS IPADDRESS))"))
                    .collect();
                format!("COALESCE({}, false)", tests.join(" OR "))
            }
        }
    }

    /// The sorted distinct values of a column, as an array.
    pub fn distinct_sorted(self, column: &str) -> String {
        format!("array_sort(array_agg(DISTINCT {column}))")
    }

    /// The median of a numeric column.
    pub fn median(self, column: &str) -> String {
        match self {
            Dialect::DataFusion => format!("median({column})"),
            Dialect::Athena => format!("approx_percentile({column}, 0.5)"),
        }
    }

    /// Integer division (floor) of a bigint column.
    pub fn bucket(self, column: &str, seconds: i64) -> String {
        let seconds = seconds.max(1);
        format!("(({column} / {seconds}) * {seconds})")
    }

    /// Hour of day (UTC) of an epoch-seconds column.
    pub fn hour_of_day(self, column: &str) -> String {
        format!("((({column}) % 86400) / 3600)")
    }
}

/// A SQL string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// An address as AWS writes it (IPv6 compressed, lower case), or `None` when it is not one.
pub fn canonical_ip(text: &str) -> Option<String> {
    text.trim().parse::<IpAddr>().ok().map(|a| a.to_string())
}

/// Every peer of `ip`: bytes, packets, destination ports, accepted/rejected, first/last seen.
pub fn talked_to(d: Dialect, ip: &str) -> String {
    let ip = literal(ip);
    format!(
        "SELECT peer, direction, sum(bytes) AS bytes, sum(packets) AS packets, {ports} AS dst_ports, \
         sum(CASE WHEN action = 'ACCEPT' THEN 1 ELSE 0 END) AS accepted, \
         sum(CASE WHEN action = 'REJECT' THEN 1 ELSE 0 END) AS rejected, \
         {first} AS first_seen, {last} AS last_seen \
         FROM (SELECT CASE WHEN srcaddr = {ip} THEN dstaddr ELSE srcaddr END AS peer, \
         CASE WHEN srcaddr = {ip} THEN 'outbound' ELSE 'inbound' END AS direction, \
         bytes, packets, dstport, action, start, \"end\" \
         FROM flows WHERE (srcaddr = {ip} OR dstaddr = {ip}) AND log_status = 'OK') AS peers \
         GROUP BY peer, direction ORDER BY bytes DESC, peer, direction",
        ports = d.distinct_sorted("dstport"),
        first = d.ts("min(start)"),
        last = d.ts("max(\"end\")"),
    )
}

/// The pairs that moved the most bytes.
pub fn top_talkers(_d: Dialect, limit: usize) -> String {
    format!(
        "SELECT srcaddr, dstaddr, sum(bytes) AS bytes, sum(packets) AS packets, count(*) AS records \
         FROM flows WHERE log_status = 'OK' GROUP BY srcaddr, dstaddr \
         ORDER BY bytes DESC, srcaddr, dstaddr LIMIT {limit}"
    )
}

/// Rejected traffic by source: distinct destination ports and hosts; SYN-only records counted
/// apart when the format has `tcp-flags` (null otherwise).
pub fn rejects(d: Dialect, limit: usize) -> String {
    format!(
        "SELECT srcaddr, count(*) AS rejected_records, count(DISTINCT dstport) AS distinct_dst_ports, \
         count(DISTINCT dstaddr) AS distinct_dst_hosts, \
         sum(CASE WHEN tcp_flags IS NULL THEN NULL WHEN tcp_flags = 2 THEN 1 ELSE 0 END) AS syn_only_records, \
         {first} AS first_seen, {last} AS last_seen \
         FROM flows WHERE action = 'REJECT' GROUP BY srcaddr \
         ORDER BY distinct_dst_ports DESC, rejected_records DESC, srcaddr LIMIT {limit}",
        first = d.ts("min(start)"),
        last = d.ts("max(\"end\")"),
    )
}

/// Client VPN sessions, one row per connection: the records of a connection folded together.
/// A connection counts as a session once it succeeded or was reset.
pub fn sessions_cte() -> &'static str {
    "sessions AS (SELECT connection_id, max(client_vpn_endpoint_id) AS client_vpn_endpoint_id, \
     max(username) AS username, max(common_name) AS common_name, max(device_ip) AS device_ip, \
     max(device_type) AS device_type, max(client_ip) AS client_ip, \
     min(connection_start_time) AS session_start, max(connection_end_time) AS session_end, \
     max(ingress_bytes) AS ingress_bytes, max(egress_bytes) AS egress_bytes \
     FROM vpn_connections \
     WHERE connection_id IS NOT NULL AND connection_start_time IS NOT NULL \
     AND (connection_attempt_status IS NULL OR connection_attempt_status <> 'failed') \
     GROUP BY connection_id \
     HAVING sum(CASE WHEN connection_attempt_status = 'successful' OR connection_log_type = 'connection-reset' \
     THEN 1 ELSE 0 END) > 0)"
}

fn session_columns(d: Dialect) -> String {
    format!(
        "username, common_name, device_ip, client_ip, connection_id, {start} AS session_start, \
         {end} AS session_end, ingress_bytes, egress_bytes",
        start = d.ts("session_start"),
        end = d.ts("session_end"),
    )
}

/// Who was connected at `at` (epoch seconds): `session_start <= at < session_end`.
pub fn vpn_who(d: Dialect, at: i64) -> String {
    format!(
        "WITH {cte} SELECT {columns} FROM sessions \
         WHERE session_start <= {at} AND (session_end IS NULL OR {at} < session_end) \
         ORDER BY username, common_name, session_start, connection_id",
        cte = sessions_cte(),
        columns = session_columns(d),
    )
}

/// Sessions, optionally of one user (username or common name).
pub fn vpn_sessions(d: Dialect, user: Option<&str>) -> String {
    let filter = user.map_or(String::new(), |u| {
        let u = literal(u);
        format!("WHERE username = {u} OR common_name = {u} ")
    });
    format!(
        "WITH {cte} SELECT {columns} FROM sessions {filter}ORDER BY session_start, connection_id",
        cte = sessions_cte(),
        columns = session_columns(d),
    )
}

/// Failed connection attempts by device IP.
pub fn vpn_failures(d: Dialect) -> String {
    format!(
        "SELECT device_ip, count(*) AS failed_attempts, count(DISTINCT coalesce(username, common_name)) AS identities, \
         {reasons} AS reasons, {first} AS first_attempt, {last} AS last_attempt \
         FROM vpn_connections WHERE connection_attempt_status = 'failed' GROUP BY device_ip \
         ORDER BY failed_attempts DESC, device_ip",
        reasons = d.distinct_sorted("coalesce(connection_attempt_failure_reason, 'unknown')"),
        first = d.ts("min(coalesce(connection_start_time, connection_last_update_time))"),
        last = d.ts("max(coalesce(connection_last_update_time, connection_start_time))"),
    )
}

/// Flows joined to the VPN session whose client IP and window they fall in, optionally of one user.
pub fn attribute(d: Dialect, user: Option<&str>) -> String {
    let filter = user.map_or(String::new(), |u| {
        let u = literal(u);
        format!("AND (s.username = {u} OR s.common_name = {u}) ")
    });
    format!(
        "WITH {cte} SELECT s.username, s.common_name, s.connection_id, s.client_ip, \
         f.srcaddr, f.dstaddr, f.dstport, f.protocol, f.action, sum(f.bytes) AS bytes, sum(f.packets) AS packets, \
         count(*) AS records, {first} AS first_seen, {last} AS last_seen \
         FROM flows f JOIN sessions s ON (f.srcaddr = s.client_ip OR f.dstaddr = s.client_ip) \
         WHERE f.log_status = 'OK' AND f.start < coalesce(s.session_end, 9223372036854775807) \
         AND f.\"end\" >= s.session_start {filter}\
         GROUP BY s.username, s.common_name, s.connection_id, s.client_ip, f.srcaddr, f.dstaddr, f.dstport, \
         f.protocol, f.action \
         ORDER BY s.username, s.connection_id, bytes DESC, f.srcaddr, f.dstaddr, f.dstport",
        cte = sessions_cte(),
        first = d.ts("min(f.start)"),
        last = d.ts("max(f.\"end\")"),
    )
}

/// Per tunnel, the timeline: state changes, flaps, DPD timeouts, each message with its catalogue
/// entry. `change` names a phase state change from the tunnel's previous event.
pub fn tunnels(d: Dialect) -> String {
    format!(
        "SELECT vpn_connection_id, tunnel_outside_ip, {time} AS time, ike_phase1_state, ike_phase2_state, \
         CASE WHEN prev1 IS NOT NULL AND ike_phase1_state IS NOT NULL AND prev1 <> ike_phase1_state \
         THEN concat('phase1 ', prev1, ' -> ', ike_phase1_state) \
         WHEN prev2 IS NOT NULL AND ike_phase2_state IS NOT NULL AND prev2 <> ike_phase2_state \
         THEN concat('phase2 ', prev2, ' -> ', ike_phase2_state) END AS change, \
         category, details, explanation, fix \
         FROM (SELECT *, lag(ike_phase1_state) OVER (PARTITION BY vpn_connection_id, tunnel_outside_ip \
         ORDER BY event_time_ms) AS prev1, lag(ike_phase2_state) OVER (PARTITION BY vpn_connection_id, \
         tunnel_outside_ip ORDER BY event_time_ms) AS prev2 FROM tunnel_events WHERE log_kind = 'tunnel') AS t \
         ORDER BY vpn_connection_id, tunnel_outside_ip, event_time_ms",
        time = d.ts("event_time"),
    )
}

/// Per tunnel: events, phase 1 downs (transitions into `down`), DPD timeouts, errors.
pub fn tunnel_summary(d: Dialect) -> String {
    format!(
        "SELECT vpn_connection_id, tunnel_outside_ip, count(*) AS events, \
         sum(CASE WHEN ike_phase1_state = 'down' AND prev1 IS NOT NULL AND prev1 <> 'down' THEN 1 ELSE 0 END) AS downs, \
         sum(CASE WHEN category = 'dpd-timeout' THEN 1 ELSE 0 END) AS dpd_timeouts, \
         sum(CASE WHEN category IS NOT NULL AND category NOT IN ('negotiation', 'rekey-collision') THEN 1 ELSE 0 END) AS errors, \
         sum(CASE WHEN category IS NULL AND details IS NOT NULL THEN 1 ELSE 0 END) AS unclassified, \
         {first} AS first_event, {last} AS last_event \
         FROM (SELECT *, lag(ike_phase1_state) OVER (PARTITION BY vpn_connection_id, tunnel_outside_ip \
         ORDER BY event_time_ms) AS prev1 FROM tunnel_events WHERE log_kind = 'tunnel') AS t \
         GROUP BY vpn_connection_id, tunnel_outside_ip ORDER BY vpn_connection_id, tunnel_outside_ip",
        first = d.ts("min(event_time)"),
        last = d.ts("max(event_time)"),
    )
}

/// Holes in the audit trail per ENI: SKIPDATA and NODATA records, and stretches longer than
/// `max_silence` seconds with no record at all between one capture window and the next.
pub fn gaps(d: Dialect, max_silence: i64) -> String {
    format!(
        "WITH windows AS (SELECT interface_id, start, max(\"end\") AS window_end FROM flows \
         WHERE interface_id IS NOT NULL AND start IS NOT NULL GROUP BY interface_id, start), \
         ordered AS (SELECT interface_id, start, max(window_end) OVER (PARTITION BY interface_id ORDER BY start \
         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered_until FROM windows) \
         SELECT interface_id, kind, {gap_start} AS gap_start, {gap_end} AS gap_end, seconds, records FROM ( \
         SELECT interface_id, 'MISSING' AS kind, covered_until AS from_time, start AS to_time, \
         start - covered_until AS seconds, CAST(0 AS BIGINT) AS records FROM ordered \
         WHERE covered_until IS NOT NULL AND start - covered_until > {max_silence} \
         UNION ALL SELECT interface_id, log_status AS kind, min(start) AS from_time, max(\"end\") AS to_time, \
         max(\"end\") - min(start) AS seconds, count(*) AS records FROM flows \
         WHERE log_status IN ('NODATA', 'SKIPDATA') GROUP BY interface_id, log_status) AS holes \
         ORDER BY interface_id, from_time, kind",
        gap_start = d.ts("from_time"),
        gap_end = d.ts("to_time"),
    )
}
