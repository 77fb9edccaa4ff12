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
        priority: Default::default(),
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

#[test]
fn a_batch_in_another_account_runs_through_the_org_role_or_not_at_all() {
    // The default credential chain reads these; every test in this file uses the same values.
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    let moto = Moto::start();
    let member = "111111111111";
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let vpc_id = runtime.block_on(async {
        let own = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&moto.url)
            .load()
            .await;
        let provider = aws_config::sts::AssumeRoleProvider::builder(format!(
            "arn:aws:iam::{member}:role/OrganizationAccountAccessRole"
        ))
        .session_name("seed")
        .configure(&own)
        .build()
        .await;
        let member_config = own
            .to_builder()
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
            .build();
        aws_sdk_s3::Client::new(&member_config)
            .create_bucket()
            .bucket("central-flow-logs")
            .send()
            .await
            .unwrap();
        let out = aws_sdk_ec2::Client::new(&member_config)
            .create_vpc()
            .cidr_block("10.7.0.0/16")
            .send()
            .await
            .unwrap();
        out.vpc().and_then(|v| v.vpc_id()).unwrap().to_owned()
    });
    drop(runtime);
    let finding = netaudit_checks::Finding {
        control: "EC2.6".into(),
        status: netaudit_checks::Status::Fail,
        resource_type: "Vpc".into(),
        resource_id: vpc_id.clone(),
        resource_name: None,
        resource_arn: format!("arn:aws:ec2:us-east-1:{member}:vpc/{vpc_id}"),
        account_id: member.into(),
        region: "us-east-1".into(),
        reason: "no flow log".into(),
        evidence: serde_json::Map::new(),
        gaps: vec![],
        exception: None,
        remedy: Some(netaudit_checks::Remedy::CreateFlowLog { vpc_id: vpc_id.clone() }),
        location: None,
        read_from: None,
        priority: Default::default(),
        priority_reasons: vec![],
    };
    let options = netaudit_fix::PlanOptions {
        destination: netaudit_fix::DestinationChoice::S3 {
            bucket_arn: "arn:aws:s3:::central-flow-logs".into(),
        },
        ..netaudit_fix::PlanOptions::default()
    };
    let plan = netaudit_fix::plan(&[finding], &netaudit_fix::ExistingLogGroups::new(), &options);
    let live = netaudit_aws::LiveOptions {
        endpoint_url: Some(moto.url.clone()),
        regions: Some(vec!["us-east-1".into()]),
        max_attempts: 1,
        ..netaudit_aws::LiveOptions::default()
    };
    let calls = CallLog::new();

    // Without a role to assume, the member's batch fails and nothing is attempted.
    let (refused, _) = netaudit_aws::apply_and_verify(&plan, &live, None, &ApplyOptions::default(), &calls).unwrap();
    assert!(
        matches!(&refused.steps[0].outcome, StepOutcome::Failed(why) if why.contains("--org-role")),
        "{refused:?}"
    );
    assert!(!calls.counts().contains_key("ec2:CreateFlowLogs"));

    let (report, after) = netaudit_aws::apply_and_verify(
        &plan,
        &live,
        Some("OrganizationAccountAccessRole"),
        &ApplyOptions::default(),
        &calls,
    )
    .unwrap();
    assert!(matches!(report.steps[0].outcome, StepOutcome::Changed(_)), "{report:?}");
    let after = after.unwrap();
    assert_eq!(after.accounts.len(), 1);
    assert_eq!(
        after.accounts[0].account_id, member,
        "the read-back ran in the member account"
    );
    let graph = netaudit_model::Graph::build(&after);
    let (catalogue, _) = netaudit_checks::builtin();
    let ec2_6 = catalogue.get("EC2.6").unwrap();
    let (findings, _) = netaudit_checks::evaluate(&[ec2_6], &graph, &std::collections::BTreeMap::new());
    let verdict = findings.iter().find(|f| f.resource_id == vpc_id).unwrap();
    assert_eq!(verdict.status, netaudit_checks::Status::Pass);
}
