//! Log sources that live in AWS: objects under an S3 prefix, and the events of a CloudWatch Logs
//! group for a time range (FilterLogEvents). The caller hands the bytes to the logs crate.

use crate::collect::{sdk_config, LiveOptions};
use aws_config::{Region, SdkConfig};

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

fn runtime() -> Result<tokio::runtime::Runtime, LogSourceError> {
    crate::collect::runtime().map_err(|gap| error("netaudit:Runtime", "", &gap.message))
}

async fn config(options: &LiveOptions, region: Option<&str>) -> SdkConfig {
    let config = sdk_config(options).await;
    match region {
        Some(region) => config.to_builder().region(Region::new(region.to_owned())).build(),
        None => config,
    }
}

/// Every object under `s3://bucket/prefix` whose key `keep` accepts, as (`s3://bucket/key`, bytes),
/// in key order. `keep` sees the key, so callers prune by the time partitions in it.
pub async fn s3_objects(
    config: &SdkConfig,
    url: &str,
    keep: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Vec<(String, Vec<u8>)>, LogSourceError> {
    let (bucket, prefix) =
        parse_s3_url(url).ok_or_else(|| error("s3:ListObjectsV2", url, "not an s3://bucket/prefix URL"))?;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build());
    let mut keys = vec![];
    let mut pages = s3
        .list_objects_v2()
        .bucket(&bucket)
        .prefix(&prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| error("s3:ListObjectsV2", url, aws_sdk_s3::error::DisplayErrorContext(e)))?;
        for object in page.contents() {
            if let Some(key) = object.key() {
                if !key.ends_with('/') && keep(key) {
                    keys.push(key.to_owned());
                }
            }
        }
    }
    keys.sort();
    let mut out = vec![];
    for key in keys {
        let name = format!("s3://{bucket}/{key}");
        let object = s3
            .get_object()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| error("s3:GetObject", &name, aws_sdk_s3::error::DisplayErrorContext(e)))?;
        let body = object
            .body
            .collect()
            .await
            .map_err(|e| error("s3:GetObject", &name, e))?;
        out.push((name, body.into_bytes().to_vec()));
    }
    Ok(out)
}

/// One CloudWatch Logs event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    pub stream: String,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub message: String,
}

/// Every event of `group` in `[since, until)` (epoch milliseconds; `None`: unbounded), across
/// every stream, through FilterLogEvents with all its pages.
pub async fn cloudwatch_events(
    config: &SdkConfig,
    group: &str,
    since: Option<i64>,
    until: Option<i64>,
) -> Result<Vec<LogEvent>, LogSourceError> {
    let logs = aws_sdk_cloudwatchlogs::Client::new(config);
    let mut request = logs.filter_log_events().log_group_name(group);
    if let Some(since) = since {
        request = request.start_time(since);
    }
    if let Some(until) = until {
        // FilterLogEvents returns events at its end time: stop one millisecond short.
        request = request.end_time(until - 1);
    }
    let mut pages = request.into_paginator().send();
    let mut out = vec![];
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            error(
                "logs:FilterLogEvents",
                group,
                aws_sdk_cloudwatchlogs::error::DisplayErrorContext(e),
            )
        })?;
        for event in page.events() {
            out.push(LogEvent {
                stream: event.log_stream_name().unwrap_or_default().to_owned(),
                timestamp: event.timestamp().unwrap_or_default(),
                message: event.message().unwrap_or_default().to_owned(),
            });
        }
    }
    out.sort_by(|a, b| (&a.stream, a.timestamp).cmp(&(&b.stream, b.timestamp)));
    Ok(out)
}

/// [`s3_objects`] for a command-line caller: its own runtime and SDK configuration.
pub fn fetch_s3_objects(
    options: &LiveOptions,
    region: Option<&str>,
    url: &str,
    keep: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Vec<(String, Vec<u8>)>, LogSourceError> {
    runtime()?.block_on(async {
        let config = config(options, region).await;
        s3_objects(&config, url, keep).await
    })
}

/// [`cloudwatch_events`] for a command-line caller: its own runtime and SDK configuration.
pub fn fetch_cloudwatch_events(
    options: &LiveOptions,
    region: Option<&str>,
    group: &str,
    since: Option<i64>,
    until: Option<i64>,
) -> Result<Vec<LogEvent>, LogSourceError> {
    runtime()?.block_on(async {
        let config = config(options, region).await;
        cloudwatch_events(&config, group, since, until).await
    })
}
