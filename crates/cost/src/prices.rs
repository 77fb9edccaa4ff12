//! Dated, cited list prices and the assumptions estimates rest on: the built-in file, and files
//! merged over it (`--prices FILE`) with every unknown key and bad value named by file and line.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml::Spanned;

/// The built-in prices: us-east-1 list prices, each with its source.
pub const BUILT_IN: &str = include_str!("../prices.toml");
const BUILT_IN_NAME: &str = "built-in prices.toml";
/// The region whose prices a region without its own starts from.
pub const BASE_REGION: &str = "us-east-1";

/// A price file that cannot be used: where, and why.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct PricesError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// One list price in USD, and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Price {
    pub usd: f64,
    pub source: String,
    pub note: String,
}

/// The prices one region bills flow-log delivery and storage at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionPrices {
    pub cloudwatch_logs_ingestion_per_gb: Price,
    pub cloudwatch_logs_storage_per_gb_month: Price,
    pub s3_delivery_per_gb: Price,
    pub s3_parquet_conversion_per_gb: Price,
    pub s3_storage_per_gb_month: Price,
    pub firehose_delivery_per_gb: Price,
    pub firehose_ingestion_per_gb: Price,
}

/// A number an estimate assumes, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assumption {
    pub value: f64,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assumptions {
    /// Share of ALL traffic's records that are REJECT, when no sample measures it.
    pub reject_share: Assumption,
    /// Records at 600 s aggregation per record at 60 s.
    pub aggregation_600_record_factor: Assumption,
    /// Stored (compressed) bytes per byte of flow-log text.
    pub compressed_share: Assumption,
    /// Parquet bytes per byte of gzip text.
    pub parquet_share_of_gzip: Assumption,
}

/// Every region's prices, the assumptions, and the date they were read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prices {
    pub as_of: String,
    /// The files merged over the built-in prices, in order.
    pub overridden_by: Vec<String>,
    pub regions: BTreeMap<String, RegionPrices>,
    pub assumptions: Assumptions,
}

/// The prices for a region, and the region they are really for: a region without prices of its
/// own is priced as [`BASE_REGION`].
#[derive(Debug)]
pub struct RegionPricing<'a> {
    pub region: &'a str,
    pub prices: &'a RegionPrices,
}

impl Prices {
    /// The built-in prices.
    pub fn built_in() -> Result<Prices, PricesError> {
        let file = parse(BUILT_IN_NAME, BUILT_IN)?;
        let mut prices = Prices {
            as_of: String::new(),
            overridden_by: vec![],
            regions: BTreeMap::new(),
            assumptions: Assumptions {
                reject_share: placeholder(),
                aggregation_600_record_factor: placeholder(),
                compressed_share: placeholder(),
                parquet_share_of_gzip: placeholder(),
            },
        };
        prices.merge(BUILT_IN_NAME, BUILT_IN, file, true)?;
        Ok(prices)
    }

    /// Merge a price file (`name` for errors) over these prices: what it sets replaces what is here.
    pub fn merge_file(&mut self, name: &str, text: &str) -> Result<(), PricesError> {
        let file = parse(name, text)?;
        self.merge(name, text, file, false)?;
        self.overridden_by.push(name.to_owned());
        Ok(())
    }

    /// The prices `region` is billed at.
    pub fn for_region(&self, region: &str) -> Option<RegionPricing<'_>> {
        let (region, prices) = self
            .regions
            .get_key_value(region)
            .or_else(|| self.regions.get_key_value(BASE_REGION))?;
        Some(RegionPricing { region, prices })
    }

    fn merge(&mut self, name: &str, text: &str, file: PricesFile, complete: bool) -> Result<(), PricesError> {
        let error = |span: std::ops::Range<usize>, message: String| PricesError {
            file: name.to_owned(),
            line: line_of(text, span.start),
            message,
        };
        if let Some(as_of) = file.as_of {
            if !is_date(as_of.get_ref()) {
                return Err(error(
                    as_of.span(),
                    format!("as_of {:?}: expected YYYY-MM-DD", as_of.get_ref()),
                ));
            }
            self.as_of = as_of.into_inner();
        } else if complete {
            return Err(error(0..0, "as_of is missing".into()));
        }
        for (region, given) in file.regions {
            let span = region.span();
            let region = region.into_inner();
            let mut merged = match self.regions.get(&region).or_else(|| self.regions.get(BASE_REGION)) {
                Some(existing) => existing.clone(),
                None if complete => empty_region(),
                None => {
                    return Err(error(
                        span,
                        format!("region {region}: no {BASE_REGION} prices to start from"),
                    ))
                }
            };
            let fields = [
                (
                    "cloudwatch_logs_ingestion_per_gb",
                    given.cloudwatch_logs_ingestion_per_gb,
                    &mut merged.cloudwatch_logs_ingestion_per_gb,
                ),
                (
                    "cloudwatch_logs_storage_per_gb_month",
                    given.cloudwatch_logs_storage_per_gb_month,
                    &mut merged.cloudwatch_logs_storage_per_gb_month,
                ),
                (
                    "s3_delivery_per_gb",
                    given.s3_delivery_per_gb,
                    &mut merged.s3_delivery_per_gb,
                ),
                (
                    "s3_parquet_conversion_per_gb",
                    given.s3_parquet_conversion_per_gb,
                    &mut merged.s3_parquet_conversion_per_gb,
                ),
                (
                    "s3_storage_per_gb_month",
                    given.s3_storage_per_gb_month,
                    &mut merged.s3_storage_per_gb_month,
                ),
                (
                    "firehose_delivery_per_gb",
                    given.firehose_delivery_per_gb,
                    &mut merged.firehose_delivery_per_gb,
                ),
                (
                    "firehose_ingestion_per_gb",
                    given.firehose_ingestion_per_gb,
                    &mut merged.firehose_ingestion_per_gb,
                ),
            ];
            for (key, given, price) in fields {
                match given {
                    Some(given) => merge_price(price, given, &error)?,
                    None if complete => {
                        return Err(error(span.clone(), format!("region {region}: {key} is missing")));
                    }
                    None => {}
                }
            }
            self.regions.insert(region, merged);
        }
        if complete && !self.regions.contains_key(BASE_REGION) {
            return Err(error(0..0, format!("no {BASE_REGION} prices")));
        }
        let assumptions = [
            (
                "reject_share",
                file.assumptions.reject_share,
                &mut self.assumptions.reject_share,
                1.0,
            ),
            (
                "aggregation_600_record_factor",
                file.assumptions.aggregation_600_record_factor,
                &mut self.assumptions.aggregation_600_record_factor,
                1.0,
            ),
            (
                "compressed_share",
                file.assumptions.compressed_share,
                &mut self.assumptions.compressed_share,
                1.0,
            ),
            (
                "parquet_share_of_gzip",
                file.assumptions.parquet_share_of_gzip,
                &mut self.assumptions.parquet_share_of_gzip,
                // Small files make Parquet larger than gzip text.
                f64::INFINITY,
            ),
        ];
        for (key, given, assumption, most) in assumptions {
            match given {
                Some(given) => {
                    if let Some(value) = given.value {
                        let v = *value.get_ref();
                        // A share of zero would make a REJECT-only or 600 s volume look free.
                        if !(v > 0.0 && v <= most) {
                            let range = if most.is_finite() {
                                "above 0 and at most 1"
                            } else {
                                "above 0"
                            };
                            return Err(error(
                                value.span(),
                                format!("assumptions.{key}.value {v}: expected a number {range}"),
                            ));
                        }
                        assumption.value = v;
                    } else if complete {
                        return Err(error(0..0, format!("assumptions.{key}.value is missing")));
                    }
                    if let Some(why) = given.why {
                        assumption.why = why;
                    }
                }
                None if complete => return Err(error(0..0, format!("assumptions.{key} is missing"))),
                None => {}
            }
        }
        Ok(())
    }
}

fn merge_price(
    price: &mut Price,
    given: PriceFile,
    error: &impl Fn(std::ops::Range<usize>, String) -> PricesError,
) -> Result<(), PricesError> {
    if let Some(usd) = given.usd {
        let v = *usd.get_ref();
        if !(v.is_finite() && v >= 0.0) {
            return Err(error(usd.span(), format!("usd {v}: expected a price of 0 or more")));
        }
        price.usd = v;
    }
    if let Some(source) = given.source {
        price.source = source;
    }
    if let Some(note) = given.note {
        price.note = note;
    }
    Ok(())
}

fn placeholder() -> Assumption {
    Assumption {
        value: 0.0,
        why: String::new(),
    }
}

fn empty_region() -> RegionPrices {
    let empty = || Price {
        usd: 0.0,
        source: String::new(),
        note: String::new(),
    };
    RegionPrices {
        cloudwatch_logs_ingestion_per_gb: empty(),
        cloudwatch_logs_storage_per_gb_month: empty(),
        s3_delivery_per_gb: empty(),
        s3_parquet_conversion_per_gb: empty(),
        s3_storage_per_gb_month: empty(),
        firehose_delivery_per_gb: empty(),
        firehose_ingestion_per_gb: empty(),
    }
}

fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn parse(name: &str, text: &str) -> Result<PricesFile, PricesError> {
    toml::from_str(text).map_err(|e: toml::de::Error| PricesError {
        file: name.to_owned(),
        line: e.span().map_or(1, |span| line_of(text, span.start)),
        message: e.message().trim().to_owned(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PricesFile {
    as_of: Option<Spanned<String>>,
    #[serde(default)]
    regions: BTreeMap<Spanned<String>, RegionFile>,
    #[serde(default)]
    assumptions: AssumptionsFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionFile {
    cloudwatch_logs_ingestion_per_gb: Option<PriceFile>,
    cloudwatch_logs_storage_per_gb_month: Option<PriceFile>,
    s3_delivery_per_gb: Option<PriceFile>,
    s3_parquet_conversion_per_gb: Option<PriceFile>,
    s3_storage_per_gb_month: Option<PriceFile>,
    firehose_delivery_per_gb: Option<PriceFile>,
    firehose_ingestion_per_gb: Option<PriceFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    usd: Option<Spanned<f64>>,
    source: Option<String>,
    note: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AssumptionsFile {
    reject_share: Option<AssumptionFile>,
    aggregation_600_record_factor: Option<AssumptionFile>,
    compressed_share: Option<AssumptionFile>,
    parquet_share_of_gzip: Option<AssumptionFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssumptionFile {
    value: Option<Spanned<f64>>,
    why: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_prices_are_complete_dated_and_cited() -> Result<(), PricesError> {
        let prices = Prices::built_in()?;
        assert!(is_date(&prices.as_of));
        let us_east_1 = prices.for_region("us-east-1").map(|p| p.prices.clone());
        assert_eq!(
            us_east_1.as_ref().map(|p| p.cloudwatch_logs_ingestion_per_gb.usd),
            Some(0.50)
        );
        assert_eq!(us_east_1.as_ref().map(|p| p.s3_storage_per_gb_month.usd), Some(0.023));
        assert!(us_east_1.is_some_and(|p| p.firehose_ingestion_per_gb.source.starts_with("https://")));
        Ok(())
    }

    #[test]
    fn a_partial_file_merges_over_the_built_in_one() -> Result<(), PricesError> {
        let mut prices = Prices::built_in()?;
        prices.merge_file(
            "mine.toml",
            "[regions.eu-west-1.cloudwatch_logs_ingestion_per_gb]\nusd = 0.57\n[assumptions.reject_share]\nvalue = 0.3\n",
        )?;
        let eu = prices.for_region("eu-west-1").map(|p| (p.region, p.prices.clone()));
        assert_eq!(
            eu.as_ref().map(|(r, p)| (*r, p.cloudwatch_logs_ingestion_per_gb.usd)),
            Some(("eu-west-1", 0.57))
        );
        // What the file leaves out stays as it was (here: started from us-east-1).
        assert_eq!(eu.map(|(_, p)| p.s3_storage_per_gb_month.usd), Some(0.023));
        assert_eq!(prices.assumptions.reject_share.value, 0.3);
        assert_eq!(prices.for_region("ap-south-1").map(|p| p.region), Some("us-east-1"));
        Ok(())
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_line() -> Result<(), PricesError> {
        let mut prices = Prices::built_in()?;
        let unknown = prices.merge_file(
            "p.toml",
            "as_of = \"2026-01-01\"\n\n[regions.us-east-1.s3_storage]\nusd = 1\n",
        );
        assert!(
            matches!(&unknown, Err(e) if e.line == 3 && e.message.contains("s3_storage")),
            "{unknown:?}"
        );
        let negative = prices.merge_file("p.toml", "[regions.us-east-1.s3_storage_per_gb_month]\nusd = -1.0\n");
        assert!(
            matches!(&negative, Err(e) if e.line == 2 && e.to_string().starts_with("p.toml:2: usd -1")),
            "{negative:?}"
        );
        let share = prices.merge_file("p.toml", "[assumptions.reject_share]\nwhy = \"x\"\nvalue = 1.5\n");
        assert!(matches!(&share, Err(e) if e.line == 3), "{share:?}");
        let date = prices.merge_file("p.toml", "as_of = \"last week\"\n");
        assert!(matches!(&date, Err(e) if e.line == 1), "{date:?}");
        Ok(())
    }
}
