//! VPC flow log record formats: the documented fields, and the format of one file or stream.

use crate::LogError;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use std::sync::{Arc, LazyLock};

/// How a field is stored in the `flows` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Small integers (ports, protocol, flags, version, traffic path).
    Int32,
    /// Counters and epoch seconds.
    Int64,
    Text,
}

impl FieldKind {
    pub fn data_type(self) -> DataType {
        match self {
            FieldKind::Int32 => DataType::Int32,
            FieldKind::Int64 => DataType::Int64,
            FieldKind::Text => DataType::Utf8,
        }
    }
}

/// One documented flow log field: its AWS name, the version that introduced it and its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowField {
    pub name: &'static str,
    pub version: u8,
    pub kind: FieldKind,
}

const fn field(name: &'static str, version: u8, kind: FieldKind) -> FlowField {
    FlowField { name, version, kind }
}

use FieldKind::{Int32, Int64, Text};

/// Every documented field, in the order of the `flows` table. Fields a format does not name are null.
pub const FIELDS: &[FlowField] = &[
    field("version", 2, Int32),
    field("account-id", 2, Text),
    field("interface-id", 2, Text),
    field("srcaddr", 2, Text),
    field("dstaddr", 2, Text),
    field("srcport", 2, Int32),
    field("dstport", 2, Int32),
    field("protocol", 2, Int32),
    field("packets", 2, Int64),
    field("bytes", 2, Int64),
    field("start", 2, Int64),
    field("end", 2, Int64),
    field("action", 2, Text),
    field("log-status", 2, Text),
    field("vpc-id", 3, Text),
    field("subnet-id", 3, Text),
    field("instance-id", 3, Text),
    field("tcp-flags", 3, Int32),
    field("type", 3, Text),
    field("pkt-srcaddr", 3, Text),
    field("pkt-dstaddr", 3, Text),
    field("region", 4, Text),
    field("az-id", 4, Text),
    field("sublocation-type", 4, Text),
    field("sublocation-id", 4, Text),
    field("pkt-src-aws-service", 5, Text),
    field("pkt-dst-aws-service", 5, Text),
    field("flow-direction", 5, Text),
    field("traffic-path", 5, Int32),
    field("ecs-cluster-arn", 7, Text),
    field("ecs-cluster-name", 7, Text),
    field("ecs-container-instance-arn", 7, Text),
    field("ecs-container-instance-id", 7, Text),
    field("ecs-container-id", 7, Text),
    field("ecs-second-container-id", 7, Text),
    field("ecs-service-name", 7, Text),
    field("ecs-task-definition-arn", 7, Text),
    field("ecs-task-arn", 7, Text),
    field("ecs-task-id", 7, Text),
    field("reject-reason", 8, Text),
    field("resource-id", 9, Text),
    field("encryption-status", 10, Text),
];

/// The default (version 2) format, as AWS writes it.
pub const DEFAULT_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} \
${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

/// The table column for an AWS field name: `-` becomes `_`, as in AWS's Parquet output.
pub fn column_name(field: &str) -> String {
    field.replace('-', "_")
}

static FLOWS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(
        FIELDS
            .iter()
            .map(|f| Field::new(column_name(f.name), f.kind.data_type(), true))
            .collect::<Vec<_>>(),
    ))
});

/// The schema of the `flows` table: every documented field, nullable.
pub fn flows_schema() -> SchemaRef {
    FLOWS_SCHEMA.clone()
}

/// Index into [`FIELDS`] of a field given by AWS name (`log-status`) or column name (`log_status`).
pub fn field_index(name: &str) -> Option<usize> {
    FIELDS
        .iter()
        .position(|f| f.name == name || (f.name.contains('-') && column_name(f.name) == name))
}

/// The ordered fields of one file or stream. A field netaudit does not know (a newer AWS field) is
/// kept as `None`: its values are checked for count and otherwise skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowFormat {
    /// Per position, the index into [`FIELDS`].
    pub positions: Vec<Option<usize>>,
    /// The names as written, for messages.
    pub names: Vec<String>,
}

impl FlowFormat {
    pub fn default_v2() -> FlowFormat {
        // The constant is well formed; an error here would be a bug in this file.
        FlowFormat::from_names(
            DEFAULT_FORMAT
                .split(' ')
                .map(|t| t.trim_start_matches("${").trim_end_matches('}')),
        )
    }

    fn from_names<'a>(names: impl Iterator<Item = &'a str>) -> FlowFormat {
        let names: Vec<String> = names.map(str::to_owned).collect();
        FlowFormat {
            positions: names.iter().map(|n| field_index(n)).collect(),
            names,
        }
    }

    /// A format as AWS writes it: `${version} ${srcaddr} …`.
    pub fn parse_aws(text: &str) -> Result<FlowFormat, LogError> {
        let mut names = vec![];
        for token in text.split_ascii_whitespace() {
            let name = token
                .strip_prefix("${")
                .and_then(|t| t.strip_suffix('}'))
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
                .ok_or_else(|| LogError::Format(format!("{token:?} is not a ${{field}} token")))?;
            names.push(name);
        }
        if names.is_empty() {
            return Err(LogError::Format("the log format names no field".into()));
        }
        Ok(FlowFormat::from_names(names.into_iter()))
    }

    /// The header line of an S3 text file (`version account-id …`), or `None` when the line is a
    /// record: a header names at least one documented field and nothing that looks like a value.
    pub fn from_header(line: &[u8]) -> Option<FlowFormat> {
        let text = std::str::from_utf8(line).ok()?;
        let names: Vec<&str> = text.split_ascii_whitespace().collect();
        let plausible = |n: &&str| {
            n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_') && !n.is_empty() && *n != "-"
        };
        if names.is_empty() || !names.iter().all(plausible) || !names.iter().any(|n| field_index(n).is_some()) {
            return None;
        }
        Some(FlowFormat::from_names(names.into_iter()))
    }

    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The highest version among the fields: what AWS reports as the format's version.
    pub fn version(&self) -> u8 {
        self.positions
            .iter()
            .flatten()
            .map(|i| FIELDS[*i].version)
            .max()
            .unwrap_or(2)
    }

    /// The position of a documented field in this format.
    pub fn position_of(&self, name: &str) -> Option<usize> {
        let index = field_index(name)?;
        self.positions.iter().position(|p| *p == Some(index))
    }

    /// Fields whose names netaudit does not know.
    pub fn unknown_fields(&self) -> Vec<&str> {
        self.positions
            .iter()
            .zip(&self.names)
            .filter(|(p, _)| p.is_none())
            .map(|(_, n)| n.as_str())
            .collect()
    }
}
