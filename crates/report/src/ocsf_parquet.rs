//! The OCSF Compliance Findings of [`crate::ocsf`] as Parquet, laid out as an Amazon Security Lake
//! custom source expects: `DIR/region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/<file>.parquet`.
//!
//! Every file has one schema, inferred from all the events (Arrow's JSON inference), so the Glue
//! crawler sees one table. OCSF's JSON-typed attributes (`resources[].data`, `unmapped`) are JSON
//! text in a string column, as their content differs from one event to the next. Events without an
//! account or region (infrastructure as code, input errors) go under `accountId=none` and
//! `region=global`; a result for every region (`*`) under `region=all`. Partition values are kept to
//! letters, digits, `-` and `_`, so no value can name a directory elsewhere.

use crate::ocsf::{compliance_findings, ComplianceFinding};
use crate::ScanReport;
use arrow_json::reader::{infer_json_schema_from_iterator, ReaderBuilder};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file written in each partition.
pub const FILE_NAME: &str = "netaudit-compliance-findings.parquet";

/// Write the report's Compliance Findings under `dir`; returns the files written, in path order.
pub fn write(report: &ScanReport, dir: &Path) -> io::Result<Vec<PathBuf>> {
    let events = compliance_findings(report)?;
    let mut partitions: BTreeMap<PathBuf, Vec<serde_json::Value>> = BTreeMap::new();
    for event in &events {
        let row = parquet_row(event)?;
        partitions.entry(partition(event)?).or_default().push(row);
    }
    let Some(schema) = infer_schema(partitions.values().flatten())? else {
        return Ok(vec![]);
    };
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut written = vec![];
    for (relative, rows) in partitions {
        let folder = dir.join(relative);
        std::fs::create_dir_all(&folder).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", folder.display())))?;
        let path = folder.join(FILE_NAME);
        let mut decoder = ReaderBuilder::new(schema.clone())
            .with_batch_size(rows.len().max(1))
            .build_decoder()
            .map_err(io::Error::other)?;
        decoder.serialize(&rows).map_err(io::Error::other)?;
        let file =
            std::fs::File::create(&path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let mut writer =
            ArrowWriter::try_new(file, schema.clone(), Some(properties.clone())).map_err(io::Error::other)?;
        while let Some(batch) = decoder.flush().map_err(io::Error::other)? {
            writer.write(&batch).map_err(io::Error::other)?;
        }
        writer.close().map_err(io::Error::other)?;
        written.push(path);
    }
    Ok(written)
}

fn infer_schema<'a>(
    rows: impl Iterator<Item = &'a serde_json::Value>,
) -> io::Result<Option<Arc<arrow_schema::Schema>>> {
    let mut rows = rows.peekable();
    if rows.peek().is_none() {
        return Ok(None);
    }
    let schema = infer_json_schema_from_iterator(rows.map(Ok)).map_err(io::Error::other)?;
    Ok(Some(Arc::new(schema)))
}

/// The event as a Parquet row: its JSON-typed attributes as JSON text.
fn parquet_row(event: &ComplianceFinding) -> io::Result<serde_json::Value> {
    let mut row = serde_json::to_value(event).map_err(io::Error::from)?;
    if let Some(resources) = row.get_mut("resources").and_then(serde_json::Value::as_array_mut) {
        for resource in resources {
            as_json_text(resource.get_mut("data"));
        }
    }
    as_json_text(row.get_mut("unmapped"));
    Ok(row)
}

fn as_json_text(value: Option<&mut serde_json::Value>) {
    if let Some(value) = value {
        *value = serde_json::Value::String(value.to_string());
    }
}

/// `region=…/accountId=…/eventDay=YYYYMMDD`.
fn partition(event: &ComplianceFinding) -> io::Result<PathBuf> {
    let region = match event.event.cloud.region.as_deref() {
        None => "global".to_owned(),
        Some("*") => "all".to_owned(),
        Some(region) => partition_value(region),
    };
    let account = event
        .event
        .cloud
        .account
        .as_ref()
        .map_or_else(|| "none".to_owned(), |a| partition_value(&a.uid));
    let day = chrono::DateTime::from_timestamp_millis(event.event.time)
        .ok_or_else(|| io::Error::other(format!("event time {} is out of range", event.event.time)))?
        .format("%Y%m%d");
    Ok(PathBuf::from(format!("region={region}"))
        .join(format!("accountId={account}"))
        .join(format!("eventDay={day}")))
}

fn partition_value(value: &str) -> String {
    let cleaned: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "none".to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::partition_value;

    #[test]
    fn partition_values_cannot_leave_their_directory() {
        assert_eq!(partition_value("us-east-1"), "us-east-1");
        assert_eq!(partition_value("../../etc"), "______etc");
        assert_eq!(partition_value("a/b"), "a_b");
        assert_eq!(partition_value(""), "none");
    }
}
