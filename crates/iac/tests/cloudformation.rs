//! CloudFormation templates evaluated before deploy: short forms, parameters, conditions,
//! references, and errors that name the line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use netaudit_iac::cloudformation::{load, Existence, Options, Template};
use netaudit_iac::{Reference, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> (String, String) {
    let path = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default())
        .join("tests/fixtures/cloudformation")
        .join(name);
    (name.to_owned(), std::fs::read_to_string(path).unwrap())
}

fn network(parameters: &[(&str, &str)]) -> Template {
    let (path, text) = fixture("network.yaml");
    let options = Options {
        parameters: parameters
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    };
    load(&path, &text, &options).unwrap()
}

fn resource<'t>(t: &'t Template, id: &str) -> &'t netaudit_iac::cloudformation::Resource {
    t.resources.iter().find(|r| r.logical_id == id).unwrap()
}

fn reference(target: &str, attribute: Option<&str>) -> Value {
    Value::Ref(Reference {
        target: target.into(),
        attribute: attribute.map(str::to_owned),
    })
}

#[test]
fn short_forms_become_references_and_parameters_take_their_defaults() {
    let t = network(&[]);
    assert!(t.errors.is_empty(), "{:?}", t.errors);
    let flow_log = resource(&t, "VpcFlowLog");
    let p = &flow_log.properties;
    assert_eq!(p.get("ResourceId"), Some(&reference("Vpc", Some("VpcId"))));
    assert_eq!(p.get("LogDestination"), Some(&reference("FlowLogGroup", Some("Arn"))));
    // The mapping is looked up with the parameter's default.
    assert_eq!(p.get("TrafficType"), Some(&Value::Str("ALL".into())));
    assert!(
        matches!(p.get("DeliverLogsPermissionArn"), Some(Value::Unknown { why, .. }) if why.contains("shared-flow-log-role-arn") && why.contains("another stack"))
    );
    let group = resource(&t, "FlowLogGroup");
    assert_eq!(group.properties.get("RetentionInDays"), Some(&Value::Number(400.0)));
    // A name built from another resource's id is unknown but still points at it.
    match group.properties.get("LogGroupName") {
        Some(Value::Unknown { refs, .. }) => assert_eq!(
            refs,
            &vec![Reference {
                target: "Vpc".into(),
                attribute: None
            }]
        ),
        other => panic!("{other:?}"),
    }
    let vpc = resource(&t, "Vpc");
    let tags = vpc.properties.get("Tags").unwrap();
    assert_eq!(
        tags,
        &Value::List(vec![Value::Map(BTreeMap::from([
            ("Key".to_owned(), Value::Str("Name".into())),
            ("Value".to_owned(), Value::Str("prod-vpc".into()))
        ]))])
    );
}

#[test]
fn conditions_decide_which_resources_exist() {
    let prod = network(&[]);
    assert_eq!(
        resource(&prod, "DevVpc").existence,
        Existence::Absent {
            condition: "IsDev".into()
        }
    );
    assert_eq!(resource(&prod, "Vpc").existence, Existence::Exists);
    // The region is known only at deploy: the VPC may or may not exist.
    assert!(
        matches!(&resource(&prod, "RegionalVpc").existence, Existence::Unknown { condition, why } if condition == "InRegion" && why.contains("AWS::Region"))
    );
    let endpoint = resource(&prod, "Endpoint");
    let logging = endpoint.properties.get("ConnectionLogOptions").unwrap();
    assert_eq!(logging.get("Enabled"), Some(&Value::Bool(true)));
    assert_eq!(
        logging.get("CloudwatchLogGroup"),
        Some(&reference("FlowLogGroup", None))
    );
    // AWS::NoValue removes the property.
    assert_eq!(
        resource(&prod, "ExternalFlowLog")
            .properties
            .get("MaxAggregationInterval"),
        None
    );

    let dev = network(&[("Environment", "dev")]);
    assert_eq!(resource(&dev, "DevVpc").existence, Existence::Exists);
    let logging = resource(&dev, "Endpoint")
        .properties
        .get("ConnectionLogOptions")
        .cloned()
        .unwrap();
    assert_eq!(logging.get("Enabled"), Some(&Value::Bool(false)));
    assert_eq!(
        resource(&dev, "VpcFlowLog").properties.get("TrafficType"),
        Some(&Value::Str("REJECT".into()))
    );
    assert_eq!(
        resource(&dev, "ExternalFlowLog")
            .properties
            .get("MaxAggregationInterval"),
        Some(&Value::Number(60.0))
    );
}

#[test]
fn what_lies_outside_the_template_is_unknown_with_the_reason() {
    let t = network(&[]);
    let external = resource(&t, "ExternalFlowLog");
    assert!(
        matches!(external.properties.get("ResourceId"), Some(Value::Unknown { why, .. }) if why.contains("ExistingVpcId") && why.contains("outside the template"))
    );
    let endpoint = resource(&t, "Endpoint");
    assert!(
        matches!(endpoint.properties.get("ServerCertificateArn"), Some(Value::Unknown { why, .. }) if why.contains("--cfn-parameter ServerCertificateArn=VALUE"))
    );
    // A parameter given on the command line is used.
    let given = network(&[("ExistingVpcId", "vpc-0123456789abcdef0")]);
    assert_eq!(
        resource(&given, "ExternalFlowLog").properties.get("ResourceId"),
        Some(&Value::Str("vpc-0123456789abcdef0".into()))
    );
}

#[test]
fn resources_carry_their_lines() {
    let t = network(&[]);
    let (_, text) = fixture("network.yaml");
    let line_of = |needle: &str| text.lines().position(|l| l == needle).unwrap() + 1;
    let flow_log = resource(&t, "VpcFlowLog");
    // A resource starts at its logical id.
    assert_eq!(flow_log.location.line, line_of("  VpcFlowLog:"));
    assert_eq!(flow_log.location.end_line, line_of("  ExternalFlowLog:") - 1);
}

#[test]
fn json_templates_and_cdk_paths() {
    let text = r#"{
  "Resources": {
    "NetworkVpc1A2B3C4D": {
      "Type": "AWS::EC2::VPC",
      "Properties": { "CidrBlock": "10.0.0.0/16" },
      "Metadata": { "aws:cdk:path": "NetworkStack/Network/Resource" }
    },
    "NetworkFlowLogE5F6": {
      "Type": "AWS::EC2::FlowLog",
      "Properties": {
        "ResourceId": { "Ref": "NetworkVpc1A2B3C4D" },
        "ResourceType": "VPC",
        "TrafficType": "ALL",
        "LogDestination": { "Fn::GetAtt": ["Group", "Arn"] }
      }
    },
    "Group": { "Type": "AWS::Logs::LogGroup", "Properties": { "RetentionInDays": 731 } }
  }
}"#;
    let t = load("stack.template.json", text, &Options::default()).unwrap();
    assert!(t.errors.is_empty(), "{:?}", t.errors);
    assert_eq!(
        resource(&t, "NetworkVpc1A2B3C4D").cdk_path.as_deref(),
        Some("NetworkStack/Network/Resource")
    );
    assert_eq!(resource(&t, "NetworkVpc1A2B3C4D").location.line, 3);
    let p = &resource(&t, "NetworkFlowLogE5F6").properties;
    assert_eq!(p.get("ResourceId"), Some(&reference("NetworkVpc1A2B3C4D", None)));
    assert_eq!(p.get("LogDestination"), Some(&reference("Group", Some("Arn"))));
}

#[test]
fn bad_templates_name_the_line_and_the_rest_is_still_read() {
    let text = "Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: !Fn::Bogus x\n  Group:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      RetentionInDays: !Ref Missing\n      LogGroupName: {\"Fn::Frobnicate\": [1]}\n";
    let err = load("bad.yaml", text, &Options::default()).unwrap_err();
    assert_eq!((err.line, err.path.as_str()), (Some(5), "bad.yaml"), "{err}");
    assert!(err.message.contains("unknown tag"), "{err}");

    let text = text.replace("!Fn::Bogus x", "10.0.0.0/16");
    let t = load("bad.yaml", &text, &Options::default()).unwrap();
    let messages: Vec<String> = t.errors.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with("bad.yaml:9:") && messages[0].contains("Missing"),
        "{messages:?}"
    );
    assert!(
        messages[1].starts_with("bad.yaml:10:") && messages[1].contains("Fn::Frobnicate"),
        "{messages:?}"
    );
    assert_eq!(t.resources.len(), 2);
    assert!(matches!(
        resource(&t, "Group").properties.get("RetentionInDays"),
        Some(Value::Unknown { .. })
    ));

    let syntax = load("broken.yaml", "Resources:\n  Vpc: [\n", &Options::default()).unwrap_err();
    assert_eq!(syntax.path, "broken.yaml");
    assert!(syntax.line.is_some(), "{syntax}");
    let not_cfn = load("values.yaml", "replicas: 3\nimage: nginx\n", &Options::default()).unwrap_err();
    assert!(not_cfn.message.contains("not a CloudFormation template"), "{not_cfn}");
}

#[test]
fn a_condition_cycle_is_an_error_not_a_hang() {
    let text = "Conditions:\n  A: !Condition B\n  B: !Not [!Condition A]\nResources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Condition: A\n";
    let t = load("cycle.yaml", text, &Options::default()).unwrap();
    assert!(
        t.errors.iter().any(|e| e.message.contains("depends on itself")),
        "{:?}",
        t.errors
    );
    assert!(matches!(t.resources[0].existence, Existence::Unknown { .. }));
}

/// Runs cfn-lint (installed with the emulator by scripts/test.sh) on these files, with these extra
/// arguments, and fails with what it printed unless it finds nothing wrong.
fn assert_cfn_lint_accepts(files: &[PathBuf], extra: &[&str]) {
    let Some(server) = std::env::var_os("NETAUDIT_MOTO_SERVER") else {
        panic!("NETAUDIT_MOTO_SERVER is not set: run the tests through scripts/test.sh");
    };
    let lint = Path::new(&server).with_file_name("cfn-lint");
    assert!(!files.is_empty(), "no templates to lint");
    let out = std::process::Command::new(&lint)
        .args(["--format", "parseable"])
        .args(extra)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", lint.display()));
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The fixtures are templates CloudFormation accepts.
#[test]
fn the_fixtures_pass_cfn_lint() {
    let fixtures = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("tests/fixtures");
    assert_cfn_lint_accepts(
        &[
            fixtures.join("cloudformation/*.yaml"),
            fixtures.join("inline/cloudformation/*"),
        ],
        &[],
    );
}

/// The templates the example CDK app synthesized (examples/cdk/cdk.out) are valid too. W3005
/// (a `DependsOn` that a `GetAtt` already implies) is CDK's own custom resource provider, as
/// aws-cdk-lib writes it, not something the app chose.
#[test]
fn the_synthesized_cdk_templates_pass_cfn_lint() {
    let out = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../examples/cdk/cdk.out");
    let mut templates: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap_or_else(|e| panic!("{}: {e}", out.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".template.json"))
        .collect();
    templates.sort();
    assert_eq!(templates.len(), 5, "{templates:?}");
    assert_cfn_lint_accepts(&templates, &["--ignore-checks=W3005"]);
}
