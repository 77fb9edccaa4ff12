//! What to fix first: every result's priority (internet exposure from internet gateways, production
//! from tags), in every format and in `fix plan`, from evidence and from live AWS (moto).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;
#[path = "../../aws/tests/support/moto_server.rs"]
mod moto_server;

use binary::{estate, netaudit, run};
use serde_json::Value;

const RANKS: [&str; 5] = ["critical", "high", "unknown", "elevated", "normal"];

fn rank(priority: &Value) -> usize {
    let text = priority.as_str().expect("priority is a string");
    RANKS
        .iter()
        .position(|p| *p == text)
        .unwrap_or_else(|| panic!("unknown priority {text:?}"))
}

fn estate_json(extra: &[&str]) -> Value {
    let (out, err, code) = run(netaudit()
        .args(["--no-config", "scan", "--format", "json", "--evidence"])
        .arg(estate())
        .args(extra));
    assert_eq!(code, 3, "{err}");
    serde_json::from_str(&out).expect("JSON report")
}

/// The result of `control` for `resource_id` in `account`.
fn result<'r>(report: &'r Value, control: &str, resource_id: &str, account: &str) -> &'r Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["control"] == control && r["resource_id"] == resource_id && r["account_id"] == account)
        .unwrap_or_else(|| panic!("no {control} result for {resource_id} in {account}"))
}

fn reasons(result: &Value) -> Vec<&str> {
    result["priority_reasons"]
        .as_array()
        .expect("priority_reasons")
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect()
}

#[test]
fn the_json_report_ranks_every_result_and_lists_the_most_urgent_first() {
    let report = estate_json(&[]);
    assert_eq!(report["schema_version"], 4);
    let results = report["results"].as_array().unwrap();
    let ranks: Vec<usize> = results.iter().map(|r| rank(&r["priority"])).collect();
    assert!(
        ranks.windows(2).all(|w| w[0] <= w[1]),
        "not ordered by priority: {ranks:?}"
    );
    for priority in RANKS {
        assert!(
            results.iter().any(|r| r["priority"] == priority),
            "the example estate has no {priority} result"
        );
    }

    // eu-west-1 `app`: an internet gateway and Environment=production.
    let app = result(&report, "EC2.6", "vpc-0a1b2c3d4e5f60012", "111111111111");
    assert_eq!(app["priority"], "critical");
    assert_eq!(
        reasons(app),
        [
            "internet gateway igw-0a1b2c3d4e5f60012 attached to vpc-0a1b2c3d4e5f60012",
            "tag Environment=production on vpc-0a1b2c3d4e5f60012"
        ]
    );
    // The default VPC: a gateway, no tags.
    let default_vpc = result(&report, "EC2.6", "vpc-0a1b2c3d4e5f60002", "111111111111");
    assert_eq!(
        (&default_vpc["status"], &default_vpc["priority"]),
        (&"FAIL".into(), &"high".into())
    );
    // analytics: production, no gateway.
    assert_eq!(
        result(&report, "EC2.6", "vpc-0a1b2c3d4e5f60004", "111111111111")["priority"],
        "elevated"
    );
    // siem-feed: neither.
    assert_eq!(
        result(&report, "EC2.6", "vpc-0c9d8e7f6a5b40002", "222222222222")["priority"],
        "normal"
    );
    // The shared VPC, seen from the participant: its owner's gateway counts.
    assert_eq!(
        result(&report, "EC2.6", "vpc-0c9d8e7f6a5b40001", "111111111111")["priority"],
        "high"
    );
    // A Client VPN endpoint inherits its VPC's: dev-access reaches staging, which has a gateway.
    let endpoint = result(&report, "EC2.51", "cvpn-endpoint-0123456789abc0002", "111111111111");
    assert_eq!(endpoint["priority"], "high");
    assert_eq!(
        reasons(endpoint),
        ["internet gateway igw-0a1b2c3d4e5f60003 attached to vpc-0a1b2c3d4e5f60003"]
    );
}

#[test]
fn missing_internet_gateway_evidence_is_unknown_priority_and_a_coverage_gap() {
    let report = estate_json(&[]);
    // 111111111111/ap-southeast-2 has no ec2-describe-internet-gateways.json.
    let vpc = result(&report, "EC2.6", "vpc-0a1b2c3d4e5f60021", "111111111111");
    assert_eq!(vpc["status"], "PASS");
    assert_eq!(vpc["priority"], "unknown");
    assert_eq!(
        reasons(vpc),
        ["internet gateways of vpc-0a1b2c3d4e5f60021 could not be read: ec2:DescribeInternetGateways MissingEvidence"]
    );
    let gaps = report["coverage"]["gaps"].as_array().unwrap();
    assert!(
        gaps.iter().any(|g| g["api"] == "ec2:DescribeInternetGateways"
            && g["code"] == "MissingEvidence"
            && g["account"] == "111111111111"
            && g["region"] == "ap-southeast-2"),
        "{gaps:?}"
    );

    // The same region with the file: a default VPC with a gateway is high.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&estate(), dir.path());
    std::fs::write(
        dir.path()
            .join("111111111111/ap-southeast-2/ec2-describe-internet-gateways.json"),
        r#"{"InternetGateways": [{"InternetGatewayId": "igw-0a1b2c3d4e5f60021",
            "Attachments": [{"State": "available", "VpcId": "vpc-0a1b2c3d4e5f60021"}]}]}"#,
    )
    .unwrap();
    let (out, err, _) = run(netaudit()
        .args(["--no-config", "scan", "--format", "json", "--evidence"])
        .arg(dir.path()));
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert_eq!(
        result(&report, "EC2.6", "vpc-0a1b2c3d4e5f60021", "111111111111")["priority"],
        "high"
    );
    let gaps = report["coverage"]["gaps"].as_array().unwrap();
    assert!(
        !gaps.iter().any(|g| g["api"] == "ec2:DescribeInternetGateways"),
        "{gaps:?}"
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_table_shows_each_rows_priority_most_urgent_first() {
    let (out, err, code) = run(netaudit()
        .args(["--no-config", "scan", "--quiet", "--evidence"])
        .arg(estate())
        .env("COLUMNS", "300"));
    assert_eq!(code, 3, "{err}");
    // EC2.6's rows: the critical app VPC first, the unknown region row after the high ones.
    let section: Vec<&str> = out
        .split("\n\n")
        .find(|s| s.starts_with("EC2.6 "))
        .expect("an EC2.6 section")
        .lines()
        .skip(2)
        .collect();
    let first_words: Vec<(&str, &str, &str)> = section
        .iter()
        .map(|l| {
            let mut words = l.split_whitespace();
            (words.next().unwrap(), words.next().unwrap(), words.next().unwrap())
        })
        .collect();
    assert_eq!(
        first_words,
        [
            ("UNKNOWN", "critical", "vpc-0a1b2c3d4e5f60012"),
            ("FAIL", "high", "vpc-0a1b2c3d4e5f60002"),
            ("FAIL", "high", "vpc-0a1b2c3d4e5f60003"),
            ("UNKNOWN", "high", "vpc-0a1b2c3d4e5f60011"),
            ("UNKNOWN", "unknown", "*"),
        ],
        "{out}"
    );
}

#[test]
fn csv_has_priority_columns_in_priority_order() {
    let (out, err, code) = run(netaudit()
        .args(["--no-config", "scan", "--format", "csv", "--evidence"])
        .arg(estate()));
    assert_eq!(code, 3, "{err}");
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let (priority, why, id) = (column("priority"), column("priority_reasons"), column("resource_id"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let ranks: Vec<usize> = rows.iter().map(|r| rank(&Value::from(&r[priority]))).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    let app = rows.iter().find(|r| &r[id] == "vpc-0a1b2c3d4e5f60012").unwrap();
    assert_eq!(&app[priority], "critical");
    assert_eq!(
        &app[why],
        "internet gateway igw-0a1b2c3d4e5f60012 attached to vpc-0a1b2c3d4e5f60012; tag Environment=production on vpc-0a1b2c3d4e5f60012"
    );
}

/// Evidence of one account in two regions, each with a VPC that has no flow log; only the one in
/// us-east-1 has an internet gateway.
fn two_region_evidence() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("111111111111");
    let write = |path: &std::path::Path, text: &str| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        &account.join("ec2-describe-regions.json"),
        r#"{"Regions": [{"RegionName": "eu-west-1", "OptInStatus": "opt-in-not-required"},
                        {"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"}]}"#,
    );
    write(
        &account.join("netaudit-region-scope.json"),
        r#"{"Regions": ["eu-west-1", "us-east-1"]}"#,
    );
    write(&account.join("s3api-list-buckets.json"), r#"{"Buckets": []}"#);
    for (region, vpc, gateways) in [
        ("eu-west-1", "vpc-inside", r#"{"InternetGateways": []}"#),
        (
            "us-east-1",
            "vpc-public",
            r#"{"InternetGateways": [{"InternetGatewayId": "igw-public",
                "Attachments": [{"State": "available", "VpcId": "vpc-public"}]}]}"#,
        ),
    ] {
        let folder = account.join(region);
        for (name, text) in [
            (
                "ec2-describe-vpcs.json",
                format!(r#"{{"Vpcs": [{{"VpcId": "{vpc}", "OwnerId": "111111111111"}}]}}"#),
            ),
            ("ec2-describe-internet-gateways.json", gateways.to_owned()),
            ("ec2-describe-subnets.json", r#"{"Subnets": []}"#.to_owned()),
            (
                "ec2-describe-network-interfaces.json",
                r#"{"NetworkInterfaces": []}"#.to_owned(),
            ),
            ("ec2-describe-flow-logs.json", r#"{"FlowLogs": []}"#.to_owned()),
            (
                "ec2-describe-client-vpn-endpoints.json",
                r#"{"ClientVpnEndpoints": []}"#.to_owned(),
            ),
            (
                "ec2-describe-vpn-connections.json",
                r#"{"VpnConnections": []}"#.to_owned(),
            ),
            ("logs-describe-log-groups.json", r#"{"logGroups": []}"#.to_owned()),
            (
                "cloudwatch-describe-alarms.json",
                r#"{"MetricAlarms": [], "CompositeAlarms": []}"#.to_owned(),
            ),
            (
                "firehose-list-delivery-streams.json",
                r#"{"DeliveryStreamNames": [], "HasMoreDeliveryStreams": false}"#.to_owned(),
            ),
        ] {
            write(&folder.join(name), &text);
        }
    }
    dir
}

#[test]
fn fix_plan_orders_batches_by_the_priority_of_what_they_fix() {
    let evidence = two_region_evidence();
    let plan_of = |format: &str| {
        let (out, err, code) = run(netaudit()
            .args([
                "--no-config",
                "fix",
                "plan",
                "--create-delivery-role",
                "--format",
                format,
                "--evidence",
            ])
            .arg(evidence.path()));
        // 1: there is something to fix.
        assert_eq!(code, 1, "{err}");
        out
    };
    let plan: Value = serde_json::from_str(&plan_of("json")).expect("plan JSON");
    let batches: Vec<(&str, &str)> = plan["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["region"].as_str().unwrap(), b["priority"].as_str().unwrap()))
        .collect();
    // The exposed VPC's region first, though eu-west-1 sorts before us-east-1; the account's IAM
    // batch (the delivery role) before both, with the most urgent priority it serves.
    assert_eq!(
        batches,
        [("global", "high"), ("us-east-1", "high"), ("eu-west-1", "normal")]
    );
    let table = plan_of("table");
    assert!(
        table.contains("111111111111 us-east-1 (") && table.contains("priority high)"),
        "{table}"
    );
    let us = table.find("111111111111 us-east-1 (").unwrap();
    let eu = table.find("111111111111 eu-west-1 (").unwrap();
    assert!(us < eu, "{table}");

    // The estate's one batch fixes the critical prod VPC's endpoints among others.
    let (out, err, _) = run(netaudit()
        .args(["--no-config", "fix", "plan", "--format", "json", "--evidence"])
        .arg(estate()));
    let plan: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert_eq!(plan["batches"][0]["priority"], "critical");
}

#[test]
fn production_tags_come_from_the_flag_or_the_config_file_and_the_flag_wins() {
    // Staging counts as production: the exposed staging VPC becomes critical, and the app VPC,
    // tagged production, is only exposed.
    let flagged = estate_json(&["--production-tag", "environment=STAGING"]);
    let staging = result(&flagged, "EC2.6", "vpc-0a1b2c3d4e5f60003", "111111111111");
    assert_eq!(staging["priority"], "critical");
    assert!(reasons(staging).contains(&"tag Environment=staging on vpc-0a1b2c3d4e5f60003"));
    assert_eq!(
        result(&flagged, "EC2.6", "vpc-0a1b2c3d4e5f60012", "111111111111")["priority"],
        "high"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("netaudit.toml"),
        "[priority]\nproduction_tags = [\"Environment=staging\"]\n",
    )
    .unwrap();
    let scan = |extra: &[&str]| -> Value {
        let (out, err, _) = run(netaudit()
            .current_dir(dir.path())
            .env_remove("NETAUDIT_CONFIG")
            .args(["scan", "--format", "json", "--evidence"])
            .arg(estate())
            .args(extra));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"))
    };
    let configured = scan(&[]);
    assert_eq!(
        result(&configured, "EC2.6", "vpc-0a1b2c3d4e5f60003", "111111111111")["priority"],
        "critical"
    );
    let typed = scan(&["--production-tag", "Environment=production"]);
    assert_eq!(
        result(&typed, "EC2.6", "vpc-0a1b2c3d4e5f60003", "111111111111")["priority"],
        "high"
    );
    assert_eq!(
        result(&typed, "EC2.6", "vpc-0a1b2c3d4e5f60012", "111111111111")["priority"],
        "critical"
    );

    let (_, err, code) = run(netaudit()
        .args(["--no-config", "scan", "--production-tag", "Environment", "--evidence"])
        .arg(estate()));
    assert_eq!(code, 64, "{err}");
    assert!(
        err.contains("--production-tag \"Environment\": expected KEY=VALUE"),
        "{err}"
    );
    std::fs::write(dir.path().join("netaudit.toml"), "[priority]\nproduction = [\"a=b\"]\n").unwrap();
    let (_, err, code) = run(netaudit()
        .current_dir(dir.path())
        .env_remove("NETAUDIT_CONFIG")
        .args(["scan", "--evidence"])
        .arg(estate()));
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("[priority] unknown setting \"production\""), "{err}");
}

/// A VPC with an attached internet gateway and Environment=prod, a tagged VPC without one, and a
/// plain VPC with a gateway, in one region of the emulator.
const SEED: &str = r#"
import boto3, sys
ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=sys.argv[1],
                   aws_access_key_id="testing", aws_secret_access_key="testing")
def vpc(cidr, tags):
    spec = [{"ResourceType": "vpc", "Tags": tags}] if tags else []
    return ec2.create_vpc(CidrBlock=cidr, TagSpecifications=spec)["Vpc"]["VpcId"]
def gateway(vpc_id):
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    return igw
exposed = vpc("10.1.0.0/16", [{"Key": "Environment", "Value": "prod"}])
inside = vpc("10.2.0.0/16", [{"Key": "Environment", "Value": "prod"}])
public = vpc("10.3.0.0/16", [])
print(exposed, gateway(exposed), inside, public, gateway(public))
"#;

#[test]
fn a_live_scan_reads_internet_gateways_and_ranks_by_them() {
    let moto = moto_server::Moto::start();
    let seeded = std::process::Command::new(moto_server::venv_bin("python"))
        .args(["-c", SEED, &moto.url])
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{}", String::from_utf8_lossy(&seeded.stderr));
    let ids = String::from_utf8(seeded.stdout).unwrap();
    let [exposed, exposed_igw, inside, public, public_igw] = ids.split_whitespace().collect::<Vec<_>>()[..] else {
        panic!("seed printed {ids}");
    };
    let (out, err, _) = run(netaudit()
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .args([
            "--no-config",
            "scan",
            "--checks",
            "EC2.6",
            "--stats",
            "--format",
            "json",
        ])
        .args([
            "--endpoint-url",
            &moto.url,
            "--regions",
            "us-east-1",
            "--max-attempts",
            "1",
        ]));
    assert!(
        err.contains("ec2:DescribeInternetGateways"),
        "no internet gateway listing: {err}"
    );
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let of = |vpc: &str| {
        result(
            &report,
            "EC2.6",
            vpc,
            report["coverage"]["accounts"][0].as_str().unwrap(),
        )
        .clone()
    };
    let exposed_result = of(exposed);
    assert_eq!(exposed_result["priority"], "critical", "{exposed_result}");
    assert_eq!(
        reasons(&exposed_result),
        [
            format!("internet gateway {exposed_igw} attached to {exposed}"),
            format!("tag Environment=prod on {exposed}")
        ]
    );
    assert_eq!(of(inside)["priority"], "elevated");
    let public_result = of(public);
    assert_eq!(public_result["priority"], "high");
    assert_eq!(
        reasons(&public_result),
        [format!("internet gateway {public_igw} attached to {public}")]
    );
    // Most urgent first.
    let order: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resource_id"].as_str().unwrap())
        .collect();
    let at = |id: &str| order.iter().position(|o| *o == id).unwrap();
    assert!(at(exposed) < at(public) && at(public) < at(inside), "{order:?}");

    // The IAM policy netaudit publishes allows the call.
    let (policy, _, _) = run(netaudit().args(["--no-config", "iam-policy"]));
    assert!(policy.contains("\"ec2:DescribeInternetGateways\""), "{policy}");
}
