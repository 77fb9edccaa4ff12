//! Apply steps the end-to-end loop does not reach, against the moto emulator: TunnelState alarms,
//! KMS-encrypted groups, and retention that is already longer than asked.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/moto_server.rs"]
mod moto_server;

use aws_config::{BehaviorVersion, Region};
use moto_server::Moto;
use netaudit_aws::{apply_batch, ApplyClients, ApplyOptions, CallLog, StepOutcome};
use netaudit_fix::{Action, Batch, Step};

fn step(action: Action) -> Step {
    Step { action, fixes: vec![] }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_groups_and_retention_against_the_emulator() {
    let moto = Moto::start();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .region(Region::new("us-east-1"))
        .endpoint_url(&moto.url)
        .load()
        .await;
    let calls = CallLog::new();
    let clients = ApplyClients::new(&config, "us-east-1", &calls);
    clients
        .logs
        .create_log_group()
        .log_group_name("/kept/long")
        .send()
        .await
        .unwrap();
    clients
        .logs
        .put_retention_policy()
        .log_group_name("/kept/long")
        .retention_in_days(3653)
        .send()
        .await
        .unwrap();
    let topic = "arn:aws:sns:us-east-1:123456789012:network-oncall";
    let batch = Batch {
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        steps: vec![
            step(Action::CreateLogGroup {
                log_group: "/aws/vendedlogs/vpn/vpn-1".into(),
                retention_days: 365,
                kms_key_arn: Some("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab".into()),
            }),
            step(Action::RaiseRetention {
                log_group: "/kept/long".into(),
                current_days: None,
                retention_days: 365,
            }),
            step(Action::CreateTunnelAlarm {
                alarm_name: "netaudit-tunnel-down-vpn-1-3.5.140.20".into(),
                vpn_connection_id: "vpn-1".into(),
                tunnel_outside_ip: "3.5.140.20".into(),
                topic_arn: topic.into(),
            }),
        ],
    };
    let first = apply_batch(&batch, Ok(clients.clone()), &ApplyOptions::default()).await;
    let outcomes: Vec<&str> = first
        .iter()
        .map(|s| match s.outcome {
            StepOutcome::Changed(_) => "changed",
            StepOutcome::AlreadyDone(_) => "already",
            _ => "other",
        })
        .collect();
    assert_eq!(outcomes, vec!["changed", "already", "changed"], "{first:?}");

    let groups = clients.logs.describe_log_groups().send().await.unwrap();
    let retention = |name: &str| {
        groups
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name))
            .and_then(|g| g.retention_in_days())
    };
    assert_eq!(retention("/kept/long"), Some(3653), "never lowered");
    assert_eq!(retention("/aws/vendedlogs/vpn/vpn-1"), Some(365));
    let alarms = clients
        .cloudwatch
        .describe_alarms()
        .alarm_names("netaudit-tunnel-down-vpn-1-3.5.140.20")
        .send()
        .await
        .unwrap();
    let alarm = &alarms.metric_alarms()[0];
    assert_eq!(alarm.metric_name(), Some("TunnelState"));
    assert_eq!(alarm.namespace(), Some("AWS/VPN"));
    assert_eq!(alarm.dimensions()[0].value(), Some("3.5.140.20"));
    assert_eq!(alarm.alarm_actions(), [topic.to_owned()]);

    let before = calls.counts();
    let second = apply_batch(&batch, Ok(clients), &ApplyOptions::default()).await;
    assert!(
        second.iter().all(|s| matches!(s.outcome, StepOutcome::AlreadyDone(_))),
        "{second:?}"
    );
    let after = calls.counts();
    for api in [
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "cloudwatch:PutMetricAlarm",
    ] {
        assert!(before.contains_key(api), "{api} was called the first time");
        assert_eq!(before.get(api), after.get(api), "{api} was called again");
    }
}
