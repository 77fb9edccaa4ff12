//! Terraform configurations (HCL), evaluated as far as they can be before `terraform plan`.
//!
//! A scanned folder holds root modules: every folder with `.tf` files (hidden folders and
//! `.terraform/` skipped), each evaluated with its own variable files. Variables take the value
//! given (`terraform.tfvars`, `*.auto.tfvars`, `--var-file`, `--var`) or their default; `count`
//! and `for_each` expand resources into instances (`aws_vpc.this[0]`, `aws_subnet.s["a"]`);
//! `dynamic` blocks expand into the blocks they make; local modules are evaluated in their
//! caller's context. What only the apply knows becomes a [`Reference`](crate::Reference) to the
//! resource instance (`aws_vpc.this[0].id`) or an unknown that names the expression.
//!
//! Where this differs from `terraform plan`, on purpose:
//! - an identifier the apply sets is never null or empty, so `aws_vpc.this.id != ""` is true and
//!   `coalesce(aws_vpc.this.id, "x")` is the reference (Terraform says "unknown" to both);
//! - a `count` or `for_each` not known before apply (an error in Terraform) gives one instance,
//!   addressed without an index, whose existence is unknown;
//! - an attribute set to `null` is left out, as Terraform treats it as unset;
//! - module calls nest at most 64 deep and one `count` expands at most 100,000 instances;
//! - `*.tf.json` files and `override.tf` files are not read; functions that read files, hash,
//!   or use regular expressions give unknowns.

mod config;
mod eval;
mod functions;
pub mod plan;

use crate::{IacError, Location, Value};
use config::SourceFile;
use eval::{Engine, Given};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// What the caller gives the root module, as Terraform's command line does.
#[derive(Debug, Clone, Default)]
pub struct TfOptions {
    /// `--var NAME=VALUE`, in command-line order.
    pub vars: Vec<(String, String)>,
    /// `--var-file PATH`, in command-line order; a relative path is looked up in the root module's
    /// folder first, then where the caller runs.
    pub var_files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceMode {
    /// A `resource` block: created by the apply.
    Managed,
    /// A `data` block: read from the account.
    Data,
}

/// Whether a resource instance will exist once applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TfExistence {
    Exists,
    /// `count = 0` or an empty `for_each`.
    Absent {
        why: String,
    },
    /// Its `count` or `for_each` (or a module call's) is not known before apply.
    Unknown {
        why: String,
    },
}

#[derive(Debug, Clone)]
pub struct TfResource {
    /// `module.vpc.aws_vpc.this[0]`, `aws_flow_log.by_vpc["main"]`, `data.aws_vpc.shared`.
    pub address: String,
    /// `aws_vpc`, `aws_flow_log`, ...
    pub resource_type: String,
    pub mode: ResourceMode,
    pub file: PathBuf,
    pub location: Location,
    pub existence: TfExistence,
    /// The evaluated configuration, a map; nested blocks (also those `dynamic` makes) are lists of
    /// maps under the block's name, e.g. `connection_log_options = [{ enabled = true, ... }]`.
    pub attributes: Value,
}

#[derive(Debug, Clone)]
pub struct RootModule {
    /// The root module's folder, or the plan file it was read from.
    pub dir: PathBuf,
    /// Resource instances of the root module and of the local modules it calls, in declaration
    /// order; a resource with no instance appears once with its existence `Absent`.
    pub resources: Vec<TfResource>,
    /// Files, expressions and module calls that could not be read or evaluated; the values that
    /// depend on them are unknown.
    pub errors: Vec<IacError>,
}

impl RootModule {
    pub fn resource(&self, address: &str) -> Option<&TfResource> {
        self.resources.iter().find(|r| r.address == address)
    }
}

/// Every folder under `dir` (itself included) that holds `.tf` files, skipping hidden folders
/// such as `.terraform/`, in path order.
pub fn find_roots(dir: &Path) -> Vec<PathBuf> {
    let mut roots = vec![];
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        if config::tf_files(&d).is_ok_and(|f| !f.is_empty()) {
            roots.push(d.clone());
        }
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if !hidden && entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(path);
            }
        }
    }
    roots.sort();
    roots
}

/// Every root module under `dir`, each evaluated with its own variable files, as
/// `checkov -d` scans a folder. A root that cannot be read has its errors; the others go on.
pub fn scan(dir: &Path, options: &TfOptions) -> Vec<RootModule> {
    find_roots(dir).iter().map(|root| load_root(root, options)).collect()
}

/// Large enough for deep module chains and deeply nested expressions, whatever the caller's stack.
const EVALUATION_STACK: usize = 256 * 1024 * 1024;

/// Evaluate the root module in `dir` and the local modules it calls. Never fails: what cannot be
/// read is in `errors` and the rest is evaluated.
pub fn load_root(dir: &Path, options: &TfOptions) -> RootModule {
    let run = || {
        let engine = Engine::new(dir);
        let given = variable_values(&engine, dir, options);
        let resources = engine.evaluate_root(dir, given);
        (resources, engine.into_errors())
    };
    let outcome = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("terraform-evaluation".into())
            .stack_size(EVALUATION_STACK)
            .spawn_scoped(s, run)
            .map(|handle| handle.join())
    });
    let (resources, errors) = match outcome {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => (
            vec![],
            vec![IacError::new(
                &dir.display().to_string(),
                None,
                None,
                "the evaluation stopped unexpectedly",
            )],
        ),
        // No thread could be started: evaluate on this one.
        Err(_) => run(),
    };
    RootModule {
        dir: dir.to_owned(),
        resources,
        errors,
    }
}

/// The root module's variable values in Terraform's precedence order, later files winning:
/// `terraform.tfvars`, `terraform.tfvars.json`, `*.auto.tfvars(.json)` by file name, `--var-file`s,
/// then `--var`s.
fn variable_values(engine: &Engine, dir: &Path, options: &TfOptions) -> BTreeMap<String, Given> {
    let mut files = vec![dir.join("terraform.tfvars"), dir.join("terraform.tfvars.json")];
    let mut auto: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    name.ends_with(".auto.tfvars") || name.ends_with(".auto.tfvars.json")
                })
                .collect()
        })
        .unwrap_or_default();
    auto.sort();
    files.extend(auto);
    let mut values = BTreeMap::new();
    for path in files.iter().filter(|p| p.is_file()) {
        read_var_file(engine, dir, path, &mut values);
    }
    for path in &options.var_files {
        // As Terraform run in the root module reads it; failing that, as the caller wrote it.
        let in_root = dir.join(path);
        let path = if in_root.is_file() { in_root } else { path.clone() };
        if path.is_file() {
            read_var_file(engine, dir, &path, &mut values);
        } else {
            engine.record(IacError::new(
                &path.display().to_string(),
                None,
                None,
                "the variables file does not exist",
            ));
        }
    }
    for (name, text) in &options.vars {
        values.insert(name.clone(), Given::Text(text.clone()));
    }
    values
}

fn read_var_file(engine: &Engine, dir: &Path, path: &Path, values: &mut BTreeMap<String, Given>) {
    let shown = config::shown_path(path, dir);
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            engine.record(IacError::new(&shown, None, None, format!("cannot read the file: {e}")));
            return;
        }
    };
    if path.extension().is_some_and(|e| e == "json") {
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(m)) => {
                for (k, v) in &m {
                    values.insert(k.clone(), Given::Value(functions::from_json(v)));
                }
            }
            Ok(_) => engine.record(IacError::new(
                &shown,
                Some(1),
                Some(1),
                "a variables file must hold a JSON object",
            )),
            Err(e) => engine.record(IacError::new(
                &shown,
                Some(e.line()),
                Some(e.column()),
                format!("JSON syntax error: {e}"),
            )),
        }
        return;
    }
    let body = match config::parse_hcl(&shown, &text) {
        Ok(b) => b,
        Err(e) => {
            engine.record(e);
            return;
        }
    };
    let file = Rc::new(SourceFile::new(path.to_owned(), shown, text));
    for attr in body.attributes() {
        match engine.eval_constant(&file, &attr.value) {
            Ok(v) => {
                values.insert(attr.key.as_str().to_owned(), Given::Value(v));
            }
            Err(e) => engine.record(e),
        }
    }
}
