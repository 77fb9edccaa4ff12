//! Mutations for property tests of the parsers of untrusted input: byte edits (flips, insertions of
//! syntax tokens, deletions, truncation, duplication), and structural edits of JSON and TOML documents
//! (a value of another type, a key dropped, an unknown key added, deep nesting). Shared by the
//! property tests of the evidence, query and checks crates.

#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::Index;

/// Inputs never grow past this, so every case is bounded in time.
pub const MAX_LEN: usize = 64 * 1024;

/// One edit of a byte string.
#[derive(Debug, Clone)]
pub enum ByteEdit {
    Flip(Index, u8),
    Set(Index, u8),
    Insert(Index, Vec<u8>),
    /// Insert one of the caller's syntax tokens.
    Token(Index, Index),
    Delete(Index, u8),
    Truncate(Index),
    Duplicate(Index, u8),
}

pub fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        1 => (any::<Index>(), 0u8..8).prop_map(|(i, bit)| ByteEdit::Flip(i, 1 << bit)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| ByteEdit::Set(i, b)),
        1 => (any::<Index>(), proptest::collection::vec(any::<u8>(), 1..8)).prop_map(|(i, b)| ByteEdit::Insert(i, b)),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(i, t)| ByteEdit::Token(i, t)),
        2 => (any::<Index>(), 1u8..64).prop_map(|(i, n)| ByteEdit::Delete(i, n)),
        1 => (any::<Index>()).prop_map(ByteEdit::Truncate),
        1 => (any::<Index>(), 1u8..64).prop_map(|(i, n)| ByteEdit::Duplicate(i, n)),
    ]
}

/// Apply `edits` in order; `tokens` are what [`ByteEdit::Token`] inserts.
pub fn apply_bytes(mut bytes: Vec<u8>, edits: &[ByteEdit], tokens: &[&str]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len();
        let at = |i: &Index| if len == 0 { 0 } else { i.index(len + 1) };
        match edit {
            ByteEdit::Flip(i, mask) if len > 0 => bytes[i.index(len)] ^= mask,
            ByteEdit::Set(i, b) if len > 0 => bytes[i.index(len)] = *b,
            ByteEdit::Insert(i, b) => {
                let p = at(i);
                bytes.splice(p..p, b.iter().copied());
            }
            ByteEdit::Token(i, t) if !tokens.is_empty() => {
                let p = at(i);
                bytes.splice(p..p, t.get(tokens).bytes());
            }
            ByteEdit::Delete(i, n) if len > 0 => {
                let p = i.index(len);
                let end = (p + usize::from(*n)).min(len);
                bytes.drain(p..end);
            }
            ByteEdit::Truncate(i) => bytes.truncate(at(i)),
            ByteEdit::Duplicate(i, n) if len > 0 => {
                let p = i.index(len);
                let end = (p + usize::from(*n)).min(len);
                let copy: Vec<u8> = bytes[p..end].to_vec();
                bytes.splice(end..end, copy);
            }
            _ => {}
        }
        bytes.truncate(MAX_LEN);
    }
    bytes
}

/// Tokens of JSON, and values that stress its readers.
pub const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "null",
    "true",
    "false",
    "-",
    "0",
    "1e999",
    "-1e999",
    "18446744073709551616",
    "0.5",
    "\\",
    "\\u0000",
    "\\ud800",
    "\\uDC00",
    "\u{feff}",
    "\u{0}",
    "é",
    "\u{1F600}",
    "\n",
    "\r\n",
    "/*",
    "NaN",
    "\"NextToken\": \"x\",",
    "\"Vpcs\": null,",
    "[[[[[[[[",
    "]]]]]]]]",
    "{\"a\":",
    "\"VpcId\"",
    "\"Account\"",
];

/// A leaf (or small) JSON value of any type.
pub fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{json, Value};
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (-1e300f64..1e300).prop_map(|n| json!(n)),
        ".{0,12}".prop_map(Value::String),
        Just(json!("")),
        Just(json!([])),
        Just(json!({})),
        Just(json!([null, 1, "x", {}])),
        Just(json!({"Key": "Name", "Value": null})),
        Just(json!({"Code": 7})),
    ]
}

/// Keys an unknown-key edit adds: known keys in the wrong place, and plain unknown ones.
const JSON_KEYS: &[&str] = &[
    "VpcId",
    "FlowLogId",
    "NextToken",
    "nextToken",
    "HasMoreDeliveryStreams",
    "Account",
    "Arn",
    "Tags",
    "TunnelOptions",
    "LogOptions",
    "Vpcs",
    "FlowLogs",
    "Regions",
    "logGroups",
    "MetricAlarms",
    "Unknown",
    "",
    "__proto__",
    "é",
];

/// One structural edit of a JSON document, at a node chosen by a walk from the root.
#[derive(Debug, Clone)]
pub enum JsonEdit {
    Retype(Vec<Index>, serde_json::Value),
    DropKey(Vec<Index>),
    AddKey(Vec<Index>, Index, serde_json::Value),
    /// Wrap the node in this many arrays.
    Nest(Vec<Index>, u16),
    DuplicateItem(Vec<Index>),
    EmptyList(Vec<Index>),
}

fn walk() -> impl Strategy<Value = Vec<Index>> {
    proptest::collection::vec(any::<Index>(), 0..8)
}

pub fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        3 => (walk(), json_value()).prop_map(|(w, v)| JsonEdit::Retype(w, v)),
        3 => walk().prop_map(JsonEdit::DropKey),
        2 => (walk(), any::<Index>(), json_value()).prop_map(|(w, k, v)| JsonEdit::AddKey(w, k, v)),
        1 => (walk(), 1u16..300).prop_map(|(w, d)| JsonEdit::Nest(w, d)),
        1 => walk().prop_map(JsonEdit::DuplicateItem),
        1 => walk().prop_map(JsonEdit::EmptyList),
    ]
}

/// The node a walk reaches: at each step a child of an object or array, until a leaf or the walk ends.
fn json_node<'a>(node: &'a mut serde_json::Value, path: &[Index]) -> &'a mut serde_json::Value {
    use serde_json::Value;
    let len = match &*node {
        Value::Object(map) => map.len(),
        Value::Array(items) => items.len(),
        _ => 0,
    };
    let Some((step, rest)) = path.split_first().filter(|_| len > 0) else {
        return node;
    };
    let i = step.index(len);
    match node {
        Value::Object(map) => json_node(map.values_mut().nth(i).expect("within the map"), rest),
        Value::Array(items) => json_node(&mut items[i], rest),
        other => other,
    }
}

pub fn apply_json(mut doc: serde_json::Value, edits: &[JsonEdit]) -> serde_json::Value {
    use serde_json::Value;
    for edit in edits {
        match edit {
            JsonEdit::Retype(w, v) => *json_node(&mut doc, w) = v.clone(),
            JsonEdit::DropKey(w) => {
                // Drop a key of the object the walk reaches (or of the last object on the way).
                let (parent, last) = w.split_at(w.len().saturating_sub(1));
                if let Value::Object(map) = json_node(&mut doc, parent) {
                    if !map.is_empty() {
                        let i = last.first().map_or(0, |ix| ix.index(map.len()));
                        if let Some(key) = map.keys().nth(i).cloned() {
                            map.remove(&key);
                        }
                    }
                }
            }
            JsonEdit::AddKey(w, k, v) => {
                if let Value::Object(map) = json_node(&mut doc, w) {
                    map.insert(k.get(JSON_KEYS).to_string(), v.clone());
                }
            }
            JsonEdit::Nest(w, depth) => {
                let node = json_node(&mut doc, w);
                let mut value = node.take();
                for _ in 0..*depth {
                    value = Value::Array(vec![value]);
                }
                *node = value;
            }
            JsonEdit::DuplicateItem(w) => {
                if let Value::Array(items) = json_node(&mut doc, w) {
                    if let Some(first) = items.first().cloned() {
                        items.push(first);
                    }
                }
            }
            JsonEdit::EmptyList(w) => {
                if let Value::Array(items) = json_node(&mut doc, w) {
                    items.clear();
                }
            }
        }
    }
    doc
}

/// How a document is written out: compact, pretty, or re-encoded as Windows tools write it.
#[derive(Debug, Clone, Copy)]
pub enum Encoding {
    Compact,
    Pretty,
    Bom,
    Utf16Le,
    Utf16Be,
}

pub fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        3 => Just(Encoding::Compact),
        3 => Just(Encoding::Pretty),
        1 => Just(Encoding::Bom),
        1 => Just(Encoding::Utf16Le),
        1 => Just(Encoding::Utf16Be),
    ]
}

pub fn encode(doc: &serde_json::Value, encoding: Encoding) -> Vec<u8> {
    let text = match encoding {
        Encoding::Pretty => serde_json::to_string_pretty(doc),
        _ => serde_json::to_string(doc),
    }
    .unwrap_or_default();
    match encoding {
        Encoding::Compact | Encoding::Pretty => text.into_bytes(),
        Encoding::Bom => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
        Encoding::Utf16Le => [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect(),
        Encoding::Utf16Be => [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect(),
    }
}

/// Tokens of TOML.
pub const TOML_TOKENS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "=",
    "\"",
    "'",
    "'''",
    "\"\"\"",
    "\n",
    ",",
    "{",
    "}",
    ".",
    "#",
    "\\",
    "\\u0000",
    "é",
    "\u{1F600}",
    "\u{feff}",
    "2027-03-31",
    "2027-02-30",
    "1979-05-27T07:32:00Z",
    "true",
    "nan",
    "inf",
    "0x",
    "99999999999999999999",
    "[exception]",
    "[[exception]]",
    "[query]",
    "id = ",
    "expires = ",
    "\r\n",
    "\t",
];

/// A TOML value of any type.
pub fn toml_value() -> impl Strategy<Value = toml::Value> {
    use toml::Value;
    prop_oneof![
        ".{0,12}".prop_map(Value::String),
        Just(Value::String(String::new())),
        any::<i64>().prop_map(Value::Integer),
        (-1e300f64..1e300).prop_map(Value::Float),
        any::<bool>().prop_map(Value::Boolean),
        Just(
            "2027-03-31"
                .parse::<toml::value::Datetime>()
                .map_or(Value::Boolean(false), Value::Datetime)
        ),
        Just(
            "1979-05-27T07:32:00Z"
                .parse::<toml::value::Datetime>()
                .map_or(Value::Boolean(false), Value::Datetime)
        ),
        Just(Value::Array(vec![])),
        Just(Value::Array(vec![Value::Integer(1), Value::String("x".into())])),
        Just(Value::Table(toml::Table::new())),
    ]
}

const TOML_KEYS: &[&str] = &[
    "id",
    "title",
    "severity",
    "category",
    "query",
    "text",
    "expect",
    "where",
    "reason",
    "scope",
    "not_applicable",
    "params",
    "control",
    "resource",
    "owner",
    "ticket",
    "expires",
    "exception",
    "unknown",
    "",
];

#[derive(Debug, Clone)]
pub enum TomlEdit {
    Retype(Vec<Index>, toml::Value),
    DropKey(Vec<Index>),
    AddKey(Vec<Index>, Index, toml::Value),
    DuplicateItem(Vec<Index>),
}

pub fn toml_edit() -> impl Strategy<Value = TomlEdit> {
    prop_oneof![
        3 => (walk(), toml_value()).prop_map(|(w, v)| TomlEdit::Retype(w, v)),
        3 => walk().prop_map(TomlEdit::DropKey),
        2 => (walk(), any::<Index>(), toml_value()).prop_map(|(w, k, v)| TomlEdit::AddKey(w, k, v)),
        1 => walk().prop_map(TomlEdit::DuplicateItem),
    ]
}

fn toml_node<'a>(node: &'a mut toml::Value, path: &[Index]) -> &'a mut toml::Value {
    use toml::Value;
    let len = match &*node {
        Value::Table(t) => t.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    };
    let Some((step, rest)) = path.split_first().filter(|_| len > 0) else {
        return node;
    };
    let i = step.index(len);
    match node {
        Value::Table(t) => toml_node(t.iter_mut().nth(i).expect("within the table").1, rest),
        Value::Array(a) => toml_node(&mut a[i], rest),
        other => other,
    }
}

pub fn apply_toml(mut doc: toml::Value, edits: &[TomlEdit]) -> toml::Value {
    use toml::Value;
    for edit in edits {
        match edit {
            TomlEdit::Retype(w, v) if !w.is_empty() => *toml_node(&mut doc, w) = v.clone(),
            TomlEdit::Retype(..) => {}
            TomlEdit::DropKey(w) => {
                let (parent, last) = w.split_at(w.len().saturating_sub(1));
                if let Value::Table(t) = toml_node(&mut doc, parent) {
                    if !t.is_empty() {
                        let i = last.first().map_or(0, |ix| ix.index(t.len()));
                        if let Some(key) = t.keys().nth(i).cloned() {
                            t.remove(&key);
                        }
                    }
                }
            }
            TomlEdit::AddKey(w, k, v) => {
                if let Value::Table(t) = toml_node(&mut doc, w) {
                    t.insert(k.get(TOML_KEYS).to_string(), v.clone());
                }
            }
            TomlEdit::DuplicateItem(w) => {
                if let Value::Array(items) = toml_node(&mut doc, w) {
                    if let Some(first) = items.first().cloned() {
                        items.push(first);
                    }
                }
            }
        }
    }
    doc
}

/// The number of lines of `text` (a final line without a newline counts).
pub fn line_count(text: &str) -> usize {
    text.matches('\n').count() + 1
}
