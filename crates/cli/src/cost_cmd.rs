//! `netaudit cost`: what flow logs on every VPC will cost a month, per destination; and the
//! estimate `fix plan` shows for the flow logs it plans.

use crate::{report_errors, Failure, LiveArgs, EXIT_CLEAN, EXIT_INCOMPLETE};
use clap::ValueEnum;
use netaudit_cost::measure::VpcSubject;
use netaudit_cost::{cents, Destination, Prices, TrafficType, Variant, Volume, BYTES_PER_GB};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct CostArgs {
    /// Read offline evidence (see `scan --evidence`) instead of live AWS.
    #[arg(long, value_name = "DIR")]
    evidence: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) live: LiveArgs,
    /// Flow-log text a day (GB) of ALL traffic at the --aggregation-interval asked for, for every
    /// VPC selected.
    #[arg(long, value_name = "GB", value_parser = positive_gb, conflicts_with = "flows")]
    gb_per_day: Option<f64>,
    /// A flow-log sample (text, plain or gzip) that measures every VPC's volume: its bytes a day,
    /// REJECT share and aggregation interval.
    #[arg(long, value_name = "FILE")]
    flows: Option<PathBuf>,
    /// The sample's format when it has no header line (`${field}` tokens); default: the default format.
    #[arg(long, value_name = "FORMAT", requires = "flows")]
    log_format: Option<String>,
    /// The destination to estimate.
    #[arg(long, value_enum, default_value_t = DestinationArg::All)]
    destination: DestinationArg,
    /// The traffic the flow logs capture.
    #[arg(long, value_enum, ignore_case = true, default_value = "ALL")]
    traffic_type: TrafficArg,
    /// Flow-log aggregation interval in seconds: 60 or 600.
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = crate::fix_cmd::aggregation_interval)]
    aggregation_interval: i32,
    /// How long the logs are kept: storage is what this many days of logs take.
    #[arg(long, value_name = "DAYS", default_value_t = 365, value_parser = crate::fix_cmd::retention_days)]
    retention_days: i32,
    /// Prices merged over the built-in ones (same shape as crates/cost/prices.toml; any subset).
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
    /// The estimate's format.
    #[arg(long, value_enum, default_value_t = CostFormat::Table)]
    pub(crate) format: CostFormat,
    #[command(flatten)]
    output: crate::output::OutputArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DestinationArg {
    CloudWatchLogs,
    S3,
    S3Parquet,
    Firehose,
    All,
}

impl DestinationArg {
    fn destinations(self) -> Vec<Destination> {
        match self {
            DestinationArg::CloudWatchLogs => vec![Destination::CloudWatchLogs],
            DestinationArg::S3 => vec![Destination::S3],
            DestinationArg::S3Parquet => vec![Destination::S3Parquet],
            DestinationArg::Firehose => vec![Destination::Firehose],
            DestinationArg::All => Destination::ALL.to_vec(),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TrafficArg {
    #[value(name = "ALL")]
    All,
    #[value(name = "REJECT")]
    Reject,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CostFormat {
    Table,
    Json,
    Csv,
}

fn positive_gb(value: &str) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(gb) if gb.is_finite() && gb > 0.0 => Ok(gb),
        _ => Err("a number of GB above 0".into()),
    }
}

/// The column heading of a destination.
fn heading(destination: Destination) -> &'static str {
    match destination {
        Destination::CloudWatchLogs => "CLOUDWATCH LOGS",
        Destination::S3 => "S3",
        Destination::S3Parquet => "S3 PARQUET",
        Destination::Firehose => "FIREHOSE",
    }
}

/// One VPC's line of the estimate.
#[derive(Debug, Serialize)]
struct Row {
    vpc_id: String,
    name: Option<String>,
    account_id: String,
    region: String,
    /// Destination types of the VPC's active flow logs.
    flow_logs: Vec<String>,
    /// `gb-per-day`, `flows`, `stored-bytes` or `unknown`.
    basis_kind: &'static str,
    basis: String,
    measured: Option<Volume>,
    /// The volume the flow log asked for would make (GB of text a day).
    gb_per_day: Option<f64>,
    scaling: Vec<String>,
    prices_region: String,
    /// Per destination, USD a month; null when the volume is unknown.
    monthly_usd: Option<Map<String, Value>>,
}

#[derive(Debug, Serialize)]
struct Total {
    vpcs_with_volume: usize,
    vpcs_volume_unknown: usize,
    monthly_usd: Map<String, Value>,
}

#[derive(Debug, Serialize)]
struct CostReport<'a> {
    prices_as_of: &'a str,
    prices_overridden_by: &'a [String],
    variant: Variant,
    destinations: Vec<&'static str>,
    vpcs: Vec<Row>,
    total: Total,
    /// Per price region and destination: USD a month per GB a day of flow-log text.
    unit_costs: BTreeMap<String, Map<String, Value>>,
    assumptions: &'a netaudit_cost::Assumptions,
    prices: BTreeMap<String, &'a netaudit_cost::RegionPrices>,
    /// Regions whose VPCs could not be read, and other problems.
    notes: Vec<String>,
}

fn usd_map(costs: impl IntoIterator<Item = (Destination, f64)>) -> Map<String, Value> {
    costs
        .into_iter()
        .map(|(d, usd)| (d.name().to_owned(), Value::from(cents(usd))))
        .collect()
}

/// Monthly USD per GB a day at these prices.
fn unit_costs(
    prices: &netaudit_cost::RegionPrices,
    assumptions: &netaudit_cost::Assumptions,
    variant: &Variant,
    destinations: &[Destination],
) -> Map<String, Value> {
    let costs = netaudit_cost::monthly_costs(1.0, variant.retention_days, prices, assumptions, destinations);
    usd_map(costs.iter().map(|c| (c.destination, c.monthly_usd)))
}

/// The built-in prices, with `--prices FILE` merged over them.
fn load_prices(path: Option<&Path>) -> Result<Prices, Failure> {
    let mut prices = Prices::built_in().map_err(|e| Failure::Internal(e.to_string()))?;
    if let Some(path) = path {
        let text =
            std::fs::read_to_string(path).map_err(|e| Failure::Usage(format!("--prices {}: {e}", path.display())))?;
        prices
            .merge_file(&path.display().to_string(), &text)
            .map_err(|e| Failure::Usage(format!("--prices {e}")))?;
    }
    Ok(prices)
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub fn run(args: &CostArgs) -> Result<u8, Failure> {
    let prices = load_prices(args.prices.as_deref())?;
    let variant = Variant {
        traffic_type: match args.traffic_type {
            TrafficArg::All => TrafficType::All,
            TrafficArg::Reject => TrafficType::Reject,
        },
        interval_seconds: u32::try_from(args.aggregation_interval).unwrap_or(600),
        retention_days: u32::try_from(args.retention_days).unwrap_or(365),
    };
    let destinations = args.destination.destinations();
    let given: Option<(&'static str, Volume)> = match (args.gb_per_day, &args.flows) {
        (Some(gb), _) => Some((
            "gb-per-day",
            Volume {
                gb_per_day: gb,
                traffic_type: TrafficType::All,
                interval_seconds: variant.interval_seconds,
                reject_share: None,
                basis: format!("--gb-per-day {gb} (ALL traffic at {} s)", variant.interval_seconds),
            },
        )),
        (None, Some(path)) => Some(("flows", measure_sample(path, args.log_format.as_deref())?)),
        (None, None) => None,
    };
    let (inventory, errors) = crate::fix_cmd::read_inventory(args.evidence.as_deref(), &args.live)?;
    report_errors(&errors);
    let mut notes: Vec<String> = errors.clone();
    for account in &inventory.accounts {
        for region in &account.region_data {
            if let Err(gap) = &region.vpcs {
                notes.push(format!(
                    "{} {}: VPCs not read, so not estimated: {gap}",
                    account.account_id, region.region
                ));
            }
        }
    }
    let subjects = netaudit_cost::measure::vpcs(&inventory, now_ms());
    let mut rows = vec![];
    let mut used_prices = BTreeMap::new();
    let mut totals: BTreeMap<Destination, f64> = destinations.iter().map(|d| (*d, 0.0)).collect();
    for subject in subjects {
        let Some(pricing) = prices.for_region(&subject.region) else {
            return Err(Failure::Internal("no us-east-1 prices".into()));
        };
        used_prices.insert(pricing.region.to_owned(), pricing.prices);
        let (kind, volume) = match &given {
            Some((kind, volume)) => (*kind, Ok(volume.clone())),
            None => ("stored-bytes", subject.volume.clone()),
        };
        let row = match volume {
            Ok(volume) => {
                let estimate =
                    netaudit_cost::estimate(&volume, &variant, pricing.prices, &prices.assumptions, &destinations);
                for cost in &estimate.costs {
                    *totals.entry(cost.destination).or_default() += cost.monthly_usd;
                }
                Row {
                    basis_kind: kind,
                    basis: volume.basis.clone(),
                    measured: Some(volume),
                    gb_per_day: Some(estimate.gb_per_day),
                    scaling: estimate.scaling,
                    monthly_usd: Some(usd_map(estimate.costs.iter().map(|c| (c.destination, c.monthly_usd)))),
                    ..row_of(subject, pricing.region)
                }
            }
            Err(why) => Row {
                basis_kind: "unknown",
                basis: why,
                ..row_of(subject, pricing.region)
            },
        };
        rows.push(row);
    }
    let known = rows.iter().filter(|r| r.monthly_usd.is_some()).count();
    let report = CostReport {
        prices_as_of: &prices.as_of,
        prices_overridden_by: &prices.overridden_by,
        variant,
        destinations: destinations.iter().map(|d| d.name()).collect(),
        total: Total {
            vpcs_with_volume: known,
            vpcs_volume_unknown: rows.len() - known,
            monthly_usd: usd_map(totals),
        },
        vpcs: rows,
        unit_costs: used_prices
            .iter()
            .map(|(region, p)| {
                (
                    region.clone(),
                    unit_costs(p, &prices.assumptions, &variant, &destinations),
                )
            })
            .collect(),
        assumptions: &prices.assumptions,
        prices: used_prices,
        notes,
    };
    match args.format {
        CostFormat::Json => {
            let text = serde_json::to_string_pretty(&report).map_err(|e| Failure::Internal(e.to_string()))?;
            args.output.write(|out| writeln!(out, "{text}"))?;
        }
        CostFormat::Csv => {
            let mut bytes = vec![];
            write_csv(&report, &destinations, &mut bytes).map_err(|e| Failure::Internal(e.to_string()))?;
            args.output.write(|out| out.write_all(&bytes))?;
        }
        CostFormat::Table => {
            let text = table(&report, &destinations);
            args.output.write(|out| out.write_all(text.as_bytes()))?;
        }
    }
    Ok(if report.notes.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_INCOMPLETE
    })
}

fn row_of(subject: VpcSubject, prices_region: &str) -> Row {
    Row {
        vpc_id: subject.vpc_id,
        name: subject.name,
        account_id: subject.account_id,
        region: subject.region,
        flow_logs: subject.flow_log_destinations,
        basis_kind: "unknown",
        basis: String::new(),
        measured: None,
        gb_per_day: None,
        scaling: vec![],
        prices_region: prices_region.to_owned(),
        monthly_usd: None,
    }
}

/// GB a day with three significant digits (a quiet VPC makes a few MB a day).
fn gb_text(gb: f64) -> String {
    let decimals = if gb >= 100.0 {
        0
    } else {
        // Digits after the point so that three significant ones show.
        (2 - gb.log10().floor() as i64).clamp(1, 9) as usize
    };
    format!("{gb:.decimals$}")
}

fn dollars(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_f64)
        .map_or("-".to_owned(), |usd| format!("${usd:.2}"))
}

fn table(report: &CostReport, destinations: &[Destination]) -> String {
    let v = &report.variant;
    let mut out = format!(
        "Estimated cost of VPC flow logs, USD a month: {} traffic, {} s aggregation, kept {} days \
         (prices as of {}{})\n\n",
        v.traffic_type.name(),
        v.interval_seconds,
        v.retention_days,
        report.prices_as_of,
        if report.prices_overridden_by.is_empty() {
            String::new()
        } else {
            format!(", with {}", report.prices_overridden_by.join(", "))
        }
    );
    let borrowed: Vec<String> = report
        .vpcs
        .iter()
        .filter(|r| r.prices_region != r.region)
        .map(|r| r.region.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !borrowed.is_empty() {
        out.push_str(&format!(
            "Regions without prices of their own are priced at {}'s: {} (give them with --prices FILE)\n\n",
            netaudit_cost::prices::BASE_REGION,
            borrowed.join(", ")
        ));
    }
    let mut header: Vec<String> = ["VPC", "NAME", "ACCOUNT", "REGION", "FLOW LOGS", "BASIS", "GB/DAY"]
        .iter()
        .map(|h| (*h).to_owned())
        .collect();
    header.extend(destinations.iter().map(|d| heading(*d).to_owned()));
    let mut lines = vec![header];
    for row in &report.vpcs {
        let mut line = vec![
            row.vpc_id.clone(),
            row.name.clone().unwrap_or_else(|| "-".into()),
            row.account_id.clone(),
            row.region.clone(),
            if row.flow_logs.is_empty() {
                "none".into()
            } else {
                row.flow_logs.join(",")
            },
            row.basis_kind.to_owned(),
            row.gb_per_day.map_or("volume unknown".into(), gb_text),
        ];
        line.extend(
            destinations
                .iter()
                .map(|d| dollars(row.monthly_usd.as_ref().and_then(|m| m.get(d.name())))),
        );
        lines.push(line);
    }
    let mut total = vec![
        format!(
            "TOTAL ({} of {} VPCs; {} volume unknown)",
            report.total.vpcs_with_volume,
            report.vpcs.len(),
            report.total.vpcs_volume_unknown
        ),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ];
    total.extend(
        destinations
            .iter()
            .map(|d| dollars(report.total.monthly_usd.get(d.name()))),
    );
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|i| lines.iter().map(|l| l[i].chars().count()).max().unwrap_or(0))
        .collect();
    let numeric = |i: usize| i >= 6;
    let render = |line: &[String], out: &mut String| {
        let cells: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if numeric(i) {
                    format!("{cell:>width$}", width = widths[i])
                } else {
                    format!("{cell:<width$}", width = widths[i])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    };
    for line in &lines {
        render(line, &mut out);
    }
    // The total's label spans the text columns.
    let label_width: usize = widths[..7].iter().sum::<usize>() + 2 * 6;
    let mut total_line = format!("{:<label_width$}", total[0]);
    for (i, cell) in total.iter().enumerate().skip(7) {
        total_line.push_str(&format!("  {cell:>width$}", width = widths[i]));
    }
    out.push_str(total_line.trim_end());
    out.push('\n');
    out.push_str("\nBasis:\n");
    for row in &report.vpcs {
        out.push_str(&format!(
            "  {} ({} {}): {}\n",
            row.vpc_id, row.account_id, row.region, row.basis
        ));
        for step in &row.scaling {
            out.push_str(&format!("      scaled: {step}\n"));
        }
    }
    if report.vpcs.iter().any(|r| r.monthly_usd.is_none()) {
        out.push_str("\nUnit costs, USD a month per GB a day of flow-log text (for a VPC whose volume is unknown):\n");
        for (region, costs) in &report.unit_costs {
            let list: Vec<String> = destinations
                .iter()
                .map(|d| format!("{} {}", heading(*d), dollars(costs.get(d.name()))))
                .collect();
            out.push_str(&format!("  {region} prices: {}\n", list.join(", ")));
        }
    }
    let a = report.assumptions;
    out.push_str(&format!(
        "\nAssumed (prices file [assumptions]; --format json says why): REJECT share {} unless measured, 600 s \
         aggregation makes {} of the records of 60 s, stored compressed at {} of the text, Parquet {} of gzip \
         text. Storage is what {} days keep once full; vended-log prices are the first tier's; Firehose's \
         destination is not included.\n",
        a.reject_share.value,
        a.aggregation_600_record_factor.value,
        a.compressed_share.value,
        a.parquet_share_of_gzip.value,
        report.variant.retention_days
    ));
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

fn write_csv(report: &CostReport, destinations: &[Destination], out: &mut Vec<u8>) -> csv::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    let mut header: Vec<String> = [
        "vpc_id",
        "name",
        "account_id",
        "region",
        "flow_logs",
        "basis_kind",
        "basis",
        "gb_per_day",
    ]
    .iter()
    .map(|h| (*h).to_owned())
    .collect();
    header.extend(
        destinations
            .iter()
            .map(|d| format!("{}_usd_month", d.name().replace('-', "_"))),
    );
    header.push("prices_as_of".into());
    writer.write_record(&header)?;
    let money = |m: Option<&Map<String, Value>>, d: &Destination| {
        m.and_then(|m| m.get(d.name()))
            .and_then(Value::as_f64)
            .map_or(String::new(), |usd| format!("{usd:.2}"))
    };
    for row in &report.vpcs {
        let mut record = vec![
            row.vpc_id.clone(),
            row.name.clone().unwrap_or_default(),
            row.account_id.clone(),
            row.region.clone(),
            row.flow_logs.join(" "),
            row.basis_kind.to_owned(),
            row.basis.clone(),
            row.gb_per_day.map_or(String::new(), |gb| gb.to_string()),
        ];
        record.extend(destinations.iter().map(|d| money(row.monthly_usd.as_ref(), d)));
        record.push(report.prices_as_of.to_owned());
        writer.write_record(&record)?;
    }
    let mut total = vec![
        "TOTAL".to_owned(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        format!(
            "{} VPCs with a volume; {} volume unknown",
            report.total.vpcs_with_volume, report.total.vpcs_volume_unknown
        ),
        String::new(),
    ];
    total.extend(destinations.iter().map(|d| money(Some(&report.total.monthly_usd), d)));
    total.push(report.prices_as_of.to_owned());
    writer.write_record(&total)?;
    writer.flush()?;
    Ok(())
}

/// Measure a flow-log sample: text bytes a day over the time it covers, the REJECT share, and the
/// aggregation interval its records show.
fn measure_sample(path: &Path, log_format: Option<&str>) -> Result<Volume, Failure> {
    use netaudit_logs::{FlowColumns, FlowFormat, FlowReadOptions, FlowTextReader, Input, Issues};
    let named = |e: &dyn std::fmt::Display| Failure::Usage(format!("--flows {}: {e}", path.display()));
    let format = match log_format {
        Some(text) => FlowFormat::parse_aws(text).map_err(|e| Failure::Usage(format!("--log-format: {e}")))?,
        None => FlowFormat::default_v2(),
    };
    let (text, cut) = Input::File(path.to_owned()).read_to_vec().map_err(|e| named(&e))?;
    if let Some(e) = cut {
        return Err(named(&format!("cut short: {e}")));
    }
    // A header line (S3 files) is not a record.
    let first_line_end = memchr_newline(&text);
    let header_bytes = match FlowFormat::from_header(text[..first_line_end].trim_ascii_end()) {
        Some(_) => (first_line_end + 1).min(text.len()),
        None => 0,
    };
    let text_bytes = text.len() - header_bytes;
    let columns = FlowColumns::all_documented();
    let projection: Vec<usize> = ["start", "end", "action"]
        .iter()
        .filter_map(|name| columns.index_of(name))
        .collect();
    let options = FlowReadOptions {
        format,
        columns,
        projection: Some(projection),
        ..FlowReadOptions::default()
    };
    let schema = options.schema();
    let issues = Issues::new();
    let mut reader = FlowTextReader::new(
        path.display().to_string(),
        Box::new(std::io::Cursor::new(text)),
        options,
        issues.clone(),
    )
    .map_err(|e| named(&e))?;
    let (mut accepts, mut rejects, mut records) = (0u64, 0u64, 0u64);
    let (mut first, mut last, mut longest) = (i64::MAX, i64::MIN, 0i64);
    while let Some(batch) = reader.next_batch().map_err(|e| named(&e))? {
        for row in netaudit_logs::render::rows_as_json(&schema, &[batch]).map_err(|e| named(&e))? {
            records += 1;
            match row.get("action").and_then(Value::as_str) {
                Some("ACCEPT") => accepts += 1,
                Some("REJECT") => rejects += 1,
                _ => {}
            }
            if let (Some(start), Some(end)) = (
                row.get("start").and_then(Value::as_i64),
                row.get("end").and_then(Value::as_i64),
            ) {
                first = first.min(start);
                last = last.max(end);
                longest = longest.max(end - start);
            }
        }
    }
    if issues.count() > 0 {
        note!(
            "netaudit: warning: --flows {}: {} line(s) could not be read and are left out of the record counts (first: {})",
            path.display(),
            issues.count(),
            issues.list().first().map_or(String::new(), ToString::to_string)
        );
    }
    if records == 0 || last <= first {
        return Err(named(&"no flow records with a time span to measure a day by"));
    }
    let span_days = (last - first) as f64 / 86_400.0;
    let (traffic_type, reject_share, traffic_note) = match (accepts, rejects) {
        (0, 0) => (
            TrafficType::All,
            None,
            "no ACCEPT or REJECT records: taken as ALL traffic".to_owned(),
        ),
        (0, _) => (
            TrafficType::Reject,
            None,
            "only REJECT records: taken as a REJECT-only capture".to_owned(),
        ),
        (_, 0) => (
            TrafficType::Accept,
            None,
            "no REJECT records: taken as an ACCEPT-only capture".to_owned(),
        ),
        (a, r) => {
            let share = r as f64 / (a + r) as f64;
            (
                TrafficType::All,
                Some(share),
                format!(
                    "{r} of {} ACCEPT/REJECT records are REJECT ({:.1}%)",
                    a + r,
                    share * 100.0
                ),
            )
        }
    };
    // A 60 s flow log never writes a record longer than a minute (a little slack for clock edges).
    let interval_seconds = if longest > 70 { 600 } else { 60 };
    Ok(Volume {
        gb_per_day: text_bytes as f64 / BYTES_PER_GB / span_days,
        traffic_type,
        interval_seconds,
        reject_share,
        basis: format!(
            "--flows {}: {text_bytes} bytes of text in {records} records over {:.2} hours; {traffic_note}; the \
             longest record spans {longest} s, so taken as {interval_seconds} s aggregation",
            path.display(),
            (last - first) as f64 / 3600.0
        ),
    })
}

fn memchr_newline(text: &[u8]) -> usize {
    text.iter().position(|b| *b == b'\n').unwrap_or(text.len())
}

/// The monthly cost of the flow logs a plan creates, per batch and in total.
#[derive(Debug, Serialize)]
pub struct PlanEstimate {
    prices_as_of: String,
    batches: Vec<BatchEstimate>,
    flow_logs: usize,
    with_volume: usize,
    monthly_usd: f64,
    /// The VPCs whose volume is unknown: no figure for them.
    volume_unknown: Vec<String>,
    /// USD a month per GB a day of flow-log text, per destination planned, at the built-in prices.
    unit_monthly_usd_per_gb_per_day: Map<String, Value>,
}

#[derive(Debug, Serialize)]
struct BatchEstimate {
    account_id: String,
    region: String,
    destination: &'static str,
    flow_logs: usize,
    with_volume: usize,
    monthly_usd: f64,
}

/// The estimate for the flow logs `plan` creates, from the volumes the scan measured; `None` when
/// it creates none.
pub fn plan_estimate(plan: &netaudit_fix::Plan, vpcs: &[VpcSubject]) -> Result<Option<PlanEstimate>, Failure> {
    use netaudit_fix::{Action, FlowLogDestination};
    let prices = load_prices(None)?;
    let retention_days = u32::try_from(plan.options.retention_days).unwrap_or(365);
    let mut batches = vec![];
    let mut unknown = vec![];
    let mut units = Map::new();
    for batch in &plan.batches {
        let Some(pricing) = prices.for_region(&batch.region) else {
            continue;
        };
        let mut per_destination: BTreeMap<Destination, BatchEstimate> = BTreeMap::new();
        for step in &batch.steps {
            let Action::CreateFlowLog {
                vpc_id,
                traffic_type,
                max_aggregation_interval,
                destination,
            } = &step.action
            else {
                continue;
            };
            let destination = match destination {
                FlowLogDestination::CloudWatchLogs { .. } => Destination::CloudWatchLogs,
                FlowLogDestination::S3 { .. } => Destination::S3,
                FlowLogDestination::KinesisDataFirehose { .. } => Destination::Firehose,
            };
            let variant = Variant {
                traffic_type: TrafficType::parse(traffic_type).unwrap_or(TrafficType::All),
                interval_seconds: u32::try_from(*max_aggregation_interval).unwrap_or(600),
                retention_days,
            };
            let entry = per_destination.entry(destination).or_insert_with(|| BatchEstimate {
                account_id: batch.account_id.clone(),
                region: batch.region.clone(),
                destination: destination.name(),
                flow_logs: 0,
                with_volume: 0,
                monthly_usd: 0.0,
            });
            entry.flow_logs += 1;
            let unit =
                netaudit_cost::monthly_costs(1.0, retention_days, pricing.prices, &prices.assumptions, &[destination]);
            units.insert(
                destination.name().to_owned(),
                Value::from(cents(unit.first().map_or(0.0, |c| c.monthly_usd))),
            );
            let volume = vpcs
                .iter()
                .find(|v| v.account_id == batch.account_id && v.region == batch.region && &v.vpc_id == vpc_id)
                .and_then(|v| v.volume.as_ref().ok());
            match volume {
                Some(volume) => {
                    let estimate =
                        netaudit_cost::estimate(volume, &variant, pricing.prices, &prices.assumptions, &[destination]);
                    entry.with_volume += 1;
                    entry.monthly_usd += estimate.costs.iter().map(|c| c.monthly_usd).sum::<f64>();
                }
                None => unknown.push(vpc_id.clone()),
            }
        }
        batches.extend(per_destination.into_values().map(|mut b| {
            b.monthly_usd = cents(b.monthly_usd);
            b
        }));
    }
    if batches.is_empty() {
        return Ok(None);
    }
    Ok(Some(PlanEstimate {
        prices_as_of: prices.as_of.clone(),
        flow_logs: batches.iter().map(|b| b.flow_logs).sum(),
        with_volume: batches.iter().map(|b| b.with_volume).sum(),
        monthly_usd: cents(batches.iter().map(|b| b.monthly_usd).sum()),
        batches,
        volume_unknown: unknown,
        unit_monthly_usd_per_gb_per_day: units,
    }))
}

impl PlanEstimate {
    /// The estimate as lines under a plan's table.
    pub fn text(&self) -> String {
        let mut out = format!(
            "\nEstimated cost of the new flow logs (USD a month, prices as of {}; `netaudit cost` has the detail):\n",
            self.prices_as_of
        );
        let describe = |flow_logs: usize, with_volume: usize, usd: f64| {
            let unknown = flow_logs - with_volume;
            match (with_volume, unknown) {
                (0, _) => format!("{flow_logs} flow log(s): volume unknown"),
                (_, 0) => format!("{flow_logs} flow log(s): ${usd:.2}"),
                _ => format!("{flow_logs} flow log(s): ${usd:.2} for {with_volume}; {unknown} volume unknown"),
            }
        };
        for b in &self.batches {
            out.push_str(&format!(
                "  {} {} to {}: {}\n",
                b.account_id,
                b.region,
                b.destination,
                describe(b.flow_logs, b.with_volume, b.monthly_usd)
            ));
        }
        out.push_str(&format!(
            "  total: {}\n",
            describe(self.flow_logs, self.with_volume, self.monthly_usd)
        ));
        if !self.volume_unknown.is_empty() {
            let units: Vec<String> = self
                .unit_monthly_usd_per_gb_per_day
                .iter()
                .map(|(d, usd)| format!("{d} ${:.2}", usd.as_f64().unwrap_or(0.0)))
                .collect();
            out.push_str(&format!(
                "  volume unknown: no flow log to CloudWatch Logs measures it; each GB a day of flow-log text \
                 costs {} a month\n",
                units.join(", ")
            ));
        }
        out
    }
}
