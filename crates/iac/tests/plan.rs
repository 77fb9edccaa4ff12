//! Terraform plan JSON (`terraform show -json`): the catalogue's exact verdicts per address.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{expected, reason, verdicts};
use netaudit_checks::Finding;
use netaudit_iac::cloudformation::Options;
use netaudit_iac::inputs::Declared;
use netaudit_iac::terraform::plan::read_plan;
use netaudit_iac::terraform::{ResourceMode, RootModule};
use netaudit_iac::{Reference, Value};
use std::path::PathBuf;

fn fixture(rel: &str) -> PathBuf {
    common::fixture("plan").join(rel)
}

fn scan(paths: &[PathBuf]) -> (Declared, Vec<Finding>) {
    common::scan(paths, &Options::default())
}

/// The findings of one plan that reads without error.
fn scan_clean(rel: &str) -> Vec<Finding> {
    let (declared, findings) = scan(&[fixture(rel)]);
    assert!(declared.errors.is_empty(), "{:?}", declared.errors);
    findings
}

/// A plan read on its own, as the scan reads it.
fn plan(rel: &str) -> RootModule {
    let path = fixture(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    read_plan(&path.display().to_string(), &text).unwrap().unwrap()
}

fn attribute<'r>(root: &'r RootModule, address: &str, path: &[&str]) -> &'r Value {
    let resource = root.resource(address).unwrap_or_else(|| panic!("no {address}"));
    path.iter()
        .fold(&resource.attributes, |v, key| match key.parse::<usize>() {
            Ok(n) => match v {
                Value::List(items) => &items[n],
                other => panic!("{other:?} is not a list"),
            },
            Err(_) => v.get(key).unwrap_or_else(|| panic!("no {key} in {v:?}")),
        })
}

fn reference(target: &str, attribute: Option<&str>) -> Value {
    Value::Ref(Reference {
        target: target.to_owned(),
        attribute: attribute.map(str::to_owned),
    })
}

#[test]
fn ids_known_only_after_apply_link_through_references() {
    let findings = scan_clean("unknown_ids.json");
    assert_eq!(
        verdicts(&findings),
        expected(
            "
            EC2.6 aws_vpc.main PASS
            CIS.VPC.FLOWLOGS aws_vpc.main PASS
            CloudWatch.16 aws_cloudwatch_log_group.flow PASS
            NETAUDIT.RETENTION.CHAIN aws_cloudwatch_log_group.flow PASS
            "
        )
    );
    let root = plan("unknown_ids.json");
    assert_eq!(
        attribute(&root, "aws_flow_log.main", &["vpc_id"]),
        &reference("aws_vpc.main", Some("id"))
    );
    assert_eq!(
        attribute(&root, "aws_flow_log.main", &["log_destination"]),
        &reference("aws_cloudwatch_log_group.flow", Some("arn"))
    );
    // Left out of the configuration and set by the apply: unset, as in HCL.
    let flow_log = root.resource("aws_flow_log.main").unwrap();
    assert_eq!(flow_log.attributes.get("log_group_name"), None);
    assert_eq!(flow_log.attributes.get("arn"), None);
}

#[test]
fn module_outputs_and_inputs_link_resources_across_modules() {
    let findings = scan_clean("modules.json");
    assert_eq!(
        verdicts(&findings),
        expected(
            "
            EC2.6 module.network.aws_vpc.this[0] PASS
            EC2.6 aws_vpc.shared PASS
            EC2.6 aws_default_vpc.default FAIL
            CIS.VPC.FLOWLOGS module.network.aws_vpc.this[0] PASS
            CIS.VPC.FLOWLOGS aws_vpc.shared PASS
            CIS.VPC.FLOWLOGS aws_default_vpc.default FAIL
            CloudWatch.16 aws_cloudwatch_log_group.flow PASS
            CloudWatch.16 module.logging.aws_cloudwatch_log_group.this PASS
            NETAUDIT.RETENTION.CHAIN aws_cloudwatch_log_group.flow PASS
            NETAUDIT.RETENTION.CHAIN module.logging.aws_cloudwatch_log_group.this PASS
            "
        )
    );
    let root = plan("modules.json");
    // `module.network.vpc_id` is the output's `aws_vpc.this[0].id` inside the module.
    assert_eq!(
        attribute(&root, "aws_flow_log.network", &["vpc_id"]),
        &reference("module.network.aws_vpc.this[0]", Some("id"))
    );
    // `var.vpc_id` inside module.logging is the call's `aws_vpc.shared.id`.
    assert_eq!(
        attribute(&root, "module.logging.aws_flow_log.this", &["vpc_id"]),
        &reference("aws_vpc.shared", Some("id"))
    );
}

#[test]
fn deleted_resources_do_not_count_and_replaced_ones_do() {
    let findings = scan_clean("changes.json");
    assert_eq!(
        verdicts(&findings),
        expected(
            "
            EC2.6 aws_vpc.kept FAIL
            EC2.6 aws_vpc.replaced PASS
            CIS.VPC.FLOWLOGS aws_vpc.kept FAIL
            CIS.VPC.FLOWLOGS aws_vpc.replaced PASS
            CloudWatch.16 aws_cloudwatch_log_group.flow PASS
            NETAUDIT.RETENTION.CHAIN aws_cloudwatch_log_group.flow PASS
            "
        )
    );
    let root = plan("changes.json");
    assert!(root.resource("aws_flow_log.kept").is_none());
    // The existing VPC's id, known in the plan, still links the replacement flow log to it.
    assert_eq!(
        attribute(&root, "aws_flow_log.replaced", &["vpc_id"]),
        &reference("aws_vpc.replaced", Some("id"))
    );
}

#[test]
fn accept_only_flow_log_fails_at_the_plan_file() {
    let findings = scan_clean("accept_only.json");
    assert_eq!(
        verdicts(&findings),
        expected(
            "
            EC2.6 aws_vpc.main FAIL
            CIS.VPC.FLOWLOGS aws_vpc.main PASS
            CloudWatch.16 aws_cloudwatch_log_group.flow PASS
            NETAUDIT.RETENTION.CHAIN aws_cloudwatch_log_group.flow PASS
            "
        )
    );
    let fail = findings
        .iter()
        .find(|f| f.control == "EC2.6" && f.resource_id == "aws_vpc.main")
        .unwrap();
    let at = fail.location.as_ref().unwrap();
    assert!(at.file.ends_with("plan/accept_only.json"), "{}", at.file);
    // The line of the resource's address in planned_values.
    assert_eq!((at.start_line, at.end_line), (8, 8));
    assert!(
        fail.resource_arn.ends_with("accept_only.json#aws_vpc.main"),
        "{}",
        fail.resource_arn
    );
}

#[test]
fn retention_known_only_after_apply_is_unknown_naming_the_attribute() {
    let findings = scan_clean("retention_unknown.json");
    assert_eq!(
        verdicts(&findings),
        expected(
            "
            EC2.6 aws_vpc.main PASS
            CIS.VPC.FLOWLOGS aws_vpc.main PASS
            CloudWatch.16 aws_cloudwatch_log_group.flow UNKNOWN
            NETAUDIT.RETENTION.CHAIN aws_cloudwatch_log_group.flow UNKNOWN
            "
        )
    );
    for control in ["CloudWatch.16", "NETAUDIT.RETENTION.CHAIN"] {
        let why = reason(&findings, control, "aws_cloudwatch_log_group.flow");
        assert!(
            why.contains("retention_in_days") && why.contains("data.aws_ssm_parameter.retention.value"),
            "{why}"
        );
    }
    // The data source read at apply is not an asset, but it is in the plan.
    let root = plan("retention_unknown.json");
    let parameter = root.resource("data.aws_ssm_parameter.retention").unwrap();
    assert_eq!(parameter.mode, ResourceMode::Data);
}

#[test]
fn count_and_for_each_instances_link_by_index() {
    let findings = scan_clean("instances.json");
    assert_eq!(
        verdicts(&findings),
        expected(
            r#"
            EC2.6 aws_vpc.counted[0] PASS
            EC2.6 aws_vpc.counted[1] FAIL
            EC2.6 aws_vpc.keyed["blue"] PASS
            EC2.6 aws_vpc.keyed["green"] PASS
            EC2.6 aws_vpc.pool[0] UNKNOWN
            EC2.6 aws_vpc.pool[1] UNKNOWN
            CIS.VPC.FLOWLOGS aws_vpc.counted[0] PASS
            CIS.VPC.FLOWLOGS aws_vpc.counted[1] FAIL
            CIS.VPC.FLOWLOGS aws_vpc.keyed["blue"] PASS
            CIS.VPC.FLOWLOGS aws_vpc.keyed["green"] PASS
            CIS.VPC.FLOWLOGS aws_vpc.pool[0] UNKNOWN
            CIS.VPC.FLOWLOGS aws_vpc.pool[1] UNKNOWN
            CloudWatch.16 aws_cloudwatch_log_group.flow PASS
            NETAUDIT.RETENTION.CHAIN aws_cloudwatch_log_group.flow PASS
            "#
        )
    );
    // `element(aws_vpc.pool[*].id, 0)` lists `aws_vpc.pool`: either instance.
    let why = reason(&findings, "EC2.6", "aws_vpc.pool[1]");
    assert!(
        why.contains("aws_flow_log.first_of_pool.vpc_id") && why.contains("aws_vpc.pool[0], aws_vpc.pool[1]"),
        "{why}"
    );
    let root = plan("instances.json");
    assert_eq!(
        attribute(&root, r#"aws_flow_log.keyed["green"]"#, &["vpc_id"]),
        &reference(r#"aws_vpc.keyed["green"]"#, None)
    );
}

#[test]
fn a_local_is_one_of_the_resources_the_plan_creates() {
    let findings = scan_clean("local.json");
    assert_eq!(
        verdicts(&findings),
        expected(
            "
            EC2.6 aws_vpc.this[0] PASS
            CIS.VPC.FLOWLOGS aws_vpc.this[0] PASS
            CloudWatch.16 aws_cloudwatch_log_group.flow PASS
            NETAUDIT.RETENTION.CHAIN aws_cloudwatch_log_group.flow PASS
            "
        )
    );
    let root = plan("local.json");
    match attribute(&root, "aws_flow_log.this[0]", &["vpc_id"]) {
        Value::Unknown { why, refs } => {
            assert!(why.contains("local.vpc_id"), "{why}");
            let targets: Vec<&str> = refs.iter().map(|r| r.target.as_str()).collect();
            assert!(targets.contains(&"aws_vpc.this[0]"), "{targets:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_local_in_a_module_instance_reaches_only_what_that_instance_creates_or_is_given() {
    let findings = scan_clean("local_in_module.json");
    assert_eq!(
        verdicts(&findings),
        expected(
            r#"
            EC2.6 module.vpc["a"].aws_vpc.this[0] PASS
            EC2.6 module.vpc["b"].aws_vpc.this[0] FAIL
            CIS.VPC.FLOWLOGS module.vpc["a"].aws_vpc.this[0] PASS
            CIS.VPC.FLOWLOGS module.vpc["b"].aws_vpc.this[0] FAIL
            "#
        )
    );
    let root = plan("local_in_module.json");
    match attribute(&root, r#"module.vpc["a"].aws_flow_log.this[0]"#, &["vpc_id"]) {
        Value::Unknown { why, refs } => {
            assert!(why.contains(r#"module.vpc["a"].local.vpc_id"#), "{why}");
            let targets: Vec<&str> = refs.iter().map(|r| r.target.as_str()).collect();
            assert_eq!(
                targets,
                [
                    r#"module.vpc["a"].aws_flow_log.this[0]"#,
                    r#"module.vpc["a"].aws_vpc.this[0]"#
                ]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn client_vpn_and_site_to_site_blocks_follow_references() {
    let findings = scan_clean("vpn.json");
    assert_eq!(
        verdicts(&findings),
        expected(
            "
            CloudWatch.16 aws_cloudwatch_log_group.vpn FAIL
            NETAUDIT.RETENTION.CHAIN aws_cloudwatch_log_group.vpn FAIL
            EC2.51 aws_ec2_client_vpn_endpoint.logged PASS
            EC2.51 aws_ec2_client_vpn_endpoint.dark FAIL
            NETAUDIT.CVPN.LOGGROUP aws_ec2_client_vpn_endpoint.logged PASS
            NETAUDIT.CVPN.LOGGROUP aws_ec2_client_vpn_endpoint.dark NOT_APPLICABLE
            EC2.171 aws_vpn_connection.half_logged FAIL
            EC2.183 aws_vpn_connection.half_logged PASS
            NETAUDIT.S2S.IKEV2 aws_vpn_connection.half_logged#tunnel1 PASS
            NETAUDIT.S2S.IKEV2 aws_vpn_connection.half_logged#tunnel2 PASS
            NETAUDIT.S2S.LOGGROUP aws_vpn_connection.half_logged#tunnel1 PASS
            NETAUDIT.S2S.LOGGROUP aws_vpn_connection.half_logged#tunnel2 NOT_APPLICABLE
            NETAUDIT.S2S.VENDEDLOGS aws_vpn_connection.half_logged#tunnel1 UNKNOWN
            NETAUDIT.S2S.VENDEDLOGS aws_vpn_connection.half_logged#tunnel2 NOT_APPLICABLE
            "
        )
    );
    let root = plan("vpn.json");
    assert_eq!(
        attribute(
            &root,
            "aws_vpn_connection.half_logged",
            &[
                "tunnel1_log_options",
                "0",
                "cloudwatch_log_options",
                "0",
                "log_group_arn"
            ]
        ),
        &reference("aws_cloudwatch_log_group.vpn", Some("arn"))
    );
    assert_eq!(
        attribute(
            &root,
            "aws_ec2_client_vpn_endpoint.logged",
            &["connection_log_options", "0", "enabled"]
        ),
        &Value::Bool(true)
    );
}

/// Real `terraform show -json` output (terraform 1.11.4, built-in `terraform_data`): the shape
/// the AWS fixtures copy. No AWS resources, so no assets; the references resolve.
#[test]
fn terraform_data_plans_read_without_error() {
    let shapes = ["shape/create.json", "shape/change.json", "shape/for_each.json"];
    let (declared, findings) = scan(&shapes.map(fixture));
    assert!(declared.errors.is_empty(), "{:?}", declared.errors);
    assert_eq!(declared.units.len(), 3, "{:?}", declared.units);
    assert!(declared.assets.is_empty());
    assert!(findings.is_empty());

    let created = plan("shape/create.json");
    // One line: every resource is at line 1.
    assert!(created.resources.iter().all(|r| r.location.line == 1));
    // `terraform_data.vpc[count.index].id`: references `terraform_data.vpc` and `count.index`.
    assert_eq!(
        attribute(&created, "terraform_data.flow[1]", &["input", "vpc_id"]),
        &reference("terraform_data.vpc[1]", None)
    );
    assert_eq!(
        attribute(&created, "terraform_data.from_module", &["input"]),
        &reference("module.net.terraform_data.this[0]", Some("id"))
    );
    assert_eq!(
        attribute(&created, "module.net.terraform_data.this[0]", &["input"]),
        &reference("terraform_data.by_local", Some("id"))
    );
    // Known values stay values.
    assert_eq!(
        attribute(&created, r#"terraform_data.each["b"]"#, &["input"]),
        &Value::Str("b-90".into())
    );

    // `for_each = terraform_data.vpc` with `each.value.id`, in a resource and a module call.
    let each = plan("shape/for_each.json");
    assert_eq!(
        attribute(&each, r#"terraform_data.flow["b"]"#, &["input"]),
        &reference(r#"terraform_data.vpc["b"]"#, None)
    );
    assert_eq!(
        attribute(&each, r#"module.m["a"].terraform_data.x"#, &["input"]),
        &reference(r#"terraform_data.vpc["a"]"#, None)
    );

    let changed = plan("shape/change.json");
    assert!(changed.resource(r#"terraform_data.each["b"]"#).is_none(), "deleted");
    assert!(changed.resource("terraform_data.vpc[1]").is_some(), "replaced");
    assert_eq!(
        changed.resource("data.terraform_remote_state.prev").map(|r| r.mode),
        Some(ResourceMode::Data)
    );
}

#[test]
fn bad_plans_are_errors_with_the_file_and_the_rest_goes_on() {
    let bad = ["bad/syntax.json", "bad/format_version.json", "bad/reference.json"];
    let mut paths: Vec<PathBuf> = bad.iter().map(|b| fixture(b)).collect();
    paths.push(fixture("unknown_ids.json"));
    let (declared, findings) = scan(&paths);
    assert_eq!(declared.errors.len(), 3, "{:?}", declared.errors);
    for (error, file) in declared.errors.iter().zip(bad) {
        assert!(error.path.ends_with(file), "{error}");
    }
    let syntax = &declared.errors[0];
    assert_eq!((syntax.line, syntax.column), (Some(7), Some(36)), "{syntax}");
    let version = &declared.errors[1];
    assert!(version.message.contains("format_version 2.0"), "{version}");
    assert_eq!(version.line, Some(2), "{version}");
    let reference = &declared.errors[2];
    assert!(
        reference
            .message
            .starts_with("aws_flow_log.main.vpc_id: the reference aws_vpc.missing.id"),
        "{reference}"
    );
    // The line of the flow log's address in planned_values.
    assert_eq!(reference.line, Some(8), "{reference}");
    // The unresolved reference leaves the value unknown; the other plan is read.
    let root = plan("bad/reference.json");
    match attribute(&root, "aws_flow_log.main", &["vpc_id"]) {
        Value::Unknown { why, .. } => assert!(why.contains("aws_vpc.missing.id"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(verdicts(&findings).contains(&"EC2.6 aws_vpc.main PASS".to_owned()));
}

#[test]
fn folders_read_plans_among_other_json() {
    let (declared, _) = scan(&[fixture("")]);
    let plans = declared.units.iter().filter(|u| u.ends_with(".json")).count();
    // Every plan but the two that cannot be read (syntax, format version).
    assert_eq!(plans, 13, "{:?}", declared.units);
    assert_eq!(declared.errors.len(), 3, "{:?}", declared.errors);
}
