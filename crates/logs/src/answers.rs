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

use crate::flow_format::FlowColumns;
use std::net::IpAddr;

/// The `flows` columns a question uses when they are there: the table's columns follow the
/// sources' formats, and these refine an answer without being needed for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionalColumns {
    /// SYN-only records (`tcp-flags`, version 3).
    pub tcp_flags: bool,
    /// The VPC a record belongs to (`vpc-id`, version 3): ties flows to a Client VPN endpoint.
    pub vpc_id: bool,
}

impl OptionalColumns {
    pub const ALL: OptionalColumns = OptionalColumns {
        tcp_flags: true,
        vpc_id: true,
    };

    pub fn of(columns: &FlowColumns) -> OptionalColumns {
        OptionalColumns {
            tcp_flags: columns.has("tcp-flags"),
            vpc_id: columns.has("vpc-id"),
        }
    }
}

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

/// The `flows` columns [`talked_to`] needs.
pub const TALKED_TO_COLUMNS: &[&str] = &[
    "srcaddr",
    "dstaddr",
    "bytes",
    "packets",
    "dstport",
    "action",
    "start",
    "end",
    "log_status",
];

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

/// The `flows` columns [`top_talkers`] needs.
pub const TOP_TALKERS_COLUMNS: &[&str] = &["srcaddr", "dstaddr", "bytes", "packets", "log_status"];

/// The pairs that moved the most bytes.
pub fn top_talkers(_d: Dialect, limit: usize) -> String {
    format!(
        "SELECT srcaddr, dstaddr, sum(bytes) AS bytes, sum(packets) AS packets, count(*) AS records \
         FROM flows WHERE log_status = 'OK' GROUP BY srcaddr, dstaddr \
         ORDER BY bytes DESC, srcaddr, dstaddr LIMIT {limit}"
    )
}

/// The `flows` columns [`rejects`] needs.
pub const REJECTS_COLUMNS: &[&str] = &["srcaddr", "dstaddr", "dstport", "action", "start", "end"];

/// Rejected traffic by source: distinct destination ports and hosts; SYN-only records counted
/// apart when the sources have `tcp-flags` (null otherwise).
pub fn rejects(d: Dialect, limit: usize, optional: OptionalColumns) -> String {
    let syn_only = if optional.tcp_flags {
        "sum(CASE WHEN tcp_flags IS NULL THEN NULL WHEN tcp_flags = 2 THEN 1 ELSE 0 END)"
    } else {
        "CAST(NULL AS BIGINT)"
    };
    format!(
        "SELECT srcaddr, count(*) AS rejected_records, count(DISTINCT dstport) AS distinct_dst_ports, \
         count(DISTINCT dstaddr) AS distinct_dst_hosts, \
         {syn_only} AS syn_only_records, \
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
    "sessions AS (SELECT connection_id, client_vpn_endpoint_id, \
     max(username) AS username, max(common_name) AS common_name, max(device_ip) AS device_ip, \
     max(device_type) AS device_type, max(client_ip) AS client_ip, \
     min(connection_start_time) AS session_start, max(connection_end_time) AS session_end, \
     max(ingress_bytes) AS ingress_bytes, max(egress_bytes) AS egress_bytes \
     FROM vpn_connections \
     WHERE connection_id IS NOT NULL AND connection_start_time IS NOT NULL \
     AND (connection_attempt_status IS NULL OR connection_attempt_status <> 'failed') \
     GROUP BY client_vpn_endpoint_id, connection_id \
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

/// Flows joined to the Client VPN session whose client IP and window they fall in, optionally of
/// one user, endpoint by endpoint: client CIDRs may overlap across endpoints, so one address can
/// belong to two sessions at once. `matched_by` says how a row was tied to its session:
/// - `scoped`: the record's VPC or interface is one `vpn_endpoints` gives the session's endpoint;
/// - `unique`: no scope is given, and only this endpoint had a session with that address then;
/// - `ambiguous`: sessions of several endpoints had that address then, and no scope decides.
///
/// Records are numbered in the order of all their values, so every step that reads them numbers
/// them alike (records that tie are equal in every value).
///
/// A record outside every scope given for an endpoint is never tied to that endpoint's sessions,
/// and a record some endpoint's scope claims is tied only to sessions of scoped endpoints.
pub fn attribute(d: Dialect, user: Option<&str>, optional: OptionalColumns) -> String {
    let filter = user.map_or(String::new(), |u| {
        let u = literal(u);
        format!("AND (username = {u} OR common_name = {u}) ")
    });
    let vpc = if optional.vpc_id {
        "vpc_id"
    } else {
        "CAST(NULL AS VARCHAR)"
    };
    format!(
        "WITH {cte}, \
         f AS (SELECT row_number() OVER (ORDER BY start, \"end\", interface_id, srcaddr, dstaddr, dstport, protocol, \
         action, bytes, packets, {vpc}) AS flow_row, interface_id, {vpc} AS vpc_id, srcaddr, dstaddr, dstport, \
         protocol, action, bytes AS record_bytes, packets AS record_packets, start, \"end\" \
         FROM flows WHERE log_status = 'OK'), \
         claims AS (SELECT f.*, s.client_vpn_endpoint_id, s.username, s.common_name, s.connection_id, s.client_ip \
         FROM f JOIN sessions s ON (f.srcaddr = s.client_ip OR f.dstaddr = s.client_ip) \
         AND f.start < coalesce(s.session_end, 9223372036854775807) AND f.\"end\" >= s.session_start), \
         scoped AS (SELECT DISTINCT c.flow_row, c.client_vpn_endpoint_id FROM claims c JOIN vpn_endpoints e \
         ON e.client_vpn_endpoint_id = c.client_vpn_endpoint_id AND (e.scope_id = c.vpc_id OR e.scope_id = c.interface_id)), \
         declared AS (SELECT DISTINCT client_vpn_endpoint_id FROM vpn_endpoints), \
         kept AS (SELECT c.*, CASE WHEN sc.flow_row IS NULL THEN 0 ELSE 1 END AS in_scope FROM claims c \
         LEFT JOIN scoped sc ON sc.flow_row = c.flow_row AND sc.client_vpn_endpoint_id = c.client_vpn_endpoint_id \
         LEFT JOIN declared dc ON dc.client_vpn_endpoint_id = c.client_vpn_endpoint_id \
         WHERE sc.flow_row IS NOT NULL OR dc.client_vpn_endpoint_id IS NULL), \
         per_flow AS (SELECT flow_row, count(DISTINCT client_vpn_endpoint_id) AS endpoints, \
         count(DISTINCT CASE WHEN in_scope = 1 THEN client_vpn_endpoint_id END) AS scoped_endpoints \
         FROM kept GROUP BY flow_row), \
         judged AS (SELECT k.*, CASE WHEN k.in_scope = 1 AND p.scoped_endpoints = 1 THEN 'scoped' \
         WHEN k.in_scope = 1 THEN 'ambiguous' WHEN p.scoped_endpoints > 0 THEN NULL \
         WHEN p.endpoints = 1 THEN 'unique' ELSE 'ambiguous' END AS matched_by \
         FROM kept k JOIN per_flow p ON p.flow_row = k.flow_row) \
         SELECT client_vpn_endpoint_id, username, common_name, connection_id, client_ip, \
         srcaddr, dstaddr, dstport, protocol, action, matched_by, sum(record_bytes) AS bytes, \
         sum(record_packets) AS packets, \
         count(*) AS records, {first} AS first_seen, {last} AS last_seen \
         FROM judged WHERE matched_by IS NOT NULL {filter}\
         GROUP BY client_vpn_endpoint_id, username, common_name, connection_id, client_ip, srcaddr, dstaddr, dstport, \
         protocol, action, matched_by \
         ORDER BY username, bytes DESC, srcaddr, dstaddr, dstport, client_vpn_endpoint_id, connection_id",
        cte = sessions_cte(),
        first = d.ts("min(start)"),
        last = d.ts("max(\"end\")"),
    )
}

/// Tunnel activity rows with the previous phase states of their tunnel, and BGP rows with the
/// previous status of their tunnel's BGP session: the two logs' states are separate timelines.
fn tunnel_timelines() -> &'static str {
    "(SELECT *, lag(ike_phase1_state) OVER (PARTITION BY vpn_connection_id, tunnel_outside_ip \
     ORDER BY event_time_ms) AS prev1, lag(ike_phase2_state) OVER (PARTITION BY vpn_connection_id, \
     tunnel_outside_ip ORDER BY event_time_ms) AS prev2, CAST(NULL AS VARCHAR) AS prev_bgp \
     FROM tunnel_events WHERE log_kind = 'tunnel' \
     UNION ALL SELECT *, CAST(NULL AS VARCHAR) AS prev1, CAST(NULL AS VARCHAR) AS prev2, \
     lag(bgp_status) OVER (PARTITION BY vpn_connection_id, tunnel_outside_ip, bgp_type ORDER BY event_time_ms) AS prev_bgp \
     FROM tunnel_events WHERE log_kind = 'bgp') AS t"
}

/// Per tunnel, the timeline of its activity and BGP logs: state changes, flaps, DPD timeouts, BGP
/// status, each activity message with its catalogue entry. `change` names a phase state change
/// from the tunnel's previous activity event, or a BGP status change from its previous BGP event.
pub fn tunnels(d: Dialect) -> String {
    format!(
        "SELECT vpn_connection_id, tunnel_outside_ip, {time} AS time, log_kind, ike_phase1_state, ike_phase2_state, \
         bgp_status, \
         CASE WHEN prev1 IS NOT NULL AND ike_phase1_state IS NOT NULL AND prev1 <> ike_phase1_state \
         THEN concat('phase1 ', prev1, ' -> ', ike_phase1_state) \
         WHEN prev2 IS NOT NULL AND ike_phase2_state IS NOT NULL AND prev2 <> ike_phase2_state \
         THEN concat('phase2 ', prev2, ' -> ', ike_phase2_state) \
         WHEN prev_bgp IS NOT NULL AND bgp_status IS NOT NULL AND prev_bgp <> bgp_status \
         THEN concat('bgp ', prev_bgp, ' -> ', bgp_status) END AS change, \
         category, details, explanation, fix \
         FROM {timelines} \
         ORDER BY vpn_connection_id, tunnel_outside_ip, event_time_ms, log_kind DESC",
        time = d.ts("event_time"),
        timelines = tunnel_timelines(),
    )
}

/// Per tunnel: events of both logs, phase 1 downs (transitions into `down`), DPD timeouts,
/// errors, activity messages not in the catalogue, and BGP `DOWN` events.
pub fn tunnel_summary(d: Dialect) -> String {
    format!(
        "SELECT vpn_connection_id, tunnel_outside_ip, count(*) AS events, \
         sum(CASE WHEN ike_phase1_state = 'down' AND prev1 IS NOT NULL AND prev1 <> 'down' THEN 1 ELSE 0 END) AS downs, \
         sum(CASE WHEN category = 'dpd-timeout' THEN 1 ELSE 0 END) AS dpd_timeouts, \
         sum(CASE WHEN category IS NOT NULL AND category NOT IN ('negotiation', 'rekey-collision') THEN 1 ELSE 0 END) AS errors, \
         sum(CASE WHEN log_kind = 'tunnel' AND category IS NULL AND details IS NOT NULL THEN 1 ELSE 0 END) AS unclassified, \
         sum(CASE WHEN log_kind = 'bgp' AND upper(bgp_status) = 'DOWN' THEN 1 ELSE 0 END) AS bgp_downs, \
         {first} AS first_event, {last} AS last_event \
         FROM {timelines} \
         GROUP BY vpn_connection_id, tunnel_outside_ip ORDER BY vpn_connection_id, tunnel_outside_ip",
        first = d.ts("min(event_time)"),
        last = d.ts("max(event_time)"),
        timelines = tunnel_timelines(),
    )
}

/// The `flows` columns [`gaps`] needs.
pub const GAPS_COLUMNS: &[&str] = &["interface_id", "start", "end", "log_status"];

/// Holes in the audit trail per ENI: stretches of SKIPDATA or NODATA records, and stretches longer
/// than `max_silence` seconds with no record at all between one capture window and the next.
///
/// Each row is one continuous stretch: records of one status, in the interface's time order, each
/// starting at most a second after everything before it ended, with no record of another status
/// between them. A record of traffic or a silence ends a stretch.
pub fn gaps(d: Dialect, max_silence: i64) -> String {
    format!(
        "WITH records AS (SELECT interface_id, start, \"end\", log_status, \
         max(\"end\") OVER (PARTITION BY interface_id ORDER BY start, \"end\", log_status \
         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered_until, \
         lag(log_status) OVER (PARTITION BY interface_id ORDER BY start, \"end\", log_status) AS previous_status \
         FROM flows WHERE interface_id IS NOT NULL AND start IS NOT NULL AND \"end\" IS NOT NULL \
         AND log_status IS NOT NULL), \
         stretches AS (SELECT interface_id, start, \"end\", log_status, \
         sum(CASE WHEN previous_status IS NULL OR previous_status <> log_status OR start > covered_until + 1 \
         THEN 1 ELSE 0 END) OVER (PARTITION BY interface_id ORDER BY start, \"end\", log_status \
         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS stretch FROM records) \
         SELECT interface_id, kind, {gap_start} AS gap_start, {gap_end} AS gap_end, seconds, records FROM ( \
         SELECT interface_id, 'MISSING' AS kind, covered_until AS from_time, start AS to_time, \
         start - covered_until AS seconds, CAST(0 AS BIGINT) AS records FROM records \
         WHERE covered_until IS NOT NULL AND start - covered_until > {max_silence} \
         UNION ALL SELECT interface_id, log_status AS kind, min(start) AS from_time, max(\"end\") AS to_time, \
         max(\"end\") - min(start) AS seconds, count(*) AS records FROM stretches \
         WHERE log_status IN ('NODATA', 'SKIPDATA') GROUP BY interface_id, log_status, stretch) AS holes \
         ORDER BY interface_id, from_time, kind",
        gap_start = d.ts("from_time"),
        gap_end = d.ts("to_time"),
    )
}
