//! The plan as Terraform: one provider alias per account and region, new resources, and `import`
//! blocks for the existing log groups whose retention it raises (declaring the retention only, with
//! every other argument in `ignore_changes`, so no key or tag is removed). Changes to resources Terraform
//! does not manage here (a Client VPN endpoint's or a tunnel's options) are written as the exact
//! block to add to their configuration, since declaring them here would replace them.

use crate::plan::{Action, Batch, FlowLogDestination, Plan};
use crate::{delivery_role_policy, delivery_role_trust_policy, tunnel_alarm};
use std::collections::BTreeMap;
use std::fmt::Write;

/// A string literal in HCL: quotes, backslashes and template openers escaped.
pub fn hcl_string(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .replace("${", "$${")
        .replace("%{", "%%{");
    format!("\"{escaped}\"")
}

/// A Terraform name: lower-case letters, digits and underscores, starting with a letter.
pub fn identifier(parts: &[&str]) -> String {
    let mut out = String::new();
    for part in parts {
        if !out.is_empty() {
            out.push('_');
        }
        for c in part.chars() {
            out.push(if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            });
        }
    }
    let collapsed: Vec<&str> = out.split('_').filter(|p| !p.is_empty()).collect();
    let joined = collapsed.join("_");
    if joined.starts_with(|c: char| c.is_ascii_alphabetic()) {
        joined
    } else {
        format!("r_{joined}")
    }
}

/// The arguments of `aws_cloudwatch_log_group` (AWS provider 6.25) a raised group's block does not
/// set: ignored, so that applying it changes the retention and nothing else.
pub const LOG_GROUP_ARGUMENTS_LEFT_AS_THEY_ARE: &[&str] = &[
    "deletion_protection_enabled",
    "kms_key_id",
    "log_group_class",
    "name_prefix",
    "region",
    "tags",
];

/// The versions the `ignore_changes` list and the `import` blocks need.
const REQUIREMENTS: &str = r#"
terraform {
  # import blocks need Terraform 1.5; the ignore_changes lists name arguments of the AWS provider 6.25.
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.25.0"
    }
  }
}
"#;

fn provider_alias(batch: &Batch) -> String {
    identifier(&["a", &batch.account_id, &batch.region])
}

fn jsonencode(value: &serde_json::Value) -> String {
    format!("jsonencode({})", hcl_value(value))
}

/// A JSON value as an HCL expression.
fn hcl_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "null".into(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => hcl_string(s),
        serde_json::Value::Array(items) => {
            format!("[{}]", items.iter().map(hcl_value).collect::<Vec<_>>().join(", "))
        }
        serde_json::Value::Object(map) => format!(
            "{{ {} }}",
            map.iter()
                .map(|(k, v)| format!("{} = {}", hcl_string(k), hcl_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# netaudit fix plan: {} step(s). `terraform plan` shows the changes; nothing here deletes or lowers anything.",
        plan.step_count()
    );
    let imports = plan
        .batches
        .iter()
        .flat_map(|b| &b.steps)
        .any(|s| matches!(s.action, Action::RaiseRetention { .. }));
    if imports {
        out.push_str(REQUIREMENTS);
    }
    // IAM is global: a role goes through the provider of the account's first regional batch.
    let mut account_provider: BTreeMap<&str, String> = BTreeMap::new();
    for batch in plan.batches.iter().filter(|b| b.region != "global") {
        account_provider
            .entry(&batch.account_id)
            .or_insert_with(|| provider_alias(batch));
    }
    for batch in plan.batches.iter().filter(|b| b.region != "global") {
        let _ = writeln!(
            out,
            "\nprovider \"aws\" {{\n  alias               = {}\n  region              = {}\n  allowed_account_ids = [{}]\n}}",
            hcl_string(&provider_alias(batch)),
            hcl_string(&batch.region),
            hcl_string(&batch.account_id)
        );
    }
    for batch in plan.batches.iter().filter(|b| b.region == "global") {
        if !account_provider.contains_key(batch.account_id.as_str()) {
            let alias = identifier(&["a", &batch.account_id, "us-east-1"]);
            let _ = writeln!(
                out,
                "\nprovider \"aws\" {{\n  alias               = {}\n  region              = \"us-east-1\"\n  allowed_account_ids = [{}]\n}}",
                hcl_string(&alias),
                hcl_string(&batch.account_id)
            );
            account_provider.insert(&batch.account_id, alias);
        }
    }
    // Roles created here are referenced too.
    let created_roles: BTreeMap<&str, (&str, String)> = plan
        .batches
        .iter()
        .flat_map(|b| b.steps.iter().map(move |s| (b, s)))
        .filter_map(|(b, s)| match &s.action {
            Action::CreateDeliveryRole { role_name } => Some((
                b.account_id.as_str(),
                (role_name.as_str(), identifier(&[&b.account_id, role_name])),
            )),
            _ => None,
        })
        .collect();
    for batch in &plan.batches {
        let provider = if batch.region == "global" {
            account_provider
                .get(batch.account_id.as_str())
                .cloned()
                .unwrap_or_default()
        } else {
            provider_alias(batch)
        };
        let _ = writeln!(out, "\n# ---- account {} · {} ----", batch.account_id, batch.region);
        // Groups created in this file are referenced, so Terraform orders the flow log after them.
        let created_groups: BTreeMap<&str, String> = batch
            .steps
            .iter()
            .filter_map(|s| match &s.action {
                Action::CreateLogGroup { log_group, .. } => Some((
                    log_group.as_str(),
                    identifier(&[&batch.account_id, &batch.region, log_group]),
                )),
                _ => None,
            })
            .collect();
        for step in &batch.steps {
            let controls: std::collections::BTreeSet<&str> = step.fixes.iter().map(|f| f.control.as_str()).collect();
            let _ = writeln!(
                out,
                "\n# {} (fixes {})",
                step.action.summary(),
                controls.into_iter().collect::<Vec<_>>().join(", ")
            );
            match &step.action {
                Action::CreateDeliveryRole { role_name } => {
                    let id = identifier(&[&batch.account_id, role_name]);
                    let _ = writeln!(
                        out,
                        "resource \"aws_iam_role\" \"{id}\" {{\n  provider           = aws.{provider}\n  name               = {}\n  assume_role_policy = {}\n}}",
                        hcl_string(role_name),
                        jsonencode(&delivery_role_trust_policy(&batch.account_id))
                    );
                    let _ = writeln!(
                        out,
                        "\nresource \"aws_iam_role_policy\" \"{id}\" {{\n  provider = aws.{provider}\n  name     = \"netaudit-flow-logs-delivery\"\n  role     = aws_iam_role.{id}.id\n  policy   = {}\n}}",
                        jsonencode(&delivery_role_policy())
                    );
                }
                Action::CreateLogGroup {
                    log_group,
                    retention_days,
                    kms_key_arn,
                } => {
                    let id = identifier(&[&batch.account_id, &batch.region, log_group]);
                    let _ = write!(
                        out,
                        "resource \"aws_cloudwatch_log_group\" \"{id}\" {{\n  provider          = aws.{provider}\n  name              = {}\n  retention_in_days = {retention_days}\n",
                        hcl_string(log_group)
                    );
                    if let Some(k) = kms_key_arn {
                        let _ = writeln!(out, "  kms_key_id        = {}", hcl_string(k));
                    }
                    out.push_str("}\n");
                }
                Action::RaiseRetention {
                    log_group,
                    retention_days,
                    ..
                } => {
                    let id = identifier(&[&batch.account_id, &batch.region, log_group]);
                    let _ = writeln!(
                        out,
                        "import {{\n  provider = aws.{provider}\n  to       = aws_cloudwatch_log_group.{id}\n  id       = {}\n}}\n",
                        hcl_string(log_group)
                    );
                    // Only the retention is declared: every other argument is ignored, since an unset
                    // one would be applied as a removal (kms_key_id unset disassociates the key, tags
                    // unset drop them). skip_destroy keeps the group if this block is ever removed.
                    let _ = writeln!(
                        out,
                        "resource \"aws_cloudwatch_log_group\" \"{id}\" {{\n  provider          = aws.{provider}\n  name              = {}\n  retention_in_days = {retention_days}\n  skip_destroy      = true\n\n  lifecycle {{\n    prevent_destroy = true\n    ignore_changes  = [{}]\n  }}\n}}",
                        hcl_string(log_group),
                        LOG_GROUP_ARGUMENTS_LEFT_AS_THEY_ARE.join(", ")
                    );
                }
                Action::CreateFlowLog {
                    vpc_id,
                    traffic_type,
                    max_aggregation_interval,
                    destination,
                } => {
                    let id = identifier(&[&batch.account_id, &batch.region, vpc_id, "flow_log"]);
                    let _ = write!(
                        out,
                        "resource \"aws_flow_log\" \"{id}\" {{\n  provider                 = aws.{provider}\n  vpc_id                   = {}\n  traffic_type             = {}\n  max_aggregation_interval = {max_aggregation_interval}\n",
                        hcl_string(vpc_id),
                        hcl_string(traffic_type)
                    );
                    match destination {
                        FlowLogDestination::CloudWatchLogs {
                            log_group,
                            delivery_role_arn,
                        } => {
                            let group = match created_groups.get(log_group.as_str()) {
                                Some(gid) => format!("aws_cloudwatch_log_group.{gid}.arn"),
                                None => hcl_string(&format!(
                                    "arn:aws:logs:{}:{}:log-group:{log_group}",
                                    batch.region, batch.account_id
                                )),
                            };
                            let _ = writeln!(out, "  log_destination_type     = \"cloud-watch-logs\"");
                            let _ = writeln!(out, "  log_destination          = {group}");
                            let role = match created_roles.get(batch.account_id.as_str()) {
                                Some((name, rid)) if delivery_role_arn.ends_with(&format!("/{name}")) => {
                                    format!("aws_iam_role.{rid}.arn")
                                }
                                _ => hcl_string(delivery_role_arn),
                            };
                            let _ = writeln!(out, "  iam_role_arn             = {role}");
                        }
                        FlowLogDestination::S3 { bucket_arn } => {
                            let _ = writeln!(out, "  log_destination_type     = \"s3\"");
                            let _ = writeln!(out, "  log_destination          = {}", hcl_string(bucket_arn));
                        }
                        FlowLogDestination::KinesisDataFirehose { delivery_stream_arn } => {
                            let _ = writeln!(out, "  log_destination_type     = \"kinesis-data-firehose\"");
                            let _ = writeln!(out, "  log_destination          = {}", hcl_string(delivery_stream_arn));
                        }
                    }
                    out.push_str("}\n");
                }
                Action::EnableClientVpnLogging {
                    client_vpn_endpoint_id,
                    log_group,
                } => {
                    let group = created_groups.get(log_group.as_str()).map_or_else(
                        || hcl_string(log_group),
                        |gid| format!("aws_cloudwatch_log_group.{gid}.name"),
                    );
                    let _ = writeln!(
                        out,
                        "# {client_vpn_endpoint_id} exists: add to its aws_ec2_client_vpn_endpoint resource\n#   connection_log_options {{\n#     enabled              = true\n#     cloudwatch_log_group = {group}\n#   }}\n# (not managed by Terraform yet? `terraform plan -generate-config-out=endpoint.tf` with\n#  import {{ to = aws_ec2_client_vpn_endpoint.{} id = \"{client_vpn_endpoint_id}\" }})",
                        identifier(&[client_vpn_endpoint_id])
                    );
                }
                Action::ConfigureTunnel {
                    vpn_connection_id,
                    tunnel_outside_ip,
                    log_group_arn,
                    ike_versions,
                } => {
                    let _ = writeln!(
                        out,
                        "# {vpn_connection_id} exists: in its aws_vpn_connection resource, for the tunnel at {tunnel_outside_ip} set"
                    );
                    if let Some(arn) = log_group_arn {
                        let _ = writeln!(
                            out,
                            "#   tunnelN_log_options {{\n#     cloudwatch_log_options {{\n#       log_enabled       = true\n#       log_group_arn     = {}\n#       log_output_format = \"json\"\n#     }}\n#   }}",
                            hcl_string(arn)
                        );
                    }
                    if let Some(v) = ike_versions {
                        let list: Vec<String> = v.iter().map(|x| hcl_string(x)).collect();
                        let _ = writeln!(out, "#   tunnelN_ike_versions = [{}]", list.join(", "));
                    }
                    let _ = writeln!(
                        out,
                        "# Apply one tunnel at a time: the second only once the first is UP again (`netaudit fix apply` does this)."
                    );
                }
                Action::CreateTunnelAlarm {
                    alarm_name,
                    tunnel_outside_ip,
                    topic_arn,
                    ..
                } => {
                    let a = tunnel_alarm(tunnel_outside_ip);
                    let id = identifier(&[&batch.account_id, &batch.region, alarm_name]);
                    let _ = writeln!(
                        out,
                        "resource \"aws_cloudwatch_metric_alarm\" \"{id}\" {{\n  provider    = aws.{provider}\n  alarm_name  = {}\n  namespace   = \"{}\"\n  metric_name = \"{}\"\n  dimensions = {{\n    TunnelIpAddress = {}\n  }}\n  statistic           = \"{}\"\n  period              = {}\n  evaluation_periods  = {}\n  threshold           = {}\n  comparison_operator = \"{}\"\n  treat_missing_data  = \"{}\"\n  alarm_actions       = [{}]\n}}",
                        hcl_string(alarm_name),
                        a.namespace,
                        a.metric_name,
                        hcl_string(tunnel_outside_ip),
                        a.statistic,
                        a.period,
                        a.evaluation_periods,
                        a.threshold,
                        a.comparison_operator,
                        a.treat_missing_data,
                        hcl_string(topic_arn)
                    );
                }
            }
        }
    }
    out.push_str(&super::not_planned_comment(plan));
    out
}
