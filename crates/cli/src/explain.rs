//! `netaudit checks` and `netaudit explain`: the catalogue as people read it.

use netaudit_checks::{Catalogue, Control};
use std::io::{self, Write};

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
            c.file.category.as_str(),
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

/// The control's documentation, as the SARIF report's rule help carries it too.
pub fn explain(c: &Control, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(netaudit_checks::explain(c).as_bytes())
}

/// Each framework the controls map to: `(framework, [(requirement, [(control, source)])])`, in
/// name order and natural requirement order.
type Mappings<'c> = Vec<(&'c str, Vec<(&'c str, Vec<(&'c str, &'c str)>)>)>;

/// Requirement → the (control, source) pairs mapped to it.
type Requirements<'c> = std::collections::BTreeMap<&'c str, Vec<(&'c str, &'c str)>>;

fn mappings(catalogue: &Catalogue) -> Mappings<'_> {
    let mut frameworks: std::collections::BTreeMap<&str, Requirements> = std::collections::BTreeMap::new();
    for c in catalogue.controls() {
        for f in &c.file.frameworks {
            frameworks
                .entry(f.framework.as_str())
                .or_default()
                .entry(f.requirement.as_str())
                .or_default()
                .push((c.id(), f.source.as_str()));
        }
    }
    frameworks
        .into_iter()
        .map(|(name, requirements)| {
            let mut requirements: Vec<_> = requirements
                .into_iter()
                .map(|(requirement, mut controls)| {
                    controls.sort_by_key(|(id, _)| netaudit_report::natural_order_key(id));
                    (requirement, controls)
                })
                .collect();
            requirements.sort_by_key(|(id, _)| netaudit_report::natural_order_key(id));
            (name, requirements)
        })
        .collect()
}

/// `netaudit frameworks`: each framework, its requirements and the controls mapped to them.
pub fn frameworks(catalogue: &Catalogue, out: &mut dyn Write) -> io::Result<()> {
    for (name, requirements) in mappings(catalogue) {
        let plural = if requirements.len() == 1 { "" } else { "s" };
        writeln!(out, "{name}  ({} requirement{plural})", requirements.len())?;
        let width = requirements.iter().map(|(r, _)| r.chars().count()).max().unwrap_or(0);
        for (requirement, controls) in requirements {
            let ids: Vec<&str> = controls.iter().map(|(id, _)| *id).collect();
            writeln!(out, "  {requirement:<width$}  {}", ids.join(", "))?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "Each mapping cites its source: `netaudit frameworks --format json`. Report one framework with \
         `netaudit scan --framework NAME` (a unique part of the name will do)."
    )
}

pub fn frameworks_json(catalogue: &Catalogue, out: &mut dyn Write) -> io::Result<()> {
    let items: Vec<serde_json::Value> = mappings(catalogue)
        .into_iter()
        .map(|(name, requirements)| {
            let requirements: Vec<serde_json::Value> = requirements
                .into_iter()
                .map(|(requirement, controls)| {
                    let controls: Vec<serde_json::Value> = controls
                        .into_iter()
                        .map(|(id, source)| serde_json::json!({ "control": id, "source": source }))
                        .collect();
                    serde_json::json!({ "requirement": requirement, "controls": controls })
                })
                .collect();
            serde_json::json!({ "framework": name, "requirements": requirements })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &items).map_err(io::Error::from)?;
    writeln!(out)
}
