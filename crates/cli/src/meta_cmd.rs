//! `netaudit completions` and `netaudit man`: the CLI describing itself to shells and `man`.

use crate::{emit, Failure, EXIT_CLEAN};
use std::path::Path;

/// The version line: the tool's, and the built-in catalogue's (its controls change results).
pub fn long_version() -> String {
    format!(
        "{} (catalogue: {})",
        env!("CARGO_PKG_VERSION"),
        netaudit_checks::builtin_version()
    )
}

/// The full command, as `--help`, completions and man pages describe it.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    crate::Cli::command().long_version(long_version())
}

/// Print the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Result<u8, Failure> {
    // Into memory first: the generator panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command(), "netaudit", &mut script);
    emit(|out| out.write_all(&script))?;
    Ok(EXIT_CLEAN)
}

/// Print netaudit(1), or write a page per command (`netaudit-scan.1`, …) into `dir`.
pub fn man(dir: Option<&Path>) -> Result<u8, Failure> {
    let command = command();
    match dir {
        None => emit(|out| clap_mangen::Man::new(command).render(out))?,
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| Failure::Usage(format!("--output {}: {e}", dir.display())))?;
            clap_mangen::generate_to(command, dir)
                .map_err(|e| Failure::Usage(format!("--output {}: {e}", dir.display())))?;
        }
    }
    Ok(EXIT_CLEAN)
}

#[cfg(test)]
mod tests {
    /// Every argument of every command, as `command path: --name`, that `--help` shows without a word.
    fn undocumented(command: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            if !builtin && !arg.is_hide_set() && arg.get_help().is_none() && arg.get_long_help().is_none() {
                out.push(format!("{path}: {}", arg.get_long().unwrap_or(arg.get_id().as_str())));
            }
        }
        for sub in command.get_subcommands() {
            if sub.get_about().is_none() && sub.get_name() != "help" {
                out.push(format!("{path} {}: no description", sub.get_name()));
            }
            undocumented(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_argument_and_command_has_help_text() {
        let mut missing = vec![];
        undocumented(&super::command(), "netaudit", &mut missing);
        assert!(missing.is_empty(), "without help text:\n{}", missing.join("\n"));
    }
}
