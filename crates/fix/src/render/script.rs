//! The plan as a reviewable bash script of AWS CLI calls. Every step is idempotent: it checks
//! before it changes, so the script can be re-run after a failure and finishes the job.

use crate::plan::{Action, FlowLogDestination, Plan};
use crate::{client_token, delivery_role_policy, delivery_role_trust_policy, tunnel_alarm};
use std::fmt::Write;

/// Quote for bash: single quotes, with embedded single quotes closed and escaped.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+".contains(&b))
    {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

const PRELUDE: &str = r#"set -euo pipefail

# Stop unless the credentials in use belong to the account a section is for.
na_account() {
  local actual
  actual=$(aws sts get-caller-identity --query Account --output text)
  if [ "$actual" != "$1" ]; then
    echo "netaudit: this section is for account $1, but the credentials are for $actual" >&2
    exit 1
  fi
}

# Create a log group unless it exists; set its retention (raising only) and KMS key.
na_log_group() { # region name days [kms-key-arn]
  local region=$1 name=$2 days=$3 kms=${4:-}
  local found
  found=$(aws logs describe-log-groups --region "$region" --log-group-name-prefix "$name" \
    --query "logGroups[?logGroupName=='$name'] | length(@)" --output text)
  if [ "$found" = "0" ]; then
    if [ -n "$kms" ]; then
      aws logs create-log-group --region "$region" --log-group-name "$name" --kms-key-id "$kms"
    else
      aws logs create-log-group --region "$region" --log-group-name "$name"
    fi
  fi
  na_raise_retention "$region" "$name" "$days"
}

# Raise a log group's retention to at least DAYS; never lower it, never touch never-expire.
na_raise_retention() { # region name days
  local region=$1 name=$2 days=$3 current
  current=$(aws logs describe-log-groups --region "$region" --log-group-name-prefix "$name" \
    --query "logGroups[?logGroupName=='$name'] | [0].retentionInDays" --output text)
  if [ "$current" != "None" ] && [ "$current" != "null" ] && [ "$current" -lt "$days" ]; then
    aws logs put-retention-policy --region "$region" --log-group-name "$name" --retention-in-days "$days"
  elif [ "$current" = "None" ] || [ "$current" = "null" ]; then
    local exists
    exists=$(aws logs describe-log-groups --region "$region" --log-group-name-prefix "$name" \
      --query "logGroups[?logGroupName=='$name'] | length(@)" --output text)
    [ "$exists" != "0" ] || { echo "netaudit: log group $name does not exist in $region" >&2; exit 1; }
  fi
}

# Wait until a tunnel reports UP (at most 15 minutes).
na_wait_tunnel_up() { # region vpn-connection-id outside-ip
  local region=$1 vpn=$2 ip=$3 status i
  for i in $(seq 1 90); do
    status=$(na_tunnel_status "$region" "$vpn" "$ip")
    [ "$status" = "UP" ] && return 0
    sleep 10
  done
  echo "netaudit: tunnel $ip of $vpn is not UP after 15 minutes; stopping" >&2
  exit 1
}

na_tunnel_status() { # region vpn-connection-id outside-ip
  aws ec2 describe-vpn-connections --region "$1" --vpn-connection-ids "$2" \
    --query "VpnConnections[0].VgwTelemetry[?OutsideIpAddress=='$3'] | [0].Status" --output text
}

# Modify one tunnel, never two at once: every other tunnel of the connection must be UP first (so
# traffic keeps a path while this one renegotiates), and a tunnel that was UP must be UP again
# before the script goes on. DONE is a JMESPath test over the tunnel's options that says the
# change is already made.
na_modify_tunnel() { # region vpn-connection-id outside-ip tunnel-options-json done-query
  local region=$1 vpn=$2 ip=$3 options=$4 done_query=$5 other before already
  already=$(aws ec2 describe-vpn-connections --region "$region" --vpn-connection-ids "$vpn" \
    --query "VpnConnections[0].Options.TunnelOptions[?OutsideIpAddress=='$ip'] | [0].$done_query" --output text)
  if [ "$already" = "True" ]; then
    return 0
  fi
  for other in $(aws ec2 describe-vpn-connections --region "$region" --vpn-connection-ids "$vpn" \
      --query "VpnConnections[0].VgwTelemetry[?OutsideIpAddress!='$ip'].OutsideIpAddress" --output text); do
    na_wait_tunnel_up "$region" "$vpn" "$other"
  done
  before=$(na_tunnel_status "$region" "$vpn" "$ip")
  aws ec2 modify-vpn-tunnel-options --region "$region" --vpn-connection-id "$vpn" \
    --vpn-tunnel-outside-ip-address "$ip" --tunnel-options "$options"
  if [ "$before" = "UP" ]; then
    na_wait_tunnel_up "$region" "$vpn" "$ip"
  fi
}
"#;

pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "#!/usr/bin/env bash");
    let _ = writeln!(
        out,
        "# netaudit fix plan: {} step(s) in {} batch(es). Review before running; each section checks the",
        plan.step_count(),
        plan.batches.len()
    );
    let _ = writeln!(
        out,
        "# account it is for. Nothing here deletes anything or lowers a retention."
    );
    out.push_str(PRELUDE);
    for batch in &plan.batches {
        let _ = writeln!(out, "\n# ---- account {} · {} ----", batch.account_id, batch.region);
        let _ = writeln!(out, "na_account {}", batch.account_id);
        let region = shell_quote(&batch.region);
        for step in &batch.steps {
            let fixes: Vec<String> = step
                .fixes
                .iter()
                .map(|f| f.control.clone())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let _ = writeln!(out, "\n# {} (fixes {})", step.action.summary(), fixes.join(", "));
            match &step.action {
                Action::CreateDeliveryRole { role_name } => {
                    let q = shell_quote(role_name);
                    let _ = writeln!(out, "if ! aws iam get-role --role-name {q} >/dev/null 2>&1; then");
                    let _ = writeln!(
                        out,
                        "  aws iam create-role --role-name {q} --assume-role-policy-document {}",
                        shell_quote(&delivery_role_trust_policy(&batch.account_id).to_string())
                    );
                    let _ = writeln!(out, "fi");
                    let _ = writeln!(
                        out,
                        "aws iam put-role-policy --role-name {q} --policy-name netaudit-flow-logs-delivery --policy-document {}",
                        shell_quote(&delivery_role_policy().to_string())
                    );
                }
                Action::CreateLogGroup {
                    log_group,
                    retention_days,
                    kms_key_arn,
                } => {
                    let _ = write!(out, "na_log_group {region} {} {retention_days}", shell_quote(log_group));
                    if let Some(k) = kms_key_arn {
                        let _ = write!(out, " {}", shell_quote(k));
                    }
                    out.push('\n');
                }
                Action::RaiseRetention {
                    log_group,
                    retention_days,
                    ..
                } => {
                    let _ = writeln!(
                        out,
                        "na_raise_retention {region} {} {retention_days}",
                        shell_quote(log_group)
                    );
                }
                Action::CreateFlowLog {
                    vpc_id,
                    traffic_type,
                    max_aggregation_interval,
                    destination,
                } => {
                    // Skip when a flow log to the same destination already watches the VPC; the
                    // client token makes a retried call return the same flow log.
                    let dest_arg = match destination {
                        FlowLogDestination::CloudWatchLogs {
                            log_group,
                            delivery_role_arn,
                        } => format!(
                            "--log-destination-type cloud-watch-logs --log-group-name {} --deliver-logs-permission-arn {}",
                            shell_quote(log_group),
                            shell_quote(delivery_role_arn)
                        ),
                        FlowLogDestination::S3 { bucket_arn } => {
                            format!("--log-destination-type s3 --log-destination {}", shell_quote(bucket_arn))
                        }
                        FlowLogDestination::KinesisDataFirehose { delivery_stream_arn } => format!(
                            "--log-destination-type kinesis-data-firehose --log-destination {}",
                            shell_quote(delivery_stream_arn)
                        ),
                    };
                    let _ = writeln!(
                        out,
                        "existing=$(aws ec2 describe-flow-logs --region {region} --filter Name=resource-id,Values={} \
                         --query \"FlowLogs[?FlowLogStatus=='ACTIVE' && (TrafficType=='ALL' || TrafficType=='{traffic_type}')] | length(@)\" --output text)",
                        shell_quote(vpc_id)
                    );
                    let _ = writeln!(out, "if [ \"$existing\" = \"0\" ]; then");
                    let _ = writeln!(
                        out,
                        "  aws ec2 create-flow-logs --region {region} --resource-type VPC --resource-ids {} \
                         --traffic-type {traffic_type} --max-aggregation-interval {max_aggregation_interval} {dest_arg} --client-token {}",
                        shell_quote(vpc_id),
                        client_token(&step.action)
                    );
                    let _ = writeln!(out, "fi");
                }
                Action::EnableClientVpnLogging {
                    client_vpn_endpoint_id,
                    log_group,
                } => {
                    let options = serde_json::json!({"Enabled": true, "CloudwatchLogGroup": log_group});
                    let _ = writeln!(
                        out,
                        "aws ec2 modify-client-vpn-endpoint --region {region} --client-vpn-endpoint-id {} --connection-log-options {}",
                        shell_quote(client_vpn_endpoint_id),
                        shell_quote(&options.to_string())
                    );
                }
                Action::ConfigureTunnel {
                    vpn_connection_id,
                    tunnel_outside_ip,
                    log_group_arn,
                    ike_versions,
                } => {
                    let options = crate::tunnel_options_json(log_group_arn.as_deref(), ike_versions.as_deref());
                    let mut done = vec![];
                    if log_group_arn.is_some() {
                        done.push("LogOptions.CloudWatchLogOptions.LogEnabled".to_owned());
                    }
                    if let Some(v) = ike_versions {
                        let list: Vec<String> = v.iter().map(|x| format!("'{x}'")).collect();
                        done.push(format!("(IkeVersions[].Value == [{}])", list.join(", ")));
                    }
                    let _ = writeln!(
                        out,
                        "na_modify_tunnel {region} {} {} {} {}",
                        shell_quote(vpn_connection_id),
                        shell_quote(tunnel_outside_ip),
                        shell_quote(&options.to_string()),
                        shell_quote(&format!("({})", done.join(" && ")))
                    );
                }
                Action::CreateTunnelAlarm {
                    alarm_name,
                    tunnel_outside_ip,
                    topic_arn,
                    ..
                } => {
                    let a = tunnel_alarm(tunnel_outside_ip);
                    let _ = writeln!(
                        out,
                        "aws cloudwatch put-metric-alarm --region {region} --alarm-name {} --namespace {} --metric-name {} \
                         --dimensions Name=TunnelIpAddress,Value={} --statistic {} --period {} --evaluation-periods {} \
                         --threshold {} --comparison-operator {} --treat-missing-data {} --alarm-actions {}",
                        shell_quote(alarm_name),
                        a.namespace,
                        a.metric_name,
                        shell_quote(tunnel_outside_ip),
                        a.statistic,
                        a.period,
                        a.evaluation_periods,
                        a.threshold,
                        a.comparison_operator,
                        a.treat_missing_data,
                        shell_quote(topic_arn)
                    );
                }
            }
        }
    }
    out.push_str(&super::not_planned_comment(plan));
    out
}
