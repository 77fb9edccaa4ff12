//! `netaudit … | head` closes the pipe early: that is not an error. Every command that writes to
//! standard output stops quietly and exits with the code its result deserves.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("../..")
}

/// Run with a standard output whose reading end is already closed, so the first write fails with
/// EPIPE whatever the size of the output.
fn run_into_closed_pipe(args: &[&str]) -> (i32, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(assert_cmd::cargo::cargo_bin("netaudit"))
        .args(args)
        .current_dir(root())
        .env_remove("NO_COLOR")
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_ends_every_command_quietly_with_the_code_its_result_deserves() {
    let estate = ["--evidence", "examples/estate"];
    let cases: Vec<(Vec<&str>, i32)> = vec![
        ([&["scan"][..], &estate].concat(), 3),
        ([&["scan", "--format", "json"][..], &estate].concat(), 3),
        ([&["scan", "--format", "csv"][..], &estate].concat(), 3),
        (vec!["checks"], 0),
        (vec!["checks", "--format", "json"], 0),
        (vec!["explain", "EC2.6"], 0),
        (vec!["schema"], 0),
        (vec!["iam-policy"], 0),
        (vec!["evidence-script"], 0),
        (vec!["completions", "bash"], 0),
        (vec!["man"], 0),
        ([&["query", "{ vpcs { id } }"][..], &estate].concat(), 2),
        (vec!["logs", "top-talkers", "--flows", "examples/logs/flows"], 0),
        (
            vec![
                "logs",
                "sql",
                "SELECT action FROM flows",
                "--flows",
                "examples/logs/flows",
                "--format",
                "json",
            ],
            0,
        ),
        (
            vec![
                "logs",
                "sql",
                "SELECT action FROM flows",
                "--flows",
                "examples/logs/flows",
                "--format",
                "csv",
            ],
            0,
        ),
        (
            vec![
                "logs",
                "detect",
                "--flows",
                "examples/logs/flows",
                "--vpn",
                "examples/logs/vpn",
                "--format",
                "json",
            ],
            1,
        ),
    ];
    for (args, expected) in cases {
        let (code, stderr) = run_into_closed_pipe(&args);
        assert!(
            !stderr.contains("error") && !stderr.contains("panicked"),
            "netaudit {}: {stderr}",
            args.join(" ")
        );
        assert_eq!(code, expected, "netaudit {}: {stderr}", args.join(" "));
    }
}

/// `netaudit … 2>&1 | head`: standard error closed too. What goes there (warnings, the bad-input
/// summary) is lost, and the run still ends with the code its result deserves, not a panic.
#[test]
fn a_closed_standard_error_loses_the_notes_not_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows.log");
    std::fs::write(
        &flows,
        "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 40 1718000000 1718000060 ACCEPT OK\nnot a record\n",
    )
    .unwrap();
    let flows = flows.display().to_string();
    for (args, expected) in [
        (vec!["logs", "top-talkers", "--flows", flows.as_str()], 2),
        (vec!["scan", "--evidence", "examples/estate"], 3),
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let status = Command::new(assert_cmd::cargo::cargo_bin("netaudit"))
            .args(&args)
            .current_dir(root())
            .stdout(Stdio::null())
            .stderr(Stdio::from(writer))
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(expected), "netaudit {}", args.join(" "));
    }
}
