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

/// The columns of one `flows` table: documented fields in the order of [`FIELDS`], then fields
/// netaudit does not know (from file headers), as text, in the order they were first met.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowColumns {
    /// Per column: the field's name as AWS writes it.
    names: Vec<String>,
    /// Per column: the index into [`FIELDS`], or `None` for an undocumented field.
    fields: Vec<Option<usize>>,
    schema: SchemaRef,
}

impl Default for FlowColumns {
    fn default() -> FlowColumns {
        FlowColumns::all_documented()
    }
}

impl FlowColumns {
    /// Every documented field.
    pub fn all_documented() -> FlowColumns {
        FlowColumns::from_parts((0..FIELDS.len()).map(Some).collect(), vec![])
    }

    /// The fields that at least one of `formats` carries: documented ones in table order, then
    /// the others as text columns.
    pub fn of_formats<'a>(formats: impl IntoIterator<Item = &'a FlowFormat>) -> FlowColumns {
        let mut documented = vec![false; FIELDS.len()];
        let mut others: Vec<String> = vec![];
        for format in formats {
            for (position, field) in format.positions.iter().enumerate() {
                match field {
                    Some(index) => documented[*index] = true,
                    None => {
                        let name = &format.names[position];
                        let column = column_name(name);
                        if !others.iter().any(|o| column_name(o) == column) {
                            others.push(name.clone());
                        }
                    }
                }
            }
        }
        let fields = documented
            .iter()
            .enumerate()
            .filter(|(_, present)| **present)
            .map(|(index, _)| Some(index))
            .collect();
        FlowColumns::from_parts(fields, others)
    }

    fn from_parts(documented: Vec<Option<usize>>, others: Vec<String>) -> FlowColumns {
        let mut names: Vec<String> = documented
            .iter()
            .flatten()
            .map(|i| FIELDS[*i].name.to_owned())
            .collect();
        let mut fields = documented;
        for other in others {
            names.push(other);
            fields.push(None);
        }
        let schema = Arc::new(Schema::new(
            names
                .iter()
                .zip(&fields)
                .map(|(name, field)| {
                    let kind = field.map_or(FieldKind::Text, |i| FIELDS[i].kind);
                    Field::new(column_name(name), kind.data_type(), true)
                })
                .collect::<Vec<_>>(),
        ));
        FlowColumns { names, fields, schema }
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// How column `index` is stored.
    pub fn kind(&self, index: usize) -> FieldKind {
        self.fields
            .get(index)
            .copied()
            .flatten()
            .map_or(FieldKind::Text, |i| FIELDS[i].kind)
    }

    /// The column of a field given by AWS name (`log-status`) or column name (`log_status`).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        let column = column_name(name);
        self.names.iter().position(|n| column_name(n) == column)
    }

    /// Whether the table has a column for this field.
    pub fn has(&self, name: &str) -> bool {
        self.index_of(name).is_some()
    }

    /// The fields netaudit does not document, as AWS names them.
    pub fn undocumented(&self) -> Vec<&str> {
        self.names
            .iter()
            .zip(&self.fields)
            .filter(|(_, f)| f.is_none())
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

static FLOWS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(
        FIELDS
            .iter()
            .map(|f| Field::new(column_name(f.name), f.kind.data_type(), true))
            .collect::<Vec<_>>(),
    ))
});

/// Every documented field, nullable: the widest `flows` table.
pub fn flows_schema() -> SchemaRef {
    FLOWS_SCHEMA.clone()
}

/// Index into [`FIELDS`] of a field given by AWS name (`log-status`) or column name (`log_status`).
pub fn field_index(name: &str) -> Option<usize> {
    FIELDS
        .iter()
        .position(|f| f.name == name || (f.name.contains('-') && column_name(f.name) == name))
}

/// The documented field a misspelt name most likely meant: the same letters once case, `-` and
/// `_` are ignored, or one letter off.
fn closest_field(name: &str) -> Option<&'static str> {
    let squash = |n: &str| -> String {
        n.chars()
            .filter(|c| *c != '-' && *c != '_')
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let wanted = squash(name);
    FIELDS
        .iter()
        .map(|f| (f.name, edit_distance(&wanted, &squash(f.name))))
        .filter(|(_, d)| *d <= 1)
        .min_by_key(|(_, d)| *d)
        .map(|(f, _)| f)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// The ordered fields of one file or stream. A field netaudit does not know (one AWS added later,
/// named in a file's header) has no index: the session reads it as a text column of its own.
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
        FlowFormat::from_field_names(names.map(str::to_owned).collect())
    }

    /// The fields of a source that names them itself (a header line, a Parquet schema), known or not.
    pub fn from_field_names(names: Vec<String>) -> FlowFormat {
        FlowFormat {
            positions: names.iter().map(|n| field_index(n)).collect(),
            names,
        }
    }

    /// A format as AWS writes it: `${version} ${srcaddr} …`. Every field must be a documented one:
    /// a misspelt name would otherwise read as a column of nulls and empty every answer.
    pub fn parse_aws(text: &str) -> Result<FlowFormat, LogError> {
        let mut names = vec![];
        for token in text.split_ascii_whitespace() {
            let name = token
                .strip_prefix("${")
                .and_then(|t| t.strip_suffix('}'))
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
                .ok_or_else(|| LogError::Format(format!("{token:?} is not a ${{field}} token")))?;
            if field_index(name).is_none() {
                let hint = closest_field(name).map_or(String::new(), |f| format!(" (did you mean ${{{f}}}?)"));
                return Err(LogError::Format(format!("${{{name}}} is not a flow log field{hint}")));
            }
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
