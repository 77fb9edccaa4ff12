//! CloudFormation templates (YAML or JSON, and the `cdk.out` templates CDK synthesizes), evaluated as
//! far as they can be before deploy.
//!
//! Parameters take the value given (`--cfn-parameter NAME=VALUE`) or their default; conditions decide
//! which resources exist; `Ref`/`Fn::GetAtt` of a resource become [`Reference`]s; what only the deploy
//! knows (pseudo parameters, `Fn::ImportValue`, a parameter without a default) is an unknown that
//! names the expression. An unknown intrinsic function is an error with its line and column, and the
//! value it would have produced is unknown: the rest of the template is still evaluated.

use crate::yaml::{self, Location, Node, NodeValue};
use crate::{IacError, Reference, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// What the caller knows about the deploy.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Parameter values, as `--cfn-parameter NAME=VALUE` gives them.
    pub parameters: BTreeMap<String, String>,
}

/// Whether a resource will exist once deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existence {
    Exists,
    /// Its `Condition` is false.
    Absent {
        condition: String,
    },
    /// Its `Condition` cannot be decided before deploy.
    Unknown {
        condition: String,
        why: String,
    },
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub logical_id: String,
    pub resource_type: String,
    /// The construct path CDK records (`Metadata.aws:cdk:path`).
    pub cdk_path: Option<String>,
    pub location: Location,
    pub existence: Existence,
    /// The evaluated `Properties` (a map; empty when absent).
    pub properties: Value,
    /// The raw `Metadata`, for inline exceptions.
    pub metadata: Option<Node>,
}

#[derive(Debug, Clone)]
pub struct Template {
    pub path: String,
    pub resources: Vec<Resource>,
    /// Expressions that could not be evaluated; their values are unknown.
    pub errors: Vec<IacError>,
}

/// Whether a parsed document is a CloudFormation template: a `Resources` map of typed resources, or
/// the format-version key.
pub fn is_template(root: &Node) -> bool {
    if root.get("AWSTemplateFormatVersion").is_some() {
        return true;
    }
    root.get("Resources").is_some_and(|r| {
        !r.entries().is_empty()
            && r.entries()
                .iter()
                .all(|(_, res)| res.get("Type").and_then(Node::as_str).is_some_and(|t| t.contains("::")))
    })
}

/// Parse and evaluate a template. Errors only when the file is not a readable template at all.
pub fn load(path: &str, text: &str, options: &Options) -> Result<Template, IacError> {
    let root = yaml::parse(path, text)?;
    if !matches!(root.value, NodeValue::Map(_)) || !is_template(&root) {
        return Err(IacError::new(
            path,
            Some(root.location.line),
            None,
            "not a CloudFormation template (no Resources with a Type)",
        ));
    }
    let Some(resources) = root.get("Resources") else {
        return Ok(Template {
            path: path.to_owned(),
            resources: vec![],
            errors: vec![],
        });
    };
    let evaluator = Evaluator {
        path,
        parameters: root.get("Parameters").map(Node::entries).unwrap_or_default(),
        conditions: root.get("Conditions").map(Node::entries).unwrap_or_default(),
        mappings: root.get("Mappings"),
        resources: resources.entries().iter().map(|(id, _)| id.clone()).collect(),
        given: &options.parameters,
        errors: RefCell::new(vec![]),
        deciding: RefCell::new(vec![]),
    };
    let mut out = vec![];
    for (logical_id, node) in resources.entries() {
        let Some(resource_type) = node.get("Type").and_then(Node::as_str) else {
            evaluator.error(node, format!("resource {logical_id} has no Type"));
            continue;
        };
        let existence = match node.get("Condition") {
            None => Existence::Exists,
            Some(c) => match c.as_str() {
                None => {
                    evaluator.error(
                        c,
                        format!("resource {logical_id}: Condition must be a condition's name"),
                    );
                    Existence::Unknown {
                        condition: String::new(),
                        why: "the Condition is not a name".into(),
                    }
                }
                Some(name) => match evaluator.condition(name, c) {
                    Value::Bool(true) => Existence::Exists,
                    Value::Bool(false) => Existence::Absent {
                        condition: name.to_owned(),
                    },
                    other => Existence::Unknown {
                        condition: name.to_owned(),
                        why: unknown_why(&other),
                    },
                },
            },
        };
        let properties = node
            .get("Properties")
            .and_then(|p| evaluator.eval(p))
            .unwrap_or(Value::Map(BTreeMap::new()));
        let metadata = node.get("Metadata").cloned();
        let cdk_path = metadata
            .as_ref()
            .and_then(|m| m.get("aws:cdk:path"))
            .and_then(Node::as_str)
            .map(str::to_owned);
        out.push(Resource {
            logical_id: logical_id.clone(),
            resource_type: resource_type.to_owned(),
            cdk_path,
            location: node.location,
            existence,
            properties,
            metadata,
        });
    }
    Ok(Template {
        path: path.to_owned(),
        resources: out,
        errors: evaluator.errors.into_inner(),
    })
}

fn unknown_why(v: &Value) -> String {
    match v {
        Value::Unknown { why, .. } => why.clone(),
        other => format!("{other:?} is not a boolean"),
    }
}

/// A short rendering of an expression for messages.
fn show(node: &Node) -> String {
    match &node.value {
        NodeValue::Str(s) => format!("{s:?}"),
        NodeValue::Number(n) => n.to_string(),
        NodeValue::Bool(b) => b.to_string(),
        NodeValue::Null => "null".into(),
        NodeValue::Seq(items) => format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(", ")),
        NodeValue::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{k}: {}", show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

const PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::Region",
    "AWS::Partition",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::URLSuffix",
    "AWS::NotificationARNs",
];

struct Evaluator<'a> {
    path: &'a str,
    parameters: &'a [(String, Node)],
    conditions: &'a [(String, Node)],
    mappings: Option<&'a Node>,
    resources: BTreeSet<String>,
    given: &'a BTreeMap<String, String>,
    errors: RefCell<Vec<IacError>>,
    /// Conditions being decided, to refuse a cycle instead of recursing forever.
    deciding: RefCell<Vec<String>>,
}

fn unknown_from(why: String, parts: &[&Value]) -> Value {
    let mut refs: Vec<Reference> = parts.iter().flat_map(|v| v.references()).cloned().collect();
    refs.sort();
    refs.dedup();
    Value::Unknown { why, refs }
}

impl Evaluator<'_> {
    fn error(&self, at: &Node, message: String) {
        self.errors.borrow_mut().push(IacError::new(
            self.path,
            Some(at.location.line),
            Some(at.location.column),
            message,
        ));
    }

    /// The value of a node; None for `AWS::NoValue` (the property is left out).
    fn eval(&self, node: &Node) -> Option<Value> {
        match &node.value {
            NodeValue::Null => Some(Value::Null),
            NodeValue::Bool(b) => Some(Value::Bool(*b)),
            NodeValue::Number(n) => Some(Value::Number(*n)),
            NodeValue::Str(s) => Some(Value::Str(s.clone())),
            NodeValue::Seq(items) => Some(Value::List(items.iter().filter_map(|i| self.eval(i)).collect())),
            NodeValue::Map(entries) => {
                if let [(key, arg)] = entries.as_slice() {
                    if key == "Ref" || key == "Condition" || key.starts_with("Fn::") {
                        return self.intrinsic(key, arg, node);
                    }
                }
                Some(Value::Map(
                    entries
                        .iter()
                        .filter_map(|(k, v)| Some((k.clone(), self.eval(v)?)))
                        .collect(),
                ))
            }
        }
    }

    fn eval_or_null(&self, node: &Node) -> Value {
        self.eval(node).unwrap_or(Value::Null)
    }

    fn args<'n>(&self, name: &str, arg: &'n Node, count: std::ops::RangeInclusive<usize>) -> Option<&'n [Node]> {
        match &arg.value {
            NodeValue::Seq(items) if count.contains(&items.len()) => Some(items),
            _ => {
                self.error(
                    arg,
                    format!(
                        "{name} takes a list of {} arguments, not {}",
                        if count.start() == count.end() {
                            count.start().to_string()
                        } else {
                            format!("{} to {}", count.start(), count.end())
                        },
                        show(arg)
                    ),
                );
                None
            }
        }
    }

    fn intrinsic(&self, name: &str, arg: &Node, at: &Node) -> Option<Value> {
        let invalid = || Value::unknown(format!("{name} {} could not be evaluated", show(arg)));
        Some(match name {
            "Ref" => match arg.as_str() {
                Some("AWS::NoValue") => return None,
                Some(target) => self.reference(target, arg),
                None => {
                    self.error(arg, format!("Ref takes a name, not {}", show(arg)));
                    invalid()
                }
            },
            "Fn::GetAtt" => {
                let parts: Option<(String, String)> = match &arg.value {
                    NodeValue::Str(s) => s.split_once('.').map(|(a, b)| (a.to_owned(), b.to_owned())),
                    NodeValue::Seq(items) if items.len() == 2 => {
                        match (items[0].as_str(), self.eval_or_null(&items[1]).scalar_text()) {
                            (Some(a), Some(b)) => Some((a.to_owned(), b)),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                match parts {
                    Some((target, attribute)) if self.resources.contains(&target) => Value::Ref(Reference {
                        target,
                        attribute: Some(attribute),
                    }),
                    Some((target, _)) => {
                        self.error(
                            arg,
                            format!("Fn::GetAtt names {target}, which is not a resource of the template"),
                        );
                        invalid()
                    }
                    None => {
                        self.error(
                            arg,
                            format!("Fn::GetAtt takes [Resource, Attribute], not {}", show(arg)),
                        );
                        invalid()
                    }
                }
            }
            "Condition" => match arg.as_str() {
                Some(c) => self.condition(c, arg),
                None => {
                    self.error(arg, format!("Condition takes a condition's name, not {}", show(arg)));
                    invalid()
                }
            },
            "Fn::Sub" => self.sub(arg),
            "Fn::Join" => {
                let Some([delimiter, list]) = self.args(name, arg, 2..=2) else {
                    return Some(invalid());
                };
                let (delimiter, list) = (self.eval_or_null(delimiter), self.eval_or_null(list));
                match (delimiter.as_str(), &list) {
                    (Some(d), Value::List(items)) => {
                        let texts: Option<Vec<String>> = items.iter().map(Value::scalar_text).collect();
                        match texts {
                            Some(t) => Value::Str(t.join(d)),
                            None => unknown_from(format!("Fn::Join {}", show(arg)), &items.iter().collect::<Vec<_>>()),
                        }
                    }
                    _ => unknown_from(format!("Fn::Join {}", show(arg)), &[&list]),
                }
            }
            "Fn::Select" => {
                let Some([index, list]) = self.args(name, arg, 2..=2) else {
                    return Some(invalid());
                };
                let (index, list) = (self.eval_or_null(index), self.eval_or_null(list));
                match (index.as_int(), &list) {
                    (Some(i), Value::List(items)) => match usize::try_from(i).ok().and_then(|i| items.get(i)) {
                        Some(item) => item.clone(),
                        None => {
                            self.error(at, format!("Fn::Select index {i} is outside the list"));
                            invalid()
                        }
                    },
                    _ => unknown_from(format!("Fn::Select {}", show(arg)), &[&index, &list]),
                }
            }
            "Fn::Split" => {
                let Some([delimiter, text]) = self.args(name, arg, 2..=2) else {
                    return Some(invalid());
                };
                let (delimiter, text) = (self.eval_or_null(delimiter), self.eval_or_null(text));
                match (delimiter.as_str(), text.as_str()) {
                    (Some(d), Some(t)) if !d.is_empty() => {
                        Value::List(t.split(d).map(|p| Value::Str(p.to_owned())).collect())
                    }
                    _ => unknown_from(format!("Fn::Split {}", show(arg)), &[&text]),
                }
            }
            "Fn::FindInMap" => self.find_in_map(arg),
            "Fn::If" => {
                let Some([condition, then, otherwise]) = self.args(name, arg, 3..=3) else {
                    return Some(invalid());
                };
                let Some(c) = condition.as_str() else {
                    self.error(condition, "Fn::If takes a condition's name first".into());
                    return Some(invalid());
                };
                match self.condition(c, condition) {
                    Value::Bool(true) => return self.eval(then),
                    Value::Bool(false) => return self.eval(otherwise),
                    undecided => {
                        let (a, b) = (self.eval(then), self.eval(otherwise));
                        if a == b {
                            return a;
                        }
                        let (a, b) = (a.unwrap_or(Value::Null), b.unwrap_or(Value::Null));
                        unknown_from(
                            format!(
                                "Fn::If on condition {c}, which is undecided: {}",
                                unknown_why(&undecided)
                            ),
                            &[&a, &b],
                        )
                    }
                }
            }
            "Fn::Equals" => {
                let Some([a, b]) = self.args(name, arg, 2..=2) else {
                    return Some(invalid());
                };
                let (a, b) = (self.eval_or_null(a), self.eval_or_null(b));
                match (a.scalar_text(), b.scalar_text()) {
                    (Some(x), Some(y)) if a.is_known() && b.is_known() => Value::Bool(x == y),
                    _ => unknown_from(format!("Fn::Equals {}", show(arg)), &[&a, &b]),
                }
            }
            "Fn::And" | "Fn::Or" => {
                let Some(items) = self.args(name, arg, 2..=10) else {
                    return Some(invalid());
                };
                let values: Vec<Value> = items.iter().map(|i| self.eval_or_null(i)).collect();
                let decisive = name == "Fn::Or";
                if values.iter().any(|v| v.as_bool() == Some(decisive)) {
                    Value::Bool(decisive)
                } else if values.iter().all(|v| v.as_bool() == Some(!decisive)) {
                    Value::Bool(!decisive)
                } else {
                    let undecided: Vec<&Value> = values.iter().filter(|v| v.as_bool().is_none()).collect();
                    let why = undecided.first().map_or_else(String::new, |v| unknown_why(v));
                    unknown_from(format!("{name}: {why}"), &undecided)
                }
            }
            "Fn::Not" => {
                let Some([a]) = self.args(name, arg, 1..=1) else {
                    return Some(invalid());
                };
                match self.eval_or_null(a) {
                    v if v.as_bool().is_some() => Value::Bool(v.as_bool() != Some(true)),
                    other => other,
                }
            }
            "Fn::ImportValue" => {
                let export = self.eval_or_null(arg);
                Value::unknown(format!(
                    "Fn::ImportValue {}: exported by another stack",
                    export.scalar_text().unwrap_or_else(|| show(arg))
                ))
            }
            "Fn::Base64" => self.eval_or_null(arg),
            "Fn::Length" => match self.eval_or_null(arg) {
                Value::List(items) => Value::Number(items.len() as f64),
                other => unknown_from(format!("Fn::Length {}", show(arg)), &[&other]),
            },
            "Fn::GetAZs" | "Fn::Cidr" | "Fn::ToJsonString" | "Fn::Transform" => {
                let inner = self.eval_or_null(arg);
                unknown_from(format!("{name} {}: evaluated only at deploy", show(arg)), &[&inner])
            }
            other => {
                self.error(at, format!("unknown intrinsic function {other}"));
                invalid()
            }
        })
    }

    fn reference(&self, target: &str, at: &Node) -> Value {
        if let Some((_, declared)) = self.parameters.iter().find(|(n, _)| n == target) {
            return self.parameter(target, declared);
        }
        if self.resources.contains(target) {
            return Value::Ref(Reference {
                target: target.to_owned(),
                attribute: None,
            });
        }
        if PSEUDO_PARAMETERS.contains(&target) {
            return Value::unknown(format!("{target}: known only at deploy"));
        }
        self.error(
            at,
            format!("Ref {target}: neither a parameter nor a resource of the template"),
        );
        Value::unknown(format!("Ref {target} names nothing in the template"))
    }

    fn parameter(&self, name: &str, declared: &Node) -> Value {
        let kind = declared.get("Type").and_then(Node::as_str).unwrap_or("String");
        let text = match self.given.get(name) {
            Some(v) => Some(v.clone()),
            None => declared
                .get("Default")
                .and_then(|d| self.eval(d))
                .and_then(|d| d.scalar_text()),
        };
        let Some(text) = text else {
            return Value::unknown(if kind.starts_with("AWS::") || kind.starts_with("List<AWS::") {
                format!("parameter {name} ({kind}) names a resource outside the template and has no default")
            } else {
                format!("parameter {name} has no default: pass --cfn-parameter {name}=VALUE")
            });
        };
        if kind.starts_with("List<") || kind == "CommaDelimitedList" {
            Value::List(text.split(',').map(|p| Value::Str(p.trim().to_owned())).collect())
        } else if kind == "Number" {
            text.trim()
                .parse::<f64>()
                .map_or(Value::Str(text.clone()), Value::Number)
        } else {
            Value::Str(text)
        }
    }

    fn condition(&self, name: &str, at: &Node) -> Value {
        let Some((_, definition)) = self.conditions.iter().find(|(n, _)| n == name) else {
            self.error(at, format!("condition {name} is not defined under Conditions"));
            return Value::unknown(format!("condition {name} is not defined"));
        };
        if self.deciding.borrow().iter().any(|c| c == name) {
            self.error(at, format!("condition {name} depends on itself"));
            return Value::unknown(format!("condition {name} depends on itself"));
        }
        self.deciding.borrow_mut().push(name.to_owned());
        let value = self.eval_or_null(definition);
        self.deciding.borrow_mut().pop();
        match value {
            Value::Bool(_) | Value::Unknown { .. } => value,
            other => match other.as_bool() {
                Some(b) => Value::Bool(b),
                None => {
                    self.error(definition, format!("condition {name} is not a boolean"));
                    Value::unknown(format!("condition {name} is not a boolean"))
                }
            },
        }
    }

    fn find_in_map(&self, arg: &Node) -> Value {
        let Some(items) = self.args("Fn::FindInMap", arg, 3..=4) else {
            return Value::unknown("Fn::FindInMap could not be evaluated");
        };
        let keys: Vec<Value> = items[..3].iter().map(|i| self.eval_or_null(i)).collect();
        let texts: Option<Vec<String>> = keys.iter().map(Value::scalar_text).collect();
        let Some(texts) = texts.filter(|_| keys.iter().all(Value::is_known)) else {
            return unknown_from(
                format!("Fn::FindInMap {} with a key known only at deploy", show(arg)),
                &keys.iter().collect::<Vec<_>>(),
            );
        };
        let found = self
            .mappings
            .and_then(|m| m.get(&texts[0]))
            .and_then(|m| m.get(&texts[1]))
            .and_then(|m| m.get(&texts[2]));
        match (found, items.get(3)) {
            (Some(v), _) => self.eval_or_null(v),
            (None, Some(default)) => self
                .eval_or_null(default)
                .get("DefaultValue")
                .cloned()
                .unwrap_or(Value::Null),
            (None, None) => {
                self.error(arg, format!("Fn::FindInMap: no {} in Mappings", texts.join(" / ")));
                Value::unknown(format!("Fn::FindInMap {}", texts.join(" / ")))
            }
        }
    }

    fn sub(&self, arg: &Node) -> Value {
        let (template, variables): (&str, &[(String, Node)]) = match &arg.value {
            NodeValue::Str(s) => (s, &[]),
            NodeValue::Seq(items) if items.len() == 2 => match items[0].as_str() {
                Some(s) => (s, items[1].entries()),
                None => {
                    self.error(arg, "Fn::Sub takes a string, or [string, {variables}]".into());
                    return Value::unknown("Fn::Sub could not be evaluated");
                }
            },
            _ => {
                self.error(arg, "Fn::Sub takes a string, or [string, {variables}]".into());
                return Value::unknown("Fn::Sub could not be evaluated");
            }
        };
        let mut parts: Vec<Value> = vec![];
        let mut literal = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            literal.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                literal.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = &after[..end];
            rest = &after[end + 1..];
            if let Some(escaped) = name.strip_prefix('!') {
                literal.push_str("${");
                literal.push_str(escaped);
                literal.push('}');
                continue;
            }
            if !literal.is_empty() {
                parts.push(Value::Str(std::mem::take(&mut literal)));
            }
            let value = match variables.iter().find(|(k, _)| k == name) {
                Some((_, v)) => self.eval_or_null(v),
                None => match name.split_once('.') {
                    Some((target, attribute)) if self.resources.contains(target) => Value::Ref(Reference {
                        target: target.to_owned(),
                        attribute: Some(attribute.to_owned()),
                    }),
                    _ => self.reference(name, arg),
                },
            };
            parts.push(value);
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Value::Str(literal));
        }
        if let [only] = parts.as_slice() {
            return only.clone();
        }
        let texts: Option<Vec<String>> = parts
            .iter()
            .map(|p| if p.is_known() { p.scalar_text() } else { None })
            .collect();
        match texts {
            Some(t) => Value::Str(t.concat()),
            None => unknown_from(format!("Fn::Sub {template:?}"), &parts.iter().collect::<Vec<_>>()),
        }
    }
}
