//! Exceptions written next to the resource they accept a gap for: a comment
//! `# netaudit:exception EC2.6 owner=net-team ticket=SEC-12 expires=2027-03-31 reason="…"` (`#` or
//! `//` in Terraform, `#` in YAML templates) directly above the resource or at the top level inside
//! it, or the resource's `Metadata.netaudit.exceptions` in a CloudFormation template (JSON or YAML;
//! CDK's `addMetadata`). They are read here as written, each term with its position; the checks
//! validate them as they validate an exceptions file. A marker comment that belongs to no
//! resource, or that cannot be read, is an error: it never silently stops muting.

use crate::cloudformation::Template;
use crate::terraform::{ResourceMode, RootModule};
use crate::{IacError, Node, NodeValue};
use hcl_edit::structure::Body;
use hcl_edit::Span;
use netaudit_model::{DeclaredAsset, DeclaredException, ExceptionTerm, SourcePoint};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

const MARKER: &str = "netaudit:exception";

/// What a template's or module's inline exceptions are, and what could not be read.
#[derive(Debug, Default)]
pub struct InlineExceptions {
    pub exceptions: Vec<DeclaredException>,
    pub errors: Vec<IacError>,
}

/// The addresses of the assets declared at each (file, first line): one resource block's
/// instances and tunnels.
fn assets_by_declaration(assets: &[DeclaredAsset]) -> HashMap<(&str, usize), Vec<String>> {
    let mut by = HashMap::<(&str, usize), Vec<String>>::new();
    for a in assets {
        by.entry((a.source.file.as_str(), a.source.line))
            .or_default()
            .push(a.address.clone());
    }
    by
}

/// 1-based column of byte `offset` in `line`, counted in characters.
fn column(line: &str, offset: usize) -> usize {
    line.get(..offset).map_or(offset, |s| s.chars().count()) + 1
}

/// For a line that is only a comment: the byte offset of its marker (`#`, or `//` in HCL) and of
/// the text after it.
fn comment(line: &str, hcl: bool) -> Option<(usize, usize)> {
    let trimmed = line.trim_start();
    let start = line.len() - trimmed.len();
    if trimmed.starts_with('#') {
        Some((start, start + 1))
    } else if hcl && trimmed.starts_with("//") {
        Some((start, start + 2))
    } else {
        None
    }
}

/// Whether a comment line is an exception: its text starts with the marker.
fn is_directive(line: &str, hcl: bool) -> bool {
    comment(line, hcl).is_some_and(|(_, text)| {
        let rest = line[text..].trim_start();
        rest.strip_prefix(MARKER)
            .is_some_and(|after| after.is_empty() || after.starts_with(char::is_whitespace))
    })
}

/// The terms of a marker comment: the control first, then `key=value` pairs (a value with spaces
/// in double quotes, `\"` and `\\` escaped).
fn parse_directive(file: &str, number: usize, line: &str, hcl: bool) -> Result<DeclaredTerms, IacError> {
    let error = |offset: usize, message: String| IacError::new(file, Some(number), Some(column(line, offset)), message);
    let (marker, text) = comment(line, hcl).ok_or_else(|| error(0, "not a comment".into()))?;
    let mut i = text + line[text..].find(MARKER).unwrap_or(0) + MARKER.len();
    let bytes = line.as_bytes();
    let mut terms: Vec<ExceptionTerm> = vec![];
    let point = |offset: usize| SourcePoint {
        file: file.to_owned(),
        line: number,
        column: column(line, offset),
    };
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'=' {
            i += 1;
        }
        let word = &line[start..i];
        if i >= bytes.len() || bytes[i] != b'=' {
            if terms.is_empty() {
                terms.push(ExceptionTerm {
                    key: "control".into(),
                    value: word.to_owned(),
                    at: point(start),
                });
                continue;
            }
            return Err(error(
                start,
                format!("`{word}` is not key=value (a value with spaces goes in double quotes: reason=\"…\")"),
            ));
        }
        if word.is_empty() {
            return Err(error(start, "a value without a key".into()));
        }
        i += 1;
        let value = if bytes.get(i) == Some(&b'"') {
            let mut value = String::new();
            let mut chars = line[i + 1..].char_indices();
            let mut closed = None;
            while let Some((at, c)) = chars.next() {
                match c {
                    '"' => {
                        closed = Some(i + 1 + at + 1);
                        break;
                    }
                    '\\' => match chars.next() {
                        Some((_, escaped)) => value.push(escaped),
                        None => break,
                    },
                    c => value.push(c),
                }
            }
            let Some(end) = closed else {
                return Err(error(i, format!("the value of `{word}` has no closing quote")));
            };
            i = end;
            if i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                return Err(error(i, format!("a space must follow the quoted value of `{word}`")));
            }
            value
        } else {
            let value_start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            line[value_start..i].to_owned()
        };
        if terms.iter().any(|t| t.key == word) {
            return Err(error(start, format!("`{word}` is given twice")));
        }
        terms.push(ExceptionTerm {
            key: word.to_owned(),
            value,
            at: point(start),
        });
    }
    Ok(DeclaredTerms {
        at: point(marker),
        terms,
    })
}

struct DeclaredTerms {
    at: SourcePoint,
    terms: Vec<ExceptionTerm>,
}

/// The marker comments that belong to a resource whose block spans `first..=last` (1-based):
/// the comment lines directly above it (a blank line or code ends them), and the comment lines
/// inside it for which `inside` holds.
fn attached(lines: &[&str], first: usize, last: usize, hcl: bool, inside: impl Fn(usize) -> bool) -> Vec<usize> {
    let mut taken = vec![];
    let mut above = first;
    while above > 1 && comment(lines[above - 2], hcl).is_some() {
        above -= 1;
    }
    taken.extend((above..first).filter(|&n| is_directive(lines[n - 1], hcl)));
    taken.extend((first + 1..=last.min(lines.len())).filter(|&n| is_directive(lines[n - 1], hcl) && inside(n)));
    taken
}

/// `module.vpc[0].aws_vpc.this["a"]` → `module.vpc.aws_vpc.this`: the resource, not one instance.
fn without_instance_keys(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in address.chars() {
        match (depth, c) {
            (0, '[') => depth = 1,
            (0, c) => out.push(c),
            _ if quoted => match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            },
            (_, '"') => quoted = true,
            (_, '[') => depth += 1,
            (_, ']') => depth -= 1,
            _ => {}
        }
    }
    out
}

/// Lines spanned by each top-level attribute and nested block of the resource block starting at
/// `line`, so that a comment line outside them is at the block's top level.
fn structure_lines(body: &Body, text: &str, line: usize) -> Vec<(usize, usize)> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let Some(block) = body
        .blocks()
        .find(|b| b.span().is_some_and(|s| line_of(s.start) == line))
    else {
        return vec![];
    };
    block
        .body
        .iter()
        .filter_map(|s| s.span())
        .map(|s| (line_of(s.start), line_of(s.end.saturating_sub(1).max(s.start))))
        .collect()
}

/// The inline exceptions of a Terraform root module (and the local modules it calls).
pub fn from_terraform(root: &RootModule, unit: &str, assets: &[DeclaredAsset]) -> InlineExceptions {
    let mut out = InlineExceptions::default();
    let by_declaration = assets_by_declaration(assets);
    // Each managed resource block once, with its instances' addresses, in declaration order.
    let mut blocks: Vec<(PathBuf, usize, usize, Vec<&str>)> = vec![];
    let mut index: HashMap<(&PathBuf, usize), usize> = HashMap::new();
    for r in root.resources.iter().filter(|r| r.mode == ResourceMode::Managed) {
        let key = (&r.file, r.location.line);
        match index.get(&key) {
            Some(&i) => blocks[i].3.push(&r.address),
            None => {
                index.insert(key, blocks.len());
                blocks.push((r.file.clone(), r.location.line, r.location.end_line, vec![&r.address]));
            }
        }
    }
    let files: BTreeSet<&PathBuf> = root.resources.iter().map(|r| &r.file).collect();
    for path in files {
        // Unreadable files were reported when the module was read.
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        if !text.contains(MARKER) {
            continue;
        }
        let Ok(body) = hcl_edit::parser::parse_body(&text) else {
            continue;
        };
        let file = path.display().to_string();
        let lines: Vec<&str> = text.lines().collect();
        let mut consumed = BTreeSet::new();
        for (_, first, last, addresses) in blocks.iter().filter(|b| &b.0 == path) {
            let nested = structure_lines(&body, &text, *first);
            let taken = attached(&lines, *first, *last, true, |n| {
                !nested.iter().any(|&(s, e)| (s..=e).contains(&n))
            });
            let resource: Vec<String> = addresses
                .iter()
                .map(|a| without_instance_keys(a))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            for n in taken {
                consumed.insert(n);
                match parse_directive(&file, n, lines[n - 1], true) {
                    Ok(terms) => out.exceptions.push(DeclaredException {
                        unit: unit.to_owned(),
                        resource: resource.join(", "),
                        addresses: by_declaration
                            .get(&(file.as_str(), *first))
                            .cloned()
                            .unwrap_or_default(),
                        at: terms.at,
                        terms: terms.terms,
                    }),
                    Err(e) => out.errors.push(e),
                }
            }
        }
        out.errors.extend(unattached(&file, &lines, &consumed, true));
    }
    out
}

/// Marker comments that belong to no resource.
fn unattached(file: &str, lines: &[&str], consumed: &BTreeSet<usize>, hcl: bool) -> Vec<IacError> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(n, l)| !consumed.contains(n) && is_directive(l, hcl))
        .map(|(n, l)| {
            let at = comment(l, hcl).map_or(0, |(marker, _)| marker);
            IacError::new(
                file,
                Some(n),
                Some(column(l, at)),
                "this netaudit:exception is on no resource: write it directly above a resource \
                 (no blank line between) or inside it",
            )
        })
        .collect()
}

/// The line of a template resource's logical id: its mapping starts there or just below.
fn key_line(lines: &[&str], logical_id: &str, mapping_line: usize) -> usize {
    let is_key = |l: &str| {
        let t = l.trim_start();
        [
            format!("{logical_id}:"),
            format!("\"{logical_id}\":"),
            format!("'{logical_id}':"),
        ]
        .iter()
        .any(|k| t.starts_with(k.as_str()))
    };
    (1..=mapping_line.min(lines.len()))
        .rev()
        .find(|&n| is_key(lines[n - 1]))
        .unwrap_or(mapping_line)
}

/// A metadata scalar as text.
fn scalar(node: &Node) -> Option<String> {
    match &node.value {
        NodeValue::Str(s) => Some(s.clone()),
        NodeValue::Bool(b) => Some(b.to_string()),
        NodeValue::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `Metadata: {netaudit: {exceptions: [{control: …, owner: …, …}]}}` of one resource.
fn from_metadata(file: &str, metadata: &Node, out: &mut Vec<DeclaredTerms>, errors: &mut Vec<IacError>) {
    let Some(netaudit) = metadata.get("netaudit") else {
        return;
    };
    let error =
        |node: &Node, message: &str| IacError::new(file, Some(node.location.line), Some(node.location.column), message);
    let point = |node: &Node| SourcePoint {
        file: file.to_owned(),
        line: node.location.line,
        column: node.location.column,
    };
    if !matches!(netaudit.value, NodeValue::Map(_)) {
        errors.push(error(netaudit, "Metadata.netaudit must be a mapping with `exceptions`"));
        return;
    }
    for (key, value) in netaudit.entries() {
        if key != "exceptions" {
            errors.push(error(
                value,
                &format!("unknown key `{key}` in Metadata.netaudit: expected `exceptions`"),
            ));
        }
    }
    let Some(list) = netaudit.get("exceptions") else {
        return;
    };
    let NodeValue::Seq(items) = &list.value else {
        errors.push(error(list, "Metadata.netaudit.exceptions must be a list of exceptions"));
        return;
    };
    for item in items {
        if !matches!(item.value, NodeValue::Map(_)) {
            errors.push(error(
                item,
                "an exception in Metadata.netaudit.exceptions must be a mapping",
            ));
            continue;
        }
        let mut terms = vec![];
        let mut readable = true;
        for (key, value) in item.entries() {
            match scalar(value) {
                Some(text) => terms.push(ExceptionTerm {
                    key: key.clone(),
                    value: text,
                    at: point(value),
                }),
                None => {
                    errors.push(error(value, &format!("`{key}` must be a single value")));
                    readable = false;
                }
            }
        }
        if readable {
            out.push(DeclaredTerms { at: point(item), terms });
        }
    }
}

/// The inline exceptions of a CloudFormation template: its resources' metadata and, in YAML,
/// marker comments.
pub fn from_template(template: &Template, text: &str, assets: &[DeclaredAsset]) -> InlineExceptions {
    let mut out = InlineExceptions::default();
    let by_declaration = assets_by_declaration(assets);
    let file = template.path.as_str();
    let lines: Vec<&str> = text.lines().collect();
    let comments = text.contains(MARKER);
    let mut consumed = BTreeSet::new();
    for r in &template.resources {
        let mut written = vec![];
        if let Some(metadata) = &r.metadata {
            from_metadata(file, metadata, &mut written, &mut out.errors);
        }
        if comments {
            let first = key_line(&lines, &r.logical_id, r.location.line);
            for n in attached(&lines, first, r.location.end_line, false, |_| true) {
                consumed.insert(n);
                match parse_directive(file, n, lines[n - 1], false) {
                    Ok(terms) => written.push(terms),
                    Err(e) => out.errors.push(e),
                }
            }
        }
        let addresses = by_declaration
            .get(&(file, r.location.line))
            .cloned()
            .unwrap_or_default();
        out.exceptions
            .extend(written.into_iter().map(|terms| DeclaredException {
                unit: file.to_owned(),
                resource: r.logical_id.clone(),
                addresses: addresses.clone(),
                at: terms.at,
                terms: terms.terms,
            }));
    }
    if comments {
        out.errors.extend(unattached(file, &lines, &consumed, false));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(line: &str) -> Result<Vec<(String, String, usize)>, String> {
        parse_directive("main.tf", 3, line, true)
            .map(|d| d.terms.into_iter().map(|t| (t.key, t.value, t.at.column)).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_directive_reads_the_control_then_quoted_and_bare_values() {
        let line = r#"  # netaudit:exception EC2.6 owner=net-team reason="lab \"VPC\", weekly" expires=2027-03-31"#;
        assert_eq!(
            terms(line),
            Ok(vec![
                ("control".into(), "EC2.6".into(), 24),
                ("owner".into(), "net-team".into(), 30),
                ("reason".into(), "lab \"VPC\", weekly".into(), 45),
                ("expires".into(), "2027-03-31".into(), 74),
            ])
        );
        assert_eq!(
            parse_directive("main.tf", 3, "// netaudit:exception EC2.6", true).map(|d| d.at.column),
            Ok(1)
        );
    }

    #[test]
    fn unreadable_directives_name_line_and_column() {
        assert_eq!(
            terms("# netaudit:exception EC2.6 reason=lab VPC"),
            Err(
                "main.tf:3:39: `VPC` is not key=value (a value with spaces goes in double quotes: reason=\"…\")".into()
            )
        );
        assert_eq!(
            terms("# netaudit:exception EC2.6 reason=\"lab"),
            Err("main.tf:3:35: the value of `reason` has no closing quote".into())
        );
        assert_eq!(
            terms("# netaudit:exception EC2.6 owner=a owner=b"),
            Err("main.tf:3:36: `owner` is given twice".into())
        );
    }

    #[test]
    fn only_comments_that_start_with_the_marker_are_directives() {
        assert!(is_directive("# netaudit:exception EC2.6", true));
        assert!(is_directive("  //netaudit:exception", true));
        assert!(!is_directive("// netaudit:exception", false));
        assert!(!is_directive("# see netaudit:exception in the README", true));
        assert!(!is_directive("# netaudit:exceptions", true));
        assert!(!is_directive("x = 1 # netaudit:exception EC2.6", true));
    }

    #[test]
    fn instance_keys_are_dropped_from_addresses() {
        assert_eq!(
            without_instance_keys(r#"module.vpc[0].aws_vpc.this["a]b"]"#),
            "module.vpc.aws_vpc.this"
        );
        assert_eq!(without_instance_keys("aws_vpc.lab"), "aws_vpc.lab");
    }
}
