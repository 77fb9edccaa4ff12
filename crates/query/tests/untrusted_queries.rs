//! Queries are untrusted input (a command-line argument, a control file someone wrote): compiling
//! one never panics or hangs, and a rejection points into the query text (line and column) unless it
//! is about the document as a whole.
//!
//! Property tests start from the catalogue's stored queries and `where` filters, and mutate them:
//! syntax tokens and schema names inserted, ranges deleted or doubled, texts cut short, filters
//! nested deeply, parameters of every type.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../evidence/tests/support/mutate.rs"]
mod mutate;

use mutate::*;
use netaudit_model::Kind;
use netaudit_query::{compile, compile_filter, QueryError};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Rejections about the document as a whole, which have no one place in it.
const DOCUMENT_LEVEL: &[&str] = &[
    "a query must hold exactly one operation",
    "the query has no operation",
    "unknown parameter",
];

/// One compile may take this long in a debug build before it counts as a hang.
const PATIENCE: Duration = Duration::from_secs(5);

struct Seeds {
    queries: Vec<String>,
    /// (kind, where text) of every `not_applicable` and `scope` filter.
    filters: Vec<(Kind, String)>,
    tokens: Vec<&'static str>,
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let dir = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../checks/catalogue");
        let (mut queries, mut filters) = (vec![], vec![]);
        for control in std::fs::read_dir(dir).unwrap().flatten() {
            let text = std::fs::read_to_string(control.path().join("control.toml")).unwrap();
            let doc: toml::Table = toml::from_str(&text).unwrap();
            let query = &doc["query"];
            let stored = query["text"].as_str().unwrap().to_owned();
            let kind = stored
                .split(|c: char| !c.is_ascii_alphanumeric())
                .find_map(Kind::by_root_field)
                .unwrap();
            queries.push(stored);
            for na in query
                .get("not_applicable")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                filters.push((kind, na["where"].as_str().unwrap().to_owned()));
            }
            if let Some(scope) = query.get("scope") {
                filters.push((kind, scope["where"].as_str().unwrap().to_owned()));
            }
        }
        queries.sort();
        // GraphQL syntax, the operator suffixes, and every name the stored queries use.
        let mut tokens: Vec<&'static str> = vec![
            "{",
            "}",
            "(",
            ")",
            "[",
            "]",
            ":",
            ",",
            "\"",
            "\"\"\"",
            "$",
            "!",
            "@skip(if: true)",
            "...",
            "... on Vpc",
            "#",
            "\n",
            "null",
            "true",
            "query",
            "query($x: Int = 1)",
            "fragment F on Vpc { id }",
            "...F",
            "AssetFragment",
            "Int",
            "String",
            "[String!]!",
            "_NOT",
            "_IN",
            "_NOT_IN",
            "_LT",
            "_GTE",
            "_CONTAINS",
            "_STARTS_WITH",
            "_MATCHES",
            "_INCLUDES",
            "_SOME",
            "_NONE",
            "_ALL",
            "_SINGLE",
            "AND",
            "OR",
            "NOT",
            "\\u0000",
            "\\ud800",
            "(?",
            "[z-a]",
            "\\",
            "é",
            "\u{1F600}",
            "1.5",
            "99999999999999999999",
            "-0",
            "__typename",
            "__schema { types { name } }",
            "subscription",
            "mutation",
        ];
        for text in queries.iter().chain(filters.iter().map(|(_, w)| w)) {
            for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if !word.is_empty() && !tokens.contains(&word) {
                    tokens.push(Box::leak(word.to_owned().into_boxed_str()));
                }
            }
        }
        Seeds {
            queries,
            filters,
            tokens,
        }
    })
}

fn mutated(text: &str, edits: &[ByteEdit]) -> String {
    String::from_utf8_lossy(&apply_bytes(text.as_bytes().to_vec(), edits, &seeds().tokens)).into_owned()
}

/// A rejection points into the text (or just past its end, where a missing `}` is found), or is
/// about the whole document.
fn check_rejection(text: &str, error: &QueryError, extra_lines: usize) -> Result<(), TestCaseError> {
    match (error.line, error.column) {
        (Some(line), Some(column)) => {
            let lines = line_count(text) + extra_lines;
            prop_assert!((1..=lines).contains(&line), "line {line} of {lines}: {error}\n{text}");
            prop_assert!(column >= 1, "column {column}: {error}");
        }
        (None, None) => prop_assert!(
            DOCUMENT_LEVEL.iter().any(|m| error.message.starts_with(m)),
            "no position: {error}\n{text}"
        ),
        _ => prop_assert!(false, "half a position: {error:?}"),
    }
    Ok(())
}

fn compile_in_time(text: &str, params: &BTreeMap<String, serde_json::Value>) -> Result<(), TestCaseError> {
    let started = Instant::now();
    let result = compile(text, params);
    prop_assert!(started.elapsed() < PATIENCE, "{:?} for {text:?}", started.elapsed());
    if let Err(error) = result {
        // The stored-check shorthand is wrapped in braces; the shared fragment is appended.
        check_rejection(text, &error, 2)?;
    }
    Ok(())
}

fn params() -> impl Strategy<Value = BTreeMap<String, serde_json::Value>> {
    let name = prop_oneof![
        3 => Just("minRetentionTime".to_owned()),
        3 => Just("trafficType".to_owned()),
        1 => Just("x".to_owned()),
        1 => "[a-zA-Z_]{1,8}",
    ];
    proptest::collection::btree_map(name, json_value(), 0..3)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Stored queries with syntax and schema names inserted, ranges deleted or doubled, cut short.
    #[test]
    fn mutated_stored_queries_compile_or_are_rejected_with_a_position(
        seed in any::<Index>(),
        edits in proptest::collection::vec(byte_edit(), 1..6),
        params in params(),
    ) {
        let text = mutated(seed.get::<String>(&seeds().queries), &edits);
        compile_in_time(&text, &params)?;
    }

    /// Any text at all.
    #[test]
    fn random_text_is_rejected_with_a_position(text in "\\PC{0,200}", params in params()) {
        compile_in_time(&text, &params)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

    /// The `where` filters of `not_applicable` and `scope`, mutated.
    #[test]
    fn mutated_filters_compile_or_are_rejected_with_a_position(
        seed in any::<Index>(),
        edits in proptest::collection::vec(byte_edit(), 1..6),
    ) {
        let (kind, text) = seed.get(seeds().filters.as_slice());
        let text = mutated(text, &edits);
        let started = Instant::now();
        let result = compile_filter(*kind, &text);
        prop_assert!(started.elapsed() < PATIENCE, "{:?} for {text:?}", started.elapsed());
        if let Err(error) = result {
            check_rejection(&text, &error, 1)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// Deeply nested filters, lists and selections: refused or compiled, never a crash.
    #[test]
    fn deep_nesting_is_bounded(depth in 1usize..3000, shape in 0usize..4) {
        let text = match shape {
            0 => format!("vpcs(where: {}{{id: \"x\"}}{}) {{ id }}", "{NOT: ".repeat(depth), "}".repeat(depth)),
            1 => format!("vpcs(where: {}{{id: \"x\"}}{}) {{ id }}", "{OR: [".repeat(depth), "]}".repeat(depth)),
            2 => format!("vpcs(where: {{id_IN: {}\"x\"{}}}) {{ id }}", "[".repeat(depth), "]".repeat(depth)),
            _ => format!("vpcs {{ {} id {} }}", "... on Vpc { ".repeat(depth), "}".repeat(depth)),
        };
        let started = Instant::now();
        let result = compile(&text, &BTreeMap::new());
        prop_assert!(started.elapsed() < PATIENCE, "{:?} at depth {depth}", started.elapsed());
        match result {
            // Far deeper than any real query: refused before parsing, at the bracket too many.
            Err(error) if depth >= 200 => {
                prop_assert!(error.message.starts_with("nested more than"), "{error}");
                prop_assert_eq!(error.line, Some(1));
            }
            Err(error) => check_rejection(&text, &error, 2)?,
            Ok(_) => prop_assert!(depth < 200, "depth {depth} compiled"),
        }
    }
}

/// A comment that swallows the rest of the only line leaves the braces open: the error is found in
/// what netaudit appends (the shared fragment), and is reported just past the text's end.
#[test]
fn an_error_in_the_appended_fragment_points_just_past_the_text() {
    let text = "vpnTunnels(where: {#alarms_NONE: {actionCount_GT: 0}}) { ...AssetFragment }";
    let error = compile(text, &BTreeMap::new()).unwrap_err();
    assert_eq!(error.line, Some(2), "{error}");
}
