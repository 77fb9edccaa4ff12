//! Terraform plan JSON (`terraform show -json PLANFILE`, format 1.x) read into the same resources
//! the HCL evaluator gives, so one mapping turns both into assets.
//!
//! Values come from `planned_values` (and `prior_state` for data sources read during the plan);
//! `resource_changes` says which resources the apply deletes (they do not count; a replacement
//! does) and, in `after_unknown`, which attributes only the apply sets. Those become references
//! to the resource they come from, found through `configuration`: each attribute's `references`,
//! followed through module inputs (`var.x` inside a module is the call's argument), outputs
//! (`module.vpc.vpc_id` is the output's references inside that module) and `each.value` (the
//! `for_each` expression). A reference to a counted resource without an index is one of its
//! instances, or the instance of the same `count.index`/`each.key` when the expression uses it.
//! An id an existing resource already has (`vpc_id = "vpc-0a1…"` of a VPC in the plan) links too.
//!
//! Where this differs from the HCL reader:
//! - plan JSON has no source lines: a resource's location is the plan file, at the line where its
//!   `address` first appears in `planned_values` (line 1 in the one-line file Terraform writes);
//! - `configuration` keeps `local.x` as written, not what it refers to: a value only the apply
//!   sets that is built from a local (or from nothing the configuration names) is one of the
//!   resources within the local's reach (what the apply creates in its module instance and the
//!   modules that calls, and what the instance's arguments refer to), and its reason says so;
//! - an attribute the configuration leaves out and the provider computes is unset.

use super::functions::from_json;
use super::{ResourceMode, RootModule, TfExistence, TfResource};
use crate::declare::TERRAFORM_TYPES;
use crate::{IacError, Location, Reference, Value};
use serde_json::Value as Json;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

/// Module inputs and outputs followed at most this deep, so a malformed plan cannot loop.
const MAX_REFERENCE_DEPTH: usize = 64;

/// Whether text is worth parsing as a plan: cheaper than parsing every JSON file twice.
pub fn looks_like_plan(text: &str) -> bool {
    text.contains("\"format_version\"") && text.contains("\"terraform_version\"")
}

/// A parsed JSON document that is a plan: what `terraform show -json PLANFILE` writes.
pub fn is_plan(doc: &Json) -> bool {
    doc.get("format_version").is_some_and(Json::is_string)
        && doc.get("terraform_version").is_some()
        && (doc.get("planned_values").is_some() || doc.get("resource_changes").is_some())
}

/// Read a plan; `None` for valid JSON that is not one. `file` names it in locations and errors.
/// Fails on a JSON syntax error or a format this does not read; a reference that cannot be
/// resolved is an error in `errors` and its value stays unknown.
pub fn read_plan(file: &str, text: &str) -> Result<Option<RootModule>, IacError> {
    let doc: Json = serde_json::from_str(text).map_err(|e| {
        IacError::new(
            file,
            Some(e.line()),
            Some(e.column()),
            format!("JSON syntax error: {e}"),
        )
    })?;
    if !is_plan(&doc) {
        return Ok(None);
    }
    let version = doc.get("format_version").and_then(Json::as_str).unwrap_or_default();
    if version.split('.').next() != Some("1") {
        let line = text
            .find("\"format_version\"")
            .map(|at| 1 + text[..at].matches('\n').count());
        return Err(IacError::new(
            file,
            line,
            None,
            format!("plan format_version {version} is not supported (1.x is)"),
        ));
    }
    let plan = Plan::new(file, text, &doc);
    let resources = plan.resources();
    Ok(Some(RootModule {
        dir: PathBuf::from(file),
        resources,
        errors: plan.errors.into_inner(),
    }))
}

/// One resource instance of `planned_values`, `prior_state` or `resource_changes`.
struct Instance<'a> {
    address: String,
    /// The module instance it is in: `""`, `module.vpc`, `module.vpc[0].module.subnets`.
    module: String,
    mode: ResourceMode,
    resource_type: String,
    index: Option<&'a Json>,
    values: Option<&'a Json>,
}

impl<'a> Instance<'a> {
    fn from_json(r: &'a Json, module: &str) -> Option<Instance<'a>> {
        let mode = match r.get("mode").and_then(Json::as_str)? {
            "managed" => ResourceMode::Managed,
            "data" => ResourceMode::Data,
            _ => return None,
        };
        Some(Instance {
            address: r.get("address")?.as_str()?.to_owned(),
            module: module.to_owned(),
            mode,
            resource_type: r.get("type")?.as_str()?.to_owned(),
            index: r.get("index"),
            // `resource_changes` has its values in the change.
            values: r.get("values"),
        })
    }

    /// `aws_vpc.this` or `data.aws_vpc.shared`: the address in its module, without the index.
    fn base(&self) -> String {
        let local = strip_module(&self.address, &self.module);
        match split_index(local) {
            Some((base, _)) => base.to_owned(),
            None => local.to_owned(),
        }
    }
}

/// An instance that will exist, its values, and its `after_unknown`.
type Existing<'p, 'a> = (&'p Instance<'a>, Option<&'a Json>, Option<&'a Json>);

/// What `resource_changes` says of one instance.
struct Change<'a> {
    actions: Vec<&'a str>,
    after: Option<&'a Json>,
    after_unknown: Option<&'a Json>,
}

impl Change<'_> {
    /// Deleted (or forgotten) by the apply, with nothing created in its place.
    fn removes(&self) -> bool {
        !self.actions.is_empty() && self.actions.iter().all(|a| matches!(*a, "delete" | "forget"))
    }
}

struct Plan<'a> {
    file: &'a str,
    configuration: Option<&'a Json>,
    planned: Vec<Instance<'a>>,
    prior: Vec<Instance<'a>>,
    changes: HashMap<String, (Instance<'a>, Change<'a>)>,
    change_order: Vec<String>,
    /// Instance addresses of each resource, by its module-qualified address without index.
    instances: BTreeMap<String, Vec<String>>,
    /// Instance addresses of each module call, by `module.a[0].module.b` without the last index.
    module_instances: BTreeMap<String, Vec<String>>,
    /// Instances the apply creates, of the types that become assets: what a value built from an
    /// unresolved local may point at.
    created: Vec<String>,
    /// Instances by their known `id`: what an existing resource's id in another one points at.
    ids: HashMap<String, String>,
    /// Each resource's configuration, by the module calls leading to it (`a.b`) and its address.
    configured: HashMap<(String, String), &'a Json>,
    lines: HashMap<String, usize>,
    errors: RefCell<Vec<IacError>>,
}

/// Where a reference is followed from: a module instance, and the `count.index`/`each.key` there.
#[derive(Clone, Copy)]
struct Scope<'s> {
    module: &'s str,
    key: Option<&'s Json>,
    /// The `for_each` expression there, which `each.value` stands for.
    for_each: Option<&'s Json>,
}

/// Whether a reference names something in the plan.
#[derive(PartialEq)]
enum Resolution {
    Resolved,
    NamesNothing,
}

/// What a value known only after apply is built from.
#[derive(Default)]
struct Origins {
    /// The attribute being resolved and the line of its resource, for errors.
    attribute: String,
    line: usize,
    targets: BTreeSet<Reference>,
    /// References the plan does not resolve (`local.x`).
    unresolved: BTreeSet<String>,
    /// Module instances whose reach is in `targets` already.
    reached: BTreeSet<String>,
}

impl<'a> Plan<'a> {
    fn new(file: &'a str, text: &'a str, doc: &'a Json) -> Plan<'a> {
        let mut planned = vec![];
        if let Some(root) = doc.pointer("/planned_values/root_module") {
            walk_module(root, "", &mut planned);
        }
        let mut prior = vec![];
        if let Some(root) = doc.pointer("/prior_state/values/root_module") {
            walk_module(root, "", &mut prior);
        }
        let mut changes = HashMap::new();
        let mut change_order = vec![];
        for rc in doc
            .get("resource_changes")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let module = rc.get("module_address").and_then(Json::as_str).unwrap_or("");
            let Some(instance) = Instance::from_json(rc, module) else {
                continue;
            };
            let change = rc.get("change");
            let change = Change {
                actions: change
                    .and_then(|c| c.get("actions"))
                    .and_then(Json::as_array)
                    .map(|a| a.iter().filter_map(Json::as_str).collect())
                    .unwrap_or_default(),
                after: change.and_then(|c| c.get("after")),
                after_unknown: change.and_then(|c| c.get("after_unknown")),
            };
            change_order.push(instance.address.clone());
            changes.insert(instance.address.clone(), (instance, change));
        }
        let configuration = doc.pointer("/configuration/root_module");
        let mut configured = HashMap::new();
        if let Some(root) = configuration {
            index_configuration(root, "", &mut configured);
        }
        let mut plan = Plan {
            file,
            configuration,
            configured,
            planned,
            prior,
            changes,
            change_order,
            instances: BTreeMap::new(),
            module_instances: BTreeMap::new(),
            created: vec![],
            ids: HashMap::new(),
            lines: address_lines(text),
            errors: RefCell::new(vec![]),
        };
        plan.index();
        plan
    }

    /// Every instance that will exist once applied, with its values and what only the apply
    /// knows: `planned_values`, then changes missing from it, then data sources of the prior state.
    fn existing(&self) -> Vec<Existing<'_, 'a>> {
        let mut out = vec![];
        let mut seen = BTreeSet::new();
        for i in &self.planned {
            let change = self.changes.get(&i.address).map(|(_, c)| c);
            if !change.is_some_and(Change::removes) && seen.insert(i.address.as_str()) {
                out.push((i, i.values, change.and_then(|c| c.after_unknown)));
            }
        }
        for (i, change) in self.change_order.iter().filter_map(|a| self.changes.get(a)) {
            if !change.removes() && seen.insert(i.address.as_str()) {
                out.push((i, change.after, change.after_unknown));
            }
        }
        for i in self.prior.iter().filter(|i| i.mode == ResourceMode::Data) {
            if seen.insert(i.address.as_str()) {
                out.push((i, i.values, None));
            }
        }
        out
    }

    /// Instances by resource and by module call, ids, and what the apply creates.
    fn index(&mut self) {
        let existing: Vec<(String, String, String)> = self
            .existing()
            .iter()
            .map(|(i, _, _)| (i.address.clone(), i.module.clone(), i.base()))
            .collect();
        for (address, module_address, base) in existing {
            self.instances
                .entry(qualify(&module_address, &base))
                .or_default()
                .push(address);
            let mut module = String::new();
            for segment in segments(&module_address) {
                let call = qualify(&module, &format!("{}.{}", segment.head, segment.name));
                module = qualify(&module, &segment.text());
                let known = self.module_instances.entry(call).or_default();
                if !known.contains(&module) {
                    known.push(module.clone());
                }
            }
        }
        let with_values = self
            .prior
            .iter()
            .chain(&self.planned)
            .map(|i| (i.address.as_str(), i.values))
            .chain(self.changes.values().map(|(i, c)| (i.address.as_str(), c.after)));
        let ids: HashMap<String, String> = with_values
            .filter_map(|(address, values)| {
                let id = values?.get("id")?.as_str()?;
                Some((id.to_owned(), address.to_owned()))
            })
            .collect();
        self.ids = ids;
        self.created = self
            .change_order
            .iter()
            .filter_map(|a| self.changes.get(a))
            .filter(|(i, c)| {
                i.mode == ResourceMode::Managed
                    && c.actions.contains(&"create")
                    && TERRAFORM_TYPES.contains(&i.resource_type.as_str())
            })
            .map(|(i, _)| i.address.clone())
            .collect();
    }

    fn resources(&self) -> Vec<TfResource> {
        self.existing()
            .into_iter()
            .map(|(i, values, unknown)| self.resource(i, values, unknown))
            .collect()
    }

    fn resource(&self, i: &Instance, values: Option<&Json>, unknown: Option<&Json>) -> TfResource {
        let config = self.resource_config(&i.module, &i.base());
        let expressions = config.and_then(|r| r.get("expressions"));
        let scope = Scope {
            module: &i.module,
            key: i.index,
            for_each: config.and_then(|r| r.get("for_each_expression")),
        };
        let attributes = self.merge(&i.address, scope, values, unknown, expressions, "");
        let line = self.lines.get(&i.address).copied().unwrap_or(1);
        TfResource {
            address: i.address.clone(),
            resource_type: i.resource_type.clone(),
            mode: i.mode,
            file: PathBuf::from(self.file),
            location: Location {
                line,
                column: 1,
                end_line: line,
            },
            existence: TfExistence::Exists,
            attributes,
        }
    }

    /// A value from the plan, with what `after_unknown` marks replaced by where it comes from.
    fn merge(
        &self,
        address: &str,
        scope: Scope,
        value: Option<&Json>,
        unknown: Option<&Json>,
        expression: Option<&Json>,
        path: &str,
    ) -> Value {
        if unknown == Some(&Json::Bool(true)) {
            return self.after_apply(address, scope, expression, path);
        }
        // An existing resource's id: a link to it, as an id known only after apply is.
        if let Some(Json::String(id)) = value.filter(|_| path.ends_with("_id")) {
            if let Some(target) = self.ids.get(id).filter(|t| *t != address) {
                return Value::Ref(Reference {
                    target: target.clone(),
                    attribute: Some("id".to_owned()),
                });
            }
        }
        match (value, unknown) {
            (Some(Json::Object(m)), _) | (None | Some(Json::Null), Some(Json::Object(m)))
                if value.is_some_and(Json::is_object) || !m.is_empty() =>
            {
                let empty = serde_json::Map::new();
                let unknown_map = unknown.and_then(Json::as_object).unwrap_or(&empty);
                let value_map = value.and_then(Json::as_object).unwrap_or(m);
                // An attribute the configuration leaves out and only the apply sets (the
                // provider computes it) is unset, as the HCL reader has it.
                let computed = |k: &String| {
                    unknown_map.get(k) == Some(&Json::Bool(true))
                        && expression.is_some_and(|e| !is_expression(e))
                        && nested_expression(expression, k, None).is_none()
                };
                let keys: BTreeSet<&String> = value_map
                    .keys()
                    .chain(unknown_map.keys())
                    .filter(|k| !computed(k))
                    .collect();
                let map = keys
                    .into_iter()
                    .map(|k| {
                        let v = self.merge(
                            address,
                            scope,
                            value_map.get(k),
                            unknown_map.get(k),
                            nested_expression(expression, k, None),
                            &join_path(path, k),
                        );
                        (k.clone(), v)
                    })
                    .collect();
                Value::Map(map)
            }
            (Some(Json::Array(items)), _) | (None | Some(Json::Null), Some(Json::Array(items)))
                if value.is_some_and(Json::is_array) || !items.is_empty() =>
            {
                let value_items = value.and_then(Json::as_array).unwrap_or(items);
                let unknown_items = unknown.and_then(Json::as_array);
                let len = value_items.len().max(unknown_items.map_or(0, Vec::len));
                let list = (0..len)
                    .map(|n| {
                        self.merge(
                            address,
                            scope,
                            value_items.get(n),
                            unknown_items.and_then(|u| u.get(n)),
                            nested_expression(expression, "", Some(n)),
                            &format!("{path}[{n}]"),
                        )
                    })
                    .collect();
                Value::List(list)
            }
            (Some(v), _) => from_json(v),
            (None, _) => Value::Null,
        }
    }

    /// The value of an attribute only the apply sets: the resource it comes from when there is
    /// one, else an unknown that names the attribute and what it is built from.
    fn after_apply(&self, address: &str, scope: Scope, expression: Option<&Json>, path: &str) -> Value {
        let mut references = vec![];
        collect_references(expression, &mut references);
        let attribute = join_path(address, path);
        let mut origins = Origins {
            attribute: attribute.clone(),
            line: self.lines.get(address).copied().unwrap_or(1),
            ..Origins::default()
        };
        self.follow(scope, &references, 0, &mut origins);
        if origins.unresolved.is_empty() && origins.targets.len() == 1 {
            if let Some(target) = origins.targets.pop_first() {
                return Value::Ref(target);
            }
        }
        let mut why = format!("{attribute} is known only after apply");
        let unresolved = if !origins.unresolved.is_empty() {
            let names: Vec<&str> = origins.unresolved.iter().map(String::as_str).collect();
            Some(format!("from {}, which the plan does not resolve", names.join(", ")))
        } else if origins.targets.is_empty() {
            self.within_reach(scope, 0, &mut origins);
            Some("from nothing the plan's configuration names".to_owned())
        } else {
            None
        };
        if let Some(unresolved) = unresolved {
            why.push_str(&format!(
                " ({unresolved}: one of the resources created in {} or given to it)",
                if scope.module.is_empty() {
                    "the root module"
                } else {
                    scope.module
                }
            ));
        } else if origins.targets.len() > 1 {
            let names: Vec<&str> = origins.targets.iter().map(|r| r.target.as_str()).collect();
            why.push_str(&format!(" (one of {})", names.join(", ")));
        }
        Value::Unknown {
            why,
            refs: origins.targets.into_iter().collect(),
        }
    }

    /// Follow `references` (as `configuration` lists them) from `scope` to resource attributes.
    fn follow(&self, scope: Scope, references: &[String], depth: usize, out: &mut Origins) {
        if depth > MAX_REFERENCE_DEPTH {
            let message = format!(
                "{}: references nest more than {MAX_REFERENCE_DEPTH} deep",
                out.attribute
            );
            self.error(out.line, message);
            return;
        }
        let mut references = references.to_vec();
        if references.iter().any(|r| r.starts_with("each.value")) {
            // `each.value.id` where `for_each = aws_vpc.this`: that resource, at this key.
            collect_references(scope.for_each, &mut references);
        }
        // Terraform lists `a.b[0].id`, then `a.b[0]` and `a.b`: the first says it all.
        let specific: Vec<&String> = references
            .iter()
            .filter(|r| {
                !references
                    .iter()
                    .any(|o| o.len() > r.len() && o.starts_with(r.as_str()) && o[r.len()..].starts_with(['.', '[']))
            })
            .collect();
        let by_key = specific
            .iter()
            .any(|r| r.as_str() == "count.index" || r.starts_with("each."));
        for reference in specific {
            let parts = segments(reference);
            let Some(first) = parts.first() else {
                continue;
            };
            match first.head.as_str() {
                "count" | "each" | "path" | "terraform" | "self" => {}
                "local" => {
                    out.unresolved.insert(qualify(scope.module, reference));
                    self.within_reach(scope, depth, out);
                }
                "var" => self.follow_variable(scope, &first.name, depth, out),
                "module" => self.follow_output(scope, &parts, reference, depth, out),
                "data" => {
                    let resolution = match parts.get(1) {
                        Some(resource) => {
                            let base = format!("data.{}.{}", first.name, resource.head);
                            self.follow_resource(scope, &base, resource, &parts[2..], by_key, out)
                        }
                        None => Resolution::NamesNothing,
                    };
                    if resolution == Resolution::NamesNothing {
                        self.unresolvable(scope, reference, depth, out);
                    }
                }
                resource_type => {
                    let base = format!("{resource_type}.{}", first.name);
                    if self.follow_resource(scope, &base, first, &parts[1..], by_key, out) == Resolution::NamesNothing {
                        self.unresolvable(scope, reference, depth, out);
                    }
                }
            }
        }
    }

    /// What a value the plan does not resolve may come from, as only the apply sets it: what the
    /// apply creates in this module instance and the modules it calls, and whatever the call's
    /// arguments refer to (a local or output can only be built from those).
    fn within_reach(&self, scope: Scope, depth: usize, out: &mut Origins) {
        if !out.reached.insert(scope.module.to_owned()) {
            return;
        }
        let prefix = format!("{}.", scope.module);
        let inside = self
            .created
            .iter()
            .filter(|a| scope.module.is_empty() || a.starts_with(&prefix))
            .map(|a| Reference {
                target: a.clone(),
                attribute: None,
            });
        out.targets.extend(inside);
        let mut steps = segments(scope.module);
        let Some(call) = steps.pop() else {
            return;
        };
        let caller: Vec<String> = steps.iter().map(Segment::text).collect();
        let caller = caller.join(".");
        let call_config = self
            .module_config(&caller)
            .and_then(|m| m.get("module_calls"))
            .and_then(|c| c.get(&call.name));
        let mut references = vec![];
        collect_references(call_config.and_then(|c| c.get("expressions")), &mut references);
        let key = call.index.and_then(|k| serde_json::from_str::<Json>(&k).ok());
        let caller_scope = Scope {
            module: &caller,
            key: key.as_ref(),
            for_each: call_config.and_then(|c| c.get("for_each_expression")),
        };
        self.follow(caller_scope, &references, depth + 1, out);
    }

    /// `var.NAME` inside a module: the argument its call gives (a root variable is known).
    fn follow_variable(&self, scope: Scope, name: &str, depth: usize, out: &mut Origins) {
        let mut steps = segments(scope.module);
        let Some(call) = steps.pop() else {
            return;
        };
        let caller: Vec<String> = steps.iter().map(Segment::text).collect();
        let caller = caller.join(".");
        let (call_name, key) = (call.name, call.index);
        let call = self
            .module_config(&caller)
            .and_then(|m| m.get("module_calls"))
            .and_then(|c| c.get(&call_name));
        let argument = call.and_then(|c| c.get("expressions")).and_then(|e| e.get(name));
        let mut references = vec![];
        collect_references(argument, &mut references);
        let key = key.and_then(|k| serde_json::from_str::<Json>(&k).ok());
        let caller_scope = Scope {
            module: &caller,
            key: key.as_ref(),
            for_each: call.and_then(|c| c.get("for_each_expression")),
        };
        self.follow(caller_scope, &references, depth + 1, out);
    }

    /// `module.CALL.OUTPUT`: the output's references inside each instance of the call.
    fn follow_output(&self, scope: Scope, parts: &[Segment], reference: &str, depth: usize, out: &mut Origins) {
        let (Some(call), Some(output)) = (parts.first(), parts.get(1)) else {
            return;
        };
        let expression = self
            .module_config(scope.module)
            .and_then(|m| m.get("module_calls"))
            .and_then(|c| c.get(&call.name))
            .and_then(|c| c.pointer("/module/outputs"))
            .and_then(|o| o.get(&output.head))
            .and_then(|o| o.get("expression"));
        let Some(expression) = expression else {
            self.unresolvable(scope, reference, depth, out);
            return;
        };
        let mut references = vec![];
        collect_references(Some(expression), &mut references);
        let call_address = qualify(scope.module, &format!("module.{}", call.name));
        let children: Vec<String> = match &call.index {
            Some(_) => vec![qualify(scope.module, &call.text())],
            None => self.module_instances.get(&call_address).cloned().unwrap_or_default(),
        };
        for child in &children {
            let child_scope = Scope {
                module: child,
                key: None,
                for_each: None,
            };
            self.follow(child_scope, &references, depth + 1, out);
        }
    }

    /// A resource, or one instance of it; the rest of the reference is the attribute.
    fn follow_resource(
        &self,
        scope: Scope,
        base: &str,
        named: &Segment,
        rest: &[Segment],
        by_key: bool,
        out: &mut Origins,
    ) -> Resolution {
        let qualified = qualify(scope.module, base);
        let attribute = (!rest.is_empty()).then(|| rest.iter().map(Segment::text).collect::<Vec<_>>().join("."));
        let target = |address: String| Reference {
            target: address,
            attribute: attribute.clone(),
        };
        let Some(instances) = self.instances.get(&qualified) else {
            if self.resource_config(scope.module, base).is_none() {
                return Resolution::NamesNothing;
            }
            // Configured, but no instance will exist (`count = 0`).
            out.targets.insert(target(qualified));
            return Resolution::Resolved;
        };
        if let Some(index) = &named.index {
            out.targets.insert(target(format!("{qualified}[{index}]")));
        } else if instances.contains(&qualified) {
            out.targets.insert(target(qualified));
        } else {
            // `aws_vpc.this[count.index]`: the instance with this one's index, when there is one.
            let same = scope
                .key
                .filter(|_| by_key)
                .map(|key| format!("{qualified}[{}]", index_text(key)))
                .filter(|same| instances.contains(same));
            match same {
                Some(same) => {
                    out.targets.insert(target(same));
                }
                None => out.targets.extend(instances.iter().cloned().map(target)),
            }
        }
        Resolution::Resolved
    }

    /// The configuration of a module instance (`module.a[0].module.b` → calls a, b).
    fn module_config(&self, module: &str) -> Option<&'a Json> {
        let mut config = self.configuration?;
        for segment in segments(module) {
            config = config.get("module_calls")?.get(&segment.name)?.get("module")?;
        }
        Some(config)
    }

    fn resource_config(&self, module: &str, base: &str) -> Option<&'a Json> {
        let calls: Vec<String> = segments(module).into_iter().map(|s| s.name).collect();
        self.configured.get(&(calls.join("."), base.to_owned())).copied()
    }

    fn unresolvable(&self, scope: Scope, reference: &str, depth: usize, out: &mut Origins) {
        let message = format!(
            "{}: the reference {reference} names nothing in the plan's configuration",
            out.attribute
        );
        self.error(out.line, message);
        out.unresolved.insert(reference.to_owned());
        self.within_reach(scope, depth, out);
    }

    /// An error at the line of the resource it concerns (once per message).
    fn error(&self, line: usize, message: String) {
        let mut errors = self.errors.borrow_mut();
        if !errors.iter().any(|e| e.message == message) {
            errors.push(IacError::new(self.file, Some(line), None, message));
        }
    }
}

fn index_configuration<'a>(module: &'a Json, calls: &str, out: &mut HashMap<(String, String), &'a Json>) {
    for r in module.get("resources").and_then(Json::as_array).into_iter().flatten() {
        if let Some(address) = r.get("address").and_then(Json::as_str) {
            out.insert((calls.to_owned(), address.to_owned()), r);
        }
    }
    let children = module.get("module_calls").and_then(Json::as_object);
    for (name, call) in children.into_iter().flatten() {
        if let Some(child) = call.get("module") {
            let path = if calls.is_empty() {
                name.clone()
            } else {
                format!("{calls}.{name}")
            };
            index_configuration(child, &path, out);
        }
    }
}

fn walk_module<'a>(module: &'a Json, address: &str, out: &mut Vec<Instance<'a>>) {
    for r in module.get("resources").and_then(Json::as_array).into_iter().flatten() {
        out.extend(Instance::from_json(r, address));
    }
    for child in module
        .get("child_modules")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let child_address = child.get("address").and_then(Json::as_str).unwrap_or(address);
        walk_module(child, child_address, out);
    }
}

/// The expression of one attribute of a block: blocks are objects of expressions (or lists of
/// them); an expression is an object with `references` or `constant_value`.
fn nested_expression<'e>(expression: Option<&'e Json>, key: &str, item: Option<usize>) -> Option<&'e Json> {
    let e = expression?;
    if is_expression(e) {
        // The same expression makes the whole value.
        return Some(e);
    }
    match item {
        Some(n) => match e {
            Json::Array(items) => items.get(n),
            other => Some(other),
        },
        None => match e {
            Json::Array(items) => items.first().and_then(|b| b.get(key)),
            other => other.get(key),
        },
    }
}

fn is_expression(e: &Json) -> bool {
    e.get("references").is_some() || e.get("constant_value").is_some()
}

/// Every reference an expression (or a block of them) lists.
fn collect_references(expression: Option<&Json>, out: &mut Vec<String>) {
    match expression {
        Some(Json::Object(m)) => {
            if let Some(refs) = m.get("references").and_then(Json::as_array) {
                out.extend(refs.iter().filter_map(Json::as_str).map(str::to_owned));
            } else if m.get("constant_value").is_none() {
                m.values().for_each(|v| collect_references(Some(v), out));
            }
        }
        Some(Json::Array(items)) => items.iter().for_each(|v| collect_references(Some(v), out)),
        _ => {}
    }
}

/// One step of an address or reference: `aws_vpc`, `this[0]`, `module`, `vpc["a"]`.
#[derive(Debug, Clone, PartialEq)]
struct Segment {
    /// The step before the name (`module`, `var`, a resource type), or the name itself when the
    /// step stands alone.
    head: String,
    name: String,
    /// The text between brackets, quotes included: `0`, `"a"`.
    index: Option<String>,
}

impl Segment {
    fn text(&self) -> String {
        let step = if self.head == self.name {
            self.name.clone()
        } else {
            format!("{}.{}", self.head, self.name)
        };
        match &self.index {
            Some(i) => format!("{step}[{i}]"),
            None => step,
        }
    }
}

/// Split `module.vpc[0].aws_vpc.this["a"].id` into dot-separated steps, respecting quoted keys.
/// A segment pairs a kind with a name where the address has one: `var.x` gives head `var`, name
/// `x`; an attribute is a segment whose head and name are the same.
fn segments(text: &str) -> Vec<Segment> {
    let mut steps: Vec<(String, Option<String>)> = vec![];
    let mut current = String::new();
    let mut index: Option<String> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => steps.push((std::mem::take(&mut current), index.take())),
            '[' => {
                let mut inside = String::new();
                let mut quoted = false;
                while let Some(d) = chars.next() {
                    match d {
                        '"' => {
                            quoted = !quoted;
                            inside.push(d);
                        }
                        '\\' if quoted => {
                            inside.push(d);
                            if let Some(e) = chars.next() {
                                inside.push(e);
                            }
                        }
                        ']' if !quoted => break,
                        _ => inside.push(d),
                    }
                }
                index = Some(inside);
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() || index.is_some() {
        steps.push((current, index));
    }
    // Pair steps: `module.vpc[0]` → head `module`, name `vpc`, index `0`. After the module path
    // the first step pairs with the next (`aws_vpc.this`, `var.x`, `data.aws_vpc`); the rest
    // (attributes, a data source's name) stand alone.
    let mut out = vec![];
    let mut in_path = true;
    let mut n = 0;
    while n < steps.len() {
        let (head, head_index) = &steps[n];
        let next = steps.get(n + 1).filter(|_| in_path && head_index.is_none());
        if let Some((name, index)) = next {
            out.push(Segment {
                head: head.clone(),
                name: name.clone(),
                index: index.clone(),
            });
            in_path = head == "module";
            n += 2;
            continue;
        }
        in_path = false;
        out.push(Segment {
            head: head.clone(),
            name: head.clone(),
            index: head_index.clone(),
        });
        n += 1;
    }
    out
}

/// `aws_vpc.this[0]` → (`aws_vpc.this`, `0`).
fn split_index(address: &str) -> Option<(&str, &str)> {
    let open = address.rfind('[')?;
    address
        .ends_with(']')
        .then(|| (&address[..open], &address[open + 1..address.len() - 1]))
}

fn strip_module<'s>(address: &'s str, module: &str) -> &'s str {
    if module.is_empty() {
        return address;
    }
    address
        .strip_prefix(module)
        .and_then(|a| a.strip_prefix('.'))
        .unwrap_or(address)
}

fn qualify(module: &str, local: &str) -> String {
    if module.is_empty() {
        local.to_owned()
    } else {
        format!("{module}.{local}")
    }
}

fn join_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// An instance key as addresses write it: `0`, `"a"`.
fn index_text(key: &Json) -> String {
    match key {
        Json::String(s) => Json::String(s.clone()).to_string(),
        other => other.to_string(),
    }
}

/// The line where each address first appears as an `"address"` value in `planned_values` (or
/// anywhere, for a plan without it), found in one pass over the text.
fn address_lines(text: &str) -> HashMap<String, usize> {
    let start = text.find("\"planned_values\"").unwrap_or(0);
    let mut lines = HashMap::new();
    let mut line = 1 + text[..start].matches('\n').count();
    let mut counted = start;
    let key = "\"address\"";
    let mut from = start;
    while let Some(found) = text[from..].find(key) {
        let at = from + found;
        from = at + key.len();
        let rest = text[from..].trim_start();
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let rest = rest.trim_start();
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<String>();
        if let Some(Ok(address)) = stream.next() {
            line += text[counted..at].matches('\n').count();
            counted = at;
            lines.entry(address).or_insert(line);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_pair_steps_and_keep_quoted_keys() {
        let s = segments("module.vpc[0].aws_vpc.this[\"a.b]\"].id");
        let texts: Vec<(String, String, Option<String>)> = s.into_iter().map(|s| (s.head, s.name, s.index)).collect();
        assert_eq!(
            texts,
            vec![
                ("module".into(), "vpc".into(), Some("0".into())),
                ("aws_vpc".into(), "this".into(), Some("\"a.b]\"".into())),
                ("id".into(), "id".into(), None),
            ]
        );
    }

    #[test]
    fn address_lines_find_each_resource_once() {
        let text = "{\"x\": 1,\n\"planned_values\": {\n \"address\": \"aws_vpc.a\",\n\n \"address\" : \"aws_vpc.b[\\\"k\\\"]\"}}";
        let lines = address_lines(text);
        assert_eq!(lines.get("aws_vpc.a"), Some(&3));
        assert_eq!(lines.get("aws_vpc.b[\"k\"]"), Some(&5));
    }
}
