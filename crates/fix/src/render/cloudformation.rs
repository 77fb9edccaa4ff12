//! The plan as CloudFormation: one template per account and region (stacks are regional; the
//! delivery role goes in the account's `global` template). Existing log groups whose retention is
//! raised are declared with `DeletionPolicy: Retain` for a resource-import change set; changes to
//! existing Client VPN endpoints and tunnels, which a template cannot make without owning them,
//! are listed in the template's Metadata.

use crate::plan::{Action, Batch, FlowLogDestination, Plan};
use crate::{delivery_role_policy, delivery_role_trust_policy, tunnel_alarm};
use serde_json::{json, Map, Value};

/// A logical id: letters and digits only.
fn logical_id(parts: &[&str]) -> String {
    let mut out = String::new();
    for part in parts {
        let mut upper = true;
        for c in part.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(if upper { c.to_ascii_uppercase() } else { c });
                upper = false;
            } else {
                upper = true;
            }
        }
    }
    out
}

/// The file name a batch's template is written to.
pub fn template_name(batch: &Batch) -> String {
    format!("netaudit-fix-{}-{}.template.json", batch.account_id, batch.region)
}

/// One template per batch, in plan order: (file name, template).
pub fn render(plan: &Plan) -> Vec<(String, Value)> {
    plan.batches.iter().map(|b| (template_name(b), template(b))).collect()
}

fn template(batch: &Batch) -> Value {
    let mut resources = Map::new();
    let mut by_hand = vec![];
    let mut import = vec![];
    for step in &batch.steps {
        let fixes: Vec<String> = step
            .fixes
            .iter()
            .map(|f| format!("{} {}", f.control, f.resource_arn))
            .collect();
        let metadata = json!({"netaudit": {"fixes": fixes}});
        match &step.action {
            Action::CreateDeliveryRole { role_name } => {
                resources.insert(
                    logical_id(&[role_name]),
                    json!({
                        "Type": "AWS::IAM::Role",
                        "Metadata": metadata,
                        "Properties": {
                            "RoleName": role_name,
                            "AssumeRolePolicyDocument": delivery_role_trust_policy(&batch.account_id),
                            "Policies": [{"PolicyName": "netaudit-flow-logs-delivery", "PolicyDocument": delivery_role_policy()}]
                        }
                    }),
                );
            }
            Action::CreateLogGroup {
                log_group,
                retention_days,
                kms_key_arn,
            } => {
                let mut props = json!({"LogGroupName": log_group, "RetentionInDays": retention_days});
                if let Some(k) = kms_key_arn {
                    props["KmsKeyId"] = json!(k);
                }
                resources.insert(
                    logical_id(&["LogGroup", log_group]),
                    json!({"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Metadata": metadata, "Properties": props}),
                );
            }
            Action::RaiseRetention {
                log_group,
                retention_days,
                ..
            } => {
                let id = logical_id(&["LogGroup", log_group]);
                import.push(json!({"ResourceType": "AWS::Logs::LogGroup", "LogicalResourceId": id, "ResourceIdentifier": {"LogGroupName": log_group}}));
                resources.insert(
                    id,
                    json!({
                        "Type": "AWS::Logs::LogGroup",
                        "DeletionPolicy": "Retain",
                        "UpdateReplacePolicy": "Retain",
                        "Metadata": metadata,
                        "Properties": {"LogGroupName": log_group, "RetentionInDays": retention_days}
                    }),
                );
            }
            Action::CreateFlowLog {
                vpc_id,
                traffic_type,
                max_aggregation_interval,
                destination,
            } => {
                let mut props = json!({
                    "ResourceType": "VPC",
                    "ResourceId": vpc_id,
                    "TrafficType": traffic_type,
                    "MaxAggregationInterval": max_aggregation_interval,
                });
                match destination {
                    FlowLogDestination::CloudWatchLogs {
                        log_group,
                        delivery_role_arn,
                    } => {
                        let group_id = logical_id(&["LogGroup", log_group]);
                        props["LogDestinationType"] = json!("cloud-watch-logs");
                        props["LogGroupName"] = if resources.contains_key(&group_id) {
                            json!({"Ref": group_id})
                        } else {
                            json!(log_group)
                        };
                        props["DeliverLogsPermissionArn"] = json!(delivery_role_arn);
                    }
                    FlowLogDestination::S3 { bucket_arn } => {
                        props["LogDestinationType"] = json!("s3");
                        props["LogDestination"] = json!(bucket_arn);
                    }
                    FlowLogDestination::KinesisDataFirehose { delivery_stream_arn } => {
                        props["LogDestinationType"] = json!("kinesis-data-firehose");
                        props["LogDestination"] = json!(delivery_stream_arn);
                    }
                }
                resources.insert(
                    logical_id(&["FlowLog", vpc_id]),
                    json!({"Type": "AWS::EC2::FlowLog", "Metadata": metadata, "Properties": props}),
                );
            }
            Action::CreateTunnelAlarm {
                alarm_name,
                tunnel_outside_ip,
                topic_arn,
                ..
            } => {
                let a = tunnel_alarm(tunnel_outside_ip);
                resources.insert(
                    logical_id(&["Alarm", alarm_name]),
                    json!({
                        "Type": "AWS::CloudWatch::Alarm",
                        "Metadata": metadata,
                        "Properties": {
                            "AlarmName": alarm_name,
                            "Namespace": a.namespace,
                            "MetricName": a.metric_name,
                            "Dimensions": [{"Name": "TunnelIpAddress", "Value": tunnel_outside_ip}],
                            "Statistic": a.statistic,
                            "Period": a.period,
                            "EvaluationPeriods": a.evaluation_periods,
                            "Threshold": a.threshold,
                            "ComparisonOperator": a.comparison_operator,
                            "TreatMissingData": a.treat_missing_data,
                            "AlarmActions": [topic_arn]
                        }
                    }),
                );
            }
            Action::EnableClientVpnLogging { .. } | Action::ConfigureTunnel { .. } => {
                by_hand.push(json!({"change": step.action.summary(), "fixes": fixes}));
            }
        }
    }
    if resources.is_empty() {
        // A template needs one resource; everything in this batch is listed in Metadata instead.
        resources.insert(
            "NothingToCreate".into(),
            json!({"Type": "AWS::CloudFormation::WaitConditionHandle"}),
        );
    }
    let mut metadata = Map::new();
    if !import.is_empty() {
        metadata.insert("netaudit:import".into(), Value::Array(import));
    }
    if !by_hand.is_empty() {
        metadata.insert("netaudit:not-expressed".into(), Value::Array(by_hand));
    }
    let mut t = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("netaudit fix plan for account {} in {}", batch.account_id, batch.region),
        "Resources": resources,
    });
    if !metadata.is_empty() {
        t["Metadata"] = Value::Object(metadata);
    }
    t
}
