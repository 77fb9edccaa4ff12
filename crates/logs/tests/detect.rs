//! Detections find exactly the planted incidents in generated logs, and nothing in clean ones.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use netaudit_checks::Status;
use netaudit_logs::detect::{self, Detection, Thresholds};
use netaudit_logs::generate::{generate, GenerateOptions, GeneratedFormat, Incident};
use netaudit_logs::{Input, Issues, LogSession, LogSources};

fn session_over(flows: Vec<u8>, vpn: &str, tunnels: &str) -> LogSession {
    let sources = LogSources {
        flows: vec![Input::Memory {
            name: "generated.log".into(),
            bytes: flows.into(),
        }],
        vpn: vec![Input::Memory {
            name: "vpn.log".into(),
            bytes: vpn.as_bytes().to_vec().into(),
        }],
        tunnels: vec![Input::Memory {
            name: "vpn-0abc1234def567890-203.0.113.10".into(),
            bytes: tunnels.as_bytes().to_vec().into(),
        }],
        ..LogSources::default()
    };
    LogSession::new(sources, Issues::new()).unwrap()
}

fn generated(format: GeneratedFormat, incidents: Vec<Incident>) -> (Vec<u8>, Vec<netaudit_logs::generate::Planted>) {
    let options = GenerateOptions {
        format,
        incidents,
        records: 30_000,
        ..GenerateOptions::default()
    };
    let mut out = vec![];
    let planted = generate(&options, &mut out).unwrap();
    (out, planted)
}

#[test]
fn the_generator_is_deterministic() {
    let (a, _) = generated(GeneratedFormat::DefaultV2, Incident::ALL.to_vec());
    let (b, _) = generated(GeneratedFormat::DefaultV2, Incident::ALL.to_vec());
    assert_eq!(a, b);
    let (c, _) = generated(GeneratedFormat::CustomV5, vec![]);
    assert!(c.starts_with(b"version account-id interface-id"));
}

#[test]
fn clean_generated_logs_raise_nothing() {
    for format in [GeneratedFormat::DefaultV2, GeneratedFormat::CustomV5] {
        let (flows, planted) = generated(format, vec![]);
        assert!(planted.is_empty());
        let issues = Issues::new();
        let session = session_over(flows, "", "");
        let findings = detect::run(&session, &Detection::ALL, &Thresholds::default()).unwrap();
        assert!(findings.is_empty(), "{format:?}: {findings:#?}");
        assert_eq!(issues.count(), 0);
    }
}

#[test]
fn every_planted_incident_is_found_and_nothing_else() {
    for format in [GeneratedFormat::DefaultV2, GeneratedFormat::CustomV5] {
        let (flows, planted) = generated(format, Incident::ALL.to_vec());
        let session = session_over(flows, "", "");
        let findings = detect::run(&session, &Detection::ALL, &Thresholds::default()).unwrap();
        let mut got: Vec<(String, String)> = findings
            .iter()
            .map(|f| (f.control.clone(), f.resource_id.clone()))
            .collect();
        got.sort();
        let mut want: Vec<(String, String)> = planted
            .iter()
            .map(|p| (p.detection.id().to_owned(), p.subject.clone()))
            .collect();
        want.sort();
        assert_eq!(got, want, "{format:?}");
        for finding in &findings {
            assert_eq!(finding.status, Status::Fail);
            let records = finding.evidence["records"].as_array().unwrap();
            assert!(!records.is_empty(), "{} has evidence rows", finding.control);
            assert!(records.len() <= Thresholds::default().evidence_rows);
            assert!(records
                .iter()
                .all(|r| r["srcaddr"] == serde_json::json!(finding.resource_id)));
            assert_eq!(finding.account_id, "123456789012");
        }
        let scan = findings.iter().find(|f| f.control == Detection::PortScan.id()).unwrap();
        assert_eq!(scan.evidence["distinct_ports"], serde_json::json!(300));
        assert!(
            scan.reason
                .contains("203.0.113.66 probed 300 distinct ports of 10.0.1.12"),
            "{}",
            scan.reason
        );
    }
}

#[test]
fn a_port_scan_needs_syn_only_records_when_tcp_flags_are_present() {
    // 150 ports, each a completed session (SYN-ACK-FIN = 19): real traffic, not a SYN scan.
    let mut text = String::from("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status tcp-flags\n");
    for port in 0..150 {
        text.push_str(&format!(
            "3 1 eni-1 203.0.113.5 10.0.0.9 5000 {} 6 3 300 1718000000 1718000060 ACCEPT OK 19\n",
            1000 + port
        ));
    }
    let session = session_over(text.clone().into_bytes(), "", "");
    let findings = detect::run(&session, &[Detection::PortScan], &Thresholds::default()).unwrap();
    assert!(findings.is_empty(), "{findings:#?}");
    // The same with SYN only is a scan.
    let syn = text.replace(" OK 19\n", " OK 2\n");
    let session = session_over(syn.into_bytes(), "", "");
    let findings = detect::run(&session, &[Detection::PortScan], &Thresholds::default()).unwrap();
    assert_eq!(findings.len(), 1);
}

#[test]
fn thresholds_are_configurable_and_checked() {
    let mut t = Thresholds::default();
    t.set("port_scan_ports=5").unwrap();
    assert_eq!(t.port_scan_ports, 5);
    t.set("exfil_factor=2.5").unwrap();
    assert!((t.exfil_factor - 2.5).abs() < f64::EPSILON);
    assert!(t.set("no_such=1").is_err());
    assert!(t.set("port_scan_ports=many").is_err());
    assert!(t.set("port_scan_ports").is_err());
}

#[test]
fn vpn_brute_force_and_tunnel_flapping() {
    let mut vpn = String::new();
    for i in 0..12 {
        vpn.push_str(&format!(
            "{{\"connection-log-type\":\"connection-attempt\",\"connection-attempt-status\":\"failed\",\
             \"connection-attempt-failure-reason\":\"authentication-failed\",\"connection-id\":\"cvpn-connection-{i}\",\
             \"client-vpn-endpoint-id\":\"cvpn-endpoint-1\",\"connection-start-time\":\"2024-06-10 06:{i:02}:00\",\
             \"device-ip\":\"192.0.2.99\",\"username\":\"user{i}\",\"connection-end-time\":\"NA\"}}\n"
        ));
    }
    // Another device with fewer failures than the threshold.
    vpn.push_str(
        "{\"connection-log-type\":\"connection-attempt\",\"connection-attempt-status\":\"failed\",\
         \"connection-id\":\"cvpn-connection-x\",\"connection-start-time\":\"2024-06-10 06:00:00\",\"device-ip\":\"192.0.2.1\"}\n",
    );
    let mut tunnel = String::new();
    for i in 0..4 {
        let t = 1_718_000_000 + i * 300;
        tunnel.push_str(&format!(
            "{{\"event_timestamp\":{t},\"details\":\"AWS tunnel DPD timed out after 3 retransmits\",\"ike_phase1_state\":\"down\",\"ike_phase2_state\":\"down\"}}\n\
             {{\"event_timestamp\":{},\"details\":\"AWS tunnel processed request (id=1) for CREATE_CHILD_SA\",\"ike_phase1_state\":\"established\",\"ike_phase2_state\":\"established\"}}\n",
            t + 60
        ));
    }
    let session = session_over(vec![], &vpn, &tunnel);
    let findings = detect::run(
        &session,
        &[Detection::VpnBruteForce, Detection::TunnelFlapping],
        &Thresholds::default(),
    )
    .unwrap();
    let got: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f.control.as_str(), f.resource_id.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("NETAUDIT.LOGS.VPNBRUTEFORCE", "192.0.2.99"),
            ("NETAUDIT.LOGS.TUNNELFLAP", "vpn-0abc1234def567890 203.0.113.10"),
        ]
    );
    assert_eq!(findings[0].evidence["failed_attempts"], serde_json::json!(12));
    assert_eq!(findings[0].evidence["records"].as_array().unwrap().len(), 12);
    assert_eq!(findings[1].evidence["dpd_timeouts"], serde_json::json!(4));
}

#[test]
fn business_hours_may_wrap_midnight() {
    // 300 MB to the internet at 03:00 and at 12:00 UTC.
    let day = 1_717_977_600;
    let flow = |hour: i64| {
        let start = day + hour * 3600;
        format!(
            "2 123456789012 eni-1 10.0.1.5 198.51.100.9 50000 443 6 1000 300000000 {start} {} ACCEPT OK\n",
            start + 60
        )
    };
    let session = session_over(format!("{}{}", flow(3), flow(12)).into_bytes(), "", "");
    let flagged = |open: i64, close: i64| -> Vec<i64> {
        let mut t = Thresholds::default();
        t.set(&format!("business_start_hour={open}")).unwrap();
        t.set(&format!("business_end_hour={close}")).unwrap();
        detect::run(&session, &[Detection::OffHoursEgress], &t)
            .unwrap()
            .iter()
            .map(|f| (f.evidence["window_start"].as_i64().unwrap() - day) / 3600)
            .collect()
    };
    assert_eq!(flagged(7, 20), vec![3], "a day shift: 03:00 is off hours");
    assert_eq!(
        flagged(22, 6),
        vec![12],
        "a night shift, 22:00 to 06:00: noon is off hours"
    );
    let mut t = Thresholds::default();
    assert!(t.set("business_end_hour=25").is_err());
    assert!(t.set("port_scan_window=0").is_err());
}
