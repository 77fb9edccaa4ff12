//! Parse, validate and compile a query into filters and selections over the asset graph.

use apollo_compiler::ast;
use apollo_compiler::executable::{self, ExecutableDocument};
use apollo_compiler::validation::Valid;
use apollo_compiler::Node;
use netaudit_model::schema::{EdgeIx, FieldIx, Kind, ScalarType, COMMON_FIELDS};
use regex::Regex;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

/// The fragment every query may spread without defining it.
const ASSET_FRAGMENT: &str = "fragment AssetFragment on Asset { id arn accountId region name }";

/// A query that could not be compiled, with its position in the query text when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for QueryError {}

/// A constant, after variables are bound.
#[derive(Debug, Clone, PartialEq)]
pub enum Const {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Const>),
}

impl fmt::Display for Const {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Const::Null => f.write_str("null"),
            Const::Bool(b) => write!(f, "{b}"),
            Const::Int(i) => write!(f, "{i}"),
            Const::Str(s) => f.write_str(s),
            Const::List(items) => {
                let parts: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", parts.join(", "))
            }
        }
    }
}

/// A declared query variable (a check parameter) and the value it was bound to.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    pub name: String,
    /// The GraphQL type as written (`String`, `Int!`, `[String]`).
    pub ty: String,
    pub default: Option<Const>,
    pub value: Const,
}

/// A field of an asset: one of the common fields, or a kind-specific one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRef {
    Common(usize),
    Own(FieldIx),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Not,
    In,
    NotIn,
    Lt,
    Lte,
    Gt,
    Gte,
    Contains,
    NotContains,
    StartsWith,
    NotStartsWith,
    EndsWith,
    NotEndsWith,
    Matches,
    Includes,
    NotIncludes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    Some,
    None,
    All,
    Single,
}

/// A compiled `where` filter.
#[derive(Debug, Clone)]
pub enum Filter {
    /// The empty filter `{}`: every asset.
    True,
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Field {
        field: FieldRef,
        op: Op,
        value: Const,
        regex: Option<Regex>,
    },
    /// `edge: null` (`empty: true`) or `edge_NOT: null` (`empty: false`).
    EdgeEmpty {
        edge: EdgeIx,
        empty: bool,
    },
    Edge {
        edge: EdgeIx,
        quantifier: Quantifier,
        filter: Box<Filter>,
    },
}

/// What to output for each matching asset.
#[derive(Debug, Clone)]
pub enum Selection {
    Field {
        key: String,
        field: FieldRef,
    },
    Edge {
        key: String,
        edge: EdgeIx,
        many: bool,
        filter: Option<Filter>,
        selection: Vec<Selection>,
    },
    TypeName {
        key: String,
    },
}

/// One root field of a query: which assets, filtered how, selecting what.
#[derive(Debug, Clone)]
pub struct RootSelection {
    pub key: String,
    pub kind: Kind,
    pub filter: Option<Filter>,
    pub selection: Vec<Selection>,
}

/// A compiled query.
#[derive(Debug, Clone)]
pub struct Query {
    pub variables: Vec<Variable>,
    pub roots: Vec<RootSelection>,
}

fn schema() -> Result<&'static Valid<apollo_compiler::Schema>, QueryError> {
    static SCHEMA: OnceLock<Result<Valid<apollo_compiler::Schema>, String>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            apollo_compiler::Schema::parse_and_validate(crate::schema_sdl(), "schema.graphql")
                .map_err(|e| e.errors.to_string())
        })
        .as_ref()
        .map_err(|e| QueryError {
            message: format!("internal error: the graph schema is invalid: {e}"),
            line: None,
            column: None,
        })
}

struct Source {
    text: String,
    line_offset: usize,
    /// Lines of the text as written: a position in what netaudit wraps around it (the closing
    /// brace, the shared fragment) is reported just past its end.
    user_lines: usize,
}

impl Source {
    fn user_line(&self, line: usize) -> usize {
        user_line(line, self.line_offset, self.user_lines)
    }
}

fn user_line(line: usize, offset: usize, user_lines: usize) -> usize {
    line.saturating_sub(offset).clamp(1, user_lines + 1)
}

fn line_count(text: &str) -> usize {
    text.lines().count().max(1)
}

/// Accept the stored-check shorthand (`vpcs(where: …){…}`) as well as full operations.
fn prepare(text: &str) -> Source {
    // Skip GraphQL's ignored tokens (blank lines, commas, # comments) before telling the forms apart.
    let mut trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
    while let Some(rest) = trimmed.strip_prefix('#') {
        trimmed = rest
            .split_once('\n')
            .map_or("", |(_, after)| after)
            .trim_start_matches(|c: char| c.is_whitespace() || c == ',');
    }
    let full = trimmed.starts_with('{') || trimmed.starts_with("query") || trimmed.starts_with("fragment");
    let mut source = if full {
        text.to_owned()
    } else {
        format!("{{\n{text}\n}}")
    };
    if source.contains("...AssetFragment") && !source.contains("fragment AssetFragment") {
        source.push('\n');
        source.push_str(ASSET_FRAGMENT);
        source.push('\n');
    }
    Source {
        text: source,
        line_offset: usize::from(!full),
        user_lines: line_count(text),
    }
}

struct Ctx<'a> {
    doc: &'a ExecutableDocument,
    line_offset: usize,
    user_lines: usize,
    vars: BTreeMap<String, Const>,
}

impl Ctx<'_> {
    fn error_at<T>(&self, node: &Node<T>, message: impl Into<String>) -> QueryError {
        let range = node.line_column_range(&self.doc.sources);
        QueryError {
            message: message.into(),
            line: range
                .as_ref()
                .map(|r| user_line(r.start.line, self.line_offset, self.user_lines)),
            column: range.map(|r| r.start.column),
        }
    }
}

/// Deeper nesting of `{`, `[` and `(` than any real query needs. Parsing, validating and compiling
/// recurse once per level, so a deep enough text would exhaust the stack; it is refused first.
const MAX_NESTING: usize = 64;

/// Where `source` nests deeper than [`MAX_NESTING`], skipping strings and comments.
fn check_nesting(source: &Source) -> Result<(), QueryError> {
    enum In {
        Code,
        String,
        BlockString,
        Comment,
    }
    let text = source.text.as_str();
    let (mut state, mut depth, mut line, mut column) = (In::Code, 0usize, 1usize, 0usize);
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        if c == '\n' {
            line += 1;
            column = 0;
        } else {
            column += 1;
        }
        let rest = &text[at..];
        // Characters consumed with this one (never a line break).
        let mut skip = 0;
        match state {
            In::Code => match c {
                '#' => state = In::Comment,
                '"' if rest.starts_with("\"\"\"") => (state, skip) = (In::BlockString, 2),
                '"' => state = In::String,
                '{' | '[' | '(' => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Err(QueryError {
                            message: format!("nested more than {MAX_NESTING} levels deep"),
                            line: Some(source.user_line(line)),
                            column: Some(column),
                        });
                    }
                }
                '}' | ']' | ')' => depth = depth.saturating_sub(1),
                _ => {}
            },
            In::String => match c {
                '\\' if !rest[1..].starts_with('\n') => skip = 1,
                '"' | '\n' => state = In::Code,
                _ => {}
            },
            In::BlockString if rest.starts_with("\\\"\"\"") => skip = 3,
            In::BlockString if rest.starts_with("\"\"\"") => (state, skip) = (In::Code, 2),
            In::BlockString => {}
            In::Comment if c == '\n' => state = In::Code,
            In::Comment => {}
        }
        for _ in 0..skip {
            if chars.next().is_some() {
                column += 1;
            }
        }
    }
    Ok(())
}

fn validate(source: &Source) -> Result<Valid<ExecutableDocument>, QueryError> {
    check_nesting(source)?;
    let schema = schema()?;
    ExecutableDocument::parse_and_validate(schema, source.text.clone(), "query.graphql").map_err(|with_errors| {
        let mut first: Option<QueryError> = None;
        let mut messages = vec![];
        for d in with_errors.errors.iter() {
            let range = d.line_column_range();
            let e = QueryError {
                message: d.error.to_string(),
                line: range.as_ref().map(|r| source.user_line(r.start.line)),
                column: range.map(|r| r.start.column),
            };
            messages.push(e.to_string());
            first.get_or_insert(e);
        }
        match (first, messages.len()) {
            (Some(e), 1) => e,
            (Some(mut e), _) => {
                // Keep the first position; list every problem.
                e.message = format!("{} (and: {})", e.message, messages[1..].join("; "));
                e
            }
            (None, _) => QueryError {
                message: "invalid query".into(),
                line: None,
                column: None,
            },
        }
    })
}

/// Compile a query. `params` binds its variables (check parameters); unset variables take their
/// defaults, or null.
pub fn compile(text: &str, params: &BTreeMap<String, serde_json::Value>) -> Result<Query, QueryError> {
    let source = prepare(text);
    let doc = validate(&source)?;
    let operation = match (doc.operations.anonymous.as_ref(), doc.operations.named.len()) {
        (Some(op), 0) => op.clone(),
        (None, 1) => doc.operations.named.values().next().cloned().ok_or_else(no_operation)?,
        (None, 0) => return Err(no_operation()),
        _ => {
            return Err(QueryError {
                message: "a query must hold exactly one operation".into(),
                line: None,
                column: None,
            })
        }
    };
    let mut ctx = Ctx {
        doc: &doc,
        line_offset: source.line_offset,
        user_lines: source.user_lines,
        vars: BTreeMap::new(),
    };

    let mut variables = vec![];
    for def in &operation.variables {
        let name = def.name.as_str().to_owned();
        let ty = def.ty.to_string();
        let default = match &def.default_value {
            Some(v) => Some(ctx.constant(v)?),
            None => None,
        };
        let value = match params.get(&name) {
            Some(json) => from_json(json, &def.ty).map_err(|m| ctx.error_at(def, format!("parameter {name}: {m}")))?,
            None => default.clone().unwrap_or(Const::Null),
        };
        if def.ty.is_non_null() && value == Const::Null {
            return Err(ctx.error_at(def, format!("parameter {name} ({ty}) needs a value")));
        }
        ctx.vars.insert(name.clone(), value.clone());
        variables.push(Variable {
            name,
            ty,
            default,
            value,
        });
    }
    if let Some(unknown) = params.keys().find(|k| !ctx.vars.contains_key(k.as_str())) {
        let declared: Vec<&str> = ctx.vars.keys().map(String::as_str).collect();
        return Err(QueryError {
            message: format!(
                "unknown parameter {unknown}; the query declares {}",
                if declared.is_empty() {
                    "none".to_owned()
                } else {
                    declared.join(", ")
                }
            ),
            line: None,
            column: None,
        });
    }

    let mut roots = vec![];
    for field in root_fields(&doc, &operation.selection_set) {
        let kind = Kind::by_root_field(field.name.as_str())
            .ok_or_else(|| ctx.error_at(&field, format!("{} is not a list of assets", field.name)))?;
        let filter = match field.arguments.iter().find(|a| a.name == "where") {
            Some(arg) => Some(ctx.filter(kind, &arg.value)?),
            None => None,
        };
        let selection = ctx.selection(kind, &field.selection_set)?;
        roots.push(RootSelection {
            key: field.response_key().as_str().to_owned(),
            kind,
            filter,
            selection,
        });
    }
    Ok(Query { variables, roots })
}

/// Compile a bare `where` object (as in a check's `not_applicable` or `scope`) for assets of `kind`.
pub fn compile_filter(kind: Kind, where_text: &str) -> Result<Filter, QueryError> {
    let prefix = format!("{}(where: ", kind.def().root_field);
    let text = format!("{{\n{prefix}{where_text}) {{ id }}\n}}");
    let source = Source {
        text,
        line_offset: 1,
        user_lines: line_count(where_text),
    };
    // Columns on the filter's first line count from the filter, not from the wrapper around it.
    let unwrap = |mut e: QueryError| {
        if e.line == Some(1) {
            e.column = e.column.map(|c| c.saturating_sub(prefix.chars().count()).max(1));
        }
        e
    };
    let doc = validate(&source).map_err(unwrap)?;
    let ctx = Ctx {
        doc: &doc,
        line_offset: 1,
        user_lines: line_count(where_text),
        vars: BTreeMap::new(),
    };
    let op = doc.operations.anonymous.as_ref().ok_or_else(no_operation)?;
    for field in root_fields(&doc, &op.selection_set) {
        if let Some(arg) = field.arguments.iter().find(|a| a.name == "where") {
            return ctx.filter(kind, &arg.value).map_err(unwrap);
        }
    }
    Ok(Filter::True)
}

fn no_operation() -> QueryError {
    QueryError {
        message: "the query has no operation".into(),
        line: None,
        column: None,
    }
}

/// Root fields, looking through fragments.
fn root_fields(doc: &ExecutableDocument, set: &executable::SelectionSet) -> Vec<Node<executable::Field>> {
    let mut out = vec![];
    for sel in &set.selections {
        match sel {
            executable::Selection::Field(f) => out.push(f.clone()),
            executable::Selection::FragmentSpread(s) => {
                if let Some(frag) = doc.fragments.get(&s.fragment_name) {
                    out.extend(root_fields(doc, &frag.selection_set));
                }
            }
            executable::Selection::InlineFragment(i) => out.extend(root_fields(doc, &i.selection_set)),
        }
    }
    out
}

fn field_ref(kind: Kind, name: &str) -> Option<(FieldRef, ScalarType)> {
    if let Some(i) = COMMON_FIELDS.iter().position(|f| f.name == name) {
        return Some((FieldRef::Common(i), COMMON_FIELDS[i].ty));
    }
    let def = kind.def();
    def.field(name).map(|ix| (FieldRef::Own(ix), def.fields[ix.0].ty))
}

fn op_of(suffix: &str) -> Option<Op> {
    Some(match suffix {
        "" => Op::Eq,
        "NOT" => Op::Not,
        "IN" => Op::In,
        "NOT_IN" => Op::NotIn,
        "LT" => Op::Lt,
        "LTE" => Op::Lte,
        "GT" => Op::Gt,
        "GTE" => Op::Gte,
        "CONTAINS" => Op::Contains,
        "NOT_CONTAINS" => Op::NotContains,
        "STARTS_WITH" => Op::StartsWith,
        "NOT_STARTS_WITH" => Op::NotStartsWith,
        "ENDS_WITH" => Op::EndsWith,
        "NOT_ENDS_WITH" => Op::NotEndsWith,
        "MATCHES" => Op::Matches,
        "INCLUDES" => Op::Includes,
        "NOT_INCLUDES" => Op::NotIncludes,
        _ => return None,
    })
}

impl Ctx<'_> {
    fn constant(&self, value: &Node<ast::Value>) -> Result<Const, QueryError> {
        Ok(match value.as_ref() {
            ast::Value::Null => Const::Null,
            ast::Value::Boolean(b) => Const::Bool(*b),
            ast::Value::Int(i) => Const::Int(
                i.as_str()
                    .parse::<i64>()
                    .map_err(|e| self.error_at(value, format!("integer {}: {e}", i.as_str())))?,
            ),
            ast::Value::String(s) => Const::Str(s.clone()),
            ast::Value::Enum(e) => Const::Str(e.as_str().to_owned()),
            ast::Value::Variable(v) => self.vars.get(v.as_str()).cloned().unwrap_or(Const::Null),
            ast::Value::List(items) => Const::List(items.iter().map(|i| self.constant(i)).collect::<Result<_, _>>()?),
            ast::Value::Float(_) => return Err(self.error_at(value, "floating-point values are not supported")),
            ast::Value::Object(_) => return Err(self.error_at(value, "an object is not a constant here")),
        })
    }

    fn filter(&self, kind: Kind, value: &Node<ast::Value>) -> Result<Filter, QueryError> {
        match value.as_ref() {
            ast::Value::Null => Ok(Filter::True),
            ast::Value::Object(entries) => {
                let mut parts = entries
                    .iter()
                    .map(|(k, v)| self.entry(kind, k.as_str(), v))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(match parts.len() {
                    0 => Filter::True,
                    1 => parts.remove(0),
                    _ => Filter::And(parts),
                })
            }
            _ => Err(self.error_at(value, "a where filter must be an object literal")),
        }
    }

    fn filter_list(&self, kind: Kind, value: &Node<ast::Value>) -> Result<Vec<Filter>, QueryError> {
        match value.as_ref() {
            ast::Value::List(items) => items.iter().map(|i| self.filter(kind, i)).collect(),
            ast::Value::Object(_) => Ok(vec![self.filter(kind, value)?]),
            _ => Err(self.error_at(value, "AND and OR take a list of filter objects")),
        }
    }

    fn entry(&self, kind: Kind, key: &str, value: &Node<ast::Value>) -> Result<Filter, QueryError> {
        match key {
            "AND" => return Ok(Filter::And(self.filter_list(kind, value)?)),
            "OR" => return Ok(Filter::Or(self.filter_list(kind, value)?)),
            "NOT" if matches!(value.as_ref(), ast::Value::Null) => {
                return Err(self.error_at(value, "NOT takes a filter object, not null"))
            }
            "NOT" => return Ok(Filter::Not(Box::new(self.filter(kind, value)?))),
            _ => {}
        }
        let (base, suffix) = key.split_once('_').unwrap_or((key, ""));
        if let Some((field, ty)) = field_ref(kind, base) {
            let op = op_of(suffix).ok_or_else(|| self.error_at(value, format!("unknown operator in {key}")))?;
            let constant = self.constant(value)?;
            let needs_value = !matches!(op, Op::Eq | Op::Not | Op::In | Op::NotIn);
            if needs_value && constant == Const::Null {
                return Err(self.error_at(
                    value,
                    format!("{key}: compared with null it matches nothing; give a value"),
                ));
            }
            let regex = if op == Op::Matches {
                match &constant {
                    Const::Str(pattern) => Some(
                        Regex::new(pattern)
                            .map_err(|e| self.error_at(value, format!("{key}: invalid regular expression: {e}")))?,
                    ),
                    _ => None,
                }
            } else {
                None
            };
            if ty == ScalarType::StringList && !matches!(op, Op::Includes | Op::NotIncludes) {
                return Err(self.error_at(value, format!("{key}: list fields take _INCLUDES or _NOT_INCLUDES")));
            }
            return Ok(Filter::Field {
                field,
                op,
                value: constant,
                regex,
            });
        }
        let def = kind.def();
        let edge = def
            .edge(base)
            .ok_or_else(|| self.error_at(value, format!("{key} is not a field of {}", def.type_name)))?;
        let target = def.edges[edge.0].target;
        let is_null = matches!(value.as_ref(), ast::Value::Null);
        let quantifier = match suffix {
            "" if is_null => return Ok(Filter::EdgeEmpty { edge, empty: true }),
            "NOT" if is_null => return Ok(Filter::EdgeEmpty { edge, empty: false }),
            "" | "SOME" => Quantifier::Some,
            "NOT" | "NONE" => Quantifier::None,
            "ALL" => Quantifier::All,
            "SINGLE" => Quantifier::Single,
            _ => return Err(self.error_at(value, format!("unknown operator in {key}"))),
        };
        if is_null {
            return Err(self.error_at(
                value,
                format!("{key} takes a filter object; use {base}: null for \"no related asset\""),
            ));
        }
        Ok(Filter::Edge {
            edge,
            quantifier,
            filter: Box::new(self.filter(target, value)?),
        })
    }

    fn selection(&self, kind: Kind, set: &executable::SelectionSet) -> Result<Vec<Selection>, QueryError> {
        let mut out = vec![];
        for sel in &set.selections {
            match sel {
                executable::Selection::Field(f) => {
                    let key = f.response_key().as_str().to_owned();
                    let name = f.name.as_str();
                    if name == "__typename" {
                        out.push(Selection::TypeName { key });
                    } else if let Some((field, _)) = field_ref(kind, name) {
                        out.push(Selection::Field { key, field });
                    } else if let Some(edge) = kind.def().edge(name) {
                        let e = &kind.def().edges[edge.0];
                        let filter = match f.arguments.iter().find(|a| a.name == "where") {
                            Some(arg) => Some(self.filter(e.target, &arg.value)?),
                            None => None,
                        };
                        let selection = self.selection(e.target, &f.selection_set)?;
                        out.push(Selection::Edge {
                            key,
                            edge,
                            many: e.many,
                            filter,
                            selection,
                        });
                    } else {
                        return Err(self.error_at(f, format!("{name} is not a field of {}", kind.def().type_name)));
                    }
                }
                executable::Selection::FragmentSpread(s) => {
                    if let Some(frag) = self.doc.fragments.get(&s.fragment_name) {
                        out.extend(self.selection(kind, &frag.selection_set)?);
                    }
                }
                executable::Selection::InlineFragment(i) => out.extend(self.selection(kind, &i.selection_set)?),
            }
        }
        Ok(out)
    }
}

/// Convert a parameter given as JSON (or as a string from the command line) to the variable's type.
fn from_json(json: &serde_json::Value, ty: &ast::Type) -> Result<Const, String> {
    use serde_json::Value as J;
    let named = ty.inner_named_type().as_str();
    if ty.is_list() {
        return match json {
            J::Array(items) => Ok(Const::List(
                items
                    .iter()
                    .map(|i| scalar_from_json(i, named))
                    .collect::<Result<Vec<_>, _>>()?,
            )),
            J::String(s) => Ok(Const::List(
                s.split(',')
                    .map(|p| scalar_from_json(&J::String(p.trim().to_owned()), named))
                    .collect::<Result<_, _>>()?,
            )),
            J::Null => Ok(Const::Null),
            other => Err(format!("expected a list of {named}, got {other}")),
        };
    }
    scalar_from_json(json, named)
}

fn scalar_from_json(json: &serde_json::Value, named: &str) -> Result<Const, String> {
    use serde_json::Value as J;
    match (named, json) {
        (_, J::Null) => Ok(Const::Null),
        ("Int", J::Number(n)) => n
            .as_i64()
            .map(Const::Int)
            .ok_or_else(|| format!("expected an integer, got {n}")),
        ("Int", J::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Const::Int)
            .map_err(|_| format!("expected an integer, got {s:?}")),
        ("Boolean", J::Bool(b)) => Ok(Const::Bool(*b)),
        ("Boolean", J::String(s)) => match s.trim() {
            "true" => Ok(Const::Bool(true)),
            "false" => Ok(Const::Bool(false)),
            _ => Err(format!("expected true or false, got {s:?}")),
        },
        ("String" | "ID", J::String(s)) => Ok(Const::Str(s.clone())),
        (_, other) => Err(format!("expected {named}, got {other}")),
    }
}
