//! The plan as a reviewable bash script of AWS CLI calls. Every step is idempotent: it checks
//! before it changes, so the script can be re-run after a failure and finishes the job. The checks
//! read AWS the way `fix apply` does (a new log group gets its retention at once; a tunnel is
//! modified only while the others are reported UP, and the script waits until AWS has shown the
//! change and the tunnel UP again), so running the script and applying the plan end the same.

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

# Tunnel changes wait for AWS to show a tunnel UP again: at most NETAUDIT_TUNNEL_WAIT seconds (default
# 900), looking every NETAUDIT_POLL_INTERVAL seconds (default 10).
NA_TUNNEL_WAIT=${NETAUDIT_TUNNEL_WAIT:-900}
NA_POLL_INTERVAL=${NETAUDIT_POLL_INTERVAL:-10}

# Every change is announced on one line: a re-run that prints none changed nothing.
na_changed() {
  echo "netaudit: changed: $*"
}

# Stop unless the credentials in use belong to the account a section is for.
na_account() {
  local actual
  actual=$(aws sts get-caller-identity --query Account --output text)
  if [ "$actual" != "$1" ]; then
    echo "netaudit: this section is for account $1, but the credentials are for $actual" >&2
    exit 1
  fi
}

# Read a log group's retention into NA_RETENTION: absent, never (it never expires) or the days. The
# query projects the one group by name, so it reads the same on whichever page of results the group
# comes. (Reads set variables rather than print: a failed call inside $(...) would not stop the script.)
na_retention() { # region name
  local days
  days=$(aws logs describe-log-groups --region "$1" --log-group-name-prefix "$2" \
    --query "logGroups[?logGroupName=='$2'].to_string(retentionInDays)" --output text)
  case "$days" in
    "") NA_RETENTION=absent ;;
    null) NA_RETENTION=never ;;
    *) NA_RETENTION=$days ;;
  esac
}

# Create a log group unless it exists, with its retention (and KMS key) at once: a new group would
# otherwise never expire. A group that exists only has its retention raised.
na_log_group() { # region name days [kms-key-arn]
  local region=$1 name=$2 days=$3 kms=${4:-} out
  na_retention "$region" "$name"
  if [ "$NA_RETENTION" = "absent" ]; then
    local create=(aws logs create-log-group --region "$region" --log-group-name "$name")
    [ -z "$kms" ] || create+=(--kms-key-id "$kms")
    if out=$("${create[@]}" 2>&1); then
      na_changed "created log group $name in $region"
      aws logs put-retention-policy --region "$region" --log-group-name "$name" --retention-in-days "$days"
      na_changed "set the retention of $name in $region to $days days"
      return 0
    fi
    # Created by someone else since it was read: only raise what they set.
    case "$out" in
      *ResourceAlreadyExistsException*) ;;
      *) echo "$out" >&2; exit 1 ;;
    esac
  fi
  na_raise_retention "$region" "$name" "$days"
}

# Raise a log group's retention to at least DAYS; never lower it, never touch never-expire.
na_raise_retention() { # region name days
  local region=$1 name=$2 days=$3 current
  na_retention "$region" "$name"
  current=$NA_RETENTION
  case "$current" in
    absent) echo "netaudit: log group $name does not exist in $region" >&2; exit 1 ;;
    never) return 0 ;;
  esac
  if [ "$current" -lt "$days" ]; then
    aws logs put-retention-policy --region "$region" --log-group-name "$name" --retention-in-days "$days"
    na_changed "raised the retention of $name in $region from $current to $days days"
  fi
}

# Create the flow-log delivery role unless it exists, and give it netaudit's delivery policy unless
# it has it.
na_delivery_role() { # role-name trust-policy-json policy-json
  local role=$1 out
  if ! out=$(aws iam get-role --role-name "$role" 2>&1 >/dev/null); then
    case "$out" in
      *NoSuchEntity*) ;;
      *) echo "$out" >&2; exit 1 ;;
    esac
    aws iam create-role --role-name "$role" --assume-role-policy-document "$2" \
      --description "Lets VPC flow logs deliver to CloudWatch Logs (created by netaudit)" >/dev/null
    na_changed "created IAM role $role"
  fi
  if ! out=$(aws iam get-role-policy --role-name "$role" --policy-name netaudit-flow-logs-delivery 2>&1 >/dev/null); then
    case "$out" in
      *NoSuchEntity*) ;;
      *) echo "$out" >&2; exit 1 ;;
    esac
    aws iam put-role-policy --role-name "$role" --policy-name netaudit-flow-logs-delivery --policy-document "$3"
    na_changed "put the policy netaudit-flow-logs-delivery on IAM role $role"
  fi
}

# Create a flow log on a VPC unless an ACTIVE one already captures TRAFFIC (or ALL). The client
# token makes a retried call return the same flow log; a refusal stops the script.
na_flow_log() { # region vpc-id traffic-type aggregation-interval client-token destination-args...
  local region=$1 vpc=$2 traffic=$3 interval=$4 token=$5 existing refused
  shift 5
  existing=$(aws ec2 describe-flow-logs --region "$region" --filter "Name=resource-id,Values=$vpc" \
    --query "FlowLogs[?FlowLogStatus=='ACTIVE' && (TrafficType=='ALL' || TrafficType=='$traffic')].FlowLogId" --output text)
  [ -z "$existing" ] || return 0
  refused=$(aws ec2 create-flow-logs --region "$region" --resource-type VPC --resource-ids "$vpc" \
    --traffic-type "$traffic" --max-aggregation-interval "$interval" --client-token "$token" "$@" \
    --query "Unsuccessful[].[ResourceId, Error.Code, Error.Message]" --output text)
  if [ -n "$refused" ]; then
    echo "netaudit: ec2 create-flow-logs refused $vpc in $region: $refused" >&2
    exit 1
  fi
  na_changed "created a $traffic flow log on $vpc in $region"
}

# Turn on a Client VPN endpoint's connection logging unless it is on.
na_client_vpn_logging() { # region endpoint-id connection-log-options-json
  local enabled
  enabled=$(aws ec2 describe-client-vpn-endpoints --region "$1" --client-vpn-endpoint-ids "$2" \
    --query "ClientVpnEndpoints[].ConnectionLogOptions.Enabled" --output text)
  [ "$enabled" != "True" ] || return 0
  aws ec2 modify-client-vpn-endpoint --region "$1" --client-vpn-endpoint-id "$2" --connection-log-options "$3" >/dev/null
  na_changed "turned on connection logging of $2 in $1"
}

# Create a TunnelState alarm unless one by that name already notifies the topic.
na_tunnel_alarm() { # region alarm-name topic-arn put-metric-alarm-args...
  local region=$1 name=$2 topic=$3 existing
  shift 3
  existing=$(aws cloudwatch describe-alarms --region "$region" --alarm-names "$name" \
    --query "MetricAlarms[?ActionsEnabled && contains(AlarmActions, '$topic')].AlarmName" --output text)
  [ -z "$existing" ] || return 0
  aws cloudwatch put-metric-alarm --region "$region" --alarm-name "$name" --actions-enabled --alarm-actions "$topic" \
    --alarm-description "A Site-to-Site VPN tunnel is down (created by netaudit)" "$@"
  na_changed "created alarm $name in $region"
}

# One read of a VPN connection into NA_STATE (the connection's state), NA_TUNNELS (how many tunnels its
# options list), NA_OTHERS (the outside IPs of the other tunnels, from the options), NA_UP (the IPs
# telemetry reports UP), NA_STATUS and NA_CHANGED (this tunnel's telemetry status and last status
# change; None when telemetry does not list it).
na_read_vpn() { # region vpn-connection-id outside-ip
  local view
  view=$(aws ec2 describe-vpn-connections --region "$1" --vpn-connection-ids "$2" --output text --query \
    "VpnConnections[0].[State, length(Options.TunnelOptions || \`[]\`), join(' ', (Options.TunnelOptions || \`[]\`)[?OutsideIpAddress!='$3'].OutsideIpAddress), join(' ', (VgwTelemetry || \`[]\`)[?Status=='UP'].OutsideIpAddress), (VgwTelemetry || \`[]\`)[?OutsideIpAddress=='$3'] | [0].Status, (VgwTelemetry || \`[]\`)[?OutsideIpAddress=='$3'] | [0].LastStatusChange]")
  IFS='|' read -r NA_STATE NA_TUNNELS NA_OTHERS NA_UP NA_STATUS NA_CHANGED <<<"${view//$'\t'/|}"
  case "$NA_TUNNELS" in '' | *[!0-9]*) NA_TUNNELS=0 ;; esac
}

# The other tunnels of the last connection read that are not reported UP. They are counted from the
# connection's options, not from telemetry: a tunnel telemetry leaves out is not UP.
na_others_not_up() {
  local other listed=0 not_up=""
  for other in $NA_OTHERS; do
    listed=$((listed + 1))
    case " $NA_UP " in
      *" $other "*) ;;
      *) not_up="$not_up $other" ;;
    esac
  done
  if [ "$NA_TUNNELS" -lt 2 ]; then
    not_up="$not_up (the connection lists $NA_TUNNELS tunnel(s))"
  elif [ "$listed" -ne $((NA_TUNNELS - 1)) ]; then
    not_up="$not_up (a tunnel without an outside address)"
  fi
  echo "${not_up# }"
}

# Wait until every other tunnel of the connection is reported UP and the connection is available.
na_wait_others_up() { # region vpn-connection-id outside-ip
  local region=$1 vpn=$2 ip=$3 deadline=$((SECONDS + NA_TUNNEL_WAIT)) not_up
  while :; do
    na_read_vpn "$region" "$vpn" "$ip"
    not_up=$(na_others_not_up)
    if [ "$NA_STATE" = "available" ] && [ -z "$not_up" ]; then
      return 0
    fi
    if [ "$SECONDS" -gt "$deadline" ]; then
      echo "netaudit: not modifying tunnel $ip of $vpn: after $NA_TUNNEL_WAIT s the connection is $NA_STATE and its other tunnel ${not_up:-is} not reported UP (UP: ${NA_UP:-none}); modifying it could cut the connection. Stopping." >&2
      exit 1
    fi
    sleep "$NA_POLL_INTERVAL"
  done
}

# After a modification AWS goes on showing the tunnel's old status for a while. Wait until it shows the
# change (the tunnel not UP, a status change since the one read before the call, or the connection not
# available), then until the tunnel is UP again on an available connection.
na_wait_tunnel_back() { # region vpn-connection-id outside-ip last-status-change-before
  local region=$1 vpn=$2 ip=$3 before=$4 seen="" deadline=$((SECONDS + NA_TUNNEL_WAIT))
  while :; do
    sleep "$NA_POLL_INTERVAL"
    na_read_vpn "$region" "$vpn" "$ip"
    if [ "$NA_STATUS" != "UP" ] || [ "$NA_CHANGED" != "$before" ] || [ "$NA_STATE" != "available" ]; then
      seen=yes
    fi
    if [ -n "$seen" ] && [ "$NA_STATUS" = "UP" ] && [ "$NA_STATE" = "available" ]; then
      return 0
    fi
    if [ "$SECONDS" -gt "$deadline" ]; then
      if [ -z "$seen" ]; then
        echo "netaudit: after $NA_TUNNEL_WAIT s AWS still shows tunnel $ip of $vpn as before its modification ($NA_STATUS since $NA_CHANGED); stopping before the next change. Re-run the script once the tunnel has been down and is UP again." >&2
      else
        echo "netaudit: tunnel $ip of $vpn is not UP again after $NA_TUNNEL_WAIT s (status $NA_STATUS, connection $NA_STATE); stopping." >&2
      fi
      exit 1
    fi
  done
}

# Modify one tunnel, never two at once: every other tunnel of the connection must be reported UP first
# (so traffic keeps a path while this one renegotiates), and a tunnel that was UP must be seen going
# through the change and UP again before the script goes on. DONE is a JMESPath test over the
# tunnel's options that says the change is already made.
na_modify_tunnel() { # region vpn-connection-id outside-ip tunnel-options-json done-query
  local region=$1 vpn=$2 ip=$3 options=$4 done_query=$5 already status before
  already=$(aws ec2 describe-vpn-connections --region "$region" --vpn-connection-ids "$vpn" --output text \
    --query "VpnConnections[0].Options.TunnelOptions[?OutsideIpAddress=='$ip'] | [0] | [$done_query == \`true\`]")
  case "$already" in
    True) return 0 ;;
    False) ;;
    *) echo "netaudit: $vpn reports no tunnel options for $ip; stopping." >&2; exit 1 ;;
  esac
  na_wait_others_up "$region" "$vpn" "$ip"
  status=$NA_STATUS before=$NA_CHANGED
  aws ec2 modify-vpn-tunnel-options --region "$region" --vpn-connection-id "$vpn" \
    --vpn-tunnel-outside-ip-address "$ip" --tunnel-options "$options" >/dev/null
  na_changed "modified tunnel $ip of $vpn"
  if [ "$status" = "UP" ]; then
    na_wait_tunnel_back "$region" "$vpn" "$ip" "$before"
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
        "# account it is for. Nothing here deletes anything or lowers a retention. Each change prints a\n\
         # `netaudit: changed:` line; a re-run prints none for what is already done."
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
                    let _ = writeln!(
                        out,
                        "na_delivery_role {} {} {}",
                        shell_quote(role_name),
                        shell_quote(&delivery_role_trust_policy(&batch.account_id).to_string()),
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
                        "na_flow_log {region} {} {traffic_type} {max_aggregation_interval} {} {dest_arg}",
                        shell_quote(vpc_id),
                        client_token(&step.action)
                    );
                }
                Action::EnableClientVpnLogging {
                    client_vpn_endpoint_id,
                    log_group,
                } => {
                    let options = serde_json::json!({"Enabled": true, "CloudwatchLogGroup": log_group});
                    let _ = writeln!(
                        out,
                        "na_client_vpn_logging {region} {} {}",
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
                        "na_tunnel_alarm {region} {} {} --namespace {} --metric-name {} \
                         --dimensions Name=TunnelIpAddress,Value={} --statistic {} --period {} --evaluation-periods {} \
                         --threshold {} --comparison-operator {} --treat-missing-data {}",
                        shell_quote(alarm_name),
                        shell_quote(topic_arn),
                        a.namespace,
                        a.metric_name,
                        shell_quote(tunnel_outside_ip),
                        a.statistic,
                        a.period,
                        a.evaluation_periods,
                        a.threshold,
                        a.comparison_operator,
                        a.treat_missing_data
                    );
                }
            }
        }
    }
    out.push_str(&super::not_planned_comment(plan));
    out
}
