//! One module folder read into its declarations, each with the file and span it came from.

use crate::{IacError, Location};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};
use hcl_edit::Span;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

/// A source file and where its lines start, to turn byte spans into lines and columns.
#[derive(Debug)]
pub(super) struct SourceFile {
    pub path: PathBuf,
    /// The path shown in messages (relative to the scanned folder when inside it).
    pub shown: String,
    text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: PathBuf, shown: String, text: String) -> SourceFile {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            path,
            shown,
            text,
            line_starts,
        }
    }

    fn line_column(&self, offset: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let end = offset.min(self.text.len());
        let column = self.text.get(start..end).map_or(end - start, |s| s.chars().count()) + 1;
        (line, column)
    }

    pub fn location(&self, span: Option<Range<usize>>) -> Location {
        let span = span.unwrap_or(0..0);
        let (line, column) = self.line_column(span.start);
        let (end_line, _) = self.line_column(span.end.saturating_sub(1).max(span.start));
        Location { line, column, end_line }
    }

    pub fn error(&self, span: Option<Range<usize>>, message: impl Into<String>) -> IacError {
        let l = self.location(span);
        IacError::new(&self.shown, Some(l.line), Some(l.column), message)
    }

    /// `main.tf:3`, for unknowns that name where they come from.
    pub fn at(&self, span: Option<Range<usize>>) -> String {
        format!("{}:{}", self.shown, self.location(span).line)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Managed,
    Data,
}

#[derive(Debug)]
pub(super) struct Declared<T> {
    pub file: Rc<SourceFile>,
    pub item: T,
}

#[derive(Debug)]
pub(super) struct ResourceDecl {
    pub mode: Mode,
    pub resource_type: String,
    pub name: String,
    pub block: Block,
}

#[derive(Debug, Default)]
pub(super) struct ModuleConfig {
    pub dir: PathBuf,
    pub variables: BTreeMap<String, Declared<Block>>,
    pub locals: HashMap<String, Declared<Expression>>,
    pub outputs: BTreeMap<String, Declared<Expression>>,
    pub resources: Vec<Declared<ResourceDecl>>,
    pub resource_index: HashMap<(Mode, String, String), usize>,
    pub module_calls: BTreeMap<String, Declared<Block>>,
}

/// The `.tf` files of one folder, in name order (Terraform reads them as one module).
pub(super) fn tf_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "tf"))
        .filter(|p| {
            // Override files change other files' blocks; they are not separate declarations.
            let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            stem != "override" && !stem.ends_with("_override")
        })
        .collect();
    files.sort();
    Ok(files)
}

/// `path` with `.` and `name/..` removed, without asking the file system.
pub(super) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` relative to `base` (with `..` when outside it), as messages show it.
pub(super) fn shown_path(path: &Path, base: &Path) -> String {
    let (path, base) = (normalize(path), normalize(base));
    let p: Vec<Component> = path.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if (common == 0 && !b.is_empty()) || b[common..].iter().any(|c| !matches!(c, Component::Normal(_))) {
        return path.display().to_string();
    }
    let mut out = PathBuf::new();
    b[common..].iter().for_each(|_| out.push(".."));
    p[common..].iter().for_each(|c| out.push(c));
    out.display().to_string()
}

/// Read every `.tf` file of `dir`. A file that does not parse is an error; the others still count.
pub(super) fn load_module(dir: &Path, base: &Path, errors: &mut Vec<IacError>) -> ModuleConfig {
    let mut config = ModuleConfig {
        dir: dir.to_owned(),
        ..ModuleConfig::default()
    };
    let files = match tf_files(dir) {
        Ok(files) => files,
        Err(e) => {
            errors.push(IacError::new(
                &shown_path(dir, base),
                None,
                None,
                format!("cannot read the folder: {e}"),
            ));
            return config;
        }
    };
    for path in files {
        let shown = shown_path(&path, base);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                errors.push(IacError::new(&shown, None, None, format!("cannot read the file: {e}")));
                continue;
            }
        };
        let body = match parse_hcl(&shown, &text) {
            Ok(b) => b,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let file = Rc::new(SourceFile::new(path, shown, text));
        add_file(&mut config, &file, body, errors);
    }
    config
}

/// Parse an HCL file; a syntax error names its line and column.
pub(super) fn parse_hcl(shown: &str, text: &str) -> Result<Body, IacError> {
    hcl_edit::parser::parse_body(text).map_err(|e| {
        let l = e.location();
        IacError::new(
            shown,
            Some(l.line()),
            Some(l.column()),
            format!("HCL syntax error: {}", e.message()),
        )
    })
}

fn add_file(config: &mut ModuleConfig, file: &Rc<SourceFile>, body: Body, errors: &mut Vec<IacError>) {
    for block in body.into_blocks() {
        let labels: Vec<String> = block.labels.iter().map(|l| l.as_str().to_owned()).collect();
        let span = block.span();
        let duplicate = |what: String| file.error(span.clone(), format!("{what} is declared twice"));
        match (block.ident.as_str(), labels.as_slice()) {
            ("variable", [name]) => {
                if config.variables.contains_key(name) {
                    errors.push(duplicate(format!("variable {name:?}")));
                } else {
                    config.variables.insert(
                        name.clone(),
                        Declared {
                            file: file.clone(),
                            item: block,
                        },
                    );
                }
            }
            ("output", [name]) => match block.body.get_attribute("value") {
                Some(attr) => {
                    config.outputs.insert(
                        name.clone(),
                        Declared {
                            file: file.clone(),
                            item: attr.value.clone(),
                        },
                    );
                }
                None => errors.push(file.error(span, format!("output {name:?} has no value"))),
            },
            ("module", [name]) => {
                if config.module_calls.contains_key(name) {
                    errors.push(duplicate(format!("module {name:?}")));
                } else {
                    config.module_calls.insert(
                        name.clone(),
                        Declared {
                            file: file.clone(),
                            item: block,
                        },
                    );
                }
            }
            ("locals", []) => {
                for attr in block.body.into_attributes() {
                    let name = attr.key.as_str().to_owned();
                    if config.locals.contains_key(&name) {
                        errors.push(file.error(attr.span(), format!("local.{name} is declared twice")));
                        continue;
                    }
                    config.locals.insert(
                        name,
                        Declared {
                            file: file.clone(),
                            item: attr.value,
                        },
                    );
                }
            }
            (kind @ ("resource" | "data"), [resource_type, name]) => {
                let mode = if kind == "data" { Mode::Data } else { Mode::Managed };
                let key = (mode, resource_type.clone(), name.clone());
                if config.resource_index.contains_key(&key) {
                    errors.push(duplicate(format!("{kind} {resource_type:?} {name:?}")));
                    continue;
                }
                config.resource_index.insert(key, config.resources.len());
                config.resources.push(Declared {
                    file: file.clone(),
                    item: ResourceDecl {
                        mode,
                        resource_type: resource_type.clone(),
                        name: name.clone(),
                        block,
                    },
                });
            }
            (kind @ ("variable" | "output" | "module" | "resource" | "data" | "locals"), _) => {
                errors.push(file.error(span, format!("a {kind} block with the wrong number of labels")));
            }
            // terraform, provider, moved, import, check, removed: nothing these controls depend on.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shown_relative_to_the_scanned_folder() {
        let base = Path::new("/repo/examples/complete");
        assert_eq!(
            shown_path(Path::new("/repo/examples/complete/main.tf"), base),
            "main.tf"
        );
        assert_eq!(
            shown_path(Path::new("/repo/examples/complete/../../modules/vpc/main.tf"), base),
            "../../modules/vpc/main.tf"
        );
        assert_eq!(
            shown_path(Path::new("infra/./vpc/../main.tf"), Path::new("infra")),
            "main.tf"
        );
        assert_eq!(
            shown_path(Path::new("/elsewhere/main.tf"), Path::new("infra")),
            "/elsewhere/main.tf"
        );
        assert_eq!(normalize(Path::new("../a/./b/../c")), PathBuf::from("../a/c"));
    }

    #[test]
    fn lines_and_columns_count_characters_from_one() {
        let file = SourceFile::new("main.tf".into(), "main.tf".into(), "a = 1\nbé = \"x\"\n".into());
        let offset = "a = 1\nbé = ".len();
        let l = file.location(Some(offset..offset + 3));
        assert_eq!((l.line, l.column, l.end_line), (2, 6, 2));
        assert_eq!(file.at(Some(0..1)), "main.tf:1");
    }
}
