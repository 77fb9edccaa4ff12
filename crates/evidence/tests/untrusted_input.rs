//! Evidence is untrusted input: the loader never panics or hangs on it, and every file it rejects is
//! named, with a line and column when the JSON could not be read, and becomes a gap of the inventory.
//!
//! Property tests start from every evidence file of the example estate and of the catalogue's
//! fixtures, and mutate them: bytes (flips, syntax tokens, deletions, truncation), JSON structure (a
//! value of another type, a dropped key, an unknown key, deep nesting) and encoding (BOM, UTF-16);
//! then whole evidence directories with random file and folder names go through `load_dir`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mutate.rs"]
mod mutate;

use mutate::*;
use netaudit_evidence::{load_dir, load_files, EvidenceError, Scope, OPERATIONS};
use netaudit_model::inventory::{AccountInventory, Listing};
use netaudit_model::{Gap, Inventory};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

const ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-1";

/// (file name, contents) of every evidence file of the example estate and the fixtures.
fn seeds() -> &'static [(String, Vec<u8>)] {
    static SEEDS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let root = Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../..");
        let mut seeds = vec![];
        let mut stack = vec![root.join("examples/estate")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    seeds.push((name, std::fs::read(&path).unwrap()));
                }
            }
        }
        for control in std::fs::read_dir(root.join("crates/checks/catalogue"))
            .unwrap()
            .flatten()
        {
            let Ok(fixtures) = std::fs::read_dir(control.path().join("fixtures")) else {
                continue;
            };
            for fixture in fixtures.flatten() {
                let doc: toml::Table = toml::from_str(&std::fs::read_to_string(fixture.path()).unwrap()).unwrap();
                for (key, value) in doc.get("files").and_then(|f| f.as_table()).into_iter().flatten() {
                    let name = key.rsplit('/').next().unwrap().to_owned();
                    seeds.push((name, value.as_str().unwrap().as_bytes().to_vec()));
                }
            }
        }
        seeds.sort();
        seeds.dedup();
        // Every kind of evidence file is among the seeds.
        for op in OPERATIONS {
            assert!(
                seeds.iter().any(|(n, _)| *n == op.json_file()),
                "no seed for {}",
                op.api
            );
        }
        seeds
    })
}

/// Where a file of this name lives in an evidence directory.
fn place(name: &str) -> String {
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    match OPERATIONS.iter().find(|op| op.stem() == stem).map(|op| op.scope) {
        Some(Scope::Account) => format!("{ACCOUNT}/{name}"),
        _ => format!("{ACCOUNT}/{REGION}/{name}"),
    }
}

fn gaps_of(account: &AccountInventory) -> Vec<Arc<Gap>> {
    fn push<T>(out: &mut Vec<Arc<Gap>>, listing: &Listing<T>) {
        if let Err(gap) = listing {
            out.push(gap.clone());
        }
    }
    let mut out = account.other_gaps.clone();
    push(&mut out, &account.regions);
    push(&mut out, &account.buckets);
    for r in &account.region_data {
        push(&mut out, &r.vpcs);
        push(&mut out, &r.subnets);
        push(&mut out, &r.network_interfaces);
        push(&mut out, &r.flow_logs);
        push(&mut out, &r.client_vpn_endpoints);
        push(&mut out, &r.vpn_connections);
        push(&mut out, &r.log_groups);
        push(&mut out, &r.alarms);
        push(&mut out, &r.delivery_streams);
        push(&mut out, &r.internet_gateways);
    }
    out
}

fn all_gaps(inventory: &Inventory) -> Vec<Arc<Gap>> {
    inventory.accounts.iter().flat_map(gaps_of).collect()
}

/// Load one (mutated) evidence file in its place and check what the loader says about it.
fn load_one(name: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    let key = place(name);
    let mut files = BTreeMap::new();
    files.insert(key.clone(), bytes.to_vec());
    let loaded = load_files(&files);
    let gaps = all_gaps(&loaded.inventory);
    let lines = line_count(&decoded(bytes));
    for error in &loaded.errors {
        let shown = error.to_string();
        prop_assert!(shown.starts_with(error.path()), "{shown}");
        match error {
            // Only the files of the given kind exist: the others are missing, which says nothing
            // about the mutated one.
            EvidenceError::Missing { .. } => continue,
            // A mutated region list may not list the region folder: that folder is named.
            EvidenceError::UnlistedRegion { path, .. } => {
                prop_assert_eq!(path, &format!("{ACCOUNT}/{REGION}/"));
                continue;
            }
            EvidenceError::Json { path, line, .. } => {
                prop_assert_eq!(path, &key);
                prop_assert!((1..=lines).contains(line), "line {line} of {lines}: {shown}");
            }
            other => prop_assert_eq!(other.path(), key.as_str(), "{}", shown),
        }
        // Every rejection is a gap of the inventory, pointing at the file.
        prop_assert!(
            gaps.iter().any(|g| g.source.as_deref() == Some(error.path())),
            "{shown} is not a gap: {gaps:?}"
        );
    }
    Ok(())
}

/// The text the loader reads: without a byte-order mark, UTF-16 as UTF-8.
fn decoded(bytes: &[u8]) -> String {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| from([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn seed() -> impl Strategy<Value = &'static (String, Vec<u8>)> {
    any::<Index>().prop_map(|i| i.get(seeds()))
}

/// The seeds that are JSON documents, parsed (not `.error` texts, nor the fixtures' broken files).
fn json_seeds() -> &'static [(String, serde_json::Value)] {
    static SEEDS: OnceLock<Vec<(String, serde_json::Value)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        seeds()
            .iter()
            .filter_map(|(name, bytes)| Some((name.clone(), serde_json::from_slice(bytes).ok()?)))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Bytes flipped, syntax inserted, ranges deleted or doubled, files cut short.
    #[test]
    fn mutated_bytes_are_rejected_with_their_file_and_position(
        seed in seed(),
        edits in proptest::collection::vec(byte_edit(), 1..6),
    ) {
        let bytes = apply_bytes(seed.1.clone(), &edits, JSON_TOKENS);
        load_one(&seed.0, &bytes)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Values of another type, dropped and unknown keys, deep nesting, BOMs and UTF-16.
    #[test]
    fn mutated_documents_are_rejected_with_their_file_and_position(
        seed in any::<Index>().prop_map(|i| i.get(json_seeds())),
        edits in proptest::collection::vec(json_edit(), 1..5),
        encoding in encoding(),
    ) {
        let bytes = encode(&apply_json(seed.1.clone(), &edits), encoding);
        load_one(&seed.0, &bytes)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any bytes at all, under any evidence file name.
    #[test]
    fn random_bytes_are_rejected_with_their_file(
        op in any::<Index>(),
        error_file in any::<bool>(),
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let op = op.get(OPERATIONS);
        let name = if error_file { op.error_file() } else { op.json_file() };
        load_one(&name, &bytes)?;
    }
}

/// One entry of a random evidence directory.
#[derive(Debug, Clone)]
enum Entry {
    Dir(String, Vec<Entry>),
    File(String, FileContent),
    /// A symbolic link to the folder it is in (a loop) or to nothing.
    Link(String, bool),
}

#[derive(Debug, Clone)]
enum FileContent {
    Seed(Index),
    Bytes(Vec<u8>),
}

/// Names the layout knows, names it nearly knows, and anything else a file system accepts.
fn name() -> impl Strategy<Value = String> {
    let op_file = (
        any::<Index>(),
        prop_oneof![Just(".json"), Just(".error"), Just(".txt"), Just("")],
    )
        .prop_map(|(i, ext)| format!("{}{ext}", i.get(OPERATIONS).stem()));
    prop_oneof![
        3 => op_file,
        2 => prop_oneof![Just("111111111111"), Just("222222222222"), Just("000000000000")].prop_map(str::to_owned),
        2 => prop_oneof![Just("us-east-1"), Just("eu-west-1"), Just("us-gov-west-1"), Just("global")].prop_map(str::to_owned),
        1 => "[0-9]{11,13}",
        1 => "[a-z]{2}-[a-z]{1,9}-[0-9]{1,2}[a-z]?",
        // Anything but '/', NUL and the names '.' and '..'.
        1 => "[^/\u{0}]{1,40}".prop_filter("not . or ..", |n| n != "." && n != ".."),
        1 => Just(".hidden".to_owned()),
        1 => Just(" spaced name .json".to_owned()),
    ]
}

fn entries(depth: u32) -> BoxedStrategy<Vec<Entry>> {
    let content = prop_oneof![
        3 => any::<Index>().prop_map(FileContent::Seed),
        1 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(FileContent::Bytes),
    ];
    let file = (name(), content).prop_map(|(n, c)| Entry::File(n, c));
    let link = (name(), any::<bool>()).prop_map(|(n, to_parent)| Entry::Link(n, to_parent));
    if depth == 0 {
        return proptest::collection::vec(prop_oneof![4 => file, 1 => link], 0..6).boxed();
    }
    let dir = (name(), entries(depth - 1)).prop_map(|(n, e)| Entry::Dir(n, e));
    proptest::collection::vec(prop_oneof![3 => dir, 3 => file, 1 => link], 0..6).boxed()
}

/// Write `entries` under `dir`; a name already taken keeps its first entry.
fn write_tree(dir: &Path, entries: &[Entry]) {
    for entry in entries {
        let (Entry::Dir(name, _) | Entry::File(name, _) | Entry::Link(name, _)) = entry;
        let path = dir.join(name);
        if path.symlink_metadata().is_ok() {
            continue;
        }
        match entry {
            Entry::Dir(_, children) => {
                if std::fs::create_dir(&path).is_ok() {
                    write_tree(&path, children);
                }
            }
            Entry::File(_, content) => {
                let bytes = match content {
                    FileContent::Seed(i) => i.get(seeds()).1.clone(),
                    FileContent::Bytes(b) => b.clone(),
                };
                let _ = std::fs::write(&path, bytes);
            }
            Entry::Link(_, to_parent) => {
                let target = if *to_parent {
                    PathBuf::from(".")
                } else {
                    PathBuf::from("nowhere")
                };
                let _ = std::os::unix::fs::symlink(target, &path);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whole directories of random files, folders and links: the load ends, every problem names
    /// something that is there (for a missing file, the folder it should be in), and every problem
    /// inside an account folder is a gap of that account.
    #[test]
    fn random_evidence_directories_load_and_name_every_problem(tree in entries(3)) {
        let dir = tempfile::tempdir().unwrap();
        write_tree(dir.path(), &tree);
        let loaded = match load_dir(dir.path()) {
            Ok(loaded) => loaded,
            Err(e @ (EvidenceError::Dir { .. } | EvidenceError::NoAccounts { .. })) => {
                prop_assert!(e.to_string().starts_with(&dir.path().display().to_string()), "{e}");
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(format!("load_dir failed with {e}"))),
        };
        prop_assert!(!loaded.inventory.accounts.is_empty());
        let gaps = all_gaps(&loaded.inventory);
        for error in &loaded.errors {
            let path = error.path();
            prop_assert!(error.to_string().starts_with(path), "{error}");
            let named = match error {
                EvidenceError::Missing { .. } => path.rsplit_once('/').map_or("", |(folder, _)| folder),
                _ => path.trim_end_matches('/'),
            };
            prop_assert!(
                dir.path().join(named).symlink_metadata().is_ok(),
                "{error} names {named:?}, which is not there"
            );
            let account = path.split('/').next().unwrap_or_default();
            if path.contains('/') && loaded.inventory.accounts.iter().any(|a| a.account_id == account) {
                prop_assert!(gaps.iter().any(|g| g.source.as_deref() == Some(path)), "{error} is not a gap");
            }
        }
    }
}
