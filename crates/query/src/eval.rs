//! Three-valued evaluation of compiled filters, and projection of selections to JSON.

use crate::compile::{Const, FieldRef, Filter, Op, Quantifier, Selection};
use netaudit_model::{Asset, Edge, Gap, Graph, NodeId, Value};
use regex::Regex;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

/// The outcome of a predicate: true, false, or unknown because of the listed gaps.
#[derive(Debug, Clone, PartialEq)]
pub enum Truth {
    True,
    False,
    Unknown(Vec<Arc<Gap>>),
}

impl std::ops::Not for Truth {
    type Output = Truth;
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            u => u,
        }
    }
}

impl Truth {
    fn of(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }

    /// Kleene conjunction: false wins, then unknown.
    fn and(items: impl Iterator<Item = Truth>) -> Truth {
        let mut gaps: Vec<Arc<Gap>> = vec![];
        let mut unknown = false;
        for t in items {
            match t {
                Truth::False => return Truth::False,
                Truth::Unknown(g) => {
                    unknown = true;
                    merge(&mut gaps, g);
                }
                Truth::True => {}
            }
        }
        if unknown {
            Truth::Unknown(gaps)
        } else {
            Truth::True
        }
    }

    /// Kleene disjunction: true wins, then unknown.
    fn or(items: impl Iterator<Item = Truth>) -> Truth {
        !Truth::and(items.map(|t| !t))
    }
}

fn merge(into: &mut Vec<Arc<Gap>>, from: Vec<Arc<Gap>>) {
    for g in from {
        if !into.iter().any(|x| x == &g) {
            into.push(g);
        }
    }
}

/// The value of a field of an asset.
pub(crate) fn field_value(asset: &Asset, field: FieldRef) -> Cow<'_, Value> {
    match field {
        FieldRef::Own(ix) => Cow::Borrowed(asset.field(ix)),
        FieldRef::Common(i) => Cow::Owned(match i {
            0 => Value::Str(asset.id.clone()),
            1 => Value::Str(asset.arn.clone()),
            2 => Value::Str(asset.account_id.clone()),
            3 => Value::Str(asset.region.clone()),
            _ => Value::opt_str(asset.name.as_deref()),
        }),
    }
}

/// Evaluate `filter` on one asset.
pub fn evaluate_filter(graph: &Graph, node: NodeId, filter: &Filter) -> Truth {
    let asset = graph.asset(node);
    match filter {
        Filter::True => Truth::True,
        Filter::And(parts) => Truth::and(parts.iter().map(|f| evaluate_filter(graph, node, f))),
        Filter::Or(parts) => Truth::or(parts.iter().map(|f| evaluate_filter(graph, node, f))),
        Filter::Not(inner) => !evaluate_filter(graph, node, inner),
        Filter::Field {
            field,
            op,
            value,
            regex,
        } => compare(&field_value(asset, *field), *op, value, regex.as_ref()),
        Filter::EdgeEmpty { edge, empty } => match asset.edge(*edge) {
            Edge::Unknown(g) => Truth::Unknown(vec![g.clone()]),
            Edge::Known(list) => Truth::of(list.is_empty() == *empty),
            // Known members prove "not empty"; none known proves nothing.
            Edge::Partial(list, g) if list.is_empty() => Truth::Unknown(vec![g.clone()]),
            Edge::Partial(_, _) => Truth::of(!*empty),
        },
        Filter::Edge {
            edge,
            quantifier,
            filter,
        } => {
            let (list, missing) = match asset.edge(*edge) {
                Edge::Unknown(g) => return Truth::Unknown(vec![g.clone()]),
                Edge::Known(list) => (list, None),
                Edge::Partial(list, g) => (list, Some(g)),
            };
            let each = list.iter().map(|n| evaluate_filter(graph, *n, filter));
            let known = match quantifier {
                Quantifier::Some => Truth::or(each),
                Quantifier::None => !Truth::or(each),
                Quantifier::All => Truth::and(each),
                Quantifier::Single => single(each),
            };
            match (missing, &known, quantifier) {
                (None, _, _) => known,
                // Unlisted members could only add matches: SOME true and NONE/SINGLE false stand,
                // as does ALL false; anything else waits on the members not listed.
                (Some(_), Truth::True, Quantifier::Some) => known,
                (Some(_), Truth::False, Quantifier::None | Quantifier::All) => known,
                // SINGLE is false for good only when two listed members already match.
                (Some(_), Truth::False, Quantifier::Single)
                    if list
                        .iter()
                        .filter(|n| evaluate_filter(graph, **n, filter) == Truth::True)
                        .count()
                        > 1 =>
                {
                    known
                }
                (Some(g), _, _) => {
                    let mut gaps = vec![g.clone()];
                    if let Truth::Unknown(more) = known {
                        merge(&mut gaps, more);
                    }
                    Truth::Unknown(gaps)
                }
            }
        }
    }
}

/// Exactly one related asset matches.
fn single(items: impl Iterator<Item = Truth>) -> Truth {
    let (mut yes, mut gaps, mut unknown) = (0usize, vec![], 0usize);
    for t in items {
        match t {
            Truth::True => yes += 1,
            Truth::False => {}
            Truth::Unknown(g) => {
                unknown += 1;
                merge(&mut gaps, g);
            }
        }
    }
    match (yes, unknown) {
        (y, _) if y > 1 => Truth::False,
        (1, 0) => Truth::True,
        (0, 0) => Truth::False,
        _ => Truth::Unknown(gaps),
    }
}

fn eq(value: &Value, c: &Const) -> bool {
    match (value, c) {
        (Value::Null, Const::Null) => true,
        (Value::Bool(a), Const::Bool(b)) => a == b,
        (Value::Int(a), Const::Int(b)) => a == b,
        (Value::Str(a), Const::Str(b)) => a == b,
        (Value::List(a), Const::List(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| matches!(y, Const::Str(s) if s == x))
        }
        _ => false,
    }
}

fn ord(value: &Value, c: &Const) -> Option<Ordering> {
    match (value, c) {
        (Value::Int(a), Const::Int(b)) => Some(a.cmp(b)),
        (Value::Str(a), Const::Str(b)) => Some(a.as_str().cmp(b.as_str())),
        _ => None,
    }
}

fn strings<'a>(value: &'a Value, c: &'a Const) -> Option<(&'a str, &'a str)> {
    match (value, c) {
        (Value::Str(a), Const::Str(b)) => Some((a, b)),
        _ => None,
    }
}

/// Compare a known or unknown value. A null (absent) value matches no positive operator.
fn compare(value: &Value, op: Op, c: &Const, regex: Option<&Regex>) -> Truth {
    if let Value::Unknown(g) = value {
        return Truth::Unknown(vec![g.clone()]);
    }
    let within = |c: &Const| match c {
        Const::List(items) => items.iter().any(|i| eq(value, i)),
        other => eq(value, other),
    };
    let includes = || match (value, c) {
        (Value::List(items), Const::Str(s)) => items.iter().any(|i| i == s),
        _ => false,
    };
    Truth::of(match op {
        Op::Eq => eq(value, c),
        Op::Not => !eq(value, c),
        Op::In => within(c),
        Op::NotIn => !within(c),
        Op::Lt => ord(value, c) == Some(Ordering::Less),
        Op::Lte => matches!(ord(value, c), Some(Ordering::Less | Ordering::Equal)),
        Op::Gt => ord(value, c) == Some(Ordering::Greater),
        Op::Gte => matches!(ord(value, c), Some(Ordering::Greater | Ordering::Equal)),
        Op::Contains => strings(value, c).is_some_and(|(a, b)| a.contains(b)),
        Op::NotContains => !strings(value, c).is_some_and(|(a, b)| a.contains(b)),
        Op::StartsWith => strings(value, c).is_some_and(|(a, b)| a.starts_with(b)),
        Op::NotStartsWith => !strings(value, c).is_some_and(|(a, b)| a.starts_with(b)),
        Op::EndsWith => strings(value, c).is_some_and(|(a, b)| a.ends_with(b)),
        Op::NotEndsWith => !strings(value, c).is_some_and(|(a, b)| a.ends_with(b)),
        Op::Matches => match (value, regex) {
            (Value::Str(s), Some(re)) => re.is_match(s),
            _ => false,
        },
        Op::Includes => includes(),
        Op::NotIncludes => !includes(),
    })
}

fn value_json(value: &Value) -> serde_json::Value {
    use serde_json::json;
    match value {
        Value::Unknown(g) => json!({ "unknown": g.to_string() }),
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::Str(s) => json!(s),
        Value::List(items) => json!(items),
    }
}

/// Project one asset through a selection, as JSON. Unknown values render as `{"unknown": why}`.
pub fn project(graph: &Graph, node: NodeId, selection: &[Selection]) -> serde_json::Value {
    let asset = graph.asset(node);
    let mut out = serde_json::Map::new();
    for sel in selection {
        match sel {
            Selection::TypeName { key } => {
                out.insert(
                    key.clone(),
                    serde_json::Value::String(asset.kind.def().type_name.to_owned()),
                );
            }
            Selection::Field { key, field } => {
                out.insert(key.clone(), value_json(&field_value(asset, *field)));
            }
            Selection::Edge {
                key,
                edge,
                many,
                filter,
                selection,
            } => {
                let json = match asset.edge(*edge) {
                    Edge::Unknown(g) => serde_json::json!({ "unknown": g.to_string() }),
                    Edge::Partial(list, g) => {
                        let known: Vec<serde_json::Value> =
                            list.iter().map(|n| project(graph, *n, selection)).collect();
                        serde_json::json!({ "known": known, "unknown": format!("there may be more: {g}") })
                    }
                    Edge::Known(list) => {
                        let matching: Vec<serde_json::Value> = list
                            .iter()
                            .filter(|n| {
                                filter
                                    .as_ref()
                                    .is_none_or(|f| evaluate_filter(graph, **n, f) == Truth::True)
                            })
                            .map(|n| project(graph, *n, selection))
                            .collect();
                        if *many {
                            serde_json::Value::Array(matching)
                        } else {
                            matching.into_iter().next().unwrap_or(serde_json::Value::Null)
                        }
                    }
                };
                out.insert(key.clone(), json);
            }
        }
    }
    serde_json::Value::Object(out)
}
