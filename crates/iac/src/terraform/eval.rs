//! Lazy evaluation of a root module and the local modules it calls.
//!
//! Every value (a local, a variable, an output, a resource instance's attributes, the instances a
//! `count` or `for_each` makes) is computed when first asked for and remembered, so each is computed
//! once and a value that needs itself is reported as a cycle instead of looping. Errors travel as
//! `Err` until something that must have a value (a resource attribute, a `count`) records them and
//! uses an unknown; `try()` and `can()` catch them before that.

mod expr;

use super::config::{self, Declared, Mode, ModuleConfig, SourceFile};
use super::functions;
use super::{ResourceMode, TfExistence, TfResource};
use crate::{IacError, Reference, Value};
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::Span;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// How deep module calls may nest before the call is refused.
pub(super) const MAX_MODULE_DEPTH: usize = 64;

/// The most instances one `count` is expanded into (Terraform has no limit; a plan this large is
/// a mistake, and expanding it would not stay bounded in time or memory).
const MAX_INSTANCES: usize = 100_000;

/// Marks a resource instance's object so that an attribute it does not set reads as a reference.
const INSTANCE_ADDRESS: &str = "\u{0}address";

/// Attributes every instance has once applied, whether or not the configuration sets them.
const APPLY_TIME_ATTRIBUTES: &[&str] = &["id", "arn"];

type Res = Result<Value, IacError>;

pub(super) fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// A short rendering of a value for messages.
pub(super) fn show_value(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(*n),
        Value::Str(s) => format!("{s:?}"),
        Value::List(items) => format!("a list of {}", items.len()),
        Value::Map(m) => format!("an object with {} attributes", m.len()),
        Value::Ref(r) => format!("{}.{}", r.target, r.attribute.as_deref().unwrap_or("id")),
        Value::Unknown { why, .. } => format!("an unknown value ({why})"),
    }
}

/// An unknown built from `parts`: it keeps the first part's reason, if one is unknown, and every
/// resource the parts point at.
fn unknown_of(why: impl Into<String>, parts: &[&Value]) -> Value {
    let mut refs: Vec<Reference> = vec![];
    let mut reason = None;
    for p in parts {
        if let (None, Value::Unknown { why, .. }) = (&reason, p) {
            reason = Some(why.clone());
        }
        for r in p.references() {
            if !refs.contains(r) {
                refs.push(r.clone());
            }
        }
    }
    Value::Unknown {
        why: reason.unwrap_or_else(|| why.into()),
        refs,
    }
}

fn is_pending(v: &Value) -> bool {
    matches!(v, Value::Ref(_) | Value::Unknown { .. })
}

/// Remove the internal instance markers before values leave the evaluator.
pub(super) fn strip_markers(v: &mut Value) {
    match v {
        Value::Map(m) => {
            m.remove(INSTANCE_ADDRESS);
            m.values_mut().for_each(strip_markers);
        }
        Value::List(items) => items.iter_mut().for_each(strip_markers),
        _ => {}
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Key {
    None,
    Index(usize),
    Name(String),
}

impl Key {
    fn suffix(&self) -> String {
        match self {
            Key::None => String::new(),
            Key::Index(i) => format!("[{i}]"),
            Key::Name(k) => format!("[{}]", serde_json::Value::String(k.clone())),
        }
    }
}

/// `count.index`, or `each.key` and `each.value`, of one instance.
#[derive(Debug, Clone, Default)]
struct Repetition {
    count_index: Option<Value>,
    each: Option<(Value, Value)>,
}

#[derive(Debug)]
struct Expansion {
    keyed: Keyed,
    instances: Vec<(Key, Repetition)>,
    existence: TfExistence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyed {
    Single,
    Count,
    ForEach,
    /// `count` or `for_each` not known before apply: one instance stands for all.
    NotKnown,
}

#[derive(Debug)]
enum Children {
    NotOnDisk { why: String },
    Instances { keyed: Keyed, instances: Vec<(Key, usize)> },
}

/// A value given to a root module variable from outside.
#[derive(Debug, Clone)]
pub(super) enum Given {
    Value(Value),
    /// `--var NAME=VALUE`: read according to the variable's type.
    Text(String),
}

#[derive(Debug)]
struct ModuleInst {
    config: Rc<ModuleConfig>,
    prefix: String,
    parent: Option<CallSite>,
    given: BTreeMap<String, Given>,
    /// The call names from the root, as `terraform init` keys installed modules (`vpc.flow_logs`).
    module_path: String,
    /// Canonical folders from the root down to this module, to find cycles.
    ancestry: Vec<PathBuf>,
    /// Why this module's resources may not exist (an unknown `count` on a call above).
    doubt: Option<String>,
}

#[derive(Debug)]
struct CallSite {
    inst: usize,
    call: String,
    repetition: Repetition,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Item {
    Local(String),
    Var(String),
    Output(String),
    Resource(usize),
    Attributes(usize, Key),
    /// Every instance of a counted or `for_each` resource, as a list or map.
    AllInstances(usize),
    Call(String),
}

/// `None` while being computed.
type Slot<T> = Option<Result<T, IacError>>;

/// Remembered results; a slot that is `None` is being computed (asking for it again is a cycle).
#[derive(Debug)]
struct Memo<T> {
    slots: RefCell<HashMap<(usize, Item), Slot<T>>>,
}

impl<T: Clone> Memo<T> {
    fn new() -> Memo<T> {
        Memo {
            slots: RefCell::new(HashMap::new()),
        }
    }

    fn get(
        &self,
        key: (usize, Item),
        cycle: impl FnOnce() -> IacError,
        compute: impl FnOnce() -> Result<T, IacError>,
    ) -> Result<T, IacError> {
        if let Some(slot) = self.slots.borrow().get(&key) {
            return match slot {
                Some(done) => done.clone(),
                None => Err(cycle()),
            };
        }
        self.slots.borrow_mut().insert(key.clone(), None);
        let result = compute();
        self.slots.borrow_mut().insert(key, Some(result.clone()));
        result
    }
}

#[derive(Debug, Clone)]
struct Scope {
    inst: usize,
    file: Rc<SourceFile>,
    repetition: Rc<Repetition>,
    /// `for` expression variables and `dynamic` block iterators, innermost last.
    names: Vec<(String, Value)>,
    /// Only literal values and functions (variable defaults, variable files).
    constant: bool,
}

impl Scope {
    fn with_name(&self, name: &str, value: Value) -> Scope {
        let mut s = self.clone();
        s.names.push((name.to_owned(), value));
        s
    }
}

#[derive(Debug)]
pub(super) struct Engine {
    base: PathBuf,
    /// Modules `terraform init` installed, by module path (`vpc`, `vpc.flow_logs`).
    installed: HashMap<String, PathBuf>,
    configs: RefCell<HashMap<PathBuf, Rc<ModuleConfig>>>,
    insts: RefCell<Vec<Rc<ModuleInst>>>,
    values: Memo<Rc<Value>>,
    expansions: Memo<Rc<Expansion>>,
    children: Memo<Rc<Children>>,
    errors: RefCell<Vec<IacError>>,
    /// Each error once, however many values depend on it.
    reported: RefCell<HashSet<String>>,
}

impl Engine {
    pub fn new(base: &Path) -> Engine {
        Engine {
            base: base.to_owned(),
            installed: installed_modules(base),
            configs: RefCell::new(HashMap::new()),
            insts: RefCell::new(vec![]),
            values: Memo::new(),
            expansions: Memo::new(),
            children: Memo::new(),
            errors: RefCell::new(vec![]),
            reported: RefCell::new(HashSet::new()),
        }
    }

    pub fn record(&self, e: IacError) {
        if self.reported.borrow_mut().insert(e.to_string()) {
            self.errors.borrow_mut().push(e);
        }
    }

    pub fn into_errors(self) -> Vec<IacError> {
        self.errors.into_inner()
    }

    fn config(&self, dir: &Path) -> Rc<ModuleConfig> {
        if let Some(c) = self.configs.borrow().get(dir) {
            return c.clone();
        }
        let mut errors = vec![];
        let config = Rc::new(config::load_module(dir, &self.base, &mut errors));
        errors.into_iter().for_each(|e| self.record(e));
        self.configs.borrow_mut().insert(dir.to_owned(), config.clone());
        config
    }

    fn inst(&self, id: usize) -> Rc<ModuleInst> {
        self.insts.borrow()[id].clone()
    }

    fn add_inst(&self, inst: ModuleInst) -> usize {
        let mut insts = self.insts.borrow_mut();
        insts.push(Rc::new(inst));
        insts.len() - 1
    }

    /// The root module; its resources and those of the modules it calls, in declaration order.
    pub fn evaluate_root(&self, dir: &Path, given: BTreeMap<String, Given>) -> Vec<TfResource> {
        let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
        let config = self.config(dir);
        let root = self.add_inst(ModuleInst {
            config,
            prefix: String::new(),
            parent: None,
            given,
            module_path: String::new(),
            ancestry: vec![canonical],
            doubt: None,
        });
        let mut out = vec![];
        self.collect(root, &mut out);
        out
    }

    fn collect(&self, inst_id: usize, out: &mut Vec<TfResource>) {
        let inst = self.inst(inst_id);
        for (idx, decl) in inst.config.resources.iter().enumerate() {
            let base = self.resource_address(&inst, &decl.item, &Key::None);
            let location = decl.file.location(decl.item.block.span());
            let mode = match decl.item.mode {
                Mode::Managed => ResourceMode::Managed,
                Mode::Data => ResourceMode::Data,
            };
            let record = |address: String, existence: TfExistence, attributes: Value| TfResource {
                address,
                resource_type: decl.item.resource_type.clone(),
                mode,
                file: decl.file.path.clone(),
                location,
                existence,
                attributes,
            };
            let expansion = match self.expansion(inst_id, idx) {
                Ok(e) => e,
                Err(e) => {
                    let why = e.message.clone();
                    self.record(e);
                    out.push(record(base, TfExistence::Unknown { why }, Value::Map(BTreeMap::new())));
                    continue;
                }
            };
            if expansion.instances.is_empty() {
                out.push(record(base, expansion.existence.clone(), Value::Map(BTreeMap::new())));
            }
            for (key, _) in &expansion.instances {
                let mut attributes = match self.attributes(inst_id, idx, key) {
                    Ok(a) => (*a).clone(),
                    Err(e) => {
                        let why = e.message.clone();
                        self.record(e);
                        Value::unknown(why)
                    }
                };
                strip_markers(&mut attributes);
                let address = self.resource_address(&inst, &decl.item, key);
                out.push(record(address, expansion.existence.clone(), attributes));
            }
        }
        for call in inst.config.module_calls.keys() {
            let children = match self.module_children(inst_id, call) {
                Ok(c) => c,
                Err(e) => {
                    self.record(e);
                    continue;
                }
            };
            if let Children::Instances { instances, .. } = &*children {
                for (_, child) in instances {
                    self.collect(*child, out);
                }
            }
        }
    }

    fn resource_address(&self, inst: &ModuleInst, decl: &config::ResourceDecl, key: &Key) -> String {
        let data = if decl.mode == Mode::Data { "data." } else { "" };
        format!(
            "{}{data}{}.{}{}",
            inst.prefix,
            decl.resource_type,
            decl.name,
            key.suffix()
        )
    }

    fn scope(&self, inst: usize, file: &Rc<SourceFile>) -> Scope {
        Scope {
            inst,
            file: file.clone(),
            repetition: Rc::new(Repetition::default()),
            names: vec![],
            constant: false,
        }
    }

    fn constant_scope(file: &Rc<SourceFile>) -> Scope {
        Scope {
            inst: usize::MAX,
            file: file.clone(),
            repetition: Rc::new(Repetition::default()),
            names: vec![],
            constant: true,
        }
    }

    /// Evaluate where a value is required: an error is recorded and the value is unknown.
    fn settle(&self, scope: &Scope, expr: &Expression) -> Value {
        match self.eval(scope, expr) {
            Ok(v) => v,
            Err(e) => {
                let why = format!("{} ({}:{})", e.message, e.path, e.line.unwrap_or(0));
                self.record(e);
                Value::unknown(why)
            }
        }
    }

    pub fn eval_constant(&self, file: &Rc<SourceFile>, expr: &Expression) -> Res {
        self.eval(&Self::constant_scope(file), expr)
    }

    // ----- declarations -----

    fn local(&self, scope: &Scope, name: &str, span: Option<std::ops::Range<usize>>) -> Result<Rc<Value>, IacError> {
        let inst = self.inst(scope.inst);
        let Some(decl) = inst.config.locals.get(name) else {
            return Err(scope.file.error(span, format!("local.{name} is not declared")));
        };
        let what = format!("local.{name}");
        self.declared_value(scope.inst, Item::Local(name.to_owned()), decl, &what, scope, span)
    }

    fn output(
        &self,
        inst_id: usize,
        name: &str,
        at: &Scope,
        span: Option<std::ops::Range<usize>>,
    ) -> Result<Rc<Value>, IacError> {
        let inst = self.inst(inst_id);
        let Some(decl) = inst.config.outputs.get(name) else {
            return Err(at.file.error(
                span,
                format!("{} has no output {name:?}", inst.prefix.trim_end_matches('.')),
            ));
        };
        let what = format!("output {name:?}");
        self.declared_value(inst_id, Item::Output(name.to_owned()), decl, &what, at, span)
    }

    /// A local's or an output's expression, evaluated once in its own module.
    fn declared_value(
        &self,
        inst_id: usize,
        item: Item,
        decl: &Declared<Expression>,
        what: &str,
        at: &Scope,
        span: Option<std::ops::Range<usize>>,
    ) -> Result<Rc<Value>, IacError> {
        self.values.get(
            (inst_id, item),
            || at.file.error(span, format!("{what} depends on itself (a cycle)")),
            || {
                let s = self.scope(inst_id, &decl.file);
                self.eval(&s, &decl.item).map(Rc::new)
            },
        )
    }

    fn variable(&self, scope: &Scope, name: &str, span: Option<std::ops::Range<usize>>) -> Result<Rc<Value>, IacError> {
        let inst = self.inst(scope.inst);
        let Some(decl) = inst.config.variables.get(name) else {
            return Err(scope.file.error(span, format!("var.{name} is not declared")));
        };
        self.values.get(
            (scope.inst, Item::Var(name.to_owned())),
            || {
                scope
                    .file
                    .error(span.clone(), format!("var.{name} depends on itself (a cycle)"))
            },
            || Ok(Rc::new(self.variable_value(&inst, name, decl))),
        )
    }

    fn variable_value(&self, inst: &ModuleInst, name: &str, decl: &Declared<Block>) -> Value {
        let body = &decl.item.body;
        let type_expr = body.get_attribute("type").map(|a| &a.value);
        let given = match &inst.parent {
            None => match inst.given.get(name) {
                Some(Given::Value(v)) => Some(v.clone()),
                Some(Given::Text(text)) => Some(self.read_cli_value(&decl.file, name, text, type_expr)),
                None => None,
            },
            Some(site) => {
                let parent = self.inst(site.inst);
                parent.config.module_calls.get(&site.call).and_then(|call| {
                    call.item.body.get_attribute(name).map(|attr| {
                        let mut s = self.scope(site.inst, &call.file);
                        s.repetition = Rc::new(site.repetition.clone());
                        self.settle(&s, &attr.value)
                    })
                })
            }
        };
        let nullable = body
            .get_attribute("nullable")
            .and_then(|a| a.value.as_bool())
            .unwrap_or(true);
        let given = given.filter(|v| nullable || *v != Value::Null);
        let value = match (given, body.get_attribute("default")) {
            (Some(v), _) => v,
            (None, Some(default)) => match self.eval_constant(&decl.file, &default.value) {
                Ok(v) => v,
                Err(e) => {
                    let why = e.message.clone();
                    self.record(e);
                    Value::unknown(why)
                }
            },
            (None, None) => Value::unknown(format!(
                "var.{name} has no default ({})",
                decl.file.at(decl.item.span())
            )),
        };
        match type_expr {
            Some(t) => self.convert(&decl.file, value, t),
            None => value,
        }
    }

    /// A `--var` value: a string for string variables, otherwise an HCL expression.
    fn read_cli_value(&self, file: &Rc<SourceFile>, name: &str, text: &str, type_expr: Option<&Expression>) -> Value {
        let is_string = match type_expr {
            None => true,
            Some(Expression::Variable(v)) => matches!(v.as_str(), "string" | "any"),
            Some(_) => false,
        };
        if is_string {
            return Value::Str(text.to_owned());
        }
        match hcl_edit::parser::parse_expr(text) {
            Ok(expr) => match self.eval_constant(file, &expr) {
                Ok(v) => v,
                Err(e) => Value::unknown(format!("--var {name}: {}", e.message)),
            },
            Err(_) if matches!(type_expr, Some(Expression::Variable(_))) => Value::Str(text.to_owned()),
            Err(e) => {
                let message = format!("--var {name}: {}", e.message());
                self.record(IacError::new("--var", None, None, message.clone()));
                Value::unknown(message)
            }
        }
    }

    /// Convert a value to a variable's declared type, filling `optional(T, default)` attributes.
    fn convert(&self, file: &Rc<SourceFile>, value: Value, type_expr: &Expression) -> Value {
        if is_pending(&value) || value == Value::Null {
            return value;
        }
        match type_expr {
            Expression::Variable(v) => match (v.as_str(), value) {
                ("string", Value::Number(n)) => Value::Str(number_text(n)),
                ("string", Value::Bool(b)) => Value::Str(b.to_string()),
                ("number", Value::Str(s)) => s.trim().parse().map_or(Value::Str(s), Value::Number),
                ("bool", Value::Str(s)) if s == "true" || s == "false" => Value::Bool(s == "true"),
                (_, v) => v,
            },
            Expression::FuncCall(call) => {
                let arg = call.args.iter().next();
                match (call.name.name.as_str(), value, arg) {
                    ("list" | "set", Value::List(items), Some(t)) => {
                        let items: Vec<Value> = items.into_iter().map(|v| self.convert(file, v, t)).collect();
                        if call.name.name.as_str() == "set" {
                            functions::set_of(&items)
                        } else {
                            Value::List(items)
                        }
                    }
                    ("map", Value::Map(m), Some(t)) => {
                        Value::Map(m.into_iter().map(|(k, v)| (k, self.convert(file, v, t))).collect())
                    }
                    ("object", Value::Map(mut m), Some(Expression::Object(fields))) => {
                        let mut out = BTreeMap::new();
                        for (key, field) in fields.iter() {
                            let name = match key {
                                ObjectKey::Ident(i) => i.as_str().to_owned(),
                                ObjectKey::Expression(e) => match e.as_str() {
                                    Some(s) => s.to_owned(),
                                    None => continue,
                                },
                            };
                            let (field_type, default) = match field.expr() {
                                Expression::FuncCall(o) if o.name.name.as_str() == "optional" => {
                                    (o.args.iter().next(), o.args.iter().nth(1))
                                }
                                other => (Some(other), None),
                            };
                            let v = match (m.remove(&name), default) {
                                (Some(v), _) if v != Value::Null => v,
                                (_, Some(d)) => self.eval_constant(file, d).unwrap_or(Value::Null),
                                (given, None) => given.unwrap_or(Value::Null),
                            };
                            let v = match field_type {
                                Some(t) => self.convert(file, v, t),
                                None => v,
                            };
                            out.insert(name, v);
                        }
                        Value::Map(out)
                    }
                    (_, v, _) => v,
                }
            }
            _ => value,
        }
    }

    // ----- resources -----

    fn expansion(&self, inst_id: usize, idx: usize) -> Result<Rc<Expansion>, IacError> {
        let inst = self.inst(inst_id);
        let decl = &inst.config.resources[idx];
        self.expansions.get(
            (inst_id, Item::Resource(idx)),
            || {
                decl.file.error(
                    decl.item.block.span(),
                    format!(
                        "the count or for_each of {}.{} depends on itself (a cycle)",
                        decl.item.resource_type, decl.item.name
                    ),
                )
            },
            || {
                let scope = self.scope(inst_id, &decl.file);
                let mut e = self.repeat(&scope, &decl.item.block.body);
                if let (Some(doubt), TfExistence::Exists) = (&inst.doubt, &e.existence) {
                    e.existence = TfExistence::Unknown { why: doubt.clone() };
                }
                Ok(Rc::new(e))
            },
        )
    }

    /// The instances `count` or `for_each` in `body` make, evaluated in `scope`.
    fn repeat(&self, scope: &Scope, body: &Body) -> Expansion {
        if let Some(count) = body.get_attribute("count") {
            let at = scope.file.at(count.value.span());
            let v = match self.settle(scope, &count.value) {
                Value::Str(s) => s.trim().parse().map_or(Value::Str(s), Value::Number),
                other => other,
            };
            if let Value::Number(n) = v {
                if n > MAX_INSTANCES as f64 {
                    self.record(scope.file.error(
                        count.value.span(),
                        format!(
                            "count = {} is more than the {MAX_INSTANCES} instances evaluated",
                            number_text(n)
                        ),
                    ));
                    return self.not_known(
                        format!("count = {} is not expanded", number_text(n)),
                        Repetition {
                            count_index: Some(Value::unknown("count.index of a count too large to expand")),
                            each: None,
                        },
                    );
                }
            }
            return match &v {
                Value::Number(n) if *n >= 0.0 && n.fract() == 0.0 => Expansion {
                    keyed: Keyed::Count,
                    instances: (0..*n as usize)
                        .map(|i| {
                            (
                                Key::Index(i),
                                Repetition {
                                    count_index: Some(Value::Number(i as f64)),
                                    each: None,
                                },
                            )
                        })
                        .collect(),
                    existence: if *n == 0.0 {
                        TfExistence::Absent {
                            why: format!("count = 0 ({at})"),
                        }
                    } else {
                        TfExistence::Exists
                    },
                },
                other => {
                    let why = match other {
                        Value::Unknown { why, .. } => format!("count is not known before apply: {why}"),
                        other => {
                            self.record(scope.file.error(
                                count.value.span(),
                                format!("count must be a whole number, not {}", show_value(other)),
                            ));
                            format!("count is {}", show_value(other))
                        }
                    };
                    self.not_known(
                        why,
                        Repetition {
                            count_index: Some(unknown_of("count.index of an unknown count", &[other])),
                            each: None,
                        },
                    )
                }
            };
        }
        if let Some(for_each) = body.get_attribute("for_each") {
            let at = scope.file.at(for_each.value.span());
            let v = self.settle(scope, &for_each.value);
            let pairs: Option<Vec<(String, Value)>> = match &v {
                Value::Map(m) => Some(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
                Value::List(items) => items
                    .iter()
                    .map(|i| i.as_str().map(|s| (s.to_owned(), i.clone())))
                    .collect(),
                _ => None,
            };
            return match pairs {
                Some(pairs) => Expansion {
                    keyed: Keyed::ForEach,
                    existence: if pairs.is_empty() {
                        TfExistence::Absent {
                            why: format!("for_each is empty ({at})"),
                        }
                    } else {
                        TfExistence::Exists
                    },
                    instances: pairs
                        .into_iter()
                        .map(|(k, value)| {
                            (
                                Key::Name(k.clone()),
                                Repetition {
                                    count_index: None,
                                    each: Some((Value::Str(k), value)),
                                },
                            )
                        })
                        .collect(),
                },
                None => {
                    let why = match &v {
                        Value::Unknown { why, .. } => format!("for_each is not known before apply: {why}"),
                        other => {
                            if !is_pending(other) {
                                self.record(scope.file.error(
                                    for_each.value.span(),
                                    format!("for_each must be a map or a set of strings, not {}", show_value(other)),
                                ));
                            }
                            format!("for_each is {}", show_value(other))
                        }
                    };
                    let each = unknown_of("each of an unknown for_each", &[&v]);
                    self.not_known(
                        why,
                        Repetition {
                            count_index: None,
                            each: Some((each.clone(), each)),
                        },
                    )
                }
            };
        }
        Expansion {
            keyed: Keyed::Single,
            instances: vec![(Key::None, Repetition::default())],
            existence: TfExistence::Exists,
        }
    }

    fn not_known(&self, why: String, repetition: Repetition) -> Expansion {
        Expansion {
            keyed: Keyed::NotKnown,
            instances: vec![(Key::None, repetition)],
            existence: TfExistence::Unknown { why },
        }
    }

    /// The evaluated configuration of one resource instance (a map; nested blocks are lists of maps).
    fn attributes(&self, inst_id: usize, idx: usize, key: &Key) -> Result<Rc<Value>, IacError> {
        let inst = self.inst(inst_id);
        let decl = &inst.config.resources[idx];
        let expansion = self.expansion(inst_id, idx)?;
        let Some((_, repetition)) = expansion.instances.iter().find(|(k, _)| k == key) else {
            return Err(decl.file.error(decl.item.block.span(), "no such instance"));
        };
        self.values.get(
            (inst_id, Item::Attributes(idx, key.clone())),
            || {
                decl.file.error(
                    decl.item.block.span(),
                    format!(
                        "{} refers to itself (a cycle)",
                        self.resource_address(&inst, &decl.item, key)
                    ),
                )
            },
            || {
                let mut scope = self.scope(inst_id, &decl.file);
                scope.repetition = Rc::new(repetition.clone());
                Ok(Rc::new(self.eval_body(&scope, &decl.item.block.body, true)))
            },
        )
    }

    fn eval_body(&self, scope: &Scope, body: &Body, resource: bool) -> Value {
        const META_ATTRIBUTES: &[&str] = &["count", "for_each", "provider", "depends_on"];
        const META_BLOCKS: &[&str] = &["lifecycle", "provisioner", "connection"];
        let mut out = BTreeMap::new();
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) => {
                    let key = attr.key.as_str();
                    if resource && META_ATTRIBUTES.contains(&key) {
                        continue;
                    }
                    // An attribute set to null is an attribute left unset.
                    match self.settle(scope, &attr.value) {
                        Value::Null => {}
                        v => {
                            out.insert(key.to_owned(), v);
                        }
                    }
                }
                Structure::Block(block) => {
                    let ident = block.ident.as_str();
                    if resource && META_BLOCKS.contains(&ident) {
                        continue;
                    }
                    if ident == "dynamic" {
                        self.expand_dynamic(scope, block, &mut out);
                        continue;
                    }
                    let content = self.eval_body(scope, &block.body, false);
                    push_block(&mut out, ident, content);
                }
            }
        }
        Value::Map(out)
    }

    /// `dynamic "name" { for_each = ..., iterator = it, content { ... } }`: one `name` block per element.
    fn expand_dynamic(&self, scope: &Scope, block: &Block, out: &mut BTreeMap<String, Value>) {
        let Some(label) = block.labels.first().map(|l| l.as_str().to_owned()) else {
            self.record(
                scope
                    .file
                    .error(block.span(), "a dynamic block needs the name of the block it makes"),
            );
            return;
        };
        let Some(for_each) = block.body.get_attribute("for_each") else {
            self.record(
                scope
                    .file
                    .error(block.span(), format!("dynamic {label:?} has no for_each")),
            );
            return;
        };
        let Some(content) = block.body.get_blocks("content").next() else {
            self.record(
                scope
                    .file
                    .error(block.span(), format!("dynamic {label:?} has no content block")),
            );
            return;
        };
        let iterator = match block.body.get_attribute("iterator").map(|a| &a.value) {
            Some(Expression::Variable(v)) => v.as_str().to_owned(),
            _ => label.clone(),
        };
        let collection = self.settle(scope, &for_each.value);
        let pairs: Vec<(Value, Value)> = match &collection {
            Value::List(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Number(i as f64), v.clone()))
                .collect(),
            Value::Map(m) => m.iter().map(|(k, v)| (Value::Str(k.clone()), v.clone())).collect(),
            Value::Null => {
                self.record(
                    scope
                        .file
                        .error(for_each.value.span(), format!("dynamic {label:?}: for_each is null")),
                );
                vec![]
            }
            other if is_pending(other) => {
                let refs = other.references().into_iter().cloned().collect();
                let inner = match other {
                    Value::Unknown { why, .. } => why.clone(),
                    _ => show_value(other),
                };
                let why = format!(
                    "dynamic {label:?}: for_each is not known before apply ({}): {inner}",
                    scope.file.at(for_each.value.span())
                );
                out.insert(label.clone(), Value::Unknown { why, refs });
                return;
            }
            other => {
                self.record(scope.file.error(
                    for_each.value.span(),
                    format!("dynamic {label:?}: for_each of {}", show_value(other)),
                ));
                vec![]
            }
        };
        if !out.contains_key(&label) {
            out.insert(label.clone(), Value::List(vec![]));
        }
        for (key, value) in pairs {
            let object = Value::Map(BTreeMap::from([("key".to_owned(), key), ("value".to_owned(), value)]));
            let inner = scope.with_name(&iterator, object);
            let body = self.eval_body(&inner, &content.body, false);
            push_block(out, &label, body);
        }
    }

    /// A resource instance as an expression sees it: its configuration, its identifiers, and a
    /// reference for every attribute only the apply sets.
    fn instance_object(&self, inst_id: usize, idx: usize, key: &Key) -> Res {
        let attributes = self.attributes(inst_id, idx, key)?;
        let inst = self.inst(inst_id);
        let address = self.resource_address(&inst, &inst.config.resources[idx].item, key);
        let mut map = match &*attributes {
            Value::Map(m) => m.clone(),
            _ => BTreeMap::new(),
        };
        for attribute in APPLY_TIME_ATTRIBUTES {
            map.entry((*attribute).to_owned()).or_insert_with(|| {
                Value::Ref(Reference {
                    target: address.clone(),
                    attribute: Some((*attribute).to_owned()),
                })
            });
        }
        map.insert(INSTANCE_ADDRESS.to_owned(), Value::Str(address));
        Ok(Value::Map(map))
    }

    fn resource_ref(&self, scope: &Scope, idx: usize, ops: &[hcl_edit::Decorated<TraversalOperator>]) -> Res {
        let expansion = self.expansion(scope.inst, idx)?;
        let inst = self.inst(scope.inst);
        match expansion.keyed {
            Keyed::Single => {
                let object = self.instance_object(scope.inst, idx, &Key::None)?;
                self.apply_ops(scope, &object, ops)
            }
            Keyed::NotKnown => {
                let attribute = ops.iter().find_map(|op| match op.value() {
                    TraversalOperator::GetAttr(a) => Some(a.as_str().to_owned()),
                    _ => None,
                });
                let target = self.resource_address(&inst, &inst.config.resources[idx].item, &Key::None);
                let why = match &expansion.existence {
                    TfExistence::Unknown { why } => why.clone(),
                    _ => String::new(),
                };
                Ok(Value::Unknown {
                    why: format!("{target}: {why}"),
                    refs: vec![Reference { target, attribute }],
                })
            }
            Keyed::Count | Keyed::ForEach => {
                if let Some((first, rest)) = ops.split_first() {
                    if let TraversalOperator::Index(index) = first.value() {
                        let k = self.eval(scope, index)?;
                        if is_pending(&k) {
                            return Ok(unknown_of("an instance key known only after apply", &[&k]));
                        }
                        let key = match (expansion.keyed, &k) {
                            (Keyed::Count, Value::Number(n)) if *n >= 0.0 && n.fract() == 0.0 => {
                                Key::Index(*n as usize)
                            }
                            (Keyed::ForEach, Value::Str(s)) => Key::Name(s.clone()),
                            _ => {
                                return Err(scope
                                    .file
                                    .error(first.span(), format!("{} is not an instance key here", show_value(&k))));
                            }
                        };
                        if !expansion.instances.iter().any(|(have, _)| *have == key) {
                            let base = self.resource_address(&inst, &inst.config.resources[idx].item, &Key::None);
                            return Err(scope.file.error(
                                first.span(),
                                format!(
                                    "{base} has no instance {} ({} instances)",
                                    key.suffix(),
                                    expansion.instances.len()
                                ),
                            ));
                        }
                        let object = self.instance_object(scope.inst, idx, &key)?;
                        return self.apply_ops(scope, &object, rest);
                    }
                }
                let whole = self.values.get(
                    (scope.inst, Item::AllInstances(idx)),
                    || {
                        scope
                            .file
                            .error(None, "a resource's instances depend on themselves (a cycle)")
                    },
                    || {
                        let objects = expansion
                            .instances
                            .iter()
                            .map(|(k, _)| self.instance_object(scope.inst, idx, k).map(|o| (k, o)));
                        Ok(Rc::new(if expansion.keyed == Keyed::Count {
                            Value::List(objects.map(|o| o.map(|(_, o)| o)).collect::<Result<_, _>>()?)
                        } else {
                            let mut m = BTreeMap::new();
                            for object in objects {
                                let (k, o) = object?;
                                if let Key::Name(name) = k {
                                    m.insert(name.clone(), o);
                                }
                            }
                            Value::Map(m)
                        }))
                    },
                )?;
                self.apply_ops(scope, &whole, ops)
            }
        }
    }

    // ----- modules -----

    fn module_children(&self, inst_id: usize, call: &str) -> Result<Rc<Children>, IacError> {
        let inst = self.inst(inst_id);
        let Some(decl) = inst.config.module_calls.get(call) else {
            return Err(IacError::new(
                &config::shown_path(&inst.config.dir, &self.base),
                None,
                None,
                format!("module {call:?} is not declared"),
            ));
        };
        self.children.get(
            (inst_id, Item::Call(call.to_owned())),
            || {
                decl.file
                    .error(decl.item.span(), format!("module {call:?} depends on itself (a cycle)"))
            },
            || Ok(Rc::new(self.call_module(inst_id, &inst, call, decl))),
        )
    }

    fn call_module(&self, inst_id: usize, inst: &ModuleInst, call: &str, decl: &Declared<Block>) -> Children {
        let scope = self.scope(inst_id, &decl.file);
        let Some(source_attr) = decl.item.body.get_attribute("source") else {
            self.record(
                decl.file
                    .error(decl.item.span(), format!("module {call:?} has no source")),
            );
            return Children::NotOnDisk {
                why: format!("module {call:?} has no source"),
            };
        };
        let source = match self.eval(&scope, &source_attr.value) {
            Ok(Value::Str(s)) => s,
            Ok(other) => {
                self.record(scope.file.error(
                    source_attr.value.span(),
                    format!("a module source must be a literal string, not {}", show_value(&other)),
                ));
                return Children::NotOnDisk {
                    why: format!("module {call:?} has no literal source"),
                };
            }
            Err(e) => {
                self.record(e);
                return Children::NotOnDisk {
                    why: format!("module {call:?} has no literal source"),
                };
            }
        };
        let not_on_disk = || Children::NotOnDisk {
            why: format!(
                "module {call:?}'s source {source:?} is not on disk ({})",
                decl.file.at(source_attr.span())
            ),
        };
        let module_path = if inst.module_path.is_empty() {
            call.to_owned()
        } else {
            format!("{}.{call}", inst.module_path)
        };
        let dir = if source.starts_with("./") || source.starts_with("../") {
            config::normalize(&inst.config.dir.join(&source))
        } else {
            match self.installed.get(&module_path) {
                Some(dir) => dir.clone(),
                None => return not_on_disk(),
            }
        };
        let Ok(canonical) = dir
            .canonicalize()
            .map_err(|_| ())
            .and_then(|c| if c.is_dir() { Ok(c) } else { Err(()) })
        else {
            self.record(decl.file.error(
                source_attr.value.span(),
                format!(
                    "module {call:?}: the source folder {source:?} does not exist ({})",
                    dir.display()
                ),
            ));
            return not_on_disk();
        };
        if let Some(pos) = inst.ancestry.iter().position(|d| *d == canonical) {
            let chain: Vec<String> = inst.ancestry[pos..]
                .iter()
                .chain(std::iter::once(&canonical))
                .map(|d| {
                    d.file_name()
                        .map_or_else(|| d.display().to_string(), |n| n.to_string_lossy().into_owned())
                })
                .collect();
            self.record(decl.file.error(
                decl.item.span(),
                format!("module cycle: {} calls itself ({})", call, chain.join(" -> ")),
            ));
            return Children::NotOnDisk {
                why: format!("module {call:?} is part of a module cycle"),
            };
        }
        if inst.ancestry.len() >= MAX_MODULE_DEPTH {
            self.record(decl.file.error(
                decl.item.span(),
                format!("module {call:?}: modules nested deeper than {MAX_MODULE_DEPTH} are not evaluated"),
            ));
            return Children::NotOnDisk {
                why: format!("module {call:?} is nested deeper than {MAX_MODULE_DEPTH}"),
            };
        }
        let config = self.config(&dir);
        self.check_inputs(call, decl, &config);
        let expansion = self.repeat(&scope, &decl.item.body);
        let doubt = match &expansion.existence {
            TfExistence::Unknown { why } => Some(format!("module.{call}: {why}")),
            _ => inst.doubt.clone(),
        };
        let mut ancestry = inst.ancestry.clone();
        ancestry.push(canonical);
        let instances = expansion
            .instances
            .iter()
            .map(|(key, repetition)| {
                let child = self.add_inst(ModuleInst {
                    config: config.clone(),
                    prefix: format!("{}module.{call}{}.", inst.prefix, key.suffix()),
                    parent: Some(CallSite {
                        inst: inst_id,
                        call: call.to_owned(),
                        repetition: repetition.clone(),
                    }),
                    given: BTreeMap::new(),
                    module_path: module_path.clone(),
                    ancestry: ancestry.clone(),
                    doubt: doubt.clone(),
                });
                (key.clone(), child)
            })
            .collect();
        Children::Instances {
            keyed: expansion.keyed,
            instances,
        }
    }

    /// Terraform rejects a call that sets a variable the module does not declare or leaves a
    /// variable without a default unset.
    fn check_inputs(&self, call: &str, decl: &Declared<Block>, config: &ModuleConfig) {
        const CALL_ARGUMENTS: &[&str] = &["source", "version", "count", "for_each", "providers", "depends_on"];
        for attr in decl.item.body.attributes() {
            let name = attr.key.as_str();
            if !CALL_ARGUMENTS.contains(&name) && !config.variables.contains_key(name) {
                self.record(
                    decl.file
                        .error(attr.span(), format!("module {call:?} has no variable {name:?}")),
                );
            }
        }
        for (name, variable) in &config.variables {
            if variable.item.body.get_attribute("default").is_none() && decl.item.body.get_attribute(name).is_none() {
                self.record(decl.file.error(
                    decl.item.span(),
                    format!("module {call:?}: the required variable {name:?} is not set"),
                ));
            }
        }
    }

    fn module_object(&self, scope: &Scope, child: usize, span: Option<std::ops::Range<usize>>) -> Res {
        let names: Vec<String> = self.inst(child).config.outputs.keys().cloned().collect();
        let mut m = BTreeMap::new();
        for name in names {
            let v = self.output(child, &name, scope, span.clone())?;
            m.insert(name, (*v).clone());
        }
        Ok(Value::Map(m))
    }

    fn module_ref(
        &self,
        scope: &Scope,
        call: &str,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        span: Option<std::ops::Range<usize>>,
    ) -> Res {
        let children = self
            .module_children(scope.inst, call)
            .map_err(|e| scope.file.error(span.clone(), e.message))?;
        let (keyed, instances) = match &*children {
            Children::NotOnDisk { why } => return Ok(Value::unknown(why.clone())),
            Children::Instances { keyed, instances } => (*keyed, instances),
        };
        // `module.x.out` and `module.x[k].out` read one output; anything else builds the object.
        let (chosen, rest) = match (keyed, ops.split_first()) {
            (Keyed::Single | Keyed::NotKnown, _) => {
                let rest = match (keyed, ops.split_first()) {
                    (Keyed::NotKnown, Some((first, rest))) if matches!(first.value(), TraversalOperator::Index(_)) => {
                        rest
                    }
                    _ => ops,
                };
                (instances.first().map(|(_, c)| *c), rest)
            }
            (_, Some((first, rest))) => match first.value() {
                TraversalOperator::Index(index) => {
                    let k = self.eval(scope, index)?;
                    if is_pending(&k) {
                        return Ok(unknown_of("a module instance key known only after apply", &[&k]));
                    }
                    let found = instances.iter().find(|(key, _)| match (key, &k) {
                        (Key::Index(i), Value::Number(n)) => *i as f64 == *n,
                        (Key::Name(a), Value::Str(b)) => a == b,
                        _ => false,
                    });
                    match found {
                        Some((_, c)) => (Some(*c), rest),
                        None => {
                            return Err(scope.file.error(
                                first.span(),
                                format!("module.{call} has no instance {}", show_value(&k)),
                            ))
                        }
                    }
                }
                _ => (None, ops),
            },
            (_, None) => (None, ops),
        };
        match chosen {
            Some(child) => match rest.split_first() {
                Some((first, after)) => match first.value() {
                    TraversalOperator::GetAttr(name) => {
                        let v = self.output(child, name.as_str(), scope, first.span())?;
                        self.apply_ops(scope, &v, after)
                    }
                    _ => {
                        let object = self.module_object(scope, child, span)?;
                        self.apply_ops(scope, &object, rest)
                    }
                },
                None => self.module_object(scope, child, span),
            },
            None => {
                let whole = if keyed == Keyed::ForEach {
                    let mut m = BTreeMap::new();
                    for (k, c) in instances {
                        if let Key::Name(name) = k {
                            m.insert(name.clone(), self.module_object(scope, *c, span.clone())?);
                        }
                    }
                    Value::Map(m)
                } else {
                    Value::List(
                        instances
                            .iter()
                            .map(|(_, c)| self.module_object(scope, *c, span.clone()))
                            .collect::<Result<_, _>>()?,
                    )
                };
                self.apply_ops(scope, &whole, ops)
            }
        }
    }
}

/// `.terraform/modules/modules.json`, written by `terraform init`: where each module call's
/// source was installed. Absent or unreadable, no module is installed.
fn installed_modules(root: &Path) -> HashMap<String, PathBuf> {
    let manifest = root.join(".terraform/modules/modules.json");
    let Ok(text) = std::fs::read_to_string(manifest) else {
        return HashMap::new();
    };
    let Ok(parsed) = serde_json::from_str::<serde_json::Value>(&text) else {
        return HashMap::new();
    };
    let entries = parsed.get("Modules").and_then(serde_json::Value::as_array);
    entries
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let key = m.get("Key")?.as_str()?;
            let dir = m.get("Dir")?.as_str()?;
            (!key.is_empty()).then(|| (key.to_owned(), config::normalize(&root.join(dir))))
        })
        .collect()
}

fn push_block(out: &mut BTreeMap<String, Value>, name: &str, content: Value) {
    match out.entry(name.to_owned()).or_insert_with(|| Value::List(vec![])) {
        Value::List(items) => items.push(content),
        other => *other = Value::List(vec![content]),
    }
}
