//! Evidence tree → inventory. `load_dir` and `load_files` both build a [`Tree`] and end here, so the
//! rules cannot drift apart.

use crate::error::EvidenceError;
use crate::operations::{Operation, Scope};
use crate::parse::{self, Doc};
use netaudit_model::inventory::{AccountInventory, Inventory, Listing, RegionInventory};
use netaudit_model::Gap;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// The `api` of gaps that are about the evidence layout rather than one AWS call.
const LAYOUT_API: &str = "netaudit:LoadEvidence";

/// A folder's entries by name.
pub(crate) type Tree<'a> = BTreeMap<String, Node<'a>>;

/// One entry of the evidence tree; a read error is kept so it can become a gap where it belongs.
#[derive(Debug)]
pub(crate) enum Node<'a> {
    File(Content<'a>),
    Dir(Result<Tree<'a>, String>),
}

/// A file's content, read only when the file turns out to be evidence (a stray large file costs
/// nothing).
#[derive(Debug)]
pub(crate) enum Content<'a> {
    Bytes(&'a [u8]),
    Disk(PathBuf),
    Unreadable(String),
}

impl<'a> Content<'a> {
    fn bytes(&self) -> Result<Cow<'a, [u8]>, String> {
        match self {
            Content::Bytes(b) => Ok(Cow::Borrowed(b)),
            Content::Disk(path) => std::fs::read(path).map(Cow::Owned).map_err(|e| e.to_string()),
            Content::Unreadable(message) => Err(message.clone()),
        }
    }
}

/// Build a tree from relative paths. A key ending in `/` is a folder (so an empty folder can be
/// given); `.` and empty components are ignored.
pub(crate) fn tree_from_files(files: &BTreeMap<String, Vec<u8>>) -> Tree<'_> {
    let mut root = MapFolder::default();
    for (key, bytes) in files {
        let parts: Vec<&str> = key.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
        let Some((last, parents)) = parts.split_last() else {
            continue;
        };
        let mut folder = &mut root;
        for part in parents {
            folder = folder.folders.entry((*part).to_owned()).or_default();
        }
        if key.ends_with('/') {
            folder.folders.entry((*last).to_owned()).or_default();
        } else {
            folder.files.entry((*last).to_owned()).or_insert(bytes);
        }
    }
    root.into_tree()
}

#[derive(Default)]
struct MapFolder<'a> {
    folders: BTreeMap<String, MapFolder<'a>>,
    files: BTreeMap<String, &'a [u8]>,
}

impl<'a> MapFolder<'a> {
    fn into_tree(self) -> Tree<'a> {
        let mut tree: Tree<'a> = self
            .files
            .into_iter()
            .map(|(name, b)| (name, Node::File(Content::Bytes(b))))
            .collect();
        // A file system cannot hold a file and a folder of one name; in a map the folder wins.
        for (name, folder) in self.folders {
            tree.insert(name, Node::Dir(Ok(folder.into_tree())));
        }
        tree
    }
}

pub(crate) fn is_account_id(name: &str) -> bool {
    name.len() == 12 && name.bytes().all(|b| b.is_ascii_digit())
}

/// `^[a-z]{2}(-[a-z]+)+-\d+$`: us-east-1, ap-southeast-3, us-gov-west-1, eu-isoe-west-1.
pub(crate) fn is_region_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let lower = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    match parts.as_slice() {
        [first, middle @ .., last] if !middle.is_empty() => {
            first.len() == 2
                && lower(first)
                && middle.iter().all(lower)
                && !last.is_empty()
                && last.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    }
}

/// The loaded inventory and every problem found on the way; see [`crate::Loaded`].
pub(crate) fn load_tree(root: &Tree<'_>) -> (Inventory, Vec<EvidenceError>) {
    let mut errors = Vec::new();
    let mut accounts = Vec::new();
    for (name, node) in root {
        match node {
            Node::Dir(entries) if is_account_id(name) => accounts.push(load_account(name, entries, &mut errors)),
            Node::Dir(_) => errors.push(EvidenceError::BadAccountFolder {
                path: format!("{name}/"),
            }),
            Node::File(_) => errors.push(EvidenceError::Unexpected {
                path: name.clone(),
                reason: "file outside an account folder".into(),
            }),
        }
    }
    (Inventory { accounts }, errors)
}

/// Where gaps are being found: turns each problem into a gap and keeps the problem for the CLI.
struct Place<'p> {
    account: &'p str,
    region: Option<&'p str>,
    errors: &'p mut Vec<EvidenceError>,
}

impl Place<'_> {
    /// `account/` or `account/region/`, the prefix of every path here.
    fn dir(&self) -> String {
        match self.region {
            Some(r) => format!("{}/{r}/", self.account),
            None => format!("{}/", self.account),
        }
    }

    fn path(&self, name: &str) -> String {
        format!("{}{name}", self.dir())
    }

    fn gap(&mut self, err: EvidenceError, api: &str) -> Arc<Gap> {
        let gap = Gap {
            kind: err.gap_kind(),
            account: self.account.to_owned(),
            region: self.region.map(str::to_owned),
            api: api.to_owned(),
            code: err.code().to_owned(),
            message: err.gap_message(),
            source: Some(err.path().to_owned()),
        };
        self.errors.push(err);
        Arc::new(gap)
    }
}

/// A folder's evidence files by operation: its `.json` and its `.error`, if present.
#[derive(Default)]
struct Files<'t, 'a> {
    by_op: BTreeMap<&'static str, (Option<&'t Node<'a>>, Option<&'t Node<'a>>)>,
    /// The account folder's region-scope file, when there is one.
    region_scope: Option<&'t Node<'a>>,
}

impl<'t, 'a> Files<'t, 'a> {
    /// Sort a folder's files into evidence for `scope`; anything else is an unexpected-file gap.
    /// Returns the sub-folders, which only the caller knows what to do with.
    fn classify(
        place: &mut Place<'_>,
        entries: &'t Tree<'a>,
        scope: Scope,
        other_gaps: &mut Vec<Arc<Gap>>,
    ) -> (Self, Vec<(&'t str, &'t Node<'a>)>) {
        let mut files = Files::default();
        let mut folders = Vec::new();
        for (name, node) in entries {
            if let Node::Dir(_) = node {
                folders.push((name.as_str(), node));
                continue;
            }
            if name == crate::REGION_SCOPE_FILE && scope == Scope::Account {
                files.region_scope = Some(node);
                continue;
            }
            let (stem, ext) = name.rsplit_once('.').unwrap_or((name.as_str(), ""));
            let op = Operation::by_stem(stem).filter(|_| ext == "json" || ext == "error");
            let reason = match op {
                Some(op) if op.scope == scope => {
                    let slot = files.by_op.entry(op.api).or_default();
                    if ext == "json" {
                        slot.0 = Some(node);
                    } else {
                        slot.1 = Some(node);
                    }
                    continue;
                }
                Some(op) if op.scope == Scope::Account => {
                    format!(
                        "file: {} is account-level evidence; it belongs in the account folder",
                        op.api
                    )
                }
                Some(op) => format!("file: {} is regional evidence; it belongs in a region folder", op.api),
                None => "file: evidence files are named <service>-<operation>.json or .error".to_owned(),
            };
            let api = op.map_or(LAYOUT_API, |op| op.api);
            let err = EvidenceError::Unexpected {
                path: place.path(name),
                reason,
            };
            other_gaps.push(place.gap(err, api));
        }
        (files, folders)
    }

    /// The bytes of `op`'s output, or the gap that stands in for it.
    fn read(&self, place: &mut Place<'_>, op: &Operation) -> Result<Cow<'a, [u8]>, Arc<Gap>> {
        let json_path = place.path(&op.json_file());
        let error_path = place.path(&op.error_file());
        let content = |node: &Node<'a>| match node {
            Node::File(content) => content.bytes(),
            Node::Dir(_) => Err("not a regular file".to_owned()),
        };
        let err = match self.by_op.get(op.api).copied().unwrap_or_default() {
            (Some(_), Some(_)) => EvidenceError::Conflicting {
                path: json_path,
                stem: op.stem(),
            },
            (None, None) => EvidenceError::Missing {
                path: json_path,
                command: op.command(place.region),
            },
            (Some(json), None) => match content(json) {
                Ok(bytes) => return Ok(bytes),
                Err(message) => EvidenceError::Unreadable {
                    path: json_path,
                    message,
                },
            },
            (None, Some(error)) => match content(error) {
                Ok(bytes) => {
                    let (code, message) = parse_call_error(&String::from_utf8_lossy(&bytes));
                    EvidenceError::CallFailed {
                        path: error_path,
                        api: op.api.to_owned(),
                        code,
                        message,
                    }
                }
                Err(message) => EvidenceError::Unreadable {
                    path: error_path,
                    message,
                },
            },
        };
        Err(place.gap(err, op.api))
    }

    fn listing<D: Doc>(&self, place: &mut Place<'_>, op: &Operation) -> Listing<D::Record> {
        let bytes = self.read(place, op)?;
        parse::parse::<D>(&bytes).map_err(|e| {
            let path = place.path(&op.json_file());
            let err = match e {
                parse::ParseError::Json { line, column, message } => EvidenceError::Json {
                    path,
                    line,
                    column,
                    message,
                },
                parse::ParseError::Malformed(message) => EvidenceError::Malformed { path, message },
            };
            place.gap(err, op.api)
        })
    }
}

/// The AWS error code and message from the CLI's stderr: `An error occurred (AccessDenied) when
/// calling the DescribeFlowLogs operation: User: …` (possibly with ` (reached max retries: 4)` before
/// the colon). Anything else (no credentials, no network) is `CallFailed` with its first line.
pub(crate) fn parse_call_error(text: &str) -> (String, String) {
    const MARK: &str = "An error occurred (";
    if let Some(start) = text.find(MARK) {
        let rest = &text[start + MARK.len()..];
        if let Some((code, after)) = rest.split_once(')') {
            if !code.is_empty() && !code.contains(char::is_whitespace) {
                let message = after
                    .find(" operation")
                    .map(|i| &after[i + " operation".len()..])
                    .map(|t| match t.strip_prefix(" (") {
                        Some(retries) => retries.split_once(')').map_or("", |(_, t)| t),
                        None => t,
                    })
                    .and_then(|t| t.strip_prefix(':'))
                    .unwrap_or(after);
                return (code.to_owned(), message.trim().to_owned());
            }
        }
    }
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    let message = first.unwrap_or("the call failed and left no error text");
    ("CallFailed".to_owned(), message.to_owned())
}

/// The regions a scan was limited to, as `--save-evidence` writes them.
#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegionScopeDoc {
    #[serde(rename = "Regions")]
    pub(crate) regions: Vec<String>,
}

fn load_account(
    account: &str,
    entries: &Result<Tree<'_>, String>,
    errors: &mut Vec<EvidenceError>,
) -> AccountInventory {
    let mut place = Place {
        account,
        region: None,
        errors,
    };
    let entries = match entries {
        Ok(entries) => entries,
        Err(message) => {
            let err = EvidenceError::Unreadable {
                path: place.dir(),
                message: message.clone(),
            };
            let gap = place.gap(err, LAYOUT_API);
            return AccountInventory {
                account_id: account.to_owned(),
                caller_arn: None,
                regions: Err(gap.clone()),
                region_scope: None,
                region_data: Vec::new(),
                buckets: Err(gap),
                other_gaps: Vec::new(),
            };
        }
    };
    let mut other_gaps = Vec::new();
    let (files, folders) = Files::classify(&mut place, entries, Scope::Account, &mut other_gaps);

    // The caller identity is not a listing; without it the folder name is unverified.
    let sts = &Operation::STS_GET_CALLER_IDENTITY;
    let mut caller_arn = None;
    match files.listing::<parse::CallerIdentityDoc>(&mut place, sts) {
        Ok(ids) => {
            for id in ids {
                if id.account != account {
                    let err = EvidenceError::AccountMismatch {
                        path: place.path(&sts.json_file()),
                        folder: account.to_owned(),
                        found: id.account,
                    };
                    other_gaps.push(place.gap(err, sts.api));
                }
                caller_arn = id.arn;
            }
        }
        Err(gap) => other_gaps.push(gap),
    }
    let regions = files.listing::<parse::RegionsDoc>(&mut place, &Operation::EC2_DESCRIBE_REGIONS);
    let region_scope = files.region_scope.and_then(|node| {
        let path = place.path(crate::REGION_SCOPE_FILE);
        let parsed = match node {
            Node::File(content) => content
                .bytes()
                .and_then(|bytes| serde_json::from_slice::<RegionScopeDoc>(&bytes).map_err(|e| e.to_string())),
            Node::Dir(_) => Err("not a regular file".to_owned()),
        };
        match parsed {
            Ok(doc) if doc.regions.iter().all(|r| is_region_name(r)) => Some(doc.regions),
            Ok(_) => {
                let err = EvidenceError::Malformed {
                    path,
                    message: "Regions must hold region names".into(),
                };
                other_gaps.push(place.gap(err, LAYOUT_API));
                None
            }
            Err(message) => {
                let err = EvidenceError::Malformed {
                    path,
                    message: format!("expected {{\"Regions\": [\"us-east-1\", …]}}: {message}"),
                };
                other_gaps.push(place.gap(err, LAYOUT_API));
                None
            }
        }
    });
    let buckets = files.listing::<parse::BucketsDoc>(&mut place, &Operation::S3API_LIST_BUCKETS);

    let mut region_data = Vec::new();
    for (name, node) in folders {
        let Node::Dir(entries) = node else { continue };
        if !is_region_name(name) {
            let err = EvidenceError::BadRegionFolder {
                path: place.path(&format!("{name}/")),
            };
            other_gaps.push(place.gap(err, LAYOUT_API));
            continue;
        }
        if let Ok(listed) = &regions {
            if !listed.iter().any(|r| r.name == name) {
                let mut here = Place {
                    account,
                    region: Some(name),
                    errors: &mut *place.errors,
                };
                let err = EvidenceError::UnlistedRegion {
                    path: here.dir(),
                    region: name.to_owned(),
                };
                other_gaps.push(here.gap(err, Operation::EC2_DESCRIBE_REGIONS.api));
            }
        }
        let mut here = Place {
            account,
            region: Some(name),
            errors: &mut *place.errors,
        };
        region_data.push(load_region(&mut here, entries, &mut other_gaps));
    }

    AccountInventory {
        account_id: account.to_owned(),
        caller_arn,
        regions,
        region_scope,
        region_data,
        buckets,
        other_gaps,
    }
}

fn load_region(
    place: &mut Place<'_>,
    entries: &Result<Tree<'_>, String>,
    other_gaps: &mut Vec<Arc<Gap>>,
) -> RegionInventory {
    let region = place.region.unwrap_or_default().to_owned();
    let entries = match entries {
        Ok(entries) => entries,
        Err(message) => {
            let err = EvidenceError::Unreadable {
                path: place.dir(),
                message: message.clone(),
            };
            return RegionInventory::unreadable(&region, &place.gap(err, LAYOUT_API));
        }
    };
    let (files, folders) = Files::classify(place, entries, Scope::Regional, other_gaps);
    for (name, _) in folders {
        let err = EvidenceError::Unexpected {
            path: place.path(&format!("{name}/")),
            reason: "folder: a region folder holds only evidence files".into(),
        };
        other_gaps.push(place.gap(err, LAYOUT_API));
    }
    RegionInventory {
        region,
        vpcs: files.listing::<parse::VpcsDoc>(place, &Operation::EC2_DESCRIBE_VPCS),
        subnets: files.listing::<parse::SubnetsDoc>(place, &Operation::EC2_DESCRIBE_SUBNETS),
        network_interfaces: files
            .listing::<parse::NetworkInterfacesDoc>(place, &Operation::EC2_DESCRIBE_NETWORK_INTERFACES),
        flow_logs: files.listing::<parse::FlowLogsDoc>(place, &Operation::EC2_DESCRIBE_FLOW_LOGS),
        client_vpn_endpoints: files
            .listing::<parse::ClientVpnEndpointsDoc>(place, &Operation::EC2_DESCRIBE_CLIENT_VPN_ENDPOINTS),
        vpn_connections: files.listing::<parse::VpnConnectionsDoc>(place, &Operation::EC2_DESCRIBE_VPN_CONNECTIONS),
        log_groups: files.listing::<parse::LogGroupsDoc>(place, &Operation::LOGS_DESCRIBE_LOG_GROUPS),
        alarms: files.listing::<parse::AlarmsDoc>(place, &Operation::CLOUDWATCH_DESCRIBE_ALARMS),
        delivery_streams: files.listing::<parse::DeliveryStreamsDoc>(place, &Operation::FIREHOSE_LIST_DELIVERY_STREAMS),
        internet_gateways: files
            .listing::<parse::InternetGatewaysDoc>(place, &Operation::EC2_DESCRIBE_INTERNET_GATEWAYS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names() {
        for ok in [
            "us-east-1",
            "ap-southeast-3",
            "us-gov-west-1",
            "eu-isoe-west-1",
            "cn-northwest-1",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "global",
            "us-east",
            "us-east-1a",
            "US-EAST-1",
            "use-east-1",
            "us--1",
            "us-east-",
            "-us-east-1",
            "us-1",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }

    #[test]
    fn account_ids() {
        assert!(is_account_id("012345678901"));
        assert!(!is_account_id("12345678901"));
        assert!(!is_account_id("1234567890123"));
        assert!(!is_account_id("12345678901a"));
    }

    #[test]
    fn call_errors() {
        let text = "\nAn error occurred (AccessDenied) when calling the DescribeFlowLogs operation: User: \
                    arn:aws:iam::111111111111:user/a is not authorized\n";
        assert_eq!(
            parse_call_error(text),
            (
                "AccessDenied".into(),
                "User: arn:aws:iam::111111111111:user/a is not authorized".into()
            )
        );
        let retried = "An error occurred (Throttling) when calling the DescribeAlarms operation \
                       (reached max retries: 4): Rate exceeded";
        assert_eq!(parse_call_error(retried), ("Throttling".into(), "Rate exceeded".into()));
        let network = "\n\nCould not connect to the endpoint URL: \"https://ec2.xx-east-1.amazonaws.com/\"\nmore\n";
        assert_eq!(
            parse_call_error(network),
            (
                "CallFailed".into(),
                "Could not connect to the endpoint URL: \"https://ec2.xx-east-1.amazonaws.com/\"".into()
            )
        );
        assert_eq!(
            parse_call_error("  \n"),
            ("CallFailed".into(), "the call failed and left no error text".into())
        );
    }

    #[test]
    fn tree_from_files_keeps_empty_folders() {
        let mut files = BTreeMap::new();
        files.insert("111111111111/us-east-1/".to_owned(), Vec::new());
        files.insert(
            "./111111111111//sts-get-caller-identity.json".to_owned(),
            b"{}".to_vec(),
        );
        let tree = tree_from_files(&files);
        let Some(Node::Dir(Ok(account))) = tree.get("111111111111") else {
            panic!("no account: {tree:?}")
        };
        assert!(matches!(account.get("us-east-1"), Some(Node::Dir(Ok(t))) if t.is_empty()));
        assert!(matches!(
            account.get("sts-get-caller-identity.json"),
            Some(Node::File(Content::Bytes(b"{}")))
        ));
    }
}
