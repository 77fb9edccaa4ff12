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
