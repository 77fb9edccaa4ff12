//! Log sources against the moto emulator: objects under an S3 prefix (listed flat, or folder by
//! folder with pruning) and the streams of a CloudWatch Logs group, each read as a stream.
//!
//! `scripts/test.sh` sets `NETAUDIT_MOTO_SERVER`; each test starts its own server on a free port.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use netaudit_aws::log_sources::{parse_s3_url, LogFetcher, StreamedLog, BUFFER_BUDGET_BYTES};
use netaudit_aws::LiveOptions;
use std::io::Read;

#[path = "support/moto_server.rs"]
mod support;
use support::Moto;

async fn config(url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await
}

/// Set up the emulator with the SDK on a runtime of the test's own, dropped before the fetcher
/// (which has its own) is used.
fn setup<F, Fut>(moto: &Moto, f: F)
where
    F: FnOnce(SdkConfig) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async { f(config(&moto.url).await).await });
}

fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build())
}

fn fetcher(moto: &Moto) -> LogFetcher {
    // Dummy credentials for the emulator, from the environment the SDK reads.
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    let options = LiveOptions {
        endpoint_url: Some(moto.url.clone()),
        max_attempts: 1,
        ..LiveOptions::default()
    };
    LogFetcher::new(&options, Some("us-east-1")).unwrap()
}

fn read_all(log: &StreamedLog) -> Result<Vec<u8>, std::io::Error> {
    let mut out = vec![];
    log.open().read_to_end(&mut out)?;
    Ok(out)
}

const PREFIX: &str = "flows/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06";

#[test]
fn s3_url_parsing() {
    assert_eq!(
        parse_s3_url("s3://bucket/a/b/"),
        Some(("bucket".to_owned(), "a/b/".to_owned()))
    );
    assert_eq!(parse_s3_url("s3://bucket"), Some(("bucket".to_owned(), String::new())));
    assert_eq!(parse_s3_url("s3:///x"), None);
    assert_eq!(parse_s3_url("/local/path"), None);
}

#[test]
fn objects_under_an_s3_prefix_are_listed_filtered_and_streamed() {
    let moto = Moto::start();
    // One object larger than the whole buffer budget: it can only arrive streamed.
    let big: Vec<u8> = (0..(BUFFER_BUDGET_BYTES as usize * 2 + 12345))
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let objects = [
        (format!("{PREFIX}/09/a_20240609T0000Z.log.gz"), b"day nine".to_vec()),
        (format!("{PREFIX}/10/b_20240610T0000Z.log.gz"), big.clone()),
        (
            format!("{PREFIX}/10/c_20240610T0005Z.log.gz"),
            b"version srcaddr\n2 10.0.0.1\n".to_vec(),
        ),
        ("elsewhere/d.log".to_owned(), b"not under the prefix".to_vec()),
    ];
    setup(&moto, |config| async move {
        let s3 = s3(&config);
        s3.create_bucket().bucket("flow-archive").send().await.unwrap();
        for (key, body) in &objects {
            s3.put_object()
                .bucket("flow-archive")
                .key(key)
                .body(body.clone().into())
                .send()
                .await
                .unwrap();
        }
    });
    let fetcher = fetcher(&moto);
    let url = "s3://flow-archive/flows/AWSLogs/";
    let all = fetcher.s3_objects(url, None, &|_| true).unwrap();
    let names: Vec<&str> = all.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "s3://flow-archive/flows/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/09/a_20240609T0000Z.log.gz",
            "s3://flow-archive/flows/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/10/b_20240610T0000Z.log.gz",
            "s3://flow-archive/flows/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/10/c_20240610T0005Z.log.gz",
        ]
    );
    assert_eq!(all[1].size, Some(big.len() as u64));
    assert_eq!(read_all(&all[0]).unwrap(), b"day nine");
    // Opened twice: each open fetches anew, from the start.
    assert_eq!(read_all(&all[1]).unwrap(), big, "bytes as stored");
    assert_eq!(read_all(&all[1]).unwrap(), big);
    let counts = fetcher.counts();
    assert_eq!(counts.fetch_requests, 3);
    assert_eq!(counts.objects_read, 3);
    assert_eq!(counts.bytes_fetched, 8 + 2 * big.len() as u64);
    assert!(
        counts.peak_buffered > 0 && counts.peak_buffered <= BUFFER_BUDGET_BYTES,
        "{counts:?}"
    );

    let tenth = fetcher
        .s3_objects(url, None, &|key: &str| key.contains("/2024/06/10/"))
        .unwrap();
    assert_eq!(tenth.len(), 2);

    // Gone between the listing and the read: the read fails, naming the API and the object.
    setup(&moto, |config| async move {
        s3(&config)
            .delete_object()
            .bucket("flow-archive")
            .key(format!("{PREFIX}/09/a_20240609T0000Z.log.gz"))
            .send()
            .await
            .unwrap();
    });
    let e = read_all(&all[0]).unwrap_err().to_string();
    assert!(e.starts_with(&format!("s3:GetObject {}: ", all[0].name)), "{e}");
    assert!(e.contains("NoSuchKey"), "{e}");
    // The other objects read on.
    assert_eq!(read_all(&all[2]).unwrap(), b"version srcaddr\n2 10.0.0.1\n");

    // A missing bucket is an error naming the API and the URL, not an empty list.
    let missing = fetcher
        .s3_objects("s3://no-such-bucket/x", None, &|_| true)
        .unwrap_err();
    assert_eq!(missing.api, "s3:ListObjectsV2");
    assert!(missing.to_string().contains("s3://no-such-bucket/x"), "{missing}");
}

#[test]
fn a_pruned_listing_descends_only_into_the_folders_asked_for() {
    let moto = Moto::start();
    setup(&moto, |config| async move {
        let s3 = s3(&config);
        s3.create_bucket().bucket("flow-archive").send().await.unwrap();
        for day in 1..=20 {
            for hour in [0, 12] {
                let key = format!("{PREFIX}/{day:02}/{hour:02}/x_202406{day:02}T{hour:02}00Z.log.gz");
                s3.put_object()
                    .bucket("flow-archive")
                    .key(key)
                    .body(b"x".to_vec().into())
                    .send()
                    .await
                    .unwrap();
            }
        }
    });
    let fetcher = fetcher(&moto);
    let asked: std::sync::Mutex<Vec<String>> = Default::default();
    let prune = |folder: &str| {
        asked.lock().unwrap().push(folder.to_owned());
        // Only the 10th and the folders above it.
        format!("{PREFIX}/").starts_with(folder) || folder.starts_with(&format!("{PREFIX}/10/"))
    };
    let objects = fetcher
        .s3_objects("s3://flow-archive/flows/", Some(&prune), &|_| true)
        .unwrap();
    let names: Vec<&str> = objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            format!("s3://flow-archive/{PREFIX}/10/00/x_20240610T0000Z.log.gz"),
            format!("s3://flow-archive/{PREFIX}/10/12/x_20240610T1200Z.log.gz"),
        ]
    );
    let asked = asked.into_inner().unwrap();
    assert!(asked.contains(&format!("{PREFIX}/09/")), "{asked:?}");
    assert!(
        !asked.iter().any(|f| f.starts_with(&format!("{PREFIX}/09/0"))),
        "{asked:?}"
    );
    let counts = fetcher.counts();
    // Only the two objects of the 10th were listed; the other 19 days were never listed.
    assert_eq!(counts.objects_listed, 2, "{counts:?}");
    assert_eq!(counts.folders_pruned, 19, "{counts:?}");
    // flows/, AWSLogs/, account/, vpcflowlogs/, region/, 2024/, 06/, 10/, 10/00/, 10/12/.
    assert_eq!(counts.list_requests, 10, "{counts:?}");
    assert_eq!(counts.fetch_requests, 0, "listing fetches nothing");
}

#[test]
fn a_log_group_s_streams_are_streamed_event_by_event_across_pages() {
    let moto = Moto::start();
    let group = "/aws/vpc/flowlogs";
    // Recent times: CloudWatch Logs refuses events older than 14 days.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let base = now - 3_600_000;
    // More events than one GetLogEvents page (10,000) in the first stream.
    let sizes = [("eni-0a-all", 10_500), ("eni-0b-all", 30)];
    setup(&moto, |config| async move {
        let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
        logs.create_log_group().log_group_name(group).send().await.unwrap();
        for (stream, count) in sizes {
            logs.create_log_stream()
                .log_group_name(group)
                .log_stream_name(stream)
                .send()
                .await
                .unwrap();
            let events: Vec<InputLogEvent> = (0..count)
                .map(|i| {
                    InputLogEvent::builder()
                        .timestamp(base + i * 300)
                        .message(format!(
                            "2 123456789012 {stream} 10.0.0.{} 10.0.1.1 {i} 443 6 1 40 0 60 ACCEPT OK\n",
                            i % 250
                        ))
                        .build()
                        .unwrap()
                })
                .collect();
            for batch in events.chunks(5000) {
                logs.put_log_events()
                    .log_group_name(group)
                    .log_stream_name(stream)
                    .set_log_events(Some(batch.to_vec()))
                    .send()
                    .await
                    .unwrap();
            }
        }
        // A JSON event with inner newlines, for the non-flow reading.
        logs.create_log_stream()
            .log_group_name(group)
            .log_stream_name("json")
            .send()
            .await
            .unwrap();
        logs.put_log_events()
            .log_group_name(group)
            .log_stream_name("json")
            .log_events(
                InputLogEvent::builder()
                    .timestamp(base)
                    .message("{\n\"a\": 1\n}")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    });
    let fetcher = fetcher(&moto);
    let streams = fetcher.log_streams(group, None, None, true).unwrap();
    let names: Vec<&str> = streams.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "/aws/vpc/flowlogs/eni-0a-all",
            "/aws/vpc/flowlogs/eni-0b-all",
            "/aws/vpc/flowlogs/json"
        ]
    );
    let text = String::from_utf8(read_all(&streams[0]).unwrap()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 10_500, "every event of both pages, once");
    assert_eq!(
        lines[0],
        "2 123456789012 eni-0a-all 10.0.0.0 10.0.1.1 0 443 6 1 40 0 60 ACCEPT OK"
    );
    assert!(lines[10_499].contains(" 10499 443 "), "{}", lines[10_499]);
    assert_eq!(fetcher.counts().fetch_requests, 3, "two pages and the repeated token");

    let json = fetcher.log_streams(group, None, None, false).unwrap();
    assert_eq!(read_all(&json[2]).unwrap(), b"{ \"a\": 1 }\n");

    // [base + 10 min, base + 20 min): 2,000 events of the first stream, none of the second
    // (its 30 events end at base + 9 s), which is listed (its last event is within the slack) but
    // empty; the JSON stream likewise.
    let streams = fetcher
        .log_streams(group, Some(base + 600_000), Some(base + 1_200_000), true)
        .unwrap();
    let text = String::from_utf8(read_all(&streams[0]).unwrap()).unwrap();
    assert_eq!(text.lines().count(), 2_000);
    assert_eq!(read_all(&streams[1]).unwrap(), b"");

    // A stream whose first event comes after the window is not read at all.
    let later = fetcher
        .log_streams(group, Some(base - 7_200_000), Some(base - 3_600_000), true)
        .unwrap();
    assert!(later.is_empty(), "{later:?}");

    let missing = fetcher.log_streams("/no/such/group", None, None, true).unwrap_err();
    assert_eq!(missing.api, "logs:DescribeLogStreams");
    assert!(missing.to_string().contains("/no/such/group"), "{missing}");
}
