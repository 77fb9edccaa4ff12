//! Running the netaudit binary from the CLI tests.

// Each test file uses what it needs of this module.
#![allow(dead_code)]

use assert_cmd::Command;

/// The scan time every report of a test carries, so that two scans of one input write the same bytes.
pub const SCAN_TIME: &str = "1764748800";

/// The binary, with colour left to its own choice (off: the output is not a terminal) and a fixed
/// scan time.
pub fn netaudit() -> Command {
    let mut cmd = Command::cargo_bin("netaudit").expect("the netaudit binary is built");
    cmd.env_remove("NO_COLOR").env("SOURCE_DATE_EPOCH", SCAN_TIME);
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

/// The bundled example estate's evidence.
pub fn estate() -> std::path::PathBuf {
    std::path::Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../examples/estate")
}

/// No AWS credentials anywhere the SDK looks, and no instance metadata (no network either).
pub fn without_aws_credentials(cmd: &mut Command) -> &mut Command {
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env("AWS_REGION", "us-east-1")
}

/// The moto emulator's keys and nothing else from the environment (no profile, no instance metadata).
pub fn with_emulator_keys(cmd: &mut Command) -> &mut Command {
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ACCOUNT_ID")
}
