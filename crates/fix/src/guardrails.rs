//! Guardrails that keep the audit trail on once it is fixed: an AWS Config conformance pack of the
//! managed rules behind the catalogue's controls, an SCP that denies turning logging off or
//! shortening the audit log groups, and the order to roll them out in.

use netaudit_checks::Control;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The managed rule's source identifier: the rule name in upper case with underscores.
pub fn source_identifier(rule: &str) -> String {
    rule.to_ascii_uppercase().replace('-', "_")
}

/// The conformance pack template, as a JSON value (rendered to YAML by [`to_yaml`]). One rule per
/// managed rule the controls name; where two controls share a rule, the one with parameters wins.
/// `overrides` holds parameter values by rule name (e.g. a trafficType the scan used).
pub fn conformance_pack(controls: &[&Control], overrides: &BTreeMap<String, BTreeMap<String, String>>) -> Value {
    let mut rules: BTreeMap<String, (Vec<String>, BTreeMap<String, String>)> = BTreeMap::new();
    for c in controls {
        let Some(cfg) = &c.file.aws_config else { continue };
        let entry = rules.entry(cfg.rule.clone()).or_default();
        entry.0.push(c.id().to_owned());
        for (k, v) in &cfg.parameters {
            let text = match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            entry.1.insert(k.clone(), text);
        }
    }
    let mut resources = Map::new();
    for (rule, (ids, mut params)) in rules {
        if let Some(o) = overrides.get(&rule) {
            params.extend(o.clone());
        }
        let mut props = json!({
            "ConfigRuleName": format!("netaudit-{rule}"),
            "Description": format!("netaudit controls {}", ids.join(", ")),
            "Source": {"Owner": "AWS", "SourceIdentifier": source_identifier(&rule)},
        });
        if !params.is_empty() {
            props["InputParameters"] = json!(params);
        }
        let logical: String = rule
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect();
        resources.insert(logical, json!({"Type": "AWS::Config::ConfigRule", "Properties": props}));
    }
    json!({ "Resources": resources })
}

/// Log-group name patterns the SCP protects, as resource ARNs.
pub fn protected_log_group_arns(patterns: &[String]) -> Vec<String> {
    patterns
        .iter()
        .map(|p| format!("arn:aws:logs:*:*:log-group:{p}"))
        .collect()
}

/// The SCP. `admin_role` is the role name (pattern) that may still change these settings: the
/// one `netaudit fix apply` and break-glass changes run as.
pub fn scp(log_group_patterns: &[String], admin_role: &str) -> Value {
    let exempt = json!({"ArnNotLike": {"aws:PrincipalArn": format!("arn:aws:iam::*:role/{admin_role}")}});
    let mut groups = vec![];
    for arn in protected_log_group_arns(log_group_patterns) {
        groups.push(arn.clone());
        groups.push(format!("{arn}:*"));
    }
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyDeletingFlowLogs",
                "Effect": "Deny",
                "Action": ["ec2:DeleteFlowLogs"],
                "Resource": "*",
                "Condition": exempt
            },
            {
                "Sid": "DenyChangingVpnConnectionLogging",
                "Effect": "Deny",
                "Action": ["ec2:ModifyClientVpnEndpoint", "ec2:ModifyVpnTunnelOptions"],
                "Resource": "*",
                "Condition": exempt
            },
            {
                "Sid": "DenyDeletingOrShorteningAuditLogGroups",
                "Effect": "Deny",
                "Action": ["logs:DeleteLogGroup", "logs:DeleteLogStream", "logs:PutRetentionPolicy"],
                "Resource": groups,
                "Condition": exempt
            }
        ]
    })
}

/// The rollout order (from the CIS guidance: contain service-wide first, then remediate, then
/// validate and prevent recurrence).
pub fn rollout(admin_role: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Rollout, in this order:");
    let _ = writeln!(
        out,
        "1. Contain, service-wide: deploy the conformance pack to the Organization (it only reports),\n   \
         aws configservice put-organization-conformance-pack --organization-conformance-pack-name netaudit-audit-trail \\\n     \
         --template-body file://conformance-pack.yaml\n   \
         then attach the SCP to a test OU, then to every OU:\n   \
         aws organizations create-policy --type SERVICE_CONTROL_POLICY --name netaudit-audit-trail --description 'Keep the network audit trail on' --content file://scp.json\n   \
         aws organizations attach-policy --policy-id <id> --target-id <ou-id>\n   \
         The SCP leaves the role {admin_role} free to change these settings: run step 2 as that role."
    );
    let _ = writeln!(
        out,
        "2. Remediate the existing gaps in batches, production and internet-facing first:\n   \
         netaudit scan --format json -o before.json\n   \
         netaudit fix plan --report before.json --format json -o plan.json\n   \
         Review it (`fix plan --format script`, `terraform` or `cloudformation` print the same plan), then:\n   \
         netaudit fix apply plan.json"
    );
    let _ = writeln!(
        out,
        "3. Validate and prevent recurrence: fix apply re-scans what it changed; re-scan and compare\n   \
         netaudit scan --format json -o after.json\n   \
         netaudit diff before.json after.json\n   \
         Record accepted gaps in an exceptions file with owner and expiry (`scan --exceptions FILE`),\n   \
         and check Terraform and CloudFormation in CI before they deploy (`scan --iac DIR`)."
    );
    out
}

fn yaml_scalar(value: &Value) -> String {
    match value {
        // JSON's double-quoted strings are valid YAML scalars.
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// A JSON value as block YAML.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    write_yaml(value, 0, &mut out);
    out
}

fn write_yaml(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        let _ = writeln!(out, "{pad}{k}:");
                        write_yaml(v, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        let _ = writeln!(out, "{pad}{k}:");
                        write_yaml(v, indent + 2, out);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}{k}: {}", yaml_scalar(v));
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                let mut nested = String::new();
                write_yaml(item, indent + 2, &mut nested);
                let trimmed = nested.trim_start();
                let _ = write!(out, "{pad}- {trimmed}");
                if !trimmed.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
        scalar => {
            let _ = writeln!(out, "{pad}{}", yaml_scalar(scalar));
        }
    }
}
