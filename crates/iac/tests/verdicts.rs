//! The catalogue, unchanged, on infrastructure as code: exact verdicts per address for Terraform
//! and CloudFormation fixtures (one resource per case).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use netaudit_iac::cloudformation::Options;

mod common;

use common::{expected, fixture, reason, scan, verdicts};

#[test]
fn terraform_verdicts_per_address() {
    let (declared, findings) = scan(&[fixture("verdicts/terraform/network")], &Options::default());
    assert!(declared.errors.is_empty(), "{:?}", declared.errors);
    assert_eq!(
        verdicts(&findings),
        expected(
            "
            EC2.6 module.vpc.aws_vpc.this[0] PASS
            EC2.6 aws_vpc.accept_only FAIL
            EC2.6 aws_default_vpc.default FAIL
            CIS.VPC.FLOWLOGS module.vpc.aws_vpc.this[0] PASS
            CIS.VPC.FLOWLOGS aws_vpc.accept_only PASS
            CIS.VPC.FLOWLOGS aws_default_vpc.default FAIL
            CloudWatch.16 aws_cloudwatch_log_group.flow PASS
            CloudWatch.16 aws_cloudwatch_log_group.client_vpn FAIL
            CloudWatch.16 aws_cloudwatch_log_group.tunnels PASS
            NETAUDIT.RETENTION.CHAIN aws_cloudwatch_log_group.flow PASS
            NETAUDIT.RETENTION.CHAIN aws_cloudwatch_log_group.client_vpn FAIL
            NETAUDIT.RETENTION.CHAIN aws_cloudwatch_log_group.tunnels PASS
            EC2.51 aws_ec2_client_vpn_endpoint.logged PASS
            EC2.51 aws_ec2_client_vpn_endpoint.dark FAIL
            EC2.51 aws_ec2_client_vpn_endpoint.elsewhere PASS
            NETAUDIT.CVPN.LOGGROUP aws_ec2_client_vpn_endpoint.logged PASS
            NETAUDIT.CVPN.LOGGROUP aws_ec2_client_vpn_endpoint.dark NOT_APPLICABLE
            NETAUDIT.CVPN.LOGGROUP aws_ec2_client_vpn_endpoint.elsewhere UNKNOWN
            EC2.171 aws_vpn_connection.both PASS
            EC2.171 aws_vpn_connection.one FAIL
            EC2.183 aws_vpn_connection.both PASS
            EC2.183 aws_vpn_connection.one FAIL
            NETAUDIT.S2S.IKEV2 aws_vpn_connection.both#tunnel1 PASS
            NETAUDIT.S2S.IKEV2 aws_vpn_connection.both#tunnel2 PASS
            NETAUDIT.S2S.IKEV2 aws_vpn_connection.one#tunnel1 FAIL
            NETAUDIT.S2S.IKEV2 aws_vpn_connection.one#tunnel2 FAIL
            NETAUDIT.S2S.LOGGROUP aws_vpn_connection.both#tunnel1 PASS
            NETAUDIT.S2S.LOGGROUP aws_vpn_connection.both#tunnel2 PASS
            NETAUDIT.S2S.LOGGROUP aws_vpn_connection.one#tunnel1 UNKNOWN
            NETAUDIT.S2S.LOGGROUP aws_vpn_connection.one#tunnel2 NOT_APPLICABLE
            NETAUDIT.S2S.VENDEDLOGS aws_vpn_connection.both#tunnel1 UNKNOWN
            NETAUDIT.S2S.VENDEDLOGS aws_vpn_connection.both#tunnel2 UNKNOWN
            NETAUDIT.S2S.VENDEDLOGS aws_vpn_connection.one#tunnel1 FAIL
            NETAUDIT.S2S.VENDEDLOGS aws_vpn_connection.one#tunnel2 NOT_APPLICABLE
            "
        )
    );
    assert!(reason(
        &findings,
        "NETAUDIT.CVPN.LOGGROUP",
        "aws_ec2_client_vpn_endpoint.elsewhere"
    )
    .contains("/shared/client-vpn"));
    let fail = findings
        .iter()
        .find(|f| f.control == "EC2.6" && f.resource_id == "aws_vpc.accept_only")
        .unwrap();
    let at = fail.location.as_ref().unwrap();
    assert!(at.file.ends_with("network/main.tf"), "{}", at.file);
    assert_eq!((at.start_line, at.end_line), (25, 30));
    assert_eq!(fail.account_id, "");
    assert!(
        fail.resource_arn.ends_with("network#aws_vpc.accept_only"),
        "{}",
        fail.resource_arn
    );
}

#[test]
fn terraform_values_known_only_at_deploy_are_unknown_naming_the_expression() {
    let (_, findings) = scan(&[fixture("verdicts/terraform/undecided")], &Options::default());
    assert_eq!(
        verdicts(&findings),
        expected(
            "
            EC2.6 aws_vpc.main UNKNOWN
            EC2.6 aws_vpc.maybe_logged UNKNOWN
            CIS.VPC.FLOWLOGS aws_vpc.main PASS
            CIS.VPC.FLOWLOGS aws_vpc.maybe_logged UNKNOWN
            CloudWatch.16 aws_cloudwatch_log_group.flow UNKNOWN
            NETAUDIT.RETENTION.CHAIN aws_cloudwatch_log_group.flow UNKNOWN
            "
        )
    );
    assert!(reason(&findings, "EC2.6", "aws_vpc.main").contains("var.traffic_type"));
    assert!(reason(&findings, "CloudWatch.16", "aws_cloudwatch_log_group.flow").contains("var.retention_days"));
    let maybe = reason(&findings, "EC2.6", "aws_vpc.maybe_logged");
    assert!(
        maybe.contains("aws_flow_log.maybe may not exist") && maybe.contains("var.flow_logs_enabled"),
        "{maybe}"
    );
}

#[test]
fn cloudformation_verdicts_per_logical_id() {
    let (declared, findings) = scan(&[fixture("cloudformation/verdicts.yaml")], &Options::default());
    assert!(declared.errors.is_empty(), "{:?}", declared.errors);
    assert_eq!(
        verdicts(&findings),
        expected(
            "
            EC2.6 LoggedVpc PASS
            EC2.6 BareVpc FAIL
            CIS.VPC.FLOWLOGS LoggedVpc PASS
            CIS.VPC.FLOWLOGS BareVpc FAIL
            CloudWatch.16 FlowLogGroup FAIL
            CloudWatch.16 TunnelLogGroup PASS
            NETAUDIT.RETENTION.CHAIN FlowLogGroup FAIL
            NETAUDIT.RETENTION.CHAIN TunnelLogGroup PASS
            EC2.171 Vpn PASS
            EC2.171 HalfLoggedVpn FAIL
            EC2.183 Vpn PASS
            EC2.183 HalfLoggedVpn FAIL
            EC2.51 ClientVpn UNKNOWN
            EC2.51 DarkClientVpn FAIL
            NETAUDIT.CVPN.LOGGROUP ClientVpn UNKNOWN
            NETAUDIT.CVPN.LOGGROUP DarkClientVpn NOT_APPLICABLE
            NETAUDIT.S2S.IKEV2 Vpn#tunnel1 PASS
            NETAUDIT.S2S.IKEV2 Vpn#tunnel2 PASS
            NETAUDIT.S2S.IKEV2 HalfLoggedVpn#tunnel1 FAIL
            NETAUDIT.S2S.IKEV2 HalfLoggedVpn#tunnel2 FAIL
            NETAUDIT.S2S.LOGGROUP Vpn#tunnel1 PASS
            NETAUDIT.S2S.LOGGROUP Vpn#tunnel2 PASS
            NETAUDIT.S2S.LOGGROUP HalfLoggedVpn#tunnel1 PASS
            NETAUDIT.S2S.LOGGROUP HalfLoggedVpn#tunnel2 NOT_APPLICABLE
            NETAUDIT.S2S.VENDEDLOGS Vpn#tunnel1 UNKNOWN
            NETAUDIT.S2S.VENDEDLOGS Vpn#tunnel2 UNKNOWN
            NETAUDIT.S2S.VENDEDLOGS HalfLoggedVpn#tunnel1 UNKNOWN
            NETAUDIT.S2S.VENDEDLOGS HalfLoggedVpn#tunnel2 NOT_APPLICABLE
            "
        )
    );
    assert!(reason(&findings, "EC2.51", "ClientVpn").contains("ClientVpnLogging"));
    // A parameter decides it.
    let given = Options {
        parameters: [("ClientVpnLogging".to_owned(), "true".to_owned())].into(),
    };
    let (_, findings) = scan(&[fixture("cloudformation/verdicts.yaml")], &given);
    assert!(findings
        .iter()
        .any(|f| f.control == "EC2.51" && f.resource_id == "ClientVpn" && f.status == netaudit_checks::Status::Pass));
}

#[test]
fn folders_mix_inputs_and_skip_what_is_not_iac() {
    let (declared, findings) = scan(&[fixture("verdicts")], &Options::default());
    assert!(declared.errors.is_empty(), "{:?}", declared.errors);
    // Two Terraform roots (the module folder is read through its caller) and the CDK template;
    // cdk.out/manifest.json is not a template.
    assert_eq!(declared.units.len(), 3, "{:?}", declared.units);
    assert!(
        declared.units[2].ends_with("cdk.out/NetworkStack.template.json"),
        "{:?}",
        declared.units
    );
    let vpc = declared.assets.iter().find(|a| a.address == "VpcA1B2C3D4").unwrap();
    assert_eq!(vpc.source.construct_path.as_deref(), Some("NetworkStack/Vpc/Resource"));
    assert!(verdicts(&findings).contains(&"EC2.6 VpcA1B2C3D4 PASS".to_owned()));
    assert!(verdicts(&findings).contains(&"CloudWatch.16 VpcFlowLogsGroupE5F6A7B8 PASS".to_owned()));
    let broken = std::env::temp_dir().join(format!("netaudit-iac-broken-{}.yaml", std::process::id()));
    std::fs::write(
        &broken,
        "Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties: [\n",
    )
    .unwrap();
    let (declared, _) = scan(
        &[broken.clone(), fixture("cloudformation/verdicts.yaml")],
        &Options::default(),
    );
    std::fs::remove_file(&broken).unwrap();
    assert_eq!(declared.errors.len(), 1, "{:?}", declared.errors);
    assert!(declared.errors[0].line.is_some() && declared.errors[0].column.is_some());
    assert!(declared.assets.iter().any(|a| a.address == "BareVpc"));
}

#[test]
fn settings_left_to_variables_and_log_groups_turned_off() {
    let (_, findings) = scan(&[fixture("terraform-tunnels")], &Options::default());
    assert_eq!(
        verdicts(&findings),
        expected(
            "
            EC2.171 aws_vpn_connection.decided_at_plan UNKNOWN
            EC2.171 aws_vpn_connection.group_turned_off PASS
            EC2.183 aws_vpn_connection.decided_at_plan UNKNOWN
            EC2.183 aws_vpn_connection.group_turned_off PASS
            EC2.51 aws_ec2_client_vpn_endpoint.group_turned_off PASS
            NETAUDIT.CVPN.LOGGROUP aws_ec2_client_vpn_endpoint.group_turned_off FAIL
            NETAUDIT.S2S.IKEV2 aws_vpn_connection.decided_at_plan#tunnel1 UNKNOWN
            NETAUDIT.S2S.IKEV2 aws_vpn_connection.decided_at_plan#tunnel2 PASS
            NETAUDIT.S2S.IKEV2 aws_vpn_connection.group_turned_off#tunnel1 PASS
            NETAUDIT.S2S.IKEV2 aws_vpn_connection.group_turned_off#tunnel2 PASS
            NETAUDIT.S2S.LOGGROUP aws_vpn_connection.decided_at_plan#tunnel1 UNKNOWN
            NETAUDIT.S2S.LOGGROUP aws_vpn_connection.decided_at_plan#tunnel2 UNKNOWN
            NETAUDIT.S2S.LOGGROUP aws_vpn_connection.group_turned_off#tunnel1 FAIL
            NETAUDIT.S2S.LOGGROUP aws_vpn_connection.group_turned_off#tunnel2 FAIL
            NETAUDIT.S2S.VENDEDLOGS aws_vpn_connection.decided_at_plan#tunnel1 PASS
            NETAUDIT.S2S.VENDEDLOGS aws_vpn_connection.decided_at_plan#tunnel2 PASS
            NETAUDIT.S2S.VENDEDLOGS aws_vpn_connection.group_turned_off#tunnel1 FAIL
            NETAUDIT.S2S.VENDEDLOGS aws_vpn_connection.group_turned_off#tunnel2 FAIL
            "
        )
    );
    // The unknowns name the variable that decides them.
    assert!(reason(&findings, "EC2.171", "aws_vpn_connection.decided_at_plan").contains("var.tunnel1_logging"));
    assert!(reason(
        &findings,
        "NETAUDIT.S2S.IKEV2",
        "aws_vpn_connection.decided_at_plan#tunnel1"
    )
    .contains("var.tunnel1_ike_versions"));
}

/// The example CDK app's synthesized output (examples/cdk/cdk.out, written by aws-cdk-lib): every
/// result names the stack, the logical id and the construct path the app knows the resource by.
#[test]
fn cdk_app_verdicts_per_construct_path() {
    let app =
        std::path::Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../examples/cdk");
    let (declared, findings) = scan(&[app], &Options::default());
    assert!(declared.errors.is_empty(), "{:?}", declared.errors);
    // The five stacks' templates; manifest.json, tree.json, the *.assets.json and *.metadata.json
    // files and the Lambda asset folder are not templates, and node_modules is skipped.
    let stacks: Vec<&str> = declared
        .units
        .iter()
        .map(|u| u.rsplit('/').next().unwrap_or(u))
        .collect();
    assert_eq!(
        stacks,
        [
            "BareNetwork.template.json",
            "FilteredNetwork.template.json",
            "Network.template.json",
            "RemoteAccess.template.json",
            "SiteToSite.template.json"
        ]
    );
    let mut lines: Vec<String> = findings
        .iter()
        .map(|f| {
            let at = f.location.as_ref().unwrap();
            let stack = at.file.rsplit('/').next().unwrap().trim_end_matches(".template.json");
            let path = at.construct_path.as_deref().unwrap_or("(no construct path)");
            format!("{} {stack} {} {path} {}", f.control, f.resource_id, f.status)
        })
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        expected(
            "
            EC2.6 Network Vpc8378EB38 Network/Vpc/Resource PASS
            EC2.6 BareNetwork Vpc8378EB38 BareNetwork/Vpc/Resource FAIL
            EC2.6 FilteredNetwork RejectOnlyVpcEAF75373 FilteredNetwork/RejectOnlyVpc/Resource PASS
            EC2.6 FilteredNetwork AcceptOnlyVpc60068781 FilteredNetwork/AcceptOnlyVpc/Resource FAIL
            EC2.6 RemoteAccess Vpc8378EB38 RemoteAccess/Vpc/Resource PASS
            CIS.VPC.FLOWLOGS Network Vpc8378EB38 Network/Vpc/Resource PASS
            CIS.VPC.FLOWLOGS BareNetwork Vpc8378EB38 BareNetwork/Vpc/Resource FAIL
            CIS.VPC.FLOWLOGS FilteredNetwork RejectOnlyVpcEAF75373 FilteredNetwork/RejectOnlyVpc/Resource PASS
            CIS.VPC.FLOWLOGS FilteredNetwork AcceptOnlyVpc60068781 FilteredNetwork/AcceptOnlyVpc/Resource PASS
            CIS.VPC.FLOWLOGS RemoteAccess Vpc8378EB38 RemoteAccess/Vpc/Resource PASS
            CloudWatch.16 Network FlowLogGroup3E25AA51 Network/FlowLogGroup/Resource PASS
            CloudWatch.16 FilteredNetwork ShortLivedGroupE022E7CA FilteredNetwork/ShortLivedGroup/Resource FAIL
            CloudWatch.16 RemoteAccess VpcallLogGroup3BAB8D32 RemoteAccess/Vpc/all/LogGroup/Resource PASS
            CloudWatch.16 RemoteAccess VpcLoggedEndpointLogGroup35B0B6C8 RemoteAccess/Vpc/LoggedEndpoint/LogGroup/Resource PASS
            CloudWatch.16 SiteToSite TunnelLogGroup3A02C40D SiteToSite/TunnelLogGroup/Resource PASS
            NETAUDIT.RETENTION.CHAIN Network FlowLogGroup3E25AA51 Network/FlowLogGroup/Resource PASS
            NETAUDIT.RETENTION.CHAIN FilteredNetwork ShortLivedGroupE022E7CA FilteredNetwork/ShortLivedGroup/Resource FAIL
            NETAUDIT.RETENTION.CHAIN RemoteAccess VpcallLogGroup3BAB8D32 RemoteAccess/Vpc/all/LogGroup/Resource PASS
            NETAUDIT.RETENTION.CHAIN RemoteAccess VpcLoggedEndpointLogGroup35B0B6C8 RemoteAccess/Vpc/LoggedEndpoint/LogGroup/Resource PASS
            NETAUDIT.RETENTION.CHAIN SiteToSite TunnelLogGroup3A02C40D SiteToSite/TunnelLogGroup/Resource PASS
            EC2.51 RemoteAccess VpcLoggedEndpoint4F76AD87 RemoteAccess/Vpc/LoggedEndpoint/Resource PASS
            EC2.51 RemoteAccess VpcDarkEndpoint620D10EC RemoteAccess/Vpc/DarkEndpoint/Resource FAIL
            NETAUDIT.CVPN.LOGGROUP RemoteAccess VpcLoggedEndpoint4F76AD87 RemoteAccess/Vpc/LoggedEndpoint/Resource PASS
            NETAUDIT.CVPN.LOGGROUP RemoteAccess VpcDarkEndpoint620D10EC RemoteAccess/Vpc/DarkEndpoint/Resource NOT_APPLICABLE
            EC2.171 SiteToSite HalfLoggedVpn SiteToSite/HalfLoggedVpn FAIL
            EC2.183 SiteToSite HalfLoggedVpn SiteToSite/HalfLoggedVpn FAIL
            NETAUDIT.S2S.IKEV2 SiteToSite HalfLoggedVpn#tunnel1 SiteToSite/HalfLoggedVpn FAIL
            NETAUDIT.S2S.IKEV2 SiteToSite HalfLoggedVpn#tunnel2 SiteToSite/HalfLoggedVpn FAIL
            NETAUDIT.S2S.LOGGROUP SiteToSite HalfLoggedVpn#tunnel1 SiteToSite/HalfLoggedVpn PASS
            NETAUDIT.S2S.LOGGROUP SiteToSite HalfLoggedVpn#tunnel2 SiteToSite/HalfLoggedVpn NOT_APPLICABLE
            NETAUDIT.S2S.VENDEDLOGS SiteToSite HalfLoggedVpn#tunnel1 SiteToSite/HalfLoggedVpn UNKNOWN
            NETAUDIT.S2S.VENDEDLOGS SiteToSite HalfLoggedVpn#tunnel2 SiteToSite/HalfLoggedVpn NOT_APPLICABLE
            "
        )
    );
    // The tunnel log group's ARN exists only once CloudFormation creates the group.
    assert!(
        reason(&findings, "NETAUDIT.S2S.VENDEDLOGS", "HalfLoggedVpn#tunnel1").contains("TunnelLogGroup3A02C40D.Arn")
    );
    let bare = findings
        .iter()
        .find(|f| f.control == "EC2.6" && f.resource_arn.contains("BareNetwork"))
        .unwrap();
    let at = bare.location.as_ref().unwrap();
    assert!(
        at.file.ends_with("examples/cdk/cdk.out/BareNetwork.template.json"),
        "{}",
        at.file
    );
    assert_eq!(
        bare.resource_name.as_deref(),
        Some("BareNetwork/Vpc"),
        "the Name tag CDK sets"
    );
}
