//! The streaming flow log reader: text (plain or gzip) and AWS Parquet into Arrow record batches.
//!
//! The text path works on bytes: lines are found with `memchr`, fields split on runs of spaces,
//! numbers parsed in place and strings copied straight into the Arrow buffers, with no allocation
//! per line. A line is checked whole (field count, numbers, UTF-8) before any of it is appended, so
//! a bad line never leaves half a row behind.

use crate::flow_format::{flows_schema, FieldKind, FlowFormat, FIELDS};
use crate::issues::{Issue, Issues};
use crate::LogError;
use datafusion::arrow::array::{
    new_null_array, Array, ArrayRef, BooleanArray, Int32Builder, Int64Array, Int64Builder, RecordBatch, StringBuilder,
};
use datafusion::arrow::compute::{and, cast, filter_record_batch, kernels::cmp};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

/// What to read and how strictly.
#[derive(Debug, Clone)]
pub struct FlowReadOptions {
    /// The format of files without a header line (CloudWatch Logs, `--log-format`); default v2.
    pub format: FlowFormat,
    /// Indices into [`FIELDS`] to build; the rest are skipped. `None`: every field.
    pub projection: Option<Vec<usize>>,
    /// Keep records whose `end` is at or after this (epoch seconds).
    pub since: Option<i64>,
    /// Keep records whose `start` is before this (epoch seconds).
    pub until: Option<i64>,
    /// Fail on the first bad line instead of counting it.
    pub strict: bool,
    pub batch_size: usize,
}

impl Default for FlowReadOptions {
    fn default() -> FlowReadOptions {
        FlowReadOptions {
            format: FlowFormat::default_v2(),
            projection: None,
            since: None,
            until: None,
            strict: false,
            batch_size: 8192,
        }
    }
}

impl FlowReadOptions {
    /// The projected `flows` schema.
    pub fn schema(&self) -> SchemaRef {
        match &self.projection {
            None => flows_schema(),
            Some(p) => {
                let full = flows_schema();
                Arc::new(Schema::new(
                    p.iter().map(|i| full.field(*i).clone()).collect::<Vec<_>>(),
                ))
            }
        }
    }

    fn columns(&self) -> Vec<usize> {
        self.projection.clone().unwrap_or_else(|| (0..FIELDS.len()).collect())
    }
}

enum ColumnBuilder {
    Int32(Int32Builder),
    Int64(Int64Builder),
    Text(StringBuilder),
}

impl ColumnBuilder {
    fn new(kind: FieldKind, capacity: usize) -> ColumnBuilder {
        match kind {
            FieldKind::Int32 => ColumnBuilder::Int32(Int32Builder::with_capacity(capacity)),
            FieldKind::Int64 => ColumnBuilder::Int64(Int64Builder::with_capacity(capacity)),
            FieldKind::Text => ColumnBuilder::Text(StringBuilder::with_capacity(capacity, capacity * 16)),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Int32(b) => Arc::new(b.finish()),
            ColumnBuilder::Int64(b) => Arc::new(b.finish()),
            ColumnBuilder::Text(b) => Arc::new(b.finish()),
        }
    }
}

/// Parse an unsigned decimal; `None` for anything else.
#[inline]
fn parse_u64(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || bytes.len() > 19 {
        return None;
    }
    let mut value: u64 = 0;
    for &b in bytes {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value * 10 + u64::from(digit);
    }
    Some(value)
}

/// A CloudWatch Logs export line starts with the event's ISO time: `2024-06-10T06:13:20.000Z `.
#[inline]
fn strip_export_timestamp(line: &[u8]) -> &[u8] {
    if line.len() > 20 && line[4] == b'-' && line[7] == b'-' && line[10] == b'T' && line[0].is_ascii_digit() {
        if let Some(space) = memchr::memchr(b' ', line) {
            return &line[space + 1..];
        }
    }
    line
}

/// Parses one text source into batches. Knows nothing of files: it is fed bytes.
struct LineParser {
    source: String,
    options: FlowReadOptions,
    schema: SchemaRef,
    /// Output column per projected field; `None` in `format_to_column` skips a position.
    columns: Vec<usize>,
    builders: Vec<ColumnBuilder>,
    format: Option<FlowFormat>,
    /// Per format position: the output column it feeds.
    format_to_column: Vec<Option<usize>>,
    /// Output columns the format does not carry (all null).
    missing_columns: Vec<bool>,
    start_position: Option<usize>,
    end_position: Option<usize>,
    /// Per format position: a number to parse (built, or needed by the time range).
    parse_number: Vec<bool>,
    spans: Vec<(usize, usize)>,
    numbers: Vec<Option<i64>>,
    rows: usize,
    line_number: u64,
    issues: Issues,
    /// Skip everything up to the first newline (a byte range that starts mid-line).
    skip_partial_first_line: bool,
}

impl LineParser {
    fn new(source: String, options: FlowReadOptions, issues: Issues, header_format: Option<FlowFormat>) -> LineParser {
        let columns = options.columns();
        let builders = columns
            .iter()
            .map(|i| ColumnBuilder::new(FIELDS[*i].kind, options.batch_size))
            .collect();
        let mut parser = LineParser {
            source,
            schema: options.schema(),
            columns,
            builders,
            options,
            format: None,
            format_to_column: vec![],
            missing_columns: vec![],
            start_position: None,
            end_position: None,
            parse_number: vec![],
            spans: Vec::with_capacity(64),
            numbers: vec![],
            rows: 0,
            line_number: 0,
            issues,
            skip_partial_first_line: false,
        };
        if let Some(format) = header_format {
            parser.set_format(format);
        }
        parser
    }

    fn set_format(&mut self, format: FlowFormat) {
        self.format_to_column = format
            .positions
            .iter()
            .map(|p| p.and_then(|field| self.columns.iter().position(|c| *c == field)))
            .collect();
        self.missing_columns = (0..self.columns.len())
            .map(|column| !self.format_to_column.contains(&Some(column)))
            .collect();
        self.start_position = format.position_of("start");
        self.end_position = format.position_of("end");
        let (since, until) = (self.options.since.is_some(), self.options.until.is_some());
        self.parse_number = format
            .positions
            .iter()
            .enumerate()
            .map(|(position, field)| {
                let numeric = field.is_some_and(|f| FIELDS[f].kind != FieldKind::Text);
                let needed = self.format_to_column[position].is_some()
                    || (until && Some(position) == self.start_position)
                    || (since && Some(position) == self.end_position);
                numeric && needed
            })
            .collect();
        self.numbers = vec![None; format.len()];
        self.format = Some(format);
    }

    fn issue(&self, line: Option<u64>, message: String) -> Result<(), LogError> {
        let issue = Issue {
            source: self.source.clone(),
            line,
            message,
        };
        if self.options.strict {
            return Err(LogError::BadInput(issue));
        }
        self.issues.report(issue);
        Ok(())
    }

    /// One line without its newline. Returns true when a batch is full.
    fn line(&mut self, raw: &[u8]) -> Result<bool, LogError> {
        self.line_number += 1;
        let mut line = raw;
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        // Records start with a value; only a line that starts with a blank can be blank.
        if line.first().is_none_or(|b| *b == b' ' || *b == b'\t') && line.iter().all(|b| *b == b' ' || *b == b'\t') {
            return Ok(false);
        }
        if self.format.is_none() {
            let format = match FlowFormat::from_header(line) {
                Some(header) => {
                    self.set_format(header);
                    return Ok(false);
                }
                None => self.options.format.clone(),
            };
            self.set_format(format);
        }
        let line = strip_export_timestamp(line);
        let Ok(text) = std::str::from_utf8(line) else {
            self.issue(Some(self.line_number), "the line is not UTF-8".into())?;
            return Ok(false);
        };
        match self.record(text) {
            Ok(appended) => Ok(appended && self.rows >= self.options.batch_size),
            Err(message) => {
                self.issue(Some(self.line_number), message)?;
                Ok(false)
            }
        }
    }

    /// Check and append one record; `Ok(false)` when the time range filters it out.
    #[inline]
    fn record(&mut self, text: &str) -> Result<bool, String> {
        let Some(format) = &self.format else {
            return Err("no format".into());
        };
        let bytes = text.as_bytes();
        self.spans.clear();
        let mut start = 0;
        for space in memchr::memchr2_iter(b' ', b'\t', bytes) {
            if space > start {
                self.spans.push((start, space));
            }
            start = space + 1;
        }
        if bytes.len() > start {
            self.spans.push((start, bytes.len()));
        }
        if self.spans.len() != format.len() {
            return Err(format!(
                "{} fields where the format has {} ({})",
                self.spans.len(),
                format.len(),
                format.names.join(" ")
            ));
        }
        // Numbers first: a bad one rejects the line before anything is appended.
        for (position, &(a, b)) in self.spans.iter().enumerate() {
            if !self.parse_number[position] {
                continue;
            }
            let value = &bytes[a..b];
            self.numbers[position] = if value == b"-" {
                None
            } else {
                let n = parse_u64(value)
                    .and_then(|n| i64::try_from(n).ok())
                    .ok_or_else(|| format!("{}: {:?} is not a number", format.names[position], &text[a..b]))?;
                Some(n)
            };
        }
        if let (Some(since), Some(position)) = (self.options.since, self.end_position) {
            if self.numbers[position].is_some_and(|end| end < since) {
                return Ok(false);
            }
        }
        if let (Some(until), Some(position)) = (self.options.until, self.start_position) {
            if self.numbers[position].is_some_and(|start| start >= until) {
                return Ok(false);
            }
        }
        for (position, &(a, b)) in self.spans.iter().enumerate() {
            let Some(column) = self.format_to_column[position] else {
                continue;
            };
            match &mut self.builders[column] {
                ColumnBuilder::Int32(builder) => {
                    builder.append_option(self.numbers[position].and_then(|n| i32::try_from(n).ok()))
                }
                ColumnBuilder::Int64(builder) => builder.append_option(self.numbers[position]),
                ColumnBuilder::Text(builder) => {
                    let value = &text[a..b];
                    if value == "-" {
                        builder.append_null();
                    } else {
                        builder.append_value(value);
                    }
                }
            }
        }
        self.rows += 1;
        Ok(true)
    }

    fn take_batch(&mut self) -> Result<Option<RecordBatch>, LogError> {
        if self.rows == 0 {
            return Ok(None);
        }
        let rows = self.rows;
        self.rows = 0;
        let arrays: Vec<ArrayRef> = self
            .builders
            .iter_mut()
            .enumerate()
            .map(|(column, builder)| {
                let array = builder.finish();
                if self.missing_columns.get(column).copied().unwrap_or(true) {
                    new_null_array(array.data_type(), rows)
                } else {
                    array
                }
            })
            .collect();
        Ok(Some(RecordBatch::try_new(self.schema.clone(), arrays)?))
    }
}

/// A source of flow records: text bytes (maybe gzip) from a file, an S3 object or a log stream.
pub struct FlowTextReader {
    parser: LineParser,
    input: Box<dyn Read + Send>,
    buffer: Vec<u8>,
    filled: usize,
    consumed: usize,
    /// Stop at the first line that starts at or after this many bytes (a byte range's end).
    limit: Option<u64>,
    offset: u64,
    done: bool,
}

impl std::fmt::Debug for FlowTextReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowTextReader")
            .field("source", &self.parser.source)
            .finish()
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Wrap a reader in a gzip decoder when it starts with the gzip magic bytes.
pub fn maybe_gunzip(input: Box<dyn Read + Send>) -> std::io::Result<Box<dyn Read + Send>> {
    let mut buffered = BufReader::with_capacity(1 << 16, input);
    let head = buffered.fill_buf()?;
    if head.starts_with(&GZIP_MAGIC) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(buffered)))
    } else {
        Ok(Box::new(buffered))
    }
}

impl FlowTextReader {
    /// Read `input` (gzip detected by its magic bytes), named `source` in issues.
    pub fn new(
        source: impl Into<String>,
        input: Box<dyn Read + Send>,
        options: FlowReadOptions,
        issues: Issues,
    ) -> std::io::Result<FlowTextReader> {
        Ok(FlowTextReader::plain(
            source.into(),
            maybe_gunzip(input)?,
            options,
            issues,
            None,
            None,
        ))
    }

    fn plain(
        source: String,
        input: Box<dyn Read + Send>,
        options: FlowReadOptions,
        issues: Issues,
        header: Option<FlowFormat>,
        limit: Option<u64>,
    ) -> FlowTextReader {
        FlowTextReader {
            parser: LineParser::new(source, options, issues, header),
            input,
            buffer: vec![0; 1 << 20],
            filled: 0,
            consumed: 0,
            limit,
            offset: 0,
            done: false,
        }
    }

    /// Read bytes `[start, end)` of an uncompressed file: the lines that start in the range. The
    /// header (the file's first line) is read separately so every range knows the format.
    pub fn byte_range(
        path: &std::path::Path,
        start: u64,
        end: u64,
        options: FlowReadOptions,
        issues: Issues,
    ) -> Result<FlowTextReader, LogError> {
        use std::io::{Seek, SeekFrom};
        let open = |p: &std::path::Path| std::fs::File::open(p).map_err(|e| LogError::io(p, e));
        let mut first = String::new();
        BufReader::new(open(path)?)
            .take(1 << 20)
            .read_line(&mut first)
            .map_err(|e| LogError::io(path, e))?;
        let header = FlowFormat::from_header(first.trim_end().as_bytes());
        let mut file = open(path)?;
        // Start one byte early: if that byte is a newline, the range starts on a line boundary.
        let seek_to = start.saturating_sub(1);
        file.seek(SeekFrom::Start(seek_to)).map_err(|e| LogError::io(path, e))?;
        let has_header = header.is_some();
        // Without a header line every range uses the configured format.
        let format = header.unwrap_or_else(|| options.format.clone());
        // Line numbers count from the range's start.
        let source = if start > 0 {
            format!("{} (from byte {start})", path.display())
        } else {
            path.display().to_string()
        };
        let mut reader = FlowTextReader::plain(
            source,
            Box::new(file),
            options,
            issues,
            Some(format),
            Some(end - seek_to),
        );
        reader.parser.skip_partial_first_line = start > 0;
        if start == 0 && has_header {
            // The header line itself is not a record.
            reader.parser.skip_partial_first_line = true;
        }
        Ok(reader)
    }

    fn fill(&mut self) -> std::io::Result<usize> {
        if self.consumed > 0 {
            self.buffer.copy_within(self.consumed..self.filled, 0);
            self.filled -= self.consumed;
            self.consumed = 0;
        }
        if self.filled == self.buffer.len() {
            self.buffer.resize(self.buffer.len() * 2, 0);
        }
        loop {
            match self.input.read(&mut self.buffer[self.filled..]) {
                Ok(n) => {
                    self.filled += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The next batch, or `None` at the end of the input.
    pub fn next_batch(&mut self) -> Result<Option<RecordBatch>, LogError> {
        while !self.done {
            // Complete lines in the buffer.
            while let Some(newline) = memchr::memchr(b'\n', &self.buffer[self.consumed..self.filled]) {
                let line_start = self.consumed;
                let line_end = line_start + newline;
                self.consumed = line_end + 1;
                let line_offset = self.offset;
                self.offset += (newline + 1) as u64;
                if self.parser.skip_partial_first_line {
                    self.parser.skip_partial_first_line = false;
                    self.parser.line_number += 1;
                    continue;
                }
                if self.limit.is_some_and(|limit| line_offset >= limit) {
                    self.done = true;
                    break;
                }
                let full = {
                    let (parser, buffer) = (&mut self.parser, &self.buffer);
                    parser.line(&buffer[line_start..line_end])?
                };
                if full {
                    return self.parser.take_batch();
                }
            }
            if self.done {
                break;
            }
            match self.fill() {
                Ok(0) => {
                    // The last line may lack its newline.
                    self.done = true;
                    if self.consumed < self.filled
                        && !self.parser.skip_partial_first_line
                        && self.limit.is_none_or(|limit| self.offset < limit)
                    {
                        let (parser, buffer) = (&mut self.parser, &self.buffer);
                        parser.line(&buffer[self.consumed..self.filled])?;
                        self.consumed = self.filled;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    self.done = true;
                    let line = self.parser.line_number + 1;
                    self.parser
                        .issue(Some(line), format!("the input ends early or is corrupt: {e}"))?;
                }
            }
        }
        self.parser.take_batch()
    }
}

impl Iterator for FlowTextReader {
    type Item = Result<RecordBatch, LogError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}

/// Read an AWS Parquet flow log file (columns named with `_`) into the `flows` schema: columns are
/// cast to the table's types, and fields the file lacks are null.
pub fn read_parquet(
    source: &str,
    bytes: bytes::Bytes,
    options: &FlowReadOptions,
) -> Result<Vec<RecordBatch>, LogError> {
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let bad = |e: String| {
        LogError::BadInput(Issue {
            source: source.to_owned(),
            line: None,
            message: e,
        })
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .map_err(|e| bad(e.to_string()))?
        .with_batch_size(options.batch_size)
        .build()
        .map_err(|e| bad(e.to_string()))?;
    let schema = options.schema();
    let full = flows_schema();
    let mut out = vec![];
    for batch in reader {
        let batch = batch.map_err(|e| bad(e.to_string()))?;
        let column = |name: &str| -> Result<Option<ArrayRef>, LogError> {
            let Some(index) = crate::flow_format::field_index(name) else {
                return Ok(None);
            };
            let target = full.field(index);
            match batch.schema().index_of(target.name()) {
                Ok(i) => Ok(Some(cast(batch.column(i), target.data_type())?)),
                Err(_) => Ok(None),
            }
        };
        let rows = batch.num_rows();
        let mut keep: Option<BooleanArray> = None;
        if let (Some(since), Some(end)) = (options.since, column("end")?) {
            keep = Some(cmp::gt_eq(&end, &Int64Array::new_scalar(since))?);
        }
        if let (Some(until), Some(start)) = (options.until, column("start")?) {
            let before = cmp::lt(&start, &Int64Array::new_scalar(until))?;
            keep = Some(match keep {
                Some(k) => and(&k, &before)?,
                None => before,
            });
        }
        let arrays = schema
            .fields()
            .iter()
            .map(|f| Ok(column(f.name())?.unwrap_or_else(|| new_null_array(f.data_type(), rows))))
            .collect::<Result<Vec<_>, LogError>>()?;
        let projected = RecordBatch::try_new(schema.clone(), arrays)?;
        out.push(match keep {
            Some(mask) if mask.len() == rows => filter_record_batch(&projected, &mask)?,
            _ => projected,
        });
    }
    Ok(out)
}
