//! Streamed inputs (S3 objects, CloudWatch Logs streams the caller opens): a fetch that fails,
//! at the start or part-way, is a bad input naming the object, and the other inputs are read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use netaudit_logs::render::rows_as_json;
use netaudit_logs::{FlowReadOptions, Input, Issues, LogError, LogSession, LogSources, OpenInput};
use std::io::Read;
use std::sync::Arc;

/// Yields `text`, then fails with `error` (when given) instead of ending.
#[derive(Debug)]
struct Source {
    text: &'static str,
    error: Option<&'static str>,
}

struct Reader {
    text: std::io::Cursor<&'static [u8]>,
    error: Option<&'static str>,
}

impl Read for Reader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        // A few bytes at a time, as a network body comes.
        let len = out.len().min(7);
        let n = self.text.read(&mut out[..len])?;
        match (n, self.error) {
            (0, Some(error)) => Err(std::io::Error::other(error)),
            _ => Ok(n),
        }
    }
}

impl OpenInput for Source {
    fn open(&self) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(Reader {
            text: std::io::Cursor::new(self.text.as_bytes()),
            error: self.error,
        }))
    }
}

fn stream(name: &str, text: &'static str, error: Option<&'static str>) -> Input {
    Input::Stream {
        name: name.to_owned(),
        size: Some(text.len() as u64),
        source: Arc::new(Source { text, error }),
    }
}

const GOOD: &str = "\
2 123456789012 eni-0a 10.0.0.1 10.0.0.2 1 443 6 1 100 1718000000 1718000060 ACCEPT OK
2 123456789012 eni-0a 10.0.0.1 10.0.0.3 1 443 6 1 200 1718000000 1718000060 ACCEPT OK
";
const CUT: &str = "\
2 123456789012 eni-0b 10.0.0.4 10.0.0.2 1 22 6 1 1000 1718000000 1718000060 ACCEPT OK
2 123456789012 eni-0b 10.0.0.4 10.0.0.3 1 22 6 1 2000 1718000000 1718000060 ACC";

fn sources(strict: bool) -> LogSources {
    LogSources {
        flows: vec![
            stream("s3://b/good.log", GOOD, None),
            stream(
                "s3://b/cut.log",
                CUT,
                Some("s3:GetObject s3://b/cut.log: connection reset"),
            ),
            stream(
                "s3://b/denied.log",
                "",
                Some("s3:GetObject s3://b/denied.log: AccessDenied"),
            ),
        ],
        flow_options: FlowReadOptions {
            strict,
            ..FlowReadOptions::default()
        },
        ..LogSources::default()
    }
}

#[test]
fn a_fetch_that_fails_is_an_issue_naming_the_object_and_the_rest_is_read() {
    let issues = Issues::new();
    let session = LogSession::new(sources(false), issues.clone()).unwrap();
    let result = session
        .query("SELECT count(*) AS n, sum(bytes) AS b FROM flows")
        .unwrap();
    let rows = rows_as_json(&result.schema, &result.batches).unwrap();
    // Both good records and the complete line before the cut.
    assert_eq!(rows[0]["n"], 3, "{rows:?}");
    assert_eq!(rows[0]["b"], 1300, "{rows:?}");
    let list: Vec<String> = issues.list().iter().map(ToString::to_string).collect();
    assert_eq!(
        list,
        vec![
            "s3://b/cut.log:2: the input ends early or is corrupt: s3:GetObject s3://b/cut.log: connection reset",
            "s3://b/denied.log: cannot be read: s3:GetObject s3://b/denied.log: AccessDenied",
        ]
    );
}

#[test]
fn in_strict_mode_a_failed_fetch_is_an_error_naming_the_object() {
    let session = LogSession::new(sources(true), Issues::new()).unwrap();
    let e = session.query("SELECT count(*) FROM flows").unwrap_err();
    assert!(matches!(e, LogError::Query(_)), "{e:?}");
    assert!(e.to_string().contains("s3://b/cut.log"), "{e}");
}

#[test]
fn vpn_logs_from_a_failed_fetch_are_an_issue_not_the_end_of_the_run() {
    let vpn = r#"{"connection-log-type":"connection-attempt","connection-id":"cvpn-connection-1","username":"alice","connection-attempt-status":"successful"}"#;
    let issues = Issues::new();
    let batch = netaudit_logs::vpn::read_vpn(
        &[
            stream("cw/denied", "", Some("logs:GetLogEvents cw/denied: AccessDenied")),
            stream("cw/ok", Box::leak(format!("{vpn}\n").into_boxed_str()), None),
        ],
        &issues,
        false,
    )
    .unwrap();
    assert_eq!(batch.num_rows(), 1);
    let list: Vec<String> = issues.list().iter().map(ToString::to_string).collect();
    assert_eq!(
        list,
        vec!["cw/denied:1: the input ends early or is corrupt: logs:GetLogEvents cw/denied: AccessDenied"]
    );
}

/// Counts its readers alive at once.
#[derive(Debug, Default)]
struct Counted {
    text: &'static str,
    alive: Arc<std::sync::atomic::AtomicUsize>,
    most: Arc<std::sync::atomic::AtomicUsize>,
}

struct CountedReader {
    text: std::io::Cursor<&'static [u8]>,
    alive: Arc<std::sync::atomic::AtomicUsize>,
}

impl Read for CountedReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.text.read(out)
    }
}

impl Drop for CountedReader {
    fn drop(&mut self) {
        self.alive.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl OpenInput for Counted {
    fn open(&self) -> std::io::Result<Box<dyn Read + Send>> {
        let now = self.alive.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        self.most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
        Ok(Box::new(CountedReader {
            text: std::io::Cursor::new(self.text.as_bytes()),
            alive: self.alive.clone(),
        }))
    }
}

#[test]
fn a_reader_has_the_next_stream_fetching_and_no_more() {
    let alive = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // A header line with a field the others lack: each stream's own header is found.
    const V5: &str = "version srcaddr dstaddr bytes tcp-flags\n5 10.0.0.9 10.0.0.2 70 2\n";
    let flows = (0..6)
        .map(|i| Input::Stream {
            name: format!("s3://b/{i}.log"),
            size: None,
            source: Arc::new(Counted {
                text: if i == 3 { V5 } else { GOOD },
                alive: alive.clone(),
                most: most.clone(),
            }),
        })
        .collect();
    // Strict: one reader over every source, in order.
    let sources = LogSources {
        flows,
        flow_options: FlowReadOptions {
            strict: true,
            ..FlowReadOptions::default()
        },
        ..LogSources::default()
    };
    let session = LogSession::new(sources, Issues::new()).unwrap();
    assert_eq!(
        alive.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the header probes closed their streams"
    );
    most.store(0, std::sync::atomic::Ordering::SeqCst);
    let result = session
        .query("SELECT count(*) AS n, sum(bytes) AS b, count(tcp_flags) AS f FROM flows")
        .unwrap();
    let rows = rows_as_json(&result.schema, &result.batches).unwrap();
    assert_eq!(
        (&rows[0]["n"], &rows[0]["b"], &rows[0]["f"]),
        (&11.into(), &(5 * 300 + 70).into(), &1.into())
    );
    assert_eq!(
        most.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "the one read and the next"
    );
    assert_eq!(alive.load(std::sync::atomic::Ordering::SeqCst), 0);
}
