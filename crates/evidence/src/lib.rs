//! Offline evidence for netaudit: an auditor gets exported AWS CLI output instead of credentials.
//!
//! The layout is `DIR/<account-id>/<region>/<service>-<operation>.json` (account-wide calls directly in
//! `DIR/<account-id>/`), each file the unmodified output of `aws <service> <operation> --output json`.
//! A failed call leaves `<service>-<operation>.error` with the CLI's stderr instead. [`OPERATIONS`]
//! lists the calls; [`collection_script`] is the bash script that makes such a directory, and
//! [`load_dir`] / [`load_files`] read one into a [`netaudit_model::Inventory`].
//!
//! A read that failed never looks like an empty one: each listing is its records or the
//! [`Gap`](netaudit_model::Gap) that stopped it (missing file, failed call, malformed JSON), and one
//! bad file, region or account only affects itself. Every problem is also returned as an
//! [`EvidenceError`] naming its file, for the CLI to print.

mod error;
mod load;
mod operations;
mod parse;
mod script;
mod write;

pub use error::EvidenceError;

/// Written beside an account's evidence when the scan was limited to some regions (`--regions`):
/// `{"Regions": ["us-east-1", …]}`. Regions outside it are not part of the scan, rather than unread.
pub const REGION_SCOPE_FILE: &str = "netaudit-region-scope.json";
pub use operations::{Operation, Scope, OPERATIONS};
pub use script::collection_script;
pub use write::write_dir;

use load::{Content, Node, Tree};
use netaudit_model::Inventory;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// What an evidence directory held.
#[derive(Debug)]
pub struct Loaded {
    pub inventory: Inventory,
    /// Every problem found: account by account, each account's own files before its region folders.
    /// Those inside an account folder are also gaps in the inventory.
    pub errors: Vec<EvidenceError>,
}

/// Load an evidence directory. `Err` only when the directory itself is unusable (missing, not a
/// directory, unreadable, or without any account folder); everything else is in [`Loaded::errors`].
pub fn load_dir(dir: &Path) -> Result<Loaded, EvidenceError> {
    let path = dir.display().to_string();
    let dir_err = |message: String| EvidenceError::Dir {
        path: path.clone(),
        message,
    };
    let meta = fs::metadata(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => dir_err("no such directory".into()),
        _ => dir_err(format!("cannot read: {e}")),
    })?;
    if !meta.is_dir() {
        return Err(dir_err("not a directory".into()));
    }
    let tree = read_tree(dir, 0).map_err(|e| dir_err(format!("cannot read: {e}")))?;
    let (inventory, errors) = load::load_tree(&tree);
    if inventory.accounts.is_empty() {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        return Err(no_accounts(path, name.as_deref(), &tree));
    }
    Ok(Loaded { inventory, errors })
}

/// Load evidence given as relative paths (`111111111111/us-east-1/ec2-describe-vpcs.json`) and their
/// contents, by the same rules as [`load_dir`]. A key ending in `/` is an (empty) folder. With no
/// account folder, the inventory is empty and the error says so.
pub fn load_files(files: &BTreeMap<String, Vec<u8>>) -> Loaded {
    let tree = load::tree_from_files(files);
    let (inventory, mut errors) = load::load_tree(&tree);
    if inventory.accounts.is_empty() {
        errors.push(no_accounts(".".into(), None, &tree));
    }
    Loaded { inventory, errors }
}

/// Read `dir` into a tree: accounts, their regions, and the regions' entries (not below: a folder
/// there is reported, never descended into). File contents are read later, only for evidence files.
fn read_tree(dir: &Path, depth: usize) -> Result<Tree<'static>, std::io::Error> {
    let mut tree = Tree::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        // Follows symlinks, so a linked-in account folder loads like a copied one.
        let node = match fs::metadata(&path) {
            Err(e) => Node::File(Content::Unreadable(e.to_string())),
            Ok(m) if m.is_dir() && depth < 2 => Node::Dir(read_tree(&path, depth + 1).map_err(|e| e.to_string())),
            Ok(m) if m.is_dir() => Node::Dir(Ok(Tree::new())),
            Ok(m) if m.is_file() => Node::File(Content::Disk(path)),
            // A FIFO or device would block or never end.
            Ok(_) => Node::File(Content::Unreadable("not a regular file".into())),
        };
        tree.insert(entry.file_name().to_string_lossy().into_owned(), node);
    }
    Ok(tree)
}

fn no_accounts(path: String, dir_name: Option<&str>, tree: &Tree<'_>) -> EvidenceError {
    let looks_like_account = dir_name.is_some_and(load::is_account_id)
        || tree.keys().any(|k| {
            let stem = k.rsplit_once('.').map_or(k.as_str(), |(stem, _)| stem);
            load::is_region_name(k) || Operation::by_stem(stem).is_some()
        });
    let hint = if looks_like_account {
        "; this looks like one account's folder: pass the directory that contains it".to_owned()
    } else if tree.is_empty() {
        "; it is empty".to_owned()
    } else {
        let found: Vec<&str> = tree.keys().take(5).map(String::as_str).collect();
        format!("; found {}", found.join(", "))
    };
    EvidenceError::NoAccounts { path, hint }
}

/// Finds where resources sit in an evidence directory, for reports that point at a file. Each file is
/// read and indexed once (every string on every line), so locating many resources stays linear.
#[derive(Debug)]
pub struct RecordLocator {
    dir: std::path::PathBuf,
    /// Per file: the first line of each string it holds; None when the file cannot be read.
    index: std::cell::RefCell<BTreeMap<std::path::PathBuf, Option<std::collections::HashMap<String, usize>>>>,
}

impl RecordLocator {
    pub fn new(dir: &Path) -> RecordLocator {
        RecordLocator {
            dir: dir.to_owned(),
            index: std::cell::RefCell::default(),
        }
    }

    /// Where a resource read through `api` (`ec2:DescribeVpcs`) in this account and region sits: the
    /// listing's `.json` file and the first line naming `resource_id` (or, for a compound id such as
    /// `vpn-1/tunnel/3.5.140.20`, its most specific part found; line 1 when none is), or the
    /// listing's `.error` file (line 1) when the call failed. None when the directory holds neither,
    /// or no operation has that api.
    pub fn locate(
        &self,
        api: &str,
        account: &str,
        region: &str,
        resource_id: &str,
    ) -> Option<(std::path::PathBuf, usize)> {
        let op = OPERATIONS.iter().find(|op| op.api == api)?;
        let folder = match op.scope {
            Scope::Account => self.dir.join(account),
            Scope::Regional => self.dir.join(account).join(region),
        };
        let json = folder.join(op.json_file());
        let mut index = self.index.borrow_mut();
        let strings = index
            .entry(json.clone())
            .or_insert_with(|| fs::read_to_string(&json).ok().map(|text| index_strings(&text)));
        if let Some(strings) = strings {
            let line = std::iter::once(resource_id)
                .chain(resource_id.rsplit('/'))
                .find_map(|id| strings.get(id).copied())
                .unwrap_or(1);
            return Some((json, line));
        }
        let error = folder.join(op.error_file());
        error.is_file().then_some((error, 1))
    }
}

/// The first line (1-based) of every JSON string literal in `text`, as written between its quotes.
fn index_strings(text: &str) -> std::collections::HashMap<String, usize> {
    let mut index = std::collections::HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find('"') {
            let body = &rest[start + 1..];
            let mut end = None;
            let mut escaped = false;
            for (i, c) in body.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let Some(end) = end else { break };
            index.entry(body[..end].to_owned()).or_insert(number + 1);
            rest = &body[end + 1..];
        }
    }
    index
}

#[cfg(test)]
mod locator_tests {
    use super::*;

    fn estate() -> std::path::PathBuf {
        Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../examples/estate")
    }

    fn line_of(file: &Path, line: usize) -> String {
        fs::read_to_string(file)
            .ok()
            .and_then(|t| t.lines().nth(line - 1).map(str::to_owned))
            .unwrap_or_default()
    }

    #[test]
    fn strings_are_indexed_by_their_first_line_escapes_included() {
        let index = index_strings("{\n  \"a\": \"x\\\"y\", \"b\": \"a\"\n}\n\"b\"\n");
        assert_eq!(index.get("a"), Some(&2));
        assert_eq!(index.get("x\\\"y"), Some(&2));
        assert_eq!(index.get("b"), Some(&2));
        assert_eq!(index.get("y"), None);
    }

    #[test]
    fn a_resource_is_found_at_its_record_a_failed_call_at_its_error_file() {
        let locator = RecordLocator::new(&estate());
        let vpc = "vpc-0a1b2c3d4e5f60002";
        let (file, line) = locator
            .locate("ec2:DescribeVpcs", "111111111111", "us-east-1", vpc)
            .expect("the VPC listing");
        assert!(file.ends_with("111111111111/us-east-1/ec2-describe-vpcs.json"));
        assert!(line > 1 && line_of(&file, line).contains(vpc), "line {line}");

        // A tunnel's id is compound: its outside address names its record.
        let (file, line) = locator
            .locate(
                "ec2:DescribeVpnConnections",
                "111111111111",
                "us-east-1",
                "vpn-0aa1bb2cc3dd40002/tunnel/3.5.140.21",
            )
            .expect("the VPN listing");
        assert!(line_of(&file, line).contains("\"3.5.140.21\""), "line {line}");

        let (file, line) = locator
            .locate("ec2:DescribeFlowLogs", "111111111111", "eu-west-1", "fl-1")
            .expect("the failed call's file");
        assert!(file.ends_with("111111111111/eu-west-1/ec2-describe-flow-logs.error"));
        assert_eq!(line, 1);

        assert_eq!(
            locator.locate("ec2:DescribeVpcs", "222222222222", "ap-southeast-2", "vpc-1"),
            None
        );
        assert_eq!(locator.locate("ec2:Nothing", "111111111111", "us-east-1", vpc), None);
    }
}
