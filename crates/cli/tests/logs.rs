//! `netaudit logs …` through the binary, on the bundled sample logs in `examples/logs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use assert_cmd::Command;
use binary::run;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn examples() -> PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../examples/logs")
}

fn logs(args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("netaudit").expect("the netaudit binary is built");
    cmd.current_dir(examples()).arg("logs").args(args);
    cmd
}

fn ok(args: &[&str]) -> String {
    let (stdout, stderr, code) = run(&mut logs(args));
    assert_eq!(code, 0, "{args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stderr, "", "{args:?}");
    stdout
}

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_str(&ok(&all)).expect("JSON output")
}

#[test]
fn talked_to_on_the_sample_flows() {
    insta::assert_snapshot!("logs_talked_to", ok(&["talked-to", "10.0.2.40", "--flows", "flows"]));
    let peers = json(&["talked-to", "10.0.1.25", "--flows", "flows"]);
    let scanner = peers
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["peer"] == "203.0.113.66")
        .expect("the scanner is a peer");
    assert_eq!(scanner["rejected"], 120);
    assert_eq!(scanner["direction"], "inbound");
    assert_eq!(scanner["dst_ports"].as_array().unwrap().len(), 120);
    let (_, stderr, code) = run(&mut logs(&["talked-to", "not-an-ip", "--flows", "flows"]));
    assert_eq!(code, 64);
    assert!(stderr.contains("is not an IP address"), "{stderr}");
}

#[test]
fn top_talkers_and_rejects() {
    insta::assert_snapshot!(
        "logs_top_talkers",
        ok(&["top-talkers", "--limit", "3", "--flows", "flows"])
    );
    insta::assert_snapshot!("logs_rejects", ok(&["rejects", "--flows", "flows"]));
    let csv = ok(&["rejects", "--flows", "flows", "--format", "csv"]);
    assert!(csv.starts_with("srcaddr,rejected_records,distinct_dst_ports,"), "{csv}");
    assert!(csv.contains("\n203.0.113.66,120,120,1,120,"), "{csv}");
}

#[test]
fn vpn_who_sessions_and_failures() {
    insta::assert_snapshot!(
        "logs_vpn_who",
        ok(&["vpn", "who", "--at", "2024-06-10 06:40", "--vpn", "vpn"])
    );
    let at_end = json(&["vpn", "who", "--at", "2024-06-10T07:05:00Z", "--vpn", "vpn"]);
    let users: Vec<&str> = at_end
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["username"].as_str().unwrap())
        .collect();
    assert_eq!(users, vec!["bob"], "alice's session ends at 07:05:00, exclusive");
    let alice = json(&["vpn", "sessions", "--user", "alice", "--vpn", "vpn"]);
    assert_eq!(alice.as_array().unwrap().len(), 1);
    assert_eq!(alice[0]["session_end"], "2024-06-10T07:05:00");
    insta::assert_snapshot!("logs_vpn_failures", ok(&["vpn", "failures", "--vpn", "vpn"]));
}

#[test]
fn attribute_ties_alice_s_flows_to_her_session() {
    let rows = json(&["attribute", "--user", "alice", "--flows", "flows", "--vpn", "vpn"]);
    let rows = rows.as_array().unwrap();
    let ports: std::collections::BTreeSet<i64> = rows.iter().map(|r| r["dstport"].as_i64().unwrap()).collect();
    assert_eq!(ports, [22, 443].into_iter().collect());
    assert!(rows
        .iter()
        .all(|r| r["username"] == "alice" && r["client_ip"] == "10.100.0.10"));
    insta::assert_snapshot!("logs_attribute", ok(&["attribute", "--flows", "flows", "--vpn", "vpn"]));
}

#[test]
fn tunnels_timeline_and_summary() {
    insta::assert_snapshot!(
        "logs_tunnels_summary",
        ok(&["tunnels", "--summary", "--tunnels", "tunnels"])
    );
    let timeline = json(&["tunnels", "--tunnels", "tunnels"]);
    let timeline = timeline.as_array().unwrap();
    // Every event `logs sql` sees in tunnel_events, the BGP log's included.
    assert_eq!(timeline.len(), 19);
    let bgp: Vec<&serde_json::Value> = timeline.iter().filter(|e| e["log_kind"] == "bgp").collect();
    assert_eq!(bgp.len(), 1, "{timeline:?}");
    assert_eq!(bgp[0]["details"], "BGP session down: hold timer expired");
    assert_eq!(bgp[0]["bgp_status"], "DOWN");
    assert_eq!(bgp[0]["tunnel_outside_ip"], "203.0.113.10");
    let psk = timeline
        .iter()
        .find(|e| {
            e["details"]
                .as_str()
                .unwrap_or_default()
                .contains("pre-shared key mismatch")
        })
        .unwrap();
    assert_eq!(psk["category"], "authentication");
    assert_eq!(psk["change"], "phase1 established -> down");
    assert!(psk["explanation"].as_str().unwrap().contains("Pre-Shared key"));
    assert!(
        timeline
            .iter()
            .filter(|e| e["log_kind"] == "tunnel")
            .all(|e| !e["category"].is_null()),
        "every sample tunnel message is in the catalogue"
    );
}

#[test]
fn gaps_show_the_holes_of_the_idle_interface() {
    insta::assert_snapshot!("logs_gaps", ok(&["gaps", "--flows", "flows"]));
    // eni-0b1b… has traffic between its idle windows: no row spans it.
    let rows = json(&["gaps", "--flows", "flows"]);
    let flows = json(&[
        "sql",
        "SELECT interface_id, start FROM flows WHERE log_status = 'OK'",
        "--flows",
        "flows",
    ]);
    let epoch = |t: &serde_json::Value| {
        let text = format!("{}Z", t.as_str().unwrap());
        chrono_free_epoch(&text)
    };
    for gap in rows.as_array().unwrap().iter().filter(|g| g["kind"] != "MISSING") {
        let (from, to) = (epoch(&gap["gap_start"]), epoch(&gap["gap_end"]));
        let inside: Vec<&serde_json::Value> = flows
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["interface_id"] == gap["interface_id"])
            .filter(|f| (from + 1..to).contains(&f["start"].as_i64().unwrap()))
            .collect();
        assert!(inside.is_empty(), "{gap} spans traffic: {inside:?}");
    }
}

/// `2024-06-10T06:00:00Z` as epoch seconds (the samples are all on 2024-06-10).
fn chrono_free_epoch(text: &str) -> i64 {
    assert!(text.starts_with("2024-06-10T"), "{text}");
    let hms: Vec<i64> = text[11..19].split(':').map(|p| p.parse().unwrap()).collect();
    1_717_977_600 + hms[0] * 3600 + hms[1] * 60 + hms[2]
}

#[test]
fn sql_over_every_table_and_the_ip_helpers() {
    let out = ok(&[
        "sql",
        "SELECT (SELECT count(*) FROM flows) AS flows, (SELECT count(*) FROM vpn_connections) AS vpn, \
         (SELECT count(*) FROM tunnel_events) AS tunnel, \
         (SELECT count(*) FROM flows WHERE cidr_contains('10.100.0.0/16', srcaddr)) AS from_vpn, \
         (SELECT count(*) FROM flows WHERE is_private(srcaddr) AND NOT is_private(dstaddr)) AS egress",
        "--flows",
        "flows",
        "--flows",
        "cloudwatch",
        "--vpn",
        "vpn",
        "--tunnels",
        "tunnels",
        "--format",
        "csv",
    ]);
    assert_eq!(out, "flows,vpn,tunnel,from_vpn,egress\n320,15,19,10,46\n");
    let (_, stderr, code) = run(&mut logs(&["sql", "SELECT nope FROM flows", "--flows", "flows"]));
    assert_eq!(code, 64);
    assert!(stderr.contains("nope"), "{stderr}");
}

#[test]
fn since_and_until_prune_the_tree_and_the_records() {
    let none = json(&["top-talkers", "--flows", "flows", "--since", "2024-06-11"]);
    assert_eq!(none, serde_json::json!([]));
    let early = json(&[
        "sql",
        "SELECT count(*) AS n, max(start) AS last FROM flows",
        "--flows",
        "flows",
        "--until",
        "2024-06-10T06:30:00Z",
    ]);
    assert!(early[0]["last"].as_i64().unwrap() < 1_718_001_000);
    assert!(early[0]["n"].as_i64().unwrap() > 0);
}

#[test]
fn detect_on_the_samples_reports_findings_with_evidence() {
    let (stdout, stderr, code) = run(&mut logs(&[
        "detect",
        "--flows",
        "flows",
        "--vpn",
        "vpn",
        "--tunnels",
        "tunnels",
    ]));
    assert_eq!(code, 1, "findings exit 1\n{stdout}\n{stderr}");
    insta::assert_snapshot!("logs_detect", stdout);
    let (stdout, _, _) = run(&mut logs(&[
        "detect",
        "--flows",
        "flows",
        "--vpn",
        "vpn",
        "--tunnels",
        "tunnels",
        "--format",
        "json",
    ]));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // The scan report's document, valid against its schema.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default())
                .join("../../schemas/scan-report.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // Most severe first.
    assert_eq!(report["controls"][0]["severity"], "high");
    let found: Vec<(&str, &str)> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["control"].as_str().unwrap(), f["resource_id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        vec![
            ("NETAUDIT.LOGS.PORTSCAN", "203.0.113.66"),
            ("NETAUDIT.LOGS.BRUTEFORCE", "203.0.113.50"),
            ("NETAUDIT.LOGS.EXFIL", "10.0.1.30"),
            ("NETAUDIT.LOGS.VPNBRUTEFORCE", "192.0.2.99"),
            ("NETAUDIT.LOGS.TUNNELFLAP", "vpn-0a1b2c3d4e5f67890 203.0.113.10"),
        ]
    );
    assert_eq!(
        report["results"][0]["evidence"]["records"].as_array().unwrap().len(),
        20
    );
    // Thresholds are configurable: a higher port-scan bar drops that finding.
    let (stdout, _, _) = run(&mut logs(&[
        "detect",
        "--flows",
        "flows",
        "--only",
        "NETAUDIT.LOGS.PORTSCAN",
        "--set",
        "port_scan_ports=121",
        "--format",
        "json",
    ]));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["results"], serde_json::json!([]));
    let (_, stderr, code) = run(&mut logs(&["detect", "--set", "port_scan_ports=lots"]));
    assert_eq!(code, 64);
    assert!(stderr.contains("port_scan_ports"), "{stderr}");
}

#[test]
fn generated_logs_with_planted_incidents_are_found_by_detect() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("generated.log.gz");
    let (_, stderr, code) = run(&mut logs(&[
        "generate",
        "--records",
        "5000",
        "--layout",
        "v5",
        "--incident",
        "all",
        "--gzip",
        "-o",
        file.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.contains("planted")).count(), 5);
    let (stdout, _, code) = run(&mut logs(&[
        "detect",
        "--flows",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["totals"]["FAIL"], 5, "{stdout}");
}

#[test]
fn generate_writes_exactly_the_records_asked_for_to_a_file_or_standard_output() {
    for (extra, header) in [(&[][..], 0), (&["--layout", "v5", "--incident", "all"][..], 1)] {
        let (stdout, stderr, code) = run(&mut logs(
            &[&["generate", "--records", "1200", "-o", "-"][..], extra].concat(),
        ));
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout.lines().count(), 1200 + header, "{extra:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("flows.log");
    let (stdout, stderr, code) = run(&mut logs(&[
        "generate",
        "--records",
        "700",
        "-o",
        file.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 700);
    // Fewer than the backup traffic and the incidents need: refused, with the minimum.
    let (stdout, stderr, code) = run(&mut logs(&[
        "generate",
        "--records",
        "10",
        "--incident",
        "all",
        "-o",
        "-",
    ]));
    assert_eq!(code, 64);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("--records 10") && stderr.contains("at least"),
        "{stderr}"
    );
}

#[test]
fn generate_writes_an_s3_layout_tree_that_answers_like_the_single_file() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("bucket");
    let file = dir.path().join("flows.log");
    let common = [
        "generate",
        "--records",
        "6000",
        "--hours",
        "3",
        "--layout",
        "v5",
        "--incident",
        "all",
    ];
    let (_, stderr, code) = run(&mut logs(
        &[
            &common[..],
            &[
                "--s3-layout",
                "--files-per-hour",
                "2",
                "--gzip",
                "-o",
                tree.to_str().unwrap(),
            ],
        ]
        .concat(),
    ));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("wrote 6 files"), "{stderr}");
    let (_, stderr, code) = run(&mut logs(&[&common[..], &["-o", file.to_str().unwrap()]].concat()));
    assert_eq!(code, 0, "{stderr}");
    let day = tree.join("AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/10");
    let mut names: Vec<String> = std::fs::read_dir(&day)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 6, "{names:?}");
    assert_eq!(
        names[0],
        "123456789012_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f67890_20240610T0000Z_00000000.log.gz"
    );
    // Every file has the header; the records are the single file's, in another order.
    for question in [
        &["top-talkers", "--limit", "25"][..],
        &["rejects"][..],
        &["sql", "SELECT count(*) AS n, sum(bytes) AS b FROM flows"][..],
    ] {
        let from_tree = ok(&[question, &["--flows", tree.to_str().unwrap()][..]].concat());
        let from_file = ok(&[question, &["--flows", file.to_str().unwrap()][..]].concat());
        assert_eq!(from_tree, from_file, "{question:?}");
    }
    // The hour folders' files prune by time like AWS's.
    let second_hour = ok(&[
        "sql",
        "SELECT count(*) AS n FROM flows",
        "--flows",
        tree.to_str().unwrap(),
        "--since",
        "2024-06-10 01:00",
        "--until",
        "2024-06-10 02:00",
    ]);
    assert!(!second_hour.contains(" 6000 "), "{second_hour}");
    let (_, stderr, code) = run(&mut logs(&["generate", "--s3-layout", "-o", "-"]));
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("--s3-layout writes a folder"), "{stderr}");
}

#[test]
fn format_is_refused_where_a_command_writes_one_kind_of_output() {
    for (args, refused) in [
        (
            &["generate", "--records", "500", "-o", "-", "--format", "json"][..],
            true,
        ),
        (
            &[
                "athena",
                "--location",
                "s3://b/p",
                "--account",
                "111111111111",
                "--log-region",
                "us-east-1",
                "--format",
                "csv",
            ][..],
            true,
        ),
        (&["thresholds", "--format", "table"][..], true),
        (&["thresholds", "--format", "json"][..], false),
        (&["catalogue", "--format", "csv"][..], true),
        (&["catalogue", "--format", "json"][..], false),
    ] {
        let (stdout, stderr, code) = run(&mut logs(args));
        if refused {
            assert_eq!(code, 64, "{args:?}: {stderr}");
            assert!(stdout.is_empty() && stderr.contains("--format"), "{args:?}: {stderr}");
        } else {
            assert_eq!(code, 0, "{args:?}: {stderr}");
            serde_json::from_str::<serde_json::Value>(&stdout).unwrap();
        }
    }
}

#[test]
fn bad_lines_are_reported_with_file_and_line_and_strict_makes_them_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.log");
    std::fs::write(
        &file,
        b"2 1 eni-1 10.0.0.1 10.0.0.2 1 443 6 1 40 1718000000 1718000060 ACCEPT OK\n\
          2 1 eni-1 10.0.0.1 10.0.0.2 1 443 6 1 40 1718000000 ACCEPT OK\n\
          2 1 eni-1 10.0.0.\xff 10.0.0.2 1 443 6 1 40 1718000000 1718000060 ACCEPT OK\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let (stdout, stderr, code) = run(&mut logs(&["sql", "SELECT count(*) AS n FROM flows", "--flows", path]));
    assert_eq!(code, 2, "incomplete\n{stderr}");
    assert!(stdout.contains("1"), "{stdout}");
    assert!(
        stderr.contains(&format!("{path}:2: 13 fields where the format has 14")),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{path}:3: the line is not UTF-8")), "{stderr}");
    let (_, stderr, code) = run(&mut logs(&[
        "sql",
        "SELECT count(*) FROM flows",
        "--flows",
        path,
        "--strict",
    ]));
    assert_eq!(code, 64);
    assert!(stderr.contains(&format!("{path}:2")), "{stderr}");
}

#[test]
fn a_log_format_reads_headerless_custom_records() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("custom.log");
    std::fs::write(&file, "10.0.0.1 10.0.0.2 2 REJECT\n10.0.0.1 10.0.0.3 2 REJECT\n").unwrap();
    let rows = json(&[
        "sql",
        "SELECT srcaddr, count(DISTINCT dstaddr) AS hosts, sum(CASE WHEN tcp_flags = 2 THEN 1 ELSE 0 END) AS syn \
         FROM flows WHERE action = 'REJECT' GROUP BY srcaddr",
        "--flows",
        file.to_str().unwrap(),
        "--log-format",
        "${srcaddr} ${dstaddr} ${tcp-flags} ${action}",
    ]);
    assert_eq!(rows[0]["hosts"], 2);
    assert_eq!(rows[0]["syn"], 2);
    // `rejects` also needs ports and times, which this format does not carry: it says so.
    let (stdout, stderr, code) = run(&mut logs(&[
        "rejects",
        "--flows",
        file.to_str().unwrap(),
        "--log-format",
        "${srcaddr} ${dstaddr} ${tcp-flags} ${action}",
    ]));
    assert_eq!((code, stdout.as_str()), (64, ""), "{stderr}");
    assert!(stderr.contains("no flow log source has the field dstport"), "{stderr}");
    let (_, stderr, code) = run(&mut logs(&["rejects", "--flows", "x", "--log-format", "srcaddr"]));
    assert_eq!(code, 64);
    assert!(stderr.contains("--log-format"), "{stderr}");
}

#[test]
fn a_misspelt_log_format_field_is_a_usage_error_naming_it() {
    let (stdout, stderr, code) = run(&mut logs(&[
        "rejects",
        "--flows",
        "cloudwatch",
        "--log-format",
        "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} \
         ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${tcpflags}",
    ]));
    assert_eq!((code, stdout.as_str()), (64, ""));
    assert!(stderr.contains("${tcpflags} is not a flow log field"), "{stderr}");
    assert!(stderr.contains("did you mean ${tcp-flags}"), "{stderr}");
}

#[test]
fn a_field_aws_added_later_is_kept_and_noted_once() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.log", "b.log"] {
        std::fs::write(
            dir.path().join(name),
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action \
             log-status flow-label-x\n\
             5 1 eni-1 10.0.0.1 10.0.0.2 1 443 6 1 40 1718000000 1718000060 ACCEPT OK 0x1f\n",
        )
        .unwrap();
    }
    let (stdout, stderr, code) = run(&mut logs(&[
        "sql",
        "SELECT flow_label_x, count(*) AS n FROM flows GROUP BY flow_label_x",
        "--flows",
        dir.path().to_str().unwrap(),
        "--format",
        "csv",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "flow_label_x,n\n0x1f,2\n");
    assert_eq!(stderr.matches("note:").count(), 1, "{stderr}");
    assert!(
        stderr.contains("\"flow-label-x\" is not a documented flow log field"),
        "{stderr}"
    );
}

#[test]
fn a_command_without_its_logs_is_a_usage_error_naming_them() {
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["talked-to", "10.0.1.25"], "--flows"),
        (&["top-talkers"], "--flows"),
        (&["rejects"], "--flows"),
        (&["gaps"], "--flows"),
        (&["vpn", "failures"], "--vpn"),
        (&["vpn", "who", "--at", "2024-06-10 06:40"], "--vpn"),
        (&["attribute", "--flows", "flows"], "--vpn"),
        (&["attribute", "--vpn", "vpn"], "--flows"),
        (&["tunnels"], "--tunnels"),
        (&["detect"], "--flows"),
        (
            &["detect", "--flows", "flows", "--only", "NETAUDIT.LOGS.TUNNELFLAP"],
            "--tunnels",
        ),
        (&["sql", "SELECT count(*) FROM flows"], "--flows"),
        (&["sql", "SELECT count(*) FROM tunnel_events"], "--tunnels"),
        (&["top-talkers", "--flows", empty], empty),
        (&["vpn", "failures", "--vpn", empty], empty),
    ];
    for (args, missing) in cases {
        let (stdout, stderr, code) = run(&mut logs(args));
        assert_eq!((code, stdout.as_str()), (64, ""), "{args:?}: {stderr}");
        assert!(stderr.contains(missing), "{args:?}: {stderr}");
    }
    // A query that reads no log needs none, and a time range that leaves nothing is an answer.
    assert_eq!(ok(&["sql", "SELECT 1 AS one", "--format", "csv"]), "one\n1\n");
    let none = json(&["top-talkers", "--flows", "flows", "--since", "2024-06-11"]);
    assert_eq!(none, serde_json::json!([]));
}

/// Where `logs athena` finds flow logs in the tests.
const FLOW_LOGS_BUCKET: [&str; 6] = [
    "--location",
    "s3://flow-logs-bucket/prefix",
    "--account",
    "123456789012",
    "--log-region",
    "us-east-1",
];

#[test]
fn athena_prints_the_table_and_the_queries() {
    let mut args = vec!["athena"];
    args.extend(FLOW_LOGS_BUCKET);
    let out = ok(&[&args[..], &["--hive"]].concat());
    assert!(
        out.starts_with("-- table\nCREATE EXTERNAL TABLE IF NOT EXISTS flows ("),
        "{out}"
    );
    assert!(out.contains("aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=${year}"));
    // The table, three questions and five flow detections: nothing over a table it does not create.
    assert_eq!(out.matches(";\n").count(), 9, "{out}");
    assert!(out.contains("-- detect NETAUDIT.LOGS.PORTSCAN"));
    assert!(
        !out.contains("FROM vpn_connections") && !out.contains("FROM tunnel_events"),
        "{out}"
    );
    assert!(!out.contains("tcp_flags"), "the default format has no tcp-flags\n{out}");
    assert!(out.contains("-- not here: detect NETAUDIT.LOGS.VPNBRUTEFORCE"), "{out}");
    for (flag, value) in [
        ("--location", "/tmp"),
        ("--account", "1"),
        ("--account", "12345678901x"),
        ("--log-region", "x"),
        ("--log-region", "us-east-1' OR '1"),
    ] {
        let mut args = vec![
            "athena",
            "--location",
            "s3://b/p",
            "--account",
            "123456789012",
            "--log-region",
            "us-east-1",
        ];
        let at = args.iter().position(|a| *a == flag).unwrap();
        args[at + 1] = value;
        let (stdout, stderr, code) = run(&mut logs(&args));
        assert_eq!((code, stdout.as_str()), (64, ""), "{flag} {value}");
        assert!(stderr.contains(flag), "{stderr}");
    }
}

#[test]
fn the_catalogue_lists_every_message() {
    let out = ok(&["catalogue"]);
    assert_eq!(
        out.matches("\n  fix:").count(),
        netaudit_logs::catalogue::CATALOGUE.len()
    );
}

// --- AWS sources, against the moto emulator ----------------------------------------------------

/// A moto server of this test's own, stopped when dropped.
struct Moto {
    child: std::process::Child,
    port: u16,
}

impl Moto {
    fn start() -> Moto {
        let bin = std::env::var("NETAUDIT_MOTO_SERVER").expect(
            "NETAUDIT_MOTO_SERVER is not set: run the tests with `bash scripts/test.sh`, which installs the pinned moto server",
        );
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if moto.request("GET", "/moto-api/", &[], b"").is_some() {
                return moto;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("moto did not start on port {port}");
    }

    /// One HTTP/1.0 request; the status code.
    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Option<u16> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        let mut head = format!(
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).ok()?;
        stream.write_all(body).ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.split_whitespace().nth(1)?.parse().ok()
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn logs_call(&self, target: &str, body: serde_json::Value) {
        let auth =
            "AWS4-HMAC-SHA256 Credential=testing/20240610/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=0";
        let status = self.request(
            "POST",
            "/",
            &[
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", &format!("Logs_20140328.{target}")),
                ("Authorization", auth),
            ],
            body.to_string().as_bytes(),
        );
        assert_eq!(status, Some(200), "{target}");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn with_moto(cmd: &mut Command, moto: &Moto) {
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .args(["--endpoint-url", &moto.url()]);
}

#[test]
fn flows_from_s3_and_tunnel_logs_from_cloudwatch_logs() {
    let moto = Moto::start();
    let s3_auth =
        "AWS4-HMAC-SHA256 Credential=testing/20240610/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0";
    assert_eq!(
        moto.request("PUT", "/archive", &[("Authorization", s3_auth)], b""),
        Some(200)
    );
    let sample = examples().join("flows/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/10");
    for entry in std::fs::read_dir(&sample).unwrap() {
        let path = entry.unwrap().path();
        let key = format!(
            "/archive/logs/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/10/{}",
            path.file_name().unwrap().to_str().unwrap()
        );
        let body = std::fs::read(&path).unwrap();
        assert_eq!(
            moto.request("PUT", &key, &[("Authorization", s3_auth)], &body),
            Some(200)
        );
    }
    let mut cmd = logs(&["rejects", "--flows", "s3://archive/logs/", "--format", "csv"]);
    with_moto(&mut cmd, &moto);
    let (stdout, stderr, code) = run(&mut cmd);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\n203.0.113.66,120,120,1,120,"), "{stdout}");
    // Pruned by the date folders in the keys: nothing on the 11th.
    let mut cmd = logs(&[
        "top-talkers",
        "--flows",
        "s3://archive/logs/",
        "--since",
        "2024-06-11",
        "--format",
        "json",
    ]);
    with_moto(&mut cmd, &moto);
    let (stdout, stderr, code) = run(&mut cmd);
    assert_eq!((stdout.trim(), code), ("[]", 0), "{stderr}");

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let group = "/aws/vendedlogs/vpn";
    let stream = "vpn-0a1b2c3d4e5f67890-203.0.113.10";
    moto.logs_call("CreateLogGroup", serde_json::json!({ "logGroupName": group }));
    moto.logs_call(
        "CreateLogStream",
        serde_json::json!({ "logGroupName": group, "logStreamName": stream }),
    );
    let events: Vec<serde_json::Value> = (0..3)
        .map(|i| {
            serde_json::json!({
                "timestamp": now - 60_000 + i,
                "message": serde_json::json!({
                    "event_timestamp": (now - 60_000 + i) / 1000,
                    "details": "AWS tunnel DPD timed out after 3 retransmits",
                    "ike_phase1_state": if i == 1 { "established" } else { "down" },
                    "ike_phase2_state": "down",
                }).to_string(),
            })
        })
        .collect();
    moto.logs_call(
        "PutLogEvents",
        serde_json::json!({ "logGroupName": group, "logStreamName": stream, "logEvents": events }),
    );
    let mut cmd = logs(&[
        "tunnels",
        "--summary",
        "--tunnels",
        &format!("cloudwatch:{group}"),
        "--format",
        "json",
    ]);
    with_moto(&mut cmd, &moto);
    let (stdout, stderr, code) = run(&mut cmd);
    assert_eq!(code, 0, "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary[0]["vpn_connection_id"], "vpn-0a1b2c3d4e5f67890");
    assert_eq!(summary[0]["tunnel_outside_ip"], "203.0.113.10");
    assert_eq!(summary[0]["dpd_timeouts"], 3);
    assert_eq!(summary[0]["downs"], 1);

    // Flow records reach CloudWatch Logs after their capture window: an event's time is not the
    // record's. One record delivered 40 minutes late, one whose event time is its window's start.
    let now_s = now / 1000;
    let group = "/aws/vpc/flow-logs";
    let stream = "eni-0a1b2c3d4e5f67890";
    moto.logs_call("CreateLogGroup", serde_json::json!({ "logGroupName": group }));
    moto.logs_call(
        "CreateLogStream",
        serde_json::json!({ "logGroupName": group, "logStreamName": stream }),
    );
    let late_start = now_s - 3000;
    let early_start = now_s - 2400;
    let record = |start: i64, port: u16| {
        format!(
            "2 123456789012 {stream} 10.0.1.5 10.0.2.9 50000 {port} 6 1 100 {start} {} ACCEPT OK",
            start + 600
        )
    };
    let events = serde_json::json!([
        { "timestamp": early_start * 1000, "message": record(early_start, 443) },
        { "timestamp": (late_start + 2400) * 1000, "message": record(late_start, 22) },
    ]);
    moto.logs_call(
        "PutLogEvents",
        serde_json::json!({ "logGroupName": group, "logStreamName": stream, "logEvents": events }),
    );
    let count = |since: i64, until: i64| {
        let mut cmd = logs(&[
            "sql",
            "SELECT dstport FROM flows ORDER BY dstport",
            "--flows",
            &format!("cloudwatch:{group}"),
            "--since",
            &since.to_string(),
            "--until",
            &until.to_string(),
            "--format",
            "csv",
        ]);
        with_moto(&mut cmd, &moto);
        let (stdout, stderr, code) = run(&mut cmd);
        assert_eq!(code, 0, "{stderr}");
        stdout
    };
    // The late record started before `until`; its event came after it.
    assert_eq!(count(late_start - 60, late_start + 60), "dstport\n22\n");
    // The early record ends after `since`; its event time is before it.
    assert_eq!(count(early_start + 300, early_start + 400), "dstport\n443\n");
}

const S3_AUTH: &str =
    "AWS4-HMAC-SHA256 Credential=testing/20240610/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0";

fn s3_put(moto: &Moto, path: &str, body: &[u8]) {
    assert_eq!(
        moto.request("PUT", path, &[("Authorization", S3_AUTH)], body),
        Some(200),
        "PUT {path}"
    );
}

/// The `--stats` line on standard error, as name → number (`peak_rss_bytes` may be "unknown").
fn stats(stderr: &str) -> std::collections::HashMap<String, u64> {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("netaudit: stats: "))
        .unwrap_or_else(|| panic!("no stats line in:\n{stderr}"));
    line.split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .filter_map(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
        .collect()
}

/// `logs sql QUERY --stats` over `source` through moto, as (CSV answer, stats).
fn sql_from_moto(
    moto: &Moto,
    query: &str,
    source: (&str, &str),
    extra: &[&str],
) -> (String, std::collections::HashMap<String, u64>) {
    let mut args = vec!["sql", query, source.0, source.1, "--format", "csv", "--stats"];
    args.extend(extra);
    let mut cmd = logs(&args);
    with_moto(&mut cmd, moto);
    let (stdout, stderr, code) = run(&mut cmd);
    assert_eq!(code, 0, "{args:?}\n{stderr}");
    (stdout, stats(&stderr))
}

#[test]
fn s3_flows_larger_than_the_buffer_budget_are_streamed_within_it() {
    const OBJECTS: u64 = 40;
    // Whatever the readers and the query hold beyond the fetched bytes: per reader partition its
    // line buffer, gzip state and record batches; and the allocator's slack, which varies with how
    // the threads are scheduled (up to +33 MB seen on a loaded machine).
    let partitions = std::thread::available_parallelism().map_or(2, |n| n.get() as u64);
    let slack: u64 = (40 << 20) + partitions * (4 << 20);
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    s3_put(&moto, "/big", b"");
    s3_put(&moto, "/small", b"");
    let day = "logs/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/10";
    // Bytes stored (what a reader that held the objects whole would hold) and bytes of text.
    let (mut stored, mut plain) = (0u64, 0u64);
    for i in 0..OBJECTS {
        // Mostly plain text, so the objects are far larger than the memory allowed; every fourth gzip.
        let gzip = i % 4 == 0;
        let name = format!(
            "123456789012_vpcflowlogs_us-east-1_fl-0{i:02}_20240610T0000Z.log{}",
            if gzip { ".gz" } else { "" }
        );
        let path = dir.path().join(&name);
        let records = "30000".to_owned();
        let seed = (i + 1).to_string();
        let path_text = path.to_str().unwrap();
        let mut args = vec!["generate", "--records", &records, "--seed", &seed, "-o", path_text];
        if gzip {
            args.push("--gzip");
        }
        let (_, stderr, code) = run(&mut logs(&args));
        assert_eq!(code, 0, "{stderr}");
        let body = std::fs::read(&path).unwrap();
        stored += body.len() as u64;
        plain += if gzip {
            std::io::copy(&mut flate2::read::MultiGzDecoder::new(&body[..]), &mut std::io::sink()).unwrap()
        } else {
            body.len() as u64
        };
        s3_put(&moto, &format!("/big/{day}/{name}"), &body);
        if i == 0 {
            let small = dir.path().join("small.log");
            let args = ["generate", "--records", "1000", "-o", small.to_str().unwrap()];
            assert_eq!(run(&mut logs(&args)).2, 0);
            s3_put(
                &moto,
                &format!("/small/{day}/small.log"),
                &std::fs::read(&small).unwrap(),
            );
            std::fs::remove_file(small).unwrap();
        }
    }
    let budget = 6 << 20;
    // More than twice the budget either way, and more than the memory the RSS check allows: an
    // implementation that held the objects whole would fail it.
    assert!(stored > 2 * budget && stored > budget + slack + (8 << 20), "{stored}");
    assert!(plain > 2 * budget, "{plain}");

    let query = "SELECT count(*), sum(bytes) FROM flows";
    let args = [
        "sql",
        query,
        "--flows",
        dir.path().to_str().unwrap(),
        "--format",
        "csv",
        "--stats",
    ];
    let (local, stderr, code) = run(&mut logs(&args));
    assert_eq!(code, 0, "{stderr}");
    let local_rss = stats(&stderr)["peak_rss_bytes"];
    assert!(local.starts_with("count(*),sum(flows.bytes)\n1200000,"), "{local}");
    let (answer, big) = sql_from_moto(&moto, query, ("--flows", "s3://big/logs/"), &[]);
    assert_eq!(answer, local);
    assert_eq!(big["buffer_budget_bytes"], budget);
    assert!(
        big["peak_buffered_bytes"] > 0 && big["peak_buffered_bytes"] <= budget,
        "{big:?}"
    );
    assert_eq!(big["objects_listed"], OBJECTS);
    assert_eq!(big["objects_read"], OBJECTS);
    // One GetObject to look for a header line naming the fields (of the object's first 64 KiB
    // only), one to read.
    assert_eq!(big["fetch_requests"], 2 * OBJECTS);
    assert!(big["bytes_fetched"] >= stored, "{big:?}");
    assert!(
        big["bytes_fetched"] <= stored + OBJECTS * (64 << 10),
        "{big:?} against {stored}"
    );

    // A built-in answer reads the same streams, within the same budget.
    let top = ["top-talkers", "--limit", "5", "--format", "csv", "--stats"];
    let (local_top, stderr, code) = run(&mut logs(
        &[&top[..], &["--flows", dir.path().to_str().unwrap()]].concat(),
    ));
    assert_eq!(code, 0, "{stderr}");
    let mut cmd = logs(&[&top[..], &["--flows", "s3://big/logs/"]].concat());
    with_moto(&mut cmd, &moto);
    let (s3_top, stderr, code) = run(&mut cmd);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(s3_top, local_top);
    let folded = stats(&stderr);
    assert!(
        folded["peak_buffered_bytes"] > 0 && folded["peak_buffered_bytes"] <= budget,
        "{folded:?}"
    );
    assert_eq!(folded["objects_read"], OBJECTS);

    let (answer, small) = sql_from_moto(&moto, query, ("--flows", "s3://small/logs/"), &[]);
    assert!(answer.starts_with("count(*),sum(flows.bytes)\n1000,"), "{answer}");
    let (big_rss, small_rss) = (big["peak_rss_bytes"], small["peak_rss_bytes"]);
    eprintln!(
        "{OBJECTS} objects, {stored} bytes in S3, {plain} bytes of text: peak RSS {big_rss} (one small object: \
         {small_rss}; the same files read locally: {local_rss}), peak buffered {}",
        big["peak_buffered_bytes"]
    );
    assert!(
        big_rss.saturating_sub(small_rss) < budget + slack,
        "peak RSS {big_rss} reading {stored} bytes against {small_rss} reading one small object"
    );
}

#[test]
fn s3_listing_with_a_time_range_lists_only_the_days_in_it() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    s3_put(&moto, "/days", b"");
    let prefix = "logs/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06";
    for day in 1..=12u32 {
        // One record in the middle of the day.
        let start = 1_717_200_000 + i64::from(day - 1) * 86_400 + 43_200;
        let record = format!(
            "2 123456789012 eni-0a 10.0.0.{day} 10.0.1.1 5000 443 6 1 {} {start} {} ACCEPT OK\n",
            day * 100,
            start + 60
        );
        let relative = format!("{prefix}/{day:02}/123456789012_vpcflowlogs_us-east-1_fl-1_202406{day:02}T1200Z.log");
        let local = dir.path().join(&relative);
        std::fs::create_dir_all(local.parent().unwrap()).unwrap();
        std::fs::write(&local, &record).unwrap();
        s3_put(&moto, &format!("/days/{relative}"), record.as_bytes());
    }
    let query = "SELECT count(*), sum(bytes) FROM flows";
    let range = ["--since", "2024-06-05", "--until", "2024-06-06"];
    let local_root = dir.path().join("logs");
    let mut args = vec!["sql", query, "--flows", local_root.to_str().unwrap(), "--format", "csv"];
    args.extend(range);
    let local = ok(&args);
    assert_eq!(local, "count(*),sum(flows.bytes)\n1,500\n");
    let (answer, stats) = sql_from_moto(&moto, query, ("--flows", "s3://days/logs/"), &range);
    assert_eq!(answer, local);
    // The 5th, and the 6th (records of the 5th may be delivered into it); the other ten days'
    // folders were never listed.
    assert_eq!(stats["objects_listed"], 2, "{stats:?}");
    assert_eq!(stats["folders_pruned"], 10, "{stats:?}");
    assert_eq!(stats["objects_read"], 2, "{stats:?}");
    // Without a range: one flat listing of all twelve.
    let (answer, stats) = sql_from_moto(&moto, query, ("--flows", "s3://days/logs/"), &[]);
    assert_eq!(
        answer,
        format!("count(*),sum(flows.bytes)\n12,{}\n", (1..=12).sum::<u64>() * 100)
    );
    assert_eq!((stats["objects_listed"], stats["list_requests"]), (12, 1), "{stats:?}");
}

#[test]
fn cloudwatch_flows_over_several_pages_and_streams_equal_the_local_answer() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let group = "/aws/vpc/paged";
    moto.logs_call("CreateLogGroup", serde_json::json!({ "logGroupName": group }));
    // More events than one GetLogEvents page (10,000) in the first stream.
    for (stream, count) in [("eni-0a", 10_500i64), ("eni-0b", 700), ("eni-0c", 3)] {
        moto.logs_call(
            "CreateLogStream",
            serde_json::json!({ "logGroupName": group, "logStreamName": stream }),
        );
        let lines: Vec<String> = (0..count)
            .map(|i| {
                let start = now / 1000 - 3000 + i % 600;
                format!(
                    "2 123456789012 {stream} 10.0.0.{} 10.0.1.1 {} 443 6 1 {} {start} {} ACCEPT OK",
                    i % 200,
                    1024 + i,
                    40 + i,
                    start + 60
                )
            })
            .collect();
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(dir.path().join(format!("{stream}.log")), text).unwrap();
        for (page, chunk) in lines.chunks(5000).enumerate() {
            let events: Vec<serde_json::Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, line)| {
                    serde_json::json!({ "timestamp": now - 1_000_000 + (page * 5000 + i) as i64, "message": line })
                })
                .collect();
            moto.logs_call(
                "PutLogEvents",
                serde_json::json!({ "logGroupName": group, "logStreamName": stream, "logEvents": events }),
            );
        }
    }
    let query = "SELECT interface_id, count(*), sum(bytes) FROM flows GROUP BY interface_id ORDER BY interface_id";
    let local = ok(&["sql", query, "--flows", dir.path().to_str().unwrap(), "--format", "csv"]);
    assert!(local.contains("\neni-0a,10500,"), "{local}");
    let (answer, stats) = sql_from_moto(&moto, query, ("--flows", &format!("cloudwatch:{group}")), &[]);
    assert_eq!(answer, local);
    assert_eq!(stats["objects_listed"], 3, "{stats:?}");
    assert_eq!(stats["objects_read"], 3, "{stats:?}");
    // Three pages for the first stream, two for the others (the last page repeats its token); no
    // stream is opened to look for a header line: events are records.
    assert_eq!(stats["fetch_requests"], 7, "{stats:?}");
}

// --- The Athena engine, against the moto emulator ----------------------------------------------
//
// moto runs no SQL: each query takes the next result queued through its API (an empty one when
// none is), and GetQueryExecution gives back the text a query was sent with.

/// The `logs` command on the Athena engine, against `moto`, results written under s3://results/q.
fn on_athena(moto: &Moto, args: &[&str]) -> Command {
    let mut cmd = logs(args);
    with_moto(&mut cmd, moto);
    cmd.args(["--engine", "athena", "--athena-output", "s3://results/q"]);
    cmd
}

impl Moto {
    /// Queue results for the next queries, in order.
    fn queue_athena_results(&self, results: &[serde_json::Value]) {
        let body = serde_json::json!({ "region": "us-east-1", "results": results });
        let status = self.request(
            "POST",
            "/moto-api/static/athena/query-results",
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        );
        assert_eq!(status, Some(201));
    }

    /// Python with boto3's Athena client `athena` on this server; what the code prints, as JSON.
    fn athena_python(&self, code: &str) -> serde_json::Value {
        let python = std::env::var("NETAUDIT_TEST_PYTHON").expect("NETAUDIT_TEST_PYTHON (scripts/test.sh sets it)");
        let script = format!(
            "import boto3, json\nathena = boto3.client('athena', endpoint_url='{}', region_name='us-east-1', \
             aws_access_key_id='testing', aws_secret_access_key='testing')\n{code}",
            self.url()
        );
        let out = std::process::Command::new(&python)
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Every query execution in the order they were started: id, text, state, database, results.
    fn athena_executions(&self) -> Vec<serde_json::Value> {
        let listed = self.athena_python(
            "out = []\n\
             for i in athena.list_query_executions()['QueryExecutionIds']:\n    \
                 e = athena.get_query_execution(QueryExecutionId=i)['QueryExecution']\n    \
                 out.append({'id': i, 'query': e['Query'], 'state': e['Status']['State'],\n        \
                 'database': (e.get('QueryExecutionContext') or {}).get('Database'),\n        \
                 'output': (e.get('ResultConfiguration') or {}).get('OutputLocation')})\n\
             print(json.dumps(out))",
        );
        listed.as_array().unwrap().clone()
    }
}

/// A local answer as the result Athena would give: Athena's column types for the JSON values,
/// the header row Athena repeats, and every cell as Athena's text (lists as the CSV shows them).
fn as_athena_result(csv: &str, rows: &serde_json::Value) -> serde_json::Value {
    let names: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let rows = rows.as_array().unwrap();
    let athena_type = |name: &str| {
        let value = rows.iter().map(|r| &r[name]).find(|v| !v.is_null());
        match value {
            Some(serde_json::Value::Number(n)) if n.is_f64() => "double",
            Some(serde_json::Value::Number(_)) => "bigint",
            Some(serde_json::Value::Bool(_)) => "boolean",
            Some(serde_json::Value::Array(_)) => "array(varchar)",
            _ => "varchar",
        }
    };
    let text = |v: &serde_json::Value| -> serde_json::Value {
        match v {
            serde_json::Value::Null => serde_json::json!({}),
            serde_json::Value::String(s) => serde_json::json!({ "VarCharValue": s }),
            serde_json::Value::Array(items) => {
                let joined: Vec<String> = items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                    .collect();
                serde_json::json!({ "VarCharValue": joined.join(",") })
            }
            other => serde_json::json!({ "VarCharValue": other.to_string() }),
        }
    };
    let mut athena_rows = vec![serde_json::json!({
        "Data": names.iter().map(|n| serde_json::json!({ "VarCharValue": n })).collect::<Vec<_>>()
    })];
    for row in rows {
        athena_rows.push(serde_json::json!({
            "Data": names.iter().map(|n| text(&row[*n])).collect::<Vec<_>>()
        }));
    }
    let column_info: Vec<serde_json::Value> = names
        .iter()
        .map(|n| {
            serde_json::json!({ "Name": n, "Label": n, "Type": athena_type(n), "Nullable": "UNKNOWN",
                "CatalogName": "hive", "SchemaName": "", "TableName": "", "Precision": 0, "Scale": 0,
                "CaseSensitive": false })
        })
        .collect();
    serde_json::json!({ "rows": athena_rows, "column_info": column_info })
}

/// The query id in each `netaudit: athena query <id>: N bytes scanned, about $C` line.
fn athena_query_ids(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("netaudit: athena query "))
        .map(|rest| {
            let (id, cost) = rest.split_once(": ").unwrap();
            assert!(
                cost.ends_with(" bytes scanned, about $0.000048"),
                "moto scans nothing: Athena bills the 10 MB minimum: {cost}"
            );
            id.to_owned()
        })
        .collect()
}

#[test]
fn athena_engine_sends_each_answer_s_sql_and_prints_it_like_the_local_engine() {
    use netaudit_logs::answers::{self, Dialect, OptionalColumns};
    let a = Dialect::Athena;
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("f.log");
    let generated = generated.to_str().unwrap();
    let (_, stderr, code) = run(&mut logs(&["generate", "--records", "2000", "-o", generated]));
    assert_eq!(code, 0, "{stderr}");
    let busiest = json(&["top-talkers", "--flows", generated]);
    let ip = busiest[0]["srcaddr"].as_str().unwrap().to_owned();
    // The default format (version 2) has neither tcp-flags nor vpc-id.
    let v2 = OptionalColumns {
        tcp_flags: false,
        vpc_id: false,
    };
    let at = "2024-06-10 06:40";
    let at_epoch = 1_718_001_600; // 2024-06-10 06:40 UTC
    let user_sql = "SELECT action, count(*) AS records FROM flows GROUP BY action ORDER BY action";
    let cases: Vec<(Vec<&str>, Vec<&str>, String)> = vec![
        (
            vec!["talked-to", &ip],
            vec!["--flows", generated],
            answers::talked_to(a, &ip),
        ),
        (
            vec!["top-talkers"],
            vec!["--flows", generated],
            answers::top_talkers(a, 10),
        ),
        (
            vec!["top-talkers", "--limit", "3"],
            vec!["--flows", generated],
            answers::top_talkers(a, 3),
        ),
        (vec!["rejects"], vec!["--flows", generated], answers::rejects(a, 50, v2)),
        (vec!["gaps"], vec!["--flows", generated], answers::gaps(a, 900)),
        (
            vec!["gaps", "--max-silence", "60"],
            vec!["--flows", "flows"],
            answers::gaps(a, 60),
        ),
        (
            vec!["vpn", "who", "--at", at],
            vec!["--vpn", "vpn"],
            answers::vpn_who(a, at_epoch),
        ),
        (
            vec!["vpn", "sessions"],
            vec!["--vpn", "vpn"],
            answers::vpn_sessions(a, None),
        ),
        (
            vec!["vpn", "sessions", "--user", "alice"],
            vec!["--vpn", "vpn"],
            answers::vpn_sessions(a, Some("alice")),
        ),
        (vec!["vpn", "failures"], vec!["--vpn", "vpn"], answers::vpn_failures(a)),
        (
            vec!["attribute"],
            vec!["--flows", "flows", "--vpn", "vpn"],
            answers::attribute(a, None, v2),
        ),
        (vec!["tunnels"], vec!["--tunnels", "tunnels"], answers::tunnels(a)),
        (
            vec!["tunnels", "--summary"],
            vec!["--tunnels", "tunnels"],
            answers::tunnel_summary(a),
        ),
        (vec!["sql", user_sql], vec!["--flows", generated], user_sql.to_owned()),
    ];
    let moto = Moto::start();
    let mut expected = vec![];
    let mut ids = vec![];
    for (question, local_sources, sql) in &cases {
        let local = |format: &str| {
            let mut args = question.clone();
            args.extend(local_sources);
            args.extend(["--format", format]);
            ok(&args)
        };
        let (csv, rows) = (local("csv"), local("json"));
        let rows: serde_json::Value = serde_json::from_str(&rows).unwrap();
        assert!(
            !rows.as_array().unwrap().is_empty(),
            "{question:?} answers something locally"
        );
        let result = as_athena_result(&csv, &rows);
        moto.queue_athena_results(&[result.clone(), result]);
        let mut remote = |format: &str| {
            let mut args = question.clone();
            args.extend(["--format", format]);
            let (stdout, stderr, code) = run(&mut on_athena(&moto, &args));
            assert_eq!(code, 0, "{question:?}\n{stderr}");
            ids.extend(athena_query_ids(&stderr));
            stdout
        };
        assert_eq!(remote("csv"), csv, "{question:?}: the same columns, rows and cells");
        let remote_rows: serde_json::Value = serde_json::from_str(&remote("json")).unwrap();
        // Athena gives arrays as text; every other cell has the local engine's JSON type.
        let lists: Vec<String> = rows[0]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| v.is_array())
            .map(|(k, _)| k.clone())
            .collect();
        let without_lists = |rows: &serde_json::Value| -> Vec<serde_json::Value> {
            rows.as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let mut r = r.as_object().unwrap().clone();
                    r.retain(|k, _| !lists.contains(k));
                    serde_json::Value::Object(r)
                })
                .collect()
        };
        assert_eq!(without_lists(&remote_rows), without_lists(&rows), "{question:?}");
        expected.extend([sql.clone(), sql.clone()]);
    }
    let executions = moto.athena_executions();
    let sent: Vec<&str> = executions.iter().map(|e| e["query"].as_str().unwrap()).collect();
    assert_eq!(sent.len(), expected.len());
    for (sent, expected) in sent.iter().zip(&expected) {
        assert_eq!(sent, expected);
    }
    let executed: Vec<&str> = executions.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(executed, ids, "each query's cost line names it");
    for e in &executions {
        assert_eq!(e["database"], "netaudit");
        assert!(e["output"].as_str().unwrap().starts_with("s3://results/q/"), "{e}");
    }
    // The same text `logs athena` prints for the console.
    let mut args = vec!["athena"];
    args.extend(FLOW_LOGS_BUCKET);
    let script = ok(&[&args[..], &["--ip", &ip]].concat());
    for sql in [
        answers::talked_to(a, &ip),
        answers::top_talkers(a, 10),
        answers::rejects(a, 100, v2),
        answers::gaps(a, 900),
    ] {
        assert!(script.contains(&format!("\n{sql};\n")), "{sql}\n{script}");
    }
}

#[test]
fn athena_detect_runs_the_flow_detections_and_their_evidence_in_athena() {
    use netaudit_logs::answers::{Dialect, OptionalColumns};
    use netaudit_logs::detect::{Detection, Thresholds};
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("f.log");
    let generated = generated.to_str().unwrap();
    let (_, stderr, code) = run(&mut logs(&[
        "generate",
        "--records",
        "3000",
        "--incident",
        "port-scan",
        "-o",
        generated,
    ]));
    assert_eq!(code, 0, "{stderr}");
    let (stdout, stderr, code) = run(&mut logs(&["detect", "--flows", generated, "--format", "json"]));
    assert_eq!(code, 1, "{stderr}");
    let local: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let scan = local["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["control"] == "NETAUDIT.LOGS.PORTSCAN")
        .unwrap()
        .clone();
    // The detection's row and its records, as Athena would answer the two queries.
    let mut row = scan["evidence"].as_object().unwrap().clone();
    let records = row.remove("records").unwrap();
    assert!(!records.as_array().unwrap().is_empty());
    let names: Vec<String> = row.keys().cloned().collect();
    let row_result = as_athena_result(&names.join(","), &serde_json::json!([row]));
    let record_names: Vec<String> = records[0].as_object().unwrap().keys().cloned().collect();
    let records_result = as_athena_result(&record_names.join(","), &records);

    let moto = Moto::start();
    moto.queue_athena_results(&[row_result, records_result]);
    let (stdout, stderr, code) = run(&mut on_athena(&moto, &["detect", "--format", "json"]));
    assert_eq!(code, 1, "a finding: exit 1\n{stderr}");
    let remote: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let findings = remote["results"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{stdout}");
    assert_eq!(
        findings[0], scan,
        "the same finding as the local engine's, records and all"
    );
    assert_eq!(remote["errors"], local["errors"]);
    assert_eq!(remote["totals"]["FAIL"], 1);

    // Each flow detection's SQL, the port scan's evidence query right after it.
    let t = Thresholds::default();
    let v2 = OptionalColumns {
        tcp_flags: false,
        vpc_id: false,
    };
    let mut expected = vec![];
    for detection in Detection::ALL
        .into_iter()
        .filter(|d| d.table() == netaudit_logs::Table::Flows)
    {
        expected.push(detection.sql(Dialect::Athena, &t, v2));
        if detection == Detection::PortScan {
            expected.push(detection.evidence_sql(
                Dialect::Athena,
                &t,
                row["subject"].as_str().unwrap(),
                row["target"].as_str().unwrap(),
                row["window_start"].as_i64().unwrap(),
            ));
        }
    }
    let executions = moto.athena_executions();
    let sent: Vec<&str> = executions.iter().map(|e| e["query"].as_str().unwrap()).collect();
    assert_eq!(sent, expected);
    assert_eq!(athena_query_ids(&stderr).len(), expected.len());
    assert_eq!(expected.len(), 6, "five flow detections and one evidence query");

    // By name, a VPN detection runs over the view `athena create --vpn-location` makes.
    let (stdout, stderr, code) = run(&mut on_athena(
        &moto,
        &["detect", "--only", "NETAUDIT.LOGS.VPNBRUTEFORCE", "--format", "json"],
    ));
    assert_eq!(code, 0, "no rows, no finding\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["totals"]["FAIL"], 0);
    let executions = moto.athena_executions();
    assert_eq!(executions.len(), expected.len() + 1);
    assert_eq!(
        executions.last().unwrap()["query"],
        Detection::VpnBruteForce.sql(Dialect::Athena, &t, v2)
    );
}

#[test]
fn athena_create_runs_the_database_and_the_printed_tables_in_order() {
    let mut args = vec!["athena"];
    args.extend(FLOW_LOGS_BUCKET);
    args.extend([
        "--hive",
        "--table",
        "vpc_flows",
        "--vpn-location",
        "s3://vpn-logs/cvpn",
        "--tunnels-location",
        "s3://vpn-logs/tunnels/",
    ]);
    let script = ok(&args);
    // Each printed statement without its title comment; the tables and views come first.
    let printed: Vec<&str> = script
        .split(";\n\n")
        .filter_map(|s| s.split_once('\n').map(|(_, sql)| sql))
        .filter(|sql| sql.starts_with("CREATE "))
        .collect();
    assert_eq!(printed.len(), 6, "{script}");
    assert!(
        printed[0].starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS vpc_flows ("),
        "{script}"
    );
    assert!(printed[1].starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS vpn_connection_log ("));
    assert!(printed[1].contains("LOCATION 's3://vpn-logs/cvpn/'"));
    assert!(printed[2].starts_with("CREATE OR REPLACE VIEW vpn_connections AS SELECT "));
    assert!(printed[3].starts_with("CREATE OR REPLACE VIEW vpn_endpoints AS SELECT "));
    assert!(printed[4].starts_with("CREATE EXTERNAL TABLE IF NOT EXISTS tunnel_log ("));
    assert!(printed[4].ends_with("LOCATION 's3://vpn-logs/tunnels/'"));
    assert!(printed[5].starts_with("CREATE OR REPLACE VIEW tunnel_events AS SELECT "));
    let moto = Moto::start();
    let mut create = vec!["athena", "create"];
    create.extend(&args[1..]);
    create.extend(["--database", "audit"]);
    let (stdout, stderr, code) = run(&mut on_athena(&moto, &create));
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    let executions = moto.athena_executions();
    let sent: Vec<(&str, &serde_json::Value)> = executions
        .iter()
        .map(|e| (e["query"].as_str().unwrap(), &e["database"]))
        .collect();
    let audit = serde_json::json!("audit");
    let mut expected = vec![("CREATE DATABASE IF NOT EXISTS audit", &serde_json::Value::Null)];
    expected.extend(printed.iter().map(|sql| (*sql, &audit)));
    assert_eq!(sent, expected);
    assert_eq!(athena_query_ids(&stderr).len(), 7);
    // Athena (moto) made the database the first statement asked for.
    let databases = moto.athena_python(
        "print(json.dumps([d['Name'] for d in athena.list_databases(CatalogName='AwsDataCatalog')['DatabaseList']]))",
    );
    assert!(
        databases.as_array().unwrap().contains(&serde_json::json!("audit")),
        "{databases}"
    );
    // Without --vpn-location, only the flows table.
    let mut flows_only = vec!["athena", "create"];
    flows_only.extend(FLOW_LOGS_BUCKET);
    let (_, stderr, code) = run(&mut on_athena(&moto, &flows_only));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(moto.athena_executions().len(), 7 + 2);
    flows_only.extend(["--vpn-location", "cvpn/"]);
    let (_, stderr, code) = run(&mut on_athena(&moto, &flows_only));
    assert_eq!(code, 64);
    assert!(stderr.contains("--vpn-location \"cvpn/\""), "{stderr}");
}

#[test]
fn athena_engine_options_are_checked_before_any_call() {
    let refused: [(&[&str], &str); 7] = [
        (&["top-talkers", "--engine", "athena"], "--athena-output"),
        (
            &["top-talkers", "--engine", "athena", "--athena-output", "results/q"],
            "--athena-output \"results/q\"",
        ),
        (
            &[
                "top-talkers",
                "--engine",
                "athena",
                "--athena-output",
                "s3://r/q",
                "--flows",
                "flows",
            ],
            "--flows",
        ),
        (
            &[
                "rejects",
                "--engine",
                "athena",
                "--athena-output",
                "s3://r/q",
                "--since",
                "2024-06-10",
            ],
            "--since",
        ),
        (
            &["top-talkers", "--flows", "flows", "--table", "flows"],
            "--table: only with --engine athena",
        ),
        (
            &[
                "top-talkers",
                "--engine",
                "athena",
                "--athena-output",
                "s3://r/q",
                "--table",
                "a.b.c",
            ],
            "--table",
        ),
        (
            &[
                "top-talkers",
                "--engine",
                "athena",
                "--athena-output",
                "s3://r/q",
                "--database",
                "net-audit",
            ],
            "--database",
        ),
    ];
    for (args, named) in refused {
        let mut cmd = logs(args);
        cmd.env("AWS_REGION", "us-east-1");
        let (stdout, stderr, code) = run(&mut cmd);
        assert_eq!((code, stdout.as_str()), (64, ""), "{args:?}\n{stderr}");
        assert!(stderr.contains(named), "{args:?}: {stderr}");
    }
    // No region anywhere: a usage error, before any call. The profile's region is enough.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, "[default]\nregion = eu-west-1\n").unwrap();
    let moto = Moto::start();
    for (config_file, expected) in [("/nonexistent/config", 64), (config.to_str().unwrap(), 0)] {
        let mut cmd = on_athena(&moto, &["top-talkers"]);
        cmd.env_remove("AWS_REGION")
            .env_remove("AWS_DEFAULT_REGION")
            .env_remove("AWS_PROFILE")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", config_file);
        let (_, stderr, code) = run(&mut cmd);
        assert_eq!(code, expected, "{config_file}: {stderr}");
        if expected == 64 {
            assert!(
                stderr.contains("give --region") && stderr.contains("AWS_REGION"),
                "{stderr}"
            );
        }
    }
    let regions = moto.athena_python(
        "print(json.dumps([boto3.client('athena', endpoint_url=athena.meta.endpoint_url, region_name=r, \
         aws_access_key_id='testing', aws_secret_access_key='testing').list_query_executions()['QueryExecutionIds'] \
         for r in ['us-east-1', 'eu-west-1']]))",
    );
    assert_eq!(regions[0].as_array().unwrap().len(), 0);
    assert_eq!(regions[1].as_array().unwrap().len(), 1, "the profile's region was used");
}

#[test]
fn athena_queries_that_never_finish_or_are_cancelled_fail_naming_the_query() {
    let moto = Moto::start();
    // Queries stay QUEUED until a million looks.
    let transition = serde_json::json!({
        "model_name": "athena::execution",
        "transition": { "progression": "manual", "times": 1_000_000 },
    });
    assert_eq!(
        moto.request(
            "POST",
            "/moto-api/state-manager/set-transition",
            &[("Content-Type", "application/json")],
            transition.to_string().as_bytes()
        ),
        Some(201)
    );
    let started = Instant::now();
    let (stdout, stderr, code) = run(&mut on_athena(&moto, &["top-talkers", "--athena-timeout", "1"]));
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!((code, stdout.as_str()), (5, ""), "{stderr}");
    let executions = moto.athena_executions();
    let id = executions[0]["id"].as_str().unwrap();
    assert_eq!(
        stderr.trim_end(),
        format!(
            "netaudit: error: athena query {id} was still QUEUED after 1s; it was stopped (athena:StopQueryExecution)"
        )
    );
    assert_eq!(executions[0]["state"], "CANCELLED", "StopQueryExecution was sent");

    // Someone stops a query while netaudit waits for it.
    let mut waiting = std::process::Command::new(assert_cmd::cargo::cargo_bin("netaudit"));
    waiting
        .current_dir(examples())
        .args([
            "logs",
            "rejects",
            "--engine",
            "athena",
            "--athena-output",
            "s3://results/q",
        ])
        .args(["--endpoint-url", &moto.url()])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = waiting.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let second = loop {
        let executions = moto.athena_executions();
        if let Some(e) = executions.get(1) {
            break e["id"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "netaudit never started its query");
        std::thread::sleep(Duration::from_millis(100));
    };
    moto.athena_python(&format!(
        "athena.stop_query_execution(QueryExecutionId='{second}')\nprint('null')"
    ));
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!("netaudit: error: athena query {second} was cancelled: Athena gave no reason")
    );

    // An API error names the call: the workgroup does not exist.
    let (_, stderr, code) = run(&mut on_athena(&moto, &["gaps", "--workgroup", "nightly"]));
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.starts_with("netaudit: error: athena:StartQueryExecution: ")
            && stderr.contains("WorkGroup does not exist"),
        "{stderr}"
    );
}

#[test]
fn athena_iam_policy_allows_the_engine_s_calls_only_when_asked() {
    let (plain, _, code) = run(binary::netaudit().args(["iam-policy"]));
    assert_eq!(code, 0);
    assert!(!plain.contains("athena:") && !plain.contains("glue:"), "{plain}");
    let (out, _, code) = run(binary::netaudit().args(["iam-policy", "--athena"]));
    assert_eq!(code, 0);
    let policy: serde_json::Value = serde_json::from_str(&out).unwrap();
    let allowed: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()))
        .collect();
    // The calls the engine makes (see the tests above), Athena's catalog reads and writes, and S3
    // for the logs and the results.
    for action in [
        "athena:StartQueryExecution",
        "athena:GetQueryExecution",
        "athena:GetQueryResults",
        "athena:StopQueryExecution",
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:CreateDatabase",
        "glue:CreateTable",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
        "s3:GetBucketLocation",
        "ec2:DescribeFlowLogs",
    ] {
        assert!(allowed.contains(&action), "{action}\n{out}");
    }
}

/// The README's walk through every answer on the Athena engine against the emulator, run as it is
/// written (the emulator's address and the binary put in): each command exits 0, and the emulator
/// received each query.
#[test]
fn the_readme_runs_every_answer_on_athena_against_the_emulator() {
    let moto = Moto::start();
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    let intro = "Every answer also runs against the moto emulator";
    let after = &readme[readme.find(intro).expect("the README's emulator walk")..];
    let block = after.split("```sh\n").nth(1).unwrap().split("```").next().unwrap();
    let mut lines = block.lines();
    assert!(lines.next().unwrap().contains("moto_server -p 5000 &"), "{block}");
    let script = format!(
        "set -e\nnetaudit() {{ \"$NETAUDIT_BIN\" \"$@\"; }}\n{}\n",
        lines
            .collect::<Vec<_>>()
            .join("\n")
            .replace("http://127.0.0.1:5000", &moto.url())
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .env("NETAUDIT_BIN", assert_cmd::cargo::cargo_bin("netaudit"))
        .env("SOURCE_DATE_EPOCH", "1764748800")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // `create` and the eleven answers (detect runs several queries).
    let queried = athena_query_ids(&stderr).len();
    let executions = moto.athena_executions();
    assert!(
        queried >= 11 && executions.len() >= queried,
        "{queried} / {} queries: {stderr}",
        executions.len()
    );
    assert!(executions
        .iter()
        .any(|e| e["query"].as_str().unwrap().starts_with("CREATE EXTERNAL TABLE")));
}
