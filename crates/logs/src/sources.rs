//! Where log bytes come from: local files and directory trees in the S3 key layout (with time-range
//! pruning from the path), streams the caller opens (S3 objects, CloudWatch Logs streams), or bytes
//! already in memory.

use crate::LogError;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Something the caller can open as a byte stream, again for every scan: an S3 object, a
/// CloudWatch Logs stream. This crate does no network I/O; the caller's `open` does.
pub trait OpenInput: Send + Sync + std::fmt::Debug {
    /// A fresh reader from the start. A failure part-way is an error from `read()`, naming the source.
    fn open(&self) -> std::io::Result<Box<dyn std::io::Read + Send>>;

    /// A reader of the input's beginning, at least its first 64 KiB (or all of it): what a look
    /// for a header line needs. The whole input unless the caller can fetch less.
    fn open_head(&self) -> std::io::Result<Box<dyn std::io::Read + Send>> {
        self.open()
    }

    /// Whether the input may start with a header line naming its flow log fields (an S3 object);
    /// when not (CloudWatch Logs events are records), it is not opened just to look.
    fn may_have_header(&self) -> bool {
        true
    }
}

/// One unit of input: a file, a stream the caller opens, or named bytes in memory.
#[derive(Debug, Clone)]
pub enum Input {
    File(PathBuf),
    /// `name` is the S3 URL or `group/stream`: issues cite it, and tunnel logs take their
    /// connection id and outside IP from it. `size`, when known, balances the readers.
    Stream {
        name: String,
        size: Option<u64>,
        source: Arc<dyn OpenInput>,
    },
    /// Small inputs and tests.
    Memory {
        name: String,
        bytes: bytes::Bytes,
    },
}

impl Input {
    pub fn name(&self) -> String {
        match self {
            Input::File(path) => path.display().to_string(),
            Input::Stream { name, .. } | Input::Memory { name, .. } => name.clone(),
        }
    }

    /// Whether the input may start with a header line naming its flow log fields.
    pub fn may_have_header(&self) -> bool {
        match self {
            Input::Stream { source, .. } => source.may_have_header(),
            Input::File(_) | Input::Memory { .. } => true,
        }
    }

    /// Whether a failure to open or read this input is the caller's fetch failing (reported as an
    /// issue for that input while the rest are read) rather than a local file that is missing.
    pub fn is_stream(&self) -> bool {
        matches!(self, Input::Stream { .. })
    }

    pub fn is_parquet(&self) -> bool {
        self.name().ends_with(".parquet")
    }

    /// The whole input, decompressed when it is gzip, and the error that cut it short (a truncated
    /// gzip file): what was read before it is kept.
    pub fn read_to_vec(&self) -> Result<(Vec<u8>, Option<std::io::Error>), LogError> {
        use std::io::Read;
        let mut out = vec![];
        let opened = self
            .open()
            .and_then(|r| crate::flow_reader::maybe_gunzip(r).map_err(|e| self.io_error(e)));
        let mut reader = match opened {
            Ok(reader) => reader,
            // A fetch that fails before its first byte is that input's problem, like one cut short.
            Err(LogError::Io { source, .. }) if self.is_stream() => return Ok((out, Some(source))),
            Err(e) => return Err(e),
        };
        let cut = reader.read_to_end(&mut out).err();
        Ok((out, cut))
    }

    pub fn open(&self) -> Result<Box<dyn std::io::Read + Send>, LogError> {
        match self {
            Input::File(path) => Ok(Box::new(std::fs::File::open(path).map_err(|e| LogError::io(path, e))?)),
            Input::Stream { source, .. } => source.open().map_err(|e| self.io_error(e)),
            Input::Memory { bytes, .. } => Ok(Box::new(std::io::Cursor::new(bytes.clone()))),
        }
    }

    /// A reader of the input's beginning, at least its first 64 KiB (or all of it), for a look at
    /// its first line: a streamed input fetches no more than that when it can.
    pub fn open_head(&self) -> Result<Box<dyn std::io::Read + Send>, LogError> {
        match self {
            Input::Stream { source, .. } => source.open_head().map_err(|e| self.io_error(e)),
            Input::File(_) | Input::Memory { .. } => self.open(),
        }
    }

    /// The whole input in memory. Parquet needs this (its footer is at the end): a streamed Parquet
    /// object is held whole while it is read, outside the streaming budget.
    pub fn bytes(&self) -> Result<bytes::Bytes, LogError> {
        use std::io::Read;
        match self {
            Input::File(path) => Ok(std::fs::read(path).map_err(|e| LogError::io(path, e))?.into()),
            Input::Stream { .. } => {
                let mut out = vec![];
                self.open()?.read_to_end(&mut out).map_err(|e| self.io_error(e))?;
                Ok(out.into())
            }
            Input::Memory { bytes, .. } => Ok(bytes.clone()),
        }
    }

    fn io_error(&self, e: std::io::Error) -> LogError {
        LogError::Io {
            path: self.name(),
            source: e,
        }
    }
}

/// A time range in epoch seconds: `[since, until)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// Records reach S3 up to this long after they end; a folder is kept when its delivery window,
/// widened by this much, meets the range.
pub const DELIVERY_SLACK_SECONDS: i64 = 3600;

/// The window of event times (epoch milliseconds, `[start, end)`) to ask CloudWatch Logs for, to
/// find every record that overlaps `range`: an event's time is when it was delivered, not the
/// record's capture window, so the window is widened by the same delivery slack as S3 folders.
/// The records themselves are then filtered to `range` exactly.
pub fn cloudwatch_window(range: TimeRange) -> (Option<i64>, Option<i64>) {
    let millis = |seconds: i64| seconds.saturating_mul(1000);
    (
        range.since.map(|s| millis(s.saturating_sub(DELIVERY_SLACK_SECONDS))),
        range.until.map(|u| millis(u.saturating_add(DELIVERY_SLACK_SECONDS))),
    )
}

/// The delivery window a folder stands for, from the partitions named so far on its path.
#[derive(Debug, Clone, Copy, Default)]
struct Partition {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    hour: Option<u32>,
    /// Components since `vpcflowlogs` in the plain layout (region, yyyy, mm, dd, HH).
    plain_depth: Option<usize>,
}

impl Partition {
    fn descend(mut self, component: &str) -> Partition {
        if let Some(depth) = self.plain_depth {
            let depth = depth + 1;
            self.plain_depth = Some(depth);
            let number = component.parse::<u32>().ok();
            match depth {
                2 => self.year = number.and_then(|n| i32::try_from(n).ok()),
                3 => self.month = number,
                4 => self.day = number,
                5 => self.hour = number,
                _ => {}
            }
            return self;
        }
        if component == "vpcflowlogs" {
            self.plain_depth = Some(0);
            return self;
        }
        if let Some((key, value)) = component.split_once('=') {
            match key {
                "year" => self.year = value.parse().ok(),
                "month" => self.month = value.parse().ok(),
                "day" => self.day = value.parse().ok(),
                "hour" => self.hour = value.parse().ok(),
                _ => {}
            }
        }
        self
    }

    /// `[start, end)` of the window in epoch seconds, when the path names at least a year.
    fn window(&self) -> Option<(i64, i64)> {
        use chrono::{Datelike, Duration, NaiveDate};
        let year = self.year?;
        let (start, end) = match (self.month, self.day, self.hour) {
            (Some(m), Some(d), Some(h)) => {
                let start = NaiveDate::from_ymd_opt(year, m, d)?.and_hms_opt(h, 0, 0)?;
                (start, start + Duration::hours(1))
            }
            (Some(m), Some(d), None) => {
                let start = NaiveDate::from_ymd_opt(year, m, d)?.and_hms_opt(0, 0, 0)?;
                (start, start + Duration::days(1))
            }
            (Some(m), None, _) => {
                let first = NaiveDate::from_ymd_opt(year, m, 1)?;
                let next = if m == 12 {
                    NaiveDate::from_ymd_opt(year + 1, 1, 1)?
                } else {
                    NaiveDate::from_ymd_opt(first.year(), m + 1, 1)?
                };
                (first.and_hms_opt(0, 0, 0)?, next.and_hms_opt(0, 0, 0)?)
            }
            (None, _, _) => (
                NaiveDate::from_ymd_opt(year, 1, 1)?.and_hms_opt(0, 0, 0)?,
                NaiveDate::from_ymd_opt(year + 1, 1, 1)?.and_hms_opt(0, 0, 0)?,
            ),
        };
        Some((start.and_utc().timestamp(), end.and_utc().timestamp()))
    }

    fn meets(&self, range: TimeRange) -> bool {
        let Some((start, end)) = self.window() else {
            return true;
        };
        if range.since.is_some_and(|since| end <= since) {
            return false;
        }
        if range.until.is_some_and(|until| start - DELIVERY_SLACK_SECONDS >= until) {
            return false;
        }
        true
    }
}

/// Every file under `root` (or `root` itself), sorted, skipping hidden files and folders whose
/// path partitions (plain `…/vpcflowlogs/{region}/{yyyy}/{mm}/{dd}/[HH]/` or Hive-style
/// `year=…/month=…/day=…/[hour=…]/`) lie outside `range`.
pub fn list_files(root: &Path, range: TimeRange) -> Result<Vec<PathBuf>, LogError> {
    let metadata = std::fs::metadata(root).map_err(|e| LogError::io(root, e))?;
    if metadata.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    // Partitions named above the root count too (`logs/AWSLogs/…/2024/06/10` given directly).
    let mut partition = Partition::default();
    for component in root.components() {
        partition = partition.descend(&component.as_os_str().to_string_lossy());
    }
    let mut out = vec![];
    walk(root, partition, range, &mut out)?;
    out.sort();
    Ok(out)
}

/// Whether the partitions named on `path` (an S3 key's folders, say) can hold records in `range`.
pub fn path_in_range(path: &Path, range: TimeRange) -> bool {
    let mut partition = Partition::default();
    for component in path.components() {
        partition = partition.descend(&component.as_os_str().to_string_lossy());
        if !partition.meets(range) {
            return false;
        }
    }
    true
}

fn walk(dir: &Path, partition: Partition, range: TimeRange, out: &mut Vec<PathBuf>) -> Result<(), LogError> {
    if !partition.meets(range) {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| LogError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| LogError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| LogError::io(&path, e))?;
        if kind.is_dir() {
            walk(&path, partition.descend(&name), range, out)?;
        } else if kind.is_file() || kind.is_symlink() {
            out.push(path);
        }
    }
    Ok(())
}

/// Parse a time as given on the command line: epoch seconds, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]`
/// or RFC 3339 (`2024-06-10T06:13:20Z`). Times without a zone are UTC.
pub fn parse_time(text: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Some(seconds);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp());
    }
    for pattern in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, pattern) {
            return Some(t.and_utc().timestamp());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
}
