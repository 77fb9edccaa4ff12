//! Exceptions written on resources in the code: comments in Terraform and YAML templates,
//! `Metadata` in CloudFormation, validated by the exceptions file's rules and matching exactly the
//! assets of their resource.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{expected, fixture, verdicts};
use netaudit_checks::{apply_exceptions, builtin, inline_exceptions, Date, ExceptionState, ExceptionsSummary, Finding};
use netaudit_iac::cloudformation::Options;
use netaudit_iac::inputs::Declared;

/// The day the fixtures' expiry dates are judged against.
const TODAY: Date = Date {
    year: 2026,
    month: 12,
    day: 2,
};

struct Scan {
    declared: Declared,
    invalid: Vec<String>,
    findings: Vec<Finding>,
    summary: ExceptionsSummary,
}

fn scan(rel: &str) -> Scan {
    let (declared, mut findings) = common::scan(&[fixture(&format!("inline/{rel}"))], &Options::default());
    let (catalogue, _) = builtin();
    let (exceptions, invalid) = inline_exceptions(&declared.exceptions, &catalogue);
    let summary = apply_exceptions(&mut findings, &exceptions, TODAY);
    Scan {
        invalid: invalid.iter().map(ToString::to_string).collect(),
        declared,
        findings,
        summary,
    }
}

/// `EC2.6 ADDRESS STATUS` lines, sorted.
fn ec2_6(findings: &[Finding]) -> Vec<String> {
    verdicts(findings)
        .into_iter()
        .filter(|l| l.starts_with("EC2.6 "))
        .collect()
}

fn finding<'f>(findings: &'f [Finding], control: &str, address: &str) -> &'f Finding {
    findings
        .iter()
        .find(|f| f.control == control && f.resource_id == address)
        .unwrap_or_else(|| panic!("no {control} result for {address}"))
}

/// Messages with the fixtures folder left out of their paths.
fn relative(messages: impl IntoIterator<Item = String>) -> Vec<String> {
    let root = format!("{}/", fixture("inline").display());
    messages.into_iter().map(|m| m.replace(&root, "")).collect()
}

fn errors(declared: &Declared) -> Vec<String> {
    relative(declared.errors.iter().map(ToString::to_string))
}

/// `SOURCE RESOURCE matched` lines, the unit left out.
fn uses(uses: &[netaudit_checks::ExceptionUse]) -> Vec<String> {
    relative(uses.iter().map(|u| {
        let resource = u.resource.rsplit_once('#').map_or(u.resource.as_str(), |(_, r)| r);
        format!("{} {resource} {}", u.source, u.matched)
    }))
}

#[test]
fn terraform_comments_mute_every_instance_of_their_resource_only() {
    let s = scan("terraform");
    assert_eq!(
        errors(&s.declared),
        [
            "terraform/main.tf:13:5: this netaudit:exception is on no resource: write it directly above a resource (no blank line between) or inside it",
            "terraform/main.tf:18:1: this netaudit:exception is on no resource: write it directly above a resource (no blank line between) or inside it",
        ]
    );
    assert_eq!(s.invalid, Vec::<String>::new());
    assert_eq!(
        ec2_6(&s.findings),
        expected(
            r#"
            EC2.6 aws_vpc.lab[0] MUTED
            EC2.6 aws_vpc.lab[1] MUTED
            EC2.6 aws_vpc.inside MUTED
            EC2.6 aws_vpc.detached FAIL
            EC2.6 aws_vpc.expired FAIL
            EC2.6 aws_vpc.logged PASS
            EC2.6 module.net["blue"].aws_vpc.this MUTED
            EC2.6 module.net["green"].aws_vpc.this MUTED
            "#
        )
    );
    // Another control on the same resources is not excepted, nested comments included.
    assert_eq!(
        finding(&s.findings, "CIS.VPC.FLOWLOGS", "aws_vpc.lab[0]")
            .status
            .to_string(),
        "FAIL"
    );
    assert_eq!(
        finding(&s.findings, "CIS.VPC.FLOWLOGS", "aws_vpc.inside")
            .status
            .to_string(),
        "FAIL"
    );
    let muted = finding(&s.findings, "EC2.6", "aws_vpc.inside")
        .exception
        .as_ref()
        .unwrap();
    assert_eq!(
        (
            muted.state,
            muted.owner.as_str(),
            muted.ticket.as_str(),
            muted.reason.as_str()
        ),
        (ExceptionState::Active, "net-team", "SEC-13", "build VPC, no traffic")
    );
    assert_eq!(relative([muted.source.clone()]), ["terraform/main.tf:9"]);
    let expired = finding(&s.findings, "EC2.6", "aws_vpc.expired")
        .exception
        .as_ref()
        .unwrap();
    assert_eq!(
        (expired.state, expired.expires.to_string()),
        (ExceptionState::Expired, "2020-01-31".into())
    );
    assert_eq!(
        uses(&s.summary.applied),
        [
            "terraform/main.tf:2 aws_vpc.lab 2",
            "terraform/main.tf:9 aws_vpc.inside 1",
            "terraform/main.tf:50 aws_vpn_connection.partner 2",
            "terraform/modules/net/main.tf:5 module.net.aws_vpc.this 2",
        ]
    );
    assert_eq!(uses(&s.summary.expired), ["terraform/main.tf:24 aws_vpc.expired 1"]);
    assert_eq!(uses(&s.summary.stale), ["terraform/main.tf:30 aws_vpc.logged 0"]);
}

#[test]
fn invalid_terraform_exceptions_name_file_line_and_column_and_mute_nothing() {
    let s = scan("bad_terraform");
    assert_eq!(
        errors(&s.declared),
        ["bad_terraform/main.tf:21:86: `VPC` is not key=value (a value with spaces goes in double quotes: reason=\"…\")"]
    );
    assert_eq!(
        relative(s.invalid.clone()),
        [
            "bad_terraform/main.tf:1:1: exception on aws_vpc.no_owner lacks owner",
            "bad_terraform/main.tf:6:56: `expires` must be a date that exists, e.g. expires = 2027-03-31",
            "bad_terraform/main.tf:12:24: unknown control `EC2.99`",
            "bad_terraform/main.tf:16:89: unknown key `expiry`: an exception has control, owner, ticket, expires, reason",
        ]
    );
    assert_eq!(
        ec2_6(&s.findings),
        expected(
            "
            EC2.6 aws_vpc.no_owner FAIL
            EC2.6 aws_vpc.bad_date FAIL
            EC2.6 aws_vpc.unknown_control FAIL
            EC2.6 aws_vpc.unknown_key FAIL
            EC2.6 aws_vpc.unquoted FAIL
            EC2.6 aws_vpc.valid MUTED
            "
        )
    );
}

#[test]
fn cloudformation_json_metadata_mutes_its_resource_and_a_bad_date_is_refused() {
    let s = scan("cloudformation/network.json");
    assert_eq!(errors(&s.declared), Vec::<String>::new());
    assert_eq!(
        relative(s.invalid.clone()),
        ["cloudformation/network.json:41:26: `expires` must be a date that exists, e.g. expires = 2027-03-31"]
    );
    assert_eq!(
        ec2_6(&s.findings),
        expected("EC2.6 LabVpc MUTED\nEC2.6 AppVpc FAIL\nEC2.6 BadVpc FAIL")
    );
    assert_eq!(uses(&s.summary.applied), ["cloudformation/network.json:12 LabVpc 1"]);
}

#[test]
fn yaml_template_comments_and_metadata_mute_their_resource() {
    let s = scan("cloudformation/network.yaml");
    assert_eq!(
        errors(&s.declared),
        ["cloudformation/network.yaml:28:3: this netaudit:exception is on no resource: write it directly above a resource (no blank line between) or inside it"]
    );
    assert_eq!(s.invalid, Vec::<String>::new());
    assert_eq!(
        ec2_6(&s.findings),
        expected("EC2.6 LabVpc MUTED\nEC2.6 InsideVpc MUTED\nEC2.6 MetadataVpc MUTED\nEC2.6 AppVpc FAIL")
    );
    assert_eq!(
        uses(&s.summary.applied),
        [
            "cloudformation/network.yaml:3 LabVpc 1",
            "cloudformation/network.yaml:11 InsideVpc 1",
            "cloudformation/network.yaml:20 MetadataVpc 1",
        ]
    );
}

#[test]
fn an_exception_on_a_vpn_connection_covers_both_its_tunnels() {
    let s = scan("terraform");
    let lines: Vec<String> = verdicts(&s.findings)
        .into_iter()
        .filter(|l| l.contains("aws_vpn_connection.partner") && !l.ends_with("NOT_APPLICABLE"))
        .collect();
    assert_eq!(
        lines,
        expected(
            "
            EC2.171 aws_vpn_connection.partner FAIL
            EC2.183 aws_vpn_connection.partner FAIL
            NETAUDIT.S2S.IKEV2 aws_vpn_connection.partner#tunnel1 MUTED
            NETAUDIT.S2S.IKEV2 aws_vpn_connection.partner#tunnel2 MUTED
            "
        )
    );
}

#[test]
fn malformed_template_metadata_names_file_line_and_column() {
    let s = scan("bad_cloudformation/metadata.yaml");
    assert_eq!(
        errors(&s.declared),
        [
            "bad_cloudformation/metadata.yaml:7:9: unknown key `exception` in Metadata.netaudit: expected `exceptions`",
            "bad_cloudformation/metadata.yaml:15:9: Metadata.netaudit.exceptions must be a list of exceptions",
            "bad_cloudformation/metadata.yaml:25:13: `owner` must be a single value",
        ]
    );
    assert_eq!(
        relative(s.invalid.clone()),
        [
            "bad_cloudformation/metadata.yaml:39:21: unknown key `expiry`: an exception has control, owner, ticket, expires, reason",
            "bad_cloudformation/metadata.yaml:36:20: exception on UnknownKeyVpc lacks expires",
        ]
    );
    assert!(!s.findings.iter().any(|f| f.exception.is_some()), "nothing is muted");
}
