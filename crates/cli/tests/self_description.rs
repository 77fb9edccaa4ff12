//! The CLI describing itself (completions, man pages, `--version`) and `diff`'s filters, through the binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/binary.rs"]
mod binary;

use binary::{estate, netaudit, run};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const SUBCOMMANDS: [&str; 16] = [
    "scan",
    "checks",
    "explain",
    "schema",
    "query",
    "evidence-script",
    "logs",
    "iam-policy",
    "fix",
    "guardrails",
    "cost",
    "completions",
    "man",
    "diff",
    "securityhub",
    "help",
];

#[test]
fn version_names_the_catalogue_it_judges_with() {
    let (out, _, code) = run(netaudit().arg("--version"));
    assert_eq!(code, 0);
    let (checks, _, _) = run(netaudit().args(["checks", "--format", "json"]));
    let count = serde_json::from_str::<serde_json::Value>(&checks)
        .unwrap()
        .as_array()
        .unwrap()
        .len();
    let expected = format!(
        "netaudit {} (catalogue: {count} controls, fingerprint ",
        env!("CARGO_PKG_VERSION")
    );
    assert!(out.starts_with(&expected), "{out}");
    let fingerprint = out.trim().trim_start_matches(&expected).trim_end_matches(')');
    assert_eq!(fingerprint.len(), 16, "{out}");
    assert!(fingerprint.chars().all(|c| c.is_ascii_hexdigit()), "{out}");
}

#[test]
fn bash_completion_is_valid_bash_and_completes_subcommands_and_values() {
    let (script, err, code) = run(netaudit().args(["completions", "bash"]));
    assert_eq!(code, 0, "{err}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("netaudit.bash");
    std::fs::write(&file, &script).unwrap();
    // Source it, then ask for completions as bash would on `netaudit sc<TAB>` and
    // `netaudit scan --format <TAB>`.
    let complete = |words: &str, cword: usize| {
        let program = format!(
            "source {file:?}; COMP_WORDS=({words}); COMP_CWORD={cword}; _netaudit netaudit \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &program])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let subcommands = complete("netaudit sc", 1);
    assert!(subcommands.lines().any(|l| l == "scan"), "{subcommands}");
    assert!(subcommands.lines().any(|l| l == "schema"), "{subcommands}");
    let formats = complete("netaudit scan --format ''", 3);
    let formats: BTreeSet<&str> = formats.lines().collect();
    // Every value `scan --help` lists, and nothing else.
    let (help, _, _) = run(netaudit().args(["scan", "--help"]));
    let listed: BTreeSet<&str> = help
        .split("--format <FORMAT>")
        .nth(1)
        .and_then(|rest| rest.split("Possible values:").nth(1))
        .unwrap()
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.trim().strip_prefix("- "))
        .map(|v| v.split(':').next().unwrap_or(v).trim())
        .collect();
    assert!(listed.is_superset(&BTreeSet::from(["table", "json", "csv", "sarif", "junit", "markdown"])));
    assert_eq!(formats, listed);
}

#[test]
fn every_shell_gets_a_completion_script_naming_every_subcommand() {
    // Each shell offers each subcommand in its own syntax.
    type Offer = fn(&str) -> String;
    let offers: [(&str, &str, Offer); 4] = [
        ("zsh", "#compdef netaudit", |sub| format!("\n'{sub}:")),
        ("fish", "complete -c netaudit", |sub| {
            format!("-n \"__fish_netaudit_needs_command\" -f -a \"{sub}\"")
        }),
        ("powershell", "Register-ArgumentCompleter", |sub| {
            format!("[CompletionResult]::new('{sub}', '{sub}',")
        }),
        ("elvish", "edit:completion:arg-completer[netaudit]", |sub| {
            format!("cand {sub} '")
        }),
    ];
    for (shell, marker, offer) in offers {
        let (script, err, code) = run(netaudit().args(["completions", shell]));
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(script.contains(marker), "{shell}: {script}");
        for sub in SUBCOMMANDS {
            assert!(script.contains(&offer(sub)), "{shell} does not offer {sub}");
        }
        assert!(!script.contains(&offer("no-such-command")));
    }
    let (_, err, code) = run(netaudit().args(["completions", "tcsh"]));
    assert_eq!(code, 64);
    assert!(
        err.contains("bash") && err.contains("zsh") && err.contains("fish") && err.contains("powershell"),
        "{err}"
    );
}

/// groff in warning mode renders the page (UTF-8, through preconv as `man` does) without a complaint.
fn assert_renders(page: &Path) {
    let out = std::process::Command::new("groff")
        .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
        .arg(page)
        .output()
        .expect("groff renders man pages (Debian: groff-base, which man needs)");
    assert!(out.status.success(), "{}", page.display());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{}", page.display());
}

#[test]
fn man_pages_render_without_warnings_one_per_command() {
    let (page, _, code) = run(netaudit().arg("man"));
    assert_eq!(code, 0);
    assert!(page.contains(".TH netaudit 1"), "{page}");
    for sub in SUBCOMMANDS.iter().filter(|s| **s != "help") {
        let roff = format!("netaudit-{sub}(1)").replace('-', "\\-");
        assert!(page.contains(&roff), "netaudit(1) does not list {sub}");
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, err, code) = run(netaudit().args(["man", "-o"]).arg(dir.path().join("man1")));
    assert_eq!(code, 0, "{err}");
    let written: BTreeSet<String> = std::fs::read_dir(dir.path().join("man1"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for name in [
        "netaudit.1",
        "netaudit-scan.1",
        "netaudit-fix-plan.1",
        "netaudit-logs-top-talkers.1",
    ] {
        assert!(written.contains(name), "{name} not in {written:?}");
    }
    for name in &written {
        assert_renders(&dir.path().join("man1").join(name));
    }
    let scan = std::fs::read_to_string(dir.path().join("man1/netaudit-scan.1")).unwrap();
    for option in ["\\-\\-evidence", "\\-\\-status", "\\-\\-quiet", "\\-\\-exceptions"] {
        assert!(scan.contains(option), "netaudit-scan(1) lacks {option}");
    }
}

/// Two saved reports of the example estate: the second mutes one failing VPC in us-east-1.
fn two_reports(dir: &Path) -> (PathBuf, PathBuf) {
    let (before, after) = (dir.join("before.json"), dir.join("after.json"));
    let exceptions = dir.join("exceptions.toml");
    std::fs::write(
        &exceptions,
        "[[exception]]\ncontrol = \"EC2.6\"\nresource = \"arn:aws:ec2:us-east-1:111111111111:vpc/vpc-0a1b2c3d4e5f60002\"\nowner = \"a\"\nreason = \"r\"\nticket = \"t\"\nexpires = 2999-01-01\n",
    )
    .unwrap();
    for (file, extra) in [(&before, None), (&after, Some(&exceptions))] {
        let mut cmd = netaudit();
        cmd.args(["scan", "--format", "json", "--evidence"])
            .arg(estate())
            .arg("-o")
            .arg(file);
        if let Some(path) = extra {
            cmd.arg("--exceptions").arg(path);
        }
        run(&mut cmd);
    }
    (before, after)
}

fn diff_json(before: &Path, after: &Path, filters: &[&str]) -> (serde_json::Value, i32) {
    let (out, err, code) = run(netaudit()
        .arg("diff")
        .arg(before)
        .arg(after)
        .args(["--format", "json"])
        .args(filters));
    (
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}")),
        code,
    )
}

/// Every entry of a diff, as (control, list, entry).
fn entries(d: &serde_json::Value) -> Vec<(String, &'static str, serde_json::Value)> {
    let mut all = vec![];
    for c in d["controls"].as_array().unwrap() {
        for list in ["new", "resolved", "still_open", "missing"] {
            for e in c[list].as_array().unwrap() {
                all.push((c["control"].as_str().unwrap().to_owned(), list, e.clone()));
            }
        }
    }
    all
}

#[test]
fn diff_filters_by_status_severity_region_and_account_like_scan() {
    let dir = tempfile::tempdir().unwrap();
    let (before, after) = two_reports(dir.path());
    let (all, _) = diff_json(&before, &after, &[]);
    let all = entries(&all);
    assert!(all.len() > 10, "{all:?}");

    // The one change that involves MUTED.
    let (muted, code) = diff_json(&before, &after, &["--status", "muted"]);
    assert_eq!(code, 0);
    let muted = entries(&muted);
    assert_eq!(muted.len(), 1, "{muted:?}");
    assert_eq!((muted[0].0.as_str(), muted[0].1), ("EC2.6", "resolved"));
    assert_eq!(muted[0].2["after"], "MUTED");

    let (eu, _) = diff_json(&before, &after, &["--region", "eu-west-1"]);
    let eu = entries(&eu);
    assert!(!eu.is_empty() && eu.len() < all.len());
    assert!(
        eu.iter()
            .all(|(_, _, e)| e["region"] == "eu-west-1" || e["region"] == "*"),
        "{eu:?}"
    );

    let (second, _) = diff_json(&before, &after, &["--account", "222222222222"]);
    let second = entries(&second);
    assert!(!second.is_empty() && second.len() < all.len());
    assert!(
        second.iter().all(|(_, _, e)| e["account_id"] == "222222222222"),
        "{second:?}"
    );

    let (report, _, _) = run(netaudit()
        .args(["scan", "--format", "json", "--evidence"])
        .arg(estate()));
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let low: BTreeSet<&str> = report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["severity"] == "low")
        .filter_map(|c| c["id"].as_str())
        .collect();
    let (low_only, _) = diff_json(&before, &after, &["--severity", "low"]);
    let low_only = entries(&low_only);
    assert!(!low_only.is_empty());
    assert!(
        low_only.iter().all(|(control, _, _)| low.contains(control.as_str())),
        "{low_only:?}"
    );

    // The other way round the muted result is new again (exit 1), unless the filter leaves it out.
    let (_, code) = diff_json(&after, &before, &[]);
    assert_eq!(code, 1);
    let (out, err, code) = run(netaudit()
        .arg("diff")
        .arg(&after)
        .arg(&before)
        .args(["--account", "222222222222"]));
    assert_eq!(code, 0, "{out}");
    assert!(err.contains("1 new open result(s) are outside the filter"), "{err}");
    let (table, _, code) =
        run(netaudit()
            .arg("diff")
            .arg(&after)
            .arg(&before)
            .args(["--status", "fail", "--region", "us-east-1"]));
    assert_eq!(code, 1);
    // Each entry names its priority (what to fix first) after the kind of change.
    assert!(
        table.lines().any(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words.len() > 4
                && words[0] == "NEW"
                && ["critical", "high", "unknown", "elevated", "normal"].contains(&words[1])
                && words[2..5] == ["MUTED", "->", "FAIL"]
        }),
        "{table}"
    );
    let (_, err, code) = run(netaudit()
        .arg("diff")
        .arg(&after)
        .arg(&before)
        .args(["--status", "broken"]));
    assert_eq!(code, 64);
    assert!(err.contains("not-applicable"), "{err}");
}

#[test]
fn diff_selects_by_one_severity_per_control_when_the_catalogue_changed_between_scans() {
    let dir = tempfile::tempdir().unwrap();
    let (before, after) = two_reports(dir.path());
    // The newer scan's catalogue made EC2.6 high: its results are selected on both sides, so what
    // was open before is still open, not new.
    let mut report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&after).unwrap()).unwrap();
    for control in report["controls"].as_array_mut().unwrap() {
        if control["id"] == "EC2.6" {
            control["severity"] = "high".into();
        }
    }
    std::fs::write(&after, report.to_string()).unwrap();
    let (high, code) = diff_json(&before, &after, &["--severity", "high"]);
    assert_eq!(code, 0, "{high}");
    let high = entries(&high);
    assert!(!high.is_empty());
    assert!(high.iter().all(|(control, _, _)| control == "EC2.6"), "{high:?}");
    assert!(high.iter().all(|(_, list, _)| *list != "new"), "{high:?}");
    assert!(high.iter().any(|(_, list, _)| *list == "still_open"), "{high:?}");
}
