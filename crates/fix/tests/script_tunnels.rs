#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The script's Site-to-Site tunnel steps, run for real against a stand-in `aws` command
//! (`fake_aws.py`) that answers as AWS does after a tunnel modification: the old UP status for a
//! while, then DOWN, then UP. The emulator implements neither telemetry nor ModifyVpnTunnelOptions.

use netaudit_checks::{Finding, Status};
use netaudit_fix::render::script;
use netaudit_fix::{plan, Action, ExistingLogGroups, PlanOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ACCOUNT: &str = "111111111111";
const VPN: &str = "vpn-0123456789abcdef0";
const FIRST: &str = "3.5.140.21";
const SECOND: &str = "3.5.140.22";

/// The Python of the AWS CLI's virtualenv: the stand-in uses the CLI's own query and text output.
fn cli_python() -> PathBuf {
    let cli = std::env::var("NETAUDIT_AWS_CLI").expect(
        "NETAUDIT_AWS_CLI is not set: run the tests with `bash scripts/test.sh`, which installs the pinned AWS CLI",
    );
    let python = Path::new(&cli).with_file_name("python");
    assert!(python.exists(), "{} does not exist", python.display());
    python
}

/// The plan for a connection whose two tunnels log nothing: one step per tunnel.
fn tunnel_script() -> String {
    let finding = Finding {
        control: "EC2.171".into(),
        status: Status::Fail,
        resource_type: "VpnConnection".into(),
        resource_id: VPN.into(),
        resource_name: None,
        resource_arn: format!("arn:aws:ec2:us-east-1:{ACCOUNT}:vpn-connection/{VPN}"),
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        reason: "tunnel logging is off".into(),
        evidence: serde_json::Map::new(),
        gaps: vec![],
        exception: None,
        remedy: Some(netaudit_checks::Remedy::EnableTunnelLogging {
            vpn_connection_id: VPN.into(),
            tunnels_without_logging: [FIRST, SECOND]
                .map(|ip| netaudit_checks::TunnelRef {
                    vpn_connection_id: VPN.into(),
                    outside_ip: Some(ip.into()),
                })
                .to_vec(),
        }),
        location: None,
        read_from: None,
        priority: Default::default(),
        priority_reasons: vec![],
    };
    // The tunnel log group exists already, so the script touches tunnels only.
    let mut existing = ExistingLogGroups::new();
    existing.insert(
        (ACCOUNT.into(), "us-east-1".into(), format!("/aws/vendedlogs/vpn/{VPN}")),
        Some(3653),
    );
    let p = plan(&[finding], &existing, &PlanOptions::default());
    let tunnels: Vec<&str> = p
        .batches
        .iter()
        .flat_map(|b| &b.steps)
        .map(|s| match &s.action {
            Action::ConfigureTunnel { tunnel_outside_ip, .. } => tunnel_outside_ip.as_str(),
            other => panic!("unexpected step {other:?}"),
        })
        .collect();
    assert_eq!(tunnels, [FIRST, SECOND]);
    script::render(&p)
}

/// A stand-in AWS in a directory of its own: `bin/aws`, its state and the script.
struct FakeAws {
    dir: PathBuf,
}

impl FakeAws {
    /// `telemetry`: the tunnels telemetry lists at first, all UP. After a modification the tunnel
    /// reads as before for `stale` reads, DOWN for `down` reads, then UP (never when `back` is false).
    fn new(name: &str, telemetry: &[&str], stale: u32, down: u32, back: bool) -> FakeAws {
        let dir = std::env::temp_dir().join(format!("netaudit-script-tunnels-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        let fake = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("tests/fake_aws.py");
        let aws = dir.join("bin/aws");
        std::fs::write(
            &aws,
            format!(
                "#!/bin/sh\nexec '{}' '{}' \"$@\"\n",
                cli_python().display(),
                fake.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&aws, std::fs::Permissions::from_mode(0o755)).unwrap();
        let tunnels: Vec<serde_json::Value> = [FIRST, SECOND]
            .iter()
            .map(|ip| {
                serde_json::json!({
                    "ip": ip,
                    "options": {
                        "TunnelInsideCidr": "169.254.10.0/30",
                        "IkeVersions": [{"Value": "ikev1"}, {"Value": "ikev2"}],
                        "LogOptions": {"CloudWatchLogOptions": {"LogEnabled": false}}
                    },
                    "telemetry": telemetry.contains(ip).then(|| serde_json::json!({
                        "Status": "UP", "LastStatusChange": "2024-05-30T08:00:00.000Z"
                    })),
                    "reads_since_modify": null
                })
            })
            .collect();
        let state = serde_json::json!({
            "account": ACCOUNT, "vpn": VPN, "connection_state": "available",
            "stale": stale, "down": down, "back": back, "clock": 0,
            "tunnels": tunnels, "calls": [], "violations": []
        });
        std::fs::write(dir.join("state.json"), state.to_string()).unwrap();
        std::fs::write(dir.join("fix.sh"), tunnel_script()).unwrap();
        FakeAws { dir }
    }

    /// Run the script with the stand-in first on PATH and waits short enough for a test.
    fn run(&self, wait_seconds: u32) -> Output {
        let path = format!(
            "{}:{}",
            self.dir.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new("bash")
            .arg(self.dir.join("fix.sh"))
            .env("PATH", path)
            .env("NETAUDIT_FAKE_AWS_STATE", self.dir.join("state.json"))
            .env("NETAUDIT_TUNNEL_WAIT", wait_seconds.to_string())
            .env("NETAUDIT_POLL_INTERVAL", "0.01")
            .output()
            .unwrap()
    }

    fn state(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(self.dir.join("state.json")).unwrap()).unwrap()
    }

    fn calls(&self) -> Vec<String> {
        self.state()["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect()
    }

    fn violations(&self) -> Vec<String> {
        self.state()["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect()
    }
}

impl Drop for FakeAws {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// The index of the first call at or after `from` that `matches`.
fn find(calls: &[String], from: usize, matches: impl Fn(&str) -> bool) -> Option<usize> {
    calls.iter().skip(from).position(|c| matches(c)).map(|i| i + from)
}

/// The status the stand-in reported for `ip` in a describe call.
fn reported<'a>(call: &'a str, ip: &str) -> Option<&'a str> {
    call.strip_prefix("describe ")?
        .split(',')
        .find_map(|t| t.strip_prefix(&format!("{ip}=")))
}

#[test]
fn the_next_tunnel_waits_until_aws_has_shown_the_change_and_the_tunnel_up_again() {
    // Six reads of the old UP after each modification, two of DOWN, then UP.
    let aws = FakeAws::new("stale-then-down-then-up", &[FIRST, SECOND], 6, 2, true);
    let out = aws.run(30);
    let calls = aws.calls();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}\n{calls:#?}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(aws.violations(), Vec::<String>::new(), "{calls:#?}");

    let first = find(&calls, 0, |c| c == format!("modify {FIRST}")).expect("the first tunnel is modified");
    let first_down = find(&calls, first, |c| reported(c, FIRST) == Some("DOWN")).unwrap();
    let first_up = find(&calls, first_down, |c| reported(c, FIRST) == Some("UP")).unwrap();
    let second = find(&calls, 0, |c| c == format!("modify {SECOND}")).expect("the second tunnel is modified");
    // The stale UP right after the call did not count: the script saw DOWN, then UP, then went on.
    assert!(
        first < first_down && first_down < first_up && first_up < second,
        "{calls:#?}"
    );
    assert!(
        calls[first + 1..first_down]
            .iter()
            .all(|c| reported(c, FIRST) == Some("UP")),
        "{calls:#?}"
    );
    // And the script ends only once the second tunnel is back as well.
    let second_down = find(&calls, second, |c| reported(c, SECOND) == Some("DOWN")).unwrap();
    let second_up = find(&calls, second_down, |c| reported(c, SECOND) == Some("UP")).unwrap();
    assert_eq!(second_up, calls.len() - 1, "{calls:#?}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("netaudit: changed: modified tunnel {FIRST} of {VPN}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("netaudit: changed: modified tunnel {SECOND} of {VPN}")),
        "{stdout}"
    );

    // A second run finds both tunnels configured and changes nothing.
    let again = aws.run(30);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let calls_again = aws.calls();
    assert!(
        calls_again[calls.len()..].iter().all(|c| !c.starts_with("modify")),
        "{calls_again:#?}"
    );
    assert!(!text(&again.stdout).contains("changed"), "{}", text(&again.stdout));
}

#[test]
fn a_tunnel_whose_partner_telemetry_leaves_out_is_not_modified() {
    let aws = FakeAws::new("partner-missing", &[FIRST], 0, 1, true);
    let out = aws.run(1);
    let calls = aws.calls();
    assert_ne!(out.status.code(), Some(0), "{calls:#?}");
    assert!(!calls.iter().any(|c| c.starts_with("modify")), "{calls:#?}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("not modifying tunnel {FIRST} of {VPN}")) && stderr.contains(SECOND),
        "{stderr}"
    );
    assert!(!text(&out.stdout).contains("changed"));
}

#[test]
fn a_tunnel_that_does_not_come_back_stops_the_script_before_the_next() {
    // The change shows on the first read, so the outcome does not depend on how fast the stand-in answers.
    let aws = FakeAws::new("never-back", &[FIRST, SECOND], 0, 1, false);
    let out = aws.run(1);
    let calls = aws.calls();
    assert_ne!(out.status.code(), Some(0), "{calls:#?}");
    assert!(calls.contains(&format!("modify {FIRST}")), "{calls:#?}");
    assert!(!calls.contains(&format!("modify {SECOND}")), "{calls:#?}");
    assert_eq!(aws.violations(), Vec::<String>::new());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("tunnel {FIRST} of {VPN} is not UP again after 1 s")),
        "{stderr}"
    );
}

#[test]
fn a_change_aws_never_shows_stops_the_script_before_the_next() {
    // The old UP and its old LastStatusChange, read after read.
    let aws = FakeAws::new("never-shown", &[FIRST, SECOND], 1_000_000, 1, true);
    let out = aws.run(1);
    let calls = aws.calls();
    assert_ne!(out.status.code(), Some(0), "{calls:#?}");
    assert!(calls.contains(&format!("modify {FIRST}")), "{calls:#?}");
    assert!(!calls.contains(&format!("modify {SECOND}")), "{calls:#?}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "AWS still shows tunnel {FIRST} of {VPN} as before its modification"
        )),
        "{stderr}"
    );
}
