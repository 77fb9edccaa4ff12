//! Log sources that live in AWS, streamed: objects under an S3 prefix (listed with time-range
//! pruning of the date folders) and the streams of a CloudWatch Logs group. Each object or stream
//! is a [`StreamedLog`] whose [`StreamedLog::open`] fetches it anew and yields its bytes through a
//! bounded channel, so a run holds at most [`BUFFER_BUDGET_BYTES`] of fetched data however large
//! the bucket or group is.

use crate::collect::{sdk_config, LiveOptions};
use aws_config::{Region, SdkConfig};
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

/// The bytes one chunk of fetched data holds: S3 body frames and CloudWatch Logs lines are packed
/// into chunks of this size.
pub const CHUNK_BYTES: usize = 256 << 10;
/// Chunks waiting in one object's channel between its fetch and its reader.
pub const CHANNEL_CHUNKS: usize = 4;
/// Objects or log streams fetched at once, across all readers (each reader reads one and has the
/// next one fetching); a fetch beyond them waits for a turn, in the order they were opened.
pub const MAX_OPEN_FETCHES: usize = 4;
/// The memory budget of fetched data: per open fetch, the chunks in its channel, the one its
/// reader is reading and the one its fetch is filling: 4 × (4 + 2) × 256 KiB = 6 MiB. On top of
/// it come the readers' own buffers (each flow reader's 1 MiB line buffer and its record batches)
/// and, for a Parquet object, the whole object (its footer is at the end).
/// What a look for a header line fetches of an S3 object: a header line is a few hundred bytes, and
/// gzip's first block of it is far smaller than this.
pub const HEAD_BYTES: u64 = 64 << 10;
pub const BUFFER_BUDGET_BYTES: u64 = (MAX_OPEN_FETCHES * (CHANNEL_CHUNKS + 2) * CHUNK_BYTES) as u64;

/// Why a log source could not be read: the API, what was asked, and the service's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSourceError {
    pub api: String,
    pub target: String,
    pub message: String,
}

impl std::fmt::Display for LogSourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.api, self.target, self.message)
    }
}

impl std::error::Error for LogSourceError {}

fn error(api: &str, target: &str, e: impl std::fmt::Display) -> LogSourceError {
    LogSourceError {
        api: api.to_owned(),
        target: target.to_owned(),
        message: e.to_string(),
    }
}

/// `s3://bucket/prefix` → (bucket, prefix).
pub fn parse_s3_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| (bucket.to_owned(), prefix.to_owned()))
}

/// What a run fetched, for `--stats`.
#[derive(Debug, Default)]
pub struct FetchStats {
    list_requests: AtomicU64,
    objects_listed: AtomicU64,
    folders_pruned: AtomicU64,
    fetch_requests: AtomicU64,
    objects_read: AtomicU64,
    bytes_fetched: AtomicU64,
    buffered: AtomicU64,
    peak_buffered: AtomicU64,
}

/// A snapshot of [`FetchStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchCounts {
    /// ListObjectsV2 and DescribeLogStreams requests.
    pub list_requests: u64,
    /// Objects and log streams the listing returned, before the time filter of their keys.
    pub objects_listed: u64,
    /// Date folders left unlisted because they cannot hold records in the time range.
    pub folders_pruned: u64,
    /// GetObject and GetLogEvents requests.
    pub fetch_requests: u64,
    /// Objects and streams a reader read to their end (a reader that only looks at the first
    /// line, for a header, does not count).
    pub objects_read: u64,
    pub bytes_fetched: u64,
    /// The most fetched bytes held at once (at most [`BUFFER_BUDGET_BYTES`]).
    pub peak_buffered: u64,
}

impl FetchStats {
    pub fn counts(&self) -> FetchCounts {
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        FetchCounts {
            list_requests: get(&self.list_requests),
            objects_listed: get(&self.objects_listed),
            folders_pruned: get(&self.folders_pruned),
            fetch_requests: get(&self.fetch_requests),
            objects_read: get(&self.objects_read),
            bytes_fetched: get(&self.bytes_fetched),
            peak_buffered: get(&self.peak_buffered),
        }
    }

    fn count(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// A chunk of fetched bytes, counted in the buffered bytes from its allocation to its drop.
struct Chunk {
    data: Vec<u8>,
    stats: Arc<FetchStats>,
}

impl Chunk {
    fn new(stats: &Arc<FetchStats>) -> Chunk {
        let size = CHUNK_BYTES as u64;
        let now = stats.buffered.fetch_add(size, Ordering::Relaxed) + size;
        stats.peak_buffered.fetch_max(now, Ordering::Relaxed);
        Chunk {
            data: Vec::with_capacity(CHUNK_BYTES),
            stats: stats.clone(),
        }
    }

    fn room(&self) -> usize {
        CHUNK_BYTES - self.data.len()
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        self.stats.buffered.fetch_sub(CHUNK_BYTES as u64, Ordering::Relaxed);
    }
}

enum Message {
    Data(Chunk),
    End,
    Failed(String),
}

/// The sending half of one fetch: packs bytes into chunks and hands full ones to the reader.
/// Sending blocks while the channel is full (the reader is behind), off the runtime's async duty.
struct Feed {
    sender: SyncSender<Message>,
    pending: Option<Chunk>,
    stats: Arc<FetchStats>,
}

impl Feed {
    /// False once the reader has gone.
    fn push(&mut self, mut bytes: &[u8]) -> bool {
        FetchStats::count(&self.stats.bytes_fetched, bytes.len() as u64);
        while !bytes.is_empty() {
            let chunk = self.pending.get_or_insert_with(|| Chunk::new(&self.stats));
            let take = chunk.room().min(bytes.len());
            chunk.data.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if chunk.room() == 0 && !self.flush() {
                return false;
            }
        }
        true
    }

    fn flush(&mut self) -> bool {
        match self.pending.take() {
            Some(chunk) => self.send(Message::Data(chunk)),
            None => true,
        }
    }

    fn send(&self, message: Message) -> bool {
        tokio::task::block_in_place(|| self.sender.send(message).is_ok())
    }

    fn finish(mut self) {
        if self.flush() {
            self.send(Message::End);
        }
    }

    fn fail(mut self, message: String) {
        if self.flush() {
            self.send(Message::Failed(message));
        }
    }
}

/// The reading half: a blocking `Read` over the chunks, safe on any thread (a std channel, not
/// the runtime's), ending in an error when the fetch failed or stopped without finishing.
struct ChannelReader {
    name: String,
    stats: Arc<FetchStats>,
    receiver: Receiver<Message>,
    current: Option<Chunk>,
    position: usize,
    finished: bool,
    /// Whether the fetch is of the whole object or stream (its end counts it as read).
    whole: bool,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if let Some(chunk) = &self.current {
                if self.position < chunk.data.len() {
                    let n = out.len().min(chunk.data.len() - self.position);
                    out[..n].copy_from_slice(&chunk.data[self.position..self.position + n]);
                    self.position += n;
                    return Ok(n);
                }
                self.current = None;
            }
            if self.finished || out.is_empty() {
                return Ok(0);
            }
            match self.receiver.recv() {
                Ok(Message::Data(chunk)) => {
                    self.current = Some(chunk);
                    self.position = 0;
                }
                Ok(Message::End) => {
                    self.finished = true;
                    if self.whole {
                        FetchStats::count(&self.stats.objects_read, 1);
                    }
                }
                Ok(Message::Failed(message)) => {
                    self.finished = true;
                    return Err(std::io::Error::other(message));
                }
                Err(_) => {
                    self.finished = true;
                    return Err(std::io::Error::other(format!(
                        "{}: the fetch stopped before the end",
                        self.name
                    )));
                }
            }
        }
    }
}

/// The runtime and clients every fetch of one run shares. The runtime lives as long as the last
/// object that can open a fetch.
struct Fetcher {
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    s3: aws_sdk_s3::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    turns: Arc<tokio::sync::Semaphore>,
    stats: Arc<FetchStats>,
}

impl Drop for Fetcher {
    fn drop(&mut self) {
        // Dropped on whichever thread held the last reference, perhaps inside another runtime:
        // shutting down in the background never blocks there.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Fetcher {
    /// Start `fetch` (of the `whole` object or stream, or not) on the runtime once a turn is
    /// free; the reader gets what it feeds.
    fn start<F, Fut>(self: &Arc<Self>, name: &str, whole: bool, fetch: F) -> Box<dyn Read + Send>
    where
        F: FnOnce(Arc<Fetcher>, Feed) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let (sender, receiver) = sync_channel(CHANNEL_CHUNKS);
        let feed = Feed {
            sender,
            pending: None,
            stats: self.stats.clone(),
        };
        let fetcher = self.clone();
        self.handle.spawn(async move {
            let Ok(_turn) = fetcher.turns.clone().acquire_owned().await else {
                return;
            };
            fetch(fetcher, feed).await;
        });
        Box::new(ChannelReader {
            name: name.to_owned(),
            stats: self.stats.clone(),
            receiver,
            current: None,
            position: 0,
            finished: false,
            whole,
        })
    }
}

/// Where the logs of one run come from: a runtime of its own, the SDK configuration of the
/// options, and the counts of what was fetched.
#[derive(Clone)]
pub struct LogFetcher {
    inner: Arc<Fetcher>,
}

impl std::fmt::Debug for LogFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogFetcher")
            .field("counts", &self.inner.stats.counts())
            .finish()
    }
}

/// One S3 object or CloudWatch Logs stream, fetched anew on each [`StreamedLog::open`].
#[derive(Clone)]
pub struct StreamedLog {
    /// `s3://bucket/key` or `GROUP/STREAM`.
    pub name: String,
    /// The object's size, when the listing gave it.
    pub size: Option<u64>,
    what: Fetch,
    fetcher: Arc<Fetcher>,
}

#[derive(Debug, Clone)]
enum Fetch {
    S3 {
        bucket: String,
        key: String,
    },
    LogStream {
        group: String,
        stream: String,
        start: Option<i64>,
        end: Option<i64>,
        events_as_lines: bool,
    },
}

impl std::fmt::Debug for StreamedLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamedLog")
            .field("name", &self.name)
            .field("size", &self.size)
            .finish()
    }
}

impl StreamedLog {
    /// A CloudWatch Logs stream: its events are records, never a header line naming the fields.
    pub fn is_log_stream(&self) -> bool {
        matches!(self.what, Fetch::LogStream { .. })
    }

    /// A reader of the whole object or stream from its start. The fetch runs on the fetcher's
    /// runtime; a failure, at the start or part-way, is an error from `read()` naming the API and
    /// the object.
    pub fn open(&self) -> Box<dyn Read + Send> {
        self.fetch(None)
    }

    /// A reader of the first [`HEAD_BYTES`] of an S3 object (a ranged GetObject), enough to look
    /// for a header line without fetching the rest; a log stream is read whole.
    pub fn open_head(&self) -> Box<dyn Read + Send> {
        self.fetch(Some(HEAD_BYTES))
    }

    fn fetch(&self, head: Option<u64>) -> Box<dyn Read + Send> {
        let what = self.what.clone();
        let name = self.name.clone();
        let whole = head.is_none() || self.is_log_stream();
        self.fetcher.start(&self.name, whole, move |fetcher, feed| async move {
            match what {
                Fetch::S3 { bucket, key } => fetch_object(&fetcher, &bucket, &key, head, &name, feed).await,
                Fetch::LogStream {
                    group,
                    stream,
                    start,
                    end,
                    events_as_lines,
                } => fetch_log_stream(&fetcher, &group, &stream, (start, end), events_as_lines, feed).await,
            }
        })
    }
}

/// The object, or its first `head` bytes.
async fn fetch_object(fetcher: &Fetcher, bucket: &str, key: &str, head: Option<u64>, name: &str, mut feed: Feed) {
    FetchStats::count(&fetcher.stats.fetch_requests, 1);
    let range = head.map(|bytes| format!("bytes=0-{}", bytes.saturating_sub(1)));
    let request = fetcher.s3.get_object().bucket(bucket).key(key).set_range(range);
    let object = match request.send().await {
        Ok(object) => object,
        Err(e) => {
            let e = error("s3:GetObject", name, aws_sdk_s3::error::DisplayErrorContext(e));
            return feed.fail(e.to_string());
        }
    };
    let mut body = object.body;
    loop {
        match body.try_next().await {
            Ok(Some(bytes)) => {
                if !feed.push(&bytes) {
                    return;
                }
            }
            Ok(None) => return feed.finish(),
            Err(e) => return feed.fail(error("s3:GetObject", name, e).to_string()),
        }
    }
}

/// Every event of one stream in `[start, end)`, oldest first, one line each: flow records as they
/// are, other (JSON) events with their inner newlines made spaces.
async fn fetch_log_stream(
    fetcher: &Fetcher,
    group: &str,
    stream: &str,
    (start, end): (Option<i64>, Option<i64>),
    events_as_lines: bool,
    mut feed: Feed,
) {
    let name = format!("{group}/{stream}");
    let mut token: Option<String> = None;
    loop {
        FetchStats::count(&fetcher.stats.fetch_requests, 1);
        let page = fetcher
            .logs
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(true)
            .set_start_time(start)
            // The end is exclusive in AWS and inclusive in some emulators: one millisecond short.
            .set_end_time(end.map(|end| end - 1))
            .set_next_token(token.clone())
            .send()
            .await;
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                let e = error(
                    "logs:GetLogEvents",
                    &name,
                    aws_sdk_cloudwatchlogs::error::DisplayErrorContext(e),
                );
                return feed.fail(e.to_string());
            }
        };
        for event in page.events() {
            let message = event.message().unwrap_or_default();
            let line = if events_as_lines {
                message.trim_end().to_owned()
            } else {
                message.replace('\n', " ")
            };
            if !feed.push(line.as_bytes()) || !feed.push(b"\n") {
                return;
            }
        }
        // The last page repeats its forward token.
        let next = page.next_forward_token().map(str::to_owned);
        if next.is_none() || next == token {
            return feed.finish();
        }
        token = next;
    }
}

impl LogFetcher {
    /// A fetcher with its own runtime, for the profile, endpoint and region given.
    pub fn new(options: &LiveOptions, region: Option<&str>) -> Result<LogFetcher, LogSourceError> {
        let runtime = crate::collect::runtime().map_err(|gap| error("netaudit:Runtime", "", &gap.message))?;
        let config = runtime.block_on(config(options, region));
        Ok(LogFetcher::with_runtime(runtime, &config))
    }

    fn with_runtime(runtime: tokio::runtime::Runtime, config: &SdkConfig) -> LogFetcher {
        let s3 =
            aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build());
        LogFetcher {
            inner: Arc::new(Fetcher {
                handle: runtime.handle().clone(),
                runtime: Some(runtime),
                s3,
                logs: aws_sdk_cloudwatchlogs::Client::new(config),
                turns: Arc::new(tokio::sync::Semaphore::new(MAX_OPEN_FETCHES)),
                stats: Arc::new(FetchStats::default()),
            }),
        }
    }

    pub fn counts(&self) -> FetchCounts {
        self.inner.stats.counts()
    }

    /// The objects under `s3://bucket/prefix` whose key `keep_key` accepts, in key order (called
    /// outside any async runtime: it waits for the listing on the fetcher's). With
    /// `prune` the listing walks the folders (Delimiter "/") and descends only into those `prune`
    /// accepts (a date folder that can hold records in the time range); without it, one flat
    /// listing.
    pub fn s3_objects(
        &self,
        url: &str,
        prune: Option<&(dyn Fn(&str) -> bool + Sync)>,
        keep_key: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<Vec<StreamedLog>, LogSourceError> {
        let (bucket, prefix) =
            parse_s3_url(url).ok_or_else(|| error("s3:ListObjectsV2", url, "not an s3://bucket/prefix URL"))?;
        let listed = self.inner.handle.block_on(self.list(&bucket, &prefix, url, prune))?;
        let mut out: Vec<StreamedLog> = listed
            .into_iter()
            .filter(|(key, _)| !key.ends_with('/') && keep_key(key))
            .map(|(key, size)| StreamedLog {
                name: format!("s3://{bucket}/{key}"),
                size,
                what: Fetch::S3 {
                    bucket: bucket.clone(),
                    key,
                },
                fetcher: self.inner.clone(),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        url: &str,
        prune: Option<&(dyn Fn(&str) -> bool + Sync)>,
    ) -> Result<Vec<(String, Option<u64>)>, LogSourceError> {
        let stats = &self.inner.stats;
        let mut out = vec![];
        let mut folders = vec![prefix.to_owned()];
        while let Some(folder) = folders.pop() {
            let mut request = self.inner.s3.list_objects_v2().bucket(bucket).prefix(&folder);
            if prune.is_some() {
                request = request.delimiter("/");
            }
            let mut pages = request.into_paginator().send();
            while let Some(page) = pages.next().await {
                FetchStats::count(&stats.list_requests, 1);
                let page =
                    page.map_err(|e| error("s3:ListObjectsV2", url, aws_sdk_s3::error::DisplayErrorContext(e)))?;
                for object in page.contents() {
                    if let Some(key) = object.key() {
                        FetchStats::count(&stats.objects_listed, 1);
                        out.push((key.to_owned(), object.size().and_then(|s| u64::try_from(s).ok())));
                    }
                }
                for common in page.common_prefixes() {
                    let Some(sub) = common.prefix() else { continue };
                    if prune.is_none_or(|prune| prune(sub)) {
                        folders.push(sub.to_owned());
                    } else {
                        FetchStats::count(&stats.folders_pruned, 1);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The streams of `group` that can hold events in `[start, end)` (epoch milliseconds; called
    /// outside any async runtime, like [`LogFetcher::s3_objects`]), each a
    /// streamed log named `GROUP/STREAM`, in stream order; `events_as_lines`: flow records (kept
    /// as they are) rather than JSON events (inner newlines made spaces).
    pub fn log_streams(
        &self,
        group: &str,
        start: Option<i64>,
        end: Option<i64>,
        events_as_lines: bool,
    ) -> Result<Vec<StreamedLog>, LogSourceError> {
        // AWS takes events up to two hours ahead of their ingestion.
        const FUTURE_MILLIS: i64 = 2 * 3_600_000;
        let stats = &self.inner.stats;
        let streams = self.inner.handle.block_on(async {
            let mut pages = self
                .inner
                .logs
                .describe_log_streams()
                .log_group_name(group)
                .into_paginator()
                .send();
            let mut out = vec![];
            while let Some(page) = pages.next().await {
                FetchStats::count(&stats.list_requests, 1);
                let page = page.map_err(|e| {
                    error(
                        "logs:DescribeLogStreams",
                        group,
                        aws_sdk_cloudwatchlogs::error::DisplayErrorContext(e),
                    )
                })?;
                for stream in page.log_streams() {
                    let Some(name) = stream.log_stream_name() else { continue };
                    FetchStats::count(&stats.objects_listed, 1);
                    // lastEventTimestamp can lag; the last ingestion bounds it too.
                    let last = stream.last_event_timestamp().max(stream.last_ingestion_time());
                    let before = matches!((last, start), (Some(last), Some(start)) if last + FUTURE_MILLIS < start);
                    let after =
                        matches!((stream.first_event_timestamp(), end), (Some(first), Some(end)) if first >= end);
                    if !before && !after {
                        out.push(name.to_owned());
                    }
                }
            }
            Ok::<_, LogSourceError>(out)
        })?;
        let mut out: Vec<StreamedLog> = streams
            .into_iter()
            .map(|stream| StreamedLog {
                name: format!("{group}/{stream}"),
                size: None,
                what: Fetch::LogStream {
                    group: group.to_owned(),
                    stream,
                    start,
                    end,
                    events_as_lines,
                },
                fetcher: self.inner.clone(),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

async fn config(options: &LiveOptions, region: Option<&str>) -> SdkConfig {
    let config = sdk_config(options).await;
    match region {
        Some(region) => config.to_builder().region(Region::new(region.to_owned())).build(),
        None => config,
    }
}
