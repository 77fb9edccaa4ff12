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

    /// A shell line's words: quotes and backslash escapes resolved; a comment, pipe or redirection ends it.
    fn shell_words(line: &str) -> Vec<String> {
        let (mut words, mut word, mut quote, mut in_word) = (vec![], String::new(), None, false);
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), c) => word.push(c),
                (None, '\'' | '"') => {
                    quote = Some(c);
                    in_word = true;
                }
                (None, '\\') => {
                    if let Some(next) = chars.next() {
                        word.push(next);
                        in_word = true;
                    }
                }
                (None, '#' | '|' | '>' | '<' | ';' | '&') if !in_word => break,
                (None, c) if c.is_whitespace() => {
                    if in_word {
                        words.push(std::mem::take(&mut word));
                        in_word = false;
                    }
                }
                (None, c) => {
                    word.push(c);
                    in_word = true;
                }
            }
        }
        if in_word {
            words.push(word);
        }
        words
    }

    /// The netaudit command lines of a Markdown file's shell blocks, continuation lines joined;
    /// synopsis lines (`[optional]`, `a|b`, `…`) are left out.
    fn commands_in(markdown: &str) -> Vec<(usize, Vec<String>)> {
        let (mut commands, mut in_block, mut pending) = (vec![], false, None::<(usize, String)>);
        for (number, line) in markdown.lines().enumerate() {
            if line.starts_with("```") {
                in_block = !in_block && matches!(line.trim_start_matches('`'), "sh" | "bash" | "console");
                continue;
            }
            if !in_block {
                continue;
            }
            let (start, text) = match pending.take() {
                Some((start, before)) => (start, format!("{before} {}", line.trim())),
                None => (number + 1, line.trim().to_owned()),
            };
            if let Some(joined) = text.strip_suffix('\\') {
                pending = Some((start, joined.to_owned()));
                continue;
            }
            let words = shell_words(&text);
            let args: Vec<String> = match words.first().map(String::as_str) {
                Some("netaudit") => words[1..].to_vec(),
                Some("cargo") if words.iter().any(|w| w == "netaudit") => {
                    words.iter().skip_while(|w| *w != "--").skip(1).cloned().collect()
                }
                _ => continue,
            };
            let synopsis = text.contains('…')
                || args
                    .iter()
                    .any(|a| a.starts_with('[') || a.starts_with('(') || a.contains('|') && !a.contains(' '));
            if !synopsis {
                commands.push((start, args));
            }
        }
        commands
    }

    #[test]
    fn commands_are_read_from_shell_blocks_only_and_a_stale_flag_is_caught() {
        let markdown = "netaudit scan --not-in-a-block\n```sh\nnetaudit scan [--evidence DIR]\n\
                        netaudit logs sql \"SELECT 1\" --flows f  # a comment\n\
                        cargo run -p netaudit -- scan \\\n  --evidence d | head\n\
                        netaudit scan --stale-flag\n```\n";
        let commands = commands_in(markdown);
        let args: Vec<String> = commands.iter().map(|(_, a)| a.join(" ")).collect();
        assert_eq!(
            args,
            ["logs sql SELECT 1 --flows f", "scan --evidence d", "scan --stale-flag"]
        );
        assert_eq!(commands[1].0, 5);
        let stale = super::command().try_get_matches_from(["netaudit", "scan", "--stale-flag"]);
        assert!(stale.is_err());
    }

    #[test]
    fn every_netaudit_command_in_the_readmes_parses_with_this_cli() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut checked = 0;
        for file in [
            "README.md",
            "examples/README.md",
            "examples/logs/README.md",
            "examples/cdk/README.md",
        ] {
            let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
            for (line, args) in commands_in(&text) {
                let parsed =
                    super::command().try_get_matches_from(std::iter::once("netaudit".to_owned()).chain(args.clone()));
                if let Err(e) = parsed {
                    assert!(
                        matches!(
                            e.kind(),
                            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
                        ),
                        "{file}:{line}: netaudit {}\n{e}",
                        args.join(" ")
                    );
                }
                checked += 1;
            }
        }
        assert!(checked > 30, "only {checked} commands found");
    }

    #[test]
    fn every_netaudit_command_explain_names_parses_with_this_cli() {
        let (catalogue, errors) = netaudit_checks::builtin();
        assert!(errors.is_empty(), "{errors:?}");
        let mut checked = 0;
        for control in catalogue.controls() {
            let mut text = Vec::new();
            crate::explain::explain(control, &mut text).unwrap_or_default();
            let text = String::from_utf8_lossy(&text);
            // Commands are quoted as `netaudit …` in the prose and snippets.
            for quoted in text.split('`').skip(1).step_by(2) {
                let Some(args) = quoted.strip_prefix("netaudit ") else {
                    continue;
                };
                let words = shell_words(args);
                let parsed = super::command().try_get_matches_from(std::iter::once("netaudit".to_owned()).chain(words));
                assert!(
                    parsed.is_ok(),
                    "explain {}: `{quoted}`: {:?}",
                    control.id(),
                    parsed.err()
                );
                checked += 1;
            }
        }
        assert!(checked >= 2, "only {checked} commands found");
    }

    #[test]
    fn every_argument_and_command_has_help_text() {
        let mut missing = vec![];
        undocumented(&super::command(), "netaudit", &mut missing);
        assert!(missing.is_empty(), "without help text:\n{}", missing.join("\n"));
    }
}
