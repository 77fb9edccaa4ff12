//! Untrusted input never panics or hangs, and every rejection names its file and line: the flow
//! log line and header parser, the Client VPN connection log parser and the Site-to-Site tunnel
//! and BGP log parsers, fed random bytes and mutations of the bundled samples in `examples/logs`.
//!
//! Each property runs a fixed number of cases from a fixed seed, so a failure reproduces; the
//! case counts are printed (`cargo test -p netaudit-logs --test untrusted_input -- --nocapture`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use netaudit_logs::vpn::{read_tunnels, read_vpn};
use netaudit_logs::{FlowFormat, FlowReadOptions, FlowTextReader, Input, Issue, Issues, LogError};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Longer than this for one case is a hang.
const CASE_BUDGET: Duration = Duration::from_secs(5);

fn examples() -> PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../examples/logs")
}

/// Every file under a sample folder, decompressed.
fn samples(folder: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    let mut stack = vec![examples().join(folder)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let raw = std::fs::read(&path).unwrap();
            let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
                let mut text = vec![];
                flate2::read::MultiGzDecoder::new(&raw[..])
                    .read_to_end(&mut text)
                    .unwrap();
                text
            } else {
                raw
            };
            out.push((path.file_name().unwrap().to_string_lossy().into_owned(), bytes));
        }
    }
    out.sort();
    assert!(!out.is_empty(), "no samples in {folder}");
    out
}

/// Pieces that parsers trip on: separators, placeholders, numbers at and past every limit,
/// broken UTF-8, JSON structure, times.
const TOKENS: &[&[u8]] = &[
    b"-",
    b" ",
    b"\t",
    b"\n",
    b"\r\n",
    b"\r",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"NA",
    b"null",
    b"true",
    b"\"True\"",
    b"0.5",
    b"-0",
    b"-1",
    b"1e400",
    b"2147483648",
    b"4294967296",
    b"9223372036854775807",
    b"9223372036854775808",
    b"18446744073709551616",
    b"99999999999999999999999",
    b"1718000000000000",
    b"\"9223372036854775807\"",
    b"\xff\xfe",
    b"\xc3",
    b"\x00",
    b"NODATA",
    b"SKIPDATA",
    b"version account-id srcaddr some-new-field",
    b"${tcp-flags}",
    b"vpn-",
    b"vpn-0a1b-",
    b"2024-06-10T06:00:00.000Z ",
    b"2024-06-10 06:00:00",
    b"262142-12-31T23:59:59Z",
    b"\"event_timestamp\":",
    b"\"message\":{\"details\":",
    b"\"connection-log-type\":\"connection-attempt\",",
    b"\"port\":\"99999999999\",",
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, byte: u8 },
    Insert { at: usize, token: usize },
    Delete { at: usize, len: usize },
    Truncate { at: usize },
    DuplicateLine { line: usize },
    SwapLines { a: usize, b: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, token)| Mutation::Insert { at, token }),
        (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        any::<usize>().prop_map(|line| Mutation::DuplicateLine { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        match m {
            Mutation::Flip { at, byte } if len > 0 => bytes[at % len] = *byte,
            Mutation::Insert { at, token } => {
                let at = at % (len + 1);
                bytes.splice(at..at, TOKENS[*token].iter().copied());
            }
            Mutation::Delete { at, len: n } if len > 0 => {
                let at = at % len;
                bytes.drain(at..(at + n).min(len));
            }
            Mutation::Truncate { at } => bytes.truncate(at % (len + 1)),
            Mutation::DuplicateLine { line } | Mutation::SwapLines { a: line, .. } => {
                let mut lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
                let i = line % lines.len();
                match m {
                    Mutation::SwapLines { b, .. } => {
                        let j = b % lines.len();
                        lines.swap(i, j);
                    }
                    _ => {
                        let copy = lines[i].clone();
                        lines.insert(i, copy);
                    }
                }
                bytes = lines.join(&b'\n');
            }
            _ => {}
        }
    }
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// How an input reaches a parser: as written, gzip, or gzip cut short.
#[derive(Debug, Clone, Copy)]
enum Wrapping {
    Plain,
    Gzip,
    CutGzip(usize),
}

fn wrapping() -> impl Strategy<Value = Wrapping> {
    prop_oneof![
        3 => Just(Wrapping::Plain),
        1 => Just(Wrapping::Gzip),
        1 => any::<usize>().prop_map(Wrapping::CutGzip),
    ]
}

fn wrap(bytes: Vec<u8>, wrapping: Wrapping) -> Vec<u8> {
    match wrapping {
        Wrapping::Plain => bytes,
        Wrapping::Gzip => gzip(&bytes),
        Wrapping::CutGzip(at) => {
            let mut compressed = gzip(&bytes);
            let keep = at % compressed.len().max(1);
            compressed.truncate(keep.max(2));
            compressed
        }
    }
}

/// An input to a parser: a mutated sample (or random bytes), wrapped.
fn input_from(samples: Vec<(String, Vec<u8>)>) -> impl Strategy<Value = (String, Vec<u8>)> {
    let count = samples.len();
    let mutated = (0..count, prop::collection::vec(mutation(), 0..10), wrapping())
        .prop_map(move |(i, mutations, w)| (samples[i].0.clone(), wrap(mutate(samples[i].1.clone(), &mutations), w)));
    let random = (prop::collection::vec(any::<u8>(), 0..600), wrapping())
        .prop_map(|(bytes, w)| ("random.log".to_owned(), wrap(bytes, w)));
    prop_oneof![4 => mutated, 1 => random]
}

/// Lines a reader can name: every line of the decompressed text, and the one after the last.
fn line_limit(bytes: &[u8]) -> u64 {
    let mut text = vec![];
    let decoded = if bytes.starts_with(&[0x1f, 0x8b]) {
        let _ = flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut text);
        &text[..]
    } else {
        bytes
    };
    decoded.iter().filter(|b| **b == b'\n').count() as u64 + 1
}

/// Every rejection names the file and a line that exists.
fn check_places(issues: &[Issue], name: &str, limit: u64) -> Result<(), TestCaseError> {
    for issue in issues {
        prop_assert_eq!(&issue.source, name);
        let line = issue.line;
        prop_assert!(
            line.is_some_and(|n| (1..=limit).contains(&n)),
            "{} names line {:?} of {} lines",
            issue,
            line,
            limit
        );
        prop_assert!(!issue.message.is_empty());
    }
    Ok(())
}

/// Strict mode stops at exactly the first problem the lenient reader reports.
fn check_strict(strict: Result<(), LogError>, lenient: &[Issue]) -> Result<(), TestCaseError> {
    match (strict, lenient.first()) {
        (Ok(()), None) => Ok(()),
        (Err(LogError::BadInput(issue)), Some(first)) => {
            prop_assert_eq!(&issue, first);
            Ok(())
        }
        (other, first) => Err(TestCaseError::fail(format!(
            "strict gave {other:?}, the lenient reader first reported {first:?}"
        ))),
    }
}

fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

/// Run a property over `cases` cases; the number run is printed.
fn property<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) -> u32 {
    let ran = std::cell::Cell::new(0u32);
    let mut runner = runner(cases);
    let result = runner.run(&strategy, |value| {
        ran.set(ran.get() + 1);
        let started = Instant::now();
        let outcome = test(value);
        prop_assert!(started.elapsed() < CASE_BUDGET, "a case took {:?}", started.elapsed());
        outcome
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    eprintln!("{name}: {} cases", ran.get());
    ran.get()
}

fn read_flows(name: &str, bytes: &[u8], options: FlowReadOptions) -> (Result<usize, LogError>, Issues) {
    let issues = Issues::new();
    let reader = match FlowTextReader::new(
        name,
        Box::new(std::io::Cursor::new(bytes.to_vec())),
        options,
        issues.clone(),
    ) {
        Ok(reader) => reader,
        Err(e) => {
            return (
                Err(LogError::Io {
                    path: name.into(),
                    source: e,
                }),
                issues,
            )
        }
    };
    let mut rows = 0;
    for batch in reader {
        match batch {
            Ok(batch) => rows += batch.num_rows(),
            Err(e) => return (Err(e), issues),
        }
    }
    (Ok(rows), issues)
}

#[test]
fn flow_logs_never_panic_and_name_every_bad_line() {
    let mut flows = samples("flows");
    flows.extend(samples("cloudwatch"));
    let strategy = (
        input_from(flows),
        any::<bool>(),
        prop::option::of(prop::collection::vec(0usize..42, 0..5)),
    );
    property(
        "flow log reader",
        3072,
        strategy,
        |((name, bytes), custom_format, projection)| {
            // Half the cases read headerless lines with a custom format, half with the default.
            let format = if custom_format {
                FlowFormat::parse_aws(netaudit_logs::generate::GENERATED_V5_FORMAT).unwrap()
            } else {
                FlowFormat::default_v2()
            };
            let mut projection = projection;
            if let Some(p) = projection.as_mut() {
                p.sort_unstable();
                p.dedup();
            }
            let options = FlowReadOptions {
                format,
                projection: projection.clone(),
                batch_size: 64,
                ..FlowReadOptions::default()
            };
            let (lenient, issues) = read_flows(&name, &bytes, options.clone());
            let rows = lenient.map_err(|e| TestCaseError::fail(format!("lenient read failed: {e}")))?;
            let limit = line_limit(&bytes);
            let list = issues.list();
            check_places(&list, &name, limit)?;
            prop_assert!(
                rows as u64 + list.len() as u64 <= limit,
                "{rows} rows and {} issues",
                list.len()
            );
            // The same bad lines whichever columns are built.
            let (_, every_column) = read_flows(
                &name,
                &bytes,
                FlowReadOptions {
                    projection: None,
                    ..options.clone()
                },
            );
            prop_assert_eq!(every_column.list(), list.clone());
            let strict = FlowReadOptions {
                strict: true,
                ..options
            };
            let (outcome, _) = read_flows(&name, &bytes, strict);
            check_strict(outcome.map(|_| ()), &list)
        },
    );
}

#[test]
fn flow_log_formats_and_headers_never_panic() {
    let tokens = prop::collection::vec(
        prop_oneof![
            Just("${version}".to_owned()),
            Just("${srcaddr}".to_owned()),
            Just("${tcp-flags}".to_owned()),
            Just("${".to_owned()),
            Just("}".to_owned()),
            Just("log-status".to_owned()),
            Just("-".to_owned()),
            "[a-z_${}-]{0,12}",
            ".{0,8}",
        ],
        0..12,
    );
    property("flow log format and header parser", 4096, tokens, |tokens| {
        let text = tokens.join(" ");
        if let Ok(format) = FlowFormat::parse_aws(&text) {
            // A format that parses names only documented fields.
            prop_assert!(format.unknown_fields().is_empty());
            prop_assert!(!format.is_empty());
        }
        if let Some(header) = FlowFormat::from_header(text.as_bytes()) {
            prop_assert_eq!(header.len(), text.split_ascii_whitespace().count());
        }
        Ok(())
    });
}

fn read_with(
    read: fn(&[Input], &Issues, bool) -> Result<datafusion::arrow::array::RecordBatch, LogError>,
    name: &str,
    bytes: &[u8],
) -> Result<(), TestCaseError> {
    let input = [Input::Memory {
        name: name.to_owned(),
        bytes: bytes.to_vec().into(),
    }];
    let issues = Issues::new();
    let batch = read(&input, &issues, false).map_err(|e| TestCaseError::fail(format!("lenient read failed: {e}")))?;
    let limit = line_limit(bytes);
    let list = issues.list();
    check_places(&list, name, limit)?;
    prop_assert!(batch.num_rows() as u64 + list.len() as u64 <= limit);
    check_strict(read(&input, &Issues::new(), true).map(|_| ()), &list)
}

#[test]
fn client_vpn_logs_never_panic_and_name_every_bad_line() {
    property(
        "Client VPN log reader",
        4096,
        input_from(samples("vpn")),
        |(name, bytes)| read_with(read_vpn, &name, &bytes),
    );
}

#[test]
fn tunnel_and_bgp_logs_never_panic_and_name_every_bad_line() {
    // The file name carries the connection and outside IP: mutate it too.
    let names = prop_oneof![
        Just(String::new()),
        "[a-z0-9._:/-]{0,40}",
        Just("vpn-".to_owned()),
        Just("vpn-0a1b2c3d4e5f67890-".to_owned()),
        Just("vpn-0a1b2c3d4e5f67890_999.1.1.1".to_owned()),
        Just("x/vpn-ffff-2001:db8::1/vpn-0-1.2.3.4".to_owned()),
    ];
    let strategy = (input_from(samples("tunnels")), names);
    property("tunnel and BGP log reader", 4096, strategy, |((name, bytes), extra)| {
        let name = if extra.is_empty() {
            name
        } else {
            format!("{extra}/{name}")
        };
        let _ = netaudit_logs::vpn::tunnel_from_name(&name);
        read_with(read_tunnels, &name, &bytes)
    });
}
