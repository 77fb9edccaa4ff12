//! Running the netaudit binary from the CLI tests.

// Each test file uses what it needs of this module.
#![allow(dead_code)]

use assert_cmd::Command;

/// The binary, with colour left to its own choice (off: the output is not a terminal).
pub fn netaudit() -> Command {
    let mut cmd = Command::cargo_bin("netaudit").expect("the netaudit binary is built");
    cmd.env_remove("NO_COLOR");
    cmd
}

/// Standard output, standard error and the exit code (-1 when killed by a signal).
pub fn run(cmd: &mut Command) -> (String, String, i32) {
    let out = cmd.output().expect("netaudit runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}
