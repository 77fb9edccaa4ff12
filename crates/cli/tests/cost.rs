//! `netaudit cost` through the binary, offline: given, sampled and stored volumes, price files,
//! and VPCs whose volume nothing measures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use binary::{estate, netaudit, run};
use serde_json::Value;
use std::path::Path;

const GB: f64 = 1_073_741_824.0;
const DAYS_PER_MONTH: f64 = 365.0 / 12.0;

fn cost_json(args: &[&str]) -> Value {
    let (out, err, code) = run(netaudit()
        .arg("cost")
        .arg("--evidence")
        .arg(estate())
        .args(args)
        .args(["--format", "json"]));
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn vpc<'a>(report: &'a Value, account: &str, vpc_id: &str) -> &'a Value {
    report["vpcs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["account_id"] == account && v["vpc_id"] == vpc_id)
        .unwrap_or_else(|| panic!("{vpc_id} not in {report}"))
}

fn usd(v: &Value, destination: &str) -> f64 {
    v["monthly_usd"][destination]
        .as_f64()
        .unwrap_or_else(|| panic!("{destination} in {v}"))
}

fn cents(usd: f64) -> f64 {
    (usd * 100.0).round() / 100.0
}

#[test]
fn a_given_volume_is_priced_per_vpc_and_destination_in_the_table_and_json() {
    // 5 GB a day of ALL traffic at 600 s, kept 365 days, us-east-1 list prices:
    //   a month is 5 × 365/12 = 152.083333 GB; kept: 5 × 365 × 0.15 = 273.75 GB compressed.
    //   CloudWatch Logs: 152.083333 × 0.50 = 76.041667 + 273.75 × 0.03  = 8.2125   → 84.25
    //   S3 text:         152.083333 × 0.25 = 38.020833 + 273.75 × 0.023 = 6.29625  → 44.32
    //   S3 Parquet:      152.083333 × 0.28 = 42.583333 + 273.75 × 0.8 × 0.023 = 5.037 → 47.62
    //   Firehose:        152.083333 × 0.38 = 57.791667                              → 57.79
    let report = cost_json(&["--gb-per-day", "5"]);
    assert_eq!(report["prices_as_of"].as_str().map(str::len), Some(10));
    let vpcs = report["vpcs"].as_array().unwrap();
    assert!(vpcs.len() >= 10, "{report}");
    for v in vpcs {
        assert_eq!(v["basis_kind"], "gb-per-day");
        assert_eq!(
            [
                usd(v, "cloud-watch-logs"),
                usd(v, "s3"),
                usd(v, "s3-parquet"),
                usd(v, "firehose")
            ],
            [84.25, 44.32, 47.62, 57.79],
            "{v}"
        );
    }
    // The total adds the unrounded figures: 84.254167 per VPC.
    let total = report["total"]["monthly_usd"]["cloud-watch-logs"].as_f64().unwrap();
    assert_eq!(total, cents(84.254_166_67 * vpcs.len() as f64));
    assert_eq!(report["total"]["vpcs_volume_unknown"], 0);

    let (table, err, code) = run(netaudit()
        .arg("cost")
        .arg("--evidence")
        .arg(estate())
        .args(["--gb-per-day", "5"]));
    assert_eq!(code, 0, "{err}");
    let prod = table.lines().find(|l| l.starts_with("vpc-0a1b2c3d4e5f60001")).unwrap();
    for cell in [
        "prod",
        "111111111111",
        "us-east-1",
        "gb-per-day",
        "5.00",
        "$84.25",
        "$44.32",
        "$47.62",
        "$57.79",
    ] {
        assert!(prod.contains(cell), "{cell}: {prod}");
    }
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&format!("TOTAL ({n} of {n} VPCs", n = vpcs.len()))),
        "{table}"
    );

    // REJECT at 60 s: 5 × 0.1 (the stated default REJECT share) = 0.5 GB a day, no interval change.
    //   CloudWatch Logs: 0.5 × 365/12 × 0.50 = 7.604167 + 0.5 × 365 × 0.15 × 0.03 = 0.82125 → 8.43
    let reject = cost_json(&[
        "--gb-per-day",
        "5",
        "--traffic-type",
        "REJECT",
        "--aggregation-interval",
        "60",
        "--destination",
        "cloud-watch-logs",
    ]);
    let prod = vpc(&reject, "111111111111", "vpc-0a1b2c3d4e5f60001");
    assert_eq!(usd(prod, "cloud-watch-logs"), 8.43);
    assert_eq!(prod["monthly_usd"].as_object().unwrap().len(), 1, "{prod}");
    assert!(
        prod["scaling"][0]
            .as_str()
            .unwrap()
            .contains("REJECT is 0.1 of ALL (assumed)"),
        "{prod}"
    );
}

/// One record in the default format, `action` over `start`..`end`.
fn record(action: &str, start: i64, end: i64) -> String {
    format!("2 111111111111 eni-0a1b2c3d 10.0.1.5 10.0.2.9 44321 443 6 10 8400 {start} {end} {action} OK\n")
}

#[test]
fn a_flow_sample_measures_bytes_a_day_and_the_reject_share() {
    // Four records over 100 s, one REJECT, none longer than a minute: a 60 s capture of ALL traffic.
    let t = 1_717_977_600;
    let text = [
        record("ACCEPT", t, t + 40),
        record("REJECT", t + 30, t + 60),
        record("ACCEPT", t + 50, t + 100),
        record("ACCEPT", t + 60, t + 90),
    ]
    .concat();
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("sample.log");
    std::fs::write(&sample, &text).unwrap();
    let report = cost_json(&[
        "--flows",
        sample.to_str().unwrap(),
        "--traffic-type",
        "REJECT",
        "--aggregation-interval",
        "60",
    ]);
    let v = vpc(&report, "111111111111", "vpc-0a1b2c3d4e5f60002");
    assert_eq!(v["basis_kind"], "flows");
    assert_eq!(v["measured"]["reject_share"], 0.25);
    assert_eq!(v["measured"]["interval_seconds"], 60);
    // text.len() bytes in 100 s → × 864 a day; REJECT is a quarter of it.
    let measured = text.len() as f64 * 864.0 / GB;
    assert!(
        (v["measured"]["gb_per_day"].as_f64().unwrap() - measured).abs() < 1e-12,
        "{v}"
    );
    let gb = measured * 0.25;
    assert!((v["gb_per_day"].as_f64().unwrap() - gb).abs() < 1e-12, "{v}");
    // A month's ingestion at $0.50 plus 365 days kept at 0.15 compressed, $0.03 a GB-month.
    assert_eq!(
        usd(v, "cloud-watch-logs"),
        cents(gb * DAYS_PER_MONTH * 0.50 + gb * 365.0 * 0.15 * 0.03)
    );
    assert!(
        v["basis"]
            .as_str()
            .unwrap()
            .contains("1 of 4 ACCEPT/REJECT records are REJECT"),
        "{v}"
    );

    // The same, gzip: the text is measured, not the compressed file.
    let gz = dir.path().join("sample.log.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, text.as_bytes()).unwrap();
    std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
    let zipped = cost_json(&[
        "--flows",
        gz.to_str().unwrap(),
        "--traffic-type",
        "REJECT",
        "--aggregation-interval",
        "60",
    ]);
    assert_eq!(
        vpc(&zipped, "111111111111", "vpc-0a1b2c3d4e5f60002")["gb_per_day"],
        v["gb_per_day"]
    );
}

#[test]
fn a_generated_sample_is_measured_as_its_lines_say() {
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("flows.log");
    let (_, err, code) = run(netaudit()
        .args([
            "logs",
            "generate",
            "--records",
            "3000",
            "--hours",
            "6",
            "--incident",
            "port-scan",
            "-o",
        ])
        .arg(&sample));
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&sample).unwrap();
    let (mut accepts, mut rejects, mut first, mut last, mut longest) = (0u64, 0u64, i64::MAX, i64::MIN, 0i64);
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let (start, end): (i64, i64) = (f[10].parse().unwrap(), f[11].parse().unwrap());
        first = first.min(start);
        last = last.max(end);
        longest = longest.max(end - start);
        match f[12] {
            "ACCEPT" => accepts += 1,
            "REJECT" => rejects += 1,
            _ => {}
        }
    }
    assert!(accepts > 0 && rejects > 0);
    let report = cost_json(&["--flows", sample.to_str().unwrap(), "--destination", "s3"]);
    let v = vpc(&report, "222222222222", "vpc-0c9d8e7f6a5b40001");
    let share = rejects as f64 / (accepts + rejects) as f64;
    assert!(
        (v["measured"]["reject_share"].as_f64().unwrap() - share).abs() < 1e-12,
        "{v}"
    );
    let gb_per_day = text.len() as f64 / GB / ((last - first) as f64 / 86_400.0);
    assert!(
        (v["measured"]["gb_per_day"].as_f64().unwrap() - gb_per_day).abs() < 1e-12,
        "{v}"
    );
    let interval = if longest > 70 { 600 } else { 60 };
    assert_eq!(v["measured"]["interval_seconds"], interval, "{v}");
}

fn prices_file(dir: &Path, text: &str) -> String {
    let path = dir.join("prices.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn a_prices_file_overrides_the_built_in_figures_where_it_says() {
    let dir = tempfile::tempdir().unwrap();
    let file = prices_file(
        dir.path(),
        "as_of = \"2027-01-15\"\n[regions.eu-west-1.cloudwatch_logs_ingestion_per_gb]\nusd = 1.00\nsource = \"my contract\"\n",
    );
    let report = cost_json(&[
        "--gb-per-day",
        "5",
        "--prices",
        &file,
        "--destination",
        "cloud-watch-logs",
    ]);
    assert_eq!(report["prices_as_of"], "2027-01-15");
    assert_eq!(report["prices_overridden_by"][0], file.as_str());
    // eu-west-1 at $1.00 a GB: 152.083333 × 1.00 + 273.75 × 0.03 (storage still the built-in) = 160.30.
    assert_eq!(
        usd(
            vpc(&report, "111111111111", "vpc-0a1b2c3d4e5f60012"),
            "cloud-watch-logs"
        ),
        160.30
    );
    assert_eq!(
        vpc(&report, "111111111111", "vpc-0a1b2c3d4e5f60012")["prices_region"],
        "eu-west-1"
    );
    // Other regions keep the built-in prices.
    assert_eq!(
        usd(
            vpc(&report, "111111111111", "vpc-0a1b2c3d4e5f60001"),
            "cloud-watch-logs"
        ),
        84.25
    );
}

#[test]
fn a_bad_prices_file_is_a_usage_error_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    for (text, line, needle) in [
        (
            "as_of = \"2027-01-15\"\n\n[regions.us-east-1.s3_storage]\nusd = 0.02\n",
            3,
            "s3_storage",
        ),
        (
            "[regions.us-east-1.s3_storage_per_gb_month]\nusd = -0.02\n",
            2,
            "usd -0.02",
        ),
        ("[assumptions.reject_share]\nvalue = 0\n", 2, "reject_share"),
        ("as_of = \"2027-01-15\"\nprice = 3\n", 2, "price"),
    ] {
        let file = prices_file(dir.path(), text);
        let (out, err, code) =
            run(netaudit()
                .arg("cost")
                .arg("--evidence")
                .arg(estate())
                .args(["--gb-per-day", "5", "--prices", &file]));
        assert_eq!(code, 64, "{text}: {err}");
        assert!(
            err.contains(&format!("{file}:{line}:")) && err.contains(needle),
            "{text}: {err}"
        );
        assert!(out.is_empty());
    }
}

#[test]
fn a_vpc_nothing_measures_is_volume_unknown_never_zero() {
    let report = cost_json(&[]);
    // No flow log delivers to CloudWatch Logs, so nothing measures this VPC.
    let unmeasured = vpc(&report, "111111111111", "vpc-0a1b2c3d4e5f60002");
    assert_eq!(unmeasured["basis_kind"], "unknown");
    assert!(
        unmeasured["monthly_usd"].is_null() && unmeasured["gb_per_day"].is_null(),
        "{unmeasured}"
    );
    assert!(
        unmeasured["basis"].as_str().unwrap().starts_with("volume unknown"),
        "{unmeasured}"
    );
    // A flow log to CloudWatch Logs is measured by its group's stored bytes.
    let measured = vpc(&report, "111111111111", "vpc-0a1b2c3d4e5f60001");
    assert_eq!(measured["basis_kind"], "stored-bytes");
    assert!(
        measured["basis"]
            .as_str()
            .unwrap()
            .contains("storedBytes of /aws/vpc/flow-logs/prod"),
        "{measured}"
    );
    assert!(usd(measured, "cloud-watch-logs") > 0.0);
    assert!(report["total"]["vpcs_volume_unknown"].as_u64().unwrap() > 0);
    // The unit costs stand in for the unknown volumes: 1 GB a day → 30.416667 × 0.50 + 54.75 × 0.03 = 16.85.
    assert_eq!(report["unit_costs"]["us-east-1"]["cloud-watch-logs"], 16.85);

    let (table, err, code) = run(netaudit().arg("cost").arg("--evidence").arg(estate()));
    assert_eq!(code, 0, "{err}");
    let line = table.lines().find(|l| l.starts_with("vpc-0a1b2c3d4e5f60002")).unwrap();
    assert!(line.contains("volume unknown") && !line.contains('$'), "{line}");
    assert!(table.contains("CLOUDWATCH LOGS $16.85"), "{table}");
}

#[test]
fn a_given_and_a_sampled_volume_together_are_refused() {
    let (_, err, code) =
        run(netaudit()
            .arg("cost")
            .arg("--evidence")
            .arg(estate())
            .args(["--gb-per-day", "5", "--flows", "x.log"]));
    assert_eq!(code, 64);
    assert!(err.contains("--flows"), "{err}");
    let (_, err, code) = run(netaudit()
        .arg("cost")
        .arg("--evidence")
        .arg(estate())
        .args(["--gb-per-day", "0"]));
    assert_eq!(code, 64);
    assert!(err.contains("--gb-per-day"), "{err}");
}

#[test]
fn the_readme_cost_command_runs_as_written() {
    let root = estate().join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = readme.split("## What the fix will cost").nth(1).unwrap();
    let line = section
        .lines()
        .find(|l| l.starts_with("netaudit cost --evidence examples/estate"))
        .unwrap();
    let words: Vec<&str> = line.split('#').next().unwrap().split_whitespace().collect();
    let (out, err, code) = run(netaudit().current_dir(&root).args(&words[1..]));
    assert_eq!(code, 0, "{line}: {err}");
    assert!(out.contains("$84.25"), "{out}");
}
