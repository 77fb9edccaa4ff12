//! `--iac PATH`: files and folders, recognised by their content, read into declared assets.
//!
//! A folder yields every Terraform root module in it, every Terraform plan in JSON
//! (`terraform show -json PLANFILE`) and every CloudFormation template (CDK's
//! `cdk.out/*.template.json` included); `node_modules`, `.terraform` and hidden folders are
//! skipped, and JSON or YAML files that are not templates are ignored. A file given by name must be
//! a template or a `.tf` file (its folder is read as a root module). What cannot be read is an error
//! with file, line and column; the rest is still read. A folder that another root of the scan
//! calls as a module is read in its caller's context only.

use crate::cloudformation::{self, Options};
use crate::terraform::{self, plan, RootModule, TfOptions};
use crate::IacError;
use crate::{declare, inline};
use netaudit_model::{DeclaredAsset, DeclaredException};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

/// Everything the paths declare, and what could not be read.
#[derive(Debug, Default)]
pub struct Declared {
    pub assets: Vec<DeclaredAsset>,
    pub errors: Vec<IacError>,
    /// Exceptions written on resources, as written (the checks validate them).
    pub exceptions: Vec<DeclaredException>,
    /// Terraform root folders and template files read, in order.
    pub units: Vec<String>,
}

const TEMPLATE_EXTENSIONS: [&str; 4] = ["json", "yaml", "yml", "template"];

fn is_skipped_dir(name: &str) -> bool {
    name.starts_with('.') || name == "node_modules"
}

/// Template candidates under `dir`, in path order.
fn template_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = vec![];
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            match entry.file_type() {
                Ok(t) if t.is_dir() && !is_skipped_dir(&name) => pending.push(path),
                Ok(t) if t.is_file() => {
                    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                    if TEMPLATE_EXTENSIONS.contains(&ext) {
                        files.push(path);
                    }
                }
                _ => {}
            }
        }
    }
    files.sort();
    files
}

/// Whether text that failed to parse was meant as a template, so its error is worth reporting.
fn looks_like_template(text: &str) -> bool {
    text.contains("AWSTemplateFormatVersion") || (text.contains("Resources") && text.contains("AWS::"))
}

impl Declared {
    fn template(&mut self, path: &Path, options: &Options, named: bool) {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                self.errors
                    .push(IacError::new(&shown, None, None, format!("cannot read: {e}")));
                return;
            }
        };
        if plan::looks_like_plan(&text) {
            match plan::read_plan(&shown, &text) {
                Ok(Some(root)) => {
                    self.assets.extend(declare::from_terraform(&root, &shown));
                    self.errors.extend(root.errors);
                    self.units.push(shown);
                    return;
                }
                Ok(None) => {}
                Err(e) => {
                    self.errors.push(e);
                    return;
                }
            }
        }
        match cloudformation::load(&shown, &text, options) {
            Ok(template) => {
                let assets = declare::from_template(&template);
                let inline = inline::from_template(&template, &text, &assets);
                self.assets.extend(assets);
                self.exceptions.extend(inline.exceptions);
                self.errors.extend(inline.errors);
                self.errors.extend(template.errors);
                self.units.push(shown);
            }
            Err(e) if named || looks_like_template(&text) => self.errors.push(e),
            Err(_) => {}
        }
    }

    fn terraform_root(&mut self, dir: &Path, options: &TfOptions) {
        let root = terraform::load_root(dir, options);
        self.add_root(root);
    }

    fn add_root(&mut self, root: RootModule) {
        let unit = root.dir.display().to_string();
        let assets = declare::from_terraform(&root, &unit);
        let inline = inline::from_terraform(&root, &unit, &assets);
        self.assets.extend(assets);
        self.exceptions.extend(inline.exceptions);
        self.errors.extend(inline.errors);
        // Terraform names files relative to their root folder.
        self.errors.extend(root.errors.into_iter().map(|mut e| {
            let in_root = root.dir.join(&e.path);
            if Path::new(&e.path).is_relative() && in_root.exists() {
                e.path = in_root.display().to_string();
            }
            e
        }));
        self.units.push(unit);
    }
}

/// The root modules in `dirs`, in order, evaluated on every core: each root has an evaluator of
/// its own, so they share nothing while they run.
fn load_roots(dirs: &[PathBuf], tf: &TfOptions) -> Vec<RootModule> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_worker = dirs.len().div_ceil(workers).max(1);
    let load = |part: &[PathBuf]| -> Vec<RootModule> { part.iter().map(|dir| terraform::load_root(dir, tf)).collect() };
    std::thread::scope(|s| {
        let started: Vec<_> = dirs
            .chunks(per_worker)
            .map(|part| {
                let handle = std::thread::Builder::new()
                    .name("terraform-roots".into())
                    .spawn_scoped(s, move || load(part));
                (part, handle)
            })
            .collect();
        started
            .into_iter()
            .flat_map(|(part, handle)| match handle {
                // load_root catches a failed evaluation itself; a thread that could not start or
                // stopped leaves its part to this one.
                Ok(h) => h.join().unwrap_or_else(|_| load(part)),
                Err(_) => load(part),
            })
            .collect()
    })
}

/// Read every path. Never fails as a whole: each unreadable input is an error and the rest go on.
pub fn read(paths: &[PathBuf], tf: &TfOptions, cfn: &Options) -> Declared {
    let mut out = Declared::default();
    for path in paths {
        if path.is_dir() {
            let dirs: Vec<PathBuf> = terraform::find_roots(path)
                .into_iter()
                .filter(|root| {
                    !root
                        .strip_prefix(path)
                        .unwrap_or(root)
                        .components()
                        .any(|c| is_skipped_dir(&c.as_os_str().to_string_lossy()))
                })
                .collect();
            let roots = load_roots(&dirs, tf);
            // A folder another root calls as a module is read in its caller's context only: on
            // its own its inputs are unset and its resources would be checked without the
            // caller's flow logs.
            let called: HashSet<PathBuf> = roots
                .iter()
                .flat_map(|r| &r.resources)
                .filter(|r| r.address.starts_with("module."))
                .filter_map(|r| r.file.parent().map(canonical))
                .collect();
            for root in roots {
                if !called.contains(&canonical(&root.dir)) {
                    out.add_root(root);
                }
            }
            for file in template_files(path) {
                out.template(&file, cfn, false);
            }
        } else if path.extension().is_some_and(|e| e == "tf") {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
                _ => PathBuf::from("."),
            };
            out.terraform_root(&dir, tf);
        } else if path.is_file() {
            out.template(path, cfn, true);
        } else {
            out.errors.push(IacError::new(
                &path.display().to_string(),
                None,
                None,
                "no such file or folder",
            ));
        }
    }
    out
}
