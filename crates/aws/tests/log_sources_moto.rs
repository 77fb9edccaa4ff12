//! Log sources against the moto emulator: objects under an S3 prefix, and a CloudWatch Logs group's
//! events for a time range through the FilterLogEvents paginator.
//!
//! `scripts/test.sh` sets `NETAUDIT_MOTO_SERVER`; each test starts its own server on a free port.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use netaudit_aws::log_sources::{
    cloudwatch_events, fetch_cloudwatch_events, fetch_s3_objects, parse_s3_url, s3_objects,
};
use netaudit_aws::LiveOptions;

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

#[tokio::test(flavor = "multi_thread")]
async fn objects_under_an_s3_prefix_are_listed_filtered_and_read_whole() {
    let moto = Moto::start();
    let config = config(&moto.url).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket().bucket("flow-archive").send().await.unwrap();
    let objects = [
        (format!("{PREFIX}/09/a_20240609T0000Z.log.gz"), b"day nine".to_vec()),
        (
            format!("{PREFIX}/10/b_20240610T0000Z.log.gz"),
            vec![0x1f, 0x8b, 0, 1, 2, 3],
        ),
        (
            format!("{PREFIX}/10/c_20240610T0005Z.log.gz"),
            b"version srcaddr\n2 10.0.0.1\n".to_vec(),
        ),
        ("elsewhere/d.log".to_owned(), b"not under the prefix".to_vec()),
    ];
    for (key, body) in &objects {
        s3.put_object()
            .bucket("flow-archive")
            .key(key)
            .body(body.clone().into())
            .send()
            .await
            .unwrap();
    }
    let url = "s3://flow-archive/flows/AWSLogs/";
    let all = s3_objects(&config, url, &|_| true).await.unwrap();
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "s3://flow-archive/flows/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/09/a_20240609T0000Z.log.gz",
            "s3://flow-archive/flows/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/10/b_20240610T0000Z.log.gz",
            "s3://flow-archive/flows/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/10/c_20240610T0005Z.log.gz",
        ]
    );
    assert_eq!(all[1].1, vec![0x1f, 0x8b, 0, 1, 2, 3], "bytes as stored");
    let tenth = s3_objects(&config, url, &|key: &str| key.contains("/2024/06/10/"))
        .await
        .unwrap();
    assert_eq!(tenth.len(), 2);

    // A missing bucket is an error naming the API and the URL, not an empty list.
    let missing = s3_objects(&config, "s3://no-such-bucket/x", &|_| true)
        .await
        .unwrap_err();
    assert_eq!(missing.api, "s3:ListObjectsV2");
    assert!(missing.to_string().contains("s3://no-such-bucket/x"), "{missing}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_group_s_events_in_a_time_range_come_from_every_stream() {
    let moto = Moto::start();
    let config = config(&moto.url).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let group = "/aws/vpc/flowlogs";
    logs.create_log_group().log_group_name(group).send().await.unwrap();
    // Recent times: CloudWatch Logs refuses events older than 14 days.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let base = now - 3_600_000;
    for stream in ["eni-0a-all", "eni-0b-all"] {
        logs.create_log_stream()
            .log_group_name(group)
            .log_stream_name(stream)
            .send()
            .await
            .unwrap();
        let events: Vec<InputLogEvent> = (0..30)
            .map(|i| {
                InputLogEvent::builder()
                    .timestamp(base + i * 60_000)
                    .message(format!(
                        "2 123456789012 {stream} 10.0.0.{i} 10.0.1.1 1 443 6 1 40 0 60 ACCEPT OK"
                    ))
                    .build()
                    .unwrap()
            })
            .collect();
        logs.put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(events))
            .send()
            .await
            .unwrap();
    }
    let all = cloudwatch_events(&config, group, None, None).await.unwrap();
    assert_eq!(all.len(), 60);
    assert_eq!(all[0].stream, "eni-0a-all");
    assert_eq!(all[30].stream, "eni-0b-all");
    assert!(all[0].message.starts_with("2 123456789012 eni-0a-all 10.0.0.0 "));
    // [base + 10 min, base + 20 min): ten events per stream.
    let range = cloudwatch_events(&config, group, Some(base + 600_000), Some(base + 1_200_000))
        .await
        .unwrap();
    assert_eq!(range.len(), 20, "{range:?}");
    assert!(range
        .iter()
        .all(|e| e.timestamp >= base + 600_000 && e.timestamp < base + 1_200_000));

    let missing = cloudwatch_events(&config, "/no/such/group", None, None)
        .await
        .unwrap_err();
    assert_eq!(missing.api, "logs:FilterLogEvents");
}

#[test]
fn the_blocking_helpers_use_the_endpoint_of_the_options() {
    let moto = Moto::start();
    let options = LiveOptions {
        endpoint_url: Some(moto.url.clone()),
        max_attempts: 1,
        ..LiveOptions::default()
    };
    // Dummy credentials for the emulator, from the environment the SDK reads.
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = config(&moto.url).await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        );
        s3.create_bucket().bucket("bkt").send().await.unwrap();
        s3.put_object()
            .bucket("bkt")
            .key("p/x.log")
            .body(b"hello".to_vec().into())
            .send()
            .await
            .unwrap();
        aws_sdk_cloudwatchlogs::Client::new(&config)
            .create_log_group()
            .log_group_name("g")
            .send()
            .await
            .unwrap();
    });
    drop(runtime);
    let objects = fetch_s3_objects(&options, Some("us-east-1"), "s3://bkt/p/", &|_| true).unwrap();
    assert_eq!(objects, vec![("s3://bkt/p/x.log".to_owned(), b"hello".to_vec())]);
    let events = fetch_cloudwatch_events(&options, Some("us-east-1"), "g", None, None).unwrap();
    assert!(events.is_empty());
}
