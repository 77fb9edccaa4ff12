//! Control files: their format, loading and validation.

pub use crate::parameters::ParamType;
use crate::remedy::{Remedy, RemedyKind};
use crate::shape;
use netaudit_model::Kind;
use netaudit_query::{compile, compile_filter, QueryError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/builtin.rs"));

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Maps to a benchmark or standard control.
    Control,
    /// netaudit's advice beyond any standard.
    Advisory,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Control => "control",
            Category::Advisory => "advisory",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfigRule {
    pub rule: String,
    #[serde(default)]
    pub parameters: BTreeMap<String, toml::Value>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub framework: String,
    pub requirement: String,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Remediation {
    pub console: String,
    pub cli: String,
    pub terraform: String,
    pub cloudformation: String,
    /// The fix `netaudit fix plan` makes for a FAIL. Its asset kind must be the one the query lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic: Option<RemedyKind>,
    /// Why a FAIL is left to a person (shown under "not planned"); exclusive with `automatic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ParamDoc {
    pub description: String,
    /// What values it takes; a parameter without a type is checked only by the query's variable type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub value_type: Option<ParamType>,
    /// The smallest value an integer parameter takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<i64>,
    /// The largest value an integer parameter takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<i64>,
    /// The only values the parameter takes (each item's, for a list), when it is an enumeration.
    pub allowed: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    #[serde(rename = "where")]
    pub where_: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    pub text: String,
    pub expect: String,
    #[serde(default)]
    pub not_applicable: Vec<FilterSpec>,
    /// For a FAIL, the first of these whose filter holds says what is wrong, in place of
    /// `fail_message` (which stays the reason when none does).
    #[serde(default)]
    pub fail_reason: Vec<FilterSpec>,
    pub scope: Option<FilterSpec>,
}

/// A control file, as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ControlFile {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub category: Category,
    pub summary: String,
    pub fail_message: String,
    pub description: String,
    pub rationale: String,
    pub aws_config: Option<AwsConfigRule>,
    #[serde(default)]
    pub frameworks: Vec<Framework>,
    pub remediation: Remediation,
    pub references: Vec<String>,
    #[serde(default)]
    pub parameters: BTreeMap<String, ParamDoc>,
    pub query: QuerySpec,
    /// Whether the control can be decided on infrastructure as code, before deploy.
    #[serde(default)]
    pub iac: Option<IacSpec>,
}

/// `[iac]`: a control that needs runtime state (tunnel status, delivery status) says it does not
/// apply before deploy, and why; IaC scans leave it out and say so.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IacSpec {
    pub applies: bool,
    #[serde(default)]
    pub reason: String,
}

/// Where the query and filters sit in a control file, for error positions.
#[derive(Deserialize)]
struct LocateFile {
    query: LocateQuery,
}

#[derive(Deserialize)]
struct LocateQuery {
    text: toml::Spanned<String>,
    #[serde(default)]
    not_applicable: Vec<LocateFilter>,
    #[serde(default)]
    fail_reason: Vec<LocateFilter>,
    scope: Option<LocateFilter>,
}

#[derive(Deserialize)]
struct LocateFilter {
    #[serde(rename = "where")]
    where_: toml::Spanned<String>,
}

/// A validated control.
#[derive(Debug, Clone)]
pub struct Control {
    pub file: ControlFile,
    /// Where it was loaded from (`builtin:<ID>` for the embedded catalogue).
    pub origin: String,
    /// The asset kind its query lists.
    pub kind: Kind,
    /// Declared parameters with their defaults, in declaration order.
    pub defaults: Vec<(String, String)>,
}

impl Control {
    /// `Err(reason)` when the control needs deployed state; a control that does not say applies.
    pub fn before_deploy(&self) -> Result<(), &str> {
        match &self.file.iac {
            Some(spec) if !spec.applies => Err(spec.reason.as_str()),
            _ => Ok(()),
        }
    }

    /// What `netaudit fix` does about this control's FAIL on `node`, with the facts it needs from the
    /// graph; None when the control declares nothing.
    pub fn remedy(&self, graph: &netaudit_model::Graph, node: netaudit_model::NodeId) -> Option<Remedy> {
        let remediation = &self.file.remediation;
        match (remediation.automatic, &remediation.manual) {
            (Some(kind), _) => Some(kind.facts(graph, node)),
            (None, Some(why)) => Some(Remedy::Manual { why: why.clone() }),
            (None, None) => None,
        }
    }

    pub fn id(&self) -> &str {
        &self.file.id
    }

    /// Check parameter values before a run: known names, no nulls, the declared type, range or
    /// allowed values, and a query that compiles with them.
    pub fn check_params(&self, params: &BTreeMap<String, serde_json::Value>) -> Result<(), String> {
        for (name, value) in params {
            let Some(doc) = self.file.parameters.get(name) else {
                let names: Vec<&str> = self.defaults.iter().map(|(n, _)| n.as_str()).collect();
                return Err(format!(
                    "{} has no parameter {name:?} (it has: {})",
                    self.id(),
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ));
            };
            if value.is_null() {
                return Err(format!(
                    "{}.{name} needs a value; leave it out to use the default",
                    self.id()
                ));
            }
            doc.check_value(value)
                .map_err(|expected| format!("{}.{name} must be {expected}, not {value}", self.id()))?;
        }
        compile(&self.file.query.text, params)
            .map(|_| ())
            .map_err(|e| format!("{}: {}", self.id(), e.message))
    }
}

/// A problem with a control file, naming the file and, where known, the line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueError {
    pub path: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for CatalogueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.path, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.path, self.message),
            _ => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

impl std::error::Error for CatalogueError {}

/// An ordered set of controls with unique ids.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    controls: Vec<Control>,
}

impl Catalogue {
    pub fn controls(&self) -> &[Control] {
        &self.controls
    }

    /// Look a control up by id, ignoring case.
    pub fn get(&self, id: &str) -> Option<&Control> {
        self.controls.iter().find(|c| c.id().eq_ignore_ascii_case(id))
    }

    /// Add controls; a duplicate id is an error naming both origins.
    pub fn extend(&mut self, controls: Vec<Control>) -> Vec<CatalogueError> {
        let mut errors = vec![];
        for c in controls {
            if let Some(existing) = self.get(c.id()) {
                errors.push(CatalogueError {
                    path: c.origin.clone(),
                    line: None,
                    column: None,
                    message: format!(
                        "duplicate control id {} (already defined by {})",
                        c.id(),
                        existing.origin
                    ),
                });
            } else {
                self.controls.push(c);
            }
        }
        errors
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Parse and validate one control file. Every missing and unknown key is reported at once, with
/// any wrong value met while reading; past those, the first problem found.
pub fn parse_control(path: &str, text: &str) -> Result<Control, Vec<CatalogueError>> {
    let problems = shape::check(text).unwrap_or_default();
    if problems.is_empty() {
        return parse_shaped(path, text).map_err(|e| vec![e]);
    }
    let mut errors: Vec<CatalogueError> = problems
        .into_iter()
        .map(|p| {
            let (line, column) = line_col(text, p.offset);
            CatalogueError {
                path: path.to_owned(),
                line: Some(line),
                column: p.at_key.then_some(column),
                message: p.message,
            }
        })
        .collect();
    // Missing and unknown keys are listed above; a wrong value (a bad severity) is not.
    if let Err(e) = toml::from_str::<ControlFile>(text) {
        let message = toml_message(&e);
        if !message.starts_with("missing field") && !message.starts_with("unknown field") {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unzip();
            errors.push(CatalogueError {
                path: path.to_owned(),
                line: line.or(Some(1)),
                column,
                message,
            });
            errors.sort_by_key(|e| e.line);
        }
    }
    Err(errors)
}

/// Parse and validate a control file whose keys are all known and present.
fn parse_shaped(path: &str, text: &str) -> Result<Control, CatalogueError> {
    let err = |line: Option<usize>, column: Option<usize>, message: String| CatalogueError {
        path: path.to_owned(),
        line,
        column,
        message,
    };
    let file: ControlFile = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unzip();
        err(line.or(Some(1)), column, toml_message(&e))
    })?;

    // Positions inside the query and filters map back onto the file.
    let spans: Option<LocateFile> = toml::from_str(text).ok();
    let locate = |span: Option<std::ops::Range<usize>>, e: QueryError, what: &str| {
        let Some(span) = span else {
            return err(None, None, format!("{what}: {e}"));
        };
        let (line, column) = line_col(text, span.start);
        let raw = &text[span.start..];
        // Multi-line strings start their content on the next line; others right after the quote.
        let (first_line, first_column) = if raw.starts_with("'''\n") || raw.starts_with("\"\"\"\n") {
            (line + 1, 1)
        } else if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
            (line, column + 3)
        } else {
            (line, column + 1)
        };
        let file_line = e.line.map(|l| first_line + l - 1);
        let file_column = match e.line {
            Some(1) => e.column.map(|c| first_column + c - 1),
            _ => e.column,
        };
        err(file_line.or(Some(line)), file_column, format!("{what}: {}", e.message))
    };
    let query_span = spans.as_ref().map(|s| s.query.text.span());
    let in_query = |e: QueryError, what: &str| locate(query_span.clone(), e, what);
    let query_line = query_span.as_ref().map(|s| line_col(text, s.start).0);

    if !file
        .id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
        || file.id.is_empty()
    {
        return Err(err(
            Some(line_mentioning(text, &["id"])),
            None,
            format!(
                "control id {:?} may hold only letters, digits, '.', '-' and '_'",
                file.id
            ),
        ));
    }
    if file.query.expect.split_whitespace().collect::<String>() != "eq[]" {
        return Err(err(
            query_line,
            None,
            format!("expect {:?}: the only expectation is \"eq []\"", file.query.expect),
        ));
    }
    let query = compile(&file.query.text, &BTreeMap::new()).map_err(|e| in_query(e, "query"))?;
    let [root] = query.roots.as_slice() else {
        return Err(err(
            query_line,
            None,
            format!(
                "query: a control lists exactly one kind of asset, not {}",
                query.roots.len()
            ),
        ));
    };
    let filter_lists = [
        (
            "not_applicable",
            &file.query.not_applicable,
            spans.as_ref().map(|s| &s.query.not_applicable),
        ),
        (
            "fail_reason",
            &file.query.fail_reason,
            spans.as_ref().map(|s| &s.query.fail_reason),
        ),
    ];
    for (key, filters, located) in filter_lists {
        for (i, filter) in filters.iter().enumerate() {
            let span = located.and_then(|l| l.get(i)).map(|f| f.where_.span());
            compile_filter(root.kind, &filter.where_).map_err(|e| locate(span.clone(), e, key))?;
            if filter.reason.as_deref().is_none_or(str::is_empty) {
                return Err(err(
                    Some(span.map_or_else(|| line_mentioning(text, &[key]), |s| line_col(text, s.start).0)),
                    None,
                    format!("{key} {:?} needs a reason", filter.where_),
                ));
            }
        }
    }
    if let Some(scope) = &file.query.scope {
        let span = spans
            .as_ref()
            .and_then(|s| s.query.scope.as_ref())
            .map(|f| f.where_.span());
        compile_filter(root.kind, &scope.where_).map_err(|e| locate(span, e, "scope"))?;
    }
    let declared: Vec<&str> = query.variables.iter().map(|v| v.name.as_str()).collect();
    for name in file.parameters.keys() {
        if !declared.contains(&name.as_str()) {
            return Err(err(
                Some(line_mentioning(text, &[&format!("parameters.{name}"), name.as_str()])),
                None,
                format!("parameter {name} is documented but the query does not declare it"),
            ));
        }
    }
    for name in &declared {
        if !file.parameters.contains_key(*name) {
            return Err(err(
                Some(query_line.unwrap_or_else(|| line_mentioning(text, &[&format!("${name}")]))),
                None,
                format!("query variable ${name} needs a [parameters.{name}] description"),
            ));
        }
    }
    for placeholder in placeholders(&file.fail_message) {
        if !declared.contains(&placeholder) {
            return Err(err(
                Some(line_mentioning(text, &["fail_message"])),
                None,
                format!("fail_message names {{{placeholder}}}, which is not a parameter"),
            ));
        }
    }
    for variable in &query.variables {
        let Some(doc) = file.parameters.get(&variable.name) else {
            continue;
        };
        if let Some(problem) = doc.check_declaration(&variable.ty, variable.default.as_ref()).first() {
            let name = &variable.name;
            return Err(err(
                Some(line_mentioning(
                    text,
                    &[&format!("[parameters.{name}]"), &format!("parameters.{name}")],
                )),
                None,
                format!("[parameters.{name}] {problem}"),
            ));
        }
    }
    check_remedy(&file.remediation, root.kind, text).map_err(|(line, message)| err(Some(line), None, message))?;
    let defaults = query
        .variables
        .iter()
        .map(|v| {
            (
                v.name.clone(),
                v.default
                    .as_ref()
                    .map_or_else(|| "null".to_owned(), ToString::to_string),
            )
        })
        .collect();
    Ok(Control {
        kind: root.kind,
        file,
        origin: path.to_owned(),
        defaults,
    })
}

/// A declared remedy must change the kind of asset the query lists: otherwise a FAIL could never be
/// fixed by it, and the plan would quietly list it as not planned.
fn check_remedy(remediation: &Remediation, listed: Kind, text: &str) -> Result<(), (usize, String)> {
    match (&remediation.automatic, &remediation.manual) {
        (Some(_), Some(_)) => Err((
            line_mentioning(text, &["manual", "automatic"]),
            "[remediation] declares both `automatic` and `manual`: choose one".to_owned(),
        )),
        (None, Some(why)) if why.trim().is_empty() => Err((
            line_mentioning(text, &["manual"]),
            "[remediation] manual needs the reason no automatic fix is planned".to_owned(),
        )),
        (Some(remedy), None) if remedy.resource_kind() != listed => Err((
            line_mentioning(text, &["automatic"]),
            format!(
                "[remediation] automatic = \"{remedy}\" changes {} assets, but the query lists {}",
                remedy.resource_kind().def().root_field,
                listed.def().root_field
            ),
        )),
        _ => Ok(()),
    }
}

/// The 1-based line of the first key among `keys` set on a line of its own (`key = …`), else of the
/// first line that mentions one of them, else line 1: every rejection points somewhere.
fn line_mentioning(text: &str, keys: &[&str]) -> usize {
    let assigns = |line: &str, key: &str| {
        line.trim_start()
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    };
    keys.iter()
        .find_map(|key| text.lines().position(|l| assigns(l, key)))
        .or_else(|| keys.iter().find_map(|key| text.lines().position(|l| l.contains(key))))
        .map_or(1, |i| i + 1)
}

/// A TOML error's message; the parser leaves some empty.
pub(crate) fn toml_message(e: &toml::de::Error) -> String {
    let message = e.message().trim();
    if message.is_empty() {
        "not valid TOML here".to_owned()
    } else {
        message.to_owned()
    }
}

pub(crate) fn placeholders(template: &str) -> Vec<&str> {
    let mut out = vec![];
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                out.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// The embedded catalogue. Each control's id must match its directory name.
pub fn builtin() -> (Catalogue, Vec<CatalogueError>) {
    let mut catalogue = Catalogue::default();
    let mut errors = vec![];
    let mut controls = vec![];
    for (dir, _path, text) in BUILTIN {
        let origin = format!("builtin:{dir}/control.toml");
        match parse_control(&origin, text) {
            Ok(c) if c.id() != *dir => errors.push(CatalogueError {
                path: origin,
                line: None,
                column: None,
                message: format!("id {} does not match its directory {dir}", c.id()),
            }),
            Ok(c) => controls.push(c),
            Err(file_errors) => errors.extend(file_errors),
        }
    }
    errors.extend(catalogue.extend(controls));
    (catalogue, errors)
}

/// Load a directory of user controls: `*.toml` files and `<ID>/control.toml` folders. Each bad
/// file is an error of its own; the good ones still load. A folder without a readable
/// `control.toml`, or whose control's id is not the folder's name, is an error: a control never
/// goes missing in silence.
pub fn load_dir(dir: &Path) -> Result<(Vec<Control>, Vec<CatalogueError>), CatalogueError> {
    let problem = |path: &Path, message: String| CatalogueError {
        path: path.display().to_string(),
        line: None,
        column: None,
        message,
    };
    let read = std::fs::read_dir(dir).map_err(|e| problem(dir, format!("cannot read the checks directory: {e}")))?;
    let (mut controls, mut errors) = (vec![], vec![]);
    // (file, the folder name its id must equal)
    let mut paths: Vec<(PathBuf, Option<String>)> = vec![];
    for entry in read {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                errors.push(problem(
                    dir,
                    format!("cannot list an entry of the checks directory: {e}"),
                ));
                continue;
            }
        };
        let p = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            let file = p.join("control.toml");
            if file.exists() {
                paths.push((file, Some(name)));
            } else {
                let mut found: Vec<String> = std::fs::read_dir(&p)
                    .map(|r| {
                        r.flatten()
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                found.sort();
                errors.push(problem(
                    &p,
                    format!(
                        "a control folder holds its control in control.toml, which is missing (the folder has: {})",
                        if found.is_empty() {
                            "nothing".to_owned()
                        } else {
                            found.join(", ")
                        }
                    ),
                ));
            }
        } else if p.extension().is_some_and(|e| e == "toml") {
            paths.push((p, None));
        }
    }
    paths.sort();
    for (p, folder) in paths {
        let path = p.display().to_string();
        match std::fs::read_to_string(&p) {
            Ok(text) => match parse_control(&path, &text) {
                Ok(c) => match folder {
                    Some(folder) if c.id() != folder => errors.push(problem(
                        &p,
                        format!("control id {} does not match its folder {folder}", c.id()),
                    )),
                    _ => controls.push(c),
                },
                Err(file_errors) => errors.extend(file_errors),
            },
            Err(e) => errors.push(problem(&p, format!("cannot read the control: {e}"))),
        }
    }
    Ok((controls, errors))
}
