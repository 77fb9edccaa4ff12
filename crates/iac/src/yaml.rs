//! YAML (and JSON, which YAML reads) into a tree that remembers where each node is, with
//! CloudFormation's short-form tags (`!Ref`, `!GetAtt A.B`, `!Sub`, …) turned into their long forms.

use crate::IacError;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Where a node is: 1-based lines and columns, first to last line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: NodeValue,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys in file order; a duplicate key is an error when parsing.
    Map(Vec<(String, Node)>),
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            NodeValue::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(String, Node)] {
        match &self.value {
            NodeValue::Map(entries) => entries,
            _ => &[],
        }
    }
}

/// The short-form tags and the long form each stands for.
const SHORT_FORMS: &[(&str, &str)] = &[
    ("Ref", "Ref"),
    ("Condition", "Condition"),
    ("GetAtt", "Fn::GetAtt"),
    ("Sub", "Fn::Sub"),
    ("If", "Fn::If"),
    ("Equals", "Fn::Equals"),
    ("And", "Fn::And"),
    ("Or", "Fn::Or"),
    ("Not", "Fn::Not"),
    ("Join", "Fn::Join"),
    ("Select", "Fn::Select"),
    ("Split", "Fn::Split"),
    ("FindInMap", "Fn::FindInMap"),
    ("ImportValue", "Fn::ImportValue"),
    ("GetAZs", "Fn::GetAZs"),
    ("Base64", "Fn::Base64"),
    ("Cidr", "Fn::Cidr"),
    ("Length", "Fn::Length"),
    ("ToJsonString", "Fn::ToJsonString"),
    ("Transform", "Fn::Transform"),
];

enum Open {
    Seq(Vec<Node>, Marker, Option<Tag>),
    /// Entries so far, and the key waiting for its value (with where the key is).
    Map(Vec<(String, Node)>, Option<(String, Marker)>, Marker, Option<Tag>),
}

struct Builder<'a> {
    path: &'a str,
    stack: Vec<Open>,
    documents: Vec<Node>,
    error: Option<IacError>,
}

fn location(start: Marker, end: Marker) -> Location {
    Location {
        line: start.line(),
        column: start.col() + 1,
        end_line: end.line().max(start.line()),
    }
}

impl Builder<'_> {
    fn fail(&mut self, mark: Marker, message: String) {
        if self.error.is_none() {
            self.error = Some(IacError::new(
                self.path,
                Some(mark.line()),
                Some(mark.col() + 1),
                message,
            ));
        }
    }

    fn tagged(&mut self, tag: Option<Tag>, node: Node, mark: Marker) -> Node {
        let Some(tag) = tag else { return node };
        if tag.handle == "!!" || tag.handle.starts_with("tag:yaml.org") {
            return node;
        }
        let name = format!("{}{}", tag.handle.trim_start_matches('!'), tag.suffix);
        let Some((_, long)) = SHORT_FORMS.iter().find(|(short, _)| *short == name) else {
            self.fail(
                mark,
                format!("unknown tag !{name}: not a CloudFormation intrinsic function"),
            );
            return node;
        };
        let location = node.location;
        // `!GetAtt A.B` is the string form of `Fn::GetAtt: [A, B]`.
        let node = match (&node.value, *long) {
            (NodeValue::Str(s), "Fn::GetAtt") => match s.split_once('.') {
                Some((resource, attribute)) => Node {
                    value: NodeValue::Seq(vec![
                        Node {
                            value: NodeValue::Str(resource.to_owned()),
                            location,
                        },
                        Node {
                            value: NodeValue::Str(attribute.to_owned()),
                            location,
                        },
                    ]),
                    location,
                },
                None => node,
            },
            _ => node,
        };
        Node {
            value: NodeValue::Map(vec![((*long).to_owned(), node)]),
            location,
        }
    }

    fn push(&mut self, node: Node, mark: Marker) {
        let mut problem = None;
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Open::Seq(items, ..)) => items.push(node),
            Some(Open::Map(entries, key, ..)) => match key.take() {
                None => {
                    let text = match node.value {
                        NodeValue::Str(k) => Some(k),
                        NodeValue::Number(n) => Some(n.to_string()),
                        NodeValue::Bool(b) => Some(b.to_string()),
                        NodeValue::Null => Some("null".to_owned()),
                        NodeValue::Seq(_) | NodeValue::Map(_) => None,
                    };
                    match text {
                        Some(k) if entries.iter().any(|(existing, _)| *existing == k) => {
                            problem = Some(format!("duplicate key {k:?}"));
                        }
                        Some(k) => *key = Some((k, mark)),
                        None => problem = Some("a mapping key must be a scalar".to_owned()),
                    }
                }
                Some((k, key_mark)) => {
                    // A block collection starts on the line after its key: the entry starts at the key.
                    let mut node = node;
                    if matches!(node.value, NodeValue::Map(_) | NodeValue::Seq(_)) {
                        node.location.line = node.location.line.min(key_mark.line());
                        node.location.column = key_mark.col() + 1;
                    }
                    entries.push((k, node));
                }
            },
        }
        if let Some(message) = problem {
            self.fail(mark, message);
        }
    }
}

fn scalar(text: String, style: TScalarStyle) -> NodeValue {
    if style != TScalarStyle::Plain {
        return NodeValue::Str(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => NodeValue::Null,
        "true" | "True" | "TRUE" => NodeValue::Bool(true),
        "false" | "False" | "FALSE" => NodeValue::Bool(false),
        _ => {
            let numeric = text
                .trim_start_matches(['-', '+'])
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+')
                && text.chars().any(|c| c.is_ascii_digit());
            // Leading zeros ("0123") stay text: YAML 1.2 and CloudFormation read them as strings.
            let leading_zero = text.len() > 1 && text.starts_with('0') && !text.starts_with("0.");
            match text.parse::<f64>() {
                Ok(n) if numeric && !leading_zero && n.is_finite() => NodeValue::Number(n),
                _ => NodeValue::Str(text),
            }
        }
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match event {
            Event::Alias(_) => self.fail(mark, "YAML aliases are not supported in templates".to_owned()),
            Event::Scalar(text, style, _, tag) => {
                let node = Node {
                    value: scalar(text, style),
                    location: location(mark, mark),
                };
                let node = self.tagged(tag, node, mark);
                self.push(node, mark);
            }
            Event::SequenceStart(_, tag) => self.stack.push(Open::Seq(vec![], mark, tag)),
            Event::MappingStart(_, tag) => self.stack.push(Open::Map(vec![], None, mark, tag)),
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Open::Seq(items, start, tag)) => {
                        let end = items.last().map_or(start.line(), |n| n.location.end_line);
                        let node = Node {
                            value: NodeValue::Seq(items),
                            location: Location {
                                end_line: end.max(start.line()),
                                ..location(start, start)
                            },
                        };
                        self.tagged(tag, node, start)
                    }
                    Some(Open::Map(entries, _, start, tag)) => {
                        let end = entries.last().map_or(start.line(), |(_, n)| n.location.end_line);
                        let node = Node {
                            value: NodeValue::Map(entries),
                            location: Location {
                                end_line: end.max(start.line()),
                                ..location(start, start)
                            },
                        };
                        self.tagged(tag, node, start)
                    }
                    None => return,
                };
                self.push(node, mark);
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart | Event::DocumentEnd => {}
        }
    }
}

/// Parse one YAML or JSON document.
pub fn parse(path: &str, text: &str) -> Result<Node, IacError> {
    let mut builder = Builder {
        path,
        stack: vec![],
        documents: vec![],
        error: None,
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
        let m = e.marker();
        return Err(IacError::new(
            path,
            Some(m.line()),
            Some(m.col() + 1),
            e.info().to_owned(),
        ));
    }
    if let Some(e) = builder.error {
        return Err(e);
    }
    match builder.documents.len() {
        0 => Err(IacError::new(path, Some(1), None, "the file is empty")),
        1 => Ok(builder.documents.remove(0)),
        n => Err(IacError::new(
            path,
            builder.documents.get(1).map(|d| d.location.line),
            None,
            format!("{n} YAML documents in one file: a template is one document"),
        )),
    }
}
