//! Query results as JSON rows, an aligned text table or CSV.

use crate::LogError;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type};
use datafusion::arrow::datatypes::{SchemaRef, UInt16Type, UInt32Type, UInt64Type, UInt8Type};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Value};
use std::io::{self, Write};

/// One cell as JSON: numbers and booleans as themselves, lists as arrays, the rest as text.
pub fn cell(array: &dyn Array, row: usize) -> Result<Value, LogError> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    macro_rules! number {
        ($t:ty) => {
            Value::from(array.as_primitive::<$t>().value(row))
        };
    }
    Ok(match array.data_type() {
        DataType::Int8 => number!(Int8Type),
        DataType::Int16 => number!(Int16Type),
        DataType::Int32 => number!(Int32Type),
        DataType::Int64 => number!(Int64Type),
        DataType::UInt8 => number!(UInt8Type),
        DataType::UInt16 => number!(UInt16Type),
        DataType::UInt32 => number!(UInt32Type),
        DataType::UInt64 => number!(UInt64Type),
        DataType::Float32 => number!(Float32Type),
        DataType::Float64 => number!(Float64Type),
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(row).to_owned()),
        DataType::LargeUtf8 => Value::String(array.as_string::<i64>().value(row).to_owned()),
        DataType::Utf8View => Value::String(array.as_string_view().value(row).to_owned()),
        DataType::List(_) => {
            let values = array.as_list::<i32>().value(row);
            Value::Array((0..values.len()).map(|i| cell(&values, i)).collect::<Result<_, _>>()?)
        }
        DataType::LargeList(_) => {
            let values = array.as_list::<i64>().value(row);
            Value::Array((0..values.len()).map(|i| cell(&values, i)).collect::<Result<_, _>>()?)
        }
        _ => {
            let formatter = ArrayFormatter::try_new(array, &FormatOptions::default())?;
            Value::String(formatter.value(row).to_string())
        }
    })
}

/// Every row as its cells, in the schema's column order.
pub fn rows_as_cells(batches: &[RecordBatch]) -> Result<Vec<Vec<Value>>, LogError> {
    let mut rows = vec![];
    for batch in batches {
        for row in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|column| cell(column.as_ref(), row))
                    .collect::<Result<_, _>>()?,
            );
        }
    }
    Ok(rows)
}

/// Every row as a JSON object keyed by column name.
pub fn rows_as_json(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<Map<String, Value>>, LogError> {
    let names: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
    Ok(rows_as_cells(batches)?
        .into_iter()
        .map(|cells| names.iter().map(|n| (*n).clone()).zip(cells).collect())
        .collect())
}

/// The cells of one column as table or CSV text, with the column's formatter (timestamps and other
/// types JSON has no form for) made once, not once a cell.
struct ColumnText<'a> {
    array: &'a dyn Array,
    formatter: Option<ArrayFormatter<'a>>,
}

impl<'a> ColumnText<'a> {
    fn new(array: &'a dyn Array) -> Result<ColumnText<'a>, LogError> {
        let formatter = match array.data_type() {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float32
            | DataType::Float64
            | DataType::Boolean
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::List(_)
            | DataType::LargeList(_) => None,
            _ => Some(ArrayFormatter::try_new(array, &FormatOptions::default())?),
        };
        Ok(ColumnText { array, formatter })
    }

    /// The text of `row`: what [`text`] makes of its [`cell`].
    fn text(&self, row: usize) -> Result<String, LogError> {
        match &self.formatter {
            Some(_) if self.array.is_null(row) => Ok(String::new()),
            Some(formatter) => Ok(formatter.value(row).to_string()),
            None => Ok(text(&cell(self.array, row)?)),
        }
    }
}

/// Every row of `batches` as the text of its cells, one row at a time.
fn for_each_text_row(
    batches: &[RecordBatch],
    mut each: impl FnMut(Vec<String>) -> Result<(), LogError>,
) -> Result<(), LogError> {
    for batch in batches {
        let columns = batch
            .columns()
            .iter()
            .map(|column| ColumnText::new(column.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            each(columns.iter().map(|c| c.text(row)).collect::<Result<_, _>>()?)?;
        }
    }
    Ok(())
}

/// A cell as table or CSV text: null is empty, lists are `a,b,c`.
fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

pub fn write_json(schema: &SchemaRef, batches: &[RecordBatch], out: &mut dyn Write) -> Result<(), LogError> {
    let rows = rows_as_json(schema, batches)?;
    let value = Value::Array(rows.into_iter().map(Value::Object).collect());
    serde_json::to_writer_pretty(&mut *out, &value).map_err(|e| write_error(e.into()))?;
    writeln!(out).map_err(write_error)?;
    Ok(())
}

fn write_error(e: io::Error) -> LogError {
    LogError::Io {
        path: "output".into(),
        source: e,
    }
}

pub fn write_csv(schema: &SchemaRef, batches: &[RecordBatch], out: &mut dyn Write) -> Result<(), LogError> {
    let mut header = vec![];
    for f in schema.fields() {
        header.push(csv_field(f.name()));
    }
    writeln!(out, "{}", header.join(",")).map_err(write_error)?;
    for_each_text_row(batches, |row| {
        let line: Vec<String> = row.iter().map(|t| csv_field(t)).collect();
        writeln!(out, "{}", line.join(",")).map_err(write_error)
    })
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// An aligned table; long cells are cut at `max_width` characters. Ends with the row count.
pub fn write_table(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    out: &mut dyn Write,
    max_width: usize,
) -> Result<(), LogError> {
    let headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut rows: Vec<Vec<String>> = vec![];
    for_each_text_row(batches, |row| {
        rows.push(
            row.into_iter()
                .map(|t| {
                    if t.chars().count() > max_width {
                        let cut: String = t.chars().take(max_width.saturating_sub(1)).collect();
                        format!("{cut}…")
                    } else {
                        t
                    }
                })
                .collect(),
        );
        Ok(())
    })?;
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .chain([h.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(c.chars().count()))))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    writeln!(out, "{}", line(&headers)).map_err(write_error)?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    writeln!(out, "{}", line(&rule)).map_err(write_error)?;
    for row in &rows {
        writeln!(out, "{}", line(row)).map_err(write_error)?;
    }
    writeln!(out, "({} row{})", rows.len(), if rows.len() == 1 { "" } else { "s" }).map_err(write_error)?;
    Ok(())
}
