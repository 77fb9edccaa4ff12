//! Settings from `netaudit.toml` and NETAUDIT_* variables fill in what the command line leaves out
//! (command line > environment > config file > default), and `-o FILE` writes what standard output
//! would get.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use binary::{netaudit, run};
use std::path::{Path, PathBuf};

const SETTINGS_ENV: [&str; 5] = [
    "NETAUDIT_CONFIG",
    "NETAUDIT_REGIONS",
    "NETAUDIT_PROFILE",
    "NETAUDIT_EXCEPTIONS",
    "NETAUDIT_FORMAT",
];

/// `logs athena`, which reads no logs.
const ATHENA: [&str; 8] = [
    "logs",
    "athena",
    "--location",
    "s3://bucket/prefix",
    "--account",
    "123456789012",
    "--log-region",
    "us-east-1",
];

fn examples() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    Path::new(&manifest)
        .join("../../examples")
        .canonicalize()
        .expect("examples/ exists")
}

fn estate() -> String {
    examples().join("estate").display().to_string()
}

fn sample_logs(kind: &str) -> String {
    examples().join("logs").join(kind).display().to_string()
}

/// A folder holding `netaudit.toml` with this text.
fn folder_with_config(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("netaudit.toml"), text).unwrap();
    dir
}

/// netaudit run in `dir`, with no settings from the developer's environment.
fn netaudit_in(dir: &Path) -> assert_cmd::Command {
    let mut cmd = netaudit();
    cmd.current_dir(dir);
    for name in SETTINGS_ENV {
        cmd.env_remove(name);
    }
    cmd
}

/// Standard output and exit code of `netaudit ARGS` in `dir`.
fn output_in(dir: &Path, args: &[&str]) -> (String, i32) {
    let (stdout, stderr, code) = run(netaudit_in(dir).args(args));
    assert!(!stderr.contains("panicked"), "netaudit {}: {stderr}", args.join(" "));
    (stdout, code)
}

/// The same command without any config file or settings variable.
fn without_settings(args: &[&str]) -> (String, i32) {
    let empty = tempfile::tempdir().unwrap();
    output_in(empty.path(), &[args, &["--no-config"]].concat())
}

#[test]
fn format_from_the_file_loses_to_the_environment_which_loses_to_the_command_line() {
    let dir = folder_with_config("format = \"json\"\n");
    let scan = ["scan", "--evidence", &estate()];
    let json = without_settings(&[&scan[..], &["--format", "json"]].concat());
    let table = without_settings(&[&scan[..], &["--format", "table"]].concat());
    let csv = without_settings(&[&scan[..], &["--format", "csv"]].concat());
    assert!(json.0.starts_with('{') && table.0 != json.0 && csv.0 != json.0);
    assert_eq!(json.1, 3, "the example estate has failures and gaps");

    assert_eq!(output_in(dir.path(), &scan), json, "the file's format");
    let typed = [&scan[..], &["--format", "table"]].concat();
    assert_eq!(output_in(dir.path(), &typed), table, "the command line beats the file");
    assert_eq!(
        run(netaudit_in(dir.path()).args(scan).env("NETAUDIT_FORMAT", "csv")).0,
        csv.0,
        "the environment beats the file"
    );
    assert_eq!(
        run(netaudit_in(dir.path()).args(&typed).env("NETAUDIT_FORMAT", "csv")).0,
        table.0,
        "the command line beats the environment"
    );
}

#[test]
fn a_configured_format_applies_where_a_command_writes_it_and_is_ignored_elsewhere() {
    let json = folder_with_config("format = \"json\"\n");
    assert_eq!(
        output_in(json.path(), &["checks"]),
        without_settings(&["checks", "--format", "json"])
    );
    assert_eq!(
        output_in(json.path(), &["logs", "catalogue"]),
        without_settings(&["logs", "catalogue", "--format", "json"])
    );
    // A typed --format json is refused by athena; a configured one is left unused.
    let athena = ATHENA;
    assert_eq!(without_settings(&[&athena[..], &["--format", "json"]].concat()).1, 64);
    let (sql, code) = output_in(json.path(), &athena);
    assert_eq!((sql, code), without_settings(&athena));

    // csv is a scan format but not one `checks` writes: its table stays.
    let csv = folder_with_config("format = \"csv\"\n");
    assert_eq!(output_in(csv.path(), &["checks"]), without_settings(&["checks"]));

    let xml = folder_with_config("\nformat = \"xml\"\n");
    let (_, stderr, code) = run(netaudit_in(xml.path()).arg("checks"));
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains("netaudit.toml:2") && stderr.contains("table, json, csv, sarif"),
        "{stderr}"
    );
    let (_, stderr, code) = run(netaudit_in(xml.path())
        .args(["--no-config", "checks"])
        .env("NETAUDIT_FORMAT", "xml"));
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("NETAUDIT_FORMAT"), "{stderr}");
}

#[test]
fn configured_regions_limit_an_evidence_scan_as_regions_does() {
    let dir = folder_with_config("regions = [\"us-east-1\"]\n");
    let scan = ["scan", "--format", "json", "--evidence", &estate()];
    let east = without_settings(&[&scan[..], &["--regions", "us-east-1"]].concat());
    assert_ne!(east, without_settings(&scan), "the estate spans more regions");
    assert_eq!(output_in(dir.path(), &scan), east);

    let west = without_settings(&[&scan[..], &["--regions", "eu-west-1"]].concat());
    assert_ne!(west, east);
    let from_env = run(netaudit_in(dir.path()).args(scan).env("NETAUDIT_REGIONS", "eu-west-1"));
    assert_eq!((from_env.0, from_env.2), west, "the environment beats the file");
    let typed = [&scan[..], &["--regions", "eu-west-1"]].concat();
    let typed = run(netaudit_in(dir.path())
        .args(&typed)
        .env("NETAUDIT_REGIONS", "us-east-1"));
    assert_eq!((typed.0, typed.2), west, "the command line beats the environment");

    let plan = ["fix", "plan", "--format", "json", "--evidence", &estate()];
    let east_plan = without_settings(&[&plan[..], &["--regions", "us-east-1"]].concat());
    assert_ne!(east_plan, without_settings(&plan));
    assert_eq!(
        output_in(dir.path(), &plan),
        east_plan,
        "fix plan reads the same regions"
    );
}

#[test]
fn configured_parameters_judge_as_param_does() {
    let dir = folder_with_config("[parameters]\n\"CloudWatch.16\" = { minRetentionTime = 400 }\n");
    let scan = ["scan", "--format", "json", "--evidence", &estate()];
    let typed = without_settings(&[&scan[..], &["--param", "CloudWatch.16.minRetentionTime=400"]].concat());
    assert_ne!(typed, without_settings(&scan), "400 days changes a result");
    assert_eq!(output_in(dir.path(), &scan), typed);
    // A typed --param wins over the file's for the same name.
    let retyped = [&scan[..], &["--param", "CloudWatch.16.minRetentionTime=500"]].concat();
    assert_ne!(without_settings(&retyped), typed);
    assert_eq!(output_in(dir.path(), &retyped), without_settings(&retyped));

    let unknown = folder_with_config("[parameters]\n\"CloudWatch.16\" = { minRetention = 400 }\n");
    let (_, stderr, code) = run(netaudit_in(unknown.path()).args(scan));
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains("netaudit.toml:2") && stderr.contains("minRetention"),
        "{stderr}"
    );
}

#[test]
fn configured_exceptions_are_read_from_the_config_file_s_folder_and_mute_as_exceptions_does() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("settings");
    std::fs::create_dir(&settings).unwrap();
    std::fs::copy(examples().join("exceptions.toml"), settings.join("exceptions.toml")).unwrap();
    std::fs::write(settings.join("netaudit.toml"), "exceptions = \"exceptions.toml\"\n").unwrap();
    let scan = ["scan", "--format", "json", "--evidence", &estate()];
    let (typed, code) = output_in(
        dir.path(),
        &[&scan[..], &["--no-config", "--exceptions", "settings/exceptions.toml"]].concat(),
    );
    assert!(typed.contains("\"MUTED\""), "{typed}");
    let configured = output_in(
        dir.path(),
        &[&scan[..], &["--config", "settings/netaudit.toml"]].concat(),
    );
    assert_eq!(configured, (typed.clone(), code));
    let (from_env, stderr, env_code) = run(netaudit_in(dir.path())
        .args(scan)
        .arg("--no-config")
        .env("NETAUDIT_EXCEPTIONS", "settings/exceptions.toml"));
    assert_eq!((from_env, env_code), (typed, code), "{stderr}");
}

#[test]
fn configured_checks_dir_loads_controls_from_the_config_file_s_folder() {
    let dir = folder_with_config("checks_dir = [\"controls\"]\n");
    std::fs::create_dir(dir.path().join("controls")).unwrap();
    let control = std::fs::read_to_string(
        Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap()).join("../checks/catalogue/EC2.6/control.toml"),
    )
    .unwrap()
    .replace("id = \"EC2.6\"", "id = \"ACME.1\"");
    std::fs::write(dir.path().join("controls/acme-1.toml"), control).unwrap();
    let (listed, code) = output_in(dir.path(), &["checks"]);
    assert_eq!(code, 0);
    assert!(listed.contains("ACME.1"), "{listed}");
    assert!(!without_settings(&["checks"]).0.contains("ACME.1"));

    // Its parameters judge a scan; fix plan, which plans for built-in controls, leaves them unused
    // and says so rather than refusing the file a scan accepts.
    std::fs::write(
        dir.path().join("netaudit.toml"),
        "checks_dir = [\"controls\"]\n[parameters]\n\"ACME.1\" = { trafficType = \"ALL\" }\n",
    )
    .unwrap();
    let (report, code) = output_in(dir.path(), &["scan", "--format", "json", "--evidence", &estate()]);
    assert_eq!(code, 3);
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(
        report["parameters"]["ACME.1"]["trafficType"], "ALL",
        "{}",
        report["parameters"]
    );
    let (_, stderr, code) = run(netaudit_in(dir.path()).args(["fix", "plan", "--evidence", &estate()]));
    assert!(matches!(code, 0..=3), "{stderr}");
    assert!(stderr.contains("[parameters] for ACME.1 unused here"), "{stderr}");
}

#[test]
fn a_bad_config_file_is_a_usage_error_naming_the_file_line_and_key() {
    for (text, line, key) in [
        (
            "regions = [\"us-east-1\"]\nregion = \"eu-west-1\"\n",
            "netaudit.toml:2",
            "region",
        ),
        (
            "profile = \"audit\"\nregions = \"us-east-1\"\n",
            "netaudit.toml:2",
            "regions",
        ),
        ("\n\nprofile = 7\n", "netaudit.toml:3", "profile"),
        ("regions = []\n", "netaudit.toml:1", "regions"),
        (
            "format = \"json\"\n[parameters]\n\"CloudWatch.16\" = 400\n",
            "netaudit.toml:3",
            "CloudWatch.16",
        ),
        ("regions = [\"us-east-1\"\n", "netaudit.toml:", "`]`"),
        ("checks_dir = [\"no-such-dir\"]\n", "netaudit.toml:1", "checks_dir"),
    ] {
        let dir = folder_with_config(text);
        let (_, stderr, code) = run(netaudit_in(dir.path()).args(["checks"]));
        assert_eq!(code, 64, "{text}: {stderr}");
        assert!(stderr.contains(line) && stderr.contains(key), "{text}: {stderr}");
        // --no-config reads none.
        assert_eq!(output_in(dir.path(), &["--no-config", "checks"]).1, 0);
        // A command that takes no setting is not stopped by a file it would not use.
        for command in [
            &["schema"][..],
            &["iam-policy"],
            &["evidence-script"],
            &["completions", "bash"],
        ] {
            assert_eq!(output_in(dir.path(), command).1, 0, "{command:?} with {text}");
        }
    }
    let empty = tempfile::tempdir().unwrap();
    let (_, stderr, code) = run(netaudit_in(empty.path()).args(["schema", "--config", "missing.toml"]));
    assert_eq!(code, 64);
    assert!(stderr.contains("missing.toml"), "{stderr}");
    let (_, stderr, code) = run(netaudit_in(empty.path())
        .arg("schema")
        .env("NETAUDIT_CONFIG", "elsewhere.toml"));
    assert_eq!(code, 64);
    assert!(
        stderr.contains("NETAUDIT_CONFIG") && stderr.contains("elsewhere.toml"),
        "{stderr}"
    );
}

#[test]
fn a_configured_profile_is_no_live_only_option_for_an_evidence_scan_but_a_typed_one_is() {
    let scan = ["scan", "--format", "json", "--evidence", &estate()];
    let expected = without_settings(&scan);
    let dir = folder_with_config("profile = \"audit\"\n");
    assert_eq!(output_in(dir.path(), &scan), expected);
    let empty = tempfile::tempdir().unwrap();
    let (stdout, stderr, code) = run(netaudit_in(empty.path()).args(scan).env("NETAUDIT_PROFILE", "audit"));
    assert_eq!((stdout, code), expected, "{stderr}");

    let (_, stderr, code) = run(netaudit_in(dir.path()).args([&scan[..], &["--profile", "audit"]].concat()));
    assert_eq!(code, 64);
    assert!(stderr.contains("--profile"), "{stderr}");
}

#[test]
fn verbose_names_the_config_file_read() {
    let dir = folder_with_config("format = \"json\"\n");
    let (_, stderr, _) = run(netaudit_in(dir.path()).args(["scan", "--verbose", "--evidence", &estate()]));
    assert!(stderr.contains("settings read from netaudit.toml"), "{stderr}");
}

#[test]
fn output_file_gets_what_standard_output_gets_with_the_same_exit_code() {
    let work = tempfile::tempdir().unwrap();
    let estate = estate();
    let (old, new) = (work.path().join("old.json"), work.path().join("new.json"));
    let scan = ["scan", "--format", "json", "--evidence", &estate];
    std::fs::write(
        &old,
        without_settings(&[&scan[..], &["--regions", "us-east-1"]].concat()).0,
    )
    .unwrap();
    std::fs::write(&new, without_settings(&scan).0).unwrap();
    let (old, new) = (old.display().to_string(), new.display().to_string());
    let (flows, vpn, tunnels) = (sample_logs("flows"), sample_logs("vpn"), sample_logs("tunnels"));
    let cases: Vec<Vec<&str>> = vec![
        scan.to_vec(),
        vec!["scan", "--evidence", &estate],
        vec!["checks"],
        vec!["explain", "EC2.6"],
        vec!["schema"],
        vec!["query", "{ vpcs { id } }", "--evidence", &estate],
        vec!["iam-policy", "--fix"],
        vec!["evidence-script"],
        vec!["diff", &old, &new],
        vec!["fix", "plan", "--evidence", &estate],
        vec!["fix", "plan", "--evidence", &estate, "--format", "json"],
        vec!["fix", "plan", "--evidence", &estate, "--format", "terraform"],
        vec!["logs", "talked-to", "10.0.2.40", "--flows", &flows],
        vec!["logs", "top-talkers", "--flows", &flows],
        vec!["logs", "rejects", "--flows", &flows, "--format", "csv"],
        vec!["logs", "vpn", "who", "--at", "2024-06-10 06:40", "--vpn", &vpn],
        vec!["logs", "vpn", "sessions", "--vpn", &vpn],
        vec!["logs", "vpn", "failures", "--vpn", &vpn],
        vec!["logs", "attribute", "--flows", &flows, "--vpn", &vpn],
        vec!["logs", "tunnels", "--tunnels", &tunnels],
        vec!["logs", "gaps", "--flows", &flows],
        vec!["logs", "detect", "--flows", &flows, "--vpn", &vpn, "--format", "json"],
        vec!["logs", "sql", "SELECT count(*) AS n FROM flows", "--flows", &flows],
        ATHENA.to_vec(),
        vec!["logs", "thresholds"],
        vec!["logs", "catalogue"],
    ];
    let file = work.path().join("out");
    let file_arg = file.display().to_string();
    let mut codes = std::collections::BTreeSet::new();
    for args in cases {
        let printed = without_settings(&args);
        assert!(!printed.0.is_empty(), "netaudit {} prints nothing", args.join(" "));
        codes.insert(printed.1);
        // An existing file is replaced, not appended to.
        std::fs::write(&file, "stale").unwrap();
        let to_file = without_settings(&[&args[..], &["-o", &file_arg]].concat());
        assert_eq!(
            to_file,
            (String::new(), printed.1),
            "netaudit {} -o FILE",
            args.join(" ")
        );
        let written = std::fs::read_to_string(&file).unwrap();
        assert!(
            written == printed.0,
            "netaudit {} -o FILE wrote other bytes",
            args.join(" ")
        );
        let dash = without_settings(&[&args[..], &["--output", "-"]].concat());
        assert_eq!(dash, printed, "netaudit {} --output -", args.join(" "));
    }
    assert!(codes.len() > 2, "exit codes other than 0 are kept too: {codes:?}");

    for args in [
        vec!["schema"],
        vec!["logs", "thresholds"],
        vec!["fix", "plan", "--evidence", &estate],
    ] {
        let unwritable = work.path().join("no-such-dir/out").display().to_string();
        let (_, stderr, code) = run(netaudit_in(work.path()).args(&args).args(["-o", &unwritable]));
        assert_eq!(code, 64, "{stderr}");
        assert!(stderr.contains(&unwritable), "{stderr}");
    }
}

#[test]
fn the_readme_config_example_is_read_as_written() {
    let readme = std::fs::read_to_string(examples().join("../README.md")).unwrap();
    let section = readme.split("## Configuration").nth(1).unwrap();
    let example = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let dir = folder_with_config(example);
    // What it names exists next to it, as in a real project.
    std::fs::copy(examples().join("exceptions.toml"), dir.path().join("exceptions.toml")).unwrap();
    std::fs::create_dir(dir.path().join("my-controls")).unwrap();
    let (out, stderr, code) = run(netaudit_in(dir.path()).args(["scan", "--evidence", &estate()]));
    assert!(matches!(code, 0..=3), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(report["parameters"]["CloudWatch.16"]["minRetentionTime"], 400);
    assert!(report["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| ["eu-west-1", "us-east-1", "*"].contains(&r["region"].as_str().unwrap())));
    assert!(report["exceptions"].is_object(), "{}", report["exceptions"]);
}
