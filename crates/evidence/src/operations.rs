//! The AWS CLI calls that make up the evidence. This table is the only list of them: file names,
//! gap `api` strings and the collection script are all derived from it.

/// Where an operation's evidence file lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `DIR/<account-id>/<file>`: one call per account.
    Account,
    /// `DIR/<account-id>/<region>/<file>`: one call per enabled region.
    Regional,
}

/// One AWS CLI call whose unmodified JSON output is an evidence file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operation {
    /// The CLI service name (`ec2`, `s3api`, …).
    pub service: &'static str,
    /// The CLI operation name (`describe-flow-logs`).
    pub operation: &'static str,
    /// The IAM action, as gaps report it (`ec2:DescribeFlowLogs`).
    pub api: &'static str,
    pub scope: Scope,
    /// Arguments the call always needs, besides `--region` and `--output json`.
    pub extra_args: &'static str,
}

impl Operation {
    pub const STS_GET_CALLER_IDENTITY: Operation =
        Operation::account("sts", "get-caller-identity", "sts:GetCallerIdentity", "");
    pub const EC2_DESCRIBE_REGIONS: Operation =
        Operation::account("ec2", "describe-regions", "ec2:DescribeRegions", "--all-regions");
    pub const S3API_LIST_BUCKETS: Operation = Operation::account("s3api", "list-buckets", "s3:ListBuckets", "");
    pub const EC2_DESCRIBE_VPCS: Operation = Operation::regional("ec2", "describe-vpcs", "ec2:DescribeVpcs");
    pub const EC2_DESCRIBE_SUBNETS: Operation = Operation::regional("ec2", "describe-subnets", "ec2:DescribeSubnets");
    pub const EC2_DESCRIBE_NETWORK_INTERFACES: Operation =
        Operation::regional("ec2", "describe-network-interfaces", "ec2:DescribeNetworkInterfaces");
    pub const EC2_DESCRIBE_FLOW_LOGS: Operation =
        Operation::regional("ec2", "describe-flow-logs", "ec2:DescribeFlowLogs");
    pub const EC2_DESCRIBE_CLIENT_VPN_ENDPOINTS: Operation =
        Operation::regional("ec2", "describe-client-vpn-endpoints", "ec2:DescribeClientVpnEndpoints");
    pub const EC2_DESCRIBE_VPN_CONNECTIONS: Operation =
        Operation::regional("ec2", "describe-vpn-connections", "ec2:DescribeVpnConnections");
    pub const LOGS_DESCRIBE_LOG_GROUPS: Operation =
        Operation::regional("logs", "describe-log-groups", "logs:DescribeLogGroups");
    pub const CLOUDWATCH_DESCRIBE_ALARMS: Operation =
        Operation::regional("cloudwatch", "describe-alarms", "cloudwatch:DescribeAlarms");
    pub const EC2_DESCRIBE_INTERNET_GATEWAYS: Operation =
        Operation::regional("ec2", "describe-internet-gateways", "ec2:DescribeInternetGateways");
    /// Not paginated by the CLI: the script follows `HasMoreDeliveryStreams` itself.
    pub const FIREHOSE_LIST_DELIVERY_STREAMS: Operation =
        Operation::regional("firehose", "list-delivery-streams", "firehose:ListDeliveryStreams");

    const fn account(
        service: &'static str,
        operation: &'static str,
        api: &'static str,
        extra_args: &'static str,
    ) -> Self {
        Operation {
            service,
            operation,
            api,
            scope: Scope::Account,
            extra_args,
        }
    }

    const fn regional(service: &'static str, operation: &'static str, api: &'static str) -> Self {
        Operation {
            service,
            operation,
            api,
            scope: Scope::Regional,
            extra_args: "",
        }
    }

    /// `<service>-<operation>`, the evidence file name without its extension.
    pub fn stem(&self) -> String {
        format!("{}-{}", self.service, self.operation)
    }

    /// The file holding the call's output.
    pub fn json_file(&self) -> String {
        format!("{}.json", self.stem())
    }

    /// The file holding the call's stderr when it failed.
    pub fn error_file(&self) -> String {
        format!("{}.error", self.stem())
    }

    /// The command that produces the evidence file, for messages.
    pub fn command(&self, region: Option<&str>) -> String {
        let mut cmd = format!("aws {} {}", self.service, self.operation);
        if let Some(r) = region {
            cmd.push_str(" --region ");
            cmd.push_str(r);
        }
        if !self.extra_args.is_empty() {
            cmd.push(' ');
            cmd.push_str(self.extra_args);
        }
        cmd.push_str(" --output json");
        cmd
    }

    /// The operation whose evidence file has this stem.
    pub fn by_stem(stem: &str) -> Option<&'static Operation> {
        OPERATIONS.iter().find(|op| op.stem() == stem)
    }
}

/// Every call the evidence is made of, account-level first.
pub const OPERATIONS: &[Operation] = &[
    Operation::STS_GET_CALLER_IDENTITY,
    Operation::EC2_DESCRIBE_REGIONS,
    Operation::S3API_LIST_BUCKETS,
    Operation::EC2_DESCRIBE_VPCS,
    Operation::EC2_DESCRIBE_SUBNETS,
    Operation::EC2_DESCRIBE_NETWORK_INTERFACES,
    Operation::EC2_DESCRIBE_FLOW_LOGS,
    Operation::EC2_DESCRIBE_CLIENT_VPN_ENDPOINTS,
    Operation::EC2_DESCRIBE_VPN_CONNECTIONS,
    Operation::LOGS_DESCRIBE_LOG_GROUPS,
    Operation::CLOUDWATCH_DESCRIBE_ALARMS,
    Operation::FIREHOSE_LIST_DELIVERY_STREAMS,
    Operation::EC2_DESCRIBE_INTERNET_GATEWAYS,
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The IAM action is the CLI operation in PascalCase; `s3api` is the CLI's name for `s3`.
    #[test]
    fn api_matches_the_cli_names() {
        for op in OPERATIONS {
            let service = if op.service == "s3api" { "s3" } else { op.service };
            let action: String = op
                .operation
                .split('-')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map_or_else(String::new, |f| f.to_ascii_uppercase().to_string() + c.as_str())
                })
                .collect();
            assert_eq!(op.api, format!("{service}:{action}"), "{op:?}");
        }
    }

    #[test]
    fn stems_are_unique_and_found() {
        let stems: HashSet<String> = OPERATIONS.iter().map(Operation::stem).collect();
        assert_eq!(stems.len(), OPERATIONS.len());
        for op in OPERATIONS {
            assert_eq!(Operation::by_stem(&op.stem()), Some(op));
        }
        assert_eq!(Operation::by_stem("ec2-describe-instances"), None);
    }

    #[test]
    fn command_shows_region_and_extra_args() {
        assert_eq!(
            Operation::EC2_DESCRIBE_REGIONS.command(None),
            "aws ec2 describe-regions --all-regions --output json"
        );
        assert_eq!(
            Operation::EC2_DESCRIBE_FLOW_LOGS.command(Some("eu-west-1")),
            "aws ec2 describe-flow-logs --region eu-west-1 --output json"
        );
    }
}
