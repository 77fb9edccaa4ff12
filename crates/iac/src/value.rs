//! Values as far as they can be known before deploy.

use std::collections::BTreeMap;

/// Another resource of the same source, or one of its attributes (`!Ref Vpc`, `!GetAtt Group.Arn`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reference {
    /// The resource's address (a CloudFormation logical id).
    pub target: String,
    /// None for the resource's own identifier (`Ref`).
    pub attribute: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// Known only after deploy, but certainly this resource's identifier or attribute.
    Ref(Reference),
    /// Not knowable before deploy. `why` names the expression; `refs` are the resources it is built
    /// from (an ARN assembled with `Fn::Sub` from a log group's name still points at that group).
    Unknown {
        why: String,
        refs: Vec<Reference>,
    },
}

impl Value {
    pub fn unknown(why: impl Into<String>) -> Value {
        Value::Unknown {
            why: why.into(),
            refs: vec![],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(m) => m.get(key),
            _ => None,
        }
    }

    /// The text of a scalar, as CloudFormation reads numbers and booleans given as strings.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Value::Str(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Some(format!("{}", *n as i64)),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A boolean given as `true` or `"true"` (CloudFormation accepts both).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// An integer given as a number or a numeric string.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Number(n) if n.fract() == 0.0 => Some(*n as i64),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Every resource this value points at or is built from.
    pub fn references(&self) -> Vec<&Reference> {
        match self {
            Value::Ref(r) => vec![r],
            Value::Unknown { refs, .. } => refs.iter().collect(),
            Value::List(items) => items.iter().flat_map(Value::references).collect(),
            Value::Map(m) => m.values().flat_map(Value::references).collect(),
            _ => vec![],
        }
    }

    pub fn is_known(&self) -> bool {
        match self {
            Value::Ref(_) | Value::Unknown { .. } => false,
            Value::List(items) => items.iter().all(Value::is_known),
            Value::Map(m) => m.values().all(Value::is_known),
            _ => true,
        }
    }
}
