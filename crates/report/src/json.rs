//! The JSON report: the stable, versioned document (`schemas/scan-report.schema.json`).

use crate::ScanReport;
use std::io::{self, Write};

pub fn render(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::from)?;
    writeln!(out)
}
