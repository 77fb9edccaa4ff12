//! Terraform root modules evaluated before plan: locals and `try`, module outputs, `for_each` keys,
//! `count = 0`, `dynamic` blocks, variable files, unknowns, and errors that name the line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use netaudit_iac::terraform::{
    find_roots, load_root, scan, ResourceMode, RootModule, TfExistence, TfOptions, TfResource,
};
use netaudit_iac::{Reference, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn fixtures() -> PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("tests/fixtures/terraform")
}

fn root(name: &str) -> RootModule {
    root_with(name, &TfOptions::default())
}

fn root_with(name: &str, options: &TfOptions) -> RootModule {
    load_root(&fixtures().join(name), options)
}

fn resource<'m>(m: &'m RootModule, address: &str) -> &'m TfResource {
    m.resource(address).unwrap_or_else(|| {
        panic!(
            "no {address} among {:?}",
            m.resources.iter().map(|r| &r.address).collect::<Vec<_>>()
        )
    })
}

fn attr<'r>(r: &'r TfResource, name: &str) -> &'r Value {
    r.attributes
        .get(name)
        .unwrap_or_else(|| panic!("{} has no {name}: {:?}", r.address, r.attributes))
}

fn reference(target: &str, attribute: &str) -> Value {
    Value::Ref(Reference {
        target: target.into(),
        attribute: Some(attribute.into()),
    })
}

fn s(text: &str) -> Value {
    Value::Str(text.into())
}

fn n(v: f64) -> Value {
    Value::Number(v)
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|i| s(i)).collect())
}

/// The only element of a nested block list, e.g. `connection_log_options[0]`.
fn block<'v>(v: &'v Value, name: &str) -> Vec<&'v Value> {
    match v.get(name) {
        Some(Value::List(items)) => items.iter().collect(),
        other => panic!("{name} is not a block list: {other:?}"),
    }
}

fn assert_no_errors(m: &RootModule) {
    assert!(m.errors.is_empty(), "unexpected errors: {:#?}", m.errors);
}

#[test]
fn a_flow_log_through_a_local_and_try_links_to_the_counted_vpc() {
    let m = root("local_try");
    assert_no_errors(&m);
    let vpc = resource(&m, "aws_vpc.this[0]");
    assert_eq!(vpc.existence, TfExistence::Exists);
    assert_eq!(vpc.resource_type, "aws_vpc");
    assert_eq!(vpc.mode, ResourceMode::Managed);
    assert_eq!(vpc.location.line, 1);
    assert!(vpc.file.ends_with("local_try/main.tf"));
    assert_eq!(attr(vpc, "tags").get("Name"), Some(&s("core")));

    let flow_log = resource(&m, "aws_flow_log.this");
    assert_eq!(flow_log.existence, TfExistence::Exists);
    assert_eq!(attr(flow_log, "vpc_id"), &reference("aws_vpc.this[0]", "id"));
    assert_eq!(attr(flow_log, "traffic_type"), &s("ALL"));
    assert_eq!(
        attr(flow_log, "log_destination"),
        &reference("aws_cloudwatch_log_group.flow_log", "arn")
    );
    // A configured attribute of another resource reads as its literal value.
    assert_eq!(attr(flow_log, "log_group_name"), &s("/aws/vpc-flow-log/core"));
    let group = resource(&m, "aws_cloudwatch_log_group.flow_log");
    assert_eq!(attr(group, "retention_in_days"), &n(365.0));
    assert_eq!(group.location.line, 15);
}

#[test]
fn a_count_of_zero_leaves_the_vpc_absent_and_try_falls_back() {
    let options = TfOptions {
        vars: vec![("create_vpc".into(), "false".into())],
        var_files: vec![],
    };
    let m = root_with("local_try", &options);
    assert_no_errors(&m);
    assert!(m.resource("aws_vpc.this[0]").is_none());
    let vpc = resource(&m, "aws_vpc.this");
    assert!(
        matches!(&vpc.existence, TfExistence::Absent { why } if why.contains("count = 0") && why.contains("main.tf:2")),
        "{:?}",
        vpc.existence
    );
    // The index is out of range, so try() gives its fallback: the flow log is attached to nothing.
    assert_eq!(attr(resource(&m, "aws_flow_log.this"), "vpc_id"), &s(""));
}

#[test]
fn count_zero_resources_and_the_default_vpc() {
    let m = root("count_zero");
    assert_no_errors(&m);
    assert!(matches!(
        resource(&m, "aws_vpc.legacy").existence,
        TfExistence::Absent { .. }
    ));
    assert!(matches!(
        resource(&m, "aws_flow_log.legacy").existence,
        TfExistence::Absent { .. }
    ));
    assert!(
        matches!(&resource(&m, "aws_vpc.planned").existence, TfExistence::Absent { why } if why.contains("for_each is empty"))
    );
    let default_vpc = resource(&m, "aws_default_vpc.default");
    assert_eq!(default_vpc.resource_type, "aws_default_vpc");
    assert_eq!(default_vpc.existence, TfExistence::Exists);
    assert_eq!(
        attr(resource(&m, "aws_flow_log.default_vpc"), "vpc_id"),
        &reference("aws_default_vpc.default", "id")
    );
}

#[test]
fn a_flow_log_through_a_module_output_links_into_the_module() {
    let m = root("module_output");
    assert_no_errors(&m);
    let vpc = resource(&m, "module.vpc.aws_vpc.this");
    assert_eq!(attr(vpc, "cidr_block"), &s("10.20.0.0/16"));
    assert!(vpc.file.ends_with("modules/logged_vpc/main.tf"));
    let group = resource(&m, "module.vpc.aws_cloudwatch_log_group.flow");
    assert_eq!(attr(group, "name"), &s("/aws/vpc/payments"));
    assert_eq!(attr(group, "retention_in_days"), &n(400.0));

    let core = resource(&m, "aws_flow_log.core");
    assert_eq!(attr(core, "vpc_id"), &reference("module.vpc.aws_vpc.this", "id"));
    assert_eq!(attr(core, "traffic_type"), &s("REJECT"));
    assert_eq!(
        attr(core, "log_destination"),
        &reference("module.vpc.aws_cloudwatch_log_group.flow", "arn")
    );
    assert_eq!(attr(core, "log_group_name"), &s("/aws/vpc/payments"));

    // A registry module is not on disk: its outputs are unknown, and that is not an error.
    match attr(resource(&m, "aws_flow_log.edge"), "vpc_id") {
        Value::Unknown { why, refs } => {
            assert!(
                why.contains("terraform-aws-modules/vpc/aws") && why.contains("not on disk"),
                "{why}"
            );
            assert!(refs.is_empty());
        }
        other => panic!("expected an unknown, got {other:?}"),
    }
    assert!(m.resources.iter().all(|r| !r.address.starts_with("module.edge")));
}

#[test]
fn for_each_instances_are_addressed_by_key_and_linked_by_key() {
    let m = root("for_each");
    assert_no_errors(&m);
    let main = resource(&m, "aws_vpc.this[\"main\"]");
    assert_eq!(attr(main, "cidr_block"), &s("10.0.0.0/16"));
    assert_eq!(attr(main, "tags").get("Name"), Some(&s("main")));
    let edge_log = resource(&m, "aws_flow_log.this[\"edge\"]");
    assert_eq!(attr(edge_log, "vpc_id"), &reference("aws_vpc.this[\"edge\"]", "id"));
    // The optional attribute's default fills the object type.
    assert_eq!(attr(edge_log, "traffic_type"), &s("REJECT"));
    assert_eq!(
        attr(resource(&m, "aws_flow_log.this[\"main\"]"), "traffic_type"),
        &s("ALL")
    );
    assert_eq!(
        attr(resource(&m, "aws_flow_log.by_key[\"main\"]"), "vpc_id"),
        &reference("aws_vpc.this[\"main\"]", "id")
    );
    let subnet = resource(&m, "aws_subnet.private[1]");
    assert_eq!(attr(subnet, "cidr_block"), &s("10.0.1.0/24"));
    assert_eq!(attr(subnet, "vpc_id"), &reference("aws_vpc.this[\"main\"]", "id"));
    assert_eq!(
        attr(resource(&m, "aws_flow_log.subnets[1]"), "subnet_id"),
        &reference("aws_subnet.private[1]", "id")
    );
    assert!(m.resource("aws_flow_log.subnets[2]").is_none());
}

#[test]
fn dynamic_log_options_default_to_no_blocks() {
    let m = root("dynamic_blocks");
    assert_no_errors(&m);
    let endpoint = resource(&m, "aws_ec2_client_vpn_endpoint.this");
    assert!(block(&endpoint.attributes, "connection_log_options").is_empty());
    assert_eq!(
        block(&endpoint.attributes, "authentication_options")[0].get("type"),
        Some(&s("certificate-authentication"))
    );
    let vpn = resource(&m, "aws_vpn_connection.site");
    let tunnel1 = block(&vpn.attributes, "tunnel1_log_options");
    assert_eq!(tunnel1.len(), 1);
    assert!(block(tunnel1[0], "cloudwatch_log_options").is_empty());
    let tunnel2 = block(&vpn.attributes, "tunnel2_log_options");
    let cw = block(tunnel2[0], "cloudwatch_log_options");
    assert_eq!(cw[0].get("log_enabled"), Some(&Value::Bool(true)));
    assert_eq!(
        cw[0].get("log_group_arn"),
        Some(&reference("aws_cloudwatch_log_group.vpn", "arn"))
    );
}

#[test]
fn a_variables_file_turns_the_dynamic_log_options_on() {
    let options = TfOptions {
        vars: vec![],
        var_files: vec!["logging.tfvars".into()],
    };
    let m = root_with("dynamic_blocks", &options);
    assert_no_errors(&m);
    let endpoint = resource(&m, "aws_ec2_client_vpn_endpoint.this");
    let log = block(&endpoint.attributes, "connection_log_options");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].get("enabled"), Some(&Value::Bool(true)));
    assert_eq!(
        log[0].get("cloudwatch_log_group"),
        Some(&s("/aws/client-vpn/connections"))
    );
    assert_eq!(log[0].get("cloudwatch_log_stream"), Some(&s("connections")));
    let vpn = resource(&m, "aws_vpn_connection.site");
    let tunnel1 = block(&vpn.attributes, "tunnel1_log_options");
    let cw = block(tunnel1[0], "cloudwatch_log_options");
    assert_eq!(cw.len(), 1);
    assert_eq!(cw[0].get("log_enabled"), Some(&Value::Bool(true)));
    // Filled from the type's optional default.
    assert_eq!(cw[0].get("log_output_format"), Some(&s("json")));
}

fn retention(m: &RootModule) -> &Value {
    attr(resource(m, "aws_cloudwatch_log_group.flow"), "retention_in_days")
}

#[test]
fn variable_values_follow_terraform_precedence() {
    // terraform.tfvars (90) < terraform.tfvars.json (180) < a.auto.tfvars (365) < b.auto.tfvars.json (400)
    let m = root("tfvars");
    assert_no_errors(&m);
    assert_eq!(retention(&m), &n(400.0));
    assert_eq!(
        attr(resource(&m, "aws_flow_log.existing"), "traffic_type"),
        &s("REJECT")
    );

    let with_file = TfOptions {
        vars: vec![],
        var_files: vec!["prod.tfvars".into()],
    };
    let m = root_with("tfvars", &with_file);
    assert_eq!(retention(&m), &n(545.0));
    assert_eq!(attr(resource(&m, "aws_flow_log.existing"), "vpc_id"), &s("vpc-0abc"));

    let with_var = TfOptions {
        vars: vec![
            ("retention_in_days".into(), "731".into()),
            ("traffic_type".into(), "ACCEPT".into()),
            ("tags".into(), r#"{ Team = "net" }"#.into()),
        ],
        var_files: vec!["prod.tfvars".into()],
    };
    let m = root_with("tfvars", &with_var);
    // --var wins over every file, and a number variable reads its text as a number.
    assert_eq!(retention(&m), &n(731.0));
    assert_eq!(
        attr(resource(&m, "aws_flow_log.existing"), "traffic_type"),
        &s("ACCEPT")
    );
    // A variable of a collection type reads its --var text as an HCL expression.
    assert_eq!(
        attr(resource(&m, "aws_cloudwatch_log_group.flow"), "tags"),
        &Value::Map(BTreeMap::from([("Team".into(), s("net"))]))
    );
}

#[test]
fn a_variable_without_a_default_is_unknown_and_says_where() {
    let m = root("tfvars");
    let flow_log = resource(&m, "aws_flow_log.existing");
    match attr(flow_log, "vpc_id") {
        Value::Unknown { why, refs } => {
            assert_eq!(why, "var.vpc_id has no default (main.tf:20)");
            assert!(refs.is_empty());
        }
        other => panic!("expected an unknown, got {other:?}"),
    }
    assert!(matches!(
        attr(resource(&m, "aws_cloudwatch_log_group.flow"), "kms_key_id"),
        Value::Unknown { why, .. } if why.starts_with("var.log_group_kms_key has no default")
    ));
}

#[test]
fn modules_outside_the_scanned_folder_are_evaluated_with_their_inputs() {
    let m = root("examples/complete");
    assert_no_errors(&m);
    let network_log = resource(&m, "module.network.aws_flow_log.this");
    assert_eq!(
        network_log.file,
        fixtures().join("shared_modules/flow_logged_vpc/main.tf"),
        "the module's file path is normalized"
    );
    assert_eq!(
        attr(network_log, "tags").get("Module"),
        Some(&s("../../shared_modules/flow_logged_vpc"))
    );
    assert_eq!(
        attr(network_log, "vpc_id"),
        &reference("module.network.aws_vpc.this", "id")
    );
    assert_eq!(attr(network_log, "traffic_type"), &s("REJECT"));
    assert_eq!(
        attr(resource(&m, "module.per_env[\"prod\"].aws_vpc.this"), "cidr_block"),
        &s("10.41.0.0/16")
    );
    assert_eq!(
        attr(
            resource(&m, "module.per_env[\"dev\"].aws_flow_log.this"),
            "traffic_type"
        ),
        &s("ALL")
    );
    assert_eq!(
        attr(
            resource(&m, "aws_route53_resolver_query_log_config_association.prod"),
            "resource_id"
        ),
        &reference("module.per_env[\"prod\"].aws_vpc.this", "id")
    );
}

#[test]
fn the_functions_modules_use_compute_what_terraform_computes() {
    let m = root("functions");
    let results = attr(resource(&m, "terraform_data.results"), "input");
    let get = |k: &str| results.get(k).unwrap_or_else(|| panic!("no {k}"));
    let tags = Value::Map(BTreeMap::from([("Env".into(), s("prod")), ("Team".into(), s("net"))]));
    assert_eq!(get("merge"), &tags);
    assert_eq!(get("lookup"), &s("net"));
    assert_eq!(get("lookup_miss"), &s("none"));
    assert_eq!(get("length"), &n(3.0));
    assert_eq!(
        get("concat"),
        &list(&["eu-west-1a", "eu-west-1b", "eu-west-1c", "us-east-1a"])
    );
    assert_eq!(get("coalesce"), &s("fallback"));
    assert_eq!(get("compact"), &list(&["a", "b"]));
    assert_eq!(get("element"), &s("eu-west-1b"));
    assert_eq!(get("keys"), &list(&["Env", "Team"]));
    assert_eq!(get("values"), &list(&["prod", "net"]));
    assert_eq!(get("tomap"), &Value::Map(BTreeMap::from([("a".into(), n(1.0))])));
    assert_eq!(get("toset"), &list(&["a", "b"]));
    assert_eq!(get("tostring"), &s("365"));
    assert_eq!(get("tonumber"), &n(400.0));
    assert_eq!(get("format"), &s("vpc-007-2.5-\"x\""));
    assert_eq!(get("formatlist"), &list(&["a=1", "b=2"]));
    assert_eq!(get("join"), &s("eu-west-1a,eu-west-1b,eu-west-1c"));
    assert_eq!(get("split"), &list(&["10.0.0.0", "16"]));
    assert_eq!(get("replace"), &s("a_b_c"));
    assert_eq!(get("lower"), &s("all"));
    assert_eq!(get("upper"), &s("REJECT"));
    assert_eq!(get("contains"), &Value::Bool(true));
    assert_eq!(get("flatten"), &list(&["a", "b", "b", "c"]));
    assert_eq!(get("distinct"), &list(&["a", "b"]));
    assert_eq!(get("jsonencode"), &s(r#"{"a":"x","b":[1,true]}"#));
    assert_eq!(get("basename"), &s("main.tf"));
    assert_eq!(
        get("cidrsubnets"),
        &list(&["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"])
    );
    assert_eq!(get("cidr_v6"), &s("2600:1f14:0:1::/64"));
    assert_eq!(get("cidrhost"), &s("10.0.1.5"));
    assert_eq!(get("slice"), &list(&["eu-west-1b", "eu-west-1c"]));
    assert_eq!(get("one"), &s("only"));
    assert_eq!(get("one_empty"), &Value::Null);
    assert_eq!(
        get("for_map"),
        &Value::Map(BTreeMap::from([
            ("eu-west-1a".into(), s("10.0.0.0/24")),
            ("eu-west-1b".into(), s("10.0.1.0/24")),
        ]))
    );
    assert_eq!(get("splat"), &list(&["x", "y"]));
    assert_eq!(get("retention"), &n(365.0));
    assert_eq!(get("conditional"), &s("many"));
    assert_eq!(get("arithmetic"), &n(731.0));
    assert_eq!(get("precedence"), &Value::Bool(true));
    assert_eq!(get("modulo"), &n(8.0));
    assert_eq!(get("template"), &s("abc"));
    assert_eq!(get("stripped"), &s("[many]"));
    assert_eq!(get("heredoc"), &s("eu-west-1aeu-west-1b"));
    assert_eq!(get("can_good"), &Value::Bool(true));
    assert_eq!(get("can_bad"), &Value::Bool(false));
    assert_eq!(get("try_chain"), &s("default"));
    assert_eq!(get("max"), &n(5.0));
    assert_eq!(get("range"), &Value::List(vec![n(0.0), n(1.0), n(2.0)]));
    assert_eq!(get("startswith"), &Value::Bool(true));
    assert_eq!(get("trimprefix"), &s("vpc"));
    assert_eq!(get("expand"), &n(9.0));
    assert_eq!(get("sum"), &n(6.0));
    assert_eq!(get("split_empty"), &list(&[""]));
    assert_eq!(get("cidrhost_v6"), &s("2600:1f14::1"));
    assert_eq!(get("cidr_misfit"), &s("does not fit"));

    // Expressions Terraform would reject are errors with their line; their values are unknown.
    let errors = resource(&m, "aws_flow_log.errors");
    assert!(matches!(attr(errors, "vpc_id"), Value::Unknown { why, .. } if why.contains("index 7 is out of range")));
    let lines: Vec<(usize, &str)> = m.errors.iter().map(|e| (e.line.unwrap(), e.message.as_str())).collect();
    assert_eq!(m.errors.len(), 3, "{lines:?}");
    assert!(
        lines.iter().any(|(l, msg)| *l == 75 && msg.contains("out of range")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|(l, msg)| *l == 76 && msg.contains("no_such_function")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|(l, msg)| *l == 77 && msg.contains("local.not_declared")),
        "{lines:?}"
    );
}

#[test]
fn an_apply_time_value_in_an_operation_stays_unknown_and_keeps_its_references() {
    let dir = scratch("apply_time");
    std::fs::write(
        dir.join("main.tf"),
        r#"
resource "aws_vpc" "this" {
  cidr_block = "10.0.0.0/16"
}
resource "aws_cloudwatch_log_group" "flow" {
  name = "flow-${aws_vpc.this.id}"
}
resource "aws_flow_log" "this" {
  count          = aws_vpc.this.id != "" ? 1 : 0
  vpc_id         = coalesce(aws_vpc.this.id, "none")
  log_group_name = aws_cloudwatch_log_group.flow.name
  traffic_type   = upper(aws_vpc.this.id)
}
resource "aws_subnet" "a" {
  count  = length(aws_vpc.this.id)
  vpc_id = aws_vpc.this.id
}
"#,
    )
    .unwrap();
    let m = load_root(&dir, &TfOptions::default());
    assert_no_errors(&m);
    let flow_log = resource(&m, "aws_flow_log.this[0]");
    assert_eq!(attr(flow_log, "vpc_id"), &reference("aws_vpc.this", "id"));
    match attr(flow_log, "log_group_name") {
        Value::Unknown { refs, .. } => assert_eq!(
            refs,
            &vec![Reference {
                target: "aws_vpc.this".into(),
                attribute: Some("id".into())
            }]
        ),
        other => panic!("expected an unknown, got {other:?}"),
    }
    assert!(matches!(attr(flow_log, "traffic_type"), Value::Unknown { why, .. } if why.contains("upper()")));
    // A count known only after apply: one instance stands for all, and whether it exists is unknown.
    let subnet = resource(&m, "aws_subnet.a");
    assert!(matches!(&subnet.existence, TfExistence::Unknown { why } if why.contains("count")));
    assert_eq!(attr(subnet, "vpc_id"), &reference("aws_vpc.this", "id"));
}

#[test]
fn a_syntax_error_names_the_file_line_and_column_and_the_other_files_are_read() {
    let m = root("bad/syntax");
    assert_eq!(m.errors.len(), 1, "{:?}", m.errors);
    let e = &m.errors[0];
    assert_eq!(e.path, "main.tf");
    assert_eq!((e.line, e.column), (Some(7), Some(18)));
    assert!(e.message.contains("syntax"), "{}", e.message);
    assert!(m.resource("aws_vpc.other_file").is_some());
    assert!(m.resource("aws_flow_log.broken").is_none());
}

#[test]
fn a_missing_module_folder_is_an_error_at_its_source_and_its_outputs_are_unknown() {
    let m = root("bad/missing_module");
    assert_eq!(m.errors.len(), 1, "{:?}", m.errors);
    let e = &m.errors[0];
    assert_eq!((e.path.as_str(), e.line, e.column), ("main.tf", Some(2), Some(12)));
    assert!(
        e.message.contains("./modules/not_here") && e.message.contains("does not exist"),
        "{}",
        e.message
    );
    assert!(matches!(
        attr(resource(&m, "aws_flow_log.this"), "vpc_id"),
        Value::Unknown { why, .. } if why.contains("not on disk")
    ));
    assert!(m.resource("aws_vpc.still_evaluated").is_some());
}

#[test]
fn a_module_cycle_is_an_error_at_the_call_and_the_rest_is_evaluated() {
    let m = root("bad/cycle/a");
    assert_eq!(m.errors.len(), 1, "{:?}", m.errors);
    let e = &m.errors[0];
    assert!(e.path.ends_with("b/main.tf"), "{}", e.path);
    assert_eq!((e.line, e.column), (Some(5), Some(1)));
    assert!(
        e.message.contains("module cycle") && e.message.contains("a -> b -> a"),
        "{}",
        e.message
    );
    assert!(m.resource("aws_vpc.a").is_some());
    assert!(m.resource("module.b.aws_vpc.b").is_some());
}

#[test]
fn every_folder_with_tf_files_is_a_root_and_hidden_folders_are_skipped() {
    let dir = scratch("roots");
    for (folder, file) in [
        ("", "main.tf"),
        ("env/prod", "main.tf"),
        ("env/docs", "README.md"),
        (".terraform/modules/vpc", "main.tf"),
        (".hidden", "main.tf"),
    ] {
        std::fs::create_dir_all(dir.join(folder)).unwrap();
        std::fs::write(dir.join(folder).join(file), "").unwrap();
    }
    assert_eq!(find_roots(&dir), vec![dir.to_path_buf(), dir.join("env/prod")]);
}

/// A fresh folder under the system's temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("netaudit-iac-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

#[test]
fn a_chain_of_100_nested_modules_stops_at_the_depth_bound() {
    let top = scratch("deep");
    let mut dir = top.to_path_buf();
    for level in 0..100 {
        std::fs::write(
            dir.join("main.tf"),
            format!(
                r#"
variable "prefix" {{
  type    = string
  default = "root"
}}
resource "aws_vpc" "level" {{
  cidr_block = "10.{level}.0.0/16"
  tags       = {{ Name = "${{var.prefix}}-{level}" }}
}}
module "next" {{
  source = "./next"
  prefix = var.prefix
}}
output "deepest" {{
  value = try(module.next.deepest, aws_vpc.level.id)
}}
"#
            ),
        )
        .unwrap();
        dir = dir.join("next");
        std::fs::create_dir_all(&dir).unwrap();
    }
    std::fs::write(
        top.join("flow.tf"),
        "resource \"aws_flow_log\" \"deep\" {\n  vpc_id = module.next.deepest\n}\n",
    )
    .unwrap();
    let started = Instant::now();
    let m = load_root(&top, &TfOptions::default());
    assert!(started.elapsed() < Duration::from_secs(60), "{:?}", started.elapsed());
    // Levels 0 to 63 are evaluated; the call below is refused once, with its location.
    let vpcs = m.resources.iter().filter(|r| r.resource_type == "aws_vpc").count();
    assert_eq!(vpcs, 64);
    assert_eq!(m.errors.len(), 1, "{:?}", m.errors);
    assert!(
        m.errors[0].message.contains("deeper than 64"),
        "{}",
        m.errors[0].message
    );
    let deepest = format!("{}aws_vpc.level", "module.next.".repeat(63));
    assert_eq!(attr(resource(&m, &deepest), "tags").get("Name"), Some(&s("root-63")));
    // The output chain ends at the deepest module that could be read.
    assert!(matches!(
        attr(resource(&m, "aws_flow_log.deep"), "vpc_id"),
        Value::Unknown { why, .. } if why.contains("nested deeper than 64")
    ));
}

#[test]
fn a_file_of_5000_resources_is_evaluated_and_linked() {
    let dir = scratch("large");
    let mut text = String::new();
    for i in 0..2500 {
        text.push_str(&format!(
            "resource \"aws_vpc\" \"v{i}\" {{\n  cidr_block = \"10.{}.{}.0/24\"\n}}\n\nresource \"aws_flow_log\" \"f{i}\" {{\n  vpc_id       = aws_vpc.v{i}.id\n  traffic_type = \"ALL\"\n}}\n\n",
            i / 256,
            i % 256
        ));
    }
    text.push_str("resource \"aws_vpc\" \"counted\" {\n  count = 2000\n  cidr_block = \"10.200.0.0/24\"\n}\n");
    text.push_str("resource \"aws_flow_log\" \"counted\" {\n  count  = length(aws_vpc.counted)\n  vpc_id = aws_vpc.counted[count.index].id\n}\n");
    std::fs::write(dir.join("main.tf"), text).unwrap();
    let started = Instant::now();
    let m = load_root(&dir, &TfOptions::default());
    assert!(started.elapsed() < Duration::from_secs(120), "{:?}", started.elapsed());
    assert_no_errors(&m);
    assert_eq!(m.resources.len(), 5000 + 4000);
    let last = resource(&m, "aws_flow_log.f2499");
    assert_eq!(attr(last, "vpc_id"), &reference("aws_vpc.v2499", "id"));
    assert_eq!(last.location.line, 2499 * 9 + 5);
    assert_eq!(
        attr(resource(&m, "aws_flow_log.counted[1999]"), "vpc_id"),
        &reference("aws_vpc.counted[1999]", "id")
    );
}

/// A module that makes one log group named by its required variable.
const LOG_GROUP_MODULE: &str = r#"variable "name" {
  type = string
}

resource "aws_cloudwatch_log_group" "this" {
  name              = var.name
  retention_in_days = 365
}
"#;

fn write_tree(name: &str, files: &[(&str, &str)]) -> Scratch {
    let dir = scratch(name);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn data_sources_and_unknown_dynamic_collections_are_unknown_with_their_references() {
    let dir = write_tree(
        "data",
        &[(
            "main.tf",
            r#"data "aws_vpc" "shared" {
  tags = { Name = "shared" }
}

resource "aws_flow_log" "shared" {
  vpc_id         = data.aws_vpc.shared.id
  traffic_type   = "ALL"
  log_group_name = null
}

resource "aws_ec2_client_vpn_endpoint" "this" {
  dynamic "connection_log_options" {
    for_each = data.aws_vpc.shared.tags
    content {
      enabled = true
    }
  }
}
"#,
        )],
    );
    let m = load_root(&dir, &TfOptions::default());
    assert_no_errors(&m);
    let data = resource(&m, "data.aws_vpc.shared");
    assert_eq!(data.mode, ResourceMode::Data);
    assert_eq!(attr(data, "tags").get("Name"), Some(&s("shared")));
    let flow_log = resource(&m, "aws_flow_log.shared");
    match attr(flow_log, "vpc_id") {
        Value::Unknown { why, refs } => {
            assert!(why.contains("read from the account"), "{why}");
            assert_eq!(
                refs,
                &vec![Reference {
                    target: "data.aws_vpc.shared".into(),
                    attribute: Some("id".into())
                }]
            );
        }
        other => panic!("expected an unknown, got {other:?}"),
    }
    // An attribute set to null is not set.
    assert_eq!(flow_log.attributes.get("log_group_name"), None);
    assert!(matches!(
        attr(resource(&m, "aws_ec2_client_vpn_endpoint.this"), "connection_log_options"),
        Value::Unknown { why, .. } if why.contains("dynamic \"connection_log_options\"") && why.contains("main.tf:13")
    ));
}

#[test]
fn a_module_call_with_an_unknown_count_makes_its_resources_existence_unknown() {
    let dir = write_tree(
        "module_count",
        &[
            (
                "main.tf",
                r#"variable "enable_logging" {
  type = bool
}

module "logs" {
  source = "./logs"
  count  = var.enable_logging ? 1 : 0
  name   = "audit"
}

module "off" {
  source = "./logs"
  count  = 0
  name   = "off"
}
"#,
            ),
            ("logs/main.tf", LOG_GROUP_MODULE),
        ],
    );
    let m = load_root(&dir, &TfOptions::default());
    assert_no_errors(&m);
    let group = resource(&m, "module.logs.aws_cloudwatch_log_group.this");
    assert!(
        matches!(&group.existence, TfExistence::Unknown { why } if why.contains("module.logs") && why.contains("var.enable_logging has no default")),
        "{:?}",
        group.existence
    );
    assert_eq!(attr(group, "name"), &s("audit"));
    // A module called zero times has no resources.
    assert!(m.resources.iter().all(|r| !r.address.starts_with("module.off")));

    let on = TfOptions {
        vars: vec![("enable_logging".into(), "true".into())],
        var_files: vec![],
    };
    let m = load_root(&dir, &on);
    assert_eq!(
        resource(&m, "module.logs[0].aws_cloudwatch_log_group.this").existence,
        TfExistence::Exists
    );
}

#[test]
fn a_module_installed_by_terraform_init_is_evaluated_from_its_folder() {
    let dir = write_tree(
        "installed",
        &[
            (
                "main.tf",
                r#"module "vpc" {
  source  = "example-corp/flow-logged-vpc/aws"
  version = "1.2.0"
  cidr    = "10.9.0.0/16"
}

resource "aws_flow_log" "extra" {
  vpc_id       = module.vpc.vpc_id
  traffic_type = "REJECT"
}
"#,
            ),
            (
                ".terraform/modules/modules.json",
                r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"vpc","Source":"registry.terraform.io/example-corp/flow-logged-vpc/aws","Version":"1.2.0","Dir":".terraform/modules/vpc"}]}"#,
            ),
            (
                ".terraform/modules/vpc/main.tf",
                r#"variable "cidr" {
  type = string
}

resource "aws_vpc" "this" {
  cidr_block = var.cidr
}

output "vpc_id" {
  value = aws_vpc.this.id
}
"#,
            ),
        ],
    );
    assert_eq!(find_roots(&dir), vec![dir.to_path_buf()]);
    let m = load_root(&dir, &TfOptions::default());
    assert_no_errors(&m);
    assert_eq!(
        attr(resource(&m, "module.vpc.aws_vpc.this"), "cidr_block"),
        &s("10.9.0.0/16")
    );
    assert_eq!(
        attr(resource(&m, "aws_flow_log.extra"), "vpc_id"),
        &reference("module.vpc.aws_vpc.this", "id")
    );
}

#[test]
fn wrong_module_inputs_and_cyclic_locals_are_errors_with_their_lines() {
    let dir = write_tree(
        "inputs",
        &[
            (
                "main.tf",
                r#"module "logs" {
  source    = "./logs"
  retention = 365
}

locals {
  a = local.b
  b = local.a
}

resource "aws_cloudwatch_log_group" "cyclic" {
  name = local.a
}
"#,
            ),
            ("logs/main.tf", LOG_GROUP_MODULE),
        ],
    );
    let m = load_root(&dir, &TfOptions::default());
    let found: Vec<(usize, usize, &str)> = m
        .errors
        .iter()
        .map(|e| (e.line.unwrap(), e.column.unwrap(), e.message.as_str()))
        .collect();
    assert_eq!(m.errors.len(), 3, "{found:?}");
    assert!(
        found.contains(&(3, 3, "module \"logs\" has no variable \"retention\"")),
        "{found:?}"
    );
    assert!(
        found.contains(&(1, 1, "module \"logs\": the required variable \"name\" is not set")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|(l, _, msg)| *l == 8 && msg.contains("cycle")),
        "{found:?}"
    );
    assert!(matches!(
        attr(resource(&m, "aws_cloudwatch_log_group.cyclic"), "name"),
        Value::Unknown { why, .. } if why.contains("cycle")
    ));
    assert!(matches!(
        attr(resource(&m, "module.logs.aws_cloudwatch_log_group.this"), "name"),
        Value::Unknown { why, .. } if why.contains("var.name has no default")
    ));
}

#[test]
fn a_count_too_large_to_expand_is_an_error_and_one_unknown_instance() {
    let dir = write_tree(
        "huge_count",
        &[(
            "main.tf",
            "resource \"aws_vpc\" \"many\" {\n  count      = 1e9\n  cidr_block = \"10.0.0.0/16\"\n}\n",
        )],
    );
    let m = load_root(&dir, &TfOptions::default());
    assert_eq!(m.errors.len(), 1, "{:?}", m.errors);
    assert_eq!((m.errors[0].line, m.errors[0].column), (Some(2), Some(16)));
    assert_eq!(m.resources.len(), 1);
    let vpc = resource(&m, "aws_vpc.many");
    assert!(matches!(&vpc.existence, TfExistence::Unknown { why } if why.contains("not expanded")));
    assert_eq!(attr(vpc, "cidr_block"), &s("10.0.0.0/16"));
}

#[test]
fn a_vpc_module_with_optional_flow_logs_is_followed_through_its_switches() {
    let m = root("vpc_module");
    assert_no_errors(&m);
    // Flow logs on, with a log group the module creates: the flow log delivers there, and the
    // group keeps its logs forever (retention left null).
    let vpc = resource(&m, "module.logged.aws_vpc.this[0]");
    assert_eq!(vpc.existence, TfExistence::Exists);
    assert_eq!(attr(vpc, "tags").get("Name"), Some(&s("logged")));
    let flow_log = resource(&m, "module.logged.aws_flow_log.this[0]");
    assert_eq!(
        attr(flow_log, "vpc_id"),
        &reference("module.logged.aws_vpc.this[0]", "id")
    );
    assert_eq!(attr(flow_log, "traffic_type"), &s("REJECT"));
    assert_eq!(
        attr(flow_log, "log_destination"),
        &reference("module.logged.aws_cloudwatch_log_group.flow_log[0]", "arn")
    );
    let group = resource(&m, "module.logged.aws_cloudwatch_log_group.flow_log[0]");
    assert_eq!(group.attributes.get("retention_in_days"), None);
    assert!(matches!(attr(group, "name"), Value::Unknown { refs, .. }
        if refs == &vec![Reference { target: "module.logged.aws_vpc.this[0]".into(), attribute: Some("id".into()) }]));
    assert_eq!(
        attr(resource(&m, "module.logged.aws_subnet.private[1]"), "cidr_block"),
        &s("10.50.2.0/24")
    );
    assert_eq!(
        attr(resource(&m, "aws_flow_log.subnet"), "subnet_id"),
        &reference("module.logged.aws_subnet.private[1]", "id")
    );

    // Defaults: a VPC and no flow log.
    assert_eq!(
        resource(&m, "module.quiet.aws_vpc.this[0]").existence,
        TfExistence::Exists
    );
    assert!(matches!(
        resource(&m, "module.quiet.aws_flow_log.this").existence,
        TfExistence::Absent { .. }
    ));
    assert!(matches!(
        resource(&m, "module.quiet.aws_subnet.private").existence,
        TfExistence::Absent { .. }
    ));

    // create_vpc = false: nothing exists.
    let disabled: Vec<&TfResource> = m
        .resources
        .iter()
        .filter(|r| r.address.starts_with("module.disabled."))
        .collect();
    assert_eq!(disabled.len(), 4);
    assert!(disabled
        .iter()
        .all(|r| matches!(r.existence, TfExistence::Absent { .. })));
}

#[test]
fn a_scan_evaluates_every_root_and_bad_ones_do_not_stop_the_others() {
    let bad = fixtures().join("bad");
    let roots = scan(&bad, &TfOptions::default());
    let dirs: Vec<String> = roots
        .iter()
        .map(|r| r.dir.strip_prefix(&bad).unwrap().display().to_string())
        .collect();
    assert_eq!(dirs, ["cycle/a", "cycle/b", "missing_module", "syntax"]);
    assert!(roots.iter().all(|r| r.errors.len() == 1), "{roots:#?}");
    assert!(roots.iter().all(|r| !r.resources.is_empty()));
}

/// Copies of `fixture`'s main.tf cut short, or with a character removed, at many places.
fn damaged_copies(fixture: &str) -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join(fixture).join("main.tf")).unwrap();
    let cuts: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(13).collect();
    let mut out = vec![];
    for &i in &cuts {
        out.push(text[..i].to_owned());
        let next = text[i..].chars().next().map_or(0, char::len_utf8);
        out.push(format!("{}{}", &text[..i], &text[i + next..]));
    }
    out
}

#[test]
fn damaged_files_give_errors_with_lines_never_a_crash() {
    for fixture in ["functions", "dynamic_blocks", "for_each"] {
        let dir = scratch(&format!("damaged-{fixture}"));
        for entry in std::fs::read_dir(fixtures().join(fixture)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
        let copies = damaged_copies(fixture);
        assert!(copies.len() > 60);
        for text in copies {
            std::fs::write(dir.join("main.tf"), &text).unwrap();
            let m = load_root(&dir, &TfOptions::default());
            for e in &m.errors {
                assert!(!e.message.contains("stopped unexpectedly"), "{e} for:\n{text}");
                assert!(
                    e.line.is_some() || e.path.starts_with("--var"),
                    "{e} has no line, for:\n{text}"
                );
            }
        }
    }
}
