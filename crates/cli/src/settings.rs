//! Settings from `netaudit.toml` and the NETAUDIT_* environment variables. They fill in only what
//! the command line left out: command line > environment > config file > built-in default.

use crate::{fix_cmd, logs_cmd, Cli, Command, Failure, Format, ListFormat, LiveArgs};
use clap::parser::ValueSource;
use clap::{ArgMatches, ValueEnum};
use netaudit_checks::{Catalogue, Params};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The config file read from the current directory when no other is named.
pub const FILE_NAME: &str = "netaudit.toml";

const CONFIG_ENV: &str = "NETAUDIT_CONFIG";
const REGIONS_ENV: &str = "NETAUDIT_REGIONS";
const PROFILE_ENV: &str = "NETAUDIT_PROFILE";
const EXCEPTIONS_ENV: &str = "NETAUDIT_EXCEPTIONS";
const FORMAT_ENV: &str = "NETAUDIT_FORMAT";

const KEYS: [&str; 7] = [
    "regions",
    "profile",
    "exceptions",
    "format",
    "checks_dir",
    "parameters",
    "priority",
];

/// The global options that choose the config file.
#[derive(clap::Args, Debug, Default)]
pub struct ConfigArgs {
    /// Read settings from this file instead of ./netaudit.toml [env: NETAUDIT_CONFIG].
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Read no config file, not even ./netaudit.toml or NETAUDIT_CONFIG.
    #[arg(long, global = true, conflicts_with = "config")]
    no_config: bool,
}

/// Where a setting's value came from, for messages.
#[derive(Debug, Clone)]
enum Origin {
    Env(&'static str),
    File { path: PathBuf, line: usize },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Env(name) => f.write_str(name),
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
        }
    }
}

#[derive(Debug, Clone)]
struct Setting<T> {
    value: T,
    origin: Origin,
}

/// Control parameters from the config file, checked against the catalogue once it is loaded.
#[derive(Debug, Default, Clone)]
pub struct ConfigParams {
    entries: Vec<(String, BTreeMap<String, serde_json::Value>, Origin)>,
}

impl ConfigParams {
    /// These parameters under the ones typed with `--param` (a typed ID.NAME wins).
    pub fn under(&self, typed: Params, catalogue: &Catalogue, of_builtin_only: bool) -> Result<Params, Failure> {
        let mut params = Params::new();
        for (id, values, origin) in &self.entries {
            let control = match catalogue.get(id) {
                Some(control) => control,
                // `fix plan` plans for the built-in controls; one of `checks_dir` is not an error there.
                None if of_builtin_only => {
                    note!("netaudit: note: {origin}: [parameters] for {id} unused here: only built-in controls are planned");
                    continue;
                }
                None => {
                    return Err(Failure::Usage(format!(
                        "{origin}: [parameters] unknown control id {id:?}; `netaudit checks` lists them"
                    )))
                }
            };
            control
                .check_params(values)
                .map_err(|e| Failure::Usage(format!("{origin}: [parameters] {e}")))?;
            params
                .entry(control.id().to_owned())
                .or_default()
                .extend(values.clone());
        }
        for (id, values) in typed {
            params.entry(id).or_default().extend(values);
        }
        Ok(params)
    }
}

/// The settings read from the environment and the config file (the environment wins).
#[derive(Debug, Default)]
struct Settings {
    file: Option<PathBuf>,
    regions: Option<Setting<Vec<String>>>,
    profile: Option<Setting<String>>,
    exceptions: Option<Setting<PathBuf>>,
    /// A format `scan` writes; other commands take it where they write it too.
    format: Option<Setting<String>>,
    checks_dir: Option<Setting<Vec<PathBuf>>>,
    parameters: ConfigParams,
    /// `[priority] production_tags`.
    production_tags: Option<netaudit_checks::ProductionTags>,
}

/// Fill in what the command line left out from the environment and the config file.
pub fn apply(cli: &mut Cli, matches: &ArgMatches) -> Result<(), Failure> {
    // The CLI's description of itself depends on no setting, and must work while fixing a bad one.
    if matches!(cli.command, Command::Completions { .. } | Command::Man { .. }) {
        return Ok(());
    }
    // Commands that take no setting read ./netaudit.toml only when a file is asked for by name,
    // so a broken one in the working directory stops only the commands it is for.
    let takes_no_setting = matches!(
        cli.command,
        Command::Schema { .. }
            | Command::Query { .. }
            | Command::EvidenceScript { .. }
            | Command::IamPolicy { .. }
            | Command::Guardrails(_)
    );
    if takes_no_setting && !matches!(config_file(&cli.config)?, Some((_, named_by)) if !named_by.is_empty()) {
        return Ok(());
    }
    let settings = Settings::load(&cli.config)?;
    let mut leaf = matches;
    while let Some((_, sub)) = leaf.subcommand() {
        leaf = sub;
    }
    let format_typed = || leaf.value_source("format") == Some(ValueSource::CommandLine);
    // A report's format, for the commands that write one (scan, report).
    let fill_view_format = |view: &mut crate::report_cmd::ViewArgs| {
        if !format_typed() {
            if let Some(format) = settings.format_for::<Format>() {
                view.format = format;
            }
        }
    };
    let verbose = match &cli.command {
        Command::Scan(args) => args.verbose,
        Command::Fix {
            command: fix_cmd::FixCommand::Apply(args),
        } => args.verbose,
        _ => false,
    };
    if let (true, Some(file)) = (verbose, &settings.file) {
        note!("netaudit: settings read from {}", file.display());
    }
    match &mut cli.command {
        Command::Scan(args) => {
            settings.fill_live(&mut args.live);
            settings.fill_exceptions(&mut args.exceptions)?;
            settings.fill_checks_dir(&mut args.checks_dir)?;
            fill_view_format(&mut args.view);
            args.configured_params = settings.parameters.clone();
            args.priority.configured.clone_from(&settings.production_tags);
        }
        Command::Fix { command } => match command {
            fix_cmd::FixCommand::Plan(args) => {
                settings.fill_live(&mut args.live);
                settings.fill_exceptions(&mut args.exceptions)?;
                if !format_typed() {
                    if let Some(format) = settings.format_for::<fix_cmd::PlanFormat>() {
                        args.format = format;
                    }
                }
                args.configured_params = settings.parameters.clone();
                args.priority.configured.clone_from(&settings.production_tags);
            }
            fix_cmd::FixCommand::Apply(args) => {
                settings.fill_profile(&mut args.live);
                if !format_typed() {
                    if let Some(format) = settings.format_for::<ListFormat>() {
                        args.format = format;
                    }
                }
            }
        },
        Command::Checks(args) | Command::Frameworks(args) => {
            settings.fill_checks_dir(&mut args.checks_dir)?;
            if !format_typed() {
                if let Some(configured) = settings.format_for::<ListFormat>() {
                    args.format = configured;
                }
            }
        }
        Command::Explain { checks_dir, .. } => settings.fill_checks_dir(checks_dir)?,
        Command::Report(args) => fill_view_format(&mut args.view),
        Command::Cost(args) => settings.fill_live(&mut args.live),
        Command::Diff { format, .. } => {
            if !format_typed() {
                if let Some(configured) = settings.format_for::<ListFormat>() {
                    *format = configured;
                }
            }
        }
        Command::SecurityHub {
            command: crate::securityhub_cmd::SecurityHubCommand::Import(args),
        } => {
            if args.connection.profile.is_none() {
                args.connection.profile = settings.profile.as_ref().map(|p| p.value.clone());
            }
        }
        Command::Logs(args) => {
            let sources = args.sources_mut();
            if sources.profile.is_none() {
                sources.profile = settings.profile.as_ref().map(|p| p.value.clone());
            }
            if sources.format.is_none() {
                sources.format = settings.format_for::<logs_cmd::OutputFormat>();
                sources.format_configured = sources.format.is_some();
            }
        }
        Command::Schema { .. }
        | Command::Query { .. }
        | Command::EvidenceScript { .. }
        | Command::IamPolicy { .. }
        | Command::Guardrails(_)
        | Command::Completions { .. }
        | Command::Man { .. } => {}
    }
    Ok(())
}

impl Settings {
    fn load(args: &ConfigArgs) -> Result<Settings, Failure> {
        let mut settings = match config_file(args)? {
            Some((path, named_by)) => read_file(&path, named_by)?,
            None => Settings::default(),
        };
        settings.read_env()?;
        Ok(settings)
    }

    fn read_env(&mut self) -> Result<(), Failure> {
        if let Some(value) = env_text(REGIONS_ENV)? {
            let regions: Vec<String> = value
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect();
            if !regions.is_empty() {
                self.regions = Some(Setting {
                    value: regions,
                    origin: Origin::Env(REGIONS_ENV),
                });
            }
        }
        if let Some(value) = env_text(PROFILE_ENV)? {
            self.profile = Some(Setting {
                value,
                origin: Origin::Env(PROFILE_ENV),
            });
        }
        if let Some(value) = env_text(EXCEPTIONS_ENV)? {
            self.exceptions = Some(Setting {
                value: PathBuf::from(value),
                origin: Origin::Env(EXCEPTIONS_ENV),
            });
        }
        if let Some(value) = env_text(FORMAT_ENV)? {
            let origin = Origin::Env(FORMAT_ENV);
            self.format = Some(Setting {
                value: scan_format(&value, &origin)?,
                origin,
            });
        }
        Ok(())
    }

    /// The configured format, when the command writes it.
    fn format_for<T: ValueEnum>(&self) -> Option<T> {
        self.format.as_ref().and_then(|f| T::from_str(&f.value, true).ok())
    }

    fn fill_live(&self, live: &mut LiveArgs) {
        if live.regions.is_empty() {
            if let Some(regions) = &self.regions {
                live.regions.clone_from(&regions.value);
            }
        }
        self.fill_profile(live);
    }

    /// A profile not typed is no live-only option an offline scan refuses: it is left unused.
    fn fill_profile(&self, live: &mut LiveArgs) {
        if let (None, Some(profile)) = (&live.profile, &self.profile) {
            live.profile = Some(profile.value.clone());
            live.profile_origin = Some(profile.origin.to_string());
        }
    }

    fn fill_exceptions(&self, exceptions: &mut Option<PathBuf>) -> Result<(), Failure> {
        if let (None, Some(setting)) = (&exceptions, &self.exceptions) {
            if !setting.value.is_file() {
                return Err(Failure::Usage(format!(
                    "{}: exceptions: {}: no such file",
                    setting.origin,
                    setting.value.display()
                )));
            }
            *exceptions = Some(setting.value.clone());
        }
        Ok(())
    }

    fn fill_checks_dir(&self, dirs: &mut Vec<PathBuf>) -> Result<(), Failure> {
        if let (true, Some(setting)) = (dirs.is_empty(), &self.checks_dir) {
            if let Some(missing) = setting.value.iter().find(|d| !d.is_dir()) {
                return Err(Failure::Usage(format!(
                    "{}: checks_dir: {}: no such directory",
                    setting.origin,
                    missing.display()
                )));
            }
            dirs.clone_from(&setting.value);
        }
        Ok(())
    }
}

/// The config file to read and what named it: `--config`, NETAUDIT_CONFIG (each must exist), or
/// ./netaudit.toml when there is one.
fn config_file(args: &ConfigArgs) -> Result<Option<(PathBuf, &'static str)>, Failure> {
    if args.no_config {
        return Ok(None);
    }
    if let Some(path) = &args.config {
        return Ok(Some((path.clone(), "--config")));
    }
    if let Some(path) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return Ok(Some((PathBuf::from(path), CONFIG_ENV)));
    }
    let local = Path::new(FILE_NAME);
    Ok(local.is_file().then(|| (local.to_path_buf(), "")))
}

/// An environment variable's value; unset and empty are the same.
fn env_text(name: &str) -> Result<Option<String>, Failure> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(value.trim().to_owned())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Failure::Usage(format!("{name}: not valid UTF-8"))),
    }
}

fn scan_format(value: &str, origin: &Origin) -> Result<String, Failure> {
    match Format::from_str(value, true) {
        Ok(_) => Ok(value.to_ascii_lowercase()),
        Err(_) => {
            let valid: Vec<String> = Format::value_variants()
                .iter()
                .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_owned()))
                .collect();
            Err(Failure::Usage(format!(
                "{origin}: format {value:?}: one of {}",
                valid.join(", ")
            )))
        }
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

fn read_file(path: &Path, named_by: &str) -> Result<Settings, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let named = if named_by.is_empty() {
            String::new()
        } else {
            format!("{named_by} ")
        };
        Failure::Usage(format!("{named}{}: {e}", path.display()))
    })?;
    let syntax = |e: toml::de::Error| {
        let at = e.span().map_or(String::new(), |span| {
            let line = line_of(&text, span.start);
            let column = span.start - text.get(..span.start).and_then(|t| t.rfind('\n')).map_or(0, |n| n + 1) + 1;
            format!(":{line}:{column}")
        });
        Failure::Usage(format!(
            "{}{at}: {}",
            path.display(),
            e.message().trim().replace('\n', ": ")
        ))
    };
    let keys: BTreeMap<Spanned<String>, Spanned<toml::Value>> = toml::from_str(&text).map_err(syntax)?;
    let folder = path.parent().unwrap_or(Path::new(""));
    let mut settings = Settings {
        file: Some(path.to_path_buf()),
        ..Settings::default()
    };
    for (key, value) in keys {
        let origin = Origin::File {
            path: path.to_path_buf(),
            line: line_of(&text, key.span().start),
        };
        let wrong = |expected: &str| {
            Failure::Usage(format!(
                "{origin}: {}: expected {expected}, not {}",
                key.get_ref(),
                describe(value.get_ref())
            ))
        };
        match key.get_ref().as_str() {
            "regions" => {
                let regions = strings(value.get_ref())
                    .filter(|r| !r.is_empty())
                    .ok_or_else(|| wrong("a list of region names (leave it out for every region)"))?;
                settings.regions = Some(Setting { value: regions, origin });
            }
            "profile" => {
                let profile = text_of(value.get_ref()).ok_or_else(|| wrong("a profile name"))?;
                settings.profile = Some(Setting { value: profile, origin });
            }
            "exceptions" => {
                let file = text_of(value.get_ref()).ok_or_else(|| wrong("a file name"))?;
                settings.exceptions = Some(Setting {
                    value: folder.join(file),
                    origin,
                });
            }
            "format" => {
                let format = text_of(value.get_ref()).ok_or_else(|| wrong("a format name"))?;
                settings.format = Some(Setting {
                    value: scan_format(&format, &origin)?,
                    origin,
                });
            }
            "checks_dir" => {
                let dirs = strings(value.get_ref()).ok_or_else(|| wrong("a list of directories"))?;
                settings.checks_dir = Some(Setting {
                    value: dirs.iter().map(|d| folder.join(d)).collect(),
                    origin,
                });
            }
            "parameters" => {
                if !value.get_ref().is_table() {
                    return Err(wrong("a table of controls"));
                }
                settings.parameters = read_parameters(path, &text)?;
            }
            "priority" => {
                settings.production_tags = Some(read_priority(value.get_ref(), &origin)?);
            }
            other => {
                return Err(Failure::Usage(format!(
                    "{origin}: unknown setting {other:?}; the settings are {}",
                    KEYS.join(", ")
                )))
            }
        }
    }
    Ok(settings)
}

/// `[parameters]`: each control id with a table of its parameters, lines kept for messages.
fn read_parameters(path: &Path, text: &str) -> Result<ConfigParams, Failure> {
    #[derive(serde::Deserialize)]
    struct WithParameters {
        parameters: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    }
    let parsed: WithParameters = toml::from_str(text)
        .map_err(|e| Failure::Usage(format!("{}: [parameters]: {}", path.display(), e.message().trim())))?;
    let mut entries = vec![];
    for (id, values) in parsed.parameters {
        let origin = Origin::File {
            path: path.to_path_buf(),
            line: line_of(text, id.span().start),
        };
        let toml::Value::Table(table) = values.get_ref() else {
            return Err(Failure::Usage(format!(
                "{origin}: [parameters] {}: expected a table of parameters, e.g. {{ name = value }}, not {}",
                id.get_ref(),
                describe(values.get_ref())
            )));
        };
        let mut json = BTreeMap::new();
        for (name, value) in table {
            let value = serde_json::to_value(value)
                .map_err(|e| Failure::Usage(format!("{origin}: [parameters] {}.{name}: {e}", id.get_ref())))?;
            json.insert(name.clone(), value);
        }
        entries.push((id.get_ref().clone(), json, origin));
    }
    Ok(ConfigParams { entries })
}

/// `[priority]`: `production_tags = ["Environment=prod", …]`, the tags that mark production assets.
fn read_priority(value: &toml::Value, origin: &Origin) -> Result<netaudit_checks::ProductionTags, Failure> {
    let Some(table) = value.as_table() else {
        return Err(Failure::Usage(format!(
            "{origin}: priority: expected a table, e.g. [priority] production_tags = [\"Environment=prod\"], not {}",
            describe(value)
        )));
    };
    let mut pairs = None;
    for (name, item) in table {
        match name.as_str() {
            "production_tags" => {
                let texts = strings(item).ok_or_else(|| {
                    Failure::Usage(format!(
                        "{origin}: [priority] production_tags: expected a list of KEY=VALUE strings, not {}",
                        describe(item)
                    ))
                })?;
                let parsed = texts
                    .iter()
                    .map(|t| {
                        netaudit_checks::ProductionTags::parse_pair(t)
                            .map_err(|e| Failure::Usage(format!("{origin}: [priority] production_tags: {e}")))
                    })
                    .collect::<Result<Vec<_>, Failure>>()?;
                pairs = Some(parsed);
            }
            other => {
                return Err(Failure::Usage(format!(
                    "{origin}: [priority] unknown setting {other:?}; the setting is production_tags"
                )))
            }
        }
    }
    Ok(pairs.map_or_else(netaudit_checks::ProductionTags::default, |pairs| {
        netaudit_checks::ProductionTags { pairs }
    }))
}

fn text_of(value: &toml::Value) -> Option<String> {
    value
        .as_str()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().to_owned())
}

fn strings(value: &toml::Value) -> Option<Vec<String>> {
    value.as_array()?.iter().map(text_of).collect()
}

fn describe(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("{s:?}"),
        other => format!("{} {other}", other.type_str()),
    }
}
