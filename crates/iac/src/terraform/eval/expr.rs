//! Expressions: literals, templates, operators, `for`, function calls and references.

use super::{config, is_pending, number_text, show_value, unknown_of, Engine, Mode, Res, Scope, INSTANCE_ADDRESS};
use crate::terraform::functions::{self, Fail};
use crate::{IacError, Reference, Value};
use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::Span;
use std::borrow::Cow;
use std::collections::BTreeMap;

impl Engine {
    pub(super) fn eval(&self, scope: &Scope, expr: &Expression) -> Res {
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
        let mut r = Rendering::default();
        self.render(scope, template, &mut r)?;
        let Rendering { out, pending, .. } = r;
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

    fn render(&self, scope: &Scope, template: &Template, r: &mut Rendering) -> Result<(), IacError> {
        for element in template.iter() {
            match element {
                Element::Literal(s) => r.literal(s.value()),
                Element::Interpolation(i) => {
                    r.strip(i.strip.strip_start());
                    match self.eval(scope, &i.expr)? {
                        Value::Str(s) => r.out.push_str(&s),
                        Value::Number(n) => r.out.push_str(&number_text(n)),
                        Value::Bool(b) => r.out.push_str(&b.to_string()),
                        p if is_pending(&p) => r.pending.push(p),
                        other => {
                            return Err(scope.file.error(
                                i.expr.span(),
                                format!("{} cannot be part of a string", show_value(&other)),
                            ))
                        }
                    }
                    r.trim_next = i.strip.strip_end();
                }
                Element::Directive(Directive::If(d)) => {
                    r.strip(d.if_expr.strip.strip_start());
                    let else_strip = d.else_expr.as_ref().map(|e| e.strip);
                    match self.eval(scope, &d.if_expr.cond_expr)? {
                        Value::Bool(true) => {
                            r.trim_next = d.if_expr.strip.strip_end();
                            self.render(scope, &d.if_expr.template, r)?;
                            r.strip(else_strip.unwrap_or(d.endif_expr.strip).strip_start());
                        }
                        Value::Bool(false) => {
                            if let Some(e) = &d.else_expr {
                                r.trim_next = e.strip.strip_end();
                                self.render(scope, &e.template, r)?;
                            }
                            r.strip(d.endif_expr.strip.strip_start());
                        }
                        other => {
                            r.pending
                                .push(unknown_of("a template condition known only after apply", &[&other]));
                        }
                    }
                    r.trim_next = d.endif_expr.strip.strip_end();
                }
                Element::Directive(Directive::For(d)) => {
                    let f = &d.for_expr;
                    r.strip(f.strip.strip_start());
                    let collection = self.eval(scope, &f.collection_expr)?;
                    for (k, v) in pairs_of(&collection).map_err(|m| scope.file.error(f.collection_expr.span(), m))? {
                        let mut inner = scope.clone();
                        if let Some(kv) = &f.key_var {
                            inner.names.push((kv.as_str().to_owned(), k));
                        }
                        inner.names.push((f.value_var.as_str().to_owned(), v));
                        r.trim_next = f.strip.strip_end();
                        self.render(&inner, &f.template, r)?;
                        r.strip(d.endfor_expr.strip.strip_start());
                    }
                    if is_pending(&collection) {
                        r.pending.push(collection);
                    }
                    r.trim_next = d.endfor_expr.strip.strip_end();
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

    pub(super) fn apply_ops(
        &self,
        scope: &Scope,
        value: &Value,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
    ) -> Res {
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

/// A template's text so far, and what `~` strip markers ask of the text around them.
#[derive(Default)]
struct Rendering {
    out: String,
    /// Parts known only after apply.
    pending: Vec<Value>,
    /// The previous marker ended with `~`: the next literal loses its leading whitespace.
    trim_next: bool,
}

impl Rendering {
    fn literal(&mut self, text: &str) {
        if std::mem::take(&mut self.trim_next) {
            self.out.push_str(text.trim_start());
        } else {
            self.out.push_str(text);
        }
    }

    /// A marker starting with `~` removes the whitespace before it; a marker ends what the
    /// previous one asked of the next literal.
    fn strip(&mut self, strip_start: bool) {
        self.trim_next = false;
        if strip_start {
            let kept = self.out.trim_end().len();
            self.out.truncate(kept);
        }
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
