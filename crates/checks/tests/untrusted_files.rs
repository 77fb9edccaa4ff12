//! Exceptions files and control files are untrusted input: parsing one never panics or hangs, and
//! every rejection names the file and its line (and column, where the control-file API has one).
//!
//! Property tests start from the example exceptions file and every built-in control file, and mutate
//! them: bytes (TOML and GraphQL syntax, deletions, truncation), TOML structure (a value of another
//! type, a dropped key, an unknown key) and the stored query inside the file. Control files go through
//! the public loader (`load_dir`), as a user's `--checks-dir` does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../evidence/tests/support/mutate.rs"]
mod mutate;

use mutate::*;
use netaudit_checks::{builtin, load_dir, parse_exceptions, Catalogue, ExceptionsError};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One parse may take this long in a debug build before it counts as a hang.
const PATIENCE: Duration = Duration::from_secs(5);

fn repo() -> std::path::PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../..")
}

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let (catalogue, errors) = builtin();
        assert!(errors.is_empty(), "{errors:?}");
        catalogue
    })
}

/// The example exceptions file, and the one in the README.
fn exception_seeds() -> &'static [String] {
    static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let example = std::fs::read_to_string(repo().join("examples/exceptions.toml")).unwrap();
        let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
        let block = readme
            .split("```toml\n")
            .skip(1)
            .filter_map(|b| b.split_once("```").map(|(toml, _)| toml.to_owned()))
            .find(|b| b.contains("[[exception]]"))
            .unwrap();
        vec![example, block]
    })
}

fn control_seeds() -> &'static [String] {
    static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds: Vec<String> = std::fs::read_dir(repo().join("crates/checks/catalogue"))
            .unwrap()
            .flatten()
            .map(|c| std::fs::read_to_string(c.path().join("control.toml")).unwrap())
            .collect();
        seeds.sort();
        seeds
    })
}

const FILE: &str = "team/exceptions.toml";

/// Parse `text` as an exceptions file. Always: no panic, no hang, a rejection says it is this file
/// and any line it gives is in it. With `strict`, also: every rejection has a line and a message.
fn check_exceptions(text: &str, strict: bool) -> Result<(), TestCaseError> {
    let started = Instant::now();
    let result = parse_exceptions(FILE, text, catalogue());
    prop_assert!(started.elapsed() < PATIENCE, "{:?}", started.elapsed());
    if let Err(errors) = result {
        prop_assert!(!errors.is_empty(), "a rejection says why");
        let lines = line_count(text);
        for ExceptionsError {
            file, line, message, ..
        } in &errors
        {
            prop_assert_eq!(file, FILE);
            if let Some(line) = line {
                prop_assert!((1..=lines).contains(line), "line {line} of {lines}: {message}");
            }
            if strict {
                prop_assert!(line.is_some(), "no line: {message:?} for {text:?}");
                prop_assert!(!message.is_empty(), "an empty message at line {line:?} for {text:?}");
            }
        }
    }
    Ok(())
}

/// A TOML document with `edits`, written back; `None` when it cannot be written as TOML.
fn restructured(text: &str, edits: &[TomlEdit]) -> Option<String> {
    let doc: toml::Value = toml::from_str(text).ok()?;
    toml::to_string(&apply_toml(doc, edits)).ok()
}

fn tokens() -> &'static [&'static str] {
    static TOKENS: OnceLock<Vec<&'static str>> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let mut tokens = TOML_TOKENS.to_vec();
        tokens.extend([
            "EC2.6",
            "arn:aws:ec2:*:*:vpc/*",
            "*",
            "{",
            "}",
            "(where: ",
            "...AssetFragment",
            "$",
        ]);
        tokens
    })
}

// The strict properties: every rejection has a line and a message. They found TOML errors with an
// empty message (`#\0`, a control character in a comment) and control-file rejections with no line
// (`id = ""`, an unknown fail_message placeholder, an undeclared parameter, an undescribed variable).

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_exceptions_files_never_panic_and_name_their_file(
        seed in any::<Index>(),
        edits in proptest::collection::vec(byte_edit(), 1..6),
    ) {
        let bytes = apply_bytes(seed.get::<String>(exception_seeds()).as_bytes().to_vec(), &edits, tokens());
        check_exceptions(&String::from_utf8_lossy(&bytes), false)?;
    }

    #[test]
    fn restructured_exceptions_files_never_panic_and_name_their_file(
        seed in any::<Index>(),
        edits in proptest::collection::vec(toml_edit(), 1..5),
    ) {
        let Some(text) = restructured(seed.get::<String>(exception_seeds()), &edits) else {
            return Ok(());
        };
        check_exceptions(&text, false)?;
    }

    #[test]
    fn mutated_exceptions_files_say_why_and_where(
        seed in any::<Index>(),
        edits in proptest::collection::vec(byte_edit(), 1..6),
    ) {
        let bytes = apply_bytes(seed.get::<String>(exception_seeds()).as_bytes().to_vec(), &edits, tokens());
        check_exceptions(&String::from_utf8_lossy(&bytes), true)?;
    }
}

/// Load `text` as a user's control file. Always: no panic, no hang, one outcome, a rejection names
/// the file and any line and column it gives are in it. With `strict`, also: every rejection has a
/// line and a message.
fn check_control(dir: &Path, text: &str, strict: bool) -> Result<(), TestCaseError> {
    let path = dir.join("mine.toml");
    std::fs::write(&path, text).unwrap();
    let started = Instant::now();
    let loaded = load_dir(dir);
    prop_assert!(started.elapsed() < PATIENCE, "{:?}", started.elapsed());
    let (controls, errors) = loaded.map_err(|e| TestCaseError::fail(format!("the directory is readable: {e}")))?;
    // One file, one outcome: the control, or the reasons it did not load.
    prop_assert!(
        (controls.len() == 1 && errors.is_empty()) || (controls.is_empty() && !errors.is_empty()),
        "{} controls, errors {:?}",
        controls.len(),
        errors
    );
    let lines = line_count(text);
    for error in &errors {
        prop_assert_eq!(&error.path, &path.display().to_string());
        if let Some(line) = error.line {
            prop_assert!((1..=lines).contains(&line), "line {line} of {lines}: {error}");
        }
        prop_assert!(error.column.is_none_or(|c| c >= 1), "{error}");
        if strict {
            prop_assert!(error.line.is_some(), "no line: {error} for {text:?}");
            prop_assert!(!error.message.is_empty(), "an empty message: {error:?} for {text:?}");
        }
    }
    Ok(())
}

/// A control file whose stored query was mutated, written back as TOML.
fn with_mutated_query(text: &str, edits: &[ByteEdit]) -> Option<String> {
    let mut doc: toml::Table = toml::from_str(text).ok()?;
    let query = doc.get_mut("query")?.as_table_mut()?;
    let stored = query.get("text")?.as_str()?.as_bytes().to_vec();
    let mutated = String::from_utf8_lossy(&apply_bytes(stored, edits, tokens())).into_owned();
    query.insert("text".into(), toml::Value::String(mutated));
    toml::to_string(&doc).ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_control_files_never_panic_and_name_their_file(
        seed in any::<Index>(),
        edits in proptest::collection::vec(byte_edit(), 1..6),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let bytes = apply_bytes(seed.get::<String>(control_seeds()).as_bytes().to_vec(), &edits, tokens());
        check_control(dir.path(), &String::from_utf8_lossy(&bytes), false)?;
    }

    #[test]
    fn restructured_control_files_never_panic_and_name_their_file(
        seed in any::<Index>(),
        edits in proptest::collection::vec(toml_edit(), 1..5),
    ) {
        let Some(text) = restructured(seed.get::<String>(control_seeds()), &edits) else {
            return Ok(());
        };
        let dir = tempfile::tempdir().unwrap();
        check_control(dir.path(), &text, false)?;
    }

    /// The stored query is what most often goes wrong in a control file: its errors must point into
    /// the file, at the line and column in the query.
    #[test]
    fn control_files_with_a_mutated_query_are_rejected_with_their_line(
        seed in any::<Index>(),
        edits in proptest::collection::vec(byte_edit(), 1..6),
    ) {
        let Some(text) = with_mutated_query(seed.get::<String>(control_seeds()), &edits) else {
            return Ok(());
        };
        let dir = tempfile::tempdir().unwrap();
        check_control(dir.path(), &text, false)?;
        let errors = load_dir(dir.path()).unwrap().1;
        for error in errors.iter().filter(|e| e.message.starts_with("query:")) {
            prop_assert!(error.line.is_some() && error.column.is_some(), "{error} for {text:?}");
        }
    }

    #[test]
    fn restructured_control_files_say_why_and_where(
        seed in any::<Index>(),
        edits in proptest::collection::vec(toml_edit(), 1..5),
    ) {
        let Some(text) = restructured(seed.get::<String>(control_seeds()), &edits) else {
            return Ok(());
        };
        let dir = tempfile::tempdir().unwrap();
        check_control(dir.path(), &text, true)?;
    }
}
