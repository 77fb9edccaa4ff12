//! Executes a fix plan through the SDK. Each step first reads the current state and changes only
//! what is still missing, so a second run changes nothing and a run stopped half-way finishes on
//! the next. Nothing is deleted and no retention is lowered. Tunnels are modified one at a time:
//! every other tunnel of the connection must be reported UP before one is touched (a tunnel missing
//! from the telemetry is not UP), and after a modification the tunnel's old UP is stale: the run
//! waits until AWS shows the change (the tunnel DOWN, a newer LastStatusChange, or the connection
//! leaving `available`) and then the tunnel UP again before it goes on. A failed step stops its
//! batch (one account and region); the other batches go on, except the regional ones of an account
//! whose delivery role could not be made.

use crate::calls::CallLog;
use crate::errors::gap_from_sdk;
use aws_config::SdkConfig;
use aws_sdk_ec2::types::{
    CloudWatchLogOptionsSpecification, ConnectionLogOptions, Filter, FlowLogsResourceType, IkeVersionsRequestListValue,
    LogDestinationType, ModifyVpnTunnelOptionsSpecification, TrafficType, VpnTunnelLogOptionsSpecification,
};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_types::region::Region;
use netaudit_fix::{
    client_token, delivery_role_policy, delivery_role_trust_policy, tunnel_alarm, Action, Batch, FlowLogDestination,
    Plan,
};
use serde::Serialize;
use std::time::Duration;

/// How apply behaves.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Read, and report the changes that would be made, without making them.
    pub dry_run: bool,
    /// How long to wait for a tunnel to be UP.
    pub tunnel_wait: Duration,
    /// How often to look while waiting.
    pub poll_interval: Duration,
    /// How long to wait for a new flow log's first delivery status.
    pub delivery_wait: Duration,
}

impl Default for ApplyOptions {
    fn default() -> ApplyOptions {
        ApplyOptions {
            dry_run: false,
            tunnel_wait: Duration::from_secs(15 * 60),
            poll_interval: Duration::from_secs(10),
            delivery_wait: Duration::from_secs(60),
        }
    }
}

/// The clients one batch uses.
#[derive(Debug, Clone)]
pub struct ApplyClients {
    pub ec2: aws_sdk_ec2::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub iam: aws_sdk_iam::Client,
}

impl ApplyClients {
    pub fn new(config: &SdkConfig, region: &str, calls: &CallLog) -> ApplyClients {
        // IAM is global: its batch's region is `global`, and any region signs for it.
        let region = if region == "global" { "us-east-1" } else { region };
        let regional = crate::RegionClients::new(config, region, calls);
        let config = config.to_builder().region(Region::new(region.to_owned())).build();
        ApplyClients {
            ec2: regional.ec2,
            logs: regional.logs,
            cloudwatch: regional.cloudwatch,
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(&config)
                    .interceptor(calls.interceptor("iam"))
                    .build(),
            ),
        }
    }
}

/// What happened to one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "detail")]
pub enum StepOutcome {
    /// The change was made, by these calls.
    Changed(Vec<String>),
    /// Nothing to change: the state is already what the step wants.
    AlreadyDone(String),
    /// Dry run: these calls would be made.
    WouldChange(Vec<String>),
    /// The step failed; the rest of its batch was not attempted.
    Failed(String),
    /// Not attempted, and why (an earlier step of the batch failed, or a prerequisite did).
    NotAttempted(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub account_id: String,
    pub region: String,
    pub summary: String,
    /// The controls and resources the step fixes.
    pub fixes: Vec<netaudit_fix::Fixes>,
    #[serde(flatten)]
    pub outcome: StepOutcome,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ApplyReport {
    pub steps: Vec<StepReport>,
}

impl ApplyReport {
    pub fn failed(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s.outcome, StepOutcome::Failed(_)))
            .count()
    }
    pub fn not_attempted(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s.outcome, StepOutcome::NotAttempted(_)))
            .count()
    }
    pub fn changed(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s.outcome, StepOutcome::Changed(_)))
            .count()
    }
}

/// Credentials per account: the caller's own, or a role assumed in each other account.
#[derive(Debug, Clone)]
pub struct AccountAccess {
    pub config: SdkConfig,
    /// The account the configuration's credentials belong to.
    pub own_account: String,
    /// The role to assume in other accounts (`--org-role`); without it, their batches fail.
    pub org_role: Option<String>,
    pub external_id: Option<String>,
}

impl AccountAccess {
    async fn config_for(&self, account: &str) -> Result<SdkConfig, String> {
        if account == self.own_account {
            return Ok(self.config.clone());
        }
        match &self.org_role {
            Some(role) => Ok(crate::collect::assume(
                &self.config,
                &format!("arn:aws:iam::{account}:role/{role}"),
                self.external_id.as_deref(),
            )
            .await),
            None => Err(format!(
                "the credentials are for account {}, not {account}: pass --org-role to assume a role there",
                self.own_account
            )),
        }
    }
}

/// Apply every batch of the plan; batches run one after another, in plan order (an account's
/// global batch, IAM, before its regions). A regional batch whose flow logs need a delivery role
/// that could not be made is not attempted: it would only fail, or deliver nothing.
pub async fn apply_plan(plan: &Plan, access: &AccountAccess, options: &ApplyOptions, calls: &CallLog) -> ApplyReport {
    let mut report = ApplyReport::default();
    // (account, role name, why) of delivery roles whose step did not succeed.
    let mut missing_roles: Vec<(String, String, String)> = vec![];
    for batch in &plan.batches {
        if let Some((_, role, why)) = missing_roles
            .iter()
            .find(|(account, role, _)| *account == batch.account_id && batch_needs_role(batch, role))
        {
            let reason = format!("the delivery role {role} this batch's flow logs need was not made: {why}");
            report.steps.extend(not_attempted(batch, &reason));
            continue;
        }
        let clients = match access.config_for(&batch.account_id).await {
            Ok(config) => Ok(ApplyClients::new(&config, &batch.region, calls)),
            Err(e) => Err(e),
        };
        let steps = apply_batch(batch, clients, options).await;
        note_missing_roles(batch, &steps, &mut missing_roles);
        report.steps.extend(steps);
    }
    report
}

/// Remember the delivery roles a batch failed to make.
fn note_missing_roles(batch: &Batch, steps: &[StepReport], missing: &mut Vec<(String, String, String)>) {
    for (step, outcome) in batch.steps.iter().zip(steps) {
        if let Action::CreateDeliveryRole { role_name } = &step.action {
            if let StepOutcome::Failed(why) | StepOutcome::NotAttempted(why) = &outcome.outcome {
                missing.push((batch.account_id.clone(), role_name.clone(), why.clone()));
            }
        }
    }
}

/// Whether a batch creates flow logs delivered by the named role.
fn batch_needs_role(batch: &Batch, role: &str) -> bool {
    batch.steps.iter().any(|s| match &s.action {
        Action::CreateFlowLog {
            destination: FlowLogDestination::CloudWatchLogs { delivery_role_arn, .. },
            ..
        } => delivery_role_arn.rsplit('/').next() == Some(role),
        _ => false,
    })
}

/// Every step of a batch, reported as not attempted for `reason`.
pub fn not_attempted(batch: &Batch, reason: &str) -> Vec<StepReport> {
    batch
        .steps
        .iter()
        .map(|step| StepReport {
            account_id: batch.account_id.clone(),
            region: batch.region.clone(),
            summary: step.action.summary(),
            fixes: step.fixes.clone(),
            outcome: StepOutcome::NotAttempted(reason.to_owned()),
        })
        .collect()
}

/// Apply one batch with the given clients (or the reason there are none).
pub async fn apply_batch(
    batch: &Batch,
    clients: Result<ApplyClients, String>,
    options: &ApplyOptions,
) -> Vec<StepReport> {
    let mut out = vec![];
    let mut stopped = clients.as_ref().err().cloned();
    for step in &batch.steps {
        let outcome = match (&stopped, &clients) {
            (Some(reason), _) if !out.is_empty() => {
                StepOutcome::NotAttempted(format!("an earlier step of this batch failed: {reason}"))
            }
            (Some(reason), _) => StepOutcome::Failed(reason.clone()),
            (None, Ok(clients)) => {
                let executor = Executor {
                    clients,
                    account: &batch.account_id,
                    region: &batch.region,
                    options,
                };
                match executor.run(&step.action).await {
                    Ok(outcome) => outcome,
                    Err(e) => {
                        stopped = Some(e.clone());
                        StepOutcome::Failed(e)
                    }
                }
            }
            (None, Err(e)) => StepOutcome::NotAttempted(e.clone()),
        };
        out.push(StepReport {
            account_id: batch.account_id.clone(),
            region: batch.region.clone(),
            summary: step.action.summary(),
            fixes: step.fixes.clone(),
            outcome,
        });
    }
    out
}

struct Executor<'a> {
    clients: &'a ApplyClients,
    account: &'a str,
    region: &'a str,
    options: &'a ApplyOptions,
}

type StepResult = Result<StepOutcome, String>;

impl Executor<'_> {
    fn err<E>(&self, e: &SdkError<E, HttpResponse>, api: &str) -> String
    where
        E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        gap_from_sdk(e, self.account, Some(self.region), api).to_string()
    }

    /// Make the calls, or in a dry run only name them.
    fn outcome(&self, calls: Vec<String>) -> StepOutcome {
        if self.options.dry_run {
            StepOutcome::WouldChange(calls)
        } else {
            StepOutcome::Changed(calls)
        }
    }

    async fn run(&self, action: &Action) -> StepResult {
        match action {
            Action::CreateDeliveryRole { role_name } => self.delivery_role(role_name).await,
            Action::CreateLogGroup {
                log_group,
                retention_days,
                kms_key_arn,
            } => {
                self.log_group(log_group, *retention_days, kms_key_arn.as_deref(), true)
                    .await
            }
            Action::RaiseRetention {
                log_group,
                retention_days,
                ..
            } => self.log_group(log_group, *retention_days, None, false).await,
            Action::CreateFlowLog {
                vpc_id,
                traffic_type,
                max_aggregation_interval,
                destination,
            } => {
                self.flow_log(action, vpc_id, traffic_type, *max_aggregation_interval, destination)
                    .await
            }
            Action::EnableClientVpnLogging {
                client_vpn_endpoint_id,
                log_group,
            } => self.client_vpn(client_vpn_endpoint_id, log_group).await,
            Action::ConfigureTunnel {
                vpn_connection_id,
                tunnel_outside_ip,
                log_group_arn,
                ike_versions,
            } => {
                self.tunnel(
                    vpn_connection_id,
                    tunnel_outside_ip,
                    log_group_arn.as_deref(),
                    ike_versions.as_deref(),
                )
                .await
            }
            Action::CreateTunnelAlarm {
                alarm_name,
                vpn_connection_id: _,
                tunnel_outside_ip,
                topic_arn,
            } => self.alarm(alarm_name, tunnel_outside_ip, topic_arn).await,
        }
    }

    async fn delivery_role(&self, role_name: &str) -> StepResult {
        let iam = &self.clients.iam;
        match iam.get_role().role_name(role_name).send().await {
            Ok(_) => return Ok(StepOutcome::AlreadyDone(format!("role {role_name} exists"))),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => {}
            Err(e) => return Err(self.err(&e, "iam:GetRole")),
        }
        let calls = vec![
            format!("iam:CreateRole {role_name}"),
            format!("iam:PutRolePolicy {role_name}"),
        ];
        if self.options.dry_run {
            return Ok(self.outcome(calls));
        }
        iam.create_role()
            .role_name(role_name)
            .description("Lets VPC flow logs deliver to CloudWatch Logs (created by netaudit)")
            .assume_role_policy_document(delivery_role_trust_policy(self.account).to_string())
            .send()
            .await
            .map_err(|e| self.err(&e, "iam:CreateRole"))?;
        iam.put_role_policy()
            .role_name(role_name)
            .policy_name("netaudit-flow-logs-delivery")
            .policy_document(delivery_role_policy().to_string())
            .send()
            .await
            .map_err(|e| self.err(&e, "iam:PutRolePolicy"))?;
        Ok(self.outcome(calls))
    }

    /// The group's retention if it exists: Some(None) when it never expires.
    async fn read_log_group(&self, name: &str) -> Result<Option<Option<i32>>, String> {
        let items: Vec<_> = self
            .clients
            .logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .into_paginator()
            .items()
            .send()
            .collect()
            .await;
        for item in items {
            let group = item.map_err(|e| self.err(&e, "logs:DescribeLogGroups"))?;
            if group.log_group_name() == Some(name) {
                return Ok(Some(group.retention_in_days()));
            }
        }
        Ok(None)
    }

    async fn log_group(&self, name: &str, days: i32, kms: Option<&str>, create: bool) -> StepResult {
        let mut calls = vec![];
        let current = match self.read_log_group(name).await? {
            Some(current) => current,
            None if !create => {
                return Err(format!(
                    "log group {name} does not exist in {}/{}",
                    self.account, self.region
                ))
            }
            None => {
                calls.push(format!("logs:CreateLogGroup {name}"));
                if !self.options.dry_run {
                    let mut request = self.clients.logs.create_log_group().log_group_name(name);
                    if let Some(k) = kms {
                        request = request.kms_key_id(k);
                    }
                    match request.send().await {
                        Ok(_) => None,
                        // Created by someone else since it was read: what it keeps now is theirs,
                        // so it is only raised, like any existing group.
                        Err(e)
                            if e.as_service_error()
                                .is_some_and(|s| s.is_resource_already_exists_exception()) =>
                        {
                            calls.pop();
                            self.read_log_group(name).await?.flatten()
                        }
                        Err(e) => return Err(self.err(&e, "logs:CreateLogGroup")),
                    }
                } else {
                    // A new group never expires until a retention is set.
                    None
                }
            }
        };
        // Never expiring keeps everything: only a group created just now gets a retention set.
        let raise = match current {
            Some(current) => current < days,
            None => !calls.is_empty(),
        };
        if raise {
            calls.push(format!("logs:PutRetentionPolicy {name} {days}"));
            if !self.options.dry_run {
                self.clients
                    .logs
                    .put_retention_policy()
                    .log_group_name(name)
                    .retention_in_days(days)
                    .send()
                    .await
                    .map_err(|e| self.err(&e, "logs:PutRetentionPolicy"))?;
            }
        }
        if calls.is_empty() {
            let kept = current.map_or("never expires".to_owned(), |d| format!("keeps {d} days"));
            return Ok(StepOutcome::AlreadyDone(format!("{name} {kept}")));
        }
        Ok(self.outcome(calls))
    }

    async fn flow_log(
        &self,
        action: &Action,
        vpc_id: &str,
        traffic_type: &str,
        interval: i32,
        destination: &FlowLogDestination,
    ) -> StepResult {
        let ec2 = &self.clients.ec2;
        let existing = ec2
            .describe_flow_logs()
            .filter(Filter::builder().name("resource-id").values(vpc_id).build())
            .send()
            .await
            .map_err(|e| self.err(&e, "ec2:DescribeFlowLogs"))?;
        let satisfied = existing.flow_logs().iter().any(|f| {
            f.flow_log_status() == Some("ACTIVE")
                && f.traffic_type()
                    .is_some_and(|t| t.as_str() == "ALL" || t.as_str() == traffic_type)
        });
        if satisfied {
            return Ok(StepOutcome::AlreadyDone(format!(
                "{vpc_id} has an ACTIVE {traffic_type} flow log"
            )));
        }
        let token = client_token(action);
        let calls = vec![format!("ec2:CreateFlowLogs {vpc_id} {traffic_type} token {token}")];
        if self.options.dry_run {
            return Ok(self.outcome(calls));
        }
        let mut request = ec2
            .create_flow_logs()
            .resource_type(FlowLogsResourceType::Vpc)
            .resource_ids(vpc_id)
            .traffic_type(TrafficType::from(traffic_type))
            .max_aggregation_interval(interval)
            .client_token(token);
        request = match destination {
            FlowLogDestination::CloudWatchLogs {
                log_group,
                delivery_role_arn,
            } => request
                .log_destination_type(LogDestinationType::CloudWatchLogs)
                .log_group_name(log_group)
                .deliver_logs_permission_arn(delivery_role_arn),
            FlowLogDestination::S3 { bucket_arn } => request
                .log_destination_type(LogDestinationType::S3)
                .log_destination(bucket_arn),
            FlowLogDestination::KinesisDataFirehose { delivery_stream_arn } => request
                .log_destination_type(LogDestinationType::KinesisDataFirehose)
                .log_destination(delivery_stream_arn),
        };
        let out = request.send().await.map_err(|e| self.err(&e, "ec2:CreateFlowLogs"))?;
        if let Some(failed) = out.unsuccessful().first() {
            let message = failed
                .error()
                .map(|e| format!("{} {}", e.code().unwrap_or_default(), e.message().unwrap_or_default()))
                .unwrap_or_default();
            return Err(format!("ec2:CreateFlowLogs refused {vpc_id}: {message}"));
        }
        let mut calls = calls;
        for id in out.flow_log_ids() {
            calls.push(self.delivery_status(id).await?);
        }
        Ok(self.outcome(calls))
    }

    /// A new flow log's delivery status, once AWS reports one: a flow log that cannot deliver is
    /// no audit trail, so FAILED fails the step.
    async fn delivery_status(&self, id: &str) -> Result<String, String> {
        let deadline = tokio::time::Instant::now() + self.options.delivery_wait;
        loop {
            let out = self
                .clients
                .ec2
                .describe_flow_logs()
                .flow_log_ids(id)
                .send()
                .await
                .map_err(|e| self.err(&e, "ec2:DescribeFlowLogs"))?;
            let found = out.flow_logs().iter().find(|f| f.flow_log_id() == Some(id));
            match found.and_then(|f| f.deliver_logs_status()) {
                Some("FAILED") => {
                    let message = found
                        .and_then(|f| f.deliver_logs_error_message())
                        .unwrap_or("no message");
                    return Err(format!(
                        "{id} was created but its delivery FAILED ({message}): check the delivery role and \
                         the destination's policy"
                    ));
                }
                Some(status) => return Ok(format!("{id} DeliverLogsStatus {status}")),
                None if tokio::time::Instant::now() >= deadline => {
                    return Ok(format!(
                        "{id} has no delivery status yet after {} s: re-scan to see it",
                        self.options.delivery_wait.as_secs()
                    ));
                }
                None => tokio::time::sleep(self.options.poll_interval).await,
            }
        }
    }

    async fn client_vpn(&self, endpoint: &str, log_group: &str) -> StepResult {
        let ec2 = &self.clients.ec2;
        let out = ec2
            .describe_client_vpn_endpoints()
            .client_vpn_endpoint_ids(endpoint)
            .send()
            .await
            .map_err(|e| self.err(&e, "ec2:DescribeClientVpnEndpoints"))?;
        let Some(found) = out.client_vpn_endpoints().first() else {
            return Err(format!("{endpoint} does not exist"));
        };
        let options = found.connection_log_options();
        if options.and_then(|o| o.enabled()) == Some(true) {
            let group = options.and_then(|o| o.cloudwatch_log_group()).unwrap_or("?");
            return Ok(StepOutcome::AlreadyDone(format!("{endpoint} already logs to {group}")));
        }
        let calls = vec![format!(
            "ec2:ModifyClientVpnEndpoint {endpoint} ConnectionLogOptions.Enabled=true {log_group}"
        )];
        if self.options.dry_run {
            return Ok(self.outcome(calls));
        }
        ec2.modify_client_vpn_endpoint()
            .client_vpn_endpoint_id(endpoint)
            .connection_log_options(
                ConnectionLogOptions::builder()
                    .enabled(true)
                    .cloudwatch_log_group(log_group)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| self.err(&e, "ec2:ModifyClientVpnEndpoint"))?;
        Ok(self.outcome(calls))
    }

    /// (connection state, per-tunnel telemetry status, the tunnel's options) for one connection.
    async fn read_connection(&self, vpn: &str, ip: &str) -> Result<ConnectionView, String> {
        let out = self
            .clients
            .ec2
            .describe_vpn_connections()
            .vpn_connection_ids(vpn)
            .send()
            .await
            .map_err(|e| self.err(&e, "ec2:DescribeVpnConnections"))?;
        let Some(c) = out.vpn_connections().first() else {
            return Err(format!("{vpn} does not exist"));
        };
        let telemetry = c
            .vgw_telemetry()
            .iter()
            .map(|t| TunnelStatus {
                outside_ip: t.outside_ip_address().unwrap_or_default().to_owned(),
                status: t.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                last_status_change: t.last_status_change().map(|d| (d.secs(), d.subsec_nanos())),
            })
            .collect();
        let tunnel_ips = c
            .options()
            .map(|o| o.tunnel_options())
            .unwrap_or_default()
            .iter()
            .filter_map(|t| t.outside_ip_address().map(str::to_owned))
            .collect();
        let tunnel = c
            .options()
            .map(|o| o.tunnel_options())
            .unwrap_or_default()
            .iter()
            .find(|t| t.outside_ip_address() == Some(ip));
        Ok(ConnectionView {
            state: c.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            telemetry,
            tunnel_ips,
            logging: tunnel
                .and_then(|t| t.log_options())
                .and_then(|l| l.cloud_watch_log_options())
                .and_then(|c| c.log_enabled()),
            ike_versions: tunnel.map(|t| {
                t.ike_versions()
                    .iter()
                    .filter_map(|v| v.value().map(str::to_owned))
                    .collect()
            }),
        })
    }

    /// Wait until `ready` holds for the connection, or give up with `what`; the view that held.
    async fn wait_for(
        &self,
        vpn: &str,
        ip: &str,
        what: &str,
        ready: impl Fn(&ConnectionView) -> bool,
    ) -> Result<ConnectionView, String> {
        let deadline = tokio::time::Instant::now() + self.options.tunnel_wait;
        loop {
            let view = self.read_connection(vpn, ip).await?;
            if ready(&view) {
                return Ok(view);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(format!(
                    "{vpn}: {what} within {} s (state {}, tunnels {})",
                    self.options.tunnel_wait.as_secs(),
                    view.state,
                    view.describe_tunnels()
                ));
            }
            tokio::time::sleep(self.options.poll_interval).await;
        }
    }

    async fn tunnel(&self, vpn: &str, ip: &str, log_group_arn: Option<&str>, ike: Option<&[String]>) -> StepResult {
        let view = self.read_connection(vpn, ip).await?;
        if view.ike_versions.is_none() {
            return Err(format!("{vpn} reports no tunnel options for {ip}"));
        }
        let logging_done = log_group_arn.is_none() || view.logging == Some(true);
        let ike_done = ike.is_none_or(|want| view.ike_versions.as_deref() == Some(want));
        if logging_done && ike_done {
            return Ok(StepOutcome::AlreadyDone(format!(
                "tunnel {ip} of {vpn} is already configured"
            )));
        }
        let mut what = vec![];
        if log_group_arn.is_some() {
            what.push("LogOptions.CloudWatchLogOptions.LogEnabled=true".to_owned());
        }
        if let Some(v) = ike {
            what.push(format!("IKEVersions={}", v.join(",")));
        }
        let calls = vec![format!("ec2:ModifyVpnTunnelOptions {vpn} {ip} {}", what.join(" "))];
        if self.options.dry_run {
            return Ok(self.outcome(calls));
        }
        // Never two tunnels down at once: every other tunnel must be reported UP first (one missing
        // from the telemetry is not), and the connection must not be mid-modification.
        let ready = self
            .wait_for(vpn, ip, "the other tunnel was not reported UP", |v| {
                v.state == "available" && v.others_up(ip)
            })
            .await?;
        let before = ready.tunnel(ip).cloned();
        let was_up = before.as_ref().is_some_and(|t| t.status == "UP");
        let mut spec = ModifyVpnTunnelOptionsSpecification::builder();
        if let Some(arn) = log_group_arn {
            spec = spec.log_options(
                VpnTunnelLogOptionsSpecification::builder()
                    .cloud_watch_log_options(
                        CloudWatchLogOptionsSpecification::builder()
                            .log_enabled(true)
                            .log_group_arn(arn)
                            .log_output_format("json")
                            .build(),
                    )
                    .build(),
            );
        }
        for v in ike.unwrap_or_default() {
            spec = spec.ike_versions(IkeVersionsRequestListValue::builder().value(v).build());
        }
        self.clients
            .ec2
            .modify_vpn_tunnel_options()
            .vpn_connection_id(vpn)
            .vpn_tunnel_outside_ip_address(ip)
            .tunnel_options(spec.build())
            .send()
            .await
            .map_err(|e| self.err(&e, "ec2:ModifyVpnTunnelOptions"))?;
        if was_up {
            // The UP read before the call is stale until AWS shows the change.
            let before_change = before.as_ref().and_then(|t| t.last_status_change);
            self.wait_for(vpn, ip, &format!("AWS did not show the change to tunnel {ip}"), |v| {
                v.state != "available"
                    || v.tunnel(ip).is_none_or(|t| {
                        t.status != "UP" || (t.last_status_change.is_some() && t.last_status_change > before_change)
                    })
            })
            .await?;
            self.wait_for(vpn, ip, &format!("tunnel {ip} did not come back UP"), |v| {
                v.state == "available" && v.tunnel(ip).is_some_and(|t| t.status == "UP")
            })
            .await?;
        }
        Ok(self.outcome(calls))
    }

    async fn alarm(&self, name: &str, ip: &str, topic: &str) -> StepResult {
        let cw = &self.clients.cloudwatch;
        let out = cw
            .describe_alarms()
            .alarm_names(name)
            .send()
            .await
            .map_err(|e| self.err(&e, "cloudwatch:DescribeAlarms"))?;
        if let Some(existing) = out.metric_alarms().first() {
            if existing.alarm_actions().iter().any(|a| a == topic) && existing.actions_enabled() == Some(true) {
                return Ok(StepOutcome::AlreadyDone(format!("alarm {name} notifies {topic}")));
            }
        }
        let calls = vec![format!(
            "cloudwatch:PutMetricAlarm {name} TunnelState TunnelIpAddress={ip} -> {topic}"
        )];
        if self.options.dry_run {
            return Ok(self.outcome(calls));
        }
        let spec = tunnel_alarm(ip);
        cw.put_metric_alarm()
            .alarm_name(name)
            .alarm_description("A Site-to-Site VPN tunnel is down (created by netaudit)")
            .namespace(spec.namespace)
            .metric_name(spec.metric_name)
            .dimensions(
                aws_sdk_cloudwatch::types::Dimension::builder()
                    .name("TunnelIpAddress")
                    .value(spec.dimension_value)
                    .build(),
            )
            .statistic(aws_sdk_cloudwatch::types::Statistic::from(spec.statistic))
            .period(spec.period)
            .evaluation_periods(spec.evaluation_periods)
            .threshold(f64::from(spec.threshold))
            .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::from(
                spec.comparison_operator,
            ))
            .treat_missing_data(spec.treat_missing_data)
            .actions_enabled(true)
            .alarm_actions(topic)
            .send()
            .await
            .map_err(|e| self.err(&e, "cloudwatch:PutMetricAlarm"))?;
        Ok(self.outcome(calls))
    }
}

/// One tunnel's telemetry.
#[derive(Debug, Clone)]
struct TunnelStatus {
    outside_ip: String,
    /// UP or DOWN.
    status: String,
    /// LastStatusChange, as (seconds, nanoseconds) since the epoch.
    last_status_change: Option<(i64, u32)>,
}

#[derive(Debug)]
struct ConnectionView {
    state: String,
    /// Per tunnel AWS reports telemetry for; it may leave tunnels out.
    telemetry: Vec<TunnelStatus>,
    /// The outside IP of every tunnel in the connection's options.
    tunnel_ips: Vec<String>,
    /// The tunnel's activity logging, when its options were reported.
    logging: Option<bool>,
    /// The tunnel's IKE versions; None when AWS reported no options for it.
    ike_versions: Option<Vec<String>>,
}

impl ConnectionView {
    fn tunnel(&self, ip: &str) -> Option<&TunnelStatus> {
        self.telemetry.iter().find(|t| t.outside_ip == ip)
    }

    /// Every tunnel but `ip` is reported UP; a connection that reports fewer than two tunnels is
    /// not known to have a partner at all.
    fn others_up(&self, ip: &str) -> bool {
        self.tunnel_ips.len() >= 2
            && self
                .tunnel_ips
                .iter()
                .filter(|t| *t != ip)
                .all(|t| self.tunnel(t).is_some_and(|s| s.status == "UP"))
    }

    fn describe_tunnels(&self) -> String {
        self.tunnel_ips
            .iter()
            .map(|ip| format!("{ip} {}", self.tunnel(ip).map_or("not reported", |t| t.status.as_str())))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The account the configuration's credentials belong to.
pub async fn caller_account(
    config: &SdkConfig,
    calls: &CallLog,
) -> Result<String, std::sync::Arc<netaudit_model::Gap>> {
    let out = crate::collect::sts_client(config, calls)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| gap_from_sdk(&e, "", None, "sts:GetCallerIdentity"))?;
    Ok(out.account().unwrap_or_default().to_owned())
}

/// Read again every region a plan touched, in every account it touched, for verification.
/// An account that cannot be entered is an account-wide gap, as in a scan.
pub async fn recollect(
    plan: &Plan,
    access: &AccountAccess,
    options: &crate::LiveOptions,
    calls: &CallLog,
) -> netaudit_model::Inventory {
    let mut touched: std::collections::BTreeMap<&str, Vec<String>> = std::collections::BTreeMap::new();
    for batch in plan.batches.iter().filter(|b| b.region != "global") {
        touched.entry(&batch.account_id).or_default().push(batch.region.clone());
    }
    let mut accounts = vec![];
    for (account, regions) in touched {
        let options = crate::LiveOptions {
            regions: Some(regions),
            ..options.clone()
        };
        let collected = match access.config_for(account).await {
            Ok(config) => crate::collect_account(&config, &options, calls)
                .await
                .map_err(|g| g.to_string()),
            Err(e) => Err(e),
        };
        accounts.push(match collected {
            Ok(inventory) => inventory,
            Err(reason) => crate::collect::unreachable_account(
                account,
                &std::sync::Arc::new(netaudit_model::Gap {
                    kind: netaudit_model::GapKind::ApiError,
                    account: account.to_owned(),
                    region: None,
                    api: "sts:AssumeRole".into(),
                    code: "AccountNotEntered".into(),
                    message: reason,
                    source: None,
                }),
                access.org_role.as_deref().unwrap_or("-"),
            ),
        });
    }
    netaudit_model::Inventory { accounts }
}

/// Apply a plan and read back what it touched, on a runtime of its own. `org_role` is assumed in
/// accounts other than the caller's. The inventory is `None` on a dry run.
pub fn apply_and_verify(
    plan: &Plan,
    live: &crate::LiveOptions,
    org_role: Option<&str>,
    options: &ApplyOptions,
    calls: &CallLog,
) -> Result<(ApplyReport, Option<netaudit_model::Inventory>), std::sync::Arc<netaudit_model::Gap>> {
    crate::collect::runtime()?.block_on(async {
        let config = crate::sdk_config(live).await;
        let own_account = caller_account(&config, calls).await?;
        let access = AccountAccess {
            config,
            own_account,
            org_role: org_role.map(str::to_owned),
            external_id: live.external_id.clone(),
        };
        let report = apply_plan(plan, &access, options, calls).await;
        let after = if options.dry_run {
            None
        } else {
            Some(recollect(plan, &access, live, calls).await)
        };
        Ok((report, after))
    })
}
