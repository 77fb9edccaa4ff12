//! Remediation for netaudit: a pure planner from failing results to a reviewable plan, the plan's
//! renderers (AWS CLI script, Terraform, CloudFormation), and the guardrails that keep the audit
//! trail from being turned off again (a Config conformance pack and an SCP).
//!
//! The planner only adds and raises. It plans for FAIL results only, merges actions that touch the
//! same resource, groups them per account and region, and names the controls each action fixes;
//! what it cannot fix is listed with the reason. Executing a plan is the `aws` crate's job.

pub mod guardrails;
mod plan;
pub mod render;

pub use plan::{
    existing_log_groups, plan, Action, Batch, DestinationChoice, ExistingLogGroups, Fixes, FlowLogDestination,
    NotPlanned, OptionError, Plan, PlanOptions, ScanSettings, Step, Unreadable, PLAN_SCHEMA_VERSION, RETENTION_DAYS,
};

/// A stable client token for an action: retrying the same creation returns the same resource.
pub fn client_token(action: &Action) -> String {
    // FNV-1a over the action's JSON: stable across runs and platforms.
    let text = serde_json::to_string(action).unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("netaudit-{hash:016x}")
}

/// Who may assume the flow-log delivery role: the flow-logs service, for this account only.
pub fn delivery_role_trust_policy(account: &str) -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account}}
        }]
    })
}

/// What the delivery role may do: write flow-log streams.
pub fn delivery_role_policy() -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
            "Resource": "*"
        }]
    })
}

/// The TunnelState alarm's settings: down (below 1) for three 5-minute periods, and missing data
/// counts as down, so a tunnel that stops reporting still alarms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmSpec {
    pub namespace: &'static str,
    pub metric_name: &'static str,
    pub dimension_value: String,
    pub statistic: &'static str,
    pub period: i32,
    pub evaluation_periods: i32,
    pub threshold: i32,
    pub comparison_operator: &'static str,
    pub treat_missing_data: &'static str,
}

pub fn tunnel_alarm(tunnel_outside_ip: &str) -> AlarmSpec {
    AlarmSpec {
        namespace: "AWS/VPN",
        metric_name: "TunnelState",
        dimension_value: tunnel_outside_ip.to_owned(),
        statistic: "Maximum",
        period: 300,
        evaluation_periods: 3,
        threshold: 1,
        comparison_operator: "LessThanThreshold",
        treat_missing_data: "breaching",
    }
}

/// `--tunnel-options` for ModifyVpnTunnelOptions: only the settings being changed.
pub fn tunnel_options_json(log_group_arn: Option<&str>, ike_versions: Option<&[String]>) -> serde_json::Value {
    let mut options = serde_json::Map::new();
    if let Some(arn) = log_group_arn {
        options.insert(
            "LogOptions".into(),
            serde_json::json!({"CloudWatchLogOptions": {"LogEnabled": true, "LogGroupArn": arn, "LogOutputFormat": "json"}}),
        );
    }
    if let Some(versions) = ike_versions {
        let list: Vec<serde_json::Value> = versions.iter().map(|v| serde_json::json!({"Value": v})).collect();
        options.insert("IKEVersions".into(), serde_json::Value::Array(list));
    }
    serde_json::Value::Object(options)
}

/// Every IAM action `netaudit fix apply` may call, besides the read-only scan policy.
pub const APPLY_ACTIONS: &[&str] = &[
    "ec2:CreateFlowLogs",
    "ec2:DescribeFlowLogs",
    "ec2:DescribeClientVpnEndpoints",
    "ec2:ModifyClientVpnEndpoint",
    "ec2:DescribeVpnConnections",
    "ec2:ModifyVpnTunnelOptions",
    "logs:CreateLogGroup",
    "logs:DescribeLogGroups",
    "logs:PutRetentionPolicy",
    "logs:CreateLogDelivery",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:DescribeAlarms",
    "iam:GetRole",
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:PassRole",
    "sts:GetCallerIdentity",
];

/// The IAM policy `netaudit fix apply` needs: the calls above, and passing only the flow-log
/// delivery role, only to the flow-logs service.
pub fn apply_policy(delivery_role: &str) -> serde_json::Value {
    let mut actions: Vec<&str> = APPLY_ACTIONS.iter().copied().filter(|a| *a != "iam:PassRole").collect();
    actions.sort_unstable();
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "NetauditFixApply",
                "Effect": "Allow",
                "Action": actions,
                "Resource": "*"
            },
            {
                "Sid": "PassTheFlowLogDeliveryRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": format!("arn:aws:iam::*:role/{delivery_role}"),
                "Condition": {"StringEquals": {"iam:PassedToService": "vpc-flow-logs.amazonaws.com"}}
            }
        ]
    })
}
