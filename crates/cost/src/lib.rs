//! What VPC flow logs will cost a month, per VPC and destination: CloudWatch Logs, S3 (text or
//! Parquet) or Amazon Data Firehose, for ALL or REJECT traffic at 60 or 600 s aggregation.
//!
//! An estimate is a [`Volume`] (flow-log text per day, with what it was measured from) scaled to
//! the [`Variant`] asked for, times dated, cited list [`prices`]. Steady state is assumed: storage
//! is what the retention period keeps once it has filled. A VPC with no measured volume gets no
//! figure, only the unit costs: a volume is never guessed.

pub mod measure;
pub mod prices;

pub use prices::{Assumption, Assumptions, Price, Prices, PricesError, RegionPrices};
use serde::Serialize;

/// Days in an average month: 365 / 12.
pub const DAYS_PER_MONTH: f64 = 365.0 / 12.0;
/// Bytes in a GB as estimates count them (2^30).
pub const BYTES_PER_GB: f64 = 1_073_741_824.0;

/// Where a flow log delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Destination {
    CloudWatchLogs,
    S3,
    S3Parquet,
    Firehose,
}

impl Destination {
    pub const ALL: [Destination; 4] = [
        Destination::CloudWatchLogs,
        Destination::S3,
        Destination::S3Parquet,
        Destination::Firehose,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Destination::CloudWatchLogs => "cloud-watch-logs",
            Destination::S3 => "s3",
            Destination::S3Parquet => "s3-parquet",
            Destination::Firehose => "firehose",
        }
    }
}

/// The traffic a flow log captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TrafficType {
    All,
    Reject,
    Accept,
}

impl TrafficType {
    /// `ALL`, `REJECT` or `ACCEPT`, in any case.
    pub fn parse(text: &str) -> Option<TrafficType> {
        match text.to_ascii_uppercase().as_str() {
            "ALL" => Some(TrafficType::All),
            "REJECT" => Some(TrafficType::Reject),
            "ACCEPT" => Some(TrafficType::Accept),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TrafficType::All => "ALL",
            TrafficType::Reject => "REJECT",
            TrafficType::Accept => "ACCEPT",
        }
    }
}

/// How much flow-log text a VPC makes, as measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Volume {
    /// Flow-log text per day (GB, uncompressed) as measured.
    pub gb_per_day: f64,
    /// The traffic the measured flow log captured.
    pub traffic_type: TrafficType,
    /// The aggregation interval the measured flow log used (seconds).
    pub interval_seconds: u32,
    /// The share of records that were REJECT, when the measurement could tell.
    pub reject_share: Option<f64>,
    /// What the figure was measured from, for the reader.
    pub basis: String,
}

/// The flow log an estimate is for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Variant {
    /// ALL or REJECT (ACCEPT-only logs are not an audit trail).
    pub traffic_type: TrafficType,
    pub interval_seconds: u32,
    pub retention_days: u32,
}

/// One destination's monthly cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DestinationCost {
    pub destination: Destination,
    /// Delivery, ingestion and conversion: what each day's volume costs, over a month.
    pub delivery_usd: f64,
    /// Storage of what the retention period keeps, per month (0 for Firehose: stored elsewhere).
    pub storage_usd: f64,
    pub monthly_usd: f64,
}

/// A VPC's estimate for one variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// The volume the variant would make (GB of text per day).
    pub gb_per_day: f64,
    pub costs: Vec<DestinationCost>,
    /// How the measured volume was scaled to the variant.
    pub scaling: Vec<String>,
}

/// Scale a measured volume to the variant: through the ALL-traffic volume, then the interval.
pub fn scaled_gb_per_day(volume: &Volume, variant: &Variant, assumptions: &Assumptions) -> (f64, Vec<String>) {
    let mut scaling = vec![];
    let (share, share_origin) = match volume.reject_share {
        Some(measured) => (measured, "measured"),
        None => (assumptions.reject_share.value, "assumed"),
    };
    let all_traffic = match volume.traffic_type {
        TrafficType::All => volume.gb_per_day,
        TrafficType::Reject => {
            scaling.push(format!(
                "measured REJECT only: ALL is taken as REJECT / {share} ({share_origin} REJECT share)"
            ));
            volume.gb_per_day / share
        }
        TrafficType::Accept => {
            scaling.push(format!(
                "measured ACCEPT only: ALL is taken as ACCEPT / {} ({share_origin} REJECT share {share})",
                1.0 - share
            ));
            volume.gb_per_day / (1.0 - share)
        }
    };
    let wanted_traffic = match variant.traffic_type {
        TrafficType::Reject => {
            if volume.traffic_type != TrafficType::Reject {
                scaling.push(format!("REJECT is {share} of ALL ({share_origin})"));
            }
            all_traffic * share
        }
        TrafficType::Accept => all_traffic * (1.0 - share),
        TrafficType::All => all_traffic,
    };
    let factor = assumptions.aggregation_600_record_factor.value;
    let gb_per_day = match (volume.interval_seconds, variant.interval_seconds) {
        (60, 600) => {
            scaling.push(format!(
                "600 s aggregation makes {factor} of the records of 60 s (assumed)"
            ));
            wanted_traffic * factor
        }
        (600, 60) => {
            scaling.push(format!(
                "60 s aggregation makes 1/{factor} of the records of 600 s (assumed)"
            ));
            wanted_traffic / factor
        }
        _ => wanted_traffic,
    };
    (gb_per_day, scaling)
}

/// Monthly cost per destination of `gb_per_day` of flow-log text, kept `retention_days`.
pub fn monthly_costs(
    gb_per_day: f64,
    retention_days: u32,
    prices: &RegionPrices,
    assumptions: &Assumptions,
    destinations: &[Destination],
) -> Vec<DestinationCost> {
    let monthly_gb = gb_per_day * DAYS_PER_MONTH;
    // Steady state: the retention period's worth of days is stored, compressed.
    let stored_gb = gb_per_day * f64::from(retention_days) * assumptions.compressed_share.value;
    destinations
        .iter()
        .map(|&destination| {
            let (delivery_usd, storage_usd) = match destination {
                Destination::CloudWatchLogs => (
                    monthly_gb * prices.cloudwatch_logs_ingestion_per_gb.usd,
                    stored_gb * prices.cloudwatch_logs_storage_per_gb_month.usd,
                ),
                Destination::S3 => (
                    monthly_gb * prices.s3_delivery_per_gb.usd,
                    stored_gb * prices.s3_storage_per_gb_month.usd,
                ),
                Destination::S3Parquet => (
                    monthly_gb * (prices.s3_delivery_per_gb.usd + prices.s3_parquet_conversion_per_gb.usd),
                    stored_gb * assumptions.parquet_share_of_gzip.value * prices.s3_storage_per_gb_month.usd,
                ),
                Destination::Firehose => (
                    monthly_gb * (prices.firehose_delivery_per_gb.usd + prices.firehose_ingestion_per_gb.usd),
                    0.0,
                ),
            };
            DestinationCost {
                destination,
                delivery_usd,
                storage_usd,
                monthly_usd: delivery_usd + storage_usd,
            }
        })
        .collect()
}

/// A VPC's monthly cost per destination for the variant.
pub fn estimate(
    volume: &Volume,
    variant: &Variant,
    prices: &RegionPrices,
    assumptions: &Assumptions,
    destinations: &[Destination],
) -> Estimate {
    let (gb_per_day, scaling) = scaled_gb_per_day(volume, variant, assumptions);
    Estimate {
        gb_per_day,
        costs: monthly_costs(gb_per_day, variant.retention_days, prices, assumptions, destinations),
        scaling,
    }
}

/// Round to the cent, for display and reports.
pub fn cents(usd: f64) -> f64 {
    (usd * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assumptions() -> Assumptions {
        let a = |value: f64| Assumption {
            value,
            why: String::new(),
        };
        Assumptions {
            reject_share: a(0.1),
            aggregation_600_record_factor: a(0.5),
            compressed_share: a(0.15),
            parquet_share_of_gzip: a(0.8),
        }
    }

    fn us_east_1() -> RegionPrices {
        let p = |usd: f64| Price {
            usd,
            source: String::new(),
            note: String::new(),
        };
        RegionPrices {
            cloudwatch_logs_ingestion_per_gb: p(0.50),
            cloudwatch_logs_storage_per_gb_month: p(0.03),
            s3_delivery_per_gb: p(0.25),
            s3_parquet_conversion_per_gb: p(0.03),
            s3_storage_per_gb_month: p(0.023),
            firehose_delivery_per_gb: p(0.25),
            firehose_ingestion_per_gb: p(0.13),
        }
    }

    fn monthly(estimate: &Estimate) -> Vec<(Destination, f64)> {
        estimate
            .costs
            .iter()
            .map(|c| (c.destination, cents(c.monthly_usd)))
            .collect()
    }

    #[test]
    fn ten_gb_a_day_reject_share_a_fifth_at_600_seconds() {
        // 10 GB/day of ALL traffic at 60 s; REJECT share 0.2 (measured); REJECT at 600 s:
        //   10 × 0.2 × 0.5 = 1 GB/day; a month is 365/12 = 30.416667 days → 30.416667 GB.
        //   Kept 365 days: 1 × 365 × 0.15 = 54.75 GB stored (compressed).
        // CloudWatch Logs: 30.416667 × 0.50 = 15.208333 + 54.75 × 0.03 = 1.6425       → 16.85
        // S3 text:         30.416667 × 0.25 =  7.604167 + 54.75 × 0.023 = 1.25925    →  8.86
        // S3 Parquet:      30.416667 × 0.28 =  8.516667 + 54.75 × 0.8 × 0.023 = 1.0074 → 9.52
        // Firehose:        30.416667 × 0.38 = 11.558333                                → 11.56
        let volume = Volume {
            gb_per_day: 10.0,
            traffic_type: TrafficType::All,
            interval_seconds: 60,
            reject_share: Some(0.2),
            basis: String::new(),
        };
        let variant = Variant {
            traffic_type: TrafficType::Reject,
            interval_seconds: 600,
            retention_days: 365,
        };
        let estimate = estimate(&volume, &variant, &us_east_1(), &assumptions(), &Destination::ALL);
        assert!((estimate.gb_per_day - 1.0).abs() < 1e-9);
        assert_eq!(
            monthly(&estimate),
            vec![
                (Destination::CloudWatchLogs, 16.85),
                (Destination::S3, 8.86),
                (Destination::S3Parquet, 9.52),
                (Destination::Firehose, 11.56),
            ]
        );
    }

    #[test]
    fn a_reject_only_measurement_at_600_seconds_scaled_to_all_at_60() {
        // 0.5 GB/day of REJECT at 600 s, no measured share (assumed 0.1), wanted ALL at 60 s, 90 days:
        //   ALL = 0.5 / 0.1 = 5 GB/day at 600 s; at 60 s: 5 / 0.5 = 10 GB/day → 304.166667 GB a month.
        //   Stored: 10 × 90 × 0.15 = 135 GB.
        // CloudWatch Logs: 304.166667 × 0.50 = 152.083333 + 135 × 0.03 = 4.05 → 156.13
        // S3 text:         304.166667 × 0.25 =  76.041667 + 135 × 0.023 = 3.105 → 79.15
        let volume = Volume {
            gb_per_day: 0.5,
            traffic_type: TrafficType::Reject,
            interval_seconds: 600,
            reject_share: None,
            basis: String::new(),
        };
        let variant = Variant {
            traffic_type: TrafficType::All,
            interval_seconds: 60,
            retention_days: 90,
        };
        let estimate = estimate(
            &volume,
            &variant,
            &us_east_1(),
            &assumptions(),
            &[Destination::CloudWatchLogs, Destination::S3],
        );
        assert!((estimate.gb_per_day - 10.0).abs() < 1e-9);
        assert_eq!(
            monthly(&estimate),
            vec![(Destination::CloudWatchLogs, 156.13), (Destination::S3, 79.15)]
        );
        assert_eq!(estimate.scaling.len(), 2, "{:?}", estimate.scaling);
    }
}
