//! netaudit scan reports.
//!
//! [`ScanReport`] is the one document every output is rendered from: per-control summaries, every
//! finding, and the coverage section (each API, account and region that could not be read, and the
//! regions that are not enabled). Its JSON form is a stable, versioned interface described by
//! `schemas/scan-report.schema.json`. One module per output format renders it: [`table`] for
//! terminals, [`json`], [`csv`], [`sarif`] for code scanning, [`junit`] and [`markdown`] for CI,
//! [`asff`] for AWS Security Hub, [`html`] for auditors, [`ocsf`] for security data lakes.

pub mod asff;
pub mod csv;
pub mod diff;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
mod model;
pub mod ocsf;
pub mod ocsf_parquet;
pub mod rollup;
pub mod sarif;
pub mod table;
mod text;

pub use model::{
    natural_order_key, sort_controls, ControlSummary, Counts, Coverage, CoverageGap, DisabledRegion, Outcome,
    RegionScope, ResultFilter, SavedControl, SavedCoverage, SavedReport, ScanReport, ScanSource, SourceKind, Tool,
    SCHEMA_VERSION,
};
