//! The plan: what to change, per account and region, and which failing results each change fixes.

use netaudit_checks::{Exception, Finding, FlowLogTarget, GapRef, Params, Priority, Remedy, ResultKey, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bumped on any incompatible change to the plan document.
pub const PLAN_SCHEMA_VERSION: u32 = 2;

/// The retention periods CloudWatch Logs accepts.
pub const RETENTION_DAYS: [i32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/// Where new flow logs deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum DestinationChoice {
    /// A log group per VPC, named from the flow-log pattern, written by an IAM delivery role.
    CloudWatchLogs {
        /// The role's name in each account (`arn:aws:iam::<account>:role/<name>`).
        delivery_role: String,
        /// Create the role where it is missing.
        create_role: bool,
    },
    /// An S3 bucket (or prefix) ARN, e.g. `arn:aws:s3:::acme-flow-logs`.
    S3 { bucket_arn: String },
    /// A Firehose delivery stream ARN.
    KinesisDataFirehose { delivery_stream_arn: String },
}

/// Everything a user chooses about the fixes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOptions {
    pub destination: DestinationChoice,
    /// ALL (default) or REJECT. ACCEPT would not satisfy EC2.6.
    pub traffic_type: String,
    /// 60 or 600 seconds.
    pub max_aggregation_interval: i32,
    /// Log-group name patterns; `{vpc_id}`, `{endpoint_id}`, `{vpn_connection_id}`, `{account}` and
    /// `{region}` are replaced.
    pub flow_log_group: String,
    pub client_vpn_log_group: String,
    pub tunnel_log_group: String,
    /// Retention for created groups, and the floor retention is raised to. Never lowered.
    pub retention_days: i32,
    /// A KMS key ARN for created log groups.
    pub kms_key_arn: Option<String>,
    /// The SNS topic TunnelState alarms notify; without it no alarm is planned.
    pub alarm_topic_arn: Option<String>,
    /// Restrict tunnels that permit IKEv1 to IKEv2 (the customer gateway must support it).
    pub ikev2_only: bool,
}

impl Default for PlanOptions {
    fn default() -> PlanOptions {
        PlanOptions {
            destination: DestinationChoice::CloudWatchLogs {
                delivery_role: "netaudit-flow-logs-delivery".into(),
                create_role: false,
            },
            traffic_type: "ALL".into(),
            max_aggregation_interval: 600,
            flow_log_group: "/aws/vpc/flow-logs/{vpc_id}".into(),
            client_vpn_log_group: "/aws/clientvpn/{endpoint_id}".into(),
            tunnel_log_group: "/aws/vendedlogs/vpn/{vpn_connection_id}".into(),
            retention_days: 365,
            kms_key_arn: None,
            alarm_topic_arn: None,
            ikev2_only: false,
        }
    }
}

/// A bad option, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{option}: {message}")]
pub struct OptionError {
    pub option: &'static str,
    pub message: String,
}

impl PlanOptions {
    /// Reject options that would plan a change that fixes nothing or that AWS refuses.
    pub fn validate(&self) -> Result<(), OptionError> {
        let err = |option, message: String| Err(OptionError { option, message });
        if !matches!(self.traffic_type.as_str(), "ALL" | "REJECT") {
            return err(
                "--traffic-type",
                format!(
                    "`{}`: only ALL or REJECT capture the rejected traffic EC2.6 asks for",
                    self.traffic_type
                ),
            );
        }
        if !matches!(self.max_aggregation_interval, 60 | 600) {
            return err(
                "--aggregation-interval",
                format!("`{}`: AWS accepts 60 or 600 seconds", self.max_aggregation_interval),
            );
        }
        if !RETENTION_DAYS.contains(&self.retention_days) {
            return err(
                "--retention-days",
                format!(
                    "`{}`: CloudWatch Logs accepts {:?}",
                    self.retention_days, RETENTION_DAYS
                ),
            );
        }
        if self.retention_days < 365 {
            return err(
                "--retention-days",
                format!("`{}`: the controls ask for at least 365 days", self.retention_days),
            );
        }
        for (option, pattern, placeholder) in [
            ("--flow-log-group", &self.flow_log_group, "{vpc_id}"),
            ("--client-vpn-log-group", &self.client_vpn_log_group, "{endpoint_id}"),
            ("--tunnel-log-group", &self.tunnel_log_group, "{vpn_connection_id}"),
        ] {
            if !pattern.starts_with('/') && !pattern.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
                return err(option, format!("`{pattern}` is not a log-group name"));
            }
            if !pattern.contains(placeholder) {
                return err(
                    option,
                    format!("`{pattern}` must contain {placeholder}: one group per resource"),
                );
            }
        }
        if !self.tunnel_log_group.starts_with("/aws/vendedlogs/") {
            return err(
                "--tunnel-log-group",
                format!(
                    "`{}`: Site-to-Site logs belong under /aws/vendedlogs/ (the resource policy limit applies otherwise)",
                    self.tunnel_log_group
                ),
            );
        }
        for (option, arn) in [
            ("--kms-key", &self.kms_key_arn),
            ("--alarm-topic", &self.alarm_topic_arn),
        ] {
            if let Some(arn) = arn {
                if !arn.starts_with("arn:") {
                    return err(option, format!("`{arn}` is not an ARN"));
                }
            }
        }
        match &self.destination {
            DestinationChoice::S3 { bucket_arn }
                if !bucket_arn.starts_with("arn:aws") || !bucket_arn.contains(":s3:::") =>
            {
                err("--s3-bucket", format!("`{bucket_arn}` is not an S3 bucket ARN"))
            }
            DestinationChoice::KinesisDataFirehose { delivery_stream_arn }
                if !delivery_stream_arn.contains(":firehose:") =>
            {
                err(
                    "--firehose",
                    format!("`{delivery_stream_arn}` is not a Firehose delivery stream ARN"),
                )
            }
            _ => Ok(()),
        }
    }
}

/// A flow log's destination, resolved for one account and region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum FlowLogDestination {
    CloudWatchLogs {
        log_group: String,
        delivery_role_arn: String,
    },
    S3 {
        bucket_arn: String,
    },
    KinesisDataFirehose {
        delivery_stream_arn: String,
    },
}

/// One change. Every action is idempotent and only adds or raises: none deletes or lowers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Action {
    /// An IAM role the flow-logs service may assume to write to CloudWatch Logs.
    CreateDeliveryRole { role_name: String },
    /// A log group, with its retention (and KMS key).
    CreateLogGroup {
        log_group: String,
        retention_days: i32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kms_key_arn: Option<String>,
    },
    /// Raise a log group's retention; applied only while the current value is lower.
    RaiseRetention {
        log_group: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        current_days: Option<i64>,
        retention_days: i32,
    },
    CreateFlowLog {
        vpc_id: String,
        traffic_type: String,
        max_aggregation_interval: i32,
        destination: FlowLogDestination,
    },
    /// Turn on connection logging to a log group.
    EnableClientVpnLogging {
        client_vpn_endpoint_id: String,
        log_group: String,
    },
    /// Modify one tunnel: activity logging and/or IKE versions. Applied one tunnel at a time.
    ConfigureTunnel {
        vpn_connection_id: String,
        tunnel_outside_ip: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        log_group_arn: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ike_versions: Option<Vec<String>>,
    },
    /// A TunnelState alarm that notifies a topic when the tunnel goes down.
    CreateTunnelAlarm {
        alarm_name: String,
        vpn_connection_id: String,
        tunnel_outside_ip: String,
        topic_arn: String,
    },
}

impl Action {
    /// Order within a batch: what others depend on comes first.
    fn rank(&self) -> u8 {
        match self {
            Action::CreateDeliveryRole { .. } => 0,
            Action::CreateLogGroup { .. } => 1,
            Action::RaiseRetention { .. } => 2,
            Action::CreateFlowLog { .. } => 3,
            Action::EnableClientVpnLogging { .. } => 4,
            Action::ConfigureTunnel { .. } => 5,
            Action::CreateTunnelAlarm { .. } => 6,
        }
    }

    /// What the action changes; two actions on the same target merge into one.
    pub fn target(&self) -> String {
        match self {
            Action::CreateDeliveryRole { role_name } => format!("role/{role_name}"),
            Action::CreateLogGroup { log_group, .. } | Action::RaiseRetention { log_group, .. } => {
                format!("log-group:{log_group}")
            }
            Action::CreateFlowLog { vpc_id, .. } => vpc_id.clone(),
            Action::EnableClientVpnLogging {
                client_vpn_endpoint_id, ..
            } => client_vpn_endpoint_id.clone(),
            Action::ConfigureTunnel {
                vpn_connection_id,
                tunnel_outside_ip,
                ..
            } => format!("{vpn_connection_id}/tunnel/{tunnel_outside_ip}"),
            Action::CreateTunnelAlarm { alarm_name, .. } => format!("alarm:{alarm_name}"),
        }
    }

    /// A short description for tables and logs.
    pub fn summary(&self) -> String {
        match self {
            Action::CreateDeliveryRole { role_name } => format!("create IAM role {role_name} for flow-log delivery"),
            Action::CreateLogGroup {
                log_group,
                retention_days,
                kms_key_arn,
            } => format!(
                "create log group {log_group} (retention {retention_days} days{})",
                if kms_key_arn.is_some() { ", KMS" } else { "" }
            ),
            Action::RaiseRetention {
                log_group,
                current_days,
                retention_days,
            } => match current_days {
                Some(c) => format!("raise retention of {log_group} from {c} to {retention_days} days"),
                None => format!("raise retention of {log_group} to {retention_days} days"),
            },
            Action::CreateFlowLog {
                vpc_id,
                traffic_type,
                destination,
                ..
            } => {
                let to = match destination {
                    FlowLogDestination::CloudWatchLogs { log_group, .. } => log_group.clone(),
                    FlowLogDestination::S3 { bucket_arn } => bucket_arn.clone(),
                    FlowLogDestination::KinesisDataFirehose { delivery_stream_arn } => delivery_stream_arn.clone(),
                };
                format!("create {traffic_type} flow log on {vpc_id} to {to}")
            }
            Action::EnableClientVpnLogging {
                client_vpn_endpoint_id,
                log_group,
            } => format!("enable connection logging on {client_vpn_endpoint_id} to {log_group}"),
            Action::ConfigureTunnel {
                vpn_connection_id,
                tunnel_outside_ip,
                log_group_arn,
                ike_versions,
            } => {
                let mut what = vec![];
                if let Some(arn) = log_group_arn {
                    what.push(format!(
                        "log to {}",
                        netaudit_model::parse_log_group_arn(arn).map_or(arn.clone(), |p| p.2)
                    ));
                }
                if let Some(v) = ike_versions {
                    what.push(format!("IKE versions {}", v.join(",")));
                }
                format!("tunnel {tunnel_outside_ip} of {vpn_connection_id}: {}", what.join("; "))
            }
            Action::CreateTunnelAlarm {
                alarm_name,
                tunnel_outside_ip,
                ..
            } => format!("create TunnelState alarm {alarm_name} on tunnel {tunnel_outside_ip}"),
        }
    }
}

/// A failing result an action fixes, by its whole identity.
pub type Fixes = ResultKey;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    #[serde(flatten)]
    pub action: Action,
    pub fixes: Vec<Fixes>,
}

/// The steps for one account and region (`global` for IAM), applied in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub account_id: String,
    pub region: String,
    /// The most urgent priority among the results the batch fixes (an account's IAM batch takes
    /// the most urgent of the account, since its regional batches depend on it). Batches are
    /// ordered by it.
    #[serde(default)]
    pub priority: Priority,
    pub steps: Vec<Step>,
}

/// A failing result no action fixes, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NotPlanned {
    pub control: String,
    pub resource_arn: String,
    pub account_id: String,
    pub region: String,
    pub why: String,
}

/// A result that could not be read: nothing can be planned for it until it can.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Unreadable {
    #[serde(flatten)]
    pub result: ResultKey,
    pub reason: String,
    /// What hid the answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<GapRef>,
}

/// How the scan behind a plan judged its results, so that apply's read-back judges the same way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanSettings {
    /// Control parameters set for the scan, per control id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: Params,
    /// The exceptions the scan applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<Exception>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub schema_version: u32,
    pub options: PlanOptions,
    /// What the scan was made with.
    #[serde(default)]
    pub scan: ScanSettings,
    pub batches: Vec<Batch>,
    pub not_planned: Vec<NotPlanned>,
    /// Results that could not be read: the plan cannot say whether they need a fix.
    #[serde(default)]
    pub unreadable: Vec<Unreadable>,
    /// Problems with the input the plan was made from (bad files, controls that did not run).
    #[serde(default)]
    pub errors: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }
    /// True when every result the plan was made from could be read and nothing went wrong.
    pub fn is_complete(&self) -> bool {
        self.unreadable.is_empty() && self.errors.is_empty()
    }
    pub fn step_count(&self) -> usize {
        self.batches.iter().map(|b| b.steps.len()).sum()
    }
}

/// Log groups known to exist, with their retention (None: never expires), by (account, region, name).
pub type ExistingLogGroups = BTreeMap<(String, String, String), Option<i64>>;

fn fill(pattern: &str, finding: &Finding, placeholder: &str, id: &str) -> String {
    pattern
        .replace(placeholder, id)
        .replace("{account}", &finding.account_id)
        .replace("{region}", &finding.region)
}

fn log_group_arn(f: &Finding, name: &str) -> String {
    let partition = f.resource_arn.split(':').nth(1).unwrap_or("aws");
    format!("arn:{partition}:logs:{}:{}:log-group:{name}", f.region, f.account_id)
}

/// Build the plan: one or more actions per FAIL this tool can fix, merged per target, grouped by
/// account and region; everything else is listed as not planned, with the reason. Only FAIL
/// results are planned: PASS needs nothing, and UNKNOWN needs a readable scan first.
pub fn plan(findings: &[Finding], existing: &ExistingLogGroups, options: &PlanOptions) -> Plan {
    let mut planner = Planner {
        steps: BTreeMap::new(),
        outcomes: 0,
        not_planned: vec![],
        existing,
        options,
    };
    for f in findings.iter().filter(|f| f.status == Status::Fail) {
        planner.finding(f);
    }
    let mut unreadable: Vec<Unreadable> = findings
        .iter()
        .filter(|f| f.status == Status::Unknown)
        .map(|f| Unreadable {
            result: f.key(),
            reason: f.reason.clone(),
            gaps: f.gaps.clone(),
        })
        .collect();
    unreadable.sort();
    let mut batches: BTreeMap<(String, String), Vec<Step>> = BTreeMap::new();
    for ((account, region, _, _), step) in planner.steps {
        batches.entry((account, region)).or_default().push(step);
    }
    let priority_of: BTreeMap<ResultKey, Priority> = findings.iter().map(|f| (f.key(), f.priority)).collect();
    let mut batches: Vec<Batch> = batches
        .into_iter()
        .map(|((account_id, region), mut steps)| {
            steps.sort_by_key(|s| (s.action.rank(), s.action.target()));
            for s in &mut steps {
                s.fixes.sort();
                s.fixes.dedup();
            }
            let priority = steps
                .iter()
                .flat_map(|s| &s.fixes)
                .filter_map(|key| priority_of.get(key).copied())
                .min()
                .unwrap_or_default();
            Batch {
                account_id,
                region,
                priority,
                steps,
            }
        })
        .collect();
    // An account's IAM batch goes before every regional batch of the account that needs its role.
    let mut most_urgent: BTreeMap<String, Priority> = BTreeMap::new();
    for b in &batches {
        let p = most_urgent.entry(b.account_id.clone()).or_insert(b.priority);
        *p = (*p).min(b.priority);
    }
    for b in batches.iter_mut().filter(|b| b.region == "global") {
        b.priority = most_urgent.get(&b.account_id).copied().unwrap_or(b.priority);
    }
    // What to fix first, then IAM first within each account: regional flow logs depend on the role.
    batches.sort_by(|a, b| {
        (a.priority, &a.account_id, a.region != "global", &a.region).cmp(&(
            b.priority,
            &b.account_id,
            b.region != "global",
            &b.region,
        ))
    });
    let mut not_planned = planner.not_planned;
    not_planned.sort();
    not_planned.dedup();
    Plan {
        schema_version: PLAN_SCHEMA_VERSION,
        options: options.clone(),
        scan: ScanSettings::default(),
        batches,
        not_planned,
        unreadable,
        errors: vec![],
    }
}

type StepKey = (String, String, u8, String);

struct Planner<'a> {
    steps: BTreeMap<StepKey, Step>,
    /// Steps added or results skipped so far: a result that changes neither was dropped.
    outcomes: usize,
    not_planned: Vec<NotPlanned>,
    existing: &'a ExistingLogGroups,
    options: &'a PlanOptions,
}

impl Planner<'_> {
    fn add(&mut self, account: &str, region: &str, action: Action, f: &Finding) {
        self.outcomes += 1;
        let fixes = f.key();
        // Creating and raising the same group are one target: keep whichever came first.
        let rank = match action {
            Action::CreateLogGroup { .. } | Action::RaiseRetention { .. } => 1,
            _ => action.rank(),
        };
        let key = (account.to_owned(), region.to_owned(), rank, action.target());
        match self.steps.get_mut(&key) {
            Some(step) => {
                merge(&mut step.action, action);
                step.fixes.push(fixes);
            }
            None => {
                self.steps.insert(
                    key,
                    Step {
                        action,
                        fixes: vec![fixes],
                    },
                );
            }
        }
    }

    fn skip(&mut self, f: &Finding, why: impl Into<String>) {
        self.outcomes += 1;
        self.not_planned.push(NotPlanned {
            control: f.control.clone(),
            resource_arn: f.resource_arn.clone(),
            account_id: f.account_id.clone(),
            region: f.region.clone(),
            why: why.into(),
        });
    }

    /// A log group that must exist with enough retention: created, or its retention raised.
    fn ensure_log_group(&mut self, f: &Finding, name: &str) {
        self.ensure_log_group_at(f, &f.account_id, &f.region, name);
    }

    /// As [`Self::ensure_log_group`], in the account and region a destination ARN names.
    fn ensure_log_group_at(&mut self, f: &Finding, account: &str, region: &str, name: &str) {
        let key = (account.to_owned(), region.to_owned(), name.to_owned());
        let wanted = self.options.retention_days;
        let action = match self.existing.get(&key) {
            None => Action::CreateLogGroup {
                log_group: name.to_owned(),
                retention_days: wanted,
                kms_key_arn: self.options.kms_key_arn.clone(),
            },
            Some(None) => return,
            Some(Some(days)) if *days >= i64::from(wanted) => return,
            Some(Some(days)) => Action::RaiseRetention {
                log_group: name.to_owned(),
                current_days: Some(*days),
                retention_days: wanted,
            },
        };
        self.add(account, region, action, f);
    }

    fn finding(&mut self, f: &Finding) {
        let Some(remedy) = &f.remedy else {
            self.skip(f, "no automatic fix for this control");
            return;
        };
        let outcomes_before = self.outcomes;
        self.remedy(f, remedy);
        // Every FAIL ends up fixed by a step or listed as not planned, never silently dropped.
        if self.outcomes == outcomes_before {
            self.skip(
                f,
                "what the fix would create already exists with enough retention, so the failure has another \
                 cause (for a flow log: delivery not reported as SUCCESS): read the result's reason and re-scan",
            );
        }
    }

    fn remedy(&mut self, f: &Finding, remedy: &Remedy) {
        let (account, region) = (f.account_id.clone(), f.region.clone());
        match remedy {
            Remedy::CreateFlowLog { vpc_id } => {
                let destination = match &self.options.destination {
                    DestinationChoice::CloudWatchLogs {
                        delivery_role,
                        create_role,
                    } => {
                        let group = fill(&self.options.flow_log_group, f, "{vpc_id}", vpc_id);
                        self.ensure_log_group(f, &group);
                        if *create_role {
                            let role = Action::CreateDeliveryRole {
                                role_name: delivery_role.clone(),
                            };
                            self.add(&account, "global", role, f);
                        }
                        let partition = f.resource_arn.split(':').nth(1).unwrap_or("aws");
                        FlowLogDestination::CloudWatchLogs {
                            log_group: group,
                            delivery_role_arn: format!("arn:{partition}:iam::{account}:role/{delivery_role}"),
                        }
                    }
                    DestinationChoice::S3 { bucket_arn } => FlowLogDestination::S3 {
                        bucket_arn: bucket_arn.clone(),
                    },
                    DestinationChoice::KinesisDataFirehose { delivery_stream_arn } => {
                        FlowLogDestination::KinesisDataFirehose {
                            delivery_stream_arn: delivery_stream_arn.clone(),
                        }
                    }
                };
                let action = Action::CreateFlowLog {
                    vpc_id: vpc_id.clone(),
                    traffic_type: self.options.traffic_type.clone(),
                    max_aggregation_interval: self.options.max_aggregation_interval,
                    destination,
                };
                self.add(&account, &region, action, f);
            }
            Remedy::RestoreFlowLogDestination {
                deliver_logs_status,
                deliver_logs_error_message,
                destination,
            } => match destination {
                _ if deliver_logs_status.as_deref() == Some("FAILED") => {
                    let message = deliver_logs_error_message.as_deref().unwrap_or("no message");
                    self.skip(
                        f,
                        format!(
                            "delivery FAILED ({message}): check the delivery role's trust policy and permissions, \
                             or the destination's policy"
                        ),
                    );
                }
                FlowLogTarget::CloudWatchLogs { log_group: Some(group) } => {
                    self.ensure_log_group_at(f, &group.account_id, &group.region, &group.name);
                }
                FlowLogTarget::CloudWatchLogs { log_group: None } => {
                    self.skip(f, "the flow log names no log group: plan from a fresh scan")
                }
                FlowLogTarget::S3 { .. } | FlowLogTarget::KinesisDataFirehose { .. } => self.skip(
                    f,
                    "the destination bucket or delivery stream does not exist: recreate it (netaudit never \
                     creates buckets or streams)",
                ),
                FlowLogTarget::NotReported => self.skip(
                    f,
                    "AWS did not report the flow log's destination: plan from a fresh scan",
                ),
            },
            Remedy::EnableConnectionLogging { client_vpn_endpoint_id } => {
                let group = fill(
                    &self.options.client_vpn_log_group,
                    f,
                    "{endpoint_id}",
                    client_vpn_endpoint_id,
                );
                self.ensure_log_group(f, &group);
                let action = Action::EnableClientVpnLogging {
                    client_vpn_endpoint_id: client_vpn_endpoint_id.clone(),
                    log_group: group,
                };
                self.add(&account, &region, action, f);
            }
            Remedy::CreateConnectionLogGroup { log_group } => match log_group {
                Some(group) => self.ensure_log_group_at(f, &group.account_id, &group.region, &group.name),
                None => self.skip(f, "the scan does not say which log group the endpoint names"),
            },
            Remedy::EnableTunnelLogging {
                vpn_connection_id,
                tunnels_without_logging,
            } => {
                let addresses: Vec<&str> = tunnels_without_logging
                    .iter()
                    .filter_map(|t| t.outside_ip.as_deref())
                    .collect();
                if addresses.is_empty() || addresses.len() < tunnels_without_logging.len() {
                    self.skip(
                        f,
                        "AWS did not report the outside address of every tunnel without logging: plan from a \
                         fresh scan",
                    );
                    return;
                }
                let group = fill(
                    &self.options.tunnel_log_group,
                    f,
                    "{vpn_connection_id}",
                    vpn_connection_id,
                );
                self.ensure_log_group(f, &group);
                for ip in addresses {
                    let action = Action::ConfigureTunnel {
                        vpn_connection_id: vpn_connection_id.clone(),
                        tunnel_outside_ip: ip.to_owned(),
                        log_group_arn: Some(log_group_arn(f, &group)),
                        ike_versions: None,
                    };
                    self.add(&account, &region, action, f);
                }
            }
            Remedy::CreateTunnelLogGroups { log_groups } => {
                if log_groups.is_empty() {
                    self.skip(f, "the scan does not say which log group the tunnel names");
                }
                for group in log_groups {
                    self.ensure_log_group_at(f, &group.account_id, &group.region, &group.name);
                }
            }
            Remedy::RaiseRetention {
                log_group,
                current_days,
            } => {
                let wanted = self.options.retention_days;
                if let Some(current) = current_days.filter(|c| *c >= i64::from(wanted)) {
                    self.skip(
                        f,
                        format!("retention is already {current} days; --retention-days {wanted} would lower it"),
                    );
                    return;
                }
                let action = Action::RaiseRetention {
                    log_group: log_group.clone(),
                    current_days: *current_days,
                    retention_days: wanted,
                };
                self.add(&account, &region, action, f);
            }
            Remedy::RestrictTunnelToIkev2 { tunnel } => {
                if !self.options.ikev2_only {
                    self.skip(
                        f,
                        "pass --ikev2-only once the customer gateway is known to support IKEv2",
                    );
                    return;
                }
                let Some(ip) = &tunnel.outside_ip else {
                    self.skip(
                        f,
                        "the tunnel's outside address was not reported: plan from a fresh scan",
                    );
                    return;
                };
                let action = Action::ConfigureTunnel {
                    vpn_connection_id: tunnel.vpn_connection_id.clone(),
                    tunnel_outside_ip: ip.clone(),
                    log_group_arn: None,
                    ike_versions: Some(vec!["ikev2".into()]),
                };
                self.add(&account, &region, action, f);
            }
            Remedy::CreateTunnelAlarm { tunnel } => {
                let Some(topic) = self.options.alarm_topic_arn.clone() else {
                    self.skip(f, "pass --alarm-topic ARN: an alarm without an action notifies nobody");
                    return;
                };
                let Some(ip) = &tunnel.outside_ip else {
                    self.skip(
                        f,
                        "the tunnel's outside address was not reported: plan from a fresh scan",
                    );
                    return;
                };
                let vpn = &tunnel.vpn_connection_id;
                let action = Action::CreateTunnelAlarm {
                    alarm_name: format!("netaudit-tunnel-down-{vpn}-{ip}"),
                    vpn_connection_id: vpn.clone(),
                    tunnel_outside_ip: ip.clone(),
                    topic_arn: topic,
                };
                self.add(&account, &region, action, f);
            }
            Remedy::Manual { why } => self.skip(f, why.trim()),
        }
    }
}

/// Two actions on one target: keep the strongest of each setting.
fn merge(into: &mut Action, other: Action) {
    match (into, other) {
        (
            Action::ConfigureTunnel {
                log_group_arn,
                ike_versions,
                ..
            },
            Action::ConfigureTunnel {
                log_group_arn: other_group,
                ike_versions: other_ike,
                ..
            },
        ) => {
            if log_group_arn.is_none() {
                *log_group_arn = other_group;
            }
            if ike_versions.is_none() {
                *ike_versions = other_ike;
            }
        }
        (
            Action::RaiseRetention {
                current_days,
                retention_days,
                ..
            },
            Action::RaiseRetention {
                current_days: other_current,
                retention_days: other_days,
                ..
            },
        ) => {
            *current_days = current_days.or(other_current);
            *retention_days = (*retention_days).max(other_days);
        }
        _ => {}
    }
}

/// The log groups a scan read, for planning creation versus a retention raise.
pub fn existing_log_groups(graph: &netaudit_model::Graph) -> ExistingLogGroups {
    use netaudit_model::schema::log_group;
    graph
        .of_kind(netaudit_model::Kind::LogGroup)
        .iter()
        .filter_map(|n| {
            let a = graph.asset(*n);
            // An unreadable retention is left out: apply reads it again before changing anything.
            let retention = match a.field(log_group::RETENTION_IN_DAYS) {
                netaudit_model::Value::Int(days) => Some(*days),
                netaudit_model::Value::Null => None,
                _ => return None,
            };
            Some(((a.account_id.clone(), a.region.clone(), a.id.clone()), retention))
        })
        .collect()
}
