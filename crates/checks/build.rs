//! Embeds every `catalogue/<ID>/control.toml` in the library, in id order.

use std::fmt::Write;
use std::path::Path;

fn main() {
    // Read at run time, not with env!(): a build script compiled in one checkout is reused by
    // another that shares the target directory, and must read that checkout's catalogue.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let dir = Path::new(&manifest_dir).join("catalogue");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut entries: Vec<(String, String)> = vec![];
    let read = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read the catalogue {}: {e}", dir.display()));
    for entry in read.flatten() {
        let file = entry.path().join("control.toml");
        println!("cargo:rerun-if-changed={}", file.display());
        if file.is_file() {
            entries.push((
                entry.file_name().to_string_lossy().into_owned(),
                file.display().to_string(),
            ));
        }
    }
    if entries.is_empty() {
        panic!("the catalogue {} has no control.toml", dir.display());
    }
    entries.sort();
    let mut out = String::from("/// (directory name, file path, contents) of every built-in control.\npub(crate) const BUILTIN: &[(&str, &str, &str)] = &[\n");
    for (name, path) in &entries {
        let _ = writeln!(out, "    ({name:?}, {path:?}, include_str!({path:?})),");
    }
    out.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    if let Err(e) = std::fs::write(Path::new(&out_dir).join("builtin.rs"), out) {
        panic!("cannot write the embedded catalogue: {e}");
    }
}
