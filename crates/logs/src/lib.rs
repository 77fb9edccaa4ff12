//! Reads the network audit trail: VPC flow logs, Client VPN connection logs and Site-to-Site VPN
//! tunnel logs, into Arrow record batches, queried with SQL (Apache DataFusion).
//!
//! - [`flow_format`] and [`flow_reader`]: every documented flow log field, the default and any custom
//!   format (from a file's header line or `${field}` tokens), text (plain or gzip) and AWS Parquet.
//! - [`vpn`]: Client VPN connection logs and Site-to-Site tunnel activity and BGP logs, with each
//!   tunnel message matched to the [`catalogue`].
//! - [`sources`]: local files and S3-layout directory trees with time-range pruning from the path.
//! - [`session`]: the tables `flows`, `vpn_connections`, `tunnel_events` and the IP helpers in [`udf`].
//! - [`answers`]: the built-in questions, and [`fold`]: the two that read every record, folded as
//!   the records are read; [`detect`]: detections whose rows become
//!   [`netaudit_checks::Finding`]s; [`athena`]: the same in Athena's SQL; [`generate`]: a deterministic
//!   generator of realistic flow logs with planted incidents.
//!
//! A bad line is an [`Issue`] (source, line, message), counted in [`Issues`], and reading goes on;
//! in strict mode it is an error. This crate does no network I/O: the caller hands over S3 objects
//! and CloudWatch Logs streams as [`sources::Input::Stream`]s it knows how to open (and small data
//! as [`sources::Input::Memory`]).

pub mod answers;
pub mod athena;
pub mod catalogue;
pub mod detect;
pub mod flow_format;
pub mod flow_reader;
pub mod fold;
pub mod generate;
mod issues;
mod read_ahead;
pub mod render;
pub mod session;
pub mod sources;
pub mod udf;
pub mod vpn;

pub use flow_format::{FlowColumns, FlowFormat, DEFAULT_FORMAT, FIELDS};
pub use flow_reader::{FlowReadOptions, FlowTextReader};
pub use fold::FoldedQuestion;
pub use issues::{Issue, Issues};
pub use session::{EndpointScope, LogSession, LogSources, QueryResult, Table};
pub use sources::{Input, OpenInput, TimeRange};

/// Why reading or querying failed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A bad line or file in strict mode.
    #[error("{0}")]
    BadInput(Issue),
    #[error("log format: {0}")]
    Format(String),
    #[error("query: {0}")]
    Query(String),
    /// A query needs a flow log field that none of the sources carries.
    #[error("the query reads flows.{column}, but no flow log source has the field {field}{}", formats_note(.formats))]
    MissingColumn {
        column: String,
        field: String,
        /// Each source and the fields it names.
        formats: Vec<String>,
    },
    #[error("arrow: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error("{0}")]
    Internal(String),
}

fn formats_note(formats: &[String]) -> String {
    const SHOWN: usize = 3;
    if formats.is_empty() {
        return String::new();
    }
    let mut note = format!(
        " (the sources' fields: {}",
        formats[..formats.len().min(SHOWN)].join("; ")
    );
    if formats.len() > SHOWN {
        note.push_str(&format!("; and {} more", formats.len() - SHOWN));
    }
    note.push(')');
    note
}

impl LogError {
    pub fn io(path: &std::path::Path, source: std::io::Error) -> LogError {
        LogError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// A DataFusion error, with a bad input in strict mode surfaced as itself.
    pub fn query(e: datafusion::error::DataFusionError) -> LogError {
        let e = e.find_root().to_string();
        LogError::Query(e)
    }
}

impl From<datafusion::error::DataFusionError> for LogError {
    fn from(e: datafusion::error::DataFusionError) -> LogError {
        LogError::query(e)
    }
}
