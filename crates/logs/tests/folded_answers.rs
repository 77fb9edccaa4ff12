//! The folded answers against the SQL that defines them: the same rows, types and order, and the
//! same bad lines reported, on realistic logs with every oddity the reader accepts or refuses, in
//! every kind of source (plain, gzip, byte ranges of a large file, Parquet, many files).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use netaudit_logs::answers::{self, Dialect, OptionalColumns};
use netaudit_logs::generate::{generate, GenerateOptions, GeneratedFormat, Incident};
use netaudit_logs::FoldedQuestion;
use netaudit_logs::{FlowReadOptions, Input, Issue, Issues, LogSession, LogSources};
use proptest::prelude::*;
use std::io::Write;

fn generated(records: u64, seed: u64, format: GeneratedFormat) -> Vec<u8> {
    let mut out = vec![];
    generate(
        &GenerateOptions {
            seed,
            records,
            format,
            incidents: Incident::ALL.to_vec(),
            ..GenerateOptions::default()
        },
        &mut out,
    )
    .unwrap();
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Lines the reader takes as records but that stress the fold: NULLs where numbers and addresses
/// go, IPv6 (canonical or not), IPv4 with leading zeros, other text in an address, ties, CRLF.
const ODD_RECORDS: &str = "\
2 123456789012 eni-aaa 10.0.0.100 10.0.0.2 1 2 6 - - 1718000000 1718000060 ACCEPT OK
2 123456789012 eni-aaa 10.0.0.100 10.0.0.2 1 2 6 3 - 1718000000 1718000060 ACCEPT OK
2 123456789012 eni-aaa - 10.0.0.2 1 2 6 3 999999999 1718000000 1718000060 ACCEPT OK
2 123456789012 eni-aaa 10.0.0.9 - 1 2 6 3 999999999 1718000000 1718000060 ACCEPT OK
2 123456789012 eni-aaa 2001:db8::1 10.0.0.2 1 2 6 3 999999999 1718000000 1718000060 ACCEPT OK
2 123456789012 eni-aaa 2001:DB8::1 10.0.0.2 1 2 6 3 999999999 1718000000 1718000060 ACCEPT OK
2 123456789012 eni-aaa 010.0.0.1 10.0.0.2 1 2 6 3 999999999 1718000000 1718000060 ACCEPT OK
2 123456789012 eni-aaa 10.0.0.1 10.0.0.2 1 2 6 3 999999999 1718000000 1718000060 ACCEPT OK\r
2 123456789012 eni-aaa 9.9.9.9 10.0.0.3 1 2 6 3 999999999 1718000000 1718000060 ACCEPT OK
2 123456789012 eni-aaa 203.0.113.7 10.0.0.3 1 - 6 3 40 - 1718000060 REJECT OK
2 123456789012 eni-aaa 203.0.113.7 10.0.0.3 1 22 6 3 40 1718000000 - REJECT OK
2 123456789012 eni-aaa 203.0.113.7 - 1 22 6 3 40 1717990000 1718090000 REJECT OK
2 123456789012 eni-aaa - 10.0.0.3 1 22 6 3 40 1718000000 1718000060 REJECT OK
2 123456789012 eni-aaa 2001:db8::7 2001:db8::8 1 23 6 3 40 1718000000 1718000060 REJECT OK
2 123456789012 eni-aaa - - - - - - - 1718000000 1718000060 - NODATA
2 123456789012 eni-aaa - - - - - - - 1718000000 1718000060 - SKIPDATA

2024-06-10T06:13:20.000Z 2 123456789012 eni-aaa 10.0.0.5 10.0.0.6 1 2 6 3 77 1718000000 1718000060 ACCEPT OK
";

/// Lines the reader refuses: each must be the same issue on both paths.
const BAD_LINES: &str = "\
2 123456789012 eni-bad 10.0.0.1 10.0.0.2 1 2 6 3 4
2 123456789012 eni-bad 10.0.0.1 10.0.0.2 x 2 6 3 4 1718000000 1718000060 ACCEPT OK
2 123456789012 eni-bad 10.0.0.1 10.0.0.2 1 99999999999 6 3 4 1718000000 1718000060 ACCEPT OK
";

fn session(inputs: Vec<Input>, options: FlowReadOptions) -> (LogSession, Issues) {
    let issues = Issues::new();
    let session = LogSession::new(
        LogSources {
            flows: inputs,
            flow_options: options,
            ..LogSources::default()
        },
        issues.clone(),
    )
    .unwrap();
    (session, issues)
}

fn csv(result: &netaudit_logs::QueryResult) -> String {
    let mut out = vec![];
    netaudit_logs::render::write_csv(&result.schema, &result.batches, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Both paths over the same inputs, each in a session of its own: (folded, SQL) answers and issues.
fn both(
    inputs: &[Input],
    options: &FlowReadOptions,
    question: FoldedQuestion,
) -> ((String, Vec<Issue>), (String, Vec<Issue>)) {
    let (folded_session, folded_issues) = session(inputs.to_vec(), options.clone());
    let folded = folded_session.fold(question).unwrap();
    let (sql_session, sql_issues) = session(inputs.to_vec(), options.clone());
    let sql = question.sql(OptionalColumns::of(sql_session.flow_columns()));
    let queried = sql_session.query(&sql).unwrap();
    assert_eq!(folded.schema, queried.schema, "{sql}");
    ((csv(&folded), folded_issues.list()), (csv(&queried), sql_issues.list()))
}

fn top_talkers(limit: usize) -> FoldedQuestion {
    FoldedQuestion::TopTalkers { limit }
}

fn rejects(limit: usize) -> FoldedQuestion {
    FoldedQuestion::Rejects { limit }
}

fn memory(name: &str, bytes: Vec<u8>) -> Input {
    Input::Memory {
        name: name.into(),
        bytes: bytes.into(),
    }
}

fn assert_same(inputs: &[Input], options: &FlowReadOptions, question: FoldedQuestion) -> String {
    let ((folded, folded_issues), (sql, sql_issues)) = both(inputs, options, question);
    assert_eq!(folded, sql);
    assert_eq!(folded_issues, sql_issues);
    folded
}

#[test]
fn top_talkers_fold_to_the_sql_answer_on_odd_records_ties_and_nulls() {
    let mut text = generated(3000, 7, GeneratedFormat::DefaultV2);
    text.extend_from_slice(ODD_RECORDS.as_bytes());
    text.extend_from_slice(BAD_LINES.as_bytes());
    let inputs = [memory("odd.log", text)];
    for limit in [1, 3, 10, 50, 100_000] {
        let answer = assert_same(&inputs, &FlowReadOptions::default(), top_talkers(limit));
        assert_eq!(answer.lines().count(), 1 + limit.min(answer.lines().count() - 1));
    }
    // The pair with no bytes at all sorts first, as NULL does in DESC; the text forms stay apart.
    let all = assert_same(&inputs, &FlowReadOptions::default(), top_talkers(100_000));
    assert!(
        all.lines().nth(1).unwrap().starts_with("10.0.0.100,10.0.0.2,,3,2"),
        "{all}"
    );
    for pair in [
        "2001:db8::1,10.0.0.2",
        "2001:DB8::1,10.0.0.2",
        "010.0.0.1,10.0.0.2",
        ",10.0.0.2,",
        "10.0.0.9,,",
    ] {
        assert!(all.contains(pair), "{pair} in {all}");
    }
}

#[test]
fn rejects_fold_to_the_sql_answer_with_and_without_tcp_flags() {
    let mut v2 = generated(3000, 8, GeneratedFormat::DefaultV2);
    v2.extend_from_slice(
        b"2 123456789012 eni-aaa 203.0.113.7 2001:db8::9 1 25 6 3 40 1718000000 1718000060 REJECT OK\n",
    );
    v2.extend_from_slice(b"2 123456789012 eni-aaa 203.0.113.7 010.0.0.3 1 25 6 3 40 1718000000 1718000060 REJECT OK\n");
    v2.extend_from_slice(ODD_RECORDS.as_bytes());
    v2.extend_from_slice(BAD_LINES.as_bytes());
    let v5 = generated(3000, 9, GeneratedFormat::CustomV5);
    let options = FlowReadOptions::default();
    let answer = assert_same(&[memory("v2.log", v2.clone())], &options, rejects(1000));
    assert!(
        answer.contains("203.0.113.7,5,2,3,,2024-06-10T03:26:40,2024-06-11T07:13:20"),
        "{answer}"
    );
    assert!(
        answer.lines().any(|l| l.starts_with(",1,1,1,")),
        "the NULL source: {answer}"
    );
    // A header with tcp-flags: the SYN-only count is a number.
    let answer = assert_same(&[memory("v5.log", v5.clone())], &options, rejects(5));
    assert!(
        answer
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .nth(4)
            .unwrap()
            .parse::<i64>()
            .is_ok(),
        "{answer}"
    );
    // Mixed: sources with and without the field.
    assert_same(&[memory("v2.log", v2), memory("v5.log", v5)], &options, rejects(1000));
}

#[test]
fn large_gzip_and_plain_files_give_the_same_answers_and_line_numbers() {
    // A plain file past the size that is read as byte ranges, and the same as gzip (read ahead
    // on a thread of its own, blocks of 1 MiB); bad lines far into both.
    let mut text = generated(160_000, 11, GeneratedFormat::CustomV5);
    text.extend_from_slice(BAD_LINES.replace("2 123456789012", "5 eni-bad").as_bytes());
    text.extend_from_slice(b"5 not a record\n");
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("big.log");
    std::fs::write(&plain, &text).unwrap();
    let gz = dir.path().join("big.log.gz");
    std::fs::write(&gz, gzip(&text)).unwrap();
    assert!(text.len() > 32 << 20, "{} bytes", text.len());
    for inputs in [
        vec![Input::File(gz.clone())],
        vec![Input::File(plain.clone()), Input::File(gz.clone())],
    ] {
        let ((folded, folded_issues), (sql, sql_issues)) = both(&inputs, &FlowReadOptions::default(), top_talkers(10));
        assert_eq!(folded, sql);
        assert_eq!(folded_issues, sql_issues);
        let gz_issues: Vec<&Issue> = folded_issues.iter().filter(|i| i.source.ends_with(".gz")).collect();
        assert_eq!(gz_issues.len(), 4, "{folded_issues:?}");
        let lines = text.iter().filter(|b| **b == b'\n').count() as u64;
        assert_eq!(gz_issues.last().unwrap().line, Some(lines));
        assert_same(&inputs, &FlowReadOptions::default(), rejects(100));
    }
    // The plain file was read as byte ranges: its issues name the range they were met in.
    let ((_, issues), _) = both(&[Input::File(plain)], &FlowReadOptions::default(), rejects(5));
    assert!(issues.iter().any(|i| i.source.contains("(from byte")), "{issues:?}");
}

#[test]
fn a_truncated_gzip_file_keeps_what_was_read_and_names_the_line_where_it_ends() {
    let text = generated(60_000, 12, GeneratedFormat::DefaultV2);
    let compressed = gzip(&text);
    let cut = compressed[..compressed.len() * 2 / 3].to_vec();
    let inputs = [
        memory("cut.log.gz", cut),
        memory("whole.log", generated(500, 13, GeneratedFormat::DefaultV2)),
    ];
    let ((folded, folded_issues), (sql, sql_issues)) = both(&inputs, &FlowReadOptions::default(), top_talkers(20));
    assert_eq!(folded, sql);
    assert_eq!(folded_issues, sql_issues);
    assert_eq!(folded_issues.len(), 1, "{folded_issues:?}");
    assert!(
        folded_issues[0].message.contains("ends early or is corrupt"),
        "{folded_issues:?}"
    );
}

#[test]
fn the_time_range_filters_records_the_same_way() {
    let text = generated(20_000, 14, GeneratedFormat::DefaultV2);
    let options = FlowReadOptions {
        since: Some(1_718_000_000),
        until: Some(1_718_030_000),
        ..FlowReadOptions::default()
    };
    let inputs = [memory("range.log", text)];
    let all = assert_same(&inputs, &FlowReadOptions::default(), top_talkers(5));
    let ranged = assert_same(&inputs, &options, top_talkers(5));
    assert_ne!(all, ranged);
    assert_same(&inputs, &options, rejects(50));
}

#[test]
fn strict_runs_stop_at_the_same_first_bad_line() {
    let mut text = generated(2000, 1, GeneratedFormat::DefaultV2);
    text.extend_from_slice(BAD_LINES.as_bytes());
    let inputs = vec![
        memory("b.log", text.clone()),
        memory("a.log", generated(100, 2, GeneratedFormat::DefaultV2)),
        memory("c.log", text),
    ];
    let strict = FlowReadOptions {
        strict: true,
        ..FlowReadOptions::default()
    };
    let (folded_session, _) = session(inputs.clone(), strict.clone());
    let folded = folded_session.fold(top_talkers(10)).unwrap_err().to_string();
    let (sql_session, _) = session(inputs, strict);
    let sql = sql_session
        .query(&answers::top_talkers(Dialect::DataFusion, 10))
        .unwrap_err()
        .to_string();
    // The first bad line of the first source by name, on both paths.
    assert!(
        folded.starts_with("b.log:") && folded.contains(" fields where the format has 14"),
        "{folded}"
    );
    assert!(sql.contains(&folded), "{sql} / {folded}");
}

#[test]
fn many_files_of_both_formats_fold_like_the_sql() {
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = vec![];
    for i in 0..9u64 {
        let format = if i % 3 == 0 {
            GeneratedFormat::CustomV5
        } else {
            GeneratedFormat::DefaultV2
        };
        let text = generated(800, 20 + i, format);
        let path = dir
            .path()
            .join(format!("part-{i}.log{}", if i % 2 == 0 { ".gz" } else { "" }));
        std::fs::write(&path, if i % 2 == 0 { gzip(&text) } else { text }).unwrap();
        inputs.push(Input::File(path));
    }
    for question in [top_talkers(25), rejects(40)] {
        let answer = assert_same(&inputs, &FlowReadOptions::default(), question);
        assert!(answer.lines().count() > 10, "{answer}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any mix of records, odd records and bad lines, in any order, with blank lines anywhere:
    /// the same answers and issues.
    #[test]
    fn any_mix_of_lines_folds_to_the_sql_answer(
        picks in proptest::collection::vec((0usize..40, any::<bool>()), 1..120),
        seed in 1u64..1000,
        limit in 1usize..12,
    ) {
        let generated = generated(60, seed, GeneratedFormat::DefaultV2);
        let pool: Vec<&str> = std::str::from_utf8(&generated)
            .unwrap()
            .lines()
            .chain(ODD_RECORDS.lines())
            .chain(BAD_LINES.lines())
            .collect();
        let mut text = String::new();
        for (pick, blank) in &picks {
            text.push_str(pool[pick % pool.len()]);
            text.push('\n');
            if *blank {
                text.push_str("  \n");
            }
        }
        let inputs = [memory("mix.log", text.into_bytes())];
        let ((folded, folded_issues), (sql, sql_issues)) = both(&inputs, &FlowReadOptions::default(), top_talkers(limit));
        prop_assert_eq!(folded, sql);
        prop_assert_eq!(folded_issues, sql_issues);
        let ((folded, _), (sql, _)) = both(&inputs, &FlowReadOptions::default(), rejects(limit));
        prop_assert_eq!(folded, sql);
    }
}
