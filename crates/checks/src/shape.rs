//! A control file's shape — which tables it has and which keys each one needs or takes — checked
//! before its values are read, so that a file with several missing or unknown keys reports them
//! all at once, each at its line (reading into the typed structs stops at the first).

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use toml::Spanned;

/// A TOML value that keeps where each key and each table of an array of tables starts.
enum Node {
    Table(Vec<(Spanned<String>, Node)>),
    Array(Vec<Spanned<Node>>),
    Scalar,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = vec![];
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            entries.push((key, map.next_value::<Node>()?));
        }
        Ok(Node::Table(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = vec![];
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_str<E>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        IgnoredAny::deserialize(deserializer).map(|_| Node::Scalar)
    }
}

/// The tables of a control file.
#[derive(Clone, Copy)]
enum Table {
    Top,
    AwsConfig,
    Framework,
    Remediation,
    /// `[parameters]`: one table per parameter, under any name.
    Parameters,
    Parameter,
    Query,
    NotApplicable,
    FailReason,
    Scope,
    Iac,
}

/// What a key of a table holds, when it is a table or an array of tables.
enum Child {
    Table(Table),
    ArrayOf(Table),
}

impl Table {
    /// (required keys, optional keys)
    fn keys(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Table::Top => (
                &[
                    "id",
                    "title",
                    "severity",
                    "category",
                    "summary",
                    "fail_message",
                    "description",
                    "rationale",
                    "remediation",
                    "references",
                    "query",
                ],
                &["aws_config", "frameworks", "parameters", "iac"],
            ),
            Table::AwsConfig => (&["rule"], &["parameters", "notes"]),
            Table::Framework => (&["framework", "requirement", "source"], &[]),
            Table::Remediation => (
                &["console", "cli", "terraform", "cloudformation"],
                &["automatic", "manual"],
            ),
            Table::Parameters => (&[], &[]),
            Table::Parameter => (&["description"], &["type", "minimum", "maximum", "allowed"]),
            Table::Query => (&["text", "expect"], &["not_applicable", "fail_reason", "scope"]),
            Table::NotApplicable | Table::FailReason | Table::Scope => (&["where"], &["reason"]),
            Table::Iac => (&["applies"], &["reason"]),
        }
    }

    fn child(self, key: &str) -> Option<Child> {
        match (self, key) {
            (Table::Top, "aws_config") => Some(Child::Table(Table::AwsConfig)),
            (Table::Top, "frameworks") => Some(Child::ArrayOf(Table::Framework)),
            (Table::Top, "remediation") => Some(Child::Table(Table::Remediation)),
            (Table::Top, "parameters") => Some(Child::Table(Table::Parameters)),
            (Table::Top, "query") => Some(Child::Table(Table::Query)),
            (Table::Top, "iac") => Some(Child::Table(Table::Iac)),
            (Table::Parameters, _) => Some(Child::Table(Table::Parameter)),
            (Table::Query, "not_applicable") => Some(Child::ArrayOf(Table::NotApplicable)),
            (Table::Query, "fail_reason") => Some(Child::ArrayOf(Table::FailReason)),
            (Table::Query, "scope") => Some(Child::Table(Table::Scope)),
            _ => None,
        }
    }

    /// How messages name the table: `[query]`, `[[frameworks]]`, `[parameters.minRetentionTime]`.
    fn title(self, key: &str) -> String {
        match self {
            Table::Top => "the top-level table".to_owned(),
            Table::Framework => "[[frameworks]]".to_owned(),
            Table::Parameter => format!("[parameters.{key}]"),
            Table::NotApplicable => "[[query.not_applicable]]".to_owned(),
            Table::FailReason => "[[query.fail_reason]]".to_owned(),
            Table::Scope => "[query.scope]".to_owned(),
            _ => format!("[{key}]"),
        }
    }
}

/// A missing or unknown key, at a byte offset of the file.
pub(crate) struct ShapeProblem {
    pub offset: usize,
    /// Whether the offset is the key itself (an unknown key) rather than the table lacking one.
    pub at_key: bool,
    pub message: String,
}

/// Every missing required key and every unknown key of the file, in file order. None when the
/// text cannot be read this way (not TOML, or a date where no control file has one): the typed
/// reading then says what is wrong.
pub(crate) fn check(text: &str) -> Option<Vec<ShapeProblem>> {
    let root: Node = toml::from_str(text).ok()?;
    let mut problems = vec![];
    walk(&root, Table::Top, "", 0, &mut problems);
    problems.sort_by_key(|p| p.offset);
    Some(problems)
}

/// `node` is a `table` named `key`, whose header (or first line) starts at `at`.
fn walk(node: &Node, table: Table, key: &str, at: usize, problems: &mut Vec<ShapeProblem>) {
    // A key that should hold a table but holds a value: the typed reading names the type.
    let Node::Table(entries) = node else {
        return;
    };
    let (required, optional) = table.keys();
    let title = table.title(key);
    for name in required {
        if !entries.iter().any(|(k, _)| k.get_ref() == name) {
            let message = match table {
                Table::Top => format!("missing field \"{name}\" in {title}"),
                _ => format!("{title} is missing field \"{name}\""),
            };
            problems.push(ShapeProblem {
                offset: at,
                at_key: false,
                message,
            });
        }
    }
    let open = matches!(table, Table::Parameters);
    for (name, value) in entries {
        let name_text = name.get_ref().as_str();
        let offset = name.span().start;
        if !open && !required.contains(&name_text) && !optional.contains(&name_text) {
            let takes: Vec<&str> = required.iter().chain(optional).copied().collect();
            let message = match table {
                Table::Top => format!(
                    "unknown field \"{name_text}\" in {title} (it takes: {})",
                    takes.join(", ")
                ),
                _ => format!(
                    "{title} has unknown field \"{name_text}\" (it takes: {})",
                    takes.join(", ")
                ),
            };
            problems.push(ShapeProblem {
                offset,
                at_key: true,
                message,
            });
            continue;
        }
        match (table.child(name_text), value) {
            (Some(Child::Table(child)), _) => walk(value, child, name_text, offset, problems),
            (Some(Child::ArrayOf(child)), Node::Array(items)) => {
                for item in items {
                    walk(item.get_ref(), child, name_text, item.span().start, problems);
                }
            }
            _ => {}
        }
    }
}
