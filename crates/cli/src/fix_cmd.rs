//! `netaudit fix plan|apply`, `netaudit guardrails`, `netaudit diff` and scan exceptions: glue
//! between the planner, the SDK executor and the report.

use crate::{
    catalogue, collect_live, emit, load_evidence, parse_params, report_errors, Failure, LiveArgs, EXIT_CLEAN,
    EXIT_FAILURES, EXIT_INCOMPLETE,
};
use clap::{Subcommand, ValueEnum};
use netaudit_checks::{Catalogue, Control, ExceptionsSummary, Finding, Status};
use netaudit_fix::{DestinationChoice, Plan, PlanOptions};
use netaudit_model::Graph;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum FixCommand {
    /// Plan fixes for the failing results only: from a saved JSON report, offline evidence, or live AWS.
    Plan(Box<PlanArgs>),
    /// Apply a plan through the AWS SDK, then read back what it touched and compare.
    Apply(Box<ApplyArgs>),
}

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    /// Plan from a report written by `scan --format json` (no AWS access needed).
    #[arg(long, value_name = "FILE", conflicts_with = "evidence")]
    report: Option<PathBuf>,
    /// Plan from offline evidence (see `scan --evidence`).
    #[arg(long, value_name = "DIR")]
    evidence: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) live: LiveArgs,
    /// A control parameter for the scan, as ID.NAME=VALUE.
    #[arg(long = "param", value_name = "ID.NAME=VALUE")]
    params: Vec<String>,
    #[arg(skip)]
    pub(crate) configured_params: crate::settings::ConfigParams,
    #[command(flatten)]
    pub(crate) priority: crate::priority::PriorityArgs,
    /// Only fix these controls (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS", value_parser = crate::trimmed)]
    checks: Vec<String>,
    /// Exceptions: results they mute are not planned.
    #[arg(long, value_name = "FILE")]
    pub(crate) exceptions: Option<PathBuf>,
    /// Flow logs deliver to this S3 bucket ARN (default: a CloudWatch Logs group per VPC).
    #[arg(long, value_name = "ARN", conflicts_with = "firehose")]
    s3_bucket: Option<String>,
    /// Flow logs deliver to this Firehose delivery stream ARN.
    #[arg(long, value_name = "ARN")]
    firehose: Option<String>,
    /// The IAM role (name, in each account) that delivers flow logs to CloudWatch Logs.
    #[arg(long, value_name = "NAME", default_value = "netaudit-flow-logs-delivery")]
    delivery_role: String,
    /// Create the delivery role where it is missing.
    #[arg(long)]
    create_delivery_role: bool,
    /// Traffic the new flow logs capture: ALL or REJECT.
    #[arg(long, value_name = "TYPE", default_value = "ALL")]
    traffic_type: String,
    /// Flow-log aggregation interval in seconds: 60 or 600.
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = aggregation_interval)]
    aggregation_interval: i32,
    /// Name of each new flow-log group; {vpc_id}, {account} and {region} are replaced.
    #[arg(long, value_name = "PATTERN", default_value = "/aws/vpc/flow-logs/{vpc_id}")]
    flow_log_group: String,
    /// Name of each new Client VPN connection-log group.
    #[arg(long, value_name = "PATTERN", default_value = "/aws/clientvpn/{endpoint_id}")]
    client_vpn_log_group: String,
    /// Name of each new Site-to-Site tunnel-log group (under /aws/vendedlogs/).
    #[arg(
        long,
        value_name = "PATTERN",
        default_value = "/aws/vendedlogs/vpn/{vpn_connection_id}"
    )]
    tunnel_log_group: String,
    /// Retention for new groups, and the floor existing ones are raised to (never lowered).
    #[arg(long, value_name = "DAYS", default_value_t = 365, value_parser = retention_days)]
    retention_days: i32,
    /// A KMS key ARN to encrypt new log groups with.
    #[arg(long, value_name = "ARN")]
    kms_key: Option<String>,
    /// The SNS topic ARN TunnelState alarms notify (no alarm is planned without it).
    #[arg(long, value_name = "ARN")]
    alarm_topic: Option<String>,
    /// Restrict tunnels that permit IKEv1 to IKEv2 only.
    #[arg(long)]
    ikev2_only: bool,
    /// The plan's format: a table to read, JSON for `fix apply`, a bash script of AWS CLI calls, or
    /// Terraform or CloudFormation to merge into your code.
    #[arg(long, value_enum, default_value_t = PlanFormat::Table)]
    pub(crate) format: PlanFormat,
    /// Write here (for cloudformation: a directory, one template per account and region; `-`:
    /// standard output).
    #[arg(long, short, value_name = "PATH")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PlanFormat {
    Table,
    Json,
    Script,
    Terraform,
    Cloudformation,
}

#[derive(clap::Args, Debug)]
pub struct ApplyArgs {
    /// The plan, as written by `fix plan --format json`.
    plan: PathBuf,
    #[command(flatten)]
    pub(crate) live: LiveArgs,
    /// Apply without asking.
    #[arg(long, short)]
    yes: bool,
    /// Read the current state and print the calls that would change it; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Seconds to wait for a tunnel to be UP before and after modifying it.
    #[arg(long, value_name = "SECONDS", default_value_t = 900, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    tunnel_wait: u64,
    /// Seconds between looks while waiting.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    poll_interval: u64,
    /// Print each API call to standard error.
    #[arg(long, short)]
    pub(crate) verbose: bool,
    /// Print the API calls made, per API.
    #[arg(long)]
    stats: bool,
    /// The outcome's format: a table, or JSON with every change and its verification.
    #[arg(long, value_enum, default_value_t = crate::ListFormat::Table)]
    pub(crate) format: crate::ListFormat,
}

#[derive(clap::Args, Debug)]
pub struct GuardrailsArgs {
    /// Write conformance-pack.yaml, scp.json and ROLLOUT.txt here.
    #[arg(long, short, value_name = "DIR", required_unless_present = "print")]
    output_dir: Option<PathBuf>,
    /// Print one of them instead.
    #[arg(long, value_enum, conflicts_with = "output_dir")]
    print: Option<Guardrail>,
    /// The role (name or pattern) the SCP still lets change logging and retention.
    #[arg(long, value_name = "NAME", default_value = "AuditTrailAdmin")]
    admin_role: String,
    /// Log-group name patterns the SCP protects.
    #[arg(
        long,
        value_name = "PATTERN",
        value_delimiter = ',',
        default_value = "/aws/vpc/flow-logs*,/aws/clientvpn/*,/aws/vendedlogs/vpn/*"
    )]
    protect: Vec<String>,
    /// The trafficType the vpc-flow-logs-enabled rule requires (REJECT or ALL).
    #[arg(long, value_name = "TYPE", default_value = "REJECT")]
    traffic_type: String,
    /// The retention cw-loggroup-retention-period-check requires.
    #[arg(long, value_name = "DAYS", default_value_t = 365, value_parser = clap::value_parser!(i32).range(1..=3653))]
    min_retention_days: i32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Guardrail {
    ConformancePack,
    Scp,
    Rollout,
}

/// Read and validate an exceptions file.
pub fn read_exceptions_file(path: &Path, catalogue: &Catalogue) -> Result<Vec<netaudit_checks::Exception>, Failure> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Failure::Usage(format!("--exceptions {}: {e}", path.display())))?;
    netaudit_checks::parse_exceptions(&path.display().to_string(), &text, catalogue).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        Failure::Usage(format!("invalid exceptions file:\n  {}", lines.join("\n  ")))
    })
}

/// Apply exceptions (from the file and written in the code); warn loudly about expired and stale
/// ones.
pub fn apply_and_warn(exceptions: &[netaudit_checks::Exception], findings: &mut [Finding]) -> ExceptionsSummary {
    let summary = netaudit_checks::apply_exceptions(findings, exceptions, netaudit_checks::Date::today());
    for e in &summary.expired {
        note!(
            "netaudit: warning: EXPIRED exception {} ({} {}, owner {}, ticket {}) ended {}: {} result(s) it matches FAIL again",
            e.source, e.control, e.resource, e.owner, e.ticket, e.expires, e.matched
        );
    }
    for e in &summary.stale {
        note!(
            "netaudit: warning: stale exception {} ({} {}, owner {}): it matches no failing result",
            e.source,
            e.control,
            e.resource,
            e.owner
        );
    }
    summary
}

/// Read, validate and apply an exceptions file, also returning the exceptions read.
fn read_and_apply_exceptions(
    path: &Path,
    catalogue: &Catalogue,
    findings: &mut [Finding],
) -> Result<(ExceptionsSummary, Vec<netaudit_checks::Exception>), Failure> {
    let exceptions = read_exceptions_file(path, catalogue)?;
    Ok((apply_and_warn(&exceptions, findings), exceptions))
}

/// `--aggregation-interval`: the two intervals AWS accepts.
pub(crate) fn aggregation_interval(value: &str) -> Result<i32, String> {
    match value.trim() {
        "60" => Ok(60),
        "600" => Ok(600),
        _ => Err("flow logs aggregate over 60 or 600 seconds".to_owned()),
    }
}

/// `--retention-days`: one of the retention periods CloudWatch Logs accepts.
pub(crate) fn retention_days(value: &str) -> Result<i32, String> {
    let valid = || {
        let days: Vec<String> = netaudit_fix::RETENTION_DAYS.iter().map(ToString::to_string).collect();
        format!("CloudWatch Logs keeps events for {} days", days.join(", "))
    };
    let days: i32 = value.trim().parse().map_err(|_| valid())?;
    if netaudit_fix::RETENTION_DAYS.contains(&days) {
        Ok(days)
    } else {
        Err(valid())
    }
}

fn plan_options(args: &PlanArgs) -> Result<PlanOptions, Failure> {
    let destination = match (&args.s3_bucket, &args.firehose) {
        (Some(bucket_arn), None) => DestinationChoice::S3 {
            bucket_arn: bucket_arn.clone(),
        },
        (None, Some(stream)) => DestinationChoice::KinesisDataFirehose {
            delivery_stream_arn: stream.clone(),
        },
        _ => DestinationChoice::CloudWatchLogs {
            delivery_role: args.delivery_role.clone(),
            create_role: args.create_delivery_role,
        },
    };
    let options = PlanOptions {
        destination,
        traffic_type: args.traffic_type.to_ascii_uppercase(),
        max_aggregation_interval: args.aggregation_interval,
        flow_log_group: args.flow_log_group.clone(),
        client_vpn_log_group: args.client_vpn_log_group.clone(),
        tunnel_log_group: args.tunnel_log_group.clone(),
        retention_days: args.retention_days,
        kms_key_arn: args.kms_key.clone(),
        alarm_topic_arn: args.alarm_topic.clone(),
        ikev2_only: args.ikev2_only,
    };
    options.validate().map_err(|e| Failure::Usage(e.to_string()))?;
    Ok(options)
}

/// What a plan is made from: the results, the log groups known to exist, the parameters the
/// results were judged with, and the problems met on the way.
struct PlanInput {
    findings: Vec<Finding>,
    existing: netaudit_fix::ExistingLogGroups,
    parameters: netaudit_checks::Params,
    errors: Vec<String>,
    /// The VPCs read, with their measured flow-log volume (none from a report).
    vpcs: Vec<netaudit_cost::measure::VpcSubject>,
}

/// The inventory from offline evidence (limited to `--regions`) or live AWS, and the evidence's
/// input errors.
pub(crate) fn read_inventory(
    evidence: Option<&Path>,
    live: &LiveArgs,
) -> Result<(netaudit_model::Inventory, Vec<String>), Failure> {
    match evidence {
        Some(dir) => {
            live.refuse_live_only(&format!("--evidence {}", dir.display()))?;
            let (mut inventory, errors) = load_evidence(dir)?;
            if !live.regions.is_empty() {
                inventory.limit_to_regions(&live.regions);
            }
            Ok((inventory, errors))
        }
        None => Ok((collect_live(live, None, false)?, vec![])),
    }
}

/// The plan's input, from a report, evidence or live AWS.
fn plan_input(args: &PlanArgs, catalogue: &Catalogue) -> Result<PlanInput, Failure> {
    if let Some(path) = &args.report {
        args.live.refuse_live_only(&format!("--report {}", path.display()))?;
        if !args.params.is_empty() {
            return Err(Failure::Usage(
                "--param applies to a scan: a report was judged with the parameters it records".into(),
            ));
        }
        let text =
            std::fs::read_to_string(path).map_err(|e| Failure::Usage(format!("--report {}: {e}", path.display())))?;
        let report = netaudit_report::SavedReport::parse(&text)
            .map_err(|e| Failure::Usage(format!("--report {}: {e}", path.display())))?;
        if !report.records_remedies() {
            return Err(Failure::Usage(format!(
                "--report {}: schema version {} does not record how each failure is fixed; scan again with \
                 this netaudit",
                path.display(),
                report.schema_version
            )));
        }
        let errors = report
            .coverage
            .errors
            .iter()
            .map(|e| format!("{} (from {})", e, path.display()))
            .collect();
        return Ok(PlanInput {
            findings: report.results,
            existing: BTreeMap::new(),
            parameters: report.parameters,
            errors,
            vpcs: vec![],
        });
    }
    let (inventory, mut errors) = read_inventory(args.evidence.as_deref(), &args.live)?;
    report_errors(&errors);
    let graph = Graph::build(&inventory);
    let params = args
        .configured_params
        .under(parse_params(&args.params, catalogue)?, catalogue, true)?;
    let controls: Vec<&Control> = catalogue.controls().iter().collect();
    let (mut findings, eval_errors) = netaudit_checks::evaluate(&controls, &graph, &params);
    netaudit_checks::assign_priorities(&mut findings, &graph, &args.priority.production_tags()?);
    let eval_errors: Vec<String> = eval_errors.iter().map(ToString::to_string).collect();
    report_errors(&eval_errors);
    errors.extend(eval_errors);
    Ok(PlanInput {
        findings,
        existing: netaudit_fix::existing_log_groups(&graph),
        parameters: params,
        errors,
        vpcs: netaudit_cost::measure::vpcs(&inventory, crate::cost_cmd::now_ms()),
    })
}

pub fn plan(args: &PlanArgs) -> Result<u8, Failure> {
    let options = plan_options(args)?;
    let (catalogue, errors) = catalogue(&[])?;
    report_errors(&errors);
    for id in &args.checks {
        if catalogue.get(id).is_none() {
            return Err(Failure::Usage(format!("--checks: unknown control id {id:?}")));
        }
    }
    let PlanInput {
        mut findings,
        existing,
        parameters,
        errors,
        vpcs,
    } = plan_input(args, &catalogue)?;
    let exceptions = match &args.exceptions {
        Some(path) => read_and_apply_exceptions(path, &catalogue, &mut findings)?.1,
        None => vec![],
    };
    findings.retain(|f| args.checks.is_empty() || args.checks.iter().any(|id| id.eq_ignore_ascii_case(&f.control)));
    let mut plan = netaudit_fix::plan(&findings, &existing, &options);
    plan.scan = netaudit_fix::ScanSettings { parameters, exceptions };
    plan.errors = errors;
    let output = args
        .output
        .as_deref()
        .filter(|path| !crate::output::is_stdout(Some(path)));
    let write_text = |text: String| crate::output::write_to(output, |out| out.write_all(text.as_bytes()));
    let estimate = crate::cost_cmd::plan_estimate(&plan, &vpcs)?;
    match args.format {
        PlanFormat::Table => {
            let cost = estimate
                .as_ref()
                .map(crate::cost_cmd::PlanEstimate::text)
                .unwrap_or_default();
            write_text(netaudit_fix::render::table::render(&plan) + &cost)?;
        }
        PlanFormat::Json => {
            let mut json = serde_json::to_value(&plan).map_err(|e| Failure::Internal(e.to_string()))?;
            if let (Some(fields), Some(estimate)) = (json.as_object_mut(), &estimate) {
                let estimate = serde_json::to_value(estimate).map_err(|e| Failure::Internal(e.to_string()))?;
                fields.insert("cost_estimate".into(), estimate);
            }
            let text = serde_json::to_string_pretty(&json).map_err(|e| Failure::Internal(e.to_string()))?;
            write_text(text + "\n")?;
        }
        PlanFormat::Script => write_text(netaudit_fix::render::script::render(&plan))?,
        PlanFormat::Terraform => write_text(netaudit_fix::render::terraform::render(&plan))?,
        PlanFormat::Cloudformation => {
            let templates = netaudit_fix::render::cloudformation::render(&plan);
            match output {
                // A file name: the one template, never a directory named like a file.
                Some(file) if file.extension().is_some_and(|e| e == "json" || e == "template") => {
                    let [(_, template)] = templates.as_slice() else {
                        return Err(Failure::Usage(format!(
                            "--output {}: the plan makes {} templates (one per account and region); give a \
                             directory to write them into",
                            file.display(),
                            templates.len()
                        )));
                    };
                    let text = serde_json::to_string_pretty(template).map_err(|e| Failure::Internal(e.to_string()))?;
                    crate::output::write_to(Some(file), |out| writeln!(out, "{text}"))?;
                    note!("netaudit: wrote 1 template to {}", file.display());
                }
                Some(dir) => {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| Failure::Usage(format!("--output {}: {e}", dir.display())))?;
                    for (name, t) in &templates {
                        let text = serde_json::to_string_pretty(t).map_err(|e| Failure::Internal(e.to_string()))?;
                        let path = dir.join(name);
                        std::fs::write(&path, text + "\n")
                            .map_err(|e| Failure::Usage(format!("--output {}: {e}", path.display())))?;
                    }
                    note!("netaudit: wrote {} template(s) to {}", templates.len(), dir.display());
                }
                None => {
                    let all: serde_json::Map<String, serde_json::Value> = templates.into_iter().collect();
                    let text = serde_json::to_string_pretty(&all).map_err(|e| Failure::Internal(e.to_string()))?;
                    emit(|out| writeln!(out, "{text}"))?;
                }
            }
        }
    }
    if !plan.unreadable.is_empty() {
        note!(
            "netaudit: {} result(s) could not be read, so nothing is planned for them: the plan lists them",
            plan.unreadable.len()
        );
    }
    // Something to do and/or something unread, as a scan reports failures and gaps.
    Ok(match (plan.is_empty(), plan.is_complete()) {
        (true, true) => EXIT_CLEAN,
        (false, true) => EXIT_FAILURES,
        (true, false) => EXIT_INCOMPLETE,
        (false, false) => crate::EXIT_FAILURES_AND_INCOMPLETE,
    })
}

fn read_plan(path: &Path) -> Result<Plan, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    let plan: Plan = serde_json::from_str(&text).map_err(|e| {
        Failure::Usage(format!(
            "{}:{}:{}: not a netaudit plan (write one with `fix plan --format json`): {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    if plan.schema_version != netaudit_fix::PLAN_SCHEMA_VERSION {
        return Err(Failure::Usage(format!(
            "{}: plan schema version {} (this netaudit applies {})",
            path.display(),
            plan.schema_version,
            netaudit_fix::PLAN_SCHEMA_VERSION
        )));
    }
    plan.options
        .validate()
        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    Ok(plan)
}

fn confirm(plan: &Plan) -> Result<bool, Failure> {
    let accounts: BTreeSet<&str> = plan.batches.iter().map(|b| b.account_id.as_str()).collect();
    if !io::stdin().is_terminal() {
        return Err(Failure::Usage(
            "fix apply changes AWS resources: pass --yes to confirm, or --dry-run to see the calls".into(),
        ));
    }
    eprint!(
        "Apply {} step(s) in {} batch(es) to account(s) {}? [y/N] ",
        plan.step_count(),
        plan.batches.len(),
        accounts.into_iter().collect::<Vec<_>>().join(", ")
    );
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

pub fn apply(args: &ApplyArgs) -> Result<u8, Failure> {
    let plan = read_plan(&args.plan)?;
    if plan.is_empty() {
        emit(|out| writeln!(out, "Nothing to apply: the plan has no steps."))?;
        return Ok(EXIT_CLEAN);
    }
    if !args.dry_run && !args.yes && !confirm(&plan)? {
        note!("netaudit: not applied");
        return Ok(EXIT_CLEAN);
    }
    let calls = if args.verbose {
        crate::verbose_call_log()
    } else {
        netaudit_aws::CallLog::new()
    };
    let options = netaudit_aws::ApplyOptions {
        dry_run: args.dry_run,
        tunnel_wait: std::time::Duration::from_secs(args.tunnel_wait),
        poll_interval: std::time::Duration::from_secs(args.poll_interval.max(1)),
        delivery_wait: std::time::Duration::from_secs(args.tunnel_wait.min(60)),
    };
    let live = args.live.options();
    let org_role = args.live.org.then_some(live.org_role.as_str());
    let (report, after) = netaudit_aws::apply_and_verify(&plan, &live, org_role, &options, &calls)
        .map_err(|gap| Failure::Usage(format!("cannot start: {gap}")))?;
    if args.stats {
        for (api, n) in calls.counts() {
            note!("  {n:>6}  {api}");
        }
    }
    let verification = after.map(|inventory| verify(&plan, &inventory));
    match args.format {
        crate::ListFormat::Json => {
            let doc = serde_json::json!({
                "steps": report.steps,
                "verification": verification.as_ref().map(|v| &v.results),
            });
            emit(|out| {
                serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from)?;
                writeln!(out)
            })?;
        }
        crate::ListFormat::Table => emit(|out| render_apply(&report, verification.as_ref(), args, out))?,
    }
    if report.failed() > 0 {
        return Ok(EXIT_FAILURES);
    }
    Ok(match &verification {
        Some(v) if v.results.iter().any(|r| r.after == Some(Status::Fail)) => EXIT_FAILURES,
        Some(v) if v.results.iter().any(|r| r.after != Some(Status::Pass)) => EXIT_INCOMPLETE,
        _ => EXIT_CLEAN,
    })
}

#[derive(Debug, serde::Serialize)]
struct VerifiedResult {
    #[serde(flatten)]
    result: netaudit_checks::ResultKey,
    before: Status,
    after: Option<Status>,
}

struct Verification {
    results: Vec<VerifiedResult>,
}

/// Evaluate the controls again over what was read back, with the parameters and exceptions the
/// plan's scan used, for every result the plan set out to fix (matched by its whole identity).
fn verify(plan: &Plan, inventory: &netaudit_model::Inventory) -> Verification {
    let graph = Graph::build(inventory);
    let (catalogue, _) = netaudit_checks::builtin();
    let controls: Vec<&Control> = catalogue.controls().iter().collect();
    let (mut findings, _) = netaudit_checks::evaluate(&controls, &graph, &plan.scan.parameters);
    netaudit_checks::apply_exceptions(&mut findings, &plan.scan.exceptions, netaudit_checks::Date::today());
    let now: BTreeMap<netaudit_checks::ResultKey, Status> = findings.iter().map(|f| (f.key(), f.status)).collect();
    let mut seen = BTreeSet::new();
    let mut results = vec![];
    for step in plan.batches.iter().flat_map(|b| &b.steps) {
        for fix in &step.fixes {
            if seen.insert(fix.clone()) {
                results.push(VerifiedResult {
                    result: fix.clone(),
                    before: Status::Fail,
                    after: now.get(fix).copied(),
                });
            }
        }
    }
    Verification { results }
}

fn render_apply(
    report: &netaudit_aws::ApplyReport,
    verification: Option<&Verification>,
    args: &ApplyArgs,
    out: &mut dyn Write,
) -> io::Result<()> {
    use netaudit_aws::StepOutcome;
    let mut batch = (String::new(), String::new());
    for s in &report.steps {
        if (s.account_id.as_str(), s.region.as_str()) != (batch.0.as_str(), batch.1.as_str()) {
            batch = (s.account_id.clone(), s.region.clone());
            writeln!(out, "{} {}", s.account_id, s.region)?;
        }
        let (label, detail) = match &s.outcome {
            StepOutcome::Changed(calls) => ("CHANGED", calls.join("; ")),
            StepOutcome::WouldChange(calls) => ("WOULD", calls.join("; ")),
            StepOutcome::AlreadyDone(why) => ("ALREADY", why.clone()),
            StepOutcome::Failed(why) => ("FAILED", why.clone()),
            StepOutcome::NotAttempted(why) => ("SKIPPED", why.clone()),
        };
        writeln!(out, "  {label:<8} {}", s.summary)?;
        if !detail.is_empty() {
            writeln!(out, "           {detail}")?;
        }
    }
    if let Some(v) = verification {
        writeln!(out, "\nVerification (read back after apply):")?;
        let mut per_control: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
        for r in &v.results {
            let after = r.after.map_or("NOT READ", Status::as_str);
            *per_control
                .entry(&r.result.control)
                .or_default()
                .entry(after)
                .or_default() += 1;
        }
        for (control, counts) in per_control {
            let total: usize = counts.values().sum();
            let now: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
            writeln!(out, "  {control:<26} before {total} FAIL  ->  after {}", now.join(", "))?;
        }
        for r in v.results.iter().filter(|r| r.after != Some(Status::Pass)) {
            writeln!(
                out,
                "  still {}: {}",
                r.after.map_or("NOT READ", Status::as_str),
                r.result
            )?;
        }
    }
    let failed = report.failed();
    writeln!(
        out,
        "\n{} changed, {} already done, {} failed, {} not attempted.",
        report.changed(),
        report
            .steps
            .iter()
            .filter(|s| matches!(s.outcome, StepOutcome::AlreadyDone(_)))
            .count(),
        failed,
        report.not_attempted()
    )?;
    if failed > 0 {
        writeln!(
            out,
            "Re-run `netaudit fix apply {}` once the cause is fixed: finished steps are skipped.",
            args.plan.display()
        )?;
    }
    Ok(())
}

pub fn guardrails(args: &GuardrailsArgs) -> Result<u8, Failure> {
    if !matches!(args.traffic_type.as_str(), "REJECT" | "ALL") {
        return Err(Failure::Usage(format!(
            "--traffic-type {}: REJECT or ALL",
            args.traffic_type
        )));
    }
    let (catalogue, _) = catalogue(&[])?;
    let controls: Vec<&Control> = catalogue.controls().iter().collect();
    let overrides = BTreeMap::from([
        (
            "vpc-flow-logs-enabled".to_owned(),
            BTreeMap::from([("trafficType".to_owned(), args.traffic_type.clone())]),
        ),
        (
            "cw-loggroup-retention-period-check".to_owned(),
            BTreeMap::from([("MinRetentionTime".to_owned(), args.min_retention_days.to_string())]),
        ),
    ]);
    let pack = netaudit_fix::guardrails::to_yaml(&netaudit_fix::guardrails::conformance_pack(&controls, &overrides));
    let pack = format!("# netaudit guardrails: AWS Config conformance pack (detective; deploy first)\n{pack}");
    let scp = serde_json::to_string_pretty(&netaudit_fix::guardrails::scp(&args.protect, &args.admin_role))
        .map_err(|e| Failure::Internal(e.to_string()))?
        + "\n";
    let rollout = netaudit_fix::guardrails::rollout(&args.admin_role);
    if let Some(which) = args.print {
        let text = match which {
            Guardrail::ConformancePack => pack,
            Guardrail::Scp => scp,
            Guardrail::Rollout => rollout,
        };
        emit(|out| out.write_all(text.as_bytes()))?;
        return Ok(EXIT_CLEAN);
    }
    if let Some(dir) = &args.output_dir {
        std::fs::create_dir_all(dir).map_err(|e| Failure::Usage(format!("--output-dir {}: {e}", dir.display())))?;
        for (name, text) in [
            ("conformance-pack.yaml", &pack),
            ("scp.json", &scp),
            ("ROLLOUT.txt", &rollout),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
        }
        emit(|out| {
            writeln!(
                out,
                "Wrote conformance-pack.yaml, scp.json and ROLLOUT.txt to {}\n",
                dir.display()
            )?;
            out.write_all(rollout.as_bytes())
        })?;
    }
    Ok(EXIT_CLEAN)
}

pub fn diff(
    old: &Path,
    new: &Path,
    json: bool,
    filter: &netaudit_report::ResultFilter,
    output: &crate::output::OutputArg,
) -> Result<u8, Failure> {
    let read = |path: &Path| -> Result<netaudit_report::SavedReport, Failure> {
        let text = std::fs::read_to_string(path).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
        netaudit_report::SavedReport::parse(&text).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))
    };
    let (mut before, mut after) = (read(old)?, read(new)?);
    let unfiltered_new = netaudit_report::diff::diff(&before.results, &after.results).new_count();
    // One severity per control for both sides: the newer report's, so a control whose severity
    // changed between the scans is selected or left out on both.
    let severities: BTreeMap<String, netaudit_checks::Severity> = before
        .controls
        .iter()
        .chain(&after.controls)
        .map(|c| (c.id.clone(), c.severity))
        .collect();
    let severity_of = |id: &str| severities.get(id).copied();
    before.retain_scope(filter, severity_of);
    after.retain_scope(filter, severity_of);
    let mut d = netaudit_report::diff::diff(&before.results, &after.results);
    d.retain_statuses(&filter.statuses);
    let hidden = unfiltered_new.saturating_sub(d.new_count());
    if hidden > 0 {
        note!("netaudit: {hidden} new open result(s) are outside the filter (and do not count in the exit code)");
    }
    output.write(|out| {
        if json {
            serde_json::to_writer_pretty(&mut *out, &d).map_err(io::Error::from)?;
            writeln!(out)
        } else {
            netaudit_report::diff::render_table(&d, out)
        }
    })?;
    // New open results fail a CI step, like a new failure in a scan.
    Ok(if d.new_count() > 0 { EXIT_FAILURES } else { EXIT_CLEAN })
}
