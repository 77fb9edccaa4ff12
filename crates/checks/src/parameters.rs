//! Control parameters' declared types and ranges: what a value must be, and whether a
//! declaration agrees with the query variable it documents.

use crate::catalogue::ParamDoc;
use netaudit_query::Const;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kind of value a parameter takes (`type = "…"` in `[parameters.NAME]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    Integer,
    String,
    Boolean,
    List,
}

impl ParamType {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::Integer => "integer",
            ParamType::String => "string",
            ParamType::Boolean => "boolean",
            ParamType::List => "list",
        }
    }

    /// The type a GraphQL variable type (`Int`, `String!`, `[String]`) calls for; None for types no
    /// declaration names (`Float`, `ID`).
    fn of_variable(graphql: &str) -> Option<ParamType> {
        let bare = graphql.trim().trim_end_matches('!');
        if bare.starts_with('[') {
            return Some(ParamType::List);
        }
        match bare {
            "Int" => Some(ParamType::Integer),
            "String" => Some(ParamType::String),
            "Boolean" => Some(ParamType::Boolean),
            _ => None,
        }
    }
}

/// `[String]`, `[String!]!` and the like: what `type = "list"` checks values as.
fn is_string_list(graphql: &str) -> bool {
    let bare = graphql.trim().trim_end_matches('!');
    bare.strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .is_some_and(|item| item.trim().trim_end_matches('!') == "String")
}

impl ParamDoc {
    /// What a value must be, as a phrase: "an integer from 1 to 3653", "one of ACCEPT, REJECT, ALL".
    pub fn expectation(&self) -> String {
        let allowed = self.allowed.as_ref().map(|a| a.join(", "));
        match (self.value_type, allowed) {
            (Some(ParamType::Integer), _) => match (self.minimum, self.maximum) {
                (Some(min), Some(max)) => format!("an integer from {min} to {max}"),
                (Some(min), None) => format!("an integer of at least {min}"),
                (None, Some(max)) => format!("an integer of at most {max}"),
                (None, None) => "an integer".to_owned(),
            },
            (Some(ParamType::Boolean), _) => "true or false".to_owned(),
            (Some(ParamType::List), Some(allowed)) => format!("a list of values among {allowed}"),
            (Some(ParamType::List), None) => "a list of strings".to_owned(),
            (Some(ParamType::String) | None, Some(allowed)) => format!("one of {allowed}"),
            (Some(ParamType::String), None) => "a string".to_owned(),
            (None, None) => "a value of the query variable's type".to_owned(),
        }
    }

    /// Ok when `value` is one the declaration takes; Err(the expectation) otherwise. Values arrive
    /// as JSON or, from the command line, as text: "365" is an integer, "a,b" a list, as the query
    /// reads them. A parameter without a type keeps only its `allowed` check on text values.
    pub fn check_value(&self, value: &Value) -> Result<(), String> {
        let in_allowed = |v: &str| self.allowed.as_ref().is_none_or(|a| a.iter().any(|x| x == v));
        let fits = match self.value_type {
            None => value.as_str().is_none_or(in_allowed),
            Some(ParamType::Integer) => as_integer(value)
                .is_some_and(|n| self.minimum.is_none_or(|min| n >= min) && self.maximum.is_none_or(|max| n <= max)),
            Some(ParamType::String) => value.as_str().is_some_and(in_allowed),
            Some(ParamType::Boolean) => {
                value.is_boolean() || value.as_str().is_some_and(|s| matches!(s.trim(), "true" | "false"))
            }
            Some(ParamType::List) => match value {
                Value::Array(items) => items.iter().all(|i| i.as_str().is_some_and(in_allowed)),
                Value::String(s) => s.split(',').all(|i| in_allowed(i.trim())),
                _ => false,
            },
        };
        if fits {
            Ok(())
        } else {
            Err(self.expectation())
        }
    }

    /// Problems with the declaration itself: a type that contradicts the query variable's
    /// (`graphql_type`), bounds or `allowed` on a type they do not apply to, an empty range, or a
    /// default (`default`, from the query) the declaration refuses.
    pub(crate) fn check_declaration(&self, graphql_type: &str, default: Option<&Const>) -> Vec<String> {
        let mut problems = vec![];
        let Some(declared) = self.value_type else {
            if self.minimum.is_some() || self.maximum.is_some() {
                problems.push("minimum and maximum need type = \"integer\"".to_owned());
            }
            return problems;
        };
        if declared == ParamType::List && !is_string_list(graphql_type) {
            problems.push(format!(
                "type = \"list\" is a list of strings, but the query declares {graphql_type}; leave the type out"
            ));
        }
        if let Some(wanted) = ParamType::of_variable(graphql_type) {
            if wanted != declared {
                problems.push(format!(
                    "type = \"{}\", but the query declares it as {graphql_type} (type = \"{}\")",
                    declared.as_str(),
                    wanted.as_str()
                ));
            }
        }
        if declared != ParamType::Integer && (self.minimum.is_some() || self.maximum.is_some()) {
            problems.push(format!(
                "minimum and maximum apply to type = \"integer\", not \"{}\"",
                declared.as_str()
            ));
        }
        if let (Some(min), Some(max)) = (self.minimum, self.maximum) {
            if min > max {
                problems.push(format!("minimum {min} is above maximum {max}"));
            }
        }
        if self.allowed.is_some() && !matches!(declared, ParamType::String | ParamType::List) {
            problems.push(format!(
                "allowed lists text values: it applies to type = \"string\" or \"list\", not \"{}\"",
                declared.as_str()
            ));
        }
        if problems.is_empty() {
            if let Some(default) = default.filter(|d| !matches!(d, Const::Null)) {
                let json = const_json(default);
                if let Err(expected) = self.check_value(&json) {
                    problems.push(format!("the query's default {json} is not {expected}"));
                }
            }
        }
        problems
    }
}

fn as_integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn const_json(value: &Const) -> Value {
    match value {
        Const::Null => Value::Null,
        Const::Bool(b) => Value::Bool(*b),
        Const::Int(i) => Value::from(*i),
        Const::Str(s) => Value::String(s.clone()),
        Const::List(items) => Value::Array(items.iter().map(const_json).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> ParamDoc {
        ParamDoc {
            description: "ports".to_owned(),
            value_type: Some(ParamType::List),
            minimum: None,
            maximum: None,
            allowed: None,
        }
    }

    #[test]
    fn a_list_declaration_is_a_list_of_strings() {
        assert!(list().check_declaration("[String!]!", None).is_empty());
        assert!(list().check_declaration("[String]", None).is_empty());
        // Values of [Int] would be refused as not strings: the declaration is refused instead.
        let problems = list().check_declaration("[Int]", None);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("list of strings"), "{problems:?}");
    }
}
