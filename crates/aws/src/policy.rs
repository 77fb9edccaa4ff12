//! The least-privilege IAM policy a scan needs, derived from the calls the collector makes.

use serde_json::json;

/// Every API the collector calls, with the IAM action that allows it (they differ for S3).
pub const API_ACTIONS: &[(&str, &str)] = &[
    ("sts:GetCallerIdentity", "sts:GetCallerIdentity"),
    ("ec2:DescribeRegions", "ec2:DescribeRegions"),
    ("s3:ListBuckets", "s3:ListAllMyBuckets"),
    ("ec2:DescribeVpcs", "ec2:DescribeVpcs"),
    ("ec2:DescribeSubnets", "ec2:DescribeSubnets"),
    ("ec2:DescribeNetworkInterfaces", "ec2:DescribeNetworkInterfaces"),
    ("ec2:DescribeFlowLogs", "ec2:DescribeFlowLogs"),
    ("ec2:DescribeClientVpnEndpoints", "ec2:DescribeClientVpnEndpoints"),
    ("ec2:DescribeVpnConnections", "ec2:DescribeVpnConnections"),
    ("logs:DescribeLogGroups", "logs:DescribeLogGroups"),
    ("cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarms"),
    ("firehose:ListDeliveryStreams", "firehose:ListDeliveryStreams"),
    ("ec2:DescribeInternetGateways", "ec2:DescribeInternetGateways"),
];

/// Calls made only with `--org` (in the management or delegated-administrator account).
pub const ORG_API_ACTIONS: &[(&str, &str)] = &[("organizations:ListAccounts", "organizations:ListAccounts")];

/// Calls made only by `securityhub import`.
pub const IMPORT_API_ACTIONS: &[(&str, &str)] = &[
    ("securityhub:GetFindings", "securityhub:GetFindings"),
    ("securityhub:BatchImportFindings", "securityhub:BatchImportFindings"),
];

/// Calls made only by `netaudit logs --engine athena` and `logs athena create`.
pub const ATHENA_API_ACTIONS: &[(&str, &str)] = &[
    ("athena:StartQueryExecution", "athena:StartQueryExecution"),
    ("athena:GetQueryExecution", "athena:GetQueryExecution"),
    ("athena:GetQueryResults", "athena:GetQueryResults"),
    ("athena:StopQueryExecution", "athena:StopQueryExecution"),
];

/// What Athena itself needs of the Glue catalog and S3 on the caller's behalf: the table's
/// metadata, the flow logs it reads and the results it writes.
const ATHENA_GLUE_ACTIONS: &[&str] = &[
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetPartitions",
    "glue:CreateDatabase",
    "glue:CreateTable",
];
const ATHENA_S3_ACTIONS: &[&str] = &[
    "s3:GetBucketLocation",
    "s3:ListBucket",
    "s3:GetObject",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
];

/// The statements `logs --engine athena` and `logs athena create` need: the Athena calls, the Glue
/// catalog, and S3 for the flow logs and the query results.
pub fn athena_policy() -> Vec<serde_json::Value> {
    let actions: Vec<&str> = ATHENA_API_ACTIONS.iter().map(|(_, a)| *a).collect();
    vec![
        json!({
            "Sid": "NetauditQueryLogsWithAthena",
            "Effect": "Allow",
            "Action": actions,
            "Resource": "*",
        }),
        json!({
            "Sid": "NetauditAthenaCatalog",
            "Effect": "Allow",
            "Action": ATHENA_GLUE_ACTIONS,
            "Resource": "*",
        }),
        json!({
            "Sid": "NetauditAthenaLogsAndResults",
            "Effect": "Allow",
            "Action": ATHENA_S3_ACTIONS,
            "Resource": "*",
        }),
    ]
}

/// The statement `securityhub import` needs: read netaudit's earlier findings, import new ones.
pub fn securityhub_import_policy() -> serde_json::Value {
    let actions: Vec<&str> = IMPORT_API_ACTIONS.iter().map(|(_, a)| *a).collect();
    json!({
        "Sid": "NetauditImportToSecurityHub",
        "Effect": "Allow",
        "Action": actions,
        "Resource": "*",
    })
}

/// The IAM action that allows `api`, if the collector is meant to call it.
pub fn action_for(api: &str) -> Option<&'static str> {
    API_ACTIONS
        .iter()
        .chain(ORG_API_ACTIONS)
        .chain(IMPORT_API_ACTIONS)
        .chain(ATHENA_API_ACTIONS)
        .find(|(a, _)| *a == api)
        .map(|(_, action)| *action)
}

/// The read-only policy for a scan; with `org`, the management-account statement and the role
/// assumption into member accounts too.
pub fn read_only_policy(org: bool, org_role: &str) -> serde_json::Value {
    let actions: Vec<&str> = API_ACTIONS.iter().map(|(_, a)| *a).collect();
    let mut statements = vec![json!({
        "Sid": "NetauditReadNetworkAuditTrail",
        "Effect": "Allow",
        "Action": actions,
        "Resource": "*",
    })];
    if org {
        let org_actions: Vec<&str> = ORG_API_ACTIONS.iter().map(|(_, a)| *a).collect();
        statements.push(json!({
            "Sid": "NetauditListOrganizationAccounts",
            "Effect": "Allow",
            "Action": org_actions,
            "Resource": "*",
        }));
        statements.push(json!({
            "Sid": "NetauditEnterMemberAccounts",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": format!("arn:aws:iam::*:role/{org_role}"),
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}
