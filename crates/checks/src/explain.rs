//! A control's full documentation, in Markdown: what `netaudit explain ID` prints and what the SARIF
//! report carries as each rule's help. One function, so the two never drift apart.

use crate::catalogue::Control;
use std::fmt::{self, Write};

/// The control's documentation: summary, what it checks, why, parameters, frameworks, remediation,
/// the query and references.
pub fn explain(c: &Control) -> String {
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = write_explanation(c, &mut text);
    text
}

fn section(out: &mut String, title: &str, body: &str) -> fmt::Result {
    writeln!(out, "\n## {title}\n")?;
    writeln!(out, "{}", body.trim_end())
}

fn write_explanation(c: &Control, out: &mut String) -> fmt::Result {
    let f = &c.file;
    writeln!(out, "# {} — {}\n", f.id, f.title)?;
    writeln!(
        out,
        "Severity: {} · Category: {} · Resource: {}",
        f.severity.as_str(),
        f.category.as_str(),
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
            let declared = f.parameters.get(name);
            let doc = declared.map_or("", |p| p.description.as_str());
            let takes = declared
                .filter(|p| p.value_type.is_some() || p.allowed.is_some())
                .map_or_else(String::new, |p| format!("{}, ", p.expectation()));
            writeln!(
                out,
                "- `{name}` ({takes}default {default}; set with --param {}.{name}=VALUE): {doc}",
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
    for reason in &f.query.fail_reason {
        writeln!(
            out,
            "A failure matching {} reads: {}",
            reason.where_.trim(),
            reason.reason.as_deref().unwrap_or("")
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
