//! Lazy evaluation of a root module and the local modules it calls.
//!
//! Every value (a local, a variable, an output, a resource instance's attributes, the instances a
//! `count` or `for_each` makes) is computed when first asked for and remembered, so each is computed
//! once and a value that needs itself is reported as a cycle instead of looping. Errors travel as
//! `Err` until something that must have a value (a resource attribute, a `count`) records them and
//! uses an unknown; `try()` and `can()` catch them before that.

use super::config::{self, Declared, Mode, ModuleConfig, SourceFile};
use super::functions::{self, Fail};
use super::{ResourceMode, TfExistence, TfResource};
use crate::{IacError, Reference, Value};
use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::Span;
use std::borrow::Cow;
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
        let children = self.module_children(scope.inst, call).map_err(|e| IacError {
            path: scope.file.shown.clone(),
            ..scope.file.error(span.clone(), e.message)
        })?;
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

    // ----- expressions -----

    fn eval(&self, scope: &Scope, expr: &Expression) -> Res {
        match expr {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => Ok(Value::Number(n.value().as_f64().unwrap_or(0.0))),
            Expression::String(s) => Ok(Value::Str(s.value().clone())),
            Expression::Array(items) => Ok(Value::List(
                items.iter().map(|e| self.eval(scope, e)).collect::<Result<_, _>>()?,
            )),
            Expression::Object(object) => {
                let mut out = BTreeMap::new();
                let mut pending = vec![];
                for (key, value) in object.iter() {
                    let name = match key {
                        ObjectKey::Ident(i) => i.as_str().to_owned(),
                        ObjectKey::Expression(e) => match self.eval(scope, e)? {
                            Value::Str(s) => s,
                            Value::Number(n) => number_text(n),
                            Value::Bool(b) => b.to_string(),
                            other if is_pending(&other) => {
                                pending.push(other);
                                continue;
                            }
                            other => {
                                return Err(scope
                                    .file
                                    .error(e.span(), format!("an object key cannot be {}", show_value(&other))))
                            }
                        },
                    };
                    out.insert(name, self.eval(scope, value.expr())?);
                }
                if !pending.is_empty() {
                    return Ok(unknown_of(
                        "an object whose keys are known only after apply",
                        &pending.iter().collect::<Vec<_>>(),
                    ));
                }
                Ok(Value::Map(out))
            }
            Expression::StringTemplate(t) => self.eval_template(scope, t),
            Expression::HeredocTemplate(h) => self.eval_template(scope, &h.template),
            Expression::Parenthesis(p) => self.eval(scope, p.inner()),
            Expression::Variable(v) => match scope.names.iter().rev().find(|(n, _)| n == v.as_str()) {
                Some((_, value)) => Ok(value.clone()),
                None => Err(scope
                    .file
                    .error(v.span(), format!("{:?} is not a value here", v.as_str()))),
            },
            Expression::Conditional(c) => {
                let cond = self.eval(scope, &c.cond_expr)?;
                match cond {
                    Value::Bool(true) => self.eval(scope, &c.true_expr),
                    Value::Bool(false) => self.eval(scope, &c.false_expr),
                    Value::Str(s) if s == "true" || s == "false" => {
                        self.eval(scope, if s == "true" { &c.true_expr } else { &c.false_expr })
                    }
                    other if is_pending(&other) => {
                        let t = self.eval(scope, &c.true_expr).unwrap_or(Value::Null);
                        let f = self.eval(scope, &c.false_expr).unwrap_or(Value::Null);
                        Ok(unknown_of(
                            format!(
                                "a condition known only after apply ({})",
                                scope.file.at(c.cond_expr.span())
                            ),
                            &[&other, &t, &f],
                        ))
                    }
                    other => Err(scope.file.error(
                        c.cond_expr.span(),
                        format!("a condition must be true or false, not {}", show_value(&other)),
                    )),
                }
            }
            Expression::FuncCall(call) => self.eval_call(scope, call),
            Expression::Traversal(t) => self.eval_traversal(scope, t),
            Expression::UnaryOp(op) => {
                let v = self.eval(scope, &op.expr)?;
                match (op.operator.value(), &v) {
                    (_, p) if is_pending(p) => Ok(unknown_of("an operation on a value known only after apply", &[p])),
                    (UnaryOperator::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                    (UnaryOperator::Neg, Value::Number(n)) => Ok(Value::Number(-n)),
                    (o, other) => Err(scope
                        .file
                        .error(op.span(), format!("{} of {}", o.as_str(), show_value(other)))),
                }
            }
            Expression::BinaryOp(op) => self.eval_binary(scope, op),
            Expression::ForExpr(f) => self.eval_for(scope, f),
        }
    }

    /// The parser nests `a * b + c` to the right whatever the operators; evaluate the chain by
    /// precedence, left to right among equals, as Terraform does.
    fn eval_binary(&self, scope: &Scope, op: &hcl_edit::expr::BinaryOp) -> Res {
        let mut operands = vec![&op.lhs_expr];
        let mut operators = vec![*op.operator.value()];
        let mut rest = &op.rhs_expr;
        while let Expression::BinaryOp(next) = rest {
            operands.push(&next.lhs_expr);
            operators.push(*next.operator.value());
            rest = &next.rhs_expr;
        }
        operands.push(rest);
        let values = operands
            .iter()
            .map(|e| self.eval(scope, e))
            .collect::<Result<Vec<_>, _>>()?;
        let fail = |m: String| scope.file.error(op.span(), m);
        let mut values = values.into_iter();
        let mut stack: Vec<Value> = values.next().into_iter().collect();
        let mut pending: Vec<BinaryOperator> = vec![];
        let reduce = |stack: &mut Vec<Value>, operator: BinaryOperator| -> Result<(), IacError> {
            let (Some(rhs), Some(lhs)) = (stack.pop(), stack.pop()) else {
                return Err(fail("an operator without operands".into()));
            };
            stack.push(binary(operator, &lhs, &rhs).map_err(&fail)?);
            Ok(())
        };
        for (operator, value) in operators.into_iter().zip(values) {
            while pending
                .last()
                .is_some_and(|top| top.precedence() >= operator.precedence())
            {
                if let Some(top) = pending.pop() {
                    reduce(&mut stack, top)?;
                }
            }
            pending.push(operator);
            stack.push(value);
        }
        while let Some(top) = pending.pop() {
            reduce(&mut stack, top)?;
        }
        stack.pop().ok_or_else(|| fail("an empty operation".into()))
    }

    fn eval_template(&self, scope: &Scope, template: &Template) -> Res {
        let elements: Vec<&Element> = template.iter().collect();
        if let [Element::Interpolation(i)] = elements.as_slice() {
            return self.eval(scope, &i.expr);
        }
        let mut out = String::new();
        let mut pending: Vec<Value> = vec![];
        self.render(scope, template, &mut out, &mut pending)?;
        if !pending.is_empty() {
            return Ok(unknown_of(
                format!(
                    "a string built from values known only after apply ({})",
                    scope.file.at(template.iter().next().and_then(element_span))
                ),
                &pending.iter().collect::<Vec<_>>(),
            ));
        }
        Ok(Value::Str(out))
    }

    fn render(
        &self,
        scope: &Scope,
        template: &Template,
        out: &mut String,
        pending: &mut Vec<Value>,
    ) -> Result<(), IacError> {
        for element in template.iter() {
            match element {
                Element::Literal(s) => out.push_str(s.value()),
                Element::Interpolation(i) => match self.eval(scope, &i.expr)? {
                    Value::Str(s) => out.push_str(&s),
                    Value::Number(n) => out.push_str(&number_text(n)),
                    Value::Bool(b) => out.push_str(&b.to_string()),
                    p if is_pending(&p) => pending.push(p),
                    other => {
                        return Err(scope.file.error(
                            i.expr.span(),
                            format!("{} cannot be part of a string", show_value(&other)),
                        ))
                    }
                },
                Element::Directive(Directive::If(d)) => match self.eval(scope, &d.if_expr.cond_expr)? {
                    Value::Bool(true) => self.render(scope, &d.if_expr.template, out, pending)?,
                    Value::Bool(false) => {
                        if let Some(e) = &d.else_expr {
                            self.render(scope, &e.template, out, pending)?;
                        }
                    }
                    other => pending.push(unknown_of("a template condition known only after apply", &[&other])),
                },
                Element::Directive(Directive::For(d)) => {
                    let f = &d.for_expr;
                    let collection = self.eval(scope, &f.collection_expr)?;
                    for (k, v) in pairs_of(&collection).map_err(|m| scope.file.error(f.collection_expr.span(), m))? {
                        let mut inner = scope.clone();
                        if let Some(kv) = &f.key_var {
                            inner.names.push((kv.as_str().to_owned(), k));
                        }
                        inner.names.push((f.value_var.as_str().to_owned(), v));
                        self.render(&inner, &f.template, out, pending)?;
                    }
                    if is_pending(&collection) {
                        pending.push(collection);
                    }
                }
            }
        }
        Ok(())
    }

    fn eval_for(&self, scope: &Scope, f: &hcl_edit::expr::ForExpr) -> Res {
        let collection = self.eval(scope, &f.intro.collection_expr)?;
        if is_pending(&collection) {
            return Ok(unknown_of(
                "a for expression over a value known only after apply",
                &[&collection],
            ));
        }
        let pairs = pairs_of(&collection).map_err(|m| scope.file.error(f.intro.collection_expr.span(), m))?;
        let mut list = vec![];
        let mut map: BTreeMap<String, Value> = BTreeMap::new();
        for (k, v) in pairs {
            let mut inner = scope.clone();
            if let Some(kv) = &f.intro.key_var {
                inner.names.push((kv.as_str().to_owned(), k));
            }
            inner.names.push((f.intro.value_var.as_str().to_owned(), v));
            if let Some(cond) = &f.cond {
                match self.eval(&inner, &cond.expr)? {
                    Value::Bool(true) => {}
                    Value::Bool(false) => continue,
                    other if is_pending(&other) => {
                        return Ok(unknown_of(
                            "a for expression filtered by a value known only after apply",
                            &[&other],
                        ));
                    }
                    other => {
                        return Err(scope.file.error(
                            cond.expr.span(),
                            format!("a for condition must be true or false, not {}", show_value(&other)),
                        ))
                    }
                }
            }
            let value = self.eval(&inner, &f.value_expr)?;
            match &f.key_expr {
                None => list.push(value),
                Some(key_expr) => {
                    let key = match self.eval(&inner, key_expr)? {
                        Value::Str(s) => s,
                        Value::Number(n) => number_text(n),
                        Value::Bool(b) => b.to_string(),
                        p if is_pending(&p) => {
                            return Ok(unknown_of("a for expression with keys known only after apply", &[&p]))
                        }
                        other => {
                            return Err(scope.file.error(
                                key_expr.span(),
                                format!("an object key cannot be {}", show_value(&other)),
                            ))
                        }
                    };
                    if f.grouping {
                        if let Value::List(items) = map.entry(key).or_insert_with(|| Value::List(vec![])) {
                            items.push(value);
                        }
                    } else if map.insert(key.clone(), value).is_some() {
                        return Err(scope.file.error(
                            key_expr.span(),
                            format!("the for expression makes the key {key:?} twice (use ... to group)"),
                        ));
                    }
                }
            }
        }
        Ok(if f.key_expr.is_some() {
            Value::Map(map)
        } else {
            Value::List(list)
        })
    }

    fn eval_call(&self, scope: &Scope, call: &hcl_edit::expr::FuncCall) -> Res {
        let name = call.name.name.as_str();
        if call.name.is_namespaced() {
            return Ok(Value::unknown(format!(
                "provider function {name}() is not evaluated before apply ({})",
                scope.file.at(call.span())
            )));
        }
        match name {
            "try" => {
                let mut last = None;
                for arg in call.args.iter() {
                    match self.eval(scope, arg) {
                        Ok(v) => return Ok(v),
                        Err(e) => last = Some(e),
                    }
                }
                return Err(match last {
                    Some(e) => scope.file.error(
                        call.span(),
                        format!("no argument of try() has a value (the last: {})", e.message),
                    ),
                    None => scope.file.error(call.span(), "try() needs at least one argument"),
                });
            }
            "can" => {
                return Ok(match call.args.iter().next().map(|a| self.eval(scope, a)) {
                    Some(Ok(v)) if matches!(v, Value::Unknown { .. }) => v,
                    Some(Ok(_)) => Value::Bool(true),
                    Some(Err(_)) => Value::Bool(false),
                    None => return Err(scope.file.error(call.span(), "can() needs one argument")),
                });
            }
            _ => {}
        }
        let mut args = call
            .args
            .iter()
            .map(|a| self.eval(scope, a))
            .collect::<Result<Vec<_>, _>>()?;
        if call.args.expand_final() {
            match args.pop() {
                Some(Value::List(items)) => args.extend(items),
                Some(p) if is_pending(&p) => {
                    return Ok(unknown_of(
                        format!("{name}() of arguments known only after apply"),
                        &[&p],
                    ))
                }
                Some(other) => {
                    return Err(scope.file.error(
                        call.span(),
                        format!("{name}(...): cannot expand {}", show_value(&other)),
                    ))
                }
                None => {}
            }
        }
        match functions::call(name, &args) {
            Ok(v) => Ok(v),
            Err(Fail::NotKnown) => Ok(unknown_of(
                format!(
                    "{name}() of a value known only after apply ({})",
                    scope.file.at(call.span())
                ),
                &args.iter().collect::<Vec<_>>(),
            )),
            Err(Fail::Unsupported(why)) => Ok(unknown_of(
                format!("{why} ({})", scope.file.at(call.span())),
                &args.iter().collect::<Vec<_>>(),
            )),
            Err(Fail::Error(message)) => Err(scope.file.error(call.span(), message)),
        }
    }

    fn eval_traversal(&self, scope: &Scope, t: &hcl_edit::expr::Traversal) -> Res {
        let ops = t.operators.as_slice();
        let Expression::Variable(root) = &t.expr else {
            let v = self.eval(scope, &t.expr)?;
            return self.apply_ops(scope, &v, ops);
        };
        let root_name = root.as_str();
        if let Some((_, v)) = scope.names.iter().rev().find(|(n, _)| n == root_name) {
            return self.apply_ops(scope, v, ops);
        }
        let span = t.span();
        if scope.constant {
            return Err(scope
                .file
                .error(span, format!("{root_name}: only literal values are allowed here")));
        }
        let attr_at = |i: usize| -> Option<&str> {
            match ops.get(i).map(|o| o.value()) {
                Some(TraversalOperator::GetAttr(a)) => Some(a.as_str()),
                _ => None,
            }
        };
        let missing = |what: &str| scope.file.error(span.clone(), format!("{root_name} needs {what}"));
        match root_name {
            "var" => {
                let name = attr_at(0).ok_or_else(|| missing("a variable name"))?;
                let v = self.variable(scope, name, span.clone())?;
                self.apply_ops(scope, &v, &ops[1..])
            }
            "local" => {
                let name = attr_at(0).ok_or_else(|| missing("a local name"))?;
                let v = self.local(scope, name, span.clone())?;
                self.apply_ops(scope, &v, &ops[1..])
            }
            "module" => {
                let name = attr_at(0).ok_or_else(|| missing("a module name"))?;
                self.module_ref(scope, name, &ops[1..], span)
            }
            "each" => {
                let Some((key, value)) = &scope.repetition.each else {
                    return Err(scope.file.error(span, "each is only available where for_each is set"));
                };
                match attr_at(0) {
                    Some("key") => self.apply_ops(scope, key, &ops[1..]),
                    Some("value") => self.apply_ops(scope, value, &ops[1..]),
                    _ => Err(missing("key or value")),
                }
            }
            "count" => match (&scope.repetition.count_index, attr_at(0)) {
                (Some(index), Some("index")) => self.apply_ops(scope, index, &ops[1..]),
                _ => Err(scope
                    .file
                    .error(span, "count.index is only available where count is set")),
            },
            "path" => {
                let inst = self.inst(scope.inst);
                let module = config::shown_path(&inst.config.dir, &self.base);
                let module = if module.is_empty() { ".".to_owned() } else { module };
                match attr_at(0) {
                    Some("module") => self.apply_ops(scope, &Value::Str(module), &ops[1..]),
                    Some("root" | "cwd") => self.apply_ops(scope, &Value::Str(".".into()), &ops[1..]),
                    _ => Err(missing("module, root or cwd")),
                }
            }
            "terraform" => match attr_at(0) {
                Some("workspace") => Ok(Value::Str("default".into())),
                _ => Ok(Value::unknown(format!(
                    "terraform.* is not evaluated ({})",
                    scope.file.at(span)
                ))),
            },
            "self" => Ok(Value::unknown(format!(
                "self is known only after apply ({})",
                scope.file.at(span)
            ))),
            "data" => {
                let (Some(rtype), Some(name)) = (attr_at(0), attr_at(1)) else {
                    return Err(missing("a data source type and name"));
                };
                let inst = self.inst(scope.inst);
                if !inst
                    .config
                    .resource_index
                    .contains_key(&(Mode::Data, rtype.to_owned(), name.to_owned()))
                {
                    return Err(scope.file.error(span, format!("data.{rtype}.{name} is not declared")));
                }
                let attribute = attr_at(2).or_else(|| attr_at(3)).map(str::to_owned);
                let target = format!("{}data.{rtype}.{name}", inst.prefix);
                Ok(Value::Unknown {
                    why: format!("{target} is read from the account at plan time"),
                    refs: vec![Reference { target, attribute }],
                })
            }
            rtype => {
                let name = attr_at(0)
                    .ok_or_else(|| scope.file.error(span.clone(), format!("{rtype:?} is not a value here")))?;
                let idx = self
                    .inst(scope.inst)
                    .config
                    .resource_index
                    .get(&(Mode::Managed, rtype.to_owned(), name.to_owned()))
                    .copied()
                    .ok_or_else(|| {
                        scope
                            .file
                            .error(span.clone(), format!("{rtype}.{name} is not declared"))
                    })?;
                self.resource_ref(scope, idx, &ops[1..])
            }
        }
    }

    fn apply_ops(&self, scope: &Scope, value: &Value, ops: &[hcl_edit::Decorated<TraversalOperator>]) -> Res {
        let Some((op, rest)) = ops.split_first() else {
            return Ok(value.clone());
        };
        let step: Cow<'_, Value> = match op.value() {
            TraversalOperator::GetAttr(name) => {
                get_attr(value, name.as_str()).map_err(|m| scope.file.error(op.span(), m))?
            }
            TraversalOperator::Index(index) => {
                let k = self.eval(scope, index)?;
                index_value(value, &k).map_err(|m| scope.file.error(op.span(), m))?
            }
            TraversalOperator::LegacyIndex(i) => {
                index_value(value, &Value::Number(*i.value() as f64)).map_err(|m| scope.file.error(op.span(), m))?
            }
            TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                return match value {
                    Value::Null => Ok(Value::List(vec![])),
                    Value::List(items) => Ok(Value::List(
                        items
                            .iter()
                            .map(|v| self.apply_ops(scope, v, rest))
                            .collect::<Result<_, _>>()?,
                    )),
                    p if is_pending(p) => Ok(unknown_of("a splat of a value known only after apply", &[p])),
                    single => Ok(Value::List(vec![self.apply_ops(scope, single, rest)?])),
                };
            }
        };
        self.apply_ops(scope, &step, rest)
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

fn element_span(e: &Element) -> Option<std::ops::Range<usize>> {
    match e {
        Element::Literal(s) => s.span(),
        Element::Interpolation(i) => i.expr.span(),
        Element::Directive(_) => None,
    }
}

fn pairs_of(collection: &Value) -> Result<Vec<(Value, Value)>, String> {
    match collection {
        Value::List(items) => Ok(items
            .iter()
            .enumerate()
            .map(|(i, v)| (Value::Number(i as f64), v.clone()))
            .collect()),
        Value::Map(m) => Ok(m
            .iter()
            .filter(|(k, _)| *k != INSTANCE_ADDRESS)
            .map(|(k, v)| (Value::Str(k.clone()), v.clone()))
            .collect()),
        p if is_pending(p) => Ok(vec![]),
        other => Err(format!("cannot iterate over {}", show_value(other))),
    }
}

fn get_attr<'v>(value: &'v Value, name: &str) -> Result<Cow<'v, Value>, String> {
    match value {
        Value::Map(m) => match m.get(name) {
            Some(v) => Ok(Cow::Borrowed(v)),
            None => match m.get(INSTANCE_ADDRESS) {
                Some(Value::Str(address)) => Ok(Cow::Owned(Value::Ref(Reference {
                    target: address.clone(),
                    attribute: Some(name.to_owned()),
                }))),
                _ => Err(format!("the object has no attribute {name:?}")),
            },
        },
        Value::Unknown { .. } => Ok(Cow::Borrowed(value)),
        Value::Ref(r) => Ok(Cow::Owned(Value::Unknown {
            why: format!("{} is known only after apply", show_value(value)),
            refs: vec![r.clone()],
        })),
        Value::Null => Err(format!("cannot read {name:?} of null")),
        other => Err(format!("cannot read {name:?} of {}", show_value(other))),
    }
}

fn index_value<'v>(value: &'v Value, key: &Value) -> Result<Cow<'v, Value>, String> {
    if is_pending(key) {
        return Ok(Cow::Owned(unknown_of("an index known only after apply", &[value, key])));
    }
    match (value, key) {
        (Value::List(items), k) => {
            let i = match k {
                Value::Number(n) if *n >= 0.0 && n.fract() == 0.0 => *n as usize,
                Value::Str(s) => s
                    .parse()
                    .map_err(|_| format!("a list index must be a number, not {s:?}"))?,
                other => {
                    return Err(format!(
                        "a list index must be a whole number, not {}",
                        show_value(other)
                    ))
                }
            };
            items
                .get(i)
                .map(Cow::Borrowed)
                .ok_or_else(|| format!("index {i} is out of range for a list of {}", items.len()))
        }
        (Value::Map(m), k) => {
            let name = match k {
                Value::Str(s) => s.clone(),
                Value::Number(n) => number_text(*n),
                other => return Err(format!("a map key must be a string, not {}", show_value(other))),
            };
            if let Some(v) = m.get(&name) {
                return Ok(Cow::Borrowed(v));
            }
            get_attr(value, &name).map_err(|_| format!("the map has no key {name:?}"))
        }
        (p, _) if is_pending(p) => Ok(Cow::Owned(unknown_of(
            "an element of a value known only after apply",
            &[p],
        ))),
        (Value::Null, _) => Err("cannot index null".to_owned()),
        (other, _) => Err(format!("cannot index {}", show_value(other))),
    }
}

/// Equality as far as it is known: an identifier set by the apply is never null or empty.
fn equal(a: &Value, b: &Value) -> Option<bool> {
    if a == b {
        return Some(true);
    }
    if a.is_known() && b.is_known() {
        return Some(false);
    }
    let blank = |v: &Value| matches!(v, Value::Null) || v.as_str() == Some("");
    match (a, b) {
        (Value::Ref(_), other) | (other, Value::Ref(_)) if blank(other) => Some(false),
        _ => None,
    }
}

fn binary(op: BinaryOperator, lhs: &Value, rhs: &Value) -> Result<Value, String> {
    use BinaryOperator as B;
    let pending = || {
        unknown_of(
            format!("{} of a value known only after apply", op.as_str()),
            &[lhs, rhs],
        )
    };
    match op {
        B::Eq | B::NotEq => Ok(match equal(lhs, rhs) {
            Some(e) => Value::Bool(e == (op == B::Eq)),
            None => pending(),
        }),
        B::And | B::Or => {
            let want = op == B::Or;
            match (lhs, rhs) {
                (Value::Bool(a), Value::Bool(b)) => Ok(Value::Bool(if want { *a || *b } else { *a && *b })),
                (Value::Bool(x), p) | (p, Value::Bool(x)) if is_pending(p) => {
                    Ok(if *x == want { Value::Bool(want) } else { pending() })
                }
                (a, b) if is_pending(a) || is_pending(b) => Ok(pending()),
                (a, b) => Err(format!(
                    "{} needs booleans, not {} and {}",
                    op.as_str(),
                    show_value(a),
                    show_value(b)
                )),
            }
        }
        _ => {
            if is_pending(lhs) || is_pending(rhs) {
                return Ok(pending());
            }
            let num = |v: &Value| match v {
                Value::Number(n) => Ok(*n),
                Value::Str(s) => s
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| format!("{} needs numbers, not {s:?}", op.as_str())),
                other => Err(format!("{} needs numbers, not {}", op.as_str(), show_value(other))),
            };
            let (a, b) = (num(lhs)?, num(rhs)?);
            Ok(match op {
                B::Plus => Value::Number(a + b),
                B::Minus => Value::Number(a - b),
                B::Mul => Value::Number(a * b),
                B::Div if b == 0.0 => return Err("division by zero".into()),
                B::Div => Value::Number(a / b),
                B::Mod if b == 0.0 => return Err("modulo by zero".into()),
                B::Mod => Value::Number(a % b),
                B::Less => Value::Bool(a < b),
                B::LessEq => Value::Bool(a <= b),
                B::Greater => Value::Bool(a > b),
                _ => Value::Bool(a >= b),
            })
        }
    }
}
