#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The planner on the example estate and on hand-built results, and every renderer's output.

use netaudit_checks::{evaluate, Finding, FlowLogTarget, LogGroupRef, Remedy, Status};
use netaudit_fix::render::{cloudformation, script, table, terraform};
use netaudit_fix::{
    existing_log_groups, guardrails, plan, Action, DestinationChoice, ExistingLogGroups, Plan, PlanOptions,
};
use netaudit_model::Graph;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn estate() -> (Vec<Finding>, Graph) {
    let dir = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../examples/estate");
    let loaded = netaudit_evidence::load_dir(&dir).expect("the example estate loads");
    let graph = Graph::build(&loaded.inventory);
    let (catalogue, errors) = netaudit_checks::builtin();
    assert!(errors.is_empty());
    let controls: Vec<_> = catalogue.controls().iter().collect();
    let (findings, errors) = evaluate(&controls, &graph, &BTreeMap::new());
    assert!(errors.is_empty(), "{errors:?}");
    (findings, graph)
}

fn estate_plan(options: &PlanOptions) -> (Vec<Finding>, Plan) {
    let (findings, graph) = estate();
    let p = plan(&findings, &existing_log_groups(&graph), options);
    (findings, p)
}

fn all_options() -> PlanOptions {
    PlanOptions {
        alarm_topic_arn: Some("arn:aws:sns:us-east-1:111111111111:network-oncall".into()),
        ikev2_only: true,
        destination: DestinationChoice::CloudWatchLogs {
            delivery_role: "netaudit-flow-logs-delivery".into(),
            create_role: true,
        },
        ..PlanOptions::default()
    }
}

fn finding(control: &str, resource_type: &str, id: &str, remedy: Remedy) -> Finding {
    Finding {
        control: control.into(),
        status: Status::Fail,
        resource_type: resource_type.into(),
        resource_id: id.into(),
        resource_name: None,
        resource_arn: format!("arn:aws:test:us-east-1:111111111111:{id}"),
        account_id: "111111111111".into(),
        region: "us-east-1".into(),
        reason: "test".into(),
        evidence: serde_json::Map::new(),
        gaps: vec![],
        exception: None,
        remedy: Some(remedy),
        location: None,
        read_from: None,
        priority: Default::default(),
        priority_reasons: vec![],
    }
}

#[test]
fn every_fail_is_planned_or_listed_and_nothing_else_is() {
    let (findings, p) = estate_plan(&all_options());
    let fails: BTreeSet<(String, String)> = findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| (f.control.clone(), f.resource_arn.clone()))
        .collect();
    let mut covered = BTreeSet::new();
    for b in &p.batches {
        for s in &b.steps {
            for f in &s.fixes {
                covered.insert((f.control.clone(), f.resource_arn.clone()));
            }
        }
    }
    for n in &p.not_planned {
        covered.insert((n.control.clone(), n.resource_arn.clone()));
    }
    assert!(!fails.is_empty());
    assert_eq!(covered, fails, "the plan names exactly the failing results");
}

#[test]
fn one_flow_log_fixes_both_flow_log_controls_of_a_vpc() {
    let (_, p) = estate_plan(&PlanOptions::default());
    let flow_logs: Vec<_> = p
        .batches
        .iter()
        .flat_map(|b| &b.steps)
        .filter(|s| matches!(&s.action, Action::CreateFlowLog { vpc_id, .. } if vpc_id == "vpc-0a1b2c3d4e5f60002"))
        .collect();
    assert_eq!(flow_logs.len(), 1);
    let controls: BTreeSet<&str> = flow_logs[0].fixes.iter().map(|f| f.control.as_str()).collect();
    assert_eq!(controls, BTreeSet::from(["CIS.VPC.FLOWLOGS", "EC2.6"]));
}

#[test]
fn only_the_tunnel_without_logging_is_configured() {
    let (_, p) = estate_plan(&PlanOptions::default());
    let tunnels: Vec<_> = p
        .batches
        .iter()
        .flat_map(|b| &b.steps)
        .filter_map(|s| match &s.action {
            Action::ConfigureTunnel {
                vpn_connection_id,
                tunnel_outside_ip,
                log_group_arn,
                ike_versions,
            } => Some((
                vpn_connection_id.clone(),
                tunnel_outside_ip.clone(),
                log_group_arn.clone(),
                ike_versions.clone(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        tunnels,
        vec![(
            "vpn-0aa1bb2cc3dd40002".to_owned(),
            "3.5.140.21".to_owned(),
            Some("arn:aws:logs:us-east-1:111111111111:log-group:/aws/vendedlogs/vpn/vpn-0aa1bb2cc3dd40002".to_owned()),
            None
        )]
    );
}

#[test]
fn ikev2_and_alarms_are_planned_only_when_asked() {
    let (_, without) = estate_plan(&PlanOptions::default());
    let actions = |p: &Plan| -> Vec<Action> {
        p.batches
            .iter()
            .flat_map(|b| &b.steps)
            .map(|s| s.action.clone())
            .collect()
    };
    assert!(!actions(&without)
        .iter()
        .any(|a| matches!(a, Action::CreateTunnelAlarm { .. })));
    assert!(!actions(&without).iter().any(|a| matches!(
        a,
        Action::ConfigureTunnel {
            ike_versions: Some(_),
            ..
        }
    )));
    assert!(without
        .not_planned
        .iter()
        .any(|n| n.control == "NETAUDIT.S2S.ALARM" && n.why.contains("--alarm-topic")));

    let (_, with) = estate_plan(&all_options());
    assert!(actions(&with)
        .iter()
        .any(|a| matches!(a, Action::CreateTunnelAlarm { .. })));
    // Logging and IKEv2 on the same tunnel are one modification, not two restarts.
    let t21: Vec<_> = actions(&with)
        .into_iter()
        .filter(|a| matches!(a, Action::ConfigureTunnel { tunnel_outside_ip, .. } if tunnel_outside_ip == "3.5.140.21"))
        .collect();
    assert_eq!(t21.len(), 1);
    assert!(
        matches!(&t21[0], Action::ConfigureTunnel { log_group_arn: Some(_), ike_versions: Some(v), .. } if v == &["ikev2"])
    );
}

#[test]
fn retention_is_only_ever_raised() {
    let opts = PlanOptions::default();
    // Already 400 days: asking for 365 would lower it.
    let longer = finding(
        "CloudWatch.16",
        "LogGroup",
        "/keep",
        Remedy::RaiseRetention {
            log_group: "/keep".into(),
            current_days: Some(400),
        },
    );
    let shorter = finding(
        "CloudWatch.16",
        "LogGroup",
        "/short",
        Remedy::RaiseRetention {
            log_group: "/short".into(),
            current_days: Some(30),
        },
    );
    let p = plan(&[longer, shorter], &ExistingLogGroups::new(), &opts);
    let steps: Vec<_> = p
        .batches
        .iter()
        .flat_map(|b| &b.steps)
        .map(|s| s.action.clone())
        .collect();
    assert_eq!(
        steps,
        vec![Action::RaiseRetention {
            log_group: "/short".into(),
            current_days: Some(30),
            retention_days: 365
        }]
    );
    assert_eq!(p.not_planned.len(), 1);
    assert!(p.not_planned[0].why.contains("would lower it"));
}

#[test]
fn existing_groups_are_raised_or_left_alone_not_recreated() {
    let opts = PlanOptions::default();
    let endpoint = |id: &str| {
        finding(
            "EC2.51",
            "ClientVpnEndpoint",
            id,
            Remedy::EnableConnectionLogging {
                client_vpn_endpoint_id: id.into(),
            },
        )
    };
    let mut existing = ExistingLogGroups::new();
    let key = |id: &str| {
        (
            "111111111111".to_owned(),
            "us-east-1".to_owned(),
            format!("/aws/clientvpn/{id}"),
        )
    };
    existing.insert(key("cvpn-endpoint-short"), Some(30));
    existing.insert(key("cvpn-endpoint-forever"), None);
    let p = plan(
        &[
            endpoint("cvpn-endpoint-short"),
            endpoint("cvpn-endpoint-forever"),
            endpoint("cvpn-endpoint-new"),
        ],
        &existing,
        &opts,
    );
    let groups: Vec<String> = p
        .batches
        .iter()
        .flat_map(|b| &b.steps)
        .filter_map(|s| match &s.action {
            Action::CreateLogGroup { log_group, .. } => Some(format!("create {log_group}")),
            Action::RaiseRetention { log_group, .. } => Some(format!("raise {log_group}")),
            _ => None,
        })
        .collect();
    assert_eq!(
        groups,
        vec![
            "create /aws/clientvpn/cvpn-endpoint-new",
            "raise /aws/clientvpn/cvpn-endpoint-short"
        ]
    );
}

#[test]
fn only_failures_are_planned() {
    let mut pass = finding(
        "EC2.6",
        "Vpc",
        "vpc-1",
        Remedy::CreateFlowLog { vpc_id: "vpc-1".into() },
    );
    pass.status = Status::Pass;
    let mut unknown = finding(
        "EC2.6",
        "Vpc",
        "vpc-2",
        Remedy::CreateFlowLog { vpc_id: "vpc-2".into() },
    );
    unknown.status = Status::Unknown;
    let mut muted = finding(
        "EC2.6",
        "Vpc",
        "vpc-3",
        Remedy::CreateFlowLog { vpc_id: "vpc-3".into() },
    );
    muted.status = Status::Muted;
    let p = plan(
        &[pass, unknown, muted],
        &ExistingLogGroups::new(),
        &PlanOptions::default(),
    );
    assert!(p.is_empty());
    assert!(p.not_planned.is_empty());
}

#[test]
fn a_delivery_failure_is_not_papered_over() {
    let f = finding(
        "NETAUDIT.FLOWLOG.DELIVERY",
        "FlowLog",
        "fl-1",
        Remedy::RestoreFlowLogDestination {
            deliver_logs_status: Some("FAILED".into()),
            deliver_logs_error_message: Some("Access error".into()),
            destination: FlowLogTarget::CloudWatchLogs {
                log_group: LogGroupRef::from_arn("arn:aws:logs:us-east-1:111111111111:log-group:/fl"),
            },
        },
    );
    let p = plan(&[f], &ExistingLogGroups::new(), &PlanOptions::default());
    assert!(p.is_empty());
    assert!(p.not_planned[0].why.contains("Access error"));
}

#[test]
fn a_missing_destination_group_is_created_where_its_arn_says() {
    let f = finding(
        "NETAUDIT.FLOWLOG.DELIVERY",
        "FlowLog",
        "fl-1",
        Remedy::RestoreFlowLogDestination {
            deliver_logs_status: Some("SUCCESS".into()),
            deliver_logs_error_message: None,
            destination: FlowLogTarget::CloudWatchLogs {
                log_group: LogGroupRef::from_arn("arn:aws:logs:eu-west-1:222222222222:log-group:/central/flow-logs:*"),
            },
        },
    );
    let p = plan(&[f], &ExistingLogGroups::new(), &PlanOptions::default());
    assert_eq!(p.batches.len(), 1);
    assert_eq!(
        (p.batches[0].account_id.as_str(), p.batches[0].region.as_str()),
        ("222222222222", "eu-west-1")
    );
    assert!(
        matches!(&p.batches[0].steps[0].action, Action::CreateLogGroup { log_group, .. } if log_group == "/central/flow-logs")
    );
}

#[test]
fn options_that_would_not_fix_anything_are_refused() {
    let bad = [
        PlanOptions {
            traffic_type: "ACCEPT".into(),
            ..PlanOptions::default()
        },
        PlanOptions {
            max_aggregation_interval: 300,
            ..PlanOptions::default()
        },
        PlanOptions {
            retention_days: 30,
            ..PlanOptions::default()
        },
        PlanOptions {
            retention_days: 366,
            ..PlanOptions::default()
        },
        PlanOptions {
            tunnel_log_group: "/vpn/{vpn_connection_id}".into(),
            ..PlanOptions::default()
        },
        PlanOptions {
            flow_log_group: "/aws/vpc/flow-logs".into(),
            ..PlanOptions::default()
        },
        PlanOptions {
            destination: DestinationChoice::S3 {
                bucket_arn: "my-bucket".into(),
            },
            ..PlanOptions::default()
        },
    ];
    let options: Vec<&str> = bad.iter().map(|o| o.validate().unwrap_err().option).collect();
    assert_eq!(
        options,
        vec![
            "--traffic-type",
            "--aggregation-interval",
            "--retention-days",
            "--retention-days",
            "--tunnel-log-group",
            "--flow-log-group",
            "--s3-bucket"
        ]
    );
    assert!(PlanOptions::default().validate().is_ok());
}

#[test]
fn the_plan_round_trips_through_json() {
    let (_, p) = estate_plan(&all_options());
    let text = serde_json::to_string_pretty(&p).unwrap();
    let back: Plan = serde_json::from_str(&text).unwrap();
    assert_eq!(back, p);
}

#[test]
fn renderers_match_their_snapshots() {
    let (_, p) = estate_plan(&all_options());
    insta::assert_snapshot!("estate_table", table::render(&p));
    insta::assert_snapshot!("estate_script", script::render(&p));
    insta::assert_snapshot!("estate_terraform", terraform::render(&p));
    let templates: serde_json::Value = cloudformation::render(&p)
        .into_iter()
        .collect::<serde_json::Map<_, _>>()
        .into();
    insta::assert_json_snapshot!("estate_cloudformation", templates);
}

#[test]
fn the_script_is_valid_bash() {
    let (_, p) = estate_plan(&all_options());
    let dir = tempfile_dir();
    let path = dir.join("fix.sh");
    std::fs::write(&path, script::render(&p)).unwrap();
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("netaudit-fix-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_terraform_parses_and_references_only_what_it_declares() {
    let (_, p) = estate_plan(&all_options());
    let text = terraform::render(&p);
    let body: hcl::Body = hcl::from_str(&text).expect("the Terraform output parses as HCL");
    let mut declared = BTreeSet::new();
    let mut providers = BTreeSet::new();
    for block in body.blocks() {
        let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
        match block.identifier() {
            "resource" => {
                declared.insert(format!("{}.{}", labels[0], labels[1]));
            }
            "provider" => {
                let alias = block.body().attributes().find(|a| a.key() == "alias").unwrap();
                providers.insert(format!("aws.{}", alias.expr()).replace('"', ""));
            }
            "import" | "terraform" => {}
            other => panic!("unexpected block {other}"),
        }
    }
    assert!(declared.iter().any(|d| d.starts_with("aws_flow_log.")));
    assert!(declared.iter().any(|d| d.starts_with("aws_iam_role.")));
    // Every reference to a resource or provider points at one declared here.
    let reference = regex_lite(&text);
    for r in reference {
        if r.starts_with("aws.") {
            assert!(providers.contains(&r), "provider {r} is not declared");
        } else {
            assert!(declared.contains(&r), "{r} is not declared");
        }
    }
}

/// Every argument of `aws_cloudwatch_log_group` in the AWS provider (6.25 and later), from its
/// documentation: what an imported group's block must either set or leave alone.
const LOG_GROUP_ARGUMENTS: [&str; 9] = [
    "deletion_protection_enabled",
    "kms_key_id",
    "log_group_class",
    "name",
    "name_prefix",
    "region",
    "retention_in_days",
    "skip_destroy",
    "tags",
];

#[test]
fn raising_a_groups_retention_in_terraform_cannot_strip_its_key_or_tags() {
    // The group has a KMS key and tags: an argument left unset in its block would remove them.
    let short = finding(
        "CloudWatch.16",
        "LogGroup",
        "/audit/short",
        // The KMS key and tags are not in the remedy: the Terraform must keep whatever the group has.
        Remedy::RaiseRetention {
            log_group: "/audit/short".into(),
            current_days: Some(30),
        },
    );
    let (_, estate) = estate_plan(&all_options());
    let own = plan(&[short], &ExistingLogGroups::new(), &PlanOptions::default());
    for p in [own, estate] {
        let text = terraform::render(&p);
        let body: hcl::Body = hcl::from_str(&text).expect("the Terraform output parses as HCL");
        let imported: BTreeSet<String> = body
            .blocks()
            .filter(|b| b.identifier() == "import")
            .map(|b| {
                b.body()
                    .attributes()
                    .find(|a| a.key() == "to")
                    .unwrap()
                    .expr()
                    .to_string()
            })
            .collect();
        let raised = p
            .batches
            .iter()
            .flat_map(|b| &b.steps)
            .filter(|s| matches!(s.action, Action::RaiseRetention { .. }))
            .count();
        assert!(raised > 0);
        assert_eq!(imported.len(), raised, "{text}");
        let mut checked = 0;
        for block in body.blocks().filter(|b| b.identifier() == "resource") {
            let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
            let address = labels.join(".");
            if !imported.contains(&address) {
                continue;
            }
            checked += 1;
            assert_eq!(labels[0], "aws_cloudwatch_log_group");
            let set: BTreeSet<String> = block
                .body()
                .attributes()
                .map(|a| a.key().to_owned())
                .filter(|k| k != "provider")
                .collect();
            let lifecycle: Vec<&hcl::Block> = block
                .body()
                .blocks()
                .filter(|b| b.identifier() == "lifecycle")
                .collect();
            assert_eq!(lifecycle.len(), 1, "{address}");
            let attribute = |key: &str| {
                lifecycle[0]
                    .body()
                    .attributes()
                    .find(|a| a.key() == key)
                    .map(|a| a.expr().clone())
            };
            assert_eq!(
                attribute("prevent_destroy"),
                Some(hcl::Expression::Bool(true)),
                "{address}"
            );
            let ignored: BTreeSet<String> = match attribute("ignore_changes") {
                Some(hcl::Expression::Array(items)) => items.iter().map(ToString::to_string).collect(),
                other => panic!("{address}: ignore_changes is {other:?}"),
            };
            // Only real arguments (Terraform rejects others), and never the retention being raised.
            for name in &ignored {
                assert!(LOG_GROUP_ARGUMENTS.contains(&name.as_str()), "{address} ignores {name}");
            }
            assert!(set.contains("retention_in_days") && !ignored.contains("retention_in_days"));
            assert!(set.contains("name"));
            // The key and tags are not known here: they must be left as they are, not declared.
            for name in ["kms_key_id", "tags"] {
                assert!(ignored.contains(name) && !set.contains(name), "{address}: {name}");
            }
            for name in LOG_GROUP_ARGUMENTS {
                assert!(
                    set.contains(name) || ignored.contains(name),
                    "{address} neither sets nor ignores {name}: applying it could change it"
                );
            }
        }
        assert_eq!(checked, raised);
        // The arguments it ignores exist from provider 6.25, which the file requires.
        let terraform = body
            .blocks()
            .find(|b| b.identifier() == "terraform")
            .expect("a terraform block");
        let required = terraform
            .body()
            .blocks()
            .find(|b| b.identifier() == "required_providers")
            .expect("required_providers");
        let aws = required
            .body()
            .attributes()
            .find(|a| a.key() == "aws")
            .unwrap()
            .expr()
            .to_string();
        assert!(aws.contains("hashicorp/aws") && aws.contains(">= 6.25.0"), "{aws}");
    }
}

#[test]
fn the_terraform_is_formatted_as_terraform_fmt_writes_it() {
    let Some(terraform) = ["/usr/local/bin/terraform", "/usr/bin/terraform"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())
    else {
        eprintln!("skipped: terraform is not installed here (the HCL assertions above still ran)");
        return;
    };
    let (_, p) = estate_plan(&all_options());
    let dir = tempfile_dir().join("terraform-fmt");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("fix.tf"), terraform::render(&p)).unwrap();
    let out = std::process::Command::new(terraform)
        .args(["fmt", "-check", "-diff"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `aws_x.name` references and `aws.alias` providers outside strings and comments.
fn regex_lite(text: &str) -> Vec<String> {
    let mut out = vec![];
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        if let Some((_, rhs)) = line.split_once('=') {
            let rhs = rhs.trim();
            if rhs.starts_with('"') || rhs.starts_with("jsonencode") || rhs.starts_with('[') {
                continue;
            }
            let parts: Vec<&str> = rhs.split('.').collect();
            if parts.len() >= 2 && parts[0].starts_with("aws") {
                out.push(format!("{}.{}", parts[0], parts[1]));
            }
        }
    }
    out
}

#[test]
fn the_cloudformation_references_resolve_and_types_are_known() {
    let (_, p) = estate_plan(&all_options());
    let known = [
        "AWS::Logs::LogGroup",
        "AWS::EC2::FlowLog",
        "AWS::IAM::Role",
        "AWS::CloudWatch::Alarm",
        "AWS::CloudFormation::WaitConditionHandle",
    ];
    let templates = cloudformation::render(&p);
    assert_eq!(templates.len(), p.batches.len());
    for (name, t) in templates {
        let text = serde_json::to_string(&t).unwrap();
        let t: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(t["AWSTemplateFormatVersion"], "2010-09-09", "{name}");
        let resources = t["Resources"].as_object().unwrap();
        assert!(!resources.is_empty(), "{name}");
        for (id, r) in resources {
            assert!(id.chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
            assert!(known.contains(&r["Type"].as_str().unwrap()), "{name}: {id}");
        }
        for reference in text.match_indices("{\"Ref\":\"").map(|(i, _)| &text[i + 8..]) {
            let target = &reference[..reference.find('"').unwrap()];
            assert!(resources.contains_key(target), "{name}: Ref {target}");
        }
    }
}

#[test]
fn the_conformance_pack_is_yaml_with_the_catalogue_rules() {
    let (catalogue, _) = netaudit_checks::builtin();
    let controls: Vec<_> = catalogue.controls().iter().collect();
    let mut overrides = BTreeMap::new();
    overrides.insert(
        "vpc-flow-logs-enabled".to_owned(),
        BTreeMap::from([("trafficType".to_owned(), "ALL".to_owned())]),
    );
    let pack = guardrails::conformance_pack(&controls, &overrides);
    let yaml = guardrails::to_yaml(&pack);
    insta::assert_snapshot!("conformance_pack", yaml);
    let docs = yaml_rust2::YamlLoader::load_from_str(&yaml).expect("the pack parses as YAML");
    let resources = docs[0]["Resources"].as_hash().unwrap();
    let identifiers: BTreeSet<String> = resources
        .values()
        .map(|r| {
            r["Properties"]["Source"]["SourceIdentifier"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        identifiers,
        BTreeSet::from(
            [
                "CW_LOGGROUP_RETENTION_PERIOD_CHECK",
                "EC2_CLIENT_VPN_CONNECTION_LOG_ENABLED",
                "EC2_VPN_CONNECTION_IKE_VERSION_CHECK",
                "EC2_VPN_CONNECTION_LOGGING_ENABLED",
                "VPC_FLOW_LOGS_ENABLED",
                "VPC_VPN_2_TUNNELS_UP"
            ]
            .map(String::from)
        )
    );
    let flow = &resources[&yaml_rust2::Yaml::String("VpcFlowLogsEnabled".into())];
    assert_eq!(
        flow["Properties"]["InputParameters"]["trafficType"].as_str(),
        Some("ALL")
    );
    let retention = &resources[&yaml_rust2::Yaml::String("CwLoggroupRetentionPeriodCheck".into())];
    assert_eq!(
        retention["Properties"]["InputParameters"]["MinRetentionTime"].as_str(),
        Some("365")
    );
}

#[test]
fn the_scp_denies_turning_the_trail_off_except_for_the_admin_role() {
    let scp = guardrails::scp(
        &["/aws/vpc/flow-logs*".into(), "/aws/clientvpn/*".into()],
        "AuditTrailAdmin",
    );
    let statements = scp["Statement"].as_array().unwrap();
    let denied: BTreeSet<&str> = statements
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap())
        .map(|a| a.as_str().unwrap())
        .collect();
    for action in [
        "ec2:DeleteFlowLogs",
        "ec2:ModifyClientVpnEndpoint",
        "ec2:ModifyVpnTunnelOptions",
        "logs:DeleteLogGroup",
        "logs:PutRetentionPolicy",
    ] {
        assert!(denied.contains(action), "{action}");
    }
    for s in statements {
        assert_eq!(s["Effect"], "Deny");
        assert_eq!(
            s["Condition"]["ArnNotLike"]["aws:PrincipalArn"],
            "arn:aws:iam::*:role/AuditTrailAdmin"
        );
    }
    let groups = statements[2]["Resource"].as_array().unwrap();
    assert!(groups.contains(&serde_json::json!("arn:aws:logs:*:*:log-group:/aws/clientvpn/*:*")));
    // An SCP document is limited to 5,120 characters.
    assert!(serde_json::to_string(&scp).unwrap().len() < 5120);
}

/// The query text with everything it selects beyond the asset fragment removed.
fn without_selection(query: &str) -> String {
    let at = query.find("...AssetFragment").unwrap() + "...AssetFragment".len();
    let mut depth = 0usize;
    for (i, ch) in query[at..].char_indices() {
        match ch {
            '{' => depth += 1,
            '}' if depth == 0 => return format!("{} {}", &query[..at], &query[at + i..]),
            '}' => depth -= 1,
            _ => {}
        }
    }
    panic!("unbalanced query {query}");
}

#[test]
fn editing_a_controls_selection_cannot_change_the_plan() {
    let (findings, graph) = estate();
    let (catalogue, _) = netaudit_checks::builtin();
    let mut stripped = vec![];
    for control in catalogue.controls() {
        let mut bare = control.clone();
        bare.file.query.text = without_selection(&control.file.query.text);
        stripped.push(bare);
    }
    let selecting: Vec<&str> = catalogue
        .controls()
        .iter()
        .zip(&stripped)
        .filter(|(c, bare)| c.file.query.text != bare.file.query.text)
        .map(|(c, _)| c.id())
        .collect();
    // The tunnel, delivery and retention controls select the values their failures are shown with.
    assert!(selecting.contains(&"EC2.171") && selecting.contains(&"NETAUDIT.FLOWLOG.DELIVERY"));
    let controls: Vec<_> = stripped.iter().collect();
    let (bare_findings, errors) = evaluate(&controls, &graph, &BTreeMap::new());
    assert!(errors.is_empty(), "{errors:?}");
    assert!(bare_findings.iter().all(|f| f.evidence.is_empty()));
    let existing = existing_log_groups(&graph);
    let full_plan = plan(&findings, &existing, &all_options());
    let bare_plan = plan(&bare_findings, &existing, &all_options());
    assert!(full_plan.step_count() > 10);
    assert_eq!(full_plan, bare_plan);
}

#[test]
fn a_plan_from_a_saved_report_is_the_plan_from_the_scan() {
    let (findings, graph) = estate();
    let text = serde_json::to_string(&findings).unwrap();
    let read_back: Vec<Finding> = serde_json::from_str(&text).unwrap();
    assert_eq!(read_back, findings);
    let direct = plan(&findings, &existing_log_groups(&graph), &all_options());
    // A report has no graph: existing groups are unknown, so groups are created idempotently.
    let from_report = plan(&read_back, &ExistingLogGroups::new(), &all_options());
    let targets = |p: &Plan| -> BTreeSet<String> {
        p.batches
            .iter()
            .flat_map(|b| &b.steps)
            .filter(|s| !matches!(s.action, Action::CreateLogGroup { .. } | Action::RaiseRetention { .. }))
            .map(|s| s.action.target())
            .collect()
    };
    assert_eq!(targets(&direct), targets(&from_report));
    assert_eq!(direct.not_planned.len(), from_report.not_planned.len());
}

#[test]
fn a_fail_without_a_remedy_or_whose_fix_exists_is_listed_not_dropped() {
    let mut custom = finding(
        "ACME.1",
        "Vpc",
        "vpc-9",
        Remedy::CreateFlowLog { vpc_id: "vpc-9".into() },
    );
    custom.remedy = None;
    // The destination group exists with enough retention: nothing to create, yet the flow log fails.
    let delivered = finding(
        "NETAUDIT.FLOWLOG.DELIVERY",
        "FlowLog",
        "fl-2",
        Remedy::RestoreFlowLogDestination {
            deliver_logs_status: None,
            deliver_logs_error_message: None,
            destination: FlowLogTarget::CloudWatchLogs {
                log_group: LogGroupRef::from_arn("arn:aws:logs:us-east-1:111111111111:log-group:/fl"),
            },
        },
    );
    let mut existing = ExistingLogGroups::new();
    existing.insert(("111111111111".into(), "us-east-1".into(), "/fl".into()), Some(400));
    let p = plan(&[custom, delivered], &existing, &PlanOptions::default());
    assert!(p.is_empty());
    let why: BTreeMap<&str, &str> = p
        .not_planned
        .iter()
        .map(|n| (n.control.as_str(), n.why.as_str()))
        .collect();
    assert_eq!(why.len(), 2, "{why:?}");
    assert!(why["ACME.1"].contains("no automatic fix"));
    assert!(why["NETAUDIT.FLOWLOG.DELIVERY"].contains("another cause"));
}
