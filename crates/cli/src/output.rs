//! `-o FILE` / `--output FILE`: where a command's report or answer goes.

use crate::{emit, Failure};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The `-o` option of a command that prints a report or an answer.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct OutputArg {
    /// Write here instead of standard output (`-`: standard output).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl OutputArg {
    pub fn write(&self, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), Failure> {
        write_to(self.output.as_deref(), write)
    }
}

/// Whether `path` names standard output: no path, or `-`.
pub fn is_stdout(path: Option<&Path>) -> bool {
    path.is_none_or(|p| p == Path::new("-"))
}

/// Write to the file (created or replaced) through a buffer, or to standard output when `path` is
/// none or `-`. A file that cannot be created is a usage error naming it.
pub fn write_to(path: Option<&Path>, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), Failure> {
    let Some(path) = path.filter(|p| !is_stdout(Some(p))) else {
        return emit(write);
    };
    let file = std::fs::File::create(path).map_err(|e| Failure::Usage(format!("--output {}: {e}", path.display())))?;
    // Renderers write piece by piece; one system call per piece made large reports slow.
    let mut file = io::BufWriter::new(file);
    write(&mut file)
        .and_then(|()| file.flush())
        .map_err(|e| Failure::Internal(format!("--output {}: {e}", path.display())))
}
