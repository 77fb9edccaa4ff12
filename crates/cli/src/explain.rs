//! `netaudit checks` and `netaudit explain`: the catalogue as people read it.

use netaudit_checks::{Catalogue, Category, Control};
use std::io::{self, Write};

fn category(c: &Control) -> &'static str {
    match c.file.category {
        Category::Control => "control",
        Category::Advisory => "advisory",
    }
}

pub fn list(catalogue: &Catalogue, out: &mut dyn Write) -> io::Result<()> {
    let w_id = catalogue
        .controls()
        .iter()
        .map(|c| c.id().len())
        .max()
        .unwrap_or(2)
        .max(2);
    writeln!(
        out,
        "{:<w_id$}  {:<13}  {:<8}  {:<17}  TITLE",
        "ID", "SEVERITY", "CATEGORY", "RESOURCE"
    )?;
    for c in catalogue.controls() {
        writeln!(
            out,
            "{:<w_id$}  {:<13}  {:<8}  {:<17}  {}",
            c.id(),
            c.file.severity.as_str(),
            category(c),
            c.kind.def().type_name,
            c.file.title
        )?;
    }
    Ok(())
}

pub fn list_json(catalogue: &Catalogue, out: &mut dyn Write) -> io::Result<()> {
    let items: Vec<serde_json::Value> = catalogue
        .controls()
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(&c.file).unwrap_or(serde_json::Value::Null);
            if let Some(obj) = v.as_object_mut() {
                obj.insert("resource_type".into(), c.kind.def().type_name.into());
                obj.insert("origin".into(), c.origin.clone().into());
            }
            v
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &items).map_err(io::Error::from)?;
    writeln!(out)
}

fn section(out: &mut dyn Write, title: &str, body: &str) -> io::Result<()> {
    writeln!(out, "\n## {title}\n")?;
    writeln!(out, "{}", body.trim_end())
}

pub fn explain(c: &Control, out: &mut dyn Write) -> io::Result<()> {
    let f = &c.file;
    writeln!(out, "# {} — {}\n", f.id, f.title)?;
    writeln!(
        out,
        "Severity: {} · Category: {} · Resource: {}",
        f.severity.as_str(),
        category(c),
        c.kind.def().type_name
    )?;
    if let Some(rule) = &f.aws_config {
        let params: Vec<String> = rule.parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if params.is_empty() {
            writeln!(out, "AWS Config rule: {}", rule.rule)?;
        } else {
            writeln!(out, "AWS Config rule: {} ({})", rule.rule, params.join(", "))?;
        }
    }
    writeln!(out, "\n{}", f.summary.trim())?;
    match &f.iac {
        Some(spec) if spec.applies => writeln!(out, "\nBefore deploy (`scan --iac`): checked on {}", spec.reason)?,
        Some(spec) => writeln!(out, "\nBefore deploy (`scan --iac`): left out: {}", spec.reason)?,
        None => writeln!(out, "\nBefore deploy (`scan --iac`): checked on the declared assets")?,
    }
    section(out, "What it checks", &f.description)?;
    section(out, "Why it matters", &f.rationale)?;
    if !c.defaults.is_empty() {
        writeln!(out, "\n## Parameters\n")?;
        for (name, default) in &c.defaults {
            let doc = f.parameters.get(name).map_or("", |p| p.description.as_str());
            writeln!(
                out,
                "- `{name}` (default {default}; set with --param {}.{name}=VALUE): {doc}",
                f.id
            )?;
        }
    }
    if let Some(notes) = f.aws_config.as_ref().and_then(|r| r.notes.as_deref()) {
        section(out, "Compared with AWS Config", notes)?;
    }
    if !f.frameworks.is_empty() {
        writeln!(out, "\n## Frameworks\n")?;
        for fw in &f.frameworks {
            writeln!(out, "- {} {} ({})", fw.framework, fw.requirement, fw.source)?;
        }
    }
    writeln!(out, "\n## Remediation")?;
    match (&f.remediation.automatic, &f.remediation.manual) {
        (Some(remedy), _) => writeln!(out, "\n`netaudit fix plan` plans a fix for each FAIL: `{remedy}`.")?,
        (None, Some(why)) => writeln!(out, "\n`netaudit fix plan` leaves a FAIL to a person: {}.", why.trim())?,
        (None, None) => writeln!(out, "\n`netaudit fix plan` has no automatic fix for this control.")?,
    }
    for (title, body, lang) in [
        ("Console", &f.remediation.console, ""),
        ("AWS CLI", &f.remediation.cli, "bash"),
        ("Terraform", &f.remediation.terraform, "hcl"),
        ("CloudFormation", &f.remediation.cloudformation, "yaml"),
    ] {
        writeln!(out, "\n### {title}\n")?;
        if lang.is_empty() {
            writeln!(out, "{}", body.trim_end())?;
        } else {
            writeln!(out, "```{lang}\n{}\n```", body.trim())?;
        }
    }
    writeln!(out, "\n## Query\n")?;
    writeln!(out, "```graphql\n{}\n```", f.query.text.trim())?;
    writeln!(out, "Expected: {}", f.query.expect)?;
    for na in &f.query.not_applicable {
        writeln!(
            out,
            "Not applicable when {}: {}",
            na.where_.trim(),
            na.reason.as_deref().unwrap_or("")
        )?;
    }
    if let Some(scope) = &f.query.scope {
        writeln!(out, "Only resources matching {} are evaluated.", scope.where_.trim())?;
    }
    if !f.references.is_empty() {
        writeln!(out, "\n## References\n")?;
        for r in &f.references {
            writeln!(out, "- {r}")?;
        }
    }
    Ok(())
}
