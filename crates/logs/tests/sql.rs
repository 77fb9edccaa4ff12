//! SQL over the tables: the IP helpers, the answers, and the VPN session window edges.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use netaudit_logs::answers::{self, Dialect, OptionalColumns};
use netaudit_logs::render::rows_as_json;
use netaudit_logs::udf::{cidr_contains, is_private};
use netaudit_logs::{EndpointScope, Input, Issues, LogError, LogSession, LogSources};
use serde_json::{json, Map, Value};

fn memory(name: &str, text: &str) -> Input {
    Input::Memory {
        name: name.into(),
        bytes: text.as_bytes().to_vec().into(),
    }
}

fn session(flows: &str, vpn: &str, tunnels: &[(&str, &str)]) -> LogSession {
    let sources = LogSources {
        flows: vec![memory("flows.log", flows)],
        vpn: vec![memory("vpn.log", vpn)],
        tunnels: tunnels.iter().map(|(name, text)| memory(name, text)).collect(),
        ..LogSources::default()
    };
    LogSession::new(sources, Issues::new()).unwrap()
}

fn rows(session: &LogSession, sql: &str) -> Vec<Map<String, Value>> {
    let result = session.query(sql).unwrap_or_else(|e| panic!("{e}\n{sql}"));
    rows_as_json(&result.schema, &result.batches).unwrap()
}

fn column(rows: &[Map<String, Value>], name: &str) -> Vec<Value> {
    rows.iter()
        .map(|r| r.get(name).cloned().unwrap_or(Value::Null))
        .collect()
}

const VECTORS: &str = "\
2 123456789012 eni-0a1b2c3d4e5f67890 198.51.100.7 10.0.1.25 51514 443 6 12 4870 1718000000 1718000060 ACCEPT OK
2 123456789012 eni-0a1b2c3d4e5f67890 203.0.113.50 10.0.1.25 40123 22 6 1 44 1718000000 1718000060 REJECT OK
2 123456789012 eni-0a1b2c3d4e5f67890 - - - - - - - 1718000000 1718000060 - NODATA
2 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.25 198.51.100.7 443 51514 6 10 9000 1718000000 1718000060 ACCEPT OK
2 123456789012 eni-0a1b2c3d4e5f67890 203.0.113.50 10.0.1.25 40124 23 6 1 44 1718000060 1718000120 REJECT OK
2 123456789012 eni-0a1b2c3d4e5f67890 2001:db8::5 10.0.1.25 40124 80 6 1 44 1718000060 1718000120 ACCEPT OK
";

#[test]
fn ip_helpers_compare_addresses_as_numbers_for_both_families() {
    assert_eq!(cidr_contains("10.0.0.0/8", "10.255.0.1"), Some(true));
    assert_eq!(
        cidr_contains("10.0.0.0/8", "100.0.0.1"),
        Some(false),
        "not a string prefix"
    );
    assert_eq!(cidr_contains("10.0.1.0/24", "10.0.1.255"), Some(true));
    assert_eq!(cidr_contains("10.0.1.0/24", "10.0.2.0"), Some(false));
    assert_eq!(cidr_contains("0.0.0.0/0", "8.8.8.8"), Some(true));
    assert_eq!(cidr_contains("2001:db8::/32", "2001:db8:ffff::1"), Some(true));
    assert_eq!(cidr_contains("2001:db8::/32", "2001:db9::1"), Some(false));
    assert_eq!(
        cidr_contains("2001:db8::/32", "10.0.0.1"),
        Some(false),
        "families differ"
    );
    assert_eq!(
        cidr_contains("10.0.0.5", "10.0.0.5"),
        Some(true),
        "a bare address is a /32"
    );
    assert_eq!(cidr_contains("10.0.0.0/33", "10.0.0.1"), None);
    assert_eq!(cidr_contains("nonsense", "10.0.0.1"), None);
    assert_eq!(is_private("172.31.255.255"), Some(true));
    assert_eq!(is_private("172.32.0.1"), Some(false));
    assert_eq!(is_private("100.64.0.1"), Some(true));
    assert_eq!(is_private("fd12:3456::1"), Some(true));
    assert_eq!(is_private("2600:1f18::1"), Some(false));
    assert_eq!(is_private("::ffff:10.1.2.3"), Some(true));
    assert_eq!(is_private("-"), None);

    let s = session(VECTORS, "", &[]);
    let got = rows(
        &s,
        "SELECT cidr_contains('10.0.0.0/16', dstaddr) AS inside, is_private(srcaddr) AS private, \
         ip_version(srcaddr) AS v FROM flows WHERE log_status = 'OK' ORDER BY srcaddr, dstport",
    );
    assert_eq!(
        column(&got, "v"),
        vec![json!(4), json!(4), json!(6), json!(4), json!(4)],
        "{got:?}"
    );
    assert_eq!(column(&got, "inside")[0], json!(false), "10.0.1.25 -> 198.51.100.7");
    assert_eq!(column(&got, "inside")[1], json!(true));
    assert_eq!(column(&got, "private")[0], json!(true));
}

#[test]
fn talked_to_lists_every_peer_with_both_directions() {
    let s = session(VECTORS, "", &[]);
    let got = rows(&s, &answers::talked_to(Dialect::DataFusion, "10.0.1.25"));
    let peers: Vec<(Value, Value)> = got
        .iter()
        .map(|r| (r["peer"].clone(), r["direction"].clone()))
        .collect();
    assert_eq!(
        peers,
        vec![
            (json!("198.51.100.7"), json!("outbound")),
            (json!("198.51.100.7"), json!("inbound")),
            (json!("203.0.113.50"), json!("inbound")),
            (json!("2001:db8::5"), json!("inbound")),
        ]
    );
    assert_eq!(got[0]["bytes"], json!(9000));
    assert_eq!(got[2]["rejected"], json!(2));
    assert_eq!(got[2]["accepted"], json!(0));
    assert_eq!(got[2]["dst_ports"], json!([22, 23]));
    assert_eq!(got[2]["first_seen"], json!("2024-06-10T06:13:20"));
    assert_eq!(got[2]["last_seen"], json!("2024-06-10T06:15:20"));
}

#[test]
fn top_talkers_and_rejects() {
    let s = session(VECTORS, "", &[]);
    let top = rows(&s, &answers::top_talkers(Dialect::DataFusion, 2));
    assert_eq!(column(&top, "srcaddr"), vec![json!("10.0.1.25"), json!("198.51.100.7")]);
    assert_eq!(column(&top, "bytes"), vec![json!(9000), json!(4870)]);
    let optional = OptionalColumns::of(s.flow_columns());
    assert!(!optional.tcp_flags, "no tcp-flags in v2");
    let rejects = rows(&s, &answers::rejects(Dialect::DataFusion, 10, optional));
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0]["srcaddr"], json!("203.0.113.50"));
    assert_eq!(rejects[0]["distinct_dst_ports"], json!(2));
    assert_eq!(rejects[0]["syn_only_records"], Value::Null, "no tcp-flags in v2");
}

// Client VPN: alice 06:00-07:00 (closed), bob from 06:30 still open, carol failed twice.
const VPN: &str = r#"{"connection-log-type":"connection-attempt","connection-attempt-status":"successful","connection-id":"cvpn-connection-a","client-vpn-endpoint-id":"cvpn-endpoint-1","transport-protocol":"udp","connection-start-time":"2024-06-10 06:00:00","connection-last-update-time":"2024-06-10 06:00:00","client-ip":"10.100.0.10","common-name":"alice.example.com","device-type":"mac","device-ip":"203.0.113.25","port":"50096","ingress-bytes":"0","egress-bytes":"0","ingress-packets":"0","egress-packets":"0","connection-end-time":"NA","connection-duration-seconds":"0","username":"alice"}
2024-06-10T07:00:00.000Z {"connection-log-type":"connection-reset","connection-attempt-status":"NA","connection-id":"cvpn-connection-a","client-vpn-endpoint-id":"cvpn-endpoint-1","transport-protocol":"udp","connection-start-time":"2024-06-10 06:00:00","connection-last-update-time":"2024-06-10 07:00:00","client-ip":"10.100.0.10","common-name":"alice.example.com","device-type":"mac","device-ip":"203.0.113.25","port":"50096","ingress-bytes":"21017","egress-bytes":"16438","ingress-packets":"330","egress-packets":"325","connection-end-time":"2024-06-10 07:00:00","connection-duration-seconds":"3600","username":"alice"}
{"connection-log-type":"connection-attempt","connection-attempt-status":"successful","connection-id":"cvpn-connection-b","client-vpn-endpoint-id":"cvpn-endpoint-1","transport-protocol":"tcp","connection-start-time":"2024-06-10 06:30:00","connection-last-update-time":"2024-06-10 06:30:00","client-ip":"10.100.0.11","common-name":"bob.example.com","device-type":"windows","device-ip":"198.51.100.30","port":"443","ingress-bytes":"0","egress-bytes":"0","ingress-packets":"0","egress-packets":"0","connection-end-time":"NA","connection-duration-seconds":"0","username":"bob"}
{"connection-log-type":"connection-attempt","connection-attempt-status":"failed","connection-attempt-failure-reason":"authentication-failed","connection-id":"cvpn-connection-c1","client-vpn-endpoint-id":"cvpn-endpoint-1","transport-protocol":"udp","connection-start-time":"2024-06-10 06:10:00","connection-last-update-time":"2024-06-10 06:10:00","client-ip":"NA","common-name":"carol","device-ip":"192.0.2.99","port":"1234","ingress-bytes":"0","egress-bytes":"0","ingress-packets":"0","egress-packets":"0","connection-end-time":"NA","username":"carol"}
{"connection-log-type":"connection-attempt","connection-attempt-status":"failed","connection-attempt-failure-reason":"authentication-failed","connection-id":"cvpn-connection-c2","client-vpn-endpoint-id":"cvpn-endpoint-1","transport-protocol":"udp","connection-start-time":"2024-06-10 06:11:00","connection-last-update-time":"2024-06-10 06:11:00","client-ip":"NA","common-name":"carol","device-ip":"192.0.2.99","port":"1235","connection-end-time":"NA","username":"carol"}
"#;

/// 06:00:00 = 1717999200, 07:00:00 = 1718002800.
const T0600: i64 = 1_717_999_200;
const T0700: i64 = 1_718_002_800;

fn who(s: &LogSession, at: i64) -> Vec<Value> {
    column(&rows(s, &answers::vpn_who(Dialect::DataFusion, at)), "username")
}

#[test]
fn vpn_who_uses_a_window_inclusive_at_the_start_and_exclusive_at_the_end() {
    let s = session("", VPN, &[]);
    assert_eq!(who(&s, T0600 - 1), Vec::<Value>::new());
    assert_eq!(who(&s, T0600), vec![json!("alice")], "connected at its first second");
    assert_eq!(who(&s, T0600 + 1800), vec![json!("alice"), json!("bob")]);
    assert_eq!(who(&s, T0700 - 1), vec![json!("alice"), json!("bob")]);
    assert_eq!(
        who(&s, T0700),
        vec![json!("bob")],
        "gone at its end second; bob is still open"
    );
    let got = rows(&s, &answers::vpn_who(Dialect::DataFusion, T0600));
    assert_eq!(got[0]["client_ip"], json!("10.100.0.10"));
    assert_eq!(got[0]["device_ip"], json!("203.0.113.25"));
    assert_eq!(got[0]["session_start"], json!("2024-06-10T06:00:00"));
    assert_eq!(got[0]["session_end"], json!("2024-06-10T07:00:00"));
    assert_eq!(got[0]["egress_bytes"], json!(16438), "numbers that arrive as strings");
}

#[test]
fn vpn_sessions_and_failures() {
    let s = session("", VPN, &[]);
    let all = rows(&s, &answers::vpn_sessions(Dialect::DataFusion, None));
    assert_eq!(
        column(&all, "connection_id"),
        vec![json!("cvpn-connection-a"), json!("cvpn-connection-b")]
    );
    assert_eq!(all[1]["session_end"], Value::Null, "open");
    let bob = rows(&s, &answers::vpn_sessions(Dialect::DataFusion, Some("bob.example.com")));
    assert_eq!(column(&bob, "username"), vec![json!("bob")]);
    let failures = rows(&s, &answers::vpn_failures(Dialect::DataFusion));
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["device_ip"], json!("192.0.2.99"));
    assert_eq!(failures[0]["failed_attempts"], json!(2));
    assert_eq!(failures[0]["reasons"], json!(["authentication-failed"]));
}

#[test]
fn attribute_joins_flows_that_overlap_a_session_window() {
    let flow = |src: &str, dst: &str, port: u16, start: i64, end: i64| {
        format!("2 123456789012 eni-01 {src} {dst} 50000 {port} 6 1 100 {start} {end} ACCEPT OK\n")
    };
    let mut flows = String::new();
    // Ends exactly at alice's first second: overlaps (the record's end is inclusive).
    flows.push_str(&flow("10.100.0.10", "10.0.1.1", 1, T0600 - 60, T0600));
    // Ends one second before: no.
    flows.push_str(&flow("10.100.0.10", "10.0.1.1", 2, T0600 - 61, T0600 - 1));
    // Inside, inbound to alice's client IP.
    flows.push_str(&flow("10.0.1.2", "10.100.0.10", 3, T0600 + 600, T0600 + 660));
    // Starts one second before alice's end: yes. Starts at her end: no.
    flows.push_str(&flow("10.100.0.10", "10.0.1.1", 4, T0700 - 1, T0700 + 59));
    flows.push_str(&flow("10.100.0.10", "10.0.1.1", 5, T0700, T0700 + 60));
    // Bob's session is open: a day later still counts.
    flows.push_str(&flow("10.100.0.11", "10.0.1.9", 6, T0700 + 86_400, T0700 + 86_460));
    let s = session(&flows, VPN, &[]);
    let optional = OptionalColumns::of(s.flow_columns());
    let alice = rows(&s, &answers::attribute(Dialect::DataFusion, Some("alice"), optional));
    let mut ports: Vec<i64> = alice.iter().map(|r| r["dstport"].as_i64().unwrap()).collect();
    ports.sort_unstable();
    assert_eq!(ports, vec![1, 3, 4]);
    let everyone = rows(&s, &answers::attribute(Dialect::DataFusion, None, optional));
    assert!(
        everyone.iter().all(|r| r["matched_by"] == json!("unique")),
        "{everyone:?}"
    );
    assert!(everyone
        .iter()
        .any(|r| r["username"] == json!("bob") && r["dstport"] == json!(6)));
    assert_eq!(everyone.len(), 4);
}

const TUNNEL_JSON: &str = r#"{"event_timestamp":1718000000,"details":"AWS tunnel processed request (id=1) for CREATE_CHILD_SA","dpd_enabled":true,"nat_t_detected":false,"ike_phase1_state":"established","ike_phase2_state":"established"}
{"event_timestamp":1718000060,"details":"AWS tunnel detected a pre-shared key mismatch with cgw: 198.51.100.1","dpd_enabled":true,"nat_t_detected":false,"ike_phase1_state":"down","ike_phase2_state":"down"}
{"event_timestamp":1718000120000,"details":"AWS tunnel DPD timed out after 3 retransmits","dpd_enabled":"True","nat_t_detected":"False","ike_phase1_state":"Down","ike_phase2_state":"Down"}
{"event_timestamp":1718000180,"details":"Something new from AWS","ike_phase1_state":"established","ike_phase2_state":"established"}
"#;

const BGP_JSON: &str = r#"{"resource_id":"vpn-0abc1234def567890_203.0.113.10","event_timestamp":1718000100000,"timestamp":"2024-06-10 06:15:00.000Z","type":"BGPStatus","status":"DOWN","message":{"details":"BGP session down"}}
{"resource_id":"vpn-0abc1234def567890_203.0.113.10","event_timestamp":1718000150000,"timestamp":"2024-06-10 06:15:50.000Z","type":"BGPStatus","status":"UP","message":{"details":"BGP session up"}}
"#;

const TUNNEL_TEXT: &str = "2024-06-10T06:13:20Z AWS tunnel received DELETE for IKE_SA from CGW\n\
2024-06-10 06:14:20.123 AWS tunnel Phase 2 was unable to establish while keeping Phase 1\n";

#[test]
fn tunnel_logs_take_ids_from_the_stream_name_and_match_the_catalogue() {
    let s = session(
        "",
        "",
        &[
            ("/aws/vendedlogs/vpn/vpn-0abc1234def567890-203.0.113.10", TUNNEL_JSON),
            ("bgp/vpn-0abc1234def567890_203.0.113.10.log", BGP_JSON),
            ("export/vpn-0fff0000aaaa11112-2001:db8::1/000000", TUNNEL_TEXT),
        ],
    );
    let events = rows(
        &s,
        "SELECT * FROM tunnel_events ORDER BY vpn_connection_id, tunnel_outside_ip, event_time_ms",
    );
    assert_eq!(events.len(), 8);
    assert_eq!(events[0]["vpn_connection_id"], json!("vpn-0abc1234def567890"));
    assert_eq!(events[0]["tunnel_outside_ip"], json!("203.0.113.10"));
    let bgp: Vec<&Map<String, Value>> = events.iter().filter(|e| e["log_kind"] == json!("bgp")).collect();
    assert_eq!(bgp.len(), 2);
    assert_eq!(bgp[0]["event_time"], json!(1_718_000_100), "milliseconds");
    assert_eq!(bgp[0]["bgp_status"], json!("DOWN"));
    assert_eq!(bgp[0]["details"], json!("BGP session down"));
    let dpd = events.iter().find(|e| e["category"] == json!("dpd-timeout")).unwrap();
    assert_eq!(dpd["dpd_enabled"], json!(true), "a boolean as a string");
    assert_eq!(dpd["ike_phase1_state"], json!("down"), "states lower-cased");
    assert_eq!(dpd["event_time"], json!(1_718_000_120));
    let text: Vec<&Map<String, Value>> = events
        .iter()
        .filter(|e| e["vpn_connection_id"] == json!("vpn-0fff0000aaaa11112"))
        .collect();
    assert_eq!(text.len(), 2);
    assert_eq!(text[0]["tunnel_outside_ip"], json!("2001:db8::1"));
    assert_eq!(text[0]["message_id"], json!("peer-delete-ike-sa"));
    assert_eq!(text[1]["message_id"], json!("phase2-failed-keeping-phase1"));
    assert_eq!(text[1]["event_time"], json!(1_718_000_060));

    // The BGP log is part of the tunnel's timeline, with its own state changes.
    let timeline = rows(&s, &answers::tunnels(Dialect::DataFusion));
    let changes: Vec<(Value, Value)> = timeline
        .iter()
        .filter(|r| r["tunnel_outside_ip"] == json!("203.0.113.10"))
        .map(|r| (r["log_kind"].clone(), r["change"].clone()))
        .collect();
    assert_eq!(
        changes,
        vec![
            (json!("tunnel"), Value::Null),
            (json!("tunnel"), json!("phase1 established -> down")),
            (json!("bgp"), Value::Null),
            (json!("tunnel"), Value::Null),
            (json!("bgp"), json!("bgp DOWN -> UP")),
            (json!("tunnel"), json!("phase1 down -> established")),
        ]
    );
    let bgp_down = &timeline[2];
    assert_eq!(bgp_down["bgp_status"], json!("DOWN"));
    assert_eq!(bgp_down["details"], json!("BGP session down"));
    let psk = &timeline[1];
    assert_eq!(psk["category"], json!("authentication"));
    assert!(psk["fix"].as_str().unwrap().contains("pre-shared key"));
    let summary = rows(&s, &answers::tunnel_summary(Dialect::DataFusion));
    let first = summary
        .iter()
        .find(|r| r["tunnel_outside_ip"] == json!("203.0.113.10"))
        .unwrap();
    assert_eq!(first["downs"], json!(1));
    assert_eq!(first["dpd_timeouts"], json!(1));
    assert_eq!(first["errors"], json!(2));
    assert_eq!(first["unclassified"], json!(1));
    assert_eq!(first["bgp_downs"], json!(1));
    assert_eq!(first["events"], json!(6));
}

#[test]
fn gaps_list_nodata_skipdata_and_silent_stretches_per_interface() {
    let mut flows = String::new();
    for minute in [0i64, 1, 2, 30, 31] {
        let start = 1_718_000_000 + minute * 60;
        flows.push_str(&format!(
            "2 1 eni-a 10.0.0.1 10.0.0.2 1 2 6 1 1 {start} {} ACCEPT OK\n",
            start + 60
        ));
    }
    flows.push_str("2 1 eni-b - - - - - - - 1718000000 1718000600 - SKIPDATA\n");
    flows.push_str("2 1 eni-b - - - - - - - 1718000600 1718001200 - NODATA\n");
    let s = session(&flows, "", &[]);
    let got = rows(&s, &answers::gaps(Dialect::DataFusion, 900));
    let kinds: Vec<(Value, Value, Value)> = got
        .iter()
        .map(|r| (r["interface_id"].clone(), r["kind"].clone(), r["seconds"].clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (json!("eni-a"), json!("MISSING"), json!(1620)),
            (json!("eni-b"), json!("SKIPDATA"), json!(600)),
            (json!("eni-b"), json!("NODATA"), json!(600)),
        ]
    );
    assert_eq!(got[0]["gap_start"], json!("2024-06-10T06:16:20"));
}

#[test]
fn strict_mode_fails_a_query_on_the_first_bad_line() {
    let sources = LogSources {
        flows: vec![memory("bad.log", "2 1 eni-a 10.0.0.1\n")],
        flow_options: netaudit_logs::FlowReadOptions {
            strict: true,
            ..Default::default()
        },
        ..LogSources::default()
    };
    let s = LogSession::new(sources, Issues::new()).unwrap();
    let error = s.query("SELECT count(*) FROM flows").unwrap_err().to_string();
    assert!(error.contains("bad.log:1"), "{error}");

    let lenient = LogSources {
        flows: vec![memory("bad.log", "2 1 eni-a 10.0.0.1\n")],
        ..LogSources::default()
    };
    let issues = Issues::new();
    let s = LogSession::new(lenient, issues.clone()).unwrap();
    let got = rows(&s, "SELECT count(*) AS n FROM flows");
    assert_eq!(got[0]["n"], json!(0));
    assert_eq!(issues.count(), 1);
}

#[test]
fn a_bad_line_read_by_several_queries_counts_once() {
    let sources = LogSources {
        flows: vec![memory("bad.log", "2 1 eni-a 10.0.0.1\n")],
        ..LogSources::default()
    };
    let issues = Issues::new();
    let s = LogSession::new(sources, issues.clone()).unwrap();
    for _ in 0..3 {
        rows(&s, "SELECT count(*) AS n FROM flows");
    }
    assert_eq!(issues.count(), 1);
    assert_eq!(issues.list().len(), 1);
}

#[test]
fn a_truncated_gzip_vpn_log_keeps_its_complete_lines() {
    use std::io::Write;
    let mut text = String::new();
    for _ in 0..200 {
        text.push_str(VPN);
    }
    let mut encoder = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    let compressed = encoder.finish().unwrap();
    let cut = compressed[..compressed.len() / 2].to_vec();
    let issues = Issues::new();
    let sources = LogSources {
        vpn: vec![Input::Memory {
            name: "vpn.log.gz".into(),
            bytes: cut.into(),
        }],
        ..LogSources::default()
    };
    let s = LogSession::new(sources, issues.clone()).unwrap();
    let n = rows(&s, "SELECT count(*) AS n FROM vpn_connections")[0]["n"]
        .as_i64()
        .unwrap();
    assert!(n > 0 && n < 1000, "{n} records");
    assert_eq!(issues.count(), 1, "{:?}", issues.list());
    assert!(issues.list()[0].message.contains("ends early"), "{:?}", issues.list());
}

#[test]
fn each_gap_row_is_one_continuous_stretch() {
    // eni-a: NODATA 06:00-06:10, traffic at 06:10 and 06:20, NODATA 06:30-06:50 (two windows that
    // touch), then SKIPDATA, then NODATA again after a silence.
    let mut flows = String::new();
    let base = 1_717_999_200;
    let nodata = |from: i64, to: i64| format!("2 1 eni-a - - - - - - - {} {} - NODATA\n", base + from, base + to);
    flows.push_str(&nodata(0, 600));
    for minute in [10, 20] {
        let start = base + minute * 60;
        flows.push_str(&format!(
            "2 1 eni-a 10.0.0.1 10.0.0.2 1 2 6 1 1 {start} {} ACCEPT OK\n",
            start + 60
        ));
    }
    flows.push_str(&nodata(1800, 2400));
    flows.push_str(&nodata(2400, 3000));
    flows.push_str(&format!(
        "2 1 eni-a - - - - - - - {} {} - SKIPDATA\n",
        base + 3000,
        base + 3600
    ));
    flows.push_str(&nodata(3600, 4200));
    flows.push_str(&nodata(6000, 6600));
    let s = session(&flows, "", &[]);
    let got = rows(&s, &answers::gaps(Dialect::DataFusion, 900));
    let stretches: Vec<(Value, Value, Value)> = got
        .iter()
        .map(|r| (r["kind"].clone(), r["seconds"].clone(), r["records"].clone()))
        .collect();
    assert_eq!(
        stretches,
        vec![
            (json!("NODATA"), json!(600), json!(1)),
            (json!("NODATA"), json!(1200), json!(2)),
            (json!("SKIPDATA"), json!(600), json!(1)),
            (json!("NODATA"), json!(600), json!(1)),
            (json!("MISSING"), json!(1800), json!(0)),
            (json!("NODATA"), json!(600), json!(1)),
        ]
    );
}

#[test]
fn generated_logs_have_no_gap_that_spans_traffic() {
    use netaudit_logs::generate::{generate, GenerateOptions};
    let mut out = vec![];
    generate(
        &GenerateOptions {
            records: 20_000,
            ..GenerateOptions::default()
        },
        &mut out,
    )
    .unwrap();
    let sources = LogSources {
        flows: vec![Input::Memory {
            name: "generated.log".into(),
            bytes: out.into(),
        }],
        ..LogSources::default()
    };
    let s = LogSession::new(sources, Issues::new()).unwrap();
    let gaps = answers::gaps(Dialect::DataFusion, 900);
    // The generator's NODATA windows are a minute each: a stretch is never longer than its
    // windows laid end to end.
    let too_long = rows(
        &s,
        &format!("WITH g AS ({gaps}) SELECT * FROM g WHERE kind = 'NODATA' AND seconds > 60 * records"),
    );
    assert!(too_long.is_empty(), "{too_long:?}");
    let longest = rows(
        &s,
        &format!("WITH g AS ({gaps}) SELECT max(seconds) AS longest, count(*) AS n FROM g WHERE kind = 'NODATA'"),
    );
    assert!(longest[0]["n"].as_i64().unwrap() > 0);
    assert!(
        longest[0]["longest"].as_i64().unwrap() < 3600,
        "idle windows between traffic, not a day per interface: {longest:?}"
    );
}

#[test]
fn a_query_that_needs_a_field_no_source_has_fails_naming_it() {
    let s = session(VECTORS, "", &[]);
    match s.query("SELECT vpc_id, count(*) FROM flows GROUP BY vpc_id") {
        Err(LogError::MissingColumn { column, field, formats }) => {
            assert_eq!((column.as_str(), field.as_str()), ("vpc_id", "vpc-id"));
            assert_eq!(formats.len(), 1);
            assert!(formats[0].starts_with("flows.log: version account-id"), "{formats:?}");
        }
        other => panic!("expected a missing column error, got {other:?}"),
    }
    let message = s.query("SELECT tcp_flags FROM flows").unwrap_err().to_string();
    assert!(message.contains("tcp-flags"), "{message}");
    // A column the sources do carry reads as usual, and `*` is exactly the sources' fields.
    let all = rows(&s, "SELECT * FROM flows LIMIT 1");
    assert_eq!(all[0].len(), 14);
}

#[test]
fn an_undocumented_header_field_is_a_text_column_noted_once() {
    let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end \
action log-status flow-label-x\n";
    let record = "5 1 eni-a 10.0.0.1 10.0.0.2 1 443 6 1 40 1718000000 1718000060 ACCEPT OK 0x1f\n";
    let sources = LogSources {
        flows: vec![
            memory("a.log", &format!("{header}{record}")),
            memory("b.log", &format!("{header}{record}")),
            memory(
                "cloudwatch/eni-a",
                "2 1 eni-a 10.0.0.1 10.0.0.2 1 443 6 1 40 1718000000 1718000060 ACCEPT OK\n",
            ),
        ],
        ..LogSources::default()
    };
    let issues = Issues::new();
    let s = LogSession::new(sources, issues.clone()).unwrap();
    assert_eq!(s.notes().len(), 1, "{:?}", s.notes());
    assert!(s.notes()[0].contains("flow-label-x"), "{:?}", s.notes());
    let got = rows(
        &s,
        "SELECT flow_label_x, count(*) AS n FROM flows GROUP BY flow_label_x ORDER BY flow_label_x NULLS LAST",
    );
    assert_eq!(column(&got, "flow_label_x"), vec![json!("0x1f"), Value::Null]);
    assert_eq!(column(&got, "n"), vec![json!(2), json!(1)]);
    assert_eq!(issues.count(), 0, "{:?}", issues.list());
}

#[test]
fn what_is_a_bad_line_does_not_depend_on_the_columns_a_query_reads() {
    let flows = "2 1 eni-a 10.0.0.1 10.0.0.2 1 443 6 1 40 1718000000 1718000060 ACCEPT OK\n\
                 2 1 eni-a 10.0.0.1 10.0.0.2 1 443 6 1 lots 1718000000 1718000060 ACCEPT OK\n\
                 2 1 eni-a 10.0.0.1 10.0.0.2 1 99999999999 6 1 40 1718000000 1718000060 ACCEPT OK\n\
                 2 1 eni-a 10.0.0.1 10.0.0.2 1 443 6 1 40 1718000000 1718000060 ACCEPT OK\n";
    for sql in [
        "SELECT count(*) AS n FROM flows",
        "SELECT count(srcaddr) AS n FROM flows",
        "SELECT count(dstport) AS n FROM flows",
        "SELECT count(*) AS n FROM flows WHERE dstport IS NULL OR dstport IS NOT NULL",
    ] {
        let issues = Issues::new();
        let sources = LogSources {
            flows: vec![memory("f.log", flows)],
            ..LogSources::default()
        };
        let s = LogSession::new(sources, issues.clone()).unwrap();
        assert_eq!(rows(&s, sql)[0]["n"], json!(2), "{sql}");
        let lines: Vec<Option<u64>> = issues.list().iter().map(|i| i.line).collect();
        assert_eq!(lines, vec![Some(2), Some(3)], "{sql}: {:?}", issues.list());
        assert!(issues.list()[1].message.contains("does not fit"), "{:?}", issues.list());
        let nulls = rows(&s, "SELECT count(*) AS n FROM flows WHERE dstport IS NULL");
        assert_eq!(nulls[0]["n"], json!(0), "a value too large is never a null");
    }
}

#[test]
fn a_failing_query_reports_the_first_bad_line_in_file_order() {
    let good = "2 1 eni-a 10.0.0.1 10.0.0.2 1 443 6 1 40 1718000000 1718000060 ACCEPT OK\n";
    // a.log goes wrong late, b.log at once: read in parallel, b.log would fail first.
    let mut a = good.repeat(20_000);
    a.push_str("2 1 eni-a 10.0.0.1\n");
    let b = format!("2 1 eni-b x\n{}", good.repeat(10));
    let sources = LogSources {
        flows: vec![memory("a.log", &a), memory("b.log", &b)],
        flow_options: netaudit_logs::FlowReadOptions {
            strict: true,
            ..Default::default()
        },
        ..LogSources::default()
    };
    let s = LogSession::new(sources, Issues::new()).unwrap();
    for _ in 0..3 {
        let error = s.query("SELECT count(*) FROM flows").unwrap_err().to_string();
        assert!(error.contains("a.log:20001"), "{error}");
    }
}

// Two endpoints hand out the same client CIDR: alice on endpoint 1 (VPC a) and dave on
// endpoint 2 (VPC b) both have 10.100.0.10 from 06:00 to 07:00.
const TWO_ENDPOINTS: &str = r#"{"connection-log-type":"connection-attempt","connection-attempt-status":"successful","connection-id":"cvpn-connection-a","client-vpn-endpoint-id":"cvpn-endpoint-01","connection-start-time":"2024-06-10 06:00:00","client-ip":"10.100.0.10","connection-end-time":"2024-06-10 07:00:00","username":"alice"}
{"connection-log-type":"connection-attempt","connection-attempt-status":"successful","connection-id":"cvpn-connection-d","client-vpn-endpoint-id":"cvpn-endpoint-02","connection-start-time":"2024-06-10 06:00:00","client-ip":"10.100.0.10","connection-end-time":"2024-06-10 07:00:00","username":"dave"}
"#;

fn two_endpoint_session(scopes: &[&str]) -> LogSession {
    let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end \
action log-status vpc-id\n";
    let flow = |vpc: &str, port: u16| {
        format!("3 1 eni-{vpc} 10.100.0.10 10.0.1.1 50000 {port} 6 1 100 1717999800 1717999860 ACCEPT OK vpc-0{vpc}\n")
    };
    let flows = format!("{header}{}{}", flow("a", 22), flow("b", 3389));
    let mut vpn_endpoints = vec![];
    for scope in scopes {
        vpn_endpoints.extend(EndpointScope::parse(scope).unwrap());
    }
    let sources = LogSources {
        flows: vec![memory("flows.log", &flows)],
        vpn: vec![memory("vpn.log", TWO_ENDPOINTS)],
        vpn_endpoints,
        ..LogSources::default()
    };
    LogSession::new(sources, Issues::new()).unwrap()
}

#[test]
fn attribute_joins_flows_to_sessions_endpoint_by_endpoint() {
    let attribute = |s: &LogSession, user: Option<&str>| {
        let optional = OptionalColumns::of(s.flow_columns());
        assert!(optional.vpc_id);
        rows(s, &answers::attribute(Dialect::DataFusion, user, optional))
    };
    let summary = |got: &[Map<String, Value>]| -> Vec<(String, i64, String)> {
        got.iter()
            .map(|r| {
                (
                    r["username"].as_str().unwrap().to_owned(),
                    r["dstport"].as_i64().unwrap(),
                    r["matched_by"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    // Without scopes nothing tells the two sessions apart: every row says so.
    let s = two_endpoint_session(&[]);
    let mut got = summary(&attribute(&s, None));
    got.sort();
    assert_eq!(
        got,
        vec![
            ("alice".into(), 22, "ambiguous".into()),
            ("alice".into(), 3389, "ambiguous".into()),
            ("dave".into(), 22, "ambiguous".into()),
            ("dave".into(), 3389, "ambiguous".into()),
        ]
    );
    // With each endpoint's VPC, each flow belongs to one session.
    let s = two_endpoint_session(&["cvpn-endpoint-01=vpc-0a", "cvpn-endpoint-02=vpc-0b"]);
    assert_eq!(
        summary(&attribute(&s, Some("alice"))),
        vec![("alice".into(), 22, "scoped".into())]
    );
    assert_eq!(
        summary(&attribute(&s, Some("dave"))),
        vec![("dave".into(), 3389, "scoped".into())]
    );
    // One endpoint scoped by interface: the flow it claims is its own, the other stays the
    // other endpoint's alone.
    let s = two_endpoint_session(&["cvpn-endpoint-01=eni-a"]);
    let mut got = summary(&attribute(&s, None));
    got.sort();
    assert_eq!(
        got,
        vec![
            ("alice".into(), 22, "scoped".into()),
            ("dave".into(), 3389, "unique".into())
        ]
    );
    assert_eq!(
        attribute(&s, Some("alice"))[0]["client_vpn_endpoint_id"],
        json!("cvpn-endpoint-01")
    );
    assert!(EndpointScope::parse("cvpn-endpoint-01=subnet-1").is_err());
    assert!(EndpointScope::parse("vpc-1=vpc-2").is_err());
}
