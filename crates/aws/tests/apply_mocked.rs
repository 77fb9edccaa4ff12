//! Apply against what the emulator lacks: Client VPN endpoints and tunnel options, through
//! `aws-smithy-mocks`. A simulated connection restarts a tunnel after each modification, so the
//! tests can see that tunnels are changed one at a time and never while the other is down.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_config::{BehaviorVersion, Region};
use aws_sdk_ec2::operation::{
    describe_client_vpn_endpoints::DescribeClientVpnEndpointsOutput,
    describe_vpn_connections::DescribeVpnConnectionsOutput, modify_client_vpn_endpoint::ModifyClientVpnEndpointOutput,
    modify_vpn_tunnel_options::ModifyVpnTunnelOptionsOutput,
};
use aws_sdk_ec2::types::*;
use aws_sdk_ec2::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use netaudit_aws::{apply_batch, apply_plan, AccountAccess, ApplyClients, ApplyOptions, CallLog, StepOutcome};
use netaudit_fix::{Action, Batch, FlowLogDestination, Step};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const VPN: &str = "vpn-0aa1bb2cc3dd40002";
const T1: &str = "3.5.140.20";
const T2: &str = "3.5.140.21";

/// One VPN connection: per tunnel its real status, how many more looks it stays down after a
/// modification, and whether it logs; plus what happened, in order. Like AWS, it can keep
/// reporting a tunnel's old UP (and old LastStatusChange) for a few looks after a modification,
/// and leave a tunnel out of the telemetry.
#[derive(Debug, Default)]
struct Sim {
    tunnels: Vec<(String, &'static str, u32, bool)>,
    /// A tunnel that never comes back up.
    stuck_down: Option<String>,
    /// Looks a modified tunnel stays down for (3 when unset).
    restart_looks: u32,
    /// Looks after a modification during which the old UP is still reported.
    stale_looks: u32,
    /// Per tunnel: remaining stale looks.
    stale: std::collections::HashMap<String, u32>,
    /// Per tunnel: the LastStatusChange reported, in seconds.
    last_change: std::collections::HashMap<String, i64>,
    clock: i64,
    /// A tunnel the telemetry leaves out.
    hidden: Option<String>,
    events: Vec<String>,
}

impl Sim {
    fn output(&mut self) -> DescribeVpnConnectionsOutput {
        let mut telemetry = vec![];
        let mut options = vec![];
        let mut reported = vec![];
        for (ip, status, restart, logs) in &mut self.tunnels {
            if *restart > 0 {
                *restart -= 1;
                if *restart == 0 && self.stuck_down.as_deref() != Some(ip.as_str()) {
                    *status = "UP";
                    self.clock += 1;
                    self.last_change.insert(ip.clone(), self.clock);
                }
            }
            let stale = self.stale.entry(ip.clone()).or_default();
            let (shown, changed) = if *stale > 0 {
                *stale -= 1;
                (
                    "UP",
                    self.last_change.get(&format!("{ip}/before")).copied().unwrap_or(0),
                )
            } else {
                (*status, self.last_change.get(ip.as_str()).copied().unwrap_or(0))
            };
            reported.push(format!("{ip}={shown}"));
            if self.hidden.as_deref() != Some(ip.as_str()) {
                telemetry.push(
                    VgwTelemetry::builder()
                        .outside_ip_address(ip.clone())
                        .status(TelemetryStatus::from(shown))
                        .last_status_change(aws_smithy_types::DateTime::from_secs(1_700_000_000 + changed))
                        .build(),
                );
            }
            options.push(
                TunnelOption::builder()
                    .outside_ip_address(ip.clone())
                    .ike_versions(IkeVersionsListValue::builder().value("ikev2").build())
                    .log_options(
                        VpnTunnelLogOptions::builder()
                            .cloud_watch_log_options(CloudWatchLogOptions::builder().log_enabled(*logs).build())
                            .build(),
                    )
                    .build(),
            );
        }
        let snapshot: Vec<String> = self.tunnels.iter().map(|(ip, s, _, _)| format!("{ip}={s}")).collect();
        self.events.push(format!(
            "describe {} reported {}",
            snapshot.join(" "),
            reported.join(" ")
        ));
        DescribeVpnConnectionsOutput::builder()
            .vpn_connections(
                VpnConnection::builder()
                    .vpn_connection_id(VPN)
                    .state(VpnState::Available)
                    .set_vgw_telemetry(Some(telemetry))
                    .options(
                        VpnConnectionOptions::builder()
                            .set_tunnel_options(Some(options))
                            .build(),
                    )
                    .build(),
            )
            .build()
    }

    fn modify(&mut self, ip: &str) {
        let others_up = self.tunnels.iter().filter(|t| t.0 != ip).all(|t| t.1 == "UP");
        self.events.push(format!("modify {ip} others_up={others_up}"));
        let restart = if self.restart_looks == 0 { 3 } else { self.restart_looks };
        for t in &mut self.tunnels {
            if t.0 == ip {
                t.1 = "DOWN";
                t.2 = restart;
                t.3 = true;
            }
        }
        let old = self.last_change.get(ip).copied().unwrap_or(0);
        self.last_change.insert(format!("{ip}/before"), old);
        self.clock += 1;
        self.last_change.insert(ip.to_owned(), self.clock);
        self.stale.insert(ip.to_owned(), self.stale_looks);
    }
}

fn sim(t1: &'static str, t2: &'static str, logging: bool) -> Arc<Mutex<Sim>> {
    Arc::new(Mutex::new(Sim {
        tunnels: vec![(T1.into(), t1, 0, logging), (T2.into(), t2, 0, logging)],
        ..Sim::default()
    }))
}

async fn clients(ec2: Client) -> ApplyClients {
    // The services not under test point at a closed loopback port.
    let config = aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(aws_sdk_ec2::config::Credentials::new("k", "s", None, None, "test"))
        .region(Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .load()
        .await;
    ApplyClients {
        ec2,
        ..ApplyClients::new(&config, "us-east-1", &CallLog::new())
    }
}

fn vpn_client(state: &Arc<Mutex<Sim>>) -> Client {
    let (describe_state, modify_state) = (state.clone(), state.clone());
    let describe = mock!(Client::describe_vpn_connections).then_output(move || describe_state.lock().unwrap().output());
    let modify = mock!(Client::modify_vpn_tunnel_options)
        .match_requests(move |req| {
            modify_state
                .lock()
                .unwrap()
                .modify(req.vpn_tunnel_outside_ip_address().unwrap_or_default());
            true
        })
        .then_output(|| ModifyVpnTunnelOptionsOutput::builder().build());
    mock_client!(aws_sdk_ec2, RuleMode::MatchAny, &[&describe, &modify])
}

fn tunnel_step(ip: &str) -> Step {
    Step {
        action: Action::ConfigureTunnel {
            vpn_connection_id: VPN.into(),
            tunnel_outside_ip: ip.into(),
            log_group_arn: Some("arn:aws:logs:us-east-1:111111111111:log-group:/aws/vendedlogs/vpn/x".into()),
            ike_versions: None,
        },
        fixes: vec![],
    }
}

fn batch(steps: Vec<Step>) -> Batch {
    Batch {
        account_id: "111111111111".into(),
        region: "us-east-1".into(),
        priority: Default::default(),
        steps,
    }
}

fn fast() -> ApplyOptions {
    ApplyOptions {
        dry_run: false,
        tunnel_wait: Duration::from_millis(300),
        poll_interval: Duration::from_millis(5),
        delivery_wait: Duration::from_millis(50),
    }
}

/// Every event, and the positions of the modifications of tunnel 1 and of tunnel 2.
fn between_modifications(state: &Arc<Mutex<Sim>>) -> (Vec<String>, usize, usize) {
    let events = state.lock().unwrap().events.clone();
    let at = |ip: &str| {
        events
            .iter()
            .position(|e| e.starts_with(&format!("modify {ip}")))
            .unwrap()
    };
    let (first, second) = (at(T1), at(T2));
    (events, first, second)
}

fn modifies(state: &Arc<Mutex<Sim>>) -> Vec<String> {
    state
        .lock()
        .unwrap()
        .events
        .iter()
        .filter(|e| e.starts_with("modify"))
        .cloned()
        .collect()
}

#[tokio::test]
async fn tunnels_are_modified_one_at_a_time_and_only_while_the_other_is_up() {
    let state = sim("UP", "UP", false);
    let c = clients(vpn_client(&state)).await;
    let report = apply_batch(&batch(vec![tunnel_step(T1), tunnel_step(T2)]), Ok(c), &fast()).await;
    let outcomes: Vec<_> = report
        .iter()
        .map(|s| matches!(s.outcome, StepOutcome::Changed(_)))
        .collect();
    assert_eq!(outcomes, vec![true, true], "{report:?}");
    assert_eq!(
        modifies(&state),
        vec![
            format!("modify {T1} others_up=true"),
            format!("modify {T2} others_up=true")
        ]
    );
    // Between the two modifications the first tunnel was seen UP again.
    let (events, first, second) = between_modifications(&state);
    assert!(events[first..second]
        .iter()
        .any(|e| e.contains(&format!("{T1}=UP")) && e.starts_with("describe")));
    assert!(
        events[first + 1..second]
            .iter()
            .any(|e| e.contains(&format!("{T1}=DOWN"))),
        "the restart was observed: {events:?}"
    );
}

#[tokio::test]
async fn a_tunnel_is_never_touched_while_its_partner_is_down() {
    // Tunnel 2 is down and stays down: modifying tunnel 1 would cut the connection.
    let state = sim("UP", "DOWN", false);
    state.lock().unwrap().stuck_down = Some(T2.into());
    let c = clients(vpn_client(&state)).await;
    let report = apply_batch(&batch(vec![tunnel_step(T1), tunnel_step(T2)]), Ok(c), &fast()).await;
    assert!(
        matches!(&report[0].outcome, StepOutcome::Failed(why) if why.contains("the other tunnel was not reported UP")),
        "{report:?}"
    );
    assert!(matches!(report[1].outcome, StepOutcome::NotAttempted(_)), "{report:?}");
    assert!(modifies(&state).is_empty(), "no tunnel was modified");
}

#[tokio::test]
async fn a_tunnel_that_does_not_come_back_stops_the_batch_before_the_second() {
    let state = sim("UP", "UP", false);
    state.lock().unwrap().stuck_down = Some(T1.into());
    let c = clients(vpn_client(&state)).await;
    let report = apply_batch(&batch(vec![tunnel_step(T1), tunnel_step(T2)]), Ok(c), &fast()).await;
    assert!(
        matches!(&report[0].outcome, StepOutcome::Failed(why) if why.contains("did not come back UP")),
        "{report:?}"
    );
    assert!(matches!(report[1].outcome, StepOutcome::NotAttempted(_)), "{report:?}");
    assert_eq!(modifies(&state), vec![format!("modify {T1} others_up=true")]);
}

#[tokio::test]
async fn configured_tunnels_are_left_alone_and_a_dry_run_changes_nothing() {
    let state = sim("UP", "UP", true);
    let c = clients(vpn_client(&state)).await;
    let report = apply_batch(&batch(vec![tunnel_step(T1), tunnel_step(T2)]), Ok(c), &fast()).await;
    assert!(
        report.iter().all(|s| matches!(s.outcome, StepOutcome::AlreadyDone(_))),
        "{report:?}"
    );

    let state = sim("UP", "UP", false);
    let c = clients(vpn_client(&state)).await;
    let dry = ApplyOptions {
        dry_run: true,
        ..fast()
    };
    let report = apply_batch(&batch(vec![tunnel_step(T1)]), Ok(c), &dry).await;
    assert!(
        matches!(&report[0].outcome, StepOutcome::WouldChange(calls) if calls[0].starts_with("ec2:ModifyVpnTunnelOptions")),
        "{report:?}"
    );
    assert!(modifies(&state).is_empty());
}

#[tokio::test]
async fn client_vpn_logging_is_enabled_once() {
    let enabled = Arc::new(Mutex::new(false));
    // (Enabled, CloudwatchLogGroup) of each ModifyClientVpnEndpoint call.
    type Requests = Arc<Mutex<Vec<(Option<bool>, Option<String>)>>>;
    let modified: Requests = Arc::default();
    let (read, write, seen) = (enabled.clone(), enabled.clone(), modified.clone());
    let describe = mock!(Client::describe_client_vpn_endpoints).then_output(move || {
        DescribeClientVpnEndpointsOutput::builder()
            .client_vpn_endpoints(
                ClientVpnEndpoint::builder()
                    .client_vpn_endpoint_id("cvpn-endpoint-1")
                    .connection_log_options(
                        ConnectionLogResponseOptions::builder()
                            .enabled(*read.lock().unwrap())
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let modify = mock!(Client::modify_client_vpn_endpoint)
        .match_requests(move |req| {
            let o = req.connection_log_options();
            seen.lock().unwrap().push((
                o.and_then(|o| o.enabled()),
                o.and_then(|o| o.cloudwatch_log_group()).map(str::to_owned),
            ));
            *write.lock().unwrap() = true;
            true
        })
        .then_output(|| ModifyClientVpnEndpointOutput::builder().build());
    let ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, &[&describe, &modify]);
    let step = Step {
        action: Action::EnableClientVpnLogging {
            client_vpn_endpoint_id: "cvpn-endpoint-1".into(),
            log_group: "/aws/clientvpn/cvpn-endpoint-1".into(),
        },
        fixes: vec![],
    };
    let c = clients(ec2).await;
    let first = apply_batch(&batch(vec![step.clone()]), Ok(c.clone()), &fast()).await;
    assert!(matches!(first[0].outcome, StepOutcome::Changed(_)), "{first:?}");
    let second = apply_batch(&batch(vec![step]), Ok(c), &fast()).await;
    assert!(matches!(second[0].outcome, StepOutcome::AlreadyDone(_)), "{second:?}");
    assert_eq!(
        *modified.lock().unwrap(),
        vec![(Some(true), Some("/aws/clientvpn/cvpn-endpoint-1".to_owned()))]
    );
}

#[tokio::test]
async fn a_stale_up_after_a_modification_is_not_taken_for_the_tunnel_coming_back() {
    // Like AWS: after the modification the tunnel keeps being reported UP, with its old
    // LastStatusChange, for three looks while it is really renegotiating; then DOWN; then UP.
    let state = sim("UP", "UP", false);
    {
        let mut s = state.lock().unwrap();
        s.stale_looks = 3;
        s.restart_looks = 6;
    }
    let c = clients(vpn_client(&state)).await;
    let report = apply_batch(&batch(vec![tunnel_step(T1), tunnel_step(T2)]), Ok(c), &fast()).await;
    assert!(
        report.iter().all(|s| matches!(s.outcome, StepOutcome::Changed(_))),
        "{report:?}"
    );
    // The second tunnel was modified only once the first was really UP again.
    assert_eq!(
        modifies(&state),
        vec![
            format!("modify {T1} others_up=true"),
            format!("modify {T2} others_up=true")
        ]
    );
    let (events, first, second) = between_modifications(&state);
    assert!(
        events[first..second]
            .iter()
            .any(|e| e.contains(&format!("reported {T1}=DOWN"))),
        "apply waited until AWS showed the change: {events:?}"
    );
}

#[tokio::test]
async fn a_partner_missing_from_the_telemetry_is_not_up() {
    // AWS lists one tunnel's telemetry only: the other may be down, so nothing is modified.
    let state = sim("UP", "UP", false);
    state.lock().unwrap().hidden = Some(T2.into());
    let c = clients(vpn_client(&state)).await;
    let report = apply_batch(&batch(vec![tunnel_step(T1)]), Ok(c), &fast()).await;
    assert!(
        matches!(&report[0].outcome, StepOutcome::Failed(why) if why.contains("not reported UP") && why.contains(&format!("{T2} not reported"))),
        "{report:?}"
    );
    assert!(modifies(&state).is_empty(), "no tunnel was modified");
}

#[tokio::test]
async fn regional_flow_logs_are_not_attempted_when_their_delivery_role_could_not_be_made() {
    // IAM is unreachable (a closed port): the role step fails, and the regional batch whose flow
    // log that role would deliver is not attempted at all.
    let config = aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(aws_sdk_ec2::config::Credentials::new("k", "s", None, None, "test"))
        .region(Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await;
    let role = Step {
        action: Action::CreateDeliveryRole {
            role_name: "netaudit-flow-logs-delivery".into(),
        },
        fixes: vec![],
    };
    let flow_log = Step {
        action: Action::CreateFlowLog {
            vpc_id: "vpc-1".into(),
            traffic_type: "ALL".into(),
            max_aggregation_interval: 600,
            destination: FlowLogDestination::CloudWatchLogs {
                log_group: "/aws/vpc/flow-logs/vpc-1".into(),
                delivery_role_arn: "arn:aws:iam::111111111111:role/netaudit-flow-logs-delivery".into(),
            },
        },
        fixes: vec![],
    };
    let mut plan = netaudit_fix::plan(&[], &Default::default(), &Default::default());
    plan.batches = vec![
        Batch {
            account_id: "111111111111".into(),
            region: "global".into(),
            priority: Default::default(),
            steps: vec![role],
        },
        batch(vec![flow_log]),
    ];
    let access = AccountAccess {
        config,
        own_account: "111111111111".into(),
        org_role: None,
        external_id: None,
    };
    let calls = CallLog::new();
    let report = apply_plan(&plan, &access, &fast(), &calls).await;
    assert!(matches!(&report.steps[0].outcome, StepOutcome::Failed(_)), "{report:?}");
    assert!(
        matches!(&report.steps[1].outcome, StepOutcome::NotAttempted(why) if why.contains("delivery role netaudit-flow-logs-delivery")),
        "{report:?}"
    );
    assert!(
        calls.counts().keys().all(|api| api.starts_with("iam:")),
        "no regional call was made: {:?}",
        calls.counts()
    );
}
