//! The streaming flow log reader: text (plain or gzip) and AWS Parquet into Arrow record batches.
//!
//! The text path works on bytes: lines are found with `memchr`, fields split on runs of spaces,
//! numbers parsed in place and strings copied straight into the Arrow buffers, with no allocation
//! per line. A line is checked whole (field count, numbers, UTF-8) before any of it is appended, so
//! a bad line never leaves half a row behind.

use crate::flow_format::{FieldKind, FlowColumns, FlowFormat, FIELDS};
use crate::fold::scan::RecordLayout;
use crate::fold::LineSink;
use crate::issues::{Issue, Issues};
use crate::LogError;
use datafusion::arrow::array::{
    new_null_array, Array, ArrayRef, BooleanArray, Int32Builder, Int64Array, Int64Builder, RecordBatch,
    RecordBatchOptions, StringBuilder,
};
use datafusion::arrow::compute::{and, filter_record_batch, kernels::cmp};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

/// What to read and how strictly.
#[derive(Debug, Clone)]
pub struct FlowReadOptions {
    /// The format of files without a header line (CloudWatch Logs, `--log-format`); default v2.
    pub format: FlowFormat,
    /// The table's columns; default: every documented field. A field of a file's format that is
    /// not one of them is checked and skipped.
    pub columns: FlowColumns,
    /// Indices into `columns` to build; the rest are skipped. `None`: every column. Every value
    /// is checked whether or not its column is built.
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
            columns: FlowColumns::all_documented(),
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
        let full = self.columns.schema();
        match &self.projection {
            None => full,
            Some(p) => Arc::new(Schema::new(
                p.iter().map(|i| full.field(*i).clone()).collect::<Vec<_>>(),
            )),
        }
    }

    fn projected_columns(&self) -> Vec<usize> {
        self.projection
            .clone()
            .unwrap_or_else(|| (0..self.columns.len()).collect())
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
    /// Per output column, its index in the table's columns; `None` in `format_to_column` skips a
    /// position.
    columns: Vec<usize>,
    builders: Vec<ColumnBuilder>,
    format: Option<FlowFormat>,
    /// Per format position: the output column it feeds.
    format_to_column: Vec<Option<usize>>,
    /// Output columns the format does not carry (all null).
    missing_columns: Vec<bool>,
    start_position: Option<usize>,
    end_position: Option<usize>,
    /// Per format position: the numeric kind of a documented numeric field. Every one is parsed
    /// and checked, whichever columns are built, so what counts as a bad line never depends on
    /// the query.
    number_kind: Vec<Option<FieldKind>>,
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
        let columns = options.projected_columns();
        let builders = columns
            .iter()
            .map(|i| ColumnBuilder::new(options.columns.kind(*i), options.batch_size))
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
            number_kind: vec![],
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
            .names
            .iter()
            .map(|name| {
                let column = self.options.columns.index_of(name)?;
                self.columns.iter().position(|c| *c == column)
            })
            .collect();
        self.missing_columns = (0..self.columns.len())
            .map(|column| !self.format_to_column.contains(&Some(column)))
            .collect();
        self.start_position = format.position_of("start");
        self.end_position = format.position_of("end");
        self.number_kind = format
            .positions
            .iter()
            .map(|field| field.map(|f| FIELDS[f].kind).filter(|k| *k != FieldKind::Text))
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
            let Some(kind) = self.number_kind[position] else {
                continue;
            };
            let value = &bytes[a..b];
            self.numbers[position] = if value == b"-" {
                None
            } else {
                let n = parse_u64(value)
                    .ok_or_else(|| format!("{}: {:?} is not a number", format.names[position], &text[a..b]))?;
                let limit = match kind {
                    FieldKind::Int32 => i32::MAX as u64,
                    _ => i64::MAX as u64,
                };
                if n > limit {
                    return Err(format!(
                        "{}: {} does not fit its column (at most {limit})",
                        format.names[position],
                        &text[a..b]
                    ));
                }
                Some(n as i64)
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
                // Checked above to fit.
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
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        Ok(Some(RecordBatch::try_new_with_options(
            self.schema.clone(),
            arrays,
            &options,
        )?))
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
    Ok(gunzip_if_gzip(input)?.0)
}

/// [`maybe_gunzip`], and whether it was gzip.
fn gunzip_if_gzip(input: Box<dyn Read + Send>) -> std::io::Result<(Box<dyn Read + Send>, bool)> {
    let mut buffered = BufReader::with_capacity(1 << 16, input);
    let head = buffered.fill_buf()?;
    if head.starts_with(&GZIP_MAGIC) {
        Ok((Box::new(flate2::read::MultiGzDecoder::new(buffered)), true))
    } else {
        Ok((Box::new(buffered), false))
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
        let (input, gzip) = gunzip_if_gzip(input)?;
        // Inflating gzip takes a core: done ahead on a thread of its own, the lines are parsed
        // beside it rather than after it.
        let input = if gzip {
            crate::read_ahead::read_ahead(input)
        } else {
            input
        };
        Ok(FlowTextReader::plain(source.into(), input, options, issues, None, None))
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

    /// Feed each line (without its newline) to `each` until it asks for a stop (`Ok(true)`) or
    /// the input ends; `Ok(true)` when it stopped early. Lines are numbered for issues as the
    /// general reader numbers them, whoever reads them.
    fn drive<F>(&mut self, mut each: F) -> Result<bool, LogError>
    where
        F: FnMut(&mut LineParser, &[u8]) -> Result<bool, LogError>,
    {
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
                if each(&mut self.parser, &self.buffer[line_start..line_end])? {
                    return Ok(true);
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
                        let last = self.consumed..self.filled;
                        self.consumed = self.filled;
                        each(&mut self.parser, &self.buffer[last])?;
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
        Ok(false)
    }

    /// The next batch, or `None` at the end of the input.
    pub fn next_batch(&mut self) -> Result<Option<RecordBatch>, LogError> {
        self.drive(|parser, line| parser.line(line))?;
        self.parser.take_batch()
    }

    /// Read every line: the sink's fast path takes a line the way the general reader would read
    /// it, or declines it (given the layout of the format in force, once there is one); a declined
    /// line is read by the general reader (issues and all), and its records reach the sink in
    /// batches.
    pub(crate) fn fold_lines<S: LineSink>(&mut self, sink: &mut S) -> Result<(), LogError> {
        // The layout follows the parser's format: known from the start for a byte range, from
        // the first line otherwise (a header line is the parser's to read).
        let mut layout: Option<Option<RecordLayout>> = None;
        self.drive(|parser, line| {
            if layout.is_none() {
                layout = parser.format.as_ref().map(RecordLayout::of);
            }
            if let Some(Some(layout)) = &layout {
                if sink.fast(line, layout) {
                    parser.line_number += 1;
                    return Ok(false);
                }
            }
            if parser.line(line)? {
                if let Some(batch) = parser.take_batch()? {
                    sink.slow(batch)?;
                }
            }
            Ok(false)
        })?;
        if let Some(batch) = self.parser.take_batch()? {
            sink.slow(batch)?;
        }
        Ok(())
    }
}

impl Iterator for FlowTextReader {
    type Item = Result<RecordBatch, LogError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}

/// The fields of an AWS Parquet flow log file, from its footer: columns named with `_`.
pub fn parquet_format(source: &str, bytes: bytes::Bytes) -> Result<FlowFormat, LogError> {
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(|e| bad_file(source, e.to_string()))?;
    let names: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
    Ok(FlowFormat::from_field_names(names))
}

fn bad_file(source: &str, message: String) -> LogError {
    LogError::BadInput(Issue {
        source: source.to_owned(),
        line: None,
        message,
    })
}

/// Read an AWS Parquet flow log file (columns named with `_`) into the `flows` schema: columns are
/// cast to the table's types, and fields the file lacks are null. A value that does not fit its
/// column (text where a number belongs, a number too large) makes its row a bad row, reported with
/// its 1-based row number in place of a line, never a null.
pub fn read_parquet(
    source: &str,
    bytes: bytes::Bytes,
    options: &FlowReadOptions,
    issues: &Issues,
) -> Result<Vec<RecordBatch>, LogError> {
    use datafusion::arrow::compute::{cast_with_options, CastOptions};
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .map_err(|e| bad_file(source, e.to_string()))?
        .with_batch_size(options.batch_size)
        .build()
        .map_err(|e| bad_file(source, e.to_string()))?;
    let schema = options.schema();
    let table = options.columns.schema();
    let projected = options.projected_columns();
    let mut out = vec![];
    let mut first_row = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| bad_file(source, e.to_string()))?;
        let rows = batch.num_rows();
        // Every column the file and the table share is cast and checked, built or not.
        let mut cast_columns: Vec<Option<ArrayRef>> = vec![None; table.fields().len()];
        let mut bad = vec![false; rows];
        let mut first_problem: Vec<Option<String>> = vec![None; rows];
        for (index, target) in table.fields().iter().enumerate() {
            let Ok(i) = batch.schema().index_of(target.name()) else {
                continue;
            };
            let original = batch.column(i);
            let safe = CastOptions {
                safe: true,
                ..CastOptions::default()
            };
            let converted = cast_with_options(original, target.data_type(), &safe)
                .map_err(|e| bad_file(source, format!("column {}: {e}", target.name())))?;
            for row in 0..rows {
                if original.is_valid(row) && converted.is_null(row) {
                    bad[row] = true;
                    if first_problem[row].is_none() {
                        let shown =
                            datafusion::arrow::util::display::array_value_to_string(original, row).unwrap_or_default();
                        first_problem[row] = Some(format!("{}: {shown:?} does not fit its column", target.name()));
                    }
                }
            }
            cast_columns[index] = Some(converted);
        }
        for (row, problem) in first_problem.into_iter().enumerate() {
            if let Some(message) = problem {
                let issue = Issue {
                    source: source.to_owned(),
                    line: Some(first_row + row as u64 + 1),
                    message: format!("row {}: {message}", first_row + row as u64 + 1),
                };
                if options.strict {
                    return Err(LogError::BadInput(issue));
                }
                issues.report(issue);
            }
        }
        first_row += rows as u64;
        let column = |name: &str| -> Option<ArrayRef> {
            let index = table.index_of(name).ok()?;
            cast_columns[index].clone()
        };
        let mut keep: Option<BooleanArray> = bad
            .iter()
            .any(|b| *b)
            .then(|| BooleanArray::from(bad.iter().map(|b| !b).collect::<Vec<_>>()));
        if let (Some(since), Some(end)) = (options.since, column("end")) {
            let after = cmp::gt_eq(&end, &Int64Array::new_scalar(since))?;
            keep = Some(match keep {
                Some(k) => and(&k, &after)?,
                None => after,
            });
        }
        if let (Some(until), Some(start)) = (options.until, column("start")) {
            let before = cmp::lt(&start, &Int64Array::new_scalar(until))?;
            keep = Some(match keep {
                Some(k) => and(&k, &before)?,
                None => before,
            });
        }
        let arrays = projected
            .iter()
            .map(|index| {
                let field = table.field(*index);
                cast_columns[*index]
                    .clone()
                    .unwrap_or_else(|| new_null_array(field.data_type(), rows))
            })
            .collect::<Vec<_>>();
        let row_count = RecordBatchOptions::new().with_row_count(Some(rows));
        let projected_batch = RecordBatch::try_new_with_options(schema.clone(), arrays, &row_count)?;
        out.push(match keep {
            // A null comparison (no end time) keeps the row, as the text reader does.
            Some(mask) if mask.len() == rows => {
                let mask = BooleanArray::from(
                    (0..rows)
                        .map(|r| (mask.is_null(r) && !bad[r]) || (mask.is_valid(r) && mask.value(r)))
                        .collect::<Vec<_>>(),
                );
                filter_record_batch(&projected_batch, &mask)?
            }
            _ => projected_batch,
        });
    }
    Ok(out)
}
